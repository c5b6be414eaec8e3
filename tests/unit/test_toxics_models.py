"""toxics.links, the catalogue models and the Fault model: valid and invalid input, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import toxics
from toxics import CATALOGUE, Bandwidth, Fault, Latency, Link, parse_level, toxic_name


def _locs(exc: ValidationError) -> list[str]:
    return [".".join(str(part) for part in error["loc"]) for error in exc.errors()]


def test_public_names_are_pinned() -> None:
    assert set(toxics.__all__) == {
        "CATALOGUE", "LINKS", "OUR_PREFIX", "STREAMS", "Bandwidth", "Change", "ChangeKind",
        "Fault", "Latency", "Link", "Proxy", "Stream", "Toxic", "ToxicApplier", "ToxicModel",
        "ToxicState", "ToxiproxyClient", "parse_level", "plan_changes", "toxic_name",
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
    assert CATALOGUE == {"latency": Latency, "bandwidth": Bandwidth}
    assert all(model.type == key for key, model in CATALOGUE.items())


@pytest.mark.parametrize(
    ("type_", "data", "attributes"),
    [
        ("latency", {"latency_ms": 0}, {"latency": 0, "jitter": 0}),
        ("latency", {"latency_ms": 100, "jitter_ms": 10}, {"latency": 100, "jitter": 10}),
        ("bandwidth", {"rate_kbps": 1}, {"rate": 1}),
        ("bandwidth", {"rate_kbps": 512}, {"rate": 512}),
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
    with pytest.raises(ValidationError, match="unknown toxic type 'packet_loss'; known: bandwidth, latency"):
        Fault.model_validate(_fault(type="packet_loss"))


def test_fault_is_frozen() -> None:
    fault = Fault.model_validate(_fault())
    with pytest.raises(ValidationError):
        fault.toxicity = 0.5  # type: ignore[misc]
