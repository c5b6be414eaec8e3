"""The host's CPU over a window, from two reads of /proc/stat.

/proc/stat rather than psutil: one read gives the all-cores line and the
core count together, and the parse is a pure function over text that tests
can feed. On the docker backend the containers share this kernel, so the
numbers cover the stores too.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.vantage.views import HostCpu, VantageError

PROC_STAT = Path("/proc/stat")


class CpuTimes(BaseModel):
    """Cumulative all-cores CPU time since boot, in clock ticks (USER_HZ)."""

    model_config = ConfigDict(frozen=True)

    busy_ticks: int
    idle_ticks: int
    iowait_ticks: int
    steal_ticks: int
    cores: int


def parse_proc_stat(text: str) -> CpuTimes:
    """The aggregate ``cpu`` line and the number of ``cpuN`` lines of /proc/stat.

    Columns: user nice system idle iowait irq softirq steal guest guest_nice.
    guest and guest_nice are already counted in user and nice, so they are
    left out; kernels older than 2.6.33 have fewer columns, read as zeros.
    """
    aggregate: list[int] | None = None
    cores = 0
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name == "cpu":
            try:
                aggregate = [int(field) for field in rest.split()]
            except ValueError as exc:
                raise VantageError(f"host: /proc/stat has an unreadable cpu line: {line!r}") from exc
        elif name.startswith("cpu") and name[3:].isdigit():
            cores += 1
    if aggregate is None or len(aggregate) < 4:
        raise VantageError("host: /proc/stat has no aggregate cpu line")
    user, nice, system, idle, iowait, irq, softirq, steal = (aggregate + [0] * 8)[:8]
    return CpuTimes(busy_ticks=user + nice + system + irq + softirq, idle_ticks=idle, iowait_ticks=iowait,
                    steal_ticks=steal, cores=cores)


def cpu_between(start: CpuTimes, end: CpuTimes) -> HostCpu:
    """Shares of the ticks that passed between two reads; all zero when none passed.

    Each difference is clamped at zero: the kernel's iowait counter is known
    to step backwards on tickless (nohz) kernels, and one such step must not
    make the other shares exceed 100.
    """
    busy, idle, iowait, steal = (
        max(0, after - before) for after, before in (
            (end.busy_ticks, start.busy_ticks), (end.idle_ticks, start.idle_ticks),
            (end.iowait_ticks, start.iowait_ticks), (end.steal_ticks, start.steal_ticks),
        )
    )
    elapsed = busy + idle + iowait + steal

    def share(ticks: int) -> float:
        return 100.0 * ticks / elapsed if elapsed else 0.0

    return HostCpu(busy_percent=share(busy), steal_percent=share(steal), iowait_percent=share(iowait),
                   cores=end.cores)


def read_cpu_times(path: Path = PROC_STAT) -> CpuTimes:
    try:
        text = path.read_text()
    except OSError as exc:
        raise VantageError(f"host: cannot read {path}: {exc}") from exc
    return parse_proc_stat(text)
