"""Survey answers and responses: validation against the template version, scores,
and the ``survey.*`` condition fields."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.conditions import Compare, Equals, Exists, In
from csdomain.errors import ValidationError
from csdomain.surveys.questions import Choice, LocalizedText, Question, QuestionKind
from csdomain.surveys.responses import (
    Answer,
    SurveyResponse,
    validate_answers,
    validate_answers_for,
)
from csdomain.surveys.templates import SurveyKind, SurveyTemplate
from csdomain.testing.strategies._surveys import survey_answers, survey_templates

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
TEXT = LocalizedText.of("?")
CHOICES = (Choice("speed", LocalizedText.of("Speed")), Choice("tone", LocalizedText.of("Tone")))
TEMPLATE = SurveyTemplate(
    "after-solve",
    2,
    "csat",
    TEXT,
    [
        Question("csat", QuestionKind.CSAT, TEXT),
        Question("nps", QuestionKind.NPS, TEXT, required=False),
        Question("ces", QuestionKind.CES, TEXT, required=False),
        Question("best", QuestionKind.SINGLE_CHOICE, TEXT, required=False, choices=CHOICES),
        Question("issues", QuestionKind.MULTIPLE_CHOICE, TEXT, required=False, choices=CHOICES),
        Question("why", QuestionKind.TEXT, TEXT, required=False, max_length=10),
    ],
)


def response(answers: dict[str, object], kind: SurveyKind = SurveyKind.CSAT) -> SurveyResponse:
    return SurveyResponse(
        id="rsp_1",
        invitation_id="inv_1",
        template=TEMPLATE.key,
        template_version=TEMPLATE.version,
        kind=kind,
        customer_id="cus_1",
        answers=validate_answers(TEMPLATE, answers),
        answered_at=T0,
    )


def test_valid_answers_come_back_in_question_order() -> None:
    answers = validate_answers(
        TEMPLATE,
        {
            "why": "slow",
            "issues": ["tone", "speed"],
            "best": "speed",
            "ces": 7,
            "nps": 0,
            "csat": 5,
        },
    )
    assert list(answers) == ["csat", "nps", "ces", "best", "issues", "why"]
    assert answers["issues"].choices == ("tone", "speed")
    assert answers["best"].value == "speed"
    assert answers["nps"].value == 0


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("csat", 0),
        ("csat", 6),
        ("csat", True),
        ("csat", 4.0),
        ("csat", "5"),
        ("nps", 11),
        ("nps", -1),
        ("ces", 0),
        ("ces", 8),
        ("best", "price"),
        ("best", ["speed"]),
        ("issues", ["speed", "speed"]),
        ("issues", ["price"]),
        ("issues", "speed"),
        ("why", "x" * 11),
        ("why", 5),
    ],
)
def test_one_bad_value_is_one_problem_at_its_question(question: str, value: object) -> None:
    answers: dict[str, object] = {"csat": 4, question: value}
    with pytest.raises(ValidationError) as caught:
        validate_answers(TEMPLATE, answers)
    assert caught.value.paths == (question,)
    assert caught.value.subject == "survey answers"


def test_every_problem_is_named_in_one_error() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_answers(TEMPLATE, {"nps": 12, "ces": True, "mood": "good", "why": "too long text"})
    error = caught.value
    assert set(error.paths) == {"nps", "ces", "mood", "why", "csat"}
    message = str(error)
    assert "from 0 to 10, got 12" in message
    assert "from 1 to 7, got True" in message
    assert "has no question 'mood'" in message
    assert "at most 10 characters" in message
    assert "required: question 'csat' has no answer" in message


def test_answers_are_checked_against_the_version_answered() -> None:
    v1 = SurveyTemplate("after-solve", 1, "csat", TEXT, [Question("csat", "csat", TEXT)])
    with pytest.raises(ValidationError, match="'after-solve@1' has no question 'nps'"):
        validate_answers(v1, {"csat": 5, "nps": 9})
    assert list(validate_answers(TEMPLATE, {"csat": 5, "nps": 9})) == ["csat", "nps"]


def test_an_unknown_template_version_is_refused_by_the_same_error() -> None:
    v1 = SurveyTemplate("after-solve", 1, "csat", TEXT, [Question("csat", "csat", TEXT)])
    with pytest.raises(ValidationError) as caught:
        validate_answers_for([v1, TEMPLATE], "after-solve", 3, {"csat": 5})
    assert caught.value.paths == ("template_version",)
    assert "no version 3; known versions: after-solve@1, after-solve@2" in str(caught.value)
    with pytest.raises(ValidationError, match="known versions: none"):
        validate_answers_for([v1], "other", 1, {"csat": 5})
    assert validate_answers_for([v1, TEMPLATE], "after-solve", 1, {"csat": 5})["csat"].score == 5


def test_required_choices_and_text_must_hold_something() -> None:
    strict = SurveyTemplate(
        "strict",
        1,
        "custom",
        TEXT,
        [
            Question("issues", "multiple_choice", TEXT, choices=CHOICES),
            Question("why", "text", TEXT),
        ],
    )
    with pytest.raises(ValidationError) as caught:
        validate_answers(strict, {"issues": [], "why": "  "})
    assert set(caught.value.paths) == {"issues", "why"}
    optional = validate_answers(TEMPLATE, {"csat": 3, "issues": [], "why": ""})
    assert optional["issues"].choices == () and optional["why"].text == ""


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="expected a mapping"):
        validate_answers(TEMPLATE, [("csat", 5)])  # type: ignore[arg-type]


def test_an_answer_cannot_hold_an_out_of_range_score() -> None:
    with pytest.raises(ValidationError, match="from 1 to 5, got 0"):
        Answer("csat", "csat", score=0)
    with pytest.raises(ValidationError, match="takes no text"):
        Answer("csat", "csat", score=3, text="hi")


def test_scores_of_a_response() -> None:
    r = response({"csat": 2, "nps": 9, "ces": 6})
    assert (r.headline, r.csat, r.nps, r.ces) == (2, 2, 9, 6)
    only = response({"csat": 4})
    assert only.nps is None and only.ces is None
    assert response({"csat": 4, "nps": 10}, SurveyKind.NPS).headline == 10
    assert response({"csat": 4}, SurveyKind.CUSTOM).headline is None


def test_survey_fields_read_the_response() -> None:
    low = response({"csat": 2})
    high = response({"csat": 5, "nps": 10})
    assert Compare("survey.csat", "le", 2).holds({"survey": low})
    assert not Compare("survey.csat", "le", 2).holds({"survey": high})
    # An absent score matches no test.
    assert not Compare("survey.nps", "le", 6).holds({"survey": low})
    assert not Exists("survey.nps").holds({"survey": low})
    assert Equals("survey.kind", "csat").holds({"survey": low})
    assert In("survey.template", ["after-solve", "other"]).holds({"survey": low})
    assert not Compare("survey.csat", "le", 2).holds({})
    with pytest.raises(ValidationError):
        Equals("survey.kind", "happiness")


def test_an_edit_keeps_the_identity_and_the_first_answer_instant() -> None:
    r = response({"csat": 2})
    later = datetime(2026, 3, 2, tzinfo=timezone.utc)
    edited = r.edited(validate_answers(TEMPLATE, {"csat": 4}), later)
    assert (edited.id, edited.answered_at, edited.edited_at, edited.csat) == (
        "rsp_1",
        T0,
        later,
        4,
    )
    with pytest.raises(ValidationError, match="edited before it was answered"):
        r.edited(r.answers, datetime(2026, 2, 1, tzinfo=timezone.utc))


@given(survey_templates().flatmap(lambda t: st.tuples(st.just(t), survey_answers(template=t))))
def test_valid_submissions_are_accepted(drawn: tuple[SurveyTemplate, dict[str, object]]) -> None:
    template, answers = drawn
    valid = validate_answers(template, answers)
    assert set(valid) == set(answers)
    for key, answer in valid.items():
        assert answer.kind is template.question(key).kind  # type: ignore[union-attr]


@given(
    survey_templates(kinds=[SurveyKind.CSAT, SurveyKind.NPS, SurveyKind.CES]).flatmap(
        lambda t: st.tuples(st.just(t), survey_answers(template=t))
    ),
    st.integers(-1000, 1000),
    st.text(min_size=1, max_size=10).filter(lambda k: k.isidentifier()),
)
def test_out_of_range_scores_and_unknown_questions_are_each_named(
    drawn: tuple[SurveyTemplate, dict[str, object]], score: int, unknown: str
) -> None:
    """Law: an out-of-range headline score and an unknown question key are each
    named, in one error."""
    template, answers = drawn
    headline = template.headline
    assert headline is not None and headline.kind.scale is not None
    lo, hi = headline.kind.scale
    if lo <= score <= hi:
        score = hi + 1 + abs(score)
    bad = {**answers, headline.key: score}
    stray = f"zz_{unknown}"
    if template.question(stray) is None:
        bad[stray] = 1
    with pytest.raises(ValidationError) as caught:
        validate_answers(template, bad)
    assert headline.key in caught.value.paths
    assert (stray in caught.value.paths) == (template.question(stray) is None)
