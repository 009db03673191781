"""Notifications never fall outside the receiving calendar.

Law (Hypothesis): whatever tickets a desk opens and whenever it sweeps (nights,
lunch breaks, weekends, any minute of two weeks), every ``NotificationQueued`` it
writes is delivered at an open instant of the receiving calendar, the calendar of
the notified group (of the ticket's group for agents), the earliest one at or after
it was queued, and never before the rule fired; an outside body (no calendar) is told
at once. A worked example: a breach fired at 23:00 on a Friday in Shanghai reaches
the 9-to-6 team on Monday at 09:00, not at midnight.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.escalation import Action, EscalationRule, NotificationQueued, RuleFired, Trigger
from csdomain.helpdesk import DeskSetup, HelpDesk
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import open_store
from csdomain.tickets import Actor, Assigned, Ticket, TicketCreated, TicketKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The frontline: weekdays 9-12 and 13-18 in Shanghai, with a day off on Wednesday 9th.
DESK = BusinessCalendar.weekdays(
    "desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00", days=(0, 1, 3, 4)
)
#: The vendor works weekdays 8-16 in Berlin (night in Shanghai).
VENDOR = BusinessCalendar.weekdays("vendor", "Europe/Berlin", "08:00-16:00")
#: The weekend desk: Saturday and Sunday, 10-16 in Shanghai.
WEEKEND = BusinessCalendar.weekdays("weekend", "Asia/Shanghai", "10:00-16:00", days=(5, 6))
CALENDARS = {c.name: c for c in (DESK, VENDOR, WEEKEND)}
GROUP_CALENDARS = {"l1": "desk", "l2": "desk", "vendor": "vendor", "weekend": "weekend"}
#: The first Monday of the fortnight the law's instants fall in.
MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI)


def notify_setup() -> DeskSetup:
    """Rules that notify every group, agents (in the ticket's group's hours) and an
    outside body, on warnings, breaches and requests; clocks in calendar time and in
    desk time, so breaches happen at night and over weekends."""
    sla = SlaSetup(
        [
            SlaPolicy(
                "standard",
                [
                    MetricPolicy(
                        SlaMetric.FIRST_RESPONSE,
                        {
                            Priority.LOW: Target(timedelta(hours=3), "desk", warnings=(0.5,)),
                            Priority.NORMAL: Target(timedelta(hours=1), "desk", warnings=(0.5,)),
                            Priority.HIGH: Target(timedelta(hours=2), warnings=(0.25, 0.75)),
                            Priority.URGENT: Target(timedelta(minutes=20), warnings=(0.5,)),
                        },
                    ),
                    MetricPolicy(
                        SlaMetric.RESOLUTION,
                        {p: Target(timedelta(hours=10), "vendor") for p in Priority},
                    ),
                ],
            )
        ],
        [DESK, VENDOR, WEEKEND],
    )
    rules = (
        EscalationRule(
            name="first-response-late",
            trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
            actions=(
                Action.notify(groups=("l2", "vendor", "weekend")),
                Action.notify(agents=("agt_amy",), external="consumer_association"),
            ),
        ),
        EscalationRule(
            name="first-response-half",
            trigger=Trigger.sla_warning(SlaMetric.FIRST_RESPONSE, 0.5),
            actions=(Action.notify(groups=("l1",), agents=("agt_eng",)),),
        ),
        EscalationRule(
            name="resolution-late",
            trigger=Trigger.sla_breach(SlaMetric.RESOLUTION),
            actions=(Action.move_to_group("weekend"), Action.notify(agents=("agt_wes",))),
        ),
        EscalationRule(
            name="senior",
            trigger=Trigger.senior_requested(),
            actions=(Action.notify(groups=("vendor",)),),
        ),
        EscalationRule(
            name="complaint",
            trigger=Trigger.complaint(),
            actions=(Action.notify(groups=("weekend", "l1")),),
        ),
    )
    return DeskSetup(
        sla=sla,
        groups=tuple(
            Group(g, g.title(), tier="L2" if g == "l2" else "L1", calendar=c)
            for g, c in GROUP_CALENDARS.items()
        ),
        agents=(
            Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("l1",)),
            Agent("agt_eng", "Eng", presence=Presence.ONLINE, groups=("l2",)),
            Agent("agt_wes", "Wes", presence=Presence.ONLINE, groups=("weekend",)),
        ),
        escalation=rules,
        default_region="CN",
    )


SETUP = notify_setup()


def check_delivery(ticket: Ticket) -> int:
    """The law, for every notification of ``ticket``; returns how many it holds."""
    fired = {(e.rule, e.at) for e in ticket.timeline if isinstance(e, RuleFired)}
    group: str | None = None  # the ticket's group as the timeline goes
    count = 0
    for event in ticket.timeline:
        if isinstance(event, (TicketCreated, Assigned)):
            group = event.group_id
        if not isinstance(event, NotificationQueued):
            continue
        count += 1
        # Queued as its rule fired (same instant), so never delivered before the firing.
        assert (event.rule, event.at) in fired, event
        assert event.deliver_at >= event.at, event
        if event.groups:
            (notified,) = event.groups  # one notification per receiving group
            assert not event.agents and event.external is None, event
            receiving: str | None = GROUP_CALENDARS[notified]
        elif event.agents:
            assert event.external is None, event
            receiving = GROUP_CALENDARS[group] if group is not None else None
        else:
            assert event.external is not None, event
            receiving = None
        assert event.calendar == receiving, (event, group)
        if receiving is None:
            assert event.deliver_at == event.at, event  # told at once
            continue
        calendar = CALENDARS[receiving]
        delivered = event.deliver_at
        assert calendar.is_open(delivered) or calendar.next_open(delivered) == delivered, event
        assert delivered == calendar.next_open(event.at), event  # the first open instant
    return count


def _desk(start: datetime) -> tuple[HelpDesk, FrozenClock]:
    clock = FrozenClock(start)
    store = open_store("memory:", tenant="acme", clock=clock)
    return HelpDesk(store, SETUP, clock=clock, ids=SequentialIds()), clock


MINUTES = 24 * 60
intakes = st.lists(
    st.tuples(
        st.integers(0, 3 * MINUTES),  # minutes after the start
        st.sampled_from(Priority),
        st.sampled_from([TicketKind.CONSULTATION, TicketKind.COMPLAINT]),
        st.booleans(),  # the customer asks for a senior agent at once
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40)
@given(
    start=st.integers(0, 14 * MINUTES - 1).map(lambda m: MONDAY + timedelta(minutes=m)),
    intake=intakes,
    sweeps=st.lists(st.integers(0, 5 * MINUTES), max_size=8),
)
def test_notifications_land_in_the_receiving_calendar(
    start: datetime, intake: list[tuple[int, Priority, TicketKind, bool]], sweeps: list[int]
) -> None:
    desk, clock = _desk(start)
    steps: list[tuple[int, int, tuple[Priority, TicketKind, bool] | None]] = [
        (minute, 0, (priority, kind, senior)) for minute, priority, kind, senior in intake
    ]
    steps += [(minute, 1, None) for minute in sweeps]
    steps.append((8 * MINUTES, 1, None))  # at last, every first response has breached
    ids: list[str] = []
    for minute, _, opening in sorted(steps, key=lambda s: s[:2]):
        clock.set(start + timedelta(minutes=minute))
        if opening is None:
            desk.sweep()
            continue
        priority, kind, senior = opening
        stored = desk.open_ticket(
            contact=f"1380013{len(ids):04d}",
            channel="phone_hotline",
            subject="Help",
            kind=kind,
            priority=priority,
        )
        ids.append(stored.value.id)
        if senior:
            desk.request_senior_agent(stored.value.id)
    notified = [check_delivery(desk.ticket(ticket_id).value) for ticket_id in ids]
    # Not vacuous: every ticket breached its first response, and was told about.
    assert all(count >= 1 for count in notified), notified


def test_a_breach_fired_at_23_on_friday_is_delivered_on_monday_at_9() -> None:
    friday_1730 = datetime(2026, 12, 11, 17, 30, tzinfo=SHANGHAI)
    desk, clock = _desk(friday_1730)
    ticket_id = desk.open_ticket(
        contact="13800138000", channel="phone_hotline", subject="Down", priority=Priority.URGENT
    ).value.id
    assert desk.schedule(ticket_id).due_at == datetime(2026, 12, 11, 17, 50, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 12, 11, 23, 0, tzinfo=SHANGHAI))
    report = desk.sweep()
    assert (ticket_id, "first-response-late") in report.fired
    ticket = desk.ticket(ticket_id).value
    assert check_delivery(ticket) == 7
    delivered = {
        (e.rule, e.groups or e.agents or (e.external,)): e.deliver_at.astimezone(SHANGHAI)
        for e in ticket.timeline
        if isinstance(e, NotificationQueued)
    }
    friday_23 = datetime(2026, 12, 11, 23, 0, tzinfo=SHANGHAI)
    monday_9 = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)
    assert delivered == {
        # The 9-to-6 team hears of it on Monday at 09:00, not at midnight.
        ("first-response-late", ("l2",)): monday_9,
        # Berlin opens at 08:00 on Monday: 15:00 in Shanghai.
        ("first-response-late", ("vendor",)): datetime(2026, 12, 14, 15, 0, tzinfo=SHANGHAI),
        # The weekend desk opens on Saturday at 10:00.
        ("first-response-late", ("weekend",)): datetime(2026, 12, 12, 10, 0, tzinfo=SHANGHAI),
        # Amy, in the ticket's group (l1, desk hours): Monday 09:00 too.
        ("first-response-late", ("agt_amy",)): monday_9,
        # An outside body is told at once.
        ("first-response-late", ("consumer_association",)): friday_23,
        # The half-time warning (at 17:40) fired in the same sweep, told in the same hours.
        ("first-response-half", ("l1",)): monday_9,
        ("first-response-half", ("agt_eng",)): monday_9,
    }
    assert all(
        e.at == friday_23 for e in ticket.timeline if isinstance(e, (RuleFired, NotificationQueued))
    )
    # The ticket itself stays with the frontline, and nothing fires again.
    assert desk.sweep(datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)).fired == ()
    assert Actor.system() == next(e.actor for e in ticket.timeline if isinstance(e, RuleFired))
