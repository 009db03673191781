"""The PostgreSQL adapter (psycopg 3): install ``csdomain[postgres]``.

Open a store with a libpq URL::

    store = open_store("postgresql://app@db.internal/desk", tenant="acme", create=True)
    store = open_store("postgres://app@db/desk?schema=support&pool_size=10", tenant="acme")

``postgresql://`` and ``postgres://`` URLs take every libpq parameter
(``sslmode``, ``connect_timeout``, ``application_name``, ...) and two of
csdomain's own, removed before the URL reaches libpq (values are
percent-decoded as libpq does: ``%20`` is a space, ``+`` a plus sign):

``schema=NAME``
    The PostgreSQL schema holding csdomain's tables (default ``csdomain``, so
    they never mix with an app's tables in ``public``). The name is used
    exactly as given, case-sensitive, always quoted as an identifier; at most
    63 bytes. Every tenant shares the schema's tables (tenant is a column).
``pool_size=N``
    Use a :class:`psycopg_pool.ConnectionPool` of at most ``N`` connections
    instead of one connection per thread (see *Threading*).

An app that already holds a psycopg connection or pool uses it directly:
:func:`store_on_connection` (the store's units of work then become part of the
app's transaction) or :func:`store_on_pool`.

Schema
    A schema without csdomain's tables is no store: opening it raises
    :class:`~csdomain.errors.NoStoreError` unless ``create=True`` is passed,
    which creates them. The tables are versioned in ``csdomain_schema`` (one
    row per applied version). Migrations (:data:`MIGRATIONS`) are
    forward-only and run in order, in one transaction that holds
    ``pg_advisory_xact_lock`` on a fixed key (per schema), so processes
    starting together migrate once. Version 1 (csdomain 0.1) is moved forward
    in place: its ``records`` and ``tickets`` tables become ``legacy_records``
    and ``legacy_tickets`` until the store has moved their rows (then they are
    dropped), ``contacts`` is dropped (the store recomputes it) and the outbox
    gains its lease columns. A schema newer than this csdomain's raises
    :class:`~csdomain.errors.SchemaError` naming both versions, and so does a
    schema holding tables of csdomain's names without csdomain's version
    table, even with ``create=True``. Deployments that forbid DDL at run time
    call :func:`migrate` from a deploy step with a privileged connection; an
    up-to-date schema is only read, never locked.

    Each declared collection has a table ``c_<name>`` (tenant, key, version,
    document and one column per single-valued column, ``UNIQUE (tenant,
    column)`` for a unique one), a table ``c_<name>__<column>`` of (tenant,
    value, key) entries per multiple column, ``c_<name>__events`` for event
    streams, and one index per declared query. Declarations are recorded in
    ``csdomain_collections``; :meth:`PostgresBackend.declare` creates what is
    missing under the same advisory lock, adds the columns a declaration
    gains (columns are never dropped) and marks the other tenants' rows for
    recomputing in ``csdomain_reindex``. Names longer than PostgreSQL's 63
    bytes are shortened with a hash.

    Documents are stored in ``json`` columns, not ``jsonb``: ``json`` keeps
    the text exactly as written (validated, and castable to ``jsonb`` for
    ad-hoc queries), while ``jsonb`` rewrites numbers (``1e300`` comes back as
    an integer, ``-0.0`` as ``0.0``) and rejects ``\\u0000``, which custom
    fields and customer attributes may hold. Text columns use ``COLLATE "C"``
    so that pages come in code point order on every server, as in the other
    adapters.

Round trips
    Inside a unit of work, writes are queued and sent together in one
    pipeline (psycopg's pipeline mode): before the unit of work next reads,
    and at its end together with ``BEGIN`` and ``COMMIT``, so a unit of work
    that only writes (a save) is one round trip, and one of a single write is
    that statement alone. Each update and delete checks on the server that
    it found its row at the expected version; a failed check, a key or
    unique value taken, or an event already stored aborts the transaction
    before ``COMMIT`` runs, and the call that sent the writes (the next read,
    or the end of the unit of work) raises the
    :class:`~csdomain.errors.ConflictError` or
    :class:`~csdomain.errors.NotFoundError`, asking the database after the
    rollback for the stored version or the key holding the value. The unit
    of work is then rolled back: any further call in it raises
    ``StorageError``.

Threading
    Without a pool, each thread that uses the store gets a connection of its
    own, opened on first use (autocommit, with every unit of work an explicit
    ``BEGIN ... COMMIT`` or a single statement), so threads never share a
    transaction; a call outside a unit of work is one statement and never
    leaves a connection idle in a transaction. The connections of finished threads are closed
    when another thread opens one, and all of them by
    :meth:`PostgresBackend.close`. With a pool, a call borrows a connection
    for its duration and a unit of work holds one from start to end: prefer a
    pool when threads come and go (a thread pool of a web server). A store on
    an app's connection is used by one thread at a time, as the connection is.

Concurrency
    Units of work run at the server's isolation level (``READ COMMITTED`` by
    default). Saves are optimistic: ``UPDATE ... WHERE version = n`` waits for
    a concurrent writer of the row and then matches nothing, so of two saves
    of one version exactly one wins and the other raises ``ConflictError``;
    no update is ever lost. Outbox claims lock with ``FOR UPDATE SKIP
    LOCKED``, so relays claiming at once get disjoint messages.

Errors
    Every driver error becomes one :class:`~csdomain.errors.StorageError`
    subclass, with the psycopg exception as its ``__cause__`` and its SQLSTATE
    and the server's primary message (never the statement) in the message:

    * ``40001`` serialization_failure, ``40P01`` deadlock_detected and
      ``55P03`` lock_not_available (``lock_timeout``, ``NOWAIT``):
      :class:`~csdomain.errors.RetryableStorageError`, retry the unit of work;
    * a server that cannot be reached, refuses the login or drops the
      connection (psycopg ``OperationalError`` without a SQLSTATE, class
      ``08``, ``57P01``-``57P03``, a pool timeout):
      :class:`~csdomain.errors.StorageConnectionError`;
    * anything else: :class:`~csdomain.errors.StorageError` itself.

    URLs in messages and reprs have their password masked
    (:func:`csdomain.privacy.mask_url`, and a ``password=`` parameter too).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol, cast
from urllib.parse import unquote

from csdomain.errors import (
    ConflictError,
    NoStoreError,
    NotFoundError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.privacy import mask_url
from csdomain.storage.backend import (
    SCHEMA_VERSION,
    Collection,
    Column,
    ColumnType,
    ColumnValues,
    NewRow,
    OutboxRow,
    Row,
    Select,
    StorageError,
    _store_for,
    check_filter,
    check_key,
    check_lease,
    check_projection,
)

try:
    import psycopg
    from psycopg import sql
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise StorageError(
        "the PostgreSQL adapter needs psycopg 3: install csdomain[postgres] "
        f"(pip install 'csdomain[postgres]'); {exc}"
    ) from exc

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from csdomain.storage import Store  # the return type only: stores come from _store_for

__all__ = [
    "DEFAULT_SCHEMA",
    "MIGRATIONS",
    "PostgresBackend",
    "migrate",
    "open_backend",
    "store_on_connection",
    "store_on_pool",
]

#: The schema csdomain's tables live in when the URL names none.
DEFAULT_SCHEMA: Final = "csdomain"

_LOCK_CLASS: Final = 0x6373_646D  # "csdm": the schema lock's key, with hashtext(schema)
_INT64: Final = range(-(2**63), 2**63)
#: Rows per INSERT statement of insert_many (all of them still go in one round trip).
_BATCH: Final = 2_000

_Connection = psycopg.Connection[Any]
_Cursor = psycopg.Cursor[Any]
#: A migration step: a statement (``{schema}`` is the schema) or a function of a cursor.
_Step = sql.SQL | Callable[[_Cursor, str], None]

# -- schema -------------------------------------------------------------------------


def _drop_empty_legacy(cur: _Cursor, schema: str) -> None:
    """Drop the version 1 tables once no tenant has rows left in them."""
    present = _tables(cur, schema, ("legacy_records", "legacy_tickets"))
    for name in present:
        cur.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(schema, name)))
        if cur.fetchone() is not None:
            return
    for name in present:
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, name)))


#: Forward-only migrations: the steps that bring the schema to each version.
MIGRATIONS: Final[dict[int, tuple[_Step, ...]]] = {
    1: (
        sql.SQL(
            "CREATE TABLE {schema}.records ("
            ' tenant TEXT COLLATE "C" NOT NULL,'
            ' collection TEXT COLLATE "C" NOT NULL,'
            ' key TEXT COLLATE "C" NOT NULL,'
            " version INTEGER NOT NULL,"
            " document JSON NOT NULL,"
            " PRIMARY KEY (tenant, collection, key))"
        ),
        sql.SQL(
            "CREATE TABLE {schema}.tickets ("
            ' tenant TEXT COLLATE "C" NOT NULL,'
            ' key TEXT COLLATE "C" NOT NULL,'
            " version INTEGER NOT NULL,"
            " document JSON NOT NULL,"
            ' status TEXT COLLATE "C" NOT NULL,'
            ' assignee_id TEXT COLLATE "C",'
            ' group_id TEXT COLLATE "C",'
            ' customer_id TEXT COLLATE "C",'
            ' kind TEXT COLLATE "C" NOT NULL,'
            ' priority TEXT COLLATE "C" NOT NULL,'
            " updated_at BIGINT NOT NULL,"
            " next_deadline BIGINT,"
            " event_count INTEGER NOT NULL,"
            " PRIMARY KEY (tenant, key))"
        ),
        sql.SQL("CREATE INDEX tickets_status ON {schema}.tickets (tenant, status, key)"),
        sql.SQL("CREATE INDEX tickets_assignee ON {schema}.tickets (tenant, assignee_id, key)"),
        sql.SQL("CREATE INDEX tickets_group ON {schema}.tickets (tenant, group_id, key)"),
        sql.SQL("CREATE INDEX tickets_customer ON {schema}.tickets (tenant, customer_id, key)"),
        sql.SQL("CREATE INDEX tickets_kind ON {schema}.tickets (tenant, kind, key)"),
        sql.SQL("CREATE INDEX tickets_priority ON {schema}.tickets (tenant, priority, key)"),
        sql.SQL(
            "CREATE INDEX tickets_next_deadline ON {schema}.tickets (tenant, next_deadline, key)"
            " WHERE next_deadline IS NOT NULL"
        ),
        sql.SQL(
            "CREATE TABLE {schema}.contacts ("
            ' tenant TEXT COLLATE "C" NOT NULL,'
            ' customer_id TEXT COLLATE "C" NOT NULL,'
            ' channel TEXT COLLATE "C" NOT NULL,'
            ' address TEXT COLLATE "C" NOT NULL,'
            " PRIMARY KEY (tenant, customer_id, channel, address))"
        ),
        sql.SQL("CREATE INDEX contacts_address ON {schema}.contacts (tenant, address)"),
        sql.SQL(
            "CREATE TABLE {schema}.outbox ("
            " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            ' tenant TEXT COLLATE "C" NOT NULL,'
            ' ticket_id TEXT COLLATE "C" NOT NULL,'
            " sequence INTEGER NOT NULL,"
            ' event_type TEXT COLLATE "C" NOT NULL,'
            " document JSON NOT NULL,"
            " published BOOLEAN NOT NULL DEFAULT false)"
        ),
        sql.SQL("CREATE INDEX outbox_published ON {schema}.outbox (tenant, published, id)"),
    ),
    2: (
        # Version 1 rows wait here until the store moves them (legacy_rows, drop_legacy).
        sql.SQL("ALTER TABLE {schema}.records RENAME TO legacy_records"),
        sql.SQL("ALTER TABLE {schema}.tickets RENAME TO legacy_tickets"),
        sql.SQL("DROP TABLE {schema}.contacts"),  # the store recomputes contact entries
        # The outbox keeps its rows and its identity (ids are never reused).
        sql.SQL("ALTER TABLE {schema}.outbox RENAME COLUMN ticket_id TO key"),
        sql.SQL(
            "ALTER TABLE {schema}.outbox"
            " ADD COLUMN stream TEXT COLLATE \"C\" NOT NULL DEFAULT 'tickets',"
            " ADD COLUMN state TEXT COLLATE \"C\" NOT NULL DEFAULT 'pending'"
            " CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'published', 'failed')),"
            ' ADD COLUMN lease_owner TEXT COLLATE "C",'
            " ADD COLUMN lease_until BIGINT,"
            " ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,"
            " ADD COLUMN failure TEXT"
        ),
        sql.SQL("ALTER TABLE {schema}.outbox ALTER COLUMN stream DROP DEFAULT"),
        sql.SQL("UPDATE {schema}.outbox SET state = 'published' WHERE published"),
        sql.SQL("ALTER TABLE {schema}.outbox DROP COLUMN published"),  # and its index
        sql.SQL("CREATE INDEX outbox_state ON {schema}.outbox (tenant, state, id)"),
        # Erasure finds a record's messages without reading the whole outbox.
        sql.SQL("CREATE INDEX outbox_record ON {schema}.outbox (tenant, stream, key)"),
        sql.SQL(
            "CREATE TABLE {schema}.csdomain_collections ("
            ' name TEXT COLLATE "C" PRIMARY KEY,'
            " declaration TEXT NOT NULL)"
        ),
        # Tenants whose rows of a collection lack the values of columns added since.
        sql.SQL(
            "CREATE TABLE {schema}.csdomain_reindex ("
            ' collection TEXT COLLATE "C" NOT NULL,'
            ' tenant TEXT COLLATE "C" NOT NULL,'
            " PRIMARY KEY (collection, tenant))"
        ),
        _drop_empty_legacy,
    ),
}

assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1)), "a migration is missing"

# Tables csdomain creates outside collections: present without csdomain_schema, they
# are another application's, and the schema is refused.
_OWN_TABLES: Final = (
    "records",
    "tickets",
    "contacts",
    "outbox",
    "csdomain_collections",
    "csdomain_reindex",
    "legacy_records",
    "legacy_tickets",
)

#: SQLSTATEs after which the same unit of work may simply run again.
_RETRYABLE: Final = frozenset({"40001", "40P01", "55P03"})
#: SQLSTATEs of a server going away: admin_shutdown, crash_shutdown, cannot_connect_now.
_GONE: Final = frozenset({"57P01", "57P02", "57P03"})
#: What the driver raises: its own errors, and a str it cannot encode.
_DRIVER: Final = (psycopg.Error, UnicodeEncodeError)


def _failure(what: str, exc: BaseException) -> StorageError:
    """The StorageError subclass for a driver error: one type per kind of failure."""
    state = getattr(exc, "sqlstate", None)
    code = f" [SQLSTATE {state}]" if state else ""
    # The server's primary message only: str(exc) may quote the statement.
    diag = getattr(exc, "diag", None)
    primary = diag.message_primary if state and diag is not None else None
    message = " ".join((primary or str(exc)).split()) or type(exc).__name__
    text = f"PostgreSQL could not {what}{code}: {message}"
    if state in _RETRYABLE:
        return RetryableStorageError(f"{text}; the unit of work was rolled back, retry it")
    if (
        state in _GONE
        or (state is not None and state.startswith("08"))
        or (state is None and isinstance(exc, psycopg.OperationalError))
    ):
        return StorageConnectionError(text)
    return StorageError(text)


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn driver errors raised inside into StorageError (the driver's error as cause)."""
    try:
        yield
    except _DRIVER as exc:
        raise _failure(what, exc) from exc


