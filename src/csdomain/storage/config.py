"""Configuration documents by type and name: calendars, SLA policies, conditions, rules.

Every document type is configuration: a value is filed under the document
type it is declared as (:func:`csdomain._kernel.documents.declare_document`),
or under its nearest declared base, so that ``config.add("vip", Equals(...))``
is filed as a ``condition`` and ``config.get(Condition, "vip")`` finds it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

import attrs

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain.errors import ConflictError, NotFoundError, ValidationError
from csdomain.serialization import DOCUMENT_TYPES, from_json
from csdomain.storage._context import Context
from csdomain.storage.backend import Row, check_key
from csdomain.storage.paging import Page
from csdomain.storage.repository import (
    UNREADABLE,
    DocumentRepository,
    Stored,
    check_version,
    unreadable,
)

__all__ = ["CONFIG", "ConfigEntry", "ConfigurationRepository", "document_name"]

T = TypeVar("T")
V = TypeVar("V")


@attrs.frozen
class ConfigEntry:
    """A configuration document as the collection stores it: its type's name, its
    name, and the document."""

    type: str
    name: str
    value: Any


#: The configuration collection: keys are ``"<document type>:<name>"``.
CONFIG: Final = declare_collection(
    Collection(
        "config",
        "configuration",
        ConfigEntry,
        key_of=lambda entry: f"{entry.type}:{entry.name}",
        columns=[Column("type", ColumnType.TEXT)],
        queries=[Query("by_type", where=["type"])],
        columns_of=lambda entry: {"type": entry.type},
    )
)


def document_name(cls: type) -> str:
    """The document type ``cls`` is filed under: its own or its nearest declared base's."""
    by_class = {klass: name for name, klass in DOCUMENT_TYPES.items()}
    for klass in getattr(cls, "__mro__", ()):
        if klass in by_class:
            return by_class[klass]
    known = ", ".join(sorted(DOCUMENT_TYPES))
    raise ValidationError.single(
        "configuration", "cls", f"{cls!r} is not a document type; known: {known}"
    )


class ConfigurationRepository:
    """Configuration documents (calendars, SLA policies, conditions, ladders, ...) by name."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._documents = _Documents(context)

    @staticmethod
    def _name(name: object) -> str:
        return check_key("configuration", "name", name)

    def get(self, cls: type[T], name: str) -> Stored[T]:
        """The document of type ``cls`` (or of a subclass) stored under ``name``."""
        family = document_name(cls)
        row = self._context.backend.get(CONFIG.name, f"{family}:{self._name(name)}")
        if row is None:
            raise self._context.missing(cls.__name__, name)
        stored: Stored[Any] = self._read(DOCUMENT_TYPES[family], row)  # any filed there
        if not isinstance(stored.value, cls):
            raise self._context.missing(cls.__name__, name)
        return Stored(stored.value, stored.version)

    def get_many(self, cls: type[T], names: Iterable[str]) -> dict[str, Stored[T]]:
        """The documents of type ``cls`` stored under these names, by name (missing
        names, and documents of another subclass, are left out)."""
        family = document_name(cls)
        keys = [f"{family}:{self._name(name)}" for name in names]
        rows = self._context.backend.get_many(CONFIG.name, keys) if keys else []
        found: dict[str, Stored[T]] = {}
        for row in rows:
            stored: Stored[Any] = self._read(DOCUMENT_TYPES[family], row)
            if isinstance(stored.value, cls):
                found[row.key.partition(":")[2]] = Stored(stored.value, stored.version)
        return found

    def _read(self, cls: type[T], row: Row) -> Stored[T]:
        try:
            value = from_json(row.text, cls)
        except UNREADABLE as exc:
            raise unreadable(cls.__name__, row.key.partition(":")[2], exc) from exc
        return Stored(value, row.version)

    def _entry(self, name: str, value: object) -> ConfigEntry:
        return ConfigEntry(document_name(type(value)), self._name(name), value)

    def add(self, name: str, value: V) -> Stored[V]:
        """Store ``value`` under ``name`` (version 1); ``ConflictError`` if the name is taken."""
        entry = self._entry(name, value)
        with _named(type(value).__name__, entry.name):
            self._documents.add(entry)
        return Stored(value, 1)

    def save(self, name: str, value: V, *, expected_version: int) -> Stored[V]:
        """Replace the document under ``name`` if its version is still ``expected_version``."""
        entry = self._entry(name, value)
        with _named(type(value).__name__, entry.name):
            self._documents.save(entry, expected_version=expected_version)
        return Stored(value, expected_version + 1)

    def delete(self, cls: type, name: str, *, expected_version: int) -> None:
        """Delete the document under ``name`` if its version is still ``expected_version``."""
        expected = check_version("configuration", expected_version)
        key = f"{document_name(cls)}:{self._name(name)}"
        with _named(cls.__name__, name), self._context.unit():
            self._context.backend.delete(CONFIG.name, key, expected)

    def list(
        self, cls: type[T], *, limit: int = 100, cursor: str | None = None
    ) -> Page[tuple[str, Stored[T]]]:
        """A page of ``(name, stored document)`` pairs of type ``cls``, by name."""
        family = document_name(cls)
        return self._documents.of_type(
            family, limit, cursor, lambda row: (row.key.partition(":")[2], self._read(cls, row))
        )


@contextmanager
def _named(kind: str, name: str) -> Iterator[None]:
    """Errors naming a configuration document by its type and name, as callers do."""
    try:
        yield
    except ConflictError as exc:
        raise ConflictError(
            kind, name, exc.expected_version, exc.stored_version, exc.detail
        ) from None
    except NotFoundError:
        raise NotFoundError(kind, name, "no such configuration in this tenant") from None


class _Documents(DocumentRepository[ConfigEntry]):
    """The collection, storing each entry's value as the document itself."""

    def __init__(self, context: Context) -> None:
        super().__init__(context, CONFIG)

    def _text(self, value: ConfigEntry) -> str:
        return super()._text(value.value)

    def _checked(self, value: object) -> ConfigEntry:
        assert isinstance(value, ConfigEntry)
        return value

    def _key(self, key: object) -> str:
        assert isinstance(key, str)  # built from checked names
        return key

    def of_type(
        self, family: str, limit: int, cursor: str | None, read: Callable[[Row], Any]
    ) -> Page[Any]:
        """A page of the documents filed under ``family``, each read by ``read``."""
        filters = self._where({"type": family})
        return self._page("by_type", filters, "key", None, None, limit, cursor, read)
