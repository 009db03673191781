"""Escalation laws, for random tickets, rule sets and sweep instants.

* Idempotence: sweeping a ticket (applying every due firing until none is due)
  ends within one round per rule plus one, and then nothing is due at that
  instant; a firing applied is never due again.
* Once per cycle: however many sweeps run at increasing instants, with new
  events between them, no ``(rule, trigger, cycle)`` is recorded twice.
* Delivery: every queued notification is delivered at the first open instant,
  at or after it was queued, of the receiving calendar (open there), or at once
  when the receiver has no calendar.
* Next check: it lies after ``now``, and with no new event a rule is due then.
* Every firing's instant is at or before ``now``; the swept tickets round-trip
  through JSON and through storage's event rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs
import hypothesis.strategies as st
from hypothesis import given

from csdomain.calendars import BusinessCalendar
from csdomain.escalation import (
    Action,
    ActionKind,
    EscalationRule,
    Firing,
    NotificationQueued,
    RuleFired,
    SeniorAgentRequested,
    Trigger,
    TriggerKind,
    apply_firing,
    check_rules,
    due_firings,
    next_check,
)
from csdomain.people import EscalationLadder, EscalationTier, Group
from csdomain.priorities import Priority
from csdomain.serialization import events_json, from_json, ticket_from_events_json, to_json
from csdomain.sla import (
    MetricPolicy,
    SlaPolicy,
    SlaSetup,
    SlaState,
    SlaStatus,
    Target,
    clock_state,
    evaluate,
    evaluate_clock,
)
from csdomain.testing import strategies as cst
from csdomain.testing.strategies._escalation import escalation_actions, escalation_rules
from csdomain.tickets import Actor, Ticket

DESK = BusinessCalendar.weekdays("desk", "UTC", "09:00-17:00")
SH = BusinessCalendar.weekdays("sh", "Asia/Shanghai", "09:00-12:00", "13:30-18:00")
CALENDARS = {"desk": DESK, "sh": SH}
GROUPS = {
    "l1": Group("l1", "Frontline", calendar="desk"),
    "l2": Group("l2", "Engineers", tier="L2", calendar="sh"),
    "noc": Group("noc", "Network operations"),
}
AGENTS = ("agt_1", "agt_2")


def _targets(duration: timedelta, calendar: str | None) -> dict[Priority, Target]:
    return {p: Target(duration / (p.rank + 1), calendar, warnings=(0.5, 0.75)) for p in Priority}


SETUP = SlaSetup(
    [
        SlaPolicy(
            "all",
            [
                MetricPolicy("first_response", _targets(timedelta(hours=4), "desk")),
                MetricPolicy("next_response", _targets(timedelta(hours=2), None)),
                MetricPolicy("periodic_update", _targets(timedelta(days=1), "sh")),
                MetricPolicy("resolution", _targets(timedelta(days=3), "desk")),
            ],
        )
    ],
    [DESK, SH],
)

_RULE_ARGS = {
    "calendar_names": tuple(CALENDARS),
    "tiers": ("L1", "L2", "L3"),
    "group_ids": tuple(GROUPS),
    "agent_ids": AGENTS,
    "max_actions": 3,
}
# Mostly rules for every ticket (a drawn condition seldom matches a drawn ticket).
RULE_SETS = st.lists(
    st.one_of(
        escalation_rules(conditions=False, **_RULE_ARGS),  # type: ignore[arg-type]
        escalation_rules(conditions=False, **_RULE_ARGS),  # type: ignore[arg-type]
        escalation_rules(**_RULE_ARGS),  # type: ignore[arg-type]
    ),
    min_size=1,
    max_size=4,
).map(lambda rules: [attrs.evolve(rule, name=f"{i}: {rule.name}") for i, rule in enumerate(rules)])
# (renamed rather than drawn unique_by name: a retried draw would show the strategy's repr)
TICKETS = st.one_of(cst.tickets(max_events=8), cst.tickets(max_events=4, allow_closed=False))
GAPS = st.integers(0, 5 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))


class Desk:
    """The configuration one example runs against: the fixed groups and calendars, plus
    the ticket's own group and tier (generated tickets may name any)."""

    def __init__(self, ticket: Ticket, own_calendar: str | None, exact: bool = False) -> None:
        #: Whether firings are found with the ticket's SLA clock state (exact warnings).
        self.exact = exact
        self.groups = dict(GROUPS)
        if ticket.group_id is not None and ticket.group_id not in self.groups:
            self.groups[ticket.group_id] = Group(ticket.group_id, "Theirs", calendar=own_calendar)
        ladder = EscalationLadder.default()
        if ticket.tier not in {t.key for t in ladder.tiers}:
            ladder = ladder.with_tier(EscalationTier(ticket.tier, "Theirs"), after="L1")
        self.ladder = ladder

    def due(self, rules: Sequence[EscalationRule], ticket: Ticket, now: datetime) -> tuple:  # type: ignore[type-arg]
        if not self.exact:
            status = evaluate(ticket, SETUP, now)
            return due_firings(rules, ticket, status, customer=None, now=now, calendars=CALENDARS)
        clock = clock_state(ticket, SETUP)
        status = evaluate_clock(clock, SETUP, now)
        return due_firings(
            rules, ticket, status, customer=None, now=now, calendars=CALENDARS, clock=clock
        )

    def check(
        self, rules: Sequence[EscalationRule], ticket: Ticket, now: datetime
    ) -> datetime | None:
        status = evaluate(ticket, SETUP, now)
        return next_check(rules, ticket, status, customer=None, now=now, calendars=CALENDARS)

    def sweep(self, rules: Sequence[EscalationRule], ticket: Ticket, now: datetime) -> Ticket:
        """Apply every due firing until none is due (what a HelpDesk sweep does)."""
        for _ in range(len(rules) + 1):
            firings = self.due(rules, ticket, now)
            if not firings:
                return ticket
            status = evaluate(ticket, SETUP, now)
            for firing in firings:
                assert firing.at <= now
                assert firing.cycle >= 1
                _check_sla_instant(ticket, firing, status, rules, self.exact)
                ticket = apply_firing(
                    ticket,
                    firing,
                    at=now,
                    ladder=self.ladder,
                    groups=self.groups,
                    calendars=CALENDARS,
                    choose_agent=_choose,
                )
            again = {(f.rule, f.trigger, f.cycle) for f in self.due(rules, ticket, now)}
            assert again.isdisjoint((f.rule, f.trigger, f.cycle) for f in firings)
        raise AssertionError(f"still due after {len(rules) + 1} rounds")


