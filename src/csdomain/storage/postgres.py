"""The PostgreSQL adapter (psycopg 3): install ``csdomain[postgres]``.

Open a store with a libpq URL::

    store = open_store("postgresql://app@db.internal/desk", tenant="acme")
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
    The schema and its tables are created on first use and versioned in the
    table ``csdomain_schema`` (one row per applied version). Migrations are
    forward-only and run in order, in one transaction that holds
    ``pg_advisory_xact_lock`` on a fixed key (per schema), so processes
    starting together migrate once. A schema newer than this csdomain's
    :data:`~csdomain.storage.SCHEMA_VERSION` raises
    :class:`~csdomain.errors.SchemaError` naming both versions, and so does a
    schema holding tables of csdomain's names without csdomain's version table. Deployments
    that forbid DDL at run time call :func:`migrate` from a deploy step with a
    privileged connection; an up-to-date schema is only read, never locked.

    Documents are stored in ``json`` columns, not ``jsonb``: ``json`` keeps
    the text exactly as written (validated, and castable to ``jsonb`` for
    ad-hoc queries), while ``jsonb`` rewrites numbers (``1e300`` comes back as
    an integer, ``-0.0`` as ``0.0``) and rejects ``\\u0000``, which custom
    fields and customer attributes may hold. Text columns use ``COLLATE "C"``
    so that pages come in code point order on every server, as in the other
    adapters.

Threading
    Without a pool, each thread that uses the store gets a connection of its
    own, opened on first use (autocommit, with every unit of work an explicit
    ``BEGIN ... COMMIT`` through ``Connection.transaction()``), so threads never
    share a transaction; a call outside a unit of work is one statement and
    never leaves a connection idle in a transaction. The connections of
    finished threads are closed when another thread opens one, and all of them
    by :meth:`PostgresBackend.close`. With a pool, a call borrows a connection
    for its duration and a unit of work holds one from start to end: prefer a
    pool when threads come and go (a thread pool of a web server). A store on
    an app's connection is used by one thread at a time, as the connection is.

Concurrency
    Units of work run at the server's isolation level (``READ COMMITTED`` by
    default). Saves are optimistic: ``UPDATE ... WHERE version = n`` waits for
    a concurrent writer of the row and then matches nothing, so of two saves
    of one version exactly one wins and the other raises ``ConflictError``;
    no update is ever lost.

Errors
    A key taken raises :class:`~csdomain.errors.ConflictError` with the stored
    version (the insert uses ``ON CONFLICT DO NOTHING``, so an open unit of
    work stays usable). Every other driver error becomes one
    :class:`~csdomain.errors.StorageError` subclass, with the psycopg exception
    as its ``__cause__`` and its SQLSTATE in the message:

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

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Protocol, cast
from urllib.parse import unquote

from csdomain.errors import (
    ConflictError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.privacy import mask_url
from csdomain.storage.backend import (
    SCHEMA_VERSION,
    TICKET_COLUMNS,
    Row,
    StorageError,
    _store_for,
    check_key,
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
    "PostgresBackend",
    "migrate",
    "open_backend",
    "store_on_connection",
    "store_on_pool",
]

#: The schema csdomain's tables live in when the URL names none.
DEFAULT_SCHEMA: Final = "csdomain"

_LOCK_CLASS: Final = 0x6373_646D  # "csdm": the migration lock's key, with hashtext(schema)
_MAX_BIGINT: Final = 2**63 - 1
#: Rows per INSERT statement of insert_many.
_BATCH: Final = 2_000
#: SQL types of the ticket columns that are not text.
_COLUMN_TYPES: Final = {"updated_at": "bigint", "next_deadline": "bigint", "event_count": "integer"}

_Connection = psycopg.Connection[Any]
_Cursor = psycopg.Cursor[Any]

# -- schema -------------------------------------------------------------------------

#: Forward-only migrations: the statements that bring the schema to each version.
_MIGRATIONS: Final[dict[int, tuple[sql.SQL, ...]]] = {
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
}

assert sorted(_MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1)), "a migration is missing"


#: SQLSTATEs after which the same unit of work may simply run again.
_RETRYABLE: Final = frozenset({"40001", "40P01", "55P03"})
#: SQLSTATEs of a server going away: admin_shutdown, crash_shutdown, cannot_connect_now.
_GONE: Final = frozenset({"57P01", "57P02", "57P03"})


def _failure(what: str, exc: BaseException) -> StorageError:
    """The StorageError subclass for a driver error: one type per kind of failure."""
    state = getattr(exc, "sqlstate", None)
    code = f" [SQLSTATE {state}]" if state else ""
    message = " ".join(str(exc).split()) or type(exc).__name__
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
    except (psycopg.Error, UnicodeEncodeError) as exc:
        raise _failure(what, exc) from exc


def _check_schema(schema: object) -> str:
    if (
        not isinstance(schema, str)
        or not schema
        or "\x00" in schema
        or len(schema.encode("utf-8")) > 63
    ):
        raise ValidationError.single(
            "postgres store",
            "schema",
            f"expected a schema name of 1 to 63 bytes without NUL, got {schema!r}",
        )
    return schema


def _stored_version(cur: _Cursor, schema: str) -> int | None:
    """The schema's version; None when it has no version table yet (nothing is locked)."""
    cur.execute(
        "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = %s",
        (schema, "csdomain_schema"),
    )
    if cur.fetchone() is None:
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


