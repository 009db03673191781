"""Storage: csdomain's SQLite and PostgreSQL stores against raw sqlite3 and raw psycopg.

One run on N tickets (100,000 by default) of about 1.5 KB of JSON each, built
with ``Ticket.open`` plus a few messages and status changes (seeded random:
statuses, assignees, groups, customers, kinds, priorities, tags, bodies in
English and Chinese), most with a ``next_deadline``. The tickets are built
before any timing. Each contender does the same work:

* **bulk save**: all N tickets in one transaction, into a fresh database.
  csdomain: ``with store.transaction(): store.tickets.add_many(tickets,
  next_deadlines=...)``, the library's bulk load (which also writes every
  timeline event to the outbox, in the same transaction); "csdomain add" is
  the same work with ``store.tickets.add(t, next_deadline=d)`` per ticket.
  Raw sqlite3 / psycopg: one ``executemany`` (or ``COPY``) of the same rows:
  the same JSON text, made per ticket by the hand-written dict code of
  ``bench/handwritten.py`` and ``orjson.dumps`` (serialization is timed too),
  and the same indexed columns, into a table with the same columns and
  indexes. "raw + outbox" also inserts the outbox rows the library writes (for
  reference; the issue's baseline has no outbox).
* **get by id** on random ids, including loading the ``Ticket``. Raw: select by
  primary key, ``orjson.loads``, then build the ``Ticket`` by hand: the csdomain
  event constructors (every field check) and ``Ticket(timeline=...)`` (the
  status-machine replay), then a comparison of the document's state fields
  with the replayed ticket. It does not check exact JSON types (a ``true``
  where an integer belongs) or list every problem with its path, as
  ``from_json`` does.
* **due_before**: the first page (100 tickets) of ``due_before(instant)``, the
  instant being the median deadline. Raw: the same SQL on the same index, and
  the same hand-written loading.
* **list**: every page of ``tickets.list(status=open, limit=100)``, by cursor.
  Raw: the same keyset SQL (``key > last key``) and loading.

SQLite runs on files in a temporary directory with WAL and
``synchronous=FULL`` on both sides. PostgreSQL (bulk save and get) uses fresh
schemas dropped at the end (``--postgres-url``, default the CI server).
Timings are medians of repeats interleaved across contenders, with the garbage
collector off inside the timed region (collected before it). Every contender's
stored rows are checked to be byte-identical to csdomain's, and the loaded
tickets and pages to be equal.

Run from the repository root (needs the ``fast`` and ``postgres`` extras)::

    .venv/bin/python bench/storage.py            # full run (a few minutes)
    .venv/bin/python bench/storage.py --quick    # smoke run: 2,000 tickets, seconds
    .venv/bin/python bench/storage.py --profile  # + cProfile of 10,000 csdomain saves

Goals (from the issue): SQLite bulk save at least 40% of raw sqlite3's
throughput; get at most 3x raw; PostgreSQL bulk save at least 40% of raw
psycopg ``executemany``'s. ``--check`` exits with status 1 when a goal is missed.
In ``--quick`` mode the PostgreSQL part is skipped, with a note, when no server
answers; a full run requires one (or ``--no-postgres``).
"""

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from handwritten import event_doc, ticket_doc, ticket_from_doc
from machine import cpu, load_average, package_version

import csdomain
from csdomain import (
    Actor,
    Priority,
    Status,
    Ticket,
    TicketKind,
)
from csdomain.serialization import to_dict, to_json
from csdomain.storage import Store, open_store

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

TENANT = "acme"
SEED = 2026
PAGE = 100
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
UNSOLVED = ("new", "open", "pending", "on_hold")
LISTED = Status.OPEN  # the status listed page by page
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)

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


def ticket_row(t: Ticket, next_deadline: datetime | None) -> tuple[Any, ...]:
    """``(tenant, key, document, status, ..., event_count)``: one insert's parameters."""
    return (
        TENANT,
        t.id,
        dumps(ticket_doc(t)),
        t.status.value,
        t.assignee_id,
        t.group_id,
        t.customer_id,
        t.kind.value,
        t.priority.value,
        micros(t.updated_at),
        None if next_deadline is None else micros(next_deadline),
        len(t.timeline),
    )


