"""Record leases beyond the store contract: threads racing on every adapter, and
PostgreSQL's own promises (rows another transaction holds are skipped, not waited
for; a lease is one round trip, also after queued writes).

The contract (:mod:`csdomain.testing.storage`) states what a lease does; processes
racing over one database are in ``test_lease_race.py``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from test_postgres import (
    Schema,
    add,
    fresh_schema,
    require_server,
    rolled_back,
    round_trips,
    traced,
)

from csdomain.errors import ConflictError
from csdomain.storage import open_store
from csdomain.storage.backend import Row, Select
from csdomain.testing.storage import CONTRACT_TASKS, T0, ContractTask

_names = itertools.count()
#: Microseconds of T0, and of an hour.
T0_US = int(T0.timestamp()) * 1_000_000
HOUR_US = 3_600 * 1_000_000


@pytest.fixture
def pg_schema() -> Iterator[Schema]:
    yield from fresh_schema()


def _memory(tmp_path: Path) -> str:
    return f"memory:lease-{next(_names)}"


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture(params=["memory", "sqlite", "postgres", "postgres-pool"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each adapter (connections per thread, or a pool)."""
    kind: str = request.param
    if kind == "memory":
        yield _memory(tmp_path)
    elif kind == "sqlite":
        yield _sqlite(tmp_path)
    else:
        require_server()
        schema = Schema()
        try:
            yield schema.url(pool_size=3) if kind == "postgres-pool" else schema.url()
        finally:
            schema.drop()


def test_threads_leasing_at_once_take_each_record_once(store_url: str) -> None:
    store = open_store(store_url, tenant="acme", create=True)
    try:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(ContractTask(f"t{i:03d}", due=T0 + timedelta(minutes=i)) for i in range(120))
        workers = 4
        barrier = threading.Barrier(workers)
        taken: list[list[str]] = [[] for _ in range(workers)]
        errors: list[BaseException] = []

        def sweep(worker: int) -> None:
            try:
                barrier.wait()
                while True:
                    batch = tasks.lease(
                        "due", high=T0 + timedelta(hours=3), until=T0 + timedelta(days=1), limit=4
                    )
                    if not batch:
                        return
                    for stored in batch:
                        # A record taken twice would fail here: its version moved on.
                        tasks.save(
                            attrs.evolve(stored.value, due=None, note=f"w{worker}"),
                            expected_version=stored.version,
                        )
                        taken[worker].append(stored.value.id)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=sweep, args=(w,)) for w in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(k for keys in taken for k in keys) == [f"t{i:03d}" for i in range(120)]
        stored = tasks.get_many(f"t{i:03d}" for i in range(120))
        for worker, keys in enumerate(taken):
            assert {(stored[k].value.note, stored[k].version) for k in keys} <= {(f"w{worker}", 3)}
    finally:
        store.close()


def test_a_lease_outside_a_transaction_commits_at_once(store_url: str) -> None:
    """Another store (another connection) sees a lease made outside a unit of work."""
    first = open_store(store_url, tenant="acme", create=True)
    second = open_store(store_url, tenant="acme")
    try:
        first.collection(CONTRACT_TASKS).add(ContractTask("t1", due=T0))
        (taken,) = first.collection(CONTRACT_TASKS).lease(
            "due", high=T0 + timedelta(seconds=1), until=T0 + timedelta(hours=1)
        )
        assert second.collection(CONTRACT_TASKS).get("t1").version == taken.version == 2
        assert (
            second.collection(CONTRACT_TASKS).lease("due", high=T0 + timedelta(hours=1), until=T0)
            == []
        )
        with pytest.raises(ConflictError):
            second.collection(CONTRACT_TASKS).save(ContractTask("t1"), expected_version=1)
    finally:
        first.close()
        second.close()


# -- PostgreSQL -------------------------------------------------------------------------


def _due(db: Any, count: int) -> None:
    with db.transaction():
        db.insert_many(
            "things",
            [
                (f"k{i}", json.dumps({"key": f"k{i}"}), {"due": T0_US + i, "open": True})
                for i in range(count)
            ],
        )


def _lease(db: Any, limit: int = 100, **where: tuple[Any, ...]) -> list[Row]:
    query = Select(where, "due", None, None, T0_US + HOUR_US, limit)
    rows: list[Row] = db.lease("things", query, T0_US + 2 * HOUR_US)
    return rows


def test_postgres_skips_rows_another_transaction_holds(pg_schema: Schema) -> None:
    # With a lock timeout, a lease that waited for the holder would fail instead of hanging.
    holder = pg_schema.backend()
    other = pg_schema.backend(options="-c lock_timeout=5s")
    _due(holder, 6)
    held = threading.Event()
    release = threading.Event()
    got: list[list[str]] = []

    def hold() -> None:
        with holder.transaction():
            got.append([row.key for row in _lease(holder, limit=2)])
            held.set()
            release.wait(timeout=60)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(timeout=60)
        # The first two rows are locked by the open transaction: the lease skips them.
        assert [row.key for row in _lease(other)] == ["k2", "k3", "k4", "k5"]
    finally:
        release.set()
        thread.join()
    assert got == [["k0", "k1"]]
    assert sorted((r.key, r.version) for r in other.get_many("things", ["k0", "k1"])) == [
        ("k0", 2),
        ("k1", 2),
    ]
    assert _lease(other) == []


def test_postgres_rolls_a_lease_back_with_its_unit_of_work(pg_schema: Schema) -> None:
    db = pg_schema.backend()
    _due(db, 3)
    taken: list[Row] = []
    with rolled_back(db):
        taken += _lease(db)
    assert len(taken) == 3
    assert sorted(r.version for r in db.get_many("things", ["k0", "k1", "k2"])) == [1, 1, 1]
    assert [r.key for r in _lease(db, open=(True,))] == ["k0", "k1", "k2"]


def test_postgres_lease_is_one_round_trip(pg_schema: Schema) -> None:
    db = pg_schema.backend()
    _due(db, 3)
    with traced(db) as lines:
        assert [r.key for r in _lease(db, limit=2, open=(True,), tags=("x", "y"))] == []
        assert [(r.key, r.version) for r in _lease(db, limit=2, open=(True,))] == [
            ("k0", 2),
            ("k1", 2),
        ]
    assert round_trips(lines) == 2  # one per lease
    # Inside a unit of work, the queued writes, BEGIN and the lease go together.
    add(db, "z", due=T0_US - 1)
    with traced(db) as lines, db.transaction():
        db.update("things", "k2", 1, json.dumps({"key": "k2", "v": 2}), {"due": T0_US - 2})
        rows = _lease(db)
        assert [(r.key, r.version, json.loads(r.text)) for r in rows] == [
            ("k2", 3, {"key": "k2", "v": 2}),
            ("z", 2, {"key": "z"}),
        ]
    # One round trip for BEGIN, the UPDATE and the lease, one for the COMMIT.
    assert round_trips(lines) == 2, lines


def test_postgres_lease_orders_what_it_returns(pg_schema: Schema) -> None:
    """RETURNING keeps no order: the adapter sorts by the old value, then the key."""
    db = pg_schema.backend()
    values = [(f"k{i:02d}", T0_US + (i * 7919) % 23) for i in range(23)]
    with db.transaction():
        db.insert_many(
            "things", [(k, json.dumps({"key": k}), {"due": due}) for k, due in values[::-1]]
        )
    rows = _lease(db, limit=20)
    expected = sorted(values, key=lambda kv: (kv[1], kv[0]))[:20]
    assert [r.key for r in rows] == [k for k, _ in expected]
