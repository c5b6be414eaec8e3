"""The WebSocket probe: a fixed set of viewers per path, so delivery has enough samples by construction.

Locust's viewers come and go with the ramp, and at a few users a short
window holds too few pushes to decide a p95. This probe holds
``pool_size`` dashboard connections on the websocket link and as many on its
control proxy, each in its own thread, for the whole run; every push is a
sample (receive time − the server's ``sent_at``), and lost, duplicated or
out-of-order ``seq`` numbers, timeouts and disconnects are errors, as for
Locust's viewers. Plain blocking websocket-client: this runs in its own
probe process, never under gevent.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import websocket

from harness.contract import ProbeSettings, SamplePath
from locustfiles.sequence import SequenceTracker

DASHBOARDS = 10
POLL_S = 1.0  # how often a quiet receive looks at the stop flag
SILENCE_S = 5.0  # no push for this long is a stalled connection: count it and reconnect


class ViewerProbe:
    tier = "websocket"
    # Handshake headers ("Name: value"): the project's auth hook's, when it names one (locustfiles.hooks).
    headers: list[str] = []

    def __init__(self, addresses: dict[SamplePath, str], settings: ProbeSettings) -> None:
        self.addresses = addresses
        self.settings = settings

    def run(self, sink: Any, stop: threading.Event) -> None:
        viewers = [
            threading.Thread(target=self._watch, args=(path, url, number, sink, stop), daemon=True,
                             name=f"viewer-{path}-{number}")
            for path, url in self.addresses.items() for number in range(self.settings.pool_size)
        ]
        for viewer in viewers:
            viewer.start()
        for viewer in viewers:
            viewer.join()

    def _watch(self, path: SamplePath, base: str, number: int, sink: Any, stop: threading.Event) -> None:
        url = f"{base}/ws/dashboards/{number % DASHBOARDS + 1}"
        while not stop.is_set():
            started = time.time()
            try:
                sock = websocket.create_connection(url, timeout=SILENCE_S, header=self.headers or None)
            except (OSError, websocket.WebSocketException) as exc:
                _fire(sink, "connect", (time.time() - started) * 1000, exc, started, path)
                stop.wait(1.0)
                continue
            try:
                self._receive(sock, path, sink, stop)
            finally:
                sock.close()

    def _receive(self, sock: websocket.WebSocket, path: SamplePath, sink: Any, stop: threading.Event) -> None:
        sock.settimeout(POLL_S)
        tracker = SequenceTracker()
        last = time.monotonic()
        while not stop.is_set():
            try:
                frame = sock.recv()
            except websocket.WebSocketTimeoutException:
                if time.monotonic() - last < SILENCE_S:
                    continue
                _fire(sink, "timeout", 0, TimeoutError(f"no push for {SILENCE_S:g} s"), time.time(), path)
                return
            except (OSError, websocket.WebSocketException) as exc:
                _fire(sink, "disconnected", 0, exc, time.time(), path)
                return
            received = time.time()
            last = time.monotonic()
            if not frame:
                _fire(sink, "disconnected", 0, ConnectionError("closed by the server"), received, path)
                return
            try:
                message = json.loads(frame)
                seq, sent_at = int(message["seq"]), float(message["sent_at"])
            except (ValueError, KeyError, TypeError) as exc:
                _fire(sink, "malformed", 0, exc, received, path)
                continue
            for defect in tracker.observe(seq):
                _fire(sink, defect, 0, ConnectionError(f"{defect} around seq {seq}"), received, path)
            _fire(sink, "delivery", (received - sent_at) * 1000, None, sent_at, path)


def _fire(sink: Any, name: str, response_time: float, exception: BaseException | None, start_time: float,
          path: SamplePath) -> None:
    sink(request_type="websocket", name=name, response_time=response_time, response_length=0,
         exception=exception, start_time=start_time, context={"path": path})
