"""How long and how hard each measurement runs: the full bench and ``--quick``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BenchSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # generator_ratio: alternating plain / recorder runs against nginx
    generator_users: int = 50  # 10 leave Locust's core partly idle (waiting on round trips)
    generator_seconds: float = 15.0
    generator_pairs: int = 5
    # ws_viewers_per_process and memory_per_viewer_kb: one Locust process stepping up
    viewer_counts: tuple[int, ...] = (500, 1000, 2000, 3500, 5000, 7000)
    viewer_spawn_rate: float = 500.0
    viewer_settle_s: float = 3.0
    viewer_hold_s: float = 10.0
    viewer_cpu_limit_percent: float = 50.0
    viewer_push_hz: float = 2.0
    # fidelity: one harness run per link, one latency level per step
    fidelity_levels_ms: tuple[int, ...] = (1, 5, 50, 200, 500)
    fidelity_users: int = 5
    fidelity_step_s: float = 10.0
    # verdict_stability (and host_noise at 100 users): the baseline experiment, repeated
    stability_runs: int = 5
    stability_step_s: float = 15.0
    # host_noise on the idle stack
    hiccup_idle_s: float = 15.0
    # soak: one long step; memory, fds and threads read against their size after the warm-up
    soak_users: int = 100
    soak_s: float = 600.0
    soak_warmup_s: float = 60.0
    # distributed_viewers: one harness run with a Locust master and workers, no fault
    distributed_viewers: int = 500
    distributed_http_users: int = 100  # the viewers must be a whole multiple of them (Locust weights)
    distributed_workers: int = 2
    distributed_spawn_rate: float = 100.0
    distributed_step_s: float = 40.0  # a quarter of it settles (the users ramp up before t0 already)


FULL = BenchSettings()

QUICK = BenchSettings(
    generator_seconds=6.0,
    generator_pairs=2,
    viewer_counts=(500, 1000, 2000),
    viewer_hold_s=5.0,
    fidelity_step_s=6.0,
    stability_runs=2,
    stability_step_s=8.0,
    hiccup_idle_s=5.0,
    soak_s=120.0,
    soak_warmup_s=45.0,
    distributed_step_s=25.0,
)
