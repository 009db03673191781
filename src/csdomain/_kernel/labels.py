"""The label registry: each enum declares its translatable labels beside itself.

``declare_labels(Status, {Status.NEW: _mark("status", "New"), ...})`` sits
under the enum's definition; :mod:`csdomain.i18n` translates what is
registered here and imports no domain module. Babel extracts the ``_mark``
calls wherever they are (``babel.cfg``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from csdomain._kernel.messages import Message
from csdomain._kernel.registry import Registry
from csdomain.errors import ValidationError

__all__ = ["declare_key_labels", "declare_labels", "enum_labels", "key_labels"]

E = TypeVar("E", bound=Enum)

#: The labels of every labelled enum, by enum class.
enum_labels: Registry[type[Enum], Mapping[Enum, Message]] = Registry("enum label")

#: Labels of string keys (built-in channel keys, escalation tier keys), by (namespace, key).
key_labels: Registry[tuple[str, str], Message] = Registry("key label")


def declare_labels(enum: type[E], labels: Mapping[E, Message]) -> None:
    """Register one label for every member of ``enum``; a missing or foreign member is refused."""
    missing = [m.name for m in enum if m not in labels]
    foreign = [repr(k) for k in labels if not isinstance(k, enum)]
    if missing or foreign:
        raise ValidationError.single(
            f"labels of {enum.__name__}",
            "",
            f"every member needs one label; missing: {missing or 'none'}, "
            f"not members: {foreign or 'none'}",
        )
    enum_labels.add(enum, {member: labels[member] for member in enum})


def declare_key_labels(namespace: str, labels: Mapping[str, Message]) -> None:
    """Register labels for string keys in ``namespace`` (``"tier"``: ``"L1"``, ...)."""
    for key, message in labels.items():
        key_labels.add((namespace, key), message)
