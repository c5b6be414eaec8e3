"""The reference backend's per-tier histogram, scraped at both ends of the window.

The backend's timing includes the Toxiproxy links (it reaches every store
through them), so this view moves with the fault; the stores' own views do
not. Reading both is what separates "the store was slow" from "the path to
it was".
"""

from __future__ import annotations

from harness.vantage.http_reader import HttpReader
from harness.vantage.prometheus import TierHistogram, parse_datastore_histograms, window_views
from harness.vantage.reading import Reading


class BackendView:
    name = "backend /metrics"

    def __init__(self, backend_url: str, timeout_s: float) -> None:
        self._http = HttpReader(backend_url, self.name, timeout_s)
        self._at_start: dict[str, TierHistogram] = {}

    def start(self) -> None:
        self._at_start = parse_datastore_histograms(self._http.get("/metrics"))

    def end(self) -> Reading:
        at_end = parse_datastore_histograms(self._http.get("/metrics"))
        views, problems = window_views(self._at_start, at_end)
        return Reading(views=views, problems=problems)

    def close(self) -> None:
        self._http.close()
