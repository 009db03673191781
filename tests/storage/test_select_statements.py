"""Page statements of the SQLite adapter, and column pages read back exactly.

SQLite renders one statement per shape of a page (which filters, how many values
each, which bounds) and binds the values per call; several values on an indexed
column are merged by a compound ``ORDER BY`` over index-ordered arms. These tests
hold the pages equal to the memory adapter's over many shapes and values (so a
statement kept from an earlier call with other values gives the right page), check
the merged plan sorts nothing, and read instants back exactly on both sides of the
span where the repository converts them through a float.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from backend_collections import THINGS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain._kernel.time import INSTANT_END, INSTANT_MIN, from_epoch_us, to_epoch_us
from csdomain.serialization import declare_document
from csdomain.storage import Collection, Column, ColumnType, Query, open_store
from csdomain.storage.backend import Select
from csdomain.storage.memory import MemoryBackend
from csdomain.storage.memory import open_backend as open_memory
from csdomain.storage.sqlite import SqliteBackend
from csdomain.storage.sqlite import open_backend as open_sqlite

HOUR = 3_600_000_000

_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("a", {"name": "n-a", "size": 1, "due": 30 * HOUR, "open": True, "tags": ("x", "y")}),
    ("b", {"name": "n-b", "size": 2, "due": 10 * HOUR, "open": True, "tags": ("y",)}),
    ("c", {"name": "n-c", "size": None, "due": 20 * HOUR, "open": False, "tags": ()}),
    ("d", {"name": "n-d", "size": 1, "due": None, "open": True}),
    ("e", {"name": "n-e", "size": 3, "due": 10 * HOUR, "open": None, "tags": ("z",)}),
    ("f", {"name": "n-f", "size": 2, "due": 40 * HOUR, "open": False, "tags": ("x",)}),
    ("g", {"name": "n-g", "size": None, "due": 30 * HOUR, "open": True, "tags": ("y", "z")}),
    ("h", {"name": "n-h", "size": 3, "due": 5 * HOUR, "open": False}),
]


def _fill(backend: SqliteBackend | MemoryBackend) -> None:
    backend.declare(THINGS)
    with backend.transaction():
        backend.insert_many("things", [(k, f'{{"key":"{k}"}}', c) for k, c in _ROWS])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqliteBackend, MemoryBackend]]:
    path = tmp_path_factory.mktemp("statements") / "things.db"
    lite = open_sqlite(f"sqlite:///{path}", "t1", create=True)
    memory = open_memory("memory:", "t1")
    _fill(lite)
    _fill(memory)
    yield lite, memory
    lite.close()


_sizes = st.lists(st.sampled_from([1, 2, 3, 4, None]), min_size=1, max_size=5).map(tuple)
_flags = st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=4).map(tuple)
_tags = st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=1, max_size=4).map(tuple)
_hours = st.none() | st.integers(0, 45).map(lambda h: h * HOUR)


@st.composite
def _selects(draw: st.DrawFn) -> Select:
    """A page of a declared query of THINGS, of any shape the repositories send."""
    kind = draw(
        st.sampled_from(["open_by_due", "by_size", "by_tag", "by_due", "by_name", "by_key"])
    )
    where: dict[str, tuple[Any, ...]]
    if kind == "open_by_due":
        where, order = {"open": draw(_flags)}, "due"
        if draw(st.booleans()):
            where["size"] = draw(_sizes)
    elif kind == "by_size":
        where, order = {"size": draw(_sizes)}, "key"
    elif kind == "by_tag":
        where, order = {"tags": draw(_tags)}, "key"
    elif kind == "by_due":
        where, order = {}, "due"
    elif kind == "by_name":
        where, order = {}, "name"
    else:
        where, order = {}, "key"
    low = high = None
    if order == "due":
        low, high = draw(_hours), draw(_hours)
    after: tuple[Any, str] | None = None
    if draw(st.booleans()):
        key = draw(st.sampled_from("abcdefgh"))
        if order == "key":
            after = (key, key)
        elif order == "name":
            after = (f"n-{draw(st.sampled_from('abcdefgh'))}", key)
        else:
            after = (draw(st.integers(0, 45)) * HOUR, key)
    return Select(where, order, after, low, high, draw(st.integers(0, 9)))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(queries=st.lists(_selects(), min_size=1, max_size=6))
def test_pages_equal_the_memory_adapters_whatever_statement_was_kept(
    pair: tuple[SqliteBackend, MemoryBackend], queries: list[Select]
) -> None:
    """Pages of the same shape with other values, bounds and positions, one after the
    other (the statement kept, the parameters new): each equals the memory adapter's,
    documents and column values alike."""
    lite, memory = pair
    columns = ("size", "due", "open", "name")
    for query in queries:
        assert lite.select("things", query) == memory.select("things", query), query
        assert lite.select_columns("things", query, columns) == memory.select_columns(
            "things", query, columns
        ), query


def test_a_value_given_twice_matches_no_null(pair: tuple[SqliteBackend, MemoryBackend]) -> None:
    """(1, 1) is the filter (1,): rows whose column is NULL stay out, as on memory."""
    lite, memory = pair
    for backend in (lite, memory):
        keys = [row.key for _, row in backend.select("things", Select({"size": (1, 1)}))]
        assert keys == ["a", "d"]
        assert backend.count("things", {"size": (1, 1)}) == 2
        both = backend.select("things", Select({"open": (True, True)}, "due", limit=9))
        assert [row.key for _, row in both] == ["b", "a", "g"]
    lite_none = lite.select("things", Select({"size": (None, None, 2)}))
    assert [row.key for _, row in lite_none] == ["b", "c", "f", "g"]


def test_several_values_merge_index_ordered_arms_without_sorting(
    pair: tuple[SqliteBackend, MemoryBackend],
) -> None:
    """Several values on an indexed column: one arm per value, each read in its index's
    order, merged by the compound ORDER BY; no step of the plan sorts."""
    lite, _ = pair
    connection = lite._holder().connection
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        page = lite.select_columns(
            "things", Select({"open": (True, False)}, "due", low=0, limit=3), ("size",)
        )
    finally:
        connection.set_trace_callback(None)
    assert [key for _, key, _, _ in page] == ["h", "b", "c"]
    (statement,) = statements
    assert statement.count("UNION ALL") == 1
    plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}")]
    assert "MERGE (UNION ALL)" in plan, plan
    assert sum("USING INDEX" in step for step in plan) == 2, plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_a_new_declaration_renders_its_statements_anew(tmp_path: Path) -> None:
    """Statements are kept per declaration: after the collection gains a query, a page
    it serves is read through the new query's index."""
    first: Collection[dict[str, Any]] = Collection(
        "notes",
        "note",
        dict,
        key_of=lambda v: str(v["key"]),
        columns=(Column("topic", ColumnType.TEXT), Column("rank", ColumnType.INTEGER)),
        queries=(Query("by_topic", ("topic",), "key"),),
    )
    wider = Collection(
        "notes",
        "note",
        dict,
        key_of=lambda v: str(v["key"]),
        columns=first.columns,
        queries=(*first.queries, Query("by_topic_rank", ("topic",), "rank")),
    )
    backend = open_sqlite(f"sqlite:///{tmp_path / 'notes.db'}", "t1", create=True)
    try:
        backend.declare(first)
        with backend.transaction():
            backend.insert_many(
                "notes",
                [
                    (k, "{}", {"topic": t, "rank": r})
                    for k, t, r in [("n1", "a", 3), ("n2", "b", 1), ("n3", "a", 2)]
                ],
            )
        query = Select({"topic": ("a", "b")}, "key", limit=5)
        assert [r.key for _, r in backend.select("notes", query)] == ["n1", "n2", "n3"]
        backend.declare(wider)
        ranked = Select({"topic": ("a", "b")}, "rank", limit=5)
        assert [r.key for _, r in backend.select("notes", ranked)] == ["n2", "n3", "n1"]
        connection = backend._holder().connection
        statements: list[str] = []
        connection.set_trace_callback(statements.append)
        try:
            backend.select("notes", ranked)
        finally:
            connection.set_trace_callback(None)
        plan = " | ".join(r[3] for r in connection.execute(f"EXPLAIN QUERY PLAN {statements[0]}"))
        assert "by_topic_rank" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        backend.close()


