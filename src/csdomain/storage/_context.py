"""What the repositories of one store share: the backend, its unit of work, limits.

A unit of work runs callbacks after it commits (caches learn only what is
stored), declares collections once per store, and turns values into the
column values adapters receive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any, Final

from csdomain._kernel.collections import Collection, ColumnType
from csdomain._kernel.time import INSTANT_END, INSTANT_MIN, UTC, ensure_aware, to_epoch_us
from csdomain._kernel.validation import surrogate_problem
from csdomain.clock import Clock
from csdomain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from csdomain.storage.backend import Backend, Row

__all__ = ["DEFAULT_MAX_DOCUMENT_BYTES", "Context", "column_value"]

#: The largest document a store accepts by default (16 MiB of UTF-8).
DEFAULT_MAX_DOCUMENT_BYTES: Final = 16 * 2**20

_INT64 = (-(2**63), 2**63 - 1)
_TEXT, _INSTANT, _BOOLEAN = ColumnType.TEXT, ColumnType.INSTANT, ColumnType.BOOLEAN


class Context:
    """The backend of one store and the state its repositories share."""

    def __init__(self, backend: Backend, clock: Clock, max_document_bytes: int) -> None:
        self.backend = backend
        self.clock = clock
        self.max_document_bytes = max_document_bytes
        self._declared: set[str] = set()
        self._declare_lock = threading.Lock()
        self._local = threading.local()

    @property
    def tenant(self) -> str:
        return self.backend.tenant

    # -- units of work --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work; callbacks registered inside run once it has committed."""
        callbacks: list[Callable[[], None]] = []
        with self.backend.transaction():
            self._local.callbacks = callbacks
            try:
                yield
            finally:
                self._local.callbacks = None
        for callback in callbacks:
            callback()

    @contextmanager
    def unit(self) -> Iterator[None]:
        """The caller's unit of work if one is open in this thread, else one of its own."""
        if self.backend.in_transaction():
            yield
        else:
            with self.transaction():
                yield

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the open unit of work commits (now, if none is open)."""
        callbacks: list[Callable[[], None]] | None = getattr(self._local, "callbacks", None)
        if callbacks is None:
            if not self.backend.in_transaction():
                callback()
            # A transaction opened on the backend directly: nothing to learn from it.
            return
        callbacks.append(callback)

    # -- collections -------------------------------------------------------------

    def declare(self, collection: Collection[Any]) -> bool:
        """Declare ``collection`` to the backend once per store; True if it added columns."""
        if collection.name in self._declared:
            return False
        with self._declare_lock:
            if collection.name in self._declared:
                return False
            added = self.backend.declare(collection)
            self._declared.add(collection.name)
        return added

    # -- errors --------------------------------------------------------------------

    def missing(self, what: str, key: str) -> NotFoundError:
        return NotFoundError(what, key, f"no {what} with this id in tenant {self.tenant!r}")

    def conflict_or_missing(self, collection: str, what: str, key: str, expected: int) -> None:
        """Raise the error for a write of ``expected`` that matched no row."""
        stored: Row | None = self.backend.get(collection, key)
        if stored is None:
            raise self.missing(what, key)
        raise ConflictError(
            what, key, expected, stored.version, "reload it and apply the change again"
        )


_Layout = tuple[frozenset[str], tuple[tuple[str, ColumnType, bool], ...]]


@lru_cache(maxsize=256)
def _layout(collection: Collection[Any]) -> _Layout:
    """The column names of ``collection`` and ``(name, type, multiple)`` of each column, in
    declaration order: read once per declaration (declarations are immutable)."""
    columns = collection.columns
    return frozenset(c.name for c in columns), tuple((c.name, c.type, c.multiple) for c in columns)


def _column(collection: Collection[Any], name: str) -> tuple[ColumnType, bool]:
    for known, kind, multiple in _layout(collection)[1]:
        if known == name:
            return kind, multiple
    collection.column(name)  # raises the error naming the declared columns
    raise AssertionError(name)  # pragma: no cover - column() found what the layout lacks


def column_value(collection: Collection[Any], name: str, value: object, *, subject: str) -> Any:
    """``value`` as adapters receive it for column ``name``: text, a 64-bit integer,
    microseconds for an instant, a bool, None, or a tuple of those for a multiple column."""
    kind, multiple = _column(collection, name)
    if multiple and isinstance(value, (tuple, list, set, frozenset)):
        return tuple(sorted({_scalar(kind, item, name, subject) for item in value}))
    return _scalar(kind, value, name, subject)


def _scalar(kind: ColumnType, value: object, name: str, subject: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum) and not isinstance(value, bool):
        value = value.value
    if kind is ColumnType.TEXT and isinstance(value, str):
        problem = surrogate_problem(value)
        if problem is not None:
            raise ValidationError.single(subject, name, problem)
        return value
    if kind is ColumnType.BOOLEAN and isinstance(value, bool):
        return value
    if (
        kind in (ColumnType.INTEGER, ColumnType.INSTANT)  # an instant as microseconds, too
        and type(value) is int
        and _INT64[0] <= value <= _INT64[1]
    ):
        return value
    if kind is ColumnType.INSTANT and isinstance(value, datetime):
        return to_epoch_us(ensure_aware(value, subject, name))
    accepted = {
        ColumnType.TEXT: "text",
        ColumnType.INTEGER: "a 64-bit integer",
        ColumnType.INSTANT: "an aware datetime",
        ColumnType.BOOLEAN: "true or false",
    }[kind]
    raise ValidationError.single(subject, name, f"expected {accepted} or None, got {value!r}")


def columns_for(
    collection: Collection[Any], values: Mapping[str, Any], subject: str
) -> dict[str, Any]:
    """Every declared column's value from ``values`` (absent columns are None).

    Every value is checked as :func:`column_value` checks it; the commonest ones (None,
    ASCII text, a UTC instant in the accepted span, a bool) are answered inline, the
    others by :func:`_scalar`: this runs for every column of every value stored.
    """
    names, layout = _layout(collection)
    if not values.keys() <= names:
        raise StorageError(
            f"the declaration of {collection.name!r} gives values for undeclared columns "
            f"{sorted(set(values) - names)}"
        )
    found: dict[str, Any] = {}
    get = values.get
    for name, kind, multiple in layout:
        value = get(name, () if multiple else None)
        if value is None:
            found[name] = None
        elif multiple and isinstance(value, (tuple, list, set, frozenset)):
            found[name] = tuple(sorted({_scalar(kind, item, name, subject) for item in value}))
        elif kind is _TEXT and type(value) is str and value.isascii():  # no surrogate in ASCII
            found[name] = value
        elif (
            kind is _TEXT
            and isinstance(value, Enum)
            and type(value._value_) is str
            and value._value_.isascii()
        ):
            found[name] = value._value_  # a member's value, as _scalar takes it
        elif (
            kind is _INSTANT
            and type(value) is datetime
            and value.tzinfo is UTC
            and INSTANT_MIN <= value < INSTANT_END  # what ensure_aware accepts
        ):
            found[name] = to_epoch_us(value)
        elif kind is _BOOLEAN and type(value) is bool:
            found[name] = value
        else:
            found[name] = _scalar(kind, value, name, subject)
    return found
