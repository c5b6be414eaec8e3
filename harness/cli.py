"""The ``harness`` command. The only place errors become messages and exit codes.

Exit codes: 0 every SLO held (or some could not be judged: inconclusive,
unless --strict) · 1 an SLO failed (or, with --strict, was inconclusive), or
a stop condition aborted the run, or (--baseline) a verdict regressed ·
2 bad input · 3 infrastructure failure (or nothing measured, or a bug) ·
130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.commands import register_commands
from harness.errors import HarnessError, LoadError, SpecError
from harness.overrides import parse_users
from harness.own_stack import StackFlags, choose_stack, stack_options
from harness.plan import Plan, build_plan
from harness.probing import expected_samples, judged_window_s, probe_settings, shortfalls
from harness.results import RunStatus, RunVerdict
from harness.slo import Verdict
from harness.spec import Experiment, is_slo_defaults, load_experiment, load_slo_file, resolve_experiment

USERS_HELP = "Override ramp.users, e.g. 5,10,25."
SET_HELP = "Override one field, e.g. faults.0.levels.2.latency_ms=300 (repeatable)."
EXIT_OK, EXIT_SLO_FAILED, EXIT_BAD_INPUT, EXIT_INFRA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
LOCUST_WEB_PORT = 8089  # Locust's own default


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """FlowForge resilience harness: Toxiproxy faults + Locust step ramps, judged against SLOs."""


@cli.command()
@click.argument("experiment")
@click.option("--step-seconds", type=float, help="Length of every step (smoke runs); settle time shrinks with it.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Where run folders are created.")
@click.option("--backend", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True,
              help="docker: containers through docker-py; local: processes; auto: docker when a Docker API answers.")
@click.option("--offline", is_flag=True,
              help="docker backend without a registry: compose/offline.yaml runs the host's binaries.")
@click.option("--strict", is_flag=True, help="Exit 1 when a verdict is inconclusive, not only when one failed.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=0,
              help="Serve the run's /metrics on 127.0.0.1:PORT (default: a free port, printed at start).")
@click.option("--linger", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds /metrics stays up after the run, for a final scrape.")
@click.option("--observe", is_flag=True,
              help="Start a Prometheus (127.0.0.1, free port) scraping the harness and the backend; "
                   "config and data in the run folder.")
@click.option("--slo-source", type=click.Choice(["harness", "prometheus"]), default="harness", show_default=True,
              help="Judge latency SLOs on the harness's own histograms, or through PromQL "
                   "(histogram_quantile over each step's window; implies --observe).")
@click.option("--web", is_flag=True, help="Keep Locust's web UI (127.0.0.1:8089, or --web-port) while the engine "
              "drives the ramp.")
@click.option("--web-port", type=click.IntRange(1, 65535), help="Port of Locust's web UI (implies --web).")
@click.option("--users", "users_text", help=USERS_HELP)
@click.option("--set", "sets", multiple=True, help=SET_HELP)
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Run Locust as a master and N worker processes on this machine (0: one Locust process).")
@click.option("--master-bind", default="127.0.0.1", show_default=True,
              help="Address the Locust master listens on for workers (with --workers); name another address "
                   "on purpose to let `harness worker` on other machines join.")
@click.option("--baseline", type=click.Path(path_type=Path),
              help="A past run folder to compare this run with afterwards (compare.html in the new run's folder); "
                   "exit 1 when a verdict regressed.")
@stack_options
def run(experiment: str, step_seconds: float | None, results_dir: Path, backend: str, offline: bool,
        strict: bool, metrics_port: int, linger: float, observe: bool, slo_source: str, web: bool,
        web_port: int | None, users_text: str | None, sets: tuple[str, ...], workers: int, master_bind: str,
        baseline: Path | None, stack_flags: StackFlags) -> None:
    """Run EXPERIMENT (a name from experiments/ or a YAML path)."""
    from harness.commands.reports import show_comparison
    from harness.console import ConsoleProgress
    from harness.metrics.exporter import MetricsExporter
    from harness.metrics.observe import prometheus_binary
    from harness.run_folder import read_run
    from harness.runner import RunOptions, run_experiment
    from harness.stack.ports import port_in_use

    path = resolve_experiment(experiment)
    spec = load_experiment(path, parse_users(users_text) if users_text else None, sets)
    if step_seconds is not None:
        spec = spec.with_step_seconds(step_seconds)
    _plan(spec, source=str(path))  # what the plan refuses is bad input, found before anything starts
    before = read_run(baseline) if baseline is not None else None  # so is a baseline that is not a run
    # Your own stack (--compose, --target) and hooks: every one checked before anything starts.
    own, chosen, why = choose_stack(stack_flags, backend, offline, workers, spec)
    if offline and chosen != "docker":
        raise SpecError(f"--offline applies to the docker backend, but the {chosen} backend was chosen ({why})")
    observe = observe or slo_source == "prometheus"
    master_bind = _master_bind(workers, master_bind)
    if web or web_port is not None:
        web_port = web_port or LOCUST_WEB_PORT
        if (why_not := port_in_use(web_port)) is not None:
            raise SpecError(f"--web-port {web_port}: cannot listen on 127.0.0.1 ({why_not})")
    if observe:
        prometheus_binary()  # missing: said now, before anything starts
    console = ConsoleProgress()
    console.use_slos(spec.slos)
    console.note(f"backend: {chosen} ({why})")
    with MetricsExporter(spec.slos, metrics_port) as exporter:
        console.note(f"metrics: {exporter.url}")
        options = RunOptions(results_dir=results_dir, backend=chosen, offline=offline, observe=observe,
                             metrics_address=exporter.address, slo_source=slo_source, web_port=web_port,
                             workers=workers, master_bind=master_bind, own=own)
        outcome = run_experiment(spec, options, [console, exporter])
        click.echo(f"results: {outcome.folder}")
        if outcome.summary.status != RunStatus.INTERRUPTED and linger > 0:
            console.note(f"metrics stay up {linger:g} s for a final scrape (--linger; Ctrl-C ends it)")
            exporter.linger(linger)
    regressed = False
    if before is not None:
        # Shown whatever the run's end (a partial run is compared over its steps); its exit code still ranks first.
        regressed = show_comparison(before, outcome.summary, outcome.folder / "compare.html", strict).regressed
    if (outcome.folder / "report.html").is_file():
        click.echo(f"report: {outcome.folder / 'report.html'}")  # the last word: what to open
    if outcome.error is not None:
        raise outcome.error
    summary = outcome.summary
    if summary.status == RunStatus.INTERRUPTED:
        sys.exit(EXIT_INTERRUPTED)
    if summary.status == RunStatus.ABORTED:
        sys.exit(EXIT_SLO_FAILED)  # a stop condition held: the experiment's own "this broke"
    if summary.verdicts_reached == Verdict.NO_DATA:
        # Nothing measured is not "every SLO held".
        raise LoadError("no SLO could be judged: no step holds any sample (see load/*.log in the run folder)")
    sys.exit(EXIT_SLO_FAILED if regressed else exit_code(summary.verdict, summary.verdicts_reached, strict))


def _master_bind(workers: int, address: str) -> str:
    """--master-bind as an IP address (or * for every interface); only with --workers."""
    import ipaddress

    if address != "127.0.0.1" and not workers:
        raise SpecError(f"--master-bind {address}: there is no Locust master without --workers")
    if address == "*":
        return "0.0.0.0"
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise SpecError(f"--master-bind {address!r}: not an IP address (or * for every interface)") from None


EXIT_MEANINGS = {
    EXIT_OK: "every SLO held (inconclusive verdicts too, unless --strict)",
    EXIT_SLO_FAILED: "an SLO verdict failed (or, with --strict, was inconclusive), or a stop condition aborted "
                     "the run, or (--baseline) a verdict regressed: see the run's report.md",
    EXIT_BAD_INPUT: "bad input (the experiment file or a flag): see the error above",
    EXIT_INFRA: "infrastructure failure (a service, Toxiproxy or Locust), nothing measured, or a bug: "
                "see the error above",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C, SIGTERM or SIGHUP): finished steps are in the run folder",
}


def exit_meaning(code: int) -> str:
    """What ``harness run`` exiting with ``code`` means, in one line (make's wrapper prints it last)."""
    return f"exit {code}: {EXIT_MEANINGS.get(code, 'not an exit code of harness run')}"


def exit_code(verdict: RunVerdict, reached: Verdict, strict: bool) -> int:
    """1 for a failed verdict (or, with --strict, an inconclusive one); 0 otherwise."""
    if verdict == RunVerdict.FAIL or reached == Verdict.FAIL:
        return EXIT_SLO_FAILED
    if strict and (verdict != RunVerdict.PASS or reached != Verdict.PASS):
        return EXIT_SLO_FAILED
    return EXIT_OK


@cli.command()
@click.argument("files", nargs=-1, required=True)
def validate(files: tuple[str, ...]) -> None:
    """Check experiment files (and SLO defaults files) as `run` would; every problem of every file."""
    problems: list[str] = []
    for name in files:
        try:
            click.echo(f"{name}: {_check(name)}")
        except SpecError as exc:
            # An experiment reports its SLO defaults file's problems too: say each once.
            lines = [f"{exc.source or name or repr(name)}: {problem}" for problem in exc.problems]
            problems.extend(line for line in lines if line not in problems)
    if problems:
        raise SpecError(problems)


def _check(name: str) -> str:
    """Everything `run` checks before it starts anything, for one file; what it is, if valid."""
    path = resolve_experiment(name)
    if is_slo_defaults(path):
        load_slo_file(path)
        return "ok (SLO defaults)"
    _plan(load_experiment(path), source=str(path))
    return "ok"


def _plan(spec: Experiment, source: str) -> Plan:
    try:
        return build_plan(spec)
    except SpecError as exc:
        raise SpecError(exc.problems, source=source) from exc


@cli.command()
@click.argument("experiment")
@click.option("--step-seconds", type=float)
@click.option("--users", "users_text", help=USERS_HELP)
@click.option("--set", "sets", multiple=True, help=SET_HELP)
def plan(experiment: str, step_seconds: float | None, users_text: str | None, sets: tuple[str, ...]) -> None:
    """Print the step table of EXPERIMENT and its duration, starting nothing."""
    path = resolve_experiment(experiment)
    spec = load_experiment(path, parse_users(users_text) if users_text else None, sets)
    if step_seconds is not None:
        spec = spec.with_step_seconds(step_seconds)
    steps = _plan(spec, source=str(path))
    for step in steps.steps:
        toxics = "; ".join(t.describe() for t in step.toxics) or "no toxics"
        tag = f"[{step.phase}] " if step.phase else (f"[level {step.level}] " if step.level is not None else "")
        click.echo(f"step {step.index}: {step.users:>4} users  t={step.start_s:>6.0f} s  "
                   f"window {step.window_start_s:.0f}–{step.end_s:.0f} s  {tag}{toxics}")
    click.echo(f"total: {steps.duration_s:.0f} s")
    probes = probe_settings(steps, spec.slos)
    window_s = judged_window_s(steps)
    click.echo("probes (per path: the faulted link and its control proxy, alternated; open model):")
    for tier, settings in probes.items():
        slo = spec.slos.get(tier)
        pace = (f"{settings.pool_size} viewers per path, ~{settings.rate_per_s:g} pushes/s each"
                if tier == "websocket" else
                f"{settings.rate_per_s:g}/s per path, {settings.pool_size} connections per path")
        click.echo(f"  {tier:<12} {pace}, ~{expected_samples(tier, settings, window_s)} samples per path per window"
                   + (f" (SLO {slo.describe()})" if slo else ""))
    for problem in shortfalls(steps, spec.slos, probes):
        click.echo(f"  warning: {problem}")
    if any(t.toxicity < 1.0 for step in steps.steps for t in step.toxics):
        click.echo("toxicity is rolled per connection, not per request: with toxicity t about t of each "
                   "probe's connections carry the toxic for the whole step, and their calls with them")


@cli.command()
@click.argument("experiment")
@click.option("--tier", required=True, help="The tier whose SLO to break (its link carries the fault).")
@click.option("--users", type=click.IntRange(1, 100_000), help="Load to search at (default: the ramp's largest).")
@click.option("--low", type=float, help="Mildest magnitude (default: no latency / the mildest rate asked).")
@click.option("--high", type=float, help="Worst magnitude (default: twice the worst latency asked / 1 KB/s).")
@click.option("--tolerance", type=click.FloatRange(min=0, min_open=True),
              help="Stop when breaking and holding magnitudes are this close (default: 5 % of the range).")
@click.option("--window-seconds", type=click.FloatRange(2, 3600), default=10.0, show_default=True,
              help="Measured time per probe window (plus 5 s of settling).")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True)
