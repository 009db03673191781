"""What every benchmark prints about where it ran: package versions, CPU, load."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

__all__ = ["cpu", "load_average", "package_version", "postgres_reachable"]


def package_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or "not installed"."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def cpu() -> str:
    """The CPU model (from /proc/cpuinfo on Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average(at: str = "the start") -> str:
    """The 1- and 5-minute load averages, "at the start" unless ``at`` says when."""
    try:
        one, five, _ = os.getloadavg()
    except (AttributeError, OSError):  # not on every platform
        return "load average unknown"
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) at {at}"


def postgres_reachable(url: str) -> str | None:
    """None when the PostgreSQL server at ``url`` answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {url}: {' '.join(str(exc).split())}"
    return None
