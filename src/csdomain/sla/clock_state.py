"""SLA clock state: where every clock of a ticket stands, kept between evaluations.

:func:`~csdomain.sla.evaluate` walks a ticket's whole timeline on every call,
so its cost grows with the timeline. A sweep that evaluates the same ticket
again and again keeps an :class:`SlaClockState` instead: the walk frozen after
the events seen so far (for each metric, its latest cycle and the intervals it
counted). :func:`advance_clock` walks only the events that came since, and
:func:`evaluate_clock` measures the clocks from the state alone, at a cost that
depends on the counted intervals, never on the length of the timeline::

    state = clock_state(ticket, setup)               # one full walk
    ticket = ticket.add_message(...)
    state = advance_clock(state, ticket, setup)      # walks the new event only
    status = evaluate_clock(state, setup, now)       # == evaluate(ticket, setup, now)

The laws (tested with Hypothesis): for any ticket and any split of its
timeline, advancing a state built on the first events by the rest equals one
full walk; ``evaluate_clock(clock_state(t, s), s, now) == evaluate(t, s, now)``
for every ``now`` at or after the state's :attr:`~SlaClockState.last_at`; and a
state survives :func:`csdomain.serialization.to_json` and ``from_json``
unchanged (documents ``"sla_clock_state"`` and ``"sla_cycle_state"``), so it
can be stored beside the ticket.

A state is bound to its ticket (by id) and to its policy (by name). It assumes
the ticket only grew by appended events since (a timeline is append-only; an
erasure rewrites text, not instants). After a policy's clock rules change
under the same name, rebuild states with :func:`clock_state`.

The walk is the engine's (:mod:`csdomain.sla._engine`): evaluation, explanation
and clock states share one implementation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.time import INSTANT_END, UTC, optional_utc, to_utc
from csdomain._kernel.validation import (
    Check,
    Checked,
    boolean,
    checked,
    describe,
    instant,
    integer,
    key,
    member_of,
    optional,
    text,
)
from csdomain.errors import NotFoundError, ValidationError
from csdomain.priorities import Priority
from csdomain.sla import _engine
from csdomain.sla.policy import SlaMetric, SlaPolicy, SlaSetup
from csdomain.sla.status import SlaStatus
from csdomain.tickets import Status, Ticket

if TYPE_CHECKING:
    from csdomain.customers import Customer

__all__ = ["CycleState", "SlaClockState", "advance_clock", "clock_state", "evaluate_clock"]

# -- segments -------------------------------------------------------------------------


def _segments_convert(value: Any) -> tuple[tuple[datetime, datetime], ...]:
    """attrs converter: a sequence of pairs (lists too) to a tuple of pairs in UTC;
    anything else is left for the check to reject."""
    if type(value) is tuple and all(
        type(p) is tuple and len(p) == 2 and _is_utc(p[0]) and _is_utc(p[1]) for p in value
    ):
        return value  # the walk's and the loader's case: nothing to convert
    if not isinstance(value, (list, tuple)):
        return value  # type: ignore[no-any-return]  # left for the check to reject
    pairs: list[Any] = []
    for pair in value:
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            pairs.append((to_utc(pair[0]), to_utc(pair[1])))
        else:
            pairs.append(pair)
    return tuple(pairs)


def _is_utc(value: object) -> bool:
    return type(value) is datetime and value.tzinfo is UTC


def _segments_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not tuple:
        yield "", f"expected a tuple of (start, end) instant pairs, got {describe(value)}"
        return
    previous_end: datetime | None = None
    for i, pair in enumerate(value):
        if type(pair) is not tuple or len(pair) != 2:
            yield f"[{i}]", f"expected a (start, end) pair of instants, got {describe(pair)}"
            return
        bad = False
        for j, end in enumerate(pair):
            if not instant.ok(end):
                for _, message in instant.explain(end):
                    yield f"[{i}][{j}]", message
                bad = True
        if bad:
            return
        start, end = pair
        if not start < end:
            yield (
                f"[{i}]",
                f"a counted interval ends after it starts; got {start.isoformat()} to "
                f"{end.isoformat()}",
            )
            return
        if previous_end is not None and start < previous_end:
            yield (
                f"[{i}]",
                f"counted intervals are in time order without overlap; {start.isoformat()} "
                f"starts before the previous one ends ({previous_end.isoformat()})",
            )
            return
        previous_end = end


_segments_check: Final = Check.of(_segments_explain)


# -- the states -----------------------------------------------------------------------


@attrs.frozen
class CycleState(Checked):
    """One metric's latest cycle, frozen: what :func:`evaluate_clock` measures.

    ``number`` counts the metric's cycles (1 for the first); ``start`` is when
    this one began (or the priority change it is counted from); ``priority``
    the priority it was stopped at (the ticket's applies while it is open).
    ``segments`` are the intervals counted so far, in time order;
    ``counting_since`` is the start of the interval being counted now (None
    while paused or stopped). ``open`` is false once fulfilled or cancelled;
    ``suspended`` means stopped by solving (a reopen may resume it);
    ``cancelled`` means closed unfulfilled; ``achieved_at`` is when it was
    fulfilled.
    """

    metric: SlaMetric = attrs.field(metadata=checked(member_of(SlaMetric)))
    number: int = attrs.field(metadata=checked(integer(minimum=1)))
    start: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    priority: Priority = attrs.field(metadata=checked(member_of(Priority)))
    segments: tuple[tuple[datetime, datetime], ...] = attrs.field(
        converter=_segments_convert, metadata=checked(_segments_check)
    )
    counting_since: datetime | None = attrs.field(
        converter=optional_utc, metadata=checked(optional(instant))
    )
    open: bool = attrs.field(metadata=checked(boolean))
    suspended: bool = attrs.field(metadata=checked(boolean))
    cancelled: bool = attrs.field(metadata=checked(boolean))
    achieved_at: datetime | None = attrs.field(
        converter=optional_utc, metadata=checked(optional(instant))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        start, segments, since = self.start, self.segments, self.counting_since
        if segments and segments[0][0] < start:
            yield (
                "segments[0]",
                f"a cycle counts from its start ({start.isoformat()}); the first interval "
                f"starts at {segments[0][0].isoformat()}",
            )
        if since is not None:
            if not self.open or self.suspended:
                yield (
                    "counting_since",
                    "only an open cycle that is not suspended counts; got counting_since "
                    f"{since.isoformat()} with open={self.open}, suspended={self.suspended}",
                )
            floor = segments[-1][1] if segments else start
            if since < floor:
                yield (
                    "counting_since",
                    f"{since.isoformat()} is before the end of what was counted or the "
                    f"cycle's start ({floor.isoformat()})",
                )
        if self.achieved_at is not None:
            if self.open:
                yield "achieved_at", "a fulfilled cycle is not open; got open=True"
            if self.achieved_at < start:
                yield (
                    "achieved_at",
                    f"{self.achieved_at.isoformat()} is before the cycle's start "
                    f"({start.isoformat()})",
                )
        if self.cancelled and self.open:
            yield "cancelled", "a cancelled cycle is not open; got open=True"

    @classmethod
    def _trusted(cls, *values: Any) -> CycleState:
        """A cycle state built from the fields' values in order, without the checks: for
        values a walk made, valid by construction (the laws check that the checks accept
        every one). Keeps advancing a ticket's clocks independent of its history."""
        return _build(cls, _CYCLE_FIELDS, values)

    def _latest(self) -> datetime:
        """The latest instant the cycle records."""
        latest = self.start
        if self.segments:
            latest = max(latest, self.segments[-1][1])
        for at in (self.counting_since, self.achieved_at):
            if at is not None and at > latest:
                latest = at
        return latest


def _cycles_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not tuple:
        yield "", f"expected a tuple of CycleState, got {describe(value)}"
        return
    seen: dict[SlaMetric, int] = {}
    for i, item in enumerate(value):
        if type(item) is not CycleState:
            yield f"[{i}]", f"expected a CycleState, got {describe(item)}"
        elif item.metric in seen:
            yield (
                f"[{i}].metric",
                f"{item.metric.value!r} already has its latest cycle at [{seen[item.metric]}]; "
                "a state holds one cycle per metric",
            )
        else:
            seen[item.metric] = i


def _cycle_tuple(value: Any) -> tuple[CycleState, ...]:
    if isinstance(value, list):
        return tuple(value)
    return value  # type: ignore[no-any-return]  # left for the check to reject


@attrs.frozen
class SlaClockState(Checked):
    """Where every SLA clock of a ticket stands after its first ``events`` events.

    Built by :func:`clock_state`, moved on by :func:`advance_clock`, measured
    by :func:`evaluate_clock`. ``policy`` names the policy chosen (None when
    none matched: the state then holds no cycles). ``last_at`` is the instant
    of the last change walked (the ticket's ``updated_at``, which an erasure
    record does not move): from then on the state measures exactly what
    :func:`~csdomain.sla.evaluate` does. ``status`` and ``priority`` are the
    ticket's as the walk saw them (for no policy, the ticket's);
    ``first_response_given`` tells whether a reply has answered the ticket's
    first message (after which customer messages start next-response cycles).
    ``cycles`` holds each metric's latest cycle, in the policy's metric order,
    for the metrics that have started one.
    """

    ticket_id: str = attrs.field(metadata=checked(key("ticket id")))
    policy: str | None = attrs.field(metadata=checked(optional(text(max_length=200))))
    events: int = attrs.field(metadata=checked(integer(minimum=1)))
    last_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    status: Status = attrs.field(metadata=checked(member_of(Status)))
    priority: Priority = attrs.field(metadata=checked(member_of(Priority)))
    first_response_given: bool = attrs.field(metadata=checked(boolean))
    cycles: tuple[CycleState, ...] = attrs.field(
        converter=_cycle_tuple, metadata=checked(Check.of(_cycles_explain))
    )

    @classmethod
    def _trusted(cls, *values: Any) -> SlaClockState:
        """A clock state built from the fields' values in order, without the checks: for
        values a walk made, as :meth:`CycleState._trusted`."""
        return _build(cls, _STATE_FIELDS, values)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.policy is None and self.cycles:
            yield "cycles", "no policy was chosen, so no clock runs; expected no cycles"
        for i, cycle in enumerate(self.cycles):
            latest = cycle._latest()
            if latest > self.last_at:
                yield (
                    f"cycles[{i}]",
                    f"the {cycle.metric.value} cycle records {latest.isoformat()}, after the "
                    f"last event walked ({self.last_at.isoformat()})",
                )


declare_document("sla_cycle_state", CycleState)
declare_document("sla_clock_state", SlaClockState)

_CYCLE_FIELDS: Final = tuple(a.name for a in attrs.fields(CycleState))
_STATE_FIELDS: Final = tuple(a.name for a in attrs.fields(SlaClockState))
_T = TypeVar("_T")


def _build(cls: type[_T], names: tuple[str, ...], values: tuple[Any, ...]) -> _T:
    built = object.__new__(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(built, name, value)
    return built


# -- building, advancing, measuring ---------------------------------------------------


def clock_state(
    ticket: Ticket, setup: SlaSetup, *, customer: Customer | None = None
) -> SlaClockState:
    """The clocks of ``ticket`` after its whole timeline: one full walk.

    The policy is chosen as :func:`~csdomain.sla.evaluate` chooses it for any
    ``now`` at or after ``ticket.updated_at``: the first policy of ``setup``
    whose condition matches the ticket as it stands (and ``customer``).

    Raises :class:`~csdomain.errors.ValidationError` when ``ticket`` is not a
    :class:`~csdomain.Ticket` or ``setup`` not an :class:`~csdomain.sla.SlaSetup`.
    """
    _check_arguments(ticket, setup, "clock_state")
    return _full_walk(ticket, _engine.choose(setup, ticket, customer, "clock_state"))


def advance_clock(
    state: SlaClockState,
    ticket: Ticket,
    setup: SlaSetup,
    *,
    customer: Customer | None = None,
) -> SlaClockState:
    """``state`` moved on by the events ``ticket`` gained since: equal to
    ``clock_state(ticket, setup, customer=customer)``.

    Walks only ``ticket.timeline[state.events:]`` when the policy chosen for
    the ticket as it now stands is still ``state.policy``, ``ticket.id`` is
    ``state.ticket_id`` and the timeline is at least ``state.events`` long, and
    every metric with a cycle in ``state`` is still measured by that policy;
    otherwise (another policy now applies, another ticket, a shorter
    timeline) it walks the whole timeline, as :func:`clock_state` does. With
    no new event and the same policy, ``state`` itself is returned. Never
    changes ``state``.

    Raises :class:`~csdomain.errors.ValidationError` for arguments of the wrong type.
    """
    subject = "advance_clock"
    if type(state) is not SlaClockState:
        raise ValidationError.single(
            subject, "state", f"expected an SlaClockState, got {describe(state)}"
        )
    _check_arguments(ticket, setup, subject)
    policy = _engine.choose(setup, ticket, customer, subject)
    timeline = ticket.timeline
    done = state.events
    if (
        (None if policy is None else policy.name) != state.policy
        or ticket.id != state.ticket_id
        or len(timeline) < done
        or (policy is not None and not _measures_all(policy, state))
    ):
        return _full_walk(ticket, policy)
    if len(timeline) == done:
        return state
    if policy is None:
        return _unmatched(ticket)
    walk = _engine._Walk.resumed(policy, state)
    walk.walk(timeline[done:], INSTANT_END)
    return walk.to_state(ticket.id, len(timeline), ticket.updated_at)


def evaluate_clock(state: SlaClockState, setup: SlaSetup, now: datetime) -> SlaStatus:
    """Every metric at ``now`` from ``state`` alone, without the timeline.

    Equal to ``evaluate(ticket, setup, now)`` for the ticket ``state`` was
    built from, for every ``now`` at or after ``state.last_at``; the cost
    depends on the intervals the cycles counted, not on the timeline's length.

    Raises :class:`~csdomain.errors.ValidationError` for a naive ``now``, a
    ``now`` before ``state.last_at`` (the state cannot look back: call
    ``evaluate(ticket, setup, now)`` for past instants) or arguments of the
    wrong type, and :class:`~csdomain.errors.NotFoundError` when ``setup`` has
    no policy named ``state.policy``.
    """
    subject = "evaluate_clock"
    if type(state) is not SlaClockState:
        raise ValidationError.single(
            subject, "state", f"expected an SlaClockState, got {describe(state)}"
        )
    if not isinstance(setup, SlaSetup):
        raise ValidationError.single(
            subject, "setup", f"expected an SlaSetup, got {describe(setup)}"
        )
    now = _engine.instant(now, subject)
    if now < state.last_at:
        raise ValidationError.single(
            subject,
            "now",
            f"{now.isoformat()} is before {state.last_at.isoformat()}, the last change of "
            f"ticket {state.ticket_id!r} its clock state has walked; a clock state only "
            "measures forward from there: use evaluate(ticket, setup, now) for past instants",
        )
    name = state.policy
    if name is None:
        return SlaStatus(state.ticket_id, now, None, ())
    policy = _policy_named(setup, name)
    cycles = {c.metric: c for c in state.cycles}
    statuses = _engine.measure(policy, cycles, state.priority, setup._by_name, now)
    return SlaStatus(state.ticket_id, now, name, statuses)


# -- helpers --------------------------------------------------------------------------


def _check_arguments(ticket: object, setup: object, subject: str) -> None:
    if not isinstance(ticket, Ticket):
        raise ValidationError.single(
            subject, "ticket", f"expected a Ticket, got {describe(ticket)}"
        )
    if not isinstance(setup, SlaSetup):
        raise ValidationError.single(
            subject,
            "setup",
            f"expected an SlaSetup (the policies with their calendars), got {describe(setup)}",
        )


def _full_walk(ticket: Ticket, policy: SlaPolicy | None) -> SlaClockState:
    if policy is None:
        return _unmatched(ticket)
    timeline = ticket.timeline
    walk = _engine._Walk(policy, None)
    walk.walk(timeline, INSTANT_END)  # every accepted instant is before INSTANT_END
    return walk.to_state(ticket.id, len(timeline), ticket.updated_at)


def _unmatched(ticket: Ticket) -> SlaClockState:
    """The state of a ticket no policy covers: no clocks."""
    return SlaClockState._trusted(
        ticket.id,
        None,
        len(ticket.timeline),
        ticket.updated_at,
        ticket.status,
        ticket.priority,
        False,
        (),
    )


def _measures_all(policy: SlaPolicy, state: SlaClockState) -> bool:
    """True when ``policy`` measures every metric ``state`` has a cycle of."""
    measured = _engine._planned(policy).rules
    return all(c.metric in measured for c in state.cycles)


def _policy_named(setup: SlaSetup, name: str) -> SlaPolicy:
    for policy in setup.policies:
        if policy.name == name:
            return policy
    known = ", ".join(repr(p.name) for p in setup.policies) or "none"
    raise NotFoundError(
        "SLA policy",
        name,
        f"the setup's policies: {known}; a clock state is measured under the policy it "
        "was built with: rebuild it with clock_state(ticket, setup)",
    )
