"""What mypy sees of tickets: opening, changing and rebuilding one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import assert_type

from csdomain import (
    TRANSITIONS,
    Actor,
    ActorKind,
    ChannelKind,
    LinkKind,
    MessageAdded,
    Priority,
    Status,
    StatusChanged,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketLink,
    Visibility,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def opening() -> None:
    ticket = Ticket.open(
        id="tkt_1", customer_id="cus_1", channel=ChannelKind.EMAIL, subject="Invoice", at=AT
    )
    assert_type(ticket, Ticket)
    Ticket.open(
        id="tkt_2",
        customer_id="cus_1",
        channel="wechat_official_account",
        subject="Refund",
        at=AT,
        actor=Actor.agent("agt_1"),
        kind=TicketKind.COMPLAINT,
        priority=Priority.HIGH,
        tags=["refund", "vip"],
        custom_fields={"order_total": 2599, "coupon": None},
        description="Where is my refund?",
    )
    assert_type(ticket.id, str)
    assert_type(ticket.status, Status)
    assert_type(ticket.priority, Priority)
    assert_type(ticket.kind, TicketKind)
    assert_type(ticket.channel, str)
    assert_type(ticket.assignee_id, str | None)
    assert_type(ticket.tags, frozenset[str])
    assert_type(ticket.custom_fields, Mapping[str, str | int | float | bool | None])
    assert_type(ticket.links, tuple[TicketLink, ...])
    assert_type(ticket.created_at, datetime)
    assert_type(ticket.timeline, tuple[TicketEvent, ...])
    assert_type(ticket.messages, tuple[MessageAdded, ...])
    assert_type(ticket.allowed_statuses, frozenset[Status])
    assert_type(ticket.merged_into, str | None)
    assert_type(TRANSITIONS[Status.NEW], frozenset[Status])

    Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", at=AT)  # type: ignore[call-arg]
    Ticket.open("tkt_1", "cus_1", "email", "Invoice", AT)  # type: ignore[call-arg]
    Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at="2026-03-02")  # type: ignore[arg-type]
    Ticket.open(id="t", customer_id="c", channel="email", subject="S", at=AT, kind="complaint")  # type: ignore[arg-type]
    Ticket.open(id="t", customer_id="c", channel=5, subject="S", at=AT)  # type: ignore[arg-type]


def changing() -> None:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    agent = Actor.agent("agt_1")
    assert_type(agent.kind, ActorKind)
    later = AT + timedelta(minutes=5)
    replied = ticket.add_message(at=later, actor=agent, body="On it.")
    assert_type(replied, Ticket)
    note = replied.add_message(
        at=later,
        actor=agent,
        body="Called the warehouse",
        visibility=Visibility.INTERNAL,
        channel=ChannelKind.PHONE_HOTLINE,
        handle_time=timedelta(minutes=3),
    )
    assert_type(note.change_status(Status.PENDING, at=later, actor=agent), Ticket)
    assert_type(note.change_priority(Priority.URGENT, at=later, actor=agent), Ticket)
    assert_type(note.assign(at=later, actor=agent, group_id="grp_1", assignee_id=None), Ticket)
    assert_type(note.change_tier("L2", at=later, actor=agent, reason="needs an engineer"), Ticket)
    assert_type(note.change_tags(at=later, actor=agent, add=["refund"], remove=()), Ticket)
    assert_type(note.set_custom_fields({"order_total": 10}, at=later, actor=agent), Ticket)
    assert_type(note.link("tkt_0", at=later, actor=agent, kind=LinkKind.RELATED), Ticket)
    assert_type(note.merge_into("tkt_0", at=later, actor=agent), Ticket)
    assert_type(note.follow_up(id="tkt_9", at=later), Ticket)

    ticket.add_message(at=later, actor=agent)  # type: ignore[call-overload]
    ticket.change_status("solved", at=later, actor=agent)  # type: ignore[arg-type]
    ticket.change_status(Status.SOLVED, at=later)  # type: ignore[call-arg]
    ticket.change_priority(Priority.HIGH, at=later, actor="agt_1")  # type: ignore[arg-type]
    ticket.set_custom_fields({"items": [1, 2]}, at=later, actor=agent)  # type: ignore[dict-item]


def rebuilding() -> None:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    rebuilt = Ticket(timeline=list(ticket.timeline))
    assert_type(rebuilt, Ticket)
    for event in ticket.timeline:
        assert_type(event.at, datetime)
        assert_type(event.actor, Actor)
        if isinstance(event, StatusChanged):
            assert_type(event.new, Status)

    Ticket(timeline=[AT])  # type: ignore[list-item]
    Ticket()  # type: ignore[call-arg]


def tag_collections() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    ticket = Ticket.open(id="t", customer_id="c", channel="email", subject="S", at=at, tags=["vip"])
    assert_type(ticket.change_tags(at=at, actor=Actor.agent("agt_1"), add={"x"}), Ticket)
    Ticket.open(id="t", customer_id="c", channel="email", subject="S", at=at, tags="vip")  # type: ignore[arg-type]
    ticket.change_tags(at=at, actor=Actor.agent("agt_1"), add="vip")  # type: ignore[arg-type]
