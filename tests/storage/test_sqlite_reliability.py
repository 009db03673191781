"""Reliability of the SQLite adapter: concurrent writers, crashes, awkward text, schema versions.

Short by default (the whole file runs in well under a minute); ``CSDOMAIN_SOAK=1``
runs the long versions (more repetitions, threads doing 500 operations each).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from csdomain.customers import ContactPoint, Customer
from csdomain.errors import ConflictError, SchemaError, ValidationError
from csdomain.storage import Store, open_store
from csdomain.storage.sqlite import MIGRATIONS, open_backend
from csdomain.testing.storage import AGENT, T0, sample_ticket
from csdomain.tickets import Ticket

SOAK = os.environ.get("CSDOMAIN_SOAK") == "1"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url, tenant="acme", create=True) as store:
        yield store


# -- (1) two writers, one version ---------------------------------------------------


def _race(stores: list[Store], ticket: Ticket, round: int) -> tuple[list[str], list[str]]:
    """Two threads save a reply to ``ticket`` at version 1 at the same moment."""
    barrier = threading.Barrier(2)
    won: list[str] = []
    conflicts: list[str] = []

    def save(store: Store, body: str) -> None:
        changed = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body=body)
        barrier.wait()
        try:
            store.tickets.save(changed, expected_version=1)
            won.append(body)
        except ConflictError:
            conflicts.append(body)

    threads = [
        threading.Thread(target=save, args=(store, f"{side} {round}"))
        for store, side in zip(stores, ("left", "right"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, conflicts


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "two-stores"])
def test_two_concurrent_saves_of_one_version_lose_no_update(url: str, shared: bool) -> None:
    """Exactly one of two simultaneous saves at the same version wins; its change is kept."""
    stores = [open_store(url, tenant="acme", create=True)]
    stores.append(stores[0] if shared else open_store(url, tenant="acme"))
    try:
        for round in range(100 if SOAK else 20):
            ticket = sample_ticket(f"tkt_{round}")
            stores[0].tickets.add(ticket)
            won, conflicts = _race(stores, ticket, round)
            assert len(won) == 1 and len(conflicts) == 1, (won, conflicts)
            stored = stores[1].tickets.get(ticket.id)
            assert stored.version == 2
            assert stored.value.messages[-1].body == won[0]
            assert conflicts[0] not in [m.body for m in stored.value.messages]
    finally:
        for store in {id(s): s for s in stores}.values():
            store.close()


# -- (2) many threads, mixed operations ----------------------------------------------


def test_threads_doing_mixed_work_lose_nothing(url: str) -> None:
    """8 threads add, reply (retrying conflicts by reloading), run units of work (some rolled
    back) and read; afterwards every committed change is there and nothing rolled back is."""
    threads_n, operations = 8, 500 if SOAK else 60
    shared = [f"shared_{i}" for i in range(4)]
    with open_store(url, tenant="acme", create=True) as setup:
        for key in shared:
            setup.tickets.add(sample_ticket(key, messages=0))
        for w in range(threads_n):
            setup.tickets.add(sample_ticket(f"own_{w}", messages=0))

    committed: dict[str, set[str]] = {}  # ticket id -> message bodies that were saved
    absent: list[tuple[str, str | None]] = []  # (ticket id, body) that were rolled back
    added: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    common = open_store(url, tenant="acme")  # half the threads share one store

    def reply(store: Store, key: str, body: str) -> int:
        """Add a message to ``key``, reloading after each conflict; returns the conflicts."""
        conflicts = 0
        while True:
            stored = store.tickets.get(key)
            ticket = stored.value
            changed = ticket.add_message(
                at=ticket.updated_at + timedelta(seconds=1), actor=AGENT, body=body
            )
            try:
                store.tickets.save(changed, expected_version=stored.version)
            except ConflictError:
                conflicts += 1
                continue
            with lock:
                committed.setdefault(key, set()).add(body)
            return conflicts

    def worker(w: int) -> None:
        rng = random.Random(w)
        store = common if w % 2 else open_store(url, tenant="acme")
        own = f"own_{w}"
        try:
            for n in range(operations):
                tag = f"w{w}-n{n}"
                roll = rng.random()
                if roll < 0.4:
                    reply(store, rng.choice(shared), tag)
                elif roll < 0.55:
                    assert reply(store, own, tag) == 0  # nobody else writes it
                elif roll < 0.65:
                    key = f"new_{tag}"
                    store.tickets.add(sample_ticket(key, messages=1))
                    with lock:
                        added.append(key)
                elif roll < 0.8:
                    fail = rng.random() < 0.4
                    key = f"uow_{tag}"
                    try:
                        with store.transaction():
                            store.tickets.add(sample_ticket(key, messages=0))
                            stored = store.tickets.get(own)
                            changed = stored.value.add_message(
                                at=stored.value.updated_at + timedelta(seconds=1),
                                actor=AGENT,
                                body=tag,
                            )
                            store.tickets.save(changed, expected_version=stored.version)
                            if fail:
                                raise _RollBackError
                    except _RollBackError:
                        with lock:
                            absent.extend([(key, None), (own, tag)])
                    else:
                        with lock:
                            added.append(key)
                            committed.setdefault(own, set()).add(tag)
                else:
                    page = store.tickets.list(limit=rng.randint(1, 20))
                    assert all(s.version >= 1 for s in page.items)
                    store.tickets.count()
                    store.tickets.due_before(T0 + timedelta(days=1))
                    store.tickets.get_many(shared)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            if store is not common:
                store.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    common.close()
    assert not errors, errors
    elapsed = time.monotonic() - started

    with open_store(url, tenant="acme") as check:
        tickets: dict[str, Ticket] = {}
        cursor: str | None = None
        while True:  # every stored document loads
            page = check.tickets.list(limit=100, cursor=cursor)
            tickets.update((s.value.id, s.value) for s in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(tickets) == len(shared) + threads_n + len(added) == check.tickets.count()
        assert set(added) <= set(tickets)
        for key, bodies in committed.items():
            stored_bodies = [m.body for m in tickets[key].messages]
            assert bodies <= set(stored_bodies), key
            assert len(stored_bodies) == len(set(stored_bodies))  # each save once
        for key, body in absent:
            if body is None:
                assert key not in tickets
            else:
                assert body not in {m.body for m in tickets[key].messages}
        # The outbox holds each ticket's events exactly once, in timeline order.
        sequences: dict[str, list[int]] = {}
        while pending := check.outbox.pending(1000):
            for message in pending:
                sequences.setdefault(message.ticket_id, []).append(message.sequence)
            check.outbox.mark_published([m.id for m in pending])
        assert sequences == {key: list(range(len(t.timeline))) for key, t in tickets.items()}
    assert elapsed < (600 if SOAK else 60)


class _RollBackError(Exception):
    pass


# -- (3) a process killed inside a transaction ---------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timezone
    from csdomain.storage import open_store
    from csdomain.tickets import Ticket

    url, run, size, signal_after = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    store = open_store(url, tenant="crash")
    with store.transaction():
        for i in range(size):
            store.tickets.add(Ticket.open(
                id=f"{run}_{i}", customer_id="cus_1", channel="email",
                subject=f"Crash test {run} {i}", at=at, description="'); DROP TABLE tickets; --",
            ))
            if i == signal_after:
                print("inside", flush=True)
        print("committing", flush=True)
    print("committed", flush=True)
    time.sleep(60)
    """
)


