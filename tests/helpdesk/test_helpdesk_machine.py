"""A state machine drives a HelpDesk over a real store with random commands, clock
advances (minutes to days, across closed hours, lunch breaks and weekends) and sweeps.

The stores: memory, one SQLite file, and PostgreSQL (skipped without a server, a
failure under ``CSDOMAIN_REQUIRE_POSTGRES``); each example works in a tenant of its
own. Laws checked after every step:

* every unsolved ticket has a group;
* no ``(rule, trigger, cycle)`` appears twice among a ticket's ``RuleFired`` events;
* a breach at t has produced its escalation by the first sweep after t: once the
  desk has swept at the clock's now, every unsolved ticket whose fresh evaluation
  shows a metric breached at or before now holds the ``RuleFired`` of each breach
  rule on that metric, for that cycle;
* the indexed instants equal what a fresh evaluation says: the stored schedule's
  ``due_at`` and ``warning_at`` are the earliest due and next warning instants of
  the running metrics of ``evaluate(ticket, sla, schedule.evaluated_at)``, its
  clock state evaluates to the same status, its ``check_at`` is escalation's
  ``next_check`` and its ``sweep_at`` the earliest of them still ahead; no rule is
  left due at ``evaluated_at``; due instants read at the clock's now agree too;
* the schedule's status, group, assignee, tier, kind, priority and channel are the
  ticket's;
* every queued notification is delivered at an open instant of its calendar, never
  before it was queued;
* a refused command (a typed error) leaves the ticket and its schedule as they were;
* one customer per contact (the same phone number written two ways is one).
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.conditions import Equals
from csdomain.errors import InvalidTransitionError, ValidationError
from csdomain.escalation import (
    Action,
    EscalationRule,
    NotificationQueued,
    RuleFired,
    Trigger,
    TriggerKind,
    due_firings,
    next_check,
    trigger_key,
)
from csdomain.helpdesk import SCHEDULES, UNSOLVED, DeskSetup, HelpDesk, TicketSchedule
from csdomain.ids import SequentialIds
from csdomain.people import Agent, AgentGrade, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import AssignmentPolicy, Strategy, Triage, TriageRule
from csdomain.sla import (
    MetricPolicy,
    OnReopen,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    SlaState,
    SlaStatus,
    Target,
    evaluate,
    evaluate_clock,
)
from csdomain.storage import Store, Stored, open_store
from csdomain.tickets import Actor, Status, Ticket, TicketKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The frontline's hours: weekdays 9-12 and 13-18 in Shanghai.
DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
#: The vendor (L3) works weekdays 8-16 in Berlin: the middle of the night in Shanghai.
VENDOR = BusinessCalendar.weekdays("vendor", "Europe/Berlin", "08:00-16:00")
CALENDARS = {c.name: c for c in (DESK, VENDOR)}


def desk_sla() -> SlaSetup:
    """Complaints answered within an hour of desk time, the rest by priority."""
    by_priority = {
        Priority.LOW: Target(timedelta(hours=8), calendar="desk"),
        Priority.NORMAL: Target(timedelta(hours=4), calendar="desk", warnings=(0.5, 0.75)),
        Priority.HIGH: Target(timedelta(hours=1), calendar="desk", warnings=(0.5,)),
        Priority.URGENT: Target(timedelta(minutes=30), warnings=(0.5,)),
    }
    complaints = SlaPolicy(
        "complaints",
        [
            MetricPolicy(
                SlaMetric.FIRST_RESPONSE,
                {p: Target(timedelta(hours=1), calendar="desk", warnings=(0.5,)) for p in Priority},
            ),
            MetricPolicy(
                SlaMetric.RESOLUTION,
                {p: Target(timedelta(days=1), calendar="desk", warnings=(0.75,)) for p in Priority},
                on_reopen=OnReopen.NEW_CYCLE,
            ),
        ],
        condition=Equals("ticket.kind", "complaint"),
    )
    standard = SlaPolicy(
        "standard",
        [
            MetricPolicy(SlaMetric.FIRST_RESPONSE, by_priority),
            MetricPolicy(
                SlaMetric.NEXT_RESPONSE,
                {p: Target(timedelta(hours=2), calendar="desk") for p in Priority},
            ),
            MetricPolicy(
                SlaMetric.RESOLUTION,
                {p: Target(timedelta(days=2), calendar="vendor") for p in Priority},
            ),
        ],
    )
    return SlaSetup([complaints, standard], [DESK, VENDOR])


AGENTS = (
    Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("l1",)),
    Agent("agt_bob", "Bob", presence=Presence.ONLINE, groups=("l1",), max_load=3),
    Agent(
        "agt_sue",
        "Sue",
        grade=AgentGrade.SENIOR,
        presence=Presence.ONLINE,
        groups=("l1", "vip"),
    ),
    Agent("agt_eng", "Eng", presence=Presence.ONLINE, groups=("l2",), skills={"billing"}),
    Agent("agt_dev", "Dev", presence=Presence.OFFLINE, groups=("l2", "vip")),
    Agent("agt_ven", "Ven", presence=Presence.ONLINE, groups=("vendor",)),
)
AGENT_IDS = tuple(a.id for a in AGENTS)
GROUP_IDS = ("l1", "vip", "l2", "vendor")

#: The rules on an SLA breach, by metric: the law of the first sweep after a breach.
BREACH_RULES = (
    EscalationRule(
        name="first-response-late",
        trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
        actions=(Action.raise_tier(), Action.move_to_group("l2"), Action.notify(groups=("l2",))),
    ),
    EscalationRule(
        name="resolution-late",
        trigger=Trigger.sla_breach(SlaMetric.RESOLUTION),
        actions=(
            Action.raise_tier("L3"),
            Action.move_to_group("vendor"),
            Action.notify(groups=("vendor", "l1"), external="consumer_association"),
        ),
        condition=Equals("ticket.kind", "complaint"),  # the others' resolution has no rule
    ),
    EscalationRule(
        name="next-response-late",
        trigger=Trigger.sla_breach(SlaMetric.NEXT_RESPONSE),
        actions=(Action.notify(agents=("agt_amy",)), Action.raise_priority()),
    ),
)


def desk_rules() -> tuple[EscalationRule, ...]:
    """Every kind of trigger, and actions that move tickets between groups and tiers."""
    return (
        *BREACH_RULES,
        EscalationRule(
            name="resolution-75",
            trigger=Trigger.sla_warning(SlaMetric.RESOLUTION, 0.75),
            actions=(Action.notify(agents=("agt_sue",)),),
        ),
        EscalationRule(
            name="senior",
            trigger=Trigger.senior_requested(),
            actions=(
                Action.assign(min_grade=AgentGrade.SENIOR),
                Action.notify(groups=("vip",)),
            ),
        ),
        EscalationRule(
            name="complaint",
            trigger=Trigger.complaint(),
            actions=(Action.raise_priority(Priority.HIGH),),
        ),
        EscalationRule(
            name="reopened-twice",
            trigger=Trigger.reopened(2),
            actions=(Action.raise_tier(), Action.notify(groups=("l2",))),
        ),
        EscalationRule(
            name="unassigned",
            trigger=Trigger.unassigned_for(timedelta(hours=2), calendar="desk"),
            actions=(Action.notify(groups=("l1",)),),
        ),
        EscalationRule(
            name="waiting",
            trigger=Trigger.waiting_on_customer_for(timedelta(days=1)),
            actions=(Action.notify(groups=("l1",)),),
        ),
        EscalationRule(
            name="urgent",
            trigger=Trigger.priority_at_least(Priority.URGENT),
            actions=(Action.notify(external="duty_manager"), Action.assign()),
        ),
    )


def desk_setup() -> DeskSetup:
    """Four groups on three tiers, six agents, triage, three strategies, ten rules."""
    groups = (
        Group("l1", "Frontline", tier="L1", calendar="desk"),
        Group("vip", "VIP desk", tier="L1", calendar="desk", overflow_to="l1"),
        Group("l2", "Engineering", tier="L2", calendar="desk"),
        Group("vendor", "Vendor", tier="L3", calendar="vendor"),
    )
    triage = Triage(
        rules=(
            TriageRule(name="complaints", group_id="vip", kinds={TicketKind.COMPLAINT}),
            TriageRule(name="billing", group_id="l2", keywords=("invoice",)),
        ),
        default_group="l1",
    )
    return DeskSetup(
        sla=desk_sla(),
        groups=groups,
        agents=AGENTS,
        triage=triage,
        assignment=(
            AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),
            AssignmentPolicy("vip", strategy=Strategy.LEAST_LOADED, overflow_queue=2),
            AssignmentPolicy(
                "l2",
                strategy=Strategy.SKILLS,
                optional_skills={"billing"},
                drop_optional_after=timedelta(hours=1),
            ),
        ),
        escalation=desk_rules(),
        default_region="CN",
    )


SETUP = desk_setup()

#: (channel, the ways one contact may be written): the same customer each time.
CONTACTS = (
    ("phone_hotline", ("13800138000", "+86 138 0013 8000")),
    ("phone_hotline", ("13900139000",)),
    ("email", ("li.wei@example.com", "li.wei@EXAMPLE.com")),
    ("email", ("zhang@example.org",)),
    ("sms", ("13700137000",)),
    ("sms", ("+8613800138000", "138-0013-8000")),  # the first number, texting
)
#: Which person each contact is: one phone number is one customer on every phone channel.
PERSON = (0, 1, 2, 3, 4, 0)
SUBJECTS = ("Router broken", "Invoice wrong", "Where is my order?", "投诉：送货太慢")

#: Starting instants: a Monday morning, a Friday evening, a Saturday night, lunch time.
STARTS = (
    datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI),
    datetime(2026, 12, 11, 17, 30, tzinfo=SHANGHAI),
    datetime(2026, 12, 12, 23, 0, tzinfo=SHANGHAI),
    datetime(2026, 12, 9, 12, 15, tzinfo=SHANGHAI),
)
#: Clock advances: minutes to days, with the awkward ones (to lunch, over the weekend).
ADVANCES = st.one_of(
    st.sampled_from(
        [
            timedelta(minutes=1),
            timedelta(minutes=29),
            timedelta(minutes=45),
            timedelta(hours=1, microseconds=1),
            timedelta(hours=3),
            timedelta(hours=9),
            timedelta(days=1),
            timedelta(days=2, hours=7),
            timedelta(days=3),
        ]
    ),
    st.integers(min_value=1, max_value=4 * 24 * 60).map(lambda m: timedelta(minutes=m)),
)
#: How far another worker's clock lags behind.
LAGS = st.sampled_from(
    [timedelta(0), timedelta(seconds=1), timedelta(minutes=30), timedelta(hours=5)]
)
ACTORS = st.sampled_from(
    [Actor.agent("agt_amy"), Actor.agent("agt_eng"), Actor.system(), Actor.customer("cus_x")]
)

_TENANTS = itertools.count(1)
_RUN = secrets.token_hex(3)


def fresh_tenant() -> str:
    """A tenant no other example of this run (or another run) uses."""
    return f"m{_RUN}x{next(_TENANTS)}"


def running_instants(ticket: Ticket, sla: SlaStatus) -> tuple[datetime | None, datetime | None]:
    """(earliest due instant, earliest next warning instant) of the running metrics of
    ``sla``: what the schedule must index (nothing once solved)."""
    if ticket.status not in UNSOLVED:
        return None, None
    running = [m for m in sla.metrics if m.state in (SlaState.RUNNING, SlaState.BREACHED)]
    dues = [m.due_at for m in running if m.due_at is not None]
    warnings = [m.next_warning_at for m in running if m.next_warning_at is not None]
    return min(dues, default=None), min(warnings, default=None)


def breached_metrics(sla: SlaStatus) -> tuple[SlaMetric, ...]:
    return tuple(m.metric for m in sla.metrics if m.state is SlaState.BREACHED)


def clock_instants(ticket: Ticket, sla: SlaStatus) -> list[datetime]:
    """The instants still ahead of ``sla.now`` at which a running clock of an unsolved
    ticket reaches a warning or breaches (its breach starts just after its due instant)."""
    if ticket.status not in UNSOLVED:
        return []
    instants = []
    for m in sla.metrics:
        if m.state is not SlaState.RUNNING:
            continue
        if m.next_warning_at is not None and m.next_warning_at > sla.now:
            instants.append(m.next_warning_at)
        if m.due_at is not None and m.due_at >= sla.now:
            instants.append(m.due_at + timedelta(microseconds=1))
    return instants


def queued_until(ticket: Ticket, at: datetime) -> datetime | None:
    """When a ticket waiting unassigned in a group closed at ``at`` is to be routed: the
    group's next opening (None: not waiting, or its group is open or has no calendar)."""
    if ticket.status not in UNSOLVED or ticket.assignee_id is not None or not ticket.group_id:
        return None
    name = SETUP.group(ticket.group_id).calendar
    if name is None or CALENDARS[name].is_open(at):
        return None
    return CALENDARS[name].next_open(at)


