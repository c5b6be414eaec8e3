"""locustfiles/flowforge.py run on its own, as plain Locust: WebSocket viewers go where --host points.

A real WebSocket server on a free loopback port stands in for the backend;
the locustfile is started with ``--host`` naming it and no FF_WEBSOCKET_URL.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.integration.shortrun import ROOT

pytestmark = pytest.mark.integration


class ViewerServer:
    """Accepts dashboard WebSockets and notes each path it was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(self._viewer, "127.0.0.1", 0) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    async def _viewer(self, connection: ServerConnection) -> None:
        self.paths.append(connection.request.path if connection.request else "")
        await connection.wait_closed()

    def __enter__(self) -> ViewerServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(timeout=10)


@pytest.fixture
def viewer_server() -> Iterator[ViewerServer]:
    with ViewerServer() as server:
        yield server


def test_viewers_connect_to_the_host_given_on_the_command_line(viewer_server: ViewerServer) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FF_", "FLOWFORGE_"))}
    locust = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", "locustfiles/flowforge.py", "--headless", "--only-summary",
         "--host", f"http://127.0.0.1:{viewer_server.port}", "--exit-code-on-error", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = 30
        while not viewer_server.paths and deadline > 0 and locust.poll() is None:
            threading.Event().wait(0.5)
            deadline -= 0.5
    finally:
        locust.terminate()
        output, _ = locust.communicate(timeout=30)
    assert viewer_server.paths, f"no viewer reached --host:\n{output[-3000:]}"
    assert all(path.startswith("/ws/dashboards/") for path in viewer_server.paths)
