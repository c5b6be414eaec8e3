"""A game day as a run: its measurement windows, SLOs and halt conditions, and its probes' headroom (pure)."""

from __future__ import annotations

import pytest
import yaml

from harness.errors import SpecError
from harness.gameday.session import HEADROOM_MS, GameDaySettings, gameday_experiment, gameday_probes
from harness.plan import build_plan
from harness.probing import probe_settings
from harness.spec import Experiment


def test_the_session_is_a_row_of_equal_windows_at_the_starting_users() -> None:
    experiment = gameday_experiment(GameDaySettings(users=25, window_s=60, max_duration_s=3600))
    plan = build_plan(experiment)
    assert experiment.name == "gameday" and experiment.faults == []
    assert len(plan.steps) == 60 and {step.users for step in plan.steps} == {25}
    # No settling: every second of the session is in some window.
    assert all(step.window_start_s == step.start_s for step in plan.steps)
    assert [step.start_s for step in plan.steps[1:3]] == [60.0, 120.0]
    assert set(experiment.slos) == {"redis", "materialize", "clickhouse", "websocket", "http"}


def test_no_users_still_plans_a_valid_ramp() -> None:
    assert gameday_experiment(GameDaySettings(users=0, max_duration_s=600)).ramp.users[0] == 1


def test_too_many_windows_is_bad_input_naming_both_flags() -> None:
    with pytest.raises(SpecError, match="--max-duration 4 h in windows of 5 s is 2880 windows"):
        gameday_experiment(GameDaySettings(window_s=5, max_duration_s=4 * 3600))


def test_a_script_brings_its_slos_and_halt_conditions() -> None:
    script = Experiment.model_validate(yaml.safe_load("""
name: brownout
ramp: {users: [5, 10]}
faults: [{link: redis, type: latency, levels: [null, {latency_ms: 3}]}]
slos: {redis: {p99_ms: 2}}
stop_when: [{tier: redis, p99_ms_above: 50, for_s: 5}]
on_store_crash: stop
"""))
    experiment = gameday_experiment(GameDaySettings(script=script, max_duration_s=600))
    assert experiment.name == "gameday-brownout"
    assert experiment.slos == script.slos and experiment.stop_when == script.stop_when
    assert experiment.on_store_crash == "stop"
    assert experiment.faults == [], "the script's faults come by 'next', not by the plan"


def test_the_probes_keep_pace_through_unplanned_faults() -> None:
    experiment = gameday_experiment(GameDaySettings(max_duration_s=600))
    plan = build_plan(experiment)
    planned, sized = probe_settings(plan, experiment.slos), gameday_probes(plan, experiment)
    for tier in ("redis", "materialize", "clickhouse"):
        # Enough connections that a call HEADROOM_MS slow does not hold up the schedule.
        assert sized[tier].pool_size >= planned[tier].pool_size
        assert sized[tier].pool_size >= min(64, sized[tier].rate_per_s * HEADROOM_MS / 1000)
    assert sized["clickhouse"].pool_size > planned["clickhouse"].pool_size