def fired_keys(ticket: Ticket) -> list[tuple[str, str, int]]:
    return [(e.rule, e.trigger, e.cycle) for e in ticket.timeline if isinstance(e, RuleFired)]


def check_notifications(ticket: Ticket) -> None:
    """Every notification is delivered at an open instant of its calendar, not before it
    was queued (without a calendar: at once)."""
    for event in ticket.timeline:
        if not isinstance(event, NotificationQueued):
            continue
        assert event.deliver_at >= event.at, event
        if event.calendar is None:
            assert event.deliver_at == event.at, event
            continue
        calendar = CALENDARS[event.calendar]
        assert calendar.is_open(event.deliver_at) or (
            calendar.next_open(event.deliver_at) == event.deliver_at
        ), event
        # The earliest such instant: nothing open between queuing and delivery.
        assert calendar.next_open(event.at) == event.deliver_at, event


class HelpDeskMachine(RuleBasedStateMachine):
    """Random commands, clock advances and sweeps against one desk (see the module docs)."""

    tickets = Bundle("tickets")

    #: The store the machine opens (a fresh tenant each example); see :func:`run`.
    URL: ClassVar[str] = "memory:"

    def __init__(self) -> None:
        super().__init__()
        self.url = self.URL
        self.clock = FrozenClock(STARTS[0])
        self.store: Store | None = None
        self.desk: HelpDesk | None = None
        self.ids: list[str] = []
        self.customers: dict[int, str] = {}
        self.swept_at: datetime | None = None
        self.lag_clock = FrozenClock(STARTS[0])
        self.other: HelpDesk | None = None

    # -- set-up -------------------------------------------------------------------------

    @initialize(
        target=tickets,
        start=st.sampled_from(STARTS),
        first=st.tuples(st.integers(0, len(CONTACTS) - 1), st.sampled_from(TicketKind)),
        more=st.lists(
            st.tuples(st.integers(0, len(CONTACTS) - 1), st.sampled_from(Priority)), max_size=4
        ),
    )
    def open_desk(
        self, start: datetime, first: tuple[int, TicketKind], more: list[tuple[int, Priority]]
    ) -> MultipleResults[str]:
        """A desk on a fresh tenant, and a few tickets to start with."""
        self.clock.set(start)
        self.store = open_store(self.url, tenant=fresh_tenant(), create=True, clock=self.clock)
        self.desk = HelpDesk(self.store, SETUP, clock=self.clock, ids=SequentialIds())
        contact, kind = first
        ids = [self.intake(contact, 0, kind, Priority.NORMAL, SUBJECTS[0])]
        for contact, priority in more:
            ids.append(self.intake(contact, 0, TicketKind.CONSULTATION, priority, SUBJECTS[2]))
        return multiple(*ids)

    def teardown(self) -> None:
        if self.store is not None:
            self.store.close()

    @property
    def d(self) -> HelpDesk:
        assert self.desk is not None
        return self.desk

    def now(self) -> datetime:
        return self.clock.now()

    # -- commands -----------------------------------------------------------------------

    def attempt(self, ticket_id: str, command: Callable[[], Stored[Ticket]]) -> None:
        """Run a command on ``ticket_id``; a refusal must be typed and change nothing."""
        desk = self.d
        before = desk.ticket(ticket_id)
        schedules = desk.store.collection(SCHEDULES)
        schedule_before = schedules.get(ticket_id)
        try:
            result = command()
        except (InvalidTransitionError, ValidationError):
            assert desk.ticket(ticket_id) == before
            assert schedules.get(ticket_id) == schedule_before
            return
        stored = desk.ticket(ticket_id)
        assert result == stored
        assert stored.value.timeline[: len(before.value.timeline)] == before.value.timeline
        if stored.version == before.version:
            assert stored.value == before.value
        else:
            assert stored.version > before.version

    @rule(
        target=tickets,
        contact=st.integers(0, len(CONTACTS) - 1),
        spelling=st.integers(0, 1),
        kind=st.sampled_from(TicketKind),
        priority=st.sampled_from(Priority),
        subject=st.sampled_from(SUBJECTS),
    )
    def open_ticket(
        self, contact: int, spelling: int, kind: TicketKind, priority: Priority, subject: str
    ) -> str:
        return self.intake(contact, spelling, kind, priority, subject)

    def intake(
        self, contact: int, spelling: int, kind: TicketKind, priority: Priority, subject: str
    ) -> str:
        """Open a ticket from contact ``contact`` (written its ``spelling``-th way)."""
        channel, spellings = CONTACTS[contact]
        stored = self.d.open_ticket(
            contact=spellings[spelling % len(spellings)],
            channel=channel,
            subject=subject,
            kind=kind,
            priority=priority,
        )
        ticket = stored.value
        assert stored == self.d.ticket(ticket.id)
        assert ticket.status in UNSOLVED and ticket.group_id is not None
        known = self.customers.setdefault(PERSON[contact], ticket.customer_id)
        assert ticket.customer_id == known, "one contact, one customer"
        assert self.d.store.customers.count() == len(set(self.customers.values()))
        self.ids.append(ticket.id)
        return ticket.id

    @rule(ticket=tickets, agent=st.sampled_from(AGENT_IDS))
    def reply(self, ticket: str, agent: str) -> None:
        self.attempt(ticket, lambda: self.d.reply(ticket, agent_id=agent, body="Looking into it"))

    @rule(ticket=tickets, agent=st.sampled_from(AGENT_IDS))
    def add_note(self, ticket: str, agent: str) -> None:
        self.attempt(ticket, lambda: self.d.add_note(ticket, agent_id=agent, body="internal"))

    @rule(ticket=tickets)
    def customer_message(self, ticket: str) -> None:
        self.attempt(ticket, lambda: self.d.customer_message(ticket, body="Any news?"))

    @rule(ticket=tickets, status=st.sampled_from(Status), actor=ACTORS, current=st.booleans())
    def set_status(self, ticket: str, status: Status, actor: Actor, current: bool) -> None:
        if current:  # the current status again: a no-op, not a refusal
            before = self.d.ticket(ticket)
            if before.value.status is not Status.CLOSED:
                after = self.d.set_status(ticket, before.value.status, actor=actor)
                assert after == before == self.d.ticket(ticket)
                return
        self.attempt(ticket, lambda: self.d.set_status(ticket, status, actor=actor))

    @rule(ticket=tickets, priority=st.sampled_from(Priority), actor=ACTORS)
    def change_priority(self, ticket: str, priority: Priority, actor: Actor) -> None:
        self.attempt(ticket, lambda: self.d.change_priority(ticket, priority, actor=actor))

    @rule(
        ticket=tickets,
        group=st.sampled_from((*GROUP_IDS, None, "keep")),
        agent=st.sampled_from((*AGENT_IDS, None, "keep")),
        actor=ACTORS,
    )
    def assign(self, ticket: str, group: str | None, agent: str | None, actor: Actor) -> None:
        kwargs: dict[str, Any] = {}
        if group != "keep":
            kwargs["group_id"] = group
        if agent != "keep":
            kwargs["agent_id"] = agent
        self.attempt(ticket, lambda: self.d.assign(ticket, actor=actor, **kwargs))

    @rule(
        ticket=tickets,
        tier=st.sampled_from((None, "L1", "L2", "L3")),
        group=st.sampled_from((None, *GROUP_IDS)),
    )
    def escalate(self, ticket: str, tier: str | None, group: str | None) -> None:
        self.attempt(
            ticket,
            lambda: self.d.escalate(
                ticket, actor=Actor.agent("agt_amy"), tier=tier, group_id=group, reason="stuck"
            ),
        )

    @rule(ticket=tickets)
    def request_senior_agent(self, ticket: str) -> None:
        self.attempt(ticket, lambda: self.d.request_senior_agent(ticket, reason="manager!"))

    @rule(ticket=tickets, actor=ACTORS)
    def solve(self, ticket: str, actor: Actor) -> None:
        self.attempt(ticket, lambda: self.d.solve(ticket, actor=actor))

    @precondition(lambda self: len(self.ids) >= 4)
    @rule(ticket=tickets, into=tickets)
    def merge(self, ticket: str, into: str) -> None:
        self.attempt(ticket, lambda: self.d.merge(ticket, into=into, actor=Actor.agent("agt_bob")))

    @rule(days=st.integers(0, 3))
    def close_solved_after(self, days: int) -> None:
        now = self.now()
        old_solved = [
            s.ticket_id
            for s in self.schedules().values()
            if s.status is Status.SOLVED
            and s.solved_at is not None
            and s.solved_at <= now - timedelta(days=days)
        ]
        closed = self.d.close_solved_after(days)
        assert closed == len(old_solved)
        for ticket_id in old_solved:
            assert self.d.ticket(ticket_id).value.status is Status.CLOSED

    @rule(agent=st.sampled_from(AGENT_IDS), presence=st.sampled_from(Presence))
    def set_presence(self, agent: str, presence: Presence) -> None:
        self.d.set_presence(agent, presence)
        assert self.d.presence(agent) is presence

    @rule(group=st.sampled_from((None, *GROUP_IDS)))
    def dispatch(self, group: str | None) -> None:
        for stored in self.d.dispatch(group):
            ticket = stored.value
            assert ticket.assignee_id is not None
            assert ticket.group_id in self.d.setup.agent(ticket.assignee_id).groups

    # -- the leads' queries ---------------------------------------------------------------------

    @rule(
        within=st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=2)]),
        group=st.sampled_from((None, *GROUP_IDS)),
        page=st.integers(1, 3),
    )
    def due_soon(self, within: timedelta, group: str | None, page: int) -> None:
        """``due`` lists the unsolved tickets (in ``group``) a fresh evaluation says are due
        or breaching by now + ``within``, soonest first, page after page."""
        now = self.now()
        expected = []
        customers = self.d.store.customers.get_many(set(self.customers.values()))
        for ticket, _ in self.loaded():
            if ticket.status not in UNSOLVED or group not in (None, ticket.group_id):
                continue
            customer = customers[ticket.customer_id].value
            due_at, _ = running_instants(
                ticket, evaluate(ticket, SETUP.sla, now, customer=customer)
            )
            if due_at is not None and due_at <= now + within:
                expected.append((due_at, ticket.id))
        found: list[TicketSchedule] = []
        cursor = None
        while True:
            listed = self.d.due(within=within, group_id=group, limit=page, cursor=cursor)
            assert len(listed.items) <= page
            found += listed.items
            if listed.next_cursor is None:
                break
            cursor = listed.next_cursor
        assert sorted(expected) == sorted((s.due_at, s.ticket_id) for s in found)
        assert [s.due_at for s in found] == sorted(d for d, _ in expected)  # soonest first

    # -- another worker, whose clock lags ------------------------------------------------------

    def lagging(self, lag: timedelta) -> HelpDesk:
        """A second desk on the same store (another worker), its clock ``lag`` behind."""
        self.lag_clock.set(self.now() - lag)
        if self.other is None:
            self.other = HelpDesk(self.d.store, SETUP, clock=self.lag_clock)
        return self.other

    @rule(ticket=tickets, lag=LAGS, body=st.sampled_from(["customer", "agent"]))
    def message_from_a_lagging_worker(self, ticket: str, lag: timedelta, body: str) -> None:
        desk = self.lagging(lag)
        if body == "customer":
            self.attempt(ticket, lambda: desk.customer_message(ticket, body="Hello?"))
        else:
            self.attempt(ticket, lambda: desk.reply(ticket, agent_id="agt_sue", body="Here"))
        # Its instants never go back before the ticket's last change.
        timeline = self.d.ticket(ticket).value.timeline
        assert all(a.at <= b.at for a, b in itertools.pairwise(timeline))

    @rule(lag=LAGS)
    def sweep_by_a_lagging_worker(self, lag: timedelta) -> None:
        report = self.lagging(lag).sweep()
        assert report.now == self.now() - lag

    # -- time -------------------------------------------------------------------------------

    @rule(by=ADVANCES)
    def advance(self, by: timedelta) -> None:
        self.clock.advance(by)

    @rule()
    def sweep(self) -> None:
        now = self.now()
        before = {t.id: len(t.timeline) for t, _ in self.loaded()}
        report = self.d.sweep()
        assert report.now == now
        self.swept_at = now
        for schedule in self.schedules().values():
            assert schedule.sweep_at is None or schedule.sweep_at > now, schedule
        # The report lists exactly the rules the sweep recorded as fired.
        recorded = [
            (ticket.id, event.rule)
            for ticket, _ in self.loaded()
            for event in ticket.timeline[before[ticket.id] :]
            if isinstance(event, RuleFired)
        ]
        assert sorted(report.fired) == sorted(recorded)

    @rule(by=ADVANCES)
    def advance_and_sweep(self, by: timedelta) -> None:
        self.clock.advance(by)
        self.sweep()

    # -- reading -------------------------------------------------------------------------------

    def schedules(self) -> dict[str, TicketSchedule]:
        found = self.d.store.collection(SCHEDULES).get_many(self.ids)
        assert sorted(found) == sorted(self.ids), "every stored ticket has its schedule"
        return {key: stored.value for key, stored in found.items()}

    def loaded(self) -> Iterator[tuple[Ticket, TicketSchedule]]:
        tickets = self.d.store.tickets.get_many(self.ids)
        schedules = self.schedules()
        assert sorted(tickets) == sorted(self.ids)
        for ticket_id in self.ids:
            yield tickets[ticket_id].value, schedules[ticket_id]

    # -- laws ----------------------------------------------------------------------------------

    @invariant()
    def laws(self) -> None:
        if self.desk is None:
            return
        now = self.now()
        sla = SETUP.sla
        rules = SETUP.escalation
        customers = self.d.store.customers.get_many(set(self.customers.values()))
        for ticket, schedule in self.loaded():
            customer = customers[ticket.customer_id].value
            unsolved = ticket.status in UNSOLVED

            # Every unsolved ticket has a group.
            if unsolved:
                assert ticket.group_id is not None, ticket.id

            # No rule fires twice in one cycle.
            counts = Counter(fired_keys(ticket))
            assert all(n == 1 for n in counts.values()), counts

            check_notifications(ticket)

            # The schedule mirrors the ticket.
            assert (
                schedule.status,
                schedule.group_id,
                schedule.assignee_id,
                schedule.tier,
                schedule.kind,
                schedule.priority,
                schedule.channel,
                schedule.customer_id,
            ) == (
                ticket.status,
                ticket.group_id,
                ticket.assignee_id,
                ticket.tier,
                ticket.kind,
                ticket.priority,
                ticket.channel,
                ticket.customer_id,
            )

            # The indexed instants are what a fresh evaluation says.
            at = schedule.evaluated_at
            assert ticket.updated_at <= at <= now
            fresh = evaluate(ticket, sla, at, customer=customer)
            assert evaluate_clock(schedule.clock, sla, at) == fresh
            due_at, warning_at = running_instants(ticket, fresh)
            assert (schedule.due_at, schedule.warning_at) == (due_at, warning_at), ticket.id
            check = next_check(rules, ticket, fresh, customer=customer, now=at, calendars=CALENDARS)
            assert schedule.check_at == (check if unsolved else None)
            route = queued_until(ticket, at)
            assert schedule.route_at == route, (ticket.id, schedule.route_at, route)
            # A metric breaches one microsecond after its due instant.
            ahead = [
                t
                for m in (fresh.metrics if unsolved else ())
                if m.state in (SlaState.RUNNING, SlaState.BREACHED)
                for t in (
                    m.next_warning_at,
                    None if m.due_at is None else m.due_at + timedelta(microseconds=1),
                )
                if t is not None and t > at
            ]
            ahead += [t for t in (schedule.check_at, route) if t is not None and t > at]
            assert schedule.sweep_at == min(ahead, default=None)
            settled = due_firings(
                rules, ticket, fresh, customer=customer, now=at, calendars=CALENDARS
            )
            assert settled == (), settled
            assert schedule.breached == breached_metrics(fresh)

            # A sweep looks at the ticket when any running clock next warns or breaches.
            for instant in clock_instants(ticket, fresh):
                assert schedule.sweep_at is not None and schedule.sweep_at <= instant, (
                    ticket.id,
                    instant,
                    schedule,
                )

            # Read at the clock's now, the due instant is the same; so are the next
            # warning and the breached metrics, unless the schedule is due for a sweep.
            current = evaluate(ticket, sla, now, customer=customer)
            due_now, warning_now = running_instants(ticket, current)
            assert schedule.due_at == due_now
            if schedule.sweep_at is None or schedule.sweep_at > now:
                assert schedule.warning_at == warning_now
                assert schedule.breached == breached_metrics(current), (ticket.id, schedule)

            # A breach by now has fired its rules, once the desk swept at now (after the
            # ticket's last change: a lagging worker may have added an event since, whose
            # breach the next sweep fires).
            if self.swept_at == now and at == now and unsolved:
                fired = set(fired_keys(ticket))
                for breach in BREACH_RULES:
                    assert breach.trigger.kind is TriggerKind.SLA_BREACH
                    assert breach.trigger.metric is not None
                    if not breach.condition.matches(ticket, customer):
                        continue
                    metric = current.get(breach.trigger.metric)
                    if metric is None or metric.breached_at is None or metric.breached_at > now:
                        continue
                    key = (breach.name, trigger_key(breach.trigger), metric.cycle)
                    assert key in fired, (ticket.id, key, metric)


