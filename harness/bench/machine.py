"""What the numbers were measured on: they mean little without it."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "model": _cpu_model(),
        "memory_mb": psutil.virtual_memory().total // (1024 * 1024),
        "kernel": platform.release(),
        "python": platform.python_version(),
        # Read from the package metadata: importing locust here would gevent-patch the bench.
        "locust": _version("locust"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
