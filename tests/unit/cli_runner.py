"""Running ``harness`` in-process as a user would, for the CLI tests."""

from __future__ import annotations

import pytest

from harness.cli import main


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout, stderr of ``harness ARGV``; returning normally counts as 0."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else int(exc.code)
    out, err = capsys.readouterr()
    return code, out, err
