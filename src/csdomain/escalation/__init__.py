"""Escalation: rules as data (trigger, condition, actions) and their pure evaluation.

An :class:`EscalationRule` fires when its :class:`Trigger` holds for a ticket
whose customer and state its condition matches: an SLA warning or breach, a
request for a senior agent, a complaint, repeated reopens, time unassigned or
waiting on the customer, a priority. Its :class:`Action` list then raises the
tier, moves the group, raises the priority, assigns an agent or queues
notifications whose delivery instant lies in the receiving group's open hours.

A rule fires at most once per ticket per ``(rule name, trigger key, cycle)``:
each firing is recorded in the ticket's timeline as a :class:`RuleFired` event
and :func:`due_firings` reads those records, so evaluation is idempotent
however often sweeps run and however many workers run them (their saves are
version-checked by storage). The exact semantics of every trigger (when it
holds, its cycle, its instant) are in :mod:`csdomain.escalation.evaluation`.

The package's modules: :mod:`~csdomain.escalation.rules` (configuration and
:func:`check_rules`), :mod:`~csdomain.escalation.events` (the timeline events)
and :mod:`~csdomain.escalation.evaluation` (:func:`due_firings`,
:func:`next_check`, :func:`apply_firing`). Nothing here reads a clock or
storage.

>>> from datetime import datetime, timedelta, timezone
>>> from csdomain.calendars import BusinessCalendar
>>> from csdomain.people import EscalationLadder, Group
>>> from csdomain.sla import MetricPolicy, SlaPolicy, SlaSetup, Target, evaluate
>>> from csdomain.tickets import Ticket
>>> desk = BusinessCalendar.weekdays("desk", "UTC", "09:00-17:00")
>>> setup = SlaSetup(
...     [SlaPolicy("std", [MetricPolicy("first_response", {"normal": Target(
...         timedelta(hours=1), "desk")})])],
...     [desk],
... )
>>> rule = EscalationRule(
...     "breach-to-l2",
...     Trigger.sla_breach("first_response"),
...     [Action.raise_tier(), Action.notify(groups=["l2"])],
... )
>>> opened = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # a Tuesday
>>> ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email",
...                      subject="Refund", at=opened)
>>> now = datetime(2026, 12, 1, 16, 30, tzinfo=timezone.utc)
>>> [firing] = due_firings([rule], ticket, evaluate(ticket, setup, now),
...                        customer=None, now=now, calendars={"desk": desk})
>>> firing.reason
'first_response breached at 2026-12-01T10:00:00+00:00 (target 1:00:00)'
>>> after = apply_firing(
...     ticket, firing, at=now, ladder=EscalationLadder.default(),
...     groups={"l2": Group("l2", "Engineers", tier="L2", calendar="desk")},
...     calendars={"desk": desk}, choose_agent=lambda ticket, action: None,
... )
>>> after.tier
'L2'
>>> [e.deliver_at.isoformat() for e in after.timeline if isinstance(e, NotificationQueued)]
['2026-12-01T16:30:00+00:00']
>>> due_firings([rule], after, evaluate(after, setup, now), customer=None, now=now,
...             calendars={"desk": desk})
()
"""

from __future__ import annotations

from csdomain.escalation.evaluation import (
    Firing,
    apply_firing,
    due_firings,
    next_check,
    trigger_key,
)
from csdomain.escalation.events import NotificationQueued, RuleFired, SeniorAgentRequested
from csdomain.escalation.rules import (
    Action,
    ActionKind,
    EscalationRule,
    Trigger,
    TriggerKind,
    check_rules,
)

__all__ = [
    "Action",
    "ActionKind",
    "EscalationRule",
    "Firing",
    "NotificationQueued",
    "RuleFired",
    "SeniorAgentRequested",
    "Trigger",
    "TriggerKind",
    "apply_firing",
    "check_rules",
    "due_firings",
    "next_check",
    "trigger_key",
]
