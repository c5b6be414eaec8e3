"""fidelity: latency asked of Toxiproxy against latency the harness measured as added.

Per link, one harness run of a generated experiment: 5 users throughout,
step 1 without a toxic, then one latency level per step. The harness's own
summary gives, per step, the faulted path's latency minus the control
path's (``steps[i].tiers.<link>.added_ms``: p50, p95) and what was asked of
Toxiproxy (``steps[i].links.<link>.requested_latency_ms``), which must be
the level this experiment set in that step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.harness_runs import require, run_harness, step_position
from harness.errors import HarnessError
from toxics.links import LINKS

NAME = "fidelity"


def experiment(link: str, levels_ms: Sequence[int], users: int, step_s: float) -> dict[str, Any]:
    """The experiment for one link: a no-toxic step, then one step per latency level."""
    return {
        "name": f"bench-fidelity-{link}",
        "description": f"make bench: requested against measured added latency on the {link} link",
        "ramp": {"users": [users] * (len(levels_ms) + 1), "spawn_rate": 10, "step_s": step_s,
                 "settle_s": max(1.0, step_s / 4)},
        "faults": [{"link": link, "type": "latency", "stream": "downstream",
                    "levels": [None] + [{"latency_ms": level} for level in levels_ms]}],
    }


def read_link(summary: dict[str, Any], link: str, levels_ms: Sequence[int]) -> dict[str, dict[str, Any]]:
    """{"<level>": {requested_ms, added_p50_ms, added_p95_ms}} from one run's summary.json.

    A level the summary cannot answer holds {requested_ms, error} instead: the
    other levels of the link still count.
    """
    source = f"summary.json of bench-fidelity-{link}"
    found: dict[str, dict[str, Any]] = {}
    for index, level in enumerate(levels_ms, start=2):  # step 1 is the no-toxic step
        try:
            found[str(level)] = {"requested_ms": level, **_level(summary, link, index, level, source)}
        except BenchError as exc:
            found[str(level)] = {"requested_ms": level, "error": str(exc)}
    return found


def _level(summary: dict[str, Any], link: str, index: int, level: int, source: str) -> dict[str, Any]:
    position = step_position(summary, index, source)
    requested = require(summary, "steps", position, "links", link, "requested_latency_ms", source=source)
    if float(requested) != float(level):
        raise BenchError(f"{source}: step {index} asked Toxiproxy for {requested} ms, the experiment for {level}")
    try:
        added = require(summary, "steps", position, "tiers", link, "added_ms", source=source)
    except BenchError as exc:
        count = summary["steps"][position].get("tiers", {}).get(link, {}).get("count")
        raise BenchError(f"{exc}" + (f" ({count} samples in the window)" if count is not None else "")) from None
    where = f"{source} steps[{position}].tiers.{link}.added_ms"
    return {"added_p50_ms": require(added, "p50", source=where), "added_p95_ms": require(added, "p95", source=where)}


def measure(ctx: BenchContext) -> dict[str, Any]:
    s = ctx.settings
    result: dict[str, Any] = {}
    for link in LINKS:
        path = ctx.folder("fidelity") / f"{link}.yaml"
        spec = experiment(link, s.fidelity_levels_ms, s.fidelity_users, s.fidelity_step_s)
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        try:
            run = run_harness(ctx, str(path), f"fidelity-{link}", s.fidelity_step_s)
            result[link] = read_link(run.summary, link, s.fidelity_levels_ms)
        except HarnessError as exc:
            result[link] = {"error": str(exc)}  # the other links may still say something
    if all("error" in value for value in result.values()):
        raise BenchError("no link measured: " + "; ".join(f"{k}: {v['error']}" for k, v in result.items()))
    return result


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    lines = []
    for link, levels in result.items():
        if "error" in levels:
            lines.append((f"fidelity {link}", f"[red]not measured: {levels['error'].splitlines()[0]}[/]", ""))
            continue
        cells = " · ".join(f"{level}→{m['added_p50_ms']:g}/{m['added_p95_ms']:g}" if "error" not in m
                           else f"{level}→[red]none[/]" for level, m in levels.items())
        lines.append((f"fidelity {link} (asked → added p50/p95 ms)", cells, "added ≈ asked"))
    return lines
