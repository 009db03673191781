"""Tickets: the transition table, automatic moves, replay, and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain import (
    TRANSITIONS,
    Actor,
    ChannelKind,
    InvalidTransitionError,
    LinkKind,
    MessageAdded,
    PersonalDataErased,
    Priority,
    Status,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketKind,
    ValidationError,
    Visibility,
)
from csdomain.privacy import REDACTED, redacted
from csdomain.sla import evaluate
from csdomain.testing import strategies as cst
from csdomain.tickets import STATE_FIELDS

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
AGENT = Actor.agent("agt_1")
CUSTOMER = Actor.customer("cus_1")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new_ticket(**kwargs: object) -> Ticket:
    args: dict[str, object] = {
        "id": "tkt_1",
        "customer_id": "cus_1",
        "channel": ChannelKind.EMAIL,
        "subject": "Printer on fire",
        "at": T0,
    }
    args.update(kwargs)
    return Ticket.open(**args)  # type: ignore[arg-type]


def test_open_records_created_event_and_description() -> None:
    ticket = new_ticket(description="It is still burning", kind=TicketKind.INCIDENT)
    created, message = ticket.timeline
    assert isinstance(created, TicketCreated)
    assert isinstance(message, MessageAdded)
    assert message.actor == CUSTOMER and message.public
    assert ticket.status is Status.NEW
    assert ticket.kind is TicketKind.INCIDENT
    assert ticket.channel == "email"
    assert ticket.created_at == ticket.updated_at == T0


def test_transition_table_is_enforced_for_every_pair() -> None:
    for start in Status:
        ticket = _ticket_in(start)
        for target in Status:
            allowed = target in TRANSITIONS[start] and target is not start
            if allowed:
                moved = ticket.change_status(target, at=at(100), actor=AGENT)
                assert moved.status is target
                assert moved.timeline[-1] == StatusChanged(
                    at=at(100), actor=AGENT, old=start, new=target
                )
            else:
                with pytest.raises(InvalidTransitionError) as info:
                    ticket.change_status(target, at=at(100), actor=AGENT)
                message = str(info.value)
                assert ticket.id in message and start.value in message and target.value in message


def _ticket_in(status: Status) -> Ticket:
    """A ticket brought to ``status`` through allowed moves only."""
    path = {
        Status.NEW: [],
        Status.OPEN: [Status.OPEN],
        Status.PENDING: [Status.PENDING],
        Status.ON_HOLD: [Status.ON_HOLD],
        Status.SOLVED: [Status.SOLVED],
        Status.CLOSED: [Status.SOLVED, Status.CLOSED],
    }[status]
    ticket = new_ticket()
    for i, step in enumerate(path):
        ticket = ticket.change_status(step, at=at(i + 1), actor=AGENT)
    return ticket


def test_closed_is_final_and_names_the_follow_up_way() -> None:
    closed = _ticket_in(Status.CLOSED)
    with pytest.raises(InvalidTransitionError, match="closed is final"):
        closed.add_message(at=at(10), actor=CUSTOMER, body="Hello again")
    with pytest.raises(InvalidTransitionError, match="closed is final"):
        closed.change_priority(Priority.HIGH, at=at(10), actor=AGENT)
    with pytest.raises(InvalidTransitionError):
        closed.change_priority(closed.priority, at=at(10), actor=AGENT)  # no-op still refused
    follow_up = closed.follow_up(id="tkt_2", at=at(11), description="It broke again")
    assert follow_up.links[0].kind is LinkKind.FOLLOW_UP_OF
    assert follow_up.links[0].ticket_id == closed.id
    assert follow_up.customer_id == closed.customer_id and follow_up.status is Status.NEW


@pytest.mark.parametrize("status", [Status.PENDING, Status.SOLVED])
def test_public_customer_message_reopens(status: Status) -> None:
    ticket = _ticket_in(status).add_message(at=at(20), actor=CUSTOMER, body="Any news?")
    assert ticket.status is Status.OPEN
    assert ticket.timeline[-1] == StatusChanged(
        at=at(20), actor=Actor.system(), old=status, new=Status.OPEN, reason="customer replied"
    )


def test_internal_note_and_on_hold_do_not_move_status() -> None:
    ticket = _ticket_in(Status.ON_HOLD)
    ticket = ticket.add_message(at=at(20), actor=CUSTOMER, body="Any news?")
    assert ticket.status is Status.ON_HOLD  # waiting on a third party, not on the customer
    ticket = ticket.add_message(
        at=at(21), actor=AGENT, body="vendor says tomorrow", visibility=Visibility.INTERNAL
    )
    assert ticket.status is Status.ON_HOLD


def test_first_public_agent_reply_opens_a_new_ticket_but_a_bot_does_not() -> None:
    ticket = new_ticket().add_message(at=at(1), actor=Actor.bot("faq"), body="Try restarting")
    assert ticket.status is Status.NEW
    ticket = ticket.add_message(at=at(2), actor=AGENT, body="On it")
    assert ticket.status is Status.OPEN


def test_customer_cannot_write_internal_note() -> None:
    with pytest.raises(ValidationError) as info:
        new_ticket().add_message(
            at=at(1), actor=CUSTOMER, body="secret", visibility=Visibility.INTERNAL
        )
    assert info.value.paths == ("visibility",)


def test_merge_closes_from_any_open_status_and_only_once() -> None:
    for status in (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED):
        merged = _ticket_in(status).merge_into("tkt_9", at=at(30), actor=AGENT)
        assert merged.status is Status.CLOSED
        assert merged.merged_into == "tkt_9"
        assert Ticket(timeline=merged.timeline) == merged
    with pytest.raises(InvalidTransitionError):
        merged.merge_into("tkt_8", at=at(31), actor=AGENT)
    with pytest.raises(InvalidTransitionError, match="itself"):
        new_ticket().merge_into("tkt_1", at=at(1), actor=AGENT)


def test_no_op_changes_return_the_same_ticket() -> None:
    ticket = new_ticket(tags=["vip"], custom_fields={"order": "8812"})
    assert ticket.change_priority(ticket.priority, at=at(1), actor=AGENT) is ticket
    assert ticket.change_tier("L1", at=at(1), actor=AGENT) is ticket
    assert ticket.change_tags(add=["vip"], remove=["absent"], at=at(1), actor=AGENT) is ticket
    assert ticket.set_custom_fields({"order": "8812"}, at=at(1), actor=AGENT) is ticket
    assert ticket.assign(at=at(1), actor=AGENT) is ticket


def test_custom_field_type_change_is_a_change() -> None:
    ticket = new_ticket(custom_fields={"count": 1})
    changed = ticket.set_custom_fields({"count": True}, at=at(1), actor=AGENT)
    assert changed.custom_fields == {"count": True}
    assert type(changed.custom_fields["count"]) is bool


def test_events_must_be_in_time_order_and_aware() -> None:
    ticket = new_ticket().add_message(at=at(10), actor=AGENT, body="hi")
    with pytest.raises(ValidationError) as info:
        ticket.add_message(at=at(5), actor=AGENT, body="earlier")
    assert "before the ticket's last event" in str(info.value)
    with pytest.raises(ValidationError) as info:
        ticket.change_priority(Priority.HIGH, at=datetime(2026, 11, 23, 12), actor=AGENT)
    assert info.value.paths == ("at",)
    assert "naive" in str(info.value)
    with pytest.raises(ValidationError) as info:
        ticket.change_priority(ticket.priority, at=datetime(2026, 11, 23, 12), actor=AGENT)
    assert "naive" in str(info.value)


def test_instants_are_stored_in_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    ticket = new_ticket(at=datetime(2026, 11, 23, 17, 0, tzinfo=shanghai))
    assert ticket.created_at.tzinfo is timezone.utc
    assert ticket.created_at == T0 + timedelta(hours=0)  # 17:00+08:00 is 09:00Z


def test_bad_open_arguments_list_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        Ticket.open(
            id="",
            customer_id="cus 1",
            channel="",
            subject="   ",
            at=datetime(2026, 1, 1),
            priority="high",  # type: ignore[arg-type]
        )
    assert set(info.value.paths) == {
        "id",
        "customer_id",
        "channel",
        "subject",
        "at",
        "priority",
    }
    assert info.value.subject == "Ticket.open"


def test_open_reports_a_bad_description_under_its_own_name() -> None:
    """Problem paths name the caller's arguments, not the internal events they feed."""
    with pytest.raises(ValidationError) as info:
        Ticket.open(
            id="tkt_1",
            customer_id="cus_1",
            channel="email",
            subject="Refund",
            at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            description="",
            follow_up_of="bad id",
        )
    assert set(info.value.paths) == {"description", "follow_up_of"}
    assert "MessageAdded" not in str(info.value) and "body" not in str(info.value)


