"""harness.secrets: no password or token the harness knows reaches anything it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.contract import PLAN_ENV, TARGETS_ENV, LoadPlan, Targets, load_from_env
from harness.errors import LoadError, SpecError
from harness.events import Note
from harness.journal import Journal
from harness.plan import Plan
from harness.secrets import mask_secrets
from harness.stack.ownership import Ledger, read_record

SECRET = "s3cr3t-Pw"


@pytest.mark.parametrize(("text", "masked"), [
    (f"redis://:{SECRET}@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    (f"postgresql://flowforge:{SECRET}@127.0.0.1:5432/flowforge", "postgresql://flowforge:***@127.0.0.1:5432/flowforge"),
    (f"cannot reach http://default:{SECRET}@127.0.0.1:8123 (refused); "
     f"nor redis://:{SECRET}@h:1/0", "cannot reach http://default:***@127.0.0.1:8123 (refused); nor redis://:***@h:1/0"),
    (f"http://127.0.0.1:9/api?token={SECRET}&x=1", "http://127.0.0.1:9/api?token=***&x=1"),
    (f"http://h/?a=1&Password={SECRET}#f", "http://h/?a=1&Password=***#f"),
    ("postgresql://flowforge@127.0.0.1:5432/flowforge", "postgresql://flowforge@127.0.0.1:5432/flowforge"),
    ("http://127.0.0.1:8474/proxies", "http://127.0.0.1:8474/proxies"),
    ("p99 < 1 ms at 127.0.0.1:6379", "p99 < 1 ms at 127.0.0.1:6379"),
    ("AAAA+/BBBB" * 10_000, "AAAA+/BBBB" * 10_000),  # a histogram: untouched, and quickly
])
def test_mask_secrets(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_the_journal_never_writes_a_password(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("stack-up", endpoints={"redis_url": f"redis://:{SECRET}@127.0.0.1:1/0"},
                   notes=[f"seeded postgresql://u:{SECRET}@127.0.0.1:2/db"])
    text = journal.path.read_text()
    assert SECRET not in text
    assert json.loads(text)["endpoints"]["redis_url"] == "redis://:***@127.0.0.1:1/0"


def test_errors_and_notes_are_masked() -> None:
    assert SECRET not in str(LoadError(f"cannot reach redis://:{SECRET}@127.0.0.1:1/0"))
    assert SECRET not in str(SpecError(f"bad url http://u:{SECRET}@h/"))
    assert Note(message=f"redis://:{SECRET}@h:1/0 is down").message == "redis://:***@h:1/0 is down"


def test_the_load_plan_file_is_masked_and_the_processes_get_the_targets_from_their_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = Targets(backend="http://127.0.0.1:1", redis_url=f"redis://:{SECRET}@127.0.0.1:2/0",
                      materialize_dsn=f"postgresql://flowforge:{SECRET}@127.0.0.1:3/flowforge")
    load = LoadPlan(plan=Plan(experiment="x", steps=[]), targets=targets, folder=tmp_path)
    path = load.write()
    assert SECRET not in path.read_text()
    monkeypatch.setenv(PLAN_ENV, str(path))
    monkeypatch.setenv(TARGETS_ENV, targets.model_dump_json())
    loaded = load_from_env()
    assert loaded is not None and loaded.targets == targets
    monkeypatch.delenv(TARGETS_ENV)
    masked = load_from_env()
    assert masked is not None and masked.targets.redis_url == "redis://:***@127.0.0.1:2/0"


def test_the_ownership_record_writes_commands_masked(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "owned.jsonl", "run-x", registry=tmp_path / "registry")
    ledger.register()
    ledger.process_started(1, "seed", ["python", "-m", "seed", f"--url=redis://:{SECRET}@127.0.0.1:1/0"])
    assert SECRET not in (tmp_path / "owned.jsonl").read_text()
    owned, _ = read_record(tmp_path / "owned.jsonl")
    assert owned[0].command[-1] == "--url=redis://:***@127.0.0.1:1/0"  # type: ignore[union-attr]
    ledger.release()
