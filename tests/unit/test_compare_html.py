"""compare.html opened in a real headless chromium: no console errors, the verdict, the charts and the table."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from harness.compare import compare_runs
from harness.report.compare_html import charted_percentile, render_compare_html, write_compare_html
from tests.unit.synthetic_runs import BASELINE_STEPS, FAIL, PASS, SLOS, latency, measured, step, summary_of, write_run

CHROMIUM = "/usr/bin/chromium"
WORSE_STEPS = [
    *BASELINE_STEPS[:2],
    step(3, 10, {"redis": FAIL, "clickhouse": FAIL},
         {"redis": measured(0.5, 1.2, 2.5), "clickhouse": measured(300, 560, 700)}, [latency(200)]),
    step(4, 25, {"redis": PASS, "clickhouse": PASS},
         {"redis": measured(0.3, 0.5, 0.7), "clickhouse": measured(45, 60, 90)}),
]


@pytest.mark.parametrize(
    ("slo", "charted"),
    [
        ("p99 < 1 ms", ("p99", 1.0)),
        ("p95 < 500 ms", ("p95", 500.0)),
        ("p95 < 200 ms, errors < 1.0%", ("p95", 200.0)),
        ("p99.9 < 5 ms, p50 < 2 ms", ("p50", 2.0)),  # p99.9 is not among the compared percentiles
        ("errors < 1.0%", ("p99", None)),
        ("", ("p99", None)),
    ],
)
def test_charted_percentile(slo: str, charted: tuple[str, float | None]) -> None:
    assert charted_percentile(slo) == charted


def test_text_from_runs_is_escaped(tmp_path: Path) -> None:
    a = summary_of(write_run(tmp_path / "a", BASELINE_STEPS, experiment="<script>alert(1)</script>"))
    page = render_compare_html(compare_runs(a, a), SLOS)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_runs_without_steps_still_make_a_page(tmp_path: Path) -> None:
    a = summary_of(write_run(tmp_path / "a", [], status="failed", planned=3))
    page = render_compare_html(compare_runs(a, a), SLOS)
    assert "no step of either run measured a percentile" in page
    assert "NO REGRESSION" in page and "score: none → none" in page


def test_compare_html_in_chromium(tmp_path: Path) -> None:
    a = summary_of(write_run(tmp_path / "a", BASELINE_STEPS))
    b = summary_of(write_run(tmp_path / "b", WORSE_STEPS, planned=4))
    path = write_compare_html(compare_runs(a, b), SLOS, tmp_path / "b" / "compare.html")
    assert 'src="http' not in path.read_text() and 'href="http' not in path.read_text()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            messages: list[str] = []
            page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")

            assert [m for m in messages if m.startswith(("error", "pageerror", "warning"))] == []
            assert requests == [path.as_uri()]  # one self-contained file
            assert page.locator(".verdict").inner_text() == "REGRESSED"
            assert "REGRESSED: 2 verdicts got worse: step 3 clickhouse: pass → fail; step 3 redis: " \
                   "inconclusive → fail" in page.locator("#verdict").inner_text()
            assert page.locator(".score").inner_text().startswith("score: 100/100 → ")
            assert "run A has no step 4" in page.locator("#plans").inner_text()

            charts = page.locator("#charts figure svg")
            assert charts.count() == 2
            labels = [charts.nth(i).get_attribute("aria-label") or "" for i in range(charts.count())]
            assert labels == ["clickhouse p95 latency per step, run A (dashed) and run B (solid)",
                              "redis p99 latency per step, run A (dashed) and run B (solid)"]
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 500 and box["height"] > 100  # drawn, not collapsed
            assert "SLO p95 < 500 ms" in (charts.nth(0).text_content() or "")  # the bound is labelled in the chart

            rows = page.locator("#changes tbody tr")
            assert rows.count() == 8  # 4 steps × 2 tiers
            regressed = page.locator("#changes .change.worse")
            assert regressed.count() == 2
            first = rows.nth(4).locator("td")
            assert [first.nth(i).inner_text() for i in (0, 1, 3, 4, 5)] == ["3", "10", "clickhouse", "pass → fail",
                                                                            "regressed"]
            assert first.nth(7).inner_text() == "300 → 560 (+87%)"
            assert rows.nth(6).locator("td").nth(5).inner_text() == "not compared"  # step 4 only in B
            page.screenshot(path=str(path.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    assert path.with_suffix(".png").stat().st_size > 10_000
