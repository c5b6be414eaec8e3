"""The loopback rule for load targets: what passes, what is refused and how the refusal reads."""

from __future__ import annotations

import pytest

from harness.targets_policy import ALLOW_REMOTE_ENV, check_loopback, is_loopback_host, remote_allowed


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000",
    "http://127.0.0.2:8000",  # all of 127.0.0.0/8
    "http://localhost:8000",
    "http://LOCALHOST",
    "https://[::1]:8443/path",
    "ws://[::ffff:127.0.0.1]:9000",
    "127.0.0.1:8000",  # a bare host:port
    "redis://user:secret@127.0.0.1:6379/0",
    "",
    None,
], ids=str)
def test_loopback_targets_pass(url: str | None) -> None:
    assert check_loopback(url) is None


@pytest.mark.parametrize(("url", "host"), [
    ("http://10.0.0.5:8000", "10.0.0.5"),
    ("https://example.com", "example.com"),
    ("http://0.0.0.0:8000", "0.0.0.0"),  # every interface is not loopback
    ("http://[2001:db8::1]:80", "2001:db8::1"),
    ("http://localhost.example.com", "localhost.example.com"),
    ("example.com:443", "example.com"),
    ("postgresql://u:pw@db.internal:5432/x", "db.internal"),
], ids=str)
def test_any_other_host_is_refused_with_the_way_out(url: str, host: str) -> None:
    message = check_loopback(url)
    assert message is not None
    assert message.startswith(f"refusing to send load to {host}: not a loopback address")
    assert f"{ALLOW_REMOTE_ENV}=1" in message
    assert "pw" not in message, "a password in the URL is never repeated"


@pytest.mark.parametrize("url", ["http://", "http://u:pw@[::1", "http://u:pw@:80"], ids=str)
def test_a_url_without_a_usable_host_is_refused_without_repeating_it(url: str) -> None:
    message = check_loopback(url) or ""
    assert message.startswith("refusing to send load: the target")
    assert "pw" not in message


@pytest.mark.parametrize(("environ", "allowed"), [
    ({}, False),
    ({ALLOW_REMOTE_ENV: "1"}, True),
    ({ALLOW_REMOTE_ENV: "0"}, False),
    ({ALLOW_REMOTE_ENV: "yes"}, False),
])
def test_remote_targets_need_the_explicit_flag(environ: dict[str, str], allowed: bool) -> None:
    assert remote_allowed(environ) is allowed


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("192.168.1.1", False), ("::", False), ("localhost6", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
