"""The measurement contract between the engine and the load processes.

The engine writes a ``LoadPlan`` (steps, targets, probe settings, where to
write) before it starts Locust and the probe processes, and names it in
FLOWFORGE_LOAD_PLAN; each of those processes writes one ``StepLine`` per step
(per tier, per path: HDR histograms and error counts), which the engine
merges (histograms add up exactly). Both sides import this module; the engine
never imports ``locustfiles`` (importing Locust patches the process with
gevent).

Files, not sockets: they are easy to inspect after a run, and a killed engine
leaves nothing listening. Between Locust's master and its workers, which may
run on machines without a shared disk, the same lines travel as Locust's own
messages (``locustfiles.messages``); the master merges them and writes one
line per step as a single process would, each worker's part named in
``StepLine.workers``.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.histogram import decode, encode, merge
from harness.plan import Plan
from harness.secrets import mask_secrets

PLAN_ENV = "FLOWFORGE_LOAD_PLAN"
# The targets with their credentials: in the environment, never in the plan's file (the run folder).
TARGETS_ENV = "FLOWFORGE_LOAD_TARGETS"
# The name a Locust worker gives its master (the harness's process name), so a lost worker is named as the console named it.
WORKER_NAME_ENV = "FF_WORKER_NAME"

# The path a sample took: through the link that carries the faults, or through
# its control proxy to the same upstream, which never carries one.
SamplePath = Literal["faulted", "control"]
FAULTED: SamplePath = "faulted"
CONTROL: SamplePath = "control"


class Targets(BaseModel):
    """Where load and probes go: the stack's own addresses, nothing else."""

    model_config = ConfigDict(frozen=True)

    backend: str
    websocket_url: str | None = None
    websocket_control_url: str | None = None
    redis_url: str | None = None
    redis_control_url: str | None = None
    materialize_dsn: str | None = None
    materialize_control_dsn: str | None = None
    clickhouse_url: str | None = None
    clickhouse_control_url: str | None = None

    def addresses(self, tier: str) -> tuple[str | None, str | None]:
        """(faulted, control) address a probe of ``tier`` calls: a datastore, or the backend's WebSocket."""
        return {
            "redis": (self.redis_url, self.redis_control_url),
            "materialize": (self.materialize_dsn, self.materialize_control_dsn),
            "clickhouse": (self.clickhouse_url, self.clickhouse_control_url),
            "websocket": (self.websocket_url, self.websocket_control_url),
        }.get(tier, (None, None))


class ProbeSettings(BaseModel):
    """How one probe paces itself; derived from the plan (see harness.probing).

    Datastore probes call at ``rate_per_s`` per path over ``pool_size``
    connections; the WebSocket probe holds ``pool_size`` viewers per path,
    each receiving the backend's pushes at about ``rate_per_s``.
    """

    model_config = ConfigDict(frozen=True)

    rate_per_s: float  # per path (datastores), or per viewer (websocket)
    pool_size: int  # connections (and threads) per path


class LoadHooks(BaseModel):
    """The project's hooks the Locust processes import themselves (``locustfiles.hooks``; see harness.hooks)."""

    model_config = ConfigDict(frozen=True)

    auth: str | None = None  # module.path:attribute, returns each user's headers
    users: str | None = None  # module.path:attribute, a Locust User class replacing the built-in users
    python_path: list[str] = []  # folders the hook modules are imported from


class LoadPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan: Plan
    targets: Targets
    folder: Path
    probes: dict[str, ProbeSettings] = {}
    # Share of WebSocket viewers on the control proxy of the websocket link.
    viewer_control_share: float = 0.5
    # The project's auth and users hooks (None: the built-in users, no extra headers).
    hooks: LoadHooks | None = None

    @property
    def clock_path(self) -> Path:
        return self.folder / "clock.json"

    @property
    def ready_path(self) -> Path:
        return self.folder / "ready"

    @property
    def records_path(self) -> Path:
        return self.folder / "steps.jsonl"

    def probe_tiers(self) -> list[str]:
        return [tier for tier in self.probes if self.targets.addresses(tier)[0]]

    def probe_ready_path(self, tier: str) -> Path:
        return self.folder / f"probe-{tier}-ready"

    def probe_records_path(self, tier: str) -> Path:
        return self.folder / f"probe-{tier}-steps.jsonl"

    def write(self) -> Path:
        """The plan's file, passwords masked: the load processes read the real targets from TARGETS_ENV."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "plan.json"
        masked = Targets(**{name: mask_secrets(url) if url else url for name, url in self.targets.model_dump().items()})
        path.write_text(self.model_copy(update={"targets": masked}).model_dump_json(indent=2))
        return path


def in_control_group(number: int, share: float) -> bool:
    """Whether viewer ``number`` (0, 1, 2, …) is in the control group: an even spread of ``share``."""
    return math.floor((number + 1) * share) > math.floor(number * share)


def load_from_env() -> LoadPlan | None:
    path = os.environ.get(PLAN_ENV)
    if not path:
        return None
    load = LoadPlan.model_validate_json(Path(path).read_text())
    targets = os.environ.get(TARGETS_ENV)
    return load.model_copy(update={"targets": Targets.model_validate_json(targets)}) if targets else load


def write_clock(path: Path, t0: float) -> None:
    """Atomically: the reader never sees half a file."""
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"t0": t0}))
    partial.replace(path)


def live_path(records_path: Path) -> Path:
    """Where the live snapshot beside a records file goes (steps.jsonl → steps.live.json)."""
    return records_path.with_name(records_path.stem + ".live.json")


# Live snapshots last at most this long (the console's live line, the /metrics feed).
LIVE_PERIOD_S = 5.0


def live_cut_after(plan: Plan, elapsed_s: float, period_s: float = LIVE_PERIOD_S) -> float:
    """The plan time at which the live snapshot holding ``elapsed_s`` ends (always later than it).

    Every load process cuts its snapshots at the same plan times: each step's
    window start and end, and between them at equal parts no longer than
    ``period_s``. So a snapshot lies wholly inside one step's window or
    outside every window, and Prometheus's copy of the counts (stamped with
    these times) can be differenced exactly at a window's edges.
    """
    edges = sorted({0.0, *(s.window_start_s for s in plan.steps), *(s.end_s for s in plan.steps)})
    if elapsed_s < 0:
        return 0.0
    for start, end in zip(edges, edges[1:], strict=False):
        if start <= elapsed_s < end:
            parts = max(1, math.ceil((end - start) / period_s - 1e-9))
            k = math.floor((elapsed_s - start) * parts / (end - start)) + 1
            return end if k >= parts else start + k * (end - start) / parts
    last = edges[-1]
    return last + (math.floor((elapsed_s - last) / period_s) + 1) * period_s


class Series(BaseModel):
    """Samples of one tier on one path in one window: latencies (HDR, µs) and failures by kind."""

    hdr: str | None = None
    errors: int = 0
    error_kinds: dict[str, int] = {}


class TierSeries(BaseModel):
    """One tier's series in one window.

    ``faulted`` is what is judged: for paced probes its latencies count from
    each call's intended send time (open model, as wrk2 does), so a stalled
    probe cannot hide a stall; ``faulted_service`` and ``control_service``
    hold the same calls timed from their actual send (service time).
    """

    faulted: Series = Series()
    control: Series | None = None
    faulted_service: Series | None = None
    control_service: Series | None = None


SERIES_FIELDS = ("faulted", "control", "faulted_service", "control_service")


class WorkerShare(BaseModel):
    """One user-running Locust process's part of a step: its users, its CPU, its samples.

    ``worker`` is Locust's worker index (0, 1, …) under a master, None for a
    single Locust process. A worker ``lost`` during the step (killed, cut
    off) sent no line: its samples of the step are missing from the merge,
    and ``users`` is what the master last saw it run.
    """

    model_config = ConfigDict(frozen=True)

    worker: int | None = None
    host: str = ""
    name: str = ""  # what the worker calls itself (FF_WORKER_NAME): the harness's process name, locust-worker-N
    users: int | None = None  # running when the window closed
    generator_cpu_percent: float | None = None
    samples: dict[str, int] = {}  # per tier, the faulted path's latency samples this process recorded
    lost: bool = False

    def label(self) -> str:
        if self.worker is None:
            return "the Locust process"
        where = " on ".join(part for part in (self.name, self.host) if part)
        return f"worker {self.worker}" + (f" ({where})" if where else "")


def share_of(line: StepLine, worker: int | None, host: str, name: str = "") -> WorkerShare:
    """The part ``line`` (one process's own line) stands for, with its faulted samples counted per tier."""
    samples = {tier: decode(series.faulted.hdr).get_total_count() if series.faulted.hdr else 0
               for tier, series in line.tiers.items()}
    return WorkerShare(worker=worker, host=host, name=name, users=line.users,
                       generator_cpu_percent=line.generator_cpu_percent, samples=samples)


class StepLine(BaseModel):
    """What one load process (or all of them, merged) measured in one step's window."""

    index: int
    window: tuple[float, float] | None = None
    users: int | None = None  # only Locust runs users; probes report none
    generator_cpu_percent: float | None = None
    tiers: dict[str, TierSeries] = {}
    hiccup: Series | None = None  # how late a 1 ms sleep woke, in the probe processes
    # Cumulative per step index: replies that came after that step's line was written.
    late: dict[str, int] = {}
    sources: int = 1
    expected_sources: int | None = None
    # The Locust processes that ran users, each with its part (probes run none).
    workers: list[WorkerShare] = []


def merge_series(items: list[Series | None]) -> Series | None:
    present = [item for item in items if item is not None]
    if not present:
        return None
    encoded = [item.hdr for item in present if item.hdr]
    kinds: Counter[str] = Counter()
    for item in present:
        kinds.update(item.error_kinds)
    return Series(hdr=encode(merge(encoded)) if encoded else None, errors=sum(item.errors for item in present),
                  error_kinds=dict(kinds))


def merge_lines(lines: list[StepLine]) -> StepLine:
    """One step's lines from several processes → one line: histograms merged, errors summed."""
    tiers: dict[str, TierSeries] = {}
    for tier in dict.fromkeys(tier for line in lines for tier in line.tiers):
        parts = [line.tiers[tier] for line in lines if tier in line.tiers]
        merged = {name: merge_series([getattr(part, name) for part in parts]) for name in SERIES_FIELDS}
        tiers[tier] = TierSeries(**{**merged, "faulted": merged["faulted"] or Series()})
    late: Counter[str] = Counter()
    for line in lines:
        late.update(line.late)
    cpus = [line.generator_cpu_percent for line in lines if line.generator_cpu_percent is not None]
    # Users add up: under a master each worker runs its share (probes report none).
    users = [line.users for line in lines if line.users]
    return StepLine(
        index=lines[0].index,
        window=next((line.window for line in lines if line.window), None),
        users=sum(users) if users else None,
        generator_cpu_percent=max(cpus) if cpus else None,
        tiers=tiers,
        hiccup=merge_series([line.hiccup for line in lines]),
        late=dict(late),
        sources=len(lines),
        workers=[share for line in lines for share in line.workers],
    )
