"""Commands that read run folders: ``report``."""

from __future__ import annotations

from pathlib import Path

import click

from harness.errors import SpecError


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(run_dir: Path) -> None:
    """Rebuild summary.json, steps.csv, junit.xml and report.md from RUN_DIR's journal."""
    from harness.report.writer import write_reports

    if not (run_dir / "journal.jsonl").is_file():
        raise SpecError(f"{run_dir} has no journal.jsonl: not a run folder")
    try:
        write_reports(run_dir)
    except ValueError as exc:
        raise SpecError(str(exc)) from exc
    click.echo(run_dir / "report.md")


COMMANDS = [report]