def _check_schema(schema: object) -> str:
    if (
        not isinstance(schema, str)
        or not schema
        or "\x00" in schema
        or len(schema.encode("utf-8", "surrogatepass")) > 63
    ):
        raise ValidationError.single(
            "postgres store",
            "schema",
            f"expected a schema name of 1 to 63 bytes without NUL, got {schema!r}",
        )
    return schema


def _check_create(create: object) -> bool:
    if not isinstance(create, bool):
        raise ValidationError.single("postgres store", "create", f"expected a bool, got {create!r}")
    return create


def _tables(cur: _Cursor, schema: str, names: Sequence[str]) -> list[str]:
    """Which of ``names`` are tables of ``schema``, in the order given."""
    cur.execute(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
        (schema, list(names)),
    )
    found = {name for (name,) in cur.fetchall()}
    return [name for name in names if name in found]


def _stored_version(cur: _Cursor, schema: str) -> int | None:
    """The schema's version; None when it has no version table (nothing is locked)."""
    if not _tables(cur, schema, ("csdomain_schema",)):
        return None
    cur.execute(
        sql.SQL("SELECT max(version) FROM {}").format(sql.Identifier(schema, "csdomain_schema"))
    )
    row = cur.fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _newer(schema: str, version: int) -> StorageError:
    return SchemaError(
        f"the PostgreSQL schema {schema!r} holds csdomain storage schema version {version}, "
        f"newer than version {SCHEMA_VERSION} that this csdomain reads and writes; "
        "upgrade csdomain (migrations are forward-only)"
    )


def _foreign(schema: str, detail: str) -> StorageError:
    return SchemaError(
        f"the PostgreSQL schema {schema!r} holds tables that csdomain did not create "
        f"({detail}) and no record of a csdomain schema; use another schema (?schema=NAME)"
    )


def _check_connection(connection: object) -> _Connection:
    if not isinstance(connection, psycopg.Connection):
        raise ValidationError.single(
            "postgres store",
            "connection",
            f"expected a psycopg.Connection, got {type(connection).__name__}",
        )
    return connection


def _prepare(connection: _Connection, schema: str, create: bool, where: str) -> int:
    """Check, create or upgrade csdomain's tables in ``schema``; return the version."""
    with (
        _translated(f"create or upgrade the csdomain tables in schema {schema!r}"),
        connection.transaction(),
        connection.cursor(row_factory=tuple_row) as cur,
    ):
        version = _stored_version(cur, schema)
        if version == SCHEMA_VERSION:
            return version
        if version is not None and version > SCHEMA_VERSION:
            raise _newer(schema, version)
        if not version:
            foreign = _tables(cur, schema, _OWN_TABLES)
            if foreign:
                raise _foreign(schema, f"tables {', '.join(foreign)}")
            if not create:
                raise NoStoreError(
                    f"the PostgreSQL schema {schema!r} at {where} holds no csdomain store; "
                    "pass create=True to create one"
                )
        return _migrate_locked(cur, schema)


def _migrate_locked(cur: _Cursor, schema: str) -> int:
    ident = sql.Identifier(schema)
    cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, schema))
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
    cur.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ).format(sql.Identifier(schema, "csdomain_schema"))
    )
    version = _stored_version(cur, schema) or 0  # again, now under the lock
    if version > SCHEMA_VERSION:
        raise _newer(schema, version)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for step in MIGRATIONS[target]:
            if not isinstance(step, sql.SQL):
                step(cur, schema)
                continue
            try:
                cur.execute(step.format(schema=ident))
            except (psycopg.errors.DuplicateTable, psycopg.errors.DuplicateObject) as exc:
                message = exc.diag.message_primary or type(exc).__name__
                raise _foreign(schema, message) from exc
        cur.execute(
            sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                sql.Identifier(schema, "csdomain_schema")
            ),
            (target,),
        )
    return SCHEMA_VERSION


def migrate(connection: psycopg.Connection[Any], schema: str = DEFAULT_SCHEMA) -> int:
    """Create or upgrade csdomain's tables in ``schema``; return the schema version.

    Runs in ``connection.transaction()`` (a savepoint when the connection is
    already in a transaction, which then also decides whether the tables
    stay). Call it to create or migrate a store at deploy time; stores opened
    with ``create=True`` call it too. ``SchemaError`` when the schema is newer
    than this csdomain or holds tables csdomain did not create.
    """
    schema = _check_schema(schema)
    return _prepare(_check_connection(connection), schema, True, "the connection")


# -- declared collections ------------------------------------------------------------

# As csdomain._kernel.collections.NAME_PATTERN: declarations are checked again here,
# since the names end up in DDL (always quoted as identifiers too).
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")
_RESERVED: Final = frozenset({"tenant", "key", "version", "document", "collection"})

_SQL_TYPES: Final = {
    ColumnType.TEXT: sql.SQL('TEXT COLLATE "C"'),
    ColumnType.INTEGER: sql.SQL("BIGINT"),
    ColumnType.INSTANT: sql.SQL("BIGINT"),
    ColumnType.BOOLEAN: sql.SQL("BOOLEAN"),
}
_ARRAYS: Final = {
    ColumnType.TEXT: "text[]",
    ColumnType.INTEGER: "bigint[]",
    ColumnType.INSTANT: "bigint[]",
    ColumnType.BOOLEAN: "boolean[]",
}
_KINDS: Final = {
    ColumnType.TEXT: "a text",
    ColumnType.INTEGER: "a 64-bit integer",
    ColumnType.INSTANT: "an instant (microseconds since the epoch)",
    ColumnType.BOOLEAN: "a boolean",
}


def _ident(name: str) -> str:
    """A relation name for ``name``: PostgreSQL keeps 63 bytes, so longer names are
    shortened with a hash of the whole (distinct names stay distinct)."""
    if len(name) <= 63:
        return name
    return f"{name[:54]}_{hashlib.sha256(name.encode()).hexdigest()[:8]}"


class _Spec(NamedTuple):
    """A stored column: its type, uniqueness and multiplicity."""

    type: ColumnType
    unique: bool
    multiple: bool

    def shown(self) -> str:
        flags = [f for f, on in (("unique", self.unique), ("multiple", self.multiple)) if on]
        return " ".join([self.type.value, *flags])


class _Declaration:
    """What a collection's tables hold: every column ever declared, the queries, events."""

    __slots__ = ("columns", "events", "queries")

    def __init__(
        self,
        columns: dict[str, _Spec],
        queries: dict[str, tuple[tuple[str, ...], str]],
        events: bool,
    ) -> None:
        self.columns = columns
        self.queries = queries
        self.events = events

    @classmethod
    def of(cls, collection: Collection[Any]) -> _Declaration:
        """The declaration of ``collection``, its names checked again (they become DDL)."""
        subject = f"collection {getattr(collection, 'name', '?')!r}"
        if not isinstance(collection, Collection):
            raise ValidationError.single(
                "postgres store", "collection", f"expected a Collection, got {collection!r}"
            )
        _check_name(subject, "name", collection.name)
        columns: dict[str, _Spec] = {}
        for column in collection.columns:
            _check_name(subject, "columns", column.name)
            if column.name in _RESERVED or column.name in columns:
                raise ValidationError.single(
                    subject, "columns", f"column name {column.name!r} is reserved or repeated"
                )
            columns[column.name] = _Spec(
                ColumnType(column.type), bool(column.unique), bool(column.multiple)
            )
        queries: dict[str, tuple[tuple[str, ...], str]] = {}
        for query in collection.queries:
            _check_name(subject, "queries", query.name)
            where = tuple(query.where)
            order = query.order
            if any(c not in columns for c in where) or (
                order != "key" and (order not in columns or columns[order].multiple)
            ):
                raise ValidationError.single(
                    subject, f"queries.{query.name}", "names columns the collection lacks"
                )
            queries[query.name] = (where, order)
        return cls(columns, queries, bool(collection.events))

    @classmethod
    def parse(cls, name: str, text: str) -> _Declaration:
        """A declaration as ``csdomain_collections`` stores it; SchemaError if damaged."""
        try:
            data = json.loads(text)
            columns = {
                str(c): _Spec(ColumnType(s["type"]), bool(s["unique"]), bool(s["multiple"]))
                for c, s in data["columns"].items()
            }
            queries = {
                str(q): (tuple(str(w) for w in s["where"]), str(s["order"]))
                for q, s in data["queries"].items()
            }
            events = data["events"]
            if not isinstance(events, bool) or not all(
                _NAME.fullmatch(n) for n in [name, *columns, *queries]
            ):
                raise ValueError("a name or flag of an unexpected form")
            for where, order in queries.values():
                if any(c not in columns for c in where) or (
                    order != "key" and order not in columns
                ):
                    raise ValueError("a query names a column that is not stored")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SchemaError(
                f"the stored declaration of collection {name!r} in csdomain_collections is "
                f"damaged ({exc}); restore it from a backup"
            ) from exc
        return cls(columns, queries, events)

    def text(self) -> str:
        """The JSON text ``csdomain_collections`` keeps."""
        return json.dumps(
            {
                "columns": {
                    c: {"type": s.type.value, "unique": s.unique, "multiple": s.multiple}
                    for c, s in self.columns.items()
                },
                "queries": {
                    q: {"where": list(w), "order": o} for q, (w, o) in self.queries.items()
                },
                "events": self.events,
            },
            separators=(",", ":"),
        )

    def covers(self, wanted: _Declaration) -> bool:
        """Whether these tables serve ``wanted`` as they are."""
        return (
            all(self.columns.get(c) == s for c, s in wanted.columns.items())
            and all(self.queries.get(q) == s for q, s in wanted.queries.items())
            and (self.events or not wanted.events)
        )

    def merged(self, name: str, wanted: _Declaration) -> _Declaration:
        """These tables extended to serve ``wanted``; SchemaError for a changed column."""
        for column, spec in wanted.columns.items():
            stored = self.columns.get(column)
            if stored is not None and stored != spec:
                raise SchemaError(
                    f"collection {name!r} column {column!r} is stored as {stored.shown()} "
                    f"but declared as {spec.shown()}; a stored column keeps its definition: "
                    "declare a column of another name instead"
                )
        return _Declaration(
            {**self.columns, **wanted.columns},
            {**self.queries, **wanted.queries},
            self.events or wanted.events,
        )

    def relations(self, name: str) -> set[str]:
        """The tables and constraint indexes these tables take (query indexes aside)."""
        names = {_ident(f"c_{name}"), _ident(f"c_{name}_pkey")}
        for column, spec in self.columns.items():
            if spec.multiple:
                entries = f"c_{name}__{column}"
                names |= {_ident(entries), _ident(f"{entries}_pkey"), _ident(f"{entries}_key")}
            elif spec.unique:
                names.add(_ident(f"u_{name}__{column}"))
        if self.events:
            names |= {_ident(f"c_{name}__events"), _ident(f"c_{name}__events_pkey")}
        return names


