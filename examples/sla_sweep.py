"""An SLA sweep: evaluate open tickets, find breaches, and know when to look again.

A job runner keeps the policies and calendars as configuration (JSON documents
in its database), evaluates each open ticket at the sweep instant, acts on
breaches and warnings, and schedules the next sweep of each ticket at its
``next_deadline``.

Run: python examples/sla_sweep.py
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from csdomain import (
    Actor,
    BusinessCalendar,
    ExtraWorkday,
    Holiday,
    MetricPolicy,
    Priority,
    SlaMetric,
    SlaPolicy,
    Status,
    Target,
    Ticket,
)
from csdomain.conditions import Equals
from csdomain.serialization import from_json, to_json
from csdomain.sla import SlaSetup, evaluate, explain

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)

desk = BusinessCalendar.weekdays(
    "shanghai-desk",
    "Asia/Shanghai",
    "09:00-12:00",
    "13:30-18:00",
    holidays=[Holiday(date(2026, 10, day), "National Day") for day in range(1, 8)],
    extra_workdays=[ExtraWorkday(date(2026, 10, 10), "make-up day", ("09:00-18:00",))],
)
urgent = SlaPolicy(
    name="urgent",
    condition=Equals("ticket.priority", "urgent"),
    metrics=[
        MetricPolicy(SlaMetric.FIRST_RESPONSE, {Priority.URGENT: Target(HOUR / 4)}),
        MetricPolicy(SlaMetric.RESOLUTION, {Priority.URGENT: Target(4 * HOUR)}),
    ],
)
standard = SlaPolicy(
    name="standard",
    metrics=[
        MetricPolicy(
            SlaMetric.FIRST_RESPONSE,
            dict.fromkeys(Priority, Target(2 * HOUR, "shanghai-desk", warnings=(0.5, 0.75))),
        ),
        MetricPolicy(
            SlaMetric.RESOLUTION, dict.fromkeys(Priority, Target(16 * HOUR, "shanghai-desk"))
        ),
    ],
)

# Configuration is data: what the app stores and loads back. The setup checks the
# policies against the calendars once, when it is built: a target naming a calendar
# that is not there fails here, not in the middle of a sweep.
policies = [from_json(to_json(p), SlaPolicy) for p in (urgent, standard)]
calendars = [from_json(to_json(desk), BusinessCalendar)]
setup = SlaSetup(policies, calendars)

agent = Actor.agent("agt_1")
opened = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)  # the afternoon before National Day
tickets = [
    Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="Invoice", at=opened),
    Ticket.open(
        id="tkt_2",
        customer_id="cus_2",
        channel="phone_hotline",
        subject="Payment outage",
        priority=Priority.URGENT,
        at=opened,
    ).add_message(at=opened + HOUR / 6, actor=agent, body="Escalated to L2."),
    Ticket.open(id="tkt_3", customer_id="cus_3", channel="web_chat", subject="Refund", at=opened)
    .add_message(at=opened + HOUR / 2, actor=agent, body="Please send the receipt.")
    .change_status(Status.PENDING, at=opened + HOUR / 2, actor=agent),
]

sweep_at = datetime(2026, 10, 8, 10, 0, tzinfo=SHANGHAI)  # the first morning after the holiday
for ticket in tickets:
    status = evaluate(ticket, setup, sweep_at)
    print(f"{ticket.id} (policy {status.policy}):")
    for metric in status.metrics:
        due = metric.due_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M") if metric.due_at else "-"
        name, state = metric.metric.value, metric.state.value
        print(f"  {name:<15} {state:<9} elapsed {metric.elapsed}  due {due}")
    next_sweep = status.next_deadline
    print("  next sweep:", next_sweep.astimezone(SHANGHAI) if next_sweep else "none needed")

invoice = evaluate(tickets[0], setup, sweep_at)[SlaMetric.FIRST_RESPONSE]
assert invoice.state.value == "breached"
# 2 business hours from Wednesday 16:00: 16:00-18:00 counts, so it was due at closing time.
assert invoice.breached_at == datetime(2026, 9, 30, 18, 0, tzinfo=SHANGHAI)

print()
print(explain(tickets[0], setup, sweep_at).render("zh_CN"))
