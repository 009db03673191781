"""Storage: csdomain's stores against raw sqlite3 and raw psycopg, on the version 2 layout.

Tickets are stored as a state row (``c_tickets``: the indexed columns, a
version, a small state document) plus one row per timeline event
(``c_tickets__events``), and every new event goes to the ``outbox`` in the same
transaction. One run measures, on SQLite and PostgreSQL (and memory where it
makes sense), comparing each with the driver doing the same work:

1. **bulk save** of N tickets (100,000 by default, about 1.5 KB of JSON and 5
   events each, built with ``Ticket.open`` plus a few messages and status
   changes: seeded random statuses, assignees, groups, customers, kinds,
   priorities, tags, English and Chinese bodies; most with a
   ``next_deadline``), in one transaction into empty tables. csdomain: ``with
   store.transaction(): store.tickets.add_many(tickets, next_deadlines=...)``
   (which also writes the outbox); "csdomain add" (PostgreSQL, for reference)
   is ``add`` per ticket. Raw: ``executemany`` (or ``COPY``) of the same state
   and event rows, the event texts made by the hand-written dict code of
   ``bench/handwritten.py`` and ``orjson.dumps`` (timed too). "raw + outbox"
   also writes the outbox rows, so it writes every row csdomain writes.
2. **get by id**, **due_before** (first page) and **list** (every page by
   cursor) on SQLite, get on PostgreSQL, loading the ``Ticket``s. Raw: the
   state row, then its events in order, each built by hand with the csdomain
   event constructors (every field check) and ``Ticket(timeline=...)`` (the
   status-machine replay).
3. **save cost vs timeline length**: tickets of 10, 1,000 and 10,000 events
   are stored and loaded; then, interleaved across the sizes, one agent reply
   is added (``add_message``, not timed) and the ticket saved (``save``, timed
   alone, its own unit of work), each ticket saved at most ``--save-each``
   times. Median per save; the ratio 10,000 : 10 is the goal (memory for
   reference).
4. **deadline-only save**: ``save(ticket, expected_version=v,
   next_deadline=d)`` with no new event, against a raw ``UPDATE`` of the same
   columns (version, state document, the eight indexed columns) of the same
   table (``c_tickets`` of the store's own database, other rows), with the
   version check and a row-count check, autocommitted; and the same with 100
   saves or updates in one transaction (no commit per save).
5. **outbox relays**: 1, 2 and 4 relay processes (multiprocessing, spawn)
   over an outbox of M messages: each loops ``claim(relay=..., limit=100)``
   then ``ack``, until a claim comes back empty. Messages per second (claimed
   and acknowledged, from the start signal to the last relay's end) and the
   count of messages delivered twice (claimed by two relays, or claimed again)
   and lost (never acknowledged).

The raw contenders write into databases whose tables csdomain created
(``open_store(..., create=True)``, then closed), so they have the same columns,
types and indexes; every raw database is checked to hold the same rows as
csdomain's (a digest of each table: state rows, event rows and, for raw +
outbox, the outbox without its ids), and loaded tickets and pages are checked
equal. SQLite runs on files with WAL and ``synchronous=FULL`` on both sides.
PostgreSQL uses fresh schemas dropped at the end (``--postgres-url``, default
the CI server). Timings are medians of repeats interleaved across
contenders, with the garbage collector off inside the timed regions.

Run from the repository root (needs the ``fast`` and ``postgres`` extras)::

    .venv/bin/python bench/storage.py            # full run (several minutes)
    .venv/bin/python bench/storage.py --quick    # smoke run, about 30 s at most
    .venv/bin/python bench/storage.py --profile  # + steps and cProfile of 10,000 saves

Goals (from the issue): SQLite and PostgreSQL bulk save at least 40% of raw
sqlite3's / raw psycopg ``executemany``'s throughput; get at most 3x raw; a
save onto 10,000 events at most 1.5x one onto 10; a deadline-only save at
most 2x a raw UPDATE; relays deliver nothing twice and lose nothing.
``--check`` exits with status 1 when a goal is missed. In ``--quick`` mode the
PostgreSQL part is skipped, with a note, when no server answers; a full run
requires one (or ``--no-postgres``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import multiprocessing
import os
import platform
import pstats
import queue
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from handwritten import _event, event_doc
from machine import cpu, load_average, package_version, postgres_reachable

import csdomain
from csdomain import (
    Actor,
    Priority,
    Status,
    Ticket,
    TicketKind,
)
from csdomain.errors import RetryableStorageError
from csdomain.serialization import events_json, to_json
from csdomain.storage import Store, open_store
from csdomain.testing.storage import sample_ticket

try:
    import orjson
except ImportError:  # pragma: no cover - the fast extra installs it
    orjson = None  # type: ignore[assignment]

try:
    import psycopg
except ImportError:  # pragma: no cover - the postgres extra installs it
    psycopg = None  # type: ignore[assignment]

GOAL_SQLITE_SAVE = 0.40  # csdomain / raw sqlite3 bulk-save throughput, at least
GOAL_GET = 3.0  # csdomain get time / raw get time, at most
GOAL_POSTGRES_SAVE = 0.40  # csdomain / raw psycopg executemany throughput, at least
GOAL_LONG_SAVE = 1.5  # save onto 10,000 events / save onto 10, at most
GOAL_DEADLINE = 2.0  # deadline-only save / raw UPDATE, at most

TENANT = "acme"
SEED = 2026
PAGE = 100
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
UNSOLVED = ("new", "open", "pending", "on_hold")
LISTED = Status.OPEN  # the status listed page by page
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
SIZES = (10, 1_000, 10_000)  # timeline lengths of the save-cost tickets
RELAYS = (1, 2, 4)
RELAY_BATCH = 100
DEADLINE_BATCH = 100

# -- the tickets ---------------------------------------------------------------------------

SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
CHINESE = (
    "您好，我的订单一直显示已发货，但是物流信息三天没有更新了。",
    "请问可以帮我查一下退款进度吗？",
    "耳机左边没有声音，已经按照说明书重置过了。",
    "我们已经为您登记，会尽快安排处理。",
    "麻烦提供一下订单号和收货地址。",
    "非常抱歉给您带来不便，新的配件今天下午发出。",
)
ENGLISH = (
    "The invoice for last month shows the wrong billing address.",
    "Could you check why my login fails with error 403?",
    "We have escalated this to the warehouse team and will update you tomorrow.",
    "Please attach a screenshot of the error message.",
    "Thanks, that fixed it for me.",
    "The replacement arrived but the charger is missing.",
)
CHANNELS = ("email", "web", "chat", "phone", "wechat")
TAGS = ("billing", "shipping", "refund", "login", "vip", "hardware")
KINDS = tuple(TicketKind)
PRIORITIES, PRIORITY_WEIGHTS = tuple(Priority), (2, 6, 3, 1)
STATUSES, STATUS_WEIGHTS = tuple(Status), (15, 30, 20, 5, 15, 15)
DEADLINE_SHARE = 0.9


def _text(rng: random.Random, size: int) -> str:
    """About ``size`` bytes of English (60%) or Chinese (40%) text."""
    chinese = rng.random() < 0.4
    pool = CHINESE if chinese else ENGLISH
    out = ""
    while len(out.encode()) < size:
        out += rng.choice(pool) + ("" if chinese else " ")
    return out[: size // 3 if chinese else size].strip()


def build_ticket(i: int, rng: random.Random) -> tuple[Ticket, datetime | None]:
    """Ticket number ``i``, its status chosen first and reached by messages and moves."""
    at = T0 + timedelta(minutes=rng.randrange(60 * 24 * 60))
    customer = f"cus_{rng.randrange(20_000):05d}"
    agent = Actor.agent(f"agt_{rng.randrange(60):02d}")
    ticket = Ticket.open(
        id=f"tkt_{i:07d}",
        customer_id=customer,
        channel=rng.choice(CHANNELS),
        subject=_text(rng, rng.randrange(16, 44)),
        at=at,
        kind=rng.choice(KINDS),
        priority=rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
        group_id=f"grp_{rng.randrange(8)}",
        assignee_id=None if rng.random() < 0.1 else agent.id,
        tags=rng.sample(TAGS, rng.randrange(3)),
        custom_fields={"order_no": f"DD{rng.randrange(10**10):010d}"} if rng.random() < 0.6 else {},
        description=_text(rng, rng.randrange(30, 130)),
    )
    deadline = at + timedelta(minutes=rng.randrange(30, 5 * 24 * 60))
    next_deadline = deadline if rng.random() < DEADLINE_SHARE else None
    target = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    step = timedelta(minutes=rng.randrange(5, 240))
    if target is Status.NEW:
        return ticket, next_deadline
    at += step  # the agent's first public reply opens the ticket
    ticket = ticket.add_message(at=at, actor=agent, body=_text(rng, rng.randrange(20, 80)))
    if target is Status.OPEN:
        at += step
        author = Actor.customer(customer)
        ticket = ticket.add_message(at=at, actor=author, body=_text(rng, rng.randrange(20, 60)))
    elif target in (Status.PENDING, Status.ON_HOLD):
        at += step
        ticket = ticket.change_status(target, at=at, actor=agent, reason="waiting")
    else:
        at += step
        author = Actor.customer(customer)
        ticket = ticket.add_message(at=at, actor=author, body=_text(rng, rng.randrange(20, 60)))
        at += step
        ticket = ticket.change_status(Status.SOLVED, at=at, actor=agent)
        if target is Status.CLOSED:
            at += timedelta(days=3)
            ticket = ticket.change_status(Status.CLOSED, at=at, actor=Actor.system("auto_close"))
    return ticket, next_deadline


def build_tickets(n: int) -> list[tuple[Ticket, datetime | None]]:
    rng = random.Random(SEED)
    return [build_ticket(i, rng) for i in range(n)]


if orjson is not None:

    def dumps(doc: dict[str, Any]) -> str:
        return orjson.dumps(doc).decode("utf-8")

    loads: Callable[[str | bytes], Any] = orjson.loads
else:  # pragma: no cover - without the fast extra, as csdomain does

    def dumps(doc: dict[str, Any]) -> str:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    loads = json.loads


def micros(value: datetime) -> int:
    return (value - EPOCH) // MICROSECOND


# -- rows of the version 2 layout, written by hand -----------------------------------------

STATE = "c_tickets"
EVENTS = "c_tickets__events"
OUTBOX = "outbox"
COLUMNS = (
    "status",
    "assignee_id",
    "group_id",
    "customer_id",
    "kind",
    "priority",
    "updated_at",
    "next_deadline",
)
STATE_ALL = ("tenant", "key", "version", "document", *COLUMNS)
EVENT_ALL = ("tenant", "key", "sequence", "document")
OUTBOX_NEW = ("tenant", "stream", "key", "sequence", "event_type", "document")
OUTBOX_ALL = (*OUTBOX_NEW, "state", "attempts")  # a new message: pending, 0 attempts
TABLES = {STATE: STATE_ALL, EVENTS: EVENT_ALL, OUTBOX: OUTBOX_ALL}
ORDER = {STATE: "tenant, key", EVENTS: "tenant, key, sequence", OUTBOX: "id"}


def state_text(events: int, next_deadline: int | None) -> str:
    """The state row's document, as csdomain writes it: the event count and the deadline."""
    deadline = "null" if next_deadline is None else str(next_deadline)
    return f'{{"events":{events},"next_deadline":{deadline}}}'