def _check_name(subject: str, path: str, name: object) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError.single(
            subject,
            path,
            f"expected a lower-case identifier (a letter, then up to 39 letters, digits or _), "
            f"got {name!r}",
        )


def _index_name(name: str, query: str, where: tuple[str, ...], order: str) -> str:
    # The hash of the definition: a query given new columns gets an index of its own.
    digest = hashlib.sha256(json.dumps([name, list(where), order]).encode()).hexdigest()[:6]
    return _ident(f"i_{name}__{query}_{digest}")


def _ddl(
    schema: str, name: str, decl: _Declaration, before: _Declaration | None
) -> list[sql.Composed]:
    """The statements that make ``decl``'s tables from ``before``'s (None: nothing)."""

    def rel(relation: str) -> sql.Identifier:
        return sql.Identifier(schema, _ident(relation))

    def local(relation: str) -> sql.Identifier:
        return sql.Identifier(_ident(relation))

    old_columns = {} if before is None else before.columns
    old_queries = {} if before is None else before.queries
    table = rel(f"c_{name}")
    statements: list[sql.Composed] = []
    new_single = [
        (c, s) for c, s in decl.columns.items() if not s.multiple and c not in old_columns
    ]
    if before is None:
        parts: list[sql.Composable] = [
            sql.SQL('tenant TEXT COLLATE "C" NOT NULL'),
            sql.SQL('key TEXT COLLATE "C" NOT NULL'),
            sql.SQL("version BIGINT NOT NULL"),
            sql.SQL("document JSON NOT NULL"),
        ]
        parts += [
            sql.SQL("{} {}").format(sql.Identifier(c), _SQL_TYPES[s.type]) for c, s in new_single
        ]
        parts.append(
            sql.SQL("CONSTRAINT {} PRIMARY KEY (tenant, key)").format(local(f"c_{name}_pkey"))
        )
        parts += [
            sql.SQL("CONSTRAINT {} UNIQUE (tenant, {})").format(
                local(f"u_{name}__{c}"), sql.Identifier(c)
            )
            for c, s in new_single
            if s.unique
        ]
        statements.append(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(parts)))
    else:
        for column, spec in new_single:
            statements.append(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    table, sql.Identifier(column), _SQL_TYPES[spec.type]
                )
            )
            if spec.unique:
                statements.append(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE (tenant, {})").format(
                        table, local(f"u_{name}__{column}"), sql.Identifier(column)
                    )
                )
    for column, spec in decl.columns.items():
        if not spec.multiple or column in old_columns:
            continue
        entries = f"c_{name}__{column}"
        key = sql.SQL("tenant, value") if spec.unique else sql.SQL("tenant, value, key")
        statements.append(
            sql.SQL(
                'CREATE TABLE {} (tenant TEXT COLLATE "C" NOT NULL, value {} NOT NULL,'
                ' key TEXT COLLATE "C" NOT NULL, CONSTRAINT {} PRIMARY KEY ({}))'
            ).format(rel(entries), _SQL_TYPES[spec.type], local(f"{entries}_pkey"), key)
        )
        statements.append(
            sql.SQL("CREATE INDEX {} ON {} (tenant, key)").format(
                local(f"{entries}_key"), rel(entries)
            )
        )
    if decl.events and not (before is not None and before.events):
        statements.append(
            sql.SQL(
                'CREATE TABLE {} (tenant TEXT COLLATE "C" NOT NULL,'
                ' key TEXT COLLATE "C" NOT NULL, sequence BIGINT NOT NULL,'
                " document JSON NOT NULL, CONSTRAINT {} PRIMARY KEY (tenant, key, sequence))"
            ).format(rel(f"c_{name}__events"), local(f"c_{name}__events_pkey"))
        )
    for query, (where, order) in decl.queries.items():
        if old_queries.get(query) == (where, order):
            continue
        single = [c for c in where if not decl.columns[c].multiple]
        if not single and order == "key":
            continue  # the primary key (tenant, key) serves it
        columns = ["tenant", *dict.fromkeys(single), *([order] if order != "key" else []), "key"]
        partial = (
            sql.SQL(" WHERE {} IS NOT NULL").format(sql.Identifier(order))
            if order != "key"
            else sql.SQL("")
        )
        statements.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}){}").format(
                sql.Identifier(_index_name(name, query, where, order)),
                table,
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                partial,
            )
        )
    return statements


def _q(statement: sql.Composable) -> bytes:
    # Statements on the hot paths are rendered once: composing costs more than a round trip.
    return statement.as_bytes(None)


