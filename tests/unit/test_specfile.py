"""harness.specfile: whatever a file holds, plain data or one SpecError naming the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harness.specfile
from harness.errors import SpecError
from harness.specfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_INT, read_spec_file


def _read(folder: Path, content: str | bytes) -> Any:
    path = folder / "file.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return read_spec_file(path)


def _problem(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        read_spec_file(path)
    assert caught.value.source == str(path)
    [problem] = caught.value.problems
    return problem


# --- what is not a readable text file ---------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert _problem(tmp_path / "nope.yaml") == "cannot read the file: No such file or directory"


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert _problem(tmp_path / "dir.yaml") == "is a directory, not a file"


def test_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert _problem(loop) == "cannot read the file: Too many levels of symbolic links (a symlink loop)"


def test_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    assert _problem(link) == "cannot read the file: No such file or directory"


def test_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert _problem(fifo) == "is not a regular file (a device, pipe or socket)"


def test_device_is_refused() -> None:
    assert _problem(Path("/dev/zero")) == "is not a regular file (a device, pipe or socket)"


def test_file_past_the_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    assert _problem(path) == ("is 1.0 MiB; an experiment or SLO file is at most 1 MiB "
                              "(a 1000-step experiment is a few hundred KB)")


def test_file_at_the_size_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_bytes(b"a: 1\n#" + b"x" * (MAX_FILE_BYTES - 7) + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert read_spec_file(path) == {"a": 1}


# --- what YAML may and may not hold ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("", None),
        ("# nothing\n", None),
        ("\ufeffa: 1\n", {"a": 1}),  # a BOM is allowed, as YAML says
        ("a: 2024-01-01\n", {"a": "2024-01-01"}),  # dates stay text
        ("a: 2024-13-45\n", {"a": "2024-13-45"}),  # ...so an impossible one is not a crash
        ("a: =\n", {"a": "="}),
        ("a: 9223372036854775807\n", {"a": MAX_INT}),
        ("a: -9223372036854775807\n", {"a": -MAX_INT}),
        ("a: 1_000\n", {"a": 1000}),
        ("a: .inf\n", {"a": float("inf")}),  # refused later by the field that holds it, with its path
        ("'on': 1\n", {"on": 1}),
        # anchors, aliases and merges within the limits are fine
        ("base: &b {x: 1, y: 2}\nc: {<<: *b, y: 3}\n", {"base": {"x": 1, "y": 2}, "c": {"x": 1, "y": 3}}),
        ("l: &l [1, 2]\nm: *l\n", {"l": [1, 2], "m": [1, 2]}),
    ],
)
def test_plain_data_is_read(tmp_path: Path, text: str, data: Any) -> None:
    assert _read(tmp_path, text) == data


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 9223372036854775808\n", "line 1, column 4: the number '9223372036854775808' is too large "
                                     f"(at most {MAX_INT})"),
        ("a: 0b" + "1" * 64 + "\n", f"line 1, column 4: the number '0b111111111111111111…' is too large "
                                    f"(at most {MAX_INT})"),
        ("a: !!bool maybe\n", "line 1, column 4: cannot read 'maybe' as !!bool (KeyError: 'maybe')"),
        ("a: !!float ''\n", "line 1, column 4: cannot read '' as !!float (IndexError: string index out of range)"),
        ("a: !!binary aGk=\n", "line 1, column 4: the tag !!binary is not allowed: these files hold plain data "
                               "(text, numbers, true/false, null, lists, mappings)"),
        ("a: !!timestamp 2024-01-01\n", "line 1, column 4: the tag !!timestamp is not allowed: these files hold "
                                        "plain data (text, numbers, true/false, null, lists, mappings)"),
        ("a: !!set {x}\n", "line 1, column 4: the tag !!set is not allowed: these files hold plain data "
                           "(text, numbers, true/false, null, lists, mappings)"),
        ("a: !mine x\n", "line 1, column 4: the tag !mine is not allowed: these files hold plain data "
                         "(text, numbers, true/false, null, lists, mappings)"),
        ("~: 1\n", "line 1, column 1: a key is empty (null); every key here is a name"),
        ("2.5: 1\n", "line 1, column 1: the key '2.5' is read as a number; every key here is a name "
                     "(quote it if you mean text)"),
        ("a:\n  b: 1\n  b: 2\n", "line 3, column 3: duplicate key 'b' (first at line 2, column 3): YAML would "
                                 "keep only the last one and silently drop the other; keep one"),
        ("a: [1\n", "not valid YAML: line 2, column 1: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_what_is_refused_and_where(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        _read(tmp_path, text)
    assert caught.value.problems == [problem]


def _depth(data: Any) -> int:
    if isinstance(data, dict):
        return 1 + max(map(_depth, data.values()), default=0)
    if isinstance(data, list):
        return 1 + max(map(_depth, data), default=0)
    return 0


def test_depth_up_to_the_cap_is_read(tmp_path: Path) -> None:
    deepest = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"  # the mapping is one level
    assert _depth(_read(tmp_path, deepest)) == MAX_DEPTH
    with pytest.raises(SpecError, match=f"nested more than {MAX_DEPTH} levels deep"):
        _read(tmp_path, "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")


def test_values_are_counted_with_what_aliases_repeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.specfile, "MAX_VALUES", 13)
    # keys are values too: mapping 1 + a 1 + list 1 + 3 items = 6; b 1 + alias 4 = 11; c 1 + 1 = 13
    assert _read(tmp_path, "a: &x [1, 2, 3]\nb: *x\nc: 1\n") == {"a": [1, 2, 3], "b": [1, 2, 3], "c": 1}
    with pytest.raises(SpecError, match="line 3, column 4: holds more than 13 values"):
        _read(tmp_path, "a: &x [1, 2, 3]\nb: *x\nc: *x\n")


# --- any bytes at all --------------------------------------------------------------------------

# Bytes that steer a random file towards the parser's corners.
YAML_BITS = st.sampled_from([b"&a ", b"*a", b"<<: ", b"!!int ", b"!!bool ", b"!!python/name:os.system ", b"? ",
                             b"- ", b": ", b"\n  ", b"{", b"[", b"]", b"}", b"'", b'"', b"\t", b"~", b"---\n",
                             b"0x", b"9" * 30, b".inf", b"\\u", b"\xff", b"\x00", b"\x85", b"%YAML 1.1\n"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=300), st.lists(YAML_BITS | st.binary(max_size=4), max_size=40).map(b"".join)))
def test_any_bytes_give_data_or_a_spec_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    try:
        read_spec_file(path)
    except SpecError as exc:
        assert exc.source == str(path)
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
