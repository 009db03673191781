"""Tickets (工单): the aggregate, its status machine and its timeline.

A :class:`Ticket` is immutable. Every change is a method that validates the
request, appends one or more events to the ticket's timeline and returns the
new ticket; the old value is untouched, so a rejected change leaves nothing
half-done. The timeline is the whole truth: ``Ticket(timeline=...)`` replays
it, and the state fields (status, priority, assignee, ...) are what the replay
says. The same per-event rule moves a ticket forward in a method and in a
replay, so a ticket rebuilt from its timeline equals the original.

Statuses move only along :data:`TRANSITIONS`:

============  ==========================================  ======================
from          to                                           note
============  ==========================================  ======================
new           open, pending, on_hold, solved
open          pending, on_hold, solved
pending       open, on_hold, solved                        waiting on the customer
on_hold       open, pending, solved                        waiting on a third party
solved        open (reopen), closed
closed        nothing                                      final; link a follow-up
============  ==========================================  ======================

Three moves happen by themselves, each recorded as its own
:class:`StatusChanged` event right after the message that caused it: an
agent's first public reply moves ``new`` to ``open``; a customer's public
message moves ``pending`` or ``solved`` back to ``open``. Merging a ticket
into another closes it from any status that is not closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, Final

import attrs

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import to_utc
from csdomain._kernel.validation import (
    Checked,
    JsonScalar,
    checked,
    duration,
    each,
    frozen_set_of_str,
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
from csdomain.privacy import PERSONAL, masked

__all__ = [
    "REASON_AGENT_REPLIED",
    "REASON_CUSTOMER_REPLIED",
    "TRANSITIONS",
    "Actor",
    "ActorKind",
    "Assigned",
    "CustomFieldsChanged",
    "LinkKind",
    "Linked",
    "MessageAdded",
    "PriorityChanged",
    "Status",
    "StatusChanged",
    "TagsChanged",
    "Ticket",
    "TicketCreated",
    "TicketEvent",
    "TicketKind",
    "TicketLink",
    "TierChanged",
    "Visibility",
]


class TicketKind(Enum):
    """What the customer came for."""

    CONSULTATION = "consultation"  # 咨询
    INCIDENT = "incident"
    PROBLEM = "problem"
    REQUEST = "request"
    COMPLAINT = "complaint"  # 投诉
    AFTER_SALES = "after_sales"  # 售后


declare_labels(
    TicketKind,
    {
        TicketKind.CONSULTATION: _mark("ticket kind", "Consultation"),
        TicketKind.INCIDENT: _mark("ticket kind", "Incident"),
        TicketKind.PROBLEM: _mark("ticket kind", "Problem"),
        TicketKind.REQUEST: _mark("ticket kind", "Service request"),
        TicketKind.COMPLAINT: _mark("ticket kind", "Complaint"),
        TicketKind.AFTER_SALES: _mark("ticket kind", "After-sales"),
    },
)


class Status(Enum):
    """Where a ticket is in its life; see :data:`TRANSITIONS` for the allowed moves."""

    # Members are singletons: hashing by identity is correct and runs in C
    # (Enum's own hash calls Python code), which SLA sweeps feel.
    __hash__ = object.__hash__

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


#: The allowed status moves: ``TRANSITIONS[current]`` is the set of next statuses.


declare_labels(
    Status,
    {
        Status.NEW: _mark("status", "New"),
        Status.OPEN: _mark("status", "Open"),
        # Translators: waiting on the customer's reply.
        Status.PENDING: _mark("status", "Pending"),
        # Translators: waiting on a third party or another team.
        Status.ON_HOLD: _mark("status", "On hold"),
        Status.SOLVED: _mark("status", "Solved"),
        Status.CLOSED: _mark("status", "Closed"),
    },
)


TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class ActorKind(Enum):
    """Who did something on a ticket."""

    __hash__ = object.__hash__  # identity, as for Status

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


declare_labels(
    ActorKind,
    {
        ActorKind.CUSTOMER: _mark("actor kind", "Customer"),
        ActorKind.AGENT: _mark("actor kind", "Agent"),
        ActorKind.BOT: _mark("actor kind", "Bot"),
        ActorKind.SYSTEM: _mark("actor kind", "System"),
    },
)


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


class LinkKind(Enum):
    """How a ticket relates to another."""

    FOLLOW_UP_OF = "follow_up_of"
    MERGED_INTO = "merged_into"
    RELATED = "related"


declare_labels(
    LinkKind,
    {
        # Translators: this ticket follows up on the linked (closed) ticket.
        LinkKind.FOLLOW_UP_OF: _mark("link kind", "Follow-up of"),
        LinkKind.MERGED_INTO: _mark("link kind", "Merged into"),
        LinkKind.RELATED: _mark("link kind", "Related"),
    },
)


@attrs.frozen
class Actor(Checked):
    """Who acted: a customer or agent (with their id), a bot or the system."""

    kind: ActorKind = attrs.field(metadata=checked(member_of(ActorKind)))
    id: str | None = attrs.field(default=None, metadata=checked(optional(key("actor id"))))

    @classmethod
    def customer(cls, customer_id: str) -> Actor:
        """The customer with id ``customer_id``."""
        return cls(ActorKind.CUSTOMER, customer_id)

    @classmethod
    def agent(cls, agent_id: str) -> Actor:
        """The agent with id ``agent_id``."""
        return cls(ActorKind.AGENT, agent_id)

    @classmethod
    def bot(cls, bot_id: str | None = None) -> Actor:
        """A bot (optionally named)."""
        return cls(ActorKind.BOT, bot_id)

    @classmethod
    def system(cls, name: str | None = None) -> Actor:
        """The system itself (automations, sweeps), optionally named."""
        return cls(ActorKind.SYSTEM, name)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.kind in (ActorKind.CUSTOMER, ActorKind.AGENT) and self.id is None:
            yield "id", f"a {self.kind.value} actor needs the {self.kind.value}'s id"

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}" if self.id else self.kind.value


@attrs.frozen
class TicketLink(Checked):
    """A link from this ticket to another one."""

    kind: LinkKind = attrs.field(metadata=checked(member_of(LinkKind)))
    ticket_id: str = attrs.field(metadata=checked(key("ticket id")))


def _channel(value: object) -> object:
    return channel_key(value) if isinstance(value, (ChannelKind, Channel)) else value


# -- events -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TicketEvent(Checked):
    """Base of timeline events: when it happened and who did it."""

    type_name: ClassVar[str] = ""
    at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    actor: Actor = attrs.field(metadata=checked(instance(Actor, "an Actor")))


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
    custom_fields: dict[str, JsonScalar] = attrs.field(factory=dict, metadata=checked(json_scalars))
    links: tuple[TicketLink, ...] = attrs.field(
        factory=tuple,
        converter=tuple_of,
        metadata=checked(each(instance(TicketLink, "a TicketLink"), tuple)),
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
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

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.actor.kind is ActorKind.CUSTOMER and self.visibility is Visibility.INTERNAL:
            yield "visibility", "a customer cannot write an internal note; use 'public'"

    @property
    def public(self) -> bool:
        """True when the customer sees this message."""
        return self.visibility is Visibility.PUBLIC


@attrs.frozen(kw_only=True)
class StatusChanged(TicketEvent):
    """The status moved from ``old`` to ``new`` (``reason`` says why, when known)."""

    type_name: ClassVar[str] = "status_changed"
    old: Status = attrs.field(metadata=checked(member_of(Status)))
    new: Status = attrs.field(metadata=checked(member_of(Status)))
    reason: str | None = attrs.field(default=None, metadata=checked(optional(text(max_length=500))))


@attrs.frozen(kw_only=True)
class PriorityChanged(TicketEvent):
    """The priority moved from ``old`` to ``new``."""

    type_name: ClassVar[str] = "priority_changed"
    old: Priority = attrs.field(metadata=checked(member_of(Priority)))
    new: Priority = attrs.field(metadata=checked(member_of(Priority)))


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


@attrs.frozen(kw_only=True)
class TierChanged(TicketEvent):
    """The ticket moved between escalation tiers (up or down)."""

    type_name: ClassVar[str] = "tier_changed"
    old: str = attrs.field(metadata=checked(key("tier key")))
    new: str = attrs.field(metadata=checked(key("tier key")))
    reason: str | None = attrs.field(default=None, metadata=checked(optional(text(max_length=500))))


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


@attrs.frozen(kw_only=True)
class CustomFieldsChanged(TicketEvent):
    """Custom fields were set (``values``) and/or removed (``unset``)."""

    type_name: ClassVar[str] = "custom_fields_changed"
    values: dict[str, JsonScalar] = attrs.field(factory=dict, metadata=checked(json_scalars))
    unset: frozenset[str] = attrs.field(
        factory=frozenset,
        converter=frozen_set_of_str,
        metadata=checked(each(key("field name"), frozenset)),
    )


@attrs.frozen(kw_only=True)
class Linked(TicketEvent):
    """A link to another ticket was added (merging adds a ``merged_into`` link)."""

    type_name: ClassVar[str] = "linked"
    link: TicketLink = attrs.field(metadata=checked(instance(TicketLink, "a TicketLink")))


#: Every event type, by the ``type`` tag used in JSON documents.
EVENT_TYPES: Final[Mapping[str, type[TicketEvent]]] = {
    cls.type_name: cls
    for cls in (
        TicketCreated,
        MessageAdded,
        StatusChanged,
        PriorityChanged,
        Assigned,
        TierChanged,
        TagsChanged,
        CustomFieldsChanged,
        Linked,
    )
}


# -- replay -------------------------------------------------------------------

_State = dict[str, Any]
#: The state fields of a Ticket, in document order (derived from its timeline).
STATE_FIELDS: Final = (
    "id",
    "kind",
    "subject",
    "customer_id",
    "channel",
    "priority",
    "status",
    "group_id",
    "assignee_id",
    "tier",
    "tags",
    "custom_fields",
    "links",
    "created_at",
    "updated_at",
)


def _refuse(state: _State, action: str, why: str) -> InvalidTransitionError:
    return InvalidTransitionError(
        f"cannot {action} on ticket {state['id']} (status {state['status'].value}): {why}"
    )


def _apply_created(state: _State, e: TicketCreated) -> None:
    state.update(
        id=e.ticket_id,
        kind=e.kind,
        subject=e.subject,
        customer_id=e.customer_id,
        channel=e.channel,
        priority=e.priority,
        status=e.status,
        group_id=e.group_id,
        assignee_id=e.assignee_id,
        tier=e.tier,
        tags=e.tags,
        custom_fields=MappingProxyType(dict(e.custom_fields)),
        links=e.links,
        created_at=e.at,
    )


def _apply_message(state: _State, e: MessageAdded) -> None:
    pass  # messages change no state field; SLA and KPIs read them from the timeline


def _merged(state: _State) -> bool:
    return any(link.kind is LinkKind.MERGED_INTO for link in state["links"])


def _apply_status(state: _State, e: StatusChanged) -> None:
    old = state["status"]
    if e.old is not old:
        raise _refuse(state, f"record a move from {e.old.value}", f"the ticket is {old.value}")
    if e.new not in TRANSITIONS[old] and not (_merged(state) and e.new is Status.CLOSED):
        raise _refuse(state, f"move to {e.new.value}", f"allowed: {_allowed(old)}")
    state["status"] = e.new


def _allowed(status: Status) -> str:
    nexts = sorted(s.value for s in TRANSITIONS[status])
    return ", ".join(nexts) if nexts else "none (closed is final; open a follow-up ticket)"


def _apply_priority(state: _State, e: PriorityChanged) -> None:
    if e.old is not state["priority"] or e.new is e.old:
        raise _refuse(
            state,
            f"record a priority change {e.old.value} -> {e.new.value}",
            f"the priority is {state['priority'].value}",
        )
    state["priority"] = e.new


def _apply_assigned(state: _State, e: Assigned) -> None:
    before = (state["group_id"], state["assignee_id"])
    if (e.old_group_id, e.old_assignee_id) != before or (e.group_id, e.assignee_id) == before:
        raise _refuse(
            state,
            f"record an assignment from {(e.old_group_id, e.old_assignee_id)!r}",
            f"group and assignee are {before!r}",
        )
    state["group_id"], state["assignee_id"] = e.group_id, e.assignee_id


def _apply_tier(state: _State, e: TierChanged) -> None:
    if e.old != state["tier"] or e.new == e.old:
        raise _refuse(
            state, f"record a tier change {e.old} -> {e.new}", f"the tier is {state['tier']}"
        )
    state["tier"] = e.new


def _apply_tags(state: _State, e: TagsChanged) -> None:
    tags: frozenset[str] = state["tags"]
    if not (e.added or e.removed) or e.added & tags or not e.removed <= tags:
        raise _refuse(
            state,
            f"record tags +{sorted(e.added)} -{sorted(e.removed)}",
            f"the tags are {sorted(tags)}",
        )
    state["tags"] = (tags - e.removed) | e.added


def _apply_fields(state: _State, e: CustomFieldsChanged) -> None:
    fields: Mapping[str, JsonScalar] = state["custom_fields"]
    if not (e.values or e.unset) or e.unset & e.values.keys() or not e.unset <= fields.keys():
        raise _refuse(
            state,
            f"record custom fields set {sorted(e.values)} unset {sorted(e.unset)}",
            f"the fields are {sorted(fields)}",
        )
    updated = {k: v for k, v in fields.items() if k not in e.unset}
    updated.update(e.values)
    state["custom_fields"] = MappingProxyType(updated)


def _apply_linked(state: _State, e: Linked) -> None:
    links: tuple[TicketLink, ...] = state["links"]
    if e.link.ticket_id == state["id"]:
        raise _refuse(state, "link the ticket to itself", "a link needs another ticket")
    if e.link in links:
        raise _refuse(state, f"add link {e.link.kind.value} {e.link.ticket_id}", "already linked")
    if e.link.kind is LinkKind.MERGED_INTO and any(
        link.kind is LinkKind.MERGED_INTO for link in links
    ):
        raise _refuse(state, "merge again", "the ticket is already merged")
    state["links"] = (*links, e.link)


_APPLY: Final[dict[type[TicketEvent], Callable[[_State, Any], None]]] = {
    TicketCreated: _apply_created,
    MessageAdded: _apply_message,
    StatusChanged: _apply_status,
    PriorityChanged: _apply_priority,
    Assigned: _apply_assigned,
    TierChanged: _apply_tier,
    TagsChanged: _apply_tags,
    CustomFieldsChanged: _apply_fields,
    Linked: _apply_linked,
}


def _probe(state: _State, event: TicketEvent) -> None:
    """A bare ``TicketEvent`` checks time order and finality without changing anything."""


def _apply(state: _State, event: TicketEvent) -> None:
    """Move ``state`` forward by ``event``; raise without changing it if the event is illegal."""
    handler = _APPLY.get(type(event), _probe if type(event) is TicketEvent else None)
    if handler is None:
        raise ValidationError.single("Ticket", "timeline", f"not a ticket event: {event!r}")
    if isinstance(event, TicketCreated):
        if state:
            raise _refuse(state, "record a second 'created' event", "a ticket is created once")
    else:
        if not state:
            raise ValidationError.single(
                "Ticket", "timeline[0]", "a timeline must start with a TicketCreated event"
            )
        if event.at < state["updated_at"]:
            raise ValidationError.single(
                "Ticket",
                "at",
                f"{event.at.isoformat()} is before the ticket's last event "
                f"({state['updated_at'].isoformat()}); events are recorded in time order",
            )
        if state["status"] is Status.CLOSED:
            action = f"record {event.type_name or 'a change'}"
            raise _refuse(state, action, "closed is final; open a follow-up")
        closes = isinstance(event, StatusChanged) and event.new is Status.CLOSED
        if not closes and _merged(state):
            raise _refuse(state, f"record {event.type_name}", "a merged ticket can only close")
    handler(state, event)
    state["updated_at"] = event.at


_UNCHANGED: Any = object()


@attrs.frozen(eq=False)
class Ticket:
    """A customer request and its whole history.

    Create one with :meth:`open`; change it with the methods below, each of
    which returns a new ticket and leaves this one as it was. Construct
    ``Ticket(timeline=...)`` directly only to rebuild from stored events: the
    timeline is replayed and checked, and the state fields follow from it.

    Equality compares the timeline and every state field.
    """

    timeline: tuple[TicketEvent, ...] = attrs.field(converter=tuple_of)
    id: str = attrs.field(init=False)
    kind: TicketKind = attrs.field(init=False)
    subject: str = attrs.field(init=False, repr=masked, metadata={PERSONAL: True})
    customer_id: str = attrs.field(init=False)
    channel: str = attrs.field(init=False)
    priority: Priority = attrs.field(init=False)
    status: Status = attrs.field(init=False)
    group_id: str | None = attrs.field(init=False)
    assignee_id: str | None = attrs.field(init=False)
    tier: str = attrs.field(init=False)
    tags: frozenset[str] = attrs.field(init=False)
    custom_fields: Mapping[str, JsonScalar] = attrs.field(init=False)
    links: tuple[TicketLink, ...] = attrs.field(init=False)
    created_at: datetime = attrs.field(init=False)
    updated_at: datetime = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.timeline, tuple) or not self.timeline:
            raise ValidationError.single(
                "Ticket", "timeline", "expected a non-empty sequence of events"
            )
        state: _State = {}
        for i, event in enumerate(self.timeline):
            if type(event) not in _APPLY:
                raise ValidationError.single(
                    "Ticket", f"timeline[{i}]", f"expected a ticket event, got {event!r}"
                )
            try:
                _apply(state, event)
            except ValidationError as exc:
                raise ValidationError(
                    "Ticket", [(f"timeline[{i}]", p.message) for p in exc.problems]
                ) from None
            except InvalidTransitionError as exc:
                raise ValidationError.single("Ticket", f"timeline[{i}]", str(exc)) from None
        self._set_state(state)

    def _set_state(self, state: _State) -> None:
        for name in STATE_FIELDS:
            object.__setattr__(self, name, state[name])

    def __eq__(self, other: object) -> bool:
        if type(other) is not Ticket:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in ("timeline", *STATE_FIELDS))

    __hash__ = None  # type: ignore[assignment]  # dict field: not hashable

    # -- creation -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        id: str,
        customer_id: str,
        channel: ChannelKind | Channel | str,
        subject: str,
        at: datetime,
        actor: Actor | None = None,
        kind: TicketKind = TicketKind.CONSULTATION,
        priority: Priority = Priority.NORMAL,
        group_id: str | None = None,
        assignee_id: str | None = None,
        tier: str = "L1",
        tags: Iterable[str] = (),
        custom_fields: Mapping[str, JsonScalar] | None = None,
        follow_up_of: str | None = None,
        description: str | None = None,
    ) -> Ticket:
        """Open a new ticket; ``description``, if given, is the customer's first message.

        ``actor`` defaults to the customer. The ticket starts ``new``.
        """
        if actor is None:
            try:
                actor = Actor.customer(customer_id)
            except ValidationError:  # reported below, with every other problem
                actor = Actor.system()
        links = () if follow_up_of is None else (TicketLink(LinkKind.FOLLOW_UP_OF, follow_up_of),)
        created = TicketCreated(
            at=at,
            actor=actor,
            ticket_id=id,
            kind=kind,
            subject=subject,
            customer_id=customer_id,
            channel=channel,
            priority=priority,
            group_id=group_id,
            assignee_id=assignee_id,
            tier=tier,
            tags=tags,
            custom_fields=dict(custom_fields or {}),
            links=links,
        )
        events: list[TicketEvent] = [created]
        if description is not None:
            author = actor if actor.kind is ActorKind.CUSTOMER else Actor.customer(customer_id)
            events.append(
                MessageAdded(at=created.at, actor=author, channel=created.channel, body=description)
            )
        return cls(timeline=tuple(events))

    def follow_up(
        self,
        *,
        id: str,
        at: datetime,
        actor: Actor | None = None,
        subject: str | None = None,
        description: str | None = None,
    ) -> Ticket:
        """A new ticket linked as a follow-up of this one (which is usually closed)."""
        return Ticket.open(
            id=id,
            customer_id=self.customer_id,
            channel=self.channel,
            subject=subject or self.subject,
            at=at,
            actor=actor,
            kind=self.kind,
            priority=self.priority,
            group_id=self.group_id,
            tier=self.tier,
            follow_up_of=self.id,
            description=description,
        )

    # -- changes --------------------------------------------------------------

    def _extend(self, events: Iterable[TicketEvent]) -> Ticket:
        state = self._state()
        added = tuple(events)
        for event in added:
            _apply(state, event)
        new = object.__new__(Ticket)
        object.__setattr__(new, "timeline", self.timeline + added)
        new._set_state(state)
        return new

    def add_message(
        self,
        *,
        at: datetime,
        author: Actor,
        body: str,
        visibility: Visibility = Visibility.PUBLIC,
        channel: ChannelKind | Channel | str | None = None,
        handle_time: timedelta | None = None,
    ) -> Ticket:
        """Add a message (``channel`` defaults to the ticket's).

        A public customer message on a pending or solved ticket reopens it; an
        agent's public reply on a new ticket opens it.
        """
        message = MessageAdded(
            at=at,
            actor=author,
            visibility=visibility,
            channel=self.channel if channel is None else channel,
            body=body,
            handle_time=handle_time,
        )
        events: list[TicketEvent] = [message]
        move = _automatic_move(self.status, message)
        if move is not None:
            new_status, reason = move
            events.append(
                StatusChanged(
                    at=message.at,
                    actor=Actor.system(),
                    old=self.status,
                    new=new_status,
                    reason=reason,
                )
            )
        return self._extend(events)

    def change_status(
        self, status: Status, *, at: datetime, actor: Actor, reason: str | None = None
    ) -> Ticket:
        """Move to ``status`` along :data:`TRANSITIONS`; ``InvalidTransitionError`` otherwise."""
        if not isinstance(status, Status):
            raise ValidationError.single(
                "Ticket.change_status",
                "status",
                f"expected a Status ({', '.join(s.value for s in Status)}), got {status!r}",
            )
        if status is self.status or status not in TRANSITIONS[self.status]:
            raise InvalidTransitionError(
                f"cannot move ticket {self.id} from {self.status.value} to {status.value}; "
                f"allowed: {_allowed(self.status)}"
            )
        return self._extend(
            [StatusChanged(at=at, actor=actor, old=self.status, new=status, reason=reason)]
        )

    def change_priority(self, priority: Priority, *, at: datetime, actor: Actor) -> Ticket:
        """Set the priority; the same priority again changes nothing."""
        if priority is self.priority:
            return self._unchanged(at, actor)
        return self._extend([PriorityChanged(at=at, actor=actor, old=self.priority, new=priority)])

    def assign(
        self,
        *,
        at: datetime,
        actor: Actor,
        group_id: str | None = _UNCHANGED,
        assignee_id: str | None = _UNCHANGED,
    ) -> Ticket:
        """Set the group and/or the assignee (``None`` clears); omitted ones stay."""
        group = self.group_id if group_id is _UNCHANGED else group_id
        assignee = self.assignee_id if assignee_id is _UNCHANGED else assignee_id
        if (group, assignee) == (self.group_id, self.assignee_id):
            return self._unchanged(at, actor)
        return self._extend(
            [
                Assigned(
                    at=at,
                    actor=actor,
                    old_group_id=self.group_id,
                    group_id=group,
                    old_assignee_id=self.assignee_id,
                    assignee_id=assignee,
                )
            ]
        )

    def change_tier(
        self, tier: str, *, at: datetime, actor: Actor, reason: str | None = None
    ) -> Ticket:
        """Move the ticket to escalation tier ``tier``; the same tier changes nothing."""
        if tier == self.tier:
            return self._unchanged(at, actor)
        return self._extend(
            [TierChanged(at=at, actor=actor, old=self.tier, new=tier, reason=reason)]
        )

    def change_tags(
        self,
        *,
        at: datetime,
        actor: Actor,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
    ) -> Ticket:
        """Add and remove tags; tags already present or absent are skipped."""
        event = TagsChanged(at=at, actor=actor, added=add, removed=remove)
        if event.added & event.removed:
            raise ValidationError.single(
                "Ticket.change_tags",
                "add",
                f"tags {sorted(event.added & event.removed)} are both added and removed",
            )
        added, removed = event.added - self.tags, event.removed & self.tags
        if not (added or removed):
            return self._unchanged(at, actor)
        return self._extend([attrs.evolve(event, added=added, removed=removed)])

    def set_custom_fields(
        self,
        values: Mapping[str, JsonScalar] | None = None,
        *,
        at: datetime,
        actor: Actor,
        unset: Iterable[str] = (),
    ) -> Ticket:
        """Set custom fields and remove those named in ``unset`` (absent ones are skipped)."""
        event = CustomFieldsChanged(
            at=at,
            actor=actor,
            values=dict(values or {}),
            unset=unset,
        )
        if event.unset & event.values.keys():
            raise ValidationError.single(
                "Ticket.set_custom_fields",
                "unset",
                f"fields {sorted(event.unset & event.values.keys())} are both set and unset",
            )
        changed = {
            k: v
            for k, v in event.values.items()
            if k not in self.custom_fields or _json_differs(self.custom_fields[k], v)
        }
        removed = event.unset & self.custom_fields.keys()
        if not (changed or removed):
            return self._unchanged(at, actor)
        return self._extend([attrs.evolve(event, values=changed, unset=frozenset(removed))])

    def link(
        self,
        ticket_id: str,
        *,
        at: datetime,
        actor: Actor,
        kind: LinkKind = LinkKind.RELATED,
    ) -> Ticket:
        """Link to another ticket (use :meth:`merge_into` to merge)."""
        if kind is LinkKind.MERGED_INTO:
            raise ValidationError.single(
                "Ticket.link", "kind", "use merge_into() to merge; it also closes the ticket"
            )
        return self._extend(
            [Linked(at=at, actor=actor, link=TicketLink(kind=kind, ticket_id=ticket_id))]
        )

    def merge_into(self, ticket_id: str, *, at: datetime, actor: Actor) -> Ticket:
        """Merge this ticket into ``ticket_id``: link it and close this one."""
        link = Linked(
            at=at, actor=actor, link=TicketLink(kind=LinkKind.MERGED_INTO, ticket_id=ticket_id)
        )
        close = StatusChanged(
            at=at,
            actor=actor,
            old=self.status,
            new=Status.CLOSED,
            reason=f"merged into {ticket_id}",
        )
        return self._extend([link, close])

    def _unchanged(self, at: datetime, actor: Actor) -> Ticket:
        """A no-op still refuses what a real change would refuse, then returns ``self``."""
        problems = [("at", m) for _, m in instant.explain(at)] if not instant.ok(at) else []
        if not isinstance(actor, Actor):
            problems.append(("actor", f"expected an Actor, got {actor!r}"))
        if problems:
            raise ValidationError("Ticket change", problems)
        _apply(self._state(), TicketEvent(at=at, actor=actor))
        return self

    def _state(self) -> _State:
        return {name: getattr(self, name) for name in STATE_FIELDS}

    # -- reading --------------------------------------------------------------

    @property
    def messages(self) -> tuple[MessageAdded, ...]:
        """Every message of the timeline, public and internal, oldest first."""
        return tuple(e for e in self.timeline if isinstance(e, MessageAdded))

    @property
    def allowed_statuses(self) -> frozenset[Status]:
        """The statuses :meth:`change_status` accepts now."""
        return TRANSITIONS[self.status]

    @property
    def merged_into(self) -> str | None:
        """The id of the ticket this one was merged into, if any."""
        for link in self.links:
            if link.kind is LinkKind.MERGED_INTO:
                return link.ticket_id
        return None


#: The ``reason`` of the automatic move after a customer's public message.
REASON_CUSTOMER_REPLIED: Final = "customer replied"
#: The ``reason`` of the automatic move after an agent's first public reply.
REASON_AGENT_REPLIED: Final = "agent replied"


def _automatic_move(status: Status, message: MessageAdded) -> tuple[Status, str] | None:
    if not message.public:
        return None
    if message.actor.kind is ActorKind.CUSTOMER and status in (Status.PENDING, Status.SOLVED):
        return Status.OPEN, REASON_CUSTOMER_REPLIED
    if message.actor.kind is ActorKind.AGENT and status is Status.NEW:
        return Status.OPEN, REASON_AGENT_REPLIED
    return None


def _json_differs(a: JsonScalar, b: JsonScalar) -> bool:
    return type(a) is not type(b) or a != b