class _Layout:
    """A declared collection's tables, with the statements on them rendered once."""

    def __init__(self, schema: str, name: str, what: str, decl: _Declaration) -> None:
        self.name = name
        self.what = what
        self.decl = decl
        self.specs = decl.columns
        self.known = frozenset(decl.columns)
        self.single = tuple(c for c, s in decl.columns.items() if not s.multiple)
        self.multiple = tuple(c for c, s in decl.columns.items() if s.multiple)
        self.events = decl.events

        def rel(relation: str) -> sql.Identifier:
            return sql.Identifier(schema, _ident(relation))

        table = rel(f"c_{name}")
        self.table = table
        #: Constraint name -> what its violation means: ("key" | "unique" | "event", column).
        self.constraints: dict[str, tuple[str, str]] = {_ident(f"c_{name}_pkey"): ("key", "")}
        single = [sql.Identifier(c) for c in self.single]
        types = [_ARRAYS[self.specs[c].type] for c in self.single]
        self.q_get = _q(
            sql.SQL(
                "SELECT key, version, document::text FROM {} WHERE tenant = %s AND key = %s"
            ).format(table)
        )
        self.q_get_many = _q(
            sql.SQL(
                "SELECT key, version, document::text FROM {}"
                " WHERE tenant = %s AND key = ANY(%b::text[])"
            ).format(table)
        )
        self.q_versions = _q(
            sql.SQL(
                "SELECT key, version FROM {} WHERE tenant = %s AND key = ANY(%b::text[])"
            ).format(table)
        )
        # One array per column (unnest): the statement stays the same whatever the
        # batch size, so it is parsed once. Arrays travel in binary (%b): text arrays
        # would escape every quote.
        aliases = [sql.Identifier(f"v{i}") for i in range(len(single))]
        self.q_insert = _q(
            sql.SQL(
                "INSERT INTO {} (tenant, key, version, document{})"
                " SELECT %s, r.k, 1, r.d::json{} FROM unnest(%b::text[], %b::text[]{}) AS r(k, d{})"
            ).format(
                table,
                sql.SQL("").join(sql.SQL(", {}").format(c) for c in single),
                sql.SQL("").join(sql.SQL(", r.{}").format(a) for a in aliases),
                sql.SQL("").join(sql.SQL(", %b::" + t) for t in types),
                sql.SQL("").join(sql.SQL(", {}").format(a) for a in aliases),
            )
        )
        sets = sql.SQL("").join(sql.SQL(", {} = %s").format(c) for c in single)
        # Updates and deletes check on the server that they found their row: 1 / 0
        # aborts the transaction, so a pipeline sent with its COMMIT never commits.
        self.q_update = _q(
            sql.SQL(
                "WITH u AS (UPDATE {} SET version = version + 1, document = %s::json{}"
                " WHERE tenant = %s AND key = %s AND version = %s RETURNING 1)"
                " SELECT 1 / count(*) FROM u"
            ).format(table, sets)
        )
        self.q_set_columns = _q(
            sql.SQL(
                "WITH u AS (UPDATE {} SET version = version{}"
                " WHERE tenant = %s AND key = %s RETURNING 1) SELECT 1 / count(*) FROM u"
            ).format(table, sets)
        )
        self.q_rewrite = _q(
            sql.SQL(
                "WITH u AS (UPDATE {} SET document = %s::json WHERE tenant = %s AND key = %s"
                " RETURNING 1) SELECT 1 / count(*) FROM u"
            ).format(table)
        )
        self.q_delete = _q(
            sql.SQL(
                "WITH d AS (DELETE FROM {} WHERE tenant = %s AND key = %s AND version = %s"
                " RETURNING 1) SELECT 1 / count(*) FROM d"
            ).format(table)
        )
        #: Per unique single column: who holds these values.
        self.q_holders: dict[str, bytes] = {}
        for column in self.single:
            spec = self.specs[column]
            if spec.unique:
                self.constraints[_ident(f"u_{name}__{column}")] = ("unique", column)
                self.q_holders[column] = _q(
                    sql.SQL("SELECT {}, key FROM {} WHERE tenant = %s AND {} = ANY(%b::{})").format(
                        sql.Identifier(column),
                        table,
                        sql.Identifier(column),
                        sql.SQL(_ARRAYS[spec.type]),
                    )
                )
        #: Per multiple column: its entries table, insert, delete and holders statements.
        self.entries: dict[str, sql.Identifier] = {}
        self.q_entries_insert: dict[str, bytes] = {}
        self.q_entries_delete: dict[str, bytes] = {}
        for column in self.multiple:
            spec = self.specs[column]
            entries = rel(f"c_{name}__{column}")
            array = sql.SQL(_ARRAYS[spec.type])
            self.entries[column] = entries
            self.constraints[_ident(f"c_{name}__{column}_pkey")] = (
                "unique" if spec.unique else "entries",
                column,
            )
            self.q_entries_insert[column] = _q(
                sql.SQL(
                    "INSERT INTO {} (tenant, value, key) SELECT %s, r.v, r.k"
                    " FROM unnest(%b::{}, %b::text[]) AS r(v, k)"
                ).format(entries, array)
            )
            self.q_entries_delete[column] = _q(
                sql.SQL("DELETE FROM {} WHERE tenant = %s AND key = %s").format(entries)
            )
            self.q_holders[column] = _q(
                sql.SQL(
                    "SELECT value, key FROM {} WHERE tenant = %s AND value = ANY(%b::{})"
                ).format(entries, array)
            )
        events = rel(f"c_{name}__events")
        if self.events:
            self.constraints[_ident(f"c_{name}__events_pkey")] = ("event", "")
        self.q_events_insert = _q(
            sql.SQL(
                "INSERT INTO {} (tenant, key, sequence, document) SELECT %s, r.k, r.s, r.d::json"
                " FROM unnest(%b::text[], %b::bigint[], %b::text[]) AS r(k, s, d)"
            ).format(events)
        )
        self.q_events_read_one = _q(
            sql.SQL(
                "SELECT document::text FROM {} WHERE tenant = %s AND key = %s"
                " AND sequence >= 0 AND sequence < %s ORDER BY sequence"
            ).format(events)
        )
        # Each stream read through its primary key whatever the plan: OFFSET 0 keeps
        # the planner from turning the lateral read into a join over every event.
        self.q_events_read = _q(
            sql.SQL(
                "SELECT s.k, e.document::text"
                " FROM unnest(%b::text[], %b::bigint[]) WITH ORDINALITY AS s(k, n, o)"
                " CROSS JOIN LATERAL (SELECT sequence, document FROM {}"
                " WHERE tenant = %s AND key = s.k AND sequence >= 0 AND sequence < s.n"
                " OFFSET 0) AS e ORDER BY s.o, e.sequence"
            ).format(events)
        )
        self.q_events_stored = _q(
            sql.SQL(
                "SELECT e.key, e.sequence FROM {} AS e"
                " JOIN unnest(%b::text[], %b::bigint[]) AS r(k, s) ON e.key = r.k"
                " AND e.sequence = r.s WHERE e.tenant = %s"
            ).format(events)
        )
        self.q_events_rewrite = _q(
            sql.SQL(
                "UPDATE {} AS e SET document = r.d::json"
                " FROM unnest(%b::bigint[], %b::text[]) AS r(s, d)"
                " WHERE e.tenant = %s AND e.key = %s AND e.sequence = r.s"
            ).format(events)
        )
        self.q_events_delete = _q(
            sql.SQL("DELETE FROM {} WHERE tenant = %s AND key = %s").format(events)
        )
        self._selects: dict[tuple[Any, ...], bytes] = {}

    # -- column values ----------------------------------------------------------------

    def check_columns(self, columns: ColumnValues) -> None:
        """StorageError for a column this collection does not have."""
        if not self.known.issuperset(columns):
            unknown = sorted(set(columns) - self.known)
            raise StorageError(
                f"collection {self.name!r} has no column {unknown[0]!r}; "
                f"columns: {list(self.specs)}"
            )

    def entries_of(self, column: str, value: Any) -> list[Any]:
        """A multiple column's values as entries: each once, in the order given."""
        if value is None:
            return []
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, set, frozenset)):
            raise StorageError(
                f"{self.what} column {column!r} holds several values: "
                f"expected a tuple or set of values, got {value!r}"
            )
        if None in value:
            raise StorageError(
                f"{self.what} column {column!r}: a multiple column's values cannot be None, "
                f"got {sorted(value, key=repr)!r}"
            )
        return list(dict.fromkeys(value))

    def order_spec(self, order: str) -> _Spec | None:
        """The order column's spec (None: the key); StorageError for another order."""
        if order == "key":
            return None
        spec = self.specs.get(order)
        if spec is None or spec.multiple:
            raise StorageError(
                f"collection {self.name!r} cannot be ordered by {order!r}; "
                f"expected 'key' or a single-valued column: {list(self.single)}"
            )
        return spec

    # -- queries ----------------------------------------------------------------------

    def select_sql(
        self,
        where: tuple[tuple[str, bool, bool], ...],
        order: str,
        bounds: tuple[bool, bool, bool],
        count: bool = False,
        columns: tuple[str, ...] | None = None,
    ) -> bytes:
        """The statement of a query shape: which filters (with values, with NULL), the
        order, which of low, high and after are given, and the columns read instead of
        the document (if any); or the count of the rows."""
        shape = (where, order, bounds, count, columns)
        found = self._selects.get(shape)
        if found is not None:
            return found
        conditions = self._conditions(where)
        table = self.table
        if count:
            statement = sql.SQL("SELECT count(*) FROM {} AS m WHERE {}").format(
                table, sql.SQL(" AND ").join(conditions)
            )
        else:
            low, high, after = bounds
            by = sql.Identifier("m", "key" if order == "key" else order)
            if order != "key":
                conditions.append(sql.SQL("{} IS NOT NULL").format(by))
            if low:
                conditions.append(sql.SQL("{} >= %s").format(by))
            if high:
                conditions.append(sql.SQL("{} < %s").format(by))
            if after:
                conditions.append(
                    sql.SQL("m.key > %s")
                    if order == "key"
                    else sql.SQL("({}, m.key) > (%s, %s)").format(by)
                )
            position = sql.SQL("m.key") if order == "key" else sql.SQL("{}, m.key").format(by)
            payload = (
                sql.SQL(", m.document::text")
                if columns is None
                else sql.SQL("").join(
                    sql.SQL(", {}").format(sql.Identifier("m", c)) for c in columns
                )
            )
            statement = sql.SQL(
                "SELECT {}, m.version{} FROM {} AS m WHERE {} ORDER BY {} LIMIT %s"
            ).format(position, payload, table, sql.SQL(" AND ").join(conditions), position)
        rendered = _q(statement)
        self._selects[shape] = rendered
        return rendered

    def lease_sql(self, where: tuple[tuple[str, bool, bool], ...], order: str, low: bool) -> bytes:
        """The one statement of a lease: lock the lowest due rows of the shape
        (skipping rows others hold), set their order column, bump their versions.

        Parameters: ``until``, the tenant, the filters' values, high, [low], the
        limit, the tenant again. It returns ``(old order value, key, new version, document)``.
        """
        shape = ("lease", where, order, low)
        found = self._selects.get(shape)
        if found is not None:
            return found
        conditions = self._conditions(where)
        by = sql.Identifier("m", order)
        conditions.append(sql.SQL("{} < %s").format(by))  # not NULL, as NULL < x is not true
        if low:
            conditions.append(sql.SQL("{} >= %s").format(by))
        column = sql.Identifier(order)
        statement = sql.SQL(
            "UPDATE {} AS t SET {} = %s, version = t.version + 1"
            " FROM (SELECT m.key, {} AS old FROM {} AS m WHERE {} ORDER BY {}, m.key LIMIT %s"
            " FOR UPDATE OF m SKIP LOCKED) AS s"
            " WHERE t.tenant = %s AND t.key = s.key"
            " RETURNING s.old, t.key, t.version, t.document::text"
        ).format(self.table, column, by, self.table, sql.SQL(" AND ").join(conditions), by)
        rendered = _q(statement)
        self._selects[shape] = rendered
        return rendered

    def _conditions(self, where: tuple[tuple[str, bool, bool], ...]) -> list[sql.Composable]:
        """The tests of a filter shape on rows ``m`` (parameters: the tenant, then each
        filter's values)."""
        conditions: list[sql.Composable] = [sql.SQL("m.tenant = %s")]
        for name, values, null in where:
            spec = self.specs[name]
            array = sql.SQL(_ARRAYS[spec.type])
            if spec.multiple:  # served by the entries table and its primary key
                conditions.append(
                    sql.SQL(
                        "EXISTS (SELECT 1 FROM {} AS e WHERE e.tenant = m.tenant"
                        " AND e.key = m.key AND e.value = ANY(%b::{}))"
                    ).format(self.entries[name], array)
                )
                continue
            column = sql.Identifier("m", name)
            tests: list[sql.Composable] = []
            if values:
                tests.append(sql.SQL("{} = ANY(%b::{})").format(column, array))
            if null:
                tests.append(sql.SQL("{} IS NULL").format(column))
            joined = sql.SQL(" OR ").join(tests)
            conditions.append(sql.SQL("({})").format(joined) if len(tests) > 1 else joined)
        return conditions


def _storable(kind: ColumnType, value: Any) -> Any:
    """``value`` as a stored value of ``kind`` can equal it, or None when none can
    (another type, a text PostgreSQL cannot hold, an integer beyond 64 bits)."""
    if kind is ColumnType.TEXT:
        if not isinstance(value, str) or "\x00" in value:
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return value
    if kind is ColumnType.BOOLEAN:
        if isinstance(value, bool):
            return value
        return bool(value) if type(value) is int and value in (0, 1) else None
    return value if type(value) is int and value in _INT64 else None


# -- units of work -----------------------------------------------------------------------

#: Writes whose statement checks that it found its row (1 / 0 otherwise).
_GUARDED: Final = frozenset({"update", "set_columns", "rewrite", "delete"})


class _Write:
    """A statement queued in a unit of work, and what explains its failure.

    ``kind`` says what it does; ``keys`` are the records it writes and
    ``values`` what it writes of their unique columns (per column for an
    insert, the mapping given for an update, the entries for an entries write).
    """

    __slots__ = ("expected", "keys", "kind", "layout", "params", "query", "values")

    def __init__(
        self,
        query: bytes,
        params: list[Any],
        kind: str = "plain",
        layout: _Layout | None = None,
        keys: list[str] | None = None,
        values: Any = None,
        expected: int | None = None,
    ) -> None:
        self.query = query
        self.params = params
        self.kind = kind
        self.layout = layout
        self.keys = keys or []
        self.values = values
        self.expected = expected

    def doing(self) -> str:
        """What the write does, for messages."""
        if self.layout is None:
            return "write to the outbox" if self.kind == "outbox" else "write"
        verb = _VERBS.get(self.kind, "write")
        what = self.layout.what
        keys = list(dict.fromkeys(self.keys))
        if len(keys) == 1:
            return f"{verb} {what} {keys[0]!r}"
        return f"{verb} {len(keys)} {what} records"


#: What each kind of write does, for messages.
_VERBS: Final = {
    "insert": "insert",
    "update": "update",
    "set_columns": "set the columns of",
    "rewrite": "rewrite",
    "delete": "delete",
    "entries": "index the values of",
    "events": "append events of",
}


class _Unit:
    """One unit of work: its connection, what it still has to send, how it ends."""

    __slots__ = (
        "begin",
        "begun",
        "commit",
        "conn",
        "declared",
        "failed",
        "outbox",
        "rollback",
        "writes",
    )

    def __init__(
        self,
        conn: _Connection,
        begin: bytes | None,
        commit: tuple[bytes, ...],
        rollback: tuple[bytes, ...],
    ) -> None:
        self.conn = conn
        self.begin = begin  # None: the connection begins by itself (autocommit off)
        self.commit = commit
        self.rollback = rollback
        self.begun = False  # whether anything was sent (the begin statement first)
        self.writes: list[_Write] = []
        self.outbox: _Write | None = None  # this batch's outbox insert, extended in place
        self.failed: BaseException | None = None
        self.declared: list[str] = []  # collections declared inside: forgotten on rollback


_BEGIN: Final = b"BEGIN"
_SAVEPOINT: Final = b"SAVEPOINT csdomain_unit"


def _unit_on(conn: _Connection) -> _Unit:
    """A unit of work on ``conn``: its own transaction, or a savepoint of the open one."""
    status = conn.info.transaction_status
    if status == TransactionStatus.IDLE:
        begin = _BEGIN if conn.autocommit else None
        return _Unit(conn, begin, (b"COMMIT",), (b"ROLLBACK",))
    if status == TransactionStatus.INTRANS:
        return _Unit(
            conn,
            _SAVEPOINT,
            (b"RELEASE SAVEPOINT csdomain_unit",),
            (b"ROLLBACK TO SAVEPOINT csdomain_unit", b"RELEASE SAVEPOINT csdomain_unit"),
        )
    if status == TransactionStatus.INERROR:
        raise StorageError(
            "the connection's transaction has failed; roll it back before using the store"
        )
    raise StorageError(f"the connection is busy (transaction status {status.name})")


def _standalone(conn: _Connection) -> AbstractContextManager[Any]:
    """What wraps a call made outside a unit of work on ``conn``."""
    # A read on an idle, non-autocommit connection would open a transaction and leave
    # it open; give it one of its own. Inside the app's transaction, just take part.
    if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
        return conn.transaction()
    return nullcontext()


# -- where connections come from -------------------------------------------------------


class _Source(Protocol):
    def lease(self) -> AbstractContextManager[_Connection]:
        """A connection for one call or one unit of work."""

    def close(self) -> None:
        """Release what the source owns."""


