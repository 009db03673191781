"""Repositories over declared collections: one implementation for every aggregate.

:class:`DocumentRepository` stores the values of one declared
:class:`~csdomain.storage.Collection` as JSON documents with their indexed
columns and a version, and serves the collection's declared queries as keyset
pages. Customers, agents, groups and configuration use it; so does any
aggregate a later feature or an application declares, with no adapter change::

    >>> import attrs
    >>> from csdomain.storage import Collection, Column, ColumnType, Query, open_store
    >>> from csdomain.serialization import declare_document
    >>> @attrs.frozen
    ... class Note:
    ...     id: str
    ...     topic: str
    >>> _ = declare_document("doctest_note", Note)
    >>> NOTES = Collection(
    ...     "doctest_notes", "note", Note, key_of=lambda n: n.id,
    ...     columns=[Column("topic", ColumnType.TEXT)],
    ...     queries=[Query("by_topic", where=["topic"])],
    ...     columns_of=lambda n: {"topic": n.topic},
    ... )
    >>> store = open_store("memory:", tenant="acme")
    >>> notes = store.collection(NOTES)
    >>> _ = notes.add(Note("n1", "billing"))
    >>> [s.value.id for s in notes.find("by_topic", where={"topic": "billing"}).items]
    ['n1']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, Generic, NamedTuple, TypeVar

import attrs

from csdomain._kernel.collections import Collection, ColumnType
from csdomain._kernel.time import ensure_aware, from_epoch_us, to_epoch_us
from csdomain.errors import (
    CorruptRecordError,
    SchemaError,
    StorageError,
    ValidationError,
)
from csdomain.serialization import from_json, to_json
from csdomain.storage._context import Context, column_value, columns_for
from csdomain.storage.backend import Row, Select, check_key
from csdomain.storage.paging import (
    MAX_PAGE,
    Page,
    check_limit,
    decode_cursor,
    next_cursor,
    page_of,
)

__all__ = ["ColumnRow", "DocumentRepository", "Stored", "check_version", "unreadable"]

T = TypeVar("T")
R = TypeVar("R")

#: The column types a lease can set.
_LEASABLE = (ColumnType.INSTANT, ColumnType.INTEGER)


@attrs.frozen
class Stored(Generic[T]):
    """A stored value and its version (pass ``version`` back as ``expected_version``)."""

    value: T
    version: int


class ColumnRow(NamedTuple):
    """One stored record read as its indexed column values (no document decoded).

    ``values`` maps each requested column to the value stored in it: ``str`` for
    a text column, ``int`` for an integer, an aware ``datetime`` in UTC for an
    instant, ``bool`` for a boolean, None for NULL. These are the values
    ``columns_of`` gave when the record was written, as stored: an enum member
    comes back as its value (``"open"``, not ``Status.OPEN``), an instant in
    another zone as the same instant in UTC.
    """

    key: str
    version: int
    values: Mapping[str, Any]


_new_row = tuple.__new__  # ColumnRow without its Python-level __new__: once per row


def _column_rows(names: tuple[str, ...]) -> Callable[[str, int, Sequence[Any]], ColumnRow]:
    """What makes each row of a :meth:`DocumentRepository.select_columns` page."""

    def row(key: str, version: int, values: Sequence[Any]) -> ColumnRow:
        return _new_row(ColumnRow, (key, version, dict(zip(names, values, strict=True))))

    return row


def check_version(what: str, version: object) -> int:
    """``version`` if it can be a stored version; ``ValidationError`` else."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError.single(
            what, "expected_version", f"expected the stored version (1 or more), got {version!r}"
        )
    return version


#: What a loader may raise for a document it cannot read (ValidationError is a ValueError).
UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)


def unreadable(what: str, key: str, exc: BaseException) -> StorageError:
    """The error for a stored ``what`` ``key`` that does not load."""
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    newer = [p for p in problems if p.path == "schema_version" and "newer" in p.message]
    if newer:
        return SchemaError(
            f"stored {what} {key!r} was written by a newer csdomain: {newer[0].message}"
        )
    reason = str(exc) if isinstance(exc, ValidationError) else type(exc).__name__
    if len(reason) > 500:
        reason = reason[:500] + " ..."
    return CorruptRecordError(
        f"stored {what} {key!r} cannot be read ({reason}); restore it from a backup or delete it",
        kind=what,
        key=key,
    )


