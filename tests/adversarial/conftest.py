"""Shared set-up of the adversarial tests: the helpdesk and storage test folders on
``sys.path`` (their worlds and the PostgreSQL server check are reused, in spawned
worker processes too), a scratch directory, a PostgreSQL schema of the test's own,
and a snapshot of every row a store holds (to show that a refused input stored
nothing).

``tests/storage/test_postgres.py`` holds the one server check (``require_server``):
skipped without a server, a failure under ``CSDOMAIN_REQUIRE_POSTGRES``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parent.parent
for _folder in ("helpdesk", "storage"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))

Rows = dict[str, list[str]]


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A directory for SQLite files (in ``/dev/shm`` when the system has one)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="csdomain_adv_") as directory:
        yield Path(directory)


@pytest.fixture
def postgres_schema() -> Iterator[Any]:
    """A PostgreSQL schema of this test's own (a ``test_postgres.Schema``), dropped after."""
    from test_postgres import Schema, require_server

    require_server()
    schema = Schema()
    try:
        yield schema
    finally:
        schema.drop()


def sqlite_rows(path: Path) -> Rows:
    """Every row of every table of the SQLite file at ``path``, as sorted reprs."""
    raw = sqlite3.connect(path)
    try:
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(repr(r) for r in raw.execute(f'SELECT * FROM "{t}"').fetchall())
            for t in tables
        }
    finally:
        raw.close()


def postgres_rows(schema: Any) -> Rows:
    """Every row of every table of ``schema`` (a ``test_postgres.Schema``), as sorted reprs."""
    tables = [
        r[0]
        for r in schema.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", schema.name
        )
    ]
    found: Rows = {}
    for table in tables:
        from psycopg import sql

        query = sql.SQL("SELECT * FROM {}").format(schema.table(table))
        from test_postgres import admin

        with admin() as conn:
            found[table] = sorted(repr(r) for r in conn.execute(query).fetchall())
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def backend(
    request: pytest.FixtureRequest, scratch: Path
) -> Iterator[tuple[str, Callable[[], Rows]]]:
    """A store URL on SQLite or PostgreSQL and a function giving every row it holds."""
    if request.param == "sqlite":
        path = scratch / "store.db"
        yield f"sqlite:///{path}", lambda: sqlite_rows(path)
        return
    from test_postgres import Schema, require_server

    require_server()
    schema = Schema()
    try:
        yield schema.url(), lambda: postgres_rows(schema)
    finally:
        schema.drop()
