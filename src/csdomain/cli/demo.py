"""``csdomain demo``: a simulated day at a three-line help desk, run through the HelpDesk.

The day runs through a :class:`~csdomain.helpdesk.HelpDesk` (a frozen clock,
sequential ids) on the store the command opens. Customers write on the phone
hotline, WeChat, e-mail and web chat; triage sends VIP customers to the VIP
desk and billing questions to the billing group, which assigns by skills; the
frontline assigns round robin and skips an agent who is away; a VIP asks for a
senior agent and gets one; a complaint nobody answers breaches its first
response and escalates by rule to engineering (L2), then breaches its next
response and escalates to the vendor (L3), whose notification waits for the
vendor's opening hours. Sweeps run during the day; agents reply and solve.

The desk runs two extensions. A :class:`~csdomain.helpdesk.RevisitDesk` (回访)
keeps the plan ``customer-care``: a monthly call to VIP and enterprise
customers (an RFC 5545 rule), a follow-up three contact days after a
complaint is solved, and a call back after a low satisfaction score, each
placed in a contact window on a China calendar (New Year's Day closed, quiet
at lunch) read in the customer's own zone. A
:class:`~csdomain.helpdesk.SurveyDesk` (满意度调查) invites customers to a
CSAT survey 30 minutes after a solve, on the first channel they consent to,
at most once in 30 days. In the morning the plan is materialized; the
parcel complaint solved in the afternoon gets its follow-up; the sweeps send
the survey invitations and one customer answers with a low score. In the
days after, the follow-up call reaches the customer, who still has an issue:
the revisit opens a ticket, which is solved, and its own follow-up finds the
customer satisfied.

The report says, in the chosen locale, who got what and why: each ticket's
routing (group, agent, the reasons routing recorded), every rule that fired
and its reason, tier changes, notifications with their delivery instant, and
the SLA status at the end of the day; then the support lead's view of what is
due, one ticket as a JSON document, the revisits (tasks, an agent's agenda,
outcomes, the ticket a revisit opened), the surveys (invitations, the answer,
the CSAT with its interval), how to write a customer's annual report, and
where the day was saved. The day is fixed, so the output is the same on every
run but for the ticket numbers (which continue after those already in the
store) and what earlier days left in the store (round-robin cursors, open
work, revisit tasks that keep their distance from earlier ones, survey
invitations that later days' throttle suppresses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import attrs
from babel.numbers import format_percent

import csdomain
from csdomain._kernel.labels import key_labels
from csdomain._kernel.messages import Message, _mark
from csdomain.calendars import BusinessCalendar, Holiday, TimeRange
from csdomain.channels import ChannelKind
from csdomain.clock import FrozenClock
from csdomain.conditions import AllOf, Compare, Equals
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier
from csdomain.escalation import (
    Action,
    EscalationRule,
    NotificationQueued,
    RuleFired,
    SeniorAgentRequested,
    Trigger,
    TriggerKind,
    trigger_key,
)
from csdomain.helpdesk import DeskSetup, HelpDesk, RevisitDesk, Routed, SurveyDesk, SweepReport
from csdomain.helpdesk.revisits import MaterializeReport
from csdomain.i18n import (
    channel_label,
    format_duration,
    label,
    parse_locale,
    tier_label,
    translation,
)
from csdomain.ids import SequentialIds
from csdomain.people import Agent, AgentGrade, Group, Presence
from csdomain.priorities import Priority
from csdomain.revisits import (
    ContactWindow,
    Outcome,
    Recurrence,
    RevisitForm,
    RevisitPlan,
    RevisitRule,
    RevisitTask,
    TaskEventKind,
    TaskState,
)
from csdomain.revisits import Trigger as RevisitTrigger
from csdomain.routing import AssignmentPolicy, Strategy, Triage, TriageRule
from csdomain.serialization import to_json
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, SlaState, SlaStatus, Target
from csdomain.storage import Store, open_store
from csdomain.surveys import (
    INVITATIONS,
    RESPONSES,
    SMALL_SAMPLE,
    Invitation,
    InvitationState,
    LocalizedText,
    Question,
    QuestionKind,
    Score,
    SurveyKind,
    SurveyPolicy,
    SurveyResponse,
    SurveyTemplate,
    SurveyTrigger,
)
from csdomain.tickets import Actor, Assigned, Status, Ticket, TicketEvent, TicketKind
from csdomain.tickets.rendering import describe_event

__all__ = [
    "DEMO_DB",
    "DEMO_ZONE",
    "demo_revisit_plan",
    "demo_setup",
    "demo_survey_policy",
    "demo_survey_template",
    "run_demo",
]

#: Where ``csdomain demo`` keeps its data unless told otherwise.
DEMO_DB = "csdomain-demo.db"
#: The help desk's zone: the demo's times are shown in it.
DEMO_ZONE = ZoneInfo("Asia/Shanghai")

_DAY = (2026, 11, 23)  # a Monday
_DEMO_START = datetime(*_DAY, 9, 0, tzinfo=DEMO_ZONE)
_DEMO_END = datetime(*_DAY, 17, 30, tzinfo=DEMO_ZONE)
_DESK_HOURS = BusinessCalendar.weekdays(
    "shanghai-desk", "Asia/Shanghai", "09:00-12:00", "13:30-18:00"
)
#: The vendor's support line closes earlier than the desk.
_VENDOR_HOURS = BusinessCalendar.weekdays("vendor-hours", "Asia/Shanghai", "09:00-16:30")

# -- the desk ---------------------------------------------------------------------------

#: How the demo names its groups (the configuration keeps ids; the report shows these).
_GROUP_NAMES: Final[Mapping[str, Message]] = {
    "grp_l1": _mark("demo group", "Frontline"),
    "grp_vip": _mark("demo group", "VIP desk"),
    "grp_billing": _mark("demo group", "Billing"),
    "grp_l2": _mark("demo group", "Engineering"),
    # Translators: the third-party vendor whose engineers take the hardest tickets (L3).
    "grp_vendor": _mark("demo group", "RouterCo (vendor)"),
}


def _policy() -> SlaPolicy:
    """Business hours of the desk, except urgent tickets, which count every minute."""

    def targets(urgent: int, high: int, other: int) -> dict[Priority, Target]:
        business = {
            Priority.HIGH: Target(timedelta(minutes=high), calendar=_DESK_HOURS.name),
            Priority.NORMAL: Target(timedelta(minutes=other), calendar=_DESK_HOURS.name),
            Priority.LOW: Target(timedelta(minutes=other), calendar=_DESK_HOURS.name),
        }
        return {Priority.URGENT: Target(timedelta(minutes=urgent)), **business}

    return SlaPolicy(
        name="standard",
        metrics=(
            MetricPolicy(SlaMetric.FIRST_RESPONSE, targets(15, 30, 120)),
            MetricPolicy(SlaMetric.NEXT_RESPONSE, targets(30, 60, 240)),
            MetricPolicy(SlaMetric.RESOLUTION, targets(30, 480, 960)),
        ),
    )


def demo_setup() -> DeskSetup:
    """The demo desk: five groups on three tiers, ten agents, triage, assignment and rules.

    Frontline (``grp_l1``), the VIP desk (``grp_vip``, overflowing to the
    frontline) and billing (``grp_billing``, assigning by skills: ``billing``
    required, ``vat`` preferred) are L1; engineering (``grp_l2``) is L2; the
    vendor (``grp_vendor``, open 09:00-16:30) is L3. A complaint whose first
    response breaches at L1 goes to engineering, and one whose next response
    breaches at L2 goes to the vendor; both notify the receiving group. A request
    for a senior agent notifies the VIP desk; an urgent ticket notifies engineering.
    """
    desk, vendor = _DESK_HOURS.name, _VENDOR_HOURS.name
    groups = (
        Group("grp_l1", "Frontline", tier="L1", calendar=desk),
        Group("grp_vip", "VIP desk", tier="L1", calendar=desk, overflow_to="grp_l1"),
        Group("grp_billing", "Billing", tier="L1", calendar=desk),
        Group("grp_l2", "Engineering", tier="L2", calendar=desk),
        Group("grp_vendor", "RouterCo", tier="L3", calendar=vendor),
    )
    agents = (
        Agent("agt_an", "安琪", groups=("grp_l1", "grp_billing")),
        Agent("agt_bai", "白露", groups=("grp_l1",)),
        Agent("agt_cao", "曹阳", groups=("grp_l1",)),
        Agent("agt_du", "杜鹃", groups=("grp_vip",)),
        Agent("agt_fang", "方圆", grade=AgentGrade.SENIOR, groups=("grp_vip",)),
        Agent("agt_gao", "高远", skills={"billing"}, groups=("grp_billing",)),
        Agent("agt_he", "何静", skills={"billing", "vat"}, groups=("grp_billing",)),
        Agent("agt_jin", "金鑫", grade=AgentGrade.EXPERT, groups=("grp_l2",)),
        Agent("agt_kong", "孔亮", grade=AgentGrade.EXPERT, groups=("grp_l2",)),
        Agent("agt_lu", "陆工", groups=("grp_vendor",)),
    )
    triage = Triage(
        rules=(
            TriageRule(name="vip-customers", group_id="grp_vip", customer_tiers={CustomerTier.VIP}),
            TriageRule(
                name="billing-questions",
                group_id="grp_billing",
                keywords=("invoice", "refund", "发票", "退款"),
            ),
        ),
        default_group="grp_l1",
    )
    assignment = (
        AssignmentPolicy("grp_l1", strategy=Strategy.ROUND_ROBIN),
        AssignmentPolicy("grp_vip", strategy=Strategy.ROUND_ROBIN),
        AssignmentPolicy(
            "grp_billing",
            strategy=Strategy.SKILLS,
            required_skills={"billing"},
            optional_skills={"vat"},
        ),
        AssignmentPolicy("grp_l2", strategy=Strategy.ROUND_ROBIN),
        AssignmentPolicy("grp_vendor", strategy=Strategy.ROUND_ROBIN),
    )
    complaint = Equals("ticket.kind", TicketKind.COMPLAINT)
    rules = (
        EscalationRule(
            name="complaint-to-engineering",
            trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
            actions=(
                Action.raise_tier("L2"),
                Action.move_to_group("grp_l2"),
                Action.notify(groups=("grp_l2",)),
            ),
            condition=AllOf((complaint, Equals("ticket.tier", "L1"))),
            description="a complaint not answered in time at L1 goes to the engineers",
        ),
        EscalationRule(
            name="complaint-to-vendor",
            trigger=Trigger.sla_breach(SlaMetric.NEXT_RESPONSE),
            actions=(
                Action.raise_tier("L3"),
                Action.move_to_group("grp_vendor"),
                Action.notify(groups=("grp_vendor",)),
            ),
            condition=AllOf((complaint, Equals("ticket.tier", "L2"))),
            description="a complaint breaching again at L2 goes to the vendor",
        ),
        EscalationRule(
            name="senior-requested",
            trigger=Trigger.senior_requested(),
            actions=(Action.notify(groups=("grp_vip",)),),
            description="the VIP desk hears of every request for a senior agent",
        ),
        EscalationRule(
            name="urgent-to-engineering",
            trigger=Trigger.priority_at_least(Priority.URGENT),
            actions=(Action.notify(groups=("grp_l2",)),),
            description="engineering hears of every urgent ticket",
        ),
    )
    return DeskSetup(
        sla=SlaSetup([_policy()], [_DESK_HOURS, _VENDOR_HOURS]),
        groups=groups,
        agents=agents,
        triage=triage,
        assignment=assignment,
        escalation=rules,
        default_region="CN",
    )


# -- revisits and surveys -------------------------------------------------------------------

#: When customers may be called: weekdays 09:00-20:00 on a China calendar (New Year's
#: Day closed; the other 2027 holidays and make-up days are announced later), read in
#: each customer's own zone by the contact window.
_CONTACT_HOURS = BusinessCalendar.weekdays(
    "china-contact-hours",
    "Asia/Shanghai",
    "09:00-20:00",
    holidays=(Holiday(date(2027, 1, 1), "元旦"),),
)


def demo_revisit_plan() -> RevisitPlan:
    """The demo's revisit plan ``customer-care`` (回访计划).

    ``vip-monthly-call``: VIP and enterprise customers are called on the first of
    each month at 10:00 (``FREQ=MONTHLY;BYMONTHDAY=1``), by phone, WeChat or
    e-mail, whichever they consent to first; ``complaint-follow-up``: three
    contact days after a complaint is solved, by phone or SMS;
    ``low-score-call``: a day after a CSAT answer of 2 or less, by phone or
    e-mail. The contact window is ``china-contact-hours`` in the customer's zone,
    quiet 12:00-14:00 (lunch), at least 7 days between two revisits of a customer.
    """
    return RevisitPlan(
        name="customer-care",
        rules=(
            RevisitRule(
                name="vip-monthly-call",
                who=Compare("customer.tier", "ge", CustomerTier.VIP),
                recurrence=Recurrence("FREQ=MONTHLY;BYMONTHDAY=1"),
                forms=(RevisitForm.PHONE, RevisitForm.WECHAT, RevisitForm.EMAIL),
                purpose="VIP 月度关怀回访",
                group_id="grp_vip",
            ),
            RevisitRule(
                name="complaint-follow-up",
                trigger=RevisitTrigger.complaint_solved(business_days=3),
                forms=(RevisitForm.PHONE, RevisitForm.SMS),
                purpose="投诉回访",
                group_id="grp_l1",
            ),
            RevisitRule(
                name="low-score-call",
                trigger=RevisitTrigger.survey_answered(Compare("survey.csat", "le", 2), days=1),
                forms=(RevisitForm.PHONE, RevisitForm.EMAIL),
                purpose="低分回访",
                group_id="grp_l1",
            ),
        ),
        window=ContactWindow(
            calendar=_CONTACT_HOURS,
            quiet_hours=(TimeRange.parse("12:00-14:00"),),
            min_gap=timedelta(days=7),
        ),
        starts_on=date(2026, 11, 1),
    )


def demo_survey_template() -> SurveyTemplate:
    """The demo's CSAT survey (满意度调查) in English, Simplified and Traditional Chinese:
    a required CSAT question (1-5) and an optional comment."""
    return SurveyTemplate(
        "csat-after-solve",
        1,
        SurveyKind.CSAT,
        LocalizedText.of(
            "How did we do?", zh_hans="您对本次服务满意吗？", zh_hant="您對本次服務滿意嗎？"
        ),
        [
            Question(
                "csat",
                QuestionKind.CSAT,
                LocalizedText.of(
                    "How satisfied are you with the help you got?",
                    zh_hans="您对本次得到的帮助满意吗？",
                    zh_hant="您對本次得到的協助滿意嗎？",
                ),
            ),
            Question(
                "comment",
                QuestionKind.TEXT,
                LocalizedText.of(
                    "What could we do better?",
                    zh_hans="我们哪里可以做得更好？",
                    zh_hant="我們哪裡可以做得更好？",
                ),
                required=False,
            ),
        ],
    )


#: How far ahead the morning's run of the revisit plan books its tasks.
_HORIZON_DAYS = 90
#: How long after a solve the survey goes out (Zendesk waits a day; the demo's day is short).
_SURVEY_DELAY = timedelta(minutes=30)


def demo_survey_policy() -> SurveyPolicy:
    """The demo's survey policy ``csat-after-solve``: 30 minutes after a ticket is solved,
    on WeChat, SMS or e-mail (the first the customer consents to), at most one
    invitation per customer in 30 days, expiring after 28 days, one reminder after 3."""
    return SurveyPolicy(
        name="csat-after-solve",
        trigger=SurveyTrigger.TICKET_SOLVED,
        template="csat-after-solve",
        delay=_SURVEY_DELAY,
        channels=tuple(
            c.value
            for c in (ChannelKind.WECHAT_OFFICIAL_ACCOUNT, ChannelKind.SMS, ChannelKind.EMAIL)
        ),
    )


# -- the day ----------------------------------------------------------------------------


@attrs.frozen
class _Day:
    """What the demo day produced: its tickets in intake order, the sweeps, the
    morning's materializing of the revisit plan and the survey answered."""

    tickets: tuple[str, ...]
    sweeps: tuple[SweepReport, ...]
    materialized: MaterializeReport
    answered: SurveyResponse | None


