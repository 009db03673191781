"""Issue 9's reliability probes on SQLite, as tests: racing processes, relays killed
mid-lease, erasure down to the file's bytes, damaged rows and files, forged cursors,
lone surrogates, and a csdomain 0.1 file migrated forward in place.

The process workers here are module-level functions (``multiprocessing`` with the
``spawn`` start method imports them by name); the PostgreSQL probes reuse them.
Short by default (seconds); ``CSDOMAIN_SOAK=1`` runs more rounds.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from csdomain.addresses import ContactRules
from csdomain.channels import ChannelKind
from csdomain.conditions import Equals
from csdomain.customers import ContactPoint, Customer
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    NoStoreError,
    ValidationError,
)
from csdomain.people import Agent, Group
from csdomain.priorities import Priority
from csdomain.serialization import to_json
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target
from csdomain.storage import SCHEMA_VERSION, Store, open_store
from csdomain.testing.storage import (
    AGENT,
    CONTRACT_TASKS,
    T0,
    ContractTask,
    sample_ticket,
    walk,
)
from csdomain.tickets import Actor, Status, Ticket, TicketKind

SOAK = os.environ.get("CSDOMAIN_SOAK") == "1"
WECHAT = ChannelKind.WECHAT_OFFICIAL_ACCOUNT
#: The phone number the erasure probes look for, in the spellings people use.
PHONE = "+86 138 0013 8000"
PHONE_SPELLINGS = ("13800138000", "+8613800138000", "138 0013 8000", "138-0013-8000")

_spawn = multiprocessing.get_context("spawn")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url, tenant="acme", create=True) as store:
        yield store


# -- process workers (importable: spawned processes find them by name) -------------------


def find_or_create(url: str, tenant: str, openid: str, index: int, barrier: Any, out: Any) -> None:
    """An intake: look the WeChat openid up, then (all intakes at once) create the
    customer if it was not found; a loser of the race finds the winner's customer.
    Puts ``(index, outcome, customer id)`` on ``out``."""
    try:
        store = open_store(url, tenant=tenant)
        try:
            found = store.customers.find_by_contact(openid, WECHAT)
            barrier.wait(timeout=60)
            if found:
                out.put((index, "found", found[0].value.id))
                return
            customer = Customer(
                id=f"cus_{openid}_{index}",  # ids of their own: only the openid clashes
                display_name=f"Intake {index}",
                contact_points=(ContactPoint(channel=WECHAT, address=openid),),
            )
            try:
                store.customers.add(customer)
            except ConflictError:
                again = store.customers.find_by_contact(openid, WECHAT)
                out.put((index, "conflict", again[0].value.id if again else None))
            else:
                out.put((index, "created", customer.id))
        finally:
            store.close()
    except BaseException as exc:  # reported by the parent
        out.put((index, "error", repr(exc)))


def relay(
    url: str,
    tenant: str,
    name: str,
    published: str,
    batch: int,
    lease_seconds: float,
    barrier: Any,
    doomed: Any = None,
) -> None:
    """A relay: claims batches, "publishes" each message by appending ``id attempts``
    to the file ``published`` (fsync'd), then acknowledges them; stops when nothing is
    pending (leased messages count as pending).

    A ``doomed`` relay claims one batch before the race starts, writes its ids to
    ``published + '.claimed'``, publishes half of it, sets ``doomed`` and waits to be
    killed, its lease running, while the others work.
    """
    store = open_store(url, tenant=tenant)
    lease = timedelta(seconds=lease_seconds)
    with open(published, "a", encoding="utf-8") as out:

        def publish(messages: list[Any]) -> None:
            out.writelines(f"{m.id} {m.attempts}\n" for m in messages)
            out.flush()
            os.fsync(out.fileno())

        if doomed is not None:
            claimed = store.outbox.claim(relay=name, limit=batch, lease=lease)
            with open(published + ".claimed", "w", encoding="utf-8") as note:
                note.writelines(f"{m.id}\n" for m in claimed)
                note.flush()
                os.fsync(note.fileno())
            barrier.wait(timeout=60)
            publish(claimed[: len(claimed) // 2])
            doomed.set()
            time.sleep(600)  # killed here
        barrier.wait(timeout=60)
        while True:
            claimed = store.outbox.claim(relay=name, limit=batch, lease=lease)
            if not claimed:
                if not store.outbox.pending(1):
                    break
                time.sleep(0.02)
                continue
            publish(claimed)
            store.outbox.ack([m.id for m in claimed], relay=name)
    store.close()


# -- racing find-or-create ---------------------------------------------------------------


def race_find_or_create(url: str, tenant: str, openid: str, processes: int = 6) -> list[Any]:
    """``processes`` intakes racing over one openid; their outcomes, by index."""
    barrier = _spawn.Barrier(processes)
    out = _spawn.Queue()
    children = [
        _spawn.Process(target=find_or_create, args=(url, tenant, openid, i, barrier, out))
        for i in range(processes)
    ]
    for child in children:
        child.start()
    outcomes = sorted(out.get(timeout=120) for _ in children)
    for child in children:
        child.join(timeout=60)
    assert [child.exitcode for child in children] == [0] * processes
    return outcomes


def check_one_winner(store: Store, openid: str, outcomes: list[Any]) -> None:
    """Exactly one intake created the customer; the others got ConflictError and then
    found it; the store holds that one customer for the openid."""
    assert [o for o in outcomes if o[1] == "error"] == []
    created = [o for o in outcomes if o[1] == "created"]
    assert len(created) == 1, outcomes
    assert sorted(o[1] for o in outcomes) == ["conflict"] * (len(outcomes) - 1) + ["created"]
    winner = created[0][2]
    assert {o[2] for o in outcomes} == {winner}
    found = store.customers.find_by_contact(openid, WECHAT)
    assert [s.value.id for s in found] == [winner]


def test_racing_find_or_create_intakes_make_one_customer(url: str, store: Store) -> None:
    store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
    rounds = 10 if SOAK else 1
    for round in range(rounds):
        openid = f"oXk3_openid_{round}"
        outcomes = race_find_or_create(url, "acme", openid)
        check_one_winner(store, openid, outcomes)
    assert store.customers.count() == rounds


# -- relays racing over the outbox -------------------------------------------------------


def fill_outbox(store: Store, messages: int, prefix: str = "tkt") -> list[int]:
    """``messages`` new outbox messages (tickets of 2 events each); their ids."""
    tickets = [sample_ticket(f"{prefix}_{i:04d}", messages=0) for i in range(messages // 2)]
    assert {len(t.timeline) for t in tickets} == {2}
    for start in range(0, len(tickets), 250):
        store.tickets.add_many(tickets[start : start + 250])
    ids = [m.id for m in store.outbox.pending(1000) if m.ticket_id.startswith(f"{prefix}_")]
    assert len(ids) == messages
    return ids


def published_lines(path: Path) -> list[tuple[int, int]]:
    """``(id, attempts)`` per line a relay wrote."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split()
    return [(int(a), int(b)) for a, b in zip(lines[::2], lines[1::2], strict=True)]


def race_relays(
    url: str, tenant: str, tmp: Path, *, lease_seconds: float, kill: bool
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[int]]:
    """Two relay processes over the tenant's outbox; with ``kill``, the first is killed
    (SIGKILL) holding the lease of a batch it half published. Returns what each
    published and what the killed one held claimed."""
    barrier = _spawn.Barrier(2)
    doomed = _spawn.Event() if kill else None
    files = [tmp / "relay_a.txt", tmp / "relay_b.txt"]
    for file in files:
        file.unlink(missing_ok=True)
    a = _spawn.Process(
        target=relay,
        args=(url, tenant, "relay_a", str(files[0]), 20, lease_seconds, barrier, doomed),
    )
    b = _spawn.Process(
        target=relay, args=(url, tenant, "relay_b", str(files[1]), 20, lease_seconds, barrier)
    )
    a.start()
    b.start()
    try:
        if doomed is not None:
            assert doomed.wait(timeout=120), "relay_a did not get to its batch"
            os.kill(a.pid or 0, signal.SIGKILL)
            a.join(timeout=60)
            assert a.exitcode == -signal.SIGKILL
        b.join(timeout=180)
        a.join(timeout=180)
        assert b.exitcode == 0
        if doomed is None:
            assert a.exitcode == 0
    finally:
        for child in (a, b):
            if child.is_alive():  # pragma: no cover - only when an assertion failed
                child.kill()
                child.join()
    claimed_file = Path(str(files[0]) + ".claimed")
    claimed = [int(x) for x in claimed_file.read_text().split()] if claimed_file.exists() else []
    return published_lines(files[0]), published_lines(files[1]), claimed


def check_healthy_relays(
    ids: list[int], a: list[tuple[int, int]], b: list[tuple[int, int]]
) -> None:
    """Two healthy relays: every message published once, by one of them, on its first claim."""
    published = [i for i, _ in a + b]
    assert len(published) == len(set(published)), "a message was published twice"
    assert sorted(published) == sorted(ids), "a message was lost"
    assert {attempts for _, attempts in a + b} == {1}


def check_killed_relay(
    ids: list[int], a: list[tuple[int, int]], b: list[tuple[int, int]], claimed: list[int]
) -> None:
    """One relay killed mid-lease: nothing lost; its claimed batch was delivered again,
    after the lease, by the survivor; only messages it published without acknowledging
    were published twice."""
    published = [i for i, _ in a + b]
    assert sorted(set(published)) == sorted(ids), "a message was lost"
    twice = sorted(i for i in set(published) if published.count(i) > 1)
    assert set(twice) <= set(claimed[: len(claimed) // 2])
    by_b = dict(b)
    assert claimed and all(i in by_b for i in claimed)
    assert all(by_b[i] >= 2 for i in claimed)  # delivered again, on a later claim
    assert len(published) == len(ids) + len(twice)


def test_two_relays_publish_every_message_once(url: str, store: Store, tmp_path: Path) -> None:
    for round in range(5 if SOAK else 1):
        ids = fill_outbox(store, 1_000, prefix=f"r{round}")
        a, b, _ = race_relays(url, "acme", tmp_path, lease_seconds=30, kill=False)
        check_healthy_relays(ids, a, b)
        assert store.outbox.pending() == []


def test_a_relay_killed_mid_lease_loses_nothing(url: str, store: Store, tmp_path: Path) -> None:
    for round in range(5 if SOAK else 1):
        ids = fill_outbox(store, 1_000, prefix=f"r{round}")
        a, b, claimed = race_relays(url, "acme", tmp_path, lease_seconds=2, kill=True)
        check_killed_relay(ids, a, b, claimed)
        assert store.outbox.pending() == []


# -- erasure: not one byte left ---------------------------------------------------------


def personal_customer(id: str = "cus_1", phone: str = PHONE) -> Customer:
    """A customer whose personal fields all hold the phone number in some spelling."""
    return Customer(
        id=id,
        display_name="王芳 (13800138000)",
        contact_points=(
            ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address=phone),
            ContactPoint(channel=ChannelKind.SMS, address="13800138000"),
            ContactPoint(channel=ChannelKind.EMAIL, address="wang.fang@example.com"),
        ),
        birthday=date(1990, 5, 17),
        attributes={"note": "call 138-0013-8000 after 6pm"},
    )


def personal_tickets(customer_id: str = "cus_1", count: int = 3) -> list[Ticket]:
    """Tickets whose subjects, messages and custom fields repeat the phone number."""
    customer = Actor.customer(customer_id)
    tickets = []
    for i in range(count):
        ticket = Ticket.open(
            id=f"tkt_{customer_id}_{i}",
            customer_id=customer_id,
            channel=ChannelKind.PHONE_HOTLINE,
            subject=f"Call back +8613800138000 ({i})",
            at=T0 + timedelta(hours=i),
            actor=customer,
            kind=TicketKind.COMPLAINT,
            priority=Priority.HIGH,
            custom_fields={"callback": PHONE},
            description="My number is 138 0013 8000",
        )
        ticket = ticket.add_message(
            at=T0 + timedelta(hours=i, minutes=5),
            actor=AGENT,
            body="Calling 13800138000 now",
            handle_time=timedelta(minutes=3),
        )
        tickets.append(ticket)
    return tickets


def fill_personal_data(store: Store) -> list[Ticket]:
    """The customer and tickets above, saved several times (so old versions of rows
    were written and replaced), some outbox messages published; plus another customer
    whose number (13900000000) must survive the erasure."""
    store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
    store.customers.add(personal_customer())
    store.customers.add(
        Customer(
            id="cus_2",
            display_name="Li Lei",
            contact_points=(
                ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="13900000000"),
            ),
        )
    )
    saved = []
    for ticket in personal_tickets():
        store.tickets.add(ticket)
        version = 1
        for n in range(3):
            ticket = ticket.add_message(
                at=ticket.updated_at + timedelta(minutes=1),
                actor=Actor.customer("cus_1"),
                body=f"Still waiting, reach me at 13800138000 (#{n})",
            )
            store.tickets.save(ticket, expected_version=version)
            version += 1
        saved.append(ticket)
    store.tickets.add(sample_ticket("tkt_other", customer_id="cus_2", subject="From 13900000000"))
    pending = store.outbox.pending(1000)
    store.outbox.mark_published([m.id for m in pending[::2]])
    # A dead letter and a message leased to a relay hold the number too.
    dead, _leased = store.outbox.claim(relay="relay_1", limit=2)
    assert store.outbox.fail([dead.id], relay="relay_1", reason="broker down") == 1
    return saved


def test_after_erasure_the_phone_number_is_nowhere_in_the_file(path: Path, url: str) -> None:
    with open_store(url, tenant="acme", create=True) as store:
        fill_personal_data(store)
        erasure = store.erase_customer(
            "cus_1", reason="PIPL request 2026-0042", at=T0 + timedelta(days=3)
        )
        assert erasure.tickets == 3
        assert store.customers.find_by_contact("13800138000") == ()
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        raw.close()
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    data = b"".join(p.read_bytes() for p in files)
    for spelling in (*PHONE_SPELLINGS, "王芳", "wang.fang@example.com", "1990-05-17"):
        assert spelling.encode("utf-8") not in data, spelling
        assert spelling.encode("utf-16-le") not in data, spelling
    # The search can find what is there: the other customer's number stays.
    assert b"13900000000" in data and b"PIPL request 2026-0042" in data


# -- damaged rows and files ----------------------------------------------------------------


def test_damaged_rows_are_corrupt_records_naming_the_collection_and_key(
    path: Path, store: Store
) -> None:
    store.customers.add(personal_customer())
    store.customers.add(Customer(id="cus_ok", display_name="Fine"))
    for i in range(3):
        store.tickets.add(sample_ticket(f"tkt_{i}"))
    store.config.add("standard", _policy())
    store.collection(CONTRACT_TASKS).add(ContractTask("task_1", owner="li"))
    store.agents.add(Agent(id="agt_1", name="Li"))
    with store.transaction():  # through the backend: no domain check sees these
        store.backend.rewrite("config", "sla_policy:standard", '{"schema_version": 1,')
        store.backend.rewrite("agents", "agt_1", "\x00")
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute(
                "UPDATE c_customers SET document = ? WHERE key = 'cus_1'",
                ('{"schema_version": 1, "document": "customer", "id": 5}',),
            )
            raw.execute(
                "UPDATE c_tickets__events SET document = 'garbage' "
                "WHERE key = 'tkt_1' AND sequence = 1"
            )
            raw.execute(
                "UPDATE c_tickets SET document = '{\"events\": \"many\"}' WHERE key = 'tkt_2'"
            )
            raw.execute(
                "UPDATE c_contract_tasks SET document = ? WHERE key = 'task_1'",
                (json.dumps({"schema_version": 1, "document": "contract_task", "id": []}),),
            )
    finally:
        raw.close()
    reads: list[tuple[str, str, Any]] = [
        ("customer", "cus_1", lambda: store.customers.get("cus_1")),
        ("customer", "cus_1", lambda: store.customers.list()),
        ("customer", "cus_1", lambda: store.customers.find_by_contact(PHONE)),
        ("ticket", "tkt_1", lambda: store.tickets.get("tkt_1")),
        ("ticket", "tkt_1", lambda: store.tickets.get_many(["tkt_0", "tkt_1"])),
        ("ticket", "tkt_2", lambda: store.tickets.get("tkt_2")),
        ("ticket", "tkt_1", lambda: store.tickets.list(limit=2)),
        ("SlaPolicy", "standard", lambda: store.config.get(SlaPolicy, "standard")),
        ("contract task", "task_1", lambda: store.collection(CONTRACT_TASKS).get("task_1")),
        ("agent", "agt_1", lambda: store.agents.get("agt_1")),
    ]
    for kind, key, read in reads:
        with pytest.raises(CorruptRecordError) as info:
            read()
        assert (info.value.kind, info.value.key) == (kind, key), str(info.value)
        assert f"{key!r}" in str(info.value)
    assert store.tickets.get("tkt_0").version == 1  # the others stay readable
    assert store.customers.get("cus_ok").value.display_name == "Fine"


def test_a_truncated_or_missing_file_is_no_store_unless_creating(path: Path, url: str) -> None:
    with open_store(url, tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    path.write_bytes(b"")  # truncated to 0 bytes, as a full disk or a bad copy leaves it
    with pytest.raises(NoStoreError, match="create=True"):
        open_store(url, tenant="acme")
    assert path.stat().st_size == 0  # refused, not touched
    missing = path.with_name("missing.db")
    with pytest.raises(NoStoreError):
        open_store(f"sqlite:///{missing}", tenant="acme")
    assert not missing.exists()
    with open_store(url, tenant="acme", create=True) as store:
        assert store.tickets.count() == 0
        store.tickets.add(sample_ticket())
    with open_store(url, tenant="acme") as store:  # a store now: no create needed
        assert store.tickets.count() == 1
    garbage = path.with_name("garbage.db")
    garbage.write_bytes(b"not a database at all\x00" * 300)
    for create in (False, True):
        with pytest.raises(CorruptRecordError):
            open_store(f"sqlite:///{garbage}", tenant="acme", create=create)
    assert garbage.read_bytes() == b"not a database at all\x00" * 300


FORGED_CURSORS = (
    "",
    "x",
    "not-a-cursor",
    "' OR 1=1; --",
    "WyJ4Il0",  # ["x"]
    "WzEsMl0",  # [1,2]
    "W251bGwsbnVsbCxudWxsXQ",  # [null,null,null]
    "A" * 5_000,
    "\u00e9\u00e9\u00e9",
)


def check_forged_cursors(store: Store) -> None:
    """Every listing refuses forged cursors with ValidationError, quoting no SQL."""
    store.tickets.add_many(sample_ticket(f"tkt_{i}") for i in range(3))
    store.customers.add(personal_customer())
    store.config.add("standard", _policy())
    tasks = store.collection(CONTRACT_TASKS)
    tasks.add(ContractTask("task_1", owner="li", due=T0))
    listings: list[Any] = [
        lambda c: store.tickets.list(cursor=c),
        lambda c: store.tickets.list(status=Status.NEW, cursor=c),
        lambda c: store.tickets.due_before(T0, cursor=c),
        lambda c: store.customers.list(cursor=c),
        lambda c: store.agents.list(cursor=c),
        lambda c: store.config.list(SlaPolicy, cursor=c),
        lambda c: tasks.find("by_owner", where={"owner": "li"}, cursor=c),
        lambda c: tasks.find("due", low=T0, cursor=c),
        lambda c: tasks.list(cursor=c),
        lambda c: store.outbox.failed(cursor=c),
    ]
    genuine = store.tickets.list(limit=1).next_cursor
    assert genuine is not None
    cursors = (*FORGED_CURSORS, genuine[:-2], genuine + "A", genuine.swapcase())
    for listing in listings:
        for cursor in cursors:
            with pytest.raises(ValidationError) as info:
                listing(cursor)
            message = str(info.value).lower()
            assert "cursor" in message
            assert "select" not in message and "where" not in message, message


def test_forged_cursors_are_validation_errors(store: Store) -> None:
    check_forged_cursors(store)


def check_lone_surrogates_refused(store: Store) -> None:
    """A lone surrogate anywhere is a ValidationError, and nothing is stored."""
    lone = "half \ud83d of an emoji"
    calls: list[Any] = [
        lambda: store.tickets.add(sample_ticket(subject=lone)),
        lambda: store.tickets.add(
            sample_ticket().add_message(at=T0 + timedelta(hours=1), actor=AGENT, body=lone)
        ),
        lambda: store.customers.add(Customer(id="cus_1", display_name=lone)),
        lambda: store.customers.find_by_contact(lone),
        lambda: store.config.add(lone, _policy()),
        lambda: store.collection(CONTRACT_TASKS).add(ContractTask("task_1", note=lone)),
        lambda: store.collection(CONTRACT_TASKS).add(ContractTask("task_1", owner=lone)),
        lambda: store.erase_customer("cus_1", reason=lone),
    ]
    for call in calls:
        with pytest.raises(ValidationError):
            call()
    assert store.tickets.count() == 0 and store.customers.count() == 0
    assert store.collection(CONTRACT_TASKS).count() == 0 and store.outbox.pending() == []
    store.tickets.add(sample_ticket())  # and the store takes writes as before
    assert [m.sequence for m in store.outbox.pending()] == [0, 1, 2, 3]


def test_lone_surrogates_are_refused_before_storage(store: Store) -> None:
    check_lone_surrogates_refused(store)


def _policy() -> SlaPolicy:
    return SlaPolicy(
        name="standard",
        metrics=(
            MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=8))}),
        ),
    )


