"""The ``harness`` command. The only place errors become messages and exit codes.

Exit codes: 0 every SLO held (or some could not be judged: inconclusive,
unless --strict) · 1 an SLO failed (or, with --strict, was inconclusive) ·
2 bad input · 3 infrastructure failure (or nothing measured, or a bug) ·
130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.errors import HarnessError, LoadError, SpecError
from harness.plan import build_plan
from harness.probing import expected_samples, probe_settings, shortfalls
from harness.results import RunStatus, RunVerdict
from harness.slo import Verdict
from harness.spec import load_experiment, resolve_experiment

EXIT_OK, EXIT_SLO_FAILED, EXIT_BAD_INPUT, EXIT_INFRA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


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
def run(experiment: str, step_seconds: float | None, results_dir: Path, backend: str, offline: bool,
        strict: bool) -> None:
    """Run EXPERIMENT (a name from experiments/ or a YAML path)."""
    from harness.console import ConsoleProgress
    from harness.runner import RunOptions, run_experiment
    from harness.stack.select import choose_backend

    spec = load_experiment(resolve_experiment(experiment))
    if step_seconds is not None:
        spec = spec.with_step_seconds(step_seconds)
    chosen, why = choose_backend(backend)
    if offline and chosen != "docker":
        raise SpecError(f"--offline applies to the docker backend, but the {chosen} backend was chosen ({why})")
    console = ConsoleProgress()
    console.use_slos(spec.slos)
    console.note(f"backend: {chosen} ({why})")
    options = RunOptions(results_dir=results_dir, backend=chosen, offline=offline)
    outcome = run_experiment(spec, options, [console])
    click.echo(f"results: {outcome.folder}")
    if outcome.error is not None:
        raise outcome.error
    summary = outcome.summary
    if summary.status == RunStatus.INTERRUPTED:
        sys.exit(EXIT_INTERRUPTED)
    if summary.verdicts_reached == Verdict.NO_DATA:
        # Nothing measured is not "every SLO held".
        raise LoadError("no SLO could be judged: no step holds any sample (see load/*.log in the run folder)")
    sys.exit(exit_code(summary.verdict, summary.verdicts_reached, strict))


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
    """Check experiment files; every problem of every file, each with its field path."""
    problems = []
    for name in files:
        try:
            load_experiment(resolve_experiment(name))
            click.echo(f"{name}: ok")
        except SpecError as exc:
            problems.extend(f"{exc.source or name}: {problem}" for problem in exc.problems)
    if problems:
        raise SpecError(problems)


@cli.command()
@click.argument("experiment")
@click.option("--step-seconds", type=float)
def plan(experiment: str, step_seconds: float | None) -> None:
    """Print the step table of EXPERIMENT and its duration, starting nothing."""
    spec = load_experiment(resolve_experiment(experiment))
    if step_seconds is not None:
        spec = spec.with_step_seconds(step_seconds)
    steps = build_plan(spec)
    for step in steps.steps:
        toxics = "; ".join(t.describe() for t in step.toxics) or "no toxics"
        click.echo(f"step {step.index}: {step.users:>4} users  t={step.start_s:>6.0f} s  "
                   f"window {step.window_start_s:.0f}–{step.end_s:.0f} s  {toxics}")
    click.echo(f"total: {steps.duration_s:.0f} s")
    probes = probe_settings(steps, spec.slos)
    window_s = min((step.window_s for step in steps.steps), default=0.0)
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
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(run_dir: Path) -> None:
    """Rebuild summary.json, steps.csv, junit.xml and report.md from RUN_DIR's journal."""
    from harness.report.markdown import write_markdown
    from harness.results import write_results

    if not (run_dir / "journal.jsonl").is_file():
        raise SpecError(f"{run_dir} has no journal.jsonl: not a run folder")
    try:
        summary = write_results(run_dir)
    except ValueError as exc:
        raise SpecError(str(exc)) from exc
    click.echo(write_markdown(summary, run_dir))


@cli.command()
@click.option("--backend", type=click.Choice(["auto", "docker", "local"]), default="auto", show_default=True)
def cleanup(backend: str) -> None:
    """Remove processes and containers left by runs whose harness died."""
    from harness.stack.select import choose_backend, remove_leftovers

    removed = remove_leftovers(choose_backend(backend)[0])
    for thing in removed:
        click.echo(f"removed {thing}")
    click.echo(f"{len(removed)} leftovers removed")


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