def migrate(connection: psycopg.Connection[Any], schema: str = DEFAULT_SCHEMA) -> int:
    """Create or upgrade csdomain's tables in ``schema``; return the schema version.

    Runs in ``connection.transaction()`` (a savepoint when the connection is
    already in a transaction, which then also decides whether the tables
    stay). Stores call it when they open; call it yourself to migrate at deploy
    time. ``StorageError`` when the schema is newer than this csdomain.
    """
    schema = _check_schema(schema)
    if not isinstance(connection, psycopg.Connection):
        raise ValidationError.single(
            "postgres store",
            "connection",
            f"expected a psycopg.Connection, got {type(connection).__name__}",
        )
    ident = sql.Identifier(schema)
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
            for statement in _MIGRATIONS[target]:
                try:
                    cur.execute(statement.format(schema=ident))
                except (psycopg.errors.DuplicateTable, psycopg.errors.DuplicateObject) as exc:
                    raise SchemaError(
                        f"the PostgreSQL schema {schema!r} holds tables that csdomain did not "
                        f"create ({' '.join(str(exc).split())}) and no record of a csdomain "
                        "schema; use another schema (?schema=NAME)"
                    ) from exc
            cur.execute(
                sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(
                    sql.Identifier(schema, "csdomain_schema")
                ),
                (target,),
            )
        return SCHEMA_VERSION


# -- where connections come from -------------------------------------------------------


class _Source(Protocol):
    def lease(self) -> AbstractContextManager[_Connection]:
        """A connection for one call or one unit of work."""

    def standalone(self, conn: _Connection) -> AbstractContextManager[Any]:
        """What wraps a call made outside a unit of work."""

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

    def standalone(self, conn: _Connection) -> AbstractContextManager[Any]:
        return nullcontext()

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

    def standalone(self, conn: _Connection) -> AbstractContextManager[Any]:
        return nullcontext()  # the pool ends any transaction when the connection goes back

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

    def standalone(self, conn: _Connection) -> AbstractContextManager[Any]:
        # A read on an idle, non-autocommit connection would open a transaction and leave
        # it open; give it one of its own. Inside the app's transaction, just take part.
        if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
            return conn.transaction()
        return nullcontext()

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "the app's connection"


# -- the backend -----------------------------------------------------------------------


def _first_duplicate(keys: list[str], inserted: set[str]) -> str:
    """The first key that was not inserted: taken already, or repeated in ``keys``."""
    seen: set[str] = set()
    for key in keys:
        if key not in inserted or key in seen:
            return key
        seen.add(key)
    raise AssertionError("fewer keys inserted than given, yet none missing")  # pragma: no cover


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