def _check_sla_instant(
    ticket: Ticket,
    firing: Firing,
    status: SlaStatus,
    rules: Sequence[EscalationRule],
    exact: bool,
) -> None:
    """An SLA trigger's instant is one at which it held: the breach instant, or one by
    which the cycle had counted the warning's fraction (counting back as if the clock
    never paused can only find an instant later than the true one); with the clock
    state, the very instant it counted it."""
    [trigger] = [rule.trigger for rule in rules if rule.name == firing.rule]
    if trigger.metric is None:
        return
    now = status[trigger.metric]
    assert firing.cycle == now.cycle
    if trigger.kind is TriggerKind.SLA_BREACH:
        # (a priority raised since may have breached the cycle after the fact)
        assert now.breached_at == firing.at
        return
    assert now.target is not None and trigger.fraction is not None
    threshold = max(now.target * trigger.fraction, timedelta(microseconds=1))
    then = evaluate(ticket, SETUP, firing.at)[trigger.metric]
    assert then.cycle == firing.cycle
    if now.state is not SlaState.PAUSED or exact:
        assert then.elapsed >= threshold
    if exact:
        before = evaluate(ticket, SETUP, firing.at - timedelta(microseconds=1))[trigger.metric]
        assert before.cycle != firing.cycle or before.elapsed < threshold


def _choose(ticket: Ticket, action: Action) -> str | None:
    return None if action.role is None else AGENTS[len(ticket.timeline) % 2]


def _records(ticket: Ticket) -> list[tuple[str, str, int]]:
    return [(e.rule, e.trigger, e.cycle) for e in ticket.timeline if isinstance(e, RuleFired)]


def _check_notifications(ticket: Ticket, desk: Desk) -> None:
    for event in ticket.timeline:
        if not isinstance(event, NotificationQueued):
            continue
        assert event.deliver_at >= event.at
        if event.groups:
            assert event.calendar == desk.groups[event.groups[0]].calendar
        if event.calendar is None:
            assert event.deliver_at == event.at
        else:
            calendar = CALENDARS[event.calendar]
            assert calendar.is_open(event.deliver_at)
            assert calendar.next_open(event.at) == event.deliver_at


@given(RULE_SETS)
def test_the_rule_sets_drawn_are_consistent_with_the_desk(rules: list[EscalationRule]) -> None:
    problems = check_rules(
        rules, ladder=EscalationLadder.default(), groups=GROUPS, agents=AGENTS, calendars=CALENDARS
    )
    assert problems == []


