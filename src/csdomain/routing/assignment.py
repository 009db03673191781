"""Assignment: which agent of a group takes a ticket.

An :class:`AssignmentPolicy` says how one group assigns; a :class:`GroupState`
is what routing knows about the group now (its members, their presence and
loads, its queue, its round-robin cursor and its calendar).
:func:`choose_agent` picks an agent or none, and says why in its trace.

**Eligible agents.** An agent of ``state.members`` is eligible when every
point below holds; agents are considered in agent-id order:

1. the agent is a member: ``agent.groups`` contains the group's id;
2. the agent is online: ``state.presence[agent.id]``, falling back to
   ``agent.presence`` when the mapping lacks the agent, is ``ONLINE``;
3. the group's calendar is open at ``now`` (``state.calendar`` None: always open);
4. the agent has room: ``agent.max_load > 0`` and ``units + take <= max_load``,
   where ``units`` is ``state.loads[agent.id].units`` (0 when absent) and
   ``take = min(weight, max_load)`` with ``weight`` the policy's
   ``channel_weights`` entry for the ticket's channel (default 1). A weight at
   or above an agent's ``max_load`` takes all of that agent's capacity: an idle
   agent can take such a ticket (a phone call) and is then full, so the next
   ticket goes to someone else;
5. the agent has every one of the policy's ``required_skills``;
6. the agent's grade is at least the highest of: the policy's ``min_grade``,
   the ``min_grade`` of every grade rule that matches the customer (a rule
   matches when ``customer.tier >= rule.customer_tier``; none matches when the
   customer is unknown) and the ``min_grade`` argument;
7. the agent has ``role``, when it is given.

**Strategies.**

* ``ROUND_ROBIN``: the first eligible agent whose id comes after the cursor's
  ``last_agent_id`` in agent-id order (the ids' string order), wrapping around
  to the first; with no
  cursor (or ``last_agent_id`` None) the first eligible agent. The new cursor
  has ``last_agent_id`` = the chosen agent and ``assigned`` one more. Because
  the cursor is data the caller persists (the HelpDesk stores it
  version-checked), the rotation stays fair across restarts and workers: over
  any run of assignments during which the eligible set does not change, no
  agent gets more than one assignment more than another.
* ``LEAST_LOADED``: the eligible agent with the lowest ``units / max_load``,
  compared exactly (by cross-multiplying integers, never floats); ties go to
  the lowest agent id.
* ``SKILLS``: the eligible agent with the most of the policy's
  ``optional_skills``; once ``waited >= drop_optional_after`` optional skills
  are ignored (every agent counts 0). Ties go to the least loaded (as above),
  then the lowest agent id.

Only round robin returns a cursor, and only when it chose an agent; ``None``
means there is nothing new to persist.

Everything here is pure: no clock is read (``now`` and ``waited`` are given),
nothing is stored, and the same inputs give the same agent and the same trace,
whatever the order of ``state.members`` or of the ``presence`` and ``loads``
mappings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import ensure_aware
from csdomain._kernel.validation import (
    KEY_PATTERN,
    Check,
    Checked,
    checked,
    describe,
    duration,
    frozen_set_of_str,
    integer,
    key,
    member_of,
    optional,
    tags_check,
    tuple_of,
)
from csdomain.customers import CustomerTier
from csdomain.errors import ValidationError
from csdomain.people import Agent, AgentGrade, Group, Presence, Role
from csdomain.sla.policy import Calendar

if TYPE_CHECKING:
    from csdomain.customers import Customer
    from csdomain.tickets import Ticket

__all__ = [
    "MAX_WEIGHT",
    "AgentLoad",
    "AssignmentPolicy",
    "GradeRule",
    "GroupState",
    "RoundRobinCursor",
    "Strategy",
    "choose_agent",
    "required_grade",
]

#: The largest channel weight accepted (the largest ``Agent.max_load``).
MAX_WEIGHT = 10_000


class Strategy(Enum):
    """How a group picks among its eligible agents."""

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    SKILLS = "skills"


declare_labels(
    Strategy,
    {
        Strategy.ROUND_ROBIN: _mark("assignment strategy", "Round robin"),
        Strategy.LEAST_LOADED: _mark("assignment strategy", "Least loaded"),
        Strategy.SKILLS: _mark("assignment strategy", "Skills"),
    },
)


E = TypeVar("E", bound=Enum)


def _member(enum: type[E], value: E | str) -> E:
    # A member's value (as JSON or a form gives it) becomes the member; anything else is
    # left for the field's check to reject.
    if type(value) is str:
        try:
            return enum(value)
        except ValueError:
            pass
    return value  # type: ignore[return-value]  # left for the check to reject


def _tier(value: CustomerTier | str) -> CustomerTier:
    return _member(CustomerTier, value)


def _grade(value: AgentGrade | str) -> AgentGrade:
    return _member(AgentGrade, value)


def _optional_grade(value: AgentGrade | str | None) -> AgentGrade | None:
    return None if value is None else _member(AgentGrade, value)


def _strategy(value: Strategy | str) -> Strategy:
    return _member(Strategy, value)


@attrs.frozen
class GradeRule(Checked):
    """Customers of ``customer_tier`` or above need an agent of at least ``min_grade``.

    >>> GradeRule(CustomerTier.VIP, AgentGrade.SENIOR).min_grade
    <AgentGrade.SENIOR: 'senior'>
    """

    customer_tier: CustomerTier = attrs.field(
        converter=_tier, metadata=checked(member_of(CustomerTier))
    )
    min_grade: AgentGrade = attrs.field(converter=_grade, metadata=checked(member_of(AgentGrade)))

    def applies(self, customer: Customer | None) -> bool:
        """True when ``customer`` is known and of this rule's tier or above."""
        return customer is not None and customer.tier >= self.customer_tier


