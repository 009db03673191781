"""KPI definitions as data, STANDARD_KPIS, and KpiSet: one pass equals split and merge."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from itertools import pairwise
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.kpis.accumulators import RELATIVE_ACCURACY
from csdomain.kpis.definitions import (
    STANDARD_KPIS,
    Basis,
    KpiDefinition,
    KpiSet,
    Measure,
    Statistic,
)
from csdomain.kpis.summaries import TicketSummary
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm
from csdomain.serialization import make_converter
from csdomain.surveys.intervals import wilson
from csdomain.testing.strategies._kpis import ticket_summaries

UTC = timezone.utc
AS_OF = datetime(2027, 6, 1, tzinfo=UTC)


def test_standard_kpis_are_described_and_named_once() -> None:
    names = [d.name for d in STANDARD_KPIS]
    assert len(names) == len(set(names))
    assert all(d.description for d in STANDARD_KPIS)
    assert {d.measure for d in STANDARD_KPIS} == set(Measure)
    assert {
        "fcr",
        "first_response_median_business",
        "resolution_p90_calendar",
        "handle_mean",
        "sla_first_response",
    } <= set(names)


def test_definitions_round_trip_as_data() -> None:
    converter = make_converter()
    for definition in STANDARD_KPIS:
        document = converter.unstructure(definition)
        assert converter.structure(document, KpiDefinition) == definition


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"measure": Measure.VOLUME, "statistic": Statistic.MEAN}, "statistic"),
        ({"measure": Measure.FIRST_RESPONSE_TIME, "statistic": Statistic.MEAN}, "basis"),
        (
            {"measure": Measure.HANDLE_TIME, "statistic": Statistic.P90, "basis": Basis.BUSINESS},
            "basis",
        ),
        ({"measure": Measure.FIRST_CONTACT_RESOLUTION, "statistic": Statistic.RATE}, "window"),
        (
            {"measure": Measure.REOPEN_RATE, "statistic": Statistic.RATE, "window": timedelta(1)},
            "window",
        ),
        ({"measure": Measure.SLA_COMPLIANCE, "statistic": Statistic.RATE}, "sla_metric"),
        (
            {
                "measure": Measure.VOLUME,
                "statistic": Statistic.COUNT,
                "by": ("period",),
                "period": "year",
            },
            "period",
        ),
        (
            {"measure": Measure.VOLUME, "statistic": Statistic.COUNT, "by": ("colour",)},
            "by[0]",
        ),
    ],
)
def test_inconsistent_definitions_are_refused(fields: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        KpiDefinition(name="k", **fields)  # type: ignore[arg-type]
    assert path in [p.path for p in info.value.problems]
    assert "KPI k" in str(info.value)


def test_a_set_refuses_duplicate_names_and_foreign_merges() -> None:
    with pytest.raises(ValidationError, match="used twice"):
        KpiSet([STANDARD_KPIS[0], STANDARD_KPIS[0]])
    with pytest.raises(ValidationError, match="same definitions"):
        KpiSet(as_of=AS_OF).merge(KpiSet())
    with pytest.raises(ValidationError, match="TicketSummary"):
        KpiSet().add_summaries([object()])  # type: ignore[list-item]


@settings(max_examples=25)
@given(st.lists(ticket_summaries(), max_size=60), st.data())
def test_split_and_merge_equals_one_pass(items: list[TicketSummary], data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(items)), max_size=4)))
    bounds = [0, *cuts, len(items)]
    whole = KpiSet(as_of=AS_OF)
    whole.add_summaries(items)
    merged = KpiSet(as_of=AS_OF)
    for a, b in pairwise(bounds):
        part = KpiSet(as_of=AS_OF)
        for summary in items[a:b]:
            part.add_summary(summary)
        merged = pickle.loads(pickle.dumps(part)).merge(merged)  # shards arrive pickled
    assert merged.results() == whole.results()


@settings(max_examples=25)
@given(st.lists(ticket_summaries(), max_size=60), st.integers(0, 60))
def test_a_merged_set_keeps_folding(items: list[TicketSummary], cut: int) -> None:
    whole = KpiSet(as_of=AS_OF)
    whole.add_summaries(items)
    merged = KpiSet(as_of=AS_OF).merge(KpiSet(as_of=AS_OF))
    merged.add_summaries(items[:cut])
    for summary in items[cut:]:
        merged.add_summary(summary)
    assert merged.results() == whole.results()


@settings(max_examples=25)
@given(st.lists(ticket_summaries(business_time=True), min_size=1, max_size=60))
def test_results_carry_n_intervals_and_the_quantile_error(items: list[TicketSummary]) -> None:
    kpis = KpiSet(as_of=AS_OF)
    kpis.add_summaries(items)
    results = kpis.results()
    assert results["volume"].value == results["volume"].n == len(items)
    assert sum(results["volume"].cells.values()) == len(items)  # type: ignore[union-attr]
    complaints = sum(s.complaint for s in items)
    rate = results["complaint_rate"]
    assert rate.value == Fraction(complaints, len(items))
    assert rate.interval == wilson(complaints, len(items))
    answered = [
        s.first_response_business_us for s in items if s.first_response_business_us is not None
    ]
    mean = results["first_response_mean_business"]
    assert mean.n == len(answered) and mean.quantile_error is None
    if answered:
        assert mean.value == Fraction(sum(answered), len(answered) * 1_000_000)
    median = results["first_response_median_business"]
    assert median.quantile_error == RELATIVE_ACCURACY and median.n == len(answered)


def test_shared_measurements_fold_once() -> None:
    kpis = KpiSet()
    # Mean, median and p90 of one duration and basis share one accumulator.
    assert len(kpis._by_spec) < len(STANDARD_KPIS)


def test_satisfaction_and_revisits_feed_their_kpis() -> None:
    kpis = KpiSet(as_of=AS_OF)
    for csat, nps in ((5, 10), (4, 9), (2, 3), (None, 7)):
        kpis.add_response(SimpleNamespace(csat=csat, nps=nps, ces=None))
    at = datetime(2027, 1, 4, 9, tzinfo=UTC)
    task = RevisitTask.schedule(
        id="RV-1",
        plan="vip",
        rule="monthly",
        customer_id="C-1",
        purpose="check-in",
        nominal_at=at,
        due_at=at,
        form=RevisitForm.PHONE,
        channel="phone_hotline",
        at=at - timedelta(days=1),
    )
    kpis.add_task(task.start("A-1", at).complete(Outcome.REACHED_SATISFIED, at + timedelta(1)))
    kpis.add_task(task.cancel(next(iter(CancelReason)), at))  # in neither part of the rate
    results = kpis.results()
    assert results["csat"].n == 3 and results["csat"].value == pytest.approx(2 / 3)
    assert results["nps"].n == 4 and results["nps"].value == pytest.approx((2 - 1) / 4)
    assert results["ces"].n == 0 and results["ces"].value is None
    assert results["revisit_completion"].value == 1 and results["revisit_completion"].n == 1