def _consented(channel: ChannelKind, address: str, at: datetime) -> ContactPoint:
    return ContactPoint(
        channel=channel,
        address=address,
        verified=True,
        consent=Consent.GIVEN,
        consent_changed_at=at,
    )


def _known_customers(ids: SequentialIds, at: datetime) -> list[Customer]:
    """Customers the desk's CRM already knows (a VIP, an enterprise, two regulars), with
    the channels they agreed to be contacted on (revisits and surveys ask first)."""
    return [
        Customer(
            id=ids.new("cus"),
            display_name="王芳",
            tier=CustomerTier.VIP,
            timezone="Asia/Shanghai",
            locale="zh_CN",
            contact_points=(
                ContactPoint(
                    channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT,
                    address="wx_openid_8f2k",
                    verified=True,
                    consent=Consent.GIVEN,
                    consent_changed_at=at,
                ),
            ),
        ),
        Customer(
            id=ids.new("cus"),
            display_name="Li Wei",
            timezone="Asia/Shanghai",
            contact_points=(
                _consented(ChannelKind.PHONE_HOTLINE, "+86 138 0013 8000", at),
                _consented(ChannelKind.EMAIL, "li.wei@example.com", at),
            ),
        ),
        Customer(
            id=ids.new("cus"),
            display_name="Acme Ltd",
            tier=CustomerTier.ENTERPRISE,
            timezone="Europe/London",
            contact_points=(
                ContactPoint(channel=ChannelKind.WEB_CHAT, address="acme-portal"),
                _consented(ChannelKind.EMAIL, "it-desk@acme.example", at),
            ),
        ),
        Customer(
            id=ids.new("cus"),
            display_name="张伟",
            timezone="Asia/Shanghai",
            locale="zh_CN",
            contact_points=(_consented(ChannelKind.PHONE_HOTLINE, "+86 139 0000 1234", at),),
        ),
    ]