# -- instants read back -------------------------------------------------------------------

EDGE = 2**32 * 1_000_000  # where from_epoch_us stops converting through a float


def _exact(us: int) -> datetime:
    """The instant ``us`` microseconds after the epoch, by integer arithmetic only."""
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)


@attrs.frozen
class Stamp:
    """A record holding one instant, as microseconds from the epoch."""

    key: str
    us: int


declare_document("statements_test_stamp", Stamp)
_STAMPED: Collection[Stamp] = Collection(
    "stamped",
    "stamp",
    Stamp,
    key_of=lambda v: v.key,
    columns=(Column("at", ColumnType.INSTANT), Column("also", ColumnType.INSTANT)),
    queries=(Query("by_at", (), "at"),),
    columns_of=lambda v: {"at": from_epoch_us(v.us), "also": from_epoch_us(v.us)},
)

_FIRST = to_epoch_us(INSTANT_MIN)
_LAST = to_epoch_us(INSTANT_END) - 1
_instants = st.one_of(
    st.integers(EDGE - 2_000_000, EDGE + 2_000_000),
    st.integers(-2_000_000, 2_000_000),
    st.integers(0, EDGE),
    st.integers(_FIRST, _LAST),
    st.sampled_from([_FIRST, _LAST, 0, 1, EDGE - 1, EDGE, EDGE + 1, -1, 999_999, 1_000_000]),
)
_files = itertools.count()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(_instants, min_size=1, max_size=30, unique=True))
def test_select_columns_reads_every_instant_back_exactly(
    kind: str, tmp_path: Path, values: list[int]
) -> None:
    """Each instant read as a column value is the stored one to the microsecond, an
    aware UTC datetime: in the span converted through a float, on its edges, outside."""
    url = f"sqlite:///{tmp_path / f'stamps{next(_files)}.db'}" if kind == "sqlite" else "memory:"
    store = open_store(url, tenant="t1", create=True)
    try:
        repository = store.collection(_STAMPED)
        with store.transaction():
            repository.add_many([Stamp(f"k{i:03d}", us) for i, us in enumerate(values)])
        page = repository.select_columns({}, "at", columns=("at", "also"), limit=1000)
        read = [row.values["at"] for row in page.items]
        assert read == [_exact(us) for us in sorted(values)]
        assert [row.values["also"] for row in page.items] == read
        assert all(at.tzinfo is timezone.utc for at in read)
        assert [to_epoch_us(at) for at in read] == sorted(values)
    finally:
        store.close()


def test_the_float_conversion_is_exact_near_the_edges_of_its_span() -> None:
    """``from_epoch_us``, which converts through a float in ``[0, EDGE)``, agrees with
    integer arithmetic on every microsecond next to either end of the span, in its
    middle and just outside it."""
    spans = [range(EDGE - 3_000, EDGE + 3_000), range(-3_000, 3_000), range(10**15, 10**15 + 3_000)]
    for us in [us for span in spans for us in span]:
        assert from_epoch_us(us) == _exact(us), us
        assert from_epoch_us(us).tzinfo is timezone.utc
