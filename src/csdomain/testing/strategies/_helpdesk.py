"""Strategies for the HelpDesk's documents: desk setups, ticket schedules, presence."""

from __future__ import annotations

from datetime import timedelta

import hypothesis.strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain._kernel.validation import KEY_PATTERN
from csdomain.escalation import Action, EscalationRule, Trigger
from csdomain.helpdesk import AgentPresence, DeskSetup, Routed, TicketSchedule, schedule_for
from csdomain.people import Agent, AgentGrade, Group, Presence
from csdomain.routing import AssignmentPolicy, Strategy, Triage, TriageRule
from csdomain.sla import SlaMetric, clock_state, evaluate_clock
from csdomain.testing.strategies._common import aware_datetimes, ids, keys, texts
from csdomain.testing.strategies._people import agents
from csdomain.testing.strategies._sla import sla_setups
from csdomain.testing.strategies._tickets import actors, tickets
from csdomain.testing.strategies.registry import register

__all__ = ["agent_presences", "desk_setups", "routed_events", "ticket_schedules"]

_TIERS = ("L1", "L2", "L3")


def desk_setups(*, max_groups: int = 4, max_agents: int = 6) -> SearchStrategy[DeskSetup]:
    """Valid :class:`~csdomain.helpdesk.DeskSetup` values: 1 to ``max_groups`` groups on
    the default ladder (some overflowing to the next, never in a cycle), up to
    ``max_agents`` agents each in one or more of them, triage to a group, an
    assignment policy for some groups and escalation rules naming only the desk's
    groups and tiers.

    Requires Hypothesis.
    """
    if not isinstance(max_groups, int) or not 1 <= max_groups <= 10:
        raise ValueError(f"desk_setups(max_groups=...) expects 1 to 10, got {max_groups!r}")
    if not isinstance(max_agents, int) or not 0 <= max_agents <= 20:
        raise ValueError(f"desk_setups(max_agents=...) expects 0 to 20, got {max_agents!r}")
    return _desk_setups(max_groups, max_agents)


@st.composite
def _desk_setups(draw: DrawFn, max_groups: int, max_agents: int) -> DeskSetup:
    sla = draw(sla_setups(max_policies=2, max_calendars=2))
    # Groups name calendars by key (the SLA setup's names may be any text).
    calendars = [c.name for c in sla.calendars if KEY_PATTERN.fullmatch(c.name)]
    count = draw(st.integers(1, max_groups))
    group_ids = [f"grp_{i}" for i in range(count)]
    groups = []
    for i, group_id in enumerate(group_ids):
        overflow = group_ids[i + 1] if i + 1 < count and draw(st.booleans()) else None
        groups.append(
            Group(
                group_id,
                f"Group {i}",
                tier=draw(st.sampled_from(_TIERS)),
                overflow_to=overflow,
                calendar=draw(st.sampled_from([None, *calendars])),
            )
        )
    people: list[Agent] = []
    for i in range(draw(st.integers(0, max_agents))):
        member_of = draw(st.lists(st.sampled_from(group_ids), min_size=1, unique=True))
        agent = draw(agents())
        people.append(
            Agent(
                f"agt_{i}",
                agent.name,
                grade=agent.grade,
                skills=agent.skills,
                max_load=agent.max_load,
                presence=agent.presence,
                groups=tuple(member_of),
            )
        )
    triage = Triage(
        rules=tuple(
            TriageRule(name=f"rule_{i}", group_id=group, keywords=(f"word{i}",))
            for i, group in enumerate(draw(st.lists(st.sampled_from(group_ids), max_size=3)))
        ),
        default_group=draw(st.sampled_from(group_ids)),
    )
    assignment = tuple(
        AssignmentPolicy(group, strategy=draw(st.sampled_from(Strategy)))
        for group in draw(st.lists(st.sampled_from(group_ids), unique=True))
    )
    metric = draw(st.sampled_from(SlaMetric))
    rules = (
        EscalationRule(
            name="breach",
            trigger=Trigger.sla_breach(metric),
            actions=(
                Action.raise_tier(),
                Action.notify(groups=(draw(st.sampled_from(group_ids)),)),
            ),
        ),
        EscalationRule(
            name="senior",
            trigger=Trigger.senior_requested(),
            actions=(Action.assign(min_grade=AgentGrade.SENIOR),),
        ),
    )
    return DeskSetup(
        sla=sla,
        groups=tuple(groups),
        agents=tuple(people),
        triage=triage,
        assignment=assignment,
        escalation=draw(st.sampled_from([(), rules])),
        default_region=draw(st.sampled_from([None, "CN", "US"])),
    )


register(DeskSetup, desk_setups)


def ticket_schedules(*, max_events: int = 12) -> SearchStrategy[TicketSchedule]:
    """:class:`~csdomain.helpdesk.TicketSchedule` values as the HelpDesk computes them:
    a generated ticket's clock state under a generated SLA setup, evaluated at the
    ticket's last change or later.

    Requires Hypothesis.
    """
    if not isinstance(max_events, int) or not 1 <= max_events <= 100:
        raise ValueError(f"ticket_schedules(max_events=...) expects 1 to 100, got {max_events!r}")
    return _ticket_schedules(max_events)


@st.composite
def _ticket_schedules(draw: DrawFn, max_events: int) -> TicketSchedule:
    ticket = draw(tickets(max_events=max_events))
    setup = draw(sla_setups(max_policies=2))
    clock = clock_state(ticket, setup)
    later = draw(st.sampled_from([timedelta(0), timedelta(minutes=5), timedelta(days=2)]))
    status = evaluate_clock(clock, setup, ticket.updated_at + later)
    check = draw(st.none() | st.just(ticket.updated_at + later + timedelta(hours=1)))
    return schedule_for(
        ticket, clock, status, check_at=check, setup=draw(st.sampled_from(["", "0123456789abcdef"]))
    )


register(TicketSchedule, ticket_schedules)


def agent_presences() -> SearchStrategy[AgentPresence]:
    """:class:`~csdomain.helpdesk.AgentPresence` values.

    Requires Hypothesis.
    """
    return st.builds(
        AgentPresence,
        agent_id=ids(prefix="agt"),
        presence=st.sampled_from(Presence),
        since=aware_datetimes(),
    )


register(AgentPresence, agent_presences)


def routed_events() -> SearchStrategy[Routed]:
    """:class:`~csdomain.helpdesk.Routed` events: a group, an agent or none (the ticket
    waits in the queue), the triage rule or none, and a few reasons.

    Requires Hypothesis.
    """
    return st.builds(
        Routed,
        at=aware_datetimes(),
        actor=actors(),
        group_id=ids(prefix="grp"),
        assignee_id=st.none() | ids(prefix="agt"),
        rule=st.none() | keys(max_size=20),
        reasons=st.lists(texts(max_size=60), max_size=3).map(tuple),
    )


register(Routed, routed_events)
