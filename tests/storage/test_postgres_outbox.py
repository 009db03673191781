"""PostgreSQL: the leased outbox, with ``now`` given explicitly: claims, the owner
rule of acks and failures, dead letters, retries, erasure, and relays racing.

See ``test_postgres.py`` for the server these tests need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_postgres import Schema, fresh_schema, rolled_back

from csdomain.errors import ValidationError
from csdomain.storage.backend import OutboxRow


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


@pytest.fixture
def db(schema: Schema) -> Any:
    return schema.backend()


def _append(db: Any, key: str, count: int, stream: str = "things") -> None:
    with db.transaction():
        db.outbox_append([(stream, key, s, "made", f'"{key}{s}"') for s in range(count)])


def _ids(rows: list[OutboxRow]) -> list[int]:
    return [row.id for row in rows]


def test_ids_increase_and_are_never_handed_out_again(db: Any, schema: Schema) -> None:
    other = schema.backend("globex")
    with rolled_back(db):
        db.outbox_append([("things", "a", 0, "made", '"first"')])
        assert _ids(db.outbox_pending(10)) == [1]  # sent: it has its id
        with other.transaction():
            other.outbox_append([("things", "b", 0, "made", '"second"')])
    assert db.outbox_pending(10) == []
    (kept,) = other.outbox_pending(10)
    assert (kept.id, kept.text) == (2, '"second"')
    _append(db, "a", 2)
    assert _ids(db.outbox_pending(10)) == [3, 4]  # id 1 was rolled back and stays burned
    with db.transaction():  # messages keep the order of the calls
        db.outbox_append([("things", "x", 0, "made", '"x0"')])
        db.insert_many("things", [("x", "{}", {})])
        db.outbox_append([("things", "x", 1, "made", '"x1"'), ("things", "y", 0, "made", "{}")])
    assert [(m.key, m.sequence) for m in db.outbox_pending(10)][2:] == [
        ("x", 0),
        ("x", 1),
        ("y", 0),
    ]


def test_a_claim_leases_messages_until_the_lease_ends(db: Any) -> None:
    _append(db, "a", 3)
    first = db.outbox_claim("r1", 2, 100, 50)
    assert [(m.id, m.attempts) for m in first] == [(1, 1), (2, 1)]
    assert first[0] == OutboxRow(1, "things", "a", 0, "made", '"a0"', 1, None)
    assert _ids(db.outbox_claim("r2", 10, 120, 50)) == [3]
    assert db.outbox_claim("r2", 10, 149, 50) == []  # leased to r1 until 150
    assert _ids(db.outbox_pending(10)) == [1, 2, 3]  # pending, leased or not
    again = db.outbox_claim("r2", 10, 150, 50)  # r1's lease ended: r2 may take them
    assert [(m.id, m.attempts) for m in again] == [(1, 2), (2, 2)]
    assert db.outbox_ack("r1", [1, 2]) == 0  # r1 lost its lease: it acks nothing
    assert db.outbox_ack("r2", [1, 2, 2, 99]) == 2
    assert db.outbox_ack("r2", [1]) == 0  # published already
    assert _ids(db.outbox_pending(10)) == [3]
    assert db.outbox_ack(None, [3]) == 1  # no relay named: any pending message
    assert db.outbox_pending(10) == [] and db.outbox_claim("r1", 10, 10**6, 1) == []


def test_a_claim_inside_a_rolled_back_unit_of_work_leases_nothing(db: Any) -> None:
    _append(db, "a", 2)
    with rolled_back(db):
        assert _ids(db.outbox_claim("r1", 10, 0, 100)) == [1, 2]
    assert [(m.id, m.attempts) for m in db.outbox_claim("r2", 10, 0, 100)] == [(1, 1), (2, 1)]


def test_failed_messages_are_set_aside_listed_and_retried(db: Any) -> None:
    _append(db, "a", 4)
    claimed = db.outbox_claim("r1", 10, 0, 100)
    assert db.outbox_fail("r2", _ids(claimed), "not r2's") == 0
    assert db.outbox_fail("r1", [1, 3], "undecodable \x00 \ud800") == 2
    assert db.outbox_fail(None, [4], "broker said no") == 1
    failed = db.outbox_failed(None, 10)
    assert [(m.id, m.failure) for m in failed] == [
        (1, "undecodable \ufffd ?"),  # stored as text can hold it
        (3, "undecodable \ufffd ?"),
        (4, "broker said no"),
    ]
    assert _ids(db.outbox_failed(1, 1)) == [3]
    assert _ids(db.outbox_failed(4, 10)) == []
    assert _ids(db.outbox_pending(10)) == [2]  # a failed message blocks nothing
    assert db.outbox_ack("r1", [1]) == 0  # failed: not pending any more
    assert db.outbox_retry([1, 2, 99]) == 1
    retried = db.outbox_claim("r3", 10, 1, 100)  # its lease was cleared
    assert [(m.id, m.attempts, m.failure) for m in retried] == [(1, 2, "undecodable \ufffd ?")]
    assert _ids(db.outbox_failed(None, 10)) == [3, 4]


def test_erasure_purges_published_messages_and_rewrites_the_others(db: Any, schema: Schema) -> None:
    _append(db, "a", 4)
    _append(db, "b", 1)
    _append(db, "a", 1, stream="plain")
    db.outbox_ack(None, [1])
    db.outbox_fail(None, [2], "bad")
    with db.transaction():
        db.outbox_redact("things", "a", {1: '"[r1]"', 2: '"[r2]"', 0: '"[r0]"'})
    rows = schema.rows("SELECT id, state, document::text FROM {}.outbox ORDER BY id")
    assert rows == [
        (2, "failed", '"[r1]"'),
        (3, "pending", '"[r2]"'),  # sequence 3 was not in the texts: deleted
        (5, "pending", '"b0"'),
        (6, "pending", '"a0"'),  # another stream's record
    ]
    with db.transaction():
        db.outbox_redact("things", "b", {})
    assert _ids(db.outbox_pending(10)) == [3, 6]


def test_bad_claims_are_refused(db: Any) -> None:
    _append(db, "a", 1)
    for now, lease in ((2**63 - 10, 20), (2**63, 1), (0, 2**63), (1.5, 1)):
        with pytest.raises(ValidationError, match="64-bit microsecond"):
            db.outbox_claim("r1", 10, now, lease)
    assert db.outbox_claim("r1", 0, 0, 10) == [] and db.outbox_pending(0) == []
    assert _ids(db.outbox_claim("r1", 10, 0, 10)) == [1]


def test_two_connections_racing_claims_over_1000_messages_claim_none_twice(
    schema: Schema,
) -> None:
    first = schema.backend()
    with first.transaction():
        first.outbox_append([("things", f"k{i // 10}", i % 10, "made", "{}") for i in range(1000)])
    relays = {"r1": first, "r2": schema.backend()}
    claimed: dict[str, list[int]] = {name: [] for name in relays}
    acked: dict[str, int] = dict.fromkeys(relays, 0)
    barrier = threading.Barrier(len(relays))
    errors: list[BaseException] = []

    def relay(name: str) -> None:
        backend = relays[name]
        barrier.wait()
        try:
            while True:
                # One lease for the whole run: nothing is handed out again after it.
                batch = backend.outbox_claim(name, 7, 0, 10**12)
                if not batch:
                    return
                claimed[name] += _ids(batch)
                acked[name] += backend.outbox_ack(name, _ids(batch))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=relay, args=(name,)) for name in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = claimed["r1"] + claimed["r2"]
    assert len(every) == len(set(every)) == 1000  # none claimed twice, none lost
    assert acked == {name: len(ids) for name, ids in claimed.items()}
    assert claimed["r1"] and claimed["r2"]  # both relays took part
    assert first.outbox_pending(10) == []
