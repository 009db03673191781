"""Survey questions: typed, localized, checked when built.

A :class:`Question` has a key (unique in its template), a :class:`QuestionKind`
and a prompt in up to three languages (:class:`LocalizedText`). The score kinds
have fixed scales, the industry's own:

=====================  =========  ====================================================
kind                   scale      reported as
=====================  =========  ====================================================
``csat``               1 to 5     the share of 4 and 5 (satisfied, very satisfied)
``nps``                0 to 10    % of 9-10 (promoters) minus % of 0-6 (detractors)
``ces``                1 to 7     the mean, or the share of 5-7 (:class:`CesReporting`)
``single_choice``      a choice   one of the question's choices
``multiple_choice``    choices    distinct choices of the question's
``text``               free text  at most ``max_length`` characters
=====================  =========  ====================================================

Everything here is configuration data (documents ``survey_text``,
``survey_choice``, ``survey_question``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from functools import lru_cache
from typing import Final, TypeVar

import attrs
from babel import Locale, UnknownLocaleError

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_key_labels, declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import (
    Check,
    Checked,
    boolean,
    checked,
    describe,
    enum_member,
    identity_unless_str,
    identity_when,
    instance,
    integer,
    is_text,
    key,
    member_of,
    tuple_of,
    unique_by,
)

__all__ = [
    "LOCALES",
    "SCALES",
    "CesReporting",
    "Choice",
    "LocalizedText",
    "Question",
    "QuestionKind",
]

E = TypeVar("E", bound=Enum)

#: The languages a survey text may be written in; ``en`` is required.
LOCALES: Final = ("en", "zh_Hans", "zh_Hant")
#: The longest text of one language.
TEXT_MAX: Final = 2000
#: The longest free-text answer a question may allow.
MAX_LENGTH_MAX: Final = 10_000


# -- localized text -----------------------------------------------------------------


def _texts_ok(value: object) -> bool:
    if type(value) is not dict or "en" not in value:
        return False
    for lang, text in value.items():
        if lang not in LOCALES or type(text) is not str:
            return False
        if not text.strip() or len(text) > TEXT_MAX or "\x00" in text or not is_text(text):
            return False
    return True


def _texts_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not dict:
        yield "", f"expected a dict of language -> text, got {describe(value)}"
        return
    if "en" not in value:
        yield "", "the English text ('en') is required; zh_Hans and zh_Hant are optional"
    for lang, text in value.items():
        at = f"[{describe(lang)}]"
        if lang not in LOCALES:
            yield at, f"unknown language {describe(lang)}; expected one of {', '.join(LOCALES)}"
        elif type(text) is not str:
            yield at, f"expected text, got {describe(text)}"
        elif not text.strip():
            yield at, "must not be empty or blank"
        elif len(text) > TEXT_MAX:
            yield at, f"must be at most {TEXT_MAX} characters, got {len(text)}"
        elif "\x00" in text or not is_text(text):
            yield at, "must be text without NUL characters or lone surrogates"


_TEXTS: Final = Check(_texts_ok, _texts_explain, types=(dict,))


def _texts(value: Mapping[str, str]) -> dict[str, str]:
    # A copy, so the caller's dict cannot change the text; anything else is left
    # for the check.
    return dict(value) if isinstance(value, Mapping) else value


@lru_cache(maxsize=256)
def _variant(locale: str) -> str:
    """The language of :data:`LOCALES` a locale identifier reads (``en`` when unknown)."""
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"
    if parsed.language != "zh":
        return "en"
    # Babel fills the script in from the territory (zh_TW -> Hant, zh_CN -> Hans);
    # bare "zh" has none and reads Simplified, as CLDR's likely subtags say.
    return "zh_Hant" if parsed.script == "Hant" else "zh_Hans"


@attrs.frozen
class LocalizedText(Checked):
    """A text in English and optionally Simplified and Traditional Chinese.

    ``texts`` maps ``"en"`` (required), ``"zh_Hans"`` and ``"zh_Hant"`` to
    non-blank text of at most 2,000 characters.

    >>> title = LocalizedText({"en": "How did we do?", "zh_Hans": "您对本次服务满意吗？"})
    >>> title.text("zh_CN"), title.text("zh_TW"), title.text("fr")
    ('您对本次服务满意吗？', '您对本次服务满意吗？', 'How did we do?')
    """

    texts: dict[str, str] = attrs.field(converter=_texts, metadata=checked(_TEXTS))

    @classmethod
    def of(
        cls, en: str, *, zh_hans: str | None = None, zh_hant: str | None = None
    ) -> LocalizedText:
        """The text ``en`` with its Chinese versions, when given."""
        texts = {"en": en}
        if zh_hans is not None:
            texts["zh_Hans"] = zh_hans
        if zh_hant is not None:
            texts["zh_Hant"] = zh_hant
        return cls(texts)

    def text(self, locale: str) -> str:
        """The text for ``locale`` (a Babel identifier: ``zh_CN``, ``zh-TW``, ``en_US``).

        Chinese locales read their script (``zh_TW``, ``zh_HK`` and ``zh_Hant``
        read Traditional; ``zh_CN``, ``zh_SG``, ``zh`` and ``zh_Hans``
        Simplified); a Chinese reader whose script is missing gets the other
        Chinese text, then English; every other or unknown locale reads English.
        """
        wanted = _variant(locale) if type(locale) is str else "en"
        texts = self.texts
        if wanted == "en":
            return texts["en"]
        other = "zh_Hans" if wanted == "zh_Hant" else "zh_Hant"
        return texts.get(wanted) or texts.get(other) or texts["en"]


declare_document("survey_text", LocalizedText)


# -- kinds -----------------------------------------------------------------------------


class QuestionKind(Enum):
    """What a question asks for (see the module documentation for the scales)."""

    #: Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
    CSAT = "csat"
    #: Net Promoter Score: how likely to recommend, 0 to 10.
    NPS = "nps"
    #: Customer Effort Score, 1 (very hard) to 7 (very easy).
    CES = "ces"
    #: One of the question's choices.
    SINGLE_CHOICE = "single_choice"
    #: Any distinct choices of the question's (at least one when required).
    MULTIPLE_CHOICE = "multiple_choice"
    #: Free text.
    TEXT = "text"

    @property
    def scale(self) -> tuple[int, int] | None:
        """The lowest and highest score of a score kind; None for the others."""
        return SCALES.get(self)

    @property
    def choice(self) -> bool:
        """True for the choice kinds."""
        return self in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)


#: The scale of each score kind (inclusive).
SCALES: Final[Mapping[QuestionKind, tuple[int, int]]] = {
    QuestionKind.CSAT: (1, 5),
    QuestionKind.NPS: (0, 10),
    QuestionKind.CES: (1, 7),
}

declare_labels(
    QuestionKind,
    {
        QuestionKind.CSAT: _mark("survey question", "Customer satisfaction (CSAT)"),
        QuestionKind.NPS: _mark("survey question", "Net Promoter Score"),
        QuestionKind.CES: _mark("survey question", "Customer Effort Score"),
        QuestionKind.SINGLE_CHOICE: _mark("survey question", "Single choice"),
        QuestionKind.MULTIPLE_CHOICE: _mark("survey question", "Multiple choice"),
        QuestionKind.TEXT: _mark("survey question", "Free text"),
    },
)

# The five points of the CSAT scale, by score.
declare_key_labels(
    "csat score",
    {
        "1": _mark("csat score", "Very dissatisfied"),
        "2": _mark("csat score", "Dissatisfied"),
        "3": _mark("csat score", "Neutral"),
        "4": _mark("csat score", "Satisfied"),
        "5": _mark("csat score", "Very satisfied"),
    },
)


class CesReporting(Enum):
    """How a CES question is reported: its mean, or the share of 5-7 ("easy")."""

    MEAN = "mean"
    SHARE_5_7 = "share_5_7"


declare_labels(
    CesReporting,
    {
        CesReporting.MEAN: _mark("ces reporting", "Mean score"),
        # Translators: the share of answers scoring 5, 6 or 7 on the 1-7 effort scale.
        CesReporting.SHARE_5_7: _mark("ces reporting", "Share of 5-7"),
    },
)


def _question_kind(value: QuestionKind | str) -> QuestionKind:
    return enum_member(QuestionKind, value)


def _ces_reporting(value: CesReporting | str) -> CesReporting:
    return enum_member(CesReporting, value)


identity_unless_str(_question_kind, _ces_reporting)


# -- choices and questions -----------------------------------------------------------


@attrs.frozen
class Choice(Checked):
    """One choice of a choice question: a key (what answers hold) and its label."""

    key: str = attrs.field(metadata=checked(key("choice key")))
    label: LocalizedText = attrs.field(metadata=checked(instance(LocalizedText, "a LocalizedText")))


declare_document("survey_choice", Choice)


def _choices(value: Iterable[Choice]) -> tuple[Choice, ...]:
    return tuple_of(value)


identity_when(_choices, "type({v}) is {tuple}", tuple=tuple)


def _choices_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a tuple of Choice, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if not isinstance(item, Choice):
            yield f"[{i}]", f"expected a Choice, got {describe(item)}"


_CHOICES: Final = Check(
    lambda v: isinstance(v, tuple) and all(isinstance(c, Choice) for c in v), _choices_explain
)
_DISTINCT_CHOICES: Final = unique_by("key", what="choice key")


@attrs.frozen
class Question(Checked):
    """A question of a survey template.

    ``choices`` are for the choice kinds only (at least two, distinct keys);
    ``max_length`` (1 to 10,000, default 1,000) bounds a text answer;
    ``ces_reporting`` says how a CES question is reported (other kinds keep
    the default). ``required``: an answer must be given.

    >>> q = Question("csat", QuestionKind.CSAT, LocalizedText.of("How satisfied are you?"))
    >>> q.kind.scale
    (1, 5)
    >>> Question("pick", "single_choice", LocalizedText.of("Which?"))
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid Question: choices: question 'pick': a single_choice question needs at least 2 choices, got 0
    """  # noqa: E501

    key: str = attrs.field(metadata=checked(key("question key")))
    kind: QuestionKind = attrs.field(
        converter=_question_kind, metadata=checked(member_of(QuestionKind))
    )
    prompt: LocalizedText = attrs.field(
        metadata=checked(instance(LocalizedText, "a LocalizedText"))
    )
    required: bool = attrs.field(default=True, metadata=checked(boolean))
    choices: tuple[Choice, ...] = attrs.field(
        default=(), converter=_choices, metadata=checked(_CHOICES)
    )
    max_length: int = attrs.field(
        default=1000, metadata=checked(integer(minimum=1, maximum=MAX_LENGTH_MAX))
    )
    ces_reporting: CesReporting = attrs.field(
        default=CesReporting.MEAN,
        converter=_ces_reporting,
        metadata=checked(member_of(CesReporting)),
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        who = f"question {self.key!r}"
        kind = self.kind
        if kind.choice:
            if len(self.choices) < 2:
                yield (
                    "choices",
                    f"{who}: a {kind.value} question needs at least 2 choices, "
                    f"got {len(self.choices)}",
                )
            for path, message in _DISTINCT_CHOICES.explain(self.choices):
                yield f"choices{path}", f"{who}: {message}"
        elif self.choices:
            yield (
                "choices",
                f"{who}: a {kind.value} question takes no choices (only single_choice and "
                f"multiple_choice do), got {len(self.choices)}",
            )
        if kind is not QuestionKind.CES and self.ces_reporting is not CesReporting.MEAN:
            yield (
                "ces_reporting",
                f"{who}: ces_reporting applies to CES questions only; a {kind.value} "
                "question keeps the default 'mean'",
            )

    def choice(self, choice_key: str) -> Choice | None:
        """The choice whose key is ``choice_key``, or None."""
        return next((c for c in self.choices if c.key == choice_key), None)


declare_document("survey_question", Question)
