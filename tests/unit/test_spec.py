"""harness.spec: experiment YAML → Experiment, every problem at once with its field path."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import SpecError
from harness.spec import (
    EXPERIMENTS_DIR,
    Experiment,
    TierSlo,
    available_experiments,
    load_experiment,
    load_slo_file,
    resolve_experiment,
)

# A valid two-step ramp that the invalid cases below extend with one mistake each.
BASE = "name: x\nramp:\n  users: [5, 10]\n  step_s: 10\n  settle_s: 2\n"
LATENCY_FAULT = "faults:\n  - {link: redis, type: latency, levels: [null, {latency_ms: 1}]}\n"
DEFAULT_SLOS = {
    "redis": TierSlo(p99_ms=1),
    "materialize": TierSlo(p99_ms=10),
    "clickhouse": TierSlo(p95_ms=500),
    "websocket": TierSlo(p95_ms=200),
    "http": TierSlo(error_ratio=0.01),
}


def _write(folder: Path, text: str, name: str = "exp.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(folder: Path, text: str) -> list[str]:
    path = _write(folder, text)
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    assert caught.value.source == str(path)
    return caught.value.problems


INVALID = [
    pytest.param(
        "name: x\nramp: [1, 2\n",
        ["not valid YAML: line 3, column 1: expected ',' or ']', but got '<stream end>'"],
        id="yaml-unclosed-list",
    ),
    pytest.param(
        "name: x\nramp:\n  users: [5\n  step_s: 3\n",
        ["not valid YAML: line 4, column 9: expected ',' or ']', but got ':'"],
        id="yaml-line-and-column",
    ),
    pytest.param(
        "name: x\n\tramp: 1\n",
        ["not valid YAML: line 2, column 1: found character '\\t' that cannot start any token"],
        id="yaml-tab",
    ),
    pytest.param("- a\n- b\n", ["the file must hold a mapping (name, ramp, faults, slos)"], id="not-mapping-list"),
    pytest.param("hello\n", ["the file must hold a mapping (name, ramp, faults, slos)"], id="not-mapping-scalar"),
    pytest.param("", ["the file is empty; it must hold a mapping (name, ramp, faults, slos)"], id="empty-file"),
    pytest.param("# only a comment\n", ["the file is empty; it must hold a mapping (name, ramp, faults, slos)"],
                 id="comment-only"),
    pytest.param("name: x\n", ["ramp: Field required"], id="missing-ramp"),
    pytest.param("ramp: {users: [5]}\n", ["name: Field required"], id="missing-name"),
    pytest.param("name: x\nramp: 5\n", ["ramp: Input should be a valid dictionary or instance of Ramp"],
                 id="ramp-not-mapping"),
    pytest.param(
        "name: x\nramp: {users: []}\n",
        ["ramp.users: List should have at least 1 item after validation, not 0"],
        id="users-empty",
    ),
    pytest.param(
        "name: x\nramp: {users: [five]}\n",
        ["ramp.users.0: Input should be a valid integer, unable to parse string as an integer"],
        id="users-not-int",
    ),
    pytest.param("name: x\nramp: {users: [5], spawn_rate: 0}\n", ["ramp.spawn_rate: Input should be greater than 0"],
                 id="spawn-rate-0"),
    pytest.param(
        "name: x\nramp: {users: [5], step_s: 10, settle_s: 10}\n",
        ["ramp.settle_s: settle_s (10) must be shorter than step_s (10): no time would be left to measure"],
        id="settle-equals-step",
    ),
    pytest.param(
        "name: x\nramp: {users: [5], step_s: 10, settle_s: 12.5}\n",
        ["ramp.settle_s: settle_s (12.5) must be shorter than step_s (10): no time would be left to measure"],
        id="settle-longer-than-step",
    ),
    pytest.param(BASE + "colour: red\n", ["colour: unknown field; known: name, description, ramp, schedule, phases, "
                                         "faults, slos, stop_when, on_store_crash, hooks"],
                 id="unknown-top-field"),
    pytest.param("name: x\nramp: {users: [5], speed: 3}\n",
                 ["ramp.speed: unknown field; known: users, spawn_rate, step_s, settle_s"], id="unknown-ramp-field"),
    pytest.param("name: x\nramp: {users: [5], step: 3}\n", ["ramp.step: unknown field; did you mean 'step_s'?"],
                 id="misspelt-ramp-field"),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: latency, levels: [null, {latency_ms: 1}], extra: 1}\n",
        ["faults.0.extra: unknown field; known: link, type, stream, toxicity, levels"],
        id="unknown-fault-field",
    ),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: latency, levels: [null, {latency_ms: 1, foo: 2}]}\n",
        ["faults.0.levels.1.foo: unknown field; known: latency_ms, jitter_ms"],
        id="unknown-level-field",
    ),
    pytest.param(BASE + "slos:\n  redis: {p99_ms: 1, p42_ms: 3}\n",
                 ["slos.redis.p42_ms: unknown field; known: p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, error_ratio"],
                 id="unknown-slo-field"),
    pytest.param(
        BASE + "faults:\n  - {link: kafka, type: latency, levels: [null, {latency_ms: 1}]}\n",
        ["faults.0.link: Input should be 'redis', 'materialize', 'clickhouse' or 'websocket'"],
        id="unknown-link",
    ),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: jitter, levels: [null, {latency_ms: 1}]}\n",
        ["faults.0.type: unknown toxic type 'jitter'; known: bandwidth, down, latency, limit_data, reset_peer, "
         "slicer, slow_close, timeout"],
        id="unknown-toxic-type",
    ),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: latency, levels: [null, {latency_ms: -5}]}\n",
        ["faults.0.levels.1.latency_ms: Input should be greater than or equal to 0"],
        id="negative-latency",
    ),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: latency, levels: [null, {}]}\n",
        ["faults.0.levels.1.latency_ms: Field required"],
        id="empty-level-is-not-a-pause",
    ),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: bandwidth, levels: [{rate_kbps: 0}, null]}\n",
        ["faults.0.levels.0.rate_kbps: Input should be greater than 0"],
        id="rate-kbps-0",
    ),
    pytest.param(
        BASE + "faults:\n  - {link: redis, type: latency, toxicity: 1.5, levels: [null, {latency_ms: 1}]}\n",
        ["faults.0.toxicity: Input should be less than or equal to 1"],
        id="toxicity-1.5",
    ),
    pytest.param(
        BASE + "slos:\n  redis: {}\n",
        ["slos.redis: give at least one of p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, error_ratio"],
        id="slo-without-bound",
    ),
    pytest.param(BASE + "slos:\n  redis: {p99_ms: 0}\n", ["slos.redis.p99_ms: Input should be greater than 0"],
                 id="slo-bound-0"),
    pytest.param(BASE + "slos:\n  http: {error_ratio: 2}\n",
                 ["slos.http.error_ratio: Input should be less than or equal to 1"], id="slo-error-ratio-2"),
    pytest.param(BASE + "slos: [1]\n", ["slos: Input should be a valid dictionary"], id="slos-not-mapping"),
    pytest.param(
        "name: Bad_Name\nramp: {users: [5]}\n",
        ["name: String should match pattern '^[a-z0-9][a-z0-9-]*$'"],
        id="name-uppercase-underscore",
    ),
    pytest.param(
        "name: -x\nramp: {users: [5]}\n",
        ["name: String should match pattern '^[a-z0-9][a-z0-9-]*$'"],
        id="name-leading-dash",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid_spec_reports_exact_problem(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert _problems(tmp_path, text) == expected


# The module promises `field.path: message` lines (its docstring's own example is
# `ramp.users.2: …`). These cases check the path a user reads; see the report for
# the ones the code currently gets wrong.
@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        pytest.param("name: x\nramp: {users: [5, 0]}\n", "ramp.users.1", "0", id="users-0"),
        pytest.param("name: x\nramp: {users: [-3]}\n", "ramp.users.0", "-3", id="users-negative"),
        pytest.param(BASE + "faults:\n  - {link: redis, type: latency, levels: [null, {latency_ms: 1}, "
                     "{latency_ms: 2}]}\n", "faults.0.levels", "3", id="more-levels-than-steps"),
        pytest.param(BASE + "faults:\n  - {link: redis, type: latency, levels: [null]}\n",
                     "faults.0.levels", "1", id="fewer-levels-than-steps"),
        pytest.param(BASE + "slos:\n  kafka: {p99_ms: 1}\n", "slos.kafka", "redis", id="unknown-slo-tier"),
    ],
)
def test_problem_line_starts_with_its_field_path(tmp_path: Path, text: str, path: str, words: str) -> None:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: "), problems[0]
    assert words in problems[0].removeprefix(f"{path}: ")


def test_unknown_slo_tier_names_the_known_tiers(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, BASE + "slos:\n  kafka: {p99_ms: 1}\n")
    assert "kafka" in problem
    assert "'redis', 'materialize', 'clickhouse', 'websocket' or 'http'" in problem


def test_levels_count_mismatch_says_how_many_of_each(tmp_path: Path) -> None:
    [problem] = _problems(
        tmp_path, BASE + "faults:\n  - {link: redis, type: latency, levels: [null, {latency_ms: 1}, {latency_ms: 2}]}\n"
    )
    assert "3 entries" in problem and "2 steps" in problem


def test_several_errors_in_one_file_are_reported_together(tmp_path: Path) -> None:
    text = (
        "name: Bad Name\n"
        "colour: red\n"
        "ramp:\n  users: [5, 10]\n  spawn_rate: 0\n"
        "faults:\n"
        "  - {link: kafka, type: latency, toxicity: 1.5, levels: [null, {latency_ms: -1}]}\n"
        "  - {link: redis, type: bandwidth, levels: [{rate_kbps: 0}, null]}\n"
        "slos:\n  redis: {}\n"
    )
    problems = _problems(tmp_path, text)
    assert sorted(problems) == sorted([
        "name: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
        "colour: unknown field; known: name, description, ramp, schedule, phases, faults, slos, stop_when, on_store_crash, hooks",
        "ramp.spawn_rate: Input should be greater than 0",
        "faults.0.link: Input should be 'redis', 'materialize', 'clickhouse' or 'websocket'",
        "faults.0.toxicity: Input should be less than or equal to 1",
        "faults.0.levels.1.latency_ms: Input should be greater than or equal to 0",
        "faults.1.levels.0.rate_kbps: Input should be greater than 0",
        "slos.redis: give at least one of p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, error_ratio",
    ])
    path = tmp_path / "exp.yaml"
    message = str(SpecError(problems, source=str(path)))
    assert message.startswith(f"{path}: 8 problems:\n  - ")


def test_every_ramp_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "name: x\nramp: {users: [0, 5, -1], step_s: 10, settle_s: 10}\n")
    joined = "\n".join(problems)
    assert len(problems) == 3, problems
    assert "got 0" in joined and "got -1" in joined and "settle_s (10)" in joined


def test_levels_mismatch_is_reported_alongside_other_errors(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, BASE + "colour: red\nfaults:\n  - {link: redis, type: latency, levels: [null]}\n"
    )
    assert "colour: unknown field; known: name, description, ramp, schedule, phases, faults, slos, stop_when, on_store_crash, hooks" in problems
    assert any("levels" in p for p in problems), problems


def test_every_fault_with_wrong_level_count_is_reported(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        BASE + "faults:\n  - {link: redis, type: latency, levels: [null]}\n"
        "  - {link: clickhouse, type: latency, levels: [null, null, null]}\n",
    )
    assert len(problems) == 2, problems


def test_a_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    assert caught.value.problems == ["cannot read the file: No such file or directory"]
    assert caught.value.source == str(path)


# --- valid files and SLO defaults -------------------------------------------------------------


def test_valid_spec_gets_defaults_and_catalogue_slos(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, BASE + LATENCY_FAULT))
    assert experiment.name == "x"
    assert experiment.ramp.users == [5, 10]
    assert experiment.ramp.spawn_rate == 10.0
    assert (experiment.ramp.step_s, experiment.ramp.settle_s) == (10.0, 2.0)
    [fault] = experiment.faults
    assert (fault.link.value, fault.type, fault.stream, fault.toxicity) == ("redis", "latency", "downstream", 1.0)
    assert fault.levels[0] is None
    assert fault.levels[1].attributes() == {"latency": 1, "jitter": 0}
    assert experiment.slos == DEFAULT_SLOS


def test_own_slo_replaces_that_tier_only(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, BASE + "slos:\n  redis: {error_ratio: 0.05}\n"))
    assert experiment.slos["redis"] == TierSlo(error_ratio=0.05)
    assert experiment.slos["redis"].p99_ms is None
    assert {tier: slo for tier, slo in experiment.slos.items() if tier != "redis"} == {
        tier: slo for tier, slo in DEFAULT_SLOS.items() if tier != "redis"
    }


def test_slos_yaml_beside_the_file_wins_over_the_catalogue(tmp_path: Path) -> None:
    _write(tmp_path, "slos:\n  redis: {p99_ms: 2}\n", name="slos.yaml")
    experiment = load_experiment(_write(tmp_path, BASE))
    assert experiment.slos == {"redis": TierSlo(p99_ms=2)}


def test_bad_slos_yaml_beside_the_file_is_named(tmp_path: Path) -> None:
    defaults = _write(tmp_path, "redis: {p99_ms: 2}\n", name="slos.yaml")
    with pytest.raises(SpecError) as caught:
        load_experiment(_write(tmp_path, BASE))
    assert caught.value.problems == ["must hold a mapping under 'slos'"]
    assert caught.value.source == str(defaults)


def test_slo_describe_reads_like_the_slo() -> None:
    assert TierSlo(p99_ms=1).describe() == "p99 < 1 ms"
    assert TierSlo(p95_ms=500, error_ratio=0.01).describe() == "p95 < 500 ms, errors < 1.0%"
    assert TierSlo(p999_ms=20).bounds() == {99.9: 20}


@pytest.mark.parametrize("name", available_experiments())
def test_every_catalogue_experiment_loads(name: str) -> None:
    experiment = load_experiment(EXPERIMENTS_DIR / f"{name}.yaml")
    assert experiment.name == name
    assert set(experiment.slos) == set(DEFAULT_SLOS)


def test_catalogue_lists_experiments_but_not_slo_defaults() -> None:
    names = available_experiments()
    assert "baseline" in names and "clickhouse-latency" in names
    assert "slos" not in names
    assert names == sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml") if p.name != "slos.yaml")


# --- resolve_experiment -----------------------------------------------------------------------


def test_resolve_by_name() -> None:
    assert resolve_experiment("clickhouse-latency") == EXPERIMENTS_DIR / "clickhouse-latency.yaml"


def test_resolve_existing_path_stays_a_path(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    assert resolve_experiment(str(path)) == path


def test_resolve_unknown_name_lists_known_ones() -> None:
    with pytest.raises(SpecError) as caught:
        resolve_experiment("no-such-experiment")
    known = ", ".join(available_experiments())
    assert caught.value.problems == [
        f"no experiment named 'no-such-experiment' in {EXPERIMENTS_DIR} (known: {known})"
    ]
    assert "baseline" in known


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_resolve_missing_path(tmp_path: Path, suffix: str) -> None:
    missing = str(tmp_path / f"missing{suffix}")
    with pytest.raises(SpecError) as caught:
        resolve_experiment(missing)
    assert caught.value.problems == [f"experiment file {missing} does not exist"]


# --- with_step_seconds ------------------------------------------------------------------------


def _experiment(settle_s: float = 10.0) -> Experiment:
    return Experiment.model_validate(
        {"name": "x", "ramp": {"users": [5, 10], "step_s": 60, "settle_s": settle_s}}
    )


@pytest.mark.parametrize(
    ("step_s", "settle_s"),
    [(8, 2.0), (8.0, 2.0), (2, 1.0), (3, 1.0), (20, 5.0), (120, 10.0)],
)
def test_with_step_seconds(step_s: float, settle_s: float) -> None:
    shorter = _experiment().with_step_seconds(step_s)
    assert (shorter.ramp.step_s, shorter.ramp.settle_s) == (float(step_s), settle_s)
    assert shorter.ramp.settle_s < shorter.ramp.step_s
    assert shorter.ramp.users == [5, 10]


def test_with_step_seconds_never_lengthens_settle() -> None:
    assert _experiment(settle_s=0).with_step_seconds(8).ramp.settle_s == 0


def test_with_step_seconds_leaves_the_original_alone() -> None:
    original = _experiment()
    original.with_step_seconds(8)
    assert (original.ramp.step_s, original.ramp.settle_s) == (60.0, 10.0)


@pytest.mark.parametrize(("value", "shown"), [(1.9, "1.9"), (1, "1"), (0, "0"), (-5, "-5"), (-0.5, "-0.5")])
def test_with_step_seconds_rejects_steps_too_short_to_settle_and_measure(value: float, shown: str) -> None:
    with pytest.raises(SpecError) as caught:
        _experiment().with_step_seconds(value)
    assert caught.value.problems == [
        f"--step-seconds must be at least 2 (1 s to settle, 1 s to measure), got {shown}"]


# --- the fixture files the CLI tests use ------------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_good_fixture_loads() -> None:
    experiment = load_experiment(FIXTURES / "good.yaml")
    assert experiment.name == "fixture-good"
    assert experiment.slos["redis"] == TierSlo(p99_ms=2)
    assert experiment.slos["clickhouse"] == DEFAULT_SLOS["clickhouse"]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("bad-*.yaml")))
def test_bad_fixtures_are_refused(name: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_experiment(FIXTURES / name)
    assert caught.value.problems


# --- refused at read time what used to pass (issue 7) -----------------------------------------

TWO_STEPS = "name: x\nramp: {users: [5, 10], step_s: 10, settle_s: 2}\n"


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        pytest.param(
            "  - {link: redis, type: latency, levels: [null, {latency_ms: 1}]}\n"
            "  - {link: redis, type: latency, levels: [{latency_ms: 5}, null]}\n",
            ["faults.1: a second latency downstream fault on link redis (the first is faults.0); "
             "merge their levels into one fault"],
            id="same-link-type-stream-even-on-other-steps",
        ),
        pytest.param(
            "  - {link: materialize, type: down, levels: [null, true]}\n"
            "  - {link: redis, type: latency, levels: [null, {latency_ms: 1}]}\n"
            "  - {link: materialize, type: down, levels: [true, null]}\n",
            ["faults.2: a second down fault on link materialize (the first is faults.0); "
             "merge their levels into one fault"],
            id="two-downs-on-one-link",
        ),
        pytest.param(
            "  - {link: redis, type: latency, levels: [null, {latency_ms: 1}]}\n"
            "  - {link: redis, type: latency, stream: upstream, levels: [null, {latency_ms: 1}]}\n"
            "  - {link: redis, type: latency, stream: upstream, toxicity: 2, levels: [null]}\n",
            ["faults.2.toxicity: Input should be less than or equal to 1",
             "faults.2: a second latency upstream fault on link redis (the first is faults.1); "
             "merge their levels into one fault",
             "faults.2.levels: has 1 entries but ramp.users has 2 steps: give one level per step (null for no toxic)"],
            id="reported-alongside-other-problems",
        ),
    ],
)
def test_duplicate_faults_are_refused_with_their_path(tmp_path: Path, faults: str, expected: list[str]) -> None:
    assert _problems(tmp_path, TWO_STEPS + "faults:\n" + faults) == expected


def test_duplicate_faults_are_refused_by_the_model_too() -> None:
    fault = {"link": "redis", "type": "latency", "levels": [None, {"latency_ms": 1}]}
    with pytest.raises(ValidationError) as caught:
        Experiment.model_validate({"name": "x", "ramp": {"users": [5, 10]}, "faults": [fault, fault]})
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("faults", 1), "a second latency downstream fault on link redis (the first is faults.0); "
                        "merge their levels into one fault")]


def test_compound_faults_on_several_links_are_one_experiment(tmp_path: Path) -> None:
    experiment = load_experiment(_write(tmp_path, TWO_STEPS + "faults:\n"
                                        "  - {link: redis, type: latency, levels: [null, {latency_ms: 5}]}\n"
                                        "  - {link: clickhouse, type: latency, levels: [null, {latency_ms: 50}]}\n"
                                        "  - {link: materialize, type: down, levels: [null, true]}\n"))
    assert [(f.link.value, f.type) for f in experiment.faults] == [
        ("redis", "latency"), ("clickhouse", "latency"), ("materialize", "down")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nramp: {users: [100000]}\n", None),
        ("name: x\nramp: {users: [100001]}\n", ["ramp.users.0: must be at most 100000 (a typo?), got 100001"]),
        ("name: x\nramp: {users: [" + ", ".join(["1"] * 1000) + "]}\n", None),
        ("name: x\nramp: {users: [1], step_s: 86400}\n", None),
        ("name: x\nramp: {users: [1], step_s: 86400.5}\n", ["ramp.step_s: Input should be less than or equal to 86400"]),
        ("name: x\nramp: {users: [1], spawn_rate: 100001}\n",
         ["ramp.spawn_rate: Input should be less than or equal to 100000"]),
        ("name: x\nramp: {users: [1], spawn_rate: .nan}\n", ["ramp.spawn_rate: Input should be a finite number"]),
        ("name: x\nramp: {users: [1], settle_s: -.inf}\n", ["ramp.settle_s: Input should be a finite number"]),
        ("name: x\nramp: {users: [1]}\nslos: {redis: {p99_ms: .inf}}\n",
         ["slos.redis.p99_ms: Input should be a finite number"]),
        (BASE + "faults:\n  - {link: redis, type: latency, toxicity: .nan, levels: [null, {latency_ms: 1}]}\n",
         ["faults.0.toxicity: Input should be a finite number"]),
        ("name: x\nramp: {users: [1]}\ndescription: " + "x" * 1001 + "\n",
         ["description: String should have at most 1000 characters"]),
    ],
)
def test_bounds_on_numbers_and_sizes(tmp_path: Path, text: str, expected: list[str] | None) -> None:
    if expected is None:
        load_experiment(_write(tmp_path, text))
    else:
        assert _problems(tmp_path, text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BASE + "ramp2: {}\n", "ramp2: unknown field; did you mean 'ramp'?"),
        ("name: x\nramp: {users: [5], setle_s: 1}\n", "ramp.setle_s: unknown field; did you mean 'settle_s'?"),
        (BASE + "faults:\n  - {link: redis, typ: latency, type: latency, levels: [null, {latency_ms: 1}]}\n",
         "faults.0.typ: unknown field; did you mean 'type'?"),
        (BASE + "faults:\n  - {link: redis, type: slicer, levels: [null, {average_size_bytes: 9, "
                "size_variation_bytes: 1, delay_ms: 3}]}\n",
         "faults.0.levels.1.delay_ms: unknown field; did you mean 'delay_us'?"),
        (BASE + "faults:\n  - {link: Redis, type: latency, levels: [null, {latency_ms: 1}]}\n",
         "faults.0.link: Input should be 'redis', 'materialize', 'clickhouse' or 'websocket'; did you mean 'redis'?"),
        (BASE + "faults:\n  - {link: redis, type: latency, stream: Downstream, levels: [null, {latency_ms: 1}]}\n",
         "faults.0.stream: Input should be 'upstream' or 'downstream'; did you mean 'downstream'?"),
        (BASE + "faults:\n  - {link: redis, type: reset-peer, levels: [null, {timeout_ms: 1}]}\n",
         "faults.0.type: unknown toxic type 'reset-peer'; known: bandwidth, down, latency, limit_data, reset_peer, "
         "slicer, slow_close, timeout; did you mean 'reset_peer'?"),
        (BASE + "slos:\n  clickhose: {p95_ms: 5}\n",
         "slos.clickhose: Input should be 'redis', 'materialize', 'clickhouse', 'websocket' or 'http'; "
         "did you mean 'clickhouse'?"),
    ],
)
def test_unknown_names_get_the_nearest_valid_one(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in _problems(tmp_path, text)


# --- the SLO defaults file ---------------------------------------------------------------------


def test_slo_defaults_go_through_the_hardened_reader(tmp_path: Path) -> None:
    defaults = _write(tmp_path, "slos:\n  redis: {p99_ms: 1}\n  redis: {p99_ms: 2}\n", name="slos.yaml")
    with pytest.raises(SpecError) as caught:
        load_experiment(_write(tmp_path, BASE))
    assert caught.value.source == str(defaults)
    assert caught.value.problems == [
        "line 3, column 3: duplicate key 'redis' (first at line 2, column 3): YAML would keep only the last one "
        "and silently drop the other; keep one"]


def test_slo_defaults_are_validated_as_slos_with_their_own_paths(tmp_path: Path) -> None:
    defaults = _write(tmp_path, "slos:\n  redis: {p99_ms: -1}\n  kafka: {p99_ms: 1}\ncolour: red\n", name="slos.yaml")
    with pytest.raises(SpecError) as caught:
        load_slo_file(defaults)
    assert caught.value.source == str(defaults)
    assert caught.value.problems == [
        "slos.redis.p99_ms: Input should be greater than 0",
        "slos.kafka: Input should be 'redis', 'materialize', 'clickhouse', 'websocket' or 'http'",
        "colour: unknown field; known: slos",
    ]


def test_the_catalogue_slo_defaults_file_is_valid() -> None:
    assert load_slo_file(EXPERIMENTS_DIR / "slos.yaml").slos == DEFAULT_SLOS


def test_the_slo_defaults_file_is_not_an_experiment() -> None:
    with pytest.raises(SpecError) as caught:
        load_experiment(EXPERIMENTS_DIR / "slos.yaml")
    assert caught.value.problems == [
        "is the SLO defaults file (slos per tier), not an experiment; `harness validate` checks it, "
        "run and plan need an experiment"]


def test_a_broken_slos_yaml_beside_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "slos.yaml").mkdir()
    with pytest.raises(SpecError) as caught:
        load_experiment(_write(tmp_path, BASE))
    assert (caught.value.source, caught.value.problems) == (str(tmp_path / "slos.yaml"), ["is a directory, not a file"])


# --- names and paths ----------------------------------------------------------------------------


def test_resolve_a_misspelt_name_suggests_the_nearest() -> None:
    with pytest.raises(SpecError) as caught:
        resolve_experiment("clickhose-latency")
    [problem] = caught.value.problems
    assert problem.startswith(f"no experiment named 'clickhose-latency' in {EXPERIMENTS_DIR}; "
                              "did you mean 'clickhouse-latency'? (known: ")


def test_resolve_an_empty_name() -> None:
    with pytest.raises(SpecError, match="an experiment name or file is needed, got an empty one"):
        resolve_experiment("")


def test_resolve_leaves_unreadable_paths_to_the_reader(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert resolve_experiment(str(tmp_path / "dir.yaml")) == tmp_path / "dir.yaml"
    assert resolve_experiment(str(loop)) == loop
    with pytest.raises(SpecError, match="is a directory, not a file"):
        load_experiment(tmp_path / "dir.yaml")


@pytest.mark.parametrize(("value", "message"), [
    (float("nan"), "--step-seconds must be at least 2 (1 s to settle, 1 s to measure), got nan"),
    (86_401, "--step-seconds must be at most 86400 (a day), got 86401"),
    (float("inf"), "--step-seconds must be at most 86400 (a day), got inf"),
])
def test_with_step_seconds_refuses_nan_and_huge(value: float, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        _experiment().with_step_seconds(value)
    assert caught.value.problems == [message]
