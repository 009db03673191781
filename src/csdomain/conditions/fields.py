"""The field vocabulary of conditions: an open registry, filled by those who own facts.

A field path (``ticket.priority``) names a fact (``ticket``) and how to read a
value from it. The built-in fields over tickets and customers are declared
below; a feature adds its own with :func:`declare_field` (one path) or
:func:`declare_keyed_fields` (a prefix such as ``ticket.custom_fields.``
followed by any key), beside the code that owns the fact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from functools import lru_cache
from typing import Any, Final

from csdomain._kernel.enums import OrderedEnum
from csdomain._kernel.registry import Registry
from csdomain._kernel.validation import KEY_PATTERN
from csdomain.customers import CustomerTier
from csdomain.priorities import Priority
from csdomain.tickets import Status, TicketKind

__all__ = [
    "CONDITION_FIELDS",
    "KEYED_FIELDS",
    "ConditionField",
    "FieldKind",
    "KeyedFields",
    "declare_field",
    "declare_keyed_fields",
    "field_vocabulary",
    "resolve_field",
]


class FieldKind(Enum):
    """What a field holds, which decides the tests it takes."""

    ENUM = "enum"  #: a member of an enum: Equals, In (Compare when the enum is ordered)
    KEY = "key"  #: a key such as a channel or group id: Equals, In
    SET = "set"  #: a set of keys (tags, segments): Contains
    SCALAR = "scalar"  #: a JSON scalar (custom fields, attributes): every test


class ConditionField:
    """One field path: the fact it reads, its kind, its enum (if any) and its reader."""

    __slots__ = ("enum", "fact", "kind", "path", "read", "what")

    def __init__(
        self,
        path: str,
        kind: FieldKind,
        fact: str,
        read: Callable[[Any], object],
        *,
        enum: type[Enum] | None = None,
        what: str = "",
    ) -> None:
        self.path = path
        self.kind = kind
        self.fact = fact
        self.read = read
        self.enum = enum
        self.what = what

    @property
    def ordered(self) -> bool:
        """True when Compare works on the field."""
        return self.kind is FieldKind.SCALAR or (
            self.enum is not None and issubclass(self.enum, OrderedEnum)
        )

    def value(self, facts: Mapping[str, object]) -> object:
        """The field's value in ``facts``; ``None`` when absent."""
        source = facts.get(self.fact)
        return None if source is None else self.read(source)

    def __repr__(self) -> str:
        return f"ConditionField({self.path!r}, {self.kind.value})"


class KeyedFields:
    """A family of scalar fields ``<prefix><key>``: ``read(fact, key)`` gives the value."""

    __slots__ = ("fact", "prefix", "read", "what")

    def __init__(
        self, prefix: str, fact: str, read: Callable[[Any, str], object], *, what: str
    ) -> None:
        self.prefix = prefix
        self.fact = fact
        self.read = read
        self.what = what


#: Every fixed field path.
CONDITION_FIELDS: Final[Registry[str, ConditionField]] = Registry("condition field")
#: Every keyed field family, by prefix (``"ticket.custom_fields."``).
KEYED_FIELDS: Final[Registry[str, KeyedFields]] = Registry("keyed condition fields")


def declare_field(
    path: str,
    kind: FieldKind,
    *,
    fact: str,
    read: Callable[[Any], object],
    enum: type[Enum] | None = None,
    what: str = "",
) -> ConditionField:
    """Add the field ``path`` (reading fact ``fact`` with ``read``) to the vocabulary."""
    field = CONDITION_FIELDS.add(path, ConditionField(path, kind, fact, read, enum=enum, what=what))
    resolve_field.cache_clear()
    return field


def declare_keyed_fields(
    prefix: str, *, fact: str, read: Callable[[Any, str], object], what: str
) -> KeyedFields:
    """Add the scalar fields ``<prefix><key>`` for every key (``read(fact, key)``)."""
    family = KEYED_FIELDS.add(prefix, KeyedFields(prefix, fact, read, what=what))
    resolve_field.cache_clear()
    return family


@lru_cache(maxsize=4096)
def resolve_field(path: str) -> ConditionField | None:
    """The field a path names, or ``None`` if the vocabulary has no such path."""
    found = CONDITION_FIELDS.get(path)
    if found is not None:
        return found
    for prefix, family in KEYED_FIELDS.items():
        if path.startswith(prefix):
            key = path[len(prefix) :]
            if KEY_PATTERN.fullmatch(key) is None:
                return None
            return ConditionField(
                path, FieldKind.SCALAR, family.fact, _keyed_reader(family, key), what=prefix[:-1]
            )
    return None


def _keyed_reader(family: KeyedFields, key: str) -> Callable[[Any], object]:
    read = family.read
    return lambda source: read(source, key)


def field_vocabulary() -> tuple[str, ...]:
    """Every path, keyed families as ``<prefix><key>``; ticket fields first."""
    paths = (*CONDITION_FIELDS, *(f"{prefix}<key>" for prefix in KEYED_FIELDS))
    return tuple(sorted(paths, key=lambda path: path.startswith("customer.")))


def _attribute(name: str) -> Callable[[Any], object]:
    return lambda source: getattr(source, name)


_BUILTIN: tuple[tuple[str, FieldKind, str, type[Enum] | None, str], ...] = (
    ("ticket.kind", FieldKind.ENUM, "kind", TicketKind, ""),
    ("ticket.channel", FieldKind.KEY, "channel", None, "channel key"),
    ("ticket.priority", FieldKind.ENUM, "priority", Priority, ""),
    ("ticket.status", FieldKind.ENUM, "status", Status, ""),
    ("ticket.group", FieldKind.KEY, "group_id", None, "group id"),
    ("ticket.assignee", FieldKind.KEY, "assignee_id", None, "agent id"),
    ("ticket.tier", FieldKind.KEY, "tier", None, "tier key"),
    ("ticket.tags", FieldKind.SET, "tags", None, "tag"),
    ("customer.tier", FieldKind.ENUM, "tier", CustomerTier, ""),
    ("customer.segments", FieldKind.SET, "segments", None, "segment"),
)
for _path, _kind, _attr, _enum, _what in _BUILTIN:
    _fact = _path.partition(".")[0]
    declare_field(_path, _kind, fact=_fact, read=_attribute(_attr), enum=_enum, what=_what)
declare_keyed_fields(
    "ticket.custom_fields.",
    fact="ticket",
    read=lambda ticket, key: ticket.custom_fields.get(key),
    what="ticket.custom_fields",
)
declare_keyed_fields(
    "customer.attributes.",
    fact="customer",
    read=lambda customer, key: customer.attributes.get(key),
    what="customer.attributes",
)
