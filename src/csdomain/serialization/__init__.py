"""JSON documents for every public type, through one configured cattrs converter.

>>> from csdomain import Priority, PriorityMatrix, serialization
>>> doc = serialization.to_dict(PriorityMatrix.itil())
>>> doc["schema_version"], doc["document"]
(1, 'priority_matrix')
>>> serialization.from_dict(doc) == PriorityMatrix.itil()
True

Top-level documents carry ``schema_version`` and ``document`` (the type's
name); nested values do not. Loading a document written by a newer schema
fails with a clear :class:`~csdomain.errors.ValidationError` rather than a
silent misreading. Every loading error is a ``ValidationError`` listing each
bad path (``timeline[3].at``), never a bare ``KeyError`` or ``TypeError``.

JSON text is read and written by one codec (``csdomain._kernel.codec``): with
the ``fast`` extra (orjson) installed through orjson, else the stdlib's
:mod:`json`, with the same results either way. Documents are compact UTF-8
with non-ASCII text kept as is. :func:`from_json` follows one set of rules on
both, refusing with a ``ValidationError`` a byte order mark or UTF-16/32 text,
nesting deeper than 1024 levels, integers outside the signed 64-bit range, NaN
and infinite numbers, lone surrogates, and (with ``max_bytes``) a text longer
than that, before parsing it.

Storage that keeps a ticket's events as rows writes them with
:func:`events_json` and loads the ticket back with
:func:`ticket_from_events_json`:

>>> from datetime import datetime, timezone
>>> from csdomain import Ticket
>>> ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email",
...                      subject="Refund", at=datetime(2026, 11, 23, tzinfo=timezone.utc))
>>> rows = serialization.events_json(ticket.timeline)
>>> rows[0][:40]
'{"type":"created","at":"2026-11-23T00:00'
>>> serialization.ticket_from_events_json(rows, key="tkt_1") == ticket
True
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from types import GenericAlias, UnionType
from typing import (
    Any,
    Final,
    Optional,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    overload,
)

import attrs
import cattrs
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_any_set,
    is_mutable_sequence,
    is_sequence,
    list_structure_factory,
)
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.fns import identity
from cattrs.strategies import configure_union_passthrough

# The model's modules declare their own document types when they are imported; importing
# them here lets a document of any built-in type load by its name alone (from_json(text)).
import csdomain.channels
import csdomain.customers
import csdomain.escalation
import csdomain.people
import csdomain.priorities
import csdomain.routing
import csdomain.sla.policy  # noqa: F401
from csdomain._kernel import codec
from csdomain._kernel.documents import declare_document, document_types
from csdomain._kernel.time import is_aware
from csdomain._kernel.validation import describe
from csdomain.calendars import TimeRange
from csdomain.conditions import CONDITION_TYPES, Condition
from csdomain.conditions import MAX_DEPTH as CONDITIONS_MAX_DEPTH
from csdomain.errors import ValidationError
from csdomain.serialization._fast import (
    FastHook,
    MemoHook,
    class_dumper,
    class_loader,
    enum_value,
    event_dumper,
    event_loader,
    is_class_dumper,
    object_dumper,
    plain_document_class,
    state_comparer,
)
from csdomain.tickets import (
    EVENT_TYPES,
    STATE_FIELDS,
    Actor,
    Ticket,
    TicketEvent,
    TicketState,
)

__all__ = [
    "DOCUMENT_TYPES",
    "SCHEMA_VERSION",
    "configure_converter",
    "declare_document",
    "events_json",
    "from_dict",
    "from_json",
    "json_backend",
    "make_converter",
    "ticket_from_events_json",
    "ticket_json_and_events",
    "to_dict",
    "to_json",
]

T = TypeVar("T")

#: The schema version written into every top-level document.
SCHEMA_VERSION: Final = 1

#: Document name -> type, for every type that can be a top-level document. Each module
#: declares its own with :func:`declare_document`, an application's modules too.
DOCUMENT_TYPES: Final[Mapping[str, type]] = document_types

_ENVELOPE: Final = ("schema_version", "document")


# -- strict scalar hooks -------------------------------------------------------


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"expected text, got {type(value).__name__} {describe(value)}")
    return value


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__} {describe(value)}")
    return value


def _structure_float(value: Any, _: Any) -> float:
    if type(value) not in (int, float):
        raise TypeError(f"expected a number, got {type(value).__name__} {describe(value)}")
    return float(value)


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected true or false, got {type(value).__name__} {describe(value)}")
    return bool(value)


def _structure_datetime(value: Any, _: Any) -> datetime:
    if type(value) is str and value.endswith("+00:00"):  # what to_dict writes: the hot path
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # explained below
    if type(value) is not str:
        raise TypeError(f"expected an RFC 3339 timestamp string, got {type(value).__name__}")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected an RFC 3339 timestamp such as '2026-11-23T09:30:00+08:00', "
            f"got {describe(value)}"
        ) from None
    if not is_aware(parsed):
        raise ValueError(f"timestamp {describe(value)} has no UTC offset; naive times are rejected")
    return parsed


def _structure_date(value: Any, _: Any) -> date:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"expected an ISO 8601 date such as '2026-11-23', got {describe(value)}"
        ) from None


def _structure_time_range(value: Any, _: Any) -> TimeRange:
    if type(value) is not str:
        raise TypeError(f"expected a time range such as '09:00-12:00', got {describe(value)}")
    return TimeRange.parse(value)


def _structure_optional_str(value: Any, _: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise TypeError(f"expected text or null, got {type(value).__name__} {describe(value)}")


def _actor_structure_factory(converter: cattrs.Converter) -> MemoHook:
    """Actors repeat on every event of a ticket: reuse equal ones instead of rebuilding."""
    build = cattrs.gen.make_dict_structure_fn(
        Actor, converter, _cattrs_detailed_validation=converter.detailed_validation
    )
    return MemoHook(build, tuple(a.name for a in attrs.fields(Actor)))


def _unstructure_decimal(value: Decimal) -> str:
    return str(value)


def _structure_decimal(value: Any, _: Any) -> Decimal:
    if type(value) is not str:
        raise TypeError(
            f"expected a decimal amount as a string such as '12.50', got {type(value).__name__}"
        )
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(
            f"expected a decimal amount such as '12.50', got {describe(value)}"
        ) from None


def _unstructure_timedelta(value: timedelta) -> int | float:
    if value.microseconds:
        return value.total_seconds()
    return value.days * 86_400 + value.seconds


def _structure_timedelta(value: Any, _: Any) -> timedelta:
    if type(value) not in (int, float):
        raise TypeError(
            f"expected a duration in seconds, got {type(value).__name__} {describe(value)}"
        )
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise ValueError(f"duration of {describe(value)} seconds is out of range") from None


def _enum_structure_factory(cls: type[Enum]) -> Callable[[Any, Any], Enum]:
    by_value = {m.value: m for m in cls}
    allowed = ", ".join(repr(v) for v in by_value)

    def structure(value: Any, _: Any) -> Enum:
        try:
            return by_value[value]
        except (KeyError, TypeError):
            raise ValueError(
                f"expected a {cls.__name__} ({allowed}), got {describe(value)}"
            ) from None

    return structure


def _is_frozenset(cls: Any) -> bool:
    return cls is frozenset or get_origin(cls) is frozenset


def _sorted_list(value: frozenset[Any]) -> list[Any]:
    items = [v.value if isinstance(v, Enum) else v for v in value]
    return sorted(items)


def _is_collection(cls: Any) -> bool:
    """Homogeneous tuples, lists, sequences and sets (not deques): what cattrs fills by
    iterating the given value."""
    return (is_sequence(cls) or is_any_set(cls)) and not (cls is deque or get_origin(cls) is deque)


def _item_name(cls: Any) -> str:
    """How a message names the items of a collection type: ``strings``, ``ContactPoint``."""
    if cls is str:
        return "strings"
    if isinstance(cls, type):
        return cls.__name__
    if get_origin(cls) in (Union, UnionType):
        return " or ".join(_item_name(arg) for arg in get_args(cls))
    if _is_collection(cls):
        return "lists"
    return str(cls)


def _not_a_list(value: Any) -> str | None:
    """Why ``value`` cannot be read as a list: a str, bytes and a mapping iterate (by
    character, byte and key) but are no list, whatever their size."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{type(value).__name__}"
    if isinstance(value, Mapping):
        return "an object (a mapping)"
    if value is None:
        return "null"
    if not isinstance(value, Iterable):
        return f"{type(value).__name__} {describe(value)}"
    return None


