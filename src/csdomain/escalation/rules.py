"""Escalation rules as data: a trigger, a condition and the actions that follow.

A :class:`Trigger` says *when* a rule fires (an SLA warning or breach, a request
for a senior agent, a complaint, repeated reopens, waiting time, a priority);
an :class:`Action` says *what* happens then (raise the tier, move the group,
raise the priority, assign, notify). Both are flat classes: one ``kind`` and
the fields that kind needs, every other field ``None`` (or empty). A trigger
or action refuses, when it is built, a combination its kind does not take,
naming the field and the kind (``"an sla_warning trigger needs metric and
fraction (0 < fraction < 1)"``). Build them with the constructors
(:meth:`Trigger.sla_breach`, :meth:`Action.notify`, ...), which read as the
configuration speaks.

An :class:`EscalationRule` puts a name (unique in a rule set), a trigger, its
actions (at least one) and a :class:`~csdomain.conditions.Condition` over the
ticket and customer together. Everything here is configuration data:
immutable, validated at construction and serializable with
:mod:`csdomain.serialization` (documents ``escalation_trigger``,
``escalation_action``, ``escalation_rule``).

What a rule set names outside itself (tiers, groups, agents, calendars) is
checked against the desk's configuration by :func:`check_rules`, which returns
every problem with its path (``[2].actions[0].group_id``) instead of
raising, so a setup can report them all at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import timedelta
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import TARGET_MAX, duration_text
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    distinct_keys,
    duration,
    enum_member,
    identity_when,
    instance,
    integer,
    key,
    member_of,
    optional,
    text,
    tuple_of,
)
from csdomain.conditions import ALWAYS, Condition
from csdomain.people import AgentGrade, EscalationLadder, Role
from csdomain.priorities import Priority
from csdomain.sla.policy import SlaMetric

__all__ = [
    "Action",
    "ActionKind",
    "EscalationRule",
    "Trigger",
    "TriggerKind",
    "check_rules",
]


class TriggerKind(Enum):
    """What makes an escalation rule fire."""

    #: A metric's latest cycle has counted at least ``fraction`` of its target.
    SLA_WARNING = "sla_warning"
    #: A metric's latest cycle is breached.
    SLA_BREACH = "sla_breach"
    #: Someone asked for a senior agent (a ``SeniorAgentRequested`` event).
    SENIOR_REQUESTED = "senior_requested"
    #: The ticket is a complaint (kind ``complaint``).
    COMPLAINT = "complaint"
    #: The ticket was reopened (solved -> open) ``times`` times.
    REOPENED = "reopened"
    #: Nobody has been assigned for ``duration``.
    UNASSIGNED_FOR = "unassigned_for"
    #: The ticket has waited on the customer (pending) for ``duration``.
    WAITING_ON_CUSTOMER_FOR = "waiting_on_customer_for"
    #: The priority is ``priority`` or higher.
    PRIORITY_AT_LEAST = "priority_at_least"


declare_labels(
    TriggerKind,
    {
        TriggerKind.SLA_WARNING: _mark("escalation trigger", "SLA warning"),
        TriggerKind.SLA_BREACH: _mark("escalation trigger", "SLA breach"),
        TriggerKind.SENIOR_REQUESTED: _mark("escalation trigger", "Senior agent requested"),
        TriggerKind.COMPLAINT: _mark("escalation trigger", "Complaint"),
        TriggerKind.REOPENED: _mark("escalation trigger", "Reopened"),
        TriggerKind.UNASSIGNED_FOR: _mark("escalation trigger", "Unassigned for"),
        # Translators: the ticket has been pending (waiting on the customer) for a while.
        TriggerKind.WAITING_ON_CUSTOMER_FOR: _mark(
            "escalation trigger", "Waiting on the customer for"
        ),
        TriggerKind.PRIORITY_AT_LEAST: _mark("escalation trigger", "Priority at least"),
    },
)


class ActionKind(Enum):
    """What an escalation rule does when it fires."""

    #: Move the ticket up the escalation ladder (one tier, or to a named tier).
    RAISE_TIER = "raise_tier"
    #: Move the ticket to another group (and clear its assignee).
    MOVE_TO_GROUP = "move_to_group"
    #: Raise the priority (one step, or to at least a named priority).
    RAISE_PRIORITY = "raise_priority"
    #: Assign an agent (with a role and a grade, chosen by the caller's routing).
    ASSIGN = "assign"
    #: Queue notifications to agents, groups or an outside body.
    NOTIFY = "notify"


declare_labels(
    ActionKind,
    {
        ActionKind.RAISE_TIER: _mark("escalation action", "Raise the tier"),
        ActionKind.MOVE_TO_GROUP: _mark("escalation action", "Move to group"),
        ActionKind.RAISE_PRIORITY: _mark("escalation action", "Raise the priority"),
        ActionKind.ASSIGN: _mark("escalation action", "Assign"),
        ActionKind.NOTIFY: _mark("escalation action", "Notify"),
    },
)


# -- field helpers --------------------------------------------------------------------


def _trigger_kind(value: TriggerKind | str) -> TriggerKind:
    return enum_member(TriggerKind, value)


def _action_kind(value: ActionKind | str) -> ActionKind:
    return enum_member(ActionKind, value)


def _metric(value: SlaMetric | str | None) -> SlaMetric | None:
    return enum_member(SlaMetric, value)


def _priority(value: Priority | str | None) -> Priority | None:
    return enum_member(Priority, value)


def _role(value: Role | str | None) -> Role | None:
    return enum_member(Role, value)


def _grade(value: AgentGrade | str | None) -> AgentGrade | None:
    return enum_member(AgentGrade, value)


def _fraction(value: float | None) -> float | None:
    if type(value) is int:
        return float(value)  # left for the check: 0 and 1 are not fractions
    return value


def _keys(value: Iterable[str]) -> tuple[str, ...]:
    return tuple_of(value)


def _actions(value: Iterable[Action]) -> tuple[Action, ...]:
    return tuple_of(value)


# Loaders building objects without __init__ skip these converters when they change nothing.
for _converter in (_trigger_kind, _action_kind, _metric, _priority, _role, _grade):
    identity_when(_converter, "type({v}) is not {str}", str=str)
identity_when(_fraction, "type({v}) is not {int}", int=int)
identity_when(_keys, "type({v}) is {tuple}", tuple=tuple)
identity_when(_actions, "type({v}) is {tuple}", tuple=tuple)


def _fraction_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"expected a fraction strictly between 0 and 1, got {describe(value)}"


_FRACTION: Final = Check.expression(
    "{v} is None or (type({v}) is {float} and 0.0 < {v} < 1.0)",
    _fraction_explain,
    types=(float, type(None)),
    float=float,
)


def _article(word: str) -> str:
    """The article of a kind's name as read aloud ("an sla_breach": an S-L-A)."""
    return "an" if word[:1] in "aeiou" or word.startswith("sla_") else "a"