def test_add_message_takes_actor_and_warns_on_author() -> None:
    ticket = new_ticket()
    at = ticket.created_at + timedelta(minutes=1)
    agent = Actor.agent("agt_1")
    with pytest.warns(DeprecationWarning, match="actor="):
        old_style = ticket.add_message(at=at, author=agent, body="Hi")
    assert old_style == ticket.add_message(at=at, actor=agent, body="Hi")


def test_replay_rejects_a_corrupt_timeline_with_its_position() -> None:
    ticket = _ticket_in(Status.SOLVED)
    bad_move = StatusChanged(at=at(50), actor=AGENT, old=Status.OPEN, new=Status.PENDING)
    with pytest.raises(ValidationError) as info:
        Ticket(timeline=(*ticket.timeline, bad_move))
    assert info.value.paths == (f"timeline[{len(ticket.timeline)}]",)
    with pytest.raises(ValidationError, match="start with a TicketCreated"):
        Ticket(timeline=ticket.timeline[1:])
    with pytest.raises(ValidationError, match="non-empty"):
        Ticket(timeline=())
    with pytest.raises(ValidationError):
        Ticket(timeline=(*ticket.timeline, ticket.timeline[0]))


def test_rejected_change_leaves_the_ticket_as_it_was() -> None:
    ticket = _ticket_in(Status.OPEN)
    before = attrs.asdict(ticket, recurse=False)
    with pytest.raises(InvalidTransitionError):
        ticket.change_status(Status.CLOSED, at=at(9), actor=AGENT)
    with pytest.raises(ValidationError):
        ticket.change_tags(add=["a b"], at=at(9), actor=AGENT)
    assert attrs.asdict(ticket, recurse=False) == before