def _collection_structure_factory(
    cls: Any, converter: cattrs.Converter
) -> Callable[[Any, Any], Any]:
    """cattrs' own hook for the collection type ``cls``, refusing first, as one problem,
    a value that is no list (a 100 kB string would otherwise be 100,000 problems)."""
    args = get_args(cls)
    item = args[0] if args and args[0] is not Any else None
    items: Callable[[Any, Any], Any]
    if is_any_set(cls):
        make = frozenset if (get_origin(cls) or cls) in (frozenset, AbstractSet) else set
        as_list: Any = list if item is None else GenericAlias(list, (item,))
        listed = list_structure_factory(as_list, converter)

        def set_items(value: Any, _: Any) -> Any:
            return make(listed(value, list))

        items = set_items
    elif is_mutable_sequence(cls):
        items = list_structure_factory(cls, converter)
    else:
        items = homogenous_tuple_structure_factory(cls, converter)
    expected = "expected a list" if item is None else f"expected a list of {_item_name(item)}"

    def structure(value: Any, tp: Any) -> Any:
        if type(value) is not list:  # JSON gives lists: anything else is looked at first
            wrong = _not_a_list(value)
            if wrong is not None:
                raise TypeError(f"{expected}, got {wrong}")
        return items(value, tp)

    return structure


def _is_enum(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Enum)


def _is_event(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, TicketEvent)


def _is_condition(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Condition)


# -- converter -----------------------------------------------------------------


