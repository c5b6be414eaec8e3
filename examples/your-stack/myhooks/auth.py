"""Each simulated user gets its own token, as your auth service would issue one."""

from __future__ import annotations

import os
import uuid


def headers() -> dict[str, str]:
    # Called once per simulated user as it starts (inside Locust: keep it quick, or cache).
    return {"Authorization": f"Bearer {os.environ.get('ACME_LOAD_TOKEN', 'dev-token')}",
            "X-Load-Test-User": uuid.uuid4().hex}