def test_tickets_are_not_hashable_but_compare_by_value() -> None:
    assert new_ticket() == new_ticket()
    assert new_ticket() != new_ticket(subject="Other")
    with pytest.raises(TypeError):
        hash(new_ticket())


def test_custom_fields_are_read_only_and_not_shared_between_versions() -> None:
    ticket = new_ticket(custom_fields={"a": 1})
    later = ticket.add_message(at=at(1), actor=AGENT, body="hi")
    with pytest.raises(TypeError):
        later.custom_fields["b"] = 2  # type: ignore[index]
    assert Ticket(timeline=later.timeline) == later


def test_keys_reject_a_trailing_newline() -> None:
    with pytest.raises(ValidationError) as info:
        new_ticket(id="tkt_1\n", tags=["vip\n"])
    assert set(info.value.paths) == {"id", "tags[0]"}


def test_a_ticket_cannot_follow_up_itself_or_link_twice() -> None:
    with pytest.raises(ValidationError, match="itself"):
        new_ticket(follow_up_of="tkt_1")
    linked = new_ticket().link("tkt_7", at=at(1), actor=AGENT)
    with pytest.raises(InvalidTransitionError, match="already linked"):
        linked.link("tkt_7", at=at(2), actor=AGENT)


def test_replay_refuses_a_merged_ticket_that_does_not_close() -> None:
    merged = new_ticket().merge_into("tkt_2", at=at(1), actor=AGENT)
    link_only = merged.timeline[:-1]
    reopen = StatusChanged(at=at(2), actor=AGENT, old=Status.NEW, new=Status.OPEN)
    with pytest.raises(ValidationError, match="merged ticket can only close"):
        Ticket(timeline=(*link_only, reopen))


@given(cst.tickets(max_events=25))
def test_rebuilding_from_the_timeline_gives_the_same_ticket(ticket: Ticket) -> None:
    rebuilt = Ticket(timeline=ticket.timeline)
    assert rebuilt == ticket
    assert rebuilt.status is ticket.status
    # An erasure record changes nothing, not even the last update.
    assert rebuilt.updated_at == next(
        e.at for e in reversed(ticket.timeline) if not isinstance(e, PersonalDataErased)
    )
    assert [e.at for e in ticket.timeline] == sorted(e.at for e in ticket.timeline)


def test_event_descriptions_use_full_width_punctuation_in_chinese() -> None:
    from csdomain.tickets.rendering import describe_event

    ticket = new_ticket()
    at = ticket.created_at + timedelta(minutes=1)
    ticket = ticket.change_status(Status.PENDING, at=at, actor=Actor.agent("agt_1"), reason="x")
    ticket = ticket.change_tier("L2", at=at, actor=Actor.agent("agt_1"), reason="y")
    fields = {"a": 1, "b": 2, "c": 3}
    ticket = ticket.set_custom_fields(fields, at=at, actor=Actor.agent("agt_1"))
    status, tier, changed = (describe_event(e, "zh_CN") for e in ticket.timeline[-3:])
    assert status.endswith("（x）") and tier.endswith("（y）")
    assert changed.endswith("：a、b和c")
    assert describe_event(ticket.timeline[-3]).endswith("(x)")
    assert describe_event(ticket.timeline[-1]).endswith(": a, b, and c")


# -- erasure ----------------------------------------------------------------------------

