"""Enums whose members are ordered by declaration (low < normal < high ...)."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound="OrderedEnum")


class OrderedEnum(Enum):
    """An ``Enum`` whose members compare by declaration order, lowest first."""

    # Members are singletons: hashing by identity is correct and runs in C.
    __hash__ = object.__hash__

    @property
    def rank(self) -> int:
        """Position on the scale, from 0 for the lowest."""
        return type(self)._member_names_.index(self._name_)

    def __lt__(self: E, other: E) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self: E, other: E) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self: E, other: E) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self: E, other: E) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank >= other.rank