def outbox_rows(t: Ticket) -> Iterator[tuple[str, str, int, str, str]]:
    """The outbox rows csdomain writes for a new ticket: one per timeline event."""
    for i, e in enumerate(t.timeline):
        yield (TENANT, t.id, i, e.type_name, dumps(event_doc(e)))


COLUMNS = (
    "status",
    "assignee_id",
    "group_id",
    "customer_id",
    "kind",
    "priority",
    "updated_at",
    "next_deadline",
    "event_count",
)
ALL_COLUMNS = ("tenant", "key", "version", "document", *COLUMNS)

# -- raw sqlite3 ---------------------------------------------------------------------------

SQLITE_DDL = (
    """CREATE TABLE tickets (
        tenant TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
        document TEXT NOT NULL, status TEXT, assignee_id TEXT, group_id TEXT,
        customer_id TEXT, kind TEXT, priority TEXT, updated_at INTEGER,
        next_deadline INTEGER, event_count INTEGER, PRIMARY KEY (tenant, key))""",
    "CREATE INDEX tickets_status ON tickets (tenant, status, key)",
    "CREATE INDEX tickets_assignee ON tickets (tenant, assignee_id, key)",
    "CREATE INDEX tickets_group ON tickets (tenant, group_id, key)",
    "CREATE INDEX tickets_customer ON tickets (tenant, customer_id, key)",
    "CREATE INDEX tickets_kind ON tickets (tenant, kind, key)",
    "CREATE INDEX tickets_priority ON tickets (tenant, priority, key)",
    """CREATE INDEX tickets_deadline ON tickets (tenant, next_deadline, key)
        WHERE next_deadline IS NOT NULL""",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, ticket_id TEXT NOT NULL,
        sequence INTEGER NOT NULL, event_type TEXT NOT NULL, document TEXT NOT NULL,
        published INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX outbox_pending ON outbox (tenant, published, id)",
)
SQLITE_INSERT = (
    f"INSERT INTO tickets ({', '.join(ALL_COLUMNS)}) VALUES (?, ?, 1{', ?' * (len(COLUMNS) + 1)})"
)
SQLITE_OUTBOX = (
    "INSERT INTO outbox (tenant, ticket_id, sequence, event_type, document) VALUES (?, ?, ?, ?, ?)"
)
SQLITE_GET = "SELECT version, document FROM tickets WHERE tenant = ? AND key = ?"
SQLITE_DUE = (
    "SELECT next_deadline, key, version, document FROM tickets WHERE tenant = ?"
    f" AND status IN ({', '.join('?' * len(UNSOLVED))}) AND next_deadline IS NOT NULL"
    " AND next_deadline < ? ORDER BY next_deadline, key LIMIT ?"
)
SQLITE_LIST_FIRST = (
    "SELECT key, version, document FROM tickets WHERE tenant = ? AND status = ?"
    " ORDER BY key LIMIT ?"
)
SQLITE_LIST_NEXT = (
    "SELECT key, version, document FROM tickets WHERE tenant = ? AND status = ? AND key > ?"
    " ORDER BY key LIMIT ?"
)


def sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL").fetchall()
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def sqlite_raw_open(path: str) -> sqlite3.Connection:
    conn = sqlite_connect(path)
    for statement in SQLITE_DDL:
        conn.execute(statement)
    return conn


def sqlite_raw_save(
    conn: sqlite3.Connection, tickets: list[tuple[Ticket, datetime | None]]
) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(SQLITE_INSERT, (ticket_row(t, d) for t, d in tickets))
    conn.execute("COMMIT")


def sqlite_raw_save_outbox(
    conn: sqlite3.Connection, tickets: list[tuple[Ticket, datetime | None]]
) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(SQLITE_INSERT, (ticket_row(t, d) for t, d in tickets))
    conn.executemany(SQLITE_OUTBOX, (row for t, _ in tickets for row in outbox_rows(t)))
    conn.execute("COMMIT")


def sqlite_raw_get(conn: sqlite3.Connection, key: str) -> tuple[Ticket, int]:
    found = conn.execute(SQLITE_GET, (TENANT, key)).fetchone()
    if found is None:
        raise KeyError(key)
    return ticket_from_doc(loads(found[1])), found[0]


