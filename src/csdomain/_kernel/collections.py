"""Storage collections declared as data, beside the aggregate they store.

A :class:`Collection` names a stored aggregate (tickets, customers, revisit
tasks, survey invitations, ...), its indexed columns with their types, which of
them are unique per tenant, and the queries it is read by. Storage adapters
create tables and indexes from the declaration and implement the generic
operations once, so a new aggregate needs no adapter change. A module declares
its collection with :func:`declare_collection`; engines can, too, as this
module imports nothing from storage or serialization.

The functions that turn a value into its key and its column values are part of
the declaration: the repository calls them, adapters never see domain objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, Final, Generic, TypeVar

import attrs

from csdomain._kernel.registry import Registry
from csdomain.errors import ValidationError

__all__ = [
    "Collection",
    "Column",
    "ColumnType",
    "Query",
    "collections",
    "declare_collection",
]

T = TypeVar("T")

#: Collection and column names: lower-case identifiers any SQL dialect accepts unquoted.
NAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")

#: Column names the storage layout uses itself.
RESERVED: Final = frozenset({"tenant", "key", "version", "document", "collection"})


class ColumnType(Enum):
    """The type of an indexed column, and of the values adapters receive for it.

    ``TEXT``: ``str``; ``INTEGER``: a 64-bit ``int``; ``INSTANT``: microseconds
    since 1970-01-01 UTC as a 64-bit ``int`` (repositories convert datetimes);
    ``BOOLEAN``: ``bool``. Every column may hold ``None`` (SQL NULL).
    """

    TEXT = "text"
    INTEGER = "integer"
    INSTANT = "instant"
    BOOLEAN = "boolean"


def _name(what: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
            raise ValidationError.single(
                what,
                attribute.name,
                f"expected a lower-case identifier (a letter, then up to 39 letters, digits "
                f"or _), got {value!r}",
            )
        if value in RESERVED:
            raise ValidationError.single(
                what, attribute.name, f"{value!r} is reserved; choose another name"
            )

    return check


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _columns(value: Iterable[Column]) -> tuple[Column, ...]:
    return tuple(value)


def _queries(value: Iterable[Query]) -> tuple[Query, ...]:
    return tuple(value)


@attrs.frozen
class Column:
    """An indexed column: its name, type, uniqueness and multiplicity.

    ``unique``: no two records of one tenant share a (non-NULL) value; an
    insert or save that would is refused with ``ConflictError``. ``multiple``:
    the record has a set of values (a customer's contact points); an equality
    filter matches a record holding any of the values asked for. Unique
    multiple columns make each value belong to one record.
    """

    name: str = attrs.field(validator=_name("collection column"))
    type: ColumnType = attrs.field(validator=attrs.validators.instance_of(ColumnType))
    unique: bool = False
    multiple: bool = False


@attrs.frozen
class Query:
    """A query a collection serves: equality filters on ``where``, ordered by ``order``.

    ``order`` is ``"key"`` or a single-valued column; pages are keyset-ordered
    by ``(order, key)``, optionally within a range of ``order``. Adapters build
    one index per query, so every declared query is served by an index.
    """

    name: str = attrs.field(validator=_name("collection query"))
    where: tuple[str, ...] = attrs.field(default=(), converter=_names)
    order: str = "key"


@attrs.frozen(eq=False)
class Collection(Generic[T]):
    """A stored aggregate, declared as data (see the module documentation).

    ``name`` is the collection's name in storage; ``what`` names one record in
    messages (``"ticket"``); ``document`` is the type stored; ``key_of`` and
    ``columns_of`` give a value's key and its indexed column values (a mapping
    from column name to a value, or to a set of values for multiple columns);
    ``events`` says records are event streams: appended event rows plus a
    state row (tickets).
    """

    name: str = attrs.field(validator=_name("collection"))
    what: str
    document: type[T]
    key_of: Callable[[T], str]
    columns: tuple[Column, ...] = attrs.field(default=(), converter=_columns)
    queries: tuple[Query, ...] = attrs.field(default=(), converter=_queries)
    columns_of: Callable[[T], Mapping[str, Any]] = attrs.field(default=lambda value: {})
    events: bool = False

    def __attrs_post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValidationError.single(
                f"collection {self.name!r}", "columns", f"column names repeat: {names}"
            )
        single = {c.name for c in self.columns if not c.multiple}
        for query in self.queries:
            for column in query.where:
                if column not in names:
                    raise ValidationError.single(
                        f"collection {self.name!r}",
                        f"queries.{query.name}",
                        f"filters on {column!r}, which is not a column; columns: {names}",
                    )
            if query.order != "key" and query.order not in single:
                raise ValidationError.single(
                    f"collection {self.name!r}",
                    f"queries.{query.name}",
                    f"is ordered by {query.order!r}; expected 'key' or a single-valued "
                    f"column: {sorted(single)}",
                )
        query_names = [q.name for q in self.queries]
        if len(set(query_names)) != len(query_names):
            raise ValidationError.single(
                f"collection {self.name!r}", "queries", f"query names repeat: {query_names}"
            )

    def column(self, name: str) -> Column:
        """The column called ``name``; ``ValidationError`` if there is none."""
        for column in self.columns:
            if column.name == name:
                return column
        raise ValidationError.single(
            f"collection {self.name!r}",
            "column",
            f"{name!r} is not a column; columns: {[c.name for c in self.columns]}",
        )

    def query_for(self, where: Any, order: str) -> Query:
        """The declared query serving filters on the columns ``where`` in ``order``.

        A query serves a filter set that contains its own filter columns (its
        index narrows the rows; the other filters are checked on them); the
        one with the most filter columns is chosen. Listing every record by key,
        unfiltered, is always served.
        """
        wanted = frozenset(where)
        serving = [q for q in self.queries if q.order == order and frozenset(q.where) <= wanted]
        if serving:
            return max(serving, key=lambda q: len(q.where))
        if order == "key" and not wanted:
            return Query("all")
        declared = [(q.name, list(q.where), q.order) for q in self.queries]
        raise ValidationError.single(
            f"collection {self.name!r}",
            "query",
            f"no declared query serves filters on {sorted(wanted)} ordered by {order!r}; "
            f"declared: {declared}",
        )

    def query(self, name: str) -> Query:
        """The declared query called ``name``; ``ValidationError`` if there is none."""
        for query in self.queries:
            if query.name == name:
                return query
        raise ValidationError.single(
            f"collection {self.name!r}",
            "query",
            f"{name!r} is not a declared query; declared: {[q.name for q in self.queries]}",
        )

    def __repr__(self) -> str:
        return f"<Collection {self.name!r} of {self.document.__name__}>"


#: Every declared collection, by name.
collections: Registry[str, Collection[Any]] = Registry("storage collection")


def declare_collection(collection: Collection[T]) -> Collection[T]:
    """Register ``collection`` under its name (a rebuilt declaration of the same
    document type replaces the first); returns it."""
    present = collections.get(collection.name)
    if present is not None and present.document.__qualname__ == collection.document.__qualname__:
        collections.replace(collection.name, collection)
    else:
        collections.add(collection.name, collection)
    return collection
