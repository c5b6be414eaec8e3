"""harness.vantage.host: all-cores busy, steal and iowait shares from two /proc/stat texts."""

from __future__ import annotations

import pytest

from harness.vantage.host import CpuTimes, cpu_between, parse_proc_stat, read_cpu_times
from harness.vantage.views import HostCpu, VantageError

# /proc/stat of a 2-core VM, the long intr line cut short.
PROC_STAT = """\
cpu  4705 356 584 3699 23 0 18 7 0 0
cpu0 1393 280 337 1927 10 0 14 3 0 0
cpu1 3312 76 247 1772 13 0 4 4 0 0
intr 114930548 113199788 3 0 5 263 0 4
ctxt 1990473
btime 1062191376
processes 2915
"""


def test_parse_sums_busy_columns_and_counts_cores() -> None:
    # busy = user + nice + system + irq + softirq; guest columns are inside user already
    assert parse_proc_stat(PROC_STAT) == CpuTimes(busy_ticks=4705 + 356 + 584 + 0 + 18, idle_ticks=3699,
                                                  iowait_ticks=23, steal_ticks=7, cores=2)


def test_parse_old_kernel_with_four_columns() -> None:
    expected = CpuTimes(busy_ticks=15, idle_ticks=85, iowait_ticks=0, steal_ticks=0, cores=1)
    assert parse_proc_stat("cpu 10 0 5 85\ncpu0 10 0 5 85\n") == expected


@pytest.mark.parametrize("text", ["", "intr 1 2 3\n", "cpu  1 2\n", "cpu  a b c d\n"])
def test_parse_refuses_text_without_a_readable_cpu_line(text: str) -> None:
    with pytest.raises(VantageError, match="/proc/stat"):
        parse_proc_stat(text)


def _times(busy: int, idle: int, iowait: int = 0, steal: int = 0) -> CpuTimes:
    return CpuTimes(busy_ticks=busy, idle_ticks=idle, iowait_ticks=iowait, steal_ticks=steal, cores=2)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # 200 ticks passed: 50 busy, 20 steal, 10 iowait, 120 idle
        (_times(1000, 5000, 100, 10), _times(1050, 5120, 110, 30), (25.0, 10.0, 5.0)),
        (_times(0, 0), _times(200, 0), (100.0, 0.0, 0.0)),
        # no tick passed: nothing to share out
        (_times(7, 7), _times(7, 7), (0.0, 0.0, 0.0)),
        # iowait stepping back (nohz kernels) counts as no iowait, not as negative time
        (_times(0, 0, 50), _times(50, 50, 40), (50.0, 0.0, 0.0)),
    ],
)
def test_cpu_between(start: CpuTimes, end: CpuTimes, expected: tuple[float, float, float]) -> None:
    cpu = cpu_between(start, end)
    assert (cpu.busy_percent, cpu.steal_percent, cpu.iowait_percent) == pytest.approx(expected)
    assert cpu.cores == 2


def test_two_reads_of_this_host() -> None:
    cpu = cpu_between(read_cpu_times(), read_cpu_times())
    assert isinstance(cpu, HostCpu) and cpu.cores >= 1
    assert 0 <= cpu.busy_percent <= 100
