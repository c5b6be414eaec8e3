"""The run's result files, all derived from the journal: summary.json, steps.csv, junit.xml.

Deriving them from the journal (not from memory) means a partial or killed
run gets the same files as a finished one: ``harness report`` rebuilds them.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ValidationError

from harness.contract import ProbeSettings
from harness.incidents import Incident
from harness.journal import read_journal
from harness.record import StepRecord
from harness.recovery import Cell, Recovery, recoveries, surface
from harness.score import Score, score_steps
from harness.slo import Verdict, overall
from harness.spec import TierSlo
from harness.stop_tracker import StopFired

M = TypeVar("M", bound=BaseModel)


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"  # the run itself broke (infrastructure), not an SLO
    ABORTED = "aborted"  # a stop condition ended it early
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM or SIGHUP


class RunVerdict(StrEnum):
    """What a run as a whole says.

    ``pass`` only when every planned step completed and every verdict in it
    passed; a run that was interrupted, aborted or measured nothing is
    ``incomplete`` whatever the steps it reached said (those stay in
    ``verdicts_reached`` and in the steps).
    """

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    INCOMPLETE = "incomplete"


def run_verdict(status: RunStatus, planned_steps: int, steps: list[StepRecord]) -> tuple[RunVerdict, Verdict]:
    """The run's verdict and the sum of the verdicts it reached."""
    reached = overall(v for step in steps for v in step.slo.values())
    complete = status == RunStatus.COMPLETED and len(steps) >= planned_steps
    if not complete or reached == Verdict.NO_DATA:
        return RunVerdict.INCOMPLETE, reached
    return RunVerdict(reached.value), reached


class RunSummary(BaseModel):
    experiment: str
    run_id: str
    status: RunStatus
    reason: str | None
    backend: str
    started_at: float | None
    ended_at: float | None
    verdict: RunVerdict
    verdicts_reached: Verdict
    score: Score | None = None  # 0–100 from the verdicts, weighted by load and fault (harness.score)
    notes: list[str]
    versions: dict[str, str]
    slos: dict[str, str]
    planned_steps: int
    workers: int = 0  # Locust processes that ran users (1: one process; N: a master's workers, lost ones too)
    probes: dict[str, ProbeSettings] = {}
    schedule: str = "per-step"
    # matrix: every user count × fault level; phases: how long each tier took to hold again
    surface: list[Cell] = []
    recovery: list[Recovery] = []
    search: dict[str, Any] | None = None  # harness search: where the SLO breaks, and the windows measured
    stopped_by: StopFired | None = None  # status aborted: the stop condition (or store crash) that ended it
    incidents: list[Incident] = []  # Toxiproxy restored, services that died: when, and what was done
    steps: list[StepRecord]


def summarize_journal(path: Path) -> RunSummary:
    """The run as its journal tells it.

    A journal is ours, but it is a file: one hand-edited or damaged event must
    not cost the whole run its results. A step, incident or stop event that
    does not read is left out and said in ``notes``; only a journal with no
    readable run-start is refused (``ValueError``, naming what is missing).
    """
    events = read_journal(path)
    start = next((e for e in events if e["event"] == "run-start"), None)
    if start is None:
        raise ValueError(f"{path} has no run-start event")
    missing = [key for key in ("experiment", "run_id", "backend", "at")
               if not isinstance(start.get(key), str | float | int)]
    if missing:
        raise ValueError(f"the run-start event has no {', '.join(missing)}")
    problems: list[str] = []
    end = next((e for e in reversed(events) if e["event"] == "run-end"), None)
    stack = next((e for e in events if e["event"] == "stack-up"), {})
    steps = _readable(events, "step", "record", StepRecord, problems)
    status, reason = RunStatus.INTERRUPTED, "the run ended without closing its journal (killed?)"
    if end is not None:
        try:
            status, reason = RunStatus(end.get("status")), end.get("reason")
        except ValueError:
            problems.append(f"the run-end event's status {end.get('status')!r} is not a run status: "
                            "read as interrupted")
    try:
        planned = int(start.get("planned_steps", len(steps)))
    except (TypeError, ValueError):
        planned = len(steps)
        problems.append(f"the run-start event's planned_steps {start.get('planned_steps')!r} is not a number")
    try:
        bounds = {tier: TierSlo.model_validate(slo) for tier, slo in (start.get("slo_bounds") or {}).items()}
    except (ValidationError, AttributeError):
        bounds = {}
        problems.append("the run-start event's slo_bounds do not read: recovery is not derived")
    stops = _readable(events, "stopped", "stop", StopFired, problems)
    verdict, reached = run_verdict(status, planned, steps)
    return RunSummary(
        experiment=str(start["experiment"]),
        run_id=str(start["run_id"]),
        status=status,
        reason=reason,
        backend=str(start["backend"]),
        started_at=start["at"],
        ended_at=end.get("at") if end else None,
        verdict=verdict,
        verdicts_reached=reached,
        score=score_steps(steps),
        notes=[*_strings(stack.get("notes")), *(f"journal: {problem}" for problem in problems)],
        versions={str(k): str(v) for k, v in _mapping(stack.get("versions")).items()},
        slos={str(k): str(v) for k, v in _mapping(start.get("slos")).items()},
        planned_steps=planned,
        workers=len({(share.worker, share.host) for step in steps for share in step.workers}),
        probes=_mapping(start.get("probes")),
        schedule=str(start.get("schedule", "per-step")),
        surface=surface(steps),
        search=next((e["result"] for e in reversed(events) if e["event"] == "search"), None),
        stopped_by=stops[0] if stops else None,
        incidents=_readable(events, "incident", "incident", Incident, problems),
        recovery=recoveries(steps, bounds),
        steps=steps,
    )