# -- a csdomain 0.1 file, migrated forward in place --------------------------------------

#: csdomain 0.1's schema, as its SQLite adapter created it (MIGRATIONS[0] at 0.1).
VERSION_1_DDL = (
    """CREATE TABLE records (
        tenant TEXT NOT NULL,
        collection TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (tenant, collection, key)
    ) WITHOUT ROWID""",
    """CREATE TABLE tickets (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        document TEXT NOT NULL,
        status TEXT,
        assignee_id TEXT,
        group_id TEXT,
        customer_id TEXT,
        kind TEXT,
        priority TEXT,
        updated_at INTEGER,
        next_deadline INTEGER,
        event_count INTEGER,
        PRIMARY KEY (tenant, key)
    )""",
    "CREATE INDEX tickets_status ON tickets (tenant, status, key)",
    "CREATE INDEX tickets_assignee ON tickets (tenant, assignee_id, key)",
    "CREATE INDEX tickets_group ON tickets (tenant, group_id, key)",
    "CREATE INDEX tickets_customer ON tickets (tenant, customer_id, key)",
    "CREATE INDEX tickets_kind ON tickets (tenant, kind, key)",
    "CREATE INDEX tickets_priority ON tickets (tenant, priority, key)",
    """CREATE INDEX tickets_deadline ON tickets (tenant, next_deadline, key)
        WHERE next_deadline IS NOT NULL""",
    """CREATE TABLE contacts (
        tenant TEXT NOT NULL,
        address TEXT NOT NULL,
        channel TEXT NOT NULL,
        customer_id TEXT NOT NULL
    )""",
    "CREATE INDEX contacts_address ON contacts (tenant, address, channel, customer_id)",
    "CREATE INDEX contacts_customer ON contacts (tenant, customer_id)",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        document TEXT NOT NULL,
        published INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX outbox_pending ON outbox (tenant, published, id)",
)


