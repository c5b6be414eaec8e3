"""Your own stack, before anything starts: flags that go together, remote targets refused, names translated."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from harness.errors import SpecError
from harness.load import targets_of
from harness.own_stack import StackFlags, prepare_own_stack
from harness.spec import Experiment
from harness.stack.base import Address, Endpoints, LinkEndpoint
from harness.stack.external import with_address
from harness.stack.proxy_names import NamedProxiesClient
from harness.stack.reach import remote_hosts
from toxics.schedule import ToxicState

SPEC = Experiment.model_validate({"name": "x", "ramp": {"users": [1]}})
CONTAINERS = ["10.89.0.7"]


def no_containers() -> list[str]:
    return []


@pytest.mark.parametrize(("flags", "backend", "problem"), [
    (StackFlags(compose=(Path("a.yaml"),), target="http://127.0.0.1:1", toxiproxy="http://127.0.0.1:2"), "auto",
     "give one of them"),
    (StackFlags(target="http://127.0.0.1:1"), "auto", "--target and --toxiproxy go together"),
    (StackFlags(toxiproxy="http://127.0.0.1:2"), "auto", "--target and --toxiproxy go together"),
    (StackFlags(redis_url="redis://127.0.0.1:6379/0"), "auto", "--redis-url names a store of a running stack"),
    (StackFlags(allow_remote_target=True), "auto", "--allow-remote-target applies to a running stack"),
    (StackFlags(target="http://127.0.0.1:1", toxiproxy="http://127.0.0.1:2"), "local", "nothing is started"),
    (StackFlags(compose=(Path("a.yaml"),)), "local", "your compose files run on the docker backend"),
])
def test_flags_that_do_not_go_together(tmp_path: Path, flags: StackFlags, backend: str, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        prepare_own_stack(flags, backend, False, 0, SPEC, tmp_path)
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_a_running_stack_that_does_not_answer_is_bad_input(tmp_path: Path) -> None:
    flags = StackFlags(target="http://127.0.0.1:9", toxiproxy="http://127.0.0.1:9")
    with pytest.raises(SpecError, match="--toxiproxy: no Toxiproxy API answers at http://127.0.0.1:9/version"):
        prepare_own_stack(flags, "auto", False, 0, SPEC, tmp_path)


def test_a_bad_hook_in_the_project_file_is_bad_input_before_anything(tmp_path: Path) -> None:
    (tmp_path / "flowforge.toml").write_text('[hooks]\nseed = "nowhere.seed:run"\n')
    with pytest.raises(SpecError, match=r"hooks.seed: 'nowhere.seed:run': module nowhere not found"):
        prepare_own_stack(StackFlags(), "local", False, 0, SPEC, tmp_path)


def test_hooks_alone_keep_the_reference_stack(tmp_path: Path) -> None:
    (tmp_path / "flowforge.toml").write_text('[hooks]\nauth = "json:dumps"\n')
    own, backend = prepare_own_stack(StackFlags(), "local", False, 0, SPEC, tmp_path)
    assert backend == "local" and own is not None and own.compose_files == [] and own.external is None
    hooks = own.load_hooks()
    assert hooks is not None and hooks.auth == "json:dumps" and hooks.python_path == [str(tmp_path.resolve())]


def test_workers_do_not_take_hooks_yet(tmp_path: Path) -> None:
    (tmp_path / "flowforge.toml").write_text('[hooks]\nauth = "json:dumps"\n')
    with pytest.raises(SpecError, match="--workers with an auth or users hook"):
        prepare_own_stack(StackFlags(), "local", False, 2, SPEC, tmp_path)


def test_loopback_needs_nothing() -> None:
    urls = {"--target": "http://127.0.0.1:8000", "--redis-url": "redis://:pw@localhost:6379/0"}
    assert remote_hosts(urls, False, no_containers) == ([], [])


def test_a_container_this_machine_runs_is_allowed_and_said() -> None:
    hosts, notes = remote_hosts({"--target": "http://10.89.0.7:8080"}, False, lambda: CONTAINERS)
    assert hosts == ["10.89.0.7"]
    assert notes == ["--target is container address 10.89.0.7 on this machine"]


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "http://api.example.com", "http://192.168.1.9:80"])
def test_any_other_address_is_refused_without_the_flag(url: str) -> None:
    with pytest.raises(SpecError) as caught:
        remote_hosts({"--target": "http://127.0.0.1:1", "--clickhouse-url": url}, False, lambda: CONTAINERS)
    host = httpx.URL(url).host
    assert caught.value.problems == [
        f"--clickhouse-url: {host} is neither a loopback address nor a container this machine runs; "
        "pass --allow-remote-target to load-test and fault it on purpose"]


def test_the_flag_allows_it_and_the_report_says_so() -> None:
    hosts, notes = remote_hosts({"--target": "http://10.0.0.5:8000"}, True, no_containers)
    assert hosts == ["10.0.0.5"]
    assert notes == ["--allow-remote-target: load and faults went to 10.0.0.5 (--target), an address beyond "
                     "this machine"]


def endpoints(host: str, reachable: list[str]) -> Endpoints:
    link = LinkEndpoint(listen=Address(host=host, port=1), upstream=Address(host="redis", port=6379))
    return Endpoints(backend=f"http://{host}:8080", toxiproxy_api="http://127.0.0.1:8474", links={"redis": link},
                     redis_url=f"redis://{host}:1/0", materialize_dsn="", clickhouse_url="",
                     websocket_url=f"ws://{host}:2", reachable_hosts=reachable)


def test_load_goes_to_hosts_the_stack_vouched_for_only() -> None:
    assert targets_of(endpoints("10.89.0.7", ["10.89.0.7"])).backend == "http://10.89.0.7:8080"
    with pytest.raises(Exception, match="refusing to send load"):
        targets_of(endpoints("10.89.0.7", []))


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://:secret@127.0.0.1:6379/0", "redis://:secret@127.0.0.1:40001/0"),
    ("postgresql://materialize@db:6875/materialize?sslmode=disable",
     "postgresql://materialize@127.0.0.1:40001/materialize?sslmode=disable"),
    ("http://clickhouse:8123", "http://127.0.0.1:40001"),
])
def test_a_store_url_through_a_proxy_keeps_everything_but_the_address(url: str, expected: str) -> None:
    assert with_address(url, Address(host="127.0.0.1", port=40001)) == expected


def test_proxies_are_called_by_the_links_names_whatever_the_stack_named_them() -> None:
    seen: list[tuple[str, str]] = []
    proxy = {"name": "cache", "listen": "[::]:6379", "upstream": "redis:6379", "enabled": True, "toxics": []}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.url.path == "/proxies":
            return httpx.Response(200, json={"cache": proxy, "other": {**proxy, "name": "other"}})
        if request.url.path.endswith("/toxics"):
            return httpx.Response(200, json={**json.loads(request.content), "attributes": {"latency": 5}})
        return httpx.Response(200, json=proxy)

    client = NamedProxiesClient("http://127.0.0.1:8474", {"redis": "cache"})
    client._http = httpx.Client(base_url="http://127.0.0.1:8474", transport=httpx.MockTransport(answer))
    assert sorted(client.proxies()) == ["other", "redis"]
    assert client.proxies()["redis"].name == "redis"
    client.add_toxic("redis", ToxicState(link="redis", type="latency", stream="downstream", toxicity=1.0,
                                         attributes={"latency": 5}))
    client.set_enabled("redis", False)
    client.remove_toxic("redis", "ff-redis-latency-downstream")
    assert seen[2:] == [("POST", "/proxies/cache/toxics"), ("PATCH", "/proxies/cache"),
                        ("DELETE", "/proxies/cache/toxics/ff-redis-latency-downstream")]


def test_harness_run_with_a_bad_hook_exits_2_naming_it_and_starts_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    spec = tmp_path / "hooked.yaml"
    spec.write_text('name: hooked\nramp: {users: [1]}\nhooks:\n  users: "json:JSONDecoder"\n  auth: "nowhere.x:y"\n')
    with pytest.raises(SystemExit) as exited:
        main(["run", str(spec), "--backend", "local", "--results-dir", str(tmp_path / "results")])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "hooks.auth: 'nowhere.x:y': module nowhere not found" in error
    assert "hooks.users: 'json:JSONDecoder': json:JSONDecoder is not a Locust User class" in error
    assert not (tmp_path / "results").exists()


def test_harness_run_refuses_a_remote_target_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    spec = tmp_path / "plain.yaml"
    spec.write_text("name: plain\nramp: {users: [1]}\n")
    with pytest.raises(SystemExit) as exited:
        main(["run", str(spec), "--target", "http://203.0.113.9:8000", "--toxiproxy", "http://127.0.0.1:9",
              "--results-dir", str(tmp_path / "results")])
    assert exited.value.code == 2
    assert "--target: 203.0.113.9 is neither a loopback address nor a container" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
