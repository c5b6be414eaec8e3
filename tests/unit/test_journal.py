"""harness.journal: one JSON event per line; a torn last line is skipped, a broken middle line is not."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

from harness.errors import SpecError
from harness.journal import Journal, read_journal


class _Model(BaseModel):
    users: int
    window: tuple[float, float]


@dataclass
class _Data:
    link: str
    latency: int


def test_append_then_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "run" / "journal.jsonl"
    journal = Journal(path)  # creates the folder
    before = time.time()
    journal.append("run-start", experiment="x", run_id="r1")
    journal.append("step", record={"index": 1})
    journal.append("run-end", status="completed", reason=None)

    events = read_journal(path)
    assert [e["event"] for e in events] == ["run-start", "step", "run-end"]
    assert events[0]["experiment"] == "x" and events[0]["run_id"] == "r1"
    assert events[1]["record"] == {"index": 1}
    assert events[2]["reason"] is None
    assert all(before <= e["at"] <= time.time() for e in events)
    assert len(path.read_text().splitlines()) == 3


def test_append_writes_models_dataclasses_and_paths_as_plain_json(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("thing", model=_Model(users=5, window=(1.0, 2.0)), data=_Data("redis", 3),
                   folder=tmp_path / "load")
    [event] = read_journal(journal.path)
    assert event["model"] == {"users": 5, "window": [1.0, 2.0]}
    assert event["data"] == {"link": "redis", "latency": 3}
    assert event["folder"] == str(tmp_path / "load")


def test_append_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    with pytest.raises(TypeError, match="cannot write object to the journal"):
        journal.append("bad", value=object())


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("run-start", experiment="x")
    journal.append("step", record={"index": 1})
    with open(journal.path, "a", encoding="utf-8") as handle:
        handle.write('{"event": "step", "record": {"ind')  # killed mid-write
    assert [e["event"] for e in read_journal(journal.path)] == ["run-start", "step"]


def test_bad_middle_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"event": "run-start"}\n{"event": "st\n{"event": "run-end"}\n', encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        read_journal(path)
    assert caught.value.problems == ["line 2 is not JSON"]
    assert caught.value.source == str(path)


def test_blank_lines_and_non_events_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"event": "a"}\n\n   \n[1, 2]\n{"no": "event"}\n{"event": "b"}\n', encoding="utf-8")
    assert [e["event"] for e in read_journal(path)] == ["a", "b"]


def test_empty_journal_has_no_events(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text("", encoding="utf-8")
    assert read_journal(path) == []


def test_missing_journal_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with pytest.raises(SpecError) as caught:
        read_journal(path)
    assert caught.value.problems == ["cannot read the journal: No such file or directory"]
    assert caught.value.source == str(path)


def test_each_line_is_one_json_object(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("note", text="two\nlines")
    [line] = journal.path.read_text().splitlines()
    assert json.loads(line)["text"] == "two\nlines"
