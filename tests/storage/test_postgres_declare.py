"""PostgreSQL: declaring collections makes their tables and indexes, once, under the
schema lock; later declarations add what they add and never drop anything.

See ``test_postgres.py`` for the server these tests need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_postgres import PLAIN, THINGS, Schema, add, admin, fresh_schema, postgres, rolled_back

from csdomain.errors import SchemaError, ValidationError
from csdomain.storage.backend import (
    Collection,
    Column,
    ColumnType,
    Query,
    Row,
    Select,
    StorageError,
)


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


def _collection(name: str = "plain", *columns: Column, queries: tuple[Query, ...] = ()) -> Any:
    return Collection(
        name=name,
        what=f"{name} record",
        document=dict,
        key_of=lambda value: "",
        columns=columns,
        queries=queries,
    )


def _tables(schema: Schema) -> set[str]:
    return {
        name
        for (name,) in schema.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", schema.name
        )
    }


def _indexes(schema: Schema, table: str) -> dict[str, str]:
    return dict(
        schema.rows(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
            schema.name,
            table,
        )
    )


def test_a_declaration_makes_tables_and_one_index_per_query(schema: Schema) -> None:
    db = schema.backend()
    assert {"c_things", "c_things__tags", "c_things__handles", "c_things__events"} <= _tables(
        schema
    )
    columns = schema.rows(
        "SELECT column_name, data_type, collation_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'c_things' ORDER BY ordinal_position",
        schema.name,
    )
    assert columns == [
        ("tenant", "text", "C"),
        ("key", "text", "C"),
        ("version", "bigint", None),
        ("document", "json", None),
        ("name", "text", "C"),
        ("size", "bigint", None),
        ("due", "bigint", None),
        ("open", "boolean", None),
    ]
    indexes = _indexes(schema, "c_things")
    by_query = {name.rsplit("_", 1)[0]: text for name, text in indexes.items()}
    assert "(tenant, open, due, key) WHERE (due IS NOT NULL)" in by_query["i_things__open_by_due"]
    assert "(tenant, size, key)" in by_query["i_things__by_size"]
    assert "(tenant, name, key) WHERE (name IS NOT NULL)" in by_query["i_things__by_name"]
    # A filter on a multiple column alone is served by its entries table.
    assert not any(name.startswith("i_things__by_tag") for name in indexes)
    assert "UNIQUE" in indexes["u_things__name"] and "(tenant, name)" in indexes["u_things__name"]
    assert "(tenant, value, key)" in _indexes(schema, "c_things__tags")["c_things__tags_pkey"]
    assert "(tenant, value)" in _indexes(schema, "c_things__handles")["c_things__handles_pkey"]
    assert set(_indexes(schema, "c_things__events")) == {"c_things__events_pkey"}
    (declaration,) = schema.rows(
        "SELECT declaration FROM {}.csdomain_collections WHERE name = 'things'"
    )
    assert '"handles":{"type":"text","unique":true,"multiple":true}' in declaration[0]
    # Declared again, by this store or another: nothing to do.
    assert db.declare(THINGS) is False
    assert schema.backend().declare(THINGS) is False
    assert _indexes(schema, "c_things") == indexes


def test_racing_declarations_make_the_tables_once(schema: Schema) -> None:
    schema.backend()
    fresh = _collection(
        "fresh",
        Column("colour", ColumnType.TEXT, unique=True),
        Column("labels", ColumnType.TEXT, multiple=True),
        queries=(Query("by_colour", ("colour",)),),
    )
    backends = [schema.backend(f"t{i}") for i in range(6)]
    barrier = threading.Barrier(len(backends))
    results: list[Any] = []

    def declare(backend: Any) -> None:
        barrier.wait()
        try:
            results.append(backend.declare(fresh))
        except BaseException as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=declare, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [False] * 6
    assert {"c_fresh", "c_fresh__labels"} <= _tables(schema)
    assert schema.rows("SELECT count(*) FROM {}.csdomain_collections WHERE name = 'fresh'") == [
        (1,)
    ]
    for backend in backends:
        with backend.transaction():
            backend.insert_many("fresh", [("a", "{}", {"colour": "red", "labels": ("x",)})])
        assert backend.count("fresh", {"labels": ("x",)}) == 1


def test_added_columns_are_reported_once_to_every_tenant_with_rows(schema: Schema) -> None:
    first, second = schema.backend("t1"), schema.backend("t2")
    empty = schema.backend("t3")
    for backend in (first, second):
        with backend.transaction():
            backend.insert_many("plain", [("a", "{}", {})])
    wider = _collection(
        "plain",
        Column("colour", ColumnType.TEXT),
        Column("labels", ColumnType.TEXT, unique=True, multiple=True),
        queries=(Query("by_colour", ("colour",)),),
    )
    assert first.declare(wider) is True
    assert first.declare(wider) is False
    assert schema.backend("t1").declare(wider) is False
    # Another tenant's rows lack the values too: its store hears it once.
    assert second.declare(wider) is True
    assert schema.backend("t2").declare(wider) is False
    assert empty.declare(wider) is False
    # Rows written before hold NULL and no entries until their columns are set.
    assert first.count("plain", {"colour": (None,)}) == 1
    assert first.count("plain", {"labels": ("x",)}) == 0
    with first.transaction():
        first.set_columns("plain", "a", {"colour": "red", "labels": ("x",)})
    assert first.count("plain", {"colour": ("red",)}) == 1
    assert first.get("plain", "a") == Row(("a", 1, "{}"))


def test_a_declaration_without_a_column_keeps_it(schema: Schema) -> None:
    db = schema.backend()
    wider = _collection("plain", Column("colour", ColumnType.TEXT))
    assert db.declare(wider) is True  # no rows yet, yet columns were added
    with db.transaction():
        db.insert_many("plain", [("a", "{}", {"colour": "red"})])
    fresh = schema.backend()
    assert fresh.declare(PLAIN) is False
    assert fresh.count("plain", {"colour": ("red",)}) == 1
    assert "colour" in {
        name
        for (name,) in schema.rows(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'c_plain'",
            schema.name,
        )
    }


def test_a_new_query_adds_an_index_and_reports_no_columns(schema: Schema) -> None:
    db = schema.backend()
    before = set(_indexes(schema, "c_things"))
    more = Collection(
        name="things",
        what="thing",
        document=dict,
        key_of=lambda value: "",
        columns=THINGS.columns,
        queries=(*THINGS.queries, Query("by_size_due", ("size",), "due")),
        events=True,
    )
    assert db.declare(more) is False
    (added,) = set(_indexes(schema, "c_things")) - before
    assert added.startswith("i_things__by_size_due_")
    add(db, "a", size=1, due=5)
    assert db.select("things", Select(where={"size": (1,)}, order="due"))[0][0] == 5


def test_a_changed_column_is_a_schema_error_and_changes_nothing(schema: Schema) -> None:
    db = schema.backend()
    add(db, "a", size=3)
    for changed in (
        Column("size", ColumnType.TEXT),
        Column("size", ColumnType.INTEGER, unique=True),
        Column("size", ColumnType.INTEGER, multiple=True),
    ):
        other = _collection("things", changed)
        with pytest.raises(SchemaError, match="'size' is stored as integer but declared as"):
            db.declare(other)
    assert db.count("things", {"size": (3,)}) == 1


def test_names_are_checked_again_before_any_ddl(schema: Schema) -> None:
    db = schema.backend()
    forged = _collection("forged", Column("ok", ColumnType.TEXT))
    object.__setattr__(forged, "name", 'x"; DROP SCHEMA public; --')
    with pytest.raises(ValidationError, match="lower-case identifier"):
        db.declare(forged)
    column = Column("ok", ColumnType.TEXT)
    object.__setattr__(column, "name", "key")
    with pytest.raises(ValidationError, match="reserved"):
        db.declare(_collection("forged", column))
    assert not any(
        name.startswith("c_forged") or name.startswith("c_x") for name in _tables(schema)
    )


def test_a_table_csdomain_did_not_make_is_refused(schema: Schema) -> None:
    db = schema.backend()
    with admin() as conn:
        conn.execute(f'CREATE TABLE "{schema.name}".c_foreign (id integer)')
    with pytest.raises(SchemaError, match="c_foreign, which csdomain did not create"):
        db.declare(_collection("foreign"))
    assert schema.rows("SELECT name FROM {}.csdomain_collections WHERE name = 'foreign'") == []
    with pytest.raises(StorageError, match="not declared"):
        db.get("foreign", "a")


def test_collections_whose_tables_would_share_a_name_are_refused(schema: Schema) -> None:
    db = schema.backend()
    db.declare(_collection("a", Column("b", ColumnType.TEXT, multiple=True)))
    with pytest.raises(SchemaError, match="which collection 'a' has"):
        db.declare(_collection("a__b"))
    with pytest.raises(SchemaError, match="which collection 'a' has"):
        db.declare(_collection("a_pkey"))


def test_long_names_are_shortened_and_stay_distinct(schema: Schema) -> None:
    db = schema.backend()
    name = "n" * 40
    long = _collection(
        name,
        Column("c" * 39 + "1", ColumnType.TEXT, multiple=True),
        Column("c" * 39 + "2", ColumnType.TEXT, unique=True, multiple=True),
        queries=(Query("q" * 40, ("c" * 39 + "1",), "key"),),
    )
    db.declare(long)
    tables = {t for t in _tables(schema) if t.startswith("c_n")}
    assert len(tables) == 3 and all(len(t) <= 63 for t in tables)
    first, second = "c" * 39 + "1", "c" * 39 + "2"
    with db.transaction():
        db.insert_many(name, [("a", "{}", {first: ("x",), second: ("y",)})])
    assert db.count(name, {first: ("x",)}) == 1 and db.count(name, {second: ("x",)}) == 0
    assert db.count(name, {second: ("y",)}) == 1


def test_a_declaration_inside_a_unit_of_work_goes_with_it(schema: Schema) -> None:
    db = schema.backend()
    kept, dropped = _collection("kept"), _collection("dropped")
    with db.transaction():
        db.declare(kept)
        db.insert_many("kept", [("a", "{}", {})])
    assert db.get("kept", "a") is not None
    with rolled_back(db):
        db.declare(dropped)
        db.insert_many("dropped", [("a", "{}", {})])
    assert "c_dropped" not in _tables(schema)
    with pytest.raises(StorageError, match="'dropped' is not declared"):
        db.get("dropped", "a")
    assert db.declare(dropped) is False  # declared again: made this time
    assert db.get("dropped", "a") is None


def test_a_damaged_declaration_is_a_schema_error(schema: Schema) -> None:
    schema.backend()
    with admin() as conn:
        conn.execute(
            f'UPDATE "{schema.name}".csdomain_collections SET declaration = %s'
            " WHERE name = 'plain'",
            ('{"columns": {"x": {"type": "colour"}}}',),
        )
    backend = postgres.open_backend(schema.url(), "acme")
    schema.opened.append(backend)
    with pytest.raises(SchemaError, match=r"declaration of collection 'plain'.*damaged"):
        backend.declare(PLAIN)