ERASER = Actor.system("erasure")


def erase(ticket: Ticket, at: datetime, reason: str = "erasure request ER-1") -> Ticket:
    """``ticket`` as erasure leaves it: redacted events, then the record."""
    record = PersonalDataErased(at=at, actor=ERASER, reason=reason)
    return Ticket(timeline=(*redacted(ticket).timeline, record))


def _in_every_status() -> list[Ticket]:
    opened = new_ticket()
    on = opened.change_status(Status.OPEN, at=at(1), actor=AGENT)
    solved = on.change_status(Status.SOLVED, at=at(2), actor=AGENT)
    return [
        opened,
        on,
        on.change_status(Status.PENDING, at=at(2), actor=AGENT),
        on.change_status(Status.ON_HOLD, at=at(2), actor=AGENT),
        solved,
        solved.change_status(Status.CLOSED, at=at(3), actor=AGENT),
        on.merge_into("tkt_2", at=at(2), actor=AGENT),
    ]


@pytest.mark.parametrize("ticket", _in_every_status(), ids=lambda t: t.status.value)
def test_an_erasure_is_recorded_in_every_status_and_changes_no_state(ticket: Ticket) -> None:
    record = PersonalDataErased(at=at(60), actor=ERASER, reason="PIPL request 88")
    erased = Ticket(timeline=(*ticket.timeline, record))
    assert erased.timeline[-1] == record
    assert {n: getattr(erased, n) for n in STATE_FIELDS} == {
        n: getattr(ticket, n) for n in STATE_FIELDS
    }
    assert erased.updated_at == ticket.updated_at  # the last change, not the erasure


def test_an_erasure_is_recorded_in_time_order() -> None:
    ticket = new_ticket().add_message(at=at(10), actor=CUSTOMER, body="hello")
    with pytest.raises(ValidationError, match="before the ticket's last event"):
        erase(ticket, at(9))
    assert erase(ticket, at(10)).timeline[-1].at == at(10)
    record = PersonalDataErased(at=T0, actor=ERASER, reason="x")
    with pytest.raises(ValidationError, match="must start with a TicketCreated"):
        Ticket(timeline=(record,))


def test_an_erased_ticket_goes_on_after_the_erasure() -> None:
    erased = erase(new_ticket(), at(5))
    replied = erased.add_message(at=at(6), actor=AGENT, body="Done")
    assert replied.status is Status.OPEN and replied.updated_at == at(6)
    assert replied.subject == REDACTED
    assert Ticket(timeline=replied.timeline) == replied


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201, None])
def test_an_erasure_needs_a_short_reason(reason: object) -> None:
    with pytest.raises(ValidationError) as caught:
        PersonalDataErased(at=T0, actor=ERASER, reason=reason)  # type: ignore[arg-type]
    assert caught.value.paths == ("reason",)


def test_an_erasure_record_round_trips_and_shows_its_reason() -> None:
    from csdomain.serialization import from_json, to_json
    from csdomain.tickets.rendering import describe_event

    erased = erase(new_ticket(), at(5), reason="erasure request ER-1024")
    record = erased.timeline[-1]
    assert from_json(to_json(erased), Ticket) == erased
    assert '"type":"personal_data_erased"' in to_json(record).replace(" ", "")
    assert "erasure request ER-1024" in repr(record)  # the reason is not personal data
    assert describe_event(record) == "personal data erased (erasure request ER-1024)"
    assert describe_event(record, "zh_CN") == "个人信息已删除（erasure request ER-1024）"
    assert describe_event(record, "zh_TW") == "個人資料已刪除（erasure request ER-1024）"


@given(
    cst.tickets(max_events=15),
    cst.sla_policies(conditions=False),
    st.integers(0, 10 * 24 * 3600),
    st.integers(-5 * 24 * 3600, 20 * 24 * 3600),
)
def test_erasure_keeps_the_state_and_the_sla_clocks(
    ticket: Ticket, policy: object, delay: int, offset: int
) -> None:
    erased = erase(ticket, ticket.timeline[-1].at + timedelta(seconds=delay))
    for name in STATE_FIELDS:
        if name == "subject":
            assert erased.subject in (REDACTED, "")
        elif name == "custom_fields":
            assert erased.custom_fields.keys() == ticket.custom_fields.keys()
        else:
            assert getattr(erased, name) == getattr(ticket, name), name
    assert [m.handle_time for m in erased.messages] == [m.handle_time for m in ticket.messages]
    now = ticket.timeline[-1].at + timedelta(seconds=offset)
    assert evaluate(erased, policy, {}, now) == evaluate(ticket, policy, {}, now)  # type: ignore[call-overload]
