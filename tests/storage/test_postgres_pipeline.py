"""PostgreSQL: the writes of a unit of work go in one round trip, and their errors
surface before anything commits.

Round trips are counted from libpq's protocol trace of the thread's connection
(one ``ReadyForQuery`` per wait for the server). See ``test_postgres.py`` for
the server these tests need.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_postgres import (
    PLAIN,
    THINGS,
    URL,
    Schema,
    add,
    fresh_schema,
    postgres,
    psycopg,
    round_trips,
    traced,
)

from csdomain.errors import ConflictError, NotFoundError
from csdomain.storage.backend import Collection, Column, ColumnType, Row, Select, StorageError


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


@pytest.fixture
def db(schema: Schema) -> Any:
    return schema.backend()


def _save(db: Any, key: str, expected: int, events: range) -> None:
    """What a ticket save sends: the state row, the new events, their messages."""
    db.update("things", key, expected, json.dumps({"v": expected + 1}), {"size": expected})
    db.append_events("things", [(key, s, f'"e{s}"') for s in events])
    db.outbox_append([("things", key, s, "made", f'"e{s}"') for s in events])


def test_a_unit_of_work_that_only_writes_is_one_round_trip(db: Any) -> None:
    add(db, "a")
    with traced(db) as lines, db.transaction():
        _save(db, "a", 1, range(3))
    assert round_trips(lines) == 1
    # BEGIN, the UPDATE, the replaced entries of the two multiple columns (no values
    # left: deletes only), the events, the messages and COMMIT.
    assert sum(1 for line in lines if "\tExecute" in line) == 7
    assert db.get("things", "a") == Row(("a", 2, '{"v": 2}'))
    assert len(db.read_events("things", [("a", 3)])["a"]) == 3
    assert [m.sequence for m in db.outbox_pending(10)] == [0, 1, 2]


def test_a_save_of_a_collection_without_multiple_columns_is_five_statements(db: Any) -> None:
    streams = Collection(
        name="streams",
        what="stream",
        document=dict,
        key_of=lambda value: "",
        columns=(Column("size", ColumnType.INTEGER),),
        events=True,
    )
    db.declare(streams)
    with db.transaction():
        db.insert_many("streams", [("a", "{}", {})])
    with traced(db) as lines, db.transaction():
        db.update("streams", "a", 1, "{}", {"size": 2})
        db.append_events("streams", [("a", 0, "{}")])
        db.outbox_append([("streams", "a", 0, "made", "{}")])
    assert round_trips(lines) == 1
    # BEGIN, the UPDATE of the state row, the events, the messages and COMMIT.
    assert sum(1 for line in lines if "\tExecute" in line) == 5


def test_a_unit_of_work_of_one_write_is_that_statement_alone(db: Any) -> None:
    """No BEGIN or COMMIT around it: one statement is a transaction of its own."""
    db.declare(PLAIN)
    with db.transaction():
        db.insert_many("plain", [("a", "{}", {})])
    with traced(db) as lines, db.transaction():
        db.update("plain", "a", 1, '"saved"', {})
    assert round_trips(lines) == 1
    assert sum(1 for line in lines if "\tExecute" in line) == 1
    assert db.get("plain", "a") == Row(("a", 2, '"saved"'))
    with pytest.raises(ConflictError) as info, db.transaction():
        db.update("plain", "a", 1, '"stale"', {})
    assert (info.value.expected_version, info.value.stored_version) == (1, 2)
    assert db.get("plain", "a") == Row(("a", 2, '"saved"'))


def test_many_saves_in_one_unit_of_work_are_still_one_round_trip(db: Any) -> None:
    with db.transaction():
        db.insert_many("things", [(f"k{i}", "{}", {}) for i in range(5_000)])
    with traced(db) as lines, db.transaction():
        for i in range(200):
            _save(db, f"k{i}", 1, range(2))
    assert round_trips(lines) == 1
    assert db.count("things", {"size": (1,)}) == 200
    assert len(db.outbox_pending(1_000)) == 400


def test_a_read_sends_the_writes_before_it_and_sees_them(db: Any) -> None:
    add(db, "a")
    with traced(db) as lines, db.transaction():
        _save(db, "a", 1, range(1))
        assert db.get("things", "a") == Row(("a", 2, '{"v": 2}'))  # writes + read: 1
        assert [m.sequence for m in db.outbox_pending(10)] == [0]  # 1
        db.outbox_append([("things", "a", 1, "made", "{}")])
    assert round_trips(lines) == 3  # and the last write goes with the COMMIT


def test_an_empty_unit_of_work_sends_nothing(db: Any) -> None:
    with traced(db) as lines, db.transaction():
        pass
    assert lines == []


def test_a_stale_update_is_refused_before_commit_and_nothing_commits(
    db: Any, schema: Schema
) -> None:
    add(db, "a")
    add(db, "b")
    observer = schema.backend()

    def unit_of_work() -> None:
        with db.transaction():
            db.insert_many("things", [("c", "{}", {})])
            db.update("things", "a", 1, '"first"', {})  # fine
            db.update("things", "b", 7, '"stale"', {})  # refused by the server
            db.outbox_append([("things", "a", 0, "made", "{}")])
            # Queued: nothing has been refused yet.

    with pytest.raises(ConflictError) as info:
        unit_of_work()
    assert (info.value.kind, info.value.key) == ("thing", "b")
    assert (info.value.expected_version, info.value.stored_version) == (7, 1)
    for backend in (db, observer):
        assert backend.get("things", "c") is None
        assert backend.get("things", "a") == Row(("a", 1, '{"key": "a"}'))
        assert backend.outbox_pending(10) == []
    # The connection is usable again, and ids burned by the rollback stay unused.
    add(db, "d")
    assert db.get("things", "d") is not None


def test_a_missing_row_surfaces_at_the_next_read_and_ends_the_unit_of_work(db: Any) -> None:
    add(db, "a")
    errors: list[BaseException] = []

    def swallowing() -> None:
        with db.transaction():
            db.insert_many("things", [("b", "{}", {})])
            db.update("things", "zz", 1, "{}", {})
            with pytest.raises(NotFoundError) as info:
                db.count("things", {})
            errors.append(info.value)
            # Rolled back already: no further call may run in it, as if it had not.
            for call in (
                lambda: db.insert_many("things", [("c", "{}", {})]),
                lambda: db.get("things", "a"),
                lambda: db.outbox_claim("r1", 1, 0, 1),
            ):
                with pytest.raises(StorageError, match="rolled back"):
                    call()
            # The caller goes on as if nothing happened: leaving the block says otherwise.

    with pytest.raises(StorageError, match="rolled back after an error") as left:
        swallowing()
    (missing,) = errors
    assert (missing.kind, missing.key) == ("thing", "zz")  # type: ignore[attr-defined]
    assert left.value.__cause__ is missing
    assert db.get("things", "b") is None and db.get("things", "c") is None


def test_the_first_failing_write_is_the_one_reported(db: Any) -> None:
    for key in "abc":
        add(db, key)

    def unit_of_work() -> None:
        with db.transaction():
            db.update("things", "a", 1, "{}", {})
            db.delete("things", "b", 3)
            db.update("things", "c", 5, "{}", {})

    with pytest.raises(ConflictError) as info:
        unit_of_work()
    assert (info.value.key, info.value.expected_version, info.value.stored_version) == (
        "b",
        3,
        1,
    )
    assert [row.version for row in db.get_many("things", ["a", "b", "c"])] == [1, 1, 1]


def test_a_unique_value_taken_surfaces_at_commit_naming_the_holder(db: Any) -> None:
    add(db, "a", name="alpha", handles=("h1",))
    add(db, "b")
    for columns, column in (({"name": "alpha"}, "name"), ({"handles": ("h0", "h1")}, "handles")):

        def unit_of_work(columns: dict[str, Any] = columns) -> None:
            with db.transaction():
                db.update("things", "b", 1, '"taken"', columns)

        with pytest.raises(ConflictError) as info:
            unit_of_work()
        assert info.value.key == "b"
        assert info.value.detail == f"its {column} value is held by another thing (a)"
    assert db.get("things", "b") == Row(("b", 1, '{"key": "b"}'))


def test_values_the_driver_cannot_send_fail_the_write_and_roll_back(db: Any) -> None:
    add(db, "a")

    def unit_of_work() -> None:
        with db.transaction():
            db.insert_many("things", [("b", "{}", {})])
            db.update("things", "a", 1, "{}", {"name": "nul \x00 inside"})

    with pytest.raises(StorageError, match="update thing 'a'") as info:
        unit_of_work()
    assert not isinstance(info.value, ConflictError)
    assert db.get("things", "b") is None and db.get("things", "a") == Row(("a", 1, '{"key": "a"}'))


def test_failing_and_succeeding_units_of_work_alternate_without_stale_statements(
    db: Any,
) -> None:
    """Regression: psycopg prepares a statement after 5 runs; prepared in a pipeline
    that failed, it was counted as prepared and every later run failed."""
    add(db, "a")
    version = 1
    for round in range(12):
        stale = round % 2 == 1

        def unit_of_work(
            expected: int = version + 5 if stale else version, round: int = round
        ) -> None:
            with db.transaction():
                db.update("things", "a", expected, "{}", {"size": round})
                db.insert_many("things", [(f"k{round}", "{}", {})])

        if stale:
            with pytest.raises(ConflictError):
                unit_of_work()
        else:
            unit_of_work()
            version += 1
    assert db.get("things", "a") == Row(("a", version, "{}"))
    assert db.count("things", {}) == 1 + 6


def test_an_update_is_one_statement_on_the_row_only(db: Any, schema: Schema) -> None:
    """The state row alone changes: no other row of the table is rewritten."""
    for key in "abc":
        add(db, key)
    before = dict(schema.rows("SELECT key, xmin::text FROM {}.c_things"))
    with traced(db) as lines, db.transaction():
        db.update("things", "b", 1, '"new"', {"size": 4, "open": True, "due": 10})
    after = dict(schema.rows("SELECT key, xmin::text FROM {}.c_things"))
    assert {k for k in before if before[k] != after[k]} == {"b"}
    statements = [line for line in lines if "\tParse" in line or "\tBind" in line]
    assert sum(1 for line in statements if "UPDATE" in line) == 1
    assert db.select("things", Select(where={"open": (True,)}, order="due")) == [
        (10, Row(("b", 2, '"new"')))
    ]


def test_a_unit_of_work_on_an_apps_transaction_keeps_the_app_transaction_usable(
    schema: Schema,
) -> None:
    schema.backend()
    with psycopg.connect(URL) as conn:
        backend = postgres.PostgresBackend.from_connection(conn, "acme", schema=schema.name)
        backend.declare(THINGS)
        with conn.transaction():
            add(backend, "a")

            def stale() -> None:
                with backend.transaction():
                    backend.insert_many("things", [("b", "{}", {})])
                    backend.update("things", "a", 4, "{}", {})

            with pytest.raises(ConflictError):
                stale()  # rolled back to its savepoint
            add(backend, "c")
        assert [r.key for r in backend.get_many("things", ["a", "b", "c"])] == ["a", "c"]
