"""Escalation: worked examples on exact instants over a 9-17 business calendar.

The desk calendar is open 09:00-17:00 UTC on weekdays. 2026-12-01 is a Tuesday,
2026-12-04 a Friday and 2026-12-07 the Monday after. Each example states the
instant a trigger starts to hold, the firing it makes and what applying it does;
the laws (idempotence under repeated sweeps, delivery inside open hours, next
checks) are in ``test_escalation_laws.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from csdomain.calendars import BusinessCalendar
from csdomain.conditions import Equals
from csdomain.customers import Customer, CustomerTier
from csdomain.errors import NotFoundError
from csdomain.escalation import (
    Action,
    EscalationRule,
    Firing,
    NotificationQueued,
    RuleFired,
    SeniorAgentRequested,
    Trigger,
    apply_firing,
    due_firings,
    next_check,
    trigger_key,
)
from csdomain.people import AgentGrade, EscalationLadder, Group, Role
from csdomain.priorities import Priority
from csdomain.sla import (
    MetricPolicy,
    SlaPolicy,
    SlaSetup,
    Target,
    clock_state,
    evaluate,
    evaluate_clock,
)
from csdomain.tickets import Actor, Status, Ticket, TicketKind, TierChanged

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = BusinessCalendar.weekdays("desk", "UTC", "09:00-17:00")
SH = BusinessCalendar.weekdays("sh", "Asia/Shanghai", "09:00-17:00")
CALENDARS = {"desk": DESK, "sh": SH}
GROUPS = {
    "l1": Group("l1", "Frontline", calendar="desk"),
    "l2": Group("l2", "Engineers", tier="L2", calendar="desk"),
    "sh-desk": Group("sh-desk", "Shanghai desk", calendar="sh"),
    "noc": Group("noc", "Network operations"),  # no calendar: always reachable
}
LADDER = EscalationLadder.default()
SETUP = SlaSetup(
    [
        SlaPolicy(
            "standard",
            [
                MetricPolicy("first_response", {"normal": Target(timedelta(hours=2), "desk")}),
                MetricPolicy("resolution", {"normal": Target(timedelta(hours=8), "desk")}),
            ],
        )
    ],
    [DESK, SH],
)
AGENT = Actor.agent("agt_1")
CUSTOMER = Actor.customer("cus_1")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


TUESDAY_9 = at(1, 9)


def opened(when: datetime = TUESDAY_9, **fields: object) -> Ticket:
    return Ticket.open(
        id="tkt_1",
        customer_id="cus_1",
        channel="email",
        subject="Refund",
        at=when,
        group_id="l1",
        **fields,  # type: ignore[arg-type]
    )


def due(
    rules: Sequence[EscalationRule],
    ticket: Ticket,
    now: datetime,
    customer: Customer | None = None,
) -> tuple[Firing, ...]:
    status = evaluate(ticket, SETUP, now)
    return due_firings(rules, ticket, status, customer=customer, now=now, calendars=CALENDARS)


def check(rules: Sequence[EscalationRule], ticket: Ticket, now: datetime) -> datetime | None:
    status = evaluate(ticket, SETUP, now)
    return next_check(rules, ticket, status, customer=None, now=now, calendars=CALENDARS)


def no_agent(ticket: Ticket, action: Action) -> str | None:
    return None


def apply(ticket: Ticket, firing: Firing, now: datetime, choose=no_agent) -> Ticket:  # type: ignore[no-untyped-def]
    return apply_firing(
        ticket,
        firing,
        at=now,
        ladder=LADDER,
        groups=GROUPS,
        calendars=CALENDARS,
        choose_agent=choose,
    )


def sweep(rules: Sequence[EscalationRule], ticket: Ticket, now: datetime) -> Ticket:
    for firing in due(rules, ticket, now):
        ticket = apply(ticket, firing, now)
    return ticket


def fired(ticket: Ticket) -> list[tuple[str, str, int]]:
    return [(e.rule, e.trigger, e.cycle) for e in ticket.timeline if isinstance(e, RuleFired)]


BREACH = EscalationRule(
    "breach-to-l2",
    Trigger.sla_breach("first_response"),
    [Action.raise_tier(), Action.move_to_group("l2")],
)
WARNING = EscalationRule(
    "warn-at-75", Trigger.sla_warning("resolution", 0.75), [Action.notify(groups=["l1"])]
)


# -- SLA breach ------------------------------------------------------------------------


def test_a_breach_at_11_fires_once_however_often_the_sweep_runs() -> None:
    ticket = opened()  # first response due 11:00 (2 business hours)
    assert due([BREACH], ticket, at(1, 11)) == ()  # a reply at 11:00 is still on time
    [firing] = due([BREACH], ticket, at(1, 11, 30))
    assert firing == Firing(
        "breach-to-l2",
        "sla_breach:first_response",
        1,
        at(1, 11),
        "first_response breached at 2026-12-01T11:00:00+00:00 (target 2:00:00)",
        BREACH.actions,
    )
    ticket = apply(ticket, firing, at(1, 11, 30))
    assert (ticket.tier, ticket.group_id, ticket.assignee_id) == ("L2", "l2", None)
    for now in (at(1, 11, 30), at(1, 12), at(1, 16, 59), at(2, 9), at(7, 12)):
        assert due([BREACH], ticket, now) == ()
        ticket = sweep([BREACH], ticket, now)
    assert fired(ticket) == [("breach-to-l2", "sla_breach:first_response", 1)]


def test_the_rule_fired_record_comes_first_with_its_reason() -> None:
    ticket = opened()
    [firing] = due([BREACH], ticket, at(1, 12))
    after = apply(ticket, firing, at(1, 12))
    added = after.timeline[len(ticket.timeline) :]
    record, tier = added[0], added[1]
    assert isinstance(record, RuleFired)
    assert (record.at, record.actor, record.cycle) == (at(1, 12), Actor.system(), 1)
    assert record.reason == "first_response breached at 2026-12-01T11:00:00+00:00 (target 2:00:00)"
    assert isinstance(tier, TierChanged) and tier.reason == "rule breach-to-l2"


def test_applying_a_recorded_firing_again_changes_nothing() -> None:
    ticket = opened()
    [firing] = due([BREACH], ticket, at(1, 12))
    once = apply(ticket, firing, at(1, 12))
    assert apply(once, firing, at(1, 13)) is once


def test_next_check_of_a_breach_is_the_first_instant_after_the_due_one() -> None:
    ticket = opened()
    assert check([BREACH], ticket, at(1, 10)) == at(1, 11) + timedelta(microseconds=1)
    assert check([BREACH], ticket, at(1, 11)) == at(1, 11) + timedelta(microseconds=1)
    # once it is due, next_check leaves it to due_firings; once fired, nothing is left
    assert check([BREACH], ticket, at(1, 12)) is None
    assert check([BREACH], sweep([BREACH], ticket, at(1, 12)), at(1, 12)) is None


def test_a_paused_or_achieved_clock_gives_no_next_check() -> None:
    ticket = opened().add_message(at=at(1, 10), actor=AGENT, body="On it")
    assert check([BREACH], ticket, at(1, 10, 30)) is None  # first response achieved
    resolution = EscalationRule("res", Trigger.sla_breach("resolution"), [Action.raise_priority()])
    pending = opened().change_status(Status.PENDING, at=at(1, 10), actor=AGENT)
    assert check([resolution], pending, at(1, 11)) is None  # resolution paused


# -- SLA warning -----------------------------------------------------------------------


def test_a_warning_at_75_percent_holds_from_its_instant() -> None:
    ticket = opened()  # resolution 8 business hours: 75% is 6 hours, at 15:00
    assert check([WARNING], ticket, at(1, 14)) == at(1, 15)
    assert due([WARNING], ticket, at(1, 14, 59)) == ()
    [firing] = due([WARNING], ticket, at(1, 15))
    assert (firing.trigger, firing.cycle, firing.at) == (
        "sla_warning:resolution:0.75",
        1,
        at(1, 15),
    )
    assert firing.reason == (
        "resolution reached 75% of its target (8:00:00) at 2026-12-01T15:00:00+00:00"
    )


def test_a_late_sweep_reports_the_warnings_own_instant() -> None:
    ticket = opened()
    # running, 7 hours counted at 16:00: the warning was reached at 15:00
    [firing] = due([WARNING], ticket, at(1, 16))
    assert firing.at == at(1, 15)
    # breached at 17:00 Tuesday, seen on Thursday: still reached at 15:00
    [firing] = due([WARNING], ticket, at(3, 12))
    assert firing.at == at(1, 15)


def test_a_warning_over_the_weekend_counts_business_time() -> None:
    ticket = opened(at(4, 14))  # Friday 14:00: 6 hours are 3 on Friday, 3 on Monday
    assert check([WARNING], ticket, at(4, 16)) == at(7, 12)
    assert check([WARNING], ticket, at(5, 12)) == at(7, 12)  # Saturday
    assert due([WARNING], ticket, at(7, 11, 59)) == ()
    [firing] = due([WARNING], ticket, at(7, 12))
    assert firing.at == at(7, 12)
    [late] = due([WARNING], ticket, at(7, 13))  # counted back over the weekend
    assert late.at == at(7, 12)
    [friday] = due([WARNING], opened(at(4, 9)), at(7, 10))  # reached Friday 15:00
    assert friday.at == at(4, 15)


def test_a_warning_already_achieved_does_not_fire() -> None:
    ticket = opened().change_status(Status.SOLVED, at=at(1, 16), actor=AGENT)
    assert due([WARNING], ticket, at(1, 16)) == ()  # solved: nothing fires


# -- waiting -------------------------------------------------------------------------


UNASSIGNED = EscalationRule(
    "unassigned-2h",
    Trigger.unassigned_for(timedelta(hours=2), calendar="desk"),
    [Action.notify(groups=["l1"])],
)


def test_unassigned_for_two_business_hours_over_a_weekend() -> None:
    ticket = opened(at(4, 16))  # Friday 16:00, nobody assigned
    assert check([UNASSIGNED], ticket, at(4, 18)) == at(7, 10)  # 1 h Friday, 1 h Monday
    assert due([UNASSIGNED], ticket, at(7, 9, 59)) == ()
    [firing] = due([UNASSIGNED], ticket, at(7, 10))
    assert (firing.trigger, firing.cycle, firing.at) == ("unassigned_for", 1, at(7, 10))
    assert firing.reason == (
        "unassigned since 2026-12-04T16:00:00+00:00: 2:00:00 of open time of calendar "
        "'desk' passed at 2026-12-07T10:00:00+00:00"
    )


def test_unassigned_again_is_a_new_cycle() -> None:
    ticket = sweep([UNASSIGNED], opened(), at(1, 11))
    assert fired(ticket) == [("unassigned-2h", "unassigned_for", 1)]
    ticket = ticket.assign(at=at(1, 12), actor=AGENT, assignee_id="agt_1")
    assert check([UNASSIGNED], ticket, at(1, 12)) is None
    ticket = ticket.assign(at=at(1, 13), actor=AGENT, assignee_id=None)
    assert check([UNASSIGNED], ticket, at(1, 13)) == at(1, 15)
    ticket = sweep([UNASSIGNED], ticket, at(1, 15))
    assert fired(ticket)[-1] == ("unassigned-2h", "unassigned_for", 2)


def test_waiting_on_the_customer_in_calendar_time() -> None:
    rule = EscalationRule(
        "chase",
        Trigger.waiting_on_customer_for(timedelta(days=2)),
        [Action.notify(agents=["agt_1"])],
    )
    ticket = opened().change_status(Status.PENDING, at=at(4, 16), actor=AGENT)
    assert check([rule], ticket, at(4, 16)) == at(6, 16)  # Sunday: calendar time
    [firing] = due([rule], ticket, at(6, 16))
    assert (firing.cycle, firing.at) == (1, at(6, 16))
    ticket = apply(ticket, firing, at(6, 16))
    [note] = [e for e in ticket.timeline if isinstance(e, NotificationQueued)]
    # the agents hear of it when their group (l1, the desk calendar) opens on Monday
    assert (note.agents, note.calendar, note.deliver_at) == (("agt_1",), "desk", at(7, 9))


# -- notifications -----------------------------------------------------------------------


def test_a_notification_fired_at_23_local_is_delivered_next_morning_at_9() -> None:
    rule = EscalationRule(
        "tell-shanghai",
        Trigger.complaint(),
        [Action.notify(groups=["sh-desk", "noc"], external="consumer_association")],
    )
    ticket = opened(kind=TicketKind.COMPLAINT)
    fired_at = datetime(2026, 12, 1, 23, 0, tzinfo=SHANGHAI)  # Tuesday night in Shanghai
    [firing] = due([rule], ticket, fired_at)
    ticket = apply(ticket, firing, fired_at)
    notes = [e for e in ticket.timeline if isinstance(e, NotificationQueued)]
    assert [(n.groups, n.external, n.calendar) for n in notes] == [
        (("sh-desk",), None, "sh"),
        (("noc",), None, None),
        ((), "consumer_association", None),
    ]
    morning = datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)
    assert notes[0].deliver_at == morning
    assert notes[0].deliver_at.astimezone(SHANGHAI).hour == 9  # never at midnight
    assert notes[1].deliver_at == notes[2].deliver_at == fired_at
    assert all(n.rule == "tell-shanghai" and n.actor == Actor.system() for n in notes)
    assert notes[0].reason == "rule tell-shanghai: the ticket is a complaint"


def test_a_notification_inside_open_hours_is_delivered_at_once() -> None:
    rule = EscalationRule("n", Trigger.complaint(), [Action.notify(groups=["l1"])])
    ticket = opened(kind=TicketKind.COMPLAINT)
    [firing] = due([rule], ticket, at(1, 10))
    [note] = [
        e for e in apply(ticket, firing, at(1, 10)).timeline if isinstance(e, NotificationQueued)
    ]
    assert note.deliver_at == at(1, 10)


# -- event triggers ---------------------------------------------------------------------


def test_each_request_for_a_senior_agent_fires_once() -> None:
    rule = EscalationRule(
        "senior",
        Trigger.senior_requested(),
        [Action.assign(role=Role.AGENT, min_grade=AgentGrade.SENIOR)],
    )
    chosen: list[Action] = []

    def choose(ticket: Ticket, action: Action) -> str | None:
        chosen.append(action)
        return "agt_senior"

    ticket = opened()
    assert due([rule], ticket, at(1, 10)) == ()
    ticket = ticket.record(SeniorAgentRequested(at=at(1, 10), actor=CUSTOMER, reason="angry"))
    [firing] = due([rule], ticket, at(1, 10))
    assert (firing.cycle, firing.at) == (1, at(1, 10))
    ticket = apply(ticket, firing, at(1, 10), choose)
    assert ticket.assignee_id == "agt_senior" and chosen == [rule.actions[0]]
    assert due([rule], ticket, at(1, 11)) == ()
    ticket = ticket.record(SeniorAgentRequested(at=at(1, 12), actor=CUSTOMER))
    [again] = due([rule], ticket, at(1, 12))
    assert again.cycle == 2
    assert again.reason == "a senior agent was requested at 2026-12-01T12:00:00+00:00 (request 2)"


def test_reopened_twice_fires_at_the_second_reopen() -> None:
    rule = EscalationRule("reopens", Trigger.reopened(2), [Action.raise_priority()])
    ticket = opened()
    for hour in (10, 12):
        ticket = ticket.change_status(Status.SOLVED, at=at(1, hour), actor=AGENT)
        ticket = ticket.add_message(at=at(1, hour + 1), actor=CUSTOMER, body="Still broken")
    [firing] = due([rule], ticket, at(1, 14))
    assert (firing.trigger, firing.cycle, firing.at) == ("reopened:2", 1, at(1, 13))
    ticket = apply(ticket, firing, at(1, 14))
    assert ticket.priority is Priority.HIGH
    ticket = ticket.change_status(Status.SOLVED, at=at(1, 15), actor=AGENT)
    ticket = ticket.add_message(at=at(1, 16), actor=CUSTOMER, body="Again")
    assert due([rule], ticket, at(1, 16)) == ()  # once: the third reopen is the same cycle


def test_priority_at_least_fires_for_each_rise() -> None:
    rule = EscalationRule(
        "hot", Trigger.priority_at_least(Priority.HIGH), [Action.notify(groups=["noc"])]
    )
    ticket = opened()
    assert due([rule], ticket, at(1, 10)) == ()
    ticket = ticket.change_priority(Priority.URGENT, at=at(1, 10), actor=AGENT)
    ticket = sweep([rule], ticket, at(1, 10))
    ticket = ticket.change_priority(Priority.HIGH, at=at(1, 11), actor=AGENT)  # still >= high
    assert due([rule], ticket, at(1, 11)) == ()
    ticket = ticket.change_priority(Priority.LOW, at=at(1, 12), actor=AGENT)
    ticket = ticket.change_priority(Priority.HIGH, at=at(1, 13), actor=AGENT)
    [firing] = due([rule], ticket, at(1, 13))
    assert (firing.cycle, firing.at) == (2, at(1, 13))
    created_high = opened(priority=Priority.URGENT)
    [first] = due([rule], created_high, at(1, 9))
    assert (first.cycle, first.at) == (1, at(1, 9))


def test_only_unsolved_tickets_fire_and_only_when_the_condition_matches() -> None:
    vip_only = EscalationRule(
        "vip",
        Trigger.complaint(),
        [Action.raise_tier()],
        condition=Equals("customer.tier", "vip"),
    )
    ticket = opened(kind=TicketKind.COMPLAINT)
    vip = Customer(id="cus_1", display_name="Li", tier=CustomerTier.VIP)
    regular = Customer(id="cus_1", display_name="Li")
    assert len(due([vip_only], ticket, at(1, 10), vip)) == 1
    assert due([vip_only], ticket, at(1, 10), regular) == ()
    on_hold = ticket.change_status(Status.ON_HOLD, at=at(1, 10), actor=AGENT)
    assert len(due([vip_only], on_hold, at(1, 10), vip)) == 1
    solved = ticket.change_status(Status.SOLVED, at=at(1, 10), actor=AGENT)
    assert due([vip_only], solved, at(1, 10), vip) == ()
    assert check([vip_only], solved, at(1, 10)) is None


# -- actions -------------------------------------------------------------------------


def _fire(actions: Sequence[Action], ticket: Ticket, choose=no_agent) -> Ticket:  # type: ignore[no-untyped-def]
    firing = Firing("r", "complaint", 1, at(1, 9), "the ticket is a complaint", tuple(actions))
    return apply(ticket, firing, at(1, 10), choose)


def test_raise_tier_goes_one_step_or_to_the_named_tier_and_never_down() -> None:
    assert _fire([Action.raise_tier()], opened()).tier == "L2"
    assert _fire([Action.raise_tier("L3")], opened()).tier == "L3"
    top = opened(tier="L3")
    assert _fire([Action.raise_tier()], top).timeline[len(top.timeline) + 1 :] == ()
    assert _fire([Action.raise_tier("L2")], top).tier == "L3"
    assert _fire([Action.raise_tier(), Action.raise_tier()], opened()).tier == "L3"


def test_raise_priority_goes_one_step_or_to_at_least_the_named_one() -> None:
    assert _fire([Action.raise_priority()], opened()).priority is Priority.HIGH
    assert _fire([Action.raise_priority("urgent")], opened()).priority is Priority.URGENT
    high = opened(priority=Priority.HIGH)
    assert _fire([Action.raise_priority("normal")], high).priority is Priority.HIGH
    urgent = opened(priority=Priority.URGENT)
    after = _fire([Action.raise_priority()], urgent)
    assert after.priority is Priority.URGENT and len(after.timeline) == len(urgent.timeline) + 1


def test_move_to_group_clears_the_assignee_and_assign_asks_the_chooser() -> None:
    ticket = opened(assignee_id="agt_1")
    moved = _fire([Action.move_to_group("l2")], ticket)
    assert (moved.group_id, moved.assignee_id) == ("l2", None)
    same = _fire([Action.move_to_group("l1")], ticket)  # already there: kept as is
    assert (same.group_id, same.assignee_id) == ("l1", "agt_1")

    def choose(ticket: Ticket, action: Action) -> str | None:
        return "agt_l2" if ticket.group_id == "l2" else None

    both = _fire([Action.move_to_group("l2"), Action.assign(Role.ENGINEER)], ticket, choose)
    assert (both.group_id, both.assignee_id) == ("l2", "agt_l2")
    nobody = _fire([Action.assign()], ticket)
    assert nobody.assignee_id == "agt_1"


def test_unknown_groups_and_calendars_at_apply_time_are_not_found() -> None:
    ticket = opened()
    with pytest.raises(NotFoundError, match=r"group 'nowhere' not found.*groups given"):
        _fire([Action.move_to_group("nowhere")], ticket)
    with pytest.raises(NotFoundError, match=r"group 'nowhere'"):
        _fire([Action.notify(groups=["nowhere"])], ticket)
    lost = {"l1": Group("l1", "Frontline", calendar="gone")}
    firing = Firing("r", "complaint", 1, at(1, 9), "why", (Action.notify(agents=["agt_1"]),))
    with pytest.raises(NotFoundError, match=r"calendar 'gone' not found"):
        apply_firing(
            ticket,
            firing,
            at=at(1, 10),
            ladder=LADDER,
            groups=lost,
            calendars=CALENDARS,
            choose_agent=no_agent,
        )
    with pytest.raises(NotFoundError, match=r"calendar 'desk' not found"):
        due_firings(
            [UNASSIGNED],
            ticket,
            evaluate(ticket, SETUP, at(1, 10)),
            customer=None,
            now=at(1, 10),
            calendars={},
        )


def test_the_sla_status_must_be_of_the_ticket_at_now() -> None:
    from csdomain.errors import ValidationError

    ticket = opened()
    status = evaluate(ticket, SETUP, at(1, 10))
    with pytest.raises(ValidationError, match=r"evaluated at 2026-12-01T10:00:00\+00:00"):
        due_firings([BREACH], ticket, status, customer=None, now=at(1, 11), calendars=CALENDARS)
    other = Ticket.open(id="tkt_2", customer_id="cus_1", channel="email", subject="x", at=at(1, 9))
    with pytest.raises(ValidationError, match=r"of ticket 'tkt_1', not of ticket 'tkt_2'"):
        next_check([BREACH], other, status, customer=None, now=at(1, 10), calendars=CALENDARS)


def test_trigger_keys() -> None:
    assert [
        trigger_key(t)
        for t in (
            Trigger.sla_breach("first_response"),
            Trigger.sla_warning("resolution", 0.75),
            Trigger.senior_requested(),
            Trigger.complaint(),
            Trigger.reopened(2),
            Trigger.unassigned_for(timedelta(hours=1)),
            Trigger.waiting_on_customer_for(timedelta(days=1), calendar="desk"),
            Trigger.priority_at_least("high"),
        )
    ] == [
        "sla_breach:first_response",
        "sla_warning:resolution:0.75",
        "senior_requested",
        "complaint",
        "reopened:2",
        "unassigned_for",
        "waiting_on_customer_for",
        "priority_at_least:high",
    ]


def test_a_warning_reached_before_a_pause_is_exact_with_the_clock_state() -> None:
    # 6 of 8 hours counted at 15:00; pending from 16:00 (resolution pauses) to the
    # customer's reply on Wednesday at 09:00; seen at 11:00, breached at 10:00.
    ticket = opened().change_status(Status.PENDING, at=at(1, 16), actor=AGENT)
    paused = at(1, 16, 30)
    [firing] = due([WARNING], ticket, paused)
    assert firing.at == paused  # the status alone tells no instant for a paused clock
    clock = clock_state(ticket, SETUP)
    [firing] = due_firings(
        [WARNING],
        ticket,
        evaluate_clock(clock, SETUP, paused),
        customer=None,
        now=paused,
        calendars=CALENDARS,
        clock=clock,
    )
    assert firing.at == at(1, 15)
    assert firing.reason.endswith("at 2026-12-01T15:00:00+00:00")
    resumed = ticket.add_message(at=at(2, 9), actor=CUSTOMER, body="Here it is")
    [late] = due([WARNING], resumed, at(2, 11))  # counted back from the breach at 10:00
    assert late.at == at(1, 16)  # as if the clock had counted 16:00-17:00
    clock = clock_state(resumed, SETUP)
    [exact] = due_firings(
        [WARNING],
        resumed,
        evaluate_clock(clock, SETUP, at(2, 11)),
        customer=None,
        now=at(2, 11),
        calendars=CALENDARS,
        clock=clock,
    )
    assert exact.at == at(1, 15)
