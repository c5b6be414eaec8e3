"""No input can crash the loader: property-based tests through the command line.

Arbitrary bytes, and valid experiments mutated at the data level and edited at
the text level, go through ``harness validate``/``plan``/``run``. Each ends in
exit 0 (the mutation happened to be valid) or exit 2 with a message naming the
file, never a traceback or an "internal error", and ``run`` starts nothing.
Example counts stay modest so the unit suite stays fast; the 25+ classes found
so far are pinned one by one in test_invalid_specs.py.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harness.runner
import harness.stack.select
from harness.cli import EXIT_BAD_INPUT, EXIT_OK, main
from harness.spec import EXPERIMENTS_DIR, available_experiments

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = [EXPERIMENTS_DIR / f"{name}.yaml" for name in available_experiments()] + [
    FIXTURES / "good.yaml", FIXTURES / "every-fault.yaml"]
SEED_TEXTS = [path.read_bytes() for path in SEEDS]
SEED_DATA = [yaml.safe_load(text) for text in SEED_TEXTS]

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("bad input got past the loader")

    monkeypatch.setattr(harness.runner, "run_experiment", refuse)
    monkeypatch.setattr(harness.stack.select, "choose_backend", refuse)


def _cli(argv: list[str]) -> tuple[int, str]:
    """Exit code and stderr of ``harness ARGV``."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = EXIT_OK
        except SystemExit as exc:
            code = EXIT_OK if exc.code is None else int(exc.code)
    return code, err.getvalue()


def _assert_clean_refusal(code: int, err: str, path: Path, content: bytes) -> None:
    assert code == EXIT_BAD_INPUT, (code, err, content[:400])
    assert err.startswith("error: ") and str(path) in err, (err, content[:400])
    assert "Traceback" not in err and "internal error" not in err, (err, content[:400])


@contextlib.contextmanager
def _written(folder: Path, content: bytes) -> Iterator[Path]:
    path = folder / "fuzzed.yaml"
    path.write_bytes(content)
    yield path


# --- arbitrary bytes: always exit 2 -------------------------------------------------------------


@FUZZ
@given(content=st.binary(max_size=400))
def test_arbitrary_bytes_exit_2_from_every_command(tmp_path: Path, content: bytes) -> None:
    with _written(tmp_path, content) as path:
        for argv in (["validate", str(path)], ["plan", str(path)],
                     ["run", str(path), "--results-dir", str(tmp_path / "results")]):
            _assert_clean_refusal(*_cli(argv), path, content)
    assert not (tmp_path / "results").exists()


# --- mutations of valid experiments: exit 0 or a clean exit 2 ------------------------------------

NAMES = st.sampled_from(["name", "ramp", "users", "step_s", "settle_s", "spawn_rate", "faults", "link", "type",
                         "stream", "toxicity", "levels", "latency_ms", "rate_kbps", "slos", "redis", "p99_ms",
                         "description", "<<"])
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["redis", "clickhouse", "latency", "down", "slicer", "downstream", "upstream", "p99_ms",
                     "null", "1e999", "0x10", "2024-13-45", ""]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(NAMES | st.text(max_size=6) | st.integers() | st.booleans() | st.none(), inner, max_size=4),
    max_leaves=8,
)


def _places(data: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, child in children:
        yield from _places(child, (*at, key))


@st.composite
def mutated_experiments(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(SEED_DATA)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        place = draw(st.sampled_from(list(_places(data))))
        if not place:
            continue
        parent = data
        for key in place[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "grow", "repeat"]))
        target = parent[place[-1]]
        if action == "replace":
            parent[place[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[place[-1]]
        elif action == "grow" and isinstance(target, dict):
            target[draw(NAMES | st.text(max_size=6))] = draw(VALUES)
        elif action in ("grow", "repeat") and isinstance(target, list):
            # "repeat" duplicates an entry: a second identical fault, one level too many...
            target.append(copy.deepcopy(draw(st.sampled_from(target))) if target and action == "repeat"
                          else draw(VALUES))
    return data


@FUZZ
@given(data=mutated_experiments())
def test_mutated_experiments_pass_or_are_refused_cleanly(tmp_path: Path, data: Any) -> None:
    content = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()
    with _written(tmp_path, content) as path:
        for argv in (["validate", str(path)], ["plan", str(path)]):
            code, err = _cli(argv)
            if code != EXIT_OK:
                _assert_clean_refusal(code, err, path, content)


EDITS = st.sampled_from([b"&a ", b"*a", b"<<: *a", b"!!int ", b"!!bool ", b"!!float ", b"!!python/object:x ", b"? ",
                         b"- ", b": ", b"\n  ", b"\n", b"{", b"[", b"]", b"'", b'"', b"\t", b"~", b"---\n", b"0x",
                         b"9" * 25, b".nan", b"-", b"\xe9", b"\x07", b"down", b"true"])


@FUZZ
@given(seed=st.sampled_from(SEED_TEXTS),
       edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=6),
                                EDITS | st.binary(max_size=4)), min_size=1, max_size=4))
def test_edited_experiment_text_passes_or_is_refused_cleanly(tmp_path: Path, seed: bytes,
                                                              edits: list[tuple[int, int, bytes]]) -> None:
    text = bytearray(seed)
    for position, removed, inserted in edits:
        at = position % (len(text) + 1)
        text[at:at + removed] = inserted
    content = bytes(text)
    with _written(tmp_path, content) as path:
        for argv in (["validate", str(path)], ["plan", str(path)]):
            code, err = _cli(argv)
            if code != EXIT_OK:
                _assert_clean_refusal(code, err, path, content)


def test_every_seed_is_valid() -> None:
    # The mutations start from valid files, or "exit 0 or 2" would prove little.
    for path in SEEDS:
        assert _cli(["validate", str(path)]) == (EXIT_OK, ""), path
