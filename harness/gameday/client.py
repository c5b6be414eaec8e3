"""The CLI's side of the control API: one request to the running session, its answer or a HarnessError.

The only place the game-day commands touch HTTP: a session that does not
answer becomes NoSession (exit 3: "no game-day session on 127.0.0.1:8090"),
a 4xx becomes a SpecError carrying the API's own message (exit 2), anything
else a HarnessError (exit 3). ``harness.cli.main`` says them.
"""

from __future__ import annotations

from typing import Any

import httpx

from harness.errors import HarnessError, SpecError

TIMEOUT_S = 70.0  # the desk waits up to 60 s for the session's answer


class NoSession(HarnessError):
    """Nothing answers on the control port."""


class ControlClient:
    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        shown = f"[{host}]" if ":" in host else host
        self.where = f"{shown}:{port}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=f"http://{self.where}", headers=headers, timeout=TIMEOUT_S)

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            answer = self._http.request(method, path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NoSession(f"no game-day session on {self.where} (start one with `harness gameday`, "
                            "or give its --control-port)") from exc
        except httpx.HTTPError as exc:
            raise HarnessError(f"the game-day session on {self.where} did not answer {method} {path}: "
                               f"{type(exc).__name__}: {exc}") from exc
        try:
            data = answer.json()
        except ValueError:
            data = {"error": answer.text.strip()[:300]}
        if not isinstance(data, dict):
            data = {"error": str(data)[:300]}
        if 400 <= answer.status_code < 500:
            raise SpecError(list(data.get("problems") or [data.get("error") or f"answered {answer.status_code}"]))
        if not answer.is_success:
            raise HarnessError(f"the game-day session on {self.where} answered {answer.status_code}: "
                               f"{data.get('error', '')}")
        return data

    def state(self) -> dict[str, Any]:
        return self.call("GET", "/api/state")