def _add_known_customers(store: Store, customers: Iterable[Customer]) -> None:
    with store.transaction():
        for customer in customers:
            point = customer.contact_points[0]
            if not store.customers.find_by_contact(point.address, point.channel):
                store.customers.add(customer)


def _run_day(desk: HelpDesk, clock: FrozenClock, outbox: _Outbox) -> _Day:
    """The day's commands and sweeps, at fixed instants."""
    sweeps: list[SweepReport] = []
    revisits = _revisit_desk(desk)
    surveys = _survey_desk(desk)

    def at(hour: int, minute: int) -> None:
        clock.set(datetime(*_DAY, hour, minute, tzinfo=DEMO_ZONE))

    def owner(ticket_id: str) -> str:
        agent = desk.ticket(ticket_id).value.assignee_id
        assert agent is not None, ticket_id  # every ticket of the day is routed to someone
        return agent

    def sweep(hour: int, minute: int) -> None:
        at(hour, minute)
        sweeps.append(desk.sweep())

    at(9, 0)
    for agent in desk.setup.agents:
        desk.set_presence(agent.id, Presence.ONLINE)
    # The revisit plan for the next 90 days (a second run keeps what the first made).
    materialized = revisits.materialize(_HORIZON_DAYS)

    # A VIP on WeChat: triaged to the VIP desk, asks for a senior agent and gets one.
    at(9, 5)
    vip = desk.open_ticket(
        contact="wx_openid_8f2k",
        channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT,
        subject="会员积分没有到账",
        description="上周订单的积分还没有到账。",
    ).value.id
    at(9, 8)
    desk.request_senior_agent(vip)
    at(9, 15)
    desk.reply(vip, agent_id=owner(vip), body="王女士您好，积分已补发到您的账户，请查收。")
    at(9, 16)
    desk.solve(vip, actor=Actor.agent(owner(vip)))

    # A call on the hotline: round robin in the frontline, answered and solved.
    at(9, 20)
    call = desk.open_ticket(
        contact="13800138000",
        channel=ChannelKind.PHONE_HOTLINE,
        subject="How do I change my delivery address?",
        description="Caller asks how to change the delivery address of order 9921.",
    ).value.id
    at(9, 24)
    desk.reply(
        call,
        agent_id=owner(call),
        body="Changed the delivery address of order 9921 for the caller.",
        handle_time=timedelta(minutes=4, seconds=30),
    )
    at(9, 25)
    desk.solve(call, actor=Actor.agent(owner(call)))

    # A complaint by e-mail that nobody answers in time: L1, then L2, then the vendor.
    at(9, 35)
    complaint = desk.open_ticket(
        contact="chen.jing@example.com",
        channel=ChannelKind.EMAIL,
        subject="Router keeps dropping the connection",
        description="Third time this week that the router drops the line. Fix it.",
        kind=TicketKind.COMPLAINT,
        priority=Priority.HIGH,
        customer_name="陈静",
    ).value.id

    # A billing question: triaged by keyword to billing, which assigns by skills.
    at(9, 50)
    invoice = desk.open_ticket(
        contact="li.wei@example.com",
        channel=ChannelKind.EMAIL,
        subject="VAT invoice for order 9921",
        description="Please send a VAT invoice for order 9921.",
        kind=TicketKind.REQUEST,
    ).value.id
    at(10, 5)
    desk.reply(invoice, agent_id=owner(invoice), body="The VAT invoice for order 9921 is attached.")
    at(10, 6)
    desk.solve(invoice, actor=Actor.agent(owner(invoice)))

    sweep(10, 10)  # the complaint's first response breached at 10:05: to engineering

    # An outage on web chat: the next agent in turn; urgent, so engineering hears of it.
    at(10, 20)
    outage = desk.open_ticket(
        contact="acme-portal",
        channel=ChannelKind.WEB_CHAT,
        subject="Dashboard returns error 502",
        description="Our dashboard has returned 502 since 10:15.",
        kind=TicketKind.INCIDENT,
    ).value.id
    at(10, 21)
    desk.change_priority(outage, Priority.URGENT, actor=Actor.agent(owner(outage)))
    at(10, 24)
    desk.reply(outage, agent_id=owner(outage), body="We are on it.")
    at(10, 30)
    desk.reply(
        complaint, agent_id=owner(complaint), body="We are checking the line logs of your router."
    )
    at(11, 0)
    desk.add_note(
        outage, agent_id=owner(outage), body="Load balancer restarted; dashboard is back."
    )
    desk.solve(outage, actor=Actor.agent(owner(outage)))

    sweep(12, 30)  # lunch: the desk is closed

    # After lunch one agent steps away: round robin passes over her.
    at(14, 0)
    desk.set_presence("agt_bai", Presence.AWAY)
    at(14, 10)
    parcel = desk.open_ticket(
        contact="+86 139 0000 1234",
        channel=ChannelKind.PHONE_HOTLINE,
        subject="My parcel is three days late",
        kind=TicketKind.COMPLAINT,
        customer_name="张伟",
    ).value.id
    at(14, 14)
    desk.reply(
        parcel, agent_id=owner(parcel), body="Parcel is at the local depot; delivery tomorrow."
    )
    # A complaint solved: the revisit desk schedules its follow-up call.
    desk.solve(parcel, actor=Actor.agent(owner(parcel)))
    at(14, 30)
    coupon = desk.open_ticket(
        contact="visitor-5521",
        channel=ChannelKind.WEB_CHAT,
        subject="Coupon code not accepted",
        customer_name="赵敏",
    ).value.id
    at(14, 35)
    desk.reply(coupon, agent_id=owner(coupon), body="Which code did you enter?")
    desk.set_status(coupon, Status.PENDING, actor=Actor.agent(owner(coupon)))

    sweep(15, 0)
    at(15, 10)
    desk.customer_message(coupon, body="SAVE20")
    at(15, 15)
    desk.reply(coupon, agent_id=owner(coupon), body="SAVE20 ended yesterday; SAVE25 works today.")
    desk.solve(coupon, actor=Actor.agent(owner(coupon)))

    # The complaint's customer writes again; engineering does not answer within the hour.
    at(15, 40)
    desk.customer_message(complaint, body="Still dropping every hour.")

    # The caller of the morning answers the survey sent at 10:10: a low score, which
    # books a call back (when earlier days' invitations did not throttle this one).
    at(16, 0)
    answered = None
    token = outbox.token_for(desk, call)
    if token is not None:
        answered = surveys.answer(
            token, {"csat": 2, "comment": "The address changed, but I waited 20 minutes."}
        )
    sweep(17, 0)  # next response breached at 16:40: to the vendor, who closed at 16:30
    sweep(17, 30)
    return _Day(
        (vip, call, complaint, invoice, outage, parcel, coupon),
        tuple(sweeps),
        materialized,
        answered,
    )


