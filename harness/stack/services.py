"""How each local service is prepared and started, one small class each.

A service knows its command line, its data folder and its readiness check;
``LocalStack`` decides the order and owns teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StackError
from harness.stack import binaries
from harness.stack.ownership import Ledger
from harness.stack.ports import LOOPBACK, free_port
from harness.stack.process import ManagedProcess, tail_file
from harness.stack.readiness import Check, HttpCheck, TcpCheck

REFERENCE_DIR = binaries.REPO_ROOT / "compose" / "reference"
# Shared with compose/offline.yaml: Debian's users plus log_queries (see the file).
CLICKHOUSE_USERS = binaries.REPO_ROOT / "compose" / "offline" / "clickhouse-users.xml"
DB_USER = "flowforge"
DB_NAME = "flowforge"


@dataclass
class Service:
    name: str
    process: ManagedProcess
    check: Check
    ready_timeout_s: float
    address: tuple[str, int]
    # A folder outside the run folder that dies with the service (see postgres).
    scratch: Path | None = None


def toxiproxy(folder: Path, run_id: str, port: int | None = None) -> Service:
    """Toxiproxy on a free port, or on ``port`` again (a restart keeps the API's address)."""
    port = port or free_port()
    argv = [str(binaries.toxiproxy_server()), "-host", LOOPBACK, "-port", str(port)]
    # Without LOG_LEVEL the server logs at trace level: every chunk of every connection (~250 KB in 30 s).
    process = ManagedProcess("toxiproxy", argv, folder / "logs" / "toxiproxy.log", run_id,
                             env={"LOG_LEVEL": "info"}, ledger=Ledger.in_folder(folder, run_id))
    return Service("toxiproxy", process, HttpCheck(f"http://{LOOPBACK}:{port}/version"), 20, (LOOPBACK, port))


def redis(folder: Path, run_id: str, password: str | None = None) -> Service:
    """redis-server; with ``password``, AUTH is required (set in a private file: never on a command line)."""
    port = free_port()
    ledger = Ledger.in_folder(folder, run_id)
    scratch = _secret_file("redis", f"requirepass {password}\n", ledger) if password else None
    argv = [
        str(binaries.debian_program("redis-server", "redis-server")),
        *([str(scratch / "secret")] if scratch else []),
        "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
        "--dir", str(_mkdir(folder / "data" / "redis")),
        # The server-side vantage reads GET percentiles from INFO latencystats
        # (on by default in 7.0; said here because the vantage depends on it),
        # with every percentile an SLO may name.
        "--latency-tracking", "yes", "--latency-tracking-info-percentiles", "50 90 95 99 99.9",
    ]
    process = ManagedProcess("redis", argv, folder / "logs" / "redis.log", run_id, ledger=ledger)
    return Service("redis", process, TcpCheck(LOOPBACK, port), 20, (LOOPBACK, port), scratch)


def postgres(folder: Path, run_id: str, password: str | None = None) -> Service:
    """PostgreSQL, standing in for Materialize (same wire protocol).

    initdb and postgres refuse to run as root, so as root they run as the
    ``postgres`` user on a data folder that user owns. With ``password``,
    TCP connections need it (scram-sha-256); initdb reads it from a private
    file removed right after.
    """
    bin_dir = binaries.postgres_bin_dir()
    as_user = _unprivileged_prefix()
    ledger = Ledger.in_folder(folder, run_id)
    data = _postgres_data_dir(folder, as_user, ledger)
    scratch = None if data.is_relative_to(folder) else data.parent
    log = folder / "logs" / "materialize-postgres.log"
    secret = _secret_file("pg", f"{password}\n", ledger, owner="postgres" if as_user else None) if password else None
    auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={secret / 'secret'}"] if secret else \
        ["--auth=trust"]
    try:
        _run_once(as_user + [str(bin_dir / "initdb"), "-D", str(data), "-U", DB_USER, *auth,
                             "--no-sync", "-E", "UTF8"], log, "initdb", run_id, ledger)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        if secret is not None:
            shutil.rmtree(secret, ignore_errors=True)
    port = free_port()
    argv = as_user + [
        str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
        "-c", f"listen_addresses={LOOPBACK}", "-c", "unix_socket_directories=",
        "-c", "fsync=off", "-c", "max_connections=200",
        # The server-side vantage's only per-query timing on PostgreSQL.
        "-c", "shared_preload_libraries=pg_stat_statements",
    ]
    process = ManagedProcess("materialize (postgresql)", argv, log, run_id, stop_signal=signal.SIGINT, ledger=ledger)
    return Service("materialize", process, TcpCheck(LOOPBACK, port), 30, (LOOPBACK, port), scratch)


def create_database(port: int, log: Path, run_id: str, ledger: Ledger | None = None,
                    password: str | None = None) -> None:
    createdb = binaries.postgres_bin_dir() / "createdb"
    _run_once([str(createdb), "-h", LOOPBACK, "-p", str(port), "-U", DB_USER, DB_NAME], log, "createdb",
              run_id, ledger, env=_pg_password(password))
    create_stat_statements(port, log, run_id, ledger, password)


def create_stat_statements(port: int, log: Path, run_id: str, ledger: Ledger | None = None,
                           password: str | None = None) -> None:
    """pg_stat_statements in the database, for the server-side vantage (the library is preloaded)."""
    psql = binaries.postgres_bin_dir() / "psql"
    _run_once([str(psql), "-h", LOOPBACK, "-p", str(port), "-U", DB_USER, "-d", DB_NAME, "-v", "ON_ERROR_STOP=1",
               "-qc", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"], log, "create pg_stat_statements",
              run_id, ledger, env=_pg_password(password))


def _pg_password(password: str | None) -> dict[str, str] | None:
    # In the environment: the ownership record writes command lines down, never environments.
    return {"PGPASSWORD": password} if password else None


def _secret_file(what: str, text: str, ledger: Ledger, owner: str | None = None) -> Path:
    """A private folder outside the run folder holding one file, ``secret``; recorded so cleanup removes it."""
    folder = Path(tempfile.mkdtemp(prefix=f"flowforge-{what}-secret-"))
    ledger.folder_made(folder)
    path = folder / "secret"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    if owner is not None:  # initdb runs as this user and must read it
        shutil.chown(folder, owner)
        shutil.chown(path, owner)
    return folder


CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger>
        <!-- information: start-up, shutdown, warnings and errors, and two lines per query (18.16 cannot
             set levels per logger; notice would log nothing at all): capped at 10 MB + one rotated file. -->
        <level>information</level>
        <log>{logs}/clickhouse-server.log</log>
        <size>10M</size>
        <count>1</count>
        <console>0</console>
    </logger>
    <http_port>{http_port}</http_port>
    <tcp_port>{tcp_port}</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <path>{data}/</path>
    <tmp_path>{data}/tmp/</tmp_path>
    <user_files_path>{data}/user_files/</user_files_path>
    <users_config>{users}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>536870912</mark_cache_size>
    <max_concurrent_queries>200</max_concurrent_queries>
    <!-- Where log_queries (users.xml) writes; the server-side vantage reads it.
         SYSTEM FLUSH LOGS forces a flush, the interval bounds the lag without it. -->
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <flush_interval_milliseconds>1000</flush_interval_milliseconds>
    </query_log>
</yandex>
"""


def clickhouse(folder: Path, run_id: str) -> Service:
    http_port, tcp_port = free_port(), free_port()
    data = _mkdir(folder / "data" / "clickhouse")
    logs = _mkdir(folder / "logs")
    config = folder / "config" / "clickhouse.xml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # A copy in the run folder: the run keeps the settings it ran with.
    users = shutil.copy(CLICKHOUSE_USERS, config.parent / "clickhouse-users.xml")
    config.write_text(CLICKHOUSE_CONFIG.format(logs=logs, data=data, http_port=http_port, tcp_port=tcp_port,
                                               users=users))
    argv = [str(binaries.debian_program("clickhouse-server", "clickhouse-server")), f"--config-file={config}"]
    process = ManagedProcess("clickhouse", argv, logs / "clickhouse.log", run_id, cwd=data,
                             ledger=Ledger.in_folder(folder, run_id))
    check = HttpCheck(f"http://{LOOPBACK}:{http_port}/ping")
    return Service("clickhouse", process, check, 60, (LOOPBACK, http_port))


def reference_backend(folder: Path, run_id: str, store_env: dict[str, str], python: str) -> Service:
    port = free_port()
    argv = [python, "-m", "uvicorn", "flowforge_ref.app:app", "--host", LOOPBACK, "--port", str(port),
            "--no-access-log", "--log-level", "info"]
    env = {**store_env, "PYTHONPATH": str(REFERENCE_DIR)}
    process = ManagedProcess("reference backend", argv, folder / "logs" / "backend.log", run_id, env=env,
                             ledger=Ledger.in_folder(folder, run_id))
    check = HttpCheck(f"http://{LOOPBACK}:{port}/healthz")
    return Service("backend", process, check, 60, (LOOPBACK, port))


def seed(store_env: dict[str, str], log: Path, python: str, run_id: str | None = None,
         ledger: Ledger | None = None) -> None:
    env = {**store_env, "PYTHONPATH": str(REFERENCE_DIR)}
    _run_once([python, "-m", "flowforge_ref.seed"], log, "seed", run_id, ledger, env=env, timeout_s=300)


def _run_once(argv: list[str], log: Path, what: str, run_id: str | None, ledger: Ledger | None,
              env: dict[str, str] | None = None, timeout_s: float = 120) -> None:
    """A short-lived step (initdb, createdb, seed): recorded and labelled like the run's services.

    A harness killed while it waits leaves the step to cleanup, which finds it in the record.
    """
    process = ManagedProcess(what, argv, log, run_id or f"{what}-{uuid.uuid4().hex[:8]}", env=env or {},
                             ledger=ledger)
    process.start()
    try:
        code = process.wait(timeout_s)
    finally:
        # Also on timeout or Ctrl-C while waiting: the step never outlives the call.
        process.stop(timeout_s=5)
    if code is None:
        raise StackError(f"{what} did not finish within {timeout_s:.0f} s\nlast lines of {log}:\n{tail_file(log)}")
    if code != 0:
        raise StackError(f"{what} exited with code {code}\nlast lines of {log}:\n{tail_file(log)}")


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if not runuser:
        raise StackError("running as root needs runuser (util-linux) to start PostgreSQL as 'postgres'")
    return [runuser, "-u", "postgres", "--"]


def _postgres_data_dir(folder: Path, as_user: list[str], ledger: Ledger) -> Path:
    """The data folder in the run folder, unless the postgres user cannot reach it.

    A run folder under a private home (pytest's tmp folders are 0700) is out of
    the postgres user's reach; then the data goes to a scratch folder in /tmp
    that is removed with the service.
    """
    if not as_user:
        return _mkdir(folder / "data" / "materialize")
    parent = _mkdir(folder / "data")
    os.chmod(parent, 0o777)
    probe = subprocess.run(as_user + ["test", "-w", str(parent)], check=False)
    if probe.returncode == 0:
        base = parent
    else:
        base = Path(tempfile.mkdtemp(prefix="flowforge-pg-"))
        # Outside the run folder: recorded, so cleanup of a killed run removes it too.
        ledger.folder_made(base)
        os.chmod(base, 0o755)
    data = base / "materialize"
    data.mkdir(exist_ok=True)
    shutil.chown(data, "postgres", "postgres")
    os.chmod(data, 0o700)
    return data


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
