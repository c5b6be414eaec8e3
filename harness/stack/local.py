"""The local backend: every part of the stack as a process on 127.0.0.1.

Order: Toxiproxy and the three stores → seed the stores directly → one proxy
per link → the reference backend, whose store connections and WebSocket go
through those proxies. Teardown runs in reverse, also when start-up fails.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

from harness.errors import StackError
from harness.stack import binaries, services
from harness.stack.base import Address, Endpoints, LinkEndpoint, ManagedStack
from harness.stack.links import create_link_proxies, restore_link_proxies
from harness.stack.ownership import Ledger
from harness.stack.ports import LOOPBACK, free_port
from harness.stack.readiness import wait_ready
from harness.stack.services import DB_NAME, DB_USER, Service
from toxics.client import ToxiproxyClient

STORE_LINKS = ("redis", "materialize", "clickhouse")
# Set, Redis and PostgreSQL require this password (their URLs carry it; nothing the harness writes does).
PASSWORD_ENV = "FLOWFORGE_STORE_PASSWORD"
MATERIALIZE_NOTE = (
    "local backend: PostgreSQL stands in for Materialize (same wire protocol); "
    "materialize-tier numbers are PostgreSQL's"
)


class LocalStack(ManagedStack):
    name = "local"

    def __init__(self, folder: Path, run_id: str, python: str = sys.executable) -> None:
        self.folder = folder
        self.run_id = run_id
        self.python = python
        self.password = os.environ.get(PASSWORD_ENV) or None
        # The run folder's ownership record: every service and one-off step is written there as it starts.
        self.ledger = Ledger.in_folder(folder, run_id)
        self._started: list[Service] = []
        # Each link's faulted and control proxy, as created: a restarted Toxiproxy gets them back.
        self._proxies: dict[str, tuple[LinkEndpoint, LinkEndpoint]] = {}

    def down(self) -> None:
        """Stop every service, newest first; one that will not stop does not spare the others.

        A service leaves the list only once stopped, so a teardown cut short
        (a signal) is finished by the next call. The stores' data goes too:
        the run folder keeps logs and results, not a copy of a million events.
        """
        failures = []
        while self._started:
            service = self._started[-1]
            try:
                service.process.stop()
            except StackError as exc:
                failures.append(str(exc))
            if service.scratch is not None:
                shutil.rmtree(service.scratch, ignore_errors=True)
            self._started.pop()
        shutil.rmtree(self.folder / "data", ignore_errors=True)
        if failures:
            raise StackError("; ".join(failures))

    def restart_toxiproxy(self) -> None:
        """Kill Toxiproxy (SIGKILL after a second: a SIGSTOPped one answers nothing else) and start it
        again on the same port, with every link's proxies on their old addresses."""
        position, old = next((i, s) for i, s in enumerate(self._started) if s.name == "toxiproxy")
        old.process.stop(timeout_s=1)
        new = services.toxiproxy(self.folder, self.run_id, port=old.address[1])
        self._started[position] = new  # in the old one's place: teardown order stays
        new.process.start()
        wait_ready(new.name, new.check, new.ready_timeout_s, new.process)
        with ToxiproxyClient(f"http://{LOOPBACK}:{new.address[1]}") as client:
            for link, (faulted, control) in self._proxies.items():
                restore_link_proxies(client, link, faulted, control)

    def dead_services(self) -> dict[str, int | None]:
        return {service.name: service.process.exit_code() for service in self._started
                if not service.process.running()}

    def _start(self, service: Service) -> Service:
        self._started.append(service)
        service.process.start()
        return service

    def _up(self) -> Endpoints:
        # The stores' data dies with the run (see down); recorded so it also dies with a killed one.
        self.ledger.folder_made(self.folder / "data")
        toxiproxy = self._start(services.toxiproxy(self.folder, self.run_id))
        redis = self._start(services.redis(self.folder, self.run_id, self.password))
        postgres = self._start(services.postgres(self.folder, self.run_id, self.password))
        clickhouse = self._start(services.clickhouse(self.folder, self.run_id))
        for service in (toxiproxy, redis, postgres, clickhouse):
            wait_ready(service.name, service.check, service.ready_timeout_s, service.process)
        services.create_database(postgres.address[1], postgres.process.log_path, self.run_id, self.ledger,
                                 self.password)

        direct = _store_env(redis.address, postgres.address, clickhouse.address, self.password)
        services.seed(direct, self.folder / "logs" / "seed.log", self.python, self.run_id, self.ledger)

        api = f"http://{LOOPBACK}:{toxiproxy.address[1]}"
        links: dict[str, LinkEndpoint] = {}
        controls: dict[str, LinkEndpoint] = {}
        stores = {"redis": redis.address, "materialize": postgres.address, "clickhouse": clickhouse.address}
        with ToxiproxyClient(api) as client:
            for link, (host, port) in stores.items():
                links[link], controls[link] = create_link_proxies(client, link, Address(host=host, port=port),
                                                                  _loopback_port)
            # The backend reaches the stores through their faulted links only.
            faulted = _store_env(*(_pair(links[k].listen) for k in STORE_LINKS), self.password)
            backend = self._start(services.reference_backend(self.folder, self.run_id, faulted, self.python))
            wait_ready(backend.name, backend.check, backend.ready_timeout_s, backend.process)
            host, port = backend.address
            links["websocket"], controls["websocket"] = create_link_proxies(
                client, "websocket", Address(host=host, port=port), _loopback_port)
        self._proxies = {link: (links[link], controls[link]) for link in links}
        proxied = _store_env(*(_pair(links[k].listen) for k in STORE_LINKS), self.password)
        control = _store_env(*(_pair(controls[k].listen) for k in STORE_LINKS), self.password)
        return Endpoints(
            backend=f"http://{LOOPBACK}:{backend.address[1]}",
            toxiproxy_api=api,
            links=links,
            controls=controls,
            redis_url=proxied["FF_REDIS_URL"],
            materialize_dsn=proxied["FF_MATERIALIZE_DSN"],
            clickhouse_url=proxied["FF_CLICKHOUSE_URL"],
            websocket_url=f"ws://{links['websocket'].listen}",
            redis_control_url=control["FF_REDIS_URL"],
            materialize_control_dsn=control["FF_MATERIALIZE_DSN"],
            clickhouse_control_url=control["FF_CLICKHOUSE_URL"],
            websocket_control_url=f"ws://{controls['websocket'].listen}",
            versions=_versions(),
            notes=[MATERIALIZE_NOTE],
        )


