"""SLA configuration: metrics, targets, per-metric clock rules, policies and their setup.

An :class:`SlaPolicy` names a condition (which tickets it covers) and, for
each :class:`SlaMetric` it measures, a :class:`MetricPolicy`: a :class:`Target`
per priority (a duration counted in business hours of a named calendar, or in
calendar hours, with warning fractions) and the rules of that metric's clock.
An :class:`SlaSetup` puts an ordered list of policies together with the
calendars their targets name, and refuses a target naming a calendar it does
not hold, or two calendars sharing one name, when it is built.

Everything here is configuration data: immutable, validated at construction
and serializable with :mod:`csdomain.serialization`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import TARGET_MAX
from csdomain._kernel.validation import (
    Check,
    Checked,
    boolean,
    checked,
    describe,
    duration,
    instance,
    member_of,
    optional,
    text,
    tuple_of,
)
from csdomain.calendars import BusinessCalendar, CalendarUnion
from csdomain.conditions import ALWAYS, Condition
from csdomain.priorities import Priority
from csdomain.tickets import Status, Ticket

if TYPE_CHECKING:
    from csdomain.customers import Customer

__all__ = [
    "DEFAULT_PAUSE_STATUSES",
    "TARGET_MAX",
    "Calendar",
    "MetricPolicy",
    "OnPriorityChange",
    "OnReopen",
    "SlaMetric",
    "SlaPolicy",
    "SlaSetup",
    "Target",
    "select_policy",
]

#: What a target's business hours can be counted on.
Calendar = BusinessCalendar | CalendarUnion


class SlaMetric(Enum):
    """What an SLA target measures (formerly ``Metric``, still importable with a warning)."""

    __hash__ = object.__hash__  # identity, as for Status: evaluation hashes metrics often

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    PERIODIC_UPDATE = "periodic_update"
    RESOLUTION = "resolution"


declare_labels(
    SlaMetric,
    {
        SlaMetric.FIRST_RESPONSE: _mark("sla metric", "First response"),
        SlaMetric.NEXT_RESPONSE: _mark("sla metric", "Next response"),
        # Translators: the SLA metric bounding the gap between agent updates.
        SlaMetric.PERIODIC_UPDATE: _mark("sla metric", "Periodic update"),
        SlaMetric.RESOLUTION: _mark("sla metric", "Resolution"),
    },
)


class OnReopen(Enum):
    """What a reopen (solved -> open, pending or on hold) does to a metric's clock."""

    #: Continue the cycle with the time already counted (the solved period excluded).
    RESUME = "resume"
    #: Start a new cycle from zero at the reopen.
    NEW_CYCLE = "new_cycle"


class OnPriorityChange(Enum):
    """Which target applies after a priority change in a running cycle."""

    #: The new priority's target, counted from the cycle's start: raising the
    #: priority can breach at once.
    FROM_CYCLE_START = "from_cycle_start"
    #: The new priority's target, counted from the change: time before it is excluded.
    FROM_CHANGE = "from_change"


#: Statuses in which each metric's clock pauses unless its policy says otherwise.
DEFAULT_PAUSE_STATUSES: Final[Mapping[SlaMetric, frozenset[Status]]] = {
    SlaMetric.FIRST_RESPONSE: frozenset(),
    SlaMetric.NEXT_RESPONSE: frozenset(),
    SlaMetric.PERIODIC_UPDATE: frozenset(),
    SlaMetric.RESOLUTION: frozenset({Status.PENDING, Status.ON_HOLD}),
}

#: The statuses a pause set may hold: no clock counts while solved or closed anyway.
PAUSABLE: Final = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


# -- targets ------------------------------------------------------------------------


def _warnings_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of fractions, got {describe(value)}"
        return
    previous = 0.0
    for i, item in enumerate(value):
        if type(item) is not float or not 0.0 < item < 1.0:
            yield f"[{i}]", f"expected a fraction strictly between 0 and 1, got {describe(item)}"
            return
        if item <= previous:
            yield f"[{i}]", f"{item} does not come after {previous}; list fractions ascending"
        previous = item


