"""Finding the programs the local stack runs, with one clear line when one is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from harness.errors import StackError

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"


def toxiproxy_server() -> Path:
    configured = os.environ.get("FF_TOXIPROXY_BIN")
    candidates = [Path(configured)] if configured else []
    candidates.append(TOOLS_BIN / "toxiproxy-server")
    on_path = shutil.which("toxiproxy-server")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise StackError(
        "toxiproxy-server 2.12.0 not found (looked at FF_TOXIPROXY_BIN, .tools/bin, PATH): "
        "run `make setup` to build it with go install"
    )


def debian_program(name: str, package: str) -> Path:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        raise StackError(f"{name} not found: install Debian's {package} (`make setup` does, as root)")
    return Path(found)


def postgres_bin_dir() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise StackError("PostgreSQL not found: install Debian's postgresql (`make setup` does, as root)")


def program_version(argv: list[str]) -> str:
    """The first line a program prints for its version, or "unknown"."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else "unknown"


def toxiproxy_version(binary: Path) -> str:
    """go install leaves no version in the binary; setup.sh writes it beside it."""
    stamp = binary.with_name(binary.name + ".version")
    return stamp.read_text().strip() if stamp.is_file() else "unknown (built without a version stamp)"
