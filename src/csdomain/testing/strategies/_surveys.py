"""Strategies: satisfaction surveys (texts, questions, templates, policies, invitations,
answers and responses)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.conditions import ALWAYS, Compare
from csdomain.surveys.events import InvitationEvent, InvitationEventKind
from csdomain.surveys.invitations import Attribution, Invitation, InvitationState
from csdomain.surveys.policies import (
    AttributionPoint,
    ReopenRule,
    SurveyPolicy,
    SurveyTrigger,
    Throttle,
)
from csdomain.surveys.questions import (
    CesReporting,
    Choice,
    LocalizedText,
    Question,
    QuestionKind,
)
from csdomain.surveys.responses import Answer, AnswerValue, SurveyResponse, validate_answers
from csdomain.surveys.templates import SurveyKind, SurveyTemplate
from csdomain.surveys.tokens import token_hash
from csdomain.testing.strategies._common import (
    _check_size,
    _ids,
    _keys,
    _maybe,
    _members,
    _memo,
    _texts,
    aware_datetimes,
)
from csdomain.testing.strategies.registry import register

_CHANNELS: tuple[str, ...] = ("email", "sms", "wechat_official_account", "web_chat", "line")
_ZH_HANS: tuple[str, ...] = ("您对本次服务满意吗？", "满意度调查", "请为我们的服务打分")
_ZH_HANT: tuple[str, ...] = ("您對本次服務滿意嗎？", "滿意度調查", "請為我們的服務評分")
_DAY = timedelta(days=1)
_UTC = timezone.utc


# -- texts, questions, templates -----------------------------------------------------


def localized_texts() -> SearchStrategy[LocalizedText]:
    """:class:`~csdomain.surveys.LocalizedText` values: English text, with Simplified
    and Traditional Chinese texts or not.

    Requires Hypothesis.
    """
    return _localized_texts()


register(LocalizedText, localized_texts)


@_memo
def _localized_texts() -> SearchStrategy[LocalizedText]:
    return st.builds(
        LocalizedText.of,
        _texts(60),
        zh_hans=_maybe(st.one_of(st.sampled_from(_ZH_HANS), _texts(40))),
        zh_hant=_maybe(st.one_of(st.sampled_from(_ZH_HANT), _texts(40))),
    )


def survey_questions(*, kinds: Iterable[QuestionKind] | None = None) -> SearchStrategy[Question]:
    """:class:`~csdomain.surveys.Question` values of one of ``kinds`` (default: every
    :class:`~csdomain.surveys.QuestionKind`): choice questions have 2 to 5 choices with
    distinct keys, text questions a length limit, CES questions either reporting.

    Requires Hypothesis.
    """
    return _questions(tuple(dict.fromkeys(_members(QuestionKind, "kinds", kinds))))


register(Question, survey_questions)


@_memo
def _questions(kinds: tuple[QuestionKind, ...]) -> SearchStrategy[Question]:
    return st.sampled_from(kinds).flatmap(_question_of)


@_memo
def _question_of(kind: QuestionKind) -> SearchStrategy[Question]:
    choices: SearchStrategy[tuple[Choice, ...]] = st.just(())
    if kind.choice:
        choices = st.lists(_keys(16), min_size=2, max_size=5, unique=True).flatmap(
            lambda keys: st.tuples(
                *(st.builds(Choice, st.just(k), _localized_texts()) for k in keys)
            )
        )
    reporting: SearchStrategy[CesReporting] = st.just(CesReporting.MEAN)
    if kind is QuestionKind.CES:
        reporting = st.sampled_from(CesReporting)
    return st.builds(
        Question,
        key=_keys(24),
        kind=st.just(kind),
        prompt=_localized_texts(),
        required=st.booleans(),
        choices=choices,
        max_length=st.integers(1, 2000) if kind is QuestionKind.TEXT else st.just(1000),
        ces_reporting=reporting,
    )


def survey_templates(
    *, kinds: Iterable[SurveyKind] | None = None, max_questions: int = 5
) -> SearchStrategy[SurveyTemplate]:
    """:class:`~csdomain.surveys.SurveyTemplate` values of one of ``kinds`` (default:
    every :class:`~csdomain.surveys.SurveyKind`) with 1 to ``max_questions`` questions
    of distinct keys, the headline question first unless ``custom``.

    Requires Hypothesis.
    """
    chosen = tuple(dict.fromkeys(_members(SurveyKind, "kinds", kinds)))
    _check_size("max_questions", max_questions, 1, 20)
    return _templates(chosen, max_questions)


register(SurveyTemplate, survey_templates)


@_memo
def _templates(kinds: tuple[SurveyKind, ...], most: int) -> SearchStrategy[SurveyTemplate]:
    return st.sampled_from(kinds).flatmap(lambda kind: _template_of(kind, most))


@st.composite
def _template_draw(draw: DrawFn, kind: SurveyKind, most: int) -> SurveyTemplate:
    questions: list[Question] = []
    headline = kind.question_kind
    if headline is not None:
        questions.append(draw(_question_of(headline)))
    extra = draw(st.lists(_questions(tuple(QuestionKind)), max_size=most - len(questions)))
    if not questions and not extra:
        extra = [draw(_questions(tuple(QuestionKind)))]
    taken = {q.key for q in questions}
    for question in extra:
        if question.key not in taken:
            taken.add(question.key)
            questions.append(question)
    return SurveyTemplate(
        key=draw(_keys(24)),
        version=draw(st.integers(1, 20)),
        kind=kind,
        title=draw(_localized_texts()),
        questions=tuple(questions),
    )


@_memo
def _template_of(kind: SurveyKind, most: int) -> SearchStrategy[SurveyTemplate]:
    return _template_draw(kind, most)


# -- answers and responses ----------------------------------------------------------


def _value_for(question: Question) -> SearchStrategy[AnswerValue]:
    scale = question.kind.scale
    if scale is not None:
        return st.integers(*scale)
    keys = [c.key for c in question.choices]
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return st.sampled_from(keys)
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True).map(
            tuple
        )
    return _texts(min(question.max_length, 60))


@st.composite
def _answers_draw(draw: DrawFn, template: SurveyTemplate) -> dict[str, AnswerValue]:
    answers: dict[str, AnswerValue] = {}
    for question in template.questions:
        if question.required or draw(st.booleans()):
            answers[question.key] = draw(_value_for(question))
    return answers


def survey_answers(*, template: SurveyTemplate) -> SearchStrategy[dict[str, AnswerValue]]:
    """Submissions that :func:`~csdomain.surveys.validate_answers` accepts for
    ``template``: every required question answered, optional ones or not, each value
    within its question's scale, choices or length.

    Requires Hypothesis.
    """
    if not isinstance(template, SurveyTemplate):
        raise InvalidArgument(f"template={template!r} must be a SurveyTemplate")
    return _answers_draw(template)


def attributions() -> SearchStrategy[Attribution]:
    """:class:`~csdomain.surveys.Attribution` values (agent and group set or not).

    Requires Hypothesis.
    """
    return _attributions()


register(Attribution, attributions)


@_memo
def _attributions() -> SearchStrategy[Attribution]:
    return st.builds(
        Attribution,
        agent_id=_maybe(_ids("agt")),
        group_id=_maybe(_ids("grp")),
        channel=st.sampled_from(_CHANNELS),
        recorded_at=aware_datetimes(),
    )


@st.composite
def _responses_draw(draw: DrawFn) -> SurveyResponse:
    template = draw(_templates(tuple(SurveyKind), 4))
    answers = validate_answers(template, draw(_answers_draw(template)))
    answered_at = draw(aware_datetimes())
    edited = draw(st.booleans())
    return SurveyResponse(
        id=draw(_ids("rsp")),
        invitation_id=draw(_ids("inv")),
        template=template.key,
        template_version=template.version,
        kind=template.kind,
        customer_id=draw(_ids("cus")),
        ticket_id=draw(_maybe(_ids("tkt"))),
        answers=answers,
        answered_at=answered_at,
        edited_at=answered_at + draw(st.integers(0, 3600)) * timedelta(seconds=1)
        if edited
        else None,
        attribution=draw(_maybe(_attributions())),
        channel=draw(st.sampled_from(_CHANNELS)),
    )


def survey_responses() -> SearchStrategy[SurveyResponse]:
    """:class:`~csdomain.surveys.SurveyResponse` values whose answers are valid for a
    drawn template (its key, version and kind are the response's).

    Requires Hypothesis.
    """
    return _responses()


register(SurveyResponse, survey_responses)


@_memo
def _responses() -> SearchStrategy[SurveyResponse]:
    return _responses_draw()


@_memo
def _answer_values() -> SearchStrategy[Answer]:
    # Every drawn template answers its first question when it is required; the
    # others may be skipped, so keep the submissions that answer something.
    return (
        _templates(tuple(SurveyKind), 3)
        .flatmap(lambda t: _answers_draw(t).map(lambda a: validate_answers(t, a)))
        .filter(bool)
        .map(lambda answers: next(iter(answers.values())))
    )


register(Answer, _answer_values)


# -- policies -------------------------------------------------------------------------


def throttles() -> SearchStrategy[Throttle]:
    """:class:`~csdomain.surveys.Throttle` values: 1-5 invitations per 1-90 days.

    Requires Hypothesis.
    """
    return _throttles()


register(Throttle, throttles)


@_memo
def _throttles() -> SearchStrategy[Throttle]:
    return st.builds(
        Throttle,
        max_invitations=st.integers(1, 5),
        per_days=st.integers(1, 90),
        per_kind=st.booleans(),
    )


@st.composite
def _policies_draw(draw: DrawFn, templates: tuple[str, ...] | None) -> SurveyPolicy:
    expiry = draw(st.integers(2, 60)) * _DAY
    reminder = draw(_maybe(st.integers(1, expiry.days - 1).map(lambda d: d * _DAY)))
    reopen_when = draw(
        _maybe(
            st.sampled_from(
                (
                    Compare("survey.csat", "le", 2),
                    Compare("survey.nps", "le", 6),
                    Compare("survey.ces", "le", 3),
                )
            )
        )
    )
    return SurveyPolicy(
        name=draw(_keys(24)),
        trigger=draw(st.sampled_from(SurveyTrigger)),
        template=draw(st.sampled_from(templates) if templates else _keys(24)),
        template_version=draw(_maybe(st.integers(1, 5))),
        condition=ALWAYS,
        delay=draw(st.integers(0, 72)) * timedelta(hours=1),
        channels=tuple(
            draw(st.lists(st.sampled_from(_CHANNELS), min_size=1, max_size=3, unique=True))
        ),
        throttle=draw(_throttles()),
        expiry=expiry,
        reminder_after=reminder,
        on_reopen=draw(st.sampled_from(ReopenRule)),
        attribution=draw(st.sampled_from(AttributionPoint)),
        edit_window=draw(_maybe(st.integers(1, 48).map(lambda h: h * timedelta(hours=1)))),
        reopen_when=reopen_when,
    )


def survey_policies(*, templates: Iterable[str] | None = None) -> SearchStrategy[SurveyPolicy]:
    """:class:`~csdomain.surveys.SurveyPolicy` values naming one of ``templates``
    (default: any template key), with a reminder before the expiry or none, an edit
    window or none, and a low-score ``reopen_when`` or none.

    Requires Hypothesis.
    """
    chosen = None
    if templates is not None:
        chosen = tuple(dict.fromkeys(templates))
        if not chosen or not all(isinstance(t, str) for t in chosen):
            raise InvalidArgument(f"templates={templates!r} must be a non-empty collection of keys")
    return _policies(chosen)


register(SurveyPolicy, survey_policies)


@_memo
def _policies(templates: tuple[str, ...] | None) -> SearchStrategy[SurveyPolicy]:
    return _policies_draw(templates)


# -- invitations ----------------------------------------------------------------------


@st.composite
def _invitations_draw(draw: DrawFn, states: tuple[InvitationState, ...]) -> Invitation:
    state = draw(st.sampled_from(states))
    created = draw(aware_datetimes(max_value=datetime(2090, 1, 1, tzinfo=_UTC)))
    send_at = created + draw(st.integers(0, 72)) * timedelta(hours=1)
    common = {
        "id": draw(_ids("inv")),
        "policy": draw(_keys(24)),
        "template": draw(_keys(24)),
        "template_version": draw(st.integers(1, 5)),
        "kind": draw(st.sampled_from(SurveyKind)),
        "customer_id": draw(_ids("cus")),
        "ticket_id": draw(_maybe(_ids("tkt"))),
        "at": created,
        "send_at": send_at,
    }
    if state is InvitationState.SUPPRESSED:
        return Invitation.suppressed(**common, reason="throttled")
    expiry = draw(st.integers(2, 30)) * _DAY
    invitation = Invitation.create(**common, expiry=expiry)
    if draw(st.booleans()):
        invitation = invitation.attribute(draw(_attributions()))
    if state is InvitationState.PENDING:
        return invitation
    if state is InvitationState.VOIDED and draw(st.booleans()):
        return invitation.void(at=send_at, reason="ticket reopened")
    if state is InvitationState.EXPIRED and draw(st.booleans()):
        return invitation.expire(at=invitation.expires_at)
    sent_at = send_at + draw(st.integers(0, 3600)) * timedelta(seconds=1)
    reminder: timedelta | None = draw(st.integers(1, expiry.days - 1)) * _DAY
    if state is not InvitationState.REMINDED and draw(st.booleans()):
        reminder = None
    hashes = draw(st.lists(st.binary(min_size=8, max_size=8), min_size=2, max_size=2, unique=True))
    invitation = invitation.send(
        at=sent_at,
        channel=draw(st.sampled_from(_CHANNELS)),
        token_hash=token_hash(hashes[0].hex()),
        expiry=expiry,
        reminder_after=reminder,
    )
    if state is InvitationState.REMINDED or (
        invitation.remind_at is not None and draw(st.booleans())
    ):
        assert invitation.remind_at is not None
        invitation = invitation.remind(
            at=invitation.remind_at, token_hash=token_hash(hashes[1].hex())
        )
    if state in (InvitationState.SENT, InvitationState.REMINDED):
        return invitation
    if state is InvitationState.EXPIRED:
        return invitation.expire(at=invitation.expires_at)
    if state is InvitationState.VOIDED:
        return invitation.void(at=invitation.reminded_at or sent_at, reason="ticket reopened")
    answered_at = invitation.expires_at - draw(st.integers(1, 3600)) * timedelta(seconds=1)
    answered_at = max(answered_at, invitation.reminded_at or invitation.sent_at or answered_at)
    invitation = invitation.answer(at=answered_at, response_id=draw(_ids("rsp")))
    for _ in range(draw(st.integers(0, 2))):
        invitation = invitation.edit(at=answered_at, edit_window=_DAY)
    return invitation


def survey_invitations(
    *, states: Iterable[InvitationState] | None = None
) -> SearchStrategy[Invitation]:
    """:class:`~csdomain.surveys.Invitation` values in one of ``states`` (default: every
    :class:`~csdomain.surveys.InvitationState`), each reached by the invitation's own
    steps (created, attributed or not, sent, reminded or not, then answered and edited,
    expired or voided), so their timelines and instants are consistent.

    Requires Hypothesis.
    """
    return _invitations(tuple(dict.fromkeys(_members(InvitationState, "states", states))))


register(Invitation, survey_invitations)


@_memo
def _invitations(states: tuple[InvitationState, ...]) -> SearchStrategy[Invitation]:
    return _invitations_draw(states)


def invitation_events() -> SearchStrategy[InvitationEvent]:
    """:class:`~csdomain.surveys.InvitationEvent` values of every kind, each with the
    fields its kind takes.

    Requires Hypothesis.
    """
    return _invitation_events()


register(InvitationEvent, invitation_events)


@_memo
def _invitation_events() -> SearchStrategy[InvitationEvent]:
    at = aware_datetimes()
    kinds = InvitationEventKind
    return st.one_of(
        st.builds(InvitationEvent, st.sampled_from((kinds.CREATED, kinds.EXPIRED)), at),
        st.builds(
            InvitationEvent,
            st.sampled_from((kinds.SENT, kinds.REMINDED)),
            at,
            channel=st.sampled_from(_CHANNELS),
        ),
        st.builds(
            InvitationEvent,
            st.sampled_from((kinds.ANSWERED, kinds.EDITED)),
            at,
            response_id=_ids("rsp"),
        ),
        st.builds(
            InvitationEvent,
            st.sampled_from((kinds.VOIDED, kinds.SUPPRESSED)),
            at,
            reason=_texts(60),
        ),
    )
