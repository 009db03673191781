"""Survey invitations: the life of an invitation, its typed refusals and its laws."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import InvalidTransitionError, ValidationError
from csdomain.surveys.events import InvitationEvent, InvitationEventKind
from csdomain.surveys.invitations import Attribution, Invitation, InvitationState
from csdomain.surveys.templates import SurveyKind
from csdomain.surveys.tokens import token_hash
from csdomain.testing.strategies._surveys import attributions, survey_invitations

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
EXPIRY = timedelta(days=28)
SOLVER = Attribution("agt_solver", "grp_l1", "email", T0)


def pending(**changes: object) -> Invitation:
    fields: dict[str, object] = {
        "id": "inv_1",
        "policy": "csat",
        "template": "csat",
        "template_version": 1,
        "kind": SurveyKind.CSAT,
        "customer_id": "cus_1",
        "ticket_id": "tkt_1",
        "at": T0,
        "send_at": T0 + DAY,
        "expiry": EXPIRY,
    }
    fields.update(changes)
    return Invitation.create(**fields)  # type: ignore[arg-type]


def sent(reminder: timedelta | None = timedelta(days=3)) -> Invitation:
    return pending().send(
        at=T0 + DAY,
        channel="email",
        token_hash=token_hash("first"),
        expiry=EXPIRY,
        reminder_after=reminder,
    )


def test_a_new_invitation_waits_for_its_send_instant() -> None:
    invitation = pending()
    assert invitation.state is InvitationState.PENDING
    assert invitation.expires_at == T0 + DAY + EXPIRY
    assert invitation.token_hashes == () and invitation.attribution is None
    assert [e.kind for e in invitation.timeline] == [InvitationEventKind.CREATED]
    with pytest.raises(InvalidTransitionError, match="it is due at"):
        invitation.send(
            at=T0, channel="email", token_hash=token_hash("x"), expiry=EXPIRY, reminder_after=None
        )


def test_sending_keeps_the_hash_and_restarts_the_expiry() -> None:
    late = pending().send(
        at=T0 + 2 * DAY,
        channel="sms",
        token_hash=token_hash("t"),
        expiry=EXPIRY,
        reminder_after=3 * DAY,
    )
    assert late.state is InvitationState.SENT
    assert late.channel == "sms" and late.sent_at == T0 + 2 * DAY
    assert late.expires_at == T0 + 2 * DAY + EXPIRY
    assert late.remind_at == T0 + 5 * DAY
    assert late.token_hashes == (token_hash("t"),)
    assert "t" not in late.token_hashes


def test_exactly_one_reminder() -> None:
    reminded = sent().remind(at=T0 + 4 * DAY, token_hash=token_hash("second"))
    assert reminded.state is InvitationState.REMINDED
    assert reminded.remind_at is None and reminded.reminded_at == T0 + 4 * DAY
    assert reminded.token_hashes == (token_hash("first"), token_hash("second"))
    with pytest.raises(InvalidTransitionError, match="from reminded to reminded"):
        reminded.remind(at=T0 + 8 * DAY, token_hash=token_hash("third"))
    with pytest.raises(InvalidTransitionError, match="none is due"):
        sent(reminder=None).remind(at=T0 + 4 * DAY, token_hash=token_hash("second"))
    with pytest.raises(InvalidTransitionError, match="due 2026-03-05"):
        sent().remind(at=T0 + 3 * DAY, token_hash=token_hash("second"))


def test_answer_once_then_only_edits_within_the_window() -> None:
    answered = sent().answer(at=T0 + 2 * DAY, response_id="rsp_1")
    assert answered.state is InvitationState.ANSWERED and answered.remind_at is None
    with pytest.raises(InvalidTransitionError, match="from answered to answered"):
        answered.answer(at=T0 + 2 * DAY, response_id="rsp_2")
    with pytest.raises(InvalidTransitionError, match="allows no edit"):
        answered.edit(at=T0 + 2 * DAY, edit_window=None)
    edited = answered.edit(at=T0 + 2 * DAY + timedelta(hours=23), edit_window=DAY)
    assert (edited.edits, edited.response_id, edited.answered_at) == (1, "rsp_1", T0 + 2 * DAY)
    with pytest.raises(InvalidTransitionError, match="edit window"):
        edited.edit(at=T0 + 3 * DAY, edit_window=DAY)


def test_no_answer_after_the_expiry_or_before_the_send() -> None:
    invitation = sent()
    with pytest.raises(InvalidTransitionError, match="expired at"):
        invitation.answer(at=invitation.expires_at, response_id="rsp_1")
    with pytest.raises(
        InvalidTransitionError, match="from pending to answered; allowed: reminded, sent"
    ):
        pending().answer(at=T0 + DAY, response_id="rsp_1")


def test_expiry_comes_at_its_instant_only() -> None:
    invitation = sent()
    with pytest.raises(InvalidTransitionError, match="not before"):
        invitation.expire(at=invitation.expires_at - timedelta(microseconds=1))
    expired = invitation.expire(at=invitation.expires_at)
    assert expired.state is InvitationState.EXPIRED and not expired.open
    assert pending().expire(at=T0 + DAY + EXPIRY).state is InvitationState.EXPIRED


def test_void_and_suppress() -> None:
    voided = sent().void(at=T0 + 2 * DAY, reason="ticket reopened")
    assert voided.state is InvitationState.VOIDED
    assert voided.timeline[-1] == InvitationEvent("voided", T0 + 2 * DAY, reason="ticket reopened")
    with pytest.raises(InvalidTransitionError):
        voided.answer(at=T0 + 3 * DAY, response_id="rsp_1")
    with pytest.raises(InvalidTransitionError, match="from sent to suppressed; allowed: pending"):
        sent().suppress(at=T0, reason="no consent")
    record = Invitation.suppressed(
        id="inv_2",
        policy="csat",
        template="csat",
        template_version=1,
        kind=SurveyKind.CSAT,
        customer_id="cus_1",
        at=T0,
        send_at=T0 + DAY,
        reason="throttled",
    )
    assert record.state is InvitationState.SUPPRESSED
    assert [e.kind.value for e in record.timeline] == ["created", "suppressed"]


def test_an_inconsistent_invitation_cannot_be_built() -> None:
    with pytest.raises(ValidationError, match="has sent_at, channel and a token"):
        Invitation(
            id="inv_1",
            policy="p",
            template="t",
            template_version=1,
            kind="csat",
            customer_id="cus_1",
            state="sent",
            created_at=T0,
            send_at=T0,
            expires_at=T0 + EXPIRY,
            timeline=[InvitationEvent("created", T0)],
        )
    with pytest.raises(ValidationError, match="SHA-256"):
        attrs.evolve(sent(), token_hashes=("not-a-digest",))


_STEPS = st.lists(
    st.sampled_from(("attribute", "send", "remind", "answer", "edit", "expire", "void")),
    max_size=10,
)


def _step(invitation: Invitation, step: str, other: Attribution, at: datetime) -> Invitation:
    try:
        if step == "attribute":
            return invitation.attribute(other)
        if step == "send":
            return invitation.send(
                at=max(at, invitation.send_at),
                channel="sms",
                token_hash=token_hash(f"{step}{at}"),
                expiry=EXPIRY,
                reminder_after=3 * DAY,
            )
        if step == "remind":
            return invitation.remind(at=invitation.remind_at or at, token_hash=token_hash(f"r{at}"))
        if step == "answer":
            return invitation.answer(at=at, response_id="rsp_1")
        if step == "edit":
            return invitation.edit(at=at, edit_window=DAY)
        if step == "expire":
            return invitation.expire(at=invitation.expires_at)
        return invitation.void(at=at, reason="reopened")
    except InvalidTransitionError:
        return invitation


@given(st.booleans(), attributions(), _STEPS)
def test_attribution_never_changes_after_it_is_fixed(
    at_solve: bool, other: Attribution, steps: list[str]
) -> None:
    """Law: once an invitation is credited, no step (another attribute among them)
    changes who it is credited to."""
    invitation = pending(attribution=SOLVER if at_solve else None)
    fixed = invitation.attribution
    at = T0 + DAY
    for step in steps:
        at += timedelta(hours=5)
        invitation = _step(invitation, step, other, at)
        if fixed is None:
            fixed = invitation.attribution
        assert invitation.attribution == fixed


@given(_STEPS)
def test_an_invitation_is_answered_at_most_once(steps: list[str]) -> None:
    """Law: however the steps go, there is at most one answered event; edits name the
    same response."""
    invitation = pending()
    at = T0 + DAY
    for step in [*steps, "answer", "answer"]:
        at += timedelta(hours=1)
        invitation = _step(invitation, step, SOLVER, at)
    kinds = [e.kind for e in invitation.timeline]
    assert kinds.count(InvitationEventKind.ANSWERED) <= 1
    assert kinds.count(InvitationEventKind.REMINDED) <= 1
    assert invitation.edits == kinds.count(InvitationEventKind.EDITED)
    assert {e.response_id for e in invitation.timeline if e.response_id} <= {"rsp_1"}


@given(survey_invitations())
def test_drawn_invitations_are_consistent(invitation: Invitation) -> None:
    instants = [e.at for e in invitation.timeline]
    assert instants == sorted(instants)
    assert len(set(invitation.token_hashes)) == len(invitation.token_hashes)
    if invitation.state is InvitationState.REMINDED:
        assert len(invitation.token_hashes) == 2 and invitation.remind_at is None