SETTINGS = settings(
    max_examples=16,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def run(url: str) -> None:
    """Run the machine on the store at ``url``."""
    machine = type("HelpDeskMachineOnStore", (HelpDeskMachine,), {"URL": url})
    run_state_machine_as_test(machine, settings=SETTINGS)


def test_the_desk_keeps_its_laws_in_memory() -> None:
    run("memory:")


def test_the_desk_keeps_its_laws_on_sqlite(scratch: Path) -> None:
    run(f"sqlite:///{scratch / 'desk.db'}")


def test_a_breached_metric_does_not_hide_the_next_due_instant() -> None:
    clock = FrozenClock(STARTS[0])  # Monday 10:00
    desk = HelpDesk(open_store("memory:", tenant="acme", clock=clock), SETUP, clock=clock)
    ticket_id = desk.open_ticket(
        contact="13800138000", channel="phone_hotline", subject="x"
    ).value.id
    clock.advance(timedelta(days=1))
    desk.sweep()  # the first response breached on Monday at 15:00
    clock.set(datetime(2026, 12, 11, 20, 0, tzinfo=SHANGHAI))
    desk.sweep()  # past the resolution's 75% warning (Friday 19:00)
    resolution = desk.sla_status(ticket_id)[SlaMetric.RESOLUTION]
    assert resolution.state is SlaState.RUNNING and resolution.due_at is not None
    sweep_at = desk.schedule(ticket_id).sweep_at
    assert sweep_at is not None and sweep_at <= resolution.due_at + timedelta(microseconds=1)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    from test_postgres import Schema, require_server

    require_server()
    schema = Schema()
    try:
        yield schema.url()
    finally:
        schema.drop()


def test_the_desk_keeps_its_laws_on_postgres(postgres_url: str) -> None:
    run(postgres_url)
