"""The corpus of invalid experiment files: one file per problem class, each message pinned.

Every file is refused with exactly these problems (naming the file), and
``validate``, ``plan`` and ``run`` all exit 2 on it with no traceback and
nothing started. Problems that are not a file's bytes (a directory, a symlink
loop, a file past the size cap) are in test_specfile.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import harness.runner
import harness.stack.select
from harness.cli import EXIT_BAD_INPUT, main
from harness.errors import SpecError
from harness.spec import load_experiment

CORPUS = Path(__file__).resolve().parent / "fixtures" / "invalid_specs"

KNOWN_TYPES = "bandwidth, down, latency, limit_data, reset_peer, slicer, slow_close, timeout"

EXPECTED: dict[str, list[str]] = {
    # the bytes
    "not-utf8.yaml": ["is not UTF-8 text (byte 0xe9 at line 1, column 10); save it as UTF-8"],
    "binary.yaml": ["holds binary data (a NUL byte at line 1, column 4), not YAML text"],
    "utf16.yaml": ["is UTF-16 text; save it as UTF-8"],
    "empty.yaml": ["the file is empty; it must hold a mapping (name, ramp, faults, slos)"],
    "control-character.yaml": [
        "not valid YAML: line 6, column 19: character U+0007 cannot appear in YAML text (a control character?)"],
    # the YAML
    "yaml-syntax.yaml": ["not valid YAML: line 4, column 9: expected ',' or ']', but got ':'"],
    "tab-indent.yaml": ["not valid YAML: line 3, column 1: found character '\\t' that cannot start any token"],
    "two-documents.yaml": ["line 6, column 1: a second YAML document ('---'); a file holds one experiment"],
    "deep-nesting.yaml": ["line 3, column 45: nested more than 32 levels deep (an experiment needs 5)"],
    "alias-bomb.yaml": [
        "line 8, column 9: holds more than 100,000 values (counting what aliases repeat); an experiment needs far fewer"],
    "alias-cycle.yaml": ["line 6, column 10: alias *ramp is inside the node it names: an endless structure"],
    "undefined-alias.yaml": ["line 6, column 9: alias *faults has no anchor &faults before it"],
    "duplicate-anchor.yaml": ["line 8, column 5: anchor &f is defined twice (first on line 7)"],
    "merge-of-scalar.yaml": ["line 8, column 9: expected a mapping or list of mappings for merging, but found scalar"],
    # the data YAML builds
    "duplicate-key.yaml": [
        "line 9, column 36: duplicate key 'latency_ms' (first at line 9, column 21): YAML would keep only the last "
        "one and silently drop the other; keep one"],
    "number-key.yaml": [
        "line 7, column 3: the key '1' is read as a number; every key here is a name (quote it if you mean text)"],
    "boolean-key.yaml": [
        "line 6, column 1: the key 'on' is read as true/false (YAML 1.1 reads yes/no/on/off so); every key here is "
        "a name (quote it if you mean text)"],
    "complex-key.yaml": ["line 6, column 3: a key is a list or mapping; every key here is a name"],
    "python-tag.yaml": [
        "line 1, column 7: the tag !!python/object/apply:os.system is not allowed: these files hold plain data "
        "(text, numbers, true/false, null, lists, mappings)"],
    "bad-tagged-value.yaml": [
        "line 3, column 14: cannot read 'ten' as !!int (ValueError: invalid literal for int() with base 10: 'ten')"],
    "huge-integer.yaml": ["line 3, column 14: the number '10000000000000000000…' is too large (at most 9223372036854775807)"],
    # the experiment
    "not-a-mapping.yaml": ["the file must hold a mapping (name, ramp, faults, slos)"],
    "missing-ramp.yaml": ["ramp: Field required"],
    "infinite-float.yaml": ["ramp.step_s: Input should be a finite number"],
    "too-many-users.yaml": ["ramp.users.1: must be at most 100000 (a typo?), got 1000000"],
    "too-many-steps.yaml": ["ramp.users: List should have at most 1000 items after validation, not 1001"],
    "step-too-long.yaml": ["ramp.step_s: Input should be less than or equal to 86400"],
    "settle-not-shorter.yaml": [
        "ramp.settle_s: settle_s (10) must be shorter than step_s (10): no time would be left to measure"],
    "unknown-field.yaml": ["ramp.step: unknown field; did you mean 'step_s'?"],
    "unknown-tier.yaml": [
        "slos.Redis: Input should be 'redis', 'materialize', 'clickhouse', 'websocket' or 'http'; did you mean 'redis'?"],
    # the faults
    "unknown-link.yaml": [
        "faults.0.link: Input should be 'redis', 'materialize', 'clickhouse' or 'websocket'; did you mean 'clickhouse'?"],
    "unknown-toxic-type.yaml": [
        f"faults.0.type: unknown toxic type 'latancy'; known: {KNOWN_TYPES}; did you mean 'latency'?"],
    "unknown-level-field.yaml": [
        "faults.0.levels.1.rate_kbps: Field required",
        "faults.0.levels.1.rate: unknown field; did you mean 'rate_kbps'?",
    ],
    "latency-too-large.yaml": ["faults.0.levels.1.latency_ms: Input should be less than or equal to 86400000"],
    "toxicity-out-of-range.yaml": ["faults.0.toxicity: Input should be less than or equal to 1"],
    "slicer-zero-variation.yaml": [
        "faults.0.levels.1.size_variation_bytes: must be at least 1 (Toxiproxy's slicer crashes on 0), got 0"],
    "down-with-stream.yaml": ["faults.0.stream: a link down stops both directions; leave stream out"],
    "down-false.yaml": [
        "faults.0.levels.0: a down level is true or {} (link down for the step) or null (link up), not false"],
    "level-count.yaml": [
        "faults.0.levels: has 3 entries but ramp.users has 2 steps: give one level per step (null for no toxic)"],
    "duplicate-faults.yaml": [
        "faults.1: a second latency downstream fault on link redis (the first is faults.0); merge their levels "
        "into one fault"],
}


def test_the_corpus_and_the_table_match() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_is_refused_with_its_message(name: str) -> None:
    path = CORPUS / name
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    assert caught.value.problems == EXPECTED[name]
    assert caught.value.source == str(path)


@pytest.fixture
def _nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("bad input got past the loader")

    monkeypatch.setattr(harness.runner, "run_experiment", refuse)
    monkeypatch.setattr(harness.stack.select, "choose_backend", refuse)


@pytest.mark.usefixtures("_nothing_starts")
@pytest.mark.parametrize("command", ["validate", "plan", "run"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_command_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                               name: str) -> None:
    path = str(CORPUS / name)
    extra = ["--results-dir", str(tmp_path / "results")] if command == "run" else []
    with pytest.raises(SystemExit) as exited:
        main([command, path, *extra])
    out, err = capsys.readouterr()
    assert exited.value.code == EXIT_BAD_INPUT
    assert out == ""
    assert err.startswith("error: ") and path in err
    assert EXPECTED[name][0] in err
    assert "Traceback" not in err and "internal error" not in err
    assert not (tmp_path / "results").exists()
