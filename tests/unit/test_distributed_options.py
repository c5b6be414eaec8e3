"""Distributed load without starting anything: `harness run --workers/--master-bind`, `harness worker`, the driver's argv.

compose/load.yaml's workers run `harness worker`; its command is parsed here by the real CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from harness.cli import EXIT_BAD_INPUT, main
from harness.contract import StepLine, WorkerShare, merge_lines
from harness.load import LOCUSTFILE, LocustDriver
from harness.plan import Plan
from harness.stack.base import Address, Endpoints, LinkEndpoint
from harness.stack.binaries import REPO_ROOT


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else int(exc.code)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--master-bind", "0.0.0.0"], "--master-bind 0.0.0.0: there is no Locust master without --workers"),
    (["--workers", "2", "--master-bind", "my-laptop"], "--master-bind 'my-laptop': not an IP address"),
    (["--workers", "65"], "Invalid value for '--workers'"),
])
def test_bad_worker_options_are_bad_input_before_anything_starts(argv: list[str], message: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(["run", "baseline", *argv], capsys)
    assert code == EXIT_BAD_INPUT
    assert message in err


class Exec(BaseException):  # noqa: N818 - not an error: the CLI must not catch it
    """os.execv, caught: the process would have become Locust."""


def _catch_exec(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        calls.append(argv)
        raise Exec

    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setattr(os, "chdir", lambda _: None)
    return calls


def test_compose_workers_run_harness_worker_against_the_master(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((REPO_ROOT / "compose" / "load.yaml").read_text())
    command = compose["services"]["locust-worker"]["command"]
    master = compose["services"]["locust-master"]["command"]
    assert "--master" in master and "--enable-rebalancing" in master
    calls = _catch_exec(monkeypatch)
    with pytest.raises(Exec):
        main(command)
    (argv,) = calls
    assert argv[1:] == ["-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host", "locust-master",
                        "--master-port", "5557", "--loglevel", "INFO"]


def _endpoints() -> Endpoints:
    link = LinkEndpoint(listen=Address(host="127.0.0.1", port=1), upstream=Address(host="redis", port=6379))
    return Endpoints(backend="http://127.0.0.1:8000", toxiproxy_api="http://127.0.0.1:8474",
                     links={name: link for name in ("redis", "materialize", "clickhouse", "websocket")},
                     redis_url="redis://127.0.0.1:16379/0",
                     materialize_dsn="postgresql://materialize@127.0.0.1:16875/materialize",
                     clickhouse_url="http://127.0.0.1:18123", websocket_url="ws://127.0.0.1:18000")


@pytest.mark.parametrize(("bind", "workers_join"), [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1")])
def test_the_master_binds_where_asked_and_local_workers_join_it(tmp_path: Path, bind: str, workers_join: str) -> None:
    driver = LocustDriver(Plan(experiment="x", steps=[]), _endpoints(), tmp_path, "run", {}, workers=2,
                          master_bind=bind)
    master = driver._master_args()
    port = str(driver.master_port)
    assert master[master.index("--master-bind-host") + 1] == bind
    assert master[master.index("--master-bind-port") + 1] == port
    assert master[master.index("--expect-workers") + 1] == "2"
    worker = driver._worker_argv()
    assert worker[worker.index("--master-host") + 1] == workers_join
    assert worker[worker.index("--master-port") + 1] == port
    assert driver.master_address == f"{bind}:{port}"


def test_a_one_process_driver_has_no_master(tmp_path: Path) -> None:
    driver = LocustDriver(Plan(experiment="x", steps=[]), _endpoints(), tmp_path, "run", {})
    assert driver._master_args() == [] and driver.master_address is None


def test_merged_lines_add_the_workers_users_and_keep_each_share() -> None:
    shares = [WorkerShare(worker=0, users=3), WorkerShare(worker=1, users=2, lost=True)]
    locust = StepLine(index=1, users=5, workers=shares)
    probe = StepLine(index=1, generator_cpu_percent=4.0)
    merged = merge_lines([locust, probe])
    assert merged.users == 5 and merged.workers == shares
    assert [share.label() for share in merged.workers] == ["worker 0", "worker 1"]
