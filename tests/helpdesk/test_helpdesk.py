"""The HelpDesk service: commands, schedules, routing and sweeps on exact instants."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.customers import CustomerTier
from csdomain.errors import NotFoundError, ValidationError
from csdomain.escalation import Action, EscalationRule, RuleFired, Trigger
from csdomain.helpdesk import DeskSetup, HelpDesk, Routed
from csdomain.ids import SequentialIds
from csdomain.people import Agent, AgentGrade, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import AssignmentPolicy, Strategy, Triage, TriageRule
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target, evaluate
from csdomain.storage import open_store
from csdomain.tickets import Actor, Status, TicketKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


def _sla() -> SlaSetup:
    hours = {
        Priority.LOW: Target(timedelta(hours=8), calendar="desk"),
        Priority.NORMAL: Target(timedelta(hours=4), calendar="desk", warnings=(0.5, 0.75)),
        Priority.HIGH: Target(timedelta(hours=1), calendar="desk", warnings=(0.5,)),
        Priority.URGENT: Target(timedelta(minutes=30)),
    }
    policy = SlaPolicy(
        "standard",
        [
            MetricPolicy(SlaMetric.FIRST_RESPONSE, hours),
            MetricPolicy(
                SlaMetric.RESOLUTION,
                {p: Target(timedelta(days=2), calendar="desk") for p in Priority},
            ),
        ],
    )
    return SlaSetup([policy], [DESK])


def _agents() -> tuple[Agent, ...]:
    online = Presence.ONLINE
    return (
        Agent("agt_amy", "Amy", presence=online, groups=("l1",)),
        Agent("agt_bob", "Bob", presence=online, groups=("l1",)),
        Agent("agt_sue", "Sue", grade=AgentGrade.SENIOR, presence=online, groups=("l1", "vip")),
        Agent("agt_eng", "Eng", presence=online, groups=("l2",), skills={"billing"}),
        Agent("agt_ven", "Ven", presence=online, groups=("vendor",)),
    )


def _setup(**changes: object) -> DeskSetup:
    groups = (
        Group("l1", "Frontline", tier="L1", calendar="desk"),
        Group("vip", "VIP desk", tier="L1", calendar="desk", overflow_to="l1"),
        Group("l2", "Engineering", tier="L2", calendar="desk"),
        Group("vendor", "Vendor", tier="L3", calendar="desk"),
    )
    triage = Triage(
        rules=(TriageRule(name="vip", group_id="vip", customer_tiers={CustomerTier.VIP}),),
        default_group="l1",
    )
    rules = (
        EscalationRule(
            name="complaint-late",
            trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
            actions=(
                Action.raise_tier(),
                Action.move_to_group("l2"),
                Action.notify(groups=("l2",)),
            ),
        ),
    )
    values: dict[str, object] = {
        "sla": _sla(),
        "groups": groups,
        "agents": _agents(),
        "triage": triage,
        "assignment": (AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
        "escalation": rules,
        "default_region": "CN",
    }
    values.update(changes)
    return DeskSetup(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_10)


@pytest.fixture
def desk(clock: FrozenClock) -> HelpDesk:
    store = open_store("memory:", tenant="acme", clock=clock)
    return HelpDesk(store, _setup(), clock=clock, ids=SequentialIds())


def _open(desk: HelpDesk, contact: str = "13800138000", **kwargs: object) -> str:
    stored = desk.open_ticket(
        contact=contact,
        channel="phone_hotline",
        subject="Router broken",
        **kwargs,  # type: ignore[arg-type]
    )
    return stored.value.id


def test_open_ticket_finds_or_creates_the_customer_by_normalized_contact(desk: HelpDesk) -> None:
    first = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="One")
    second = desk.open_ticket(contact="+86 138 0013 8000", channel="phone_hotline", subject="Two")
    assert first.value.customer_id == second.value.customer_id
    assert desk.store.customers.count() == 1


def test_open_ticket_routes_round_robin_and_says_why(desk: HelpDesk) -> None:
    owners = [desk.ticket(_open(desk, f"1380013800{i}")).value.assignee_id for i in range(6)]
    assert owners == ["agt_amy", "agt_bob", "agt_sue"] * 2
    ticket = desk.ticket(_open(desk)).value
    routed = [e for e in ticket.timeline if isinstance(e, Routed)]
    assert routed and routed[-1].group_id == "l1" and routed[-1].reasons


def test_the_schedule_indexes_due_and_warning_instants_exactly(desk: HelpDesk) -> None:
    ticket_id = _open(desk)
    schedule = desk.schedule(ticket_id)
    # 4 business hours from Monday 10:00: 10-12 and 13-15.
    assert schedule.due_at == datetime(2026, 12, 7, 15, 0, tzinfo=SHANGHAI)
    assert schedule.due_metric is SlaMetric.FIRST_RESPONSE
    # 50% of 4 h: 2 h, reached at 12:00, the closing instant before lunch (not 13:00).
    assert schedule.warning_at == datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
    assert schedule.sweep_at == schedule.warning_at
    fresh = evaluate(desk.ticket(ticket_id).value, desk.setup.sla, MONDAY_10)
    assert schedule.due_at == fresh[SlaMetric.FIRST_RESPONSE].due_at


def test_setting_the_current_status_is_a_no_op(desk: HelpDesk) -> None:
    ticket_id = _open(desk)
    before = desk.ticket(ticket_id)
    after = desk.set_status(ticket_id, before.value.status, actor=Actor.agent("agt_amy"))
    assert after.version == before.version and after.value == before.value


def test_a_reply_moves_the_due_instant_to_resolution(desk: HelpDesk, clock: FrozenClock) -> None:
    ticket_id = _open(desk)
    clock.advance(timedelta(minutes=30))
    desk.reply(ticket_id, agent_id="agt_amy", body="On it")
    schedule = desk.schedule(ticket_id)
    assert schedule.due_metric is SlaMetric.RESOLUTION
    assert schedule.status is Status.OPEN


def test_a_breach_escalates_once_however_often_sweeps_run(
    desk: HelpDesk, clock: FrozenClock
) -> None:
    ticket_id = _open(desk)
    due = desk.schedule(ticket_id).due_at
    assert due is not None
    assert desk.sweep(due - timedelta(minutes=1)).fired == ()
    report = desk.sweep(due + timedelta(minutes=1))
    assert report.fired == ((ticket_id, "complaint-late"),)
    ticket = desk.ticket(ticket_id).value
    assert ticket.tier == "L2" and ticket.group_id == "l2" and ticket.assignee_id == "agt_eng"
    for minutes in (2, 3, 60):
        assert desk.sweep(due + timedelta(minutes=minutes)).fired == ()
    fired = [e for e in desk.ticket(ticket_id).value.timeline if isinstance(e, RuleFired)]
    assert len(fired) == 1


def test_sweeps_read_only_due_schedules(desk: HelpDesk) -> None:
    ids = [_open(desk, f"1380013800{i}") for i in range(5)]
    report = desk.sweep(MONDAY_10 + timedelta(minutes=1))
    assert report.examined == 0
    report = desk.sweep(datetime(2026, 12, 7, 13, 0, tzinfo=SHANGHAI))
    assert report.examined == len(ids)  # the 50% warning of each


def test_due_query_filters_and_windows(desk: HelpDesk, clock: FrozenClock) -> None:
    first = _open(desk, "13800138001")
    clock.advance(timedelta(hours=1))
    second = _open(desk, "13800138002", priority=Priority.HIGH)
    page = desk.due(within=timedelta(hours=1), now=MONDAY_10 + timedelta(hours=1))
    assert [s.ticket_id for s in page.items] == [second]
    page = desk.due(within=timedelta(hours=8), now=MONDAY_10)
    assert [s.ticket_id for s in page.items] == [second, first]
    owner = desk.ticket(first).value.assignee_id
    page = desk.due(within=timedelta(hours=8), now=MONDAY_10, assignee_id=owner)
    assert [s.ticket_id for s in page.items] == [first]
    assert desk.due(within=timedelta(hours=8), now=MONDAY_10, tier="L2").items == ()


def test_request_senior_agent_routes_to_a_senior(desk: HelpDesk) -> None:
    ticket_id = _open(desk)
    assert desk.ticket(ticket_id).value.assignee_id == "agt_amy"
    stored = desk.request_senior_agent(ticket_id)
    assert stored.value.assignee_id == "agt_sue"


def test_close_solved_after_closes_only_old_solved_tickets(
    desk: HelpDesk, clock: FrozenClock
) -> None:
    old = _open(desk, "13800138001")
    desk.solve(old, actor=Actor.agent("agt_amy"))
    clock.advance(timedelta(days=3))
    recent = _open(desk, "13800138002")
    desk.solve(recent, actor=Actor.agent("agt_amy"))
    assert desk.close_solved_after(2) == 1
    assert desk.ticket(old).value.status is Status.CLOSED
    assert desk.ticket(recent).value.status is Status.SOLVED


def test_commands_keep_instants_monotonic_when_the_clock_lags(
    desk: HelpDesk, clock: FrozenClock
) -> None:
    ticket_id = _open(desk)
    clock.set(MONDAY_10 - timedelta(hours=1))
    stored = desk.add_note(ticket_id, agent_id="agt_amy", body="clock went back")
    assert stored.value.timeline[-1].at == MONDAY_10


def test_unknown_agent_in_a_command_is_refused(desk: HelpDesk) -> None:
    ticket_id = _open(desk)
    before = desk.ticket(ticket_id)
    with pytest.raises(NotFoundError, match="agt_nobody"):
        desk.reply(ticket_id, agent_id="agt_nobody", body="hi")
    assert desk.ticket(ticket_id) == before


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"agents": (Agent("agt_x", "X", groups=("nowhere",)),)}, "nowhere"),
        (
            {
                "escalation": (
                    EscalationRule(
                        name="up", trigger=Trigger.complaint(), actions=(Action.raise_tier("L9"),)
                    ),
                )
            },
            "L9",
        ),
        (
            {
                "groups": (
                    Group("a", "A", overflow_to="b"),
                    Group("b", "B", overflow_to="a"),
                ),
                "agents": (),
                "triage": None,
                "assignment": (),
                "escalation": (),
            },
            "a -> b -> a|cycle",
        ),
    ],
)
def test_bad_configuration_is_refused_when_it_is_built(
    changes: dict[str, object], match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        _setup(**changes)


def test_vip_customers_are_triaged_to_the_vip_group(desk: HelpDesk) -> None:
    ticket_id = _open(desk)
    customer = desk.store.customers.get(desk.ticket(ticket_id).value.customer_id)
    import attrs

    desk.store.customers.save(
        attrs.evolve(customer.value, tier=CustomerTier.VIP), expected_version=customer.version
    )
    again = desk.ticket(_open(desk)).value
    assert again.group_id == "vip" and again.assignee_id == "agt_sue"


def test_a_complaint_kind_is_recorded(desk: HelpDesk) -> None:
    ticket_id = _open(desk, kind=TicketKind.COMPLAINT)
    assert desk.schedule(ticket_id).kind is TicketKind.COMPLAINT


def test_one_phone_number_is_one_customer_on_every_phone_channel(desk: HelpDesk) -> None:
    called = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Call")
    texted = desk.open_ticket(contact="+86 138 0013 8000", channel="sms", subject="Text")
    assert called.value.customer_id == texted.value.customer_id
    customer = desk.store.customers.get(called.value.customer_id).value
    assert {p.channel for p in customer.contact_points} == {"phone_hotline", "sms"}


def test_a_breached_metric_does_not_hide_the_next_due_instant(desk: HelpDesk) -> None:
    ticket_id = _open(desk)
    first_due = desk.schedule(ticket_id).due_at
    assert first_due is not None
    desk.sweep(first_due + timedelta(minutes=1))  # first response breached, rule fired
    schedule = desk.schedule(ticket_id)
    resolution = desk.sla_status(ticket_id, first_due + timedelta(minutes=1))[SlaMetric.RESOLUTION]
    assert schedule.sweep_at is not None and resolution.due_at is not None
    assert schedule.sweep_at <= resolution.due_at
    assert SlaMetric.FIRST_RESPONSE in schedule.breached


def test_a_ticket_queued_in_a_closed_group_is_routed_when_the_group_opens(
    clock: FrozenClock,
) -> None:
    evening = datetime(2026, 12, 7, 20, 0, tzinfo=SHANGHAI)
    clock.set(evening)
    desk = HelpDesk(open_store("memory:", tenant="acme", clock=clock), _setup(), clock=clock)
    ticket_id = _open(desk)
    assert desk.ticket(ticket_id).value.assignee_id is None
    opening = datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)
    assert desk.schedule(ticket_id).route_at == opening
    desk.sweep(opening)
    assert desk.ticket(ticket_id).value.assignee_id == "agt_amy"
    assert desk.schedule(ticket_id).route_at is None


def test_a_phone_call_fills_an_agent_under_least_loaded(clock: FrozenClock) -> None:
    policy = AssignmentPolicy(
        "l1", strategy=Strategy.LEAST_LOADED, channel_weights={"phone_hotline": 5}
    )
    store = open_store("memory:", tenant="acme", clock=clock)
    desk = HelpDesk(store, _setup(assignment=(policy,)), clock=clock, ids=SequentialIds())
    owners = [desk.ticket(_open(desk, f"1380013800{i}")).value.assignee_id for i in range(4)]
    assert owners == ["agt_amy", "agt_bob", "agt_sue", None]  # the fourth call waits
    email = desk.open_ticket(contact="a@example.com", channel="email", subject="Mail")
    assert email.value.assignee_id is None  # every agent is full