def sqlite_raw_fetch(conn: sqlite3.Connection, key: str) -> tuple[int, str]:
    found: tuple[int, str] = conn.execute(SQLITE_GET, (TENANT, key)).fetchone()
    return found


def sqlite_raw_due(conn: sqlite3.Connection, bound: int) -> list[Ticket]:
    rows = conn.execute(SQLITE_DUE, (TENANT, *UNSOLVED, bound, PAGE + 1)).fetchall()
    return [ticket_from_doc(loads(row[3])) for row in rows[:PAGE]]


def sqlite_raw_list(conn: sqlite3.Connection, status: str) -> list[str]:
    keys: list[str] = []
    rows = conn.execute(SQLITE_LIST_FIRST, (TENANT, status, PAGE + 1)).fetchall()
    while True:
        page = [ticket_from_doc(loads(row[2])) for row in rows[:PAGE]]
        keys.extend(t.id for t in page)
        if len(rows) <= PAGE:
            return keys
        rows = conn.execute(SQLITE_LIST_NEXT, (TENANT, status, keys[-1], PAGE + 1)).fetchall()


# -- raw psycopg ---------------------------------------------------------------------------


def postgres_ddl(schema: str) -> list[str]:
    """The same tables and indexes as csdomain's PostgreSQL schema, in ``schema``."""
    s = f'"{schema}"'
    return [
        f"CREATE SCHEMA {s}",
        f"""CREATE TABLE {s}.tickets (
            tenant TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
            version INTEGER NOT NULL, document JSON NOT NULL, status TEXT COLLATE "C" NOT NULL,
            assignee_id TEXT COLLATE "C", group_id TEXT COLLATE "C",
            customer_id TEXT COLLATE "C", kind TEXT COLLATE "C" NOT NULL,
            priority TEXT COLLATE "C" NOT NULL, updated_at BIGINT NOT NULL,
            next_deadline BIGINT, event_count INTEGER NOT NULL, PRIMARY KEY (tenant, key))""",
        f"CREATE INDEX ON {s}.tickets (tenant, status, key)",
        f"CREATE INDEX ON {s}.tickets (tenant, assignee_id, key)",
        f"CREATE INDEX ON {s}.tickets (tenant, group_id, key)",
        f"CREATE INDEX ON {s}.tickets (tenant, customer_id, key)",
        f"CREATE INDEX ON {s}.tickets (tenant, kind, key)",
        f"CREATE INDEX ON {s}.tickets (tenant, priority, key)",
        f"CREATE INDEX ON {s}.tickets (tenant, next_deadline, key) WHERE next_deadline IS NOT NULL",
    ]


def postgres_insert(schema: str) -> str:
    values = ", ".join(["%s"] * len(COLUMNS))
    return (
        f'INSERT INTO "{schema}".tickets ({", ".join(ALL_COLUMNS)})'
        f" VALUES (%s, %s, 1, %s::json, {values})"
    )


def postgres_raw_executemany(
    conn: Any, schema: str, tickets: list[tuple[Ticket, datetime | None]]
) -> None:
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(postgres_insert(schema), (ticket_row(t, d) for t, d in tickets))


def postgres_raw_copy(
    conn: Any, schema: str, tickets: list[tuple[Ticket, datetime | None]]
) -> None:
    columns = ", ".join(c for c in ALL_COLUMNS if c != "version")
    with (
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(f'COPY "{schema}".tickets ({columns}, version) FROM STDIN') as copy,
    ):
        for t, d in tickets:
            copy.write_row((*ticket_row(t, d), 1))


def postgres_raw_get(conn: Any, schema: str, key: str) -> tuple[Ticket, int]:
    with conn.cursor() as cur:
        cur.execute(
            f'SELECT version, document::text FROM "{schema}".tickets'
            " WHERE tenant = %s AND key = %s",
            (TENANT, key),
        )
        found = cur.fetchone()
    if found is None:
        raise KeyError(key)
    return ticket_from_doc(loads(found[1])), found[0]


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


# -- SQLite --------------------------------------------------------------------------------


def sqlite_url(path: str) -> str:
    return f"sqlite:///{path}"  # path is absolute: sqlite:////tmp/...


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


def _rows(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql).fetchall()