@click.option("--backend", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True)
@click.option("--offline", is_flag=True)
def search(experiment: str, tier: str, users: int | None, low: float | None, high: float | None,
           tolerance: float | None, window_seconds: float, results_dir: Path, backend: str, offline: bool) -> None:
    """Find the smallest fault on TIER's link that breaks its SLO, by bisection on one running stack."""
    from harness.console import ConsoleProgress
    from harness.runner import RunOptions, run_experiment
    from harness.search import BreakingPointSearch, default_range, fault_for, search_experiment, windows_needed
    from harness.stack.select import choose_backend

    spec = load_experiment(resolve_experiment(experiment))
    fault = fault_for(spec, tier)
    default_low, default_high = default_range(spec, fault)
    low = default_low if low is None else low
    high = default_high if high is None else high
    if not high > low >= 0:
        raise SpecError(f"--low {low:g} and --high {high:g}: need 0 ≤ low < high")
    tolerance = tolerance if tolerance is not None else 0.05 * (high - low)
    users = users or max(spec.ramp.users)
    steered = BreakingPointSearch(spec, tier, users, low, high, tolerance)
    plan_spec = search_experiment(spec, steered, window_seconds, windows_needed(low, high, tolerance))
    search_plan = build_plan(plan_spec)
    short = [problem for problem in shortfalls(search_plan, plan_spec.slos, probe_settings(search_plan,
                                                                                           plan_spec.slos))
             if problem.startswith(f"{tier}:")]
    if short:
        # Windows too short to decide would only ever be inconclusive: say so before starting anything.
        raise SpecError(f"--window-seconds {window_seconds:g}: {short[0]}")
    chosen, why = choose_backend(backend)
    if offline and chosen != "docker":
        raise SpecError(f"--offline applies to the docker backend, but the {chosen} backend was chosen ({why})")
    console = ConsoleProgress()
    console.use_slos(plan_spec.slos)
    console.note(f"backend: {chosen} ({why}); searching {fault.link.value} {fault.type} from {low:g} to {high:g} "
                 f"at {users} users, tolerance {tolerance:g}")
    outcome = run_experiment(plan_spec, RunOptions(results_dir=results_dir, backend=chosen, offline=offline),
                             [console], steer=steered)
    steered.finish(outcome.summary.steps)
    result = steered.result()
    from harness.journal import Journal
    from harness.report.writer import write_reports

    Journal(outcome.folder / "journal.jsonl").append("search", result=result)
    write_reports(outcome.folder)
    for window in result.windows:
        value = "no data" if window.value_ms is None else f"{window.value_ms:g} ms"
        click.echo(f"  window {window.step}: {fault.type} {window.magnitude:g} → {value}, {window.verdict.value}")
    click.echo(result.sentence())
    click.echo(f"results: {outcome.folder}")
    click.echo(f"report: {outcome.folder / 'report.html'}")
    if outcome.error is not None:
        raise outcome.error
    if outcome.summary.status == RunStatus.INTERRUPTED:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if result.outcome in ("found", "holds-everywhere") else EXIT_SLO_FAILED)