class _Outbox:
    """The demo's survey ``deliver`` callback: it records each invitation's token and
    channel (a real desk sends the link by WeChat, SMS or e-mail here)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def __call__(self, invitation: Invitation, token: str, channel: str) -> None:
        self.sent.append((invitation.id, token, channel))

    def token_for(self, desk: HelpDesk, ticket_id: str) -> str | None:
        """The token sent today for the open invitation that follows ``ticket_id``."""
        tokens = {invitation_id: token for invitation_id, token, _ in self.sent}
        for invitation in _survey_desk(desk).invitations_of(ticket_id):
            if invitation.state is InvitationState.SENT and invitation.id in tokens:
                return tokens[invitation.id]
        return None


def _revisit_desk(desk: HelpDesk) -> RevisitDesk:
    found = desk.extension(RevisitDesk.name)
    assert isinstance(found, RevisitDesk)
    return found


def _survey_desk(desk: HelpDesk) -> SurveyDesk:
    found = desk.extension(SurveyDesk.name)
    assert isinstance(found, SurveyDesk)
    return found


def _caused_by(revisits: RevisitDesk, customer_id: str, cause: str) -> RevisitTask | None:
    """The customer's revisit task that ``cause`` (a ticket or response id) scheduled."""
    cursor: str | None = None
    while True:
        page = revisits.by_customer(customer_id, limit=100, cursor=cursor)
        for task in page.items:
            if task.cause == cause:
                return task
        if page.next_cursor is None:
            return None
        cursor = page.next_cursor


@attrs.frozen
class _Call:
    """One revisit followed from its scheduling: assigned, on the agent's agenda, done."""

    scheduled: RevisitTask
    agent_id: str
    agenda: tuple[RevisitTask, ...]
    done: RevisitTask


@attrs.frozen
class _Revisited:
    """The days after: the complaint's follow-up call, the ticket it opened, that
    ticket's own follow-up, the call booked by the low score, and the figures."""

    follow_up: _Call | None
    opened: Ticket | None
    second: _Call | None
    low_score: RevisitTask | None
    figures_at: datetime


def _call(
    desk: HelpDesk,
    clock: FrozenClock,
    task: RevisitTask,
    agent_id: str,
    outcome: Outcome,
    note: str,
) -> _Call:
    """Assign ``task`` to ``agent_id``, read the agent's agenda of its day, then make the
    call at its due instant with ``outcome``."""
    revisits = _revisit_desk(desk)
    assigned = revisits.assign(task.id, agent_id)
    day = task.due_at.astimezone(DEMO_ZONE).date()
    agenda = revisits.agenda(agent_id=agent_id, day=day).items
    clock.set(max(clock.now(), task.due_at))
    done = revisits.complete(task.id, outcome, agent_id=agent_id, note=note)
    return _Call(assigned, agent_id, tuple(agenda), done)