@given(
    TICKETS,
    RULE_SETS,
    GAPS,
    st.sampled_from((None, "desk", "sh")),
    st.booleans(),
)
def test_a_sweep_is_idempotent(
    ticket: Ticket, rules: list[EscalationRule], gap: timedelta, own: str | None, exact: bool
) -> None:
    desk = Desk(ticket, own, exact)
    now = ticket.updated_at + gap
    swept = desk.sweep(rules, ticket, now)
    assert desk.due(rules, swept, now) == ()
    assert desk.sweep(rules, swept, now) is swept
    assert sorted(Counter(_records(swept)).values(), reverse=True)[:1] in ([], [1])
    _check_notifications(swept, desk)
    assert from_json(to_json(swept), Ticket) == swept
    assert ticket_from_events_json(events_json(swept.timeline), key=swept.id) == swept


_CHANGES = ("none", "senior", "status", "priority", "unassign", "assign", "reply")


@given(
    cst.tickets(max_events=6, allow_closed=False),
    RULE_SETS,
    st.lists(st.tuples(GAPS, st.sampled_from(_CHANGES), st.integers(0, 9)), max_size=6),
    st.sampled_from((None, "desk", "sh")),
    st.booleans(),
)
def test_no_rule_fires_twice_in_a_cycle_over_repeated_sweeps(
    ticket: Ticket,
    rules: list[EscalationRule],
    steps: list[tuple[timedelta, str, int]],
    own: str | None,
    exact: bool,
) -> None:
    desk = Desk(ticket, own, exact)
    now = ticket.updated_at
    ticket = desk.sweep(rules, ticket, now)
    for gap, change, pick in steps:
        now += gap
        ticket = _change(ticket, change, pick, now)
        ticket = desk.sweep(rules, ticket, now)
        ticket = desk.sweep(rules, ticket, now + timedelta(microseconds=1))
        now += timedelta(microseconds=1)
    records = _records(ticket)
    assert len(records) == len(set(records))
    _check_notifications(ticket, desk)
    assert ticket_from_events_json(events_json(ticket.timeline), key=ticket.id) == ticket


def _change(ticket: Ticket, change: str, pick: int, now: datetime) -> Ticket:
    agent = Actor.agent(AGENTS[pick % 2])
    if ticket.status.value == "closed" or ticket.merged_into is not None:
        return ticket
    if change == "senior":
        return ticket.record(SeniorAgentRequested(at=now, actor=Actor.customer(ticket.customer_id)))
    if change == "status" and ticket.allowed_statuses:
        allowed = sorted(ticket.allowed_statuses - {ticket.status}, key=lambda s: s.value)
        allowed = [s for s in allowed if s.value != "closed"]
        if allowed:
            return ticket.change_status(allowed[pick % len(allowed)], at=now, actor=agent)
    if change == "priority":
        return ticket.change_priority(list(Priority)[pick % 4], at=now, actor=agent)
    if change == "unassign":
        return ticket.assign(at=now, actor=agent, assignee_id=None)
    if change == "assign":
        return ticket.assign(at=now, actor=agent, assignee_id=agent.id)
    if change == "reply":
        return ticket.add_message(at=now, actor=agent, body="Looking into it")
    return ticket


@given(
    TICKETS,
    RULE_SETS,
    GAPS,
    st.sampled_from((None, "desk", "sh")),
)
def test_next_check_is_after_now_and_a_rule_is_due_then(
    ticket: Ticket, rules: list[EscalationRule], gap: timedelta, own: str | None
) -> None:
    desk = Desk(ticket, own)
    now = ticket.updated_at + gap
    swept = desk.sweep(rules, ticket, now)
    later = desk.check(rules, swept, now)
    if later is None:
        return
    assert later > now
    assert desk.due(rules, swept, later) != ()
    # the earliest such instant: nothing is due just before it
    assert desk.due(rules, swept, later - timedelta(microseconds=1)) == ()


@given(
    TICKETS,
    escalation_actions(kinds=[ActionKind.NOTIFY], group_ids=tuple(GROUPS), agent_ids=AGENTS),
    GAPS,
    st.integers(0, 24 * 3600 * 10**6 - 1).map(lambda us: timedelta(microseconds=us)),
    st.sampled_from((None, "desk", "sh")),
)
def test_notifications_are_delivered_at_the_receivers_first_open_instant(
    ticket: Ticket, notify: Action, gap: timedelta, jitter: timedelta, own: str | None
) -> None:
    desk = Desk(ticket, own)
    always = EscalationRule("always", Trigger.priority_at_least(Priority.LOW), [notify])
    now = ticket.updated_at + gap + jitter
    swept = desk.sweep([always], ticket, now)
    _check_notifications(swept, desk)
    if ticket.status.value in ("new", "open", "pending", "on_hold"):
        notes = [e for e in swept.timeline if isinstance(e, NotificationQueued)]
        assert len(notes) == len(notify.groups) + bool(notify.agents) + (
            notify.external is not None
        )