class PostgresBackend:
    """A tenant's view of csdomain's tables in one PostgreSQL schema.

    Made by :func:`open_backend` (from a URL), :meth:`from_connection` or
    :meth:`from_pool`; wrap it in a :class:`~csdomain.storage.Store`.
    """

    def __init__(self, source: _Source, tenant: str, schema: str) -> None:
        """Internal: use :func:`open_backend`, :meth:`from_connection` or :meth:`from_pool`."""
        self.tenant = tenant
        self.schema = schema
        self._source = source
        self._local = threading.local()
        self._closed = False
        self._records = sql.Identifier(schema, "records")
        self._tickets = sql.Identifier(schema, "tickets")
        self._contacts = sql.Identifier(schema, "contacts")
        self._outbox = sql.Identifier(schema, "outbox")
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in TICKET_COLUMNS
        )
        self._update_ticket = sql.SQL(
            "UPDATE {} SET version = version + 1, document = %s::json, {}"
            " WHERE tenant = %s AND key = %s AND version = %s"
        ).format(self._tickets, assignments)
        # Statements on the hot paths, rendered once: composing costs more than a round trip.
        names = sql.SQL(", ").join(sql.Identifier(c) for c in TICKET_COLUMNS)
        arrays = sql.SQL(", ").join(
            sql.SQL("%b::{}[]").format(sql.SQL(_COLUMN_TYPES.get(c, "text")))
            for c in TICKET_COLUMNS
        )
        aliases = sql.SQL(", ").join(sql.Identifier(f"c_{c}") for c in TICKET_COLUMNS)
        self._q_insert_tickets = (
            sql.SQL(
                "INSERT INTO {} (tenant, key, version, document, {})"
                " SELECT %s, k, 1, d::json, {}"
                " FROM unnest(%b::text[], %b::text[], {}) AS r(k, d, {})"
                " ON CONFLICT DO NOTHING RETURNING key"
            )
            .format(self._tickets, names, aliases, arrays, aliases)
            .as_bytes(None)
        )
        self._q_insert_records = (
            sql.SQL(
                "INSERT INTO {} (tenant, collection, key, version, document)"
                " SELECT %s, %s, k, 1, d::json FROM unnest(%b::text[], %b::text[]) AS r(k, d)"
                " ON CONFLICT DO NOTHING RETURNING key"
            )
            .format(self._records)
            .as_bytes(None)
        )
        self._q_update_ticket = self._update_ticket.as_bytes(None)
        get = "SELECT key, version, document::text FROM {} WHERE {} AND key = %s"
        self._q_get_ticket = (
            sql.SQL(get).format(self._tickets, sql.SQL("tenant = %s")).as_bytes(None)
        )
        self._q_get_record = (
            sql.SQL(get)
            .format(self._records, sql.SQL("tenant = %s AND collection = %s"))
            .as_bytes(None)
        )
        self._q_copy_outbox = (
            sql.SQL("COPY {} (tenant, ticket_id, sequence, event_type, document) FROM STDIN")
            .format(self._outbox)
            .as_bytes(None)
        )

    @classmethod
    def from_connection(
        cls, connection: psycopg.Connection[Any], tenant: str, *, schema: str = DEFAULT_SCHEMA
    ) -> PostgresBackend:
        """A backend on a connection the app holds (and keeps: :meth:`close` leaves it open).

        A unit of work is ``connection.transaction()``: a savepoint when the
        app already has a transaction open, so the app's commit or rollback
        decides; its own ``BEGIN ... COMMIT`` otherwise. A call outside a unit of
        work takes part in the app's open transaction, if any. The schema is
        created or upgraded now, in the app's transaction when one is open.
        Use the store from one thread at a time, as the connection.
        """
        check_key("postgres store", "tenant", tenant)
        schema = _check_schema(schema)
        migrate(connection, schema)
        return cls(_AppConnection(connection), tenant, schema)

    @classmethod
    def from_pool(
        cls, pool: ConnectionPool[Any], tenant: str, *, schema: str = DEFAULT_SCHEMA
    ) -> PostgresBackend:
        """A backend on a ``psycopg_pool.ConnectionPool`` the app owns (:meth:`close` keeps it).

        Each call borrows a connection; a unit of work holds one until it ends.
        """
        check_key("postgres store", "tenant", tenant)
        schema = _check_schema(schema)
        with _translated("borrow a connection from the pool"), pool.connection() as conn:
            migrate(conn, schema)
        return cls(_PoolSource(pool, owned=False), tenant, schema)

    def __repr__(self) -> str:
        return f"<PostgresBackend {self._source!r} schema={self.schema!r} tenant={self.tenant!r}>"

    # -- connections and transactions -------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this store is closed")

    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._check_open()
        if self.in_transaction():
            raise StorageError(
                "a transaction is already open on this store in this thread; "
                "transactions do not nest"
            )
        failure: BaseException | None = None
        try:
            with self._source.lease() as conn, conn.transaction():
                self._local.conn = conn
                self._local.outbox = []
                try:
                    yield
                    self._flush_outbox()  # before the commit, inside the transaction
                except BaseException as exc:
                    failure = exc
                    raise
                finally:
                    self._local.conn = None
                    self._local.outbox = None
        except (psycopg.Error, UnicodeEncodeError) as exc:
            if exc is failure:
                raise  # the app's own driver error from inside the block
            raise _failure("begin or commit the transaction", exc) from exc

    @contextmanager
    def _cursor(self, what: str, write: bool = False) -> Iterator[_Cursor]:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._check_open()
            if write:
                raise StorageError("writes need a transaction: use store.transaction()")
        with _translated(what):
            if conn is not None:
                with conn.cursor(row_factory=tuple_row) as cur:
                    yield cur
            else:
                with (
                    self._source.lease() as conn,
                    self._source.standalone(conn),
                    conn.cursor(row_factory=tuple_row) as cur,
                ):
                    yield cur

    def _place(self, collection: str) -> tuple[sql.Composable, sql.Composable, list[Any]]:
        """The table of ``collection`` and the condition selecting this tenant's rows of it."""
        if collection == "tickets":
            return self._tickets, sql.SQL("tenant = %s"), [self.tenant]
        return self._records, sql.SQL("tenant = %s AND collection = %s"), [self.tenant, collection]

    # -- rows -------------------------------------------------------------------------

    def get(self, collection: str, key: str) -> Row | None:
        if collection == "tickets":
            query, params = self._q_get_ticket, [self.tenant, key]
        else:
            query, params = self._q_get_record, [self.tenant, collection, key]
        with self._cursor("read a record") as cur:
            cur.execute(query, params)
            found = cur.fetchone()
        return None if found is None else Row(found)

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        if not keys:
            return []
        table, where, params = self._place(collection)
        query = sql.SQL("SELECT key, version, document::text FROM {} WHERE {} AND key = ANY(%s)")
        with self._cursor(f"read {collection}") as cur:
            cur.execute(query.format(table, where), [*params, list(keys)])
            return [Row(found) for found in cur.fetchall()]

    def insert(self, collection: str, key: str, text: str, columns: Mapping[str, Any]) -> None:
        self.insert_many(collection, [(key, text, columns)])

    def insert_many(
        self, collection: str, rows: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> None:
        with self._cursor("insert records", write=True) as cur:
            for start in range(0, len(rows), _BATCH):
                batch = rows[start : start + _BATCH]
                keys = [key for key, _, _ in batch]
                texts = [text for _, text, _ in batch]
                # One array per column (unnest): the statement stays the same whatever
                # the batch size, so it is parsed once; rows go in one round trip. The
                # arrays travel in binary (%b): text arrays would escape every quote.
                if collection == "tickets":
                    arrays = [
                        [_plain(columns.get(c)) for _, _, columns in batch] for c in TICKET_COLUMNS
                    ]
                    cur.execute(self._q_insert_tickets, [self.tenant, keys, texts, *arrays])
                else:
                    cur.execute(self._q_insert_records, [self.tenant, collection, keys, texts])
                inserted = {key for (key,) in cur.fetchall()}
                if len(inserted) < len(batch):
                    duplicate = _first_duplicate(keys, inserted)
                    table, where, params = self._place(collection)
                    cur.execute(
                        sql.SQL("SELECT version FROM {} WHERE {} AND key = %s").format(
                            table, where
                        ),
                        [*params, duplicate],
                    )
                    found = cur.fetchone()
                    raise ConflictError(
                        collection,
                        duplicate,
                        None,
                        None if found is None else int(found[0]),
                        f"in tenant {self.tenant!r}",
                    )

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: Mapping[str, Any],
    ) -> bool:
        with self._cursor(f"update {collection} {key!r}", write=True) as cur:
            if collection == "tickets":
                values = [_plain(columns.get(c)) for c in TICKET_COLUMNS]
                cur.execute(
                    self._q_update_ticket, [text, *values, self.tenant, key, expected_version]
                )
            else:
                cur.execute(
                    sql.SQL(
                        "UPDATE {} SET version = version + 1, document = %s::json"
                        " WHERE tenant = %s AND collection = %s AND key = %s AND version = %s"
                    ).format(self._records),
                    [text, self.tenant, collection, key, expected_version],
                )
            return cur.rowcount == 1

    def delete(self, collection: str, key: str, expected_version: int) -> bool:
        table, where, params = self._place(collection)
        query = sql.SQL("DELETE FROM {} WHERE {} AND key = %s AND version = %s")
        with self._cursor(f"delete {collection} {key!r}", write=True) as cur:
            cur.execute(query.format(table, where), [*params, key, expected_version])
            return cur.rowcount == 1

    def _filtered(
        self, collection: str, filters: Mapping[str, Sequence[Any]]
    ) -> tuple[sql.Composable, sql.Composable, list[Any]] | None:
        """Table, condition and parameters for ``filters``; None when nothing can match."""
        table, where, params = self._place(collection)
        conditions = [where]
        for name, values in filters.items():
            if collection != "tickets" or name not in TICKET_COLUMNS:
                raise StorageError(f"cannot filter {collection} on {name!r}")
            wanted = [_plain(v) for v in values if v is not None]
            if not wanted and None not in values:
                return None
            column = sql.Identifier(name)
            if None in values:
                conditions.append(sql.SQL("({} = ANY(%s) OR {} IS NULL)").format(column, column))
            else:
                conditions.append(sql.SQL("{} = ANY(%s)").format(column))
            params.append(wanted)
        return table, sql.SQL(" AND ").join(conditions), params

    def select(
        self,
        collection: str,
        filters: Mapping[str, Sequence[Any]],
        order: str,
        after: tuple[Any, str] | None,
        limit: int,
        below: Any = None,
    ) -> list[tuple[Any, Row]]:
        if order != "key" and (collection != "tickets" or order not in TICKET_COLUMNS):
            raise StorageError(f"cannot order {collection} by {order!r}")
        found = self._filtered(collection, filters)
        if found is None:
            return []
        table, where, params = found
        column = sql.Identifier(order)
        conditions = [where, sql.SQL("{} IS NOT NULL").format(column)]
        if below is not None:
            conditions.append(sql.SQL("{} < %s").format(column))
            params.append(below)
        if after is not None:
            conditions.append(sql.SQL("({}, key) > (%s, %s)").format(column))
            params.extend(after)
        query = sql.SQL(
            "SELECT {}, key, version, document::text FROM {} WHERE {} ORDER BY {}, key LIMIT %s"
        ).format(column, table, sql.SQL(" AND ").join(conditions), column)
        params.append(limit)
        with self._cursor(f"list {collection}") as cur:
            cur.execute(query, params)
            return [(value, Row((key, version, text))) for value, key, version, text in cur]

    def count(self, collection: str, filters: Mapping[str, Sequence[Any]]) -> int:
        found = self._filtered(collection, filters)
        if found is None:
            return 0
        table, where, params = found
        with self._cursor(f"count {collection}") as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(table, where), params)
            row = cur.fetchone()
        return 0 if row is None else int(row[0])

    # -- contacts ---------------------------------------------------------------------

    def set_contacts(self, customer_id: str, contacts: Iterable[tuple[str, str]]) -> None:
        pairs = sorted({(str(_plain(channel)), address) for channel, address in contacts})
        with self._cursor(f"index the contacts of customer {customer_id!r}", write=True) as cur:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE tenant = %s AND customer_id = %s").format(
                    self._contacts
                ),
                [self.tenant, customer_id],
            )
            if pairs:
                cur.executemany(
                    sql.SQL(
                        "INSERT INTO {} (tenant, customer_id, channel, address)"
                        " VALUES (%s, %s, %s, %s)"
                    ).format(self._contacts),
                    [(self.tenant, customer_id, channel, address) for channel, address in pairs],
                )

    def find_contacts(self, address: str, channel: str | None) -> list[str]:
        params: list[Any] = [self.tenant, address]
        on_channel = sql.SQL("")
        if channel is not None:
            on_channel = sql.SQL(" AND channel = %s")
            params.append(str(_plain(channel)))
        query = sql.SQL(
            "SELECT DISTINCT customer_id FROM {} WHERE tenant = %s AND address = %s{}"
            " ORDER BY customer_id"
        ).format(self._contacts, on_channel)
        with self._cursor("find customers by contact") as cur:
            cur.execute(query, params)
            return [customer for (customer,) in cur]

    # -- outbox -----------------------------------------------------------------------

    def outbox_append(self, messages: Sequence[tuple[str, int, str, str]]) -> None:
        buffer: list[tuple[str, str, int, str, str]] | None = getattr(self._local, "outbox", None)
        if buffer is None:
            raise StorageError("writes need a transaction: use store.transaction()")
        # Kept until the unit of work ends, then written with one COPY before the
        # commit: one round trip for all of a bulk save's events, not one per ticket.
        buffer.extend((self.tenant, *message) for message in messages)

    def _flush_outbox(self) -> None:
        buffer: list[tuple[str, str, int, str, str]] | None = getattr(self._local, "outbox", None)
        if not buffer:
            return
        with (
            self._cursor("append to the outbox", write=True) as cur,
            cur.copy(self._q_copy_outbox) as copy,
        ):
            for row in buffer:
                copy.write_row(row)
        buffer.clear()

    def outbox_pending(self, limit: int) -> list[tuple[int, str, int, str, str]]:
        self._flush_outbox()  # this unit of work's own messages first
        with self._cursor("read the outbox") as cur:
            cur.execute(
                sql.SQL(
                    "SELECT id, ticket_id, sequence, event_type, document::text FROM {}"
                    " WHERE tenant = %s AND published = false ORDER BY id LIMIT %s"
                ).format(self._outbox),
                [self.tenant, limit],
            )
            return [tuple(found) for found in cur]

    def outbox_mark(self, ids: Sequence[int]) -> None:
        self._flush_outbox()
        wanted = sorted({i for i in ids if 1 <= i <= _MAX_BIGINT})
        with self._cursor("mark outbox messages published", write=True) as cur:
            if wanted:
                cur.execute(
                    sql.SQL(
                        "UPDATE {} SET published = true"
                        " WHERE tenant = %s AND id = ANY(%s::bigint[]) AND published = false"
                    ).format(self._outbox),
                    [self.tenant, wanted],
                )

    def close(self) -> None:
        """Close the connections this backend opened (never the app's connection or pool)."""
        self._closed = True
        with _translated("close the connections"):
            self._source.close()


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


