"""The ticket aggregate: an immutable value rebuilt from, and changed by, its timeline."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any, Final, TypeAlias, TypeVar, overload

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.registry import declare_type
from csdomain._kernel.validation import JsonScalar, describe, instant, tuple_of
from csdomain.channels import Channel, ChannelKind
from csdomain.errors import InvalidTransitionError, ValidationError
from csdomain.priorities import Priority
from csdomain.tickets.actors import Actor, ActorKind
from csdomain.tickets.events import (
    EVENT_TYPES,
    Assigned,
    CustomFieldsChanged,
    Linked,
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TicketCreated,
    TicketEvent,
    TierChanged,
    Visibility,
    _RefusedEventError,
    _replay,
    advance,
)
from csdomain.tickets.links import LinkKind, TicketLink
from csdomain.tickets.state import STATE_FIELDS, TicketState
from csdomain.tickets.status import TRANSITIONS, Status, TicketKind, allowed_moves

__all__ = ["REASON_AGENT_REPLIED", "REASON_CUSTOMER_REPLIED", "Ticket"]


_events_by_tag: dict[str, type[TicketEvent]] = {}
#: The registered event classes and the bare probe ``TicketEvent``, kept current by the
#: registry (a class attrs rebuilt with slots replaces the first under its tag).
_KNOWN_EVENTS: Final[set[type]] = {TicketEvent}


def _known_event(tag: str, cls: type[TicketEvent]) -> None:
    _events_by_tag[tag] = cls
    _KNOWN_EVENTS.clear()
    _KNOWN_EVENTS.add(TicketEvent)
    _KNOWN_EVENTS.update(_events_by_tag.values())


EVENT_TYPES.subscribe(_known_event)


#: Tags as callers give them: a set, list or tuple of keys (a bare str is refused: it would
#: read as one tag per character).
Tags: TypeAlias = AbstractSet[str] | list[str] | tuple[str, ...]


def _timeline(value: Iterable[TicketEvent]) -> tuple[TicketEvent, ...]:
    return tuple_of(value)


def _customer_or_system(customer_id: str) -> Actor:
    try:
        return Actor.customer(customer_id)
    except ValidationError:  # a bad customer id is reported once, by the created event
        return Actor.system()


E = TypeVar("E")
_FIELD_NAME: Final = re.compile(r"[A-Za-z_]\w*")


def _plain_dict(values: Mapping[str, JsonScalar] | None) -> dict[str, JsonScalar]:
    """A dict copy of a mapping (None: empty); anything else is left for the check."""
    if values is None:
        return {}
    return dict(values) if isinstance(values, Mapping) else values


class _Problems(list[tuple[str, str]]):
    """Problems gathered from the events an operation builds, and how many more those
    events' errors counted without keeping them."""

    omitted: int = 0

    def error(self, subject: str) -> ValidationError:
        """The error listing these problems, counting the omitted ones too."""
        return ValidationError(subject, self, len(self) + self.omitted)


def _build(
    problems: _Problems, renames: Mapping[str, str], cls: type[E], **kwargs: Any
) -> E | None:
    """``cls(**kwargs)``, or None after adding its problems under the caller's argument
    names (``renames`` maps an event field to the argument that fed it; ``""`` drops a
    problem another event reports already)."""
    try:
        return cls(**kwargs)
    except ValidationError as exc:
        problems.omitted += exc.problem_count - len(exc.problems)
        for path, message in exc.problems:
            head, sep, rest = (
                path.partition("[") if "[" in path.split(".")[0] else path.partition(".")
            )
            name = renames.get(head, head)
            if name:
                problems.append((name + sep + rest if rest or sep else name, message))
        return None


_UNCHANGED: Any = object()


def _state_copier() -> Any:
    # One generated function: copying the fields runs once per ticket built or loaded.
    # The slot setters of TicketState, which Ticket inherits (cheaper than __setattr__).
    lines = "".join(f"    set_{n}(ticket, state.{n})\n" for n in STATE_FIELDS)
    namespace: dict[str, Any] = {f"set_{n}": getattr(TicketState, n).__set__ for n in STATE_FIELDS}
    exec(f"def copy_state(ticket, state):\n{lines}", namespace)
    return namespace["copy_state"]


_copy_state: Final = _state_copier()


