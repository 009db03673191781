"""The desk's configuration, checked as a whole: SLA, people, routing and escalation.

A :class:`DeskSetup` is data (it serializes as the document ``"desk_setup"``), built
once when the app starts or loads its configuration. Construction refuses, with one
:class:`~csdomain.errors.ValidationError` listing every problem, anything that would
otherwise fail later on one unlucky ticket: two groups or agents sharing an id, an
agent in a group the desk lacks, a group at a tier the ladder lacks or counting
hours in a calendar the SLA setup lacks, triage or assignment naming unknown
groups, a cycle in overflow targets, and escalation rules naming an unknown tier,
group, agent or calendar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    duration,
    each,
    instance,
    optional,
    tuple_of,
)
from csdomain.errors import NotFoundError
from csdomain.escalation import EscalationRule, check_rules
from csdomain.people import Agent, EscalationLadder, Group
from csdomain.routing import AssignmentPolicy, Strategy, Triage, check_routing
from csdomain.sla import SlaSetup
from csdomain.sla.policy import Calendar

__all__ = ["MAX_ATTEMPTS", "DeskSetup"]

#: How many times a command is tried when another writer changed the ticket first.
MAX_ATTEMPTS: Final = 12


def _groups(value: Iterable[Group]) -> tuple[Group, ...]:
    return tuple_of(value)


def _agents(value: Iterable[Agent]) -> tuple[Agent, ...]:
    return tuple_of(value)


def _policies(value: Iterable[AssignmentPolicy]) -> tuple[AssignmentPolicy, ...]:
    return tuple_of(value)


def _rules(value: Iterable[EscalationRule]) -> tuple[EscalationRule, ...]:
    return tuple_of(value)


def _ladder() -> EscalationLadder:
    return EscalationLadder.default()


def _duplicate_ids(field: str, what: str, ids: Iterable[str]) -> Iterator[tuple[str, str]]:
    seen: dict[str, int] = {}
    for i, id in enumerate(ids):
        if id in seen:
            yield f"{field}[{i}].id", f"{what} id {id!r} is already used by {field}[{seen[id]}]"
        else:
            seen[id] = i


def _desk_path(path: str, position: Mapping[str, int]) -> str:
    """A routing problem's path among the setup's fields: routing names the policies
    ``policies[i]`` (here ``assignment[i]``) and groups by id (here by position)."""
    if path.startswith("policies"):
        return "assignment" + path[len("policies") :]
    match = re.match(r"groups\[('[^']*'|\"[^\"]*\")\](.*)", path)
    if match:
        group_id = match.group(1)[1:-1]
        if group_id in position:
            return f"groups[{position[group_id]}]{match.group(2)}"
    return path


def _groups_check(value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, tuple) and not value:
        yield "", "a desk needs at least one group"
        return
    yield from each(instance(Group, "a Group"), tuple).explain(value)


@attrs.frozen
class DeskSetup(Checked):
    """Everything a :class:`~csdomain.helpdesk.HelpDesk` is configured with.

    ``sla`` holds the SLA policies and every calendar the desk counts in (group
    calendars included). ``groups`` and ``agents`` are the roster (an agent may
    sit in several groups; presence changes at run time through
    :meth:`HelpDesk.set_presence <csdomain.helpdesk.HelpDesk.set_presence>`).
    ``triage`` chooses a new ticket's group (None: every ticket goes to the first
    group); ``assignment`` says how each group assigns (a group without a policy
    assigns round robin); ``escalation`` lists the rules sweeps and commands fire.
    ``default_region`` is the region phone numbers without a country code are
    read in (``"CN"``), for finding customers by contact.
    """

    sla: SlaSetup = attrs.field(metadata=checked(instance(SlaSetup, "an SlaSetup")))
    groups: tuple[Group, ...] = attrs.field(
        converter=_groups, metadata=checked(Check.of(_groups_check))
    )
    agents: tuple[Agent, ...] = attrs.field(
        default=(), converter=_agents, metadata=checked(each(instance(Agent, "an Agent"), tuple))
    )
    ladder: EscalationLadder = attrs.field(
        factory=_ladder, metadata=checked(instance(EscalationLadder, "an EscalationLadder"))
    )
    triage: Triage | None = attrs.field(
        default=None, metadata=checked(optional(instance(Triage, "a Triage")))
    )
    assignment: tuple[AssignmentPolicy, ...] = attrs.field(
        default=(),
        converter=_policies,
        metadata=checked(each(instance(AssignmentPolicy, "an AssignmentPolicy"), tuple)),
    )
    escalation: tuple[EscalationRule, ...] = attrs.field(
        default=(),
        converter=_rules,
        metadata=checked(each(instance(EscalationRule, "an EscalationRule"), tuple)),
    )
    default_region: str | None = attrs.field(default=None)
    unassigned_grace: timedelta | None = attrs.field(
        default=None, metadata=checked(optional(duration(allow_zero=False)))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        yield from _duplicate_ids("groups", "group", (g.id for g in self.groups))
        yield from _duplicate_ids("agents", "agent", (a.id for a in self.agents))
        group_ids = {g.id for g in self.groups}
        known_groups = ", ".join(sorted(group_ids))
        for i, agent in enumerate(self.agents):
            for j, member_of in enumerate(agent.groups):
                if member_of not in group_ids:
                    yield (
                        f"agents[{i}].groups[{j}]",
                        f"agent {agent.id!r} is in group {member_of!r}, which the desk lacks; "
                        f"groups: {known_groups}",
                    )
        tiers = {t.key for t in self.ladder.tiers}
        calendars = {c.name for c in self.sla.calendars}
        for i, group in enumerate(self.groups):
            if group.tier not in tiers:
                yield (
                    f"groups[{i}].tier",
                    f"group {group.id!r} works at tier {group.tier!r}, which the ladder lacks; "
                    f"tiers: {', '.join(t.key for t in self.ladder.tiers)}",
                )
            if group.calendar is not None and group.calendar not in calendars:
                yield (
                    f"groups[{i}].calendar",
                    f"group {group.id!r} names calendar {group.calendar!r}, which the SLA "
                    f"setup lacks; calendars: {', '.join(sorted(calendars)) or 'none'}",
                )
        by_id = {g.id: g for g in self.groups}
        triage = self.triage or Triage(rules=(), default_group=self.groups[0].id)
        position = {g.id: i for i, g in enumerate(self.groups)}
        for path, message in check_routing(
            triage, self.assignment, groups=by_id, agents={a.id for a in self.agents}
        ):
            yield _desk_path(path, position), message
        for path, message in check_rules(
            self.escalation,
            ladder=self.ladder,
            groups=group_ids,
            agents={a.id for a in self.agents},
            calendars=calendars,
        ):
            yield f"escalation{path if path.startswith('[') else '.' + path}", message

    # -- lookups -------------------------------------------------------------------

    @property
    def group_by_id(self) -> Mapping[str, Group]:
        """The groups by id."""
        return {g.id: g for g in self.groups}

    def group(self, group_id: str) -> Group:
        """The group ``group_id``; ``NotFoundError`` naming the desk's groups if none."""
        for group in self.groups:
            if group.id == group_id:
                return group
        known = ", ".join(g.id for g in self.groups)
        raise NotFoundError("group", group_id, f"the desk has: {known}")

    def agent(self, agent_id: str) -> Agent:
        """The agent ``agent_id``; ``NotFoundError`` naming the desk's agents if none."""
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        known = ", ".join(a.id for a in self.agents) or "none"
        raise NotFoundError("agent", agent_id, f"the desk has: {known}")

    def policy_for(self, group_id: str) -> AssignmentPolicy:
        """How group ``group_id`` assigns (round robin unless a policy says otherwise)."""
        for policy in self.assignment:
            if policy.group_id == group_id:
                return policy
        return AssignmentPolicy(group_id=group_id, strategy=Strategy.ROUND_ROBIN)

    def calendar_of(self, group: Group) -> Calendar | None:
        """The calendar of ``group``'s opening hours (None: always open)."""
        return None if group.calendar is None else self.sla.calendar(group.calendar)

    def triage_rules(self) -> Triage:
        """The triage rule set (the first group by default)."""
        return self.triage or Triage(rules=(), default_group=self.groups[0].id)

    def __repr__(self) -> str:
        return (
            f"DeskSetup(groups={len(self.groups)}, agents={len(self.agents)}, "
            f"policies={len(self.sla.policies)}, rules={len(self.escalation)})"
        )


declare_document("desk_setup", DeskSetup)
