"""Commands that read run folders: ``report``, ``compare``, ``history``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.errors import SpecError

if TYPE_CHECKING:
    from harness.compare import Comparison
    from harness.results import RunSummary


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(run_dir: Path) -> None:
    """Rebuild summary.json, steps.csv, junit.xml, report.md and report.html from RUN_DIR's journal.

    Prints report.md's path, then report.html's.
    """
    from harness.report.writer import write_reports

    if not (run_dir / "journal.jsonl").is_file():
        raise SpecError(f"{run_dir} has no journal.jsonl: not a run folder")
    try:
        write_reports(run_dir)
    except ValueError as exc:
        raise SpecError(str(exc)) from exc
    click.echo(run_dir / "report.md")
    click.echo(run_dir / "report.html")


@click.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the HTML comparison  [default: RUN_B/compare.html]")
@click.option("--strict", is_flag=True, help="A verdict that went from pass to inconclusive regresses too.")
def compare(run_a: Path, run_b: Path, output: Path | None, strict: bool) -> None:
    """Compare run RUN_B with run RUN_A (the baseline), step by step and tier by tier.

    Exits 1 when a verdict regressed to fail (with --strict, also pass →
    inconclusive; no-data is never compared), 0 otherwise, 2 when a folder is
    not a readable run.
    """
    from harness.cli import EXIT_OK, EXIT_SLO_FAILED
    from harness.run_folder import read_run

    before, after = read_run(run_a), read_run(run_b)
    comparison = show_comparison(before, after, output or run_b / "compare.html", strict)
    sys.exit(EXIT_SLO_FAILED if comparison.regressed else EXIT_OK)


def show_comparison(before: RunSummary, after: RunSummary, output: Path, strict: bool = False) -> Comparison:
    """Compare, print the table, write the HTML file; what ``compare`` and ``run --baseline`` both do."""
    from harness.compare import compare_runs
    from harness.report.compare_html import write_compare_html
    from harness.report.compare_text import comparison_lines

    comparison = compare_runs(before, after, strict)
    for line in comparison_lines(comparison):
        click.echo(line)
    try:
        write_compare_html(comparison, {**before.slos, **after.slos}, output)
    except OSError as exc:
        raise SpecError(f"cannot write the comparison: {exc.strerror}", source=str(output)) from exc
    click.echo(f"comparison: {output}")
    return comparison


@click.command()
@click.argument("experiment", required=False)
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="The folder whose run folders to list.")
def history(experiment: str | None, results_dir: Path) -> None:
    """List past runs (of EXPERIMENT, if given), newest first, with status, verdict and score."""
    from harness.history import history as past_runs
    from harness.history import history_lines

    entries = past_runs(results_dir, experiment)
    if not entries:
        of = f" of {experiment}" if experiment else ""
        click.echo(f"no runs{of} in {results_dir}" + ("" if results_dir.exists() else " (no such folder yet)"))
        return
    for line in history_lines(entries):
        click.echo(line)


COMMANDS = [report, compare, history]
