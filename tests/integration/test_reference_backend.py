"""The reference backend against real Redis, PostgreSQL and ClickHouse.

Starts redis-server, PostgreSQL (standing in for Materialize) and
clickhouse-server on free 127.0.0.1 ports, seeds them, runs the backend with
uvicorn and checks what a dashboard user would see. The store starters are
plain functions so a shared conftest can take them over unchanged.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO_ROOT / "compose" / "reference"
CLICKHOUSE_USERS_XML = Path("/etc/clickhouse-server/users.xml")
PUSH_INTERVAL_MS = 100
TIERS = ("redis", "materialize", "clickhouse")


# --- starting and stopping real services ------------------------------------


def require_binary(found: str | None, what: str, install_hint: str) -> str:
    """The binary's path; without it, fail on CI (it must be installed there) or skip."""
    if found:
        return found
    message = f"{what} not found; install it with: {install_hint}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(log_path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(check: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], log_path: Path,
               timeout_s: float = 30.0) -> None:
    """Poll `check` until it holds; fail naming what, how long, with the log's last lines."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before it was ready:\n{log_tail(log_path)}")
        with contextlib.suppress(OSError, httpx.HTTPError):
            if check():
                return
        time.sleep(0.1)
    pytest.fail(f"{what} not ready after {timeout_s:g}s:\n{log_tail(log_path)}")


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tcp_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


def spawn(args: list[str], log_path: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    binary = require_binary(shutil.which("redis-server"), "redis-server", "apt-get install redis-server")
    port = free_port()
    log_path = folder / "redis.log"
    proc = spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                  "--dir", str(folder)], log_path)
    try:
        wait_until(lambda: tcp_open(port), f"redis-server on 127.0.0.1:{port}", proc, log_path)
        yield proc, port
    finally:
        stop_process(proc)


@contextlib.contextmanager
def running_postgres(folder: Path, database: str, user: str) -> Iterator[int]:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = require_binary(candidates[-1] if candidates else shutil.which("initdb"), "PostgreSQL initdb",
                            "apt-get install postgresql")
    bin_dir = Path(initdb).parent
    # initdb and postgres refuse to run as root: run them as the `postgres`
    # account, in a folder it owns outside pytest's root-only tmp tree.
    run_as: dict[str, object] = {}
    pg_root = Path(tempfile.mkdtemp(prefix="ff-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(pg_root)
            require_binary(None, "a `postgres` system user to run PostgreSQL as", "apt-get install postgresql")
        os.chown(pg_root, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    port = free_port()
    log_path = folder / "postgres.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        data = pg_root / "data"
        init = subprocess.run([initdb, "-D", str(data), "-U", user, "--auth=trust", "--no-sync"],
                              capture_output=True, cwd=pg_root, **run_as)
        assert init.returncode == 0, f"initdb failed:\n{init.stdout.decode()}{init.stderr.decode()}"
        proc = spawn([str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(pg_root),
                      "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"], log_path, cwd=pg_root, **run_as)
        pg_isready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
        wait_until(lambda: subprocess.run(pg_isready).returncode == 0,
                   f"PostgreSQL on 127.0.0.1:{port}", proc, log_path)
        created = subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user,
                                  database], capture_output=True)
        assert created.returncode == 0, f"createdb failed: {created.stderr.decode()}"
        yield port
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(pg_root, ignore_errors=True)


CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><console>1</console></logger>
    <http_port>{http_port}</http_port>
    <tcp_port>{tcp_port}</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <path>{data}/</path>
    <tmp_path>{data}/tmp/</tmp_path>
    <users_config>{users}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>268435456</mark_cache_size>
</yandex>
"""


@contextlib.contextmanager
def running_clickhouse(folder: Path) -> Iterator[int]:
    binary = require_binary(shutil.which("clickhouse-server"), "clickhouse-server",
                            "apt-get install clickhouse-server")
    if not CLICKHOUSE_USERS_XML.exists():
        require_binary(None, str(CLICKHOUSE_USERS_XML), "apt-get install clickhouse-server")
    http_port, tcp_port = free_port(), free_port()
    config = folder / "clickhouse.xml"
    config.write_text(CLICKHOUSE_CONFIG.format(http_port=http_port, tcp_port=tcp_port,
                                               data=folder / "clickhouse", users=CLICKHOUSE_USERS_XML))
    log_path = folder / "clickhouse.log"
    proc = spawn([binary, f"--config-file={config}"], log_path, cwd=folder)
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{http_port}/ping", timeout=1).text.strip() == "Ok.",
                   f"clickhouse-server on 127.0.0.1:{http_port}", proc, log_path)
        yield http_port
    finally:
        stop_process(proc)