def _fractions(value: Iterable[float]) -> tuple[float, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(float(v) if type(v) is int and not isinstance(v, bool) else v for v in value)
    return value  # type: ignore[return-value]  # left for the check to reject


@attrs.frozen
class Target(Checked):
    """How long a metric may take at one priority.

    ``calendar`` names a business calendar (its ``name``) whose open hours count;
    ``None`` counts calendar hours (every instant). ``duration`` is positive and
    at most :data:`TARGET_MAX` (10 years). ``warnings`` are fractions of the
    target (ascending, each strictly between 0 and 1) at which a warning is
    reached.

    >>> from datetime import timedelta
    >>> Target(timedelta(hours=4), calendar="cn-support", warnings=(0.5, 0.75)).warnings
    (0.5, 0.75)
    """

    duration: timedelta = attrs.field(
        metadata=checked(duration(allow_zero=False, maximum=TARGET_MAX))
    )
    calendar: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=200)))
    )
    warnings: tuple[float, ...] = attrs.field(
        default=(0.75,), converter=_fractions, metadata=checked(Check.of(_warnings_explain))
    )
    # The warning fractions as durations, computed once: evaluation compares them often.
    _thresholds: tuple[timedelta, ...] = attrs.field(
        init=False, default=(), eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_thresholds", tuple(self.duration * f for f in self.warnings))


# -- metric policies ----------------------------------------------------------------


def _targets_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict) or not value:
        yield "", f"expected a non-empty mapping of Priority to Target, got {describe(value)}"
        return
    for key, target in value.items():
        if not isinstance(key, Priority):
            allowed = ", ".join(p.value for p in Priority)
            yield f"[{describe(key)}]", f"expected a Priority ({allowed}) as the key"
        elif not isinstance(target, Target):
            yield f"[{key.value}]", f"expected a Target, got {describe(target)}"


def _targets_convert(
    value: Mapping[Priority, Target] | Mapping[str, Target],
) -> dict[Priority, Target]:
    if isinstance(value, Mapping):
        converted: dict[object, object] = {}
        for key, target in value.items():
            try:
                converted[Priority(key) if isinstance(key, str) else key] = target
            except ValueError:
                converted[key] = target  # reported by the check
        return converted  # type: ignore[return-value]  # the check refuses what is not
    return value  # left for the check to reject


def _statuses_convert(
    value: AbstractSet[Status | str] | list[Status | str] | tuple[Status | str, ...],
) -> frozenset[Status]:
    # Typed as collections, not Iterable: a bare "pending" would pass as one.
    if isinstance(value, (list, tuple, set, frozenset)):
        try:
            return frozenset(Status(v) if isinstance(v, str) else v for v in value)
        except ValueError:
            pass  # reported by the check
    return value  # type: ignore[return-value]  # left for the check to reject


def _pauses_explain(value: object) -> Iterator[tuple[str, str]]:
    allowed = ", ".join(sorted(s.value for s in PAUSABLE))
    if not isinstance(value, frozenset) or not all(isinstance(s, Status) for s in value):
        yield "", f"expected a set of statuses among {allowed}, got {describe(value)}"
        return
    for status in sorted(value - PAUSABLE, key=lambda s: s.value):
        yield (
            "",
            f"{status.value!r} cannot pause a clock: no clock counts while a ticket is "
            f"solved or closed; choose among {allowed}",
        )


def _metric(value: SlaMetric | str) -> SlaMetric:
    try:
        return SlaMetric(value) if isinstance(value, str) else value
    except ValueError:
        return value  # type: ignore[return-value]  # left for the check to reject


def _default_pauses(self: MetricPolicy) -> frozenset[Status]:
    return DEFAULT_PAUSE_STATUSES.get(self.metric, frozenset())


