"""``--observe``: Debian's Prometheus, scraping the harness's /metrics and the reference backend's.

It runs as one of the run's processes (recorded in the run's ownership
record like every other, so ``harness cleanup`` finds it after a killed
run), bound to 127.0.0.1 on a free port, with its config and its TSDB in the
run folder (``prometheus/``): after the run, the same data can be opened
again with ``prometheus --config.file=RUN/prometheus/prometheus.yml
--storage.tsdb.path=RUN/prometheus/data``.

It scrapes every second: a step's window is tens of seconds, and the PromQL
SLO source reads each window's edges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import StackError
from harness.stack import binaries
from harness.stack.ownership import Ledger
from harness.stack.ports import LOOPBACK, free_port
from harness.stack.process import ManagedProcess
from harness.stack.readiness import HttpCheck, wait_ready

SCRAPE_INTERVAL_S = 1.0
READY_TIMEOUT_S = 30.0

CONFIG = """\
# Written by `harness run --observe` for this run only.
global:
  scrape_interval: {interval}s
  scrape_timeout: {interval}s
  evaluation_interval: 5s
  external_labels:
    run_id: "{run_id}"

scrape_configs:
  # The harness itself: per-tier latency histograms (faulted and control paths), SLO state, step, toxics.
  - job_name: flowforge-harness
    static_configs:
      - targets: ["{harness}"]
  # The reference backend: its own per-store histograms (flowforge_datastore_seconds, ...).
  - job_name: flowforge-backend
    static_configs:
      - targets: ["{backend}"]
"""


def prometheus_binary() -> Path:
    """Debian's prometheus, or a StackError saying to install it (checked before a run starts)."""
    return binaries.debian_program("prometheus", "prometheus")


def config_text(run_id: str, harness_address: str, backend_url: str) -> str:
    backend = urlsplit(backend_url).netloc
    if not backend:
        raise StackError(f"--observe: cannot scrape the backend at {backend_url!r}: no host:port in it")
    return CONFIG.format(interval=f"{SCRAPE_INTERVAL_S:g}", run_id=run_id, harness=harness_address, backend=backend)


@dataclass
class Prometheus:
    """A running Prometheus of this run."""

    url: str
    folder: Path
    process: ManagedProcess

    def stop(self) -> None:
        """After one more scrape, so the run's last state (toxics cleared) is in the TSDB too."""
        if self.process.running():
            time.sleep(2 * SCRAPE_INTERVAL_S)
        self.process.stop(timeout_s=15)


def start_prometheus(run_folder: Path, run_id: str, harness_address: str, backend_url: str) -> Prometheus:
    folder = run_folder / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(config_text(run_id, harness_address, backend_url))
    port = free_port()
    argv = [
        str(prometheus_binary()), f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address={LOOPBACK}:{port}", "--log.level=info",
    ]
    process = ManagedProcess("prometheus", argv, run_folder / "logs" / "prometheus.log", run_id,
                             cwd=folder, ledger=Ledger.in_folder(run_folder, run_id))
    process.start()
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_ready("prometheus", HttpCheck(f"{url}/-/ready"), READY_TIMEOUT_S, process)
    except BaseException:
        process.stop(timeout_s=5)
        raise
    return Prometheus(url=url, folder=folder, process=process)
