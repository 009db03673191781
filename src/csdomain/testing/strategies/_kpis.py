"""Strategies: KPIs (ticket summaries, KPI definitions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import attrs
import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.kpis.definitions import STANDARD_KPIS, KpiDefinition, Measure
from csdomain.kpis.summaries import SlaOutcome, TicketSummary
from csdomain.priorities import Priority
from csdomain.sla import SlaMetric
from csdomain.testing.strategies._common import _check_aware, check_keys
from csdomain.testing.strategies.registry import register
from csdomain.tickets import Status, TicketKind

__all__ = ["kpi_definitions", "ticket_summaries"]

_UTC = timezone.utc
_CUSTOMERS: tuple[str, ...] = ("C-1", "C-2", "C-3", "C-4")
_CHANNELS: tuple[str, ...] = ("email", "phone", "chat", "wechat", "web")
_DAY_US = 86_400_000_000
_UNRESOLVED = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


def ticket_summaries(
    *,
    customer_ids: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    min_opened: datetime = datetime(2024, 1, 1, tzinfo=_UTC),
    max_opened: datetime = datetime(2027, 12, 31, tzinfo=_UTC),
    business_time: bool | None = None,
) -> SearchStrategy[TicketSummary]:
    """**Requires Hypothesis.** Consistent :class:`~csdomain.kpis.TicketSummary` values:
    answered or not, solved, reopened, solved again, closed (or closed by a merge
    without a solve), durations matching the instants, business time at most calendar
    time.

    ``customer_ids`` (default a pool of four, so customers have several tickets, which
    FCR's customer scope looks at) and ``channels`` are the keys drawn from;
    ``opened_at`` lies in ``[min_opened, max_opened]``; ``business_time`` True always
    fills the business durations, False never, None either way.
    """
    customers = check_keys("customer_ids", customer_ids) or _CUSTOMERS
    channel_keys = check_keys("channels", channels) or _CHANNELS
    lo = _check_aware("min_opened", min_opened).astimezone(_UTC)
    hi = _check_aware("max_opened", max_opened).astimezone(_UTC)
    if lo > hi:
        raise InvalidArgument(
            f"min_opened={min_opened!r} must not be after max_opened={max_opened!r}"
        )
    if business_time is not None and not isinstance(business_time, bool):
        raise InvalidArgument(f"business_time={business_time!r} must be True, False or None")
    return _summaries(customers, channel_keys, lo, hi, business_time)


@st.composite
def _summaries(
    draw: DrawFn,
    customers: tuple[str, ...],
    channels: tuple[str, ...],
    lo: datetime,
    hi: datetime,
    business_time: bool | None,
) -> TicketSummary:
    span_us = (hi - lo) // timedelta(microseconds=1)
    opened = lo + timedelta(microseconds=draw(st.integers(0, span_us)))
    offsets = st.integers(0, 40 * _DAY_US)
    with_business = draw(st.booleans()) if business_time is None else business_time

    def business(calendar_us: int | None) -> int | None:
        if calendar_us is None or not with_business:
            return None
        return draw(st.integers(0, calendar_us))

    def at(us: int | None) -> datetime | None:
        return None if us is None else opened + timedelta(microseconds=us)

    response = draw(st.none() | offsets)
    first_solve = draw(st.none() | offsets)
    solves: list[int] = []
    reopens: list[int] = []
    last_solve = closed = None
    if first_solve is None:
        merged = draw(st.booleans())
        status = Status.CLOSED if merged else draw(st.sampled_from(_UNRESOLVED))
        if merged:
            closed = draw(offsets)
    else:
        # Solves and reopens alternate, a solve first; the last move is either.
        solves.append(first_solve)
        for _ in range(draw(st.integers(0, 3))):
            reopens.append(solves[-1] + draw(offsets))
            if draw(st.booleans()):
                break  # reopened and not solved again
            solves.append(reopens[-1] + draw(offsets))
        last_solve = solves[-1] if len(solves) > len(reopens) else None
        if last_solve is None:
            status = draw(st.sampled_from(_UNRESOLVED[1:]))
        elif draw(st.booleans()):
            status = Status.CLOSED
            closed = last_solve + draw(offsets)
        else:
            status = Status.SOLVED
    metrics = draw(st.lists(st.sampled_from(tuple(SlaMetric)), unique=True, max_size=4))
    sla: tuple[SlaOutcome, ...] = tuple(
        (metric, draw(st.sampled_from((True, False, None)))) for metric in metrics
    )
    kind = draw(st.sampled_from(tuple(TicketKind)))
    return TicketSummary(
        ticket_id=f"T-{draw(st.integers(1, 10**9))}",
        customer_id=draw(st.sampled_from(customers)),
        channel=draw(st.sampled_from(channels)),
        kind=kind,
        priority=draw(st.sampled_from(tuple(Priority))),
        status=status,
        opened_at=opened,
        group_id=draw(st.none() | st.sampled_from(("G-1", "G-2"))),
        assignee_id=draw(st.none() | st.sampled_from(("A-1", "A-2", "A-3"))),
        first_response_at=at(response),
        first_response_us=response,
        first_response_business_us=business(response),
        solved_at=tuple(opened + timedelta(microseconds=us) for us in solves),
        first_resolution_us=first_solve,
        first_resolution_business_us=business(first_solve),
        resolved_at=at(last_solve),
        full_resolution_us=last_solve,
        full_resolution_business_us=business(last_solve),
        reopened_at=tuple(opened + timedelta(microseconds=us) for us in reopens),
        closed_at=at(closed),
        handle_us=draw(st.none() | st.integers(0, 4 * 3_600_000_000)),
        sla=sla,
        complaint=kind is TicketKind.COMPLAINT,
        customer_contacts=draw(st.integers(0, 5)),
        agent_replies=draw(st.integers(0 if response is None else 1, 5)),
    )


register(TicketSummary, ticket_summaries)


def kpi_definitions() -> SearchStrategy[KpiDefinition]:
    """**Requires Hypothesis.** Valid :class:`~csdomain.kpis.KpiDefinition` values: the
    standard definitions, and first contact resolution with other windows (1 to 30
    days) and either scope."""
    return _definitions


def _fcr_variant(definition: KpiDefinition, days: int, scope: str) -> KpiDefinition:
    return attrs.evolve(definition, window=timedelta(days=days), scope=scope)


_FCR = tuple(d for d in STANDARD_KPIS if d.measure is Measure.FIRST_CONTACT_RESOLUTION)
_definitions: SearchStrategy[KpiDefinition] = st.sampled_from(STANDARD_KPIS) | st.builds(
    _fcr_variant,
    st.sampled_from(_FCR),
    st.integers(min_value=1, max_value=30),
    st.sampled_from(("customer", "ticket")),
)
register(KpiDefinition, kpi_definitions)
