"""Shared set-up of the HelpDesk tests: the PostgreSQL server check, a scratch directory.

``tests/storage/test_postgres.py`` holds the one server check (``require_server``,
``URL``, ``Schema``) every PostgreSQL test uses: skipped without a server, a
failure under ``CSDOMAIN_REQUIRE_POSTGRES``. Its folder goes on ``sys.path`` here
so that the HelpDesk tests import it even when run on their own (spawned worker
processes inherit the path).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_STORAGE_TESTS = str(Path(__file__).resolve().parent.parent / "storage")
if _STORAGE_TESTS not in sys.path:
    sys.path.append(_STORAGE_TESTS)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A directory for SQLite files: in memory-backed ``/dev/shm`` when the system has one
    (SQLite's ``synchronous=FULL`` fsyncs then cost nothing, the locking is the same),
    else the test's ``tmp_path``. Removed afterwards."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="csdomain_test_") as directory:
        yield Path(directory)