@contextlib.contextmanager
def running_backend(folder: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    log_path = folder / "backend.log"
    proc = spawn([sys.executable, "-m", "uvicorn", "flowforge_ref.app:app", "--host", "127.0.0.1",
                  "--port", str(port)], log_path, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200,
                   f"reference backend at {base_url}/healthz", proc, log_path)
        yield base_url
    finally:
        stop_process(proc)


def seed(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowforge_ref.seed"], env=env, capture_output=True,
                          text=True, timeout=180)


# --- the stack under test ----------------------------------------------------


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    seed_output: str
    redis: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("reference-backend")
    with contextlib.ExitStack() as cleanup:
        redis_proc, redis_port = cleanup.enter_context(running_redis(folder))
        pg_port = cleanup.enter_context(running_postgres(folder, database="flowforge", user="flowforge"))
        ch_port = cleanup.enter_context(running_clickhouse(folder))
        env = {
            **os.environ,
            "PYTHONPATH": str(REFERENCE_DIR),
            "FF_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "FF_MATERIALIZE_DSN": f"postgresql://flowforge@127.0.0.1:{pg_port}/flowforge",
            "FF_CLICKHOUSE_URL": f"http://127.0.0.1:{ch_port}",
            "FF_PUSH_INTERVAL_MS": str(PUSH_INTERVAL_MS),
        }
        seeded = seed(env)
        assert seeded.returncode == 0, f"seed failed:\n{seeded.stdout}{seeded.stderr}"
        base_url = cleanup.enter_context(running_backend(folder, env))
        yield Stack(base_url=base_url, env=env, seed_output=seeded.stdout, redis=redis_proc)


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=10) as http:
        yield http


# --- what a user sees ---------------------------------------------------------


def test_seed_reports_each_store_and_is_safe_to_rerun(stack: Stack) -> None:
    first = stack.seed_output.splitlines()
    assert [line.split(":")[0] for line in first] == list(TIERS)
    assert "inserted 1000000 events" in first[2]

    again = seed(stack.env)

    assert again.returncode == 0, again.stderr
    assert "left as is" in again.stdout


def test_healthz_is_ok_with_all_stores_up(client: httpx.Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_widget_data_has_config_live_value_and_history(client: httpx.Client) -> None:
    response = client.get("/api/widgets/7/data")

    assert response.status_code == 200
    body = response.json()
    assert body["config"]["id"] == 7
    assert isinstance(body["live"]["value"], float)
    assert body["live"]["updated_at"]
    assert body["history"], "the seed spreads events over the last 24 h, so the last hour has some"
    minutes = [point["minute_ts"] for point in body["history"]]
    assert minutes == sorted(minutes)
    assert time.time() - minutes[0] <= 61 * 60
    assert all(point["events"] > 0 for point in body["history"])


def test_unknown_widget_is_404(client: httpx.Client) -> None:
    response = client.get("/api/widgets/100000/data")

    assert response.status_code == 404
    assert "100000" in response.json()["detail"]


def test_preview_returns_a_much_larger_aggregate(client: httpx.Client) -> None:
    widget = client.get("/api/widgets/3/data")
    preview = client.post("/api/widgets/preview", json={"widget_id": 3, "minutes": 60})

    assert preview.status_code == 200
    body = preview.json()
    assert len(preview.content) > 10_000
    assert len(preview.content) > 5 * len(widget.content)
    assert len(body["by_widget"]) == 100
    assert 55 <= len(body["series"]) <= 61


def test_preview_rejects_a_window_out_of_range(client: httpx.Client) -> None:
    response = client.post("/api/widgets/preview", json={"widget_id": 3, "minutes": 5000})

    assert response.status_code == 422


def test_metrics_count_datastore_calls_per_tier(client: httpx.Client) -> None:
    client.get("/api/widgets/1/data")
    client.post("/api/widgets/preview", json={"widget_id": 1})

    text = client.get("/metrics").text

    for tier in TIERS:
        counts = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("flowforge_datastore_seconds_count{") and f'tier="{tier}"' in line]
        assert counts and sum(counts) > 0, f"no timed {tier} calls in /metrics"
        assert f'flowforge_datastore_errors_total{{tier="{tier}"}}' in text
    assert 'le="0.0001"' in text and 'le="0.00025"' in text
    assert 'flowforge_http_request_seconds_count{route="/api/widgets/{widget_id}/data"}' in text
    assert "flowforge_ws_connections" in text


def test_websocket_pushes_in_sequence_with_fresh_timestamps(stack: Stack, client: httpx.Client) -> None:
    url = stack.base_url.replace("http://", "ws://") + "/ws/dashboards/2"
    with ws_connect(url, open_timeout=5) as ws:
        messages = [json.loads(ws.recv(timeout=5)) for _ in range(8)]
        received_at = time.time()

    assert [m["seq"] for m in messages] == list(range(1, 9))
    assert all(m["dashboard"] == 2 for m in messages)
    assert abs(received_at - messages[-1]["sent_at"]) < 2.0
    sent = [m["sent_at"] for m in messages]
    assert sent == sorted(sent)
    # Eight pushes at the configured interval: the first goes at once.
    assert sent[-1] - sent[0] >= 7 * PUSH_INTERVAL_MS / 1000 * 0.8
    widgets = messages[-1]["widgets"]
    assert [w["id"] for w in widgets] == [7, 8, 9, 10, 11, 12]
    assert all(isinstance(w["value"], float) for w in widgets), "the live cache should be filled by now"
    text = client.get("/metrics").text
    assert "flowforge_ws_messages_sent_total 0.0" not in text


def test_healthz_names_redis_when_it_is_stopped(stack: Stack, client: httpx.Client) -> None:
    # Last in the module: it leaves Redis down for good.
    stop_process(stack.redis)

    health = client.get("/healthz")
    widget = client.get("/api/widgets/1/data")

    assert health.status_code == 503
    assert "redis" in health.json()["detail"]
    assert set(health.json()["failing"]) == {"redis"}
    assert widget.status_code == 503
    assert widget.json()["detail"].startswith("redis unavailable:")
