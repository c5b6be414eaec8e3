"""Your own stack, for real: a differently built backend from its own compose file (Podman's Docker API),
and a running local stack used as it is through --target, its Toxiproxy left exactly as found.

The ledger (tests/apps/ledger) is not FlowForge: other routes, port 8080, token auth, Redis named
``cache``, no WebSocket, no Toxiproxy in its file (the harness inserts one), its own seed and Locust
user, reached only through its project file's hooks. Runs are two 5 s steps: nothing, then 20 ms on
the Redis link.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest

from harness.stack.base import Endpoints
from harness.stack.docker import RUN_LABEL
from tests.integration.conftest import ROOT, client_with_base_image
from tests.integration.shortrun import events, run_folder, summary_of, wait_for_event
from toxics.client import Toxic, ToxiproxyClient

pytestmark = pytest.mark.integration

LEDGER = ROOT / "tests" / "apps" / "ledger"
INJECTED_MS = 20.0
SPEC = """\
name: {name}
description: 20 ms on the Redis link in the second step
ramp:
  users: [4, 4]
  spawn_rate: 10
  step_s: 5
  settle_s: 1
faults:
  - link: redis
    type: latency
    levels: [null, {{latency_ms: 20}}]
"""
SLOS = "slos:\n  redis: {p99_ms: 10}\n  http: {error_ratio: 0.01}\n"


def write_experiment(folder: Path, name: str) -> Path:
    (folder / "slos.yaml").write_text(SLOS)
    path = folder / f"{name}.yaml"
    path.write_text(SPEC.format(name=name))
    return path


def harness(spec: Path, results: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness", "run", str(spec), "--results-dir", str(results), "--linger", "0",
            *extra]


def assert_redis_link_degrades(summary: dict[str, Any]) -> None:
    steps = summary["steps"]
    assert [s["index"] for s in steps] == [1, 2]
    assert steps[0]["toxics"] == [] and steps[1]["toxics"][0]["link"] == "redis"
    for step in steps:
        assert step["tiers"]["redis"]["count"] > 0 and step["tiers"]["http"]["count"] > 0
    assert steps[0]["tiers"]["redis"]["p50_ms"] < 100  # no fault in step 1 (nor a killed run's 500 ms)
    effect = steps[1]["links"]["redis"]["effective_added_ms"]
    assert INJECTED_MS - 2 <= effect <= INJECTED_MS + 10, f"the redis link added {effect} ms, 20 asked"
    assert steps[1]["slo"]["redis"] == "fail" and steps[1]["cause"]["redis"] == "fault"


# -- the ledger's own compose file ------------------------------------------------------------------


@pytest.fixture(scope="module")
def podman(docker_host: str) -> Iterator[docker.DockerClient]:
    """DOCKER_HOST for the harness's subprocess, the local base image present (the ledger's builds FROM it)."""
    client = client_with_base_image(docker_host)
    yield client
    client.close()


def test_ledger_from_its_compose_file_with_its_hooks_degrades_on_its_redis_link(
        podman: docker.DockerClient, docker_host: str, tmp_path: Path) -> None:
    spec = write_experiment(tmp_path, "ledger-redis-latency")
    results = tmp_path / "results"
    # From the ledger's folder, as a user runs it from their project: its flowforge.toml names the hooks.
    done = subprocess.run(harness(spec, results, "--compose", "compose.yaml", "--offline"), cwd=LEDGER,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DOCKER_HOST": docker_host})
    assert done.returncode == 1, done.stderr[-3000:]  # the redis SLO breaks in step 2: a result, not an error
    folder = run_folder(results)
    summary = summary_of(folder)
    assert summary["status"] == "completed" and summary["backend"] == "docker"
    assert "toxiproxy inserted in front of cache" in summary["notes"]
    assert "seeded by tests.apps.ledger.hooks:seed" in summary["notes"]
    assert_redis_link_degrades(summary)
    steps = summary["steps"]
    # The auth hook's token on every request (401s would be errors) and the seeded accounts found (404s too).
    assert [s["tiers"]["http"]["errors"] for s in steps] == [0, 0]
    # The ledger's users (the users hook) read Redis once per request, through the inserted link.
    added = steps[1]["tiers"]["http"]["p50_ms"] - steps[0]["tiers"]["http"]["p50_ms"]
    assert INJECTED_MS - 5 <= added <= INJECTED_MS + 30, f"ledger p50 rose by {added:.1f} ms with 20 ms injected"
    # backend.websocket false: no websocket link, no viewers, nothing measured there.
    assert all("websocket" not in step["tiers"] for step in steps)
    leftovers = podman.containers.list(all=True, filters={"label": f"{RUN_LABEL}={folder.name}"})
    assert leftovers == []


def test_ledger_with_its_own_toxiproxy_and_its_own_proxy_names(
        podman: docker.DockerClient, docker_host: str, tmp_path: Path) -> None:
    """A second file gives the ledger a Toxiproxy of its own whose proxies are not named after links."""
    spec = write_experiment(tmp_path, "ledger-own-toxiproxy")
    results = tmp_path / "results"
    done = subprocess.run(harness(spec, results, "--compose", "compose.yaml", "--compose", "own-toxiproxy.yaml",
                                  "--offline"), cwd=LEDGER, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DOCKER_HOST": docker_host})
    assert done.returncode == 1, done.stderr[-3000:]
    folder = run_folder(results)
    summary = summary_of(folder)
    assert not any("inserted" in note for note in summary["notes"])
    assert_redis_link_degrades(summary)  # the redis link's toxics went to the proxy named cache
    journal = events(folder)
    toxics = next(e for e in journal if e["event"] == "toxics" and e["step"] == 2)
    assert [t["link"] for t in toxics["active"]] == ["redis"]
    assert next(e for e in journal if e["event"] == "stack-up")["endpoints"]["proxy_names"] == {
        "redis": "cache", "redis-control": "cache-control"}
    assert podman.containers.list(all=True, filters={"label": f"{RUN_LABEL}={folder.name}"}) == []


# -- a running stack, used as it is -----------------------------------------------------------------


def state_of(api: str) -> dict[str, tuple[str, str, bool, list[Toxic]]]:
    """Every proxy with its addresses, whether enabled, and its toxics: what "as found" means."""
    with ToxiproxyClient(api) as client:
        return {name: (p.listen, p.upstream, p.enabled, sorted(p.toxics, key=lambda t: t.name))
                for name, p in client.proxies().items()}


def direct(endpoints: Endpoints, link: str, scheme: str, path: str = "") -> str:
    upstream = endpoints.links[link].upstream
    return f"{scheme}://{upstream.host}:{upstream.port}{path}"


@pytest.fixture(scope="module")
def users_toxiproxy(toxiproxy_url: str, local_stack: tuple[Endpoints, Path, str]) -> Iterator[str]:
    """A Toxiproxy the user runs beside the stack: one proxy of theirs (redis, with their own toxic), nothing else."""
    endpoints = local_stack[0]
    with ToxiproxyClient(toxiproxy_url) as client:
        client.reset()
        for name in client.proxies():
            client.delete_proxy(name)
        client.create_proxy("redis", "127.0.0.1:0", str(endpoints.links["redis"].upstream))
        theirs = Toxic(name="theirs", type="latency", stream="upstream", toxicity=1.0, attributes={"latency": 1})
        client.put_back_toxic("redis", theirs)
    yield toxiproxy_url


def target_flags(endpoints: Endpoints, toxiproxy: str) -> list[str]:
    return ["--target", endpoints.backend, "--toxiproxy", toxiproxy,
            "--redis-url", direct(endpoints, "redis", "redis", "/0"),
            "--clickhouse-url", direct(endpoints, "clickhouse", "http")]


def test_target_mode_uses_the_local_stacks_own_toxiproxy_and_leaves_it_as_found(
        local_stack: tuple[Endpoints, Path, str], tmp_path: Path) -> None:
    endpoints = local_stack[0]
    before = state_of(endpoints.toxiproxy_api)
    spec = write_experiment(tmp_path, "target-redis-latency")
    done = subprocess.run(harness(spec, tmp_path / "results", *target_flags(endpoints, endpoints.toxiproxy_api)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    summary = summary_of(run_folder(tmp_path / "results"))
    assert summary["status"] == "completed" and summary["backend"] == "external"
    assert_redis_link_degrades(summary)
    # Every proxy it needed was there: used as found, and left as found (no toxic, none added or removed).
    assert any("redis (found), redis-control (found)" in note for note in summary["notes"])
    assert state_of(endpoints.toxiproxy_api) == before
    assert all(not toxics for _, _, _, toxics in before.values())
    # Nothing of the stack was stopped: the backend still answers.
    assert httpx.get(f"{endpoints.backend}/healthz", timeout=5).status_code == 200


def test_target_mode_creates_the_proxies_it_needs_and_removes_them(
        local_stack: tuple[Endpoints, Path, str], users_toxiproxy: str, tmp_path: Path) -> None:
    endpoints = local_stack[0]
    before = state_of(users_toxiproxy)
    # What a killed run (SIGKILL: no cleanup) would have left: one of our toxics, 500 ms on the redis link.
    stale = Toxic(name="ff-redis-latency-downstream", type="latency", stream="downstream", toxicity=1.0,
                  attributes={"latency": 500, "jitter": 0})
    with ToxiproxyClient(users_toxiproxy) as client:
        client.put_back_toxic("redis", stale)
    spec = write_experiment(tmp_path, "target-created-proxies")
    done = subprocess.run(harness(spec, tmp_path / "results", *target_flags(endpoints, users_toxiproxy)),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    summary = summary_of(run_folder(tmp_path / "results"))
    assert_redis_link_degrades(summary)
    used = next(note for note in summary["notes"] if "proxies used" in note)
    assert "redis (found), redis-control (created)" in used and "websocket (created)" in used
    assert ("external stack: removed toxic ff-redis-latency-downstream a killed run left on proxy redis"
            in summary["notes"])
    # The user's own proxy kept their toxic through the run's toxics coming and going; ours are gone.
    assert state_of(users_toxiproxy) == before


def test_target_mode_interrupted_mid_fault_leaves_the_toxiproxy_as_found(
        local_stack: tuple[Endpoints, Path, str], users_toxiproxy: str, tmp_path: Path) -> None:
    endpoints = local_stack[0]
    before = state_of(users_toxiproxy)
    spec = write_experiment(tmp_path, "target-interrupted")
    results = tmp_path / "results"
    process = subprocess.Popen(harness(spec, results, *target_flags(endpoints, users_toxiproxy)), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        folder = wait_for_event(process, results, lambda e: e["event"] == "toxics" and e["step"] == 2)
        during = state_of(users_toxiproxy)
        assert "ff-redis-latency-downstream" in [t.name for t in during["redis"][3]]
        assert "websocket-control" in during  # created for this run
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr[-3000:]
    assert summary_of(folder)["status"] == "interrupted"
    assert any(e["event"] == "toxics-cleared" for e in events(folder))
    assert state_of(users_toxiproxy) == before
