"""The ``csdomain`` command: ``csdomain demo``, ``csdomain tickets``, ``csdomain --version``.

``demo`` walks through a small day at a help desk (customers on WeChat, the
phone hotline and web chat; replies, a pending wait, an escalation to L2,
solved tickets, one still waiting) and prints each ticket's timeline and SLA
status at the end of the day with localized labels, then one ticket as a JSON
document. It saves what it made in a store (a SQLite file by default,
``--db PATH``; ``--memory`` for none); run again on the same file, it adds
another day's tickets to it. ``tickets`` lists a store's tickets page by page.
The day is fixed (a frozen clock and sequential ids), so the output is the
same on every run but for the ticket numbers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

import csdomain
from csdomain.calendars import BusinessCalendar
from csdomain.channels import ChannelKind
from csdomain.clock import FrozenClock
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier
from csdomain.errors import CSDomainError, NotFoundError
from csdomain.i18n import channel_label, format_duration, label, tier_label, translation
from csdomain.ids import SequentialIds
from csdomain.priorities import Priority
from csdomain.serialization import to_json
from csdomain.sla import (
    Metric,
    MetricPolicy,
    SlaPolicy,
    SlaState,
    Target,
    evaluate,
    next_deadline,
)
from csdomain.storage import Store, open_store
from csdomain.tickets import (
    REASON_AGENT_REPLIED,
    REASON_CUSTOMER_REPLIED,
    Actor,
    Assigned,
    CustomFieldsChanged,
    Linked,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    TagsChanged,
    Ticket,
    TicketCreated,
    TicketEvent,
    TicketKind,
    TierChanged,
    Visibility,
)

__all__ = ["DEMO_DB", "describe_event", "list_tickets", "main", "run_demo"]

_DEMO_ZONE = ZoneInfo("Asia/Shanghai")
_DEMO_START = datetime(2026, 11, 23, 9, 0, tzinfo=_DEMO_ZONE)
_DEMO_END = datetime(2026, 11, 23, 17, 0, tzinfo=_DEMO_ZONE)
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
            MetricPolicy(Metric.FIRST_RESPONSE, targets(15, 30, 120)),
            MetricPolicy(Metric.NEXT_RESPONSE, targets(30, 60, 240)),
            MetricPolicy(Metric.RESOLUTION, targets(30, 480, 960)),
        ),
    )


def _actor_text(actor: Actor, locale: str) -> str:
    kind = label(actor.kind, locale)
    return f"{kind} {actor.id}" if actor.id else kind


def describe_event(event: TicketEvent, locale: str = "en") -> str:
    """One line saying what ``event`` did, in ``locale`` (without time or actor)."""
    _ = translation(locale).gettext
    if isinstance(event, TicketCreated):
        return _("opened: {subject} ({kind}, {channel}, priority {priority}, {tier})").format(
            subject=event.subject,
            kind=label(event.kind, locale),
            channel=channel_label(event.channel, locale),
            priority=label(event.priority, locale),
            tier=tier_label(event.tier, locale),
        )
    if isinstance(event, MessageAdded):
        text = event.body if len(event.body) <= 60 else event.body[:59] + "…"
        if event.visibility is Visibility.INTERNAL:
            line = _("internal note: {body}").format(body=text)
        else:
            line = _("message via {channel}: {body}").format(
                channel=channel_label(event.channel, locale), body=text
            )
        if event.handle_time is not None:
            line += " " + _("(handled in {duration})").format(
                duration=format_duration(event.handle_time, locale)
            )
        return line
    if isinstance(event, StatusChanged):
        automatic = {
            REASON_AGENT_REPLIED: _("agent replied"),
            REASON_CUSTOMER_REPLIED: _("customer replied"),
        }
        reason = automatic.get(event.reason or "", event.reason)
        return _("status {old} → {new}").format(
            old=label(event.old, locale), new=label(event.new, locale)
        ) + (f" ({reason})" if reason else "")
    if isinstance(event, PriorityChanged):
        return _("priority {old} → {new}").format(
            old=label(event.old, locale), new=label(event.new, locale)
        )
    if isinstance(event, Assigned):
        nobody = _("nobody")
        return _("assigned to group {group}, agent {agent}").format(
            group=event.group_id or nobody, agent=event.assignee_id or nobody
        )
    if isinstance(event, TierChanged):
        return _("escalation tier {old} → {new}").format(
            old=tier_label(event.old, locale), new=tier_label(event.new, locale)
        ) + (f" ({event.reason})" if event.reason else "")
    if isinstance(event, TagsChanged):
        changes = [f"+{t}" for t in sorted(event.added)] + [f"-{t}" for t in sorted(event.removed)]
        return _("tags {changes}").format(changes=" ".join(changes))
    if isinstance(event, CustomFieldsChanged):
        names = sorted([*event.values, *event.unset])
        return _("custom fields changed: {names}").format(names=", ".join(names))
    if isinstance(event, Linked):
        return _("linked: {kind} {ticket}").format(
            kind=label(event.link.kind, locale), ticket=event.link.ticket_id
        )
    return event.type_name


def _timeline_lines(ticket: Ticket, locale: str) -> Iterator[str]:
    _ = translation(locale).gettext
    yield _("Ticket {id} · {status} · {priority} · {tier}").format(
        id=ticket.id,
        status=label(ticket.status, locale),
        priority=label(ticket.priority, locale),
        tier=tier_label(ticket.tier, locale),
    )
    for event in ticket.timeline:
        when = format_datetime(event.at, "MM-dd HH:mm", tzinfo=_DEMO_ZONE, locale=locale)
        who = _actor_text(event.actor, locale)
        yield f"  {when}  {who:<14} {describe_event(event, locale)}"


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
        at=later(5), author=frontline, body="您好，请提供支付截图，我们马上核查。"
    )
    refund = refund.change_status(Status.PENDING, at=later(1), actor=frontline)
    refund = refund.add_message(at=later(30), author=Actor.customer(wang.id), body="截图已发送。")
    refund = refund.change_tier("L2", at=later(10), actor=frontline, reason="payment gateway issue")
    refund = refund.assign(at=later(1), actor=frontline, group_id="grp_l2", assignee_id="agt_0002")
    refund = refund.add_message(
        at=later(45),
        author=engineer,
        body="Gateway callback was lost; refund re-issued.",
        visibility=Visibility.INTERNAL,
    )
    refund = refund.add_message(at=later(2), author=engineer, body="退款已重新发起，请查收。")
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
        author=frontline,
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
    outage = outage.add_message(at=later(3), author=frontline, body="We are on it.")
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
    at = format_datetime(status.now, "HH:mm", tzinfo=_DEMO_ZONE, locale=locale)
    yield "  " + _("SLA at {time} (policy {policy}):").format(time=at, policy=status.policy)
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
            when = format_datetime(metric.breached_at, "HH:mm", tzinfo=_DEMO_ZONE, locale=locale)
            line += " · " + _("breached at {time}").format(time=when)
        elif metric.due_at is not None:
            when = format_datetime(metric.due_at, "MM-dd HH:mm", tzinfo=_DEMO_ZONE, locale=locale)
            line += " · " + _("due {time}").format(time=when)
        yield "    " + line


def run_demo(
    locale: str = "en", write: Callable[[str], object] = print, store: Store | None = None
) -> list[Ticket]:
    """Run the demo day, writing its report line by line with ``write``; return the tickets.

    With a ``store``, the customers (found again by their contact addresses on
    later runs), the tickets (numbered after those already stored, each with
    its SLA ``next_deadline``), the calendar and the SLA policy are saved in
    one unit of work.
    """
    _ = translation(locale).gettext
    existing = store.tickets.count() if store is not None else 0
    customers, tickets = _demo_day(SequentialIds(width=4, start_after={"tkt": existing}))
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
        _save_demo(store, customers, tickets)
        write("")
        write(
            _(
                "Saved: the store of tenant {tenant} now holds {customers} customers and "
                "{tickets} tickets."
            ).format(
                tenant=store.tenant,
                customers=store.customers.count(),
                tickets=store.tickets.count(),
            )
        )
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


def list_tickets(
    store: Store,
    *,
    statuses: Sequence[Status] = (),
    page_size: int = 20,
    locale: str = "en",
    write: Callable[[str], object] = print,
) -> int:
    """Write the store's tickets (those with one of ``statuses``, if given) page by page.

    Returns how many tickets were written.
    """
    _ = translation(locale).gettext
    cursor: str | None = None
    number = shown = 0
    while True:
        page = store.tickets.list(status=statuses or None, limit=page_size, cursor=cursor)
        if not page.items:
            break
        number += 1
        write(_("Page {number}").format(number=number))
        for stored in page.items:
            ticket = stored.value
            when = format_datetime(
                ticket.updated_at, "yyyy-MM-dd HH:mm", tzinfo=_DEMO_ZONE, locale=locale
            )
            write(
                f"  {ticket.id}  {label(ticket.status, locale)} · {label(ticket.priority, locale)}"
                f" · {when} · {ticket.subject}"
            )
            shown += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    if not shown:
        write(_("No tickets."))
    return shown


def _store_arguments(command: argparse.ArgumentParser, *, default_db: str | None) -> None:
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--db",
        default=default_db,
        metavar="PATH",
        help="SQLite database file" + (f" (default {default_db})" if default_db else ""),
    )
    where.add_argument("--url", help="any store URL, e.g. postgresql://user@host/db")
    if default_db:
        where.add_argument("--memory", action="store_true", help="keep nothing: an in-memory store")
    command.add_argument("--tenant", default="demo", help="the tenant to use (default demo)")
    command.add_argument(
        "--locale",
        default="en",
        help="language of the labels: en, zh_CN (简体中文) or zh_TW (繁體中文); default en",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csdomain",
        description="The customer-service domain as a library: tickets, channels, SLA and more.",
    )
    parser.add_argument("--version", action="version", version=f"csdomain {csdomain.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="walk through a help-desk day, print each ticket's timeline and SLA, save it",
    )
    _store_arguments(demo, default_db=DEMO_DB)
    tickets = commands.add_parser("tickets", help="list a store's tickets page by page")
    _store_arguments(tickets, default_db=None)
    tickets.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in Status],
        help="only tickets with this status (repeat for several)",
    )
    tickets.add_argument("--page-size", type=int, default=20, help="tickets per page (default 20)")
    return parser


#: Where ``csdomain demo`` keeps its data unless told otherwise.
DEMO_DB = "csdomain-demo.db"


def _open(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Store | None:
    if getattr(args, "memory", False):
        return open_store("memory:", tenant=args.tenant)
    if args.url:
        return open_store(args.url, tenant=args.tenant)
    if args.db:
        return open_store(f"sqlite:///{args.db}", tenant=args.tenant)
    parser.error("say where the store is: --db PATH or --url URL")
    return None  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``csdomain`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        translation(args.locale)
        store = _open(args, parser)
    except CSDomainError as exc:
        parser.error(str(exc))
    assert store is not None
    try:
        if args.command == "demo":
            run_demo(args.locale, store=None if args.memory else store)
        else:
            list_tickets(
                store,
                statuses=[Status(s) for s in args.status or ()],
                page_size=args.page_size,
                locale=args.locale,
            )
    except CSDomainError as exc:
        print(f"csdomain {args.command}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
