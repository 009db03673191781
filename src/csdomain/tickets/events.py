"""Timeline events: each class declares its ``type`` tag and carries its own replay rule.

A new event type is a subclass of :class:`TicketEvent` with a ``type_name`` and
an :meth:`~TicketEvent.apply_to` method; defining it registers it in
:data:`EVENT_TYPES`, so replay, serialization and strategies know it without a
central list.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, Final, cast

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.registry import Registry
from csdomain._kernel.time import to_utc
from csdomain._kernel.validation import (
    Checked,
    JsonScalar,
    checked,
    duration,
    each,
    frozen_set_of_str,
    identity_when,
    instance,
    instant,
    json_scalars,
    key,
    member_of,
    optional,
    tags_check,
    text,
    tuple_of,
)
from csdomain.channels import Channel, ChannelKind, channel_key
from csdomain.errors import InvalidTransitionError, ValidationError
from csdomain.priorities import Priority
from csdomain.privacy import masked
from csdomain.tickets.actors import Actor, ActorKind
from csdomain.tickets.links import LinkKind, TicketLink
from csdomain.tickets.state import TicketState
from csdomain.tickets.status import TRANSITIONS, Status, TicketKind, allowed_moves

__all__ = [
    "EVENT_TYPES",
    "Assigned",
    "CustomFieldsChanged",
    "Linked",
    "MessageAdded",
    "PersonalDataErased",
    "PriorityChanged",
    "StatusChanged",
    "TagsChanged",
    "TicketCreated",
    "TicketEvent",
    "TierChanged",
    "Visibility",
    "advance",
]


class Visibility(Enum):
    """Whether the customer sees a message (public) or only staff (internal note)."""

    PUBLIC = "public"
    INTERNAL = "internal"


declare_labels(
    Visibility,
    {
        Visibility.PUBLIC: _mark("visibility", "Public"),
        # Translators: an internal note, seen by staff only.
        Visibility.INTERNAL: _mark("visibility", "Internal"),
    },
)


# Members bound once: reading Status.CLOSED goes through the enum metaclass on every use,
# and these run for every event replayed or loaded (cost: bench/README.md, Serialization).
_CLOSED: Final = Status.CLOSED
_NEW: Final = Status.NEW
_OPEN: Final = Status.OPEN
_CUSTOMER: Final = ActorKind.CUSTOMER
_INTERNAL: Final = Visibility.INTERNAL
_PUBLIC: Final = Visibility.PUBLIC


def _channel(value: ChannelKind | Channel | str) -> str:
    return channel_key(value) if isinstance(value, (ChannelKind, Channel)) else value


def _links(value: Iterable[TicketLink]) -> tuple[TicketLink, ...]:
    return tuple_of(value)


# Loaders building events without __init__ skip these converters when they change nothing.
identity_when(_channel, "type({v}) is str")
identity_when(_links, "type({v}) is {tuple}", tuple=tuple)


#: Every event type, by the ``type`` tag used in JSON documents; filled by the classes.
EVENT_TYPES: Final[Registry[str, type[TicketEvent]]] = Registry("ticket event type")


@attrs.frozen(kw_only=True)
class TicketEvent(Checked):
    """Base of timeline events: when it happened and who did it.

    Subclasses set ``type_name`` (their tag in JSON documents, unique) and
    override :meth:`apply_to`. A bare ``TicketEvent`` is a probe: replaying it
    checks time order and finality and changes nothing.
    """

    type_name: ClassVar[str] = ""
    #: True for records that change nothing about the ticket (an erasure): they are
    #: allowed in every status and do not move ``updated_at``.
    _audit_only: ClassVar[bool] = False
    at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    actor: Actor = attrs.field(metadata=checked(instance(Actor, "an Actor")))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name")
        if not name:
            return
        present = EVENT_TYPES.get(name)
        if (
            present is not None
            and present.__qualname__ == cls.__qualname__
            and (present.__module__ == cls.__module__)
        ):
            EVENT_TYPES.replace(name, cls)  # attrs rebuilt the same class with slots
        else:
            EVENT_TYPES.add(name, cls)

    def apply_to(self, state: TicketState) -> None:
        """This event's replay rule: move ``state`` forward, or raise
        :class:`~csdomain.errors.InvalidTransitionError` without changing it.

        The checks every event shares (time order, closed is final, a merged
        ticket can only close) run before this, in :func:`advance`.
        """


declare_document("ticket_event", TicketEvent)


@attrs.frozen(kw_only=True)
class TicketCreated(TicketEvent):
    """The first event of every timeline: the ticket as it was opened."""

    type_name: ClassVar[str] = "created"
    ticket_id: str = attrs.field(metadata=checked(key("ticket id")))
    kind: TicketKind = attrs.field(metadata=checked(member_of(TicketKind)))
    subject: str = attrs.field(repr=masked, metadata=checked(text(max_length=500), personal=True))
    customer_id: str = attrs.field(metadata=checked(key("customer id")))
    channel: str = attrs.field(converter=_channel, metadata=checked(key("channel key")))
    priority: Priority = attrs.field(metadata=checked(member_of(Priority)))
    status: Status = attrs.field(default=Status.NEW, metadata=checked(member_of(Status)))
    group_id: str | None = attrs.field(default=None, metadata=checked(optional(key("group id"))))
    assignee_id: str | None = attrs.field(default=None, metadata=checked(optional(key("agent id"))))
    tier: str = attrs.field(default="L1", metadata=checked(key("tier key")))
    tags: frozenset[str] = attrs.field(
        factory=frozenset, converter=frozen_set_of_str, metadata=checked(tags_check)
    )
    custom_fields: dict[str, JsonScalar] = attrs.field(
        factory=dict, repr=masked, metadata=checked(json_scalars, personal=True)
    )
    links: tuple[TicketLink, ...] = attrs.field(
        factory=tuple,
        converter=_links,
        metadata=checked(each(instance(TicketLink, "a TicketLink"), tuple)),
    )

    def _check_whole(self) -> Iterable[tuple[str, str]]:
        if (self.status is _NEW or self.status is _OPEN) and not self.links:
            return ()  # the common case, without building a generator
        return list(self._problems())

    def _problems(self) -> Iterator[tuple[str, str]]:
        if self.status not in (Status.NEW, Status.OPEN):
            yield "status", f"a ticket starts as 'new' or 'open', got {self.status.value!r}"
        seen: set[TicketLink] = set()
        for i, link in enumerate(self.links):
            if link.kind is LinkKind.MERGED_INTO:
                yield f"links[{i}]", "a new ticket cannot start merged; merge it afterwards"
            elif link.ticket_id == self.ticket_id:
                yield f"links[{i}]", f"ticket {self.ticket_id} cannot link to itself"
            elif link in seen:
                yield f"links[{i}]", f"duplicate link {link.kind.value} {link.ticket_id}"
            seen.add(link)

    def apply_to(self, state: TicketState) -> None:
        """Start the state: every derived field from this event."""
        state.id = self.ticket_id
        state.kind = self.kind
        state.subject = self.subject
        state.customer_id = self.customer_id
        state.channel = self.channel
        state.priority = self.priority
        state.status = self.status
        state.group_id = self.group_id
        state.assignee_id = self.assignee_id
        state.tier = self.tier
        state.tags = self.tags
        state.custom_fields = MappingProxyType(dict(self.custom_fields))
        state.links = self.links
        state.created_at = self.at


@attrs.frozen(kw_only=True)
class MessageAdded(TicketEvent):
    """A message, call or chat: public to the customer or an internal note.

    The author is the event's actor. ``handle_time`` is the time an agent
    spent on a call or chat, when the channel reports it.
    """

    type_name: ClassVar[str] = "message"
    visibility: Visibility = attrs.field(
        default=Visibility.PUBLIC, metadata=checked(member_of(Visibility))
    )
    channel: str = attrs.field(converter=_channel, metadata=checked(key("channel key")))
    body: str = attrs.field(
        repr=masked, metadata=checked(text(max_length=1_000_000), personal=True)
    )
    handle_time: timedelta | None = attrs.field(
        default=None, metadata=checked(optional(duration()))
    )

    def _check_whole(self) -> Iterable[tuple[str, str]]:
        # A list, not a generator: this runs for every message loaded.
        if self.visibility is _INTERNAL and self.actor.kind is _CUSTOMER:
            return [("visibility", "a customer cannot write an internal note; use 'public'")]
        return ()

    @property
    def public(self) -> bool:
        """True when the customer sees this message."""
        return self.visibility is _PUBLIC

    def apply_to(self, state: TicketState) -> None:
        """Messages change no derived field; SLA and KPIs read them from the timeline."""


@attrs.frozen(kw_only=True)
class StatusChanged(TicketEvent):
    """The status moved from ``old`` to ``new`` (``reason`` says why, when known)."""

    type_name: ClassVar[str] = "status_changed"
    old: Status = attrs.field(metadata=checked(member_of(Status)))
    new: Status = attrs.field(metadata=checked(member_of(Status)))
    reason: str | None = attrs.field(default=None, metadata=checked(optional(text(max_length=500))))

    def apply_to(self, state: TicketState) -> None:
        """Move the status along :data:`TRANSITIONS` (a merged ticket may always close)."""
        old = state.status
        if self.old is not old:
            raise state.refuse(f"record a move from {self.old.value}", f"the ticket is {old.value}")
        if self.new not in TRANSITIONS[old] and not (self.new is _CLOSED and state.merged):
            raise InvalidTransitionError(state.id, old.value, self.new.value, allowed_moves(old))
        state.status = self.new


@attrs.frozen(kw_only=True)
class PriorityChanged(TicketEvent):
    """The priority moved from ``old`` to ``new``."""

    type_name: ClassVar[str] = "priority_changed"
    old: Priority = attrs.field(metadata=checked(member_of(Priority)))
    new: Priority = attrs.field(metadata=checked(member_of(Priority)))

    def apply_to(self, state: TicketState) -> None:
        """Set the priority; ``old`` must be the current one and ``new`` another."""
        if self.old is not state.priority or self.new is self.old:
            raise state.refuse(
                f"record a priority change {self.old.value} -> {self.new.value}",
                f"the priority is {state.priority.value}",
            )
        state.priority = self.new


@attrs.frozen(kw_only=True)
class Assigned(TicketEvent):
    """The group and/or assignee changed (``None``: nobody)."""

    type_name: ClassVar[str] = "assigned"
    old_group_id: str | None = attrs.field(
        default=None, metadata=checked(optional(key("group id")))
    )
    group_id: str | None = attrs.field(default=None, metadata=checked(optional(key("group id"))))
    old_assignee_id: str | None = attrs.field(
        default=None, metadata=checked(optional(key("agent id")))
    )
    assignee_id: str | None = attrs.field(default=None, metadata=checked(optional(key("agent id"))))

    def apply_to(self, state: TicketState) -> None:
        """Set group and assignee; the ``old_`` values must be the current ones."""
        before = (state.group_id, state.assignee_id)
        after = (self.group_id, self.assignee_id)
        if (self.old_group_id, self.old_assignee_id) != before or after == before:
            raise state.refuse(
                f"record an assignment from {(self.old_group_id, self.old_assignee_id)!r}",
                f"group and assignee are {before!r}",
            )
        state.group_id, state.assignee_id = after


@attrs.frozen(kw_only=True)
class TierChanged(TicketEvent):
    """The ticket moved between escalation tiers (up or down)."""

    type_name: ClassVar[str] = "tier_changed"
    old: str = attrs.field(metadata=checked(key("tier key")))
    new: str = attrs.field(metadata=checked(key("tier key")))
    reason: str | None = attrs.field(default=None, metadata=checked(optional(text(max_length=500))))

    def apply_to(self, state: TicketState) -> None:
        """Set the tier; ``old`` must be the current one and ``new`` another."""
        if self.old != state.tier or self.new == self.old:
            raise state.refuse(
                f"record a tier change {self.old} -> {self.new}", f"the tier is {state.tier}"
            )
        state.tier = self.new


@attrs.frozen(kw_only=True)
class TagsChanged(TicketEvent):
    """Tags were added and/or removed."""

    type_name: ClassVar[str] = "tags_changed"
    added: frozenset[str] = attrs.field(
        factory=frozenset, converter=frozen_set_of_str, metadata=checked(tags_check)
    )
    removed: frozenset[str] = attrs.field(
        factory=frozenset, converter=frozen_set_of_str, metadata=checked(tags_check)
    )

    def apply_to(self, state: TicketState) -> None:
        """Add and remove tags; each must really change the set."""
        tags = state.tags
        if not (self.added or self.removed) or self.added & tags or not self.removed <= tags:
            raise state.refuse(
                f"record tags +{sorted(self.added)} -{sorted(self.removed)}",
                f"the tags are {sorted(tags)}",
            )
        state.tags = (tags - self.removed) | self.added


@attrs.frozen(kw_only=True)
class CustomFieldsChanged(TicketEvent):
    """Custom fields were set (``values``) and/or removed (``unset``)."""

    type_name: ClassVar[str] = "custom_fields_changed"
    values: dict[str, JsonScalar] = attrs.field(
        factory=dict, repr=masked, metadata=checked(json_scalars, personal=True)
    )
    unset: frozenset[str] = attrs.field(
        factory=frozenset,
        converter=frozen_set_of_str,
        metadata=checked(each(key("field name"), frozenset)),
    )

    def apply_to(self, state: TicketState) -> None:
        """Set and unset custom fields; unset ones must exist."""
        fields = state.custom_fields
        if (
            not (self.values or self.unset)
            or self.unset & self.values.keys()
            or not self.unset <= fields.keys()
        ):
            raise state.refuse(
                f"record custom fields set {sorted(self.values)} unset {sorted(self.unset)}",
                f"the fields are {sorted(fields)}",
            )
        updated = {k: v for k, v in fields.items() if k not in self.unset}
        updated.update(self.values)
        state.custom_fields = MappingProxyType(updated)


@attrs.frozen(kw_only=True)
class Linked(TicketEvent):
    """A link to another ticket was added (merging adds a ``merged_into`` link)."""

    type_name: ClassVar[str] = "linked"
    link: TicketLink = attrs.field(metadata=checked(instance(TicketLink, "a TicketLink")))

    def apply_to(self, state: TicketState) -> None:
        """Add a link to another ticket; one merge at most."""
        links = state.links
        if self.link.ticket_id == state.id:
            raise state.refuse("link the ticket to itself", "a link needs another ticket")
        if self.link in links:
            raise state.refuse(
                f"add link {self.link.kind.value} {self.link.ticket_id}", "already linked"
            )
        if self.link.kind is LinkKind.MERGED_INTO and state.merged:
            raise state.refuse("merge again", "the ticket is already merged")
        state.links = (*links, self.link)


@attrs.frozen(kw_only=True)
class PersonalDataErased(TicketEvent):
    """The ticket's personal data was erased (the customer's right to erasure, PIPL and
    GDPR).

    Erasure redacts the earlier events (:func:`csdomain.privacy.redacted`: subject,
    message bodies, custom field values) and appends this record. ``reason`` says
    why in a few words and must not contain personal data (a request number such as
    ``"erasure request ER-1024"``, not the customer's name); it is kept as written.

    It is allowed in every status, closed and merged included, and its replay rule
    changes nothing: not even ``updated_at``, so durations such as ``updated_at -
    created_at``, SLA clocks and KPIs read the same after an erasure as before. Like
    every event it is recorded in time order (its ``at`` is not before the ticket's
    last change); the events after it are ordered against that last change.
    """

    type_name: ClassVar[str] = "personal_data_erased"
    _audit_only: ClassVar[bool] = True
    reason: str = attrs.field(metadata=checked(text(max_length=200)))

    def apply_to(self, state: TicketState) -> None:
        """Nothing changes: the redacted events already say what remains."""


def advance(state: TicketState, event: TicketEvent) -> None:
    """Move ``state`` forward by ``event``; raise without changing it if the event is illegal."""
    try:
        _replay(state, (event,))
    except _RefusedEventError as refused:
        raise cast(Exception, refused.error) from None


class _RefusedEventError(Exception):
    """Raised by :func:`_replay`: the event at ``index`` is illegal (``error`` says why),
    or is not a known event at all (``error`` is None)."""

    def __init__(self, index: int, error: ValidationError | InvalidTransitionError | None):
        super().__init__(index, error)
        self.index = index
        self.error = error


def _replay(
    state: TicketState, events: Iterable[TicketEvent], known: Container[type] | None = None
) -> None:
    """Move ``state`` forward by each of ``events`` in turn, as :func:`advance` does for
    one (this is its only implementation: a loop, as replaying a timeline runs it for
    every event loaded). With ``known``, an event whose class is not in it is refused.

    Raises ``_RefusedEventError(index, error)`` for the first illegal event; ``state`` holds the
    events before it.
    """
    started = state.started()
    last = state.updated_at if started else None
    for i, event in enumerate(events):
        if known is not None and type(event) not in known:
            raise _RefusedEventError(i, None)
        if isinstance(event, TicketCreated):
            if started:
                error = state.refuse("record a second 'created' event", "a ticket is created once")
                raise _RefusedEventError(i, error)
        else:
            if last is None:
                raise _RefusedEventError(
                    i,
                    ValidationError.single(
                        "Ticket", "timeline[0]", "a timeline must start with a TicketCreated event"
                    ),
                )
            if event.at < last:
                raise _RefusedEventError(
                    i,
                    ValidationError.single(
                        "Ticket",
                        "at",
                        f"{event.at.isoformat()} is before the ticket's last event "
                        f"({last.isoformat()}); events are recorded in time order",
                    ),
                )
            if state.status is _CLOSED and not event._audit_only:
                action = f"record {event.type_name or 'a change'}"
                raise _RefusedEventError(
                    i, state.refuse(action, "closed is final; open a follow-up")
                )
            if (
                state.links
                and state.merged
                and not (isinstance(event, StatusChanged) and event.new is _CLOSED)
                and not event._audit_only
            ):
                error = state.refuse(f"record {event.type_name}", "a merged ticket can only close")
                raise _RefusedEventError(i, error)
        try:
            event.apply_to(state)
        except (ValidationError, InvalidTransitionError) as exc:
            raise _RefusedEventError(i, exc) from None
        if not event._audit_only:
            state.updated_at = last = event.at
        started = True
