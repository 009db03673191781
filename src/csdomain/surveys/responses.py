"""Survey responses, validated against the template version they answer.

:func:`validate_answers` turns what a customer submitted (question key ->
score, choice key, choice keys or text) into :class:`Answer` values, checking
it against the exact template version of the invitation; every problem is
collected, by question key, into one
:class:`~csdomain.errors.ValidationError`. A :class:`SurveyResponse` keeps the
answers with the invitation's attribution (the agent, group and channel fixed
at the solve or the send, never at the answer) and exposes the headline score
(:attr:`SurveyResponse.headline`) and each standard score.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Final, Union

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.time import optional_utc, to_utc
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    distinct_keys,
    enum_member,
    identity_unless_str,
    identity_when,
    instance,
    instant,
    integer,
    is_text,
    key,
    member_of,
    optional,
    tuple_of,
)
from csdomain.errors import ValidationError
from csdomain.surveys.invitations import Attribution
from csdomain.surveys.questions import MAX_LENGTH_MAX, QuestionKind
from csdomain.surveys.templates import VERSION_MAX, SurveyKind, SurveyTemplate

__all__ = [
    "Answer",
    "AnswerValue",
    "SurveyResponse",
    "validate_answers",
    "validate_answers_for",
]

#: What a customer submits for one question: a score, a choice key, choice keys, text.
AnswerValue = Union[int, str, tuple[str, ...]]  # noqa: UP007  (a runtime alias)


def _question_kind(value: QuestionKind | str) -> QuestionKind:
    return enum_member(QuestionKind, value)


def _survey_kind(value: SurveyKind | str) -> SurveyKind:
    return enum_member(SurveyKind, value)


identity_unless_str(_question_kind, _survey_kind)


def _choice_keys(value: Iterable[str]) -> tuple[str, ...]:
    return tuple_of(value)


identity_when(_choice_keys, "type({v}) is {tuple}", tuple=tuple)


def _answer_text_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"expected text of at most {MAX_LENGTH_MAX} characters, got {describe(value)}"


_ANSWER_TEXT: Final = Check(
    lambda v: (
        v is None
        or (type(v) is str and len(v) <= MAX_LENGTH_MAX and "\x00" not in v and is_text(v))
    ),
    _answer_text_explain,
)


@attrs.frozen
class Answer(Checked):
    """The answer to one question: ``score`` for CSAT, NPS and CES (within the
    kind's scale), ``choices`` for the choice kinds (one for single choice), ``text``
    for free text; the other fields empty."""

    question: str = attrs.field(metadata=checked(key("question key")))
    kind: QuestionKind = attrs.field(
        converter=_question_kind, metadata=checked(member_of(QuestionKind))
    )
    score: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=0, maximum=10)))
    )
    choices: tuple[str, ...] = attrs.field(
        default=(), converter=_choice_keys, metadata=checked(distinct_keys("choice key"))
    )
    text: str | None = attrs.field(default=None, metadata=checked(_ANSWER_TEXT))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        kind = self.kind
        scale = kind.scale
        who = f"answer to {self.question!r}"
        if scale is not None:
            if self.score is None or not scale[0] <= self.score <= scale[1]:
                yield (
                    "score",
                    f"{who}: a {kind.value} score is an integer from {scale[0]} to {scale[1]}, "
                    f"got {describe(self.score)}",
                )
        elif self.score is not None:
            yield "score", f"{who}: a {kind.value} answer takes no score"
        if kind is QuestionKind.SINGLE_CHOICE and len(self.choices) != 1:
            yield "choices", f"{who}: a single_choice answer holds exactly one choice"
        elif not kind.choice and self.choices:
            yield "choices", f"{who}: a {kind.value} answer takes no choices"
        if kind is QuestionKind.TEXT and self.text is None:
            yield "text", f"{who}: a text answer holds text"
        elif kind is not QuestionKind.TEXT and self.text is not None:
            yield "text", f"{who}: a {kind.value} answer takes no text"

    @property
    def value(self) -> AnswerValue:
        """The answer as submitted: the score, the choice key, the choice keys or the text."""
        if self.score is not None:
            return self.score
        if self.kind is QuestionKind.SINGLE_CHOICE:
            return self.choices[0]
        if self.kind is QuestionKind.MULTIPLE_CHOICE:
            return self.choices
        return self.text or ""


declare_document("survey_answer", Answer)


def _answer_problem(template: SurveyTemplate, key_: str, value: object) -> str | Answer:
    """The answer to question ``key_`` of ``template``, or what is wrong with ``value``."""
    question = template.question(key_)
    if question is None:
        known = ", ".join(q.key for q in template.questions)
        return f"template {template.ref!r} has no question {key_!r}; questions: {known}"
    kind = question.kind
    scale = kind.scale
    if scale is not None:
        lo, hi = scale
        if type(value) is not int or not lo <= value <= hi:
            return f"a {kind.value} score is an integer from {lo} to {hi}, got {describe(value)}"
        return Answer(key_, kind, score=value)
    if kind is QuestionKind.SINGLE_CHOICE:
        if type(value) is not str or question.choice(value) is None:
            known = ", ".join(c.key for c in question.choices)
            return f"expected one of the choices {known}, got {describe(value)}"
        return Answer(key_, kind, choices=(value,))
    if kind is QuestionKind.MULTIPLE_CHOICE:
        if not isinstance(value, (tuple, list, frozenset, set)):
            return f"expected a list of choice keys, got {describe(value)}"
        picked = list(value)
        unknown = [c for c in picked if type(c) is not str or question.choice(c) is None]
        if unknown:
            known = ", ".join(c.key for c in question.choices)
            shown = ", ".join(describe(c) for c in unknown[:5])
            return f"unknown choices {shown}; choices: {known}"
        if len(set(picked)) != len(picked):
            return "a choice is listed twice; each choice may be picked once"
        if question.required and not picked:
            return "required: pick at least one choice"
        return Answer(key_, kind, choices=tuple(picked))
    if type(value) is not str:
        return f"expected text, got {describe(value)}"
    if len(value) > question.max_length:
        return f"must be at most {question.max_length} characters, got {len(value)}"
    if "\x00" in value or not is_text(value):
        return "must be text without NUL characters or lone surrogates"
    if question.required and not value.strip():
        return "required: the text must not be blank"
    return Answer(key_, kind, text=value)


def validate_answers(template: SurveyTemplate, answers: Mapping[str, object]) -> dict[str, Answer]:
    """``answers`` (question key -> submitted value) checked against ``template``.

    Scores are integers (``bool`` refused) within the kind's scale (CSAT 1-5, NPS
    0-10, CES 1-7); a single choice is a choice key of the question; a multiple
    choice a list of distinct choice keys (at least one when required); text at most
    the question's ``max_length`` (not blank when required). Unknown question keys
    are refused and every required question must be answered. Returns the answers
    in the template's question order; raises one
    :class:`~csdomain.errors.ValidationError` (subject ``"survey answers"``) listing
    every problem at the question's key.

    >>> from csdomain.surveys.questions import LocalizedText, Question
    >>> csat = Question("csat", "csat", LocalizedText.of("How satisfied are you?"))
    >>> template = SurveyTemplate("s", 1, "csat", LocalizedText.of("Survey"), [csat])
    >>> validate_answers(template, {"csat": 5})["csat"].score
    5
    >>> validate_answers(template, {"csat": 6, "nps": 9})
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid survey answers (2 problems):
      - csat: a csat score is an integer from 1 to 5, got 6
      - nps: template 's@1' has no question 'nps'; questions: csat
    """
    if not isinstance(answers, Mapping):
        raise ValidationError.single(
            "survey answers",
            "",
            f"expected a mapping of question key -> answer, got {describe(answers)}",
        )
    problems: list[tuple[str, str]] = []
    found: dict[str, Answer] = {}
    for key_, value in answers.items():
        if type(key_) is not str:
            problems.append((describe(key_), "a question key is text"))
            continue
        result = _answer_problem(template, key_, value)
        if isinstance(result, Answer):
            found[key_] = result
        else:
            problems.append((key_, result))
    for question in template.questions:
        if question.required and question.key not in answers:
            problems.append((question.key, f"required: question {question.key!r} has no answer"))
    if problems:
        raise ValidationError("survey answers", problems)
    return {q.key: found[q.key] for q in template.questions if q.key in found}


def validate_answers_for(
    templates: Iterable[SurveyTemplate],
    template: str,
    version: int,
    answers: Mapping[str, object],
) -> dict[str, Answer]:
    """``answers`` checked against version ``version`` of template ``template`` among
    ``templates`` (what an invitation names), as :func:`validate_answers` does.

    A version that is not among ``templates`` is refused with the same one
    :class:`~csdomain.errors.ValidationError`, at path ``template_version``, naming
    the versions known; answers are never checked against another version.
    """
    found = [t for t in templates if t.key == template]
    for candidate in found:
        if candidate.version == version:
            return validate_answers(candidate, answers)
    known = ", ".join(t.ref for t in sorted(found, key=lambda t: t.version)) or "none"
    raise ValidationError.single(
        "survey answers",
        "template_version",
        f"template {template!r} has no version {describe(version)}; known versions: {known}",
    )


def _answers(value: Iterable[Answer] | Mapping[str, Answer]) -> tuple[Answer, ...]:
    if isinstance(value, Mapping):
        return tuple(value.values())
    return tuple_of(value)


identity_when(_answers, "type({v}) is {tuple}", tuple=tuple)


def _answers_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a tuple of Answer, got {describe(value)}"
        return
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, Answer):
            yield f"[{i}]", f"expected an Answer, got {describe(item)}"
        elif item.question in seen:
            yield f"[{i}]", f"question {item.question!r} is answered twice"
        else:
            seen.add(item.question)


_ANSWERS: Final = Check(
    lambda v: (
        isinstance(v, tuple)
        and all(isinstance(a, Answer) for a in v)
        and len({a.question for a in v}) == len(v)
    ),
    _answers_explain,
)


@attrs.frozen(kw_only=True)
class SurveyResponse(Checked):
    """A customer's answers to one invitation.

    ``template`` and ``template_version`` name the version answered; ``answers``
    are in the template's question order; ``answered_at`` is the first answer and
    ``edited_at`` the latest edit (None: never edited). ``attribution`` and
    ``channel`` come from the invitation (credit is never taken at answer time).
    """

    id: str = attrs.field(metadata=checked(key("response id")))
    invitation_id: str = attrs.field(metadata=checked(key("invitation id")))
    template: str = attrs.field(metadata=checked(key("template key")))
    template_version: int = attrs.field(metadata=checked(integer(minimum=1, maximum=VERSION_MAX)))
    kind: SurveyKind = attrs.field(converter=_survey_kind, metadata=checked(member_of(SurveyKind)))
    customer_id: str = attrs.field(metadata=checked(key("customer id")))
    ticket_id: str | None = attrs.field(default=None, metadata=checked(optional(key("ticket id"))))
    task_id: str | None = attrs.field(default=None, metadata=checked(optional(key("task id"))))
    answers: tuple[Answer, ...] = attrs.field(converter=_answers, metadata=checked(_ANSWERS))
    answered_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    edited_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(optional(instant))
    )
    attribution: Attribution | None = attrs.field(
        default=None, metadata=checked(optional(instance(Attribution, "an Attribution")))
    )
    channel: str | None = attrs.field(default=None, metadata=checked(optional(key("channel key"))))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.edited_at is not None and self.edited_at < self.answered_at:
            yield "edited_at", f"response {self.id}: edited before it was answered"

    def answer(self, question: str) -> Answer | None:
        """The answer to ``question``, or None."""
        return next((a for a in self.answers if a.question == question), None)

    def _first_score(self, kind: QuestionKind) -> int | None:
        return next((a.score for a in self.answers if a.kind is kind), None)

    @property
    def headline(self) -> int | None:
        """The score of the survey kind's question (the first of that kind); None for a
        custom survey or when it was not answered."""
        wanted = self.kind.question_kind
        return None if wanted is None else self._first_score(wanted)

    @property
    def csat(self) -> int | None:
        """The first CSAT score (1-5), or None."""
        return self._first_score(QuestionKind.CSAT)

    @property
    def nps(self) -> int | None:
        """The first NPS score (0-10), or None."""
        return self._first_score(QuestionKind.NPS)

    @property
    def ces(self) -> int | None:
        """The first CES score (1-7), or None."""
        return self._first_score(QuestionKind.CES)

    def edited(
        self, answers: Iterable[Answer] | Mapping[str, Answer], at: datetime
    ) -> SurveyResponse:
        """This response with ``answers`` in place of its own, edited at ``at`` (the same
        id, the same first answer instant and attribution)."""
        return attrs.evolve(self, answers=_answers(answers), edited_at=to_utc(at))


declare_document("survey_response", SurveyResponse)