def _us(instant: Any) -> int | None:
    return None if instant is None else int(instant.timestamp() * 1_000_000)


def _event_texts(ticket: Ticket) -> list[str]:
    """Each timeline event's text as csdomain 0.1 wrote it into its outbox."""
    events = json.loads(to_json(ticket))["timeline"]
    return [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events]


class Version1File:
    """A csdomain 0.1 database file: its schema and rows as 0.1 wrote them."""

    def __init__(self, path: Path) -> None:
        self.raw = sqlite3.connect(path)
        with self.raw:
            for statement in VERSION_1_DDL:
                self.raw.execute(statement)
            self.raw.execute("CREATE TABLE csdomain_schema (version INTEGER NOT NULL)")
            self.raw.execute("INSERT INTO csdomain_schema (version) VALUES (1)")

    def record(self, tenant: str, collection: str, key: str, value: Any, version: int = 1) -> None:
        with self.raw:
            self.raw.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                (tenant, collection, key, version, to_json(value)),
            )

    def customer(self, tenant: str, customer: Customer, version: int = 1) -> None:
        self.record(tenant, "customers", customer.id, customer, version)
        with self.raw:
            self.raw.executemany(
                "INSERT INTO contacts VALUES (?, ?, ?, ?)",
                [(tenant, cp.address, cp.channel, customer.id) for cp in customer.contact_points],
            )

    def ticket(
        self,
        tenant: str,
        ticket: Ticket,
        *,
        version: int = 1,
        next_deadline: Any = None,
        published: int = 0,
    ) -> None:
        """The ticket's row, and its events in the outbox (the first ``published`` relayed)."""
        with self.raw:
            self.raw.execute(
                "INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    ticket.id,
                    version,
                    to_json(ticket),
                    ticket.status.value,
                    ticket.assignee_id,
                    ticket.group_id,
                    ticket.customer_id,
                    ticket.kind.value,
                    ticket.priority.value,
                    _us(ticket.updated_at),
                    _us(next_deadline),
                    len(ticket.timeline),
                ),
            )
            self.raw.executemany(
                "INSERT INTO outbox (tenant, ticket_id, sequence, event_type, document, published) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (tenant, ticket.id, i, event.type_name, text, int(i < published))
                    for i, (event, text) in enumerate(
                        zip(ticket.timeline, _event_texts(ticket), strict=True)
                    )
                ],
            )

    def close(self) -> None:
        self.raw.close()


