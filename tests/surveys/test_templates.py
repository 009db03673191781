"""Survey questions and templates: localized texts, typed questions, versioned templates."""

from __future__ import annotations

import pytest
from hypothesis import given

from csdomain.errors import NotFoundError, ValidationError
from csdomain.surveys.questions import (
    CesReporting,
    Choice,
    LocalizedText,
    Question,
    QuestionKind,
)
from csdomain.surveys.templates import SurveyKind, SurveyTemplate, template_for
from csdomain.testing.strategies._surveys import survey_templates

TEXT = LocalizedText.of("How satisfied are you?", zh_hans="您满意吗？", zh_hant="您滿意嗎？")


def csat(key: str = "csat") -> Question:
    return Question(key, QuestionKind.CSAT, TEXT)


def test_localized_text_reads_the_script_of_the_locale() -> None:
    assert TEXT.text("zh_TW") == "您滿意嗎？"
    assert TEXT.text("zh-HK") == "您滿意嗎？"
    assert TEXT.text("zh_Hant") == "您滿意嗎？"
    assert TEXT.text("zh_CN") == "您满意吗？"
    assert TEXT.text("zh") == "您满意吗？"
    assert TEXT.text("zh_Hans_SG") == "您满意吗？"
    assert TEXT.text("en_US") == "How satisfied are you?"
    assert TEXT.text("fr") == "How satisfied are you?"
    assert TEXT.text("not a locale") == "How satisfied are you?"


def test_a_chinese_reader_gets_the_other_script_before_english() -> None:
    only_hans = LocalizedText.of("Thanks", zh_hans="谢谢")
    assert only_hans.text("zh_TW") == "谢谢"
    assert LocalizedText.of("Thanks").text("zh_CN") == "Thanks"


def test_localized_text_needs_english_and_known_languages() -> None:
    with pytest.raises(ValidationError) as caught:
        LocalizedText({"zh_Hans": "谢谢", "fr": "Merci", "zh_Hant": " "})
    message = str(caught.value)
    assert "'en'" in message and "'fr'" in message and "blank" in message
    assert caught.value.problem_count == 3


def test_localized_text_copies_the_callers_dict() -> None:
    texts = {"en": "Hi"}
    text = LocalizedText(texts)
    texts["en"] = "changed"
    assert text.text("en") == "Hi"


def test_score_kinds_have_the_industry_scales() -> None:
    assert QuestionKind.CSAT.scale == (1, 5)
    assert QuestionKind.NPS.scale == (0, 10)
    assert QuestionKind.CES.scale == (1, 7)
    assert QuestionKind.TEXT.scale is None


def test_choice_questions_need_two_distinct_choices() -> None:
    one = (Choice("a", LocalizedText.of("A")),)
    with pytest.raises(ValidationError, match="at least 2 choices, got 1"):
        Question("pick", "single_choice", TEXT, choices=one)
    twice = (Choice("a", LocalizedText.of("A")), Choice("a", LocalizedText.of("A again")))
    with pytest.raises(ValidationError, match="duplicate choice key") as caught:
        Question("pick", "multiple_choice", TEXT, choices=twice)
    assert caught.value.paths == ("choices[1].key",)


def test_only_choice_questions_take_choices() -> None:
    choices = (Choice("a", LocalizedText.of("A")), Choice("b", LocalizedText.of("B")))
    with pytest.raises(ValidationError, match="takes no choices"):
        Question("csat", "csat", TEXT, choices=choices)


@pytest.mark.parametrize("length", [0, 10_001, True])
def test_text_length_limits_are_bounded(length: int) -> None:
    with pytest.raises(ValidationError) as caught:
        Question("why", "text", TEXT, max_length=length)
    assert caught.value.paths == ("max_length",)


def test_ces_reporting_is_for_ces_questions() -> None:
    assert Question("ces", "ces", TEXT, ces_reporting="share_5_7").ces_reporting is (
        CesReporting.SHARE_5_7
    )
    with pytest.raises(ValidationError, match="CES questions only"):
        Question("nps", "nps", TEXT, ces_reporting=CesReporting.SHARE_5_7)


def test_template_identity_is_key_and_version() -> None:
    v1 = SurveyTemplate("after-solve", 1, "csat", TEXT, [csat()])
    v2 = SurveyTemplate("after-solve", 2, "csat", TEXT, [csat(), Question("why", "text", TEXT)])
    assert (v1.ref, v2.ref) == ("after-solve@1", "after-solve@2")
    assert v1 != v2
    assert template_for([v1, v2], "after-solve") is v2
    assert template_for([v2, v1], "after-solve", 1) is v1
    with pytest.raises(NotFoundError, match=r"after-solve@3.*after-solve@2, after-solve@1"):
        template_for([v1, v2], "after-solve", 3)
    with pytest.raises(NotFoundError, match="none of that key"):
        template_for([v1], "other")


def test_template_question_keys_are_distinct() -> None:
    with pytest.raises(ValidationError, match="'csat' is used twice") as caught:
        SurveyTemplate("t", 1, "csat", TEXT, [csat(), csat()])
    assert caught.value.paths == ("questions[1].key",)


@pytest.mark.parametrize(("kind", "needed"), [("csat", "csat"), ("nps", "nps"), ("ces", "ces")])
def test_a_template_holds_its_headline_question(kind: str, needed: str) -> None:
    text_only = [Question("why", "text", TEXT)]
    with pytest.raises(ValidationError, match=f"needs an {needed} question"):
        SurveyTemplate("t", 1, kind, TEXT, text_only)
    assert SurveyTemplate("t", 1, "custom", TEXT, text_only).headline is None


def test_the_headline_is_the_first_question_of_the_kind() -> None:
    first, second = csat("first"), csat("second")
    template = SurveyTemplate(
        "t", 1, SurveyKind.CSAT, TEXT, [Question("why", "text", TEXT), first, second]
    )
    assert template.headline is first
    assert template.question("second") is second
    assert template.question("nope") is None


@pytest.mark.parametrize("version", [0, -1, True, 1.0])
def test_template_versions_start_at_one(version: object) -> None:
    with pytest.raises(ValidationError) as caught:
        SurveyTemplate("t", version, "csat", TEXT, [csat()])  # type: ignore[arg-type]
    assert caught.value.paths == ("version",)


def test_a_template_has_questions() -> None:
    with pytest.raises(ValidationError, match="at least one Question"):
        SurveyTemplate("t", 1, "custom", TEXT, [])


@given(survey_templates())
def test_drawn_templates_hold_their_headline(template: SurveyTemplate) -> None:
    wanted = template.kind.question_kind
    if wanted is None:
        assert template.headline is None
    else:
        assert template.headline is not None and template.headline.kind is wanted
    assert len({q.key for q in template.questions}) == len(template.questions)


def test_key_and_version_fit_a_storage_key() -> None:
    long_key = "k" * 62
    assert SurveyTemplate(long_key, 9, "csat", TEXT, [csat()]).storage_key == f"{long_key}:9"
    with pytest.raises(ValidationError, match="at most 61 characters") as caught:
        SurveyTemplate(long_key, 10, "csat", TEXT, [csat()])
    assert caught.value.paths == ("key",)