def _extra_fields(
    obj: object, kind: str, what: str, allowed: Collection[str], fields: Sequence[str]
) -> Iterator[tuple[str, str]]:
    """A problem for each of ``fields`` that is set although ``kind`` does not take it."""
    for name in fields:
        if name in allowed:
            continue
        value = getattr(obj, name)
        if value is not None and value != ():
            taken = ", ".join(sorted(allowed)) or "nothing else"
            yield (
                name,
                f"{_article(kind)} {kind} {what} takes no {name} (it takes {taken}), "
                f"got {describe(value)}",
            )


# -- triggers -------------------------------------------------------------------------

_TRIGGER_FIELDS: Final = ("metric", "fraction", "times", "duration", "calendar", "priority")
#: The fields each trigger kind takes (required ones are checked separately).
_TRIGGER_TAKES: Final[dict[TriggerKind, frozenset[str]]] = {
    TriggerKind.SLA_WARNING: frozenset({"metric", "fraction"}),
    TriggerKind.SLA_BREACH: frozenset({"metric"}),
    TriggerKind.SENIOR_REQUESTED: frozenset(),
    TriggerKind.COMPLAINT: frozenset(),
    TriggerKind.REOPENED: frozenset({"times"}),
    TriggerKind.UNASSIGNED_FOR: frozenset({"duration", "calendar"}),
    TriggerKind.WAITING_ON_CUSTOMER_FOR: frozenset({"duration", "calendar"}),
    TriggerKind.PRIORITY_AT_LEAST: frozenset({"priority"}),
}


