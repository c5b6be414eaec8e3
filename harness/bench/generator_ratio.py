"""generator_ratio: what the harness's per-step recorder costs the load generator.

Requests per second of the recorder-equipped FastHttpUser over the plain one,
same users, same duration, against the same nginx static file; Locust on core
0, nginx on core 1, enough users that Locust's core is the limit. Runs
alternate (A B, B A, …); the median of the pair ratios is reported with both
medians of requests per second. Beside it, the same ratio per CPU second of
the Locust process: it holds when something else on the machine takes
Locust's core for a while, which requests per second does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.bench.children import child, cpu_until_exit, locust_argv, running
from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.nginx import STATIC_PATH, static_server
from harness.bench.stats import aggregated, alternating, median, ratio

NAME = "generator_ratio"
GOAL = 0.97
SATURATED_CPU_PERCENT = 95.0
LOCUSTFILES = {"plain": "locustfiles/bench/static_plain.py", "recorded": "locustfiles/bench/static_recorded.py"}


@dataclass(frozen=True)
class GeneratorRun:
    rps: float
    requests: int
    cpu_s: float
    seconds: float

    @property
    def per_cpu_s(self) -> float:
        return self.requests / self.cpu_s if self.cpu_s > 0 else 0.0

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_s / self.seconds


def measure(ctx: BenchContext) -> dict[str, Any]:
    s = ctx.settings
    measured: dict[int, dict[str, GeneratorRun]] = {}
    with static_server(ctx) as base:
        for pair, kind in alternating(s.generator_pairs):
            measured.setdefault(pair, {})[kind] = _run(ctx, base, pair, kind)
    pairs = [_pair(m["plain"], m["recorded"]) for _, m in sorted(measured.items())]
    return {
        "ratio": round(median([p["ratio"] for p in pairs]), 3),
        "plain_rps": round(median([p["plain_rps"] for p in pairs]), 1),
        "recorder_rps": round(median([p["recorder_rps"] for p in pairs]), 1),
        "goal": f">= {GOAL}",
        "ratio_per_cpu_s": round(median([p["ratio_per_cpu_s"] for p in pairs]), 3),
        # Pairs where Locust got under 95 % of its core in either run: something else ran there.
        "disturbed_pairs": [k + 1 for k, p in enumerate(pairs)
                            if min(p["plain_cpu_percent"], p["recorder_cpu_percent"]) < SATURATED_CPU_PERCENT],
        "users": s.generator_users,
        "seconds_per_run": s.generator_seconds,
        "pairs": pairs,
    }


def _pair(plain: GeneratorRun, recorded: GeneratorRun) -> dict[str, float]:
    return {
        "plain_rps": round(plain.rps, 1), "recorder_rps": round(recorded.rps, 1),
        "ratio": round(ratio(recorded.rps, plain.rps), 4),
        # Locust's CPU over the test: well below 100 % means its core was not the limit.
        "plain_cpu_percent": round(plain.cpu_percent, 1), "recorder_cpu_percent": round(recorded.cpu_percent, 1),
        "ratio_per_cpu_s": round(ratio(recorded.per_cpu_s, plain.per_cpu_s), 4),
    }


def _run(ctx: BenchContext, base: str, pair: int, kind: str) -> GeneratorRun:
    s = ctx.settings
    folder = ctx.folder("generator_ratio", f"{pair + 1}-{kind}")
    users = str(s.generator_users)
    argv = locust_argv(LOCUSTFILES[kind], "--host", base, "-u", users, "-r", users,
                       "-t", f"{s.generator_seconds:g}s", "--csv", str(folder / "locust"))
    env = {"FF_BENCH_STATIC_PATH": STATIC_PATH, "FF_BENCH_SECONDS": str(s.generator_seconds),
           "FF_BENCH_USERS": users, "FF_BENCH_RECORDS": str(folder / "steps.jsonl")}
    # Locust writes its stats history from the start of the test on: CPU from then, imports left out.
    history = folder / "locust_stats_history.csv"
    history.unlink(missing_ok=True)
    with running(child(ctx, f"locust-{kind}", argv, folder, env)) as process:
        cpu_s = cpu_until_exit(process, s.generator_seconds + 60.0, from_file=history)
    try:
        totals = aggregated((folder / "locust_stats.csv").read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"{kind} run {pair + 1}: no Locust totals ({exc}); see {folder}") from exc
    if totals.requests == 0 or totals.failures:
        raise BenchError(f"{kind} run {pair + 1}: {totals.requests} requests, {totals.failures} failed; see {folder}")
    return GeneratorRun(totals.rps, totals.requests, cpu_s, s.generator_seconds)


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [("generator ratio (recorder / plain)",
             f"{result['ratio']:.3f} ({result['recorder_rps']:,.0f} / {result['plain_rps']:,.0f} req/s; "
             f"per CPU second {result['ratio_per_cpu_s']:.3f})",
             result["goal"])]
