"""Why the desk refused a request: a message naming the field or the thing, and its HTTP status.

Errors as named values carrying their status (Toxiproxy's ``api.go`` does the
same): the server turns one into a 4xx JSON answer, the CLI client into exit 2.
"""

from __future__ import annotations


class Refused(Exception):  # noqa: N818 - a refusal is an answer, not a failure of the session
    def __init__(self, status: int, problems: list[str] | str) -> None:
        self.status = status
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))
