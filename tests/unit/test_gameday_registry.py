"""The game day's fault registry: ids, one fault per identity, revert deadlines (pure)."""

from __future__ import annotations

import pytest

from harness.gameday.refused import Refused
from harness.gameday.registry import FaultRegistry
from harness.gameday.requests import toxic_of


def latency(ms: int, link: str = "clickhouse", stream: str | None = None):  # noqa: ANN201 - a test helper
    return toxic_of(link, "latency", stream, None, {"latency_ms": ms})


def test_ids_count_up_and_are_never_reused() -> None:
    registry = FaultRegistry()
    first = registry.add(*latency(100), now=0.0, revert_after_s=300)
    registry.remove(first.id)
    second = registry.add(*latency(200), now=1.0, revert_after_s=300)
    assert (first.id, second.id) == ("f1", "f2")


def test_one_fault_per_link_type_and_stream() -> None:
    registry = FaultRegistry()
    registry.add(*latency(100), now=0.0, revert_after_s=300)
    with pytest.raises(Refused) as refused:
        registry.add(*latency(200), now=0.0, revert_after_s=300)
    assert refused.value.status == 409
    assert "already on as f1" in str(refused.value)
    # The other direction is another toxic, and another link another fault.
    registry.add(*latency(50, stream="upstream"), now=0.0, revert_after_s=300)
    registry.add(*latency(50, link="redis"), now=0.0, revert_after_s=300)
    assert len(registry.toxics()) == 3


@pytest.mark.parametrize(("added_at", "revert_after_s", "now", "due"), [
    (0.0, 300.0, 299.9, False),
    (0.0, 300.0, 300.0, True),
    (10.0, 3.0, 12.0, False),
    (10.0, 3.0, 13.5, True),
])
def test_a_fault_is_due_at_its_deadline(added_at: float, revert_after_s: float, now: float, due: bool) -> None:
    registry = FaultRegistry()
    fault = registry.add(*latency(100), now=added_at, revert_after_s=revert_after_s)
    assert fault.revert_at == added_at + revert_after_s
    assert [f.id for f in registry.due(now)] == ([fault.id] if due else [])


def test_due_faults_come_earliest_first() -> None:
    registry = FaultRegistry()
    late = registry.add(*latency(100), now=0.0, revert_after_s=60)
    early = registry.add(*latency(100, link="redis"), now=0.0, revert_after_s=5)
    assert [f.id for f in registry.due(100.0)] == [early.id, late.id]
    assert registry.next_deadline() == 5.0


def test_an_update_keeps_the_deadline_unless_given_a_new_one() -> None:
    registry = FaultRegistry()
    fault = registry.add(*latency(100), now=0.0, revert_after_s=300)
    before, after = registry.update(fault.id, *latency(400), now=100.0, revert_after_s=None)
    assert (before.toxic.attributes["latency"], after.toxic.attributes["latency"]) == (100, 400)
    assert after.revert_at == 300.0
    _, renewed = registry.update(fault.id, *latency(400), now=100.0, revert_after_s=60)
    assert renewed.revert_at == 160.0


def test_an_update_cannot_change_what_the_fault_is() -> None:
    registry = FaultRegistry()
    fault = registry.add(*latency(100), now=0.0, revert_after_s=300)
    with pytest.raises(Refused) as refused:
        registry.update(fault.id, *latency(100, link="redis"), now=0.0, revert_after_s=None)
    assert refused.value.status == 422


def test_unknown_ids_are_404_naming_what_is_on() -> None:
    registry = FaultRegistry()
    registry.add(*latency(100), now=0.0, revert_after_s=300)
    with pytest.raises(Refused) as refused:
        registry.remove("f9")
    assert refused.value.status == 404
    assert "on now: f1" in str(refused.value)


def test_restore_undoes_a_removal_exactly() -> None:
    registry = FaultRegistry()
    fault = registry.add(*latency(100), now=0.0, revert_after_s=300)
    registry.remove(fault.id)
    registry.restore(fault)
    assert registry.faults() == [fault]
    assert registry.clear() == [fault] and registry.faults() == []