def _structure_time(value: Any, _: Any) -> time:
    if type(value) is not str:
        raise TypeError(f"expected a local time string such as '10:00', got {type(value).__name__}")
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected a local time such as '10:00', got {describe(value)}") from None
    if parsed.tzinfo is not None:
        raise ValueError(f"time {describe(value)} has a UTC offset; local times have none")
    return parsed


def _unstructure_time(value: time) -> str:
    return value.isoformat(timespec="minutes" if not value.second else "seconds")


def configure_converter(converter: cattrs.Converter, *, orjson_native: bool = False) -> None:
    """Configure ``converter`` for csdomain's JSON documents.

    With ``orjson_native=True``, datetimes and dates are left as they are for
    orjson to write, which it does exactly as the rules below say (RFC 3339
    with ``+00:00``, ISO dates), only faster; such a converter's output is
    meant for ``orjson.dumps`` only. (Enums are written as their values either
    way: reading ``_value_`` in Python costs less than orjson's own lookup.)

    Rules registered, in the cattrs "preconf" style:

    * ``datetime``: unstructured to RFC 3339 with its UTC offset
      (``2026-11-23T09:30:00+00:00``); structured from RFC 3339 (``Z`` accepted),
      rejecting timestamps without an offset.
    * ``date``: ISO 8601 ``YYYY-MM-DD`` both ways.
    * ``time``: a local time of day, ``HH:MM`` (``HH:MM:SS`` with seconds) both ways;
      a time with a UTC offset is refused.
    * ``Decimal``: a string both ways (``"12.50"``), never a float.
    * ``timedelta``: seconds as a JSON number (an integer when whole).
    * ``Enum``: by value; structuring names the allowed values on error.
    * ``frozenset``: a sorted list, so documents are deterministic.
    * tuples, lists and sets: structured from a list (or another iterable given
      in Python); a string, bytes, an object or a scalar is refused as one
      problem (``expected a list of ContactPoint, got a string``), never one per
      character or key.
    * ``str``, ``int``, ``float``, ``bool``: strict; no silent ``str(5)`` or
      ``bool("false")`` coercions.
    * ``str | int | float | bool | None`` (custom fields, attributes): passed through.
    * ``TimeRange``: text such as ``"09:00-12:00"`` (``24:00`` as an end), so
      calendars stay readable and editable as JSON.
    * ``Actor``: equal actors within a process share one instance (they are
      immutable), since every event of a timeline names one.
    * ``TicketEvent`` and its subclasses: a tagged union; each event carries
      ``"type"`` (``"created"``, ``"message"``, ``"status_changed"``, ...).
    * ``Condition`` and its subclasses: a tagged union; each condition carries
      ``"op"`` (``"all"``, ``"any"``, ``"not"``, ``"equals"``, ``"in"``,
      ``"compare"``, ``"contains"``, ``"exists"``), nested conditions likewise;
      values are JSON scalars, enum members written as their values.
    * ``SlaPolicy``: its metrics as a list; each metric's ``targets`` as an
      object keyed by priority value (``{"urgent": {"duration": 3600, ...}}``).
    * ``Ticket``: its state fields (for readers and indexes) followed by
      ``timeline``; structuring replays the timeline and rejects a document
      whose state fields disagree with it.
    * attrs classes of plain document shape (fields of text, integers,
      booleans, enums, datetimes, optionals and tuples of those, other attrs
      classes; ``Checked`` or not, such as ``SlaClockState`` and the desk's
      ``TicketSchedule``): read and written by functions generated for the
      class (``csdomain.serialization._fast``), which give the same values and
      documents as cattrs' own functions. The reader is a shortcut: what it
      does not plainly accept goes to cattrs' function for the class, which
      loads it or reports every problem as without it. (Converters with other
      cattrs options for attrs classes, such as ``forbid_extra_keys``, keep
      cattrs' functions.)
    """
    _configure_documents(converter)  # first: every hook registered below takes precedence
    converter.register_structure_hook_factory(_is_collection, _collection_structure_factory)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(time, _unstructure_time)
    converter.register_structure_hook(time, _structure_time)
    converter.register_unstructure_hook(Decimal, _unstructure_decimal)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(timedelta, _unstructure_timedelta)
    converter.register_structure_hook(timedelta, _structure_timedelta)
    converter.register_structure_hook_factory(_is_enum, _enum_structure_factory)
    converter.register_unstructure_hook_func(_is_enum, enum_value)
    if orjson_native:
        converter.register_unstructure_hook(datetime, identity)
        converter.register_unstructure_hook(date, identity)
    converter.register_unstructure_hook_func(_is_frozenset, _sorted_list)
    converter.register_structure_hook(Optional[str], _structure_optional_str)  # noqa: UP045
    converter.register_unstructure_hook(Optional[str], identity)  # noqa: UP045
    converter.register_structure_hook(Actor, _actor_structure_factory(converter))
    actor_hints = get_type_hints(Actor)
    converter.register_unstructure_hook(
        Actor,
        object_dumper(
            {a.name: actor_hints[a.name] for a in attrs.fields(Actor)},
            converter.get_unstructure_hook,
            name="csdomain.tickets.Actor",
        ),
    )
    converter.register_unstructure_hook(TimeRange, str)
    converter.register_structure_hook(TimeRange, _structure_time_range)
    configure_union_passthrough(Union[str, int, float, bool, None], converter)  # noqa: UP007
    load_timeline = _configure_events(converter)
    _configure_ticket(converter, load_timeline, orjson_native=orjson_native)
    _configure_conditions(converter)


