"""``harness worker``: this machine as one more Locust worker of a distributed run.

The master is either ``harness run NAME --workers N --master-bind ADDRESS``
on another machine (it prints ``locust master: … listening for more on
ADDRESS:PORT``) or compose/load.yaml's ``locust-master``. The worker takes the
plan, its clock and where viewers connect from the master, and sends its
per-step HDR histograms back over Locust's messages: no shared disk needed.
Its HTTP users go to the master's ``--host`` (Locust's rule), its viewers
where the master says unless FF_WEBSOCKET_URL / FF_WEBSOCKET_CONTROL_URL name
this machine's way there; as everywhere in the harness, only to loopback
addresses unless FF_ALLOW_REMOTE_TARGET=1 says otherwise.
FF_WORKER_NAME names the worker in the steps' records (a lost worker's flag).
Samples go to steps by wall-clock time: the machines' clocks must agree (NTP).
"""

from __future__ import annotations

import os
import sys

import click

from harness.errors import LoadError

DEFAULT_MASTER_PORT = 5557  # Locust's own default


@click.command()
@click.option("--master-host", required=True, help="Address of the Locust master to join.")
@click.option("--master-port", type=click.IntRange(1, 65535), default=DEFAULT_MASTER_PORT, show_default=True,
              help="Its port (harness run prints it; compose's master uses Locust's default).")
def worker(master_host: str, master_port: int) -> None:
    """Run one Locust worker of the harness's locustfile, joining the master at MASTER_HOST:MASTER_PORT.

    The process becomes the worker (Ctrl-C ends it; the master hands its users
    to the other workers and flags the step it left).
    """
    from harness.load import worker_argv
    from harness.stack.binaries import REPO_ROOT

    argv = worker_argv(master_host, master_port)
    try:
        os.chdir(REPO_ROOT)  # the locustfile imports harness and locustfiles from the project
        sys.stdout.flush()
        os.execv(argv[0], argv)
    except OSError as exc:
        raise LoadError(f"cannot start a Locust worker ({argv[0]}): {exc.strerror}") from exc


COMMANDS = [worker]
