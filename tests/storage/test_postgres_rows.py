"""PostgreSQL: rows of declared collections, unique values, filters, counts, ordered
pages and their positions, through the Backend.

See ``test_postgres.py`` for the server these tests need.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_postgres import Schema, add, fresh_schema

from csdomain.errors import ConflictError, NotFoundError, ValidationError
from csdomain.storage.backend import Row, Select, StorageError


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


@pytest.fixture
def db(schema: Schema) -> Any:
    return schema.backend()


def _keys(pairs: list[tuple[Any, Row]]) -> list[str]:
    return [row.key for _, row in pairs]


def _conflict(db: Any, call: Any) -> ConflictError:
    """The ConflictError a unit of work of ``db`` doing ``call`` raises."""

    def unit_of_work() -> None:
        with db.transaction():
            call()

    with pytest.raises(ConflictError) as info:
        unit_of_work()
    return info.value


# -- rows ---------------------------------------------------------------------------


def test_insert_get_and_get_many(db: Any, schema: Schema) -> None:
    with db.transaction():
        db.insert_many("things", [("a", '{"x":"\\u0000 ☃"}', {}), ("b", "{}", {"size": 3})])
        db.insert_many("plain", [("a", '"plain"', {})])
    assert db.get("things", "a") == Row(("a", 1, '{"x":"\\u0000 ☃"}'))
    assert db.get("things", "zz") is None
    assert db.get_many("things", ["b", "zz", "a", "b"]) == [
        Row(("b", 1, "{}")),
        Row(("a", 1, '{"x":"\\u0000 ☃"}')),
    ]
    assert db.get_many("things", []) == []
    assert db.get("plain", "a") == Row(("a", 1, '"plain"'))  # collections are separate
    other = schema.backend("globex")
    assert other.get("things", "a") is None and other.count("things", {}) == 0


def test_insert_many_is_all_or_none(db: Any) -> None:
    add(db, "a")
    taken = _conflict(db, lambda: db.insert_many("things", [("new", "{}", {}), ("a", "{}", {})]))
    assert (taken.kind, taken.key, taken.expected_version, taken.stored_version) == (
        "thing",
        "a",
        None,
        1,
    )
    repeated = _conflict(db, lambda: db.insert_many("things", [("b", "{}", {}), ("b", "{}", {})]))
    assert (repeated.key, repeated.stored_version) == ("b", 1)
    clash = _conflict(
        db,
        lambda: db.insert_many("things", [("c", "{}", {"name": "n"}), ("d", "{}", {"name": "n"})]),
    )
    assert (clash.key, clash.detail) == ("d", "its name value is held by another thing (c)")
    entries = _conflict(
        db,
        lambda: db.insert_many(
            "things", [("e", "{}", {"handles": ("h",)}), ("f", "{}", {"handles": ("x", "h")})]
        ),
    )
    assert (entries.key, entries.detail) == ("f", "its handles value is held by another thing (e)")
    # Batches of thousands: the last row's conflict undoes the first batches too.
    many = [(f"k{i}", "{}", {"tags": ("t",)}) for i in range(4_500)] + [("a", "{}", {})]
    assert _conflict(db, lambda: db.insert_many("things", many)).key == "a"
    assert _keys(db.select("things", Select(limit=10))) == ["a"]
    assert db.count("things", {"tags": ("t",)}) == 0


def test_a_key_inserted_earlier_in_the_unit_of_work_is_taken(db: Any) -> None:
    def unit_of_work() -> None:
        with db.transaction():
            db.insert_many("things", [("a", "{}", {})])
            db.insert_many("things", [("b", "{}", {}), ("a", "{}", {})])

    with pytest.raises(ConflictError) as info:
        unit_of_work()
    assert (info.value.key, info.value.stored_version) == ("a", 1)
    assert db.get("things", "a") is None


def test_unique_values_belong_to_one_record_of_a_tenant(db: Any, schema: Schema) -> None:
    add(db, "a", name="alpha", handles=("h1", "h2"))
    add(db, "b", name=None, handles=())
    add(db, "c", name=None)  # NULLs never collide
    clash = _conflict(db, lambda: db.update("things", "b", 1, "{}", {"name": "alpha"}))
    assert (clash.key, clash.detail) == ("b", "its name value is held by another thing (a)")
    clash = _conflict(db, lambda: db.update("things", "b", 1, "{}", {"handles": ("h0", "h2")}))
    assert clash.detail == "its handles value is held by another thing (a)"
    clash = _conflict(db, lambda: db.set_columns("things", "c", {"handles": ("h1",)}))
    assert (clash.key, clash.detail) == ("c", "its handles value is held by another thing (a)")
    # A record keeps its own values, and what it gives up is free for others.
    with db.transaction():
        db.update("things", "a", 1, "{}", {"name": "alpha", "handles": ("h2",)})
        db.update("things", "b", 1, "{}", {"handles": ("h1",)})
    assert db.get("things", "b") == Row(("b", 2, "{}"))
    assert db.count("things", {"handles": ("h1",)}) == 1
    with db.transaction():
        db.delete("things", "a", 2)
        db.insert_many("things", [("d", "{}", {"name": "alpha", "handles": ("h2",)})])
    # Unique per tenant: another tenant may hold the same values.
    add(schema.backend("globex"), "z", name="alpha", handles=("h1", "h2"))


def test_writes_check_that_their_row_is_there_at_the_version(db: Any) -> None:
    add(db, "a", tags=("x",), handles=("h",))
    with db.transaction():
        db.append_events("things", [("a", 0, '"e0"')])
    for call in (
        lambda: db.update("things", "zz", 1, "{}", {}),
        lambda: db.set_columns("things", "zz", {}),
        lambda: db.rewrite("things", "zz", "{}"),
        lambda: db.delete("things", "zz", 1),
    ):
        with pytest.raises(NotFoundError) as missing, db.transaction():
            call()
        assert (missing.value.kind, missing.value.key) == ("thing", "zz")
        assert "tenant 'acme'" in str(missing.value)
    stale = _conflict(db, lambda: db.delete("things", "a", 2))
    assert (stale.expected_version, stale.stored_version) == (2, 1)
    with db.transaction():
        db.rewrite("things", "a", '"erased"')  # keeps the version and the columns
    assert db.get("things", "a") == Row(("a", 1, '"erased"'))
    assert db.count("things", {"tags": ("x",)}) == 1
    with db.transaction():
        db.delete("things", "a", 1)
    assert db.get("things", "a") is None
    assert db.count("things", {"tags": ("x",)}) == 0
    assert db.read_events("things", [("a", 1)]) == {"a": []}
    add(db, "a", handles=("h",))  # its unique values went with it


def test_column_values_are_checked_before_anything_is_queued(db: Any) -> None:
    with db.transaction():
        with pytest.raises(StorageError, match="no column 'colour'"):
            db.insert_many("things", [("a", "{}", {}), ("b", "{}", {"colour": "red"})])
        with pytest.raises(StorageError, match="several values"):
            db.insert_many("things", [("c", "{}", {"tags": "one"})])
        with pytest.raises(StorageError, match="cannot be None"):
            db.insert_many("things", [("c", "{}", {"tags": ("x", None)})])
        db.insert_many("things", [("d", "{}", {})])  # the unit of work goes on
    assert _keys(db.select("things", Select())) == ["d"]
    with pytest.raises(StorageError, match="'nothing' is not declared"):
        db.get("nothing", "a")
    with db.transaction(), pytest.raises(StorageError, match="keeps no event rows"):
        db.append_events("plain", [("a", 0, "{}")])


# -- filters and counts -------------------------------------------------------------


@pytest.fixture
def filled(db: Any) -> Any:
    with db.transaction():
        db.insert_many(
            "things",
            [
                ("a", '"a"', {"size": 1, "open": True, "due": 30, "tags": ("x", "y")}),
                ("b", '"b"', {"size": 2, "open": True, "due": None, "tags": ("y",)}),
                ("c", '"c"', {"size": None, "open": False, "due": 10, "tags": ()}),
                ("d", '"d"', {"size": 1, "open": True, "due": 20, "tags": ("z",)}),
            ],
        )
    return db


def test_filters_match_any_of_their_values(filled: Any) -> None:
    db = filled

    def matching(**where: tuple[Any, ...]) -> list[str]:
        keys = _keys(db.select("things", Select(where=where)))
        assert db.count("things", where) == len(keys)
        return keys

    assert matching(size=(1,)) == ["a", "d"]
    assert matching(size=(2, 1)) == ["a", "b", "d"]
    assert matching(size=(None,)) == ["c"]
    assert matching(size=(2, None)) == ["b", "c"]
    assert matching(size=()) == []
    assert matching(open=(False,)) == ["c"]
    assert matching(tags=("y",)) == ["a", "b"]
    assert matching(tags=("x", "z")) == ["a", "d"]
    assert matching(tags=(None,)) == []  # a multiple column holds no NULL
    assert matching(tags=("y",), size=(1,)) == ["a"]
    assert matching() == ["a", "b", "c", "d"]
    # Values no stored value can equal match nothing, with no error.
    assert matching(size=(2**70, "1")) == []
    assert matching(tags=("x\x00", "\ud800")) == []
    with pytest.raises(StorageError, match="no column 'colour'"):
        db.count("things", {"colour": ("red",)})
    with pytest.raises(StorageError, match="takes a tuple"):
        db.count("things", {"size": 1})


def test_pages_in_order_within_a_range_after_a_position(filled: Any) -> None:
    db = filled
    by_due = Select(where={"open": (True,)}, order="due")
    assert db.select("things", by_due) == [(20, Row(("d", 1, '"d"'))), (30, Row(("a", 1, '"a"')))]
    every = Select(order="due")  # rows whose due is NULL are left out
    assert [value for value, _ in db.select("things", every)] == [10, 20, 30]
    assert _keys(db.select("things", Select(order="due", low=20))) == ["d", "a"]
    assert _keys(db.select("things", Select(order="due", high=30))) == ["c", "d"]
    assert _keys(db.select("things", Select(order="due", after=(10, "c"), limit=1))) == ["d"]
    assert _keys(db.select("things", Select(after=("b", "b")))) == ["c", "d"]
    assert _keys(db.select("things", Select(low="b", high="d"))) == ["b", "c"]
    assert db.select("things", Select(limit=0)) == []
    assert db.select("things", Select(where={"tags": ("y",)}, order="key", limit=1)) == [
        ("a", Row(("a", 1, '"a"')))
    ]


def test_text_orders_by_code_point_on_every_server(db: Any) -> None:
    names = ["b", "B", "a", "é", "Z", "ä", "😀", "ab", ""]
    with db.transaction():
        db.insert_many("things", [(f"k{i}", "{}", {"name": n}) for i, n in enumerate(names)])
    ordered = [value for value, _ in db.select("things", Select(order="name", limit=100))]
    assert ordered == sorted(names)


def test_forged_positions_and_bounds_are_validation_errors(filled: Any) -> None:
    db = filled
    forged: list[tuple[str, Any]] = [
        ("due", ("x", "a")),
        ("due", (2**63, "a")),
        ("due", (1.5, "a")),
        ("due", (True, "a")),
        ("due", (10, 5)),
        ("due", (10,)),
        ("due", "10:a"),
        ("name", (3, "a")),
        ("name", ("a\x00", "a")),
        ("key", ("a", "b")),
        ("key", ("a\ud800", "a\ud800")),
        ("key", (1, "a")),
    ]
    for order, after in forged:
        with pytest.raises(ValidationError, match="not a cursor this store returned") as info:
            db.select("things", Select(order=order, after=after))
        message = str(info.value)
        assert "SELECT" not in message and "SQLSTATE" not in message
    for bound in ("low", "high"):
        with pytest.raises(ValidationError, match="expected an instant"):
            db.select("things", Select(order="due", **{bound: "soon"}))
    with pytest.raises(StorageError, match="cannot be ordered by 'tags'"):
        db.select("things", Select(order="tags"))


# -- a law: pages cover every row once, in order -------------------------------------

_tenants = itertools.count()

_rows = st.lists(
    st.tuples(
        st.text("ab", min_size=1, max_size=3),
        st.one_of(st.none(), st.integers(-3, 3)),
        st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        st.frozensets(st.sampled_from("xyz"), max_size=2),
    ),
    max_size=25,
    unique_by=lambda row: row[0],
)


@pytest.fixture(scope="module")
def shared() -> Iterator[Schema]:
    yield from fresh_schema()


@given(
    rows=_rows,
    order=st.sampled_from(["key", "due"]),
    size=st.sampled_from([None, 1, -1]),
    tag=st.sampled_from([None, "x"]),
    limit=st.integers(1, 7),
)
def test_pages_cover_every_matching_row_once_in_order(
    shared: Schema,
    rows: list[tuple[str, int | None, int | None, frozenset[str]]],
    order: str,
    size: int | None,
    tag: str | None,
    limit: int,
) -> None:
    db = shared.backend(f"t{next(_tenants)}")
    if rows:
        with db.transaction():
            db.insert_many(
                "things",
                [
                    (k, json.dumps(k), {"size": s, "due": d, "tags": tuple(t)})
                    for k, s, d, t in rows
                ],
            )
    where: dict[str, tuple[Any, ...]] = {}
    if size is not None:
        where["size"] = (size, None)
    if tag is not None:
        where["tags"] = (tag,)
    expected = sorted(
        ((k if order == "key" else d), k)
        for k, s, d, t in rows
        if (size is None or s in (size, None))
        and (tag is None or tag in t)
        and (order == "key" or d is not None)
    )
    seen: list[tuple[Any, str]] = []
    after = None
    while True:
        page = db.select("things", Select(where=where, order=order, after=after, limit=limit))
        seen += [(value, row.key) for value, row in page]
        assert len(page) <= limit
        if len(page) < limit:
            break
        after = seen[-1]
    assert seen == expected
    assert db.count("things", where) == sum(
        1
        for k, s, d, t in rows
        if (size is None or s in (size, None)) and (tag is None or tag in t)
    )
    db.close()
