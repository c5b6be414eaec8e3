"""Past runs of a results folder, newest first, each with its verdict and score.

A folder that cannot be read (a torn journal, a run killed before its
first event, a file from another version) is listed as ``unreadable`` with
the reason, never skipped silently and never fatal: a history that crashes
on one bad folder would hide every good one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.errors import SpecError
from harness.run_folder import is_run_folder, read_run
from harness.score import Score

UNREADABLE = "unreadable"
# Run folders are named <UTC stamp>-<experiment>[-<n>] (harness.runner).
FOLDER_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<experiment>.+?)(?:-(?P<n>\d+))?$")


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    folder: Path
    run_id: str
    started_at: float | None  # epoch s; from the folder's name when the run cannot be read
    experiment: str | None
    status: str  # completed | failed | aborted | interrupted | unreadable
    verdict: str | None
    score: Score | None
    steps: int
    planned_steps: int
    problem: str | None = None  # why it is unreadable

    @property
    def partial(self) -> bool:
        return self.status != UNREADABLE and self.steps < self.planned_steps


def history(results_dir: Path, experiment: str | None = None) -> list[HistoryEntry]:
    """Every run folder directly in ``results_dir`` (of ``experiment``, if given), newest first."""
    if not results_dir.exists():
        return []
    if not results_dir.is_dir():
        raise SpecError("not a folder", source=f"--results-dir {results_dir}")
    entries = [entry_for(folder) for folder in sorted(results_dir.iterdir())
               if not folder.is_symlink() and is_run_folder(folder)]  # "latest" is a link to one of them
    if experiment is not None:
        entries = [entry for entry in entries if entry.experiment == experiment]
    return sorted(entries, key=lambda entry: (entry.started_at or 0.0, entry.run_id), reverse=True)


def entry_for(folder: Path) -> HistoryEntry:
    try:
        run = read_run(folder, summary_first=True)
    except SpecError as exc:
        named = FOLDER_NAME.match(folder.name)
        return HistoryEntry(folder=folder, run_id=folder.name, started_at=_stamp(named, folder),
                            experiment=named.group("experiment") if named else None, status=UNREADABLE,
                            verdict=None, score=None, steps=0, planned_steps=0,
                            problem="; ".join(exc.problems))
    return HistoryEntry(folder=folder, run_id=run.run_id, started_at=run.started_at, experiment=run.experiment,
                        status=run.status.value, verdict=run.verdict.value, score=run.score, steps=len(run.steps),
                        planned_steps=run.planned_steps)


def _stamp(named: re.Match[str] | None, folder: Path) -> float | None:
    if named is not None:
        return datetime.strptime(named.group("stamp"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    try:
        return folder.stat().st_mtime
    except OSError:
        return None


HEADER = ["started (UTC)", "experiment", "status", "steps", "verdict", "score", "inconclusive", "run"]


def history_lines(entries: list[HistoryEntry]) -> list[str]:
    """One row per run, columns aligned; an unreadable run's reason on the line below it."""
    rows: list[list[str]] = [HEADER]
    notes: dict[int, str] = {}
    for entry in entries:
        score = entry.score
        rows.append([
            _when(entry.started_at), entry.experiment or "?", entry.status,
            "–" if entry.status == UNREADABLE else f"{entry.steps}/{entry.planned_steps}"
            + (" partial" if entry.partial else ""),
            entry.verdict or "–", score.shown() if score else "–",
            str(score.inconclusive) if score else "–", entry.run_id,
        ])
        if entry.problem:
            notes[len(rows) - 1] = entry.problem
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number in notes:
            lines.append(f"    {notes[number]}")
    return lines


def _when(at: float | None) -> str:
    return "?" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
