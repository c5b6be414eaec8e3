"""harness.stack.compose: compose files → a typed Project (interpolate, merge, validate, order)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import SpecError
from harness.stack.compose import (
    SUPPORTED_KEYS,
    HealthCheck,
    Project,
    Service,
    Volume,
    load_project,
)

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "compose"
REAL_ENV = {
    "FF_REPO": "/work/main",
    "FF_PYTHON_PREFIX": "/usr",
    "FF_TOXIPROXY_BIN": "/work/main/.tools/bin/toxiproxy-server",
    "FF_PG_BIN": "/usr/lib/postgresql/15/bin",
}


# --------------------------------------------------------------------------- helpers


def _write(folder: Path, doc: dict[str, Any] | str, name: str = "compose.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _files(folder: Path, *docs: dict[str, Any] | str) -> list[Path]:
    return [_write(folder, doc, f"compose{i}.yaml") for i, doc in enumerate(docs)]


def _load(folder: Path, *docs: dict[str, Any] | str, env: dict[str, str] | None = None) -> Project:
    return load_project(_files(folder, *docs), env or {})


def _problems(folder: Path, *docs: dict[str, Any] | str, env: dict[str, str] | None = None) -> list[str]:
    files = _files(folder, *docs)
    with pytest.raises(SpecError) as caught:
        load_project(files, env or {})
    assert caught.value.source == ", ".join(str(f) for f in files)
    return caught.value.problems


def _one(folder: Path, **service: Any) -> Service:
    """Load a file holding one service `s` (image `img` unless given) and return it."""
    return _load(folder, {"services": {"s": {"image": "img", **service}}}).services["s"]


def _one_problems(folder: Path, **service: Any) -> list[str]:
    return _problems(folder, {"services": {"s": {"image": "img", **service}}})


def _names(services: list[Service]) -> list[str]:
    return [s.name for s in services]


# --------------------------------------------------------------------------- reading


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as caught:
        load_project([missing], {})
    assert caught.value.source == str(missing)
    assert caught.value.problems[0].startswith("cannot read the compose file")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("services: [a\n", "not valid YAML", id="bad-yaml"),
        pytest.param("- a\n- b\n", "a compose file must be a mapping", id="list"),
        pytest.param("hello\n", "a compose file must be a mapping", id="scalar"),
        pytest.param("", "a compose file must be a mapping", id="empty"),
    ],
)
def test_unreadable_content(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        load_project([path], {})
    assert caught.value.source == str(path)
    assert caught.value.problems[0].startswith(expected)


def test_minimal_service_defaults(tmp_path: Path) -> None:
    service = _one(tmp_path)
    assert service == Service(name="s", image="img")
    assert service.build is None and service.healthcheck is None and service.command is None


def test_service_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, {"services": {"web": "nginx"}})
    with pytest.raises(SpecError) as caught:
        load_project([path], {})
    assert caught.value.problems == [f"{path}: services.web: must be a mapping"]


def test_service_without_image_or_build(tmp_path: Path) -> None:
    assert _problems(tmp_path, {"services": {"s": {"command": "true"}}}) == ["services.s: needs an image or a build"]


# --------------------------------------------------------------------------- interpolation


INTERPOLATED = [
    pytest.param("${A}", {"A": "x"}, "x", id="braced"),
    pytest.param("pre-${A}-post", {"A": "x"}, "pre-x-post", id="inside-text"),
    pytest.param("${A}${B}", {"A": "x", "B": "y"}, "xy", id="two-adjacent"),
    pytest.param("${A}", {"A": ""}, "", id="set-empty"),
    pytest.param("${A:-d}", {}, "d", id="colon-dash-unset"),
    pytest.param("${A:-d}", {"A": ""}, "d", id="colon-dash-empty"),
    pytest.param("${A:-d}", {"A": "x"}, "x", id="colon-dash-set"),
    pytest.param("${A:-}", {}, "", id="colon-dash-empty-default"),
    pytest.param("${A:-/a/b c}", {}, "/a/b c", id="colon-dash-default-with-slash-space"),
    pytest.param("${A-d}", {}, "d", id="dash-unset"),
    pytest.param("${A-d}", {"A": ""}, "", id="dash-empty-stays-empty"),
    pytest.param("${A-d}", {"A": "x"}, "x", id="dash-set"),
    pytest.param("${A:?need A}", {"A": "x"}, "x", id="colon-question-set"),
    pytest.param("${A?need A}", {"A": ""}, "", id="question-empty-allowed"),
    pytest.param("${A?need A}", {"A": "x"}, "x", id="question-set"),
    pytest.param("$$", {}, "$", id="escape-alone"),
    pytest.param("a$$b", {}, "a$b", id="escape-inside"),
    pytest.param("$${A}", {"A": "x"}, "${A}", id="escape-braced-stays-literal"),
    pytest.param("$$$${A}", {}, "$${A}", id="double-escape"),
    pytest.param("$${A}-${A}", {"A": "x"}, "${A}-x", id="escape-then-real"),
    pytest.param("no variables", {}, "no variables", id="plain"),
    pytest.param("cost: 5$", {}, "cost: 5$", id="lone-dollar-kept"),
]


@pytest.mark.parametrize(("template", "env", "expected"), INTERPOLATED)
def test_interpolation(tmp_path: Path, template: str, env: dict[str, str], expected: str) -> None:
    project = _load(tmp_path, {"services": {"s": {"image": "img", "environment": {"V": template}}}}, env=env)
    assert project.services["s"].environment["V"] == expected


UNSET = [
    pytest.param("${A}", {}, ["${A} is not set"], id="unset"),
    pytest.param("${A}-${B}", {}, ["${A} is not set", "${B} is not set"], id="two-unset"),
    pytest.param("${A:?need A}", {}, ["${A} must be set: need A"], id="colon-question-unset"),
    pytest.param("${A:?need A}", {"A": ""}, ["${A} must be set: need A"], id="colon-question-empty"),
    pytest.param("${A?need A}", {}, ["${A} must be set: need A"], id="question-unset"),
    pytest.param("${A:?}", {}, ["${A} must be set: required"], id="colon-question-no-message"),
    pytest.param("${A?}", {}, ["${A} must be set: required"], id="question-no-message"),
]


@pytest.mark.parametrize(("template", "env", "messages"), UNSET)
def test_interpolation_problems(tmp_path: Path, template: str, env: dict[str, str], messages: list[str]) -> None:
    files = _files(tmp_path, {"services": {"s": {"image": "img", "environment": {"V": template}}}})
    with pytest.raises(SpecError) as caught:
        load_project(files, env)
    assert caught.value.problems == [f"{files[0]}: {m}" for m in messages]


def test_interpolation_reaches_nested_lists_and_mappings_but_not_keys(tmp_path: Path) -> None:
    doc = {
        "x-meta": {"owner": "${WHO}"},
        "services": {"s": {
            "image": "repo/img:${TAG}",
            "command": ["run", "--dir=${DIR}"],
            "healthcheck": {"test": ["CMD", "${DIR}/check"], "interval": "${EVERY}"},
            "labels": {"${KEY}": "v"},
        }},
    }
    project = _load(tmp_path, doc, env={"WHO": "me", "TAG": "1.2", "DIR": "/opt", "EVERY": "7s", "KEY": "k"})
    service = project.services["s"]
    assert service.image == "repo/img:1.2"
    assert service.command == ["run", "--dir=/opt"]
    assert service.healthcheck is not None
    assert service.healthcheck.argv == ["/opt/check"]
    assert service.healthcheck.interval_s == 7.0
    assert service.labels == {"${KEY}": "v"}
    assert project.extensions == {"x-meta": {"owner": "me"}}


def test_env_none_reads_the_process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_TEST_COMPOSE_TAG", "from-os")
    path = _write(tmp_path, {"services": {"s": {"image": "img:${FF_TEST_COMPOSE_TAG}"}}})
    assert load_project([path]).services["s"].image == "img:from-os"


# --------------------------------------------------------------------------- merging


def test_mappings_merge_key_by_key(tmp_path: Path) -> None:
    base = {"services": {"s": {
        "image": "img",
        "environment": ["A=1", "B=2"],
        "labels": {"team": "a", "tier": "x"},
        "depends_on": ["db", "cache"],
        "healthcheck": {"test": ["CMD", "probe"], "interval": "2s", "retries": 5},
    }, "db": {"image": "db"}, "cache": {"image": "cache"}}}
    override = {"services": {"s": {
        "environment": {"B": "20", "C": "3"},
        "labels": ["tier=y", "extra=z"],
        "depends_on": {"db": {"condition": "service_healthy"}},
        "healthcheck": {"interval": "9s"},
    }}}
    service = _load(tmp_path, base, override).services["s"]
    assert service.environment == {"A": "1", "B": "20", "C": "3"}
    assert service.labels == {"team": "a", "tier": "y", "extra": "z"}
    assert service.depends_on == {"db": "service_healthy", "cache": "service_started"}
    assert service.healthcheck == HealthCheck(argv=["probe"], interval_s=9.0, retries=5)


def test_a_later_healthcheck_can_disable_an_earlier_one(tmp_path: Path) -> None:
    base = {"services": {"s": {"image": "img", "healthcheck": {"test": ["CMD", "probe"]}}}}
    override = {"services": {"s": {"healthcheck": {"disable": True}}}}
    assert _load(tmp_path, base, override).services["s"].healthcheck is None


def test_volumes_merge_by_target(tmp_path: Path) -> None:
    base = {"services": {"s": {"image": "img", "volumes": ["/a:/data", "/b:/logs", "/cache"]}}}
    override = {"services": {"s": {"volumes": ["/c:/data:ro", "named:/cache", "/d:/extra"]}}}
    assert _load(tmp_path, base, override).services["s"].volumes == [
        Volume(source="/c", target="/data", read_only=True),
        Volume(source="/b", target="/logs"),
        Volume(source="named", target="/cache", bind=False),
        Volume(source="/d", target="/extra"),
    ]


REPLACED = [
    pytest.param("command", ["a", "1"], ["b"], ["b"], id="command"),
    pytest.param("entrypoint", "/bin/a", "/bin/b -x", ["/bin/b", "-x"], id="entrypoint"),
    pytest.param("ports", ["8000", "9000"], ["7000"], [7000], id="ports"),
    pytest.param("tmpfs", ["/run", "/tmp"], "/var", {"/var": ""}, id="tmpfs"),
    pytest.param("networks", ["a", "b"], ["c"], ["c"], id="networks"),
    pytest.param("user", "1000", "postgres", "postgres", id="user"),
    pytest.param("working_dir", "/a", "/b", "/b", id="working_dir"),
    pytest.param("profiles", ["p"], ["q", "r"], ["q", "r"], id="profiles"),
    pytest.param("image", "img:1", "img:2", "img:2", id="image"),
]


@pytest.mark.parametrize(("key", "first", "second", "expected"), REPLACED)
def test_other_keys_are_replaced(tmp_path: Path, key: str, first: Any, second: Any, expected: Any) -> None:
    base = {"services": {"s": {"image": "img", key: first}}}
    override = {"services": {"s": {key: second}}}
    assert getattr(_load(tmp_path, base, override).services["s"], key) == expected


BUILD_AND_IMAGE = [
    pytest.param({"build": "./a", "image": "x"}, {"image": "y"}, "y", False, id="later-image-drops-build"),
    pytest.param({"build": "./a"}, {"image": "y"}, "y", False, id="later-image-drops-build-without-image"),
    pytest.param({"build": "./a", "image": "x"}, {"image": "y", "build": "./b"}, "y", True,
                 id="later-image-and-build-keep-build"),
    pytest.param({"image": "x"}, {"build": "./b"}, "x", True, id="later-build-keeps-image"),
    pytest.param({"build": "./a", "image": "x"}, {"command": "c"}, "x", True, id="untouched"),
]


@pytest.mark.parametrize(("first", "second", "image", "has_build"), BUILD_AND_IMAGE)
def test_image_and_build_across_files(
    tmp_path: Path, first: dict[str, Any], second: dict[str, Any], image: str, has_build: bool
) -> None:
    service = _load(tmp_path, {"services": {"s": first}}, {"services": {"s": second}}).services["s"]
    assert service.image == image
    assert (service.build is not None) == has_build


def test_services_from_several_files_are_united(tmp_path: Path) -> None:
    project = _load(
        tmp_path,
        {"x-a": 1, "x-b": {"k": "v"}, "services": {"one": {"image": "1"}}},
        {"x-a": 2, "services": {"two": {"image": "2", "depends_on": ["one"]}}},
    )
    assert list(project.services) == ["one", "two"]
    assert project.extensions == {"x-a": 2, "x-b": {"k": "v"}}


# --------------------------------------------------------------------------- relative paths


def test_relative_paths_resolve_against_their_files_folder(tmp_path: Path) -> None:
    base = _write(tmp_path / "a", {"services": {"s": {
        "build": "./ctx",
        "volumes": ["./data:/data", "../shared:/shared:ro", ".hidden:/hidden", "/abs:/abs", "named:/named", "/anon"],
    }}})
    other = _write(tmp_path / "b" / "deep", {"services": {"t": {
        "build": {"context": "..", "dockerfile": "Dockerfile.t"},
        "volumes": ["./x:/x"],
    }}})
    project = load_project([base, other], {})
    s, t = project.services["s"], project.services["t"]
    assert s.build is not None and s.build.context == tmp_path / "a" / "ctx"
    assert s.build.dockerfile == "Dockerfile"
    assert s.volumes == [
        Volume(source=str(tmp_path / "a" / "data"), target="/data"),
        Volume(source=str(tmp_path / "shared"), target="/shared", read_only=True),
        Volume(source=str(tmp_path / "a" / ".hidden"), target="/hidden"),
        Volume(source="/abs", target="/abs"),
        Volume(source="named", target="/named", bind=False),
        Volume(source="", target="/anon", bind=False),
    ]
    assert t.build is not None and t.build.context == tmp_path / "b"
    assert t.build.dockerfile == "Dockerfile.t"
    assert t.volumes == [Volume(source=str(tmp_path / "b" / "deep" / "x"), target="/x")]


def test_a_relative_override_volume_replaces_the_base_one_with_the_same_target(tmp_path: Path) -> None:
    base = _write(tmp_path / "a", {"services": {"s": {"image": "i", "volumes": ["./one:/data"]}}})
    over = _write(tmp_path / "b", {"services": {"s": {"volumes": ["./two:/data:ro"]}}})
    service = load_project([base, over], {}).services["s"]
    assert service.volumes == [Volume(source=str(tmp_path / "b" / "two"), target="/data", read_only=True)]


# --------------------------------------------------------------------------- unsupported keys


@pytest.mark.parametrize("key", ["restart", "deploy", "container_name", "env_file", "extra_hosts", "x-meta"])
def test_unsupported_service_key_is_refused_naming_file_service_and_key(tmp_path: Path, key: str) -> None:
    files = _files(tmp_path, {"services": {"web": {"image": "img", key: "anything"}}})
    with pytest.raises(SpecError) as caught:
        load_project(files, {})
    [problem] = caught.value.problems
    assert problem.startswith(f"{files[0]}: services.web.{key}: not supported by the docker backend")
    for supported in SUPPORTED_KEYS:
        assert supported in problem


def test_unsupported_key_in_a_later_file_names_that_file(tmp_path: Path) -> None:
    files = _files(tmp_path, {"services": {"web": {"image": "img"}}}, {"services": {"web": {"restart": "always"}}})
    with pytest.raises(SpecError) as caught:
        load_project(files, {})
    [problem] = caught.value.problems
    assert problem.startswith(f"{files[1]}: services.web.restart: not supported")


@pytest.mark.parametrize("key", ["configs", "secrets", "include", "extensions"])
def test_unknown_top_level_key_is_refused(tmp_path: Path, key: str) -> None:
    files = _files(tmp_path, {key: {"a": 1}, "services": {"s": {"image": "img"}}})
    with pytest.raises(SpecError) as caught:
        load_project(files, {})
    assert caught.value.problems == [f"{files[0]}: {key}: not supported by the docker backend"]


def test_known_top_level_keys_and_extensions_are_accepted(tmp_path: Path) -> None:
    project = _load(tmp_path, {
        "version": "3.9", "name": "ff", "x-common": {"a": [1, 2]},
        "networks": {"n": {}}, "volumes": {"v": {}}, "services": {"s": {"image": "img"}},
    })
    assert project.extensions == {"x-common": {"a": [1, 2]}}


def test_file_without_services(tmp_path: Path) -> None:
    assert _load(tmp_path, {"x-only": True}).services == {}


# --------------------------------------------------------------------------- ports


PORTS = [
    pytest.param(8474, 8474, id="int"),
    pytest.param("8474", 8474, id="string"),
    pytest.param("8474/tcp", 8474, id="tcp-suffix"),
    pytest.param("127.0.0.1::8474", 8474, id="loopback-any-host-port"),
    pytest.param("127.0.0.1:18474:8474", 8474, id="loopback-fixed-host-port"),
    pytest.param("localhost::8474", 8474, id="localhost"),
    pytest.param("::8474", 8474, id="empty-host-ip"),
    pytest.param("18474:8474", 8474, id="host-port-dropped"),
    pytest.param("127.0.0.1:18474:8474/tcp", 8474, id="loopback-tcp"),
]


@pytest.mark.parametrize(("entry", "expected"), PORTS)
def test_ports_become_container_ports(tmp_path: Path, entry: Any, expected: int) -> None:
    assert _one(tmp_path, ports=[entry]).ports == [expected]


BAD_PORTS = [
    pytest.param("0.0.0.0:8080:80", "ports: 0.0.0.0:8080:80 binds 0.0.0.0; the harness publishes on 127.0.0.1 only",
                 id="all-interfaces"),
    pytest.param("192.168.1.5::80", "ports: 192.168.1.5::80 binds 192.168.1.5", id="lan-ip"),
    # IPv6 host IPs hold colons: "[::]" (every interface) must be refused like 0.0.0.0.
    pytest.param("[::]:8080:80", "binds [::]", id="ipv6-all-interfaces"),
    pytest.param("80/udp", "ports: 80/udp is not PORT or HOST_IP::PORT", id="udp"),
    pytest.param("3000-3005", "ports: 3000-3005 is not PORT or HOST_IP::PORT", id="range"),
    pytest.param("http", "ports: http is not PORT or HOST_IP::PORT", id="name"),
    pytest.param({"target": 80}, "is not PORT or HOST_IP::PORT", id="long-syntax"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_PORTS)
def test_bad_ports_are_refused(tmp_path: Path, entry: Any, message: str) -> None:
    [problem] = _one_problems(tmp_path, ports=[entry])
    assert problem.startswith("services.s: ")
    assert message in problem


# --------------------------------------------------------------------------- volumes and tmpfs


VOLUMES = [
    pytest.param("/host:/c", Volume(source="/host", target="/c"), id="bind"),
    pytest.param("/host:/c:ro", Volume(source="/host", target="/c", read_only=True), id="bind-ro"),
    pytest.param("/host:/c:rw", Volume(source="/host", target="/c"), id="bind-rw"),
    pytest.param("data:/c", Volume(source="data", target="/c", bind=False), id="named"),
    pytest.param("data:/c:ro", Volume(source="data", target="/c", read_only=True, bind=False), id="named-ro"),
    pytest.param("/c", Volume(source="", target="/c", bind=False), id="anonymous"),
]


@pytest.mark.parametrize(("entry", "expected"), VOLUMES)
def test_volume_short_syntax(tmp_path: Path, entry: str, expected: Volume) -> None:
    assert _one(tmp_path, volumes=[entry]).volumes == [expected]


BAD_VOLUMES = [
    pytest.param("/h:/c:z", "volumes: /h:/c:z: mode must be ro or rw", id="selinux-mode"),
    pytest.param("/h:/c:ro,z", "volumes: /h:/c:ro,z: mode must be ro or rw", id="combined-mode"),
    pytest.param("/h:/c:RO", "mode must be ro or rw", id="upper-case"),
    pytest.param({"type": "bind", "source": "/h", "target": "/c"},
                 "volumes: only the short syntax SRC:DST[:ro] is supported", id="long-syntax"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_VOLUMES)
def test_bad_volumes_are_refused(tmp_path: Path, entry: Any, message: str) -> None:
    [problem] = _one_problems(tmp_path, volumes=[entry])
    assert problem.startswith("services.s: ")
    assert message in problem


TMPFS = [
    pytest.param("/run", {"/run": ""}, id="string-path"),
    pytest.param(["/run"], {"/run": ""}, id="list-path"),
    pytest.param("/run:size=64m", {"/run": "size=64m"}, id="string-options"),
    pytest.param(["/var/lib/pg:rw,mode=1777", "/tmp"], {"/var/lib/pg": "rw,mode=1777", "/tmp": ""}, id="list"),
    pytest.param([], {}, id="empty"),
]


@pytest.mark.parametrize(("value", "expected"), TMPFS)
def test_tmpfs(tmp_path: Path, value: Any, expected: dict[str, str]) -> None:
    assert _one(tmp_path, tmpfs=value).tmpfs == expected


# --------------------------------------------------------------------------- command, environment, misc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("echo 'a b' c", ["echo", "a b", "c"], id="string-shell-split"),
        pytest.param(["echo", 1, "a b"], ["echo", "1", "a b"], id="list-stringified"),
        pytest.param([], [], id="empty-list"),
    ],
)
def test_command_and_entrypoint_argv(tmp_path: Path, value: Any, expected: list[str]) -> None:
    service = _one(tmp_path, command=value, entrypoint=value)
    assert service.command == expected
    assert service.entrypoint == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"A": 1, "B": None, "C": "x=y"}, {"A": "1", "B": "", "C": "x=y"}, id="mapping"),
        pytest.param(["A=1", "B=", "C=x=y"], {"A": "1", "B": "", "C": "x=y"}, id="list"),
    ],
)
def test_environment_forms(tmp_path: Path, value: Any, expected: dict[str, str]) -> None:
    assert _one(tmp_path, environment=value).environment == expected


def test_plain_fields(tmp_path: Path) -> None:
    service = _one(tmp_path, user=1000, working_dir="/w", networks={"n1": {}, "n2": None}, profiles=["p"])
    assert (service.user, service.working_dir, service.networks, service.profiles) == ("1000", "/w", ["n1", "n2"], ["p"])


# The service-level type mistakes below must come back as SpecError problems, not as a crash.
BAD_TYPES = [
    pytest.param({"environment": "A=1"}, "environment must be a mapping or a list", id="environment-string"),
    pytest.param({"labels": 5}, "labels must be a mapping or a list", id="labels-int"),
    pytest.param({"healthcheck": ["CMD", "x"]}, "healthcheck must be a mapping", id="healthcheck-list"),
    pytest.param({"depends_on": {"db": "service_healthy"}}, "depends_on", id="depends-on-condition-as-string"),
    pytest.param({"command": 5}, "command must be a string or a list", id="command-int"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_TYPES)
def test_bad_types_are_problems(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    doc = {"services": {"s": {"image": "img", **fields}, "db": {"image": "db"}}}
    problems = _problems(tmp_path, doc)
    assert any(message in p and "services.s" in p for p in problems), problems


# Keys inside a supported key that the backend does not honour must not be dropped silently.
NESTED_UNSUPPORTED = [
    pytest.param({"build": {"context": ".", "args": {"X": "1"}}}, "args", id="build-args"),
    pytest.param({"build": {"context": ".", "target": "prod"}}, "target", id="build-target"),
    pytest.param({"healthcheck": {"test": ["CMD", "x"], "start_interval": "1s"}}, "start_interval",
                 id="healthcheck-start-interval"),
]


@pytest.mark.parametrize(("fields", "key"), NESTED_UNSUPPORTED)
def test_unsupported_nested_keys_are_refused(tmp_path: Path, fields: dict[str, Any], key: str) -> None:
    problems = _problems(tmp_path, {"services": {"s": {"image": "img", **fields}}})
    assert any(key in p for p in problems), problems


# --------------------------------------------------------------------------- healthcheck


HEALTH_TESTS = [
    pytest.param("curl -f http://x || exit 1", ["/bin/sh", "-c", "curl -f http://x || exit 1"], id="string"),
    pytest.param(["CMD", "redis-cli", "ping"], ["redis-cli", "ping"], id="cmd"),
    pytest.param(["CMD", "/probe", 3], ["/probe", "3"], id="cmd-stringified"),
    pytest.param(["CMD-SHELL", "curl -f http://x || exit 1"], ["/bin/sh", "-c", "curl -f http://x || exit 1"],
                 id="cmd-shell"),
    pytest.param(["CMD-SHELL", "echo", "a"], ["/bin/sh", "-c", "echo a"], id="cmd-shell-joined"),
]


@pytest.mark.parametrize(("test", "argv"), HEALTH_TESTS)
def test_healthcheck_test_forms(tmp_path: Path, test: Any, argv: list[str]) -> None:
    health = _one(tmp_path, healthcheck={"test": test}).healthcheck
    assert health == HealthCheck(argv=argv)
    assert (health.interval_s, health.timeout_s, health.retries, health.start_period_s) == (5.0, 5.0, 3, 0.0)


@pytest.mark.parametrize(
    "healthcheck",
    [
        pytest.param({"test": ["NONE"]}, id="none"),
        pytest.param({"disable": True}, id="disable"),
        pytest.param({"test": ["CMD", "x"], "disable": True}, id="disable-with-test"),
        pytest.param({}, id="empty"),
        pytest.param(None, id="null"),
    ],
)
def test_healthcheck_off(tmp_path: Path, healthcheck: Any) -> None:
    assert _one(tmp_path, healthcheck=healthcheck).healthcheck is None


@pytest.mark.parametrize(
    "test",
    [
        pytest.param(["FOO", "x"], id="unknown-form"),
        pytest.param([], id="empty-list"),
        pytest.param(42, id="int"),
        pytest.param(None, id="missing"),
    ],
)
def test_bad_healthcheck_test(tmp_path: Path, test: Any) -> None:
    problems = _one_problems(tmp_path, healthcheck={"test": test, "interval": "1s"})
    assert problems == ["services.s: healthcheck.test must be a string or a list starting with CMD or CMD-SHELL"]


DURATIONS = [
    pytest.param("5s", 5.0, id="seconds"),
    pytest.param("1m30s", 90.0, id="minutes-seconds"),
    pytest.param("500ms", 0.5, id="milliseconds"),
    pytest.param("1h", 3600.0, id="hour"),
    pytest.param("1h2m3s", 3723.0, id="h-m-s"),
    pytest.param("1.5s", 1.5, id="fraction"),
    pytest.param("2m", 120.0, id="minutes"),
    pytest.param("1s500ms", 1.5, id="s-ms"),
    pytest.param(7, 7.0, id="int"),
    pytest.param(2.5, 2.5, id="float"),
]


@pytest.mark.parametrize(("value", "seconds"), DURATIONS)
def test_healthcheck_durations(tmp_path: Path, value: Any, seconds: float) -> None:
    health = _one(tmp_path, healthcheck={
        "test": ["CMD", "x"], "interval": value, "timeout": value, "start_period": value, "retries": 7,
    }).healthcheck
    assert health == HealthCheck(argv=["x"], interval_s=seconds, timeout_s=seconds, start_period_s=seconds, retries=7)


@pytest.mark.parametrize("value", ["5", "5x", "s", "1m 30s", "-5s", "5s ", "1m30", "five seconds", "5 s"])
@pytest.mark.parametrize("key", ["interval", "timeout", "start_period"])
def test_bad_durations(tmp_path: Path, key: str, value: str) -> None:
    problems = _one_problems(tmp_path, healthcheck={"test": ["CMD", "x"], key: value})
    assert problems == [f"services.s: healthcheck.{key}: {value!r} is not a duration like 5s or 1m30s"]


def test_bad_retries(tmp_path: Path) -> None:
    [problem] = _one_problems(tmp_path, healthcheck={"test": ["CMD", "x"], "retries": "many"})
    assert problem.startswith("services.s: ")


def test_patience_is_generous() -> None:
    assert HealthCheck(argv=["x"], interval_s=1, timeout_s=1).patience_s == 60.0  # floor
    assert HealthCheck(argv=["x"]).patience_s == (5 + 5) * 3 * 4
    assert HealthCheck(argv=["x"], interval_s=1, timeout_s=1, retries=0).patience_s == 60.0
    slow = HealthCheck(argv=["x"], interval_s=2, timeout_s=3, retries=30, start_period_s=60)
    assert slow.patience_s == 60 + 5 * 30 * 4


# --------------------------------------------------------------------------- depends_on


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        pytest.param(["a", "b"], {"a": "service_started", "b": "service_started"}, id="list"),
        pytest.param({"a": {"condition": "service_healthy"}, "b": {"condition": "service_completed_successfully"}},
                     {"a": "service_healthy", "b": "service_completed_successfully"}, id="mapping"),
        pytest.param({"a": {}, "b": None}, {"a": "service_started", "b": "service_started"},
                     id="mapping-without-condition"),
        pytest.param([], {}, id="empty"),
    ],
)
def test_depends_on_forms(tmp_path: Path, depends_on: Any, expected: dict[str, str]) -> None:
    project = _load(tmp_path, {"services": {
        "a": {"image": "a"}, "b": {"image": "b"}, "s": {"image": "s", "depends_on": depends_on},
    }})
    assert project.services["s"].depends_on == expected


def test_depends_on_unknown_service_and_condition(tmp_path: Path) -> None:
    problems = _problems(tmp_path, {"services": {
        "a": {"image": "a"},
        "s": {"image": "s", "depends_on": {"a": {"condition": "service_ready"}, "ghost": {}}},
    }})
    assert problems == [
        "services.s.depends_on.a: unknown condition service_ready",
        "services.s.depends_on: no service named ghost",
    ]


# --------------------------------------------------------------------------- start order


ORDERS = [
    pytest.param({"a": [], "b": ["a"], "c": ["b"]}, ["a", "b", "c"], id="chain-in-order"),
    pytest.param({"c": ["b"], "b": ["a"], "a": []}, ["a", "b", "c"], id="chain-reversed"),
    pytest.param({"top": ["left", "right"], "left": ["base"], "right": ["base"], "base": []},
                 ["base", "left", "right", "top"], id="diamond"),
    pytest.param({"x": [], "y": [], "z": []}, ["x", "y", "z"], id="independent-keeps-file-order"),
]


@pytest.mark.parametrize(("graph", "expected"), ORDERS)
def test_start_order(tmp_path: Path, graph: dict[str, list[str]], expected: list[str]) -> None:
    project = _load(tmp_path, {"services": {n: {"image": n, "depends_on": d} for n, d in graph.items()}})
    assert _names(project.start_order()) == expected


PROFILE_DOC = {"services": {
    "db": {"image": "db"},
    "app": {"image": "app", "depends_on": ["db"]},
    "metrics": {"image": "m", "profiles": ["observability"], "depends_on": ["app"]},
    "dash": {"image": "d", "profiles": ["observability", "ui"], "depends_on": ["metrics"]},
    "debug": {"image": "dbg", "profiles": ["debug"]},
}}


@pytest.mark.parametrize(
    ("profiles", "expected"),
    [
        pytest.param(frozenset(), ["db", "app"], id="none"),
        pytest.param(frozenset({"observability"}), ["db", "app", "metrics", "dash"], id="observability"),
        pytest.param(frozenset({"debug"}), ["db", "app", "debug"], id="debug"),
        pytest.param(frozenset({"observability", "debug"}), ["db", "app", "metrics", "dash", "debug"], id="both"),
        pytest.param(frozenset({"unknown"}), ["db", "app"], id="unknown-profile"),
    ],
)
def test_start_order_filters_profiles(tmp_path: Path, profiles: frozenset[str], expected: list[str]) -> None:
    assert _names(_load(tmp_path, PROFILE_DOC).start_order(profiles)) == expected


def test_start_order_refuses_a_dependency_on_a_profile_not_asked_for(tmp_path: Path) -> None:
    project = _load(tmp_path, PROFILE_DOC)
    with pytest.raises(SpecError) as caught:
        project.start_order(frozenset({"ui"}))  # dash is in "ui", metrics only in "observability"
    assert caught.value.problems == ["services.dash.depends_on: metrics is not a service here"]


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        pytest.param({"a": ["a"]}, "a → a", id="self"),
        pytest.param({"a": ["b"], "b": ["a"]}, "a → b → a", id="two"),
        pytest.param({"root": [], "a": ["root", "b"], "b": ["c"], "c": ["a"]}, "a → b → c → a", id="three"),
    ],
)
def test_start_order_reports_cycles(tmp_path: Path, graph: dict[str, list[str]], cycle: str) -> None:
    project = _load(tmp_path, {"services": {n: {"image": n, "depends_on": d} for n, d in graph.items()}})
    with pytest.raises(SpecError) as caught:
        project.start_order()
    assert caught.value.problems == [f"services: depends_on forms a cycle: {cycle}"]


# --------------------------------------------------------------------------- every problem at once


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    files = _files(tmp_path, {
        "secrets": {},
        "services": {
            "a": {"image": "${MISSING}", "restart": "always", "ports": ["0.0.0.0:80:80"]},
            "b": {"image": "b", "volumes": ["/h:/c:z"]},
            "c": {"image": "c", "depends_on": {"ghost": {"condition": "service_healthy"}}},
            "d": {"command": "x"},
        },
    })
    with pytest.raises(SpecError) as caught:
        load_project(files, {})
    problems = caught.value.problems
    path = str(files[0])
    expected_starts = [
        f"{path}: ${{MISSING}} is not set",
        f"{path}: secrets: not supported",
        f"{path}: services.a.restart: not supported",
        "services.a: ports: 0.0.0.0:80:80 binds 0.0.0.0",
        "services.b: volumes: /h:/c:z: mode must be ro or rw",
        "services.c.depends_on: no service named ghost",
        "services.d: needs an image or a build",
    ]
    assert len(problems) == len(expected_starts), problems
    for start in expected_starts:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert f"{len(problems)} problems:" in str(caught.value)


def test_every_problem_of_one_service_is_reported_at_once(tmp_path: Path) -> None:
    problems = _one_problems(
        tmp_path,
        ports=["0.0.0.0:80:80"],
        volumes=["/h:/c:z"],
        healthcheck={"test": ["CMD", "x"], "interval": "soon"},
    )
    assert len(problems) == 3, problems


def test_problems_from_several_files_are_reported_together(tmp_path: Path) -> None:
    files = _files(
        tmp_path,
        {"services": {"s": {"image": "${A}"}}},
        {"services": {"s": {"user": "${B}", "restart": "no"}}},
    )
    with pytest.raises(SpecError) as caught:
        load_project(files, {})
    assert caught.value.problems[:2] == [f"{files[0]}: ${{A}} is not set", f"{files[1]}: ${{B}} is not set"]
    assert caught.value.problems[2].startswith(f"{files[1]}: services.s.restart: not supported")
    assert caught.value.source == f"{files[0]}, {files[1]}"


# --------------------------------------------------------------------------- the real compose files


STORES = ("redis", "materialize", "clickhouse")
REQUIRED = {"toxiproxy", *STORES, "seed", "backend"}
REAL_FILES = [
    pytest.param(["flowforge.yaml"], id="flowforge"),
    pytest.param(["flowforge.yaml", "offline.yaml"], id="flowforge+offline"),
]


def _real(names: list[str]) -> Project:
    return load_project([COMPOSE_DIR / n for n in names], REAL_ENV)


@pytest.mark.parametrize("names", REAL_FILES)
def test_real_compose_files_load_and_order(names: list[str]) -> None:
    project = _real(names)
    assert REQUIRED <= set(project.services)
    order = _names(project.start_order())
    assert set(order) == REQUIRED  # observability is a profile, off by default
    for store in STORES:
        assert order.index(store) < order.index("seed")
    assert order.index("toxiproxy") < order.index("backend")
    assert order.index("seed") < order.index("backend")
    assert project.services["backend"].depends_on["seed"] == "service_completed_successfully"
    for service in project.services.values():
        assert service.image, service.name


@pytest.mark.parametrize("names", REAL_FILES)
def test_real_compose_files_with_observability(names: list[str]) -> None:
    order = _names(_real(names).start_order(frozenset({"observability"})))
    assert order.index("backend") < order.index("prometheus") < order.index("grafana")


@pytest.mark.parametrize("names", REAL_FILES)
def test_real_compose_files_publish_only_the_proxy_and_the_api(names: list[str]) -> None:
    project = _real(names)
    published = {n for n, s in project.services.items() if s.ports}
    assert published - {"prometheus", "grafana"} == {"toxiproxy", "backend"}
    assert 8474 in project.services["toxiproxy"].ports
    assert project.services["backend"].ports == [8000]


def test_real_offline_override_uses_the_base_image_and_host_paths() -> None:
    project = _real(["flowforge.yaml", "offline.yaml"])
    for name in REQUIRED:
        service = project.services[name]
        assert service.image == "localhost/flowforge-base:latest", name
        assert service.build is None, name
        assert Volume(source="/usr", target="/usr", read_only=True) in service.volumes, name
    assert project.services["backend"].entrypoint == ["/work/main/.venv/bin/python"]
    assert project.services["toxiproxy"].entrypoint == [REAL_ENV["FF_TOXIPROXY_BIN"]]
    assert project.services["materialize"].environment["FF_PG_BIN"] == REAL_ENV["FF_PG_BIN"]
    assert project.services["materialize"].tmpfs == {"/var/lib/pg": "rw,mode=1777"}
    config = Volume(source=str(COMPOSE_DIR / "toxiproxy.json"), target="/config/toxiproxy.json", read_only=True)
    assert config in project.services["toxiproxy"].volumes
    offline = Volume(source=str(COMPOSE_DIR / "offline"), target="/flowforge/offline", read_only=True)
    assert offline in project.services["clickhouse"].volumes


def test_real_offline_override_needs_its_variables() -> None:
    files = [COMPOSE_DIR / "flowforge.yaml", COMPOSE_DIR / "offline.yaml"]
    with pytest.raises(SpecError) as caught:
        load_project(files, {})
    text = "\n".join(caught.value.problems)
    for variable in REAL_ENV:
        assert f"${{{variable}}} is not set" in text
    assert all(p.startswith(f"{files[1]}: ") for p in caught.value.problems)
