"""What mypy sees of the HelpDesk, its setup and its queries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import assert_type

from csdomain.calendars import BusinessCalendar
from csdomain.escalation import Action, EscalationRule, Trigger
from csdomain.helpdesk import DeskSetup, HelpDesk, StatusGroup, SweepReport, TicketSchedule
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import Triage, TriageRule
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, SlaStatus, Target
from csdomain.storage import Page, Stored, open_store
from csdomain.tickets import Actor, Status, Ticket, TicketKind

AT = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)


def setup() -> DeskSetup:
    desk = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
    first = MetricPolicy(SlaMetric.FIRST_RESPONSE, {Priority.NORMAL: Target(timedelta(hours=4))})
    rule = EscalationRule(
        name="late",
        trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
        actions=(Action.raise_tier(), Action.notify(groups=("l2",))),
    )
    return DeskSetup(
        sla=SlaSetup([SlaPolicy("standard", [first])], [desk]),
        groups=(Group("l1", "Frontline"), Group("l2", "Engineering", tier="L2")),
        agents=(Agent("agt_1", "Amy", groups=("l1",)),),
        triage=Triage(rules=(TriageRule(name="all", group_id="l1"),), default_group="l1"),
        escalation=(rule,),
        default_region="CN",
    )


def commands() -> None:
    desk = HelpDesk(open_store("memory:", tenant="t"), setup())
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    assert_type(opened, Stored[Ticket])
    ticket_id = opened.value.id
    assert_type(desk.reply(ticket_id, agent_id="agt_1", body="On it"), Stored[Ticket])
    assert_type(
        desk.set_status(ticket_id, Status.PENDING, actor=Actor.agent("agt_1")), Stored[Ticket]
    )
    assert_type(desk.escalate(ticket_id, actor=Actor.system()), Stored[Ticket])
    assert_type(desk.request_senior_agent(ticket_id), Stored[Ticket])
    assert_type(desk.close_solved_after(7), int)
    assert_type(desk.sweep(AT), SweepReport)
    assert_type(desk.schedule(ticket_id), TicketSchedule)
    assert_type(desk.sla_status(ticket_id), SlaStatus)
    desk.set_presence("agt_1", Presence.ONLINE)
    page = desk.due(
        within=timedelta(hours=1), statuses=StatusGroup.UNSOLVED, kind=TicketKind.COMPLAINT
    )
    assert_type(page, Page[TicketSchedule])
    assert_type(page.items[0].due_at, datetime | None)


def mistakes() -> None:
    desk = HelpDesk(open_store("memory:", tenant="t"), setup())
    desk.open_ticket(contact="13800138000", subject="no channel")  # type: ignore[call-arg]
    desk.set_status("tkt_1", "open", actor=Actor.system())  # type: ignore[arg-type]
    desk.due(within=3600)  # type: ignore[arg-type]
    desk.reply("tkt_1", body="who?")  # type: ignore[call-arg]
