"""A real game day on the local stack: its control API and CLI, checked against the real Toxiproxy.

One session for the module (started with `harness gameday --script …`, 5 s
windows): every test takes its turn at the desk and checks Toxiproxy's own
state afterwards (GET /proxies). The script's halt condition watches the
materialize tier only, so only the halt test (materialize link down) trips
it. The module ends with Ctrl-C, then checks the session reverted
everything, left nothing running and wrote its report from the journal.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator

import httpx
import pytest

from harness.stack.ports import free_port
from tests.integration.conftest import require_local_stack_programs
from tests.integration.gameday_session import Session, harness_cli, running_session, wait_for
from tests.integration.shortrun import assert_nothing_left, short_spec

pytestmark = pytest.mark.integration

SCRIPT = short_spec("gameday-script", "two steps of ClickHouse latency; halts when materialize errors", rest="""\
faults:
  - link: clickhouse
    type: latency
    levels: [{latency_ms: 120}, {latency_ms: 240}]
stop_when:
  - {tier: materialize, error_ratio_above: 0.5, for_s: 2}
""", users="[5, 5]")
LATENCY = "ff-clickhouse-latency-downstream"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    require_local_stack_programs()
    tmp = tmp_path_factory.mktemp("gameday")
    script = tmp / "gameday-script.yaml"
    script.write_text(SCRIPT)
    with running_session(tmp, "--users", "4", "--script", str(script), "--revert-after", "10m") as running:
        yield running


@pytest.fixture(autouse=True)
def clean_desk(session: Session) -> Iterator[None]:
    """Each test starts and ends with no fault on (and says so if one was left)."""
    session.call("POST", "/api/stop-all")
    yield
    if session.process.poll() is None:
        session.call("POST", "/api/stop-all")


def test_add_update_remove_reach_toxiproxy(session: Session) -> None:
    added = session.call("POST", "/api/faults", {"link": "clickhouse", "type": "latency",
                                                 "settings": {"latency_ms": 150}})
    assert added.status_code == 201, added.text
    fault = added.json()["fault"]
    assert fault["description"] == "clickhouse latency 150 ms downstream"
    assert session.toxics()[LATENCY]["attributes"]["latency"] == 150
    assert [f["id"] for f in session.state()["faults"]] == [fault["id"]]

    updated = session.call("PATCH", f"/api/faults/{fault['id']}", {"settings": {"latency_ms": 250, "jitter_ms": 5}})
    assert updated.status_code == 200, updated.text
    assert session.toxics()[LATENCY]["attributes"] == {"latency": 250, "jitter": 5}
    # Updated in place: the same toxic, the same revert deadline.
    assert updated.json()["fault"]["revert_at"] == fault["revert_at"]

    removed = session.call("DELETE", f"/api/faults/{fault['id']}")
    assert removed.status_code == 200, removed.text
    assert session.toxics() == {}
    assert session.state()["faults"] == []
    kinds = [e["event"] for e in session.journal()]
    assert {"fault-added", "fault-updated", "fault-removed"} <= set(kinds)


def test_bad_requests_are_refused_naming_the_field(session: Session) -> None:
    bad = session.call("POST", "/api/faults", {"link": "clickhous", "type": "latency", "settings": {"latency_m": 5}})
    assert bad.status_code == 422
    problems = bad.json()["problems"]
    assert any(p.startswith("link:") and "did you mean 'clickhouse'" in p for p in problems)
    assert any(p.startswith("settings.latency_ms:") for p in problems)
    assert session.call("POST", "/api/faults", {"link": "redis", "type": "latency",
                                                "settings": {"latency_ms": -1}}).json()["problems"] == [
        "settings.latency_ms: Input should be greater than or equal to 0"]
    assert session.call("POST", "/api/users", {"users": -3}).status_code == 422
    assert session.call("PATCH", "/api/faults/f999", {"toxicity": 0.5}).status_code == 404
    assert session.call("POST", "/api/links/nowhere/down").status_code == 422
    assert session.call("POST", "/api/annotations", {"text": "  "}).status_code == 422
    not_json = httpx.post(session.url + "/api/users", content="users=5",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert not_json.status_code == 415
    other_site = httpx.post(session.url + "/api/stop-all", json={}, headers={"Origin": "http://evil.example"},
                            timeout=30)
    assert other_site.status_code == 403
    first = session.call("POST", "/api/faults", {"link": "redis", "type": "latency", "settings": {"latency_ms": 1}})
    twice = session.call("POST", "/api/faults", {"link": "redis", "type": "latency", "settings": {"latency_ms": 2}})
    assert twice.status_code == 409 and first.json()["fault"]["id"] in twice.json()["error"]
    assert session.toxics()["ff-redis-latency-downstream"]["attributes"]["latency"] == 1


def test_link_down_and_up(session: Session) -> None:
    down = session.call("POST", "/api/links/redis/down")
    assert down.status_code == 201, down.text
    assert not session.enabled("redis")
    assert session.enabled("redis-control"), "the control proxy never carries a fault"
    assert session.state()["links"]["redis"]["up"] is False
    up = session.call("POST", "/api/links/redis/up")
    assert up.status_code == 200, up.text
    assert session.enabled("redis")
    assert session.call("POST", "/api/links/redis/up").status_code == 409


def test_users_change_reaches_locust(session: Session) -> None:
    assert session.call("POST", "/api/users", {"users": 7}).json()["users"] == 7
    assert session.state()["users"] == 7
    wait_for("Locust to run 7 users", lambda: session.state()["users_running"] == 7)
    assert any(e["event"] == "users" and e["users"] == 7 for e in session.journal())


def test_stop_all_removes_every_fault(session: Session) -> None:
    for body in ({"link": "clickhouse", "type": "latency", "settings": {"latency_ms": 100}},
                 {"link": "redis", "type": "bandwidth", "settings": {"rate_kbps": 500}},
                 {"link": "websocket", "type": "down"}):
        assert session.call("POST", "/api/faults", body).status_code == 201
    assert len(session.toxics()) == 2 and not session.enabled("websocket")
    stopped = session.call("POST", "/api/stop-all")
    assert len(stopped.json()["removed"]) == 3
    assert session.toxics() == {}
    assert all(proxy["enabled"] for proxy in session.proxies().values())
    assert session.state()["faults"] == []


def test_a_fault_reverts_by_itself(session: Session) -> None:
    added = session.call("POST", "/api/faults", {"link": "clickhouse", "type": "latency",
                                                 "settings": {"latency_ms": 80}, "revert_after_s": 3})
    fault = added.json()["fault"]
    assert LATENCY in session.toxics()
    wait_for("the fault to revert", lambda: not session.state()["faults"])
    assert session.toxics() == {}
    reverted = [e for e in session.journal() if e["event"] == "fault-reverted" and e["fault"]["id"] == fault["id"]]
    assert [e["reason"] for e in reverted] == ["auto-revert"]
    assert reverted[0]["at"] >= fault["revert_at"]
    assert "reverted automatically after 3 s" in reverted[0]["marker"]


def test_the_script_steps_on_next(session: Session) -> None:
    first = session.call("POST", "/api/next")
    assert first.status_code == 200, first.text
    assert session.toxics()[LATENCY]["attributes"]["latency"] == 120
    assert session.call("POST", "/api/next").json()["step"] == 2
    assert session.toxics()[LATENCY]["attributes"]["latency"] == 240
    assert session.state()["script"]["position"] == 2
    done = session.call("POST", "/api/next")
    assert done.json()["step"] is None
    assert session.toxics() == {}
    assert session.call("POST", "/api/next").status_code == 409


def test_a_halt_condition_reverts_every_fault(session: Session) -> None:
    session.call("POST", "/api/faults", {"link": "clickhouse", "type": "latency", "settings": {"latency_ms": 60}})
    assert session.call("POST", "/api/links/materialize/down").status_code == 201
    assert not session.enabled("materialize")
    halt = wait_for("the halt condition to fire",
                    lambda: next((e for e in session.journal() if e["event"] == "halt"), None))
    assert halt["stop"]["condition"] == "stop_when.0"
    assert {f["link"] for f in halt["removed"]} == {"clickhouse", "materialize"}
    assert "every fault reverted" in halt["marker"]
    assert session.enabled("materialize")
    assert session.toxics() == {}
    assert session.state()["faults"] == []


def test_the_cli_drives_the_session(session: Session) -> None:
    done = session.harness("fault", "add", "clickhouse", "latency", "latency_ms=90", "--revert-after", "5m")
    assert done.returncode == 0, done.stderr
    assert session.toxics()[LATENCY]["attributes"]["latency"] == 90
    assert session.harness("fault", "update", "clickhouse", "latency", "latency_ms=180").returncode == 0
    assert session.toxics()[LATENCY]["attributes"]["latency"] == 180
    bad = session.harness("fault", "add", "clickhouse", "latency", "latency_ms=-5")
    assert bad.returncode == 2
    assert "settings.latency_ms" in bad.stderr
    assert session.harness("fault", "remove", "clickhouse", "latency").returncode == 0
    assert session.toxics() == {}
    assert session.harness("link", "down", "redis").returncode == 0
    assert not session.enabled("redis")
    assert session.harness("link", "up", "redis").returncode == 0
    assert session.enabled("redis")
    assert session.harness("users", "5").returncode == 0
    assert session.state()["users"] == 5
    assert session.harness("annotate", "cache cold after failover").returncode == 0
    session.call("POST", "/api/faults", {"link": "redis", "type": "latency", "settings": {"latency_ms": 3}})
    stop = session.harness("stop-all")
    assert stop.returncode == 0 and "1 fault(s) removed" in stop.stdout
    assert session.toxics() == {}
    nobody = free_port()
    alone = harness_cli("users", "5", "--control-port", str(nobody))
    assert alone.returncode == 3
    assert f"no game-day session on 127.0.0.1:{nobody}" in alone.stderr
    assert any(e["event"] == "annotation" and e["text"] == "cache cold after failover" for e in session.journal())


def test_ctrl_c_reverts_everything_and_writes_the_report(session: Session) -> None:
    """Last in the module: the session ends as an operator ends it, with a fault still on."""
    session.call("POST", "/api/faults", {"link": "clickhouse", "type": "latency", "settings": {"latency_ms": 70}})
    session.call("POST", "/api/links/websocket/down")
    # The session's records so far are judged windows: at least one before Ctrl-C.
    wait_for("a recorded window", lambda: any(e["event"] == "step" for e in session.journal()))
    session.process.send_signal(signal.SIGINT)
    assert session.process.wait(timeout=180) == 0, session.log.read_text()[-3000:]
    journal = session.journal()
    kinds = [e["event"] for e in journal]
    start = journal[0]
    assert start["event"] == "run-start" and start["schedule"] == "gameday" and start["planned_steps"] == 0
    assert {"stack-up", "gameday-open", "live", "step", "annotation", "halt", "toxics-cleared"} <= set(kinds)
    at_end = [e for e in journal if e["event"] == "fault-reverted" and e["reason"] == "session-end"]
    assert {e["fault"]["link"] for e in at_end} == {"clickhouse", "websocket"}
    assert all(e.get("marker") for e in journal if e["event"] in ("fault-added", "halt", "annotation", "users"))
    end = journal[-1]
    assert end["event"] == "run-end" and end["status"] == "completed" and "SIGINT" in end["reason"]
    summary = json.loads((session.folder / "summary.json").read_text())
    assert summary["schedule"] == "gameday" and summary["steps"]
    assert (session.folder / "report.md").exists()
    assert "report: " in session.log.read_text()
    assert_nothing_left(session.folder)