def check_same_sqlite(mine: str, theirs: str, label: str, outbox: bool) -> None:
    """The raw database's rows are byte-identical to csdomain's (raise otherwise)."""
    tickets = f"SELECT {', '.join(ALL_COLUMNS)} FROM tickets ORDER BY tenant, key"
    boxes = "SELECT tenant, ticket_id, sequence, event_type, document FROM outbox ORDER BY id"
    a, b = sqlite3.connect(mine), sqlite3.connect(theirs)
    try:
        if _rows(a, tickets) != _rows(b, tickets):
            raise AssertionError(f"{label}: ticket rows differ from csdomain's")
        if outbox and _rows(a, boxes) != _rows(b, boxes):
            raise AssertionError(f"{label}: outbox rows differ from csdomain's")
    finally:
        a.close()
        b.close()


@dataclass
class SqliteResults:
    save: dict[str, Result]
    get: dict[str, Result]
    due: dict[str, Result]
    listing: dict[str, Result]
    listed: int
    due_rows: int


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
        store = open_store(sqlite_url(path), tenant=TENANT)
        return lambda: csdomain_save(store, tickets), store.close

    def raw_open(path: str) -> Opened:
        conn = sqlite_raw_open(path)
        return lambda: sqlite_raw_save(conn, tickets), conn.close

    def raw_outbox_open(path: str) -> Opened:
        conn = sqlite_raw_open(path)
        return lambda: sqlite_raw_save_outbox(conn, tickets), conn.close

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
    check_same_sqlite(paths["csdomain"], paths["raw sqlite3"], "raw sqlite3", outbox=False)
    check_same_sqlite(paths["csdomain"], paths["raw + outbox"], "raw + outbox", outbox=True)

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
            mine = store.tickets.get(key)
            theirs = sqlite_raw_get(conn, key)
            if mine.value != theirs[0] or mine.version != theirs[1]:
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
    return SqliteResults(save, get, due, listing, len(listed), len(page.items))


# -- PostgreSQL ----------------------------------------------------------------------------


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def postgres_reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    if psycopg is None:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {url}: {' '.join(str(exc).split())}"
    return None