def open_backend(url: str, tenant: str) -> PostgresBackend:
    """The backend for a ``postgresql://`` or ``postgres://`` URL (see the module docs).

    Connects now, creating or upgrading the schema's tables, so a wrong URL or
    an unreachable server fails here with ``StorageError``.
    """
    conninfo, schema, pool_size = _parse_url(url)
    with _translated(f"connect to {_shown(conninfo)}"):
        first = psycopg.connect(conninfo, autocommit=True)
    try:
        migrate(first, schema)
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
    connection: psycopg.Connection[Any], *, tenant: str, schema: str = DEFAULT_SCHEMA
) -> Store:
    """A :class:`~csdomain.storage.Store` on a psycopg connection the app holds.

    The store's units of work become savepoints of the app's transaction when
    one is open, so they commit or roll back with it; closing the store leaves
    the connection open. See :meth:`PostgresBackend.from_connection`.
    """
    backend = PostgresBackend.from_connection(connection, tenant, schema=schema)
    return cast("Store", _store_for(backend))


def store_on_pool(pool: ConnectionPool[Any], *, tenant: str, schema: str = DEFAULT_SCHEMA) -> Store:
    """A :class:`~csdomain.storage.Store` on a ``psycopg_pool.ConnectionPool`` the app owns."""
    return cast("Store", _store_for(PostgresBackend.from_pool(pool, tenant, schema=schema)))