@cli.command(name="list")
def list_experiments() -> None:
    """The experiment catalogue: name, what it does, links and faults touched, planned duration."""
    from harness.spec import EXPERIMENTS_DIR, available_experiments

    rows = []
    for name in available_experiments():
        try:
            spec = load_experiment(EXPERIMENTS_DIR / f"{name}.yaml")
            duration = build_plan(spec).duration_s
        except SpecError as exc:
            rows.append((name, f"(invalid: {exc.problems[0]})", "", ""))
            continue
        faults = ", ".join(dict.fromkeys(f"{fault.link.value} {fault.type}" for fault in spec.faults)) or "none"
        rows.append((name, spec.description.splitlines()[0] if spec.description else "", faults,
                     f"{duration / 60:.1f} min ({spec.schedule})"))
    width = max((len(row[0]) for row in rows), default=4)
    for name, description, faults, duration in rows:
        click.echo(f"{name:<{width}}  {duration:<22}  {faults}")
        if description:
            click.echo(f"{'':<{width}}  {description}")


@cli.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Where to write it ('-': standard output)  [default: schema/experiment.schema.json]")
def schema(output: Path | None) -> None:
    """Write the JSON Schema of the experiment format, generated from the spec's models."""
    from harness.schema import SCHEMA_FILE, render_schema

    text = render_schema()
    if output == Path("-"):
        click.echo(text, nl=False)
        return
    target = output or SCHEMA_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@cli.command()
@click.option("--backend", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True)
def cleanup(backend: str) -> None:
    """Remove processes and containers left by runs whose harness died.

    Processes are found from each dead run's ownership record first (pid and
    start time, so a recycled pid is never touched; with their sessions), then
    by their run label; each is named with its pid and run.
    """
    from harness.stack.select import choose_backend, remove_leftovers

    removed = remove_leftovers(choose_backend(backend)[0])
    for thing in removed:
        click.echo(f"removed {thing}")
    click.echo(f"{len(removed)} leftovers removed")


register_commands(cli)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except click.Abort:
        sys.exit(EXIT_INTERRUPTED)
    except HarnessError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug is not "an SLO failed"
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_INFRA)


if __name__ == "__main__":
    main()
