"""The control page in Debian's headless Chromium, against a real game day on the local stack.

Open the page, add a latency fault from its form, see it listed (and in the
real Toxiproxy), update it in place, see the ClickHouse latency rise in the
live numbers, press "stop all faults", see it gone (from the page and from
Toxiproxy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.integration.conftest import missing, require_local_stack_programs
from tests.integration.gameday_session import WAIT_S, Session, running_session, wait_for

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ADDED_MS = 200
INJECTED_MS = 400  # after the update
LATENCY = "ff-clickhouse-latency-downstream"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    require_local_stack_programs()
    with running_session(tmp_path_factory.mktemp("gameday-page"), "--users", "3") as running:
        yield running


def live_ms(text: str) -> float | None:
    match = re.match(r"([\d.e+]+) ms", text.strip())
    return float(match.group(1)) if match else None


def test_the_page_adds_a_fault_shows_its_effect_and_stops_all(session: Session) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing("the playwright package is not installed")
    import os

    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is not installed (Debian's chromium package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(session.url + "/")
            expect(page.locator("#conn")).to_have_text("live", timeout=30_000)
            baseline = wait_for("a live ClickHouse p50 on the page",
                                lambda: live_ms(page.locator("#tier-clickhouse .p50").inner_text()))

            page.select_option("#fault-link", "clickhouse")
            page.select_option("#fault-type", "latency")
            page.fill("input[name='setting-latency_ms']", str(ADDED_MS))
            page.click("#add-fault")
            added = page.locator(".fault", has_text=f"clickhouse latency {ADDED_MS} ms downstream")
            expect(added).to_be_visible(timeout=30_000)
            expect(added.locator(".countdown")).to_contain_text("reverts in")
            assert session.toxics()[LATENCY]["attributes"]["latency"] == ADDED_MS

            added.locator("button", has_text="Edit").click()
            page.fill("input[name='setting-latency_ms']", str(INJECTED_MS))
            page.click("#add-fault")
            listed = page.locator(".fault", has_text=f"clickhouse latency {INJECTED_MS} ms downstream")
            expect(listed).to_be_visible(timeout=30_000)
            expect(page.locator(".fault")).to_have_count(1)
            assert session.toxics()[LATENCY]["attributes"]["latency"] == INJECTED_MS

            # The live numbers follow without a reload: p50 rises by about the injected latency.
            risen = wait_for("the page's ClickHouse p50 to rise",
                             lambda: (value := live_ms(page.locator("#tier-clickhouse .p50").inner_text())) is not None
                             and value >= baseline + INJECTED_MS * 0.8 and value, WAIT_S)
            assert risen >= baseline + INJECTED_MS * 0.8

            page.click("#stop-all")
            expect(page.locator(".fault")).to_have_count(0, timeout=30_000)
            expect(page.locator("#faults")).to_contain_text("none")
            assert session.toxics() == {}
            timeline = page.locator("#timeline").inner_text()
            assert f"clickhouse latency {ADDED_MS} ms downstream added" in timeline
            assert f"clickhouse latency {ADDED_MS} ms downstream → latency {INJECTED_MS} ms" in timeline
            assert "stop all faults: 1 removed" in timeline
            assert errors == []
        finally:
            browser.close()