def _configure_documents(converter: cattrs.Converter) -> None:
    """Generated loaders and dumpers for attrs classes of plain document shape (see
    :func:`csdomain.serialization._fast.plain_document_class`), in place of cattrs'
    generated functions, on converters with cattrs' default options for attrs classes.

    The loader is an optimistic shortcut: whatever it does not plainly accept (it then
    returns None) goes to cattrs' own structure function for the class, which loads it
    or raises exactly as before. The dumper writes the same dict as cattrs' function.
    """
    if (
        type(converter) is not cattrs.Converter
        or converter.forbid_extra_keys
        or converter.omit_if_default
        or converter.use_alias
        or converter.type_overrides
        or converter._prefer_attrib_converters
    ):
        return

    def unstructure_factory(cls: type) -> Callable[[Any], dict[str, Any]]:
        try:
            return class_dumper(cls, converter.get_unstructure_hook)
        except Exception:  # whatever the generator cannot write, cattrs' own function does
            return converter.gen_unstructure_attrs_fromdict(cls)

    converter.register_unstructure_hook_factory(plain_document_class, unstructure_factory)
    if converter.detailed_validation:
        return  # it runs only to explain a refused document: cattrs' path does that

    def structure_factory(cls: type) -> Callable[[Any, Any], Any]:
        slow: Callable[[Any, Any], Any] = converter.gen_structure_attrs_fromdict(cls)
        try:
            fast = class_loader(cls, converter.get_structure_hook)
        except Exception:  # a class the generator cannot read: cattrs' function alone
            fast = None
        return slow if fast is None else FastHook(fast, slow)

    converter.register_structure_hook_factory(plain_document_class, structure_factory)


# Bumped whenever an event type is registered or replaced, so generated loaders of a
# class attrs rebuilt (or an extension's new type) are made again.
_event_types_generation = [0]


def _event_types_changed(_tag: str, _cls: type) -> None:
    _event_types_generation[0] += 1


EVENT_TYPES.subscribe(_event_types_changed)


def _configure_events(converter: cattrs.Converter) -> Callable[[list[Any]], Any]:
    """Register the event hooks; returns the fast timeline loader for the ticket hook."""
    # Hooks are made on first use of each event type, so types registered after the
    # converter was made (an extension's) serialize too.
    unstructure_by_type: dict[type, Callable[[Any], dict[str, Any]]] = {}
    structure_by_tag: dict[str, Callable[[Any, Any], Any]] = {}
    fast_by_tag: dict[str, Callable[[dict[str, Any]], Any]] = {}
    seen_generation = [_event_types_generation[0]]

    def unstructure_hook(cls: type) -> Callable[[Any], dict[str, Any]]:
        if seen_generation[0] != _event_types_generation[0]:  # a type was (re)registered
            fast_loader("")
        hook = unstructure_by_type.get(cls)
        if hook is None:
            tag = getattr(cls, "type_name", "")
            hook = event_dumper(cls, tag, converter.get_unstructure_hook)
            unstructure_by_type[cls] = hook
        return hook

    def structure_hook(tag: object) -> Callable[[Any, Any], Any] | None:
        hook = structure_by_tag.get(tag) if isinstance(tag, str) else None
        if hook is None and isinstance(tag, str) and tag in EVENT_TYPES:
            hook = cattrs.gen.make_dict_structure_fn(
                EVENT_TYPES[tag],
                converter,
                _cattrs_detailed_validation=converter.detailed_validation,
            )
            structure_by_tag[tag] = hook
        return hook

    def fast_loader(tag: str) -> Callable[[dict[str, Any]], Any]:
        if seen_generation[0] != _event_types_generation[0]:  # a type was (re)registered
            fast_by_tag.clear()
            structure_by_tag.clear()
            unstructure_by_type.clear()
            seen_generation[0] = _event_types_generation[0]
        load = fast_by_tag.get(tag)
        if load is None:
            cls = EVENT_TYPES.get(tag)
            made = None if cls is None else event_loader(cls, converter.get_structure_hook)
            load = made if made is not None else _no_fast_loader
            fast_by_tag[tag] = load
        return load

    def load_timeline(items: list[Any]) -> tuple[TicketEvent, ...] | None:
        """The timeline from its JSON list, or None when the converter's path must decide."""
        if seen_generation[0] != _event_types_generation[0]:
            fast_loader("")
        events: list[TicketEvent] = []
        append = events.append
        loaders = fast_by_tag
        try:
            for item in items:
                if type(item) is not dict:
                    return None
                tag = item["type"]
                try:
                    load = loaders[tag]
                except KeyError:
                    if type(tag) is not str:
                        return None
                    load = fast_loader(tag)
                event = load(item)
                if event is None:
                    return None
                append(event)
        except (KeyError, TypeError):  # no tag, or an unhashable one: the full path explains
            return None
        return tuple(events)

    def unstructure_event(event: TicketEvent) -> dict[str, Any]:
        dump = unstructure_by_type.get(type(event)) or unstructure_hook(type(event))
        return dump(event)

    def structure_event(doc: Any, cls: Any) -> TicketEvent:
        if type(doc) is dict:
            tag = doc.get("type")
            if type(tag) is str:
                event = fast_loader(tag)(doc)
                if event is not None and isinstance(event, cls):
                    return cast(TicketEvent, event)
        if type(doc) is not dict and not isinstance(doc, Mapping):
            raise TypeError(f"expected an event object, got {type(doc).__name__}")
        tag = doc.get("type")
        hook = structure_hook(tag)
        if hook is None:
            tags = ", ".join(repr(t) for t in EVENT_TYPES)
            raise ValueError(f"unknown event type {describe(tag)}; expected one of {tags}")
        event = hook(doc, EVENT_TYPES[cast(str, tag)])
        if not isinstance(event, cls):
            raise ValueError(f"expected a {cls.__name__} event, got type {describe(tag)}")
        return cast(TicketEvent, event)

    converter.register_unstructure_hook_func(_is_event, unstructure_event)
    converter.register_structure_hook_func(_is_event, structure_event)
    return load_timeline


