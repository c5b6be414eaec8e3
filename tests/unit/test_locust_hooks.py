"""locustfiles.hooks: the auth and users hooks on Locust's side, checked in a child Python (Locust patches
whatever imports it with gevent, so this test process never does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r'''
from harness.contract import LoadHooks
from locustfiles import users
from locustfiles.hooks import AuthHeaders, apply_headers, auth_header_lines, with_hooks

class WidgetUser(users.WidgetUser):
    pass

class DashboardViewer(users.DashboardViewer):
    pass

builtins = [WidgetUser, DashboardViewer]
assert with_hooks(None, "http://127.0.0.1:1", builtins) == {}

auth = LoadHooks(auth="tests.apps.ledger.hooks:headers", python_path=[REPO])
made = with_hooks(auth, "http://127.0.0.1:1", builtins)
assert sorted(made) == ["DashboardViewer", "WidgetUser"], made
assert WidgetUser.abstract and DashboardViewer.abstract  # replaced by their authenticated selves
assert not made["WidgetUser"].abstract and issubclass(made["WidgetUser"], (AuthHeaders, WidgetUser))
assert made["WidgetUser"].host == "http://127.0.0.1:1"
assert made["WidgetUser"].headers_hook() == {"Authorization": "Bearer ledger-secret"}
assert auth_header_lines(auth) == ["Authorization: Bearer ledger-secret"]  # the probe process's viewers
assert auth_header_lines(None) == []

replaced = with_hooks(LoadHooks(users="tests.apps.ledger.load:LedgerUser", python_path=[REPO]),
                      "http://127.0.0.1:2", [users.WidgetUser])
assert list(replaced) == ["LedgerUser"] and replaced["LedgerUser"].headers_hook is None

class FastClient:  # FastHttpUser's session: no session-wide headers
    def request(self, method, url, **kwargs):
        return kwargs["headers"]

client = FastClient()
apply_headers(client, {"Authorization": "Bearer t", "X-A": "1"})
assert client.request("GET", "/", headers={"X-A": "2"}) == {"Authorization": "Bearer t", "X-A": "2"}

import requests
session = requests.Session()
apply_headers(session, {"Authorization": "Bearer t"})
assert session.headers["Authorization"] == "Bearer t"
print("ok")
'''


def test_auth_and_users_hooks_make_the_runnable_user_classes() -> None:
    done = subprocess.run([sys.executable, "-c", f"REPO = {str(REPO)!r}\n" + SCRIPT], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