def test_a_killed_process_leaves_all_or_none_of_its_transaction(tmp_path: Path) -> None:
    """SIGKILL at random points of a large unit of work (2,000 tickets with their outbox
    messages); the file then opens and holds the whole transaction or nothing of it."""
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    rng = random.Random(7)
    size = 2_000
    outcomes: dict[str, int] = {"none": 0, "all": 0}
    with open_store(url, tenant="crash", create=True) as store:
        store.tickets.add(sample_ticket("before"))  # committed before any crash
    for run in range(100 if SOAK else 20):
        mode = run % 4  # 0, 1: while adding; 2: while committing; 3: at a random instant
        child = subprocess.Popen(
            [sys.executable, str(script), url, f"r{run}", str(size), str(size // 4)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        try:
            assert child.stdout.readline().strip() == "inside"
            if mode == 1:
                time.sleep(rng.uniform(0, 0.1))
            elif mode == 2:
                assert child.stdout.readline().strip() == "committing"
            elif mode == 3:
                time.sleep(rng.uniform(0, 0.6))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            rest = child.stdout.read()
        finally:
            if child.poll() is None:  # pragma: no cover - only when an assertion failed
                child.kill()
                child.wait()
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        with open_store(url, tenant="crash") as store:
            ids = [f"r{run}_{i}" for i in range(size)]
            found = store.tickets.get_many(ids)
            assert len(found) in (0, size), (run, mode, len(found))
            if "committed" in rest:
                assert len(found) == size
            events = 0
            while pending := store.outbox.pending(1000):
                events += sum(1 for m in pending if m.ticket_id.startswith(f"r{run}_"))
                store.outbox.mark_published([m.id for m in pending])
            assert events == 2 * len(found)
            outcomes["all" if found else "none"] += 1
            assert store.tickets.get("before").version == 1
            store.tickets.add(sample_ticket(f"after_{run}"))  # the file takes writes again
    raw = sqlite3.connect(tmp_path / "crash.db")
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        raw.close()
    assert outcomes["none"] >= 10  # modes 0 and 1 always kill before the commit


# -- (4) awkward text ------------------------------------------------------------------

AWKWARD = (
    "'); DROP TABLE tickets; --",
    '" OR 1=1; --',
    "Robert'); DELETE FROM records WHERE ('1'='1",
    "O'Brien's \"quoted\" `ticks` \\backslash\\ \\' \\\"",
    "%_ LIKE wildcards %% __ [a-z] * ?",
    "$1 ?1 :name @name {0} %s %(x)s",
    "🙂👍🏽👨‍👩‍👧‍👦🇨🇳 退款未到账 émoji ﷽",
    "control \x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f \x85 \u2028\u2029 \ufeff\ufffe",
    "tab\tnew\nline\r\ncarriage\r",
    "\u202eright-to-left\u202c \u200bzero\u200dwidth",
    "\U0010fffd plane 16 \U0001d11e",
    "x" * 9_000 + "'; --",
    "/* comment */ SELECT * FROM tickets; -- end",
)


@pytest.mark.parametrize("text", AWKWARD, ids=range(len(AWKWARD)))
def test_awkward_text_round_trips_unchanged(store: Store, text: str) -> None:
    subject = text[:200] if len(text) <= 200 else "long"
    ticket = sample_ticket(subject=subject.strip() or "blank").add_message(
        at=T0 + timedelta(hours=1), actor=AGENT, body=text
    )
    ticket = ticket.set_custom_fields({"note": text}, at=T0 + timedelta(hours=1), actor=AGENT)
    store.tickets.add(ticket)
    got = store.tickets.get(ticket.id).value
    assert got == ticket
    assert got.messages[-1].body == text and got.custom_fields["note"] == text
    address = text[:320]
    customer = Customer(
        id="cus_1",
        display_name=text[:200],
        contact_points=(ContactPoint(channel="email", address=address),),
        attributes={"note": text},
    )
    store.customers.add(customer)
    assert store.customers.get("cus_1").value == customer
    assert [s.value for s in store.customers.find_by_contact(address)] == [customer]
    assert store.customers.find_by_contact(address + "x") == ()
    assert [m.event for m in store.outbox.pending()][-1] == ticket.timeline[-1]
    assert store.tickets.count() == 1 and store.customers.count() == 1


def test_nul_characters_are_refused_by_the_domain_before_storage(store: Store) -> None:
    with pytest.raises(ValidationError, match="NUL"):
        sample_ticket(subject="before\x00after")
    with pytest.raises(ValidationError, match="NUL"):
        sample_ticket().add_message(at=T0, actor=AGENT, body="a\x00b")
    with pytest.raises(ValidationError, match="NUL"):
        Customer(id="cus_1", display_name="a\x00b")
    assert store.tickets.count() == 0


# -- (5) schema versions ---------------------------------------------------------------


def test_a_database_from_a_newer_csdomain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    with open_store(f"sqlite:///{path}", tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    newer = len(MIGRATIONS) + 2
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("UPDATE csdomain_schema SET version = ?", (newer,))
    finally:
        raw.close()
    with pytest.raises(SchemaError) as info:
        open_store(f"sqlite:///{path}", tenant="acme")
    message = str(info.value)
    assert f"newer csdomain: schema {newer}" in message
    assert f"reads up to {len(MIGRATIONS)}" in message and "upgrade csdomain" in message
    raw = sqlite3.connect(path)
    try:  # refused, not touched
        assert raw.execute("SELECT version FROM csdomain_schema").fetchall() == [(newer,)]
        assert raw.execute("SELECT count(*) FROM c_tickets").fetchone() == (1,)
    finally:
        raw.close()


def test_processes_opening_a_new_file_at_once_create_the_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    code = textwrap.dedent(
        """
        import sys
        from datetime import datetime, timezone
        from csdomain.storage import open_store
        from csdomain.tickets import Ticket

        store = open_store(sys.argv[1], tenant="t" + sys.argv[2], create=True)
        store.tickets.add(Ticket.open(
            id="tkt_1", customer_id="cus_1", channel="email", subject="Race",
            at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
        ))
        print(store.tickets.count())
        """
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"sqlite:///{path}", str(i)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0] * 4 and outputs == ["1"] * 4
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version FROM csdomain_schema").fetchall() == [(len(MIGRATIONS),)]
        assert raw.execute("SELECT count(*) FROM c_tickets").fetchone() == (4,)
    finally:
        raw.close()


# -- (6) relays racing, one killed mid-lease -----------------------------------------

_RELAY = textwrap.dedent(
    """
    import sys, time
    from csdomain.storage.sqlite import open_backend

    url, relay, now, lease = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    backend = open_backend(url, "relay")
    batches = 0
    while True:
        with backend.transaction():
            claimed = backend.outbox_claim(relay, 10, now, lease)
        if not claimed:
            break
        ids = [m.id for m in claimed]
        batches += 1
        if relay == "doomed" and batches == 4:  # published, not acknowledged: killed here
            print("claimed", *ids, flush=True)
            time.sleep(600)
        with backend.transaction():
            assert backend.outbox_ack(relay, ids) == len(ids)
        print("acked", *ids, flush=True)
    print("done", flush=True)
    """
)


def test_relays_racing_with_one_killed_mid_lease_lose_nothing_and_ack_nothing_twice(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    script = tmp_path / "relay.py"
    script.write_text(_RELAY)
    now, lease = 1_800_000_000_000_000, 60_000_000
    backend = open_backend(url, "relay", create=True)
    with backend.transaction():
        backend.outbox_append([("tickets", f"tkt_{i}", 0, "opened", "{}") for i in range(1_000)])
    every = {m.id for m in backend.outbox_pending(2_000)}
    assert len(every) == 1_000

    def start(relay: str, at: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(script), url, relay, str(at), str(lease)],
            stdout=subprocess.PIPE,
            text=True,
        )

    doomed = start("doomed", now)
    assert doomed.stdout is not None
    healthy: subprocess.Popen[str] | None = None
    leased: set[int] = set()
    acked: dict[str, list[int]] = {"doomed": [], "healthy": []}
    while not leased:  # kill the doomed relay holding a lease it has not acknowledged
        word, *ids = doomed.stdout.readline().split()
        if healthy is None:  # the doomed relay is claiming: race it
            healthy = start("healthy", now)
        if word == "claimed":
            leased = {int(i) for i in ids}
            doomed.send_signal(signal.SIGKILL)
        else:
            assert word == "acked"
            acked["doomed"].extend(int(i) for i in ids)
    doomed.wait(timeout=60)
    doomed.stdout.close()
    assert healthy is not None
    out, _ = healthy.communicate(timeout=120)
    acked["healthy"] = [
        int(i) for line in out.splitlines() if line.startswith("acked") for i in line.split()[1:]
    ]
    assert healthy.returncode == 0
    # While the lease lasts nobody takes the doomed relay's messages; after it, one does.
    late = start("healthy", now + lease)
    out, _ = late.communicate(timeout=120)
    taken_over = [
        int(i) for line in out.splitlines() if line.startswith("acked") for i in line.split()[1:]
    ]
    assert late.returncode == 0
    assert set(taken_over) == leased - set(acked["doomed"])
    published = acked["doomed"] + acked["healthy"] + taken_over
    assert len(published) == len(set(published))  # no message acknowledged twice
    assert set(published) <= every
    assert backend.outbox_pending(2_000) == []  # none lost: everything was published
    raw = sqlite3.connect(tmp_path / "relay.db")
    try:
        attempts = dict(raw.execute("SELECT id, attempts FROM outbox").fetchall())
    finally:
        raw.close()
    assert len(leased) == 10 and {attempts[i] for i in taken_over} == {2}
    backend.close()
