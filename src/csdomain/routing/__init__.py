"""Routing: triage a ticket to a group, overflow when the group is over its threshold,
and assign it to an agent of the group reached. Pure: no clock, no I/O.

* :mod:`csdomain.routing.triaging`: :class:`TriageRule`, :class:`Triage`,
  :func:`triage` (the first matching rule chooses the group).
* :mod:`csdomain.routing.assignment`: :class:`Strategy`, :class:`GradeRule`,
  :class:`AssignmentPolicy`, :class:`RoundRobinCursor`, :class:`AgentLoad`,
  :class:`GroupState`, :func:`choose_agent` (eligibility and the strategies).
* :mod:`csdomain.routing.overflow`: :func:`overflow_chain`, :func:`route`,
  :class:`RoutingDecision`, :func:`check_routing`.

Configuration (:class:`TriageRule`, :class:`Triage`, :class:`AssignmentPolicy`,
:class:`GradeRule`) and the :class:`RoundRobinCursor` are immutable, validated
values that serialize with :mod:`csdomain.serialization`.

>>> from datetime import datetime, timedelta, timezone
>>> from csdomain.people import Agent, Group, Presence
>>> from csdomain.tickets import Ticket
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email",
...                      subject="Refund please", at=at)
>>> rules = Triage(rules=(TriageRule(name="refunds", group_id="branch", keywords=("refund",)),),
...                default_group="hq")
>>> triage(rules, ticket, None)[:2]
('branch', 'refunds')
>>> branch, hq = Group("branch", "Branch", overflow_to="hq"), Group("hq", "Headquarters")
>>> ann = Agent("agt_ann", "Ann", presence=Presence.ONLINE, groups=("branch", "hq"))
>>> states = {
...     "branch": GroupState(branch, AssignmentPolicy("branch", overflow_queue=3), (ann,),
...                          queue_length=3),
...     "hq": GroupState(hq, AssignmentPolicy("hq"), (ann,)),
... }
>>> decision = route(ticket, None, group_id="branch", states=states, now=at,
...                  waited=timedelta(0))
>>> decision.group_id, decision.agent_id, decision.cursor.assigned
('hq', 'agt_ann', 1)
>>> decision.trace[0]
"group 'branch': its queue of 3 reached the overflow threshold of 3: overflow to 'hq'"
"""

from __future__ import annotations

from csdomain.routing.assignment import (
    MAX_WEIGHT,
    AgentLoad,
    AssignmentPolicy,
    GradeRule,
    GroupState,
    RoundRobinCursor,
    Strategy,
    choose_agent,
    required_grade,
)
from csdomain.routing.events import Routed
from csdomain.routing.overflow import RoutingDecision, check_routing, overflow_chain, route
from csdomain.routing.triaging import Triage, TriageRule, locale_matches, triage

__all__ = [
    "MAX_WEIGHT",
    "AgentLoad",
    "AssignmentPolicy",
    "GradeRule",
    "GroupState",
    "RoundRobinCursor",
    "Routed",
    "RoutingDecision",
    "Strategy",
    "Triage",
    "TriageRule",
    "check_routing",
    "choose_agent",
    "locale_matches",
    "overflow_chain",
    "required_grade",
    "route",
    "triage",
]
