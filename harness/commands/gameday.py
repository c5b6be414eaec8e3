"""Game days: ``gameday`` runs a session; ``fault``, ``link``, ``users``, ``annotate``, ``stop-all`` and
``next`` talk to it through its control API (exit 0 done, 2 refused as bad input, 3 no session answers)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from harness.errors import SpecError

CONTROL_PORT_ENV = "FLOWFORGE_CONTROL_PORT"
TOKEN_ENV = "FLOWFORGE_GAMEDAY_TOKEN"
FAULT_ID = re.compile(r"^f\d+$")


def _duration(_: click.Context | None, param: click.Parameter | None, text: str | None) -> float | None:
    from harness.gameday.requests import parse_duration_s

    if text is None:
        return None
    try:
        return parse_duration_s(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _client_options(command: Any) -> Any:
    """Where the session answers: the same on every client command."""
    for option in reversed([
        click.option("--control-port", type=click.IntRange(1, 65535), default=8090, show_default=True,
                     envvar=CONTROL_PORT_ENV, help="The session's control port."),
        click.option("--control-host", default="127.0.0.1", show_default=True,
                     help="The session's address (its --bind)."),
        click.option("--token", envvar=TOKEN_ENV, help=f"The session's token, if it has one (or ${TOKEN_ENV})."),
    ]):
        command = option(command)
    return command


def _call(host: str, port: int, token: str | None, method: str, path: str,
          body: dict[str, Any] | None = None) -> dict[str, Any]:
    from harness.gameday.client import ControlClient

    with ControlClient(host, port, token) as client:
        return client.call(method, path, body)


@click.command()
@click.option("--users", type=click.IntRange(0, 100_000), default=10, show_default=True,
              help="Steady load to start with (change it live: harness users N).")
@click.option("--spawn-rate", type=click.FloatRange(0, min_open=True), default=10.0, show_default=True,
              help="Users started (or stopped) per second.")
@click.option("--control-port", type=click.IntRange(1, 65535), default=8090, show_default=True,
              envvar=CONTROL_PORT_ENV, help="Port of the control page and API.")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address of the control page and API; anything but loopback needs --token.")
@click.option("--token", envvar=TOKEN_ENV, help="Every request must carry it (Authorization: Bearer TOKEN, "
              "or ?token=TOKEN on the page).")
@click.option("--script", "script_name", help="Step through EXPERIMENT's faults, one step per 'next'; its "
              "stop_when become halt conditions and its SLOs the session's.")
@click.option("--revert-after", default="5m", show_default=True, callback=_duration,
              help="Every fault reverts by itself after this long (e.g. 90s, 5m, 1h) unless it says otherwise.")
@click.option("--window-seconds", type=click.FloatRange(5, 3600), default=60.0, show_default=True,
              help="Length of each measurement window (each is judged against the SLOs like a step).")
@click.option("--max-duration", default="4h", show_default=True, callback=_duration,
              help="The session ends by itself after this long (a forgotten game day does not run on).")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True)
@click.option("--backend", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True)
@click.option("--offline", is_flag=True)
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Run Locust as a master and N worker processes on this machine (0: one Locust process).")
def gameday(users: int, spawn_rate: float, control_port: int, bind: str, token: str | None,
            script_name: str | None, revert_after: float, window_seconds: float, max_duration: float,
            results_dir: Path, backend: str, offline: bool, workers: int) -> None:
    """Stack, steady load and a control page for live faults; Ctrl-C ends it, reverting every fault."""
    from harness.gameday.console import GameDayConsole
    from harness.gameday.server import ControlSettings
    from harness.gameday.session import GameDaySettings, run_gameday
    from harness.results import RunStatus
    from harness.runner import RunOptions
    from harness.spec import load_experiment, resolve_experiment
    from harness.stack.ports import port_in_use
    from harness.stack.select import choose_backend

    control = ControlSettings(host=bind, port=control_port, token=token)
    if (why_not := port_in_use(control_port, bind)) is not None:
        raise SpecError(f"--control-port {control_port}: cannot listen on {bind} ({why_not}); "
                        "is another game day running?")
    script = load_experiment(resolve_experiment(script_name)) if script_name else None
    settings = GameDaySettings(control=control, users=users, spawn_rate=spawn_rate, revert_after_s=revert_after or 300,
                               window_s=window_seconds, max_duration_s=max_duration or 4 * 3600.0, script=script)
    chosen, why = choose_backend(backend)
    if offline and chosen != "docker":
        raise SpecError(f"--offline applies to the docker backend, but the {chosen} backend was chosen ({why})")
    console = GameDayConsole()
    console.line(f"backend: {chosen} ({why})")
    options = RunOptions(results_dir=results_dir, backend=chosen, offline=offline, workers=workers)
    outcome = run_gameday(settings, options, [console])
    html = outcome.folder / "report.html"
    click.echo(f"report: {html if html.exists() else outcome.folder / 'report.md'}")
    if outcome.error is not None:
        raise outcome.error
    if outcome.summary.status == RunStatus.INTERRUPTED:
        sys.exit(130)


@click.group()
def fault() -> None:
    """Add, update or remove a fault of the running game day."""


def _settings(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``latency_ms=200 jitter_ms=10`` → a settings object (numbers as numbers)."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        if not equals or not key:
            raise SpecError(f"{pair!r}: write settings as NAME=VALUE, e.g. latency_ms=200")
        value: Any = raw
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
        settings[key] = value
    return settings


@fault.command(name="add")
@click.argument("link")
@click.argument("type")
@click.argument("settings", nargs=-1)
@click.option("--stream", type=click.Choice(["upstream", "downstream"]))
@click.option("--toxicity", type=float, help="Share of connections affected, 0–1 (default 1).")
@click.option("--revert-after", callback=_duration, help="Revert by itself after this long (default: the session's).")
@_client_options
def fault_add(link: str, type: str, settings: tuple[str, ...], stream: str | None, toxicity: float | None,
              revert_after: float | None, control_port: int, control_host: str, token: str | None) -> None:
    """Put a TYPE fault on LINK: `harness fault add clickhouse latency latency_ms=200 --revert-after 5m`."""
    body: dict[str, Any] = {"link": link, "type": type}
    if settings:
        body["settings"] = _settings(settings)
    for key, value in (("stream", stream), ("toxicity", toxicity), ("revert_after_s", revert_after)):
        if value is not None:
            body[key] = value
    answer = _call(control_host, control_port, token, "POST", "/api/faults", body)
    click.echo(_fault_line(answer["fault"]))


def _fault_id(target: tuple[str, ...], stream: str | None, host: str, port: int, token: str | None
              ) -> tuple[str, tuple[str, ...]]:
    """``f3 …`` or ``LINK TYPE …``: the fault's id (looked up in the session's state) and the rest."""
    if target and FAULT_ID.match(target[0]):
        return target[0], target[1:]
    if len(target) < 2:
        raise SpecError("name the fault by its id (f3) or by LINK TYPE, e.g. clickhouse latency")
    link, type_, rest = target[0], target[1], target[2:]
    faults = _call(host, port, token, "GET", "/api/state").get("faults", [])
    found = [f for f in faults if f["link"] == link and f["type"] == type_ and (stream is None or f["stream"] == stream)]
    if not found:
        on = ", ".join(f"{f['id']} {f['description']}" for f in faults) or "none"
        raise SpecError(f"no {type_} fault is on link {link} (on now: {on})")
    if len(found) > 1:
        raise SpecError(f"{len(found)} {type_} faults are on link {link}: give --stream or the id")
    return found[0]["id"], rest


@fault.command(name="update")
@click.argument("target", nargs=-1, required=True)
@click.option("--stream", type=click.Choice(["upstream", "downstream"]), help="Which one, if both are on.")
@click.option("--toxicity", type=float)
@click.option("--revert-after", callback=_duration, help="A new revert time, counted from now.")
@_client_options
def fault_update(target: tuple[str, ...], stream: str | None, toxicity: float | None, revert_after: float | None,
                 control_port: int, control_host: str, token: str | None) -> None:
    """Change a fault in place: `harness fault update clickhouse latency latency_ms=400` (or `f3 latency_ms=400`)."""
    fault_id, pairs = _fault_id(target, stream, control_host, control_port, token)
    body: dict[str, Any] = {}
    if pairs:
        body["settings"] = _settings(pairs)
    if toxicity is not None:
        body["toxicity"] = toxicity
    if revert_after is not None:
        body["revert_after_s"] = revert_after
    answer = _call(control_host, control_port, token, "PATCH", f"/api/faults/{fault_id}", body)
    click.echo(_fault_line(answer["fault"]))


@fault.command(name="remove")
@click.argument("target", nargs=-1, required=True)
@click.option("--stream", type=click.Choice(["upstream", "downstream"]))
@_client_options
def fault_remove(target: tuple[str, ...], stream: str | None, control_port: int, control_host: str,
                 token: str | None) -> None:
    """Take a fault off: `harness fault remove clickhouse latency` (or `harness fault remove f3`)."""
    fault_id, rest = _fault_id(target, stream, control_host, control_port, token)
    if rest:
        raise SpecError(f"unexpected {' '.join(rest)!r}: remove takes the fault's id or LINK TYPE only")
    answer = _call(control_host, control_port, token, "DELETE", f"/api/faults/{fault_id}")
    click.echo(f"removed {answer['fault']['id']}: {answer['fault']['description']}")


@click.group()
def link() -> None:
    """Take a link down (its proxy disabled) or bring it up again."""


@link.command(name="down")
@click.argument("name")
@click.option("--revert-after", callback=_duration, help="Up again by itself after this long (default: the session's).")
@_client_options
def link_down(name: str, revert_after: float | None, control_port: int, control_host: str, token: str | None) -> None:
    """Take LINK down (its proxy disabled): `harness link down materialize`."""
    body = {"revert_after_s": revert_after} if revert_after is not None else None
    answer = _call(control_host, control_port, token, "POST", f"/api/links/{name}/down", body)
    click.echo(_fault_line(answer["fault"]))


@link.command(name="up")
@click.argument("name")
@_client_options
def link_up(name: str, control_port: int, control_host: str, token: str | None) -> None:
    """Bring LINK up again."""
    _call(control_host, control_port, token, "POST", f"/api/links/{name}/up")
    click.echo(f"{name} link up")


@click.command()
@click.argument("count", type=int)
@click.option("--spawn-rate", type=float, help="Users started (or stopped) per second (default: as before).")
@_client_options
def users(count: int, spawn_rate: float | None, control_port: int, control_host: str, token: str | None) -> None:
    """Set the game day's load to COUNT users."""
    body: dict[str, Any] = {"users": count}
    if spawn_rate is not None:
        body["spawn_rate"] = spawn_rate
    answer = _call(control_host, control_port, token, "POST", "/api/users", body)
    click.echo(f"users: {answer['users']} (spawn rate {answer['spawn_rate']:g}/s)")