class _ThreadConnections:
    """One autocommit connection per thread, opened on first use."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, _Connection]] = []
        self._closed = False

    def lease(self) -> AbstractContextManager[_Connection]:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self._connect(conn)
        elif conn.info.transaction_status != TransactionStatus.IDLE:
            try:  # left in a transaction by a rollback that failed
                conn.execute(b"ROLLBACK")
            except psycopg.Error:
                conn = self._connect(conn)
        return nullcontext(conn)

    def _connect(self, old: _Connection | None) -> _Connection:
        return self.adopt(psycopg.connect(self._conninfo, autocommit=True), old)

    def adopt(self, conn: _Connection, old: _Connection | None = None) -> _Connection:
        """Make ``conn`` the calling thread's connection (replacing ``old``)."""
        me = threading.current_thread()
        with self._lock:
            if self._closed:
                conn.close()
                raise StorageError("this store is closed")
            stale = [
                c
                for t, c in self._open
                if c is old or c.closed or (t is not me and not t.is_alive())
            ]
            self._open = [(t, c) for t, c in self._open if not any(c is s for s in stale)]
            self._open.append((me, conn))
        for dead in stale:
            dead.close()
        self._local.conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._open = self._open, []
        for _, conn in conns:
            conn.close()

    def __repr__(self) -> str:
        return _shown(self._conninfo)


class _PoolSource:
    """Connections borrowed from a psycopg_pool pool, for a call or a unit of work."""

    def __init__(self, pool: ConnectionPool[Any], owned: bool) -> None:
        self._pool = pool
        self._owned = owned

    def lease(self) -> AbstractContextManager[_Connection]:
        return self._pool.connection()

    def close(self) -> None:
        if self._owned:
            self._pool.close()

    def __repr__(self) -> str:
        conninfo = self._pool.conninfo  # a pool may take a callable that makes it
        where = _shown(conninfo) if isinstance(conninfo, str) else "a computed conninfo"
        return f"{'a' if self._owned else 'the app'}'s pool on {where}"


class _AppConnection:
    """The app's connection: never closed here; calls join the app's transaction."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn

    def lease(self) -> AbstractContextManager[_Connection]:
        return nullcontext(self._conn)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "the app's connection"


# -- the backend -----------------------------------------------------------------------

_OUTBOX_COLUMNS: Final = "id, stream, key, sequence, event_type, document::text, attempts, failure"


def _ids(ids: Sequence[int]) -> list[int]:
    """The ids that can name a message (ids are positive 64-bit integers), each once."""
    return sorted({i for i in ids if type(i) is int and 1 <= i < 2**63})


def _message(row: tuple[Any, ...]) -> OutboxRow:
    id, stream, key, sequence, type_name, text, attempts, failure = row
    return OutboxRow(int(id), stream, key, int(sequence), type_name, text, int(attempts), failure)


def _storable_text(text: str) -> str:
    """``text`` as a text column can hold it: NUL and lone surrogates replaced."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


