"""The desk's commands applied: registry, Toxiproxy (a fake applier holding what it was given), journal events."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.events import Event, EventStream
from harness.gameday.actions import Actions
from harness.gameday.desk import AddFault, Annotate, LinkUp, Next, RemoveFault, SetUsers, StopAll, UpdateFault
from harness.gameday.refused import Refused
from harness.gameday.requests import toxic_of
from harness.gameday.script import Script
from harness.gameday.users_file import UsersReader, UsersWanted, users_path
from harness.spec import Experiment
from toxics.errors import ToxiproxyError
from toxics.schedule import ToxicState


class FakeApplier:
    """What Toxiproxy holds: the last list applied; ``broken`` refuses every change."""

    def __init__(self) -> None:
        self.on: list[ToxicState] = []
        self.broken = False

    def apply(self, desired: list[ToxicState]) -> list[object]:
        if self.broken:
            raise ToxiproxyError("Toxiproxy POST /proxies/clickhouse/toxics answered 500")
        self.on = list(desired)
        return []


@pytest.fixture
def desk(tmp_path: Path) -> tuple[Actions, FakeApplier, list[Event], list[str]]:
    applier, events, changes = FakeApplier(), [], []
    script = Script(Experiment.model_validate(yaml.safe_load("""
name: steps
ramp: {users: [5, 5]}
faults: [{link: clickhouse, type: latency, levels: [{latency_ms: 100}, {latency_ms: 300}]}]
""")))
    actions = Actions(EventStream(events.append), applier, tmp_path, 300.0, script,  # type: ignore[arg-type]
                      UsersWanted(users=5, spawn_rate=10), changes.append)
    return actions, applier, events, changes


def add(link: str = "clickhouse", ms: int = 200, revert_after_s: float | None = None) -> AddFault:
    return AddFault(*toxic_of(link, "latency", None, None, {"latency_ms": ms}), revert_after_s)


def test_a_fault_added_updated_and_removed_is_on_toxiproxy_and_in_the_journal(desk) -> None:  # noqa: ANN001
    actions, applier, events, changes = desk
    status, body = actions.handle(add())
    assert status == 201 and [t.attributes["latency"] for t in applier.on] == [200]
    fault_id = body["fault"]["id"]
    actions.handle(UpdateFault(fault_id, {"latency_ms": 400}, None, None))
    assert [t.attributes["latency"] for t in applier.on] == [400]
    actions.handle(RemoveFault(fault_id))
    assert applier.on == []
    assert [e.kind for e in events] == ["fault-added", "fault-updated", "fault-removed"]
    assert [e.marker for e in events] == [  # type: ignore[attr-defined]
        "clickhouse latency 200 ms downstream added (auto-revert in 5 min)",
        "clickhouse latency 200 ms downstream → latency 400 ms",
        "clickhouse latency 400 ms downstream removed",
    ]
    assert changes == [e.marker for e in events]  # type: ignore[attr-defined]


def test_a_change_toxiproxy_refuses_is_undone_and_answered_503(desk) -> None:  # noqa: ANN001
    actions, applier, events, _ = desk
    actions.handle(add(ms=200))
    applier.broken = True
    with pytest.raises(Refused) as refused:
        actions.handle(add(link="redis", ms=5))
    assert refused.value.status == 503
    with pytest.raises(Refused):
        actions.handle(StopAll())
    assert [f.toxic.attributes["latency"] for f in actions.registry.faults()] == [200]
    assert [e.kind for e in events] == ["fault-added"]


def test_auto_revert_takes_due_faults_off(desk, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    actions, applier, events, _ = desk
    monkeypatch.setattr("harness.gameday.actions.time.time", lambda: 1000.0)
    actions.handle(add(revert_after_s=3))
    actions.handle(add(link="redis", ms=5))
    monkeypatch.setattr("harness.gameday.actions.time.time", lambda: 1003.0)
    actions.revert_due()
    assert [str(t.link) for t in applier.on] == ["redis"]
    assert events[-1].kind == "fault-reverted" and events[-1].reason == "auto-revert"  # type: ignore[attr-defined]
    assert events[-1].marker == "clickhouse latency 200 ms downstream reverted automatically after 3 s"  # type: ignore[attr-defined]


def test_link_down_and_up(desk) -> None:  # noqa: ANN001
    actions, applier, _, _ = desk
    actions.handle(AddFault(*toxic_of("materialize", "down", None, None, None), None))
    assert applier.on[0].disables_link
    actions.handle(LinkUp("materialize"))
    assert applier.on == []
    with pytest.raises(Refused) as refused:
        actions.handle(LinkUp("materialize"))
    assert refused.value.status == 409


def test_the_script_updates_in_place_then_takes_its_faults_off(desk) -> None:  # noqa: ANN001
    actions, applier, events, _ = desk
    actions.handle(Next())
    first = actions.registry.faults()[0]
    actions.handle(Next())
    second = actions.registry.faults()[0]
    assert (first.id, first.origin) == (second.id, "script"), "one fault, updated in place"
    assert [t.attributes["latency"] for t in applier.on] == [300]
    assert actions.handle(Next())[1]["step"] is None and applier.on == []
    assert [e.marker for e in events if e.kind == "script-step"] == [  # type: ignore[attr-defined]
        "script steps: step 1 of 2: clickhouse latency 100 ms downstream",
        "script steps: step 2 of 2: clickhouse latency 300 ms downstream",
        "script steps done: its faults are off",
    ]


def test_users_reach_the_shape_file_and_notes_the_journal(desk, tmp_path: Path) -> None:  # noqa: ANN001
    actions, _, events, _ = desk
    actions.handle(SetUsers(40, None))
    assert UsersReader(users_path(tmp_path)).wanted() == UsersWanted(users=40, spawn_rate=10)
    actions.handle(Annotate("cache cold"))
    assert [e.marker for e in events] == ["users 5 → 40", "note: cache cold"]  # type: ignore[attr-defined]


def test_a_halt_reverts_every_fault(desk) -> None:  # noqa: ANN001
    from harness.stop_tracker import StopFired

    actions, applier, events, _ = desk
    actions.handle(add())
    actions.handle(AddFault(*toxic_of("redis", "down", None, None, None), None))
    fired = StopFired(condition="stop_when.0", description="redis error ratio above 50% for 2 s", since=1.0,
                      at=3.0, held_s=2.0)
    text = actions.halt(fired)
    assert applier.on == [] and actions.registry.faults() == []
    assert text == "halt: stop_when.0 (redis error ratio above 50% for 2 s) held; every fault reverted (2)"
    assert events[-1].kind == "halt"