def _no_fast_loader(_doc: dict[str, Any]) -> None:
    """For event types without a generated loader: always the converter's path."""
    return None


def _configure_ticket(
    converter: cattrs.Converter,
    load_timeline: Callable[[list[Any]], tuple[TicketEvent, ...] | None],
    *,
    orjson_native: bool,
) -> None:
    unstructure_event = converter.get_unstructure_hook(TicketEvent)
    structure_timeline = converter.get_structure_hook(tuple[TicketEvent, ...])
    hints = get_type_hints(TicketState)
    dump_state = object_dumper(
        {name: hints[name] for name in STATE_FIELDS},
        converter.get_unstructure_hook,
        name="csdomain.tickets.Ticket",
    )
    # The state check compares the document with the JSON values the replay gives,
    # whatever this converter writes for orjson.
    plain = make_converter() if orjson_native else converter
    disagreements = state_comparer(
        {name: hints[name] for name in STATE_FIELDS}, plain.get_unstructure_hook, codec.isoformat
    )

    def unstructure_ticket(ticket: Ticket) -> dict[str, Any]:
        doc = dump_state(ticket)
        doc["timeline"] = [unstructure_event(e) for e in ticket.timeline]
        return doc

    def structure_ticket(doc: Any, _: Any) -> Ticket:
        if type(doc) is not dict and not isinstance(doc, Mapping):
            raise TypeError(f"expected a ticket object, got {type(doc).__name__}")
        if "timeline" not in doc:
            raise ValidationError.single("Ticket", "timeline", "required field missing")
        items = doc["timeline"]
        timeline = load_timeline(items) if type(items) is list and items else None
        if timeline is None:
            try:
                timeline = structure_timeline(items, tuple[TicketEvent, ...])
            except Exception as exc:  # reported with the timeline's paths
                raise _repathed("Ticket", exc, "timeline") from None
        ticket = Ticket(timeline=timeline)
        problems = disagreements(doc, ticket)
        if problems:
            raise ValidationError("Ticket", problems)
        return ticket

    converter.register_unstructure_hook(Ticket, unstructure_ticket)
    converter.register_structure_hook(Ticket, structure_ticket)


def _passthrough(value: Any, _: Any) -> Any:
    """Condition values are checked against their field by the condition itself."""
    return value


def _unstructure_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _unstructure_values(values: tuple[Any, ...]) -> list[Any]:
    return [v.value if isinstance(v, Enum) else v for v in values]


# How many conditions are being structured, one inside the other, on this thread.
_condition_nesting = threading.local()
_CONDITIONS_STRUCTURED_AT_MOST: Final = 4 * CONDITIONS_MAX_DEPTH