@attrs.frozen
class MetricPolicy(Checked):
    """The targets of one metric and the rules of its clock.

    >>> from datetime import timedelta
    >>> from csdomain.priorities import Priority
    >>> rules = MetricPolicy(SlaMetric.RESOLUTION, {Priority.URGENT: Target(timedelta(hours=8))})
    >>> sorted(s.value for s in rules.pause_statuses)
    ['on_hold', 'pending']

    ``targets`` maps priorities to targets; a priority without a target makes
    the metric not applicable to tickets of that priority. ``pause_statuses``
    defaults to :data:`DEFAULT_PAUSE_STATUSES` (resolution pauses in pending
    and on hold; the response metrics do not pause).
    """

    metric: SlaMetric = attrs.field(converter=_metric, metadata=checked(member_of(SlaMetric)))
    targets: dict[Priority, Target] = attrs.field(
        converter=_targets_convert, metadata=checked(Check.of(_targets_explain))
    )
    pause_statuses: frozenset[Status] = attrs.field(
        default=attrs.Factory(_default_pauses, takes_self=True),
        converter=_statuses_convert,
        metadata=checked(Check.of(_pauses_explain)),
    )
    count_bot_replies: bool = attrs.field(default=False, metadata=checked(boolean))
    on_reopen: OnReopen = attrs.field(
        default=OnReopen.RESUME, metadata=checked(member_of(OnReopen))
    )
    on_priority_change: OnPriorityChange = attrs.field(
        default=OnPriorityChange.FROM_CYCLE_START, metadata=checked(member_of(OnPriorityChange))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.count_bot_replies and self.metric is SlaMetric.RESOLUTION:
            yield "count_bot_replies", "resolution is fulfilled by solving, not by replies"


# -- policies -----------------------------------------------------------------------


def _metrics_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", "expected at least one MetricPolicy"
        return
    seen: set[SlaMetric] = set()
    for i, item in enumerate(value):
        if not isinstance(item, MetricPolicy):
            yield f"[{i}]", f"expected a MetricPolicy, got {describe(item)}"
        elif item.metric in seen:
            yield f"[{i}].metric", f"{item.metric.value!r} is configured twice"
        else:
            seen.add(item.metric)


def _metric_policies(value: Iterable[MetricPolicy]) -> tuple[MetricPolicy, ...]:
    return tuple_of(value)


@attrs.frozen
class SlaPolicy(Checked):
    """A named SLA policy: which tickets it covers and the metrics it measures.

    Policies are chosen by :func:`select_policy`: the first in an ordered list
    whose ``condition`` matches the ticket (and customer).
    """

    name: str = attrs.field(metadata=checked(text(max_length=200)))
    metrics: tuple[MetricPolicy, ...] = attrs.field(
        converter=_metric_policies, metadata=checked(Check.of(_metrics_explain))
    )
    condition: Condition = attrs.field(
        default=ALWAYS, metadata=checked(instance(Condition, "a Condition"))
    )
    # What evaluation derives from the metrics (a csdomain.sla._engine plan), built on
    # first use and kept here: the policy is immutable. Typed object so that resolving
    # this class's annotations (cattrs does) needs no engine import.
    _plan: object = attrs.field(init=False, default=None, eq=False, repr=False)

    def rules(self, metric: SlaMetric) -> MetricPolicy | None:
        """The rules this policy has for ``metric``, or None when it does not measure it."""
        for rules in self.metrics:
            if rules.metric is metric:
                return rules
        return None


def select_policy(
    policies: Iterable[SlaPolicy], ticket: Ticket, customer: Customer | None = None
) -> SlaPolicy | None:
    """The first policy whose condition matches ``ticket`` (and ``customer``), or None.

    :func:`~csdomain.sla.evaluate` matches the ticket as it stood at its ``now``.
    """
    for policy in policies:
        if policy.condition.matches(ticket, customer):
            return policy
    return None


# -- setup --------------------------------------------------------------------------


for _name, _cls in (
    ("sla_target", Target),
    ("metric_policy", MetricPolicy),
    ("sla_policy", SlaPolicy),
):
    declare_document(_name, _cls)


def _policies_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of SlaPolicy, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if not isinstance(item, SlaPolicy):
            yield f"[{i}]", f"expected an SlaPolicy, got {describe(item)}"


def _calendars_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of BusinessCalendar or CalendarUnion, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if not isinstance(item, (BusinessCalendar, CalendarUnion)):
            yield f"[{i}]", f"expected a BusinessCalendar or CalendarUnion, got {describe(item)}"


def _duplicates(field: str, what: str, names: Iterable[str]) -> Iterator[tuple[str, str]]:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            yield (
                f"{field}[{i}].name",
                f"{what} name {name!r} is already used by {field}[{seen[name]}]; "
                "names must be unique",
            )
        else:
            seen[name] = i


def _policy_tuple(value: Iterable[SlaPolicy]) -> tuple[SlaPolicy, ...]:
    return tuple_of(value)


def _calendar_tuple(value: Iterable[Calendar]) -> tuple[Calendar, ...]:
    return tuple_of(value)


@attrs.frozen
class SlaSetup(Checked):
    """An ordered list of SLA policies and the calendars their targets count in.

    Built once from configuration and handed to :func:`~csdomain.sla.evaluate`,
    :func:`~csdomain.sla.next_deadline` and :func:`~csdomain.sla.explain` in
    place of the policies and calendars. Construction refuses, with one
    :class:`~csdomain.errors.ValidationError` listing every problem, a target
    naming a calendar the setup does not hold, two calendars sharing one name
    and two policies sharing one name, so a bad configuration fails when it is
    loaded, not when a ticket of the wrong priority happens to be evaluated.

    >>> from datetime import timedelta
    >>> from csdomain.calendars import BusinessCalendar
    >>> desk = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
    >>> rules = MetricPolicy("resolution", {"normal": Target(timedelta(hours=8), "dsk")})
    >>> SlaSetup([SlaPolicy("standard", [rules])], [desk])
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid SlaSetup: policies[0].metrics[0].targets[normal].calendar: policy 'standard', resolution target for normal priority names calendar 'dsk', which the setup does not hold; calendars: 'desk'
    """  # noqa: E501

    policies: tuple[SlaPolicy, ...] = attrs.field(
        converter=_policy_tuple, metadata=checked(Check.of(_policies_explain))
    )
    calendars: tuple[Calendar, ...] = attrs.field(
        default=(), converter=_calendar_tuple, metadata=checked(Check.of(_calendars_explain))
    )
    # The calendars by name, built once: evaluation looks them up for every metric.
    _by_name: Mapping[str, Calendar] = attrs.field(
        init=False, factory=dict, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_by_name", {c.name: c for c in self.calendars})

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        yield from _duplicates("policies", "policy", (p.name for p in self.policies))
        yield from _duplicates("calendars", "calendar", (c.name for c in self.calendars))
        names = {c.name for c in self.calendars}
        known = ", ".join(repr(n) for n in sorted(names)) or "none"
        for i, policy in enumerate(self.policies):
            for j, rules in enumerate(policy.metrics):
                for priority, target in rules.targets.items():
                    if target.calendar is not None and target.calendar not in names:
                        yield (
                            f"policies[{i}].metrics[{j}].targets[{priority.value}].calendar",
                            f"policy {policy.name!r}, {rules.metric.value} target for "
                            f"{priority.value} priority names calendar {target.calendar!r}, "
                            f"which the setup does not hold; calendars: {known}",
                        )

    def calendar(self, name: str) -> Calendar | None:
        """The calendar called ``name``, or None when the setup holds none by that name."""
        return self._by_name.get(name)


declare_document("sla_setup", SlaSetup)
