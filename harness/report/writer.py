"""Every file a run folder's results consist of, written in one place from its journal."""

from __future__ import annotations

from pathlib import Path

from harness.report.html import write_html
from harness.report.markdown import write_markdown
from harness.results import RunSummary, write_results


def write_reports(folder: Path) -> RunSummary:
    """summary.json, steps.csv, junit.xml, report.md and report.html, rebuilt from ``folder``'s journal."""
    summary = write_results(folder)
    write_markdown(summary, folder)
    write_html(summary, folder)
    return summary
