"""Scores, tallies, breakdowns and drivers of csdomain.surveys.scores."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.surveys.intervals import (
    NPS_DIFFERENCE_Z,
    TWO_PROPORTION_Z,
    WELCH_T,
    Interval,
    adjusted_wald_nps,
    holm_adjust,
    t_interval,
    wilson,
)
from csdomain.surveys.invitations import Attribution
from csdomain.surveys.questions import CesReporting, QuestionKind
from csdomain.surveys.responses import Answer, SurveyResponse
from csdomain.surveys.scores import (
    SMALL_SAMPLE,
    ResponseFacts,
    Score,
    ScoreTally,
    ScoreUnit,
    breakdown,
    ces_score,
    csat_score,
    drivers,
    nps_score,
    response_rate,
)

AT = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
SCALES = {QuestionKind.CSAT: (1, 5), QuestionKind.NPS: (0, 10), QuestionKind.CES: (1, 7)}

# -- the figures ------------------------------------------------------------------------


def test_csat_is_the_share_of_4_and_5_with_wilson() -> None:
    score = csat_score([5, 4, 3, 5, 1])
    assert (score.name, score.value, score.n, score.unit) == ("csat", 0.6, 5, ScoreUnit.PERCENT)
    assert score.interval == wilson(3, 5)
    assert score.method == "wilson"
    assert score.small_sample


def test_nps_is_promoters_minus_detractors_with_adjusted_wald() -> None:
    score = nps_score([10, 9, 8, 3, 0, 7])  # 2 promoters, 2 passives, 2 detractors
    assert score.value == 0.0
    assert score.interval == adjusted_wald_nps(2, 2, 2)
    assert (score.unit, score.method) == (ScoreUnit.POINTS, "adjusted_wald")


def test_ces_mean_with_t_or_share_of_5_to_7_with_wilson() -> None:
    mean = ces_score([7, 6, 2, 5])
    assert mean.value == 5.0
    assert mean.interval == t_interval(5.0, (14 / 3) ** 0.5, 4, bounds=(1, 7))
    assert (mean.name, mean.unit, mean.method) == ("ces", ScoreUnit.MEAN, "student_t")
    share = ces_score([7, 6, 2, 5], CesReporting.SHARE_5_7)
    assert (share.name, share.value, share.interval) == ("ces_share_5_7", 0.75, wilson(3, 4))


@pytest.mark.parametrize(
    "score",
    [
        csat_score([]),
        nps_score([]),
        ces_score([]),
        ces_score([], CesReporting.SHARE_5_7),
        response_rate(0, 0),
    ],
)
def test_no_answers_is_no_figure(score: Score) -> None:
    """n == 0: no value and no interval (never 0%, which would be a figure)."""
    assert (score.value, score.interval, score.n) == (None, None, 0)
    assert not score.has_figure
    assert score.small_sample


def test_small_sample_flag_is_below_30() -> None:
    assert SMALL_SAMPLE == 30
    assert csat_score([5] * 29).small_sample
    assert not csat_score([5] * 30).small_sample


def test_score_refuses_an_interval_missing_its_value_or_a_value_without_answers() -> None:
    with pytest.raises(ValidationError, match="does not contain"):
        Score("csat", 0.9, 10, Interval(0.1, 0.5), 0.95, ScoreUnit.PERCENT, "wilson")
    with pytest.raises(ValidationError, match="a value exactly when n > 0"):
        Score("csat", 0.5, 0, None, 0.95, ScoreUnit.PERCENT, "wilson")
    with pytest.raises(ValidationError, match="a value exactly when n > 0"):
        Score("csat", None, 3, None, 0.95, ScoreUnit.PERCENT, "wilson")


def test_bad_scores_are_refused_naming_the_scale() -> None:
    with pytest.raises(ValidationError, match=r"not a csat score; an int 1\.\.5"):
        csat_score([5, 6])
    with pytest.raises(ValidationError, match="not a nps score"):
        nps_score([True])
    with pytest.raises(ValidationError, match="not a ces score"):
        ces_score([0])
    with pytest.raises(ValidationError, match="confidence"):
        ces_score([], confidence=1.0)
    with pytest.raises(ValidationError, match="not a score kind"):
        ScoreTally(QuestionKind.TEXT)


class _Invitation:
    def __init__(self, sent_at: datetime | None) -> None:
        self.sent_at = sent_at


class _Answered:
    def __init__(self, invitation_id: str) -> None:
        self.invitation_id = invitation_id


def test_response_rate_counts_sent_invitations_and_distinct_answers() -> None:
    invitations = [_Invitation(AT), _Invitation(AT), _Invitation(None), _Invitation(AT)]
    responses = [_Answered("i1"), _Answered("i1"), _Answered("i2")]  # i1 edited: one answer
    score = response_rate(responses, invitations)
    assert (score.name, score.value, score.n, score.interval) == (
        "response_rate",
        2 / 3,
        3,
        wilson(2, 3),
    )
    assert response_rate(3, 10).interval == wilson(3, 10)
    with pytest.raises(ValidationError, match="at most one response each"):
        response_rate(4, 3)


# -- tallies ----------------------------------------------------------------------------

kinds = st.sampled_from(sorted(SCALES, key=lambda k: k.value))


@st.composite
def kind_and_values(draw: st.DrawFn) -> tuple[QuestionKind, list[int]]:
    kind = draw(kinds)
    low, high = SCALES[kind]
    return kind, draw(st.lists(st.integers(min_value=low, max_value=high), max_size=200))


@given(kind_and_values(), st.data())
def test_split_and_merge_equals_one_pass(
    case: tuple[QuestionKind, list[int]], data: st.DataObject
) -> None:
    """Any partition of the answers, tallied apart and merged in any order, gives the
    one-pass tally and so the same score, at every reporting."""
    kind, values = case
    shards = data.draw(st.integers(min_value=1, max_value=6))
    owner = data.draw(
        st.lists(st.integers(0, shards - 1), min_size=len(values), max_size=len(values))
    )
    parts = [
        ScoreTally.of(kind, [v for v, o in zip(values, owner, strict=True) if o == s])
        for s in range(shards)
    ]
    random.Random(data.draw(st.integers())).shuffle(parts)
    merged = ScoreTally.empty(kind)
    for part in parts:
        merged = merged.merge(part)
    one_pass = ScoreTally.of(kind, values)
    assert merged == one_pass
    for reporting in CesReporting:
        assert merged.score(reporting=reporting) == one_pass.score(reporting=reporting)


@given(kinds, st.data())
def test_merge_is_associative_commutative_with_an_identity(
    kind: QuestionKind, data: st.DataObject
) -> None:
    low, high = SCALES[kind]
    values = st.lists(st.integers(low, high), max_size=50)
    a, b, c = (ScoreTally.of(kind, data.draw(values)) for _ in range(3))
    before = (a.counts, b.counts)
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))
    assert a.merge(ScoreTally.empty(kind)) == a
    assert (a.counts, b.counts) == before  # merge leaves its inputs alone


def test_merging_different_kinds_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot merge"):
        ScoreTally(QuestionKind.CSAT).merge(ScoreTally(QuestionKind.NPS))


def test_tally_from_counts() -> None:
    tally = ScoreTally(QuestionKind.CSAT, {5: 3, 1: 1})
    assert tally == ScoreTally.of(QuestionKind.CSAT, [5, 5, 5, 1])
    assert tally.counts == {1: 1, 2: 0, 3: 0, 4: 0, 5: 3}
    with pytest.raises(ValidationError, match="not a count"):
        ScoreTally(QuestionKind.CSAT, {5: -1})


@given(kind_and_values(), st.floats(min_value=0.5, max_value=0.999))
def test_every_score_interval_contains_its_value_and_stays_in_range(
    case: tuple[QuestionKind, list[int]], confidence: float
) -> None:
    kind, values = case
    ranges = {"%": (0, 1), "points": (-1, 1), "mean": (1, 7)}
    for reporting in CesReporting:
        score = ScoreTally.of(kind, values).score(confidence, reporting=reporting)
        assert score.n == len(values)
        if not values:
            assert score.value is None and score.interval is None
            continue
        assert score.value is not None and score.interval is not None
        low, high = ranges[score.unit.value]
        assert low <= score.interval.low <= score.value <= score.interval.high <= high


# -- facts from responses ---------------------------------------------------------------


def test_facts_of_a_survey_response_take_the_attribution() -> None:
    response = SurveyResponse(
        id="r1",
        invitation_id="i1",
        template="csat",
        template_version=1,
        kind="csat",
        customer_id="c1",
        ticket_id="t1",
        answers=(Answer(question="q", kind=QuestionKind.CSAT, score=4),),
        answered_at=AT,
        attribution=Attribution(agent_id="a1", group_id="g1", channel="web_chat", recorded_at=AT),
        channel="email",
    )
    facts = ResponseFacts.of(response, ticket_kind="complaint", tags=["refund"])
    assert (facts.csat, facts.nps, facts.ces) == (4, None, None)
    assert (facts.agent_id, facts.group_id, facts.channel) == ("a1", "g1", "web_chat")
    assert (facts.ticket_kind, facts.tags, facts.answered_at) == (
        "complaint",
        frozenset({"refund"}),
        AT,
    )
    # A bare response (no facts) works too, through the same adapter.
    cut = breakdown([response], "agent", QuestionKind.CSAT)
    assert cut.cells[0].key == "a1" and cut.overall.value == 1.0


# -- breakdowns -------------------------------------------------------------------------


def _facts(count: int, scores: list[int], **fields: object) -> list[ResponseFacts]:
    return [
        ResponseFacts(AT, csat=scores[i % len(scores)], **fields)  # type: ignore[arg-type]
        for i in range(count)
    ]


def test_breakdown_marks_cells_whose_interval_overlaps_the_overall() -> None:
    facts = (
        _facts(80, [5, 4, 5, 4, 3], channel="email")
        + _facts(40, [1, 2, 3, 4], channel="phone")
        + _facts(3, [5], channel=None)
        + [ResponseFacts(AT, nps=9, channel="sms")]  # no CSAT: left out
    )
    cut = breakdown(facts, "channel", QuestionKind.CSAT)
    assert [c.key for c in cut.cells] == ["email", "phone", None]
    assert cut.overall.n == 123
    assert sum(c.score.n for c in cut.cells) == cut.overall.n
    for cell in cut.cells:
        assert cell.score.interval is not None and cut.overall.interval is not None
        assert cell.overlaps_overall == cell.score.interval.overlaps(cut.overall.interval)
    phone = cut.cell("phone")
    assert phone is not None and not phone.overlaps_overall and phone.score.value == 0.25
    unknown = cut.cell(None)
    assert unknown is not None and unknown.overlaps_overall and unknown.score.small_sample


def test_breakdown_by_period_uses_the_zone() -> None:
    """16:30 UTC on 31 March is 1 April in Shanghai."""
    late = datetime(2026, 3, 31, 16, 30, tzinfo=timezone.utc)
    facts = [ResponseFacts(late, csat=5), ResponseFacts(late - timedelta(hours=1), csat=1)]
    assert [c.key for c in breakdown(facts, "period", QuestionKind.CSAT).cells] == ["2026-03"]
    shanghai = breakdown(facts, "period", QuestionKind.CSAT, zone_name="Asia/Shanghai")
    assert [c.key for c in shanghai.cells] == ["2026-03", "2026-04"]
    days = breakdown(facts, "period", QuestionKind.CSAT, period="day", zone_name="Asia/Shanghai")
    assert [c.key for c in days.cells] == ["2026-03-31", "2026-04-01"]
    weeks = breakdown(facts, "period", QuestionKind.CSAT, period="week")
    assert [c.key for c in weeks.cells] == ["2026-W14"]


def test_breakdown_by_tag_counts_a_response_in_each_tag() -> None:
    facts = [ResponseFacts(AT, csat=5, tags={"a", "b"}), ResponseFacts(AT, csat=1, tags={"b"})]
    cut = breakdown(facts, "tag", QuestionKind.CSAT)
    assert [(c.key, c.score.n) for c in cut.cells] == [("a", 1), ("b", 2)]
    assert cut.overall.n == 2


def test_breakdown_of_nothing_has_no_cells_and_no_figure() -> None:
    cut = breakdown([], "agent", QuestionKind.NPS)
    assert cut.cells == () and cut.overall.value is None


def test_breakdown_refuses_unknown_cuts() -> None:
    with pytest.raises(ValidationError, match="not a dimension"):
        breakdown([], "colour", QuestionKind.CSAT)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not a period"):
        breakdown([], "period", QuestionKind.CSAT, period="year")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="time zone"):
        breakdown([], "period", QuestionKind.CSAT, zone_name="Mars/Base")


# -- drivers ----------------------------------------------------------------------------


def test_drivers_find_the_lower_tag_with_the_test_named_and_holm() -> None:
    facts = (
        _facts(60, [5, 4, 5, 4, 3], tags={"billing"})
        + _facts(60, [5, 4, 5, 3, 4], tags={"login"})
        + _facts(40, [1, 2, 3, 4], tags={"refund"})
        + _facts(3, [1], tags={"rare"})
    )
    analysis = drivers(facts, "tag", QuestionKind.CSAT)
    assert analysis.test == TWO_PROPORTION_Z and analysis.score_name == "csat"
    assert [f.key for f in analysis.lower] == ["refund"]
    assert analysis.untested == ("rare",)
    refund = analysis.lower[0]
    assert refund.score.value == 0.25 and refund.rest.n == 123
    assert refund.test.test == TWO_PROPORTION_Z and refund.test.p_value < 1e-6
    raw = {f.key: f.test.p_value for f in analysis.findings}
    keys = sorted(raw)
    expected = dict(zip(keys, holm_adjust([raw[k] for k in keys]), strict=True))
    assert {f.key: f.adjusted_p_value for f in analysis.findings} == expected
    assert all(f.significant == (f.adjusted_p_value <= 0.05) for f in analysis.findings)


def test_drivers_find_nothing_among_equal_groups() -> None:
    facts = _facts(50, [5, 4, 3, 2, 1], channel="email") + _facts(
        50, [5, 4, 3, 2, 1], channel="phone"
    )
    analysis = drivers(facts, "channel", QuestionKind.CSAT)
    assert analysis.lower == ()
    assert all(f.test.p_value == pytest.approx(0.5) for f in analysis.findings)


def test_drivers_use_welch_for_the_ces_mean_and_a_z_test_for_nps() -> None:
    ces = [ResponseFacts(AT, ces=v, ticket_kind="complaint") for v in [1, 2, 3, 2, 1, 3] * 5] + [
        ResponseFacts(AT, ces=v, ticket_kind="consultation") for v in [6, 7, 5, 6, 7, 6] * 5
    ]
    analysis = drivers(ces, "kind", QuestionKind.CES)
    assert analysis.test == WELCH_T
    assert [f.key for f in analysis.lower] == ["complaint"]
    assert analysis.lower[0].test.df is not None
    share = drivers(ces, "kind", QuestionKind.CES, reporting=CesReporting.SHARE_5_7)
    assert share.test == TWO_PROPORTION_Z and [f.key for f in share.lower] == ["complaint"]
    nps = [ResponseFacts(AT, nps=v, channel="phone") for v in [0, 3, 6, 8] * 10] + [
        ResponseFacts(AT, nps=v, channel="chat") for v in [10, 9, 9, 7] * 10
    ]
    nps_analysis = drivers(nps, "channel", QuestionKind.NPS)
    assert nps_analysis.test == NPS_DIFFERENCE_Z
    assert [f.key for f in nps_analysis.lower] == ["phone"]


def test_drivers_refuse_bad_settings() -> None:
    with pytest.raises(ValidationError, match="significance level"):
        drivers([], "tag", QuestionKind.CSAT, alpha=0)
    with pytest.raises(ValidationError, match="group size"):
        drivers([], "tag", QuestionKind.CSAT, min_n=1)
