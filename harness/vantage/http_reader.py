"""Plain HTTP for the views that speak it (the backend's /metrics, ClickHouse).

httpx is imported here only, and its errors become VantageError naming
what was asked. ClickHouse 18.16 predates clickhouse-connect's needs, and
its HTTP interface is all the view uses anyway.
"""

from __future__ import annotations

import httpx

from harness.vantage.views import VantageError


class HttpReader:
    """One keep-alive client per view, each request bounded by ``timeout_s``."""

    def __init__(self, base_url: str, name: str, timeout_s: float) -> None:
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout_s)

    def get(self, path: str) -> str:
        return self._send("GET", path, None, {}, f"GET {path}")

    def post(self, what: str, path: str, body: str, params: dict[str, str]) -> str:
        return self._send("POST", path, body, params, what)

    def close(self) -> None:
        self._client.close()

    def _send(self, method: str, path: str, body: str | None, params: dict[str, str], what: str) -> str:
        url = self._base_url + path
        try:
            response = self._client.request(method, url, content=body, params=params)
        except httpx.HTTPError as exc:
            raise VantageError(f"{self.name} at {self._base_url}: {what} failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            first_line = (response.text.strip().splitlines() or [""])[0][:300]
            raise VantageError(f"{self.name} at {self._base_url}: {what} got HTTP {response.status_code}: {first_line}")
        return response.text
