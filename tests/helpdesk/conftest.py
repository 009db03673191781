"""Shared set-up of the HelpDesk tests: the PostgreSQL server check of the storage tests.

``tests/storage/test_postgres.py`` holds the one server check (``require_server``,
``URL``, ``Schema``) every PostgreSQL test uses: skipped without a server, a
failure under ``CSDOMAIN_REQUIRE_POSTGRES``. Its folder goes on ``sys.path`` here
so that the HelpDesk tests import it even when run on their own (spawned worker
processes inherit the path).
"""

from __future__ import annotations

import sys
from pathlib import Path

_STORAGE_TESTS = str(Path(__file__).resolve().parent.parent / "storage")
if _STORAGE_TESTS not in sys.path:
    sys.path.append(_STORAGE_TESTS)