def test_a_version_1_file_is_migrated_forward_in_place(path: Path, url: str) -> None:
    old = Version1File(path)
    customers = [
        Customer(
            id="cus_1",
            display_name="王芳",
            contact_points=(
                ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+86 138 0013 8000"),
                ContactPoint(channel=WECHAT, address="oXk3_wang"),
            ),
        ),
        Customer(
            id="cus_2",
            display_name="Li Lei",
            contact_points=(ContactPoint(channel=ChannelKind.EMAIL, address="li.lei@example.com"),),
        ),
    ]
    for customer in customers:
        old.customer("acme", customer, version=2)
    old.customer("other", attrs.evolve(customers[0], display_name="Other tenant's"))
    deadline = T0 + timedelta(hours=4)
    tickets = {
        "tkt_open": (sample_ticket("tkt_open", customer_id="cus_1", messages=2), deadline, 2),
        "tkt_new": (sample_ticket("tkt_new", customer_id="cus_2", messages=0), None, 0),
        "tkt_done": (
            sample_ticket("tkt_done", customer_id="cus_1", status=Status.SOLVED),
            None,
            4,
        ),
        "tkt_urgent": (
            sample_ticket(
                "tkt_urgent", customer_id="cus_2", priority=Priority.URGENT, assignee_id="agt_1"
            ),
            T0 + timedelta(hours=1),
            1,
        ),
    }
    for ticket, due, published in tickets.values():
        old.ticket("acme", ticket, version=3, next_deadline=due, published=published)
    old.ticket("other", sample_ticket("tkt_open", subject="Other tenant's"))
    policy = _policy()
    vip = Equals("customer.tier", "vip")
    old.record("acme", "config:sla_policy", "standard", policy, version=5)
    old.record("acme", "agents", "agt_1", Agent(id="agt_1", name="Li"))
    old.record("acme", "groups", "grp_l1", Group(id="grp_l1", name="Frontline"))
    old.close()

    with open_store(url, tenant="acme") as store:  # a store: no create needed
        for customer in customers:
            assert store.customers.get(customer.id).value == customer
        for ticket, _, _ in tickets.values():
            assert store.tickets.get(ticket.id).value == ticket
        assert store.config.get(SlaPolicy, "standard").value == policy
        assert store.agents.get("agt_1").value == Agent(id="agt_1", name="Li")
        assert store.groups.get("grp_l1").value == Group(id="grp_l1", name="Frontline")
        # Findable by their indexed queries.
        assert [s.value.id for s in store.customers.find_by_contact("+86 138 0013 8000")] == [
            "cus_1"
        ]
        assert [s.value.id for s in store.customers.find_by_contact("oXk3_wang", WECHAT)] == [
            "cus_1"
        ]
        assert [s.value.id for s in store.customers.find_by_contact("li.lei@example.com")] == [
            "cus_2"
        ]

        def ids(**filters: Any) -> list[str]:
            return [s.value.id for s in walk(lambda c: store.tickets.list(cursor=c, **filters))]

        assert ids() == sorted(tickets)
        assert ids(customer_id="cus_1") == ["tkt_done", "tkt_open"]
        assert ids(status=Status.SOLVED) == ["tkt_done"]
        assert ids(status=Status.NEW) == ["tkt_new"]
        assert ids(priority=Priority.URGENT) == ["tkt_urgent"] == ids(assignee_id="agt_1")
        assert ids(kind=TicketKind.CONSULTATION) == sorted(tickets)
        soon = store.tickets.due_before(T0 + timedelta(days=1))
        assert [s.value.id for s in soon.items] == ["tkt_urgent", "tkt_open"]
        assert store.tickets.count() == 4 and store.customers.count() == 2
        assert [n for n, _ in store.config.list(SlaPolicy).items] == ["standard"]
        # The outbox kept what was not yet relayed, in order, and nothing twice.
        expected = [
            (ticket.id, i, event)
            for ticket, _, published in tickets.values()
            for i, event in enumerate(ticket.timeline)
            if i >= published
        ]
        pending = store.outbox.pending(1000)
        assert [(m.ticket_id, m.sequence, m.event) for m in pending] == expected
        # The moved records take writes: a reply appends to the moved timeline.
        stored = store.tickets.get("tkt_open")
        reply = stored.value.add_message(at=T0 + timedelta(hours=2), actor=AGENT, body="Moved")
        store.tickets.save(reply, expected_version=stored.version)
        last = store.outbox.pending(1000)[-1]
        assert (last.ticket_id, last.sequence) == ("tkt_open", len(reply.timeline) - 1)
        store.config.add("vip", vip)
    with open_store(url, tenant="other") as other:
        assert other.customers.get("cus_1").value.display_name == "Other tenant's"
        assert other.tickets.get("tkt_open").value.subject == "Other tenant's"
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version FROM csdomain_schema").fetchall() == [(SCHEMA_VERSION,)]
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
        assert "contacts" not in tables
        for legacy in {"legacy_records", "legacy_tickets"} & tables:
            assert raw.execute(f"SELECT count(*) FROM {legacy}").fetchone() == (0,)
    finally:
        raw.close()
    with open_store(url, tenant="acme") as again:  # opening again moves nothing twice
        assert again.tickets.get("tkt_open").value == reply
        assert again.config.get(Equals, "vip").value == vip
        assert again.tickets.count() == 4