def _run_revisits(desk: HelpDesk, clock: FrozenClock, day: _Day) -> _Revisited:
    """The days after the day: the parcel complaint's follow-up call finds an issue and
    opens a ticket; that ticket is solved, and its own follow-up finds the customer
    satisfied. Each step is stored before anything is written."""
    revisits = _revisit_desk(desk)
    parcel = desk.ticket(day.tickets[5]).value
    low_score = None
    if day.answered is not None:
        low_score = _caused_by(revisits, day.answered.customer_id, day.answered.id)
    scheduled = _caused_by(revisits, parcel.customer_id, parcel.id)
    if scheduled is None or scheduled.state is not TaskState.SCHEDULED:
        return _Revisited(None, None, None, low_score, clock.now())
    agent = parcel.assignee_id or desk.setup.agents[0].id
    follow_up = _call(
        desk,
        clock,
        scheduled,
        agent,
        Outcome.REACHED_WITH_ISSUE,
        "包裹收到了，但外箱压坏了，路由器开不了机。",
    )
    if follow_up.done.ticket_id is None:
        return _Revisited(follow_up, None, None, low_score, clock.now())
    opened_id = follow_up.done.ticket_id
    owner = desk.ticket(opened_id).value.assignee_id or agent
    clock.advance(timedelta(minutes=30))
    desk.reply(opened_id, agent_id=owner, body="换货已安排，新路由器今天发出。")
    desk.solve(opened_id, actor=Actor.agent(owner))
    opened = desk.ticket(opened_id).value
    again = _caused_by(revisits, opened.customer_id, opened.id)
    second = None
    if again is not None and again.state is TaskState.SCHEDULED:
        second = _call(
            desk, clock, again, owner, Outcome.REACHED_SATISFIED, "新路由器已收到，一切正常。"
        )
    return _Revisited(follow_up, opened, second, low_score, clock.now())


# -- words ------------------------------------------------------------------------------


class _Words:
    """The report's words in one locale: labels, names of groups and agents, times."""

    def __init__(self, locale: str, setup: DeskSetup) -> None:
        self.locale = locale
        self.translation = translation(locale)
        self.gettext = self.translation.gettext
        self.setup = setup
        self.agents = {a.id: a for a in setup.agents}

    def group(self, group_id: str | None) -> str:
        if group_id is None:
            return self.gettext("no group")
        name = _GROUP_NAMES.get(group_id)
        text = self.translation.pgettext(*name) if name else group_id
        return self.gettext("{name} ({id})").format(name=text, id=group_id)

    def agent(self, agent_id: str | None) -> str:
        if agent_id is None:
            return self.gettext("nobody")
        agent = self.agents.get(agent_id)
        if agent is None:
            return agent_id
        return self.gettext("{name} ({id})").format(name=agent.name, id=agent_id)

    def listed(self, items: Iterable[str]) -> str:
        return self.gettext(", ").join(items)


def _local(at: datetime, pattern: str) -> str:
    # Numeric patterns read the same in every supported locale, so no locale is needed.
    return at.astimezone(DEMO_ZONE).strftime(pattern)


#: An instant as the engines write it in their reasons (ISO 8601, with an offset).
_ISO_INSTANT: Final = re.compile(
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)"
)


def _local_instants(reason: str) -> str:
    """``reason`` with the instants in it shown in the desk's zone, as the report shows times."""

    def local(match: re.Match[str]) -> str:
        try:
            at = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        return _local(at, "%m-%d %H:%M")

    return _ISO_INSTANT.sub(local, reason)


def _actor_text(actor: Actor, locale: str) -> str:
    kind = label(actor.kind, locale)
    return f"{kind} {actor.id}" if actor.id else kind


def _trigger_text(key: str, words: _Words) -> str:
    """A trigger key (``"sla_breach:first_response"``) in words."""
    kind, _, rest = key.partition(":")
    try:
        trigger = TriggerKind(kind)
    except ValueError:
        return key
    text = label(trigger, words.locale)
    metric, _, fraction = rest.partition(":")
    if trigger in (TriggerKind.SLA_BREACH, TriggerKind.SLA_WARNING) and metric:
        try:
            text = words.gettext("{trigger} ({metric})").format(
                trigger=text, metric=label(SlaMetric(metric), words.locale)
            )
        except ValueError:
            return key
        if fraction:
            text += f" {float(fraction):.0%}"
    elif trigger is TriggerKind.PRIORITY_AT_LEAST and rest:
        try:
            text = f"{text} {label(Priority(rest), words.locale)}"
        except ValueError:
            return key
    return text


def _routing_why(event: Routed, context: _RoutingContext, words: _Words) -> list[str]:
    """Why routing chose this group and agent, in words, from what the desk knows."""
    _ = words.gettext
    why: list[str] = []
    if event.rule is not None:
        why.append(_("triage rule {rule}").format(rule=event.rule))
    elif context.first:
        why.append(_("no triage rule matched, so the default group"))
    if context.senior:
        why.append(
            _("a senior agent was asked for: grade {grade} or above").format(
                grade=label(AgentGrade.SENIOR, words.locale)
            )
        )
    policy = words.setup.policy_for(event.group_id)
    agent = words.agents.get(event.assignee_id or "")
    if agent is None:
        group = words.setup.group(event.group_id)
        calendar = words.setup.calendar_of(group)
        if calendar is not None and not calendar.is_open(event.at):
            why.append(
                _("the group is closed until {time}").format(
                    time=_local(calendar.next_open(event.at), "%m-%d %H:%M")
                )
            )
        else:
            why.append(_("no agent of the group is free"))
        return why
    why.append(label(policy.strategy, words.locale))
    if policy.strategy is Strategy.SKILLS:
        skills = sorted(agent.skills & (policy.required_skills | policy.optional_skills))
        why.append(_("skills {skills}").format(skills=words.listed(skills)))
    return why


@attrs.frozen
class _RoutingContext:
    """Where a Routed event stands: the ticket's first routing, after a senior request."""

    first: bool
    senior: bool

    @classmethod
    def of(cls, timeline: Sequence[TicketEvent], i: int) -> _RoutingContext:
        earlier = timeline[:i]
        same_instant = []
        for event in reversed(earlier):
            if event.at != timeline[i].at or isinstance(event, Routed):
                break
            same_instant.append(event)
        return cls(
            first=not any(isinstance(e, Routed) for e in earlier),
            senior=any(isinstance(e, SeniorAgentRequested) for e in same_instant),
        )


