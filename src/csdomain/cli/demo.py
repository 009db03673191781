"""``csdomain demo``: a small day at a help desk, printed ticket by ticket and saved.

Customers on WeChat, the phone hotline and web chat; replies, a pending wait,
an escalation to L2, solved tickets and one still waiting. The day is fixed (a
frozen clock and sequential ids), so the output is the same on every run but
for the ticket numbers, which continue after those already in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import csdomain
from csdomain.calendars import BusinessCalendar
from csdomain.channels import ChannelKind
from csdomain.clock import FrozenClock
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier
from csdomain.errors import NotFoundError
from csdomain.i18n import format_duration, label, tier_label, translation
from csdomain.ids import SequentialIds
from csdomain.priorities import Priority
from csdomain.serialization import to_json
from csdomain.sla import (
    MetricPolicy,
    SlaMetric,
    SlaPolicy,
    SlaState,
    Target,
    evaluate,
    next_deadline,
)
from csdomain.storage import Store
from csdomain.tickets import Actor, Status, Ticket, TicketKind, Visibility
from csdomain.tickets.rendering import describe_event

__all__ = ["DEMO_DB", "DEMO_ZONE", "run_demo"]

#: Where ``csdomain demo`` keeps its data unless told otherwise.
DEMO_DB = "csdomain-demo.db"
#: The help desk's zone: the demo's times are shown in it.
DEMO_ZONE = ZoneInfo("Asia/Shanghai")

_DEMO_START = datetime(2026, 11, 23, 9, 0, tzinfo=DEMO_ZONE)
_DEMO_END = datetime(2026, 11, 23, 17, 0, tzinfo=DEMO_ZONE)
_DEMO_CALENDAR = BusinessCalendar.weekdays(
    "shanghai-desk", "Asia/Shanghai", "09:00-12:00", "13:30-18:00"
)


def _demo_policy() -> SlaPolicy:
    """Business hours of the desk, except urgent tickets, which count every minute."""

    def targets(urgent: int, high: int, other: int) -> dict[Priority, Target]:
        business = {
            Priority.HIGH: Target(timedelta(minutes=high), calendar=_DEMO_CALENDAR.name),
            Priority.NORMAL: Target(timedelta(minutes=other), calendar=_DEMO_CALENDAR.name),
            Priority.LOW: Target(timedelta(minutes=other), calendar=_DEMO_CALENDAR.name),
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


def _local(at: datetime, pattern: str) -> str:
    # Numeric patterns read the same in every supported locale, so no locale is needed.
    return at.astimezone(DEMO_ZONE).strftime(pattern)


def _actor_text(actor: Actor, locale: str) -> str:
    kind = label(actor.kind, locale)
    return f"{kind} {actor.id}" if actor.id else kind


def _timeline_lines(ticket: Ticket, locale: str) -> Iterator[str]:
    _ = translation(locale).gettext
    yield _("Ticket {id} · {status} · {priority} · {tier}").format(
        id=ticket.id,
        status=label(ticket.status, locale),
        priority=label(ticket.priority, locale),
        tier=tier_label(ticket.tier, locale),
    )
    for event in ticket.timeline:
        who = _actor_text(event.actor, locale)
        yield f"  {_local(event.at, '%m-%d %H:%M')}  {who:<14} {describe_event(event, locale)}"


def _demo_day(ids: SequentialIds) -> tuple[list[Customer], list[Ticket]]:
    clock = FrozenClock(_DEMO_START)

    def later(minutes: float) -> datetime:
        return clock.advance(minutes=minutes)

    wang = Customer(
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
                consent_changed_at=clock.now(),
            ),
        ),
    )
    li = Customer(
        id=ids.new("cus"),
        display_name="Li Wei",
        timezone="Asia/Shanghai",
        contact_points=(
            ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+86 138 0013 8000"),
            ContactPoint(channel=ChannelKind.EMAIL, address="li.wei@example.com"),
        ),
    )
    acme = Customer(
        id=ids.new("cus"),
        display_name="Acme Ltd",
        tier=CustomerTier.ENTERPRISE,
        timezone="Europe/London",
        contact_points=(ContactPoint(channel=ChannelKind.WEB_CHAT, address="acme-portal"),),
    )
    frontline, engineer = Actor.agent("agt_0001"), Actor.agent("agt_0002")

    refund = Ticket.open(
        id=ids.new("tkt"),
        customer_id=wang.id,
        channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT,
        subject="退款未到账 / refund not received",
        kind=TicketKind.COMPLAINT,
        priority=Priority.HIGH,
        group_id="grp_l1",
        at=clock.now(),
        description="订单 8812 的退款三天了还没到账。",
    )
    refund = refund.assign(at=later(2), actor=Actor.system("router"), assignee_id="agt_0001")
    refund = refund.add_message(
        at=later(5), actor=frontline, body="您好，请提供支付截图，我们马上核查。"
    )
    refund = refund.change_status(Status.PENDING, at=later(1), actor=frontline)
    refund = refund.add_message(at=later(30), actor=Actor.customer(wang.id), body="截图已发送。")
    refund = refund.change_tier("L2", at=later(10), actor=frontline, reason="payment gateway issue")
    refund = refund.assign(at=later(1), actor=frontline, group_id="grp_l2", assignee_id="agt_0002")
    refund = refund.add_message(
        at=later(45),
        actor=engineer,
        body="Gateway callback was lost; refund re-issued.",
        visibility=Visibility.INTERNAL,
    )
    refund = refund.add_message(at=later(2), actor=engineer, body="退款已重新发起，请查收。")
    refund = refund.change_status(Status.SOLVED, at=later(1), actor=engineer)

    call = Ticket.open(
        id=ids.new("tkt"),
        customer_id=li.id,
        channel=ChannelKind.PHONE_HOTLINE,
        subject="How do I change my delivery address?",
        at=later(5),
        description="Caller asks how to change the delivery address of order 9921.",
    )
    call = call.add_message(
        at=later(4),
        actor=frontline,
        body="Explained the address change in the app; changed it for the caller.",
        handle_time=timedelta(minutes=4, seconds=30),
    )
    call = call.change_status(Status.SOLVED, at=later(1), actor=frontline)

    outage = Ticket.open(
        id=ids.new("tkt"),
        customer_id=acme.id,
        channel=ChannelKind.WEB_CHAT,
        subject="Dashboard returns error 502",
        kind=TicketKind.INCIDENT,
        at=later(20),
        description="Our dashboard has returned 502 since 10:15.",
    )
    outage = outage.change_priority(Priority.URGENT, at=later(1), actor=frontline)
    outage = outage.change_tags(at=later(0), actor=frontline, add=["outage", "enterprise"])
    outage = outage.add_message(at=later(3), actor=frontline, body="We are on it.")
    outage = outage.change_status(Status.SOLVED, at=later(40), actor=engineer)

    clock.advance(minutes=300)  # late afternoon: a question nobody has answered yet
    waiting = Ticket.open(
        id=ids.new("tkt"),
        customer_id=li.id,
        channel=ChannelKind.EMAIL,
        subject="Invoice for order 9921",
        kind=TicketKind.REQUEST,
        at=clock.now(),
        description="Please send a VAT invoice for order 9921.",
    )
    return [wang, li, acme], [refund, call, outage, waiting]


def _sla_lines(ticket: Ticket, locale: str) -> Iterator[str]:
    _ = translation(locale).gettext
    status = evaluate(ticket, [_demo_policy()], [_DEMO_CALENDAR], _DEMO_END)
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


def run_demo(
    locale: str = "en",
    write: Callable[[str], object] = print,
    store: Store | None = None,
    *,
    location: str | None = None,
) -> list[Ticket]:
    """Run the demo day, writing its report line by line with ``write``; return the tickets.

    With a ``store``, the customers (found again by their contact addresses on
    later runs), the tickets (numbered after those already stored, each with
    its SLA ``next_deadline``), the calendar and the SLA policy are saved in
    one unit of work *before* anything is written, so a reader that stops
    early (``csdomain demo | head``) loses nothing. The last line says what
    the store now holds and, given ``location`` (a file path or a URL with its
    password masked), where it is.
    """
    _ = translation(locale).gettext
    existing = store.tickets.count() if store is not None else 0
    customers, tickets = _demo_day(SequentialIds(width=4, start_after={"tkt": existing}))
    if store is not None:
        _save_demo(store, customers, tickets)
    write(
        _("csdomain {version} demo: {customers} customers, {tickets} tickets").format(
            version=csdomain.__version__, customers=len(customers), tickets=len(tickets)
        )
    )
    for ticket in tickets:
        write("")
        for line in _timeline_lines(ticket, locale):
            write(line)
        for line in _sla_lines(ticket, locale):
            write(line)
    write("")
    write(_("JSON document of ticket {id}:").format(id=tickets[0].id))
    write(to_json(tickets[0], indent=2))
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


def _save_demo(store: Store, customers: list[Customer], tickets: list[Ticket]) -> None:
    policy = _demo_policy()
    with store.transaction():
        for customer in customers:
            address = customer.contact_points[0].address
            if not store.customers.find_by_contact(address):
                store.customers.add(customer)
        for name, value in ((policy.name, policy), (_DEMO_CALENDAR.name, _DEMO_CALENDAR)):
            try:
                store.config.get(type(value), name)
            except NotFoundError:
                store.config.add(name, value)
        for ticket in tickets:
            deadline = next_deadline(ticket, [policy], [_DEMO_CALENDAR], _DEMO_END)
            store.tickets.add(ticket, next_deadline=deadline)
