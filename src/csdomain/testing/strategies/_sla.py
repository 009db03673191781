"""Strategies: sla."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import attrs
import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain._kernel.validation import CHECK, explain
from csdomain.calendars import BusinessCalendar
from csdomain.conditions import (
    ALWAYS,
    Condition,
)
from csdomain.priorities import Priority
from csdomain.sla import (
    CycleState,
    MetricPolicy,
    OnPriorityChange,
    OnReopen,
    SlaClockState,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    SlaState,
    Target,
    clock_state,
)
from csdomain.sla.policy import TARGET_MAX
from csdomain.testing.strategies._calendars import business_calendars
from csdomain.testing.strategies._common import (
    E,
    _check_size,
    _members,
    _memo,
    _texts,
)
from csdomain.testing.strategies._conditions import (
    _CONDITION_TYPES,
    _conditions,
)
from csdomain.testing.strategies._priorities import (
    priorities,
)
from csdomain.testing.strategies._tickets import tickets
from csdomain.testing.strategies.registry import register
from csdomain.tickets import (
    Status,
    Ticket,
)


def sla_metrics() -> SearchStrategy[SlaMetric]:
    """Members of :class:`~csdomain.SlaMetric`. Requires Hypothesis."""
    return st.sampled_from(SlaMetric)


def reopen_rules() -> SearchStrategy[OnReopen]:
    """Members of :class:`~csdomain.OnReopen`. Requires Hypothesis."""
    return st.sampled_from(OnReopen)


def priority_change_rules() -> SearchStrategy[OnPriorityChange]:
    """Members of :class:`~csdomain.OnPriorityChange`. Requires Hypothesis."""
    return st.sampled_from(OnPriorityChange)


def sla_states() -> SearchStrategy[SlaState]:
    """Members of :class:`~csdomain.SlaState`. Requires Hypothesis."""
    return st.sampled_from(SlaState)


# -- SLA policies ------------------------------------------------------------------------

#: Warning fractions policies commonly use; arbitrary fractions are drawn too.
_WARNING_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9)
_TYPICAL_TARGETS: tuple[timedelta, ...] = (
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=5),
)
#: The statuses a metric's clock may pause in (none counts while solved or closed).
_PAUSABLE_STATUSES: tuple[Status, ...] = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING,
    Status.ON_HOLD,
)
#: The metrics fulfilled by replies, whose policies may count bot replies.
_RESPONSE_METRICS: frozenset[SlaMetric] = frozenset(
    {SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE, SlaMetric.PERIODIC_UPDATE}
)
_SLA_POLICY_NAMES: tuple[str, ...] = (
    "Standard",
    "VIP 24/7",
    "Enterprise",
    "标准服务",
    "金牌客户 SLA",
    "企業客戶",
)
_ONE_SECOND = timedelta(seconds=1)


def _check_calendar_names(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgument(
            f"calendar_names={value!r} must be a sequence of calendar names, "
            "such as ('cn-support',)"
        )
    names = tuple(value)
    # Each name must pass the check of the field it ends up in (Target.calendar).
    check = attrs.fields(Target).calendar.metadata[CHECK]
    for name in names:
        if name is None or not check.ok(name):
            found = "; ".join(message for _, message in explain(check, name))
            raise InvalidArgument(
                f"calendar_names={value!r} holds {name!r}, which Target.calendar refuses: "
                f"{found or 'a calendar name is text'}"
            )
    return tuple(dict.fromkeys(names))


def _check_max_duration(value: object) -> int:
    """``max_duration`` in whole seconds."""
    if not isinstance(value, timedelta) or not _ONE_SECOND <= value <= TARGET_MAX:
        raise InvalidArgument(
            f"max_duration={value!r} must be a timedelta of one second to {TARGET_MAX!r} "
            "(TARGET_MAX, the longest target)"
        )
    return value // _ONE_SECOND


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def _distinct_members(enum: type[E], name: str, given: Iterable[E] | None) -> tuple[E, ...]:
    return tuple(dict.fromkeys(_members(enum, name, given)))


def sla_targets(
    *, calendar_names: Sequence[str] = (), max_duration: timedelta = timedelta(days=30)
) -> SearchStrategy[Target]:
    """:class:`~csdomain.Target` values.

    Durations are whole seconds from one second to ``max_duration`` (one
    second to :data:`~csdomain.sla.policy.TARGET_MAX`, 10 years; default 30
    days): typical targets (15 minutes, 4 hours, 1 day, ...), whole minutes
    and odd seconds. The calendar is ``None`` (calendar
    hours) or one of ``calendar_names`` (default: none, so every target counts
    calendar hours and evaluates without calendars). Warnings are an ascending
    tuple of distinct fractions strictly between 0 and 1, possibly empty: common
    ones (0.25, 0.5, 0.75, 0.9) and arbitrary floats.

    Requires Hypothesis.
    """
    names = _check_calendar_names(calendar_names)
    return _sla_targets(names, _check_max_duration(max_duration))


register(Target, sla_targets)


@_memo
def _sla_durations(max_seconds: int) -> SearchStrategy[timedelta]:
    parts: list[SearchStrategy[timedelta]] = []
    typical = tuple(d for d in _TYPICAL_TARGETS if d <= timedelta(seconds=max_seconds))
    if typical:
        parts.append(st.sampled_from(typical))
    if max_seconds >= 60:
        parts.append(st.integers(1, max_seconds // 60).map(_minutes))
    parts.append(st.integers(1, max_seconds).map(_seconds))
    return st.one_of(parts)


def _minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def _seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


@_memo
def _warning_fractions() -> SearchStrategy[tuple[float, ...]]:
    fraction = st.one_of(
        st.sampled_from(_WARNING_FRACTIONS),
        st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True),
    )
    return st.lists(fraction, max_size=4, unique=True).map(_ascending)


def _ascending(fractions: list[float]) -> tuple[float, ...]:
    return tuple(sorted(fractions))


@_memo
def _sla_targets(calendar_names: tuple[str, ...], max_seconds: int) -> SearchStrategy[Target]:
    calendars: SearchStrategy[str | None] = st.none()
    if calendar_names:
        calendars = st.one_of(st.none(), st.sampled_from(calendar_names))
    return st.builds(
        Target,
        duration=_sla_durations(max_seconds),
        calendar=calendars,
        warnings=_warning_fractions(),
    )


def metric_policies(
    *,
    metrics: Iterable[SlaMetric] | None = None,
    calendar_names: Sequence[str] = (),
    max_duration: timedelta = timedelta(days=30),
) -> SearchStrategy[MetricPolicy]:
    """:class:`~csdomain.MetricPolicy` values for one of ``metrics`` (default: every
    :class:`~csdomain.SlaMetric`).

    Targets (drawn by :func:`sla_targets` with ``calendar_names`` and
    ``max_duration``) cover a non-empty subset of the priorities. The pause set
    is the metric's default or any subset of new, open, pending and on hold;
    response metrics may count bot replies (resolution never does); the reopen
    and priority-change rules are any.

    Requires Hypothesis.
    """
    chosen = _distinct_members(SlaMetric, "metrics", metrics)
    targets = _sla_targets(_check_calendar_names(calendar_names), _check_max_duration(max_duration))
    return _metric_policies(chosen, targets)


register(MetricPolicy, metric_policies)


@_memo
def _metric_policies(
    metrics: tuple[SlaMetric, ...], targets: SearchStrategy[Target]
) -> SearchStrategy[MetricPolicy]:
    return _metric_policies_of(st.sampled_from(metrics), targets)


@st.composite
def _metric_policies_of(
    draw: DrawFn, metrics: SearchStrategy[SlaMetric], targets: SearchStrategy[Target]
) -> MetricPolicy:
    return _metric_policy(draw, draw(metrics), targets)


def _metric_policy(
    draw: DrawFn, metric: SlaMetric, targets: SearchStrategy[Target]
) -> MetricPolicy:
    levels = draw(st.lists(priorities(), min_size=1, max_size=len(Priority), unique=True))
    rules: dict[str, Any] = {}  # omitted rules take the model's defaults
    if draw(st.booleans()):
        rules["pause_statuses"] = draw(st.frozensets(st.sampled_from(_PAUSABLE_STATUSES)))
    if metric in _RESPONSE_METRICS:
        rules["count_bot_replies"] = draw(st.booleans())
    return MetricPolicy(
        metric,
        {level: draw(targets) for level in levels},
        on_reopen=draw(reopen_rules()),
        on_priority_change=draw(priority_change_rules()),
        **rules,
    )


def sla_policies(
    *,
    metrics: Iterable[SlaMetric] | None = None,
    calendar_names: Sequence[str] = (),
    max_duration: timedelta = timedelta(days=30),
    max_metrics: int = 4,
    conditions: bool = True,
) -> SearchStrategy[SlaPolicy]:
    """:class:`~csdomain.SlaPolicy` values measuring 1 to ``max_metrics`` (at most 4)
    distinct metrics among ``metrics`` (default: every :class:`~csdomain.SlaMetric`).

    Each metric's rules are drawn as :func:`metric_policies` draws them, with
    ``calendar_names`` and ``max_duration``. The condition is
    :data:`~csdomain.conditions.ALWAYS` or, unless ``conditions`` is False, one
    drawn by :func:`conditions`.

    Requires Hypothesis.
    """
    chosen = _distinct_members(SlaMetric, "metrics", metrics)
    targets = _sla_targets(_check_calendar_names(calendar_names), _check_max_duration(max_duration))
    _check_size("max_metrics", max_metrics, 1, len(SlaMetric))
    with_conditions = _check_flag("conditions", conditions)
    return _sla_policies(chosen, targets, min(max_metrics, len(chosen)), with_conditions)


register(SlaPolicy, sla_policies)


@_memo
def _sla_policy_names() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_SLA_POLICY_NAMES), _texts(40))


@_memo
def _sla_policies(
    metrics: tuple[SlaMetric, ...],
    targets: SearchStrategy[Target],
    max_metrics: int,
    with_conditions: bool,
) -> SearchStrategy[SlaPolicy]:
    condition: SearchStrategy[Condition] = st.just(ALWAYS)
    if with_conditions:
        condition = st.one_of(condition, _conditions(2, _CONDITION_TYPES))
    chosen = st.lists(st.sampled_from(metrics), min_size=1, max_size=max_metrics, unique=True)
    return _sla_policies_of(chosen, targets, _sla_policy_names(), condition)


@st.composite
def _sla_policies_of(
    draw: DrawFn,
    metrics: SearchStrategy[list[SlaMetric]],
    targets: SearchStrategy[Target],
    names: SearchStrategy[str],
    condition: SearchStrategy[Condition],
) -> SlaPolicy:
    return SlaPolicy(
        name=draw(names),
        metrics=tuple(_metric_policy(draw, metric, targets) for metric in draw(metrics)),
        condition=draw(condition),
    )


def sla_setups(*, max_policies: int = 3, max_calendars: int = 2) -> SearchStrategy[SlaSetup]:
    """:class:`~csdomain.sla.SlaSetup` values: up to ``max_calendars`` business calendars
    with distinct names and 1 to ``max_policies`` policies with distinct names whose
    business-hours targets name only those calendars.

    Requires Hypothesis.
    """
    _check_size("max_policies", max_policies, 1)
    _check_size("max_calendars", max_calendars)
    return _sla_setups(max_policies, max_calendars)


register(SlaSetup, sla_setups)


@st.composite
def _sla_setups(draw: DrawFn, max_policies: int, max_calendars: int) -> SlaSetup:
    calendars = draw(
        st.lists(business_calendars(), max_size=max_calendars, unique_by=_calendar_name)
    )
    names = tuple(c.name for c in calendars)
    policies = draw(
        st.lists(
            sla_policies(calendar_names=names),
            min_size=1,
            max_size=max_policies,
            unique_by=_policy_name,
        )
    )
    return SlaSetup(policies, calendars)


def _calendar_name(calendar: BusinessCalendar) -> str:
    return calendar.name


def _policy_name(policy: SlaPolicy) -> str:
    return policy.name


# -- SLA clock states ----------------------------------------------------------------


def sla_clock_states(
    *, max_events: int = 30, max_policies: int = 3
) -> SearchStrategy[SlaClockState]:
    """:class:`~csdomain.sla.SlaClockState` values, as :func:`~csdomain.sla.clock_state`
    builds them: a ticket drawn by :func:`tickets` (with ``max_events``) walked under a
    setup drawn by :func:`sla_setups` (with ``max_policies``). Some match no policy
    (a state without cycles); the rest hold the cycles the walk left, counted
    intervals included.

    Requires Hypothesis.
    """
    _check_size("max_events", max_events)
    _check_size("max_policies", max_policies, 1)
    return _sla_clock_states(max_events, max_policies)


register(SlaClockState, sla_clock_states)


@_memo
def _sla_clock_states(max_events: int, max_policies: int) -> SearchStrategy[SlaClockState]:
    return st.builds(
        _walked,
        tickets(max_events=max_events, max_gap=timedelta(days=2)),
        _sla_setups(max_policies, 2),
    )


def _walked(ticket: Ticket, setup: SlaSetup) -> SlaClockState:
    return clock_state(ticket, setup)


def sla_cycle_states(*, max_events: int = 30) -> SearchStrategy[CycleState]:
    """:class:`~csdomain.sla.CycleState` values: a cycle of a state drawn by
    :func:`sla_clock_states` (with ``max_events``) under a policy that always
    applies, so every value is a cycle a real walk left.

    Requires Hypothesis.
    """
    _check_size("max_events", max_events)
    return _sla_cycle_states(max_events)


register(CycleState, sla_cycle_states)


@_memo
def _sla_cycle_states(max_events: int) -> SearchStrategy[CycleState]:
    return _cycles_of(tickets(max_events=max_events, max_gap=timedelta(days=2)))


@st.composite
def _cycles_of(draw: DrawFn, ticket_strategy: SearchStrategy[Ticket]) -> CycleState:
    # A policy measuring resolution always applies: creation starts its cycle.
    calendars = draw(st.lists(business_calendars(), max_size=1))
    names = tuple(c.name for c in calendars)
    policy = draw(sla_policies(calendar_names=names, conditions=False))
    if policy.rules(SlaMetric.RESOLUTION) is None:
        policy = attrs.evolve(
            policy,
            metrics=(*policy.metrics, draw(metric_policies(metrics=[SlaMetric.RESOLUTION]))),
        )
    state = clock_state(draw(ticket_strategy), SlaSetup([policy], calendars))
    return draw(st.sampled_from(state.cycles))