def _describe(event: TicketEvent, context: _RoutingContext, words: _Words) -> list[str]:
    """The event's line, then lines of recorded reasons (routing's and the rules')."""
    _ = words.gettext
    locale = words.locale
    if isinstance(event, Routed):
        if event.assignee_id is None:
            line = _("routed to {group}, waiting in its queue").format(
                group=words.group(event.group_id)
            )
        else:
            line = _("routed to {group}, agent {agent}").format(
                group=words.group(event.group_id), agent=words.agent(event.assignee_id)
            )
        why = _routing_why(event, context, words)
        if why:
            # Translators: the reasons are joined with "; " (its own message).
            line = _("{line}, because: {why}").format(line=line, why=_("; ").join(why))
        return [line, *event.reasons]
    if isinstance(event, RuleFired):
        line = _("escalation rule {rule} fired: {trigger}").format(
            rule=event.rule, trigger=_trigger_text(event.trigger, words)
        )
        return [line, event.reason]
    if isinstance(event, NotificationQueued):
        receivers = [
            *(words.group(g) for g in event.groups),
            *(words.agent(a) for a in event.agents),
            *([event.external] if event.external else []),
        ]
        when = _local(event.deliver_at, "%m-%d %H:%M")
        if event.deliver_at > event.at:
            text = _("notification to {receivers}, held until the receivers open: {time}")
        else:
            text = _("notification to {receivers}, delivered at once: {time}")
        return [text.format(receivers=words.listed(receivers), time=when)]
    if isinstance(event, SeniorAgentRequested):
        if event.reason:
            return [_("asked for a senior agent ({reason})").format(reason=event.reason)]
        return [_("asked for a senior agent")]
    return [describe_event(event, locale)]


def _timeline_lines(ticket: Ticket, words: _Words) -> Iterator[str]:
    _ = words.gettext
    locale = words.locale
    yield _("Ticket {id} · {status} · {priority} · {tier}").format(
        id=ticket.id,
        status=label(ticket.status, locale),
        priority=label(ticket.priority, locale),
        tier=tier_label(ticket.tier, locale),
    )
    timeline = ticket.timeline
    for i, event in enumerate(timeline):
        following = timeline[i + 1] if i + 1 < len(timeline) else None
        if (
            isinstance(event, Assigned)
            and isinstance(following, Routed)
            and following.at == event.at
            and (event.group_id, event.assignee_id) == (following.group_id, following.assignee_id)
        ):
            continue  # the Routed line below says it, and why
        who = _actor_text(event.actor, locale)
        first, *reasons = _describe(event, _RoutingContext.of(timeline, i), words)
        yield f"  {_local(event.at, '%m-%d %H:%M')}  {who:<14} {first}"
        for reason in reasons:
            yield f"{'':<34}· {_local_instants(reason)}"


def _sla_lines(status: SlaStatus, words: _Words) -> Iterator[str]:
    _ = words.gettext
    locale = words.locale
    yield "  " + _("SLA at {time} (policy {policy}):").format(
        time=_local(status.now, "%H:%M"), policy=status.policy
    )
    for metric in status.metrics:
        line = _("{metric}: {state}").format(
            metric=label(metric.metric, locale), state=label(metric.state, locale)
        )
        if metric.target is not None and metric.state is not SlaState.IDLE:
            line += " · " + _("{elapsed} of {target}").format(
                elapsed=format_duration(metric.elapsed, locale, width="short"),
                target=format_duration(metric.target, locale, width="short"),
            )
        if metric.breached_at is not None:
            breached = _local(metric.breached_at, "%H:%M")
            line += " · " + _("breached at {time}").format(time=breached)
        elif metric.due_at is not None:
            line += " · " + _("due {time}").format(time=_local(metric.due_at, "%m-%d %H:%M"))
        yield "    " + line


def _action_text(action: Action, words: _Words) -> str:
    """An escalation action and what it names, in words."""
    targets = [
        *([tier_label(action.tier, words.locale)] if action.tier else []),
        *([words.group(action.group_id)] if action.group_id else []),
        *(words.group(g) for g in action.groups),
        *(words.agent(a) for a in action.agents),
        *([action.external] if action.external else []),
    ]
    kind = label(action.kind, words.locale)
    if not targets:
        return kind
    return words.gettext("{action}: {targets}").format(action=kind, targets=words.listed(targets))


def _desk_lines(setup: DeskSetup, words: _Words) -> Iterator[str]:
    _ = words.gettext
    locale = words.locale
    yield _("The desk (times in {zone}):").format(zone=DEMO_ZONE.key)
    for group in setup.groups:
        policy = setup.policy_for(group.id)
        members = [
            words.agent(a.id)
            if a.grade is AgentGrade.STANDARD
            else _("{name} ({id}, {grade})").format(
                name=a.name, id=a.id, grade=label(a.grade, locale)
            )
            for a in setup.agents
            if group.id in a.groups
        ]
        strategy = label(policy.strategy, locale)
        if policy.required_skills or policy.optional_skills:
            strategy = _("{strategy}: needs {required}, prefers {optional}").format(
                strategy=strategy,
                required=words.listed(sorted(policy.required_skills)) or "-",
                optional=words.listed(sorted(policy.optional_skills)) or "-",
            )
        yield "  " + _("{group} · tier {tier} · {strategy} · {members}").format(
            group=words.group(group.id),
            tier=tier_label(group.tier, locale),
            strategy=strategy,
            members=words.listed(members),
        )
    yield _("Escalation rules:")
    for rule in setup.escalation:
        actions = [_action_text(action, words) for action in rule.actions]
        yield "  " + _("{rule}: on {trigger}, do {actions}").format(
            rule=rule.name,
            trigger=_trigger_text(trigger_key(rule.trigger), words),
            actions=words.listed(actions),
        )


def _sweep_lines(sweeps: Sequence[SweepReport], words: _Words) -> Iterator[str]:
    _ = words.gettext
    yield _("Sweeps:")
    for report in sweeps:
        time = _local(report.now, "%H:%M")
        due = _("{time}: tickets due: {count}").format(time=time, count=report.examined)
        if report.fired:
            fired = words.listed(
                _("{rule} on {ticket}").format(rule=rule, ticket=ticket)
                for ticket, rule in report.fired
            )
            line = _("{due}; fired {fired}").format(due=due, fired=fired)
        else:
            line = _("{due}; no rule fired").format(due=due)
        surveys = report.extensions.get(SurveyDesk.name, {})
        if surveys.get("sent") or surveys.get("suppressed"):
            line = _("{line}; survey invitations: {sent} sent, {suppressed} suppressed").format(
                line=line, sent=surveys.get("sent", 0), suppressed=surveys.get("suppressed", 0)
            )
        revisits = report.extensions.get(RevisitDesk.name, {})
        if revisits.get("missed"):
            line = _("{line}; revisits missed: {missed}").format(
                line=line, missed=revisits["missed"]
            )
        yield "  " + line


def _due_lines(desk: HelpDesk, words: _Words) -> Iterator[str]:
    _ = words.gettext
    locale = words.locale
    page = desk.due(within=timedelta(hours=24), now=_DEMO_END)
    yield _("Due or breaching by {time}, unsolved, soonest first:").format(
        time=_local(_DEMO_END + timedelta(hours=24), "%m-%d %H:%M")
    )
    if not page.items:
        yield "  " + _("nothing")
    for schedule in page.items:
        assert schedule.due_at is not None and schedule.due_metric is not None
        metric = label(schedule.due_metric, locale)
        if schedule.due_metric in schedule.breached:
            state = _("breached at {time}").format(time=_local(schedule.due_at, "%m-%d %H:%M"))
        else:
            state = _("due {time}").format(time=_local(schedule.due_at, "%m-%d %H:%M"))
        yield "  " + _("{ticket} · {group} · {metric} {state}").format(
            ticket=schedule.ticket_id,
            group=words.group(schedule.group_id),
            metric=metric,
            state=state,
        )