def state_values(t: Ticket, next_deadline: datetime | None) -> tuple[Any, ...]:
    """``(document, status, ..., next_deadline)``: the state row after the key and version."""
    deadline = None if next_deadline is None else micros(next_deadline)
    return (
        state_text(len(t.timeline), deadline),
        t.status.value,
        t.assignee_id,
        t.group_id,
        t.customer_id,
        t.kind.value,
        t.priority.value,
        micros(t.updated_at),
        deadline,
    )


@dataclass
class Rows:
    """The rows a bulk save of some tickets writes, per table."""

    states: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)


def rows_of(tickets: Iterable[tuple[Ticket, datetime | None]], outbox: bool) -> Rows:
    """Each event serialized once (hand-written dict, orjson), for its row and its message."""
    rows = Rows()
    for t, d in tickets:
        key = t.id
        rows.states.append((TENANT, key, 1, *state_values(t, d)))
        texts = [dumps(event_doc(e)) for e in t.timeline]
        rows.events.extend([(TENANT, key, i, text) for i, text in enumerate(texts)])
        if outbox:
            rows.outbox.extend(
                [
                    (TENANT, "tickets", key, i, e.type_name, text)
                    for i, (e, text) in enumerate(zip(t.timeline, texts, strict=True))
                ]
            )
    return rows


def insert_sql(table: str, columns: Sequence[str], mark: str, json_at: int | None = None) -> str:
    values = [mark] * len(columns)
    if json_at is not None:
        values[json_at] += "::json"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"


def update_sql(table: str, columns: Sequence[str], mark: str, cast: str = "") -> str:
    """An optimistic UPDATE of the state document and ``columns``, by tenant, key and version."""
    sets = ", ".join([f"document = {mark}{cast}", *(f"{c} = {mark}" for c in columns)])
    return (
        f"UPDATE {table} SET version = version + 1, {sets}"
        f" WHERE tenant = {mark} AND key = {mark} AND version = {mark}"
    )


