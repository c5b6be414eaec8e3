"""The bench's results: ``<UTC stamp>.json`` and ``latest.json``, and the table on the console."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Row = tuple[str, str, str]  # what, measured, goal


def write(results: dict[str, Any], folder: Path, stamp: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    path = folder / f"{stamp}.json"
    path.write_text(text)
    # A copy, not a link: latest.json stays readable wherever the folder is copied to.
    partial = folder / "latest.json.tmp"
    partial.write_text(text)
    partial.replace(folder / "latest.json")
    return path


def table(results: dict[str, Any], measurements: Sequence[tuple[str, Callable[[dict[str, Any]], list[Row]]]],
          console: Console) -> None:
    machine = results.get("machine", {})
    grid = Table(title=f"make bench · {machine.get('cores')} cores · {machine.get('model')} · "
                       f"locust {machine.get('locust')} · {results.get('duration_s', 0):.0f} s")
    for column in ("measurement", "measured", "goal"):
        grid.add_column(column)
    for name, rows in measurements:
        result = results.get(name)
        if result is None:
            continue
        if "error" in result:
            grid.add_row(name, f"[red]not measured: {result['error'].splitlines()[0]}[/]", "")
            continue
        for row in rows(result):
            grid.add_row(*row)
    console.print(grid)
