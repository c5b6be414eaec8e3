"""Credentials never leave the process: passwords in URLs and tokens in queries are masked (pure).

Stores are reached through URLs that may carry a password
(``redis://:pw@host/0``, ``postgresql://user:pw@host/db``); the harness needs
them to connect and must never write them down. Everything it writes goes
through ``mask_secrets``: the journal (and so summary.json and report.md, derived
from it), error messages, notes and flags, the ownership record's commands,
and the load plan's file (the load processes get the real addresses through
their environment instead, see ``harness.contract``).
"""

from __future__ import annotations

import re

MASK = "***"
# "://user:password@" (user may be empty): the literal "://" first keeps this fast on long base64 strings.
_USERINFO = re.compile(r"://(?P<user>[^:/@\s\"'<>]*):(?P<password>[^@/\s\"'<>]+)@")
# ?password=…, &token=… and their kin in a query string.
_QUERY = re.compile(r"(?i)(?P<key>[?&](?:password|passwd|pwd|token|access_token|api_key|apikey|secret)=)"
                    r"(?P<value>[^&\s#\"'<>]+)")


def mask_secrets(text: str) -> str:
    """``text`` with every URL password and secret query value replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"://{m['user']}:{MASK}@", text)
    return _QUERY.sub(lambda m: f"{m['key']}{MASK}", text)