class PostgresBackend:
    """A tenant's view of csdomain's tables in one PostgreSQL schema.

    Made by :func:`open_backend` (from a URL), :meth:`from_connection` or
    :meth:`from_pool`; wrap it in a :class:`~csdomain.storage.Store`. See the
    module documentation for the tables, round trips and errors.
    """

    def __init__(self, source: _Source, tenant: str, schema: str) -> None:
        """Internal: use :func:`open_backend`, :meth:`from_connection` or :meth:`from_pool`."""
        self.tenant = tenant
        self.schema = schema
        self._source = source
        self._local = threading.local()
        self._closed = False
        self._collections: dict[str, _Layout] = {}
        outbox = sql.Identifier(schema, "outbox")
        collections = sql.Identifier(schema, "csdomain_collections")
        reindex = sql.Identifier(schema, "csdomain_reindex")
        self._q_declaration = _q(
            sql.SQL(
                "SELECT c.declaration, EXISTS (SELECT 1 FROM {} AS r"
                " WHERE r.collection = c.name AND r.tenant = %s) FROM {} AS c WHERE c.name = %s"
            ).format(reindex, collections)
        )
        self._q_reindexed = _q(
            sql.SQL("DELETE FROM {} WHERE collection = %s AND tenant = %s").format(reindex)
        )
        self._q_outbox_append = _q(
            sql.SQL(
                "INSERT INTO {} (tenant, stream, key, sequence, event_type, document)"
                " SELECT %s, r.s, r.k, r.q, r.e, r.d::json FROM unnest(%b::text[], %b::text[],"
                " %b::bigint[], %b::text[], %b::text[]) WITH ORDINALITY AS r(s, k, q, e, d, n)"
                " ORDER BY r.n"
            ).format(outbox)
        )
        self._q_outbox_pending = _q(
            sql.SQL(
                f"SELECT {_OUTBOX_COLUMNS} FROM {{}}"
                " WHERE tenant = %s AND state = 'pending' ORDER BY id LIMIT %s"
            ).format(outbox)
        )
        self._q_outbox_claim = _q(
            sql.SQL(
                "UPDATE {} SET lease_owner = %s, lease_until = %s, attempts = attempts + 1"
                " WHERE id IN (SELECT id FROM {} WHERE tenant = %s AND state = 'pending'"
                " AND (lease_until IS NULL OR lease_until <= %s) ORDER BY id LIMIT %s"
                f" FOR UPDATE SKIP LOCKED) RETURNING {_OUTBOX_COLUMNS}"
            ).format(outbox, outbox)
        )
        settle = (
            "UPDATE {} SET state = %s, failure = coalesce(%s, failure)"
            " WHERE tenant = %s AND id = ANY(%b::bigint[]) AND state = 'pending'"
        )
        self._q_outbox_settle = _q(sql.SQL(settle).format(outbox))
        self._q_outbox_settle_owned = _q(sql.SQL(settle + " AND lease_owner = %s").format(outbox))
        self._q_outbox_failed = _q(
            sql.SQL(
                f"SELECT {_OUTBOX_COLUMNS} FROM {{}}"
                " WHERE tenant = %s AND state = 'failed' AND id > %s ORDER BY id LIMIT %s"
            ).format(outbox)
        )
        self._q_outbox_retry = _q(
            sql.SQL(
                "UPDATE {} SET state = 'pending', lease_owner = NULL, lease_until = NULL"
                " WHERE tenant = %s AND id = ANY(%b::bigint[]) AND state = 'failed'"
            ).format(outbox)
        )
        self._q_outbox_purge = _q(
            sql.SQL(
                "DELETE FROM {} WHERE tenant = %s AND stream = %s AND key = %s"
                " AND (state = 'published' OR NOT (sequence = ANY(%b::bigint[])))"
            ).format(outbox)
        )
        self._q_outbox_rewrite = _q(
            sql.SQL(
                "UPDATE {} AS o SET document = r.d::json"
                " FROM unnest(%b::bigint[], %b::text[]) AS r(s, d)"
                " WHERE o.tenant = %s AND o.stream = %s AND o.key = %s"
                " AND o.state <> 'published' AND o.sequence = r.s"
            ).format(outbox)
        )
        self._legacy_records = sql.Identifier(schema, "legacy_records")
        self._legacy_tickets = sql.Identifier(schema, "legacy_tickets")

    @classmethod
    def from_connection(
        cls,
        connection: psycopg.Connection[Any],
        tenant: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        create: bool = False,
    ) -> PostgresBackend:
        """A backend on a connection the app holds (and keeps: :meth:`close` leaves it open).

        A unit of work is a savepoint when the app already has a transaction
        open, so the app's commit or rollback decides; its own ``BEGIN ...
        COMMIT`` otherwise. A call outside a unit of work takes part in the
        app's open transaction, if any. The schema is checked now (created with
        ``create=True``, in the app's transaction when one is open). Use the
        store from one thread at a time, as the connection.
        """
        check_key("postgres store", "tenant", tenant)
        schema = _check_schema(schema)
        _prepare(_check_connection(connection), schema, _check_create(create), "the connection")
        return cls(_AppConnection(connection), tenant, schema)

    @classmethod
    def from_pool(
        cls,
        pool: ConnectionPool[Any],
        tenant: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        create: bool = False,
    ) -> PostgresBackend:
        """A backend on a ``psycopg_pool.ConnectionPool`` the app owns (:meth:`close` keeps it).

        Each call borrows a connection; a unit of work holds one until it ends.
        """
        check_key("postgres store", "tenant", tenant)
        schema = _check_schema(schema)
        create = _check_create(create)
        with _translated("borrow a connection from the pool"), pool.connection() as conn:
            _prepare(conn, schema, create, "the pool")
        return cls(_PoolSource(pool, owned=False), tenant, schema)

    def __repr__(self) -> str:
        return f"<PostgresBackend {self._source!r} schema={self.schema!r} tenant={self.tenant!r}>"

    # -- units of work ----------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this store is closed")

    def _unit(self) -> _Unit | None:
        unit: _Unit | None = getattr(self._local, "unit", None)
        return unit

    def in_transaction(self) -> bool:
        """True when the calling thread has a transaction open on this backend."""
        return self._unit() is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work: its writes are sent together and commit together, or none."""
        self._check_open()
        if self._unit() is not None:
            raise StorageError(
                "a transaction is already open on this store in this thread; "
                "transactions do not nest"
            )
        lease = self._source.lease()
        with _translated("open a connection"):
            conn = lease.__enter__()
        try:
            unit = _unit_on(conn)
            self._local.unit = unit
            try:
                yield
            except BaseException as exc:
                self._local.unit = None
                self._abort(unit, exc)
                raise
            self._local.unit = None
            if unit.failed is not None:
                self._forget(unit)
                raise StorageError(
                    f"the unit of work was rolled back after an error inside it ({unit.failed}); "
                    "nothing of it was committed"
                ) from unit.failed
            self._send(unit, "commit the transaction", commit=True)
        except BaseException as exc:
            lease.__exit__(type(exc), exc, exc.__traceback__)
            raise
        lease.__exit__(None, None, None)

    def _writing(self, doing: str) -> _Unit:
        """The open unit of work, to queue a write in; StorageError outside one."""
        self._check_open()
        unit = self._unit()
        if unit is None:
            raise StorageError(f"{doing}: writes need a transaction (use store.transaction())")
        self._usable(unit)
        return unit

    @staticmethod
    def _usable(unit: _Unit) -> None:
        if unit.failed is not None:
            raise StorageError(
                f"the unit of work was rolled back after an error inside it ({unit.failed}); "
                "leave its transaction block before using the store again"
            )

    def _abort(self, unit: _Unit, error: BaseException, pipelined: bool = False) -> None:
        """Roll the unit of work back (what was sent, and forget what was not)."""
        if unit.failed is None:
            unit.failed = error
        unit.writes = []
        unit.outbox = None
        self._forget(unit)
        if not unit.begun:
            return
        unit.begun = False
        conn = unit.conn
        try:
            if conn.info.transaction_status in (
                TransactionStatus.INTRANS,
                TransactionStatus.INERROR,
            ):
                for statement in unit.rollback:
                    conn.execute(statement)
            if pipelined:
                # psycopg (3.3) counts a statement it prepared in an aborted pipeline as
                # prepared: forget them all (it deallocates them before the next call).
                conn._prepared.clear()
        except _DRIVER:
            pass  # the connection is gone, and the transaction with it

    def _forget(self, unit: _Unit) -> None:
        # Declared inside a unit of work that did not commit: the tables are not there.
        for name in unit.declared:
            self._collections.pop(name, None)
        unit.declared = []

    def _send(
        self,
        unit: _Unit,
        what: str,
        final: tuple[bytes, list[Any]] | None = None,
        commit: bool = False,
    ) -> _Cursor | None:
        """Send the unit's begin and queued writes, then ``final`` (a statement whose
        cursor is returned) and the commit if asked: one round trip.

        A write's failure rolls the unit back and raises its ConflictError,
        NotFoundError or StorageError.
        """
        conn = unit.conn
        writes = unit.writes
        if writes:
            unit.writes = []
            unit.outbox = None
        elif commit and not unit.begun:
            return None  # nothing was sent, so there is nothing to commit
        begin = None if unit.begun else unit.begin
        closing = unit.commit if commit else ()
        if commit and begin == _BEGIN and len(writes) == 1:
            # Nothing else sent, on an autocommit connection: one statement is a
            # transaction of its own. (Several need BEGIN: a value the driver cannot
            # send stops the pipeline midway, and the server would commit the rest.)
            begin, closing = None, ()
        unit.begun = True
        if begin is None and len(writes) + (final is not None) + len(closing) <= 1:
            # One statement: no pipeline needed.
            write = writes[0] if writes else None
            try:
                if write is not None:
                    conn.cursor(row_factory=tuple_row).execute(write.query, write.params)
                elif final is not None:
                    cur = conn.cursor(row_factory=tuple_row)
                    cur.execute(*final)
                    return cur
                for statement in closing:
                    conn.execute(statement)
                return None
            except _DRIVER as exc:
                self._abort(unit, exc)
                failure = (
                    _failure(what, exc)
                    if write is None
                    else _explain(conn, self.tenant, write, writes, exc)
                )
                unit.failed = failure
                raise failure from exc
        cursors: list[_Cursor] = []
        sending: int | None = None
        result: _Cursor | None = None
        first: BaseException | None = None  # the first error, raised inside or at the sync
        try:
            with conn.pipeline():
                try:
                    if begin is not None:
                        conn.execute(begin)
                    for index, write in enumerate(writes):
                        sending = index
                        cur = conn.cursor(row_factory=tuple_row)
                        cursors.append(cur)
                        cur.execute(write.query, write.params)
                    sending = None
                    if final is not None:
                        result = conn.cursor(row_factory=tuple_row)
                        result.execute(*final)
                    for statement in closing:
                        conn.execute(statement)
                except _DRIVER as exc:
                    # Caught here, so that leaving the pipeline does not log what follows.
                    first = exc
        except _DRIVER as exc:
            first = first or exc
        if first is not None:
            failed = _failed_write(writes, cursors, sending, first)
            self._abort(unit, first, pipelined=True)
            error: BaseException = (
                _failure(what, first)
                if failed is None
                else _explain(conn, self.tenant, failed, writes, first)
            )
            unit.failed = error
            raise error from first
        return result

    # -- statements -------------------------------------------------------------------

    def _run(self, what: str, query: bytes, params: list[Any]) -> tuple[list[Any], int]:
        """Run one statement, in the open unit of work if any: ``(rows, rowcount)``."""
        unit = self._unit()
        if unit is not None:
            self._usable(unit)
            cur = self._send(unit, what, (query, params))
            assert cur is not None
            with _translated(what):
                rows = cur.fetchall() if cur.description is not None else []
                return rows, cur.rowcount
        self._check_open()
        with (
            _translated(what),
            self._source.lease() as conn,
            _standalone(conn),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            cur.execute(query, params)
            rows = cur.fetchall() if cur.description is not None else []
            return rows, cur.rowcount

    def _rows(self, what: str, query: bytes, params: list[Any]) -> list[Any]:
        return self._run(what, query, params)[0]

    def _layout(self, collection: str) -> _Layout:
        self._check_open()
        layout = self._collections.get(collection)
        if layout is None:
            raise StorageError(
                f"collection {collection!r} is not declared on this store; "
                f"declared: {sorted(self._collections)}"
            )
        return layout

    def _events_layout(self, collection: str) -> _Layout:
        layout = self._layout(collection)
        if not layout.events:
            raise StorageError(
                f"collection {collection!r} keeps no event rows (declared without events=True)"
            )
        return layout

    # -- declarations -----------------------------------------------------------------

    def declare(self, collection: Collection[Any]) -> bool:
        """Create or extend the tables and indexes of ``collection`` (see the module
        documentation); True when columns were added to a collection stored before
        and this tenant's rows lack their values."""
        self._check_open()
        wanted = _Declaration.of(collection)
        name = collection.name
        known = self._collections.get(name)
        if known is not None and known.decl.covers(wanted):
            if known.what != collection.what:
                self._collections[name] = _Layout(self.schema, name, collection.what, known.decl)
            return False
        found = self._rows(
            f"read the declaration of collection {name!r}",
            self._q_declaration,
            [self.tenant, name],
        )
        if found:
            text, pending = found[0]
            stored = _Declaration.parse(name, text)
            if stored.covers(wanted):
                added = (
                    bool(pending)
                    and self._run(
                        f"declare collection {name!r}", self._q_reindexed, [name, self.tenant]
                    )[1]
                    > 0
                )
                self._collections[name] = _Layout(self.schema, name, collection.what, stored)
                return added
        return self._declare_locked(collection, wanted)

    def _declare_locked(self, collection: Collection[Any], wanted: _Declaration) -> bool:
        name = collection.name
        what = f"declare collection {name!r}"
        unit = self._unit()
        if unit is None:
            with (
                _translated(what),
                self._source.lease() as conn,
                conn.transaction(),
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                added, decl = self._declare_on(cur, name, wanted)
        else:  # inside a unit of work, the tables come and go with it
            self._usable(unit)
            self._send(unit, what)
            try:
                with unit.conn.cursor(row_factory=tuple_row) as cur:
                    added, decl = self._declare_on(cur, name, wanted)
            except BaseException as exc:
                error = _failure(what, exc) if isinstance(exc, _DRIVER) else exc
                self._abort(unit, error)
                if error is exc:
                    raise
                raise error from exc
            unit.declared.append(name)
        self._collections[name] = _Layout(self.schema, name, collection.what, decl)
        return added

    def _declare_on(
        self, cur: _Cursor, name: str, wanted: _Declaration
    ) -> tuple[bool, _Declaration]:
        schema = self.schema
        collections = sql.Identifier(schema, "csdomain_collections")
        reindex = sql.Identifier(schema, "csdomain_reindex")
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, schema))
        cur.execute(sql.SQL("SELECT name, declaration FROM {}").format(collections))
        stored = {other: _Declaration.parse(other, text) for other, text in cur.fetchall()}
        before = stored.pop(name, None)
        if before is not None and before.covers(wanted):  # declared meanwhile
            cur.execute(self._q_reindexed, (name, self.tenant))
            return cur.rowcount > 0, before
        decl = wanted if before is None else before.merged(name, wanted)
        new = decl.relations(name) - (set() if before is None else before.relations(name))
        for other, other_decl in stored.items():
            clash = new & other_decl.relations(other)
            if clash:
                raise SchemaError(
                    f"collection {name!r} needs tables named {sorted(clash)}, which collection "
                    f"{other!r} has; rename one of the collections or columns"
                )
        cur.execute(
            "SELECT c.relname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n"
            " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = ANY(%s)",
            (schema, sorted(new)),
        )
        taken = sorted(relation for (relation,) in cur.fetchall())
        if taken:
            raise SchemaError(
                f"the PostgreSQL schema {schema!r} holds {', '.join(taken)}, which csdomain did "
                f"not create for collection {name!r}; drop them or use another schema"
            )
        for statement in _ddl(schema, name, decl, before):
            cur.execute(statement)
        cur.execute(
            sql.SQL(
                "INSERT INTO {} (name, declaration) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET declaration = excluded.declaration"
            ).format(collections),
            (name, decl.text()),
        )
        added = before is not None and not before.columns.keys() >= decl.columns.keys()
        if added:
            # Every other tenant's rows lack the new values too: their stores see True.
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} (collection, tenant) SELECT DISTINCT %s, tenant FROM {}"
                    " WHERE tenant <> %s ON CONFLICT DO NOTHING"
                ).format(reindex, sql.Identifier(schema, _ident(f"c_{name}"))),
                (name, self.tenant),
            )
            cur.execute(self._q_reindexed, (name, self.tenant))
        return added, decl

    # -- documents --------------------------------------------------------------------

    def get(self, collection: str, key: str) -> Row | None:
        """The row with ``key``, or None."""
        layout = self._layout(collection)
        found = self._rows(f"read {layout.what} {key!r}", layout.q_get, [self.tenant, key])
        return Row(found[0]) if found else None

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        """The rows with these keys that exist (each once), in the order asked."""
        layout = self._layout(collection)
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        found = {
            row[0]: Row(row)
            for row in self._rows(
                f"read {layout.what} rows", layout.q_get_many, [self.tenant, wanted]
            )
        }
        return [found[key] for key in wanted if key in found]

    def insert_many(self, collection: str, rows: Sequence[NewRow]) -> None:
        """Insert version 1 of every row, or none (the unit of work rolls back)."""
        unit = self._writing(f"insert into {collection!r}")
        layout = self._layout(collection)
        tenant = self.tenant
        writes: list[_Write] = []
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            keys = [row[0] for row in batch]
            check = layout.check_columns
            for row in batch:
                check(row[2])
            values = {name: [row[2].get(name) for row in batch] for name in layout.single}
            writes.append(
                _Write(
                    layout.q_insert,
                    [tenant, keys, [row[1] for row in batch], *values.values()],
                    "insert",
                    layout,
                    keys,
                    values,
                )
            )
            for name in layout.multiple:
                owners: list[str] = []
                entries: list[Any] = []
                for key, _, columns in batch:
                    items = layout.entries_of(name, columns.get(name))
                    entries += items
                    owners += [key] * len(items)
                if entries:
                    writes.append(
                        _Write(
                            layout.q_entries_insert[name],
                            [tenant, entries, owners],
                            "entries",
                            layout,
                            owners,
                            (name, entries),
                        )
                    )
        unit.writes += writes

    def _entries(self, layout: _Layout, key: str, columns: ColumnValues) -> list[_Write]:
        """The writes that replace the entries of row ``key``."""
        writes = []
        tenant = self.tenant
        for name in layout.multiple:
            items = layout.entries_of(name, columns.get(name))
            writes.append(_Write(layout.q_entries_delete[name], [tenant, key]))
            if items:
                writes.append(
                    _Write(
                        layout.q_entries_insert[name],
                        [tenant, items, [key] * len(items)],
                        "entries",
                        layout,
                        [key] * len(items),
                        (name, items),
                    )
                )
        return writes

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: ColumnValues,
    ) -> None:
        """Replace the row if its version is ``expected_version`` (then +1): one UPDATE
        of the row, checked before the unit of work commits."""
        unit = self._writing(f"update {collection!r}")
        layout = self._layout(collection)
        layout.check_columns(columns)
        entries = self._entries(layout, key, columns) if layout.multiple else []
        params = [text, *[columns.get(name) for name in layout.single]]
        params += [self.tenant, key, expected_version]
        unit.writes.append(
            _Write(layout.q_update, params, "update", layout, [key], columns, expected_version)
        )
        unit.writes += entries

    def set_columns(self, collection: str, key: str, columns: ColumnValues) -> None:
        """Replace a row's column values, keeping its document and version."""
        unit = self._writing(f"set columns of {collection!r}")
        layout = self._layout(collection)
        layout.check_columns(columns)
        entries = self._entries(layout, key, columns) if layout.multiple else []
        params = [*[columns.get(name) for name in layout.single], self.tenant, key]
        unit.writes.append(
            _Write(layout.q_set_columns, params, "set_columns", layout, [key], columns)
        )
        unit.writes += entries

    def rewrite(self, collection: str, key: str, text: str) -> None:
        """Replace a row's document keeping its version and columns (erasure)."""
        unit = self._writing(f"rewrite {collection!r}")
        layout = self._layout(collection)
        unit.writes.append(
            _Write(layout.q_rewrite, [text, self.tenant, key], "rewrite", layout, [key])
        )

    def delete(self, collection: str, key: str, expected_version: int) -> None:
        """Delete the row, its entries and its events if its version is ``expected_version``."""
        unit = self._writing(f"delete from {collection!r}")
        layout = self._layout(collection)
        tenant = self.tenant
        unit.writes.append(
            _Write(
                layout.q_delete,
                [tenant, key, expected_version],
                "delete",
                layout,
                [key],
                None,
                expected_version,
            )
        )
        for name in layout.multiple:
            unit.writes.append(_Write(layout.q_entries_delete[name], [tenant, key]))
        if layout.events:
            unit.writes.append(_Write(layout.q_events_delete, [tenant, key]))

    # -- queries ----------------------------------------------------------------------

    def _filters(
        self, layout: _Layout, where: Mapping[str, tuple[Any, ...]]
    ) -> tuple[tuple[tuple[str, bool, bool], ...], list[Any]] | None:
        """The shape and parameters of ``where``; None when no row can match."""
        shape = []
        params: list[Any] = []
        for name in sorted(where):
            values = check_filter(layout.name, name, where[name], layout.specs)
            spec = layout.specs[name]
            # A value no stored value can equal matches nothing (as in the other adapters).
            fitting = [
                v
                for v in (_storable(spec.type, x) for x in values if x is not None)
                if v is not None
            ]
            null = not spec.multiple and any(x is None for x in values)
            if not fitting and not null:
                return None
            shape.append((name, bool(fitting), null))
            if fitting:
                params.append(list(dict.fromkeys(fitting)))
        return tuple(shape), params

    def select(self, collection: str, query: Select) -> list[tuple[Any, Row]]:
        """The rows of one page (see :class:`~csdomain.storage.backend.Select`)."""
        rows = self._page(collection, query, None)
        if query.order == "key":
            return [(row[0], Row(row)) for row in rows]
        return [(row[0], Row(row[1:])) for row in rows]

    def select_columns(
        self, collection: str, query: Select, columns: tuple[str, ...]
    ) -> list[tuple[Any, str, int, tuple[Any, ...]]]:
        """The rows of one page as stored column values (see
        :meth:`~csdomain.storage.backend.ProjectingBackend.select_columns`): the
        statement of :meth:`select`, reading the columns instead of the document."""
        rows = self._page(collection, query, columns)
        # Ordered by key, a row is (key, version, values...): its key is the order value.
        at = 1 if query.order == "key" else 2  # the version's index
        return [(row[0], row[at - 1], row[at], row[at + 1 :]) for row in rows]

    def _page(self, collection: str, query: Select, columns: tuple[str, ...] | None) -> list[Any]:
        """The rows of one page: ``([order value,] key, version, document)``, or the
        values of ``columns`` instead of the document when given."""
        layout = self._layout(collection)
        if columns is not None:
            check_projection(collection, columns, layout.specs)
        order = query.order
        spec = layout.order_spec(order)
        kind = ColumnType.TEXT if spec is None else spec.type
        after = query.after
        position: tuple[Any, str] | None = None
        if after is not None:
            value = (
                _storable(kind, after[0])
                if isinstance(after, (tuple, list)) and len(after) == 2
                else None
            )
            key = after[1] if value is not None else None
            if (
                value is None
                or _storable(ColumnType.TEXT, key) is None
                or (spec is None and value != key)  # ordered by key, the value is the key
            ):
                raise ValidationError.single(
                    "cursor",
                    "",
                    f"position {after!r} is not a cursor this store returned for a query of "
                    f"{collection!r} ordered by {order!r}; pass next_cursor as given",
                )
            position = (value, cast(str, key))
        bounds: list[Any] = []
        for bound, given in (("low", query.low), ("high", query.high)):
            if given is None:
                continue
            value = _storable(kind, given)
            if value is None:
                raise ValidationError.single(
                    f"query of {collection!r} ordered by {order!r}",
                    bound,
                    f"expected {_KINDS[kind]} value or None, got {given!r}",
                )
            bounds.append(value)
        limit = query.limit
        found = self._filters(layout, query.where)
        if found is None or limit <= 0:
            return []
        shape, params = found
        statement = layout.select_sql(
            shape,
            order,
            (query.low is not None, query.high is not None, position is not None),
            columns=columns,
        )
        params = [self.tenant, *params, *bounds]
        if position is not None:
            params += [position[1]] if spec is None else list(position)
        params.append(limit)
        return self._rows(f"list {collection}", statement, params)

    def lease(self, collection: str, query: Select, until: int) -> list[Row]:
        """Take the lowest due rows, set their order column to ``until`` and bump their
        versions (see :meth:`Backend.lease <csdomain.storage.backend.Backend.lease>`).

        One statement (``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED)
        RETURNING``), sent after the unit of work's queued writes in the same round
        trip; outside a unit of work it is a transaction of its own.
        """
        layout = self._layout(collection)
        spec = layout.specs.get(query.order)
        column = (
            None
            if spec is None
            else Column(query.order, spec.type, unique=spec.unique, multiple=spec.multiple)
        )
        if not check_lease(collection, query, until, column):
            self._check_usable()
            return []
        found = self._filters(layout, query.where)
        if found is None:
            self._check_usable()
            return []
        shape, params = found
        statement = layout.lease_sql(shape, query.order, query.low is not None)
        params = [until, self.tenant, *params, query.high]
        if query.low is not None:
            params.append(query.low)
        params += [query.limit, self.tenant]
        rows = self._rows(f"lease {collection}", statement, params)
        rows.sort(key=lambda row: (row[0], row[1]))  # RETURNING keeps no order
        return [Row(row[1:]) for row in rows]

    def _check_usable(self) -> None:
        unit = self._unit()
        if unit is not None:
            self._usable(unit)

    def count(self, collection: str, where: Mapping[str, tuple[Any, ...]]) -> int:
        """How many rows match ``where``."""
        layout = self._layout(collection)
        found = self._filters(layout, where)
        if found is None:
            return 0
        shape, params = found
        statement = layout.select_sql(shape, "key", (False, False, False), count=True)
        rows = self._rows(f"count {collection}", statement, [self.tenant, *params])
        return int(rows[0][0])

    # -- event streams ----------------------------------------------------------------

    def append_events(self, collection: str, events: Sequence[tuple[str, int, str]]) -> None:
        """Insert ``(key, sequence, text)`` event rows; a ``(key, sequence)`` stored
        already is a ConflictError when the unit of work sends its writes."""
        unit = self._writing(f"append events to {collection!r}")
        layout = self._events_layout(collection)
        if not events:
            return
        last = unit.writes[-1] if unit.writes else None
        if last is None or last.kind != "events" or last.layout is not layout:
            # Appends in a row share one statement; apart, they keep their order.
            last = _Write(layout.q_events_insert, [self.tenant, [], [], []], "events", layout)
            last.keys = last.params[1]
            unit.writes.append(last)
        _, keys, sequences, texts = last.params
        for key, sequence, text in events:
            keys.append(key)
            sequences.append(sequence)
            texts.append(text)

    def read_events(
        self, collection: str, streams: Sequence[tuple[str, int]]
    ) -> dict[str, list[str]]:
        """For each ``(key, count)``, the texts of the stored events ``0 .. count - 1``."""
        layout = self._events_layout(collection)
        counts = dict(streams)  # a key asked twice: the last count, as the other adapters
        found: dict[str, list[str]] = {key: [] for key in counts}
        wanted = {key: count for key, count in counts.items() if count > 0}
        what = f"read {layout.what} events"
        if len(wanted) == 1:  # a get: the simplest statement
            ((key, count),) = wanted.items()
            rows = self._rows(what, layout.q_events_read_one, [self.tenant, key, count])
            found[key] = [text for (text,) in rows]
        elif wanted:
            rows = self._rows(
                what, layout.q_events_read, [list(wanted), list(wanted.values()), self.tenant]
            )
            for key, text in rows:
                found[key].append(text)
        return found

    def rewrite_events(self, collection: str, key: str, texts: Mapping[int, str]) -> None:
        """Replace the text of stored events of ``key`` by sequence (erasure)."""
        unit = self._writing(f"rewrite events of {collection!r}")
        layout = self._events_layout(collection)
        if texts:
            unit.writes.append(
                _Write(
                    layout.q_events_rewrite,
                    [list(texts), list(texts.values()), self.tenant, key],
                )
            )

    # -- outbox -----------------------------------------------------------------------

    def outbox_append(self, messages: Sequence[tuple[str, str, int, str, str]]) -> None:
        """Append messages, in order, with new increasing ids (never reused)."""
        unit = self._writing("write to the outbox")
        if not messages:
            return
        write = unit.outbox
        if write is None:
            # One statement for every message of the batch: ids keep the order of the calls.
            write = _Write(self._q_outbox_append, [self.tenant, [], [], [], [], []], "outbox")
            unit.outbox = write
            unit.writes.append(write)
        _, streams, keys, sequences, types, texts = write.params
        for stream, key, sequence, type_name, text in messages:
            streams.append(stream)
            keys.append(key)
            sequences.append(sequence)
            types.append(type_name)
            texts.append(text)

    def outbox_pending(self, limit: int) -> list[OutboxRow]:
        """Unpublished, not failed messages, oldest first, leased or not."""
        if limit <= 0:
            self._check_open()
            return []
        rows = self._rows("read the outbox", self._q_outbox_pending, [self.tenant, limit])
        return [_message(row) for row in rows]

    def outbox_claim(self, relay: str, limit: int, now: int, lease: int) -> list[OutboxRow]:
        """Lease up to ``limit`` of the oldest pending messages not leased at ``now`` to
        ``relay`` until ``now + lease``; relays claiming at once skip each other's."""
        self._check_open()
        until = now + lease if type(now) is int and type(lease) is int else None
        if until is None or now not in _INT64 or until not in _INT64:
            raise ValidationError.single(
                "outbox claim",
                "lease",
                f"expected 64-bit microsecond counts for now and now + lease, got {now!r} "
                f"and {lease!r}",
            )
        if limit <= 0:
            return []
        rows = self._rows(
            "claim outbox messages",
            self._q_outbox_claim,
            [_storable_text(relay), until, self.tenant, now, limit],
        )
        return sorted(_message(row) for row in rows)

    def _settle(
        self, what: str, relay: str | None, ids: Sequence[int], state: str, reason: str | None
    ) -> int:
        self._check_open()
        wanted = _ids(ids)
        if not wanted:
            return 0
        params: list[Any] = [state, reason, self.tenant, wanted]
        query = self._q_outbox_settle
        if relay is not None:
            params.append(_storable_text(relay))
            query = self._q_outbox_settle_owned
        return self._run(what, query, params)[1]

    def outbox_ack(self, relay: str | None, ids: Sequence[int]) -> int:
        """Mark published the pending messages among ``ids`` leased to ``relay`` (any
        pending message when ``relay`` is None); returns how many."""
        return self._settle("mark outbox messages published", relay, ids, "published", None)

    def outbox_fail(self, relay: str | None, ids: Sequence[int], reason: str) -> int:
        """Set aside as failed, with ``reason``, the pending messages among ``ids``
        leased to ``relay`` (NUL and lone surrogates in ``reason`` are replaced)."""
        return self._settle(
            "set outbox messages aside", relay, ids, "failed", _storable_text(reason)
        )

    def outbox_failed(self, after: int | None, limit: int) -> list[OutboxRow]:
        """Failed messages with ids above ``after``, by id."""
        self._check_open()
        if limit <= 0:
            return []
        start = 0 if after is None else max(min(after, 2**63 - 1), 0)
        rows = self._rows(
            "read failed outbox messages", self._q_outbox_failed, [self.tenant, start, limit]
        )
        return [_message(row) for row in rows]

    def outbox_retry(self, ids: Sequence[int]) -> int:
        """Return failed messages among ``ids`` to the pending ones, lease cleared."""
        self._check_open()
        wanted = _ids(ids)
        if not wanted:
            return 0
        return self._run("retry outbox messages", self._q_outbox_retry, [self.tenant, wanted])[1]

    def outbox_redact(self, stream: str, key: str, texts: Mapping[int, str]) -> None:
        """Delete the published messages of ``key``, and the unpublished ones whose
        sequence is not in ``texts``; rewrite the others' text."""
        unit = self._writing("redact the outbox")
        sequences = list(texts)
        tenant = self.tenant
        unit.writes.append(_Write(self._q_outbox_purge, [tenant, stream, key, sequences]))
        if texts:
            unit.writes.append(
                _Write(
                    self._q_outbox_rewrite,
                    [sequences, list(texts.values()), tenant, stream, key],
                )
            )

    # -- version 1 data ---------------------------------------------------------------

    def _legacy_tables(self) -> list[str]:
        rows = self._rows(
            "look for version 1 rows",
            b"SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = %s"
            b" AND tablename IN ('legacy_records', 'legacy_tickets')",
            [self.schema],
        )
        return sorted(name for (name,) in rows)

    def legacy_rows(self, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` version 1 rows left to move: ``(collection, key, version,
        text)``, and a ticket's ``next_deadline`` (microseconds or None) fifth; when
        none are left in any tenant, the version 1 tables are dropped."""
        present = self._legacy_tables()
        rows: list[tuple[Any, ...]] = []
        what = "read version 1 rows"
        if "legacy_records" in present and limit > 0:
            rows += self._rows(
                what,
                _q(
                    sql.SQL(
                        "SELECT collection, key, version, document::text FROM {}"
                        " WHERE tenant = %s ORDER BY collection, key LIMIT %s"
                    ).format(self._legacy_records)
                ),
                [self.tenant, limit],
            )
        if "legacy_tickets" in present and len(rows) < limit:
            rows += self._rows(
                what,
                _q(
                    sql.SQL(
                        "SELECT 'tickets', key, version, document::text, next_deadline FROM {}"
                        " WHERE tenant = %s ORDER BY key LIMIT %s"
                    ).format(self._legacy_tickets)
                ),
                [self.tenant, limit - len(rows)],
            )
        if present and not rows and self._unit() is None:
            with (
                _translated("drop the emptied version 1 tables"),
                self._source.lease() as conn,
                conn.transaction(),
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                cur.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, self.schema)
                )
                _drop_empty_legacy(cur, self.schema)
        return [(c, k, int(v), *rest) for c, k, v, *rest in rows]

    def drop_legacy(self, rows: Sequence[tuple[str, str]]) -> None:
        """Forget these ``(collection, key)`` version 1 rows, moved by the store."""
        unit = self._writing("forget moved version 1 rows")
        present = self._legacy_tables()
        tickets = [key for collection, key in rows if collection == "tickets"]
        records = [(collection, key) for collection, key in rows if collection != "tickets"]
        if tickets and "legacy_tickets" in present:
            unit.writes.append(
                _Write(
                    _q(
                        sql.SQL(
                            "DELETE FROM {} WHERE tenant = %s AND key = ANY(%b::text[])"
                        ).format(self._legacy_tickets)
                    ),
                    [self.tenant, tickets],
                )
            )
        if records and "legacy_records" in present:
            unit.writes.append(
                _Write(
                    _q(
                        sql.SQL(
                            "DELETE FROM {} WHERE tenant = %s AND (collection, key) IN"
                            " (SELECT * FROM unnest(%b::text[], %b::text[]))"
                        ).format(self._legacy_records)
                    ),
                    [self.tenant, [c for c, _ in records], [k for _, k in records]],
                )
            )

    def close(self) -> None:
        """Close the connections this backend opened (never the app's connection or pool)."""
        self._closed = True
        with _translated("close the connections"):
            self._source.close()


# -- explaining a write that failed -----------------------------------------------------


def _failed_write(
    writes: list[_Write], cursors: list[_Cursor], sending: int | None, exc: BaseException
) -> _Write | None:
    """The queued write that failed: a server error leaves the first write without a
    result; a value the driver could not send fails the write being sent."""
    if getattr(exc, "sqlstate", None) is None:
        return None if sending is None else writes[sending]
    for write, cur in zip(writes, cursors, strict=False):
        if cur.pgresult is None:
            return write
    return None


class _Explainer:
    """Why a write failed, asked of the database after its unit of work rolled back."""

    def __init__(self, conn: _Connection, tenant: str, writes: list[_Write], write: _Write) -> None:
        self.conn = conn
        self.tenant = tenant
        self.write = write
        self.earlier = writes[: next(i for i, w in enumerate(writes) if w is write)]
        assert write.layout is not None
        self.layout = write.layout

    def fetch(self, query: bytes, params: list[Any]) -> list[Any]:
        conn = self.conn
        with _standalone(conn), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def missing(self) -> BaseException:
        """A guarded write found no row at its version."""
        layout, write = self.layout, self.write
        key = write.keys[0]
        rows = self.fetch(layout.q_versions, [self.tenant, [key]])
        if not rows or write.expected is None:
            what = layout.what
            return NotFoundError(what, key, f"no {what} with this id in tenant {self.tenant!r}")
        return ConflictError(
            layout.what,
            key,
            write.expected,
            int(rows[0][1]),
            "reload it and apply the change again",
        )

    def key_taken(self) -> BaseException:
        """An insert found a key taken: stored, repeated, or inserted earlier."""
        layout, keys = self.layout, self.write.keys
        stored = dict(self.fetch(layout.q_versions, [self.tenant, keys]))
        earlier = {
            key for w in self.earlier if w.kind == "insert" and w.layout is layout for key in w.keys
        }
        seen: set[str] = set()
        culprit = None
        for key in keys:
            if key in stored:
                return self._taken(key, int(stored[key]))
            if culprit is None and (key in seen or key in earlier):
                culprit = key
            seen.add(key)
        # Not stored: it repeats, or this unit of work inserted it before (at version 1).
        return self._taken(keys[0] if culprit is None else culprit, 1)

    def _taken(self, key: str, version: int) -> ConflictError:
        return ConflictError(self.layout.what, key, None, version, f"in tenant {self.tenant!r}")

    def value_taken(self, column: str) -> BaseException:
        """A unique value is held by another record: committed, or in this batch."""
        layout = self.layout
        pairs = [(k, v) for k, v in _values(self.write, column) if v is not None]
        what = layout.what
        if not pairs:
            return ConflictError(
                what, self.write.keys[0], None, None, f"its {column} value is taken"
            )
        held = dict(self.fetch(layout.q_holders[column], [self.tenant, [v for _, v in pairs]]))
        for key, value in pairs:
            other = held.get(value)
            if other is not None and other != key:
                return self._held(key, column, other)
        claimed: dict[Any, str] = {}
        for earlier in self.earlier:
            if earlier.layout is layout:
                for key, value in _values(earlier, column):
                    if value is not None:
                        claimed[value] = key
        for key, value in pairs:
            other = claimed.setdefault(value, key)
            if other != key:
                return self._held(key, column, other)
        return self._held(pairs[0][0], column, None)

    def _held(self, key: str, column: str, other: str | None) -> ConflictError:
        what = self.layout.what
        holder = "" if other is None else f" ({other})"
        return ConflictError(
            what, key, None, None, f"its {column} value is held by another {what}{holder}"
        )

    def event_stored(self) -> BaseException:
        """An appended event's ``(key, sequence)`` is stored already."""
        layout = self.layout
        _, keys, sequences, _ = self.write.params
        stored = {
            (k, int(s))
            for k, s in self.fetch(layout.q_events_stored, [keys, sequences, self.tenant])
        }
        seen = {
            (k, s)
            for w in self.earlier
            if w.kind == "events" and w.layout is layout
            for k, s in zip(w.params[1], w.params[2], strict=True)
        }
        first = None
        for pair in zip(keys, sequences, strict=True):
            if pair in stored:
                return self._event(*pair)
            if first is None and pair in seen:
                first = pair
            seen.add(pair)
        return self._event(*(first or (keys[0], sequences[0])))

    def _event(self, key: str, sequence: int) -> ConflictError:
        return ConflictError(
            self.layout.what,
            key,
            None,
            None,
            f"its event {sequence} is stored already; stored events are never replaced",
        )


def _values(write: _Write, column: str) -> list[tuple[str, Any]]:
    """``(key, value)`` pairs of ``column`` that ``write`` writes."""
    if write.kind == "insert":
        return list(zip(write.keys, write.values.get(column, ()), strict=False))
    if write.kind in ("update", "set_columns"):
        if write.layout is not None and write.layout.specs[column].multiple:
            return []  # its entries write carries them
        return [(write.keys[0], write.values.get(column))]
    if write.kind == "entries" and write.values[0] == column:
        return list(zip(write.keys, write.values[1], strict=True))
    return []


def _explain(
    conn: _Connection, tenant: str, write: _Write, writes: list[_Write], exc: BaseException
) -> BaseException:
    """The error a failed write stands for: ConflictError, NotFoundError or a StorageError."""
    state = getattr(exc, "sqlstate", None)
    layout = write.layout
    try:
        if layout is not None and state in ("22012", "23505"):
            explainer = _Explainer(conn, tenant, writes, write)
            if state == "22012" and write.kind in _GUARDED:
                return explainer.missing()
            diag = getattr(exc, "diag", None)
            kind, column = layout.constraints.get(
                (diag.constraint_name if diag is not None else None) or "", ("", "")
            )
            if kind == "key" and write.kind == "insert":
                return explainer.key_taken()
            if kind == "unique":
                return explainer.value_taken(column)
            if kind == "event" and write.kind == "events":
                return explainer.event_stored()
    except _DRIVER:
        pass  # the database cannot say more: report the write's own error
    return _failure(write.doing(), exc)


# -- opening ---------------------------------------------------------------------------

_OWN_PARAMETERS: Final = ("schema", "pool_size")


_PASSWORD_PARAMETER: Final = re.compile(r"(?i)([?&]password=)[^&#]*")


def _shown(url: str) -> str:
    """``url`` as messages and reprs show it: password masked, in the userinfo or a parameter."""
    return _PASSWORD_PARAMETER.sub(r"\1***", mask_url(url))


def _parse_url(url: str) -> tuple[str, str, int | None]:
    """``(libpq URL without csdomain's parameters, schema, pool size or None)``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("postgresql", "postgres"):
        raise ValidationError.single(
            "open_store",
            "url",
            f"expected a postgresql:// or postgres:// URL, got {_shown(url)!r}",
        )
    base, _, query = f"postgresql://{rest}".partition("?")
    kept: list[str] = []
    own: dict[str, str] = {}
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        name = unquote(name)
        if name not in _OWN_PARAMETERS:
            kept.append(part)
            continue
        if name in own:
            raise ValidationError.single(
                "open_store", name, f"given twice in the URL {_shown(url)!r}"
            )
        own[name] = unquote(value)
    schema = _check_schema(own.get("schema", DEFAULT_SCHEMA))
    pool_size: int | None = None
    if "pool_size" in own:
        text = own["pool_size"]
        if not text.isdigit() or not 1 <= int(text) <= 1_000:
            raise ValidationError.single(
                "open_store", "pool_size", f"expected an integer from 1 to 1000, got {text!r}"
            )
        pool_size = int(text)
    return base + ("?" + "&".join(kept) if kept else ""), schema, pool_size


def _pool_class() -> Callable[..., ConnectionPool[Any]]:
    try:
        from psycopg_pool import ConnectionPool
    except ImportError as exc:
        raise StorageError(
            "pool_size needs psycopg_pool: install csdomain[postgres] "
            f"(pip install 'csdomain[postgres]'); {exc}"
        ) from exc
    return ConnectionPool


def open_backend(url: str, tenant: str, *, create: bool = False) -> PostgresBackend:
    """The backend for a ``postgresql://`` or ``postgres://`` URL (see the module docs).

    Connects now and checks the schema, so a wrong URL or an unreachable
    server fails here with ``StorageError``; a schema without csdomain's
    tables raises ``NoStoreError`` unless ``create`` is true (then they are
    created), an older one is migrated.
    """
    check_key("postgres store", "tenant", tenant)
    create = _check_create(create)
    conninfo, schema, pool_size = _parse_url(url)
    shown = _shown(conninfo)
    with _translated(f"connect to {shown}"):
        first = psycopg.connect(conninfo, autocommit=True)
    try:
        _prepare(first, schema, create, shown)
    except BaseException:
        first.close()
        raise
    if pool_size is None:
        threads = _ThreadConnections(conninfo)
        threads.adopt(first)
        return PostgresBackend(threads, tenant, schema)
    first.close()
    pool_class = _pool_class()
    with _translated("open a connection pool"):
        pool = pool_class(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            name=f"csdomain-{schema}",
            open=True,
        )
    return PostgresBackend(_PoolSource(pool, owned=True), tenant, schema)


def store_on_connection(
    connection: psycopg.Connection[Any],
    *,
    tenant: str,
    schema: str = DEFAULT_SCHEMA,
    create: bool = False,
) -> Store:
    """A :class:`~csdomain.storage.Store` on a psycopg connection the app holds.

    The store's units of work become savepoints of the app's transaction when
    one is open, so they commit or roll back with it; closing the store leaves
    the connection open. See :meth:`PostgresBackend.from_connection`.
    """
    backend = PostgresBackend.from_connection(connection, tenant, schema=schema, create=create)
    return cast("Store", _store_for(backend))


def store_on_pool(
    pool: ConnectionPool[Any],
    *,
    tenant: str,
    schema: str = DEFAULT_SCHEMA,
    create: bool = False,
) -> Store:
    """A :class:`~csdomain.storage.Store` on a ``psycopg_pool.ConnectionPool`` the app owns."""
    backend = PostgresBackend.from_pool(pool, tenant, schema=schema, create=create)
    return cast("Store", _store_for(backend))
