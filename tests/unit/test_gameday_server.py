"""The control API's HTTP face, against a desk that records commands (no session, no stack)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harness.gameday.desk import AddFault, Answer, Command, SetUsers, StopAll
from harness.gameday.refused import Refused
from harness.gameday.server import ControlSettings, make_app
from harness.gameday.state import Board

BASE = "http://127.0.0.1:8090"


class RecordingDesk:
    def __init__(self, answer: Answer | Refused = (200, {})) -> None:
        self.commands: list[Command] = []
        self.answer = answer

    def call(self, command: Command, timeout_s: float = 60.0) -> Answer:
        self.commands.append(command)
        if isinstance(self.answer, Refused):
            raise self.answer
        return self.answer


def client(desk: RecordingDesk, token: str | None = None) -> TestClient:
    return TestClient(make_app(ControlSettings(token=token), desk, Board()), base_url=BASE)  # type: ignore[arg-type]


def test_a_valid_fault_becomes_a_command_on_the_desk() -> None:
    desk = RecordingDesk((201, {"fault": {"id": "f1"}}))
    answer = client(desk).post("/api/faults", json={"link": "clickhouse", "type": "latency",
                                                    "settings": {"latency_ms": 200}, "revert_after_s": 60})
    assert answer.status_code == 201 and answer.json() == {"fault": {"id": "f1"}}
    [command] = desk.commands
    assert isinstance(command, AddFault)
    assert (command.toxic.name, command.toxic.attributes["latency"], command.revert_after_s) == \
        ("ff-clickhouse-latency-downstream", 200, 60)


def test_an_invalid_body_never_reaches_the_desk() -> None:
    desk = RecordingDesk()
    answer = client(desk).post("/api/faults", json={"link": "redis", "type": "latency", "settings": {}})
    assert answer.status_code == 422
    assert answer.json() == {"error": "settings.latency_ms: Field required",
                             "problems": ["settings.latency_ms: Field required"]}
    assert desk.commands == []


def test_the_desks_refusal_is_the_answer() -> None:
    desk = RecordingDesk(Refused(404, "no fault 'f9' is on (on now: none)"))
    answer = client(desk).delete("/api/faults/f9")
    assert (answer.status_code, answer.json()["error"]) == (404, "no fault 'f9' is on (on now: none)")


@pytest.mark.parametrize(("method", "path", "body", "expected"), [
    ("POST", "/api/users", {"users": 30}, SetUsers(30, None)),
    ("POST", "/api/stop-all", None, StopAll()),
])
def test_each_action_is_one_command(method: str, path: str, body: Any, expected: Command) -> None:
    desk = RecordingDesk()
    assert client(desk).request(method, path, json=body).status_code == 200
    assert desk.commands == [expected]


def test_a_link_is_checked_before_the_desk_hears_of_it() -> None:
    desk = RecordingDesk()
    answer = client(desk).post("/api/links/mongodb/down")
    assert answer.status_code == 422 and answer.json()["problems"][0].startswith("link:")
    assert client(desk).post("/api/links/mongodb/up").status_code == 422
    assert desk.commands == []


def test_a_token_is_needed_on_every_request_once_given() -> None:
    desk = RecordingDesk()
    guarded = client(desk, token="s3cret")
    assert guarded.get("/api/state").status_code == 401
    assert guarded.post("/api/stop-all").status_code == 401
    assert guarded.get("/api/state", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert guarded.get("/?token=s3cret").status_code == 200
    assert desk.commands == []


def test_the_page_is_served_with_the_catalogue_written_in() -> None:
    page = client(RecordingDesk()).get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/*CATALOGUE*/null" not in page.text and '"latency_ms"' in page.text
    assert "STOP ALL FAULTS" in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text), "self-contained: nothing fetched from elsewhere"


def test_unknown_paths_answer_json() -> None:
    answer = client(RecordingDesk()).get("/api/nothing")
    assert answer.status_code == 404 and answer.json()["error"] == "Not Found"
