"""harness.vantage.redis_view: the window's GETs from the text of INFO latencystats commandstats."""

from __future__ import annotations

import pytest

from harness.vantage.redis_view import SOURCE, get_view, info_fields
from harness.vantage.views import ServerView, VantageError

# Redis 7.0.15 after CONFIG RESETSTAT, 2 GETs and our own INFO calls (default percentiles).
INFO_7_0 = (
    "# Latencystats\r\n"
    "latency_percentiles_usec_get:p50=2.007,p99=5.023,p99.9=5.023\r\n"
    "latency_percentiles_usec_config|resetstat:p50=40.191,p99=40.191,p99.9=40.191\r\n"
    "latency_percentiles_usec_info:p50=33.023,p99=86.015,p99.9=86.015\r\n"
    "\r\n"
    "# Commandstats\r\n"
    "cmdstat_get:calls=2,usec=7,usec_per_call=3.50,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_config|resetstat:calls=1,usec=40,usec_per_call=40.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_info:calls=5,usec=242,usec_per_call=48.40,rejected_calls=0,failed_calls=0\r\n"
)
# With --latency-tracking-info-percentiles "50 90 95 99 99.9", as the local stack starts Redis.
INFO_ALL_PERCENTILES = (
    "# Latencystats\r\n"
    "latency_percentiles_usec_get:p50=1.003,p90=2.007,p95=3.007,p99=8.031,p99.9=15.039\r\n"
    "# Commandstats\r\n"
    "cmdstat_get:calls=1000,usec=1500,usec_per_call=1.50,rejected_calls=0,failed_calls=0\r\n"
)
# No GET since the reset: Redis lists neither line.
INFO_NO_GETS = "# Latencystats\r\n\r\n# Commandstats\r\ncmdstat_info:calls=1,usec=30,usec_per_call=30.00\r\n"
# latency-tracking no (or Redis 6): commandstats only.
INFO_UNTRACKED = "# Commandstats\r\ncmdstat_get:calls=4,usec=10,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n"


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (INFO_7_0, ServerView(source=SOURCE, count=2, mean_ms=0.0035, p50_ms=0.002007, p99_ms=0.005023,
                              p999_ms=0.005023)),
        (INFO_ALL_PERCENTILES, ServerView(source=SOURCE, count=1000, mean_ms=0.0015, p50_ms=0.001003,
                                          p90_ms=0.002007, p95_ms=0.003007, p99_ms=0.008031, p999_ms=0.015039)),
        (INFO_NO_GETS, ServerView(source=SOURCE, count=0)),
        (INFO_UNTRACKED, ServerView(source=SOURCE, count=4, mean_ms=0.0025)),
    ],
)
def test_get_view(info: str, expected: ServerView) -> None:
    view = get_view(info).views["redis"]
    assert view.model_dump() == pytest.approx(expected.model_dump())


def test_untracked_gets_are_said_to_lack_percentiles() -> None:
    assert get_view(INFO_7_0).problems == []
    assert get_view(INFO_UNTRACKED).problems == [
        "redis: INFO latencystats has no GET percentiles though 4 GETs ran (latency-tracking off, "
        "or Redis older than 7.0); count and mean only"
    ]


def test_info_fields_takes_the_exact_key() -> None:
    assert info_fields(INFO_7_0, "cmdstat_get") == {
        "calls": "2", "usec": "7", "usec_per_call": "3.50", "rejected_calls": "0", "failed_calls": "0",
    }
    assert info_fields(INFO_7_0, "cmdstat_getex") is None


@pytest.mark.parametrize("info", [
    "cmdstat_get:calls=two,usec=7\r\n",
    "cmdstat_get:usec=7\r\n",
    "cmdstat_get:calls=1,usec=7\r\nlatency_percentiles_usec_get:p50=fast\r\n",
])
def test_unreadable_info_is_an_error_naming_redis(info: str) -> None:
    with pytest.raises(VantageError, match="^redis: unreadable INFO answer"):
        get_view(info)