def _weights(value: Mapping[str, int]) -> dict[str, int]:
    # A copy keyed by plain channel keys, so the caller's dict cannot change the policy.
    if isinstance(value, Mapping):
        return {(k.value if isinstance(k, Enum) else k): v for k, v in value.items()}
    return value  # left for the check to reject


def _weights_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not dict:
        yield "", f"expected a mapping of channel keys to weights, got {describe(value)}"
        return
    for k in sorted(value, key=repr):
        w = value[k]
        if type(k) is not str or KEY_PATTERN.fullmatch(k) is None:
            yield f"[{describe(k)}]", f"expected a channel key as the key, got {describe(k)}"
        elif type(w) is not int or not 1 <= w <= MAX_WEIGHT:
            yield (
                f"[{k!r}]",
                f"expected a weight, an integer from 1 to {MAX_WEIGHT} capacity units, "
                f"got {describe(w)}",
            )


def _weights_ok(value: object) -> bool:
    return type(value) is dict and all(
        type(k) is str
        and KEY_PATTERN.fullmatch(k) is not None
        and type(w) is int
        and 1 <= w <= MAX_WEIGHT
        for k, w in value.items()
    )


_weights_check = Check(_weights_ok, _weights_explain, types=(dict,))


def _skills(value: Iterable[str]) -> frozenset[str]:
    return frozen_set_of_str(value)


def _grade_rules(value: Iterable[GradeRule]) -> tuple[GradeRule, ...]:
    return tuple_of(value)


def _grade_rules_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of GradeRule, got {describe(value)}"
        return
    seen: dict[CustomerTier, int] = {}
    for i, item in enumerate(value):
        if not isinstance(item, GradeRule):
            yield f"[{i}]", f"expected a GradeRule, got {describe(item)}"
        elif item.customer_tier in seen:
            yield (
                f"[{i}].customer_tier",
                f"customer tier {item.customer_tier.value!r} already has a rule: "
                f"[{seen[item.customer_tier]}]",
            )
        else:
            seen[item.customer_tier] = i


