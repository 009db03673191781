"""A morning at a three-line help desk, run through the HelpDesk service.

Tickets come in by phone, e-mail and WeChat; routing places them (round robin
among the frontline agents, firmware questions straight to the engineers); the
support lead asks what is due before lunch; a sweep after 15:00 finds the
unanswered call breached at 14:30 and escalates it to L2, once, however often
it runs.

Run: python examples/helpdesk_day.py
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.escalation import Action, EscalationRule, NotificationQueued, Trigger
from csdomain.helpdesk import DeskSetup, HelpDesk, Routed, StatusGroup
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import AssignmentPolicy, Strategy, Triage, TriageRule
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)

hours = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
first_response = {
    Priority.NORMAL: Target(timedelta(hours=4), calendar="desk", warnings=(0.5,)),
    Priority.HIGH: Target(timedelta(hours=1), calendar="desk"),
}
setup = DeskSetup(
    sla=SlaSetup(
        [SlaPolicy("standard", [MetricPolicy(SlaMetric.FIRST_RESPONSE, first_response)])],
        [hours],
    ),
    groups=(
        Group("l1", "Frontline", tier="L1", calendar="desk"),
        Group("l2", "Engineers", tier="L2", calendar="desk"),
        Group("vendor", "Router vendor", tier="L3", calendar="desk"),
    ),
    agents=(
        Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("l1",)),
        Agent("agt_bob", "Bob", presence=Presence.ONLINE, groups=("l1",)),
        Agent("agt_eng", "Eng", presence=Presence.ONLINE, groups=("l2",)),
        Agent("agt_ven", "Ven", presence=Presence.ONLINE, groups=("vendor",)),
    ),
    triage=Triage(
        rules=(TriageRule(name="firmware", group_id="l2", keywords=("firmware", "固件")),),
        default_group="l1",
    ),
    assignment=(AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
    escalation=(
        EscalationRule(
            "late-first-response",
            Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
            (Action.raise_tier(), Action.move_to_group("l2"), Action.notify(groups=("l2",))),
        ),
    ),
    default_region="CN",
)

clock = FrozenClock(MONDAY)
desk = HelpDesk(
    open_store("memory:", tenant="acme", clock=clock), setup, clock=clock, ids=SequentialIds()
)


def local(instant: datetime | None) -> str:
    """An instant on the desk's wall clock."""
    return instant.astimezone(SHANGHAI).strftime("%a %H:%M") if instant else "-"


print("Intake")
calls = [
    ("13800138000", "phone_hotline", "Router keeps rebooting", Priority.NORMAL),
    ("li.lei@example.com", "email", "Invoice for November", Priority.NORMAL),
    ("+86 138-0013-8000", "phone_hotline", "Still rebooting", Priority.NORMAL),
    ("wx_openid_7f3a", "wechat_official_account", "固件升级失败", Priority.HIGH),
]
opened = []
for contact, channel, subject, priority in calls:
    ticket = desk.open_ticket(
        contact=contact, channel=channel, subject=subject, priority=priority
    ).value
    opened.append(ticket.id)
    routed = [e for e in ticket.timeline if isinstance(e, Routed)][-1]
    print(f"  {ticket.id} {subject!r} from {ticket.customer_id} on {channel}")
    print(f"    -> {ticket.group_id}/{ticket.assignee_id}: {routed.reasons[-1]}")
    clock.advance(minutes=5)
first, invoice, again, firmware = opened
assert desk.ticket(first).value.customer_id == desk.ticket(again).value.customer_id

print("\nThe lead at 10:00: what is due before 15:00, soonest first")
clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI))
for schedule in desk.due(within=timedelta(hours=5), statuses=StatusGroup.UNSOLVED).items:
    metric = schedule.due_metric.value if schedule.due_metric else "-"
    print(f"  {schedule.ticket_id} {metric} due {local(schedule.due_at)} ({schedule.assignee_id})")

clock.set(datetime(2026, 12, 7, 10, 30, tzinfo=SHANGHAI))
desk.reply(invoice, agent_id="agt_bob", body="The invoice is attached.")
desk.reply(again, agent_id="agt_amy", body="Merged with your first call; on it.")
desk.reply(firmware, agent_id="agt_eng", body="请先恢复出厂设置。")

print("\nSweeps")
for at in (
    datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI),
    datetime(2026, 12, 7, 15, 1, tzinfo=SHANGHAI),
    datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI),
):
    report = desk.sweep(at)
    print(f"  {local(at)}: examined {report.examined}, fired {list(report.fired)}")
ticket = desk.ticket(first).value
note = [e for e in ticket.timeline if isinstance(e, NotificationQueued)][-1]
print(f"  {first} is now at {ticket.tier} in {ticket.group_id}, assigned to {ticket.assignee_id}")
print(f"  notification to {note.groups} delivered at {local(note.deliver_at)}")
assert ticket.tier == "L2" and ticket.assignee_id == "agt_eng"

print("\nThe lead at 16:00: breaching or due within two hours, at L2")
clock.set(datetime(2026, 12, 7, 16, 0, tzinfo=SHANGHAI))
for schedule in desk.due(within=timedelta(hours=2), tier="L2").items:
    breached = ", ".join(m.value for m in schedule.breached) or "nothing"
    print(f"  {schedule.ticket_id} due {local(schedule.due_at)}, breached: {breached}")
