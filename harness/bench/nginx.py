"""Debian's nginx serving one small static file on 127.0.0.1, from its own config in a temp folder.

The generator_ratio target: fast enough that the Locust process, not the
server, sets the pace (nginx does ~15× what one Locust core can ask for).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.bench.children import TARGET_CORE, child, pinned, running
from harness.bench.context import BenchContext
from harness.stack.binaries import debian_program
from harness.stack.ports import LOOPBACK, free_port
from harness.stack.readiness import HttpCheck, wait_ready

STATIC_PATH = "/static.json"
# About a widget-data answer's size.
STATIC_BODY = json.dumps({"widget": 1, "points": [[k, k * 1.5] for k in range(20)]})

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {folder}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/json;
    client_body_temp_path {folder}/body;
    # One keep-alive connection per user for the whole run, as against the app.
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    server {{
        listen {host}:{port};
        root {folder}/www;
    }}
}}
"""


@contextmanager
def static_server(ctx: BenchContext) -> Iterator[str]:
    """Yields the base URL; nginx (master and worker) runs pinned to the target core."""
    nginx = debian_program("nginx", "nginx-light (scripts/setup.sh bench)")
    folder = Path(tempfile.mkdtemp(prefix="ff-bench-nginx-"))
    try:
        # nginx's worker drops root for nobody, which must read the file.
        folder.chmod(0o755)
        (folder / "www").mkdir(mode=0o755)
        (folder / "www" / STATIC_PATH.lstrip("/")).write_text(STATIC_BODY)
        port = free_port()
        conf = folder / "nginx.conf"
        conf.write_text(CONFIG.format(folder=folder, host=LOOPBACK, port=port))
        argv = pinned(TARGET_CORE, [str(nginx), "-p", str(folder), "-c", str(conf), "-e", "stderr"])
        with running(child(ctx, "nginx", argv, ctx.folder("logs"))) as process:
            base = f"http://{LOOPBACK}:{port}"
            wait_ready("nginx", HttpCheck(base + STATIC_PATH), 15.0, process)
            yield base
    finally:
        shutil.rmtree(folder, ignore_errors=True)