def _configure_conditions(converter: cattrs.Converter) -> None:
    # As for events: hooks made on first use, so conditions registered later load too.
    unstructure_by_type: dict[type, Callable[[Any], dict[str, Any]]] = {}
    structure_by_tag: dict[str, Callable[[Any, Any], Any]] = {}
    value = cattrs.gen.override(struct_hook=_passthrough, unstruct_hook=_unstructure_value)
    values = cattrs.gen.override(struct_hook=_passthrough, unstruct_hook=_unstructure_values)

    def overrides(cls: type) -> dict[str, Any]:
        names = {a.name for a in attrs.fields(cls)}
        found: dict[str, Any] = {"value": value} if "value" in names else {}
        if "values" in names:
            found["values"] = values
        return found

    def unstructure_hook(cls: type) -> Callable[[Any], dict[str, Any]]:
        hook = unstructure_by_type.get(cls)
        if hook is None:
            hook = cattrs.gen.make_dict_unstructure_fn(cls, converter, **overrides(cls))
            unstructure_by_type[cls] = hook
        return hook

    def structure_hook(tag: object) -> Callable[[Any, Any], Any] | None:
        hook = structure_by_tag.get(tag) if isinstance(tag, str) else None
        if hook is None and isinstance(tag, str) and tag in CONDITION_TYPES:
            cls = CONDITION_TYPES[tag]
            hook = cattrs.gen.make_dict_structure_fn(
                cls,
                converter,
                _cattrs_detailed_validation=converter.detailed_validation,
                **overrides(cls),
            )
            structure_by_tag[tag] = hook
        return hook

    def unstructure_condition(condition: Condition) -> dict[str, Any]:
        return {"op": condition.op, **unstructure_hook(type(condition))(condition)}

    def structure_condition(doc: Any, cls: Any) -> Condition:
        # Nested conditions are structured from the outside in, one call each, and the
        # model refuses too deep a nesting only once it is built: far beyond its limit,
        # refuse here, before the stack runs out.
        depth = getattr(_condition_nesting, "depth", 0)
        if depth > _CONDITIONS_STRUCTURED_AT_MOST:
            raise ValidationError.single(
                "Condition",
                "",
                f"conditions nest more than {CONDITIONS_MAX_DEPTH} levels deep; "
                f"at most {CONDITIONS_MAX_DEPTH} are allowed",
            )
        _condition_nesting.depth = depth + 1
        try:
            return _structure_one(doc, cls)
        finally:
            _condition_nesting.depth = depth

    def _structure_one(doc: Any, cls: Any) -> Condition:
        if not isinstance(doc, Mapping):
            raise TypeError(f"expected a condition object, got {type(doc).__name__}")
        tag = doc.get("op")
        hook = structure_hook(tag)
        if hook is None:
            ops = ", ".join(repr(t) for t in CONDITION_TYPES)
            raise ValidationError.single(
                "Condition", "op", f"unknown condition op {describe(tag)}; expected one of {ops}"
            )
        condition = hook(doc, CONDITION_TYPES[cast(str, tag)])
        if not isinstance(condition, cls):
            raise ValidationError.single(
                "Condition", "op", f"expected a {cls.__name__} condition, got op {describe(tag)}"
            )
        return cast(Condition, condition)

    converter.register_unstructure_hook_func(_is_condition, unstructure_condition)
    converter.register_structure_hook_func(_is_condition, structure_condition)


def make_converter(
    *, detailed_validation: bool = False, orjson_native: bool = False
) -> cattrs.Converter:
    """A new cattrs converter configured by :func:`configure_converter`.

    ``detailed_validation=True`` collects every error with its path (slower);
    :func:`from_dict` uses the fast converter and re-runs a detailed one only
    when loading fails, to report every problem. ``orjson_native`` is passed
    on to :func:`configure_converter`.
    """
    converter = cattrs.Converter(
        detailed_validation=detailed_validation, prefer_attrib_converters=False
    )
    configure_converter(converter, orjson_native=orjson_native)
    return converter


@lru_cache(maxsize=3)
def _converter(detailed: bool, orjson_native: bool = False) -> cattrs.Converter:
    return make_converter(detailed_validation=detailed, orjson_native=orjson_native)


# -- documents -----------------------------------------------------------------


# Class -> document name, for every class seen (kept current by the registry, so that
# writing a document does not rebuild the table each time).
_names_by_class: dict[type, str] = {}

_Dumper = Callable[[Any], dict[str, Any]]

# Converter -> class -> the function writing a document of that class (envelope first),
# for the module's own converters; emptied when a document type is declared.
_document_dumpers: dict[cattrs.Converter, dict[type, _Dumper]] = {}


# Document name -> type: DOCUMENT_TYPES as a plain dict, for the envelope check.
_types_by_name: dict[str, type] = {}


def _document_types_changed(name: str, cls: type) -> None:
    _names_by_class.clear()
    _document_dumpers.clear()
    _types_by_name[name] = cls


document_types.subscribe(_document_types_changed)


def _document_name(cls: type) -> str:
    found = _names_by_class.get(cls)
    if found is not None:
        return found
    names = {klass: name for name, klass in document_types.items()}
    for klass in cls.__mro__:
        name = names.get(klass)
        if name is not None:
            _names_by_class[cls] = name
            return name
    known = ", ".join(sorted(document_types))
    raise ValidationError.single(
        "document", "", f"{cls.__name__} is not a csdomain document type; known: {known}"
    )


def to_dict(value: Any) -> dict[str, Any]:
    """The JSON-ready document for ``value``, with ``schema_version`` and ``document``."""
    return _document(value, _converter(False))


def _document(value: Any, converter: cattrs.Converter) -> dict[str, Any]:
    try:
        dump = _document_dumpers[converter][type(value)]
    except KeyError:
        dump = _document_dumper(converter, type(value))
    return dump(value)


