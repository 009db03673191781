"""Survey templates: versioned, localized lists of questions with a headline score.

A :class:`SurveyTemplate` is identified by its ``key`` and ``version``
together (``"post-solve-csat@2"``, :attr:`SurveyTemplate.ref`; stored under
``"post-solve-csat:2"``, :attr:`SurveyTemplate.storage_key`). A changed
template is a new version, a new value: invitations and responses name the
version they were sent with, so an answer is always checked against the
questions its customer saw, and old responses stay readable. The template's
:class:`SurveyKind` names its headline score: the first question of the
matching kind (a CSAT template's first CSAT question); a ``custom`` template
has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_key_labels, declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    enum_member,
    identity_unless_str,
    identity_when,
    instance,
    integer,
    key,
    member_of,
    tuple_of,
)
from csdomain.errors import NotFoundError
from csdomain.surveys.questions import (
    LocalizedText,
    Question,
    QuestionKind,
)

__all__ = ["SurveyKind", "SurveyTemplate", "template_for"]

#: The most questions one template holds.
QUESTIONS_MAX: Final = 100
#: The highest template version.
VERSION_MAX: Final = 1_000_000


class SurveyKind(Enum):
    """The headline score of a survey: what its responses are counted as."""

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    #: No headline score (a questionnaire of choices and text, or several scores).
    CUSTOM = "custom"

    @property
    def question_kind(self) -> QuestionKind | None:
        """The question kind of the headline score; None for ``custom``."""
        return _HEADLINE.get(self)


_HEADLINE: Final = {
    SurveyKind.CSAT: QuestionKind.CSAT,
    SurveyKind.NPS: QuestionKind.NPS,
    SurveyKind.CES: QuestionKind.CES,
}

declare_labels(
    SurveyKind,
    {
        SurveyKind.CSAT: _mark("survey kind", "Customer satisfaction (CSAT)"),
        SurveyKind.NPS: _mark("survey kind", "Net Promoter Score"),
        SurveyKind.CES: _mark("survey kind", "Customer Effort Score"),
        SurveyKind.CUSTOM: _mark("survey kind", "Custom survey"),
    },
)
# The feature's own name, for titles and menus (满意度调查).
declare_key_labels("survey", {"satisfaction_survey": _mark("survey", "Satisfaction survey")})


def _survey_kind(value: SurveyKind | str) -> SurveyKind:
    return enum_member(SurveyKind, value)


identity_unless_str(_survey_kind)


def _questions(value: Iterable[Question]) -> tuple[Question, ...]:
    return tuple_of(value)


identity_when(_questions, "type({v}) is {tuple}", tuple=tuple)


def _questions_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", f"expected at least one Question, got {describe(value)}"
        return
    if len(value) > QUESTIONS_MAX:
        yield "", f"must hold at most {QUESTIONS_MAX} questions, got {len(value)}"
    for i, item in enumerate(value):
        if not isinstance(item, Question):
            yield f"[{i}]", f"expected a Question, got {describe(item)}"


_QUESTIONS: Final = Check(
    lambda v: (
        isinstance(v, tuple)
        and 0 < len(v) <= QUESTIONS_MAX
        and all(isinstance(q, Question) for q in v)
    ),
    _questions_explain,
)


@attrs.frozen
class SurveyTemplate(Checked):
    """A versioned survey: ``key`` and ``version`` (1 or more) identify it.

    ``questions`` (1 to 100) have distinct keys; unless ``kind`` is ``custom``
    the template holds a question of the kind's question kind, the headline.

    >>> csat = Question("csat", "csat", LocalizedText.of("How satisfied are you?"))
    >>> template = SurveyTemplate("after-solve", 1, "csat", LocalizedText.of("Survey"), [csat])
    >>> template.ref, template.headline is csat
    ('after-solve@1', True)
    >>> SurveyTemplate("after-solve", 1, "nps", LocalizedText.of("Survey"), [csat])
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid SurveyTemplate: questions: template 'after-solve@1' of kind nps needs an nps question (its headline score); it has: csat (csat)
    """  # noqa: E501

    key: str = attrs.field(metadata=checked(key("template key")))
    version: int = attrs.field(metadata=checked(integer(minimum=1, maximum=VERSION_MAX)))
    kind: SurveyKind = attrs.field(converter=_survey_kind, metadata=checked(member_of(SurveyKind)))
    title: LocalizedText = attrs.field(metadata=checked(instance(LocalizedText, "a LocalizedText")))
    questions: tuple[Question, ...] = attrs.field(
        converter=_questions, metadata=checked(_QUESTIONS)
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if len(self.storage_key) > 64:
            most = 63 - len(str(self.version))
            yield (
                "key",
                f"template key and version together ({self.storage_key!r}) must fit the 64 "
                f"characters of a storage key; shorten the key (at most {most} "
                "characters for this version)",
            )
        first: dict[str, int] = {}
        for i, question in enumerate(self.questions):
            if question.key in first:
                yield (
                    f"questions[{i}].key",
                    f"template {self.ref!r}: question key {question.key!r} is used twice "
                    f"(also at [{first[question.key]}]); keys must be unique",
                )
            else:
                first[question.key] = i
        wanted = self.kind.question_kind
        if wanted is not None and self.headline is None:
            listed = ", ".join(f"{q.key} ({q.kind.value})" for q in self.questions)
            yield (
                "questions",
                f"template {self.ref!r} of kind {self.kind.value} needs an {wanted.value} "
                f"question (its headline score); it has: {listed}",
            )

    @property
    def ref(self) -> str:
        """``"key@version"``: the template's identity, as storage keys it."""
        return f"{self.key}@{self.version}"

    @property
    def storage_key(self) -> str:
        """``"key:version"``: the key of the template's record in storage (``@`` is not a
        storage key character)."""
        return f"{self.key}:{self.version}"

    @property
    def headline(self) -> Question | None:
        """The first question of the kind's question kind; None for ``custom``."""
        wanted = self.kind.question_kind
        if wanted is None:
            return None
        return next((q for q in self.questions if q.kind is wanted), None)

    def question(self, question_key: str) -> Question | None:
        """The question whose key is ``question_key``, or None."""
        return next((q for q in self.questions if q.key == question_key), None)


declare_document("survey_template", SurveyTemplate)


def template_for(
    templates: Iterable[SurveyTemplate], key: str, version: int | None = None
) -> SurveyTemplate:
    """The template ``key`` at ``version`` (None: the newest version) among ``templates``.

    Raises :class:`~csdomain.errors.NotFoundError` naming the versions known.
    """
    versions = sorted((t for t in templates if t.key == key), key=lambda t: t.version, reverse=True)
    for template in versions:
        if version is None or template.version == version:
            return template
    known = ", ".join(t.ref for t in versions) or "none of that key"
    wanted = key if version is None else f"{key}@{version}"
    raise NotFoundError("survey template", wanted, f"known versions: {known}")
