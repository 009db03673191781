"""Escalation configuration: every bad input refused with a message naming it, every
value serialized and loaded back, the events loaded by storage's fast path, labels."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given

from csdomain.conditions import Equals
from csdomain.errors import InvalidTransitionError, ValidationError
from csdomain.escalation import (
    Action,
    ActionKind,
    EscalationRule,
    NotificationQueued,
    RuleFired,
    SeniorAgentRequested,
    Trigger,
    TriggerKind,
    check_rules,
)
from csdomain.i18n import label
from csdomain.people import AgentGrade, EscalationLadder, Role
from csdomain.priorities import Priority
from csdomain.serialization import (
    DOCUMENT_TYPES,
    events_json,
    from_json,
    make_converter,
    ticket_from_events_json,
    to_dict,
    to_json,
)
from csdomain.serialization._fast import event_loader
from csdomain.sla import SlaMetric
from csdomain.testing.strategies._escalation import (
    escalation_actions,
    escalation_events,
    escalation_rules,
    escalation_triggers,
)
from csdomain.tickets import EVENT_TYPES, Actor, Status, Ticket

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SYSTEM = Actor.system()


def _problems(build: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        build()
    return [(p.path, p.message) for p in caught.value.problems]


# -- triggers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        (
            {"kind": "sla_warning", "metric": "resolution"},
            "fraction",
            "an sla_warning trigger needs metric and fraction (0 < fraction < 1)",
        ),
        (
            {"kind": "sla_warning", "fraction": 0.5},
            "metric",
            "an sla_warning trigger needs metric and fraction (0 < fraction < 1)",
        ),
        (
            {"kind": "sla_warning", "metric": "resolution", "fraction": 1.0},
            "fraction",
            "expected a fraction strictly between 0 and 1, got 1.0",
        ),
        (
            {"kind": "sla_warning", "metric": "resolution", "fraction": 0},
            "fraction",
            "expected a fraction strictly between 0 and 1, got 0.0",
        ),
        ({"kind": "sla_breach"}, "metric", "an sla_breach trigger needs metric (an SlaMetric)"),
        (
            {"kind": "sla_breach", "metric": "first_reply"},
            "metric",
            "expected a SlaMetric ('first_response', 'next_response', 'periodic_update', "
            "'resolution'), got 'first_reply'",
        ),
        (
            {"kind": "reopened"},
            "times",
            "a reopened trigger needs times (how many reopens, 1 or more)",
        ),
        ({"kind": "reopened", "times": 0}, "times", "must be at least 1, got 0"),
        (
            {"kind": "unassigned_for"},
            "duration",
            "an unassigned_for trigger needs duration (a positive timedelta)",
        ),
        (
            {"kind": "waiting_on_customer_for", "duration": timedelta(0)},
            "duration",
            "must be positive, got datetime.timedelta(0)",
        ),
        (
            {"kind": "priority_at_least"},
            "priority",
            "a priority_at_least trigger needs priority (a Priority)",
        ),
        (
            {"kind": "complaint", "metric": "resolution"},
            "metric",
            "a complaint trigger takes no metric (it takes nothing else), "
            "got <SlaMetric.RESOLUTION: 'resolution'>",
        ),
        (
            {"kind": "sla_breach", "metric": "resolution", "calendar": "desk"},
            "calendar",
            "an sla_breach trigger takes no calendar (it takes metric), got 'desk'",
        ),
        (
            {"kind": "escalate"},
            "kind",
            "expected a TriggerKind ('sla_warning', 'sla_breach', 'senior_requested', "
            "'complaint', 'reopened', 'unassigned_for', 'waiting_on_customer_for', "
            "'priority_at_least'), got 'escalate'",
        ),
    ],
)
def test_a_trigger_refuses_what_its_kind_does_not_take(
    fields: dict[str, Any], path: str, message: str
) -> None:
    assert (path, message) in _problems(lambda: Trigger(**fields))


def test_trigger_constructors_build_what_they_say() -> None:
    assert Trigger.sla_warning(SlaMetric.RESOLUTION, 0.75) == Trigger(
        TriggerKind.SLA_WARNING, metric=SlaMetric.RESOLUTION, fraction=0.75
    )
    assert Trigger.unassigned_for(timedelta(hours=2), calendar="desk").calendar == "desk"
    assert Trigger.priority_at_least("high").priority is Priority.HIGH
    assert Trigger.reopened(2).times == 2
    assert Trigger.sla_warning("resolution", 0.75).summary() == (
        "resolution reached 75% of its target"
    )


# -- actions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        (
            {"kind": "move_to_group"},
            "group_id",
            "a move_to_group action needs group_id (a group id)",
        ),
        (
            {"kind": "notify"},
            "agents",
            "a notify action needs agents, groups or external (at least one)",
        ),
        (
            {"kind": "raise_tier", "group_id": "l2"},
            "group_id",
            "a raise_tier action takes no group_id (it takes tier), got 'l2'",
        ),
        (
            {"kind": "assign", "agents": ("agt_1",)},
            "agents",
            "an assign action takes no agents (it takes min_grade, role), got a tuple object",
        ),
        (
            {"kind": "notify", "agents": ("agt_1", "agt_1")},
            "agents[1]",
            "agent id 'agt_1' is listed twice (also at [0])",
        ),
        (
            {"kind": "notify", "groups": ("bad group",)},
            "groups[0]",
            "expected a group id of 1-64 letters, digits, '_', '.', ':' or '-' starting with a "
            "letter or digit, got 'bad group'",
        ),
        (
            {"kind": "raise_priority", "priority": "critical"},
            "priority",
            "expected a Priority ('low', 'normal', 'high', 'urgent'), got 'critical'",
        ),
    ],
)
def test_an_action_refuses_what_its_kind_does_not_take(
    fields: dict[str, Any], path: str, message: str
) -> None:
    assert (path, message) in _problems(lambda: Action(**fields))


def test_action_constructors_build_what_they_say() -> None:
    assert Action.assign("engineer", "senior") == Action(
        ActionKind.ASSIGN, role=Role.ENGINEER, min_grade=AgentGrade.SENIOR
    )
    assert Action.notify(agents=["a1"], external="12315").agents == ("a1",)
    assert Action.raise_priority("urgent").priority is Priority.URGENT
    assert Action.raise_tier("L3").tier == "L3"


# -- rules -------------------------------------------------------------------------------


def test_a_rule_needs_a_name_a_trigger_and_actions() -> None:
    problems = _problems(lambda: EscalationRule(" ", "complaint", []))  # type: ignore[arg-type]
    paths = [path for path, _ in problems]
    assert paths == ["name", "trigger", "actions"]
    assert problems[2][1] == "expected at least one Action, got a tuple object"
    problems = _problems(
        lambda: EscalationRule("r", Trigger.complaint(), [Action.raise_tier(), "notify"])  # type: ignore[list-item]
    )
    assert problems == [("actions[1]", "expected an Action, got 'notify'")]


LADDER = EscalationLadder.default()


def _check(rules: list[Any]) -> list[tuple[str, str]]:
    return check_rules(
        rules, ladder=LADDER, groups={"l1", "l2"}, agents={"agt_1"}, calendars={"desk"}
    )


def test_check_rules_accepts_a_consistent_rule_set() -> None:
    rules = [
        EscalationRule(
            "a",
            Trigger.unassigned_for(timedelta(hours=1), calendar="desk"),
            [Action.raise_tier("L2"), Action.move_to_group("l2")],
        ),
        EscalationRule("b", Trigger.complaint(), [Action.notify(["agt_1"], ["l1"], "12315")]),
    ]
    assert _check(rules) == []


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            EscalationRule("r", Trigger.complaint(), [Action.raise_tier("L9")]),
            (
                "[1].actions[0].tier",
                "rule 'r': tier 'L9' is not on the escalation ladder; tiers: L1, L2, L3",
            ),
        ),
        (
            EscalationRule("r", Trigger.complaint(), [Action.move_to_group("vip")]),
            (
                "[1].actions[0].group_id",
                "rule 'r': group 'vip' is not configured; groups: 'l1', 'l2'",
            ),
        ),
        (
            EscalationRule("r", Trigger.complaint(), [Action.notify(groups=["l1", "vip"])]),
            (
                "[1].actions[0].groups[1]",
                "rule 'r': group 'vip' is not configured; groups: 'l1', 'l2'",
            ),
        ),
        (
            EscalationRule("r", Trigger.complaint(), [Action.notify(agents=["agt_9"])]),
            ("[1].actions[0].agents[0]", "rule 'r': agent 'agt_9' is not configured"),
        ),
        (
            EscalationRule(
                "r",
                Trigger.waiting_on_customer_for(timedelta(days=1), calendar="night"),
                [Action.raise_priority()],
            ),
            (
                "[1].trigger.calendar",
                "rule 'r': calendar 'night' is not configured; calendars: 'desk'",
            ),
        ),
        (
            EscalationRule("ok", Trigger.complaint(), [Action.raise_priority()]),
            ("[1].name", "rule name 'ok' is already used by the rule at [0]; names must be unique"),
        ),
        ("not a rule", ("[1]", "expected an EscalationRule, got 'not a rule'")),
    ],
)
def test_check_rules_names_each_problem_by_its_path(rule: Any, problem: tuple[str, str]) -> None:
    good = EscalationRule("ok", Trigger.complaint(), [Action.raise_priority()])
    assert _check([good, rule]) == [problem]


def test_check_rules_reports_every_problem_at_once() -> None:
    bad = EscalationRule(
        "bad",
        Trigger.unassigned_for(timedelta(hours=1), calendar="night"),
        [Action.raise_tier("L9"), Action.notify(agents=["x"], groups=["y"])],
    )
    assert [path for path, _ in _check([bad, bad])] == [
        "[0].trigger.calendar",
        "[0].actions[0].tier",
        "[0].actions[1].groups[0]",
        "[0].actions[1].agents[0]",
        "[1].name",
        "[1].trigger.calendar",
        "[1].actions[0].tier",
        "[1].actions[1].groups[0]",
        "[1].actions[1].agents[0]",
    ]


# -- events ------------------------------------------------------------------------------


def test_the_events_register_themselves_under_their_type_names() -> None:
    assert EVENT_TYPES["escalation.senior_requested"] is SeniorAgentRequested
    assert EVENT_TYPES["escalation.rule_fired"] is RuleFired
    assert EVENT_TYPES["escalation.notification"] is NotificationQueued


def test_a_notification_is_delivered_at_or_after_it_is_queued_to_someone() -> None:
    problems = _problems(
        lambda: NotificationQueued(
            at=T0, actor=SYSTEM, rule="r", deliver_at=T0 - timedelta(seconds=1), reason="why"
        )
    )
    assert problems == [
        ("agents", "a notification needs agents, groups or external (at least one)"),
        (
            "deliver_at",
            "2026-12-01T08:59:59+00:00 is before the event's instant 2026-12-01T09:00:00+00:00; "
            "a notification is delivered at or after it is queued",
        ),
    ]
    with pytest.raises(ValidationError, match=r"cycle: must be at least 0, got -1"):
        RuleFired(at=T0, actor=SYSTEM, rule="r", trigger="complaint", cycle=-1, reason="why")
    with pytest.raises(ValidationError, match=r"deliver_at"):
        NotificationQueued(
            at=T0,
            actor=SYSTEM,
            rule="r",
            external="12315",
            deliver_at=datetime(2026, 12, 1, 10),  # naive
            reason="why",
        )


def _ticket_with_each_event() -> Ticket:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="x", at=T0)
    return ticket.record(
        SeniorAgentRequested(at=T0, actor=Actor.customer("cus_1"), reason="the manager, please"),
        RuleFired(
            at=T0, actor=SYSTEM, rule="senior", trigger="senior_requested", cycle=1, reason="why"
        ),
        NotificationQueued(
            at=T0,
            actor=SYSTEM,
            rule="senior",
            groups=("l2",),
            calendar="香港 office",
            deliver_at=T0 + timedelta(hours=15),
            reason="rule senior: why",
        ),
        NotificationQueued(
            at=T0,
            actor=SYSTEM,
            rule="senior",
            agents=("agt_1", "agt_2"),
            external="consumer_association",
            deliver_at=T0,
            reason="rule senior: why",
        ),
    )


def test_the_events_change_no_state_but_move_updated_at() -> None:
    plain = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="x", at=T0)
    later = plain.record(
        SeniorAgentRequested(at=T0 + timedelta(minutes=5), actor=Actor.customer("cus_1"))
    )
    assert later.updated_at == T0 + timedelta(minutes=5)
    assert (later.status, later.priority, later.tier) == (plain.status, plain.priority, plain.tier)
    closed = plain.change_status(Status.SOLVED, at=T0, actor=SYSTEM).change_status(
        Status.CLOSED, at=T0, actor=SYSTEM
    )
    with pytest.raises(InvalidTransitionError, match=r"closed is final"):
        closed.record(SeniorAgentRequested(at=T0, actor=SYSTEM))


def test_a_ticket_with_each_event_round_trips_through_json_and_event_rows() -> None:
    ticket = _ticket_with_each_event()
    assert Ticket(timeline=ticket.timeline) == ticket
    assert from_json(to_json(ticket), Ticket) == ticket
    rows = events_json(ticket.timeline)
    assert '"type":"escalation.notification"' in rows[-1]
    assert ticket_from_events_json(rows, key="tkt_1") == ticket


@pytest.mark.parametrize("cls", [SeniorAgentRequested, RuleFired, NotificationQueued])
def test_the_fast_loader_reads_each_event(cls: type) -> None:
    load = event_loader(cls, make_converter().get_structure_hook)
    assert load is not None
    for event in _ticket_with_each_event().timeline:
        if type(event) is cls:
            doc = to_dict(event)
            doc.pop("schema_version", None)
            doc.pop("document", None)
            assert load(doc) == event
            assert load({**doc, "rule": ""} if "rule" in doc else {**doc, "at": "x"}) is None


@given(escalation_events())
def test_drawn_events_round_trip_in_a_ticket(event: Any) -> None:
    ticket = Ticket.open(
        id="tkt_1", customer_id="cus_1", channel="email", subject="x", at=event.at
    ).record(event)
    assert ticket_from_events_json(events_json(ticket.timeline), key="tkt_1") == ticket
    assert from_json(to_json(ticket), Ticket) == ticket


# -- documents and labels ------------------------------------------------------------------


def test_the_configuration_types_are_documents() -> None:
    assert DOCUMENT_TYPES["escalation_trigger"] is Trigger
    assert DOCUMENT_TYPES["escalation_action"] is Action
    assert DOCUMENT_TYPES["escalation_rule"] is EscalationRule
    rule = EscalationRule(
        "vip complaint",
        Trigger.sla_warning("first_response", 0.5),
        [Action.assign(Role.SUPERVISOR), Action.notify(groups=["l2"])],
        condition=Equals("customer.tier", "vip"),
        description="Warn a supervisor halfway through a VIP's first response",
    )
    text = to_json(rule)
    assert '"document":"escalation_rule"' in text
    assert from_json(text) == rule


@given(escalation_rules())
def test_drawn_rules_round_trip_and_are_valid(rule: EscalationRule) -> None:
    assert attrs.evolve(rule) == rule
    assert from_json(to_json(rule), EscalationRule) == rule


@given(escalation_triggers(), escalation_actions())
def test_drawn_triggers_and_actions_round_trip(trigger: Trigger, action: Action) -> None:
    assert from_json(to_json(trigger)) == trigger
    assert from_json(to_json(action)) == action


def test_the_kinds_are_labelled() -> None:
    assert label(TriggerKind.WAITING_ON_CUSTOMER_FOR) == "Waiting on the customer for"
    assert label(ActionKind.RAISE_TIER) == "Raise the tier"
    assert label(TriggerKind.SLA_BREACH, "zh_Hans")  # a fallback at least, never empty
