"""The SQLite adapter against the version 2 Backend protocol directly (no Store).

Declarations and the DDL they generate, uniqueness, queries and positions, event
rows, the leased outbox (with explicit instants) and erasure in the file itself.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from backend_collections import PLAIN, THINGS
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csdomain.errors import (
    ConflictError,
    NotFoundError,
    SchemaError,
    StorageError,
    ValidationError,
)
from csdomain.storage import sqlite as adapter
from csdomain.storage.backend import (
    Collection,
    Column,
    ColumnType,
    OutboxRow,
    Query,
    Row,
    Select,
)
from csdomain.storage.sqlite import SqliteBackend, open_backend

T = ColumnType


HOUR = 3_600_000_000  # microseconds
NOW = 1_800_000_000_000_000


def _open(path: Path, tenant: str = "t1", **options: Any) -> SqliteBackend:
    backend = open_backend(f"sqlite:///{path}", tenant, create=True, **options)
    backend.declare(THINGS)
    backend.declare(PLAIN)
    return backend


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def db(path: Path) -> Iterator[SqliteBackend]:
    backend = _open(path)
    yield backend
    backend.close()


def _add(backend: SqliteBackend, key: str, **columns: Any) -> None:
    with backend.transaction():
        backend.insert_many("things", [(key, f'{{"key":"{key}"}}', columns)])


def _keys(pairs: list[tuple[Any, Row]]) -> list[str]:
    return [row.key for _, row in pairs]


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _schema(path: Path) -> dict[str, str]:
    raw = _raw(path)
    try:
        return dict(raw.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    finally:
        raw.close()


@contextmanager
def _traced(backend: SqliteBackend) -> Iterator[list[str]]:
    connection = backend._holder().connection
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        connection.set_trace_callback(None)


def _plan(backend: SqliteBackend, statement: str) -> str:
    connection = backend._holder().connection
    return " | ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}"))


class _RollbackError(Exception):
    pass


# -- declarations and their DDL -------------------------------------------------------


def test_declare_creates_the_tables_and_indexes_the_declaration_names(path: Path) -> None:
    backend = open_backend(f"sqlite:///{path}", "t1", create=True)
    assert backend.declare(THINGS) is False
    backend.close()
    schema = _schema(path)
    assert {
        "c_things",
        "c_things__tags",
        "c_things__handles",
        "c_things__events",
        "u_things__name",
        "k_things__tags",
        "k_things__handles",
        "q_things__open_by_due",
        "q_things__by_size",
        "q_things__by_name",
        "q_things__by_due",
    } <= set(schema)
    assert "q_things__by_tag" not in schema  # the entries table and primary key serve it
    assert "PRIMARY KEY (tenant, key)" in schema["c_things"]
    assert "name TEXT" in schema["c_things"] and "size INTEGER" in schema["c_things"]
    assert "tags" not in schema["c_things"]  # multiple columns live in entries tables
    assert "PRIMARY KEY (tenant, value))" in schema["c_things__handles"]  # unique values
    assert "PRIMARY KEY (tenant, value, key))" in schema["c_things__tags"]
    assert "PRIMARY KEY (tenant, key, sequence)" in schema["c_things__events"]
    assert schema["q_things__open_by_due"].endswith(
        "ON c_things (tenant, open, due, key) WHERE due IS NOT NULL"
    )
    assert schema["q_things__by_size"].endswith("ON c_things (tenant, size, key)")
    assert schema["u_things__name"].startswith("CREATE UNIQUE INDEX")
    raw = _raw(path)
    try:
        ((text,),) = raw.execute(
            "SELECT declaration FROM csdomain_collections WHERE name = 'things'"
        )
    finally:
        raw.close()
    assert '"handles":{"multiple":true,"type":"text","unique":true}' in text
    assert '"open_by_due":{"order":"due","where":["open"]}' in text


def test_declaring_again_changes_nothing_and_a_reopened_file_knows_its_collections(
    path: Path,
) -> None:
    backend = _open(path)
    _add(backend, "a", name="alpha")
    backend.close()
    before = _schema(path)
    backend = _open(path)  # declares both again
    assert backend.declare(THINGS) is False
    assert _schema(path) == before
    assert backend.get("things", "a") == Row(("a", 1, '{"key":"a"}'))
    backend.close()


def test_a_wider_declaration_adds_columns_and_indexes_and_keeps_removed_columns(
    db: SqliteBackend, path: Path
) -> None:
    with db.transaction():
        db.insert_many("plain", [("a", "{}", {})])
    wider = attrs.evolve(
        PLAIN,
        columns=(Column("colour", T.TEXT, unique=True), Column("labels", T.TEXT, multiple=True)),
        queries=(Query("by_colour", ("colour",)),),
    )
    assert db.declare(wider) is True
    assert db.declare(wider) is False
    schema = _schema(path)
    assert "colour TEXT" in schema["c_plain"]
    assert {"c_plain__labels", "u_plain__colour", "q_plain__by_colour"} <= set(schema)
    assert db.count("plain", {"colour": (None,)}) == 1  # rows written before hold NULL
    with db.transaction():
        db.set_columns("plain", "a", {"colour": "red", "labels": ("x",)})
    # A new query only adds an index: no columns were added.
    queried = attrs.evolve(wider, queries=(*wider.queries, Query("by_labels", ("labels",))))
    assert db.declare(queried) is False
    # A declaration without the columns keeps them: stored columns are never dropped.
    assert db.declare(PLAIN) is False
    assert "colour TEXT" in _schema(path)["c_plain"]
    assert db.count("plain", {"labels": ("x",)}) == 1
    assert db.select("plain", Select(where={"colour": ("red",)})) == [("a", Row(("a", 1, "{}")))]


def test_uniqueness_can_be_declared_and_dropped_later(db: SqliteBackend, path: Path) -> None:
    with db.transaction():
        db.insert_many(
            "things",
            [("a", "{}", {"size": 1, "tags": ("x",)}), ("b", "{}", {"size": 2, "tags": ("y",)})],
        )
    stricter = attrs.evolve(
        THINGS,
        columns=[
            attrs.evolve(c, unique=True) if c.name in ("size", "tags") else c
            for c in THINGS.columns
        ],
    )
    assert db.declare(stricter) is False
    assert "u_things__size" in _schema(path)
    assert "PRIMARY KEY (tenant, value))" in _schema(path)["c_things__tags"]
    with db.transaction(), pytest.raises(ConflictError, match="its size value is held by"):
        db.insert_many("things", [("c", "{}", {"size": 1})])
    with db.transaction(), pytest.raises(ConflictError, match="its tags value is held by"):
        db.insert_many("things", [("c", "{}", {"tags": ("y",)})])
    assert db.count("things", {"tags": ("x", "y")}) == 2  # entries kept through the rebuild
    assert db.declare(THINGS) is False
    assert "u_things__size" not in _schema(path)
    with db.transaction():
        db.insert_many("things", [("c", "{}", {"size": 1, "tags": ("y",)})])


def test_a_declaration_the_stored_rows_break_is_refused_and_changes_nothing(
    db: SqliteBackend, path: Path
) -> None:
    with db.transaction():
        db.insert_many("things", [("a", "{}", {"size": 1}), ("b", "{}", {"size": 1})])
    before = _schema(path)
    stricter = attrs.evolve(
        THINGS,
        columns=[attrs.evolve(c, unique=True) if c.name == "size" else c for c in THINGS.columns],
    )
    with pytest.raises(SchemaError, match="make the values unique first"):
        db.declare(stricter)
    assert _schema(path) == before


def test_a_stored_column_keeps_its_type(db: SqliteBackend, path: Path) -> None:
    before = _schema(path)
    changed = attrs.evolve(
        THINGS,
        columns=[attrs.evolve(c, type=T.TEXT) if c.name == "size" else c for c in THINGS.columns],
    )
    with pytest.raises(SchemaError, match=r"stores column 'size' as integer, now declared as text"):
        db.declare(changed)
    plural = attrs.evolve(
        THINGS,
        columns=[attrs.evolve(c, multiple=True) if c.name == "size" else c for c in THINGS.columns],
        queries=[q for q in THINGS.queries if q.name != "by_size"],
    )
    with pytest.raises(SchemaError, match="now declared as multiple integer"):
        db.declare(plural)
    assert _schema(path) == before


def test_names_become_identifiers_only_when_valid(path: Path) -> None:
    """Names reach SQL only after the adapter checked them again: attrs validators can
    be bypassed, and a forged name must not become DDL."""
    backend = open_backend(f"sqlite:///{path}", "t1", create=True)
    before = _schema(path)
    column = Column("ok", T.TEXT)
    object.__setattr__(column, "name", "size) --")
    query = Query("ok")
    object.__setattr__(query, "name", "q; DROP TABLE outbox")
    forged: list[Collection[Any]] = []
    for field, value in (
        ("name", "x; DROP TABLE outbox; --"),
        ("name", "Things"),
        ("name", "key"),
        ("columns", (column,)),
        ("queries", (query,)),
    ):
        collection = attrs.evolve(PLAIN)
        object.__setattr__(collection, field, value)
        forged.append(collection)
    try:
        for collection in forged:
            with pytest.raises(ValidationError, match="lower-case identifier"):
                backend.declare(collection)
        assert _schema(path) == before
    finally:
        backend.close()


def test_a_table_of_a_collections_name_that_csdomain_did_not_create_is_refused(
    path: Path,
) -> None:
    backend = open_backend(f"sqlite:///{path}", "t1", create=True)
    raw = _raw(path)
    try:
        raw.execute("CREATE TABLE c_plain (id INTEGER PRIMARY KEY)")
    finally:
        raw.close()
    with pytest.raises(SchemaError, match="did not create") as info:
        backend.declare(PLAIN)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(StorageError, match="'plain' is not declared"):
        backend.get("plain", "a")
    backend.close()


def test_racing_declarations_from_two_files_handles_agree(path: Path) -> None:
    first, second = _open(path), _open(path)
    with first.transaction():  # a row stored before the column: one store recomputes it
        first.insert_many("plain", [("p1", "{}", {})])
    wider = attrs.evolve(PLAIN, columns=(Column("colour", T.TEXT),))
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def declare(backend: SqliteBackend) -> None:
        barrier.wait()
        try:
            results.append(backend.declare(wider))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=declare, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(results) == [False, True]  # one recomputes the rows
    assert _schema(path)["c_plain"].count("colour") == 1
    first.close()
    second.close()


def test_unknown_collections_columns_and_orders_are_storage_errors(db: SqliteBackend) -> None:
    with pytest.raises(StorageError, match="'nothing' is not declared"):
        db.get("nothing", "a")
    with pytest.raises(StorageError, match="no column 'colour'"):
        db.select("things", Select(where={"colour": ("red",)}))
    with pytest.raises(StorageError, match="no column 'colour'"):
        db.count("things", {"colour": ("red",)})
    with pytest.raises(StorageError, match="cannot be ordered by 'tags'"):
        db.select("things", Select(order="tags"))
    with pytest.raises(StorageError, match="cannot be ordered by 'document; DROP"):
        db.select("things", Select(order="document; DROP TABLE c_things"))
    with db.transaction(), pytest.raises(StorageError, match="no column 'colour'"):
        db.insert_many("things", [("a", "{}", {"colour": "red"})])
    with db.transaction(), pytest.raises(StorageError, match="keeps no event rows"):
        db.append_events("plain", [("a", 0, "{}")])
    with db.transaction(), pytest.raises(StorageError, match="cannot be None"):
        db.insert_many("things", [("a", "{}", {"tags": ("x", None)})])
    with db.transaction(), pytest.raises(StorageError, match="holds several values"):
        db.insert_many("things", [("a", "{}", {"tags": "xy"})])
    assert db.get("things", "a") is None


# -- transactions and documents -------------------------------------------------------


def test_writes_need_a_transaction_and_a_closed_backend_refuses_calls(db: SqliteBackend) -> None:
    writes: list[Callable[[], object]] = [
        lambda: db.insert_many("plain", [("a", "{}", {})]),
        lambda: db.update("plain", "a", 1, "{}", {}),
        lambda: db.append_events("things", [("a", 0, "{}")]),
        lambda: db.outbox_append([("things", "a", 0, "made", "{}")]),
        lambda: db.outbox_claim("r1", 1, NOW, HOUR),
        lambda: db.drop_legacy([]),
    ]
    for write in writes:
        with pytest.raises(StorageError, match="writes need a transaction"):
            write()
    with db.transaction():
        assert db.in_transaction()
        with pytest.raises(StorageError, match="do not nest"):
            db.transaction().__enter__()
    assert not db.in_transaction()
    db.close()
    with pytest.raises(StorageError, match="closed"):
        db.get("plain", "a")
    with pytest.raises(StorageError, match="closed"):
        db.transaction().__enter__()


def test_insert_get_and_get_many(db: SqliteBackend) -> None:
    text = '{"x":"\\u0000 ☃ 退款"}\x00'
    with db.transaction():
        db.insert_many("things", [("a", text, {}), ("b", "{}", {"size": 3})])
    assert db.get("things", "a") == Row(("a", 1, text))
    assert db.get("things", "zz") is None
    assert sorted(db.get_many("things", ["b", "a", "zz", "a"])) == [
        Row(("a", 1, text)),
        Row(("b", 1, "{}")),
    ]
    keys = [f"k{i}" for i in range(1_200)]  # more than one IN list
    with db.transaction():
        db.insert_many("plain", [(key, "{}", {}) for key in keys])
    assert len(db.get_many("plain", keys)) == 1_200


def test_insert_many_is_all_or_none_even_when_the_conflict_is_caught(db: SqliteBackend) -> None:
    _add(db, "b", name="bee")
    with db.transaction(), pytest.raises(ConflictError) as info:
        db.insert_many(
            "things",
            [
                ("a", "{}", {"tags": ("x",)}),
                ("b", "{}", {}),
                ("c", "{}", {}),
            ],
        )
        # Caught inside the transaction, which then commits: none of the batch is stored.
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert (info.value.kind, info.value.key) == ("thing", "b")
    assert (info.value.expected_version, info.value.stored_version) == (None, 1)
    assert db.get("things", "a") is None and db.get("things", "c") is None
    assert db.count("things", {"tags": ("x",)}) == 0
    with db.transaction(), pytest.raises(ConflictError, match="repeats in this batch") as again:
        db.insert_many("things", [("d", "{}", {}), ("d", "{}", {})])
    assert again.value.stored_version == 1
    assert db.get("things", "d") is None


def test_unique_values_belong_to_one_record(db: SqliteBackend) -> None:
    _add(db, "a", name="alpha", handles=("h1", "h2"))
    _add(db, "n1")  # NULLs never collide
    _add(db, "n2", handles=())
    attempts: list[tuple[str, Callable[[], None], str, str]] = [
        ("b", lambda: db.insert_many("things", [("b", "{}", {"name": "alpha"})]), "name", "a"),
        (
            "b",
            lambda: db.insert_many("things", [("b", "{}", {"handles": ("h0", "h2")})]),
            "handles",
            "a",
        ),
        (
            "b",
            lambda: db.insert_many(
                "things", [("c", "{}", {"name": "gamma"}), ("b", "{}", {"name": "gamma"})]
            ),
            "name",
            "c",
        ),
        ("n1", lambda: db.update("things", "n1", 1, "{}", {"name": "alpha"}), "name", "a"),
        ("n1", lambda: db.update("things", "n1", 1, "{}", {"handles": ("h1",)}), "handles", "a"),
        ("n2", lambda: db.set_columns("things", "n2", {"handles": ("h2", "h3")}), "handles", "a"),
    ]
    for key, attempt, column, holder in attempts:
        # The conflict is caught inside the transaction, which then commits.
        with db.transaction(), pytest.raises(ConflictError) as info:
            attempt()
        error = info.value
        assert (error.kind, error.key, error.expected_version, error.stored_version) == (
            "thing",
            key,
            None,
            None,
        )
        assert error.detail == f"its {column} value is held by another thing ({holder})"
        assert "alpha" not in str(error) and "h2" not in str(error)  # values stay out
    # Nothing changed: the rows, their versions and entries are as they were.
    assert db.get("things", "n1") == Row(("n1", 1, '{"key":"n1"}'))
    assert _keys(db.select("things", Select(order="name"))) == ["a"]
    assert db.count("things", {"handles": ("h1", "h2", "h3")}) == 1
    assert db.get("things", "b") is None and db.get("things", "c") is None
    with db.transaction():  # a record may keep its own values
        db.update("things", "a", 1, "{}", {"name": "alpha", "handles": ("h2", "h4")})
        db.insert_many("things", [("b", "{}", {"handles": ("h1",)})])  # h1 was released
    assert db.count("things", {"handles": ("h4",)}) == 1


def test_update_and_delete_check_versions(db: SqliteBackend) -> None:
    _add(db, "a", tags=("x",))
    with db.transaction():
        db.append_events("things", [("a", 0, "e0")])
    with db.transaction():
        db.update("things", "a", 1, "v2", {"size": 5, "tags": ("y",)})
    assert db.get("things", "a") == Row(("a", 2, "v2"))
    assert db.count("things", {"tags": ("x",)}) == 0 and db.count("things", {"size": (5,)}) == 1
    with db.transaction():
        with pytest.raises(ConflictError) as stale:
            db.update("things", "a", 1, "v3", {})
        assert (stale.value.expected_version, stale.value.stored_version) == (1, 2)
        with pytest.raises(NotFoundError) as missing:
            db.update("things", "zz", 1, "v3", {})
        assert (missing.value.kind, missing.value.key) == ("thing", "zz")
        with pytest.raises(ConflictError) as stale_delete:
            db.delete("things", "a", 1)
        assert stale_delete.value.stored_version == 2
        with pytest.raises(NotFoundError):
            db.delete("things", "zz", 1)
        with pytest.raises(NotFoundError):
            db.set_columns("things", "zz", {})
        with pytest.raises(NotFoundError):
            db.rewrite("things", "zz", "{}")
    assert db.get("things", "a") == Row(("a", 2, "v2"))
    with db.transaction():
        db.delete("things", "a", 2)
    assert db.get("things", "a") is None
    assert db.count("things", {"tags": ("y",)}) == 0
    assert db.read_events("things", [("a", 1)]) == {"a": []}


def test_set_columns_and_rewrite_keep_the_version(db: SqliteBackend) -> None:
    _add(db, "a", size=1)
    with db.transaction():
        db.set_columns("things", "a", {"size": 2, "tags": ("x",)})
        db.rewrite("things", "a", "redacted")
    assert db.get("things", "a") == Row(("a", 1, "redacted"))
    assert db.count("things", {"size": (2,)}) == 1 and db.count("things", {"tags": ("x",)}) == 1
    with db.transaction():
        db.insert_many("plain", [("p", "{}", {})])
        db.set_columns("plain", "p", {})  # no columns: only checks that the row exists


def test_a_save_is_one_update_statement(db: SqliteBackend) -> None:
    ticketish = Collection(
        "tickets",
        "ticket",
        dict,
        key_of=lambda value: "",
        columns=[Column("status", T.TEXT), Column("next_deadline", T.INSTANT)],
        queries=[Query("due", ("status",), "next_deadline")],
        events=True,
    )
    db.declare(ticketish)
    with db.transaction():
        db.insert_many("tickets", [("t1", "{}", {"status": "open"})])
        db.append_events("tickets", [("t1", i, f"e{i}") for i in range(500)])
    with db.transaction(), _traced(db) as statements:
        db.update("tickets", "t1", 1, "{}", {"status": "open", "next_deadline": NOW})
        db.append_events("tickets", [("t1", 500, "e500")])
    assert statements == [
        "UPDATE c_tickets SET version = version + 1, document = '{}', next_deadline = "
        f"{NOW}, status = 'open' WHERE tenant = 't1' AND key = 't1' AND version = 1",
        "INSERT INTO c_tickets__events (tenant, key, sequence, document) "
        "VALUES ('t1', 't1', 500, 'e500')",
    ]


def test_tenants_are_isolated(path: Path) -> None:
    first, second = _open(path, "t1"), _open(path, "t2")
    _add(first, "a", name="alpha", tags=("x",))
    _add(second, "a", name="alpha", tags=("x",))  # unique per tenant
    with first.transaction():
        first.update("things", "a", 1, "first", {"name": "alpha"})
        first.append_events("things", [("a", 0, "first event")])
        first.outbox_append([("things", "a", 0, "made", "first")])
    assert second.get("things", "a") == Row(("a", 1, '{"key":"a"}'))
    assert second.count("things", {"tags": ("x",)}) == 1
    assert second.read_events("things", [("a", 1)]) == {"a": []}
    assert second.outbox_pending(10) == []
    with second.transaction():
        assert second.outbox_claim("r", 10, NOW, HOUR) == []
        assert second.outbox_ack(None, [1]) == 0
    assert [m.text for m in first.outbox_pending(10)] == ["first"]
    first.close()
    second.close()


# -- queries and positions ------------------------------------------------------------


@pytest.fixture
def rows(db: SqliteBackend) -> SqliteBackend:
    with db.transaction():
        db.insert_many(
            "things",
            [
                ("a", "{}", {"size": 1, "due": 30, "open": True, "tags": ("x", "y")}),
                ("b", "{}", {"size": 2, "due": 10, "open": True, "tags": ("y",)}),
                ("c", "{}", {"size": None, "due": 20, "open": False, "tags": ()}),
                ("d", "{}", {"size": 1, "due": None, "open": True}),
                ("e", "{}", {"size": 3, "due": 10, "open": True, "tags": ("z",)}),
            ],
        )
    return db


def test_equality_filters_match_any_of_the_values(rows: SqliteBackend) -> None:
    def keys(**where: tuple[Any, ...]) -> list[str]:
        return _keys(rows.select("things", Select(where=where)))

    assert keys(size=(1, 3)) == ["a", "d", "e"]
    assert keys(size=(None,)) == ["c"]
    assert keys(size=(None, 2)) == ["b", "c"]
    assert keys(size=()) == []
    assert keys(tags=("x", "y")) == ["a", "b"]
    assert keys(tags=(None,)) == []  # a multiple column holds no NULL
    assert keys(tags=("z",), size=(3,)) == ["e"]
    assert keys(tags=("z",), size=(1,)) == []
    assert keys(open=(False,)) == ["c"]
    assert rows.count("things", {"size": (1, 3)}) == 3
    assert rows.count("things", {"tags": ("y",)}) == 2
    assert rows.count("things", {"size": ()}) == 0
    assert rows.count("things", {}) == 5
    many = (*range(100, 1_300), 1)  # more values than one IN list holds
    assert keys(size=many) == ["a", "d"] and rows.count("things", {"size": many}) == 2


def test_order_leaves_out_nulls_unless_by_key(rows: SqliteBackend) -> None:
    by_due = rows.select("things", Select(where={"open": (True,)}, order="due"))
    assert [(value, row.key) for value, row in by_due] == [(10, "b"), (10, "e"), (30, "a")]
    by_key = rows.select("things", Select(where={"open": (True,)}))
    assert [value for value, _ in by_key] == ["a", "b", "d", "e"]
    assert _keys(rows.select("things", Select(order="size"))) == ["a", "d", "b", "e"]
    flags = rows.select("things", Select(order="open", limit=2))
    assert [(value, row.key) for value, row in flags] == [(False, "c"), (True, "a")]


def test_positions_bounds_and_limits(rows: SqliteBackend) -> None:
    def due(**query: Any) -> list[tuple[Any, str]]:
        return [(v, r.key) for v, r in rows.select("things", Select(order="due", **query))]

    assert due(after=(10, "b")) == [(10, "e"), (20, "c"), (30, "a")]
    assert due(after=(10, "e")) == [(20, "c"), (30, "a")]  # strictly after
    assert due(after=(10, "a")) == [(10, "b"), (10, "e"), (20, "c"), (30, "a")]
    assert due(low=10, high=30) == [(10, "b"), (10, "e"), (20, "c")]  # low <= v < high
    assert due(high=10) == []
    assert due(limit=2) == [(10, "b"), (10, "e")]
    assert due(limit=0) == [] and due(limit=-1) == []
    assert due(after=(10, "b"), high=30, limit=1) == [(10, "e")]
    assert _keys(rows.select("things", Select(after=("b", "b"), low="a", high="e"))) == ["c", "d"]
    open_due = rows.select(
        "things", Select(where={"open": (True, False)}, order="due", after=(10, "e"), limit=2)
    )
    assert [(v, r.key) for v, r in open_due] == [(20, "c"), (30, "a")]


@pytest.mark.parametrize(
    ("order", "after"),
    [
        ("key", (1, "a")),
        ("key", ("a", 1)),
        ("key", "a"),
        ("key", ("a", "b")),  # ordered by key, a position's value is its key
        ("key", ("\ud800", "\ud800")),
        ("due", ("10", "a")),
        ("due", (2**63, "a")),
        ("due", (-(2**63) - 1, "a")),
        ("due", (True, "a")),
        ("due", (None, "a")),
        ("due", (1.5, "a")),
        ("due", (10,)),
        ("due", (10, "a", "b")),
        ("due", (10, None)),
        ("name", (10, "a")),
        ("name", ("\udfff", "a")),
        ("size", ("big", "a")),
        ("open", (2, "a")),
    ],
)
def test_positions_that_no_cursor_holds_are_refused(
    rows: SqliteBackend, order: str, after: Any
) -> None:
    """A forged position is a ValidationError naming no SQL, never a first page again."""
    with pytest.raises(ValidationError) as refused:
        rows.select("things", Select(order=order, after=after))
    assert refused.value.subject == "cursor"
    message = str(refused.value)
    assert "is not a cursor this store returned" in message
    assert "SELECT" not in message and "sqlite" not in message.lower()


def test_positions_of_every_type_are_accepted(rows: SqliteBackend) -> None:
    assert rows.select("things", Select(order="due", after=(2**63 - 1, "a"))) == []
    assert len(rows.select("things", Select(order="due", after=(-(2**63), "a")))) == 4
    assert rows.select("things", Select(order="name", after=("", ""))) == []
    assert _keys(rows.select("things", Select(after=("c", "c")))) == ["d", "e"]
    assert _keys(rows.select("things", Select(order="open", after=(True, "a")))) == [
        "b",
        "d",
        "e",
    ]


def test_bounds_of_the_wrong_type_are_refused(rows: SqliteBackend) -> None:
    with pytest.raises(ValidationError, match=r"expected an instant .* got 'yesterday'"):
        rows.select("things", Select(order="due", low="yesterday"))
    with pytest.raises(ValidationError, match="high"):
        rows.select("things", Select(high=3))


def test_declared_queries_are_served_by_their_index(rows: SqliteBackend) -> None:
    """Every page seeks an index; several values of an indexed column read each value's
    range in order (one bounded arm each) instead of sorting every match."""
    queries = [
        Select(where={"open": (True,)}, order="due", low=0, high=100, limit=2),
        Select(where={"open": (True,)}, order="due", after=(10, "b"), limit=2),
        Select(where={"open": (True, False)}, order="due", limit=2),
        Select(where={"size": (1,)}, after=("a", "a"), limit=2),
        Select(where={"size": (1, 2, None)}, limit=2),
        Select(where={"tags": ("x", "y")}, limit=2),
        Select(order="name", limit=2),
        Select(limit=2),
    ]
    with _traced(rows) as statements:
        for query in queries:
            rows.select("things", query)
        rows.count("things", {"size": (1, 2)})
        rows.count("things", {"tags": ("x",)})
    assert len(statements) == len(queries) + 2
    for statement in statements:
        plan = _plan(rows, statement)
        assert "INDEX" in plan or "PRIMARY KEY" in plan, (statement, plan)
        scans = [step for step in plan.split(" | ") if step.startswith("SCAN")]
        assert all(step.startswith("SCAN (subquery") for step in scans), (statement, plan)
        if "TEMP B-TREE" in plan:  # a sort only where the arms are merged
            assert "MERGE (UNION ALL)" in plan, (statement, plan)
    assert "UNION ALL" in statements[2] and "UNION ALL" in statements[4]


_page_rows = st.lists(
    st.tuples(
        st.integers(-3, 3) | st.none(),  # due
        st.sampled_from([True, False, None]),  # open
        st.sets(st.sampled_from("xyz"), max_size=2),  # tags
    ),
    max_size=12,
)


@settings(deadline=None)
@given(
    _page_rows,
    st.integers(1, 4),
    st.sets(st.sampled_from("xyz"), max_size=2),
    st.sets(st.sampled_from([True, False, None]), min_size=1),
)
def test_pages_concatenate_to_the_sorted_matches(
    things: list[tuple[int | None, bool | None, set[str]]],
    limit: int,
    tags: set[str],
    flags: set[bool | None],
) -> None:
    """Law: following positions page by page gives every match once, in (order, key) order."""
    backend = open_backend("sqlite://", "t1")
    backend.declare(THINGS)
    with backend.transaction():
        backend.insert_many(
            "things",
            [
                (f"k{i}", "{}", {"due": due, "open": flag, "tags": tuple(labels)})
                for i, (due, flag, labels) in enumerate(things)
            ],
        )

    def matches(flag: bool | None, labels: set[str]) -> bool:
        return flag in flags and (not tags or bool(labels & tags))

    expected = sorted(
        (due, f"k{i}")
        for i, (due, flag, labels) in enumerate(things)
        if due is not None and matches(flag, labels)
    )
    where: dict[str, tuple[Any, ...]] = {"open": tuple(flags)}
    if tags:
        where["tags"] = tuple(tags)
    seen: list[tuple[Any, str]] = []
    after = None
    while True:
        page = backend.select("things", Select(where, "due", after, limit=limit))
        seen.extend((value, row.key) for value, row in page)
        if len(page) < limit:
            break
        after = seen[-1]
    assert seen == expected
    assert backend.count("things", where) == sum(1 for _, f, t in things if matches(f, t))
    backend.close()


# -- event rows -----------------------------------------------------------------------


def test_events_append_and_read_in_order_many_streams_in_one_statement(
    db: SqliteBackend,
) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, "a0"), ("b", 0, "b0"), ("a", 1, "a1")])
        db.append_events("things", [("a", 2, "a2")])
    with _traced(db) as statements:
        found = db.read_events("things", [("a", 3), ("b", 1), ("c", 4), ("d", 0)])
    assert found == {"a": ["a0", "a1", "a2"], "b": ["b0"], "c": [], "d": []}
    assert len(statements) == 1
    assert db.read_events("things", [("a", 2)]) == {"a": ["a0", "a1"]}
    assert db.read_events("things", [("a", 10)]) == {"a": ["a0", "a1", "a2"]}
    assert db.read_events("things", [("a", 3), ("a", 1)]) == {"a": ["a0"]}  # the last count
    keys = [f"k{i}" for i in range(1_100)]
    with db.transaction():
        db.append_events("things", [(key, s, f"{key}/{s}") for key in keys for s in range(2)])
    with _traced(db) as statements:
        many = db.read_events("things", [(key, 2) for key in keys])
    assert len(statements) == 3  # IN lists of at most 500 keys
    assert many == {key: [f"{key}/0", f"{key}/1"] for key in keys}


def test_stored_events_are_never_replaced(db: SqliteBackend) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, "a0")])
        with pytest.raises(ConflictError, match="its event 0 is stored already") as stored:
            db.append_events("things", [("a", 1, "a1"), ("a", 0, "other")])
        assert (stored.value.kind, stored.value.key) == ("thing", "a")
        assert isinstance(stored.value.__cause__, sqlite3.IntegrityError)
        with pytest.raises(ConflictError, match="its event 1 is stored already"):
            db.append_events("things", [("a", 1, "a1"), ("a", 1, "again")])
    assert db.read_events("things", [("a", 5)]) == {"a": ["a0"]}


def test_rewrite_events_replaces_stored_texts_only(db: SqliteBackend) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, "a0"), ("a", 1, "a1")])
        db.rewrite_events("things", "a", {1: "redacted", 7: "nothing stored"})
        db.rewrite_events("things", "zz", {0: "nothing stored"})
    assert db.read_events("things", [("a", 8), ("zz", 1)]) == {"a": ["a0", "redacted"], "zz": []}


# -- outbox ---------------------------------------------------------------------------


def _messages(db: SqliteBackend, count: int, key: str = "a") -> list[int]:
    with db.transaction():
        db.outbox_append([("things", key, i, "made", f"m{i}") for i in range(count)])
    return [m.id for m in db.outbox_pending(10_000) if m.key == key]


def test_outbox_append_and_pending(db: SqliteBackend) -> None:
    ids = _messages(db, 3)
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert db.outbox_pending(2) == [
        OutboxRow(ids[0], "things", "a", 0, "made", "m0"),
        OutboxRow(ids[1], "things", "a", 1, "made", "m1"),
    ]


def test_claims_lease_messages_to_one_relay_until_the_lease_ends(db: SqliteBackend) -> None:
    ids = _messages(db, 5)
    with db.transaction():
        first = db.outbox_claim("r1", 2, NOW, HOUR)
        second = db.outbox_claim("r2", 10, NOW + 1, HOUR)
    assert [m.id for m in first] == ids[:2] and [m.id for m in second] == ids[2:]
    assert {m.attempts for m in first + second} == {1}
    with db.transaction():
        assert db.outbox_claim("r3", 10, NOW + HOUR - 1, HOUR) == []  # all leased
        # r1's lease ended at NOW + HOUR; r3 takes its messages over.
        again = db.outbox_claim("r3", 10, NOW + HOUR, HOUR)
    assert [(m.id, m.attempts) for m in again] == [(ids[0], 2), (ids[1], 2)]
    with db.transaction():
        assert db.outbox_ack("r1", ids[:2]) == 0  # r1 lost its lease: acks nothing
        assert db.outbox_ack("r2", ids) == 3  # only the messages leased to r2
        assert db.outbox_ack("r3", [ids[0], ids[0]]) == 1
        assert db.outbox_ack(None, ids) == 1  # any relay: the one left
        assert db.outbox_ack(None, ids) == 0  # published already
    assert db.outbox_pending(10) == []


def test_the_claim_is_one_statement_and_works_without_returning(
    db: SqliteBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _messages(db, 4)
    with db.transaction(), _traced(db) as statements:
        claimed = db.outbox_claim("r1", 2, NOW, HOUR)
    assert [m.id for m in claimed] == ids[:2]
    assert [s for s in statements if s.startswith("UPDATE")] == statements  # one UPDATE
    assert len(statements) == 1 and "RETURNING" in statements[0]
    monkeypatch.setattr(adapter, "_RETURNING", False)  # SQLite before 3.35
    with db.transaction():
        claimed = db.outbox_claim("r2", 10, NOW, HOUR)
    assert [(m.id, m.attempts) for m in claimed] == [(ids[2], 1), (ids[3], 1)]


def test_failed_messages_are_set_aside_listed_and_retried(db: SqliteBackend) -> None:
    ids = _messages(db, 4)
    with db.transaction():
        db.outbox_claim("r1", 2, NOW, HOUR)
        assert db.outbox_fail("r2", ids[:2], "not r2's") == 0
        assert db.outbox_fail("r1", ids, "undecodable") == 2
        assert db.outbox_fail(None, [ids[3]], "poison") == 1
    assert [m.id for m in db.outbox_pending(10)] == [ids[2]]
    failed = db.outbox_failed(None, 10)
    assert [(m.id, m.failure, m.attempts) for m in failed] == [
        (ids[0], "undecodable", 1),
        (ids[1], "undecodable", 1),
        (ids[3], "poison", 0),
    ]
    assert [m.id for m in db.outbox_failed(ids[0], 1)] == [ids[1]]
    with db.transaction():
        assert db.outbox_ack(None, ids[:2]) == 0  # failed is not pending
        assert db.outbox_retry([ids[0], ids[2], ids[0]]) == 1
    with db.transaction():  # retried: lease cleared, claimable at once
        assert [m.id for m in db.outbox_claim("r2", 10, NOW + 1, HOUR)] == [ids[0], ids[2]]


def test_outbox_redact(db: SqliteBackend) -> None:
    ids = _messages(db, 4)
    _messages(db, 1, key="b")
    with db.transaction():
        db.outbox_ack(None, ids[:1])
        db.outbox_fail(None, ids[3:], "poison")
        db.outbox_redact("things", "a", {1: "redacted 1", 3: "redacted 3"})
    assert [(m.sequence, m.text) for m in db.outbox_pending(10)] == [
        (1, "redacted 1"),
        (0, "m0"),  # record b's message is left alone
    ]
    assert [(m.sequence, m.text) for m in db.outbox_failed(None, 10)] == [(3, "redacted 3")]
    with db.transaction():
        assert db.outbox_ack(None, ids) == 1  # ids[0] (published) and ids[2] are gone


def test_outbox_ids_increase_across_tenants_and_are_never_reused(path: Path) -> None:
    first, second = _open(path, "t1"), _open(path, "t2")
    given: list[int] = []
    for n, backend in enumerate((first, second, first, second)):
        with backend.transaction():
            backend.outbox_append([("things", "a", n, "made", "{}")])
        given.append(max(m.id for m in backend.outbox_pending(100)))
    assert given == sorted(given) and len(set(given)) == 4
    with first.transaction():
        first.outbox_ack(None, given)
        first.outbox_redact("things", "a", {})  # deletes the published ones
    with first.transaction():
        first.outbox_append([("things", "a", 9, "made", "{}")])
    (latest,) = first.outbox_pending(10)
    assert latest.id > max(given)  # deleted ids are not handed out again
    first.close()
    second.close()


def _claim_all(url: str, relay: str, start: Any, found: Any) -> None:
    """A relay process: claim batches until none is left, while its leases last."""
    backend = open_backend(url, "t1")
    claimed: list[int] = []
    start.wait()
    while True:
        with backend.transaction():
            rows = backend.outbox_claim(relay, 7, NOW, HOUR)
        if not rows:
            break
        claimed.extend(row.id for row in rows)
    backend.close()
    found.put((relay, claimed))


def test_two_relay_processes_never_claim_one_message_twice(path: Path) -> None:
    backend = _open(path)
    ids = _messages(backend, 1_000)
    backend.close()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    found = context.Queue()
    relays = [
        context.Process(target=_claim_all, args=(f"sqlite:///{path}", name, start, found))
        for name in ("r1", "r2")
    ]
    for relay in relays:
        relay.start()
    results = dict(found.get(timeout=120) for _ in relays)
    for relay in relays:
        relay.join(timeout=60)
        assert relay.exitcode == 0
    first, second = results["r1"], results["r2"]
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == ids  # none lost, none twice
    assert len(first + second) == len(set(first + second))


# -- erasure, version 1 rows ------------------------------------------------------------


def test_erased_text_leaves_neither_the_file_nor_its_wal(path: Path) -> None:
    phone = "+8613800138000"
    backend = _open(path)
    with backend.transaction():
        backend.insert_many(
            "things", [("a", f'{{"phone":"{phone}"}}', {"name": phone, "handles": (phone,)})]
        )
        backend.append_events("things", [("a", 0, f'{{"body":"call {phone}"}}')])
        backend.outbox_append(
            [
                ("things", "a", 0, "made", f'{{"body":"call {phone}"}}'),
                ("things", "a", 1, "made", f'{{"body":"again {phone}"}}'),
            ]
        )
        backend.outbox_ack(None, [1])
    for _ in range(3):  # other writes, so the WAL holds several versions of the pages
        with backend.transaction():
            backend.insert_many("plain", [(f"p{_}", "{}" * 500, {})])
    reader = _open(path)  # a second connection keeps the WAL from being reset on close
    assert phone.encode() in path.read_bytes() + Path(f"{path}-wal").read_bytes()
    with backend.transaction():
        backend.rewrite("things", "a", '{"phone":"<erased>"}')
        backend.set_columns("things", "a", {"name": None, "handles": ()})
        backend.rewrite_events("things", "a", {0: '{"body":"<erased>"}'})
        backend.outbox_redact("things", "a", {1: '{"body":"<erased>"}'})
    stored = path.read_bytes() + Path(f"{path}-wal").read_bytes()
    assert phone.encode() not in stored
    assert reader.get("things", "a") == Row(("a", 1, '{"phone":"<erased>"}'))
    reader.close()
    backend.close()


def test_a_new_store_has_no_version_1_rows(db: SqliteBackend, path: Path) -> None:
    assert db.legacy_rows(10) == []
    assert not {"legacy_records", "legacy_tickets", "records", "tickets"} & set(_schema(path))
    with db.transaction():
        db.drop_legacy([("tickets", "t1")])  # nothing to forget


def test_a_failure_inside_a_transaction_rolls_back_everything(db: SqliteBackend) -> None:
    _add(db, "a", name="alpha")
    try:
        with db.transaction():
            db.update("things", "a", 1, "changed", {"name": "beta", "tags": ("x",)})
            db.append_events("things", [("a", 0, "e0")])
            db.outbox_append([("things", "a", 0, "made", "{}")])
            raise _RollbackError
    except _RollbackError:
        pass
    assert db.get("things", "a") == Row(("a", 1, '{"key":"a"}'))
    assert db.count("things", {"tags": ("x",)}) == 0
    assert db.read_events("things", [("a", 1)]) == {"a": []}
    assert db.outbox_pending(10) == []


# -- laws -----------------------------------------------------------------------------

_operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.sampled_from("abcd"), st.sampled_from(["n1", "n2"])),
        st.tuples(st.just("update"), st.sampled_from("abcd"), st.sampled_from(["h1", "h2"])),
        st.tuples(st.just("delete"), st.sampled_from("abcd"), st.integers(1, 2)),
        st.tuples(st.just("events"), st.sampled_from("abcd"), st.integers(0, 2)),
        st.tuples(st.just("outbox"), st.sampled_from("abcd"), st.integers(0, 2)),
        st.tuples(st.just("claim"), st.sampled_from(["r1", "r2"]), st.integers(0, 3)),
        st.tuples(st.just("ack"), st.sampled_from(["r1", "r2"]), st.integers(1, 6)),
        st.tuples(st.just("fail"), st.sampled_from(["r1", "r2"]), st.integers(1, 6)),
        st.tuples(st.just("redact"), st.sampled_from("abcd"), st.integers(0, 2)),
    ),
    max_size=12,
)


def _state(backend: SqliteBackend) -> Any:
    """Everything the tenant can read, for before/after comparisons."""
    keys = [(key, 1_000) for key in "abcdx"]
    return (
        backend.select("things", Select(limit=10_000)),
        backend.select("things", Select(order="name", limit=10_000)),
        backend.count("things", {"handles": ("h1", "h2")}),
        backend.read_events("things", keys),
        backend.outbox_pending(10_000),
        backend.outbox_failed(None, 10_000),
        [row[1:] for row in backend._fetch("", "SELECT * FROM outbox", ())],  # leases too
    )


def _run(backend: SqliteBackend, operation: tuple[str, str, Any]) -> bool:
    """Apply one operation; False when it was refused (ConflictError, NotFoundError)."""
    kind, name, arg = operation
    nth = (
        [m.id for m in backend.outbox_pending(100)][arg - 1 : arg]
        if kind in ("ack", "fail")
        else []
    )
    try:
        if kind == "insert":
            backend.insert_many("things", [(name, "{}", {"name": arg, "handles": (arg,)})])
        elif kind == "update":
            row = backend.get("things", name)
            version = 1 if row is None else row.version
            # A name of its own, a handle perhaps taken: refused after the row changed.
            columns = {"name": f"{name}-{arg}", "handles": (arg,), "tags": (name,)}
            backend.update("things", name, version, arg, columns)
        elif kind == "delete":
            backend.delete("things", name, arg)
        elif kind == "events":
            backend.append_events("things", [(name, arg, f"{name}{arg}"), (name, 0, "zero")])
        elif kind == "outbox":
            backend.outbox_append([("things", name, arg, "made", f"{name}{arg}")])
        elif kind == "claim":
            backend.outbox_claim(name, 2, now=arg * 10, lease=15)
        elif kind == "ack":
            backend.outbox_ack(name, nth)
        elif kind == "fail":
            backend.outbox_fail(name, nth, "bad")
        else:
            backend.outbox_redact("things", name, {arg: "redacted"})
    except (ConflictError, NotFoundError):
        return False
    return True


@settings(deadline=None)
@given(_operations, _operations)
@example(  # refused after a statement changed something: the savepoint undoes it
    setup=[
        ("insert", "a", "n1"),
        ("insert", "b", "n2"),
        ("update", "a", "h1"),
        ("update", "b", "h1"),  # its handle is taken once its row was updated
        ("events", "a", 1),
        ("events", "a", 2),  # (a, 2) inserted, then (a, 0) refused
    ],
    undone=[("outbox", "a", 0), ("claim", "r1", 1), ("ack", "r1", 1)],
)
def test_refused_writes_and_rolled_back_transactions_change_nothing(
    setup: list[tuple[str, str, Any]], undone: list[tuple[str, str, Any]]
) -> None:
    """Laws: a refused write changes nothing, even when its error is caught and the
    transaction goes on; a transaction ended by an exception changes nothing."""
    backend = open_backend("sqlite://", "t1")
    backend.declare(THINGS)
    with backend.transaction():
        for operation in setup:
            before = _state(backend)
            if not _run(backend, operation):
                assert _state(backend) == before, operation
    committed = _state(backend)

    def undo() -> None:
        with backend.transaction():
            for operation in undone:
                _run(backend, operation)
            raise _RollbackError

    with pytest.raises(_RollbackError):
        undo()
    assert _state(backend) == committed
    backend.close()


def test_a_second_transaction_on_the_file_in_one_thread_is_refused_not_awaited(
    path: Path,
) -> None:
    first, second = _open(path, "t1"), _open(path, "t2")
    with first.transaction():
        with pytest.raises(StorageError, match="would wait for it forever"):
            second.transaction().__enter__()
        first.insert_many("plain", [("a", "{}", {})])
    with second.transaction():  # once the first ended, the file takes the other one
        second.insert_many("plain", [("a", "{}", {})])
    assert first.get("plain", "a") is not None and second.get("plain", "a") is not None
    first.close()
    second.close()
