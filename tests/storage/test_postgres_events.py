"""PostgreSQL: event rows of collections declared with ``events=True``: appended,
never replaced, read in order, rewritten only for erasure.

See ``test_postgres.py`` for the server these tests need.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_postgres import Schema, add, fresh_schema, rolled_back

from csdomain.errors import ConflictError
from csdomain.storage.backend import Row


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


@pytest.fixture
def db(schema: Schema) -> Any:
    return schema.backend()


def test_events_are_read_in_order_up_to_a_count(db: Any, schema: Schema) -> None:
    with db.transaction():
        db.append_events("things", [("a", 1, '"a1"'), ("b", 0, '"b0"'), ("a", 0, '"a0"')])
        db.append_events("things", [("a", 2, '"a2"')])
    assert db.read_events("things", [("a", 3), ("b", 5), ("zz", 2), ("c", 0)]) == {
        "a": ['"a0"', '"a1"', '"a2"'],
        "b": ['"b0"'],  # fewer stored than asked: what is stored
        "zz": [],
        "c": [],
    }
    assert db.read_events("things", [("a", 2)]) == {"a": ['"a0"', '"a1"']}
    assert db.read_events("things", []) == {}
    assert schema.backend("globex").read_events("things", [("a", 3)]) == {"a": []}


def test_a_stored_event_is_never_replaced(db: Any) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, '"first"')])
    for events in ([("a", 1, '"new"'), ("a", 0, '"again"')], [("b", 0, "{}"), ("b", 0, "{}")]):

        def unit_of_work(events: list[tuple[str, int, str]] = events) -> None:
            with db.transaction():
                db.append_events("things", events)

        with pytest.raises(ConflictError) as info:
            unit_of_work()
        key, sequence = events[1][:2]
        assert (info.value.kind, info.value.key) == ("thing", key)
        assert info.value.detail == (
            f"its event {sequence} is stored already; stored events are never replaced"
        )
    assert db.read_events("things", [("a", 5), ("b", 5)]) == {"a": ['"first"'], "b": []}


def test_appending_writes_only_the_new_rows_and_the_state_row(db: Any, schema: Schema) -> None:
    for key in ("a", "b"):
        add(db, key)
    with db.transaction():
        db.append_events("things", [("a", s, f'"{s}"') for s in range(300)])
    before = dict(schema.rows("SELECT key || ':' || sequence, xmin::text FROM {}.c_things__events"))
    with db.transaction():
        db.update("things", "a", 1, '"state"', {"size": 301})
        db.append_events("things", [("a", 300, '"300"')])
    after = dict(schema.rows("SELECT key || ':' || sequence, xmin::text FROM {}.c_things__events"))
    assert {k: v for k, v in after.items() if k in before} == before  # none rewritten
    assert set(after) - set(before) == {"a:300"}
    assert db.get("things", "a") == Row(("a", 2, '"state"'))
    assert len(db.read_events("things", [("a", 301)])["a"]) == 301


def test_erasure_rewrites_the_given_events_only(db: Any) -> None:
    with db.transaction():
        db.append_events("things", [("a", s, f'"phone {s}"') for s in range(3)])
        db.append_events("things", [("b", 0, '"phone b"')])
    with rolled_back(db):
        db.rewrite_events("things", "a", {0: '"x"'})
    with db.transaction():
        db.rewrite_events("things", "a", {0: '"[redacted]"', 2: '"[redacted]"', 7: '"none"'})
        db.rewrite_events("things", "b", {})
    assert db.read_events("things", [("a", 9), ("b", 1)]) == {
        "a": ['"[redacted]"', '"phone 1"', '"[redacted]"'],  # sequence 7 was not stored
        "b": ['"phone b"'],
    }


def test_appends_of_a_rolled_back_unit_of_work_leave_nothing(db: Any) -> None:
    with rolled_back(db):
        db.append_events("things", [("a", 0, '"gone"')])
    with db.transaction():
        db.append_events("things", [("a", 0, '"kept"')])  # the sequence is free again
    assert db.read_events("things", [("a", 1)]) == {"a": ['"kept"']}
