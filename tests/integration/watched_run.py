"""One real short run watched from outside, shared by every test that only reads what it showed.

The short clickhouse-latency run (three 8 s steps: no toxic, 100 ms, 200 ms
on the ClickHouse link) on the local stack, as a user runs it with /metrics
on a known port and Locust's web UI kept: scraped inside step 2 and after
its end, its web UI read inside step 2. The end-to-end, metrics, web UI and
report tests each assert their part of the same run, so `make test` pays for
one run instead of one per test (the same observations, made once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import TIERS, run_folder, start_harness, wait_for_event, write_spec
from tests.integration.watching import Samples, free_port, in_step, scrape, wait_until


@dataclass
class WatchedRun:
    folder: Path
    returncode: int
    stdout: str
    stderr: str
    metrics_url: str
    web_url: str
    during: Samples  # /metrics inside step 2, once it showed a live window of every tier
    after: Samples  # /metrics while lingering after the run's end
    web_page: str  # Locust's UI page, inside step 2
    web_stats: dict[str, Any] = field(default_factory=dict)  # /stats/requests once it ran step 2's 10 users
    step_in_scrape: int | None = None


def _in_step_two(samples: Samples) -> Samples:
    """The scrape once it shows step 2 and a live window of every tier (else nothing)."""
    every_tier = all(("flowforge_slo_ok", (("tier", tier),)) in samples for tier in TIERS)
    return samples if samples.get(("flowforge_step", ())) == 2 and every_tier else {}


def _with_ten_users(stats: dict[str, Any]) -> dict[str, Any]:
    return stats if stats.get("user_count") == 10 else {}


def _web_stats(url: str) -> dict[str, Any]:
    try:
        return _with_ten_users(httpx.get(f"{url}/stats/requests", timeout=5).json())
    except (httpx.HTTPError, ValueError):
        return {}


def watch_short_run(tmp_path: Path) -> WatchedRun:
    require_local_stack_programs()
    metrics_port, web_port = free_port(), free_port()
    metrics_url, web_url = f"http://127.0.0.1:{metrics_port}/metrics", f"http://127.0.0.1:{web_port}"
    results = tmp_path / "results"
    process = start_harness(write_spec(tmp_path), results, "--backend", "local", "--metrics-port",
                            str(metrics_port), "--web-port", str(web_port), "--linger", "3")
    try:
        folder = in_step(process, results, 2)
        # Inside step 2: 10 users, 100 ms on the ClickHouse link; a live window or two in.
        during = wait_until(lambda: _in_step_two(scrape(metrics_url)), 15) or scrape(metrics_url)
        web_page = httpx.get(f"{web_url}/", timeout=5).text
        web_stats = wait_until(lambda: _web_stats(web_url), 10)
        wait_for_event(process, results, lambda e: e["event"] == "run-end")
        wait_until(lambda: (folder / "summary.json").exists(), 30)
        after = scrape(metrics_url)  # lingering for the final scrape
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return WatchedRun(folder=run_folder(results), returncode=process.returncode, stdout=stdout, stderr=stderr,
                      metrics_url=metrics_url, web_url=web_url, during=during, after=after, web_page=web_page,
                      web_stats=web_stats)


def assert_judged(run: WatchedRun) -> None:
    """The run reached its verdicts: exit 0 or 1 (an SLO verdict), not 2, 3 or 130."""
    assert run.returncode in (0, 1), run.stderr[-3000:]