def _loopback_port() -> Address:
    return Address(host=LOOPBACK, port=free_port())


def _pair(address: Address) -> tuple[str, int]:
    return address.host, address.port


def _store_env(redis: tuple[str, int], postgres: tuple[str, int], clickhouse: tuple[str, int],
               password: str | None = None) -> dict[str, str]:
    secret = f":{quote(password, safe='')}" if password else ""
    return {
        "FF_REDIS_URL": f"redis://{secret}{'@' if secret else ''}{redis[0]}:{redis[1]}/0",
        "FF_MATERIALIZE_DSN": f"postgresql://{DB_USER}{secret}@{postgres[0]}:{postgres[1]}/{DB_NAME}",
        "FF_CLICKHOUSE_URL": f"http://{clickhouse[0]}:{clickhouse[1]}",
    }


def _versions() -> dict[str, str]:
    postgres = binaries.postgres_bin_dir() / "postgres"
    return {
        "toxiproxy": binaries.toxiproxy_version(binaries.toxiproxy_server()),
        "redis": binaries.program_version([str(binaries.debian_program("redis-server", "redis-server")), "--version"]),
        "materialize (postgresql stand-in)": binaries.program_version([str(postgres), "--version"]),
        "clickhouse": _clickhouse_version(),
    }


def _clickhouse_version() -> str:
    # clickhouse-server 18.16 has no --version; Debian's package knows it.
    found = binaries.program_version(["dpkg-query", "-W", "-f=${Version}", "clickhouse-server"])
    return f"clickhouse-server {found}" if found != "unknown" else found