@attrs.frozen
class Trigger(Checked):
    """When an escalation rule fires: a ``kind`` and the fields that kind needs.

    ============================  =================================================
    kind                          fields
    ============================  =================================================
    ``sla_warning``               ``metric``, ``fraction`` (0 < fraction < 1)
    ``sla_breach``                ``metric``
    ``senior_requested``          none
    ``complaint``                 none
    ``reopened``                  ``times`` (1 or more)
    ``unassigned_for``            ``duration`` (> 0), ``calendar`` (None: calendar time)
    ``waiting_on_customer_for``   ``duration`` (> 0), ``calendar`` (None: calendar time)
    ``priority_at_least``         ``priority``
    ============================  =================================================

    Every other field is None; a field the kind does not take, or a missing
    one, is refused at construction.

    >>> from datetime import timedelta
    >>> Trigger.sla_warning("resolution", 0.75).metric
    <SlaMetric.RESOLUTION: 'resolution'>
    >>> Trigger(TriggerKind.UNASSIGNED_FOR)
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid Trigger: duration: an unassigned_for trigger needs duration (a positive timedelta)
    """  # noqa: E501

    kind: TriggerKind = attrs.field(
        converter=_trigger_kind, metadata=checked(member_of(TriggerKind))
    )
    metric: SlaMetric | None = attrs.field(
        default=None, converter=_metric, metadata=checked(optional(member_of(SlaMetric)))
    )
    fraction: float | None = attrs.field(
        default=None, converter=_fraction, metadata=checked(_FRACTION)
    )
    times: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=1, maximum=1000)))
    )
    duration: timedelta | None = attrs.field(
        default=None,
        metadata=checked(optional(duration(allow_zero=False, maximum=TARGET_MAX))),
    )
    calendar: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=200)))
    )
    priority: Priority | None = attrs.field(
        default=None, converter=_priority, metadata=checked(optional(member_of(Priority)))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        kind = self.kind
        name = kind.value
        if kind is TriggerKind.SLA_WARNING and (self.metric is None or self.fraction is None):
            field = "metric" if self.metric is None else "fraction"
            yield field, "an sla_warning trigger needs metric and fraction (0 < fraction < 1)"
        elif kind is TriggerKind.SLA_BREACH and self.metric is None:
            yield "metric", "an sla_breach trigger needs metric (an SlaMetric)"
        elif kind is TriggerKind.REOPENED and self.times is None:
            yield "times", "a reopened trigger needs times (how many reopens, 1 or more)"
        elif (
            kind in (TriggerKind.UNASSIGNED_FOR, TriggerKind.WAITING_ON_CUSTOMER_FOR)
            and self.duration is None
        ):
            yield "duration", f"an {name} trigger needs duration (a positive timedelta)"
        elif kind is TriggerKind.PRIORITY_AT_LEAST and self.priority is None:
            yield "priority", "a priority_at_least trigger needs priority (a Priority)"
        yield from _extra_fields(self, name, "trigger", _TRIGGER_TAKES[kind], _TRIGGER_FIELDS)

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def sla_warning(cls, metric: SlaMetric | str, fraction: float) -> Trigger:
        """Fires once ``metric``'s latest cycle has counted ``fraction`` of its target."""
        return cls(TriggerKind.SLA_WARNING, metric=_metric(metric), fraction=fraction)

    @classmethod
    def sla_breach(cls, metric: SlaMetric | str) -> Trigger:
        """Fires once ``metric``'s latest cycle is breached."""
        return cls(TriggerKind.SLA_BREACH, metric=_metric(metric))

    @classmethod
    def senior_requested(cls) -> Trigger:
        """Fires on each request for a senior agent (a ``SeniorAgentRequested`` event)."""
        return cls(TriggerKind.SENIOR_REQUESTED)

    @classmethod
    def complaint(cls) -> Trigger:
        """Fires once for a ticket of kind ``complaint``."""
        return cls(TriggerKind.COMPLAINT)

    @classmethod
    def reopened(cls, times: int) -> Trigger:
        """Fires once the ticket has been reopened (solved -> open) ``times`` times."""
        return cls(TriggerKind.REOPENED, times=times)

    @classmethod
    def unassigned_for(cls, duration: timedelta, *, calendar: str | None = None) -> Trigger:
        """Fires when nobody has been assigned for ``duration`` (open time of the
        calendar named ``calendar``; None: calendar time)."""
        return cls(TriggerKind.UNASSIGNED_FOR, duration=duration, calendar=calendar)

    @classmethod
    def waiting_on_customer_for(
        cls, duration: timedelta, *, calendar: str | None = None
    ) -> Trigger:
        """Fires when the ticket has been pending for ``duration`` (open time of the
        calendar named ``calendar``; None: calendar time)."""
        return cls(TriggerKind.WAITING_ON_CUSTOMER_FOR, duration=duration, calendar=calendar)

    @classmethod
    def priority_at_least(cls, priority: Priority | str) -> Trigger:
        """Fires when the priority rises to ``priority`` or higher (or starts there)."""
        return cls(TriggerKind.PRIORITY_AT_LEAST, priority=_priority(priority))

    def summary(self) -> str:
        """The trigger in plain English (``"first_response breached"``)."""
        kind = self.kind
        if kind is TriggerKind.SLA_WARNING:
            assert self.metric is not None and self.fraction is not None
            return f"{self.metric.value} reached {self.fraction:.0%} of its target"
        if kind is TriggerKind.SLA_BREACH:
            assert self.metric is not None
            return f"{self.metric.value} breached"
        if kind is TriggerKind.REOPENED:
            return f"reopened {self.times} times"
        if kind in (TriggerKind.UNASSIGNED_FOR, TriggerKind.WAITING_ON_CUSTOMER_FOR):
            assert self.duration is not None
            what = "unassigned" if kind is TriggerKind.UNASSIGNED_FOR else "waiting on customer"
            clock = "calendar time" if self.calendar is None else f"on calendar {self.calendar!r}"
            return f"{what} for {duration_text(self.duration)} ({clock})"
        if kind is TriggerKind.PRIORITY_AT_LEAST:
            assert self.priority is not None
            return f"priority at least {self.priority.value}"
        if kind is TriggerKind.SENIOR_REQUESTED:
            return "a senior agent requested"
        return "a complaint"


# -- actions --------------------------------------------------------------------------

_ACTION_FIELDS: Final = (
    "tier",
    "group_id",
    "priority",
    "role",
    "min_grade",
    "agents",
    "groups",
    "external",
)
_ACTION_TAKES: Final[dict[ActionKind, frozenset[str]]] = {
    ActionKind.RAISE_TIER: frozenset({"tier"}),
    ActionKind.MOVE_TO_GROUP: frozenset({"group_id"}),
    ActionKind.RAISE_PRIORITY: frozenset({"priority"}),
    ActionKind.ASSIGN: frozenset({"role", "min_grade"}),
    ActionKind.NOTIFY: frozenset({"agents", "groups", "external"}),
}


@attrs.frozen
class Action(Checked):
    """What an escalation rule does: a ``kind`` and the fields that kind needs.

    ====================  ==========================================================
    kind                  fields
    ====================  ==========================================================
    ``raise_tier``        ``tier`` (a tier key; None: the next tier up)
    ``move_to_group``     ``group_id`` (required)
    ``raise_priority``    ``priority`` (at least this; None: one step up)
    ``assign``            ``role``, ``min_grade`` (an agent with them, in the
                          ticket's group; both optional)
    ``notify``            ``agents``, ``groups`` (ids), ``external`` (an outside
                          body's key): at least one
    ====================  ==========================================================

    >>> Action.notify(groups=["l2-desk"]).groups
    ('l2-desk',)
    >>> Action(ActionKind.MOVE_TO_GROUP)
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid Action: group_id: a move_to_group action needs group_id (a group id)
    """  # noqa: E501

    kind: ActionKind = attrs.field(converter=_action_kind, metadata=checked(member_of(ActionKind)))
    tier: str | None = attrs.field(default=None, metadata=checked(optional(key("tier key"))))
    group_id: str | None = attrs.field(default=None, metadata=checked(optional(key("group id"))))
    priority: Priority | None = attrs.field(
        default=None, converter=_priority, metadata=checked(optional(member_of(Priority)))
    )
    role: Role | None = attrs.field(
        default=None, converter=_role, metadata=checked(optional(member_of(Role)))
    )
    min_grade: AgentGrade | None = attrs.field(
        default=None, converter=_grade, metadata=checked(optional(member_of(AgentGrade)))
    )
    agents: tuple[str, ...] = attrs.field(
        default=(), converter=_keys, metadata=checked(distinct_keys("agent id"))
    )
    groups: tuple[str, ...] = attrs.field(
        default=(), converter=_keys, metadata=checked(distinct_keys("group id"))
    )
    external: str | None = attrs.field(
        default=None, metadata=checked(optional(key("external body key")))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        kind = self.kind
        if kind is ActionKind.MOVE_TO_GROUP and self.group_id is None:
            yield "group_id", "a move_to_group action needs group_id (a group id)"
        elif (
            kind is ActionKind.NOTIFY
            and not self.agents
            and not self.groups
            and self.external is None
        ):
            yield "agents", "a notify action needs agents, groups or external (at least one)"
        yield from _extra_fields(self, kind.value, "action", _ACTION_TAKES[kind], _ACTION_FIELDS)

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def raise_tier(cls, to: str | None = None) -> Action:
        """Move the ticket up to tier ``to`` (None: the next tier up the ladder)."""
        return cls(ActionKind.RAISE_TIER, tier=to)

    @classmethod
    def move_to_group(cls, group_id: str) -> Action:
        """Move the ticket to group ``group_id``, clearing its assignee."""
        return cls(ActionKind.MOVE_TO_GROUP, group_id=group_id)

    @classmethod
    def raise_priority(cls, to: Priority | str | None = None) -> Action:
        """Raise the priority to at least ``to`` (None: one step up)."""
        return cls(ActionKind.RAISE_PRIORITY, priority=_priority(to))

    @classmethod
    def assign(
        cls, role: Role | str | None = None, min_grade: AgentGrade | str | None = None
    ) -> Action:
        """Assign an agent of the ticket's group with ``role`` and at least ``min_grade``."""
        return cls(ActionKind.ASSIGN, role=_role(role), min_grade=_grade(min_grade))

    @classmethod
    def notify(
        cls,
        agents: Iterable[str] = (),
        groups: Iterable[str] = (),
        external: str | None = None,
    ) -> Action:
        """Queue notifications to ``agents``, ``groups`` and an ``external`` body."""
        return cls(
            ActionKind.NOTIFY, agents=tuple_of(agents), groups=tuple_of(groups), external=external
        )


# -- rules ----------------------------------------------------------------------------


def _actions_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", f"expected at least one Action, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if not isinstance(item, Action):
            yield f"[{i}]", f"expected an Action, got {describe(item)}"


_ACTIONS: Final = Check(
    lambda v: isinstance(v, tuple) and bool(v) and all(isinstance(a, Action) for a in v),
    _actions_explain,
)


@attrs.frozen
class EscalationRule(Checked):
    """A named escalation rule: when ``trigger`` holds for a ticket (and customer)
    that ``condition`` matches, the ``actions`` run in order.

    ``name`` is the rule's key, unique in a rule set (:func:`check_rules`); the
    timeline's ``RuleFired`` events name it, so renaming a rule lets it fire
    again on tickets it fired on under its old name.

    >>> rule = EscalationRule(
    ...     "breach-to-l2", Trigger.sla_breach("first_response"), [Action.raise_tier()]
    ... )
    >>> rule.actions
    (Action(kind=<ActionKind.RAISE_TIER: 'raise_tier'>, tier=None, group_id=None, priority=None, role=None, min_grade=None, agents=(), groups=(), external=None),)
    """  # noqa: E501

    name: str = attrs.field(metadata=checked(text(max_length=200)))
    trigger: Trigger = attrs.field(metadata=checked(instance(Trigger, "a Trigger")))
    actions: tuple[Action, ...] = attrs.field(converter=_actions, metadata=checked(_ACTIONS))
    condition: Condition = attrs.field(
        default=ALWAYS, metadata=checked(instance(Condition, "a Condition"))
    )
    description: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=2000)))
    )


