"""toxics.links, the catalogue models and the Fault model: valid and invalid input, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import toxics
from toxics import (
    CATALOGUE,
    Bandwidth,
    Fault,
    Latency,
    LimitData,
    Link,
    LinkDown,
    ResetPeer,
    Slicer,
    SlowClose,
    Timeout,
    ToxicState,
    disables_link,
    parse_level,
    toxic_name,
    toxics_for_step,
)
from toxics.fault import duplicate_faults, fault_identity
from toxics.model import MAX_DURATION_MS, MAX_SIZE_BYTES


def _locs(exc: ValidationError) -> list[str]:
    return [".".join(str(part) for part in error["loc"]) for error in exc.errors()]


def test_public_names_are_pinned() -> None:
    assert set(toxics.__all__) == {
        "CATALOGUE", "LINKS", "OUR_PREFIX", "STREAMS", "Bandwidth", "Change", "ChangeKind",
        "Fault", "Latency", "LimitData", "Link", "LinkDown", "Proxy", "ResetPeer", "Slicer",
        "SlowClose", "Stream", "Timeout", "Toxic", "ToxicApplier", "ToxicModel", "ToxicState",
        "ToxiproxyClient", "disables_link", "parse_level", "plan_changes", "toxic_name",
        "toxics_for_step",
    }  # fmt: skip


def test_links_and_prefix() -> None:
    assert toxics.LINKS == ("redis", "materialize", "clickhouse", "websocket")
    assert toxics.OUR_PREFIX == "ff-"


@pytest.mark.parametrize(
    ("link", "type_", "stream", "expected"),
    [
        ("redis", "latency", "downstream", "ff-redis-latency-downstream"),
        (Link.CLICKHOUSE, "bandwidth", "upstream", "ff-clickhouse-bandwidth-upstream"),
    ],
)
def test_toxic_name(link: Any, type_: str, stream: str, expected: str) -> None:
    assert toxic_name(link, type_, stream) == expected


@pytest.mark.parametrize(("link", "stream"), [("postgres", "downstream"), ("redis", "sideways")])
def test_toxic_name_rejects_unknown_link_or_stream(link: str, stream: str) -> None:
    with pytest.raises(ValueError):
        toxic_name(link, "latency", stream)


def test_catalogue_is_explicit() -> None:
    assert CATALOGUE == {
        "latency": Latency, "bandwidth": Bandwidth, "slow_close": SlowClose, "timeout": Timeout,
        "reset_peer": ResetPeer, "slicer": Slicer, "limit_data": LimitData, "down": LinkDown,
    }  # fmt: skip
    assert all(model.type == key for key, model in CATALOGUE.items())


def test_only_down_disables_the_link() -> None:
    """The applier's marker: a link down is a disabled proxy, never a toxic posted to Toxiproxy."""
    assert [name for name, model in CATALOGUE.items() if model.disables_link] == ["down"]
    assert LinkDown.disables_link and not Latency.disables_link
    assert disables_link("down") and not disables_link("latency") and not disables_link("no-such-type")


@pytest.mark.parametrize(
    ("type_", "data", "attributes"),
    [
        ("latency", {"latency_ms": 0}, {"latency": 0, "jitter": 0}),
        ("latency", {"latency_ms": 100, "jitter_ms": 10}, {"latency": 100, "jitter": 10}),
        ("bandwidth", {"rate_kbps": 1}, {"rate": 1}),
        ("bandwidth", {"rate_kbps": 512}, {"rate": 512}),
        ("slow_close", {"delay_ms": 0}, {"delay": 0}),
        ("slow_close", {"delay_ms": 250}, {"delay": 250}),
        ("timeout", {"timeout_ms": 0}, {"timeout": 0}),
        ("timeout", {"timeout_ms": 1500}, {"timeout": 1500}),
        ("reset_peer", {"timeout_ms": 0}, {"timeout": 0}),
        ("reset_peer", {"timeout_ms": 100}, {"timeout": 100}),
        ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 32},
         {"average_size": 64, "size_variation": 32, "delay": 0}),
        ("slicer", {"average_size_bytes": 2, "size_variation_bytes": 1, "delay_us": 500},
         {"average_size": 2, "size_variation": 1, "delay": 500}),
        ("limit_data", {"bytes": 0}, {"bytes": 0}),
        ("limit_data", {"bytes": 4096}, {"bytes": 4096}),
        ("down", {}, {}),
        ("down", True, {}),
        ("latency", {"latency_ms": MAX_DURATION_MS}, {"latency": MAX_DURATION_MS, "jitter": 0}),
        ("limit_data", {"bytes": MAX_SIZE_BYTES}, {"bytes": MAX_SIZE_BYTES}),
    ],
)
def test_valid_levels(type_: str, data: dict[str, Any], attributes: dict[str, int]) -> None:
    level = parse_level(type_, data)
    assert level.type == type_
    assert level.attributes() == attributes