def _zoned(at: datetime, zone: str) -> str:
    """An instant in ``zone`` (a customer's), with the zone's name."""
    return f"{at.astimezone(ZoneInfo(zone)).strftime('%m-%d %H:%M')} {zone}"


def _percent(value: float, words: _Words) -> str:
    return format_percent(value, locale=parse_locale(words.locale))


def _score_text(score: Score, words: _Words) -> str:
    """A score with its interval, n and the small-sample flag, in words."""
    _ = words.gettext
    if score.value is None or score.interval is None:
        return _("no answers yet")
    text = _("{value} · {confidence} interval {low} to {high} · n = {n}").format(
        value=_percent(score.value, words),
        confidence=_percent(score.confidence, words),
        low=_percent(score.interval.low, words),
        high=_percent(score.interval.high, words),
        n=score.n,
    )
    if score.small_sample:
        text += " · " + _("small sample (fewer than {count} answers)").format(count=SMALL_SAMPLE)
    return text


class _People:
    """Customers' names and zones, read from the store once each."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[str, Customer | None] = {}

    def customer(self, customer_id: str) -> Customer | None:
        if customer_id not in self._known:
            found = self._store.customers.get_many([customer_id]).get(customer_id)
            self._known[customer_id] = None if found is None else found.value
        return self._known[customer_id]

    def name(self, customer_id: str, words: _Words) -> str:
        customer = self.customer(customer_id)
        if customer is None or customer.display_name is None:
            return customer_id
        return words.gettext("{name} ({id})").format(name=customer.display_name, id=customer_id)

    def zone(self, customer_id: str) -> str:
        customer = self.customer(customer_id)
        return customer.timezone if customer is not None else "UTC"


def _task_line(task: RevisitTask, people: _People, words: _Words) -> str:
    """A revisit task: when (in the customer's zone), whom, what for, how, its state."""
    _ = words.gettext
    zone = people.zone(task.customer_id)
    when = _zoned(task.due_at, zone)
    if task.due_at != task.nominal_at:
        when = _("{due} (planned {nominal})").format(
            due=when, nominal=task.nominal_at.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M")
        )
    return _("{when} · {customer} · {purpose} · {form} · {state}").format(
        when=when,
        customer=people.name(task.customer_id, words),
        purpose=task.purpose,
        form=label(task.form, words.locale),
        state=label(task.state, words.locale),
    )


def _call_lines(call: _Call, people: _People, words: _Words) -> Iterator[str]:
    _ = words.gettext
    yield "  " + _("Agenda of {agent} for {day}:").format(
        agent=words.agent(call.agent_id), day=_local(call.scheduled.due_at, "%m-%d")
    )
    for task in call.agenda:
        yield "    " + _("{time} · {task} · {line}").format(
            time=_local(task.due_at, "%H:%M"), task=task.id, line=_task_line(task, people, words)
        )
    outcome = call.done.outcome
    assert outcome is not None
    yield "  " + _("{time} revisit {task} by {agent}: {outcome}").format(
        time=_local(call.done.updated_at, "%m-%d %H:%M"),
        task=call.done.id,
        agent=words.agent(call.agent_id),
        outcome=label(outcome, words.locale),
    )
    notes = [e.note for e in call.done.timeline if e.kind is TaskEventKind.COMPLETED and e.note]
    for note in notes[-1:]:
        yield f"{'':<34}· {note}"


def _revisit_lines(
    desk: HelpDesk, day: _Day, after: _Revisited, people: _People, words: _Words
) -> Iterator[str]:
    _ = words.gettext
    revisits = _revisit_desk(desk)
    (plan,) = revisits.plans
    window = plan.window
    yield _(
        "Revisits: plan {plan} (version {version}), contact window {calendar} read in each "
        "customer's own zone, quiet {quiet}, at least {gap} between two revisits:"
    ).format(
        plan=plan.name,
        version=plan.version,
        calendar=window.calendar.name,
        quiet=words.listed(str(r) for r in window.quiet_hours),
        gap=format_duration(window.min_gap, words.locale),
    )
    report = day.materialized
    yield "  " + _(
        "{time} materialized {days} days for {customers} customers: {created} tasks created, "
        "{kept} kept, {refused} refused"
    ).format(
        time=_local(_DEMO_START, "%H:%M"),
        days=_HORIZON_DAYS,
        customers=report.customers,
        created=report.created,
        kept=report.kept,
        refused=report.refused,
    )
    monthly = [
        task
        for task in _each_task(revisits, plan.name)
        if task.rule == "vip-monthly-call" and task.state in (TaskState.SCHEDULED,)
    ]
    for task in sorted(monthly, key=lambda t: (t.customer_id, t.due_at)):
        yield "    " + _task_line(task, people, words)
    parcel = day.tickets[5]
    if after.follow_up is None:
        yield "  " + _("complaint {ticket} solved: no follow-up could be placed").format(
            ticket=parcel
        )
    else:
        yield "  " + _("{time} complaint {ticket} solved: follow-up {task} booked").format(
            time=_local(after.follow_up.scheduled.timeline[0].at, "%H:%M"),
            ticket=parcel,
            task=after.follow_up.scheduled.id,
        )
    if after.low_score is not None and day.answered is not None:
        yield "  " + _("{time} the low score of {customer} booked revisit {task}: {line}").format(
            time=_local(day.answered.answered_at, "%H:%M"),
            customer=people.name(day.answered.customer_id, words),
            task=after.low_score.id,
            line=_task_line(after.low_score, people, words),
        )
    if after.follow_up is None:
        return
    yield from _call_lines(after.follow_up, people, words)
    if after.opened is None:
        return
    yield "  " + _("revisit {task} opened ticket {ticket}").format(
        task=after.follow_up.done.id, ticket=after.opened.id
    )
    yield ""
    yield from ("  " + line for line in _timeline_lines(after.opened, words))
    yield ""
    if after.second is None:
        yield "  " + _("complaint {ticket} solved: no follow-up could be placed").format(
            ticket=after.opened.id
        )
        return
    solved = after.second.scheduled.timeline[0].at
    yield "  " + _("{time} complaint {ticket} solved: follow-up {task} booked").format(
        time=_local(solved, "%m-%d %H:%M"), ticket=after.opened.id, task=after.second.scheduled.id
    )
    yield from _call_lines(after.second, people, words)
    figures = revisits.figures(after.figures_at)
    reach = [
        _("{form} {hits} of {n}").format(form=label(form, words.locale), hits=rate.hits, n=rate.n)
        for form, rate in sorted(figures.reach_by_form.items(), key=lambda item: item[0].value)
    ]
    yield "  " + _(
        "Figures at {time}: {tasks} tasks, {done} done of {due} due, {overdue} overdue; "
        "reached: {reach}"
    ).format(
        time=_local(after.figures_at, "%m-%d %H:%M"),
        tasks=figures.tasks,
        done=figures.completion.hits,
        due=figures.completion.n,
        overdue=figures.overdue,
        reach=words.listed(reach) or "-",
    )


def _each_task(revisits: RevisitDesk, plan: str) -> Iterator[RevisitTask]:
    cursor: str | None = None
    while True:
        page = revisits.by_plan(plan, limit=100, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _survey_lines(
    desk: HelpDesk, day: _Day, outbox: _Outbox, people: _People, words: _Words
) -> Iterator[str]:
    _ = words.gettext
    surveys = _survey_desk(desk)
    (policy,) = surveys.policies
    template = demo_survey_template()
    yield _(
        "Surveys: policy {policy}, template {template} ({title}): {delay} after a solve, "
        "on {channels}, at most {count} per customer in {days} days:"
    ).format(
        policy=policy.name,
        template=template.ref,
        title=template.title.text(words.locale),
        delay=format_duration(policy.delay, words.locale),
        channels=words.listed(channel_label(c, words.locale) for c in policy.channels),
        count=policy.throttle.max_invitations,
        days=policy.throttle.per_days,
    )
    channels = {invitation_id: channel for invitation_id, _token, channel in outbox.sent}
    for ticket_id in day.tickets:
        for invitation in surveys.invitations_of(ticket_id):
            state = label(invitation.state, words.locale)
            if invitation.id in channels:
                state = _("{state} via {channel}").format(
                    state=state, channel=channel_label(channels[invitation.id], words.locale)
                )
            yield "  " + _("{invitation} · ticket {ticket} · {customer} · {state}").format(
                invitation=invitation.id,
                ticket=ticket_id,
                customer=people.name(invitation.customer_id, words),
                state=state,
            )
            reasons = [e.reason for e in invitation.timeline if e.reason]
            for reason in reasons[-1:]:
                yield f"{'':<34}· {reason}"
    answered = day.answered
    if answered is None:
        yield "  " + _("No invitation went out today, so nobody answered.")
    else:
        score = answered.csat
        assert score is not None
        scale = key_labels.get(("csat score", str(score)))
        yield "  " + _("{time} {customer} answered {invitation}: {score} ({meaning})").format(
            time=_local(answered.answered_at, "%H:%M"),
            customer=people.name(answered.customer_id, words),
            invitation=answered.invitation_id,
            score=score,
            meaning=words.translation.pgettext(*scale) if scale else "-",
        )
        comments = [a.text for a in answered.answers if a.text]
        for comment in comments:
            yield f"{'':<34}· {comment}"
    summary = surveys.summary()
    yield "  " + _("CSAT (share of 4 and 5) of every answer so far: {score}").format(
        score=_score_text(summary.csat, words)
    )


def _report_lines(
    customer_id: str, store: Store | None, location: str | None, people: _People, words: _Words
) -> Iterator[str]:
    """How to write the annual service report of the demo's complaint customer."""
    _ = words.gettext
    if location is None:
        where = "--db FILE"
    elif "://" in location or location.startswith("memory:"):
        where = f"--url {location}"
    else:
        where = f"--db {location}"
    tenant = store.tenant if store is not None else "demo"
    if tenant != "demo":
        where += f" --tenant {tenant}"
    yield _("The annual service report of customer {customer}, in Chinese with charts:").format(
        customer=people.name(customer_id, words)
    )
    yield (
        f"  csdomain report annual {where} --customer {customer_id} --year {_DAY[0]} "
        "--format html --locale zh_CN --out report.html"
    )


# -- the command --------------------------------------------------------------------------


def run_demo(
    locale: str = "en",
    write: Callable[[str], object] = print,
    store: Store | None = None,
    *,
    location: str | None = None,
) -> list[Ticket]:
    """Run the demo day through a HelpDesk, writing its report line by line with ``write``;
    return the day's tickets as they stand at the end of the day.

    The day runs on ``store`` (without one, on an in-memory store of its own):
    customers are found again by their contact addresses on later runs, tickets
    are numbered after those already stored, and every command and sweep is
    stored by the desk *before* anything is written, so a reader that stops
    early (``csdomain demo | head``) loses nothing. Given a ``store``, the last
    line says what it now holds and, given ``location`` (a file path or a URL
    with its password masked), where it is.
    """
    words_setup = demo_setup()
    words = _Words(locale, words_setup)  # refuses a bad locale before anything is stored
    _ = words.gettext
    clock = FrozenClock(_DEMO_START)
    work = store if store is not None else open_store("memory:", tenant="demo", clock=clock)
    ids = SequentialIds(
        width=4,
        start_after={
            "tkt": work.tickets.count(),
            "cus": work.customers.count(),
            "inv": work.collection(INVITATIONS).count(),
            "rsp": work.collection(RESPONSES).count(),
        },
    )
    outbox = _Outbox()
    extensions = (
        RevisitDesk([demo_revisit_plan()]),
        SurveyDesk([demo_survey_policy()], [demo_survey_template()], deliver=outbox),
    )
    desk = HelpDesk(work, words_setup, clock=clock, ids=ids, extensions=extensions)
    _add_known_customers(work, _known_customers(ids, _DEMO_START))
    day = _run_day(desk, clock, outbox)
    tickets = [desk.ticket(ticket_id).value for ticket_id in day.tickets]
    customers = {t.customer_id for t in tickets}
    after = _run_revisits(desk, clock, day)
    people = _People(work)

    write(
        _("csdomain {version} demo: {customers} customers, {tickets} tickets").format(
            version=csdomain.__version__, customers=len(customers), tickets=len(tickets)
        )
    )
    write("")
    for line in _desk_lines(words_setup, words):
        write(line)
    write("")
    for line in _sweep_lines(day.sweeps, words):
        write(line)
    for ticket in tickets:
        write("")
        for line in _timeline_lines(ticket, words):
            write(line)
        for line in _sla_lines(desk.sla_status(ticket.id, _DEMO_END), words):
            write(line)
    write("")
    for line in _due_lines(desk, words):
        write(line)
    write("")
    for line in _revisit_lines(desk, day, after, people, words):
        write(line)
    write("")
    for line in _survey_lines(desk, day, outbox, people, words):
        write(line)
    shown = tickets[2]  # the complaint: L1, L2, L3
    write("")
    write(_("JSON document of ticket {id}:").format(id=shown.id))
    write(to_json(shown, indent=2))
    write("")
    for line in _report_lines(tickets[5].customer_id, store, location, people, words):
        write(line)
    if store is not None:
        counts = {
            "tenant": store.tenant,
            "customers": store.customers.count(),
            "tickets": store.tickets.count(),
        }
        write("")
        if location is None:
            saved = _(
                "Saved: the store of tenant {tenant} now holds {customers} customers and "
                "{tickets} tickets."
            ).format(**counts)
        else:
            saved = _(
                "Saved in {location}: the store of tenant {tenant} now holds {customers} "
                "customers and {tickets} tickets."
            ).format(location=location, **counts)
        write(saved)
    return tickets
