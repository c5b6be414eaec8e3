"""The nearest valid name for a misspelt one ("did you mean 'step_s'?"). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

# difflib's own default: 'rate' still finds 'rate_kbps', 'colour' finds nothing.
CUTOFF = 0.6
# More equally near names than this is no suggestion ('p42_ms' is as near to
# p50_ms as to p90_ms, p95_ms and p99_ms): the caller lists them all instead.
MAX_TIES = 2


def nearest(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates closest to ``word``, ties kept, in their given order; [] when none is close
    or too many are equally close.

    Compared case-insensitively: ``Redis`` is one letter from ``redis`` for a reader.
    """
    scored = [(SequenceMatcher(None, word.lower(), c.lower()).ratio(), c) for c in candidates if c != word]
    best = max((score for score, _ in scored), default=0.0)
    if best < CUTOFF:
        return []
    matches = [candidate for score, candidate in scored if score == best]
    return matches if len(matches) <= MAX_TIES else []


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``did you mean 'x'?`` (or ``'x' or 'y'`` on a tie), or "" when nothing is close."""
    matches = nearest(word, candidates)
    if not matches:
        return ""
    return "did you mean " + " or ".join(f"'{match}'" for match in matches) + "?"