@attrs.frozen
class AssignmentPolicy(Checked):
    """How the group ``group_id`` assigns its tickets, and when it overflows.

    * ``channel_weights``: capacity units a ticket of a channel takes (default
      1; each weight from 1 to :data:`MAX_WEIGHT`); a weight at or above an
      agent's ``max_load`` fills that agent (a phone call).
    * ``required_skills``: every eligible agent has them (any strategy).
    * ``optional_skills``: rank agents under the ``SKILLS`` strategy (refused
      with another strategy); ignored once the ticket waited
      ``drop_optional_after``.
    * ``min_grade`` and ``grade_rules``: the lowest agent grade, overall and
      per customer tier (one rule per tier).
    * ``overflow_queue``, ``overflow_wait``: the group is over its threshold when
      at least ``overflow_queue`` tickets wait unassigned in it, or the oldest
      has waited at least ``overflow_wait``; routing then moves on to the group
      its :class:`~csdomain.people.Group` names in ``overflow_to``.

    >>> from datetime import timedelta
    >>> policy = AssignmentPolicy(group_id="grp_branch", channel_weights={"phone_hotline": 5},
    ...                           overflow_queue=3)
    >>> policy.weight("phone_hotline"), policy.weight("email")
    (5, 1)
    """

    group_id: str = attrs.field(metadata=checked(key("group id")))
    strategy: Strategy = attrs.field(
        default=Strategy.ROUND_ROBIN, converter=_strategy, metadata=checked(member_of(Strategy))
    )
    channel_weights: dict[str, int] = attrs.field(
        factory=dict, converter=_weights, metadata=checked(_weights_check)
    )
    required_skills: frozenset[str] = attrs.field(
        factory=frozenset, converter=_skills, metadata=checked(tags_check)
    )
    optional_skills: frozenset[str] = attrs.field(
        factory=frozenset, converter=_skills, metadata=checked(tags_check)
    )
    drop_optional_after: timedelta | None = attrs.field(
        default=None, metadata=checked(optional(duration(allow_zero=False)))
    )
    min_grade: AgentGrade | None = attrs.field(
        default=None, converter=_optional_grade, metadata=checked(optional(member_of(AgentGrade)))
    )
    grade_rules: tuple[GradeRule, ...] = attrs.field(
        default=(), converter=_grade_rules, metadata=checked(Check.of(_grade_rules_explain))
    )
    overflow_queue: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=1, maximum=1_000_000_000)))
    )
    overflow_wait: timedelta | None = attrs.field(
        default=None, metadata=checked(optional(duration(allow_zero=False)))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        both = self.required_skills & self.optional_skills
        if both:
            yield (
                "optional_skills",
                f"skills {sorted(both)!r} are also required; a skill is required or optional",
            )
        if self.optional_skills and self.strategy is not Strategy.SKILLS:
            yield (
                "optional_skills",
                f"optional skills rank agents only under the 'skills' strategy, "
                f"not {self.strategy.value!r}",
            )
        if self.drop_optional_after is not None and not self.optional_skills:
            yield "drop_optional_after", "there are no optional skills to drop"

    def weight(self, channel: str) -> int:
        """The capacity units a ticket of ``channel`` takes (1 unless configured)."""
        return self.channel_weights.get(channel, 1)

    def units(self, channel: str, agent: Agent) -> int:
        """The units a ticket of ``channel`` takes from ``agent``: its weight, at most the
        agent's ``max_load`` (what the caller adds to the agent's :class:`AgentLoad`)."""
        return min(self.weight(channel), agent.max_load)

    def is_over(self, queue_length: int, oldest_wait: timedelta | None) -> str | None:
        """Which threshold a queue of ``queue_length`` whose oldest ticket waited
        ``oldest_wait`` passes (an English phrase), or None when none."""
        if self.overflow_queue is not None and queue_length >= self.overflow_queue:
            return (
                f"its queue of {queue_length} reached the overflow threshold "
                f"of {self.overflow_queue}"
            )
        if (
            self.overflow_wait is not None
            and oldest_wait is not None
            and oldest_wait >= self.overflow_wait
        ):
            return (
                f"its oldest ticket waited {oldest_wait}, at least the overflow wait "
                f"of {self.overflow_wait}"
            )
        return None


@attrs.frozen
class RoundRobinCursor(Checked):
    """Where a group's round robin stands: the agent assigned last and how many so far.

    The caller persists it (version-checked) and passes it back in
    :class:`GroupState`, so the rotation survives restarts and is shared by workers.
    """

    group_id: str = attrs.field(metadata=checked(key("group id")))
    last_agent_id: str | None = attrs.field(
        default=None, metadata=checked(optional(key("agent id")))
    )
    assigned: int = attrs.field(default=0, metadata=checked(integer(minimum=0, maximum=2**63 - 1)))

    def advanced(self, agent_id: str) -> RoundRobinCursor:
        """The cursor after assigning to ``agent_id``."""
        return RoundRobinCursor(self.group_id, agent_id, self.assigned + 1)


for _name, _cls in (
    ("grade_rule", GradeRule),
    ("assignment_policy", AssignmentPolicy),
    ("round_robin_cursor", RoundRobinCursor),
):
    declare_document(_name, _cls)


class AgentLoad(NamedTuple):
    """An agent's current work: capacity ``units`` in use and open ``tickets``.

    ``units`` sums, over the agent's assigned unsolved tickets in every group,
    the units each takes (:meth:`AssignmentPolicy.units`).
    """

    agent_id: str
    units: int
    tickets: int


def _state_problems(state: GroupState) -> Iterator[tuple[str, str]]:
    if not isinstance(state.group, Group):
        yield "group", f"expected a Group, got {describe(state.group)}"
        return
    gid = state.group.id
    if not isinstance(state.policy, AssignmentPolicy):
        yield "policy", f"expected an AssignmentPolicy, got {describe(state.policy)}"
    elif state.policy.group_id != gid:
        yield (
            "policy.group_id",
            f"the policy is for group {state.policy.group_id!r}, not {gid!r}",
        )
    if not isinstance(state.members, tuple):
        yield "members", f"expected a sequence of Agent, got {describe(state.members)}"
        return
    for name in ("presence", "loads"):
        if not isinstance(getattr(state, name), Mapping):
            yield name, f"expected a mapping by agent id, got {describe(getattr(state, name))}"
            return
    seen: set[str] = set()
    for i, agent in enumerate(state.members):
        if not isinstance(agent, Agent):
            yield f"members[{i}]", f"expected an Agent, got {describe(agent)}"
        elif agent.id in seen:
            yield f"members[{i}].id", f"agent {agent.id!r} is listed twice"
        else:
            seen.add(agent.id)
    for agent_id, load in state.loads.items():
        if not isinstance(load, AgentLoad) or load.agent_id != agent_id:
            yield f"loads[{agent_id!r}]", f"expected the AgentLoad of {agent_id!r}"
        elif type(load.units) is not int or load.units < 0:
            yield f"loads[{agent_id!r}].units", f"expected units >= 0, got {describe(load.units)}"
    for agent_id, presence in state.presence.items():
        if not isinstance(presence, Presence):
            yield f"presence[{agent_id!r}]", f"expected a Presence, got {describe(presence)}"
    if type(state.queue_length) is not int or state.queue_length < 0:
        yield "queue_length", f"expected an integer >= 0, got {describe(state.queue_length)}"
    if state.oldest_wait is not None and (
        not isinstance(state.oldest_wait, timedelta) or state.oldest_wait < timedelta(0)
    ):
        yield "oldest_wait", f"expected None or a duration >= 0, got {describe(state.oldest_wait)}"
    if state.cursor is not None:
        if not isinstance(state.cursor, RoundRobinCursor):
            yield "cursor", f"expected a RoundRobinCursor, got {describe(state.cursor)}"
        elif state.cursor.group_id != gid:
            yield (
                "cursor.group_id",
                f"the cursor is of group {state.cursor.group_id!r}, not {gid!r}",
            )


def _members(value: Iterable[Agent]) -> tuple[Agent, ...]:
    return tuple_of(value)


@attrs.frozen
class GroupState:
    """What routing needs to know about one group now.

    ``presence`` overrides ``agent.presence`` for the agents it holds; ``loads``
    holds each agent's :class:`AgentLoad` (an agent absent from it has none);
    ``queue_length`` is how many tickets wait unassigned in the group and
    ``oldest_wait`` how long the oldest of them has waited (None: none waits),
    as the caller counts them; ``cursor`` is the group's round-robin cursor
    (None: none yet); ``calendar`` the group's opening hours (None: always open).
    Construction refuses inconsistent state (a policy or cursor of another
    group, an agent listed twice) with a :class:`~csdomain.errors.ValidationError`.
    """

    group: Group
    policy: AssignmentPolicy
    members: tuple[Agent, ...] = attrs.field(converter=_members)
    presence: Mapping[str, Presence] = attrs.field(factory=dict)
    loads: Mapping[str, AgentLoad] = attrs.field(factory=dict)
    queue_length: int = 0
    oldest_wait: timedelta | None = None
    cursor: RoundRobinCursor | None = None
    calendar: Calendar | None = None

    def __attrs_post_init__(self) -> None:
        problems = list(_state_problems(self))
        if problems:
            raise ValidationError("GroupState", problems)

    def over_threshold(self) -> str | None:
        """Which overflow threshold the group passes (an English phrase), or None."""
        return self.policy.is_over(self.queue_length, self.oldest_wait)


def required_grade(
    policy: AssignmentPolicy, customer: Customer | None, min_grade: AgentGrade | None = None
) -> tuple[AgentGrade | None, str]:
    """The lowest grade an agent needs under ``policy`` for ``customer``, and why.

    The highest of the policy's ``min_grade``, the ``min_grade`` of every grade
    rule matching the customer (``customer.tier >= rule.customer_tier``) and
    ``min_grade``; ``(None, "")`` when none applies.
    """
    found: AgentGrade | None = None
    why = ""
    if policy.min_grade is not None:
        found, why = policy.min_grade, "the group's minimum grade"
    for rule in policy.grade_rules:
        if rule.applies(customer) and (found is None or rule.min_grade > found):
            found = rule.min_grade
            why = f"the grade rule for {rule.customer_tier.value} customers"
    if min_grade is not None and (found is None or min_grade > found):
        found, why = min_grade, "the grade asked for"
    return found, why


def _load_compare(a: tuple[int, int, str], b: tuple[int, int, str]) -> int:
    # (units, max_load, id): units/max_load ascending, exactly, then id.
    left, right = a[0] * b[1], b[0] * a[1]
    if left != right:
        return -1 if left < right else 1
    return -1 if a[2] < b[2] else (1 if a[2] > b[2] else 0)


_load_key = functools.cmp_to_key(_load_compare)


def choose_agent(
    state: GroupState,
    ticket: Ticket,
    customer: Customer | None,
    *,
    now: datetime,
    waited: timedelta,
    role: Role | None = None,
    min_grade: AgentGrade | None = None,
) -> tuple[str | None, RoundRobinCursor | None, tuple[str, ...]]:
    """An eligible agent of ``state``'s group for ``ticket``, chosen by the policy's
    strategy: ``(agent id or None, the new round-robin cursor or None, trace)``.

    ``waited`` is how long the ticket has waited for an agent (it decides when
    optional skills are dropped). See :mod:`csdomain.routing.assignment` for the
    eligibility rules and the strategies.
    """
    ensure_aware(now, "choose_agent", "now")
    if not isinstance(waited, timedelta) or waited < timedelta(0):
        raise ValidationError.single(
            "choose_agent", "waited", f"expected a duration >= 0, got {describe(waited)}"
        )
    if role is not None and not isinstance(role, Role):
        raise ValidationError.single(
            "choose_agent", "role", f"expected a Role or None, got {describe(role)}"
        )
    if min_grade is not None and not isinstance(min_grade, AgentGrade):
        raise ValidationError.single(
            "choose_agent",
            "min_grade",
            f"expected an AgentGrade or None, got {describe(min_grade)}",
        )
    group, policy = state.group, state.policy
    gid = group.id
    trace: list[str] = []
    if state.calendar is not None and not state.calendar.is_open(now):
        trace.append(
            f"group {gid!r} is closed at {now.isoformat()} "
            f"(calendar {state.calendar.name!r}): no agent"
        )
        return None, None, tuple(trace)
    channel = ticket.channel
    weight = policy.weight(channel)
    grade, grade_why = required_grade(policy, customer, min_grade)
    eligible: list[Agent] = []
    members = sorted(state.members, key=_agent_id)
    for agent in members:
        why = _ineligible(agent, state, channel, weight, grade, grade_why, role)
        if why is None:
            eligible.append(agent)
        else:
            trace.append(f"agent {agent.id!r} is not eligible: {why}")
    if not eligible:
        trace.append(
            f"group {gid!r} has no eligible agent among {len(members)} members: "
            "the ticket waits in its queue"
        )
        return None, None, tuple(trace)
    names = ", ".join(repr(a.id) for a in eligible)
    trace.append(f"group {gid!r}: eligible agents {names}")
    strategy = policy.strategy
    if strategy is Strategy.ROUND_ROBIN:
        cursor = state.cursor or RoundRobinCursor(gid)
        last = cursor.last_agent_id
        chosen = next((a for a in eligible if last is not None and a.id > last), eligible[0])
        if last is None:
            trace.append(f"round robin: agent {chosen.id!r}, the first eligible (no one yet)")
        else:
            trace.append(
                f"round robin: agent {chosen.id!r}, the next eligible after {last!r}"
                + (" (wrapped around)" if chosen.id <= last else "")
            )
        return chosen.id, cursor.advanced(chosen.id), tuple(trace)
    if strategy is Strategy.LEAST_LOADED:
        chosen = min(eligible, key=lambda a: _load_key(_load_of(a, state)))
        units = _load_of(chosen, state)[0]
        trace.append(
            f"least loaded: agent {chosen.id!r} with {units} of {chosen.max_load} units in use"
        )
        return chosen.id, None, tuple(trace)
    dropped = policy.drop_optional_after is not None and waited >= policy.drop_optional_after
    optional_skills = frozenset() if dropped else policy.optional_skills

    def rank(agent: Agent) -> tuple[int, object]:
        return (-len(agent.skills & optional_skills), _load_key(_load_of(agent, state)))

    chosen = min(eligible, key=rank)
    units = _load_of(chosen, state)[0]
    if dropped:
        trace.append(
            f"skills: optional skills dropped after waiting {waited} "
            f"(at least {policy.drop_optional_after})"
        )
    matched = sorted(chosen.skills & optional_skills)
    trace.append(
        f"skills: agent {chosen.id!r} with optional skills {matched!r}, "
        f"{units} of {chosen.max_load} units in use"
    )
    return chosen.id, None, tuple(trace)


def _agent_id(agent: Agent) -> str:
    return agent.id


def _load_of(agent: Agent, state: GroupState) -> tuple[int, int, str]:
    load = state.loads.get(agent.id)
    return (0 if load is None else load.units, agent.max_load, agent.id)


def _ineligible(
    agent: Agent,
    state: GroupState,
    channel: str,
    weight: int,
    grade: AgentGrade | None,
    grade_why: str,
    role: Role | None,
) -> str | None:
    gid = state.group.id
    if gid not in agent.groups:
        return f"not a member of group {gid!r}"
    presence = state.presence.get(agent.id, agent.presence)
    if presence is not Presence.ONLINE:
        return f"{presence.value}, not online"
    if agent.max_load == 0:
        return "parked (max load 0)"
    load = state.loads.get(agent.id)
    units = 0 if load is None else load.units
    take = min(weight, agent.max_load)
    if units + take > agent.max_load:
        return (
            f"no room: {units} of {agent.max_load} units in use and a {channel} ticket takes {take}"
        )
    missing = state.policy.required_skills - agent.skills
    if missing:
        return f"lacks required skills {sorted(missing)!r}"
    if grade is not None and agent.grade < grade:
        return f"grade {agent.grade.value}, below {grade.value} ({grade_why})"
    if role is not None and role not in agent.roles:
        return f"does not have the role {role.value}"
    return None
