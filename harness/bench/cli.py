"""``python -m harness.bench [--only a,b] [--quick]``: run the measurements, write and print the results.

Measurements run one after another (the machine's two cores are the
instrument), in a fixed order: host_noise at 100 users reads the baseline
runs verdict_stability made. A measurement that cannot be taken is recorded
as ``{"error": …}`` and the others still run; the exit code is then 1.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import click
from rich.console import Console

from harness.bench import (
    distributed,
    fidelity,
    generator_ratio,
    host_noise,
    memory,
    output,
    report_render,
    soak,
    stability,
    ws_viewers,
)
from harness.bench.context import BenchContext
from harness.bench.machine import machine
from harness.bench.settings import FULL, QUICK
from harness.errors import HarnessError

MEASUREMENTS: tuple[ModuleType, ...] = (generator_ratio, ws_viewers, memory, fidelity, stability, host_noise,
                                       distributed, soak, report_render)
NAMES = tuple(m.NAME for m in MEASUREMENTS)


def parse_only(only: str | None) -> list[ModuleType]:
    if not only:
        return list(MEASUREMENTS)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in NAMES]
    if unknown:
        raise click.BadParameter(f"unknown measurement {', '.join(unknown)} (known: {', '.join(NAMES)})",
                                 param_hint="--only")
    return [m for m in MEASUREMENTS if m.NAME in wanted]


def has_error(result: object) -> bool:
    """An "error" key in the result or in any mapping below it."""
    if not isinstance(result, dict):
        return False
    return "error" in result or any(has_error(value) for value in result.values())


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--only", help=f"Comma-separated measurements to run (default all): {', '.join(NAMES)}.")
@click.option("--quick", is_flag=True, help="Shorter runs and fewer repeats: a smoke check, not a result.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results/bench"),
              show_default=True)
def bench(only: str | None, quick: bool, results_dir: Path) -> None:
    """Measure what the harness costs and how far its numbers hold (issue 6). Not a test."""
    chosen = parse_only(only)
    console = Console(stderr=True, highlight=False)
    started = time.time()
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%SZ")
    settings = QUICK if quick else FULL
    # Absolute: the stacks' processes run in other working directories.
    ctx = BenchContext(settings=settings, work=results_dir.resolve() / "runs" / stamp, run_id=f"bench-{stamp}")
    results: dict[str, object] = {
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
    }
    failed = False
    try:
        for measurement in chosen:
            console.print(f"[bold]bench[/]: {measurement.NAME} …")
            began = time.monotonic()
            try:
                results[measurement.NAME] = measurement.measure(ctx)
            except HarnessError as exc:
                failed = True
                results[measurement.NAME] = {"error": str(exc)}
                console.print(f"  [red]{measurement.NAME} not measured:[/] {exc}")
            except Exception as exc:  # noqa: BLE001 - a bug in one measurement spares the others
                failed = True
                results[measurement.NAME] = {"error": f"internal error: {type(exc).__name__}: {exc}"}
                console.print_exception()
            if has_error(results.get(measurement.NAME)):
                failed = True  # a part of it (a link, a level, idle or loaded) could not be measured
            console.print(f"  {measurement.NAME}: {time.monotonic() - began:.0f} s")
    finally:
        # Also after Ctrl-C: what was measured is kept.
        results["duration_s"] = round(time.time() - started, 1)
        results["settings"] = settings.model_dump(mode="json")
        results["work"] = str(ctx.work)
        path = output.write(results, results_dir, stamp)
        output.table(results, [(m.NAME, m.rows) for m in chosen], console)
        console.print(f"results: {path} (and {results_dir / 'latest.json'})")
    sys.exit(1 if failed else 0)


def main() -> None:
    bench(standalone_mode=True)