for _name, _cls in (
    ("escalation_trigger", Trigger),
    ("escalation_action", Action),
    ("escalation_rule", EscalationRule),
):
    declare_document(_name, _cls)


def _known(names: Iterable[str]) -> str:
    shown = ", ".join(repr(n) for n in sorted(names))
    return shown or "none"


def check_rules(
    rules: Sequence[EscalationRule],
    *,
    ladder: EscalationLadder,
    groups: Collection[str],
    agents: Collection[str],
    calendars: Collection[str],
) -> list[tuple[str, str]]:
    """Every problem of a rule set against the desk's configuration, as ``(path, message)``.

    Paths start at the position in ``rules`` (``[2].actions[0].group_id``).
    Finds: an item that is not an :class:`EscalationRule`, two rules sharing a
    name (the second is named by position, ``[3].name``), a ``raise_tier``
    action naming a tier the ``ladder`` lacks, a ``move_to_group`` or
    ``notify`` action naming a group not in ``groups``, a ``notify`` action
    naming an agent not in ``agents`` and a trigger naming a calendar not in
    ``calendars``. An empty list means the rule set is consistent; the caller
    (the HelpDesk setup) raises one ``ValidationError`` with all of them.

    >>> ladder = EscalationLadder.default()
    >>> rule = EscalationRule("r", Trigger.complaint(), [Action.move_to_group("vip")])
    >>> check_rules([rule, rule], ladder=ladder, groups={"l1"}, agents=(), calendars=())
    [('[0].actions[0].group_id', "rule 'r': group 'vip' is not configured; groups: 'l1'"), ('[1].name', "rule name 'r' is already used by the rule at [0]; names must be unique"), ('[1].actions[0].group_id', "rule 'r': group 'vip' is not configured; groups: 'l1'")]
    """  # noqa: E501
    problems: list[tuple[str, str]] = []
    tiers = {t.key for t in ladder.tiers}
    first: dict[str, int] = {}
    for i, rule in enumerate(rules):
        at = f"[{i}]"
        if not isinstance(rule, EscalationRule):
            problems.append((at, f"expected an EscalationRule, got {describe(rule)}"))
            continue
        if rule.name in first:
            problems.append(
                (
                    f"{at}.name",
                    f"rule name {rule.name!r} is already used by the rule at [{first[rule.name]}]; "
                    "names must be unique",
                )
            )
        else:
            first[rule.name] = i
        who = f"rule {rule.name!r}"
        calendar = rule.trigger.calendar
        if calendar is not None and calendar not in calendars:
            problems.append(
                (
                    f"{at}.trigger.calendar",
                    f"{who}: calendar {calendar!r} is not configured; calendars: "
                    f"{_known(calendars)}",
                )
            )
        for j, action in enumerate(rule.actions):
            path = f"{at}.actions[{j}]"
            if action.tier is not None and action.tier not in tiers:
                problems.append(
                    (
                        f"{path}.tier",
                        f"{who}: tier {action.tier!r} is not on the escalation ladder; "
                        f"tiers: {', '.join(t.key for t in ladder.tiers)}",
                    )
                )
            if action.group_id is not None and action.group_id not in groups:
                problems.append(
                    (
                        f"{path}.group_id",
                        f"{who}: group {action.group_id!r} is not configured; groups: "
                        f"{_known(groups)}",
                    )
                )
            for k, group in enumerate(action.groups):
                if group not in groups:
                    problems.append(
                        (
                            f"{path}.groups[{k}]",
                            f"{who}: group {group!r} is not configured; groups: {_known(groups)}",
                        )
                    )
            for k, agent in enumerate(action.agents):
                if agent not in agents:
                    problems.append(
                        (
                            f"{path}.agents[{k}]",
                            f"{who}: agent {agent!r} is not configured",
                        )
                    )
    return problems