@pytest.mark.parametrize(
    ("type_", "data", "locs"),
    [
        ("latency", {}, ["latency_ms"]),
        ("latency", {"latency_ms": -1}, ["latency_ms"]),
        ("latency", {"latency_ms": 5, "jitter_ms": -1}, ["jitter_ms"]),
        ("latency", {"latency_ms": 5.5}, ["latency_ms"]),
        ("latency", {"latency": 5}, ["latency_ms", "latency"]),
        ("bandwidth", {"rate_kbps": 0}, ["rate_kbps"]),
        ("bandwidth", {"rate_kbps": -5}, ["rate_kbps"]),
        ("bandwidth", {"rate_kbps": 5, "burst": 1}, ["burst"]),
        ("bandwidth", {"rate_kbps": 10_000_001}, ["rate_kbps"]),
        ("latency", {"latency_ms": MAX_DURATION_MS + 1}, ["latency_ms"]),
        ("latency", {"latency_ms": float("inf")}, ["latency_ms"]),
        ("slow_close", {}, ["delay_ms"]),
        ("slow_close", {"delay_ms": -1}, ["delay_ms"]),
        ("slow_close", {"delay": 5}, ["delay_ms", "delay"]),
        ("timeout", {"timeout_ms": -1}, ["timeout_ms"]),
        ("timeout", {"timeout_ms": 1.5}, ["timeout_ms"]),
        ("reset_peer", {}, ["timeout_ms"]),
        ("reset_peer", {"timeout_ms": MAX_DURATION_MS + 1}, ["timeout_ms"]),
        ("slicer", {"average_size_bytes": 64}, ["size_variation_bytes"]),
        ("slicer", {"average_size_bytes": 0, "size_variation_bytes": 1}, ["average_size_bytes"]),
        ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 0}, ["size_variation_bytes"]),
        ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 64}, ["size_variation_bytes"]),
        ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 8, "delay_us": -1}, ["delay_us"]),
        ("limit_data", {"bytes": -1}, ["bytes"]),
        ("limit_data", {"bytes": MAX_SIZE_BYTES + 1}, ["bytes"]),
        ("down", {"minutes": 1}, ["minutes"]),
        ("down", False, [""]),
        ("down", "yes", [""]),  # the level itself, not one of its fields
    ],
)
def test_invalid_levels(type_: str, data: dict[str, Any], locs: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_level(type_, data)
    assert _locs(caught.value) == locs


def _fault(**overrides: Any) -> dict[str, Any]:
    return {"link": "clickhouse", "type": "latency", "levels": [None, {"latency_ms": 50}]} | overrides


def test_fault_defaults_and_levels() -> None:
    fault = Fault.model_validate(
        _fault(levels=[None, {"latency_ms": 50}, {"latency_ms": 100, "jitter_ms": 10}])
    )
    assert fault.link is Link.CLICKHOUSE
    assert (fault.stream, fault.toxicity) == ("downstream", 1.0)
    assert fault.levels == (None, Latency(latency_ms=50), Latency(latency_ms=100, jitter_ms=10))


def test_fault_bandwidth_levels_use_the_bandwidth_model() -> None:
    fault = Fault.model_validate(_fault(type="bandwidth", stream="upstream", levels=[{"rate_kbps": 64}]))
    assert fault.levels == (Bandwidth(rate_kbps=64),)


@pytest.mark.parametrize(
    ("overrides", "locs"),
    [
        ({"link": "postgres"}, ["link"]),
        ({"type": "packet_loss"}, ["type"]),
        ({"stream": "both"}, ["stream"]),
        ({"toxicity": 1.5}, ["toxicity"]),
        ({"toxicity": -0.1}, ["toxicity"]),
        ({"colour": "red"}, ["colour"]),
        ({"levels": []}, ["levels"]),
        ({"levels": "fast"}, ["levels"]),
        # only null means "no toxic": {} is a level, and latency_ms is required
        ({"levels": [None, {}]}, ["levels.1.latency_ms"]),
        ({"levels": [None, {"latency_ms": 5}, {"latency_ms": -1}]}, ["levels.2.latency_ms"]),
        ({"levels": [{"latency_ms": 5, "jitter": 3}]}, ["levels.0.jitter"]),
        ({"levels": [{"rate_kbps": 10}]}, ["levels.0.latency_ms", "levels.0.rate_kbps"]),
        ({"type": "bandwidth", "levels": [None, {"rate_kbps": 0}]}, ["levels.1.rate_kbps"]),
        # several problems are all reported, each with its path
        (
            {"link": "nope", "levels": [{"latency_ms": -1}, {}]},
            ["link", "levels.0.latency_ms", "levels.1.latency_ms"],
        ),
    ],
)
def test_invalid_faults(overrides: dict[str, Any], locs: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        Fault.model_validate(_fault(**overrides))
    assert _locs(caught.value) == locs


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="unknown toxic type 'packet_loss'; known: bandwidth, down, latency, "
                                              "limit_data, reset_peer, slicer, slow_close, timeout"):
        Fault.model_validate(_fault(type="packet_loss"))


def test_fault_is_frozen() -> None:
    fault = Fault.model_validate(_fault())
    with pytest.raises(ValidationError):
        fault.toxicity = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("type_", "data", "message"),
    [
        ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 0},
         "must be at least 1 (Toxiproxy's slicer crashes on 0), got 0"),
        ("slicer", {"average_size_bytes": 64, "size_variation_bytes": 80},
         "must be smaller than average_size_bytes (64), got 80"),
        ("down", False, "a down level is true or {} (link down for the step) or null (link up), not false"),
        ("down", "yes", "a down level is true or {} (link down for the step) or null (link up), not 'yes'"),
    ],
)
def test_level_messages_say_why(type_: str, data: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_level(type_, data)
    assert [error["msg"] for error in caught.value.errors()] == [message]


@pytest.mark.parametrize(
    ("level", "words"),
    [
        (Latency(latency_ms=200, jitter_ms=10), "latency 200 ms ±10 ms"),
        (Latency(latency_ms=50), "latency 50 ms"),
        (Bandwidth(rate_kbps=64), "bandwidth 64 KB/s per connection"),
        (SlowClose(delay_ms=250), "slow close, closing delayed 250 ms"),
        (Timeout(timeout_ms=0), "timeout, data stopped, connection held open"),
        (Timeout(timeout_ms=1500), "timeout, data stopped, connection closed after 1500 ms"),
        (ResetPeer(timeout_ms=0), "reset peer, connections reset at once"),
        (ResetPeer(timeout_ms=100), "reset peer, connections reset after 100 ms"),
        (Slicer(average_size_bytes=64, size_variation_bytes=32), "slicer, 64 ±32 byte chunks"),
        (Slicer(average_size_bytes=64, size_variation_bytes=32, delay_us=500),
         "slicer, 64 ±32 byte chunks, 500 µs apart"),
        (LimitData(bytes=4096), "limit data, connections closed after 4096 bytes"),
        (LinkDown(), "link down (proxy disabled)"),
    ],
)
def test_describe_says_the_level_with_units(level: Any, words: str) -> None:
    assert level.describe() == words


def test_every_catalogue_type_describes_itself() -> None:
    # A new type without describe() cannot be instantiated (abstract), so this pins the set.
    assert set(CATALOGUE) == {"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer",
                              "limit_data", "down"}


# --- link down ----------------------------------------------------------------------------------


def test_down_fault_reads_true_and_empty_mapping_as_down() -> None:
    fault = Fault.model_validate({"link": "materialize", "type": "down", "levels": [None, True, {}, None]})
    assert fault.levels == (None, LinkDown(), LinkDown(), None)
    [state] = toxics_for_step([fault], 1)
    assert state.disables_link
    assert state.describe() == "materialize link down (proxy disabled)"
    assert toxics_for_step([fault], 3) == []


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        ({"stream": "upstream"}, {"stream": "a link down stops both directions; leave stream out"}),
        ({"stream": "downstream"}, {"stream": "a link down stops both directions; leave stream out"}),
        ({"toxicity": 0.5}, {"toxicity": "a link down refuses every connection; leave toxicity out (or 1)"}),
        ({"levels": [None, False]}, {"levels.1": "a down level is true or {} (link down for the step) or null "
                                                 "(link up), not false"}),
    ],
)
def test_down_fault_has_no_stream_and_no_toxicity(overrides: dict[str, Any], messages: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        Fault.model_validate({"link": "redis", "type": "down", "levels": [None, True]} | overrides)
    assert {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()} == messages


def test_toxicity_one_is_allowed_on_down() -> None:
    Fault.model_validate({"link": "redis", "type": "down", "toxicity": 1, "levels": [True]})


# --- identity and compound faults ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("redis", "latency", "downstream"), ("redis", "latency", "downstream"), True),
        (("redis", "latency", "downstream"), ("redis", "latency", "upstream"), False),
        (("redis", "latency", "downstream"), ("redis", "bandwidth", "downstream"), False),
        (("redis", "latency", "downstream"), ("clickhouse", "latency", "downstream"), False),
        # a link down has no direction: two of them on one link are one fault
        (("redis", "down", "downstream"), ("redis", "down", "upstream"), True),
    ],
)
def test_fault_identity(a: tuple[str, str, str], b: tuple[str, str, str], same: bool) -> None:
    assert (fault_identity(*a) == fault_identity(*b)) is same


