"""The Go WebSocket broadcast server of scripts/bench/wsbroadcast: built on demand, run pinned.

Go, so that pushing to thousands of connections costs the server little and
the Locust process under test is what gives out first. Its ``/stats`` counts
the frames it sent, which the bench holds against the frames Locust received.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.bench.children import TARGET_CORE, child, pinned, running
from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.stack.binaries import REPO_ROOT, TOOLS_BIN
from harness.stack.ports import LOOPBACK, free_port
from harness.stack.process import ManagedProcess
from harness.stack.readiness import HttpCheck, wait_ready

SOURCE = REPO_ROOT / "scripts" / "bench" / "wsbroadcast"
BINARY = TOOLS_BIN / "wsbroadcast"


def ensure_built() -> None:
    """``go build`` into .tools/bin unless the binary is newer than every source file."""
    sources = [SOURCE / name for name in ("main.go", "go.mod", "go.sum")]
    if BINARY.is_file() and all(BINARY.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go is None:
        raise BenchError("Go not found: install Go (>= 1.22) to build scripts/bench/wsbroadcast")
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    built = subprocess.run([go, "build", "-o", str(BINARY), "."], cwd=SOURCE, capture_output=True, text=True,
                           timeout=600)
    if built.returncode != 0:
        raise BenchError(f"go build of {SOURCE} failed:\n{(built.stdout + built.stderr)[-2000:]}")


@dataclass(frozen=True)
class BroadcastServer:
    url: str  # ws://127.0.0.1:PORT, the DashboardViewer's websocket_url
    stats_url: str
    process: ManagedProcess

    def stats(self) -> dict[str, int]:
        """{"connected": open connections, "sent": frames sent since start}."""
        try:
            with urllib.request.urlopen(self.stats_url, timeout=5.0) as answer:  # noqa: S310 - loopback
                return {k: int(v) for k, v in json.loads(answer.read()).items()}
        except (OSError, ValueError) as exc:
            raise BenchError(f"wsbroadcast at {self.stats_url} did not answer: {exc}") from exc


@contextmanager
def broadcast_server(ctx: BenchContext, push_hz: float) -> Iterator[BroadcastServer]:
    ensure_built()
    port = free_port()
    argv = pinned(TARGET_CORE, [str(BINARY), "-addr", f"{LOOPBACK}:{port}", "-hz", str(push_hz)])
    with running(child(ctx, "wsbroadcast", argv, ctx.folder("logs"))) as process:
        server = BroadcastServer(f"ws://{LOOPBACK}:{port}", f"http://{LOOPBACK}:{port}/stats", process)
        wait_ready("wsbroadcast", HttpCheck(server.stats_url), 15.0, process)
        yield server
