"""The parts of report.html, one module each; every part returns its Section, or None when the run has none of it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    body: str  # HTML
