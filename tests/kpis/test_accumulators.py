"""Accumulator laws on random partitions of generated summaries, and oracles.

Laws: merge is associative and commutative, the empty accumulator is an identity, merge
leaves its inputs unchanged, and folding the parts of any partition then merging them
equals one pass (counts and means exactly; quantiles exactly too, since a merged DDSketch
has the one-pass sketch's bins, and within the sketch's relative accuracy of the exact
quantile: ``|estimate - x[floor(q (n - 1))]| <= 0.01 * x[floor(q (n - 1))]``).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from itertools import pairwise, zip_longest
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ddsketch import DDSketch
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.kpis.accumulators import (
    RELATIVE_ACCURACY,
    Backlog,
    ComplaintRate,
    FirstContactResolution,
    Mean,
    Quantiles,
    ReopenRate,
    ResponseTime,
    Satisfaction,
    SlaCompliance,
    Volume,
)
from csdomain.kpis.summaries import TicketSummary
from csdomain.priorities import Priority
from csdomain.sla import SlaMetric
from csdomain.surveys.questions import QuestionKind
from csdomain.testing.strategies._kpis import ticket_summaries
from csdomain.tickets import Status, TicketKind

UTC = timezone.utc
AS_OF = datetime(2027, 6, 1, tzinfo=UTC)

FACTORIES: dict[str, Callable[[], Any]] = {
    "volume month Shanghai": lambda: Volume(period="month", zone="Asia/Shanghai"),
    "volume week New York": lambda: Volume(
        ("period", "kind"), period="week", zone="America/New_York"
    ),
    "volume day Lord Howe": lambda: Volume(("period",), period="day", zone="Australia/Lord_Howe"),
    "volume priority group": lambda: Volume(("priority", "group", "assignee")),
    "fcr customer": lambda: FirstContactResolution(),
    "fcr customer as_of": lambda: FirstContactResolution(timedelta(days=3), as_of=AS_OF),
    "fcr ticket as_of": lambda: FirstContactResolution(scope="ticket", as_of=AS_OF),
    "first response business": lambda: ResponseTime("first_response", basis="business"),
    "resolution calendar": lambda: ResponseTime("resolution", basis="calendar"),
    "full resolution business": lambda: ResponseTime("full_resolution", basis="business"),
    "handle": lambda: ResponseTime("handle", basis="calendar"),
    "reopen rate": ReopenRate,
    "complaint rate": ComplaintRate,
    "sla resolution": lambda: SlaCompliance(SlaMetric.RESOLUTION),
    "backlog at": lambda: Backlog(datetime(2026, 1, 1, tzinfo=UTC)),
    "backlog final": Backlog,
}

summary_lists = st.lists(ticket_summaries(), max_size=40)


def _fold(factory: Callable[[], Any], items: list[TicketSummary], one_by_one: bool) -> Any:
    accumulator = factory()
    if one_by_one:
        for item in items:
            accumulator.add(item)
    else:
        accumulator.add_all(items)
    return accumulator


@st.composite
def _partitions(draw: st.DrawFn) -> tuple[list[TicketSummary], list[list[TicketSummary]]]:
    items = draw(summary_lists)
    cuts = sorted(draw(st.lists(st.integers(0, len(items)), max_size=5)))
    bounds = [0, *cuts, len(items)]
    return items, [items[a:b] for a, b in pairwise(bounds)]


@pytest.mark.parametrize("name", FACTORIES)
@settings(max_examples=30)
@given(data=st.data())
def test_split_and_merge_equals_one_pass(name: str, data: st.DataObject) -> None:
    factory = FACTORIES[name]
    items, parts = data.draw(_partitions())
    order = data.draw(st.permutations(range(len(parts))))
    folded = [_fold(factory, part, data.draw(st.booleans())) for part in parts]
    merged = factory()
    for i in order:  # any order: merging commutes
        merged = merged.merge(folded[i])
    assert merged.result() == _fold(factory, items, one_by_one=False).result()
    assert merged.result() == _fold(factory, items, one_by_one=True).result()


@pytest.mark.parametrize("name", FACTORIES)
@settings(max_examples=30)
@given(a=summary_lists, b=summary_lists, c=summary_lists)
def test_merge_laws(
    name: str, a: list[TicketSummary], b: list[TicketSummary], c: list[TicketSummary]
) -> None:
    factory = FACTORIES[name]
    x, y, z = (_fold(factory, items, False) for items in (a, b, c))
    before = [pickle.dumps(v) for v in (x, y, z)]
    left, right = x.merge(y).merge(z), x.merge(y.merge(z))
    xy, yx = x.merge(y), y.merge(x)
    with_empty, empty_with = x.merge(x.empty()), x.empty().merge(x)
    assert [pickle.dumps(v) for v in (x, y, z)] == before  # merging changed no input
    assert left.result() == right.result()
    assert xy.result() == yx.result()
    assert with_empty.result() == x.result() == empty_with.result()


def _local_period(at: datetime, zone: str, period: str) -> str:
    day = at.astimezone(ZoneInfo(zone)).date()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham")
# Instants near local midnights and DST switches are where a remembered period could slip.
near_switches = st.sampled_from(
    [
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward at 07:00 UTC
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # and falls back at 06:00 UTC
        datetime(2026, 3, 31, 16, 0, tzinfo=UTC),  # midnight in Shanghai, month end
        datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe's half-hour fall back
        datetime(2026, 12, 31, 10, 45, tzinfo=UTC),  # Chatham's new year (+13:45)
    ]
) | st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(
    zone=st.sampled_from(ZONES),
    period=st.sampled_from(("month", "week", "day")),
    instants=st.lists(
        st.tuples(near_switches, st.integers(-3 * 3600, 3 * 3600)), min_size=1, max_size=30
    ),
)
def test_volume_periods_match_the_zone_wall_clock(
    zone: str, period: str, instants: list[tuple[datetime, int]]
) -> None:
    volume = Volume(("period",), period=period, zone=zone)
    expected: dict[tuple[str, ...], int] = {}
    for base, shift in instants:
        at = base + timedelta(seconds=shift, microseconds=shift % 7)
        volume.add(
            TicketSummary(
                ticket_id="T-1",
                customer_id="C-1",
                channel="email",
                kind=TicketKind.REQUEST,
                priority=Priority.NORMAL,
                status=Status.OPEN,
                opened_at=at,
            )
        )
        cell = (_local_period(at, zone, period),)
        expected[cell] = expected.get(cell, 0) + 1
    assert dict(volume.result().cells) == expected


def _fcr_oracle(items: list[TicketSummary], window: timedelta, scope: str) -> tuple[int, int]:
    successes = n = 0
    for s in items:
        if s.first_resolved_at is None:
            continue
        n += 1
        end = s.first_resolved_at + window
        if s.first_reopened_at is not None and s.first_reopened_at <= end:
            continue
        if scope == "customer" and any(
            o is not s and o.customer_id == s.customer_id and s.opened_at <= o.opened_at <= end
            for o in items
        ):
            continue
        successes += 1
    return successes, n


@given(summary_lists, st.sampled_from(("customer", "ticket")), st.integers(0, 20))
def test_fcr_follows_its_definition(items: list[TicketSummary], scope: str, days: int) -> None:
    window = timedelta(days=days)
    found = _fold(lambda: FirstContactResolution(window, scope=scope), items, False).result()
    assert (found.successes, found.n) == _fcr_oracle(items, window, scope)
    assert found.pending == 0


@given(summary_lists)
def test_fcr_as_of_leaves_open_windows_pending(items: list[TicketSummary]) -> None:
    found = _fold(lambda: FirstContactResolution(as_of=AS_OF), items, False).result()
    decided = [
        s
        for s in items
        if s.first_resolved_at is None or s.first_resolved_at + timedelta(days=7) <= AS_OF
    ]
    assert (found.successes, found.n) == _fcr_oracle(decided, timedelta(days=7), "customer")
    assert found.pending == len(items) - len(decided)


@given(summary_lists)
def test_response_time_mean_is_exact_and_quantiles_within_the_bound(
    items: list[TicketSummary],
) -> None:
    result = _fold(lambda: ResponseTime("first_response", basis="calendar"), items, False).result()
    values = sorted(s.first_response_us for s in items if s.first_response_us is not None)
    assert result.n == len(values)
    if not values:
        assert result.mean_us is None and result.median_us is None
        return
    assert result.mean_us == Fraction(sum(values), len(values))
    for q, estimate in ((0.5, result.median_us), (0.9, result.p90_us)):
        exact = values[math.floor(q * (len(values) - 1))]
        assert estimate is not None
        assert abs(estimate - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-12)


@given(
    st.lists(st.integers(0, 10**13) | st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from((0.0, 0.25, 0.5, 0.9, 0.99, 1.0)),
)
def test_quantiles_equal_a_sketch_fed_each_value_and_keep_the_bound(
    values: list[float], q: float
) -> None:
    quantiles = Quantiles()
    quantiles.add_all(values)
    direct = DDSketch(RELATIVE_ACCURACY)
    for value in values:
        direct.add(value)
    assert quantiles.quantile(q) == direct.get_quantile_value(q)
    exact = sorted(values)[math.floor(q * (len(values) - 1))]
    estimate = quantiles.quantile(q)
    assert estimate is not None
    assert abs(estimate - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-12) + 1e-300


def test_quantiles_fold_large_batches_exactly() -> None:
    # More values than one buffered batch: the sorted-batch fold runs several times.
    values = [(i * 7_919) % 1_000_003 for i in range(150_000)]
    quantiles = Quantiles()
    for value in values[:1000]:
        quantiles.add(value)
    quantiles.add_all(values[1000:])
    direct = DDSketch(RELATIVE_ACCURACY)
    for value in values:
        direct.add(value)
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert quantiles.quantile(q) == direct.get_quantile_value(q)
    assert quantiles.count == len(values)


@given(summary_lists, st.datetimes(timezones=st.just(UTC)))
def test_backlog_counts_tickets_open_at_the_instant(
    items: list[TicketSummary], at: datetime
) -> None:
    def resolved_then(s: TicketSummary) -> bool:
        # Walk the moves in timeline order (solve, reopen, solve, ...): the last one by
        # ``at`` decides.
        moves = [m for pair in zip_longest(s.solved_at, s.reopened_at) for m in pair]
        done = [i for i, m in enumerate(moves) if m is not None and m <= at]
        return bool(done) and done[-1] % 2 == 0

    expected = sum(
        1
        for s in items
        if s.opened_at <= at
        and not resolved_then(s)
        and not (s.closed_at is not None and s.closed_at <= at)
    )
    assert _fold(lambda: Backlog(at), items, True).result() == expected


@given(summary_lists)
def test_rates_count_what_they_say(items: list[TicketSummary]) -> None:
    solved = [s for s in items if s.first_resolved_at is not None]
    reopen = _fold(ReopenRate, items, False).result()
    assert (reopen.successes, reopen.n) == (sum(1 for s in solved if s.reopens), len(solved))
    complaints = _fold(ComplaintRate, items, True).result()
    assert complaints == (sum(s.complaint for s in items), len(items))
    sla = _fold(lambda: SlaCompliance("first_response"), items, False).result()
    met = [m for s in items for metric, m in s.sla if metric is SlaMetric.FIRST_RESPONSE]
    assert (sla.successes, sla.n) == (sum(m is True for m in met), sum(m is not None for m in met))


answers = st.builds(
    SimpleNamespace,
    csat=st.none() | st.integers(1, 5),
    nps=st.none() | st.integers(0, 10),
    ces=st.none() | st.integers(1, 7),
)


@given(st.lists(answers, max_size=40), st.sampled_from(list(QuestionKind)[:3]), st.data())
def test_satisfaction_merges_to_the_one_pass_score(
    responses: list[SimpleNamespace], kind: QuestionKind, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(responses)))
    whole, left, right = Satisfaction(kind), Satisfaction(kind), Satisfaction(kind)
    whole.add_all(responses)
    left.add_all(responses[:cut])
    right.add_all(responses[cut:])
    assert left.merge(right).result() == whole.result() == right.merge(left).result()
    assert whole.result().n == sum(getattr(r, kind.value) is not None for r in responses)
    assert whole.merge(whole.empty()).result() == whole.result()


def test_bad_input_is_refused_and_nothing_is_added() -> None:
    mean = Mean()
    mean.add(5)
    with pytest.raises(ValidationError, match="integer"):
        mean.add(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="values\\[1\\]"):
        mean.add_all([1, -1])
    assert mean.result() == 5
    quantiles = Quantiles()
    for bad in (-1, math.nan, "3"):
        with pytest.raises(ValidationError):
            quantiles.add(bad)  # type: ignore[arg-type]
    assert quantiles.count == 0
    with pytest.raises(ValidationError, match="from 0 to 1"):
        quantiles.quantile(1.5)
    with pytest.raises(ValidationError, match="TicketSummary"):
        Volume().add("T-1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="same configuration"):
        Volume(period="day").merge(Volume(period="week"))
    with pytest.raises(ValidationError, match="same configuration"):
        ReopenRate().merge(ComplaintRate())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="'channel'"):
        Volume(("channel", "colour"))
    with pytest.raises(ValidationError, match="zone"):
        Volume(zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="calendar"):
        ResponseTime("handle", basis="business")
    with pytest.raises(ValidationError, match="scope"):
        FirstContactResolution(scope="agent")
    with pytest.raises(ValidationError, match="aware"):
        Backlog(datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="SLA metric"):
        SlaCompliance("speed")
