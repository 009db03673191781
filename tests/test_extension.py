"""A feature outside ``src`` plugs in without editing a central list.

This module plays a third-party extension: it declares a ticket event (with its
own replay rule), an enum with labels, a document type, a condition field and a
strategy, then replays, labels, serializes, generates and matches them through
csdomain's public machinery, with no change to csdomain itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import ClassVar

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given

from csdomain import Actor, ChannelKind, Ticket
from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import Checked, checked, member_of, text
from csdomain.conditions import Equals, FieldKind, In, declare_field
from csdomain.errors import ValidationError
from csdomain.i18n import label
from csdomain.serialization import DOCUMENT_TYPES, from_json, to_json
from csdomain.testing import strategies as cst
from csdomain.testing.strategies.registry import register
from csdomain.tickets import EVENT_TYPES, TicketEvent, TicketState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
AGENT = Actor.agent("agt_1")


class Mood(Enum):
    """How the customer sounded (the toy extension's enum)."""

    CALM = "calm"
    UPSET = "upset"


declare_labels(Mood, {Mood.CALM: _mark("mood", "Calm"), Mood.UPSET: _mark("mood", "Upset")})


@attrs.frozen(kw_only=True)
class MoodNoted(TicketEvent):
    """The toy event: an agent noted the customer's mood, which tags the ticket."""

    type_name: ClassVar[str] = "toy.mood_noted"
    mood: Mood = attrs.field(metadata=checked(member_of(Mood)))

    def apply_to(self, state: TicketState) -> None:
        tag = f"mood-{self.mood.value}"
        if tag in state.tags:
            raise state.refuse(f"note the mood {self.mood.value}", "it is noted already")
        state.tags = state.tags | {tag}


@attrs.frozen
class MoodSurvey(Checked):
    """The toy document: a mood and a remark."""

    mood: Mood = attrs.field(metadata=checked(member_of(Mood)))
    remark: str = attrs.field(metadata=checked(text(max_length=200)))


declare_document("toy.mood_survey", MoodSurvey)


def _mood_of(ticket: Ticket) -> object:
    moods = [e.mood for e in ticket.timeline if isinstance(e, MoodNoted)]
    return moods[-1] if moods else None


declare_field("ticket.mood", FieldKind.ENUM, fact="ticket", read=_mood_of, enum=Mood)


def mood_surveys() -> st.SearchStrategy[MoodSurvey]:
    return st.builds(
        MoodSurvey,
        mood=st.sampled_from(Mood),
        remark=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20),
    )


def moods_noted() -> st.SearchStrategy[MoodNoted]:
    return st.builds(
        MoodNoted, at=cst.aware_datetimes(), actor=cst.actors(), mood=st.sampled_from(Mood)
    )


register(MoodSurvey, mood_surveys)
register(MoodNoted, moods_noted)


def _ticket() -> Ticket:
    return Ticket.open(
        id="tkt_1", customer_id="cus_1", channel=ChannelKind.EMAIL, subject="Late", at=T0
    )


def _noted(ticket: Ticket, mood: Mood, minutes: int = 1) -> Ticket:
    event = MoodNoted(at=T0 + timedelta(minutes=minutes), actor=AGENT, mood=mood)
    return Ticket(timeline=(*ticket.timeline, event))


def test_the_event_registers_itself_and_replays_with_its_own_rule() -> None:
    assert EVENT_TYPES["toy.mood_noted"] is MoodNoted
    ticket = _noted(_ticket(), Mood.UPSET)
    assert "mood-upset" in ticket.tags
    rebuilt = Ticket(timeline=ticket.timeline)
    assert rebuilt == ticket


def test_the_events_rule_refuses_what_it_forbids() -> None:
    ticket = _noted(_ticket(), Mood.UPSET)
    with pytest.raises(ValidationError, match=r"noted already") as caught:
        _noted(ticket, Mood.UPSET, minutes=2)
    assert caught.value.paths == ("timeline[2]",)


def test_the_enum_is_labelled() -> None:
    assert label(Mood.UPSET) == "Upset"


def test_a_ticket_with_the_event_round_trips_through_json() -> None:
    ticket = _noted(_ticket(), Mood.CALM)
    assert from_json(to_json(ticket), Ticket) == ticket


def test_the_document_type_round_trips() -> None:
    assert DOCUMENT_TYPES["toy.mood_survey"] is MoodSurvey
    survey = MoodSurvey(mood=Mood.CALM, remark="fine")
    text_ = to_json(survey)
    assert '"document":"toy.mood_survey"' in text_
    assert from_json(text_) == survey


def test_the_condition_field_matches() -> None:
    ticket = _noted(_ticket(), Mood.UPSET)
    assert Equals("ticket.mood", "upset").matches(ticket)
    assert not Equals("ticket.mood", Mood.CALM).matches(ticket)
    assert not In("ticket.mood", ("calm", "upset")).matches(_ticket())  # absent


def test_the_condition_field_is_checked_when_built() -> None:
    with pytest.raises(ValidationError, match=r"'calm', 'upset'"):
        Equals("ticket.mood", "cheerful")


@given(st.from_type(MoodSurvey))
def test_the_strategy_generates_valid_documents(survey: MoodSurvey) -> None:
    assert from_json(to_json(survey), MoodSurvey) == survey


@given(cst.ticket_events(types=[MoodNoted]))
def test_the_event_strategies_draw_the_registered_event(event: TicketEvent) -> None:
    assert isinstance(event, MoodNoted) and event.at.tzinfo is not None
