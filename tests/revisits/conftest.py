"""Fixtures shared by the revisit tests that run on every adapter."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The one PostgreSQL server check lives beside the storage tests (see tests/helpdesk/conftest).
_STORAGE_TESTS = str(Path(__file__).resolve().parent.parent / "storage")
if _STORAGE_TESTS not in sys.path:
    sys.path.append(_STORAGE_TESTS)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A store URL of each adapter, shared by a test's stores (each its own tenant):
    a named memory store, a SQLite file (in /dev/shm when it can), a fresh PostgreSQL
    schema."""
    if request.param == "memory":
        yield f"memory:{uuid.uuid4().hex}"
    elif request.param == "sqlite":
        shm = Path("/dev/shm")
        base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        with tempfile.TemporaryDirectory(dir=base, prefix="csdomain_test_") as directory:
            yield f"sqlite:///{directory}/store.db"
    else:
        from test_postgres import Schema, require_server

        require_server()
        schema = Schema()
        try:
            yield schema.url()
        finally:
            schema.drop()