@click.command()
@click.argument("text")
@_client_options
def annotate(text: str, control_port: int, control_host: str, token: str | None) -> None:
    """Put TEXT on the game day's timeline: `harness annotate "cache cold after failover"`."""
    _call(control_host, control_port, token, "POST", "/api/annotations", {"text": text})
    click.echo("noted")


@click.command(name="stop-all")
@_client_options
def stop_all(control_port: int, control_host: str, token: str | None) -> None:
    """Remove every fault of the game day at once."""
    answer = _call(control_host, control_port, token, "POST", "/api/stop-all")
    removed = answer["removed"]
    click.echo(f"{len(removed)} fault(s) removed" + "".join(f"\n  {f['id']}: {f['description']}" for f in removed))


@click.command(name="next")
@_client_options
def next_step(control_port: int, control_host: str, token: str | None) -> None:
    """Put on the next step of the session's --script."""
    click.echo(_call(control_host, control_port, token, "POST", "/api/next")["description"])


def _fault_line(fault: dict[str, Any]) -> str:
    import time

    left = max(0.0, fault["revert_at"] - time.time())
    return f"{fault['id']}: {fault['description']} (reverts in {left / 60:.1f} min)"


COMMANDS = [gameday, fault, link, users, annotate, stop_all, next_step]
