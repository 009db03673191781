"""Survey policies: defaults, checks, triggers, channels and the throttle law."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.conditions import Compare
from csdomain.errors import ValidationError
from csdomain.surveys.policies import (
    CHAT_CHANNELS,
    AttributionPoint,
    ReopenRule,
    SurveyPolicy,
    SurveyTrigger,
    Throttle,
    throttle_allows,
)
from csdomain.surveys.templates import SurveyKind
from csdomain.testing.strategies._surveys import survey_policies, throttles

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def policy(**changes: object) -> SurveyPolicy:
    fields: dict[str, object] = {
        "name": "csat-after-solve",
        "trigger": "ticket_solved",
        "template": "csat",
        "channels": ["email", "sms"],
    }
    fields.update(changes)
    return SurveyPolicy(**fields)  # type: ignore[arg-type]


def test_defaults_follow_zendesk_and_send_one_reminder() -> None:
    p = policy()
    assert p.delay == timedelta(hours=24)
    assert p.expiry == timedelta(days=28)
    assert p.reminder_after == timedelta(days=3)
    assert p.throttle == Throttle(max_invitations=1, per_days=30, per_kind=True)
    assert p.on_reopen is ReopenRule.VOID
    assert p.attribution is AttributionPoint.SOLVE
    assert p.edit_window is None and p.reopen_when is None
    assert p.template_version is None


def test_the_reminder_comes_before_the_expiry() -> None:
    with pytest.raises(ValidationError, match="must come before the expiry") as caught:
        policy(reminder_after=timedelta(days=28))
    assert caught.value.paths == ("reminder_after",)
    assert policy(reminder_after=None).reminder_after is None


def test_a_policy_needs_a_channel_and_distinct_channels() -> None:
    with pytest.raises(ValidationError, match="at least one channel"):
        policy(channels=[])
    with pytest.raises(ValidationError, match="listed twice"):
        policy(channels=["email", "email"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expiry", timedelta(0)),
        ("delay", timedelta(seconds=-1)),
        ("edit_window", timedelta(0)),
        ("expiry", timedelta(days=400)),
        ("template_version", 0),
        ("trigger", "purchase"),
        ("reopen_when", "csat <= 2"),
    ],
)
def test_bad_fields_are_refused_by_path(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        policy(**{field: value})
    assert field in caught.value.paths


def test_the_first_consented_channel_wins() -> None:
    p = policy(channels=["wechat_official_account", "email", "sms"])
    assert p.first_channel({"sms", "email"}) == "email"
    assert p.first_channel(["sms"]) == "sms"
    assert p.first_channel(["phone_hotline"]) is None


def test_chat_ended_is_a_solve_on_a_chat_channel() -> None:
    chat = policy(trigger="chat_ended")
    assert chat.triggered_by(SurveyTrigger.TICKET_SOLVED, "web_chat")
    assert not chat.triggered_by(SurveyTrigger.TICKET_SOLVED, "email")
    assert not chat.triggered_by(SurveyTrigger.REVISIT_DONE, "web_chat")
    solved = policy()
    assert solved.triggered_by(SurveyTrigger.TICKET_SOLVED, "web_chat")
    assert not solved.triggered_by(SurveyTrigger.REVISIT_DONE)
    assert "web_chat" in CHAT_CHANNELS and "phone_hotline" not in CHAT_CHANNELS
    custom = policy(trigger="chat_ended", chat_channels=["line"])
    assert custom.triggered_by(SurveyTrigger.TICKET_SOLVED, "line")


def test_reopen_when_reads_the_survey_fact() -> None:
    p = policy(reopen_when=Compare("survey.csat", "le", 2))
    assert p.reopen_when is not None
    assert p.reopen_when.field_paths == frozenset({"survey.csat"})


def test_throttle_window_edges() -> None:
    throttle = Throttle()  # 1 per 30 days, per kind
    sent = [(T0, SurveyKind.CSAT)]
    assert not throttle_allows(
        throttle, SurveyKind.CSAT, sent, T0 + timedelta(days=30, microseconds=-1)
    )
    assert throttle_allows(throttle, SurveyKind.CSAT, sent, T0 + timedelta(days=30))
    # A pending invitation scheduled ahead counts too.
    assert not throttle_allows(throttle, SurveyKind.CSAT, sent, T0 - timedelta(days=1))
    assert throttle_allows(throttle, SurveyKind.NPS, sent, T0)
    across = Throttle(max_invitations=2, per_days=7, per_kind=False)
    two = [(T0, SurveyKind.CSAT), (T0 + timedelta(days=1), SurveyKind.NPS)]
    assert throttle_allows(across, SurveyKind.CES, two[:1], T0 + timedelta(days=2))
    assert not throttle_allows(across, SurveyKind.CES, two, T0 + timedelta(days=2))


@given(
    throttles(),
    st.lists(st.tuples(st.integers(0, 200 * 24), st.sampled_from(SurveyKind)), max_size=40),
)
def test_throttling_is_never_exceeded(
    throttle: Throttle, attempts: list[tuple[int, SurveyKind]]
) -> None:
    """Law: invitations accepted in any order never put more than ``max_invitations``
    (of a kind, when per kind) inside any span of ``per_days`` days."""
    accepted: list[tuple[datetime, SurveyKind]] = []
    for hours, kind in attempts:
        at = T0 + timedelta(hours=hours)
        if throttle_allows(throttle, kind, accepted, at):
            accepted.append((at, kind))
    window = throttle.window
    for start, _ in accepted:
        for kind in SurveyKind:
            inside = [
                k
                for t, k in accepted
                if start <= t < start + window and (not throttle.per_kind or k is kind)
            ]
            assert len(inside) <= throttle.max_invitations


@given(throttles(), st.sampled_from(SurveyKind))
def test_a_customer_never_surveyed_is_allowed(throttle: Throttle, kind: SurveyKind) -> None:
    assert throttle_allows(throttle, kind, [], T0)


@given(survey_policies(templates=["csat", "nps"]))
def test_drawn_policies_are_consistent(p: SurveyPolicy) -> None:
    assert p.template in ("csat", "nps")
    assert p.reminder_after is None or p.reminder_after < p.expiry
    assert p.channels
