"""FlowForge users: dashboard API clients and WebSocket dashboard viewers."""

from __future__ import annotations

import itertools
import json
import random
import time

import gevent
import websocket
from locust import FastHttpUser, User, between, constant, task

from harness.contract import in_control_group
from locustfiles.sequence import SequenceTracker

WIDGETS = 100
DASHBOARDS = 10


class WidgetUser(FastHttpUser):
    """Refreshes widgets and now and then asks for a heavier preview."""

    abstract = True  # the locustfile makes the runnable subclass
    wait_time = between(0.5, 1.5)

    @task(10)
    def widget_data(self) -> None:
        widget = random.randint(1, WIDGETS)
        self.client.get(f"/api/widgets/{widget}/data", name="/api/widgets/[id]/data")

    @task(1)
    def preview(self) -> None:
        body = {"widget_id": random.randint(1, WIDGETS), "minutes": 60}
        self.client.post("/api/widgets/preview", json=body, name="/api/widgets/preview")


class DeliveryGap(Exception):
    """Messages were lost, duplicated or came out of order on a viewer's connection."""


class DashboardViewer(User):
    """Holds one dashboard WebSocket open and measures how late each push arrives.

    Delivery latency = receive time − the server's ``sent_at`` (same host, same
    clock). A receive greenlet per connection with a timeout, never
    ``run_forever``; the request events are fired here.

    A share of the viewers (``control_share``) is the control group: they
    watch through the websocket link's control proxy, which never carries a
    toxic, and their samples are marked ``path: control``.
    """

    abstract = True
    wait_time = constant(1)
    websocket_url: str = ""
    control_url: str = ""
    control_share: float = 0.5
    receive_timeout_s = 5.0
    _numbers = itertools.count()

    def on_start(self) -> None:
        self._path = "faulted"
        if self.control_url and in_control_group(next(DashboardViewer._numbers), self.control_share):
            self._path = "control"
        self._socket: websocket.WebSocket | None = None
        self._receiver: gevent.Greenlet | None = None
        self._sequence = SequenceTracker()
        self._connect()

    def on_stop(self) -> None:
        # Stopping is not a disconnect: the receive greenlet must not report the close below.
        self._stopping = True
        if self._receiver is not None:
            self._receiver.kill(block=False)
        if self._socket is not None:
            self._socket.close()

    @task
    def watch(self) -> None:
        # The receive greenlet does the work; reconnect when it died.
        if self._receiver is None or self._receiver.dead:
            self._connect()

    def _connect(self) -> None:
        dashboard = random.randint(1, DASHBOARDS)
        base = self.control_url if self._path == "control" else self.websocket_url
        url = f"{base}/ws/dashboards/{dashboard}"
        started = time.time()
        try:
            # auth_headers: set by locustfiles.hooks when the project names an auth hook.
            self._socket = websocket.create_connection(url, timeout=self.receive_timeout_s,
                                                       header=getattr(self, "auth_headers", None) or None)
        except (OSError, websocket.WebSocketException) as exc:
            self._fire("connect", (time.time() - started) * 1000, 0, exc, started)
            return
        self._sequence = SequenceTracker()  # seq restarts with every connection
        self._receiver = gevent.spawn(self._receive, self._socket)

    def _receive(self, sock: websocket.WebSocket) -> None:
        while True:
            try:
                frame = sock.recv()
            except (OSError, websocket.WebSocketException) as exc:
                self._disconnected(exc)
                return
            received = time.time()
            if not frame:  # websocket-client returns an empty frame once the peer closed
                self._disconnected(DeliveryGap("closed by the server"))
                return
            try:
                message = json.loads(frame)
                seq, sent_at = int(message["seq"]), float(message["sent_at"])
            except (ValueError, KeyError, TypeError) as exc:
                self._fire("malformed", 0, len(frame), exc, received)
                continue
            self._check_sequence(seq, received)
            self._fire("delivery", (received - sent_at) * 1000, len(frame), None, sent_at)

    def _check_sequence(self, seq: int, received: float) -> None:
        for defect in self._sequence.observe(seq):
            self._fire(defect, 0, 0, DeliveryGap(f"{defect} around seq {seq}"), received)

    def _disconnected(self, cause: BaseException) -> None:
        if getattr(self, "_stopping", False):
            return
        now = time.time()
        self._fire("disconnected", 0, 0, cause, now)
        for defect in self._sequence.close():
            self._fire(defect, 0, 0, DeliveryGap("never arrived before the connection ended"), now)

    def _fire(self, name: str, response_time: float, length: int, exception: BaseException | None,
              start_time: float) -> None:
        self.environment.events.request.fire(
            request_type="websocket", name=name, response_time=response_time,
            response_length=length, exception=exception, context={"path": self._path}, start_time=start_time,
        )
