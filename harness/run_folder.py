"""Reading a past run back from its folder: its summary, or a SpecError naming the folder.

The journal is the run's truth (results are derived from it), so it is read
first; ``summary.json`` stands in where there is no journal, or where reading
many runs fast matters more (``harness history``) and it is not older than
the journal. Everything a folder can be wrong in (missing, not a run, torn,
from another version) becomes a SpecError here, so commands that read
folders have one error to expect.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from harness.errors import SpecError
from harness.results import RunSummary, summarize_journal
from harness.score import score_steps

JOURNAL, SUMMARY = "journal.jsonl", "summary.json"
# Any of these makes a folder a run folder, however little of the run it holds.
RUN_FILES = (JOURNAL, SUMMARY, "experiment.yaml")


def is_run_folder(folder: Path) -> bool:
    return folder.is_dir() and any((folder / name).is_file() for name in RUN_FILES)


def read_run(folder: Path, summary_first: bool = False) -> RunSummary:
    """The run in ``folder``; ``summary_first``: from summary.json when it is as new as the journal."""
    if not folder.is_dir():
        raise SpecError("not a run folder (no such folder)" if not folder.exists() else "not a run folder (a file)",
                        source=str(folder))
    journal, summary = folder / JOURNAL, folder / SUMMARY
    if summary.is_file() and (not journal.is_file() or (summary_first and _not_older(summary, journal))):
        return _from_summary(summary)
    if not journal.is_file():
        raise SpecError(f"not a run folder: no {JOURNAL} and no {SUMMARY}", source=str(folder))
    try:
        return summarize_journal(journal)
    except SpecError as exc:
        raise SpecError(exc.problems, source=str(journal)) from exc
    except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        raise SpecError(f"unreadable journal: {_first_line(exc)}", source=str(journal)) from exc


def _from_summary(path: Path) -> RunSummary:
    try:
        run = RunSummary.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise SpecError(f"cannot read it: {exc.strerror}", source=str(path)) from exc
    except (ValueError, ValidationError) as exc:
        raise SpecError(f"unreadable summary: {_first_line(exc)}", source=str(path)) from exc
    # Written before runs had a score: it is derived from the steps, so derive it.
    return run if run.score is not None else run.model_copy(update={"score": score_steps(run.steps)})


def _not_older(path: Path, than: Path) -> bool:
    try:
        return path.stat().st_mtime >= than.stat().st_mtime
    except OSError:
        return False


def _first_line(exc: Exception) -> str:
    """The first problem, in a line: a field path for a model that does not fit, a missing key's name."""
    if isinstance(exc, ValidationError) and exc.errors():
        error = exc.errors()[0]
        return f"{'.'.join(str(part) for part in error['loc']) or 'top level'}: {error['msg']}"
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r} field"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
