"""Store passwords reach the stores and never the run folder: a real run with password-protected stores.

FLOWFORGE_STORE_PASSWORD makes the local stack's Redis and PostgreSQL
require a password; the backend, the probes, the seed and the server-side
views all connect with it (every tier gets samples on both paths). Then the
whole run folder (journal, summary, report, logs, load plan, ownership
record, configs) and the harness's own output are searched for it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.stack import ownership
from harness.stack.local import PASSWORD_ENV
from harness.stack.ownership import OwnedFolder
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    assert_nothing_left,
    events,
    run_folder,
    run_harness,
    short_spec,
    summary_of,
)

pytestmark = pytest.mark.integration

SPEC = short_spec("secrets", "one short step against password-protected stores", users="[5]")


def test_a_configured_password_is_used_and_never_written(tmp_path: Path) -> None:
    require_local_stack_programs()
    password = f"pw-{uuid.uuid4().hex}"
    spec = tmp_path / "secrets.yaml"
    spec.write_text(SPEC)
    results = tmp_path / "results"
    done = run_harness(spec, results, "--backend", "local", "--linger", "0", env={PASSWORD_ENV: password})
    assert done.returncode in (0, 1), done.stderr[-3000:]
    folder = run_folder(results)

    step = summary_of(folder)["steps"][0]
    for tier in ("redis", "materialize"):
        result = step["tiers"][tier]
        assert result["count"] > 0 and result["control"]["count"] > 0, f"{tier}: the password did not get through"
        assert result["errors"] == 0, step["error_kinds"]
    stack = next(e for e in events(folder) if e["event"] == "stack-up")["endpoints"]
    # The journal keeps the URLs, without what is secret in them.
    assert stack["redis_url"].startswith("redis://:***@127.0.0.1:")
    assert stack["materialize_dsn"].startswith("postgresql://flowforge:***@127.0.0.1:")

    files = [path for path in folder.rglob("*") if path.is_file()]
    assert {"journal.jsonl", "summary.json", "report.md", "owned.jsonl", "plan.json", "backend.log"} <= \
        {path.name for path in files}
    leaked = [str(path.relative_to(folder)) for path in files if password.encode() in path.read_bytes()]
    assert leaked == [], f"the password is written in {leaked}"
    assert password not in done.stdout and password not in done.stderr
    assert_nothing_left(folder)
    # The private files the stores read it from (outside the run folder) are gone with them.
    owned, _ = ownership.read_record(folder / ownership.RECORD_FILE)
    secret_folders = [o.path for o in owned if isinstance(o, OwnedFolder) and "-secret-" in o.path.name]
    assert len(secret_folders) == 2 and not any(path.exists() for path in secret_folders)