def digest(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """How many rows, and a hash of all of them in order (tables too big to hold twice)."""
    h = hashlib.blake2b(digest_size=16)
    n = 0
    for row in rows:
        h.update(repr(tuple(row)).encode("utf-8"))
        n += 1
    return n, h.hexdigest()


def group_events(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = {}
    for key, text in rows:
        by_key.setdefault(key, []).append(text)
    return by_key


def ticket_from_texts(texts: Iterable[str]) -> Ticket:
    """The hand-written load: each event built by its constructor, then the replay."""
    return Ticket(timeline=tuple(_event(loads(text)) for text in texts))


# -- timing --------------------------------------------------------------------------------


@dataclass
class Result:
    """Seconds per timed run, and the size of one run (rows or calls)."""

    per_run: int
    samples: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.samples)

    @property
    def per_second(self) -> float:
        return self.per_run / self.seconds

    @property
    def us(self) -> float:
        return self.seconds / self.per_run * 1e6


@contextmanager
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def timed(fn: Callable[[], object]) -> float:
    with no_gc():
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0


def median_us(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1e6


# -- SQLite --------------------------------------------------------------------------------

SQLITE_STATE = insert_sql(STATE, STATE_ALL, "?")
SQLITE_EVENT = insert_sql(EVENTS, EVENT_ALL, "?")
SQLITE_OUTBOX = insert_sql(OUTBOX, OUTBOX_NEW, "?")
SQLITE_GET = f"SELECT version, document FROM {STATE} WHERE tenant = ? AND key = ?"
SQLITE_GET_EVENTS = (
    f"SELECT document FROM {EVENTS} WHERE tenant = ? AND key = ? AND sequence < ? ORDER BY sequence"
)
SQLITE_DUE = (
    f"SELECT next_deadline, key, version, document FROM {STATE} WHERE tenant = ?"
    f" AND status IN ({', '.join('?' * len(UNSOLVED))}) AND next_deadline IS NOT NULL"
    " AND next_deadline < ? ORDER BY next_deadline, key LIMIT ?"
)
SQLITE_LIST_FIRST = (
    f"SELECT key, version, document FROM {STATE} WHERE tenant = ? AND status = ?"
    " ORDER BY key LIMIT ?"
)
SQLITE_LIST_NEXT = (
    f"SELECT key, version, document FROM {STATE} WHERE tenant = ? AND status = ? AND key > ?"
    " ORDER BY key LIMIT ?"
)


def sqlite_url(path: str) -> str:
    return f"sqlite:///{path}"  # path is absolute: sqlite:////tmp/...


def sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL").fetchall()
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def sqlite_raw_open(path: str) -> sqlite3.Connection:
    """A connection to a new database whose tables csdomain made (then closed its store)."""
    open_store(sqlite_url(path), tenant=TENANT, create=True).close()
    return sqlite_connect(path)


def sqlite_raw_save(
    conn: sqlite3.Connection, tickets: list[tuple[Ticket, datetime | None]], outbox: bool
) -> None:
    rows = rows_of(tickets, outbox)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(SQLITE_STATE, rows.states)
    conn.executemany(SQLITE_EVENT, rows.events)
    if outbox:
        conn.executemany(SQLITE_OUTBOX, rows.outbox)
    conn.execute("COMMIT")


def sqlite_raw_fetch(conn: sqlite3.Connection, key: str) -> tuple[int, list[str]]:
    found = conn.execute(SQLITE_GET, (TENANT, key)).fetchone()
    if found is None:
        raise KeyError(key)
    count = loads(found[1])["events"]
    rows = conn.execute(SQLITE_GET_EVENTS, (TENANT, key, count)).fetchall()
    return found[0], [row[0] for row in rows]


def sqlite_raw_get(conn: sqlite3.Connection, key: str) -> tuple[Ticket, int]:
    version, texts = sqlite_raw_fetch(conn, key)
    return ticket_from_texts(texts), version


def sqlite_raw_load(conn: sqlite3.Connection, keys: list[str]) -> list[Ticket]:
    """The tickets of one page: one read of all their events."""
    if not keys:
        return []
    by_key = group_events(
        conn.execute(
            f"SELECT key, document FROM {EVENTS} WHERE tenant = ?"
            f" AND key IN ({', '.join('?' * len(keys))}) ORDER BY key, sequence",
            (TENANT, *keys),
        )
    )
    return [ticket_from_texts(by_key[key]) for key in keys]


def sqlite_raw_due(conn: sqlite3.Connection, bound: int) -> list[Ticket]:
    rows = conn.execute(SQLITE_DUE, (TENANT, *UNSOLVED, bound, PAGE + 1)).fetchall()
    return sqlite_raw_load(conn, [row[1] for row in rows[:PAGE]])


def sqlite_raw_list(conn: sqlite3.Connection, status: str) -> list[str]:
    keys: list[str] = []
    rows = conn.execute(SQLITE_LIST_FIRST, (TENANT, status, PAGE + 1)).fetchall()
    while True:
        page = sqlite_raw_load(conn, [row[0] for row in rows[:PAGE]])
        keys.extend(t.id for t in page)
        if len(rows) <= PAGE:
            return keys
        rows = conn.execute(SQLITE_LIST_NEXT, (TENANT, status, keys[-1], PAGE + 1)).fetchall()


def csdomain_save(store: Store, tickets: list[tuple[Ticket, datetime | None]]) -> None:
    """The library's bulk load: ``add_many`` (batched on PostgreSQL) in one unit of work."""
    with store.transaction():
        store.tickets.add_many(
            [t for t, _ in tickets], next_deadlines={t.id: d for t, d in tickets if d}
        )


def csdomain_save_each(store: Store, tickets: list[tuple[Ticket, datetime | None]]) -> None:
    """``add`` per ticket in one unit of work: an app saving tickets one by one."""
    with store.transaction():
        for t, d in tickets:
            store.tickets.add(t, next_deadline=d)


def csdomain_list(store: Store, status: Status) -> list[str]:
    keys: list[str] = []
    cursor = None
    while True:
        page = store.tickets.list(status=status, limit=PAGE, cursor=cursor)
        keys.extend(s.value.id for s in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return keys


def sqlite_digests(path: str, outbox: bool) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [STATE, EVENTS, *([OUTBOX] if outbox else [])]
        return {
            table: digest(
                conn.execute(
                    f"SELECT {', '.join(TABLES[table])} FROM {table} ORDER BY {ORDER[table]}"
                )
            )
            for table in tables
        }
    finally:
        conn.close()


def check_same(
    mine: dict[str, tuple[int, str]], theirs: dict[str, tuple[int, str]], label: str
) -> None:
    """The raw database holds the rows csdomain's holds (raise otherwise)."""
    for table, found in theirs.items():
        if mine[table] != found:
            raise AssertionError(
                f"{label}: {table} differs from csdomain's ({found[0]:,} rows against "
                f"{mine[table][0]:,})"
            )


@dataclass
class SqliteResults:
    save: dict[str, Result]
    get: dict[str, Result]
    due: dict[str, Result]
    listing: dict[str, Result]
    listed: int
    due_rows: int
    rows: dict[str, int]


def run_sqlite(
    tickets: list[tuple[Ticket, datetime | None]],
    work: str,
    save_repeat: int,
    read_repeat: int,
    gets: int,
    due_calls: int,
) -> SqliteResults:
    n = len(tickets)
    paths: dict[str, str] = {}
    Opened = tuple[Callable[[], object], Callable[[], object]]  # noqa: N806 - (run, close)

    def csdomain_open(path: str) -> Opened:
        store = open_store(sqlite_url(path), tenant=TENANT, create=True)
        return lambda: csdomain_save(store, tickets), store.close

    def raw_open(path: str) -> Opened:
        conn = sqlite_raw_open(path)
        return lambda: sqlite_raw_save(conn, tickets, outbox=False), conn.close

    def raw_outbox_open(path: str) -> Opened:
        conn = sqlite_raw_open(path)
        return lambda: sqlite_raw_save(conn, tickets, outbox=True), conn.close

    openers = {"csdomain": csdomain_open, "raw sqlite3": raw_open, "raw + outbox": raw_outbox_open}
    save = {name: Result(n) for name in openers}
    for r in range(save_repeat):
        for name, opener in openers.items():
            path = os.path.join(work, f"{name.replace(' ', '_').replace('+', 'plus')}-{r}.db")
            run, close = opener(path)  # the schema is created before the timing
            save[name].samples.append(timed(run))
            close()  # not timed: closing the last connection checkpoints the WAL
            old = paths.get(name)
            paths[name] = path
            if old is not None:  # keep the last database of each, for the reads
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(old + suffix):
                        os.remove(old + suffix)
    mine = sqlite_digests(paths["csdomain"], outbox=True)
    check_same(mine, sqlite_digests(paths["raw sqlite3"], outbox=False), "raw sqlite3")
    check_same(mine, sqlite_digests(paths["raw + outbox"], outbox=True), "raw + outbox")

    # Reads: csdomain on its database, raw on the raw one.
    store = open_store(sqlite_url(paths["csdomain"]), tenant=TENANT)
    conn = sqlite_connect(paths["raw sqlite3"])
    rng = random.Random(SEED + 1)
    ids = [t.id for t, _ in rng.sample(tickets, min(gets, n))]
    deadlines = sorted(d for t, d in tickets if d is not None)
    bound_at = deadlines[len(deadlines) // 2]
    bound = micros(bound_at)
    try:
        for key in ids[:50]:  # loaded tickets are equal, and equal to what was saved
            got = store.tickets.get(key)
            theirs = sqlite_raw_get(conn, key)
            if got.value != theirs[0] or got.version != theirs[1]:
                raise AssertionError(f"raw get of {key} differs from csdomain's")
        page = store.tickets.due_before(bound_at, limit=PAGE)
        if [s.value for s in page.items] != sqlite_raw_due(conn, bound):
            raise AssertionError("raw due_before page differs from csdomain's")
        listed = csdomain_list(store, LISTED)
        if listed != sqlite_raw_list(conn, LISTED.value):
            raise AssertionError("raw listing differs from csdomain's")
        getters: dict[str, Callable[[str], object]] = {
            "csdomain": store.tickets.get,
            "raw sqlite3": lambda key: sqlite_raw_get(conn, key),
            "raw fetch only": lambda key: sqlite_raw_fetch(conn, key),
        }
        dues: dict[str, Callable[[], object]] = {
            "csdomain": lambda: store.tickets.due_before(bound_at, limit=PAGE),
            "raw sqlite3": lambda: sqlite_raw_due(conn, bound),
        }
        lists: dict[str, Callable[[], object]] = {
            "csdomain": lambda: csdomain_list(store, LISTED),
            "raw sqlite3": lambda: sqlite_raw_list(conn, LISTED.value),
        }
        get = {name: Result(len(ids)) for name in getters}
        due = {name: Result(due_calls) for name in dues}
        listing = {name: Result(len(listed)) for name in lists}
        for _ in range(read_repeat):
            for name, getter in getters.items():
                get[name].samples.append(timed(lambda g=getter: [g(k) for k in ids]))
            for name, fn in dues.items():
                due[name].samples.append(timed(lambda f=fn: [f() for _ in range(due_calls)]))
            for name, fn in lists.items():
                listing[name].samples.append(timed(fn))
    finally:
        store.close()
        conn.close()
    rows = {table: count for table, (count, _) in mine.items()}
    return SqliteResults(save, get, due, listing, len(listed), len(page.items), rows)


# -- PostgreSQL ----------------------------------------------------------------------------


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def checkpoint(conn: Any) -> None:
    """Write out dirty pages before a timed run, when allowed (superusers, pg_checkpoint)."""
    with suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


def postgres_make(url: str, schema: str) -> None:
    """A new schema whose tables csdomain made (its store then closed)."""
    open_store(with_schema(url, schema), tenant=TENANT, create=True).close()


def postgres_drop(admin: Any, schema: str) -> None:
    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_digests(conn: Any, schema: str, outbox: bool) -> dict[str, tuple[int, str]]:
    out = {}
    for table in [STATE, EVENTS, *([OUTBOX] if outbox else [])]:
        columns = ", ".join("document::text" if c == "document" else c for c in TABLES[table])
        with conn.cursor() as cur:
            out[table] = digest(
                cur.stream(f'SELECT {columns} FROM "{schema}".{table} ORDER BY {ORDER[table]}')
            )
    return out


def postgres_raw_executemany(
    conn: Any, schema: str, tickets: list[tuple[Ticket, datetime | None]], outbox: bool
) -> None:
    rows = rows_of(tickets, outbox)
    s = f'"{schema}".'
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(insert_sql(s + STATE, STATE_ALL, "%s"), rows.states)
        cur.executemany(insert_sql(s + EVENTS, EVENT_ALL, "%s"), rows.events)
        if outbox:
            cur.executemany(insert_sql(s + OUTBOX, OUTBOX_NEW, "%s"), rows.outbox)


def postgres_raw_copy(
    conn: Any, schema: str, tickets: list[tuple[Ticket, datetime | None]]
) -> None:
    rows = rows_of(tickets, outbox=False)
    with conn.transaction(), conn.cursor() as cur:
        for table, table_rows in ((STATE, rows.states), (EVENTS, rows.events)):
            columns = ", ".join(TABLES[table])
            with cur.copy(f'COPY "{schema}".{table} ({columns}) FROM STDIN') as copy:
                for row in table_rows:
                    copy.write_row(row)


def postgres_raw_get(conn: Any, schema: str, key: str) -> tuple[Ticket, int]:
    with conn.cursor() as cur:
        cur.execute(
            f'SELECT version, document::text FROM "{schema}".{STATE}'
            " WHERE tenant = %s AND key = %s",
            (TENANT, key),
        )
        found = cur.fetchone()
        if found is None:
            raise KeyError(key)
        count = loads(found[1])["events"]
        cur.execute(
            f'SELECT document::text FROM "{schema}".{EVENTS}'
            " WHERE tenant = %s AND key = %s AND sequence < %s ORDER BY sequence",
            (TENANT, key, count),
        )
        texts = [row[0] for row in cur.fetchall()]
    return ticket_from_texts(texts), found[0]


def postgres_server(admin: Any) -> str:
    server = str(admin.execute("SHOW server_version").fetchone()[0])
    settings = {
        name: str(admin.execute(f"SHOW {name}").fetchone()[0])
        for name in ("synchronous_commit", "fsync", "shared_buffers")
    }
    return server + " (" + ", ".join(f"{k}={v}" for k, v in settings.items()) + ")"


@dataclass
class PostgresResults:
    save: dict[str, Result]
    get: dict[str, Result]
    server: str


def run_postgres(
    tickets: list[tuple[Ticket, datetime | None]],
    url: str,
    save_repeat: int,
    read_repeat: int,
    gets: int,
) -> PostgresResults:
    n = len(tickets)
    token = uuid.uuid4().hex[:8]
    lib_schema = f"bench_storage_csdomain_{token}"
    raw_schemas = {
        "raw executemany": f"bench_storage_many_{token}",
        "raw COPY": f"bench_storage_copy_{token}",
        "raw executemany + outbox": f"bench_storage_outbox_{token}",
    }
    admin = psycopg.connect(url, autocommit=True)
    store: Store | None = None
    raw = psycopg.connect(url, autocommit=True)
    try:
        server = postgres_server(admin)
        for schema in raw_schemas.values():
            postgres_make(url, schema)
        store = open_store(with_schema(url, lib_schema), tenant=TENANT, create=True)
        the_store = store
        schemas = {"csdomain": lib_schema, "csdomain add": lib_schema, **raw_schemas}
        savers: dict[str, Callable[[], object]] = {
            "csdomain": lambda: csdomain_save(the_store, tickets),
            "csdomain add": lambda: csdomain_save_each(the_store, tickets),
            "raw executemany": lambda: postgres_raw_executemany(
                raw, raw_schemas["raw executemany"], tickets, outbox=False
            ),
            "raw COPY": lambda: postgres_raw_copy(raw, raw_schemas["raw COPY"], tickets),
            "raw executemany + outbox": lambda: postgres_raw_executemany(
                raw, raw_schemas["raw executemany + outbox"], tickets, outbox=True
            ),
        }
        save = {name: Result(n) for name in savers}
        for _ in range(save_repeat):
            for name, run in savers.items():
                # Each run starts from empty tables, with no dirty pages left by the last one.
                s = f'"{schemas[name]}".'
                admin.execute(f"TRUNCATE {s}{STATE}, {s}{EVENTS}, {s}{OUTBOX}")
                checkpoint(admin)
                save[name].samples.append(timed(run))
        # The last run of "csdomain" is "csdomain add": the same rows.
        mine = postgres_digests(admin, lib_schema, outbox=True)
        for name, schema in raw_schemas.items():
            theirs = postgres_digests(admin, schema, outbox=name.endswith("outbox"))
            check_same(mine, theirs, f"PostgreSQL {name}")
        schema = raw_schemas["raw executemany"]
        rng = random.Random(SEED + 2)
        ids = [t.id for t, _ in rng.sample(tickets, min(gets, n))]
        for key in ids[:50]:
            stored = the_store.tickets.get(key)
            if (stored.value, stored.version) != postgres_raw_get(raw, schema, key):
                raise AssertionError(f"PostgreSQL raw get of {key} differs from csdomain's")
        getters: dict[str, Callable[[str], object]] = {
            "csdomain": the_store.tickets.get,
            "raw psycopg": lambda key: postgres_raw_get(raw, schema, key),
        }
        get = {name: Result(len(ids)) for name in getters}
        for _ in range(read_repeat):
            for name, getter in getters.items():
                get[name].samples.append(timed(lambda g=getter: [g(k) for k in ids]))
        return PostgresResults(save, get, server)
    finally:
        if store is not None:
            store.close()
        raw.close()
        for schema in (lib_schema, *raw_schemas.values()):
            postgres_drop(admin, schema)
        admin.close()


# -- databases for the save and relay parts ------------------------------------------------


class RawSqlite:
    """The driver on a store's own SQLite file (a connection of its own)."""

    mark = "?"

    def __init__(self, path: str) -> None:
        self.conn = sqlite_connect(path)

    def table(self, name: str) -> str:
        return name

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        return self.conn.execute(sql, params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class RawPostgres:
    """The driver on a store's own PostgreSQL schema (autocommit unless in a transaction)."""

    mark = "%s"

    def __init__(self, url: str, schema: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.schema = schema

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}'

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        return int(self.conn.execute(sql, params).rowcount)

    def transaction(self) -> AbstractContextManager[Any]:
        return self.conn.transaction()

    def close(self) -> None:
        self.conn.close()


Raw = RawSqlite | RawPostgres


@dataclass
class Target:
    """A fresh database for one adapter: the store's URL, a raw connection to its tables."""

    label: str
    url: str
    raw: Callable[[], Raw] | None = None  # None: no driver to compare with (memory)
    drop: Callable[[], None] = lambda: None


class Targets:
    """Makes fresh databases (files, schemas) on each adapter, and removes them."""

    def __init__(self, work: str, postgres_url: str | None) -> None:
        self.work = work
        self.postgres_url = postgres_url
        self.count = 0
        self.schemas: list[str] = []

    def labels(self, memory: bool) -> list[str]:
        labels = ["memory"] if memory else []
        labels.append("SQLite")
        if self.postgres_url is not None:
            labels.append("PostgreSQL")
        return labels

    def make(self, label: str) -> Target:
        self.count += 1
        if label == "memory":
            return Target(label, "memory:")
        if label == "SQLite":
            path = os.path.join(self.work, f"target-{self.count}.db")

            def drop() -> None:
                for suffix in ("", "-wal", "-shm"):
                    with suppress(FileNotFoundError):
                        os.remove(path + suffix)

            return Target(label, sqlite_url(path), lambda: RawSqlite(path), drop)
        url = self.postgres_url
        assert url is not None
        schema = f"bench_storage_{self.count}_{uuid.uuid4().hex[:8]}"
        self.schemas.append(schema)

        def drop_schema() -> None:
            with psycopg.connect(url, autocommit=True) as admin:
                postgres_drop(admin, schema)

        return Target(
            label, with_schema(url, schema), lambda: RawPostgres(url, schema), drop_schema
        )


def with_id(ticket: Ticket, id: str) -> Ticket:
    """The same timeline under another id (the events after the first are shared)."""
    created = attrs.evolve(ticket.timeline[0], ticket_id=id)
    return Ticket(timeline=(created, *ticket.timeline[1:]))


def copies_of(events: int, copies: int, prefix: str) -> list[Ticket]:
    """``copies`` tickets of ``events`` events each: a description and agent replies."""
    base = sample_ticket(f"{prefix}_base", messages=events - 3)
    if len(base.timeline) != events:
        raise AssertionError(f"built {len(base.timeline)} events, not {events}")
    return [with_id(base, f"{prefix}_{i:04d}") for i in range(copies)]


AGENT = Actor.agent("agt_bench")


# -- save cost against timeline length -----------------------------------------------------


@dataclass
class SaveCost:
    """Per timeline size: seconds per save (wall, and CPU of the saving thread), and of
    the ``add_message`` before it; the shortest and longest timelines saved."""

    wall: dict[int, list[float]]
    cpu: dict[int, list[float]]
    add: dict[int, list[float]]
    lengths: dict[int, tuple[int, int]]

    def ratio(self) -> float:
        return statistics.median(self.wall[SIZES[-1]]) / statistics.median(self.wall[SIZES[0]])


def run_save_cost(target: Target, copies: int, saves_each: int) -> SaveCost:
    """Store ``copies`` tickets of each size, load them, then save one event at a time."""
    store = open_store(target.url, tenant=TENANT, create=True)
    try:
        current: dict[int, list[tuple[Ticket, int]]] = {}
        for size in SIZES:
            built = copies_of(size, copies, f"len{size}")
            with store.transaction():
                store.tickets.add_many(built)
            loaded = [store.tickets.get(t.id) for t in built]
            if [s.value for s in loaded] != built:
                raise AssertionError(f"{target.label}: loaded tickets of {size} events differ")
            current[size] = [(s.value, s.version) for s in loaded]
        wall: dict[int, list[float]] = {size: [] for size in SIZES}
        cpu: dict[int, list[float]] = {size: [] for size in SIZES}
        add: dict[int, list[float]] = {size: [] for size in SIZES}
        clock, thread_clock = time.perf_counter, time.thread_time
        with no_gc():
            for r in range(copies * saves_each):
                for size in SIZES:  # interleaved, so drift hits every size alike
                    k = r % copies
                    ticket, version = current[size][k]
                    a0 = clock()
                    ticket = ticket.add_message(
                        at=ticket.updated_at + timedelta(minutes=1),
                        actor=AGENT,
                        body=f"Following up on your request, update {r}.",
                    )
                    a1 = clock()
                    c0, w0 = thread_clock(), clock()
                    store.tickets.save(ticket, expected_version=version)
                    w1, c1 = clock(), thread_clock()
                    add[size].append(a1 - a0)
                    wall[size].append(w1 - w0)
                    cpu[size].append(c1 - c0)
                    current[size][k] = (ticket, version + 1)
        for size in SIZES:  # what was saved is what is stored
            ticket, version = current[size][-1]
            stored = store.tickets.get(ticket.id)
            if (stored.value, stored.version) != (ticket, version):
                raise AssertionError(f"{target.label}: saved ticket of {size} events differs")
        # Each ticket got one event per save: its timeline went from size + 1 to size + saves_each.
        lengths = {size: (size + 1, size + saves_each) for size in SIZES}
    finally:
        store.close()
    return SaveCost(wall, cpu, add, lengths)


# -- deadline-only saves against a raw UPDATE ----------------------------------------------


@dataclass
class DeadlineCost:
    """Seconds per call, by contender: one call per transaction, and calls in a batch."""

    single: dict[str, list[float]]
    batch: dict[str, list[float]]


DEADLINE_CONTENDERS = ("csdomain save", "raw UPDATE, same columns", "raw UPDATE, deadline only")


def run_deadline(target: Target, repeat: int, batches: int) -> DeadlineCost:
    """csdomain's deadline-only save and raw UPDATEs, on disjoint tickets of one table."""
    assert target.raw is not None
    store = open_store(target.url, tenant=TENANT, create=True)
    raw = target.raw()
    try:
        mine = copies_of(8, DEADLINE_BATCH, "dl_mine")
        theirs = copies_of(8, DEADLINE_BATCH, "dl_raw")
        with store.transaction():
            store.tickets.add_many([*mine, *theirs])
        versions = {t.id: 1 for t in (*mine, *theirs)}
        table = raw.table(STATE)
        same_columns = update_sql(table, COLUMNS, raw.mark)
        deadline_only = update_sql(table, ("next_deadline",), raw.mark)

        def csdomain_save(t: Ticket, d: datetime) -> None:
            store.tickets.save(t, expected_version=versions[t.id], next_deadline=d)
            versions[t.id] += 1

        def raw_same(t: Ticket, d: datetime) -> None:
            params = (*state_values(t, d), TENANT, t.id, versions[t.id])
            if raw.execute(same_columns, params) != 1:
                raise AssertionError(f"raw UPDATE of {t.id} changed no row")
            versions[t.id] += 1

        def raw_deadline(t: Ticket, d: datetime) -> None:
            deadline = micros(d)
            params = (state_text(len(t.timeline), deadline), deadline, TENANT, t.id, versions[t.id])
            if raw.execute(deadline_only, params) != 1:
                raise AssertionError(f"raw UPDATE of {t.id} changed no row")
            versions[t.id] += 1

        runs: dict[str, tuple[Callable[[Ticket, datetime], None], list[Ticket], Any]] = {
            "csdomain save": (csdomain_save, mine, store.transaction),
            "raw UPDATE, same columns": (raw_same, theirs, raw.transaction),
            "raw UPDATE, deadline only": (raw_deadline, theirs, raw.transaction),
        }
        single: dict[str, list[float]] = {name: [] for name in runs}
        batch: dict[str, list[float]] = {name: [] for name in runs}
        clock = time.perf_counter
        last = T0
        with no_gc():
            for r in range(repeat):
                last = T0 + timedelta(hours=1, seconds=r)
                for name, (fn, tickets, _) in runs.items():
                    ticket = tickets[r % len(tickets)]
                    t0 = clock()
                    fn(ticket, last)
                    single[name].append(clock() - t0)
            for b in range(batches):
                last = T0 + timedelta(hours=2, seconds=b)
                for name, (fn, tickets, transaction) in runs.items():
                    t0 = clock()
                    with transaction():
                        for ticket in tickets:
                            fn(ticket, last)
                    batch[name].append((clock() - t0) / len(tickets))
        # Every save and UPDATE landed: versions, and the deadline column.
        for ticket in (mine[0], theirs[0]):
            if store.tickets.get(ticket.id).version != versions[ticket.id]:
                raise AssertionError(f"{target.label}: {ticket.id} has another version")
        check = f"SELECT next_deadline FROM {table} WHERE tenant = {raw.mark} AND key = {raw.mark}"
        found = raw.conn.execute(check, (TENANT, mine[-1].id)).fetchone()
        if found is None or found[0] != micros(last):
            raise AssertionError(f"{target.label}: the saved next_deadline is not stored")
    finally:
        raw.close()
        store.close()
    return DeadlineCost(single, batch)


# -- outbox relays -------------------------------------------------------------------------


def relay_worker(url: str, relay: str, limit: int, ready: Any, start: Any, results: Any) -> None:
    """One relay process: claim, (publish nothing), ack, until a claim comes back empty."""
    try:
        store = open_store(url, tenant=TENANT)
        claimed: list[int] = []
        acked = again = retries = 0
        ready.put(relay)
        start.wait()
        try:
            while True:
                try:
                    batch = store.outbox.claim(relay=relay, limit=limit)
                except RetryableStorageError:
                    retries += 1
                    continue
                if not batch:
                    break
                ids = [m.id for m in batch]
                claimed.extend(ids)
                again += sum(m.attempts > 1 for m in batch)
                while True:
                    try:
                        acked += store.outbox.ack(ids, relay=relay)
                        break
                    except RetryableStorageError:
                        retries += 1
            ended = time.monotonic()
        finally:
            store.close()
        results.put((relay, claimed, acked, again, retries, ended, None))
    except BaseException as exc:  # the parent reports it instead of waiting forever
        results.put((relay, [], 0, 0, 0, 0.0, f"{type(exc).__name__}: {exc}"))


@dataclass
class RelayRun:
    label: str
    relays: int
    messages: int
    seconds: float
    per_relay: list[int]
    twice: int
    lost: int
    left: int
    again: int
    retries: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def relay_tickets(messages: int) -> list[tuple[Ticket, datetime | None]]:
    """Tickets of the bulk-save kind whose events make at least ``messages`` messages."""
    rng = random.Random(SEED + 3)
    out: list[tuple[Ticket, datetime | None]] = []
    total = 0
    while total < messages:
        ticket, deadline = build_ticket(len(out), rng)
        out.append((ticket, deadline))
        total += len(ticket.timeline)
    return out


def run_relays(
    targets: Targets, label: str, messages: int, counts: Sequence[int]
) -> list[RelayRun]:
    tickets = relay_tickets(messages)
    total = sum(len(t.timeline) for t, _ in tickets)
    context = multiprocessing.get_context("spawn")
    runs = []
    for count in counts:
        target = targets.make(label)
        processes: list[Any] = []
        try:
            store = open_store(target.url, tenant=TENANT, create=True)
            try:
                csdomain_save(store, tickets)
            finally:
                store.close()
            ready, results, start = context.Queue(), context.Queue(), context.Event()
            names = [f"relay-{i + 1}" for i in range(count)]
            processes = [
                context.Process(
                    target=relay_worker, args=(target.url, name, RELAY_BATCH, ready, start, results)
                )
                for name in names
            ]
            for process in processes:
                process.start()
            for _ in names:
                try:
                    ready.get(timeout=120)
                except queue.Empty:
                    failed = results.get(timeout=1) if not results.empty() else None
                    raise AssertionError(f"{label}: a relay did not start: {failed}") from None
            began = time.monotonic()
            start.set()
            reports = []
            for _ in names:
                try:
                    reports.append(results.get(timeout=900))
                except queue.Empty:
                    raise AssertionError(f"{label}: a relay did not finish in 900 s") from None
            for process in processes:
                process.join(timeout=60)
            errors = [r[6] for r in reports if r[6] is not None]
            if errors:
                raise AssertionError(f"{label} relay failed: {errors[0]}")
            every = [i for r in reports for i in r[1]]
            distinct = set(every)
            store = open_store(target.url, tenant=TENANT)
            try:
                left = len(store.outbox.pending(limit=PAGE))
            finally:
                store.close()
            acked = sum(r[2] for r in reports)
            if acked != len(distinct):
                raise AssertionError(f"{label}: {acked} acknowledged, {len(distinct)} claimed")
            runs.append(
                RelayRun(
                    label,
                    count,
                    total,
                    max(r[5] for r in reports) - began,
                    sorted(len(r[1]) for r in reports),
                    len(every) - len(distinct),
                    total - len(distinct),
                    left,
                    sum(r[3] for r in reports),
                    sum(r[4] for r in reports),
                )
            )
        finally:
            for process in processes:
                if process.is_alive():  # only after a failure: stop the relays started here
                    process.terminate()
                    process.join(timeout=10)
            target.drop()
    return runs


# -- profile -------------------------------------------------------------------------------


def stage_breakdown(tickets: list[tuple[Ticket, datetime | None]], work: str) -> list[str]:
    """µs per ticket of the steps a SQLite bulk save is made of, each timed alone (no profiler).

    Median of 3 runs over ``tickets`` with gc off; the database steps insert
    rows made beforehand into a fresh database (tables made by csdomain; WAL,
    synchronous=FULL) in one transaction, commit included.
    """
    n = len(tickets)
    rows = rows_of(tickets, outbox=True)
    counter = iter(range(10**9))

    def insert_many(table_rows: list[tuple[Any, ...]], sql: str) -> Callable[[], object]:
        def run() -> None:
            conn = sqlite_raw_open(os.path.join(work, f"stage-{next(counter)}.db"))
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, table_rows)
            conn.execute("COMMIT")
            spent.append(time.perf_counter() - t0)
            conn.close()

        return run

    stages: list[tuple[str, Callable[[], object], bool]] = [
        (
            "raw: hand-written event dicts + orjson.dumps (every row of the three tables)",
            lambda: rows_of(tickets, outbox=True),
            False,
        ),
        (
            "csdomain: `events_json` of every timeline",
            lambda: [events_json(t.timeline) for t, _ in tickets],
            False,
        ),
        ("SQLite: executemany of the state rows", insert_many(rows.states, SQLITE_STATE), True),
        ("SQLite: executemany of the event rows", insert_many(rows.events, SQLITE_EVENT), True),
        ("SQLite: executemany of the outbox rows", insert_many(rows.outbox, SQLITE_OUTBOX), True),
    ]
    lines = [
        f"\n### Steps of a SQLite bulk save, each timed alone ({n:,} tickets, no profiler)\n",
        "| step | µs/ticket |",
        "|---|--:|",
    ]
    for label, fn, self_timed in stages:
        samples = []
        for _ in range(3):
            spent: list[float] = []
            elapsed = timed(fn)
            samples.append(spent[0] if self_timed else elapsed)
        lines.append(f"| {label} | {statistics.median(samples) / n * 1e6:.1f} |")
    return lines


def profile_saves(
    tickets: list[tuple[Ticket, datetime | None]], targets: Targets, labels: list[str]
) -> list[str]:
    """cProfile of csdomain bulk saves of ``len(tickets)`` tickets: the top functions."""
    lines: list[str] = []
    for label in labels:
        target = targets.make(label)
        store = open_store(target.url, tenant=TENANT, create=True)
        profiler = cProfile.Profile()
        try:
            with no_gc():
                profiler.enable()
                csdomain_save(store, tickets)
                profiler.disable()
        finally:
            store.close()
            target.drop()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        total = stats.total_tt  # type: ignore[attr-defined]
        lines.append(
            f"\n### cProfile: csdomain {label} bulk save of {len(tickets):,} tickets "
            f"({total:.2f} s under the profiler, {total / len(tickets) * 1e6:.0f} µs/ticket)\n"
        )
        lines.append("| function | calls | own s | own % | cumulative s | cumulative % |")
        lines.append("|---|--:|--:|--:|--:|--:|")
        rows = []
        for (filename, line, name), (_, calls, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append((_short(filename, line, name), calls, tt, ct))
        shown = sorted(rows, key=lambda r: r[3], reverse=True)[:25]
        shown += [r for r in sorted(rows, key=lambda r: r[2], reverse=True)[:12] if r not in shown]
        for where, calls, tt, ct in shown:
            lines.append(
                f"| {where} | {calls:,} | {tt:.3f} | {100 * tt / total:.1f}% "
                f"| {ct:.3f} | {100 * ct / total:.1f}% |"
            )
    return lines


def _short(filename: str, line: int, name: str) -> str:
    if filename in ("~", ""):
        return f"`{name}`"
    for marker in ("site-packages/", "src/", "lib/python"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    else:
        filename = os.path.relpath(filename)
    return f"`{filename}:{line} {name}`"


# -- report --------------------------------------------------------------------------------


def environment() -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()} ({platform.python_implementation()})",
            f"csdomain {csdomain.__version__}",
            f"SQLite {sqlite3.sqlite_version}",
            f"orjson {package_version('orjson')}",
            f"psycopg {package_version('psycopg')}"
            f" (psycopg-binary {package_version('psycopg-binary')})",
            f"cattrs {package_version('cattrs')}",
            f"attrs {package_version('attrs')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    return [f"Versions: {versions}", f"Machine: {machine}, {load_average()}"]


def describe(tickets: list[tuple[Ticket, datetime | None]]) -> list[str]:
    sizes = [len(to_json(t).encode()) for t, _ in tickets]
    statuses: dict[str, int] = {}
    for t, _ in tickets:
        statuses[t.status.value] = statuses.get(t.status.value, 0) + 1
    n = len(tickets)
    events = statistics.mean(len(t.timeline) for t, _ in tickets)
    messages = statistics.mean(len(t.messages) for t, _ in tickets)
    with_deadline = sum(d is not None for _, d in tickets)
    mix = ", ".join(f"{s.value} {100 * statuses.get(s.value, 0) / n:.0f}%" for s in Status)
    return [
        f"Tickets: {n:,} (random.Random({SEED})); JSON document (`to_json`, UTF-8) mean "
        f"{statistics.mean(sizes):,.0f} bytes (min {min(sizes):,}, median "
        f"{statistics.median(sizes):,.0f}, max {max(sizes):,}); {events:.1f} events and "
        f"{messages:.1f} messages per ticket on average  ",
        f"Statuses: {mix}; next_deadline on {100 * with_deadline / n:.0f}%; "
        f"60 agents, 8 groups, 20,000 customers  ",
    ]


def _rate(r: Result) -> str:
    return f"{r.per_second:,.0f}"


def sqlite_table(res: SqliteResults, n: int) -> list[str]:
    s, g, d, li = res.save, res.get, res.due, res.listing
    raw, full = s["raw sqlite3"], s["raw + outbox"]
    return [
        "| operation | unit | csdomain | raw sqlite3 | raw + outbox | csdomain vs raw sqlite3 |",
        "|---|---|--:|--:|--:|---|",
        f"| bulk save of {n:,} in one transaction | tickets/s | {_rate(s['csdomain'])} "
        f"| {_rate(raw)} | {_rate(full)} "
        f"| {s['csdomain'].per_second / raw.per_second:.2f} of raw's throughput "
        f"({s['csdomain'].per_second / full.per_second:.2f} of raw + outbox's) |",
        f"| (the same, per ticket) | µs/ticket | {s['csdomain'].us:.1f} "
        f"| {raw.us:.1f} | {full.us:.1f} | |",
        f"| get by id, loading the Ticket | µs/call | {g['csdomain'].us:.1f} "
        f"| {g['raw sqlite3'].us:.1f} | "
        f"| {g['csdomain'].us / g['raw sqlite3'].us:.2f}x raw's time |",
        f"| (raw: the two selects only, no loading) | µs/call | | {g['raw fetch only'].us:.1f} "
        "| | |",
        f"| due_before first page ({res.due_rows} tickets) | µs/page | {d['csdomain'].us:,.0f} "
        f"| {d['raw sqlite3'].us:,.0f} | "
        f"| {d['csdomain'].us / d['raw sqlite3'].us:.2f}x raw's time |",
        f"| list(status={LISTED.value}), {res.listed:,} tickets in pages of {PAGE} | tickets/s "
        f"| {_rate(li['csdomain'])} | {_rate(li['raw sqlite3'])} | "
        f"| {li['csdomain'].per_second / li['raw sqlite3'].per_second:.2f} of raw's throughput |",
    ]


def postgres_table(res: PostgresResults, n: int) -> list[str]:
    s, g = res.save, res.get
    many, copy, full = s["raw executemany"], s["raw COPY"], s["raw executemany + outbox"]
    mine, each = s["csdomain"], s["csdomain add"]
    return [
        "| operation | unit | csdomain | raw executemany | raw COPY | raw executemany + outbox "
        "| csdomain vs raw |",
        "|---|---|--:|--:|--:|--:|---|",
        f"| bulk save of {n:,} in one transaction (`add_many`) | tickets/s | {_rate(mine)} "
        f"| {_rate(many)} | {_rate(copy)} | {_rate(full)} "
        f"| {mine.per_second / many.per_second:.2f} of executemany's throughput "
        f"({mine.per_second / copy.per_second:.2f} of COPY's, "
        f"{mine.per_second / full.per_second:.2f} of executemany + outbox's) |",
        f"| (the same, per ticket) | µs/ticket | {mine.us:.1f} | {many.us:.1f} "
        f"| {copy.us:.1f} | {full.us:.1f} | |",
        f"| bulk save with `add()` per ticket | µs/ticket | {each.us:.1f} "
        f"| {many.us:.1f} | {copy.us:.1f} | {full.us:.1f} "
        f"| {each.per_second / many.per_second:.2f} of executemany's throughput |",
        f"| get by id, loading the Ticket | µs/call | {g['csdomain'].us:.1f} "
        f"| {g['raw psycopg'].us:.1f} | | "
        f"| {g['csdomain'].us / g['raw psycopg'].us:.2f}x raw's time |",
    ]


def save_cost_table(costs: dict[str, SaveCost]) -> list[str]:
    lines = [
        "| adapter | events before the save | saved timeline | save µs (median) | p90 µs "
        "| CPU µs (median) | vs 10 events | `add_message` µs (not in the save) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for label, cost in costs.items():
        base = statistics.median(cost.wall[SIZES[0]])
        for size in SIZES:
            wall = cost.wall[size]
            p90 = statistics.quantiles(wall, n=10)[-1] if len(wall) > 1 else wall[0]
            low, high = cost.lengths[size]
            lines.append(
                f"| {label} | {size:,} | {low:,}-{high:,} | {median_us(wall):,.0f} "
                f"| {p90 * 1e6:,.0f} | {median_us(cost.cpu[size]):,.0f} "
                f"| {statistics.median(wall) / base:.2f}x | {median_us(cost.add[size]):,.1f} |"
            )
    return lines


def deadline_table(costs: dict[str, DeadlineCost]) -> list[str]:
    names = DEADLINE_CONTENDERS
    lines = [
        f"| adapter | how | {' µs | '.join(names)} µs | csdomain / raw, same columns "
        "| csdomain / raw, deadline only |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for label, cost in costs.items():
        for how, samples in (
            ("one per transaction (commit included)", cost.single),
            (f"{DEADLINE_BATCH} in one transaction, per save", cost.batch),
        ):
            us = [median_us(samples[name]) for name in names]
            lines.append(
                f"| {label} | {how} | {' | '.join(f'{u:,.1f}' for u in us)} "
                f"| {us[0] / us[1]:.2f}x | {us[0] / us[2]:.2f}x |"
            )
    return lines


def relay_table(runs: list[RelayRun]) -> list[str]:
    lines = [
        "| adapter | relays | messages | seconds | messages/s | claimed per relay "
        "| delivered twice | lost | claimed again (attempts > 1) | lock retries |",
        "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.label} | {r.relays} | {r.messages:,} | {r.seconds:.2f} | {r.per_second:,.0f} "
            f"| {', '.join(f'{c:,}' for c in r.per_relay)} | {r.twice} | {r.lost + r.left} "
            f"| {r.again} | {r.retries} |"
        )
    return lines


@dataclass
class Outcome:
    sqlite: SqliteResults | None = None
    postgres: PostgresResults | None = None
    saves: dict[str, SaveCost] = field(default_factory=dict)
    deadlines: dict[str, DeadlineCost] = field(default_factory=dict)
    relays: list[RelayRun] = field(default_factory=list)


def goals(o: Outcome) -> tuple[list[str], bool]:
    lines: list[str] = []
    met = True

    def line(text: str, ok: bool) -> None:
        nonlocal met
        met &= ok
        lines.append(f"- {text}: {'met' if ok else '**NOT met**'}")

    if o.sqlite is not None:
        sq = o.sqlite
        ratio = sq.save["csdomain"].per_second / sq.save["raw sqlite3"].per_second
        line(
            f"SQLite bulk save: csdomain / raw sqlite3 throughput = {ratio:.2f} "
            f"(goal >= {GOAL_SQLITE_SAVE:.2f}; overhead {1 / ratio:.2f}x, goal <= "
            f"{1 / GOAL_SQLITE_SAVE:.1f}x)",
            ratio >= GOAL_SQLITE_SAVE,
        )
        ratio = sq.get["csdomain"].us / sq.get["raw sqlite3"].us
        line(
            f"SQLite get: csdomain / raw time = {ratio:.2f}x (goal <= {GOAL_GET:g}x)",
            ratio <= GOAL_GET,
        )
    if o.postgres is not None:
        pg = o.postgres
        ratio = pg.save["csdomain"].per_second / pg.save["raw executemany"].per_second
        line(
            f"PostgreSQL bulk save: csdomain / raw psycopg executemany throughput = {ratio:.2f} "
            f"(goal >= {GOAL_POSTGRES_SAVE:.2f})",
            ratio >= GOAL_POSTGRES_SAVE,
        )
        ratio = pg.get["csdomain"].us / pg.get["raw psycopg"].us
        line(
            f"PostgreSQL get: csdomain / raw time = {ratio:.2f}x (goal <= {GOAL_GET:g}x)",
            ratio <= GOAL_GET,
        )
    for label, cost in o.saves.items():
        ratio = cost.ratio()
        text = (
            f"{label} save onto {SIZES[-1]:,} events / onto {SIZES[0]} = {ratio:.2f}x "
            f"(goal <= {GOAL_LONG_SAVE:g}x)"
        )
        if label == "memory":
            lines.append(
                f"- {text}: for reference, {'within' if ratio <= GOAL_LONG_SAVE else 'above'}"
            )
        else:
            line(text, ratio <= GOAL_LONG_SAVE)
    for label, deadline in o.deadlines.items():
        for how, samples in (("one per transaction", deadline.single), ("batched", deadline.batch)):
            ratio = statistics.median(samples["csdomain save"]) / statistics.median(
                samples["raw UPDATE, same columns"]
            )
            line(
                f"{label} deadline-only save / raw UPDATE of the same columns, {how} = "
                f"{ratio:.2f}x (goal <= {GOAL_DEADLINE:g}x)",
                ratio <= GOAL_DEADLINE,
            )
    for run in o.relays:
        line(
            f"{run.label}, {run.relays} relay{'s' if run.relays > 1 else ''}: {run.twice} "
            f"delivered twice, {run.lost + run.left} lost of {run.messages:,} (goal 0 and 0)",
            run.twice == 0 and run.lost + run.left == 0,
        )
    return lines, met


PARTS = ("bulk", "saves", "deadline", "relays")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (about 30 s at most)")
    parser.add_argument("-n", type=int, help="bulk-save tickets (default 100,000, quick 2,000)")
    parser.add_argument("--repeat", type=int, help="repeats of the bulk saves (default 3)")
    parser.add_argument("--read-repeat", type=int, help="repeats of the reads (default 5)")
    parser.add_argument(
        "--copies", type=int, help="save-cost tickets of each size (default 40, quick 2)"
    )
    parser.add_argument(
        "--save-each", type=int, help="saves per save-cost ticket (default 5, quick 3)"
    )
    parser.add_argument(
        "--deadline-repeat", type=int, help="deadline-only saves, one each (default 300)"
    )
    parser.add_argument(
        "--messages", type=int, help="outbox messages for the relays (default 20,000)"
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated parts to run, of {', '.join(PARTS)} (default all)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CSDOMAIN_TEST_POSTGRES_URL", POSTGRES_URL),
        help=f"libpq URL of a database to make (and drop) schemas in (default {POSTGRES_URL})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--profile", action="store_true", help="also time the steps and cProfile 10,000 saves"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is not met")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts <= set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    quick = args.quick
    n = args.n or (2_000 if quick else 100_000)
    save_repeat = args.repeat or (1 if quick else 3)
    read_repeat = args.read_repeat or (1 if quick else 5)
    gets = 200 if quick else 2_000
    due_calls = 3 if quick else 20
    copies = args.copies or (2 if quick else 40)
    save_each = args.save_each or (3 if quick else 5)
    deadline_repeat = args.deadline_repeat or (20 if quick else 300)
    deadline_batches = 1 if quick else 10
    messages = args.messages or (1_000 if quick else 20_000)

    print("# Storage benchmark: csdomain's stores against raw sqlite3 and psycopg\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/storage.py {given}".rstrip() + "  ")
    for line in environment():
        print(f"{line}  ")
    pg_skip: str | None = "--no-postgres" if args.no_postgres else None
    if pg_skip is None:
        pg_skip = postgres_reachable(args.postgres_url)
        if pg_skip is not None and not quick:
            print(f"\nPostgreSQL is required for a full run: {pg_skip}; or pass --no-postgres")
            return 2
    pg_url = None if pg_skip is not None else args.postgres_url
    if pg_url is not None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            print(f"PostgreSQL: {postgres_server(admin)} at {pg_url}  ")
    else:
        print(f"PostgreSQL: skipped ({pg_skip})  ")

    started = time.perf_counter()
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as work:
        targets = Targets(work, pg_url)
        tickets: list[tuple[Ticket, datetime | None]] = []
        if "bulk" in parts or args.profile:
            tickets = build_tickets(n)
            built = time.perf_counter() - started
            print("\n## Bulk save and reads\n")
            for line in describe(tickets):
                print(line)
            print(
                f"JSON: {'orjson' if orjson is not None else 'json'} on both sides; tickets "
                f"built in {built:.1f} s before any timing  "
            )
            print(
                f"Timing: median of {save_repeat} interleaved repeats for bulk saves (empty "
                f"tables each), {read_repeat} for reads ({min(gets, n):,} random gets, "
                f"{due_calls} due_before pages, one full listing per repeat); gc off inside the "
                "timed region  "
            )
        if "bulk" in parts:
            print("\n### SQLite (a file in WAL mode, synchronous=FULL)\n")
            sq = run_sqlite(tickets, work, save_repeat, read_repeat, gets, due_calls)
            outcome.sqlite = sq
            print("\n".join(sqlite_table(sq, n)))
            print(
                f"\nRows written by csdomain: {sq.rows[STATE]:,} state, {sq.rows[EVENTS]:,} event, "
                f"{sq.rows[OUTBOX]:,} outbox. Every raw database was checked to hold the same rows "
                "(state and event tables; outbox too for raw + outbox); loaded tickets, the "
                "due_before page and the listing were checked equal."
            )
            print("\n### PostgreSQL\n")
            if pg_url is None:
                print(f"Skipped: {pg_skip}")
            else:
                pg = run_postgres(tickets, pg_url, save_repeat, read_repeat, gets)
                outcome.postgres = pg
                print("\n".join(postgres_table(pg, n)))
                print(
                    "\nThe raw schemas were checked to hold the same rows as csdomain's (state "
                    "and event tables; outbox too for executemany + outbox); loaded tickets "
                    "were checked equal."
                )

        if "saves" in parts:
            print(
                f"\n## Save cost against timeline length\n\n{copies} tickets of each length, "
                f"each loaded, then saved {save_each} times with one agent reply more "
                f"({copies * save_each} saves per length, interleaved across lengths); each "
                "save is its own unit of work (commit included); `add_message` is timed apart. "
                "CPU is the saving thread's CPU time (the PostgreSQL server's is not in it).\n"
            )
            for label in targets.labels(memory=True):
                target = targets.make(label)
                try:
                    outcome.saves[label] = run_save_cost(target, copies, save_each)
                finally:
                    target.drop()
            print("\n".join(save_cost_table(outcome.saves)))

        if "deadline" in parts:
            print(
                f"\n## Deadline-only save against a raw UPDATE\n\n`save(ticket, "
                "expected_version=v, next_deadline=d)` with no new event, against the driver's "
                f"UPDATE of the same table; {deadline_repeat} calls one per transaction, "
                f"{deadline_batches} batches of {DEADLINE_BATCH} in one transaction "
                f"(medians; tickets of 8 events, {DEADLINE_BATCH} per contender).\n"
            )
            for label in targets.labels(memory=False):
                target = targets.make(label)
                try:
                    outcome.deadlines[label] = run_deadline(
                        target, deadline_repeat, deadline_batches
                    )
                finally:
                    target.drop()
            print("\n".join(deadline_table(outcome.deadlines)))

        if "relays" in parts:
            print(
                f"\n## Outbox relays\n\nEach relay is a process (multiprocessing, spawn) "
                f"looping `claim(relay=..., limit={RELAY_BATCH})` (default 30 s lease) and "
                "`ack(ids, relay=...)` until a claim comes back empty; a fresh database per "
                "run, filled by `add_many` of bulk-save tickets. Time from the start signal "
                "(every relay's store open) to the last relay's end.\n"
            )
            for label in targets.labels(memory=False):
                outcome.relays.extend(run_relays(targets, label, messages, RELAYS))
            print("\n".join(relay_table(outcome.relays)))

        lines, met = goals(outcome)
        print("\n## Goals\n")
        print("\n".join(lines))

        if args.profile:
            sample = tickets[: min(10_000, n)]
            print("\n".join(stage_breakdown(sample, work)))
            print("\n".join(profile_saves(sample, targets, targets.labels(memory=False))))
    print(f"\nTotal time {time.perf_counter() - started:.0f} s; {load_average(at='the end')}")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
