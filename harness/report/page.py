"""HTML building blocks of report.html: escaping, tables, sections, and the page shell with its style.

No template engine and nothing fetched: the page is a handful of elements
around inline SVG charts, and its CSS is written here once. Every text that
comes from a run goes through ``esc``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from harness.report.charts.style import FAIL_COLOUR, INCONCLUSIVE_COLOUR, NO_DATA_COLOUR, PASS_COLOUR

VERDICT_COLOURS = {"pass": PASS_COLOUR, "fail": FAIL_COLOUR, "inconclusive": INCONCLUSIVE_COLOUR,
                   "no-data": NO_DATA_COLOUR, "incomplete": NO_DATA_COLOUR}

CSS = f"""
:root {{ --ink: #1a1a1a; --muted: #555; --rule: #d0d0d0; --wash: #f5f5f5; }}
* {{ box-sizing: border-box; }}
body {{ font: 14px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       max-width: 1000px; margin: 0 auto; padding: 16px 20px 48px; }}
h1 {{ font-size: 22px; margin: 0 0 6px; }}
h2 {{ font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 3px; }}
h3 {{ font-size: 15px; margin: 18px 0 6px; }}
p, ul {{ margin: 6px 0; }}
.lead {{ display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; margin: 6px 0 10px; }}
.verdict {{ font-size: 20px; font-weight: bold; padding: 4px 12px; border-radius: 4px; color: #fff; }}
.verdict.pass {{ background: {PASS_COLOUR}; }} .verdict.fail {{ background: {FAIL_COLOUR}; }}
.verdict.inconclusive {{ background: {INCONCLUSIVE_COLOUR}; color: #000; }}
.verdict.incomplete, .verdict.no-data {{ background: #666; }}
.score {{ font-size: 18px; font-weight: bold; }}
.meta {{ color: var(--muted); font-size: 13px; }}
.banner {{ border-left: 6px solid {FAIL_COLOUR}; background: #fdf0e8; padding: 8px 12px; margin: 8px 0; }}
.note {{ border-left: 6px solid {INCONCLUSIVE_COLOUR}; background: #fff8e6; padding: 6px 12px; margin: 6px 0; }}
.missing {{ color: var(--muted); font-style: italic; }}
figure {{ margin: 10px 0 14px; page-break-inside: avoid; break-inside: avoid; }}
figure svg {{ width: 100%; height: auto; display: block; }}
figcaption {{ color: var(--muted); font-size: 12px; }}
table {{ border-collapse: collapse; margin: 8px 0 14px; font-size: 12px; width: 100%; }}
th, td {{ border: 1px solid var(--rule); padding: 3px 6px; text-align: left; vertical-align: top; }}
th {{ background: var(--wash); }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.v {{ font-weight: bold; white-space: nowrap; }}
.v.pass {{ color: {PASS_COLOUR}; }} .v.fail {{ color: {FAIL_COLOUR}; }}
.v.inconclusive {{ color: #9a6500; }} .v.no-data {{ color: var(--muted); }}
nav {{ font-size: 12px; color: var(--muted); margin: 4px 0 8px; }}
nav a {{ color: inherit; margin-right: 10px; }}
details pre {{ background: var(--wash); padding: 8px; overflow-x: auto; font-size: 12px; }}
@media print {{ body {{ max-width: none; padding: 0; }} nav {{ display: none; }}
  h2 {{ page-break-after: avoid; break-after: avoid; }} }}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def verdict_tag(verdict: str, cause: str | None = None) -> str:
    """A verdict in words and colour (never colour alone: a printed report may be grey)."""
    words = verdict + (f" ({cause})" if cause else "")
    return f'<span class="v {esc(verdict)}">{esc(words)}</span>'


def number(value: float | None, unit: str = "", digits: str = ".3g") -> str:
    return "–" if value is None else f"{value:{digits}}{unit}"


class Cell:
    """A table cell: text (escaped) or trusted markup, right-aligned when numeric."""

    def __init__(self, content: object, numeric: bool = False, markup: bool = False) -> None:
        self.html = str(content) if markup else esc(content)
        self.numeric = numeric


def table(header: Sequence[str], rows: Iterable[Sequence[object]], caption: str | None = None) -> str:
    head = "".join(f"<th>{esc(name)}</th>" for name in header)
    body = []
    for row in rows:
        cells = []
        for value in row:
            cell = value if isinstance(value, Cell) else Cell(value, numeric=isinstance(value, int | float))
            cells.append(f'<td class="num">{cell.html}</td>' if cell.numeric else f"<td>{cell.html}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption_html = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{caption_html}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def paragraph(text: str, css: str | None = None) -> str:
    return f'<p class="{css}">{esc(text)}</p>' if css else f"<p>{esc(text)}</p>"


def bullets(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in items) + "</ul>"


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def document(title: str, header: str, nav: list[tuple[str, str]], sections: list[str]) -> str:
    links = "".join(f'<a href="#{esc(anchor)}">{esc(name)}</a>' for anchor, name in nav)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header>{header}</header><nav>{links}</nav>{''.join(sections)}</body></html>\n")