def checkpoint(conn: Any) -> None:
    """Write out dirty pages before a timed run, when allowed (superusers, pg_checkpoint)."""
    with suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


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
    raw_schemas = {"raw executemany": f"bench_storage_many_{token}"}
    raw_schemas["raw COPY"] = f"bench_storage_copy_{token}"
    admin = psycopg.connect(url, autocommit=True)
    store: Store | None = None
    raw = psycopg.connect(url, autocommit=True)
    try:
        server = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        settings = {
            name: str(admin.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("synchronous_commit", "fsync", "shared_buffers")
        }
        server += " (" + ", ".join(f"{k}={v}" for k, v in settings.items()) + ")"
        for schema in raw_schemas.values():
            for statement in postgres_ddl(schema):
                admin.execute(statement)
        store = open_store(with_schema(url, lib_schema), tenant=TENANT)
        the_store = store

        tables = {
            "csdomain": [f'"{lib_schema}".tickets', f'"{lib_schema}".outbox'],
            "csdomain add": [f'"{lib_schema}".tickets', f'"{lib_schema}".outbox'],
            **{name: [f'"{schema}".tickets'] for name, schema in raw_schemas.items()},
        }
        savers: dict[str, Callable[[], object]] = {
            "csdomain": lambda: csdomain_save(the_store, tickets),
            "csdomain add": lambda: csdomain_save_each(the_store, tickets),
            "raw executemany": lambda: postgres_raw_executemany(
                raw, raw_schemas["raw executemany"], tickets
            ),
            "raw COPY": lambda: postgres_raw_copy(raw, raw_schemas["raw COPY"], tickets),
        }
        save = {name: Result(n) for name in savers}
        for _ in range(save_repeat):
            for name, run in savers.items():
                # Each run starts from empty tables, with no dirty pages left by the last one.
                admin.execute(f"TRUNCATE {', '.join(tables[name])}")
                checkpoint(admin)
                save[name].samples.append(timed(run))
        # Check the tables hold the same rows, then time the reads.
        select = (
            f"SELECT tenant, key, version, document::text, {', '.join(COLUMNS)}"
            " FROM {}.tickets ORDER BY tenant, key"
        )
        mine = admin.execute(select.format(f'"{lib_schema}"')).fetchall()
        for name, schema in raw_schemas.items():
            if admin.execute(select.format(f'"{schema}"')).fetchall() != mine:
                raise AssertionError(f"PostgreSQL {name}: rows differ from csdomain's")
        del mine
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
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


# -- profile -------------------------------------------------------------------------------


def stage_breakdown(tickets: list[tuple[Ticket, datetime | None]], work: str) -> list[str]:
    """µs per ticket of the steps a SQLite bulk save is made of, each timed alone (no profiler).

    Median of 3 runs over ``tickets`` with gc off; the database steps insert
    rows serialized beforehand into a fresh file (WAL, synchronous=FULL) in one
    transaction, commit included.
    """
    n = len(tickets)
    docs = [to_dict(t) for t, _ in tickets]
    rows = [ticket_row(t, d) for t, d in tickets]
    boxes = [row for t, _ in tickets for row in outbox_rows(t)]
    counter = iter(range(10**9))

    def fresh() -> sqlite3.Connection:
        return sqlite_raw_open(os.path.join(work, f"stage-{next(counter)}.db"))

    def insert_many(table_rows: list[tuple[Any, ...]], sql: str) -> Callable[[], object]:
        def run() -> None:
            conn = fresh()
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, table_rows)
            conn.execute("COMMIT")
            spent.append(time.perf_counter() - t0)
            conn.close()

        return run

    def insert_each(table_rows: list[tuple[Any, ...]]) -> Callable[[], object]:
        def run() -> None:
            conn = fresh()
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            for row in table_rows:
                conn.execute(SQLITE_INSERT, row)
            conn.execute("COMMIT")
            spent.append(time.perf_counter() - t0)
            conn.close()

        return run

    def outbox_each() -> None:  # as the library does: one executemany per ticket
        conn = fresh()
        per_ticket: list[list[tuple[Any, ...]]] = []
        i = 0
        for t, _ in tickets:
            per_ticket.append(boxes[i : i + len(t.timeline)])
            i += len(t.timeline)
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for part in per_ticket:
            conn.executemany(SQLITE_OUTBOX, part)
        conn.execute("COMMIT")
        spent.append(time.perf_counter() - t0)
        conn.close()

    stages: list[tuple[str, Callable[[], object], bool]] = [
        (
            "raw: hand-written dict + orjson.dumps",
            lambda: [ticket_row(t, d) for t, d in tickets],
            False,
        ),
        (
            "csdomain: `to_dict` (cattrs unstructure)",
            lambda: [to_dict(t) for t, _ in tickets],
            False,
        ),
        ("csdomain: orjson.dumps of that document", lambda: [dumps(doc) for doc in docs], False),
        (
            "csdomain: orjson.dumps of each event document, for the outbox",
            lambda: [dumps(e) for doc in docs for e in doc["timeline"]],
            False,
        ),
        ("SQLite: executemany of the ticket rows", insert_many(rows, SQLITE_INSERT), True),
        ("SQLite: one execute per ticket row", insert_each(rows), True),
        ("SQLite: executemany of all outbox rows", insert_many(boxes, SQLITE_OUTBOX), True),
        ("SQLite: one executemany of outbox rows per ticket", outbox_each, True),
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


def postgres_stage_breakdown(tickets: list[tuple[Ticket, datetime | None]], url: str) -> list[str]:
    """µs per ticket of ways to write the rows of a bulk save to PostgreSQL (no profiler).

    The rows are serialized beforehand; each way runs in one transaction on
    emptied tables (median of 3). The adapter's way is "one execute per ticket
    row plus one executemany of its outbox rows", with its statements as
    ``psycopg.sql.Composed`` objects.
    """
    from psycopg import sql

    n = len(tickets)
    rows = [ticket_row(t, d) for t, d in tickets]
    boxes = [list(outbox_rows(t)) for t, _ in tickets]
    every_box = [row for part in boxes for row in part]
    schema = f"bench_storage_steps_{uuid.uuid4().hex[:8]}"
    insert = postgres_insert(schema)
    outbox = (
        f'INSERT INTO "{schema}".outbox (tenant, ticket_id, sequence, event_type, document)'
        " VALUES (%s, %s, %s, %s, %s::json)"
    )
    composed = sql.SQL(
        "INSERT INTO {} (tenant, key, version, document, {}) VALUES (%s, %s, 1, %s::json, {})"
    ).format(
        sql.Identifier(schema, "tickets"),
        sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
        sql.SQL(", ").join(sql.Placeholder() for _ in COLUMNS),
    )
    conn = psycopg.connect(url, autocommit=True)

    def many() -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(insert, rows)

    def each(query: Any) -> Callable[[], None]:
        def run() -> None:
            with conn.transaction(), conn.cursor() as cur:
                for row in rows:
                    cur.execute(query, row)

        return run

    def each_with_outbox() -> None:
        with conn.transaction(), conn.cursor() as cur:
            for row, part in zip(rows, boxes, strict=True):
                cur.execute(insert, row)
                cur.executemany(outbox, part)

    def pipelined_with_outbox() -> None:
        with conn.transaction(), conn.pipeline(), conn.cursor() as cur:
            for row, part in zip(rows, boxes, strict=True):
                cur.execute(insert, row)
                cur.executemany(outbox, part)

    def many_with_outbox() -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(insert, rows)
            cur.executemany(outbox, every_box)

    ways: list[tuple[str, Callable[[], None]]] = [
        ("executemany of the ticket rows (raw executemany's way)", many),
        ("one execute per ticket row", each(insert)),
        ("one execute per ticket row, the statement a `sql.Composed`", each(composed)),
        ("one execute per ticket row + one executemany of its outbox rows", each_with_outbox),
        ("the same inside `conn.pipeline()`", pipelined_with_outbox),
        ("executemany of the ticket rows, then of all outbox rows", many_with_outbox),
    ]
    lines = [
        f"\n### Ways to write the rows of a PostgreSQL bulk save ({n:,} tickets, no profiler, "
        "rows serialized beforehand)\n",
        "| way | µs/ticket |",
        "|---|--:|",
    ]
    try:
        for statement in postgres_ddl(schema):
            conn.execute(statement)
        conn.execute(
            f'CREATE TABLE "{schema}".outbox (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,'
            ' tenant TEXT COLLATE "C" NOT NULL, ticket_id TEXT COLLATE "C" NOT NULL,'
            ' sequence INTEGER NOT NULL, event_type TEXT COLLATE "C" NOT NULL,'
            " document JSON NOT NULL, published BOOLEAN NOT NULL DEFAULT false)"
        )
        conn.execute(f'CREATE INDEX ON "{schema}".outbox (tenant, published, id)')
        for label, run in ways:
            samples = []
            for _ in range(3):
                conn.execute(f'TRUNCATE "{schema}".tickets, "{schema}".outbox')
                checkpoint(conn)
                samples.append(timed(run))
            lines.append(f"| {label} | {statistics.median(samples) / n * 1e6:.1f} |")
    finally:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()
    return lines


def profile_saves(
    tickets: list[tuple[Ticket, datetime | None]], work: str, url: str | None
) -> list[str]:
    """cProfile of csdomain bulk saves of ``len(tickets)`` tickets: the top functions."""
    lines: list[str] = []
    targets: list[tuple[str, Callable[[], Store], Callable[[], None]]] = []
    path = os.path.join(work, "profile.db")
    targets.append(("SQLite", lambda: open_store(sqlite_url(path), tenant=TENANT), lambda: None))
    if url is not None:
        schema = f"bench_storage_profile_{uuid.uuid4().hex[:8]}"

        def drop() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        targets.append(
            ("PostgreSQL", lambda: open_store(with_schema(url, schema), tenant=TENANT), drop)
        )
    for label, opener, cleanup in targets:
        store = opener()
        profiler = cProfile.Profile()
        try:
            with no_gc():
                profiler.enable()
                csdomain_save(store, tickets)
                profiler.disable()
        finally:
            store.close()
            cleanup()
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
            where = _short(filename, line, name)
            rows.append((where, calls, tt, ct))
        shown = sorted(rows, key=lambda r: r[3], reverse=True)[:25]
        shown += [r for r in sorted(rows, key=lambda r: r[2], reverse=True)[:12] if r not in shown]
        for where, calls, tt, ct in shown:
            lines.append(
                f"| {where} | {calls:,} | {tt:.3f} | {100 * tt / total:.1f}% "
                f"| {ct:.3f} | {100 * ct / total:.1f}% |"
            )
    return lines


def _short(filename: str, line: int, name: str) -> str:
    if filename == "~":
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


def _fmt_rate(r: Result) -> str:
    return f"{r.per_second:,.0f}"


def sqlite_table(res: SqliteResults, n: int) -> list[str]:
    s, g, d, li = res.save, res.get, res.due, res.listing
    lines = [
        "| operation | unit | csdomain | raw sqlite3 | raw + outbox | csdomain vs raw sqlite3 |",
        "|---|---|--:|--:|--:|---|",
        f"| bulk save of {n:,} in one transaction | rows/s | {_fmt_rate(s['csdomain'])} "
        f"| {_fmt_rate(s['raw sqlite3'])} | {_fmt_rate(s['raw + outbox'])} "
        f"| {s['csdomain'].per_second / s['raw sqlite3'].per_second:.2f} of raw's throughput "
        f"({s['csdomain'].per_second / s['raw + outbox'].per_second:.2f} of raw + outbox's) |",
        f"| (the same, per ticket) | µs/ticket | {s['csdomain'].us:.1f} "
        f"| {s['raw sqlite3'].us:.1f} | {s['raw + outbox'].us:.1f} | |",
        f"| get by id, loading the Ticket | µs/call | {g['csdomain'].us:.1f} "
        f"| {g['raw sqlite3'].us:.1f} | "
        f"| {g['csdomain'].us / g['raw sqlite3'].us:.2f}x raw's time |",
        f"| (raw: select and fetch only, no loading) | µs/call | | {g['raw fetch only'].us:.1f} "
        "| | |",
        f"| due_before first page ({res.due_rows} tickets) | µs/page | {d['csdomain'].us:.0f} "
        f"| {d['raw sqlite3'].us:.0f} | "
        f"| {d['csdomain'].us / d['raw sqlite3'].us:.2f}x raw's time |",
        f"| list(status={LISTED.value}), {res.listed:,} rows in pages of {PAGE} | rows/s "
        f"| {_fmt_rate(li['csdomain'])} | {_fmt_rate(li['raw sqlite3'])} | "
        f"| {li['csdomain'].per_second / li['raw sqlite3'].per_second:.2f} of raw's throughput |",
    ]
    return lines


def postgres_table(res: PostgresResults, n: int) -> list[str]:
    s, g = res.save, res.get
    many, copy = s["raw executemany"], s["raw COPY"]
    return [
        "| operation | unit | csdomain | raw executemany | raw COPY | csdomain vs raw |",
        "|---|---|--:|--:|--:|---|",
        f"| bulk save of {n:,} in one transaction | rows/s | {_fmt_rate(s['csdomain'])} "
        f"| {_fmt_rate(many)} | {_fmt_rate(copy)} "
        f"| {s['csdomain'].per_second / many.per_second:.2f} of executemany's throughput "
        f"({s['csdomain'].per_second / copy.per_second:.2f} of COPY's) |",
        f"| (the same, per ticket) | µs/ticket | {s['csdomain'].us:.1f} | {many.us:.1f} "
        f"| {copy.us:.1f} | |",
        f"| bulk save with add() per ticket | µs/ticket | {s['csdomain add'].us:.1f} "
        f"| {many.us:.1f} | {copy.us:.1f} "
        f"| {s['csdomain add'].per_second / many.per_second:.2f} of executemany's throughput |",
        f"| get by id, loading the Ticket | µs/call | {g['csdomain'].us:.1f} "
        f"| {g['raw psycopg'].us:.1f} | "
        f"| {g['csdomain'].us / g['raw psycopg'].us:.2f}x raw's time |",
    ]


def goals(sq: SqliteResults, pg: PostgresResults | None) -> tuple[list[str], bool]:
    lines: list[str] = []
    met = True

    def line(text: str, ok: bool) -> None:
        nonlocal met
        met &= ok
        lines.append(f"- {text}: {'met' if ok else '**NOT met**'}")

    ratio = sq.save["csdomain"].per_second / sq.save["raw sqlite3"].per_second
    line(
        f"SQLite bulk save: csdomain / raw sqlite3 throughput = {ratio:.2f} "
        f"(goal >= {GOAL_SQLITE_SAVE:.2f}; overhead {1 / ratio:.2f}x, goal <= "
        f"{1 / GOAL_SQLITE_SAVE:.1f}x)",
        ratio >= GOAL_SQLITE_SAVE,
    )
    ratio = sq.get["csdomain"].us / sq.get["raw sqlite3"].us
    line(
        f"SQLite get: csdomain / raw time = {ratio:.2f}x (goal <= {GOAL_GET:g}x)", ratio <= GOAL_GET
    )
    if pg is None:
        lines.append("- PostgreSQL goals: not checked (PostgreSQL skipped)")
        return lines, met
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
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 tickets")
    parser.add_argument("-n", type=int, help="tickets (default 100,000, quick 2,000)")
    parser.add_argument("--repeat", type=int, help="repeats of the bulk saves (default 3)")
    parser.add_argument("--read-repeat", type=int, help="repeats of the reads (default 5)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CSDOMAIN_TEST_POSTGRES_URL", POSTGRES_URL),
        help=f"libpq URL of a database to make (and drop) schemas in (default {POSTGRES_URL})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile 10,000 csdomain saves"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is not met")
    args = parser.parse_args(argv)
    n = args.n or (2_000 if args.quick else 100_000)
    save_repeat = args.repeat or (1 if args.quick else 3)
    read_repeat = args.read_repeat or (1 if args.quick else 5)
    gets = 200 if args.quick else 2_000
    due_calls = 3 if args.quick else 20

    print("# Storage benchmark: csdomain's stores against raw sqlite3 and psycopg\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/storage.py {given}".rstrip() + "  ")
    for line in environment():
        print(f"{line}  ")
    pg_skip: str | None = "--no-postgres" if args.no_postgres else None
    if pg_skip is None:
        pg_skip = postgres_reachable(args.postgres_url)
        if pg_skip is not None and not args.quick:
            print(f"\nPostgreSQL is required for a full run: {pg_skip}; or pass --no-postgres")
            return 2

    started = time.perf_counter()
    tickets = build_tickets(n)
    built = time.perf_counter() - started
    for line in describe(tickets):
        print(line)
    print(
        f"JSON: {'orjson' if orjson is not None else 'json'} on both sides; tickets built in "
        f"{built:.1f} s before any timing  "
    )
    print(
        f"Timing: median of {save_repeat} interleaved repeats for bulk saves (fresh database "
        f"each), {read_repeat} for reads ({min(gets, n):,} random gets, {due_calls} "
        "due_before pages, one full listing per repeat); gc off inside the timed region  "
    )

    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as work:
        print("\n## SQLite (a file in WAL mode, synchronous=FULL)\n")
        sq = run_sqlite(tickets, work, save_repeat, read_repeat, gets, due_calls)
        print("\n".join(sqlite_table(sq, n)))
        print(
            "\nEvery raw database was checked to hold byte-identical rows (documents and "
            "columns; outbox too for raw + outbox); loaded tickets, the due_before page and "
            "the listing were checked equal."
        )

        pg: PostgresResults | None = None
        print("\n## PostgreSQL\n")
        if pg_skip is not None:
            print(f"Skipped: {pg_skip}")
        else:
            pg = run_postgres(tickets, args.postgres_url, save_repeat, read_repeat, gets)
            print(f"Server: PostgreSQL {pg.server} at {args.postgres_url}  \n")
            print("\n".join(postgres_table(pg, n)))
            print(
                "\nThe three tables were checked to hold identical rows (document text and "
                "columns); loaded tickets were checked equal."
            )

        lines, met = goals(sq, pg)
        print("\n## Goals\n")
        print("\n".join(lines))

        if args.profile:
            sample = tickets[: min(10_000, n)]
            print("\n".join(stage_breakdown(sample, work)))
            if pg is not None:
                print("\n".join(postgres_stage_breakdown(sample, args.postgres_url)))
            print("\n".join(profile_saves(sample, work, None if pg is None else args.postgres_url)))
    print(f"\nTotal time {time.perf_counter() - started:.0f} s; {load_average(at='the end')}")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
