"""Backend choice: auto, explicit, and a docker backend asked for where no Docker API answers."""

from __future__ import annotations

import pytest

from harness.errors import SpecError
from harness.stack.select import choose_backend, offline_variables


@pytest.fixture
def no_docker_api(monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    host = f"unix://{tmp_path}/no-such.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    return host


def test_local_is_taken_as_asked() -> None:
    assert choose_backend("local") == ("local", "asked for on the command line")


def test_auto_falls_back_to_local_and_says_why(no_docker_api: str) -> None:
    backend, why = choose_backend("auto")
    assert backend == "local"
    assert why == f"no Docker API answers at {no_docker_api}"


def test_docker_without_an_api_is_bad_input_naming_the_flag(no_docker_api: str) -> None:
    with pytest.raises(SpecError) as caught:
        choose_backend("docker")
    assert str(caught.value).startswith(f"--backend docker: no Docker API answers at {no_docker_api}")
    assert caught.value.exit_code == 2


def test_unknown_backend_is_bad_input() -> None:
    with pytest.raises(SpecError, match="--backend must be one of auto, docker, local"):
        choose_backend("kubernetes")


def test_offline_variables_name_host_paths_the_override_mounts() -> None:
    variables = offline_variables()
    assert set(variables) == {"FF_REPO", "FF_PYTHON_PREFIX", "FF_TOXIPROXY_BIN", "FF_PG_BIN"}
    assert all(value.startswith("/") for value in variables.values())
