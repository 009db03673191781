"""TicketSummary and summarize: one walk of a ticket's timeline, on exact instants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given

from csdomain.calendars import BusinessCalendar
from csdomain.errors import ValidationError
from csdomain.kpis.accumulators import Backlog
from csdomain.kpis.summaries import TicketSummary, summarize
from csdomain.priorities import Priority
from csdomain.serialization import make_converter
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target, evaluate
from csdomain.testing.strategies._kpis import ticket_summaries
from csdomain.tickets import Actor, Status, Ticket, TicketKind, Visibility

UTC = timezone.utc
# Monday 2026-03-02 09:00 Shanghai = 01:00 UTC; the desk is open 09:00-18:00 on weekdays.
OPENED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
AGENT = Actor.agent("A-1")
CUSTOMER = Actor.customer("C-1")
US = 1_000_000


def _ticket() -> Ticket:
    t = Ticket.open(
        id="T-1",
        customer_id="C-1",
        channel="email",
        subject="printer",
        at=OPENED,
        kind=TicketKind.COMPLAINT,
        description="it jams",
    )
    # An internal note and a bot acknowledgement do not count as the first response.
    t = t.add_message(
        at=OPENED + timedelta(minutes=5), actor=AGENT, body="n", visibility=Visibility.INTERNAL
    )
    t = t.add_message(at=OPENED + timedelta(minutes=6), actor=Actor.bot("ack"), body="got it")
    t = t.add_message(
        at=OPENED + timedelta(hours=2),
        actor=AGENT,
        body="try this",
        handle_time=timedelta(minutes=7),
    )
    # Solved on Monday 12:00 local, reopened by the customer on Tuesday, solved again Tuesday
    # 10:00 local, closed Wednesday.
    t = t.change_status(Status.SOLVED, at=OPENED + timedelta(hours=3), actor=AGENT)
    t = t.add_message(at=OPENED + timedelta(hours=20), actor=CUSTOMER, body="again")
    t = t.add_message(
        at=OPENED + timedelta(hours=24, minutes=30),
        actor=AGENT,
        body="ok",
        handle_time=timedelta(seconds=90),
    )
    t = t.change_status(Status.SOLVED, at=OPENED + timedelta(hours=25), actor=AGENT)
    return t.change_status(Status.CLOSED, at=OPENED + timedelta(hours=48), actor=Actor.system())


def test_summarize_reads_the_timeline_exactly() -> None:
    s = summarize(_ticket(), calendar=DESK)
    assert s.opened_at == OPENED
    assert s.first_response_at == OPENED + timedelta(hours=2)  # not the note, not the bot
    assert s.first_response_us == s.first_response_business_us == 2 * 3600 * US
    assert s.first_resolved_at == OPENED + timedelta(hours=3)
    assert s.first_resolution_business_us == 3 * 3600 * US
    assert s.resolved_at == OPENED + timedelta(hours=25)
    assert s.full_resolution_us == 25 * 3600 * US
    # Monday 09:00-18:00 (9 h) and Tuesday 09:00-10:00 (1 h) of business time.
    assert s.full_resolution_business_us == 10 * 3600 * US
    assert s.reopens == 1
    assert s.first_reopened_at == OPENED + timedelta(hours=20)
    assert s.solved_at == (OPENED + timedelta(hours=3), OPENED + timedelta(hours=25))
    assert s.reopened_at == (OPENED + timedelta(hours=20),)
    assert s.closed_at == OPENED + timedelta(hours=48)
    assert s.status is Status.CLOSED
    assert s.handle_us == (7 * 60 + 90) * US
    assert s.complaint
    assert s.customer_contacts == 2  # the description and the reopening message
    assert s.agent_replies == 2


def test_summarize_without_calendar_or_response() -> None:
    t = Ticket.open(id="T-2", customer_id="C-1", channel="chat", subject="s", at=OPENED)
    s = summarize(t)
    assert s.first_response_at is None and s.first_response_us is None
    assert s.first_response_business_us is None and s.resolved_at is None
    assert s.handle_us is None and s.reopens == 0 and not s.complaint
    assert s.status is Status.NEW and s.sla == ()


def test_summarize_keeps_decided_and_open_sla_metrics() -> None:
    target = Target(timedelta(hours=1), calendar="desk")
    rules = [
        MetricPolicy(SlaMetric.FIRST_RESPONSE, {Priority.NORMAL: target}),
        MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=30))}),
        MetricPolicy(SlaMetric.NEXT_RESPONSE, {Priority.URGENT: target}),
    ]
    setup = SlaSetup([SlaPolicy("std", rules)], [DESK])
    ticket = _ticket()
    status = evaluate(ticket, setup, OPENED + timedelta(days=3))
    s = summarize(ticket, sla=status, calendar=DESK)
    # First response after 2 business hours: breached; resolution within 30 h: achieved; the
    # next-response target does not apply at normal priority: left out.
    assert dict(s.sla) == {SlaMetric.FIRST_RESPONSE: False, SlaMetric.RESOLUTION: True}


def test_summarize_refuses_a_foreign_sla_status_and_bad_arguments() -> None:
    other = Ticket.open(id="T-9", customer_id="C-1", channel="chat", subject="s", at=OPENED)
    rules = [MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=1))})]
    setup = SlaSetup([SlaPolicy("std", rules)], [DESK])
    with pytest.raises(ValidationError, match="T-9"):
        summarize(_ticket(), sla=evaluate(other, setup, OPENED))
    with pytest.raises(ValidationError, match="expected a Ticket"):
        summarize("T-1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="BusinessCalendar"):
        summarize(_ticket(), calendar="desk")  # type: ignore[arg-type]


def test_the_backlog_follows_every_solve_and_reopen() -> None:
    # Solved at +3 h, reopened at +20 h, solved again at +25 h, closed at +48 h.
    s = summarize(_ticket())
    counts = []
    for hours in (0, 2, 3, 4, 19, 20, 21, 24, 25, 30, 48, 60):
        backlog = Backlog(OPENED + timedelta(hours=hours))
        backlog.add(s)
        counts.append(backlog.result())
    assert counts == [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    resolved = [s.resolved_by(OPENED + timedelta(hours=h)) for h in (2, 3, 20, 25)]
    assert resolved == [False, True, False, True]


def test_a_merged_ticket_closes_without_resolution() -> None:
    t = Ticket.open(id="T-3", customer_id="C-1", channel="chat", subject="s", at=OPENED)
    t = t.merge_into("T-1", at=OPENED + timedelta(hours=1), actor=AGENT)
    s = summarize(t)
    assert s.status is Status.CLOSED and s.resolved_at is None and s.first_resolved_at is None
    assert s.closed_at == OPENED + timedelta(hours=1)


def _valid() -> dict[str, object]:
    return {
        "ticket_id": "T-1",
        "customer_id": "C-1",
        "channel": "email",
        "kind": TicketKind.INCIDENT,
        "priority": Priority.NORMAL,
        "status": Status.OPEN,
        "opened_at": OPENED,
        "first_response_at": OPENED + timedelta(seconds=5),
        "first_response_us": 5 * US,
        "first_response_business_us": 5 * US,
    }


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"first_response_us": 4 * US}, "first_response_us"),
        ({"first_response_business_us": 6 * US}, "first_response_business_us"),
        ({"first_response_at": None}, "first_response_us"),
        ({"first_response_at": OPENED - timedelta(seconds=1)}, "first_response_at"),
        ({"reopened_at": (OPENED + timedelta(hours=1),)}, "reopened_at"),
        ({"solved_at": (OPENED + timedelta(hours=2), OPENED + timedelta(hours=1))}, "reopened_at"),
        (
            {
                "status": Status.SOLVED,
                "solved_at": (OPENED + timedelta(hours=1),),
                "reopened_at": (OPENED + timedelta(hours=2),),
            },
            "status",
        ),
        ({"status": Status.CLOSED}, "closed_at"),
        ({"resolved_at": OPENED, "full_resolution_us": 0}, "resolved_at"),
        ({"sla": ((SlaMetric.RESOLUTION, True), (SlaMetric.RESOLUTION, False))}, "sla"),
        ({"sla": (("resolution", "yes"),)}, "sla[0]"),
        ({"opened_at": datetime(2026, 3, 2)}, "opened_at"),
        ({"customer_contacts": -1}, "customer_contacts"),
    ],
)
def test_inconsistent_summaries_are_refused(changes: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        TicketSummary(**{**_valid(), **changes})  # type: ignore[arg-type]
    assert path in [p.path for p in info.value.problems]


def test_sla_metrics_given_as_text_become_members() -> None:
    s = TicketSummary(**{**_valid(), "sla": [("resolution", None)]})  # type: ignore[arg-type]
    assert s.sla == ((SlaMetric.RESOLUTION, None),)


@given(ticket_summaries())
def test_summaries_round_trip_as_documents(summary: TicketSummary) -> None:
    converter = make_converter()
    document = converter.unstructure(summary)
    assert converter.structure(document, TicketSummary) == summary