def test_duplicate_faults_names_each_repeat_and_its_first() -> None:
    a, b = ("redis", "latency", "downstream"), ("redis", "latency", "upstream")
    assert duplicate_faults([a, b, None, a, b, a]) == [(3, 0), (4, 1), (5, 0)]
    assert duplicate_faults([None, None]) == []


def test_compound_fault_several_links_in_one_step() -> None:
    faults = [
        Fault.model_validate({"link": "redis", "type": "latency", "levels": [None, {"latency_ms": 5}]}),
        Fault.model_validate({"link": "clickhouse", "type": "bandwidth", "levels": [None, {"rate_kbps": 64}]}),
        Fault.model_validate({"link": "materialize", "type": "down", "levels": [None, True]}),
        Fault.model_validate({"link": "redis", "type": "slow_close", "stream": "upstream",
                              "levels": [{"delay_ms": 10}, {"delay_ms": 20}]}),
    ]
    assert [s.describe() for s in toxics_for_step(faults, 0)] == ["redis slow close, closing delayed 10 ms upstream"]
    step = toxics_for_step(faults, 1)
    assert [s.describe() for s in step] == [
        "redis latency 5 ms downstream",
        "clickhouse bandwidth 64 KB/s per connection downstream",
        "materialize link down (proxy disabled)",
        "redis slow close, closing delayed 20 ms upstream",
    ]
    assert [s.proxy for s in step] == ["redis", "clickhouse", "materialize", "redis"]
    assert [s.disables_link for s in step] == [False, False, True, False]


def test_toxic_state_of_a_new_type_carries_toxiproxy_names() -> None:
    fault = Fault.model_validate({"link": "websocket", "type": "slicer", "toxicity": 0.5,
                                  "levels": [{"average_size_bytes": 64, "size_variation_bytes": 8, "delay_us": 10}]})
    [state] = toxics_for_step([fault], 0)
    assert state == ToxicState(Link.WEBSOCKET, "slicer", "downstream", 0.5,
                               {"average_size": 64, "size_variation": 8, "delay": 10})
    assert state.name == "ff-websocket-slicer-downstream"
    assert state.describe() == "websocket slicer, 64 ±8 byte chunks, 10 µs apart downstream, 50% of connections"
