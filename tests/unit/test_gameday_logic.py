"""Pure parts of a game day: live SLO states (debounced), script steps, the API's guards, the users file, the desk."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.gameday.desk import Annotate, Desk, StopAll
from harness.gameday.refused import Refused
from harness.gameday.script import Script
from harness.gameday.server import ControlSettings, refusal_of
from harness.gameday.slo_state import SloStates
from harness.gameday.users_file import UsersReader, UsersWanted, users_path, write_users
from harness.slo import TierResult
from harness.spec import Experiment, TierSlo

SLOS = {"clickhouse": TierSlo(p95_ms=500), "http": TierSlo(error_ratio=0.01)}


def window(p95_ms: float | None, errors: int = 0) -> dict[str, TierResult]:
    return {"clickhouse": TierResult(count=100 if p95_ms else 0, errors=errors, p95_ms=p95_ms),
            "http": TierResult(count=100, errors=errors)}


def test_a_breach_must_hold_two_windows_before_it_is_said() -> None:
    states = SloStates(SLOS)
    assert states.observe(window(100)) == []  # holding from the start: nothing to mark
    assert states.observe(window(900)) == []  # one noisy window
    assert states.observe(window(100)) == []
    assert states.observe(window(900)) == []
    changes = states.observe(window(950))
    assert [(c.tier, c.before, c.after) for c in changes] == [("clickhouse", "holding", "breached")]
    assert changes[0].sentence(SLOS["clickhouse"]) == "clickhouse breaks its SLO (p95 < 500 ms): p95 950 ms"
    assert states.observe(window(100)) == []
    assert [c.after for c in states.observe(window(100))] == ["holding"]


def test_a_session_that_starts_in_breach_says_so_at_once() -> None:
    changes = SloStates(SLOS).observe(window(800, errors=50))
    assert {(c.tier, c.after) for c in changes} == {("clickhouse", "breached"), ("http", "breached")}


def test_no_samples_is_its_own_state() -> None:
    states = SloStates(SLOS)
    states.observe(window(100))
    states.observe({})
    assert [(c.tier, c.after) for c in states.observe({})] == [("clickhouse", "no-data"), ("http", "no-data")]


def experiment(faults: str) -> Experiment:
    import yaml

    return Experiment.model_validate(yaml.safe_load(f"""
name: brownout
ramp: {{users: [5, 10, 20]}}
faults: {faults}
"""))


def test_the_script_steps_through_levels_then_takes_its_faults_off() -> None:
    script = Script(experiment("""
  - {link: redis, type: latency, levels: [null, {latency_ms: 3}, {latency_ms: 9}]}
  - {link: clickhouse, type: latency, levels: [{latency_ms: 100}, null, {latency_ms: 600}]}"""))
    assert script.upcoming() is not None and script.upcoming().describe() == \
        "step 1 of 3: clickhouse latency 100 ms downstream"
    steps = [script.advance() for _ in range(4)]
    assert [step.describe() if step else None for step in steps] == [
        "step 1 of 3: clickhouse latency 100 ms downstream",
        "step 2 of 3: redis latency 3 ms downstream",
        "step 3 of 3: redis latency 9 ms downstream; clickhouse latency 600 ms downstream",
        None,
    ]
    assert steps[2] is not None and steps[2].settings == [{"latency_ms": 9, "jitter_ms": 0},
                                                          {"latency_ms": 600, "jitter_ms": 0}]
    assert script.finished
    with pytest.raises(Refused) as refused:
        script.advance()
    assert refused.value.status == 409


def test_a_script_without_faults_is_bad_input() -> None:
    with pytest.raises(SpecError, match="no faults to step through"):
        Script(experiment("[]"))


LOOPBACK = ControlSettings(port=8090)
HOST = {"host": "127.0.0.1:8090"}


@pytest.mark.parametrize(("settings", "method", "headers", "query", "status"), [
    (LOOPBACK, "GET", HOST, {}, None),
    (LOOPBACK, "GET", {"host": "localhost:8090"}, {}, None),
    (LOOPBACK, "GET", {"host": "attacker.example:8090"}, {}, 421),  # DNS rebinding
    (LOOPBACK, "POST", {**HOST, "origin": "http://127.0.0.1:8090", "content-type": "application/json",
                        "content-length": "2"}, {}, None),
    (LOOPBACK, "POST", {**HOST, "origin": "http://evil.example"}, {}, 403),
    (LOOPBACK, "POST", {**HOST, "content-type": "text/plain", "content-length": "10"}, {}, 415),
    (LOOPBACK, "POST", {**HOST, "content-length": "0"}, {}, None),  # no body: stop-all, next
    (ControlSettings(port=8090, token="s3cret"), "GET", HOST, {}, 401),
    (ControlSettings(port=8090, token="s3cret"), "GET", {**HOST, "authorization": "Bearer wrong"}, {}, 401),
    (ControlSettings(port=8090, token="s3cret"), "GET", {**HOST, "authorization": "Bearer s3cret"}, {}, None),
    (ControlSettings(port=8090, token="s3cret"), "GET", HOST, {"token": "s3cret"}, None),
    (ControlSettings(host="0.0.0.0", port=8090, token="s3cret"), "GET", {"host": "10.1.2.3:8090"},
     {"token": "s3cret"}, None),
])
def test_the_api_guards(settings: ControlSettings, method: str, headers: dict[str, str], query: dict[str, str],
                        status: int | None) -> None:
    refusal = refusal_of(settings, method, headers, query)
    assert (refusal.status if refusal else None) == status


def test_binding_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(SpecError, match="needs --token"):
        ControlSettings(host="0.0.0.0")


def test_the_shape_reads_the_users_the_engine_writes(tmp_path: Path) -> None:
    reader = UsersReader(users_path(tmp_path))
    assert reader.wanted() is None
    write_users(tmp_path, UsersWanted(users=25, spawn_rate=5))
    assert reader.wanted() == UsersWanted(users=25, spawn_rate=5)
    users_path(tmp_path).write_text("{torn")
    assert reader.wanted() == UsersWanted(users=25, spawn_rate=5)  # the last good value stands


def test_the_desk_hands_commands_to_the_session_thread_and_back() -> None:
    desk = Desk()
    answers: list[object] = []
    caller = threading.Thread(target=lambda: answers.append(desk.call(Annotate("hello"), timeout_s=30)))
    caller.start()
    taken = None
    while taken is None:
        taken = desk.take(0.1)
    command, future = taken
    assert command == Annotate("hello")
    future.set_result((201, {"ok": True}))
    caller.join()
    assert answers == [(201, {"ok": True})]


def test_a_closed_desk_refuses_with_503() -> None:
    desk = Desk()
    desk.close("the game-day session is ending")
    with pytest.raises(Refused) as refused:
        desk.call(StopAll(), timeout_s=1)
    assert refused.value.status == 503