class DocumentRepository(Generic[T]):
    """The values of one declared collection, keyed by ``collection.key_of``."""

    def __init__(self, context: Context, collection: Collection[T]) -> None:
        self._context = context
        self._collection = collection
        self._what = collection.what
        self._projections: dict[tuple[Any, ...], tuple[tuple[str, ...], tuple[int, ...]]] = {}
        if context.declare(collection):
            self.reindex()

    @property
    def collection(self) -> Collection[T]:
        """The declaration this repository stores."""
        return self._collection

    # -- reading ------------------------------------------------------------------

    def _read(self, row: Row) -> Stored[T]:
        try:
            value = from_json(row.text, self._collection.document)
        except UNREADABLE as exc:
            raise unreadable(self._what, row.key, exc) from exc
        found = self._collection.key_of(value)
        if found != row.key:
            # A document copied or edited under another row: reading it as this key would
            # make every later add of the key conflict, and every lookup of its own fail.
            raise CorruptRecordError(
                f"stored {self._what} {row.key!r} holds the document of {found!r}; "
                "restore it from a backup or delete it",
                kind=self._what,
                key=row.key,
            )
        return Stored(value, row.version)

    def _key(self, key: object) -> str:
        return check_key(self._what, "id", key)

    def get(self, key: str) -> Stored[T]:
        """The stored value with ``key``; ``NotFoundError`` if this tenant has none."""
        row = self._context.backend.get(self._collection.name, self._key(key))
        if row is None:
            raise self._context.missing(self._what, key)
        return self._read(row)

    def get_many(self, keys: Iterable[str]) -> dict[str, Stored[T]]:
        """The stored values among ``keys``, by key (missing keys are left out)."""
        wanted = list(dict.fromkeys(self._key(k) for k in keys))
        rows = self._context.backend.get_many(self._collection.name, wanted) if wanted else []
        return {row.key: self._read(row) for row in rows}

    # -- writing ------------------------------------------------------------------

    def _checked(self, value: object) -> T:
        cls = self._collection.document
        if not isinstance(value, cls):
            raise ValidationError.single(
                f"{self._what} store",
                "value",
                f"expected a {cls.__name__}, got a {type(value).__name__}",
            )
        return value

    def _text(self, value: T) -> str:
        try:
            text = to_json(value)
        except (TypeError, ValueError) as exc:  # a value its own checks let through
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError.single(
                f"{self._what} store", "value", f"cannot be written as JSON: {exc}"
            ) from None
        limit = self._context.max_document_bytes
        if len(text) > limit // 4 and len(text.encode("utf-8")) > limit:
            raise ValidationError.single(
                f"{self._what} store",
                "value",
                f"the document takes {len(text.encode('utf-8')):,} bytes; this store "
                f"accepts up to {limit:,} (open_store(max_document_bytes=...))",
            )
        return text

    def _columns(self, value: T) -> dict[str, Any]:
        return columns_for(
            self._collection, self._collection.columns_of(value), f"{self._what} store"
        )

    def _row(self, value: T) -> tuple[str, str, dict[str, Any]]:
        return self._checked_row(self._checked(value))

    def _checked_row(self, value: T) -> tuple[str, str, dict[str, Any]]:
        """The row of ``value``, which ``_checked`` accepted."""
        return self._key(self._collection.key_of(value)), self._text(value), self._columns(value)

    def add(self, value: T) -> Stored[T]:
        """Store a new value (version 1); ``ConflictError`` if its key or a unique
        column value is taken."""
        self.add_many([value])
        return Stored(value, 1)

    def add_many(self, values: Iterable[T]) -> list[Stored[T]]:
        """Store many new values, all or none (``ConflictError`` naming a key taken)."""
        checked = [self._checked(v) for v in values]
        rows = [self._checked_row(v) for v in checked]
        if rows:
            with self._context.unit():
                self._context.backend.insert_many(self._collection.name, rows)
        return [Stored(v, 1) for v in checked]

    def save(self, value: T, *, expected_version: int) -> Stored[T]:
        """Replace the stored value if its version is still ``expected_version``.

        ``ConflictError`` when someone saved a newer version first (or a unique
        column value is taken), ``NotFoundError`` when there is nothing to
        replace; either way nothing changes.
        """
        expected = check_version(self._what, expected_version)
        key, text, columns = self._row(value)
        with self._context.unit():
            self._context.backend.update(self._collection.name, key, expected, text, columns)
        return Stored(value, expected + 1)

    def delete(self, key: str, *, expected_version: int) -> None:
        """Delete the value if its version is still ``expected_version``."""
        expected = check_version(self._what, expected_version)
        key = self._key(key)
        with self._context.unit():
            self._context.backend.delete(self._collection.name, key, expected)

    def reindex(self) -> int:
        """Recompute every stored value's column values (after the declaration gained
        columns), in one unit of work; returns how many values were reindexed."""
        count = 0
        with self._context.unit():
            cursor = None
            while True:
                page = self.list(limit=500, cursor=cursor)
                for stored in page.items:
                    key = self._key(self._collection.key_of(stored.value))
                    self._context.backend.set_columns(
                        self._collection.name, key, self._columns(stored.value)
                    )
                    count += 1
                if page.next_cursor is None:
                    return count
                cursor = page.next_cursor

    # -- queries ---------------------------------------------------------------------

    def _where(self, where: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
        if not isinstance(where, Mapping):
            raise ValidationError.single(
                f"{self._what} query", "where", f"expected a mapping of columns, got {where!r}"
            )
        subject = f"{self._what} query"
        filters: dict[str, tuple[Any, ...]] = {}
        for name, wanted in where.items():
            column = self._collection.column(name)
            values = wanted if isinstance(wanted, (tuple, list, set, frozenset)) else (wanted,)
            if not values:
                raise ValidationError.single(
                    subject, name, "expected a value or a non-empty collection of values"
                )
            filters[name] = tuple(
                column_value(self._collection, column.name, v, subject=subject) for v in values
            )
        return filters

    def _bound(self, order: str, value: object, name: str) -> Any:
        if value is None:
            return None
        if order == "key":
            raise ValidationError.single(
                f"{self._what} query", name, "ranges apply to queries ordered by a column"
            )
        if isinstance(value, datetime):
            return to_epoch_us(ensure_aware(value, f"{self._what} query", name))
        return column_value(self._collection, order, value, subject=f"{self._what} query")

    def select(
        self,
        where: Mapping[str, Any],
        order: str,
        *,
        low: object = None,
        high: object = None,
        limit: int = 100,
        cursor: str | None = None,
        unreadable: list[str] | None = None,
    ) -> Page[Stored[T]]:
        """A page of stored values matching ``where``, keyset-ordered by ``(order, key)``;
        a declared query must serve the filters and the order. With ``unreadable`` a
        list, a stored value that cannot be read is left out of the page and its key
        appended there (else it raises :class:`CorruptRecordError`)."""
        filters = self._where(where)
        query = self._collection.query_for(filters, order)
        return self._page(
            query.name, filters, order, low, high, limit, cursor, unreadable=unreadable
        )

    def select_columns(
        self,
        where: Mapping[str, Any],
        order: str,
        *,
        columns: Sequence[str],
        low: object = None,
        high: object = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[ColumnRow]:
        """A page of the records :meth:`select` gives, read as stored column values.

        ``where``, ``order``, ``low``, ``high``, ``limit`` and ``cursor`` are those
        of :meth:`select`, and so are the records and their order, page by page: a
        cursor of either method continues a walk of the other. Each record comes as
        a :class:`ColumnRow` holding the values of ``columns`` (distinct
        single-valued column names, at least one); its document is not read, so
        none is decoded and no unreadable document stops the page.

        On a backend without ``select_columns`` (see
        :class:`~csdomain.storage.backend.ProjectingBackend`), the page's documents
        are read and their values computed by the collection's ``columns_of``: the
        same values, except in a column a lease set (the document gives the value of
        its last save), and an unreadable document raises :class:`CorruptRecordError`.
        """
        items, after = self._column_values(
            where, order, columns, low, high, limit, cursor, _column_rows
        )
        return Page(tuple(items), after)

    def select_values(
        self,
        where: Mapping[str, Any],
        order: str,
        *,
        columns: Sequence[str],
        make: Callable[[str, int, Sequence[Any]], R],
        low: object = None,
        high: object = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[R]:
        """The page :meth:`select_columns` gives, each record made by ``make(key,
        version, values)`` instead of a :class:`ColumnRow`: ``values`` holds the stored
        values of ``columns`` in their order, as :attr:`ColumnRow.values` would.

        For a caller that builds its own row type from the columns (as
        :meth:`RevisitDesk.agenda_entries <csdomain.helpdesk.RevisitDesk.agenda_entries>`
        builds agenda entries), with no dict per record between. The arguments, checks,
        errors, records, order and cursors are those of :meth:`select_columns`.
        """
        items, after = self._column_values(
            where, order, columns, low, high, limit, cursor, lambda _names: make
        )
        return Page(tuple(items), after)

    def _column_values(
        self,
        where: Mapping[str, Any],
        order: str,
        columns: Sequence[str],
        low: object,
        high: object,
        limit: int,
        cursor: str | None,
        maker: Callable[[tuple[str, ...]], Callable[[str, int, Sequence[Any]], R]],
    ) -> tuple[list[R], str | None]:
        """The page of :meth:`select_columns` with each row made by ``make(key, version,
        values)``, ``values`` in the order of ``columns`` (instants converted), where
        ``make`` is ``maker(names)`` (the column names, once checked), and the next
        cursor. Same arguments, checks and errors; for a caller that builds its own value
        from each row (an agenda entry) with no :class:`ColumnRow` between."""
        filters = self._where(where)
        query = self._collection.query_for(filters, order)
        names, convert = self._projection(columns)
        fingerprint, select, limit = self._query(
            query.name, filters, order, low, high, limit, cursor
        )
        backend = self._context.backend
        project = getattr(backend, "select_columns", None)
        rows: list[tuple[Any, str, int, Any]]
        if project is None:  # the documents; decoded for the page's rows only
            documents = backend.select(self._collection.name, select)
            rows = [(value, row.key, row.version, row) for value, row in documents]
        else:
            rows = project(self._collection.name, select, names)
        make = maker(names)
        found: list[tuple[Any, str, int, Any]] = rows[:limit]
        if project is None:
            found = [(v, k, n, self._stored_columns(row, names)) for v, k, n, row in found]
        if not convert:
            return [make(k, n, values) for _, k, n, values in found], next_cursor(
                fingerprint, rows, limit, itemgetter(1)
            )
        page: list[R] = []
        append = page.append
        for _, key, version, values in found:
            values = list(values)
            for i in convert:
                us = values[i]
                if us is not None:
                    values[i] = from_epoch_us(us)
            append(make(key, version, values))
        return page, next_cursor(fingerprint, rows, limit, itemgetter(1))

    def _projection(self, columns: object) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The column names ``columns`` asks for, and the indexes of the instants among
        them; ``ValidationError`` for anything else. Kept per tuple of names asked for."""
        if type(columns) is tuple:
            try:
                return self._projections[columns]
            except (KeyError, TypeError):  # not seen yet; an unhashable item
                pass
        projection = self._project(columns)
        if type(columns) is tuple:
            if len(self._projections) >= 64:
                self._projections.clear()
            self._projections[columns] = projection
        return projection

    def _project(self, columns: object) -> tuple[tuple[str, ...], tuple[int, ...]]:
        single = {c.name: c.type for c in self._collection.columns if not c.multiple}
        problem = ""
        names: tuple[Any, ...] = ()
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
            problem = "expected a sequence of column names"
        else:
            names = tuple(columns)
            wrong = [n for n in names if not isinstance(n, str) or n not in single]
            if not names:
                problem = "expected at least one column"
            elif wrong:
                multiple = [c.name for c in self._collection.columns if c.multiple]
                problem = (
                    f"{wrong[0]!r} holds several values per record"
                    if wrong[0] in multiple
                    else f"{wrong[0]!r} is not a column"
                )
            elif len(set(names)) < len(names):
                problem = f"{next(n for n in names if names.count(n) > 1)!r} is asked for twice"
        if problem:
            raise ValidationError.single(
                f"{self._what} query",
                "columns",
                f"{problem}, got {columns!r}; accepted: distinct names among the "
                f"single-valued columns {sorted(single)}",
            )
        return names, tuple(i for i, n in enumerate(names) if single[n] is ColumnType.INSTANT)

    def _stored_columns(self, row: Row, names: tuple[str, ...]) -> tuple[Any, ...]:
        """The values of ``names`` the stored document gives, as adapters store them."""
        value = self._read(row).value
        stored = columns_for(
            self._collection, self._collection.columns_of(value), f"{self._what} store"
        )
        return tuple(stored[name] for name in names)

    def _query(
        self,
        name: str,
        filters: dict[str, tuple[Any, ...]],
        order: str,
        low: object,
        high: object,
        limit: int,
        cursor: str | None,
    ) -> tuple[tuple[Any, ...], Select, int]:
        """The cursor fingerprint of a page of query ``name``, the page's Select (one
        row more than the page, to know whether another follows) and its size."""
        limit = check_limit(limit)
        low, high = self._bound(order, low, "low"), self._bound(order, high, "high")
        fingerprint = (
            self._context.tenant,
            self._collection.name,
            name,
            sorted(filters.items()),
            order,
            low,
            high,
        )
        after = decode_cursor(fingerprint, cursor) if cursor is not None else None
        return fingerprint, Select(filters, order, after, low, high, limit + 1), limit

    def _page(
        self,
        name: str,
        filters: dict[str, tuple[Any, ...]],
        order: str,
        low: object,
        high: object,
        limit: int,
        cursor: str | None,
        read: Callable[[Row], Any] | None = None,
        unreadable: list[str] | None = None,
    ) -> Page[Any]:
        fingerprint, select, limit = self._query(name, filters, order, low, high, limit, cursor)
        rows = self._context.backend.select(self._collection.name, select)
        if unreadable is None:
            return page_of(fingerprint, rows, limit, read or self._read)
        page = page_of(fingerprint, rows, limit, self._read_or_skip(unreadable))
        return Page(tuple(v for v in page.items if v is not None), page.next_cursor)

    def _read_or_skip(self, unreadable: list[str]) -> Callable[[Row], Stored[T] | None]:
        def read(row: Row) -> Stored[T] | None:
            try:
                return self._read(row)
            except CorruptRecordError:
                unreadable.append(row.key)
                return None

        return read

    def find(
        self,
        query: str,
        *,
        where: Mapping[str, Any] | None = None,
        low: object = None,
        high: object = None,
        limit: int = 100,
        cursor: str | None = None,
        unreadable: list[str] | None = None,
    ) -> Page[Stored[T]]:
        """A page of the declared query ``query``: ``where`` gives a value (or a
        collection of accepted values) for each of its filter columns, and
        ``low <= order value < high`` bounds a query ordered by a column.
        ``unreadable``: as :meth:`select`."""
        declared = self._collection.query(query)
        filters = self._where(where or {})
        if set(filters) != set(declared.where):
            raise ValidationError.single(
                f"{self._what} query",
                "where",
                f"query {query!r} filters on {list(declared.where)}; got {sorted(filters)}",
            )
        return self._page(
            declared.name,
            filters,
            declared.order,
            low,
            high,
            limit,
            cursor,
            unreadable=unreadable,
        )

    def count(self, query: str | None = None, *, where: Mapping[str, Any] | None = None) -> int:
        """How many stored values match ``where`` (every value, without a query)."""
        filters = self._where(where or {})
        if query is not None:
            declared = self._collection.query(query)
            if set(filters) != set(declared.where):
                raise ValidationError.single(
                    f"{self._what} query",
                    "where",
                    f"query {query!r} filters on {list(declared.where)}; got {sorted(filters)}",
                )
        else:
            self._collection.query_for(filters, "key")
        return self._context.backend.count(self._collection.name, filters)

    def lease(
        self,
        query: str,
        *,
        high: datetime | int,
        until: datetime | int,
        limit: int = 100,
        where: Mapping[str, Any] | None = None,
        low: datetime | int | None = None,
        unreadable: list[str] | None = None,
    ) -> list[Stored[T]]:
        """Take the lowest due values of the declared query ``query`` for a while.

        ``query`` names a declared query ordered by an instant or integer column
        (its *order column*, such as a next sweep instant). The lease takes up to
        ``limit`` stored values matching ``where`` (as :meth:`find`) whose order
        column is set and ``< high`` (and ``>= low`` when given), lowest
        ``(value, id)`` first; sets their order column to ``until`` (so no other
        lease with a ``high`` at or below ``until`` takes them meanwhile) and
        adds 1 to their versions; returns them, in that order, with the new
        versions. Save each with ``expected_version=stored.version``: a save
        from before the lease raises ``ConflictError``, so nothing taken by one
        worker is applied by another. The stored documents are unchanged: the
        order column holds ``until`` until the next save recomputes it from the
        value.

        Leases racing in several threads or processes take disjoint values
        (PostgreSQL skips rows another lease holds; SQLite and memory run them
        one at a time). Runs in the caller's unit of work if one is open (the
        lease then commits or rolls back with it), else in one of its own.
        Instants are aware datetimes (or microseconds since the epoch);
        ``ValidationError`` names the collection and the argument it refuses.

        A stored value that cannot be read raises :class:`CorruptRecordError`, unless
        ``unreadable`` is a list: its key is then appended there and the value left
        out, still leased, so that one damaged record does not stop a sweep's work on
        the others (it is leased, and skipped, again once its lease runs out).
        """
        declared = self._collection.query(query)
        subject = f"lease of {self._collection.name!r}"
        order = declared.order
        column = None if order == "key" else self._collection.column(order)
        if column is None or column.unique or column.type not in _LEASABLE:
            raise ValidationError.single(
                subject,
                "query",
                f"query {query!r} is ordered by {order!r}; a lease needs a query ordered "
                "by a non-unique instant or integer column",
            )
        filters = self._where(where or {})
        if set(filters) != set(declared.where):
            raise ValidationError.single(
                subject,
                "where",
                f"query {query!r} filters on {list(declared.where)}; got {sorted(filters)}",
            )
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise ValidationError.single(
                subject, "limit", f"expected an integer from 1 to {MAX_PAGE}, got {limit!r}"
            )
        values = {
            name: self._lease_value(column.type, value, subject, name)
            for name, value in (("high", high), ("until", until), ("low", low))
            if value is not None or name != "low"
        }
        select = Select(filters, order, None, values.get("low"), values["high"], limit)
        name = self._collection.name
        with self._context.unit():
            rows = self._context.backend.lease(name, select, values["until"])
            if unreadable is None:
                return [self._read(row) for row in rows]
            readable: list[Stored[T]] = []
            for row in rows:
                try:
                    readable.append(self._read(row))
                except CorruptRecordError:
                    unreadable.append(row.key)
            return readable

    @staticmethod
    def _lease_value(kind: ColumnType, value: object, subject: str, name: str) -> int:
        if kind is ColumnType.INSTANT and isinstance(value, datetime):
            return to_epoch_us(ensure_aware(value, subject, name))
        if type(value) is int and -(2**63) <= value < 2**63:
            return value
        accepted = (
            "an aware datetime (or microseconds since the epoch)"
            if kind is ColumnType.INSTANT
            else "a 64-bit integer"
        )
        raise ValidationError.single(subject, name, f"expected {accepted}, got {value!r}")

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page[Stored[T]]:
        """A page of stored values in key order."""
        return self._page("all", {}, "key", None, None, limit, cursor)
