"""The in-memory adapter: the storage contract, and the version 2 Backend protocol directly."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from backend_collections import PLAIN, THINGS
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import ConflictError, NotFoundError, ValidationError
from csdomain.storage import Store, open_store
from csdomain.storage.backend import (
    Collection,
    Column,
    ColumnType,
    OutboxRow,
    Query,
    Row,
    Select,
    StorageError,
)
from csdomain.storage.memory import MemoryBackend, open_backend
from csdomain.testing.storage import StoreContract

_databases = itertools.count()


class TestMemoryStore(StoreContract):
    def setup_method(self) -> None:
        self.url = f"memory:contract-{next(_databases)}"

    def make_store(self, tenant: str) -> Store:
        return open_store(self.url, tenant=tenant)


# -- a collection declared for these tests ------------------------------------------


def _url() -> str:
    return f"memory:adapter-{next(_databases)}"


def _open(url: str, tenant: str = "t1") -> MemoryBackend:
    backend = open_backend(url, tenant)
    backend.declare(THINGS)
    backend.declare(PLAIN)
    return backend


@pytest.fixture
def db() -> Iterator[MemoryBackend]:
    backend = _open(_url())
    yield backend
    backend.close()


def _add(backend: MemoryBackend, key: str, **columns: Any) -> None:
    with backend.transaction():
        backend.insert_many("things", [(key, f'{{"key":"{key}"}}', columns)])


def _keys(pairs: list[tuple[Any, Row]]) -> list[str]:
    return [row.key for _, row in pairs]


class _RollbackError(Exception):
    pass


@contextmanager
def _rolled_back(backend: MemoryBackend) -> Iterator[None]:
    """A transaction that ends with an exception, so it rolls back."""
    try:
        with backend.transaction():
            yield
            raise _RollbackError
    except _RollbackError:
        pass


def _state(backend: MemoryBackend) -> Any:
    """Everything one tenant can read, for before/after comparisons."""
    keys = [(key, 1_000) for key in "abcdx"]
    return (
        backend.select("things", Select(limit=10_000)),
        backend.select("plain", Select(limit=10_000)),
        backend.select("things", Select(order="name", limit=10_000)),
        backend.count("things", {"handles": ("h1", "h2", "h3")}),
        backend.read_events("things", keys),
        backend.outbox_pending(10_000),
        backend.outbox_failed(None, 10_000),
    )


# -- opening, declaring, closing ----------------------------------------------------


def test_memory_is_private_and_memory_name_is_shared() -> None:
    url = _url()
    first, same, private = _open(url), _open(url), _open("memory:")
    _add(first, "a")
    assert same.get("things", "a") == Row(("a", 1, '{"key":"a"}'))
    assert private.get("things", "a") is None
    assert _open("memory:", "t1").get("things", "a") is None
    assert open_backend(url, "t1", create=True).get("things", "a") is not None


def test_declare_reports_added_columns_and_keeps_removed_ones() -> None:
    backend = open_backend(_url(), "t1")
    assert backend.declare(PLAIN) is False
    assert backend.declare(PLAIN) is False
    with backend.transaction():
        backend.insert_many("plain", [("a", "{}", {})])
    wider = Collection(
        name="plain",
        what="plain record",
        document=dict,
        key_of=lambda value: "",
        columns=(Column("colour", ColumnType.TEXT), Column("labels", ColumnType.TEXT, True, True)),
        queries=(Query("by_colour", ("colour",)),),
    )
    assert backend.declare(wider) is True
    assert backend.declare(wider) is False
    # Rows written before lack the new values: NULL, and no entries.
    assert backend.count("plain", {"colour": (None,)}) == 1
    assert backend.count("plain", {"labels": ("x",)}) == 0
    with backend.transaction():
        backend.set_columns("plain", "a", {"colour": "red", "labels": ("x",)})
    assert backend.count("plain", {"colour": ("red",)}) == 1
    # A declaration without the columns keeps them: stored columns are never dropped.
    assert backend.declare(PLAIN) is False
    assert backend.count("plain", {"labels": ("x",)}) == 1


def test_unknown_collections_columns_and_orders_are_storage_errors(db: MemoryBackend) -> None:
    with pytest.raises(StorageError, match="'nothing' is not declared"):
        db.get("nothing", "a")
    with pytest.raises(StorageError, match="'nothing' is not declared"):
        db.select("nothing", Select())
    with pytest.raises(StorageError, match="no column 'colour'"):
        db.select("things", Select(where={"colour": ("red",)}))
    with pytest.raises(StorageError, match="no column 'colour'"):
        db.count("things", {"colour": ("red",)})
    with pytest.raises(StorageError, match="cannot be ordered by 'tags'"):
        db.select("things", Select(order="tags"))
    with pytest.raises(StorageError, match="cannot be ordered by 'colour'"):
        db.select("things", Select(order="colour"))
    with db.transaction(), pytest.raises(StorageError, match="no column 'colour'"):
        db.insert_many("things", [("a", "{}", {"colour": "red"})])
    with db.transaction(), pytest.raises(StorageError, match="keeps no event rows"):
        db.append_events("plain", [("a", 0, "{}")])
    assert db.get("things", "a") is None


def test_a_closed_backend_refuses_every_call(db: MemoryBackend) -> None:
    db.close()
    calls: list[Callable[[], object]] = [
        lambda: db.get("things", "a"),
        lambda: db.select("things", Select()),
        lambda: db.outbox_pending(1),
        lambda: db.declare(THINGS),
        lambda: db.legacy_rows(10),
        db.transaction().__enter__,
    ]
    for call in calls:
        with pytest.raises(StorageError, match="closed"):
            call()


def test_no_version_1_rows(db: MemoryBackend) -> None:
    assert db.legacy_rows(100) == []
    with db.transaction():
        db.drop_legacy([("tickets", "t_1")])
    assert db.legacy_rows(100) == []


# -- transactions ---------------------------------------------------------------------


def test_writes_need_a_transaction(db: MemoryBackend) -> None:
    writes: list[Callable[[], object]] = [
        lambda: db.insert_many("things", [("a", "{}", {})]),
        lambda: db.update("things", "a", 1, "{}", {}),
        lambda: db.set_columns("things", "a", {}),
        lambda: db.rewrite("things", "a", "{}"),
        lambda: db.delete("things", "a", 1),
        lambda: db.append_events("things", [("a", 0, "{}")]),
        lambda: db.rewrite_events("things", "a", {0: "{}"}),
        lambda: db.outbox_append([("things", "a", 0, "made", "{}")]),
        lambda: db.outbox_claim("r1", 10, 0, 10),
        lambda: db.outbox_ack(None, [1]),
        lambda: db.outbox_fail(None, [1], "bad"),
        lambda: db.outbox_retry([1]),
        lambda: db.outbox_redact("things", "a", {}),
    ]
    for write in writes:
        with pytest.raises(StorageError, match="writes need a transaction"):
            write()
    assert db.get("things", "a") is None
    assert db.outbox_pending(10) == []


def test_transactions_do_not_nest(db: MemoryBackend) -> None:
    same_tenant = open_backend(f"memory:{db._name}", "t1")
    with db.transaction():
        assert db.in_transaction()
        assert not same_tenant.in_transaction()
        with pytest.raises(StorageError, match="do not nest"), db.transaction():
            pass
        # Another store of the same tenant would wait for this transaction forever.
        with pytest.raises(StorageError, match="through another store"), same_tenant.transaction():
            pass
        assert db.in_transaction()
    assert not db.in_transaction()
    with same_tenant.transaction():
        pass


def test_rollback_restores_rows_unique_values_and_events(db: MemoryBackend) -> None:
    _add(db, "a", name="alpha", handles=("h1",))
    _add(db, "b", name="beta", handles=("h2",))
    with db.transaction():
        db.append_events("things", [("a", 0, "e0"), ("b", 0, "f0")])
        db.outbox_append([("things", "a", 0, "made", "e0")])
    before = _state(db)
    with _rolled_back(db):
        db.insert_many("things", [("c", "{}", {"name": "gamma", "handles": ("h3",)})])
        db.update("things", "a", 1, "{}", {"name": "delta", "handles": ()})
        db.delete("things", "b", 1)
        db.set_columns("things", "c", {"name": "beta"})  # free once b is deleted
        db.rewrite("things", "c", '{"rewritten":1}')
        db.append_events("things", [("a", 1, "e1"), ("c", 0, "g0")])
        db.rewrite_events("things", "a", {0: "redacted"})
        (message,) = db.outbox_claim("r1", 10, 0, 100)
        db.outbox_ack("r1", [message.id])
        db.outbox_append([("things", "c", 0, "made", "g0")])
        db.outbox_redact("things", "a", {})
    assert _state(db) == before
    # The unique values are held as before: by a and b, and gamma and h3 are free.
    with db.transaction():
        with pytest.raises(ConflictError, match=r"held by another thing \(a\)"):
            db.insert_many("things", [("x", "{}", {"name": "alpha"})])
        with pytest.raises(ConflictError, match=r"held by another thing \(b\)"):
            db.insert_many("things", [("x", "{}", {"handles": ("h2",)})])
        db.insert_many("things", [("x", "{}", {"name": "gamma", "handles": ("h3",)})])


def test_one_tenants_rollback_keeps_another_tenants_commits() -> None:
    """Regression: a rollback deleted the outbox messages other tenants committed
    meanwhile, and their ids were handed out again."""
    url = _url()
    first, second = _open(url, "t1"), _open(url, "t2")
    with _rolled_back(first):
        first.outbox_append([("things", "a", 0, "made", "first")])
        first.insert_many("things", [("a", "{}", {})])
        with second.transaction():
            second.outbox_append([("things", "b", 0, "made", "second")])
            second.insert_many("things", [("b", "{}", {})])
    assert first.outbox_pending(10) == []
    assert first.get("things", "a") is None
    (kept,) = second.outbox_pending(10)
    assert (kept.id, kept.text) == (2, "second")
    assert second.get("things", "b") is not None
    with first.transaction():
        first.outbox_append([("things", "a", 0, "made", "again")])
    (again,) = first.outbox_pending(10)
    assert again.id == 3  # id 1 was rolled back and stays burned


def test_outbox_ids_are_never_reused_after_rollbacks(db: MemoryBackend) -> None:
    given_ids: list[int] = []
    for attempt in range(6):
        try:
            with db.transaction():
                db.outbox_append([("things", "a", attempt, "made", "{}")] * 2)
                if attempt % 2:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            continue
        given_ids.extend(m.id for m in db.outbox_pending(100) if m.sequence == attempt)
    assert given_ids == [1, 2, 5, 6, 9, 10]


def test_transactions_are_serializable() -> None:
    url = _url()
    _add(_open(url), "counter")
    errors: list[BaseException] = []

    def work() -> None:
        backend = _open(url)
        try:
            for _ in range(50):
                with backend.transaction():
                    row = backend.get("things", "counter")
                    assert row is not None
                    backend.update("things", "counter", row.version, "{}", {})
        except BaseException as exc:  # a lost update shows as a ConflictError
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = _open(url).get("things", "counter")
    assert row is not None and row.version == 1 + 4 * 50


# -- documents ------------------------------------------------------------------------


def test_insert_get_and_get_many(db: MemoryBackend) -> None:
    with db.transaction():
        db.insert_many("things", [("a", '{"x":"\\u0000 ☃"}', {}), ("b", "{}", {"size": 3})])
    assert db.get("things", "a") == Row(("a", 1, '{"x":"\\u0000 ☃"}'))
    assert db.get("things", "zz") is None
    assert sorted(db.get_many("things", ["b", "zz", "a", "b"])) == [
        Row(("a", 1, '{"x":"\\u0000 ☃"}')),
        Row(("b", 1, "{}")),
    ]
    assert db.get("plain", "a") is None  # collections are separate


def test_insert_many_is_all_or_nothing(db: MemoryBackend) -> None:
    _add(db, "a")
    with db.transaction():
        with pytest.raises(ConflictError) as taken:
            db.insert_many("things", [("new", "{}", {}), ("a", "{}", {})])
        assert (taken.value.kind, taken.value.key) == ("thing", "a")
        assert (taken.value.expected_version, taken.value.stored_version) == (None, 1)
        with pytest.raises(ConflictError) as repeated:
            db.insert_many("things", [("b", "{}", {}), ("b", "{}", {})])
        assert repeated.value.stored_version == 1
        with pytest.raises(ConflictError, match=r"held by another thing \(c\)"):
            db.insert_many("things", [("c", "{}", {"name": "n"}), ("d", "{}", {"name": "n"})])
    assert sorted(_keys(db.select("things", Select()))) == ["a"]


def test_unique_columns(db: MemoryBackend) -> None:
    _add(db, "a", name="alpha", handles=("h1", "h2"))
    _add(db, "b", name=None, handles=())
    _add(db, "c", name=None)  # NULLs never collide
    with db.transaction():
        with pytest.raises(ConflictError) as clash:
            db.update("things", "b", 1, "{}", {"name": "alpha"})
        assert clash.value.key == "b"
        assert clash.value.detail == "its name value is held by another thing (a)"
        with pytest.raises(
            ConflictError, match=r"its handles value is held by another thing \(a\)"
        ):
            db.update("things", "b", 1, "{}", {"handles": ("h0", "h2")})
        with pytest.raises(ConflictError, match=r"held by another thing \(a\)"):
            db.set_columns("things", "c", {"handles": ("h1",)})
        # A record keeps its own values, and what it gives up is free for others.
        db.update("things", "a", 1, "{}", {"name": "alpha", "handles": ("h2",)})
        db.update("things", "b", 1, "{}", {"handles": ("h1",)})
    assert db.get("things", "b") == Row(("b", 2, "{}"))
    assert db.count("things", {"handles": ("h1",)}) == 1
    with db.transaction():
        db.delete("things", "a", 2)
        db.insert_many("things", [("d", "{}", {"name": "alpha", "handles": ("h2",)})])
    # Unique per tenant: another tenant may hold the same values.
    other = _open(f"memory:{db._name}", "t2")
    _add(other, "z", name="alpha", handles=("h1", "h2"))


def test_update_and_delete_check_versions(db: MemoryBackend) -> None:
    _add(db, "a", size=1)
    with db.transaction():
        db.update("things", "a", 1, "v2", {"size": 2})
        with pytest.raises(ConflictError) as stale:
            db.update("things", "a", 1, "v3", {"size": 3})
        assert (stale.value.kind, stale.value.expected_version, stale.value.stored_version) == (
            "thing",
            1,
            2,
        )
        with pytest.raises(ConflictError):
            db.delete("things", "a", 1)
        with pytest.raises(NotFoundError) as missing:
            db.update("things", "zz", 1, "{}", {})
        assert (missing.value.kind, missing.value.key) == ("thing", "zz")
        missing_rows: list[Callable[[], object]] = [
            lambda: db.delete("things", "zz", 1),
            lambda: db.set_columns("things", "zz", {}),
            lambda: db.rewrite("things", "zz", "{}"),
        ]
        for call in missing_rows:
            with pytest.raises(NotFoundError, match="tenant 't1'"):
                call()
    assert db.get("things", "a") == Row(("a", 2, "v2"))
    assert db.count("things", {"size": (2,)}) == 1


def test_set_columns_and_rewrite_keep_the_version(db: MemoryBackend) -> None:
    _add(db, "a", size=1, tags=("x",))
    with db.transaction():
        db.set_columns("things", "a", {"size": 5})
        db.rewrite("things", "a", '{"redacted":true}')
    assert db.get("things", "a") == Row(("a", 1, '{"redacted":true}'))
    # set_columns replaces all the values: the tags are gone.
    assert db.count("things", {"size": (5,)}) == 1
    assert db.count("things", {"tags": ("x",)}) == 0
    with db.transaction():
        db.set_columns("things", "a", {"tags": ("y",)})
        db.rewrite("things", "a", "{}")
    assert db.count("things", {"tags": ("y",)}) == 1  # rewrite keeps the columns


def test_delete_removes_the_events(db: MemoryBackend) -> None:
    _add(db, "a")
    with db.transaction():
        db.append_events("things", [("a", 0, "e0"), ("a", 1, "e1")])
        db.delete("things", "a", 1)
    assert db.read_events("things", [("a", 2)]) == {"a": []}


def test_tenants_are_isolated(db: MemoryBackend) -> None:
    other = _open(f"memory:{db._name}", "t2")
    _add(db, "a", size=1)
    with db.transaction():
        db.append_events("things", [("a", 0, "e0")])
        db.outbox_append([("things", "a", 0, "made", "e0")])
    assert other.get("things", "a") is None
    assert other.get_many("things", ["a"]) == []
    assert other.select("things", Select()) == []
    assert other.count("things", {"size": (1,)}) == 0
    assert other.read_events("things", [("a", 1)]) == {"a": []}
    assert other.outbox_pending(10) == []
    with other.transaction():
        assert other.outbox_claim("r", 10, 0, 10) == []
        assert other.outbox_ack(None, [1]) == 0
        with pytest.raises(NotFoundError):
            other.delete("things", "a", 1)
        other.insert_many("things", [("a", "theirs", {})])  # the key is free in t2
    assert db.get("things", "a") == Row(("a", 1, '{"key":"a"}'))
    assert len(db.outbox_pending(10)) == 1


# -- queries --------------------------------------------------------------------------


@pytest.fixture
def rows(db: MemoryBackend) -> MemoryBackend:
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


def test_equality_filters_match_any_of_the_values(rows: MemoryBackend) -> None:
    assert _keys(rows.select("things", Select(where={"size": (1, 3)}))) == ["a", "d", "e"]
    assert _keys(rows.select("things", Select(where={"size": (None,)}))) == ["c"]
    assert _keys(rows.select("things", Select(where={"size": (None, 2)}))) == ["b", "c"]
    assert _keys(rows.select("things", Select(where={"size": ()}))) == []
    assert _keys(rows.select("things", Select(where={"tags": ("x", "y")}))) == ["a", "b"]
    assert _keys(rows.select("things", Select(where={"tags": ("z",), "size": (3,)}))) == ["e"]
    assert _keys(rows.select("things", Select(where={"tags": ("z",), "size": (1,)}))) == []
    assert rows.count("things", {"size": (1, 3)}) == 3
    assert rows.count("things", {"tags": ("y",)}) == 2
    assert rows.count("things", {}) == 5


def test_order_leaves_out_nulls_unless_by_key(rows: MemoryBackend) -> None:
    by_due = rows.select("things", Select(where={"open": (True,)}, order="due"))
    assert [(value, row.key) for value, row in by_due] == [(10, "b"), (10, "e"), (30, "a")]
    by_key = rows.select("things", Select(where={"open": (True,)}))
    assert [(value, row.key) for value, row in by_key] == [
        ("a", "a"),
        ("b", "b"),
        ("d", "d"),
        ("e", "e"),
    ]
    assert _keys(rows.select("things", Select(order="size"))) == ["a", "d", "b", "e"]


def test_positions_bounds_and_limits(rows: MemoryBackend) -> None:
    def due(**query: Any) -> list[tuple[Any, str]]:
        return [(v, r.key) for v, r in rows.select("things", Select(order="due", **query))]

    assert due(after=(10, "b")) == [(10, "e"), (20, "c"), (30, "a")]
    assert due(after=(10, "e")) == [(20, "c"), (30, "a")]  # strictly after
    assert due(after=(10, "a")) == [(10, "b"), (10, "e"), (20, "c"), (30, "a")]
    assert due(low=10, high=30) == [(10, "b"), (10, "e"), (20, "c")]  # low <= v < high
    assert due(low=11) == [(20, "c"), (30, "a")]
    assert due(high=10) == []
    assert due(limit=2) == [(10, "b"), (10, "e")]
    assert due(limit=0) == []
    assert due(after=(10, "b"), high=30, limit=1) == [(10, "e")]
    keys = rows.select("things", Select(after=("b", "b"), low="a", high="e"))
    assert _keys(keys) == ["c", "d"]


@pytest.mark.parametrize(
    ("order", "after"),
    [
        ("key", (1, "a")),
        ("key", ("a", 1)),
        ("key", "a"),
        ("key", ("a", "b")),
        ("due", ("10", "a")),
        ("due", (2**63, "a")),
        ("due", (-(2**63) - 1, "a")),
        ("due", (True, "a")),
        ("due", (None, "a")),
        ("due", (1.5, "a")),
        ("due", (10,)),
        ("due", (10, "a", "b")),
        ("name", (10, "a")),
        ("size", ("big", "a")),
    ],
)
def test_positions_that_no_cursor_holds_are_refused(
    rows: MemoryBackend, order: str, after: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        rows.select("things", Select(order=order, after=after))
    assert refused.value.subject == "cursor"
    assert "is not a cursor this store returned" in str(refused.value)


def test_positions_of_every_type_are_accepted(rows: MemoryBackend) -> None:
    assert rows.select("things", Select(order="due", after=(2**63 - 1, "a"))) == []
    assert len(rows.select("things", Select(order="due", after=(-(2**63), "a")))) == 4
    assert rows.select("things", Select(order="name", after=("", ""))) == []
    assert _keys(rows.select("things", Select(after=("c", "c")))) == ["d", "e"]


def test_bounds_of_the_wrong_type_are_refused(rows: MemoryBackend) -> None:
    with pytest.raises(
        ValidationError,
        match=r"expected an instant \(microseconds since the epoch\) value or None, got 'yes",
    ):
        rows.select("things", Select(order="due", low="yesterday"))
    with pytest.raises(ValidationError, match="high"):
        rows.select("things", Select(high=3))


_page_rows = st.lists(
    st.tuples(
        st.integers(-3, 3) | st.none(),  # due
        st.booleans(),  # open
        st.sets(st.sampled_from("xyz"), max_size=2),  # tags
    ),
    max_size=12,
)


@given(_page_rows, st.integers(1, 4), st.sets(st.sampled_from("xyz"), max_size=2))
def test_pages_concatenate_to_the_sorted_matches(
    things: list[tuple[int | None, bool, set[str]]], limit: int, tags: set[str]
) -> None:
    backend = _open("memory:")
    with backend.transaction():
        backend.insert_many(
            "things",
            [
                (f"k{i}", "{}", {"due": due, "open": flag, "tags": tuple(labels)})
                for i, (due, flag, labels) in enumerate(things)
            ],
        )
    expected = sorted(
        (due, f"k{i}")
        for i, (due, flag, labels) in enumerate(things)
        if due is not None and flag and (not tags or labels & tags)
    )
    where: dict[str, tuple[Any, ...]] = {"open": (True,)}
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
    assert backend.count("things", where) == sum(
        1 for _, flag, labels in things if flag and (not tags or labels & tags)
    )


# -- event streams --------------------------------------------------------------------


def test_events_append_and_read_in_order(db: MemoryBackend) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, "a0"), ("b", 0, "b0"), ("a", 1, "a1")])
        db.append_events("things", [("a", 2, "a2")])
    assert db.read_events("things", [("a", 3), ("b", 1), ("c", 4)]) == {
        "a": ["a0", "a1", "a2"],
        "b": ["b0"],
        "c": [],
    }
    assert db.read_events("things", [("a", 2)]) == {"a": ["a0", "a1"]}
    assert db.read_events("things", [("a", 10)]) == {"a": ["a0", "a1", "a2"]}


def test_stored_events_are_never_replaced(db: MemoryBackend) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, "a0")])
        with pytest.raises(ConflictError, match="its event 0 is stored already") as stored:
            db.append_events("things", [("a", 1, "a1"), ("a", 0, "other")])
        assert (stored.value.kind, stored.value.key) == ("thing", "a")
        with pytest.raises(ConflictError, match="its event 1 is stored already"):
            db.append_events("things", [("a", 1, "a1"), ("a", 1, "again")])
    assert db.read_events("things", [("a", 5)]) == {"a": ["a0"]}


def test_rewrite_events_replaces_stored_texts_only(db: MemoryBackend) -> None:
    with db.transaction():
        db.append_events("things", [("a", 0, "a0"), ("a", 1, "a1")])
        db.rewrite_events("things", "a", {1: "redacted", 7: "nothing stored"})
        db.rewrite_events("things", "zz", {0: "nothing stored"})
    assert db.read_events("things", [("a", 8), ("zz", 1)]) == {"a": ["a0", "redacted"], "zz": []}


# -- outbox ---------------------------------------------------------------------------


def _messages(db: MemoryBackend, count: int, key: str = "a") -> list[int]:
    with db.transaction():
        db.outbox_append([("things", key, s, "made", f"{key}{s}") for s in range(count)])
    return [m.id for m in db.outbox_pending(1_000) if m.key == key]


def test_outbox_append_and_pending(db: MemoryBackend) -> None:
    ids = _messages(db, 3)
    assert ids == [1, 2, 3]
    assert db.outbox_pending(2) == [
        OutboxRow(1, "things", "a", 0, "made", "a0"),
        OutboxRow(2, "things", "a", 1, "made", "a1"),
    ]


def test_claims_lease_messages_to_one_relay(db: MemoryBackend) -> None:
    _messages(db, 4)
    with db.transaction():
        first = db.outbox_claim("r1", 2, now=1_000, lease=500)
        second = db.outbox_claim("r2", 10, now=1_000, lease=500)
        nothing = db.outbox_claim("r3", 10, now=1_499, lease=500)
    assert [(m.id, m.attempts) for m in first] == [(1, 1), (2, 1)]
    assert [m.id for m in second] == [3, 4]
    assert nothing == []
    # Leased messages stay pending until acknowledged.
    assert [m.id for m in db.outbox_pending(10)] == [1, 2, 3, 4]
    with db.transaction():
        assert db.outbox_ack("r2", [1, 3]) == 1  # 1 is leased to r1
        # r1's lease ends at 1,500: r3 takes its messages, and r1 acks nothing.
        again = db.outbox_claim("r3", 10, now=1_500, lease=500)
        assert [(m.id, m.attempts) for m in again] == [(1, 2), (2, 2), (4, 2)]
        assert db.outbox_ack("r1", [1, 2]) == 0
        assert db.outbox_ack("r3", [1, 1, 2, 3, 99]) == 2
        assert db.outbox_ack(None, [4]) == 1  # any relay
    assert db.outbox_pending(10) == []


def test_failed_messages_are_set_aside_and_retried(db: MemoryBackend) -> None:
    _messages(db, 4)
    with db.transaction():
        db.outbox_claim("r1", 2, now=0, lease=100)
        assert db.outbox_fail("r2", [1, 2], "not yours") == 0
        assert db.outbox_fail("r1", [1, 2, 3], "cannot decode") == 2
        assert db.outbox_fail(None, [3], "broker refused") == 1
        assert db.outbox_ack(None, [1]) == 0  # failed is not pending
    assert [m.id for m in db.outbox_pending(10)] == [4]
    failed = db.outbox_failed(None, 10)
    assert [(m.id, m.failure, m.attempts) for m in failed] == [
        (1, "cannot decode", 1),
        (2, "cannot decode", 1),
        (3, "broker refused", 0),
    ]
    assert [m.id for m in db.outbox_failed(1, 1)] == [2]
    with db.transaction():
        assert db.outbox_retry([2, 4, 99]) == 1
        # The lease is cleared: a claim at time 0 takes the retried message.
        assert [m.id for m in db.outbox_claim("r2", 10, now=0, lease=100)] == [2, 4]
    assert [m.id for m in db.outbox_failed(None, 10)] == [1, 3]


def test_outbox_redact(db: MemoryBackend) -> None:
    _messages(db, 4, "a")
    _messages(db, 1, "b")
    with db.transaction():
        db.outbox_append([("plain", "a", 0, "made", "other stream")])
        db.outbox_ack(None, [1])
        db.outbox_fail(None, [2], "bad")
        db.outbox_redact("things", "a", {0: "r0", 1: "r1", 2: "r2"})
    # Published 1 deleted; 2 (failed) and 3 rewritten; 4 not in texts, deleted.
    assert [(m.id, m.text) for m in db.outbox_pending(10)] == [
        (3, "r2"),
        (5, "b0"),
        (6, "other stream"),
    ]
    assert [(m.id, m.text) for m in db.outbox_failed(None, 10)] == [(2, "r1")]


def test_outbox_ids_increase_across_tenants(db: MemoryBackend) -> None:
    other = _open(f"memory:{db._name}", "t2")
    _messages(db, 2)
    _messages(other, 2)
    _messages(db, 1, "b")
    assert [m.id for m in db.outbox_pending(10)] == [1, 2, 5]
    assert [m.id for m in other.outbox_pending(10)] == [3, 4]


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


def _nth_pending(backend: MemoryBackend, n: int) -> list[int]:
    # By position, not id: ids depend on what other tenants were given.
    return [m.id for m in backend.outbox_pending(100)][n - 1 : n]


def _run(backend: MemoryBackend, operation: tuple[str, str, Any]) -> None:
    kind, name, arg = operation
    try:
        if kind == "insert":
            backend.insert_many("things", [(name, "{}", {"name": arg})])
        elif kind == "update":
            row = backend.get("things", name)
            version = 1 if row is None else row.version
            backend.update("things", name, version, arg, {"handles": (arg,)})
        elif kind == "delete":
            backend.delete("things", name, arg)
        elif kind == "events":
            backend.append_events("things", [(name, arg, f"{name}{arg}")])
        elif kind == "outbox":
            backend.outbox_append([("things", name, arg, "made", f"{name}{arg}")])
        elif kind == "claim":
            backend.outbox_claim(name, 2, now=arg * 10, lease=15)
        elif kind == "ack":
            backend.outbox_ack(name, _nth_pending(backend, arg))
        elif kind == "fail":
            backend.outbox_fail(name, _nth_pending(backend, arg), "bad")
        else:
            backend.outbox_redact("things", name, {arg: "redacted"})
    except (ConflictError, NotFoundError):
        pass  # a refused write changes nothing


@given(_operations, _operations, _operations)
def test_a_rolled_back_transaction_changes_nothing(
    setup: list[tuple[str, str, Any]],
    undone: list[tuple[str, str, Any]],
    meanwhile: list[tuple[str, str, Any]],
) -> None:
    url = _url()
    first, second, witness = _open(url, "t1"), _open(url, "t2"), _open("memory:", "t2")
    with first.transaction():
        for operation in setup:
            _run(first, operation)
    before = _state(first)
    with _rolled_back(first):
        for operation in undone:
            _run(first, operation)
        # Another tenant commits meanwhile (in this thread): its writes stay.
        with second.transaction():
            for operation in meanwhile:
                _run(second, operation)
    assert _state(first) == before
    # The other tenant's state is as if it had run alone (outbox ids aside).
    with witness.transaction():
        for operation in meanwhile:
            _run(witness, operation)

    def without_ids(state: Any) -> Any:
        *rest, pending, failed = state
        return rest, [m[1:] for m in pending], [m[1:] for m in failed]

    assert without_ids(_state(second)) == without_ids(_state(witness))
