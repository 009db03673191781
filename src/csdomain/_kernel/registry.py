"""Open registries: tables filled in by the modules that own their entries.

A feature adds its ticket events, enum labels, document types, condition
fields or strategies by declaring them beside their definition; nothing edits a
central list. A :class:`Registry` refuses a second, different entry under a
name already taken, and tells listeners (the Hypothesis hook, caches) about
every entry, past and future.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from csdomain.errors import ValidationError

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["Registry", "declare_type", "declared_types"]


class Registry(Mapping[K, V], Generic[K, V]):
    """A read-only mapping that grows by :meth:`add`, with listeners for new entries."""

    __slots__ = ("_entries", "_listeners", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[K, V] = {}
        self._listeners: list[Callable[[K, V], None]] = []

    def add(self, key: K, value: V) -> V:
        """Register ``value`` under ``key``; the same pair again is a no-op."""
        present = self._entries.get(key, value)
        if present is not value and present != value:
            raise ValidationError.single(
                f"{self.what} registry",
                repr(key),
                f"{key!r} is already registered to {present!r}; choose another name",
            )
        if key not in self._entries:
            self._entries[key] = value
            for listener in tuple(self._listeners):
                listener(key, value)
        return value

    def replace(self, key: K, value: V) -> V:
        """Register ``value`` under ``key``, replacing what was there (listeners are told)."""
        self._entries[key] = value
        for listener in tuple(self._listeners):
            listener(key, value)
        return value

    def subscribe(self, listener: Callable[[K, V], None]) -> None:
        """Call ``listener(key, value)`` for every entry, now and when one is added."""
        self._listeners.append(listener)
        for key, value in tuple(self._entries.items()):
            listener(key, value)

    def __getitem__(self, key: K) -> V:
        return self._entries[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<{self.what} registry: {len(self._entries)} entries>"


#: Every public value class csdomain (or an extension) defines, by qualified name.
declared_types: Registry[str, type] = Registry("declared type")


C = TypeVar("C", bound=type)


def declare_type(cls: C) -> C:
    """Announce ``cls`` (e.g. to the Hypothesis hook); private classes are skipped.

    attrs rebuilds a slotted class, so the same name may be declared twice: the
    last class, the one the module ends up holding, wins.
    """
    if not cls.__name__.startswith("_"):
        declared_types.replace(f"{cls.__module__}.{cls.__qualname__}", cls)
    return cls