@declare_type
@attrs.frozen(eq=False, repr=False)
class Ticket(TicketState):
    """A customer request and its whole history.

    Create one with :meth:`open`; change it with the methods below, each of
    which returns a new ticket and leaves this one as it was. Construct
    ``Ticket(timeline=...)`` directly only to rebuild from stored events: the
    timeline is replayed and checked, and the state fields follow from it.

    Equality compares the timeline and every state field.
    """

    timeline: tuple[TicketEvent, ...] = attrs.field(converter=_timeline)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.timeline, tuple) or not self.timeline:
            raise ValidationError.single(
                "Ticket", "timeline", "expected a non-empty sequence of events"
            )
        state = object.__new__(TicketState)
        try:
            _replay(state, self.timeline, _KNOWN_EVENTS)
        except _RefusedEventError as refused:
            path, error = f"timeline[{refused.index}]", refused.error
            if error is None:
                event = self.timeline[refused.index]
                raise ValidationError.single(
                    "Ticket",
                    path,
                    f"expected a ticket event ({', '.join(EVENT_TYPES)}), got {describe(event)}",
                ) from None
            if isinstance(error, ValidationError):
                raise ValidationError(
                    "Ticket", [(path, p.message) for p in error.problems], error.problem_count
                ) from None
            raise ValidationError.single("Ticket", path, str(error)) from None
        self._take(state)

    def _take(self, state: TicketState) -> None:
        _copy_state(self, state)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Ticket:
            return NotImplemented
        return self.timeline == other.timeline and all(
            getattr(self, n) == getattr(other, n) for n in STATE_FIELDS
        )

    def __repr__(self) -> str:
        # The subject, messages and custom fields are personal data: not shown.
        return (
            f"Ticket(id={self.id!r}, status={self.status.value!r}, "
            f"priority={self.priority.value!r}, events={len(self.timeline)})"
        )

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
        tags: Tags = (),
        custom_fields: Mapping[str, JsonScalar] | None = None,
        follow_up_of: str | None = None,
        description: str | None = None,
    ) -> Ticket:
        """Open a new ticket; ``description``, if given, is the customer's first message.

        ``actor`` defaults to the customer. The ticket starts ``new``.
        """
        if actor is None:
            actor = _customer_or_system(customer_id)
        problems = _Problems()
        links: tuple[TicketLink, ...] = ()
        if follow_up_of is not None:
            link = _build(
                problems,
                {"ticket_id": "follow_up_of"},
                TicketLink,
                kind=LinkKind.FOLLOW_UP_OF,
                ticket_id=follow_up_of,
            )
            links = () if link is None else (link,)
        created = _build(
            problems,
            {"ticket_id": "id"},
            TicketCreated,
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
            custom_fields=dict(custom_fields or {})
            if isinstance(custom_fields, Mapping) or custom_fields is None
            else custom_fields,
            links=links,
        )
        events: list[TicketEvent] = [] if created is None else [created]
        if description is not None:
            author = actor if actor.kind is ActorKind.CUSTOMER else _customer_or_system(customer_id)
            message = _build(
                problems,
                {"body": "description", "at": "", "actor": "", "channel": ""},
                MessageAdded,
                at=at,
                actor=author,
                channel=channel,
                body=description,
            )
            if message is not None:
                events.append(message)
        if problems:
            raise problems.error("Ticket.open")
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
        state = self.copy()
        added = tuple(events)
        for event in added:
            advance(state, event)
        new = object.__new__(Ticket)
        object.__setattr__(new, "timeline", self.timeline + added)
        new._take(state)
        return new

    def record(self, *events: TicketEvent) -> Ticket:
        """This ticket with ``events`` appended, each checked by its own replay rule.

        For events of other packages (escalation firings, routing notes, an app's own
        event types); the methods below build the model's own events. Raises as
        replaying the timeline would (``ValidationError``, ``InvalidTransitionError``)
        and leaves this ticket as it was. Costs what the new events cost, however long
        the timeline is.
        """
        for i, event in enumerate(events):
            if not isinstance(event, TicketEvent) or type(event) not in _KNOWN_EVENTS:
                raise ValidationError.single(
                    "Ticket.record",
                    f"events[{i}]",
                    f"expected a ticket event ({', '.join(EVENT_TYPES)}), got {describe(event)}",
                )
        return self._extend(events)

    @overload
    def add_message(
        self,
        *,
        at: datetime,
        actor: Actor,
        body: str,
        visibility: Visibility = Visibility.PUBLIC,
        channel: ChannelKind | Channel | str | None = None,
        handle_time: timedelta | None = None,
    ) -> Ticket: ...

    @overload
    def add_message(
        self,
        *,
        at: datetime,
        author: Actor,
        body: str,
        visibility: Visibility = Visibility.PUBLIC,
        channel: ChannelKind | Channel | str | None = None,
        handle_time: timedelta | None = None,
    ) -> Ticket: ...

    def add_message(
        self,
        *,
        at: datetime,
        body: str,
        actor: Actor | None = None,
        visibility: Visibility = Visibility.PUBLIC,
        channel: ChannelKind | Channel | str | None = None,
        handle_time: timedelta | None = None,
        author: Actor | None = None,
    ) -> Ticket:
        """Add a message written by ``actor`` (``channel`` defaults to the ticket's).

        A public customer message on a pending or solved ticket reopens it; an
        agent's public reply on a new ticket opens it. ``author=`` is the old
        name of ``actor=`` (deprecated: every change names its actor ``actor``).
        """
        if author is not None:
            warnings.warn(
                "Ticket.add_message(author=...) is deprecated; use actor=...",
                DeprecationWarning,
                stacklevel=2,
            )
            if actor is None:
                actor = author
        if actor is None:
            raise ValidationError.single(
                "Ticket.add_message", "actor", "required: who wrote the message (an Actor)"
            )
        message = MessageAdded(
            at=at,
            actor=actor,
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
                self.id, self.status.value, status.value, allowed_moves(self.status)
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
        add: Tags = (),
        remove: Tags = (),
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
        advance(self.copy(), TicketEvent(at=at, actor=actor))
        return self

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


declare_document("ticket", Ticket)


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
