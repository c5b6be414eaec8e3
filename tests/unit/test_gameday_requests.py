"""The control API's bodies: validated by the catalogue's own fault model, every problem naming its field."""

from __future__ import annotations

import pytest

from harness.gameday.refused import Refused
from harness.gameday.requests import (
    AnnotationBody,
    FaultBody,
    FaultPatch,
    UsersBody,
    describe_duration,
    parse_body,
    parse_duration_s,
    toxic_of,
)


def problems_of(link: str, type: str, stream: str | None = None, toxicity: float | None = None,
                settings: object = None) -> list[str]:
    with pytest.raises(Refused) as refused:
        toxic_of(link, type, stream, toxicity, settings)  # type: ignore[arg-type]
    assert refused.value.status == 422
    return refused.value.problems


def test_a_valid_fault_becomes_its_toxic_and_settings() -> None:
    toxic, settings = toxic_of("clickhouse", "latency", None, None, {"latency_ms": 200})
    assert (toxic.name, toxic.attributes) == ("ff-clickhouse-latency-downstream", {"latency": 200, "jitter": 0})
    assert toxic.describe() == "clickhouse latency 200 ms downstream"
    assert settings == {"latency_ms": 200, "jitter_ms": 0}


def test_a_link_down_needs_no_settings() -> None:
    toxic, settings = toxic_of("materialize", "down", None, None, None)
    assert toxic.disables_link and settings == {}


@pytest.mark.parametrize(("args", "expected"), [
    (("clickhous", "latency", None, None, {"latency_ms": 5}),
     ["link: Input should be 'redis', 'materialize', 'clickhouse' or 'websocket'; did you mean 'clickhouse'?"]),
    (("redis", "latncy", None, None, {}),
     ["type: unknown toxic type 'latncy'; known: bandwidth, down, latency, limit_data, reset_peer, slicer, "
      "slow_close, timeout; did you mean 'latency'?"]),
    (("redis", "latency", None, None, {}), ["settings.latency_ms: Field required"]),
    (("redis", "latency", None, None, {"latency_ms": 5, "jiter_ms": 1}),
     ["settings.jiter_ms: unknown field; did you mean 'jitter_ms'?"]),
    (("redis", "latency", "sideways", 1.5, {"latency_ms": -1}),
     ["stream: Input should be 'upstream' or 'downstream'", "toxicity: Input should be less than or equal to 1",
      "settings.latency_ms: Input should be greater than or equal to 0"]),
    (("redis", "bandwidth", None, None, {"rate_kbps": 0}), ["settings.rate_kbps: Input should be greater than 0"]),
    (("redis", "down", "upstream", None, None), ["stream: a link down stops both directions; leave stream out"]),
])
def test_every_problem_names_its_field(args: tuple, expected: list[str]) -> None:  # type: ignore[type-arg]
    assert problems_of(*args) == expected


@pytest.mark.parametrize(("model", "raw", "expected"), [
    (UsersBody, b'{"users": -1}', ["users: Input should be greater than or equal to 0"]),
    (UsersBody, b'{"user": 5}', ["users: Field required", "user: unknown field; did you mean 'users'?"]),
    (FaultPatch, b"{}", ["give at least one of settings, toxicity, revert_after_s"]),
    (FaultBody, b'{"link": "redis", "type": "latency", "revert_after_s": 0}',
     ["revert_after_s: Input should be greater than 0"]),
    (AnnotationBody, b'{"text": "   "}', ["text: an annotation needs some text"]),
    (UsersBody, b"[1]", ["the body must be a JSON object"]),
])
def test_bodies_are_refused_with_every_problem(model: type, raw: bytes, expected: list[str]) -> None:
    with pytest.raises(Refused) as refused:
        parse_body(model, raw)
    assert refused.value.problems == expected


def test_a_body_that_is_not_json_is_a_400() -> None:
    with pytest.raises(Refused) as refused:
        parse_body(UsersBody, b"users=5")
    assert refused.value.status == 400


def test_an_empty_body_is_an_empty_object() -> None:
    assert parse_body(FaultPatch, b'{"toxicity": 0.5}').toxicity == 0.5
    with pytest.raises(Refused):
        parse_body(UsersBody, b"")


@pytest.mark.parametrize(("text", "seconds"), [("300", 300.0), ("90s", 90.0), ("5m", 300.0), ("1.5h", 5400.0),
                                               ("2 min", 120.0), ("500ms", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "-3", "0", "m5", "1d"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_s(text)


@pytest.mark.parametrize(("seconds", "words"), [(300.0, "5 min"), (3.0, "3 s"), (5400.0, "1.5 h"), (90.0, "1.5 min"),
                                                (61.0, "61 s")])
def test_durations_in_words(seconds: float, words: str) -> None:
    assert describe_duration(seconds) == words