def _document_dumper(converter: cattrs.Converter, cls: type) -> _Dumper:
    name = _document_name(cls)  # raises for a class that is no document type
    target = DOCUMENT_TYPES[name]
    envelope = {"schema_version": SCHEMA_VERSION, "document": name}
    hook = converter.get_unstructure_hook(target)
    dump: _Dumper
    if is_class_dumper(hook, target):
        # The converter writes the class with a generated dumper: the same one with the
        # envelope in front writes the whole document as one dict.
        hints = get_type_hints(target)
        dump = object_dumper(
            {a.name: hints[a.name] for a in attrs.fields(target)},
            converter.get_unstructure_hook,
            first=envelope,
            name=f"{target.__module__}.{target.__qualname__} document",
        )
    else:

        def dump(value: Any) -> dict[str, Any]:
            doc: dict[str, Any] = dict(envelope)
            doc.update(hook(value))
            return doc

    _document_dumpers.setdefault(converter, {})[cls] = dump
    return dump


@overload
def from_dict(doc: Any) -> object: ...
@overload
def from_dict(doc: Any, cls: type[T]) -> T: ...
def from_dict(doc: Any, cls: type[T] | None = None) -> T | object:
    """Load a document made by :func:`to_dict` (as ``cls``, or as its ``document`` type).

    Raises :class:`~csdomain.errors.ValidationError` listing every problem.
    """
    return _load(doc, cls, copy=True)


def _load(doc: Any, cls: type[T] | None, *, copy: bool) -> T | object:
    """:func:`from_dict` of ``doc``; without ``copy`` (a dict nobody else holds) the
    envelope's keys are taken out of ``doc`` itself."""
    target = _check_envelope(doc, cls)
    body = dict(doc) if copy else doc
    del body["schema_version"], body["document"]  # the envelope checked above holds both
    subject = cls.__name__ if cls is not None else target.__name__
    try:
        value: object = _converter(False).structure(body, target)
    except Exception:  # re-run in detail to list every path
        raise _detailed_error(subject, body, target) from None
    if cls is not None and not isinstance(value, cls):
        raise ValidationError.single(
            subject, "document", f"holds a {type(value).__name__}, not a {cls.__name__}"
        )
    return cast(T, value)


def _check_envelope(doc: Any, cls: type | None) -> type:
    subject = cls.__name__ if cls is not None else "document"
    if type(doc) is not dict and not isinstance(doc, Mapping):
        raise ValidationError.single(
            subject, "", f"expected a JSON object, got {type(doc).__name__}"
        )
    version = doc.get("schema_version")
    if type(version) is not int or version < 1:
        raise ValidationError.single(
            subject, "schema_version", f"expected a positive integer, got {describe(version)}"
        )
    if version > SCHEMA_VERSION:
        raise ValidationError.single(
            subject,
            "schema_version",
            f"document has schema version {version}, newer than this csdomain reads "
            f"({SCHEMA_VERSION}); upgrade csdomain",
        )
    name = doc.get("document")
    expected = _document_name(cls) if cls is not None else None
    target = _types_by_name.get(name) if type(name) is str else None
    if target is None or (expected is not None and name != expected):
        allowed = repr(expected) if expected else ", ".join(repr(n) for n in DOCUMENT_TYPES)
        raise ValidationError.single(
            subject, "document", f"expected {allowed}, got {describe(name)}"
        )
    return target


def _detailed_error(subject: str, body: Any, target: type) -> ValidationError:
    try:
        _converter(True).structure(body, target)
    except Exception as exc:  # every failure becomes a listed problem
        return _repathed(subject, exc, "")
    return ValidationError.single(  # pragma: no cover - the fast path agreed
        subject, "", "the document could not be loaded"
    )


def _repathed(subject: str, exc: BaseException, path: str) -> ValidationError:
    """The error listing every problem of ``exc`` under ``path``, counting those its
    ValidationErrors counted without keeping them."""
    omitted = [0]
    problems = list(_walk(exc, path, omitted)) or [(path, str(exc))]
    return ValidationError(subject, problems, len(problems) + omitted[0])


def _join(path: str, sub: str) -> str:
    if not sub:
        return path
    if not path or sub.startswith("["):
        return path + sub
    return f"{path}.{sub}"


def _walk(exc: BaseException, path: str, omitted: list[int]) -> Iterator[tuple[str, str]]:
    """The problems of ``exc`` under ``path``; adds to ``omitted[0]`` how many more its
    ValidationErrors counted."""
    if isinstance(exc, ValidationError):
        omitted[0] += exc.problem_count - len(exc.problems)
        for problem in exc.problems:
            yield _join(path, problem.path), problem.message
    elif isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            yield from _walk(inner, _join(path, f"[{note.index!r}]"), omitted)
        for inner in without:
            yield from _walk(inner, path, omitted)
    elif isinstance(exc, ClassValidationError):
        attribute_errors, other_errors = exc.group_exceptions()
        for inner, attribute in attribute_errors:
            yield from _walk(inner, _join(path, attribute.name), omitted)
        for inner in other_errors:
            yield from _walk(inner, path, omitted)
    elif isinstance(exc, KeyError):
        yield path, "required field missing"
    elif isinstance(exc, RecursionError):
        yield path, "nested too deeply to load"
    else:
        yield path, str(exc) or f"invalid value ({type(exc).__name__})"


# -- JSON text -----------------------------------------------------------------


