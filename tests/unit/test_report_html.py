"""harness.report.html: report.html from synthetic runs, whole, cut anywhere, and of a game day.

What a reader checks: the verdict (and score) before anything else, each
section there, each SLO line labelled, the numbers in the tables, and a
report that still renders, saying what is missing, from a broken journal.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.bench.synthetic_run import write_synthetic_run
from harness.recovery import Cell, Recovery, TierRecovery
from harness.report.context import read_context
from harness.report.html import render_html
from harness.report.writer import write_reports
from harness.results import RunSummary
from harness.search import SearchResult, Window
from harness.slo import Verdict
from tests.unit.test_results import _stopped_run

SECTIONS = ["breaking-points", "tiers", "timeline", "faults", "websocket", "host", "what-ran"]


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five 20 s steps, ClickHouse latency rising, finished: every section has something to show."""
    folder = write_synthetic_run(tmp_path_factory.mktemp("whole") / "run", steps=5, step_s=20, settle_s=5)
    write_reports(folder)
    return folder


def _html(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def _section(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def _summary(folder: Path) -> RunSummary:
    return RunSummary.model_validate(json.loads((folder / "summary.json").read_text()))


def test_the_verdict_and_score_come_first_then_every_section_in_order(whole: Path) -> None:
    html = _html(whole)
    summary = _summary(whole)
    verdict = html.index(f"Verdict: {summary.verdict.value.upper()}")
    assert verdict < html.index("Resilience score: ") < html.index("<svg")
    assert html.index("<h1>Resilience report: synthetic-clickhouse-latency</h1>") < verdict
    positions = [html.index(f'<section id="{anchor}">') for anchor in SECTIONS]
    assert positions == sorted(positions)
    assert "could not be drawn" not in html
    assert "Partial run" not in html


def test_each_slo_gets_its_breaking_point_and_cause_in_a_sentence(whole: Path) -> None:
    from harness.report.sentences import breaking_points, holding_sentences

    summary = _summary(whole)
    breaking = _section(_html(whole), "breaking-points")
    said = breaking_points(summary) + holding_sentences(summary)
    assert {sentence.split(" ")[0] for sentence in said} == {"redis", "materialize", "clickhouse", "websocket", "http"}
    for sentence in said:
        assert sentence.replace("<", "&lt;") in breaking
    first_fail = next(s for s in summary.steps if s.slo["redis"] == Verdict.FAIL)
    assert f"redis (p99 &lt; 1 ms) breaks at step {first_fail.index}" in breaking
    assert "clickhouse (p95 &lt; 500 ms) holds in every step judged, up to 100 users" in breaking


def test_each_tier_has_its_chart_with_the_slo_line_labelled(whole: Path) -> None:
    tiers = _section(_html(whole), "tiers")
    charts = re.findall(r'<svg role="img" aria-label="([^"]*)"', tiers)
    # The faulted link's tier first: it is what the run is about.
    assert [label.split(":")[0] for label in charts] == ["clickhouse", "redis", "materialize", "websocket", "http"]
    for label in ("SLO p95 &lt; 500 ms", "SLO p99 &lt; 1 ms", "SLO p99 &lt; 10 ms", "SLO p95 &lt; 200 ms",
                  "SLO errors &lt; 1.0%"):
        assert label in tiers, label
    assert "control path (same store, no toxic)" in tiers
    assert "latency (ms)" in tiers  # the axis says its unit


@pytest.mark.parametrize(("values", "log"), [
    ([0.4, 1.2, 2.0], False),  # Redis alone: one order of magnitude at most, linear reads best
    ([0.4, 2.0, 45.0, 520.0], True),  # sub-millisecond beside half a second: log, or the small ones flatten
    ([None, 5.0, None], False),
    ([0.0, 3.0], False),  # zero cannot be on a log axis; it does not force one
    ([], False),
])
def test_log_scale_only_where_latencies_span_orders_of_magnitude(values: list[float | None], log: bool) -> None:
    from harness.report.charts.axes import wants_log

    assert wants_log(values) is log


def test_the_tables_hold_the_recorded_values(whole: Path) -> None:
    html = _html(whole)
    summary = _summary(whole)
    step = summary.steps[2]
    clickhouse = step.tiers["clickhouse"]
    tiers = _section(html, "tiers")
    row = re.search(rf"<tr><td class=\"num\">3</td><td class=\"num\">{step.users}</td><td>clickhouse latency 50 ms "
                    rf"downstream</td>(.*?)</tr>", tiers)
    assert row, "step 3's ClickHouse row"
    assert f">{clickhouse.p95_ms:.3g}<" in row.group(1)
    assert f">{clickhouse.p99_ms:.3g}<" in row.group(1)
    assert f'class="v {step.slo["clickhouse"].value}"' in row.group(1)
    faults = _section(html, "faults")
    assert "clickhouse latency 50 ms downstream" in faults
    assert f"{step.links['clickhouse'].effective_added_ms:+.3g} ms" in faults
    websocket = _section(html, "websocket")
    assert "<th>lost</th>" in websocket and "<th>out of order</th>" in websocket
    what_ran = _section(html, "what-ran")
    assert "PostgreSQL stands in for Materialize" in what_ran
    assert "2.12.0" in what_ran and "experiment.yaml" in what_ran


def test_the_timeline_draws_live_windows_and_lists_each_toxic_change(whole: Path) -> None:
    timeline = _section(_html(whole), "timeline")
    assert "Timeline: latency per tier over time" in timeline
    assert "holds no live windows" not in timeline
    assert "step 2: +clickhouse latency 25 ms downstream" in timeline
    assert "step 3: clickhouse latency 50 ms downstream (updated)" in timeline
    assert "faults removed: ff-clickhouse-latency-downstream" in timeline


def _lines(folder: Path) -> list[str]:
    return (folder / "journal.jsonl").read_text().splitlines(keepends=True)


def _first(lines: list[str], event: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(f'{{"event": "{event}"'))


CUTS = {
    # name: how many journal lines survive the kill (computed from the whole journal's lines)
    "after run-start": lambda lines: 1,
    "after stack-up": lambda lines: 2,
    "inside step 1 (live windows, no record)": lambda lines: _first(lines, "step") - 1,
    "after step 2's record": lambda lines: [i for i, line in enumerate(lines) if '"event": "step"' in line][1] + 1,
    "before run-end": lambda lines: len(lines) - 1,
}


@pytest.mark.parametrize("cut", CUTS, ids=list(CUTS))
def test_a_journal_cut_anywhere_still_renders_and_says_so(whole: Path, tmp_path: Path, cut: str) -> None:
    folder = tmp_path / "run"
    shutil.copytree(whole, folder)
    lines = _lines(whole)
    kept = CUTS[cut](lines)
    (folder / "journal.jsonl").write_text("".join(lines[:kept]) + lines[kept][: len(lines[kept]) // 2])  # torn
    write_reports(folder)
    html = _html(folder)
    assert html.index("Verdict: INCOMPLETE") < html.index("</header>")
    assert "Partial run:" in html and "interrupted: the run ended without closing its journal" in html
    assert "could not be drawn" not in html
    steps = len(_summary(folder).steps)
    if steps == 0:
        assert "No step completed: nothing was judged" in html
        assert '<section id="tiers">' not in html
    else:
        assert f"Last step recorded: step {steps}" in html
        assert '<section id="tiers">' in html


def test_a_stopped_run_says_where_and_why_in_a_banner(tmp_path: Path) -> None:
    folder = _stopped_run(tmp_path)
    write_reports(folder)
    header = _html(folder).split("</header>")[0]
    assert "<strong>Partial run:</strong> 2 of 3 steps completed (aborted: stopped early: stop_when.0" in header
    assert "Last step recorded: step 2 (10 users)." in header
    assert "<strong>Stopped by stop_when.0:</strong> clickhouse p95 above 3000 ms for 10 s" in header
    html = _html(folder)
    incidents = _section(html, "incidents")
    assert "Toxiproxy unusable for 11.5 s" in incidents and "redis died (killed by SIGKILL)" in incidents
    # This journal predates slo_bounds and live windows: no SLO number, points per step window instead.
    assert "each point is a whole step&#x27;s window" in _section(html, "timeline")


def test_a_tier_without_samples_and_missing_percentiles_are_said_not_drawn(whole: Path) -> None:
    summary = _summary(whole)
    steps = []
    for step in summary.steps:
        tiers = {tier: result for tier, result in step.tiers.items() if tier != "redis"}
        websocket = tiers["websocket"].model_copy(update={"p95_ms": None, "p99_ms": None, "ci_ms": None})
        steps.append(step.model_copy(update={"tiers": {**tiers, "websocket": websocket},
                                             "slo": {**step.slo, "redis": Verdict.NO_DATA}}))
    ctx = read_context(summary.model_copy(update={"steps": steps}), whole)
    html = render_html(ctx)
    assert "No redis samples in any step: its chart is left out." in html.split("</header>")[0]
    assert "No redis samples in any step: nothing to draw." in _section(html, "tiers")
    assert "could not be drawn" not in html


def test_no_score_no_score_line(whole: Path) -> None:
    summary = _summary(whole)
    html = render_html(read_context(summary.model_copy(update={"score": None}), whole))
    assert "Resilience score" not in html
    assert "Verdict: " in html


def test_surface_search_and_recovery_get_their_sections(whole: Path) -> None:
    summary = _summary(whole)
    cells = [Cell(users=users, level=level, step=i, toxics=[] if level == 0 else [f"clickhouse latency {level} ms"],
                  tiers={"clickhouse": {"p95_ms": 40.0 + level * 1.5 + users, "verdict": "pass" if level < 300 else "fail"}})
             for i, (users, level) in enumerate([(u, lv) for lv in (0, 100, 400) for u in (5, 50)], start=1)]
    search = SearchResult(tier="clickhouse", slo="p95 < 500 ms", link="clickhouse", type="latency",
                          field="latency_ms", users=25, tolerance=25, holds_at=400, breaks_at=450,
                          breaking_point=425, outcome="found",
                          windows=[Window(step=1, magnitude=800, verdict=Verdict.FAIL, value_ms=880),
                                   Window(step=2, magnitude=0, verdict=Verdict.PASS, value_ms=45),
                                   Window(step=3, magnitude=400, verdict=Verdict.PASS, value_ms=470),
                                   Window(step=4, magnitude=450, verdict=Verdict.FAIL, value_ms=520)])
    recovery = [Recovery(users=25, fault_step=2, fault=["clickhouse latency 400 ms"], watched_s=30,
                         tiers={"clickhouse": TierRecovery(broke=True, recovery_s=6, resolution_s=3)})]
    changed = summary.model_copy(update={"surface": cells, "search": search.model_dump(mode="json"),
                                         "recovery": recovery})
    html = render_html(read_context(changed, whole))
    surface = _section(html, "surface")
    assert "Surface: users × fault level" in surface and "<svg" in surface
    # Each cell's judged percentile in the table: 40 + level × 1.5 + users.
    assert '<td class="num">45</td><td><span class="v pass">' in surface
    assert '<td class="num">690</td><td><span class="v fail">' in surface
    found = _section(html, "search")
    assert "clickhouse (p95 &lt; 500 ms) breaks at latency ≈ 425 ms" in found and "<svg" in found
    assert "6 s (±3 s)" in _section(html, "recovery")


def test_a_game_day_opens_with_its_timeline_and_lists_every_marker(tmp_path: Path) -> None:
    whole = write_synthetic_run(tmp_path / "source", steps=2, step_s=20, settle_s=5)
    lines = [json.loads(line) for line in _lines(whole)]
    start = lines[0] | {"schedule": "gameday", "planned_steps": 0, "plan": {"experiment": "gameday", "steps": []}}
    live = [line for line in lines if line["event"] == "live"]
    at = live[3]["at"]
    markers = [{"event": "annotation", "at": at, "marker": "Ana: dashboards go grey"},
               {"event": "fault", "at": at + 1, "marker": "clickhouse latency 300 ms added", "link": "clickhouse"},
               {"event": "link", "at": at + 9, "marker": "materialize link down"},
               {"event": "revert", "at": at + 20, "marker": "automatic revert: stop-all"}]
    folder = tmp_path / "gameday"
    folder.mkdir()
    journal = [start, lines[1], *live[:3], markers[0], markers[1], *live[3:8], *markers[2:], *live[8:],
               {"event": "run-end", "at": live[-1]["at"] + 1, "status": "completed", "reason": None}]
    (folder / "journal.jsonl").write_text("".join(json.dumps(line) + "\n" for line in journal))
    write_reports(folder)
    html = _html(folder)
    first = re.search(r'<section id="([^"]+)">', html)
    assert first and first.group(1) == "timeline"
    timeline = _section(html, "timeline")
    assert "<svg" in timeline
    for marker in markers:
        assert marker["marker"] in timeline
    assert '<section id="tiers">' not in html and "could not be drawn" not in html
    assert "game day" in html.split("</header>")[0]


def test_charts_are_inline_svg_in_the_report_style_with_ids_of_their_own(whole: Path) -> None:
    html = _html(whole)
    assert "<script" not in html and "<link" not in html and " src=" not in html  # nothing fetched, nothing run
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(charts) == 7  # five tiers, the timeline, the host
    # Drawn with the style's rcParams active: no matplotlib default size (10 px) slipped through.
    sizes = {float(size) for chart in charts for size in re.findall(r"font-size: ([\d.]+)px", chart)}
    assert sizes and min(sizes) >= 6 and max(sizes) <= 9.6
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "two charts share an id"
    references = set(re.findall(r'url\(#([^)]+)\)', html)) | set(re.findall(r'href="#([^"]+)"', html))
    assert references <= set(ids)


def test_an_event_that_does_not_parse_is_left_out_and_counted(whole: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(whole, folder)
    lines = _lines(whole)
    at = json.loads(lines[-1])["at"]
    broken = [{"event": "live", "at": at, "window": [at - 5, at], "tiers": {"redis": {"count": "many"}}},
              {"event": "toxics", "at": at, "step": 9, "changes": [{"kind": "add"}]}]
    (folder / "journal.jsonl").write_text("".join(lines[:-1]) + "".join(json.dumps(b) + "\n" for b in broken)
                                          + lines[-1])
    write_reports(folder)
    html = _html(folder)
    assert "2 journal events could not be read and are left out of the timeline" in html.split("</header>")[0]
    assert "could not be drawn" not in html and "<svg" in _section(html, "timeline")
