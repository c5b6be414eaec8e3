"""report_render_s: how long report.html of a 25-step run takes to render (goal < 5 s).

The run is synthetic (``harness.bench.synthetic_run``: 25 steps of 60 s,
every tier on both paths, a live window every 5 s), so the number measures
the report, not a stack. Measured two ways: ``harness report RUN_DIR`` in a
fresh process (what a user waits for: interpreter, imports, every result
file), and the HTML alone in this process, the median of a few renders.
Each also in CPU seconds: on a shared two-core machine the wall time
follows whatever else runs, the CPU time follows the report.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.synthetic_run import write_synthetic_run
from harness.report.html import write_html
from harness.results import summarize_journal

NAME = "report_render_s"
GOAL_S = 5.0
STEPS = 25
RENDERS = 3


def measure(ctx: BenchContext) -> dict[str, Any]:
    folder = write_synthetic_run(ctx.folder("report-render") / "run", steps=STEPS)
    children = _children_cpu_s()
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness", "report", str(folder)], capture_output=True, text=True,
                          timeout=300)
    command_s = time.monotonic() - began
    command_cpu_s = _children_cpu_s() - children
    if done.returncode != 0:
        raise BenchError(f"harness report exited {done.returncode}: {done.stderr.strip()[-500:]}")
    summary = summarize_journal(folder / "journal.jsonl")
    renders, cpu = [], []
    for _ in range(RENDERS):
        began, began_cpu = time.monotonic(), time.process_time()
        write_html(summary, folder)
        renders.append(time.monotonic() - began)
        cpu.append(time.process_time() - began_cpu)
    journal = folder / "journal.jsonl"
    return {
        "s": round(command_s, 2),
        "cpu_s": round(command_cpu_s, 2),
        "html_only_s": round(statistics.median(renders), 2),
        "html_only_cpu_s": round(statistics.median(cpu), 2),
        "goal": f"< {GOAL_S:g}",
        "steps": STEPS,
        "live_windows": sum(1 for line in journal.read_text().splitlines() if line.startswith('{"event": "live"')),
        "journal_kb": round(journal.stat().st_size / 1024),
        "html_kb": round((folder / "report.html").stat().st_size / 1024),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [("report of a 25-step run", f"{result['s']:g} s, CPU {result['cpu_s']:g} s (html alone "
                                        f"{result['html_only_s']:g} s, {result['html_kb']} KB)", f"{result['goal']} s")]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
