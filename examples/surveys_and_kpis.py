"""Satisfaction surveys, KPIs and the annual service report on one small desk.

A desk in Shanghai solves a customer's tickets; a SurveyDesk invites 24 hours after
each solve, the desk's sweeps send and remind, the customer answers by token (once,
even after the ticket is closed); then the desk's KPIs are folded in one pass and in
two merged shards (the same figures), and the customer's annual service report
(年度服务报告) is printed in Simplified Chinese.

Run it with ``python examples/surveys_and_kpis.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.customers import Consent, ContactPoint, Customer
from csdomain.errors import InvitationTokenError
from csdomain.helpdesk import DeskSetup, HelpDesk
from csdomain.helpdesk.surveys import SurveyDesk
from csdomain.ids import SequentialIds
from csdomain.kpis import KpiSet, summarize
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.reports import annual_report, period_report, render
from csdomain.routing import AssignmentPolicy, Strategy
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target, evaluate
from csdomain.storage import open_store
from csdomain.surveys import (
    Invitation,
    LocalizedText,
    Question,
    QuestionKind,
    SurveyKind,
    SurveyPolicy,
    SurveyTemplate,
    SurveyTrigger,
    Throttle,
)
from csdomain.tickets import Actor, TicketKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
SETUP = DeskSetup(
    sla=SlaSetup(
        [
            SlaPolicy(
                "standard",
                [
                    MetricPolicy(
                        SlaMetric.FIRST_RESPONSE,
                        dict.fromkeys(Priority, Target(timedelta(hours=2), calendar="desk")),
                    )
                ],
            )
        ],
        [HOURS],
    ),
    groups=(Group("l1", "Frontline", tier="L1", calendar="desk"),),
    agents=(
        Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("l1",)),
        Agent("agt_bob", "Bob", presence=Presence.ONLINE, groups=("l1",)),
    ),
    assignment=(AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
    default_region="CN",
)
SATISFIED = LocalizedText.of("How satisfied are you?", zh_hans="您对本次服务满意吗？")
TEMPLATE = SurveyTemplate(
    "after-solve",
    1,
    SurveyKind.CSAT,
    LocalizedText.of("Satisfaction survey", zh_hans="满意度调查"),
    [
        Question("csat", QuestionKind.CSAT, SATISFIED),
        Question("nps", QuestionKind.NPS, LocalizedText.of("Would you recommend us?")),
    ],
)
# Ask after every solve (no throttle to speak of), so the report has a score per ticket.
POLICY = SurveyPolicy(
    name="csat-after-solve",
    trigger=SurveyTrigger.TICKET_SOLVED,
    template="after-solve",
    channels=("sms",),
    throttle=Throttle(max_invitations=10, per_days=1),
)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of 2026 in Shanghai."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def consenting(name: str, at: datetime) -> Callable[[Customer], Customer]:
    """Name the customer and record their consent to surveys by SMS."""

    def change(customer: Customer) -> Customer:
        phone = ContactPoint(
            channel="sms", address="+8613800138000", consent=Consent.GIVEN, consent_changed_at=at
        )
        named = attrs.evolve(customer, display_name=name, timezone="Asia/Shanghai")
        return named.with_contact_point(phone)

    return change


def main() -> None:
    """Run the desk, print what the surveys, the KPIs and the report say."""
    sent: dict[str, list[str]] = {}

    def deliver(invitation: Invitation, token: str, channel: str) -> None:
        sent.setdefault(invitation.id, []).append(token)

    surveys = SurveyDesk([POLICY], [TEMPLATE], deliver=deliver)
    clock = FrozenClock(local(3, 2, 10))
    store = open_store("memory:", tenant="acme", clock=clock)
    desk = HelpDesk(store, SETUP, clock=clock, ids=SequentialIds(), extensions=[surveys])

    visits = [  # (opened, channel, kind, subject, csat, nps)
        (local(3, 2, 10), "phone_hotline", TicketKind.CONSULTATION, "宽带怎么续费", 5, 9),
        (local(6, 15, 14), "email", TicketKind.INCIDENT, "路由器频繁重启", 4, 8),
        (local(9, 7, 11), "phone_hotline", TicketKind.COMPLAINT, "维修人员未上门", 2, 3),
    ]
    customer_id = None
    for opened, channel, kind, subject, csat, nps in visits:
        clock.set(opened)
        if customer_id is None:
            ticket = desk.open_ticket(contact="13800138000", channel=channel, subject=subject)
            customer_id = ticket.value.customer_id
            desk.update_customer(customer_id, consenting("王芳", opened))
        else:
            ticket = desk.open_ticket_for(customer_id, channel=channel, subject=subject, kind=kind)
        ticket_id = ticket.value.id
        agent = ticket.value.assignee_id or "agt_amy"
        clock.advance(timedelta(minutes=20))
        desk.reply(ticket_id, agent_id=agent, body="您好，马上为您处理。")
        clock.advance(timedelta(hours=2))
        desk.solve(ticket_id, actor=Actor.agent(agent))
        clock.advance(timedelta(days=1))
        counts = desk.sweep(clock.now()).extensions["surveys"]
        [invitation] = surveys.invitations_of(ticket_id)
        [token] = sent[invitation.id]
        clock.advance(timedelta(days=4))  # closed after 3 days; the answer still counts
        desk.close_solved_after(3)
        response = surveys.answer(token, {"csat": csat, "nps": nps})
        print(f"{ticket_id} {subject}: survey sent {counts['sent']}, answered CSAT {response.csat}")
        try:
            surveys.answer(token, {"csat": 1, "nps": 0})
        except InvitationTokenError as error:
            print(f"  a second answer is refused ({error.reason}): counted once")

    summary = surveys.summary()
    assert summary.csat.interval is not None
    print(
        f"CSAT {summary.csat.value:.0%} of n={summary.csat.n} "
        f"(95% {summary.csat.interval.low:.0%}-{summary.csat.interval.high:.0%}, "
        f"small sample: {summary.csat.small_sample})"
    )

    as_of = local(12, 31, 0)
    tickets = [stored.value for stored in store.tickets.list().items]
    summaries = [summarize(t, sla=evaluate(t, SETUP.sla, as_of), calendar=HOURS) for t in tickets]
    one_pass = KpiSet(as_of=as_of)
    one_pass.add_summaries(summaries)
    left, right = KpiSet(as_of=as_of), KpiSet(as_of=as_of)
    left.add_summaries(summaries[:1])
    right.add_summaries(summaries[1:])
    assert left.merge(right).results() == one_pass.results()
    figures = one_pass.results()
    print(
        f"KPIs: {figures['volume'].value} tickets, complaint rate "
        f"{figures['complaint_rate'].value}, first response (business, mean) "
        f"{figures['first_response_mean_business'].value} s; two shards merged agree"
    )

    assert customer_id is not None
    report = annual_report(store, customer_id, 2026, calendar=HOURS)
    print(render(report, "text", "zh_Hans"))
    period = period_report(store, date(2026, 1, 1), date(2027, 1, 1), calendar=HOURS)
    html = render(period, "html", "zh_Hans")
    print(f"period report as HTML: {len(html)} characters, {html.count('<svg')} charts")


if __name__ == "__main__":
    main()
