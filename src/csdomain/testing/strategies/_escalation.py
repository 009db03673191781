"""Strategies: escalation (triggers, actions, rules and the escalation timeline events)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.conditions import ALWAYS, Condition
from csdomain.escalation import (
    Action,
    ActionKind,
    EscalationRule,
    NotificationQueued,
    RuleFired,
    SeniorAgentRequested,
    Trigger,
    TriggerKind,
)
from csdomain.people import AgentGrade, Role
from csdomain.priorities import Priority
from csdomain.sla import SlaMetric
from csdomain.testing.strategies._common import (
    _check_size,
    _ids,
    _keys,
    _maybe,
    _members,
    _memo,
    _texts,
    aware_datetimes,
    check_keys,
)
from csdomain.testing.strategies._conditions import _CONDITION_TYPES, _conditions
from csdomain.testing.strategies._tickets import actors
from csdomain.testing.strategies.registry import register
from csdomain.tickets import TicketEvent

_FRACTIONS: tuple[float, ...] = (0.5, 0.75, 0.8, 0.9)
_DURATIONS: tuple[timedelta, ...] = (
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=8),
    timedelta(days=1),
    timedelta(days=3),
)
_RULE_NAMES: tuple[str, ...] = (
    "breach-to-l2",
    "warn-supervisor",
    "vip 投诉升级",
    "Senior requested",
    "reopened twice",
    "金牌客户 SLA 预警",
)
_EXTERNAL: tuple[str, ...] = ("consumer_association", "vendor.acme", "12315")
_TIER_KEYS: tuple[str, ...] = ("L1", "L2", "L3")
_EVENT_TYPES: tuple[type[TicketEvent], ...] = (SeniorAgentRequested, RuleFired, NotificationQueued)


def _check_names(name: str, value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{name}={value!r} must be a sequence of calendar names")
    names = tuple(dict.fromkeys(value))
    for item in names:
        if type(item) is not str or not item.strip() or len(item) > 200:
            raise InvalidArgument(
                f"{name}={value!r} holds {item!r}; a calendar name is text of 1-200 characters"
            )
    return names


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


# -- triggers -------------------------------------------------------------------------


def escalation_triggers(
    *,
    kinds: Iterable[TriggerKind] | None = None,
    metrics: Iterable[SlaMetric] | None = None,
    calendar_names: Sequence[str] = (),
) -> SearchStrategy[Trigger]:
    """:class:`~csdomain.escalation.Trigger` values of one of ``kinds`` (default: every
    :class:`~csdomain.escalation.TriggerKind`).

    SLA triggers name one of ``metrics`` (default: every metric); warning
    fractions are common ones (0.5, 0.75, 0.8, 0.9) or any float strictly
    between 0 and 1; reopen counts are 1 to 5; waiting durations are typical
    ones or whole minutes up to 30 days, counted in calendar time or on one of
    ``calendar_names`` (default: none, so calendar time).

    Requires Hypothesis.
    """
    chosen = tuple(dict.fromkeys(_members(TriggerKind, "kinds", kinds)))
    on = tuple(dict.fromkeys(_members(SlaMetric, "metrics", metrics)))
    return _triggers(chosen, on, _check_names("calendar_names", calendar_names))


register(Trigger, escalation_triggers)


@_memo
def _fractions() -> SearchStrategy[float]:
    return st.one_of(
        st.sampled_from(_FRACTIONS),
        st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True),
    )


@_memo
def _durations() -> SearchStrategy[timedelta]:
    return st.one_of(
        st.sampled_from(_DURATIONS),
        st.integers(1, 30 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    )


@_memo
def _triggers(
    kinds: tuple[TriggerKind, ...],
    metrics: tuple[SlaMetric, ...],
    calendar_names: tuple[str, ...],
) -> SearchStrategy[Trigger]:
    metric = st.sampled_from(metrics)
    calendar: SearchStrategy[str | None] = st.none()
    if calendar_names:
        calendar = st.one_of(st.none(), st.sampled_from(calendar_names))
    made: dict[TriggerKind, SearchStrategy[Trigger]] = {
        TriggerKind.SLA_WARNING: st.builds(Trigger.sla_warning, metric, _fractions()),
        TriggerKind.SLA_BREACH: st.builds(Trigger.sla_breach, metric),
        TriggerKind.SENIOR_REQUESTED: st.just(Trigger.senior_requested()),
        TriggerKind.COMPLAINT: st.just(Trigger.complaint()),
        TriggerKind.REOPENED: st.builds(Trigger.reopened, st.integers(1, 5)),
        TriggerKind.UNASSIGNED_FOR: st.builds(
            Trigger.unassigned_for, _durations(), calendar=calendar
        ),
        TriggerKind.WAITING_ON_CUSTOMER_FOR: st.builds(
            Trigger.waiting_on_customer_for, _durations(), calendar=calendar
        ),
        TriggerKind.PRIORITY_AT_LEAST: st.builds(
            Trigger.priority_at_least, st.sampled_from(Priority)
        ),
    }
    return st.one_of([made[kind] for kind in kinds])


# -- actions --------------------------------------------------------------------------


def escalation_actions(
    *,
    kinds: Iterable[ActionKind] | None = None,
    tiers: Iterable[str] | None = None,
    group_ids: Iterable[str] | None = None,
    agent_ids: Iterable[str] | None = None,
) -> SearchStrategy[Action]:
    """:class:`~csdomain.escalation.Action` values of one of ``kinds`` (default: every
    :class:`~csdomain.escalation.ActionKind`).

    Named tiers come from ``tiers`` (default ``L1``, ``L2``, ``L3``; a raise may
    also name none: the next tier up), groups from ``group_ids`` and agents from
    ``agent_ids`` (default: any ``grp_``/``agt_`` ids). Give the desk's own keys
    to draw actions that :func:`~csdomain.escalation.check_rules` accepts for it.
    A notify action has at least one receiver.

    Requires Hypothesis.
    """
    chosen = tuple(dict.fromkeys(_members(ActionKind, "kinds", kinds)))
    return _actions(
        chosen,
        check_keys("tiers", tiers) or _TIER_KEYS,
        check_keys("group_ids", group_ids),
        check_keys("agent_ids", agent_ids),
    )


register(Action, escalation_actions)


@_memo
def _pool(given: tuple[str, ...] | None, prefix: str) -> SearchStrategy[str]:
    return _ids(prefix) if given is None else st.sampled_from(given)


@_memo
def _actions(
    kinds: tuple[ActionKind, ...],
    tiers: tuple[str, ...],
    group_ids: tuple[str, ...] | None,
    agent_ids: tuple[str, ...] | None,
) -> SearchStrategy[Action]:
    groups = _pool(group_ids, "grp")
    agents = _pool(agent_ids, "agt")
    made: dict[ActionKind, SearchStrategy[Action]] = {
        ActionKind.RAISE_TIER: st.builds(Action.raise_tier, _maybe(st.sampled_from(tiers))),
        ActionKind.MOVE_TO_GROUP: st.builds(Action.move_to_group, groups),
        ActionKind.RAISE_PRIORITY: st.builds(
            Action.raise_priority, _maybe(st.sampled_from(Priority))
        ),
        ActionKind.ASSIGN: st.builds(
            Action.assign, _maybe(st.sampled_from(Role)), _maybe(st.sampled_from(AgentGrade))
        ),
        ActionKind.NOTIFY: _notify_actions(
            st.lists(agents, max_size=3, unique=True),
            st.lists(groups, max_size=3, unique=True),
            _maybe(st.sampled_from(_EXTERNAL)),
        ),
    }
    return st.one_of([made[kind] for kind in kinds])


@st.composite
def _notify_actions(
    draw: DrawFn,
    agents: SearchStrategy[list[str]],
    groups: SearchStrategy[list[str]],
    external: SearchStrategy[str | None],
) -> Action:
    found_agents, found_groups, found_external = draw(agents), draw(groups), draw(external)
    if not found_agents and not found_groups and found_external is None:
        found_external = _EXTERNAL[0]
    return Action.notify(agents=found_agents, groups=found_groups, external=found_external)


# -- rules ----------------------------------------------------------------------------


def escalation_rules(
    *,
    trigger_kinds: Iterable[TriggerKind] | None = None,
    action_kinds: Iterable[ActionKind] | None = None,
    metrics: Iterable[SlaMetric] | None = None,
    calendar_names: Sequence[str] = (),
    tiers: Iterable[str] | None = None,
    group_ids: Iterable[str] | None = None,
    agent_ids: Iterable[str] | None = None,
    max_actions: int = 3,
    conditions: bool = True,
) -> SearchStrategy[EscalationRule]:
    """:class:`~csdomain.escalation.EscalationRule` values: a name, a trigger drawn by
    :func:`escalation_triggers` (``trigger_kinds``, ``metrics``, ``calendar_names``),
    1 to ``max_actions`` actions drawn by :func:`escalation_actions` (``action_kinds``,
    ``tiers``, ``group_ids``, ``agent_ids``) and a condition: ``ALWAYS`` or,
    unless ``conditions`` is False, one drawn by :func:`conditions`.

    Requires Hypothesis.
    """
    triggers = escalation_triggers(
        kinds=trigger_kinds, metrics=metrics, calendar_names=calendar_names
    )
    actions = escalation_actions(
        kinds=action_kinds, tiers=tiers, group_ids=group_ids, agent_ids=agent_ids
    )
    _check_size("max_actions", max_actions, 1, 10)
    return _rules(triggers, actions, max_actions, _check_flag("conditions", conditions))


register(EscalationRule, escalation_rules)


@_memo
def _rule_names() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_RULE_NAMES), _texts(40))


@_memo
def _rules(
    triggers: SearchStrategy[Trigger],
    actions: SearchStrategy[Action],
    max_actions: int,
    with_conditions: bool,
) -> SearchStrategy[EscalationRule]:
    condition: SearchStrategy[Condition] = st.just(ALWAYS)
    if with_conditions:
        condition = st.one_of(condition, _conditions(2, _CONDITION_TYPES))
    return st.builds(
        EscalationRule,
        name=_rule_names(),
        trigger=triggers,
        actions=st.lists(actions, min_size=1, max_size=max_actions).map(tuple),
        condition=condition,
        description=_maybe(_texts(80)),
    )


# -- events ---------------------------------------------------------------------------


def escalation_events(
    *, types: Iterable[type[TicketEvent]] | None = None
) -> SearchStrategy[TicketEvent]:
    """The escalation timeline events (:class:`~csdomain.escalation.SeniorAgentRequested`,
    :class:`~csdomain.escalation.RuleFired`, :class:`~csdomain.escalation.NotificationQueued`)
    of the given ``types`` (default: all three), each valid on its own: a
    notification has a receiver and is delivered at or after it is queued.

    Requires Hypothesis.
    """
    if types is None:
        chosen = _EVENT_TYPES
    else:
        chosen = tuple(dict.fromkeys(types))
        if not chosen or not all(t in _EVENT_TYPES for t in chosen):
            names = ", ".join(t.__name__ for t in _EVENT_TYPES)
            raise InvalidArgument(
                f"types={types!r} must be a non-empty collection of escalation events ({names})"
            )
    return _escalation_events(chosen)


for _event_type in _EVENT_TYPES:
    register(_event_type, escalation_events, types=(_event_type,))


@_memo
def _escalation_events(types: tuple[type[TicketEvent], ...]) -> SearchStrategy[TicketEvent]:
    made: dict[type[TicketEvent], SearchStrategy[TicketEvent]] = {
        SeniorAgentRequested: st.builds(
            SeniorAgentRequested,
            at=aware_datetimes(),
            actor=actors(),
            reason=_maybe(_texts(60)),
        ),
        RuleFired: st.builds(
            RuleFired,
            at=aware_datetimes(),
            actor=actors(),
            rule=_rule_names(),
            trigger=st.sampled_from(("complaint", "sla_breach:first_response", "reopened:2")),
            cycle=st.integers(0, 20),
            reason=_texts(80),
        ),
        NotificationQueued: _notifications(),
    }
    return st.one_of([made[t] for t in types])


@st.composite
def _notifications(draw: DrawFn) -> NotificationQueued:
    at = draw(aware_datetimes())
    delay = draw(st.integers(0, 3 * 24 * 3600).map(lambda s: timedelta(seconds=s)))
    agents = draw(st.lists(_ids("agt"), max_size=2, unique=True))
    groups = draw(st.lists(_keys(20), max_size=2, unique=True))
    external = draw(_maybe(st.sampled_from(_EXTERNAL)))
    if not agents and not groups and external is None:
        external = _EXTERNAL[0]
    deliver_at = at + delay  # aware_datetimes ends in 2099: far from the last instant
    return NotificationQueued(
        at=at,
        actor=draw(actors()),
        rule=draw(_rule_names()),
        agents=agents,
        groups=groups,
        external=external,
        calendar=draw(_maybe(st.sampled_from(("desk", "香港 office")))),
        deliver_at=deliver_at,
        reason=draw(_texts(80)),
    )