def json_backend() -> str:
    """``"orjson"`` when the ``fast`` extra is installed, else ``"json"``."""
    return codec.backend()


def to_json(value: Any, *, indent: int | None = None) -> str:
    """The document for ``value`` as JSON text (compact unless ``indent`` is given)."""
    if indent is None and codec.writes_datetimes():
        return codec.dumps(_document(value, _converter(False, True)))
    return codec.dumps(to_dict(value), indent=indent)


def ticket_json_and_events(ticket: Ticket) -> tuple[str, list[str]]:
    """The ticket's JSON text, and the text of each timeline event as written in it.

    For storage adapters, which keep the events again in their outbox: the
    events are written once, not structured twice. Same text as :func:`to_json`.
    """
    doc = _document(ticket, _converter(False, codec.writes_datetimes()))
    texts = codec.dumps_all([doc, *doc["timeline"]])
    return texts[0], texts[1:]


def events_json(events: Sequence[TicketEvent]) -> list[str]:
    """The JSON text of each event, exactly as it is written in a ticket's ``timeline``.

    For storage that keeps a ticket's events as rows: the same text as
    :func:`ticket_json_and_events` gives for them, without writing anything else.
    :func:`ticket_from_events_json` loads a ticket back from these texts.
    """
    for i, event in enumerate(events):
        if not isinstance(event, TicketEvent):
            raise ValidationError.single(
                "events", f"[{i}]", f"expected a TicketEvent, got {type(event).__name__}"
            )
    dump = _converter(False, codec.writes_datetimes()).get_unstructure_hook(TicketEvent)
    return codec.dumps_all([dump(e) for e in events])


@overload
def from_json(
    text: str | bytes | bytearray | memoryview, *, max_bytes: int | None = None
) -> object: ...
@overload
def from_json(
    text: str | bytes | bytearray | memoryview, cls: type[T], *, max_bytes: int | None = None
) -> T: ...
def from_json(
    text: str | bytes | bytearray | memoryview,
    cls: type[T] | None = None,
    *,
    max_bytes: int | None = None,
) -> T | object:
    """Load a document from JSON text (as ``cls``, or as its ``document`` type).

    Every problem raises :class:`~csdomain.errors.ValidationError`: malformed JSON
    and every text :mod:`csdomain._kernel.codec`'s rules refuse (a byte order mark,
    nesting deeper than 512 levels, integers beyond 64 bits, NaN, lone surrogates),
    the same on both JSON backends, and a text longer than ``max_bytes`` bytes,
    refused before it is parsed.
    """
    subject = cls.__name__ if cls is not None else "document"
    doc = codec.loads(text, subject=subject, max_bytes=max_bytes)
    if type(doc) is dict:  # made here and held by nobody else: no copy needed
        return _load(doc, cls, copy=False)
    return from_dict(doc) if cls is None else from_dict(doc, cls)


_TICKET_HEAD: Final = f'{{"schema_version":{SCHEMA_VERSION},"document":"ticket","timeline":['


def ticket_from_events_json(
    texts: Sequence[str], *, key: str = "", max_bytes: int | None = None
) -> Ticket:
    """The ticket whose timeline is these event texts (as :func:`events_json` writes them).

    As fast as :func:`from_json` of the whole ticket document, which it builds from
    the texts (``max_bytes`` bounds that document). Problems are reported with paths
    ``timeline[i]...``; the error's subject names ``key`` (the ticket's id) when given.
    """
    subject = f"Ticket {key!r}" if key else "Ticket"
    try:
        document = _TICKET_HEAD + ",".join(texts) + "]}"
    except TypeError:  # something is not a str: name it
        i, text = next((i, t) for i, t in enumerate(texts) if not isinstance(t, str))
        raise ValidationError.single(
            subject, f"timeline[{i}]", f"expected JSON text (str), got {type(text).__name__}"
        ) from None
    try:
        doc = codec.loads(document, subject=subject, max_bytes=max_bytes)
    except ValidationError as refused:
        # Name the text at fault; when each loads alone, the whole was refused (its size).
        for i, text in enumerate(texts):
            _event_doc(text, subject, i)
        raise refused from None
    timeline = doc.get("timeline") if type(doc) is dict and len(doc) == 3 else None
    if type(timeline) is not list or len(timeline) != len(texts):
        # Some text is not one JSON value (it closed the list, or holds two): name it.
        events = [_event_doc(text, subject, i) for i, text in enumerate(texts)]
        doc = {"schema_version": SCHEMA_VERSION, "document": "ticket", "timeline": events}
    try:
        return from_dict(doc, Ticket)
    except ValidationError as exc:
        if exc.subject == subject:
            raise
        raise ValidationError(
            subject, [(p.path, p.message) for p in exc.problems], exc.problem_count
        ) from None


def _event_doc(text: str, subject: str, index: int) -> Any:
    try:
        return codec.loads(text, subject=subject)
    except ValidationError as exc:
        raise ValidationError(
            subject,
            [(_join(f"timeline[{index}]", p.path), p.message) for p in exc.problems],
            exc.problem_count,
        ) from None
