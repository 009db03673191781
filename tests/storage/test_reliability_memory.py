"""Issue 9's reliability probes on the in-memory adapter, where they apply: one
process, so the racing intakes and relays are threads; a rollback in one tenant
keeps the other tenant's outbox; forged cursors and lone surrogates.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from test_reliability_sqlite import (
    WECHAT,
    check_forged_cursors,
    check_healthy_relays,
    check_killed_relay,
    check_lone_surrogates_refused,
    fill_outbox,
)

from csdomain.addresses import ContactRules
from csdomain.clock import FrozenClock
from csdomain.customers import ContactPoint, Customer
from csdomain.errors import ConflictError
from csdomain.storage import Store, open_store
from csdomain.testing.storage import T0, sample_ticket

SOAK = os.environ.get("CSDOMAIN_SOAK") == "1"
_databases = itertools.count()


@pytest.fixture
def url() -> str:
    return f"memory:reliability-{next(_databases)}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url, tenant="acme") as store:
        yield store


def test_a_rollback_in_one_tenant_keeps_the_other_tenants_outbox(url: str) -> None:
    """The memory adapter's rollback once deleted another tenant's committed outbox
    messages, then reused their ids."""
    a = open_store(url, tenant="tenant-a")
    b = open_store(url, tenant="tenant-b")
    try:
        b.tickets.add(sample_ticket("tkt_b1"))
        b_inside = threading.Thread(target=lambda: b.tickets.add(sample_ticket("tkt_b2")))

        def rolled_back() -> None:
            with a.transaction():
                a.tickets.add(sample_ticket("tkt_a1"))
                b_inside.start()  # commits while (or right after) a's transaction runs
                raise RuntimeError("roll back tenant a")

        with pytest.raises(RuntimeError):
            rolled_back()
        b_inside.join(timeout=30)
        kept = b.outbox.pending(100)
        assert [(m.ticket_id, m.sequence) for m in kept] == [
            (t, i) for t in ("tkt_b1", "tkt_b2") for i in range(4)
        ]
        assert a.outbox.pending(100) == [] and a.tickets.count() == 0
        a.tickets.add(sample_ticket("tkt_a2"))
        fresh = a.outbox.pending(100)
        assert min(m.id for m in fresh) > max(m.id for m in kept)  # ids never reused
        assert b.outbox.pending(100) == kept
    finally:
        a.close()
        b.close()


def test_racing_find_or_create_threads_make_one_customer(store: Store) -> None:
    store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
    for round in range(20 if SOAK else 3):
        openid = f"oXk3_openid_{round}"
        barrier = threading.Barrier(6)
        outcomes: list[tuple[str, str]] = []
        lock = threading.Lock()

        def intake(
            index: int,
            openid: str = openid,
            barrier: Any = barrier,
            outcomes: list[tuple[str, str]] = outcomes,
            lock: Any = lock,
        ) -> None:
            found = store.customers.find_by_contact(openid, WECHAT)
            barrier.wait(timeout=30)
            assert found == ()
            customer = Customer(
                id=f"cus_{openid}_{index}",
                display_name=f"Intake {index}",
                contact_points=(ContactPoint(channel=WECHAT, address=openid),),
            )
            try:
                store.customers.add(customer)
                outcome = "created"
            except ConflictError:
                outcome = "conflict"
            with lock:
                outcomes.append((outcome, customer.id))

        threads = [threading.Thread(target=intake, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(o for o, _ in outcomes) == ["conflict"] * 5 + ["created"]
        winner = next(c for o, c in outcomes if o == "created")
        assert [s.value.id for s in store.customers.find_by_contact(openid)] == [winner]


def _relay(
    store: Store,
    name: str,
    published: list[tuple[int, int]],
    *,
    stop_at: int | None = None,
    claimed: list[int] | None = None,
    clock: FrozenClock | None = None,
) -> None:
    """A relay thread: claim, publish (append to ``published``), acknowledge; with
    ``stop_at``, at that batch it publishes half, records the batch in ``claimed`` and
    stops without acknowledging (a relay that died holding its lease)."""
    batches = 0
    while True:
        batch = store.outbox.claim(relay=name, limit=20, lease=timedelta(seconds=30))
        if not batch:
            if not store.outbox.pending(1):
                return
            if clock is not None:
                clock.advance(seconds=1)  # time passes while the survivor waits
            continue
        if batches == stop_at:
            assert claimed is not None
            claimed.extend(m.id for m in batch)
            published.extend((m.id, m.attempts) for m in batch[: len(batch) // 2])
            return
        published.extend((m.id, m.attempts) for m in batch)
        store.outbox.ack([m.id for m in batch], relay=name)
        batches += 1


def test_two_relay_threads_publish_every_message_once(store: Store) -> None:
    ids = fill_outbox(store, 1_000)
    a: list[tuple[int, int]] = []
    b: list[tuple[int, int]] = []
    threads = [
        threading.Thread(target=_relay, args=(store, "relay_a", a)),
        threading.Thread(target=_relay, args=(store, "relay_b", b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    check_healthy_relays(ids, a, b)


def test_a_relay_that_dies_holding_its_lease_loses_nothing(url: str) -> None:
    clock = FrozenClock(T0)
    with open_store(url, tenant="acme", clock=clock) as store:
        ids = fill_outbox(store, 1_000)
        a: list[tuple[int, int]] = []
        b: list[tuple[int, int]] = []
        claimed: list[int] = []
        _relay(store, "relay_a", a, stop_at=2, claimed=claimed)  # dies at its third batch
        _relay(store, "relay_b", b, clock=clock)
        check_killed_relay(ids, a, b, claimed)


def test_forged_cursors_are_validation_errors(store: Store) -> None:
    check_forged_cursors(store)


def test_lone_surrogates_are_refused_before_storage(store: Store) -> None:
    check_lone_surrogates_refused(store)