def _readable(events: list[dict[str, Any]], kind: str, key: str, model: type[M], problems: list[str]) -> list[M]:
    """Every ``kind`` event's ``key`` as ``model``; one that does not read is left out and said."""
    read = []
    for number, event in enumerate(events, start=1):
        if event["event"] != kind:
            continue
        try:
            read.append(model.model_validate(event.get(key)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or key
            problems.append(f"event {number} ({kind}) left out: {where}: {first['msg']} ({len(exc.errors())} "
                            f"problem{'s' if len(exc.errors()) > 1 else ''})")
    return read


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def summary_json(summary: RunSummary) -> dict[str, Any]:
    data = summary.model_dump(mode="json")
    for step in data["steps"]:
        step.pop("histograms", None)  # in the journal; too bulky to read here
    return data


def write_results(folder: Path) -> RunSummary:
    summary = summarize_journal(folder / "journal.jsonl")
    (folder / "summary.json").write_text(json.dumps(summary_json(summary), indent=2) + "\n")
    write_steps_csv(summary, folder / "steps.csv")
    write_junit(summary, folder / "junit.xml")
    return summary


CSV_COLUMNS = ["step", "users", "toxics", "tier", "count", "errors", "error_ratio", "p50_ms", "p90_ms",
               "p95_ms", "p99_ms", "p999_ms", "max_ms", "ci_low_ms", "ci_high_ms", "control_p50_ms",
               "control_p95_ms", "control_p99_ms", "added_p50_ms", "added_p95_ms", "added_p99_ms",
               "requested", "effective_added_ms", "backend_p50_ms", "store_p50_ms", "store_p99_ms",
               "hiccup_p999_ms", "slo", "verdict", "cause", "flags"]


def _cell(value: float | None) -> object:
    return "" if value is None else value


def write_steps_csv(summary: RunSummary, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for step in summary.steps:
            toxics = "; ".join(t.describe() for t in step.toxics) or "none"
            for tier in sorted(set(step.tiers) | set(step.slo)):
                result = step.tiers.get(tier)
                row: list[object] = [step.index, step.users, toxics, tier]
                if result is None:
                    row += [0, 0, 0] + [""] * 14
                else:
                    row += [result.count, result.errors, round(result.error_ratio, 5)]
                    row += [_cell(v) for v in (result.p50_ms, result.p90_ms, result.p95_ms, result.p99_ms,
                                               result.p999_ms, result.max_ms)]
                    low, high = result.ci_ms or (None, None)
                    control, added = result.control, result.added_ms
                    row += [_cell(low), _cell(high)]
                    row += [_cell(getattr(control, f, None)) for f in ("p50_ms", "p95_ms", "p99_ms")]
                    row += [_cell(getattr(added, f, None)) for f in ("p50", "p95", "p99")]
                link = step.links.get(tier)
                row += [link.requested if link else "", _cell(link.effective_added_ms if link else None)]
                backend = result.backend if result else None
                store = result.store if result else None
                row += [_cell(backend.p50_ms if backend else None), _cell(store.p50_ms if store else None),
                        _cell(store.p99_ms if store else None)]
                row += [_cell(step.host.hiccup_p999_ms if step.host else None)]
                verdict, cause = step.slo.get(tier), step.cause.get(tier)
                row += [summary.slos.get(tier, ""), verdict.value if verdict else "", cause.value if cause else "",
                        " | ".join(step.flags)]
                writer.writerow(row)


def write_junit(summary: RunSummary, path: Path) -> None:
    """One test case per step × SLO, so CI shows which failed and where."""
    cases = [(step, tier, verdict) for step in summary.steps for tier, verdict in step.slo.items()]
    unjudged = (Verdict.NO_DATA, Verdict.INCONCLUSIVE)
    suite = ET.Element("testsuite", name=f"flowforge.{summary.experiment}", tests=str(len(cases)),
                       failures=str(sum(v == Verdict.FAIL for _, _, v in cases)),
                       skipped=str(sum(v in unjudged for _, _, v in cases)))
    for step, tier, verdict in cases:
        case = ET.SubElement(suite, "testcase", classname=f"{summary.experiment}.step{step.index:02d}",
                             name=f"{tier}: {summary.slos.get(tier, '')} at {step.users} users")
        cause = step.cause.get(tier)
        because = f" (cause: {cause.value})" if cause else ""
        if verdict == Verdict.FAIL:
            ET.SubElement(case, "failure", message="; ".join(step.reasons.get(tier, [])) + because)
        elif verdict == Verdict.INCONCLUSIVE:
            ET.SubElement(case, "skipped", message="inconclusive: " + "; ".join(step.reasons.get(tier, [])) + because)
        elif verdict == Verdict.NO_DATA:
            ET.SubElement(case, "skipped", message="no samples in the window")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
