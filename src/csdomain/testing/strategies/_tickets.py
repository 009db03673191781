"""Strategies: tickets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain._kernel.time import INSTANT_END
from csdomain.priorities import Priority
from csdomain.privacy import redacted
from csdomain.testing.strategies._channels import (
    _channel_keys,
)
from csdomain.testing.strategies._common import (
    _DEFAULT_BOUNDS,
    _avoiding,
    _aware_datetimes,
    _check_aware,
    _check_range,
    _check_size,
    _check_strategy,
    _ids,
    _json_maps,
    _json_scalars,
    _keys,
    _maybe,
    _members,
    _memo,
    _texts,
    _zones,
)
from csdomain.testing.strategies._people import (
    _tier_keys,
)
from csdomain.testing.strategies._priorities import (
    priorities,
)
from csdomain.testing.strategies.registry import register, registered, strategy_for
from csdomain.tickets import (
    EVENT_TYPES,
    TRANSITIONS,
    Actor,
    ActorKind,
    Assigned,
    CustomFieldsChanged,
    Linked,
    LinkKind,
    MessageAdded,
    PersonalDataErased,
    PriorityChanged,
    Status,
    StatusChanged,
    TagsChanged,
    Ticket,
    TicketCreated,
    TicketEvent,
    TicketKind,
    TicketLink,
    TierChanged,
    Visibility,
)


def ticket_kinds() -> SearchStrategy[TicketKind]:
    """Members of :class:`~csdomain.TicketKind`. Requires Hypothesis."""
    return st.sampled_from(TicketKind)


def statuses() -> SearchStrategy[Status]:
    """Members of :class:`~csdomain.Status`. Requires Hypothesis."""
    return st.sampled_from(Status)


def actor_kinds() -> SearchStrategy[ActorKind]:
    """Members of :class:`~csdomain.ActorKind`. Requires Hypothesis."""
    return st.sampled_from(ActorKind)


def visibilities() -> SearchStrategy[Visibility]:
    """Members of :class:`~csdomain.Visibility`. Requires Hypothesis."""
    return st.sampled_from(Visibility)


def link_kinds() -> SearchStrategy[LinkKind]:
    """Members of :class:`~csdomain.LinkKind`. Requires Hypothesis."""
    return st.sampled_from(LinkKind)


# -- tickets -----------------------------------------------------------------------------


def actors(*, kinds: Iterable[ActorKind] | None = None) -> SearchStrategy[Actor]:
    """:class:`~csdomain.Actor` values of the given ``kinds`` (default: all).

    Customers and agents always carry an id; bots and the system may.

    Requires Hypothesis.
    """
    return _actors(_members(ActorKind, "kinds", kinds))


register(Actor, actors)


@_memo
def _actors(kinds: tuple[ActorKind, ...]) -> SearchStrategy[Actor]:
    return st.one_of([_actors_of(kind) for kind in kinds])


@_memo
def _actors_of(kind: ActorKind) -> SearchStrategy[Actor]:
    if kind is ActorKind.CUSTOMER:
        return _ids("cus").map(Actor.customer)
    if kind is ActorKind.AGENT:
        return _ids("agt").map(Actor.agent)
    names = _maybe(st.sampled_from(("sla-sweep", "autoreply", "router")) | _keys(24))
    return st.builds(Actor, st.just(kind), names)


def ticket_links(*, kinds: Iterable[LinkKind] | None = None) -> SearchStrategy[TicketLink]:
    """:class:`~csdomain.TicketLink` values of the given ``kinds`` (default: all).

    Requires Hypothesis.
    """
    chosen = _members(LinkKind, "kinds", kinds)
    return st.builds(TicketLink, kind=st.sampled_from(chosen), ticket_id=_ids("tkt"))


register(TicketLink, ticket_links)


_OPS: tuple[str, ...] = (
    # weights by repetition; "message" first so that shrinking favours messages
    *("message",) * 6,
    *("status",) * 4,
    "priority",
    "assign",
    "assign",
    "tier",
    "tags",
    "tags",
    "fields",
    "link",
    "erase",
)
_CLOSING_OPS: tuple[str, ...] = (*_OPS, "merge")
_STAFF: tuple[ActorKind, ...] = (ActorKind.AGENT, ActorKind.SYSTEM, ActorKind.BOT)
_AUTHORS: tuple[ActorKind, ...] = (ActorKind.CUSTOMER, ActorKind.AGENT, ActorKind.BOT)
_NEXT_STATUSES: dict[tuple[Status, bool], tuple[Status, ...]] = {
    (status, may_close): tuple(
        s for s in Status if s in TRANSITIONS[status] and (may_close or s is not Status.CLOSED)
    )
    for status in Status
    for may_close in (False, True)
}
_OTHER_PRIORITIES: dict[Priority, tuple[Priority, ...]] = {
    p: tuple(q for q in Priority if q is not p) for p in Priority
}


def tickets(
    *,
    min_events: int = 0,
    max_events: int = 30,
    start: SearchStrategy[datetime] | None = None,
    max_gap: timedelta = timedelta(days=3),
    ticket_ids: SearchStrategy[str] | None = None,
    customer_ids: SearchStrategy[str] | None = None,
    channels: SearchStrategy[str] | None = None,
    allow_closed: bool = True,
) -> SearchStrategy[Ticket]:
    """:class:`~csdomain.Ticket` values, valid by construction.

    A ticket is opened with :meth:`Ticket.open <csdomain.Ticket.open>` (any
    kind, priority, group, assignee, tier, tags, custom fields, perhaps as a
    follow-up and with a description) at an instant drawn from ``start``
    (default :func:`aware_datetimes`), then changed between ``min_events``
    and ``max_events`` times by allowed operations: public and internal
    messages from the customer, agents and bots; status moves to one of
    ``ticket.allowed_statuses``; priority, assignment, tier, tag and custom
    field changes; links; now and then an erasure (the events so far redacted
    with :func:`csdomain.privacy.redacted`, then a
    :class:`~csdomain.tickets.PersonalDataErased`) or a merge into another
    ticket. The
    number of changes is distributed as the size of a Hypothesis list is:
    mostly a few, sometimes up to ``max_events``. Each
    change happens ``0`` to ``max_gap`` after the previous one (equal
    instants included), expressed in varying zones.

    Every change adds one event or two (a message may move the status, a
    merge also closes), so the timeline has at least ``min_events + 1``
    entries. With ``allow_closed=False`` no ticket ends closed or merged;
    otherwise the ticket is only closed once ``min_events`` changes are made.

    ``ticket_ids``, ``customer_ids`` and ``channels`` draw the ticket's id,
    its customer's id and its channel key (defaults: :func:`ids` with
    ``tkt``/``cus`` prefixes and :func:`channel_keys`).

    Requires Hypothesis.
    """
    _check_size("min_events", min_events)
    _check_size("max_events", max_events)
    _check_range("min_events", min_events, "max_events", max_events)
    if not isinstance(max_gap, timedelta) or max_gap < timedelta(0):
        raise InvalidArgument(f"max_gap={max_gap!r} must be a non-negative timedelta")
    for name, value in (
        ("start", start),
        ("ticket_ids", ticket_ids),
        ("customer_ids", customer_ids),
        ("channels", channels),
    ):
        _check_strategy(name, value)
    opened = _opened(
        _aware_datetimes(*_DEFAULT_BOUNDS, _zones()) if start is None else start,
        _ids("tkt") if ticket_ids is None else ticket_ids,
        _ids("cus") if customer_ids is None else customer_ids,
        _channel_keys(True, True) if channels is None else channels,
    )
    return _tickets(opened, min_events, max_events, max_gap, bool(allow_closed))


register(Ticket, tickets)


@_memo
def _opened(
    start: SearchStrategy[datetime],
    ticket_ids: SearchStrategy[str],
    customer_ids: SearchStrategy[str],
    channel_keys_: SearchStrategy[str],
) -> SearchStrategy[Ticket]:
    return st.builds(
        _open,
        id=ticket_ids,
        customer_id=customer_ids,
        channel=channel_keys_,
        subject=_texts(60),
        at=start,
        actor=_maybe(_actors(_STAFF)),
        kind=ticket_kinds(),
        priority=priorities(),
        group_id=_maybe(_ids("grp")),
        assignee_id=_maybe(_ids("agt")),
        tier=_tier_keys(),
        tags=st.frozensets(_keys(24), max_size=3),
        custom_fields=_json_maps(3),
        follow_up_of=_maybe(_ids("tkt")),
        description=_maybe(_texts(80)),
    )


def _open(*, at: object, follow_up_of: str | None, id: str, **fields: Any) -> Ticket:
    _check_aware("start produced", at)
    return Ticket.open(
        at=at,  # type: ignore[arg-type]  # checked just above
        id=id,
        follow_up_of=None if follow_up_of == id else follow_up_of,
        **fields,
    )


@st.composite
def _tickets(
    draw: DrawFn,
    opened: SearchStrategy[Ticket],
    min_events: int,
    max_events: int,
    max_gap: timedelta,
    allow_closed: bool,
) -> Ticket:
    ticket = draw(opened)
    gaps = _gaps(max_gap)
    # As many changes as a list of that size would hold: mostly a few, sometimes max_events.
    count = len(draw(_change_counts(min_events, max_events)))
    for i in range(count):
        if ticket.status is Status.CLOSED:
            break
        may_close = allow_closed and i + 1 >= min_events
        op = draw(_ops(may_close))
        ticket = _change(draw, ticket, op, gaps, may_close=may_close)
    return ticket


@_memo
def _change_counts(min_events: int, max_events: int) -> SearchStrategy[list[None]]:
    return st.lists(st.none(), min_size=min_events, max_size=max_events)


@_memo
def _ops(may_close: bool) -> SearchStrategy[str]:
    return st.sampled_from(_CLOSING_OPS if may_close else _OPS)


def _next_instant(draw: DrawFn, ticket: Ticket, gaps: SearchStrategy[timedelta]) -> datetime:
    # After the last event, not after updated_at: an erasure does not move updated_at.
    last = ticket.timeline[-1].at
    try:
        at = last + draw(gaps)
    except OverflowError:
        at = last
    if not at < INSTANT_END:  # the span's end is not an instant: stay at the last one
        at = last
    try:
        return at.astimezone(draw(_zones()))
    except (OverflowError, ValueError):
        return at


def _change(
    draw: DrawFn, ticket: Ticket, op: str, gaps: SearchStrategy[timedelta], *, may_close: bool
) -> Ticket:
    """``ticket`` after one allowed change of kind ``op`` (which always adds an event)."""
    at = _next_instant(draw, ticket, gaps)
    before = len(ticket.timeline)
    changed = _CHANGES[op](draw, ticket, at, may_close)
    assert len(changed.timeline) > before, f"operation {op!r} added no event"
    return changed


def _staff(draw: DrawFn) -> Actor:
    return draw(_actors(_STAFF))


def _other_ticket_id(draw: DrawFn, ticket: Ticket, kind: LinkKind) -> str:
    taken = {link.ticket_id for link in ticket.links if link.kind is kind} | {ticket.id}
    return _avoiding(draw(_ids("tkt")), taken)


def _message(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    who = draw(_authors())
    handle_time = None
    if who is ActorKind.CUSTOMER:
        author = Actor.customer(ticket.customer_id)
        visibility = Visibility.PUBLIC  # a customer cannot write internal notes
    else:
        author = draw(_actors_of(who))
        visibility = draw(visibilities())
        if who is ActorKind.AGENT:
            handle_time = draw(_handle_times())
    return ticket.add_message(
        at=at,
        actor=author,
        body=draw(_texts(120)),
        visibility=visibility,
        channel=draw(_maybe(_channel_keys(True, True))),
        handle_time=handle_time,
    )


@_memo
def _handle_times() -> SearchStrategy[timedelta | None]:
    return _maybe(st.integers(0, 7_200).map(_whole_seconds))


@_memo
def _authors() -> SearchStrategy[ActorKind]:
    return st.sampled_from(_AUTHORS)


@_memo
def _next_statuses(status: Status, may_close: bool) -> SearchStrategy[Status]:
    return st.sampled_from(_NEXT_STATUSES[status, may_close])


@_memo
def _other_priorities(priority: Priority) -> SearchStrategy[Priority]:
    return st.sampled_from(_OTHER_PRIORITIES[priority])


def _status(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    by_customer = draw(st.booleans())
    return ticket.change_status(
        draw(_next_statuses(ticket.status, may_close)),
        at=at,
        actor=Actor.customer(ticket.customer_id) if by_customer else _staff(draw),
        reason=draw(_maybe(_texts(40))),
    )


def _priority(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    new = draw(_other_priorities(ticket.priority))
    return ticket.change_priority(new, at=at, actor=_staff(draw))


def _assign(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    group = draw(st.sampled_from((ticket.group_id, None)) | _ids("grp"))
    assignee = draw(st.sampled_from((ticket.assignee_id, None)) | _ids("agt"))
    if (group, assignee) == (ticket.group_id, ticket.assignee_id):
        assignee = None if ticket.assignee_id is not None else draw(_ids("agt"))
    kwargs: dict[str, Any] = {}  # omitted arguments stay as they are
    if group != ticket.group_id or draw(st.booleans()):
        kwargs["group_id"] = group
    if assignee != ticket.assignee_id or draw(st.booleans()):
        kwargs["assignee_id"] = assignee
    return ticket.assign(at=at, actor=_staff(draw), **kwargs)


def _tier(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    new = _avoiding(draw(_tier_keys()), {ticket.tier})
    return ticket.change_tier(new, at=at, actor=_staff(draw), reason=draw(_maybe(_texts(40))))


def _subset(draw: DrawFn, items: Iterable[str]) -> list[str]:
    return [item for item in sorted(items) if draw(st.booleans())]


def _tags(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    remove = _subset(draw, ticket.tags)
    add = [k for k in draw(st.lists(_keys(24), max_size=3)) if k not in remove]
    if not set(add) - ticket.tags and not remove:
        add.append(_avoiding(draw(_keys(24)), ticket.tags))
    return ticket.change_tags(at=at, actor=_staff(draw), add=add, remove=remove)


def _fields(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    current = ticket.custom_fields
    unset = _subset(draw, current)
    values = {k: v for k, v in draw(_json_maps(3)).items() if k not in unset}
    if not unset and all(
        k in current and type(current[k]) is type(v) and current[k] == v for k, v in values.items()
    ):
        values[_avoiding(draw(_keys(24)), current.keys())] = draw(_json_scalars())
    return ticket.set_custom_fields(values, at=at, actor=_staff(draw), unset=unset)


def _link(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    kind = draw(st.sampled_from((LinkKind.RELATED, LinkKind.FOLLOW_UP_OF)))
    return ticket.link(
        _other_ticket_id(draw, ticket, kind),
        at=at,
        actor=draw(_actors((ActorKind.AGENT, ActorKind.SYSTEM))),
        kind=kind,
    )


def _erase(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    erased = PersonalDataErased(
        at=at,
        actor=draw(_actors((ActorKind.SYSTEM, ActorKind.AGENT))),
        reason=draw(_erasure_reasons()),
    )
    return Ticket(timeline=(*redacted(ticket).timeline, erased))


@_memo
def _erasure_reasons() -> SearchStrategy[str]:
    requests = st.integers(1, 99_999).map("erasure request ER-{}".format)
    return requests | st.sampled_from(("retention period ended", "customer account closed"))


def _merge(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    target = _other_ticket_id(draw, ticket, LinkKind.MERGED_INTO)
    return ticket.merge_into(target, at=at, actor=_staff(draw))


_CHANGES: dict[str, Callable[[DrawFn, Ticket, datetime, bool], Ticket]] = {
    "message": _message,
    "status": _status,
    "priority": _priority,
    "assign": _assign,
    "tier": _tier,
    "tags": _tags,
    "fields": _fields,
    "link": _link,
    "erase": _erase,
    "merge": _merge,
}

#: The operations that can produce each event type (other than TicketCreated).
_OPS_FOR: dict[type[TicketEvent], tuple[str, ...]] = {
    MessageAdded: ("message",),
    StatusChanged: ("status", "merge"),
    PriorityChanged: ("priority",),
    Assigned: ("assign",),
    TierChanged: ("tier",),
    TagsChanged: ("tags",),
    CustomFieldsChanged: ("fields",),
    Linked: ("link", "merge"),
    PersonalDataErased: ("erase",),
}


def _event_types() -> tuple[type[TicketEvent], ...]:
    """The event types :func:`ticket_events` can draw: the ones the ticket operations
    produce and every other registered event type (an extension's), in declaration order."""
    return tuple(
        cls
        for cls in EVENT_TYPES.values()
        if cls is TicketCreated or cls in _OPS_FOR or _extension_strategy(cls) is not None
    )


def _extension_strategy(cls: type[TicketEvent]) -> SearchStrategy[TicketEvent] | None:
    """The strategy an extension registered for its own event type ``cls``, if any."""
    factory = registered().get(cls, (None, {}))[0]
    return None if factory is None or factory is ticket_events else strategy_for(cls)


def ticket_events(
    *, types: Iterable[type[TicketEvent]] | None = None, max_history: int = 5
) -> SearchStrategy[TicketEvent]:
    """Timeline events (instances of the given ``types``; default: every event type).

    Each event is taken from the timeline of a generated ticket, so it is
    one a real ticket records: a :class:`~csdomain.TicketCreated`, or the
    event a change made after up to ``max_history`` earlier changes.
    ``TicketEvent`` itself in ``types`` stands for every event type. An event
    type an extension declares is drawn by the strategy it registered with
    :func:`csdomain.testing.strategies.registry.register`.

    Requires Hypothesis.
    """
    _check_size("max_history", max_history)
    known = _event_types()
    if types is None:
        chosen = known
    else:
        given = tuple(types)
        if TicketEvent in given:
            given = known
        if not given or not all(t in known for t in given):
            names = ", ".join(t.__name__ for t in known)
            raise InvalidArgument(
                f"types={types!r} must be a non-empty collection of event types ({names})"
            )
        chosen = tuple(dict.fromkeys(given))
    return _ticket_events(chosen, max_history)


@_memo
def _ticket_events(
    types: tuple[type[TicketEvent], ...], max_history: int
) -> SearchStrategy[TicketEvent]:
    own = tuple(t for t in types if t is TicketCreated or t in _OPS_FOR)
    parts: list[SearchStrategy[TicketEvent]] = []
    if own:
        history = tickets(max_events=max_history, allow_closed=False)
        parts.append(_events_after(st.sampled_from(own), history, _gaps(timedelta(days=3))))
    for cls in types:
        extension = None if cls in own else _extension_strategy(cls)
        if extension is not None:
            parts.append(extension)
    return st.one_of(parts)


register(TicketEvent, ticket_events)
_own_event_types: tuple[type[TicketEvent], ...] = (TicketCreated, *_OPS_FOR)
for _event_type in _own_event_types:
    register(_event_type, ticket_events, types=(_event_type,))


@_memo
def _gaps(max_gap: timedelta) -> SearchStrategy[timedelta]:
    # One integer choice (microseconds) instead of st.timedeltas' three.
    return st.integers(0, max_gap // _MICROSECOND).map(_microseconds)


_MICROSECOND = timedelta(microseconds=1)


def _microseconds(count: int) -> timedelta:
    return timedelta(microseconds=count)


def _whole_seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


@st.composite
def _events_after(
    draw: DrawFn,
    types: SearchStrategy[type[TicketEvent]],
    history: SearchStrategy[Ticket],
    gaps: SearchStrategy[timedelta],
) -> TicketEvent:
    cls = draw(types)
    ticket = draw(history)
    if cls is TicketCreated:
        return ticket.timeline[0]
    op = draw(st.sampled_from(_OPS_FOR[cls]))
    changed = _change(draw, ticket, op, gaps, may_close=True)
    added = changed.timeline[len(ticket.timeline) :]
    return next(e for e in added if type(e) is cls)
