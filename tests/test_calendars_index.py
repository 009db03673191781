"""The lazily grown calendar index: answers must not depend on what was asked before.

The index is built one UTC month at a time into runs of months that grow, start
apart and join. Every answer of a calendar that has answered many earlier
queries, in any order and in years far apart, must equal the answer of a fresh
calendar (one that builds only what that query needs). The oracle tests in
test_calendars.py check the fresh answers themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain import NotFoundError, ValidationError
from csdomain.calendars import (
    DURATION_MAX,
    INSTANT_END,
    INSTANT_MIN,
    BusinessCalendar,
    CalendarUnion,
    ExtraWorkday,
    Holiday,
    _index,
)

UTC = timezone.utc
_names = itertools.count()


def _cn(name: str) -> BusinessCalendar:
    holidays = [Holiday(date(y, 10, d), "国庆节") for y in (2001, 2026, 2077) for d in (1, 2, 3)]
    extra = [ExtraWorkday(date(2026, 9, 27), "国庆节调休", ["09:00-12:00", "13:30-18:00"])]
    return BusinessCalendar.weekdays(
        name, "Asia/Shanghai", "09:00-12:00", "13:30-18:00", holidays=holidays, extra_workdays=extra
    )


def _night(name: str) -> BusinessCalendar:
    # open across local midnight every day, so intervals run across UTC month ends
    weekly = (("00:00-06:00", "22:00-24:00"),) * 7
    holidays = [Holiday(date(2026, 12, 25), "Christmas Day")]
    return BusinessCalendar(name=name, timezone="Europe/London", weekly=weekly, holidays=holidays)


def _ny(name: str) -> BusinessCalendar:
    return BusinessCalendar.weekdays(name, "America/New_York", "09:00-17:00")


def _union(name: str) -> CalendarUnion:
    return CalendarUnion(name, (_cn(f"{name}-cn"), _night(f"{name}-night"), _ny(f"{name}-ny")))


MAKERS: dict[str, Any] = {"cn": _cn, "night": _night, "ny": _ny, "union": _union}


def _fresh(kind: str) -> BusinessCalendar | CalendarUnion:
    """A calendar equal in hours to ``kind`` but with its own, empty index (a new name)."""
    return MAKERS[kind](f"{kind}-{next(_names)}")  # type: ignore[no-any-return]


# instants spread over a century, and clustered at month ends and year ends
_instants = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.builds(
        lambda y, m, minutes: datetime(y, m, 1) + timedelta(minutes=minutes),
        st.integers(2000, 2099),
        st.integers(1, 12),
        st.integers(-3 * 1440, 3 * 1440),
    ),
).map(lambda t: t.replace(tzinfo=UTC))
_spans = st.one_of(
    st.integers(0, 600).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 90 * 24).map(lambda h: timedelta(hours=h)),
)
_queries = st.tuples(
    st.sampled_from(["add", "elapsed", "next_open", "next_close", "is_open", "intervals"]),
    _instants,
    _spans,
)


def _ask(cal: BusinessCalendar | CalendarUnion, query: tuple[str, datetime, timedelta]) -> Any:
    op, t, d = query
    if op == "add":
        return cal.add(t, d)
    if op == "elapsed":
        return cal.elapsed(t, t + d)
    if op == "next_open":
        return cal.next_open(t)
    if op == "next_close":
        return cal.next_close(t)
    if op == "is_open":
        return cal.is_open(t)
    return list(cal.open_intervals(t, t + d))


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(MAKERS)), queries=st.lists(_queries, min_size=2, max_size=10))
def test_answers_match_a_fresh_calendar_whatever_was_asked_before(
    kind: str, queries: list[tuple[str, datetime, timedelta]]
) -> None:
    used = _fresh(kind)
    for query in queries:
        assert _ask(used, query) == _ask(_fresh(kind), query), query


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(sorted(MAKERS)),
    months=st.lists(st.integers(0, 47), min_size=1, max_size=12),
    start=_instants,
    span=_spans,
)
def test_a_long_query_across_runs_built_in_any_order(
    kind: str, months: list[int], start: datetime, span: timedelta
) -> None:
    """Months built as scattered runs first, then one query spanning and joining them."""
    used = _fresh(kind)
    for m in months:
        year, month = divmod(m, 12)
        used.is_open(datetime(2025 + year, month + 1, 15, tzinfo=UTC))
    a, b = datetime(2024, 12, 20, tzinfo=UTC), datetime(2029, 1, 10, tzinfo=UTC)
    assert used.elapsed(a, b) == _fresh(kind).elapsed(a, b)
    assert list(used.open_intervals(a, b)) == list(_fresh(kind).open_intervals(a, b))
    t = a + (start - datetime(2000, 1, 1, tzinfo=UTC)) % (b - a)
    assert used.add(t, span) == _fresh(kind).add(t, span)


def test_next_close_runs_across_a_month_end_built_later() -> None:
    cal = _night(f"night-{next(_names)}")
    london = ZoneInfo("Europe/London")
    cal.is_open(datetime(2026, 2, 10, tzinfo=UTC))  # February first, then January
    t = datetime(2026, 1, 31, 23, tzinfo=london)
    assert cal.next_close(t) == datetime(2026, 2, 1, 6, tzinfo=UTC)
    assert cal.elapsed(t, datetime(2026, 2, 1, 7, tzinfo=UTC)) == timedelta(hours=7)
    assert cal.add(t, timedelta(hours=7)) == datetime(2026, 2, 1, 6, tzinfo=UTC)  # closing time
    assert cal.add(t, timedelta(hours=8)) == datetime(2026, 2, 1, 23, tzinfo=UTC)


def test_a_query_far_from_every_earlier_one_builds_only_its_own_months() -> None:
    """Answers in 2099 after 2000 (a century apart) need no work on the years between.

    Checked through its effect: both answers are right, and a span across the
    century then equals the sum of its parts.
    """
    cal = _cn(f"cn-{next(_names)}")
    shanghai = ZoneInfo("Asia/Shanghai")
    assert cal.add(datetime(2000, 3, 1, 9, tzinfo=shanghai), timedelta(hours=4)) == datetime(
        2000, 3, 1, 14, 30, tzinfo=shanghai
    )
    assert cal.next_open(datetime(2099, 3, 1, 12, 30, tzinfo=shanghai)) == datetime(
        2099, 3, 2, 9, tzinfo=shanghai
    )  # a Sunday
    a, m, b = (datetime(y, 6, 1, tzinfo=UTC) for y in (2000, 2050, 2099))
    assert cal.elapsed(a, b) == cal.elapsed(a, m) + cal.elapsed(m, b)


# -- the far path and the bounds on what an index keeps ----------------------------------


@contextmanager
def _index_bounds(run: int, kept: int) -> Iterator[None]:
    """Runs of at most ``run`` months and at most ``kept`` months kept, while inside."""
    saved = _index.MAX_RUN_MONTHS, _index.MAX_KEPT_MONTHS
    _index.MAX_RUN_MONTHS, _index.MAX_KEPT_MONTHS = run, kept
    try:
        yield
    finally:
        _index.MAX_RUN_MONTHS, _index.MAX_KEPT_MONTHS = saved


def _sparse(name: str) -> BusinessCalendar:
    # closed but for three days years apart: next_open crosses long closed stretches
    extra = [
        ExtraWorkday(date(2025, 2, 3), "调休", ["09:00-18:00"]),
        ExtraWorkday(date(2027, 7, 31), "调休", ["00:00-24:00"]),
        ExtraWorkday(date(2029, 11, 30), "调休", ["13:00-14:00"]),
    ]
    return BusinessCalendar(
        name=name, timezone="Asia/Shanghai", weekly=((),) * 7, extra_workdays=extra
    )


def _mostly_open(name: str) -> BusinessCalendar:
    # open around the clock but on a few days: next_close crosses long open stretches
    holidays = [Holiday(date(2025, 3, 1), "a"), Holiday(date(2028, 3, 1), "b", ["10:00-11:00"])]
    weekly = (("00:00-24:00",),) * 7
    return BusinessCalendar(
        name=name, timezone="America/New_York", weekly=weekly, holidays=holidays
    )


FAR_MAKERS: dict[str, Any] = {**MAKERS, "sparse": _sparse, "mostly_open": _mostly_open}

_far_instants = st.builds(
    lambda days, minutes: datetime(2024, 12, 1, tzinfo=UTC) + timedelta(days=days, minutes=minutes),
    st.integers(0, 6 * 365),
    st.integers(0, 1440),
)
_far_spans = st.one_of(
    st.integers(0, 600).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 5 * 365 * 24).map(lambda h: timedelta(hours=h)),
)
_far_queries = st.tuples(
    st.sampled_from(["add", "elapsed", "next_open", "next_close", "is_open", "intervals"]),
    _far_instants,
    _far_spans,
)


def _outcome(cal: BusinessCalendar | CalendarUnion, query: tuple[str, datetime, timedelta]) -> Any:
    try:
        return _ask(cal, query)
    except (ValidationError, NotFoundError) as error:
        return type(error), str(error)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(sorted(FAR_MAKERS)),
    run=st.integers(1, 3),
    kept=st.integers(1, 8),
    queries=st.lists(_far_queries, min_size=1, max_size=8),
)
def test_far_apart_answers_agree_with_the_answers_of_one_run(
    kind: str, run: int, kept: int, queries: list[tuple[str, datetime, timedelta]]
) -> None:
    """The law of the far path: answers summed month by month (and from an index that
    keeps few months) equal the answers of one run spanning the whole query."""
    with _index_bounds(10_000, 10_000):  # every query answered from one run
        expected = [_outcome(FAR_MAKERS[kind](f"{kind}-{next(_names)}"), q) for q in queries]
    bounded = FAR_MAKERS[kind](f"{kind}-{next(_names)}")
    with _index_bounds(run, kept):
        assert [_outcome(bounded, q) for q in queries] == expected
        index = bounded._idx()
        assert len(index._months) <= kept


_PLANNED: dict[str, Any] = {
    "cn": _cn,
    "partial": lambda name: BusinessCalendar.weekdays(
        name,
        "Europe/London",
        "08:00-12:00",
        "13:00-17:00",
        holidays=[Holiday(date(y, 12, 24), "Christmas Eve", ["12:00-17:00"]) for y in (1900, 2199)],
    ),
    "night": _night,
    "ny": _ny,
    "sparse": _sparse,
    "lord_howe": lambda name: BusinessCalendar.weekdays(
        name, "Australia/Lord_Howe", "01:00-03:00", "09:00-17:30"
    ),
    "casablanca": lambda name: BusinessCalendar.weekdays(
        name, "Africa/Casablanca", "00:00-02:30", "22:00-24:00", days=range(7)
    ),
}


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(sorted(_PLANNED)),
    month=st.one_of(
        st.integers(1900 * 12, 2199 * 12 + 11),
        st.sampled_from([1900 * 12, 2199 * 12 + 11, 2026 * 12 + 9, 1986 * 12 + 4, 1900 * 12 + 11]),
    ),
)
def test_a_months_total_is_the_sum_of_its_intervals(kind: str, month: int) -> None:
    """The far path's arithmetic for quiet months agrees with the month's intervals."""
    plan = _PLANNED[kind](f"{kind}-{next(_names)}")._plan()
    chunk = _index.open_month(plan, month)
    assert _index.month_total(plan, month) == sum(end - start for start, end in chunk)


def test_a_ticket_of_1900_evaluated_in_2199_keeps_the_index_small() -> None:
    """Open time across the whole span, exact, with only the months at its ends kept."""
    cal = _ny(f"ny-{next(_names)}")
    new_york = ZoneInfo("America/New_York")
    a = datetime(1900, 1, 1, tzinfo=new_york)  # a Monday
    b = datetime(2199, 12, 30, tzinfo=new_york)  # a Monday
    weeks = (b.date() - a.date()).days // 7
    assert cal.elapsed(a, b) == weeks * timedelta(hours=40)  # no holidays; DST moves at 02:00
    index = cal._idx()
    assert len(index._months) <= 2 and not index._runs
    m = datetime(2050, 6, 1, tzinfo=UTC)
    assert cal.elapsed(a, b) == cal.elapsed(a, m) + cal.elapsed(m, b)
    due = cal.add(a, timedelta(hours=40) * (weeks - 1))
    assert due == datetime(2199, 12, 20, 17, tzinfo=new_york)  # the Friday before b's week
    assert len(index._months) <= _index.MAX_KEPT_MONTHS


# -- the accepted span ------------------------------------------------------------------

_FIRST = INSTANT_MIN
_LAST = INSTANT_END - timedelta(microseconds=1)
_PLUS5 = timezone(timedelta(hours=5))
_2026 = datetime(2026, 1, 1, tzinfo=UTC)
_TOO_LONG = DURATION_MAX + timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c: c.is_open(INSTANT_MIN - timedelta(microseconds=1)), "t"),
        (lambda c: c.is_open(datetime(1, 6, 1, tzinfo=UTC)), "t"),
        (lambda c: c.next_open(INSTANT_END), "t"),
        (lambda c: c.next_open(datetime.max.replace(tzinfo=UTC)), "t"),
        (lambda c: c.next_close(datetime(1, 1, 1, tzinfo=_PLUS5)), "t"),
        (
            lambda c: c.elapsed(datetime(1899, 6, 1, tzinfo=UTC), _2026),
            "a",
        ),
        (lambda c: c.elapsed(datetime(2026, 1, 1, tzinfo=UTC), INSTANT_END), "b"),
        (
            lambda c: c.elapsed(datetime(2300, 1, 1, tzinfo=UTC), _2026),
            "a",
        ),
        (
            lambda c: list(
                c.open_intervals(datetime(9999, 6, 1, tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
            ),
            "a",
        ),
        (lambda c: list(c.open_intervals(datetime(2026, 1, 1, tzinfo=UTC), INSTANT_END)), "b"),
        (lambda c: c.add(datetime(1, 6, 1, tzinfo=UTC), timedelta(hours=1)), "t"),
        (lambda c: c.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(days=999_999_999)), "d"),
        (
            lambda c: c.add(
                datetime(2026, 1, 1, tzinfo=UTC), DURATION_MAX + timedelta(microseconds=1)
            ),
            "d",
        ),
        (
            lambda c: c.add(datetime(2026, 1, 1, tzinfo=UTC), DURATION_MAX),
            "d",
        ),  # 420 years of 40 h weeks
        (lambda c: c.add(_LAST - timedelta(days=1), timedelta(hours=20)), "d"),
    ],
)
def test_instants_and_spans_outside_the_span_name_the_argument(call: Any, path: str) -> None:
    cal = _ny(f"ny-{next(_names)}")
    with pytest.raises(ValidationError) as raised:
        call(cal)
    assert raised.value.paths == (path,)
    assert "OverflowError" not in str(raised.value)


def test_the_span_reaches_its_ends() -> None:
    cal = _ny(f"ny-{next(_names)}")
    new_york = ZoneInfo("America/New_York")
    assert date(1900, 1, 1).weekday() == 0  # a Monday: opens 09:00 EST
    assert cal.next_open(_FIRST) == datetime(1900, 1, 1, 9, tzinfo=new_york)
    assert cal.add(_FIRST, timedelta(0)) == _FIRST
    assert cal.add(_FIRST, timedelta(hours=9)) == datetime(1900, 1, 2, 10, tzinfo=new_york)
    assert cal.elapsed(_FIRST, datetime(1900, 1, 2, tzinfo=new_york)) == timedelta(hours=8)
    assert cal.next_close(_LAST - timedelta(days=3)) is not None
    # 2199-12-31 is a Tuesday: its 8 hours are the last the span holds
    last_day = datetime(2199, 12, 31, 9, tzinfo=new_york)
    assert cal.add(last_day, timedelta(hours=8)) == datetime(2199, 12, 31, 17, tzinfo=new_york)
    assert cal.elapsed(last_day, _LAST) == timedelta(hours=8)


def test_open_up_to_the_end_of_the_span() -> None:
    """Open at the last instant of the span, and no add lands past it."""
    night = _night(f"night-{next(_names)}")  # open 22:00-06:00 London, GMT in winter
    hour_before = _LAST - timedelta(hours=1)
    assert night.is_open(_LAST)
    assert night.next_close(hour_before) is None  # it closes past the span
    assert night.elapsed(hour_before, _LAST) == timedelta(hours=1)
    assert night.add(hour_before, timedelta(hours=1)) == _LAST
    with pytest.raises(ValidationError) as raised:  # the due instant would be INSTANT_END
        night.add(hour_before, timedelta(hours=1, microseconds=1))
    assert raised.value.paths == ("d",)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York"])
def test_always_open_in_a_zone(zone: str) -> None:
    from csdomain.calendars import always_open

    cal = always_open(zone)
    assert cal.timezone == zone and cal.is_always_open
    assert cal == BusinessCalendar.always_open(timezone=zone)
    t = datetime(2026, 3, 8, 6, 30, tzinfo=ZoneInfo(zone))
    assert cal.add(t, timedelta(days=1)) == t + timedelta(days=1)
    assert cal.elapsed(t, t + timedelta(days=400)) == timedelta(days=400)
    assert cal.next_close(t) is None
    assert always_open() == BusinessCalendar.always_open()


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c: c.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(days=999_999_999)), "d"),
        (
            lambda c: c.add(
                datetime(2026, 1, 1, tzinfo=UTC), DURATION_MAX + timedelta(microseconds=1)
            ),
            "d",
        ),
        (lambda c: c.add(_LAST, timedelta(microseconds=1)), "d"),
        (lambda c: c.add(datetime.max.replace(tzinfo=UTC), timedelta(microseconds=1)), "t"),
        (lambda c: c.add(datetime(1, 1, 1, tzinfo=_PLUS5), timedelta()), "t"),
        (lambda c: c.is_open(INSTANT_END), "t"),
        (lambda c: c.next_open(datetime(1, 1, 1, tzinfo=_PLUS5)), "t"),
        (lambda c: c.next_close(INSTANT_MIN - timedelta(microseconds=1)), "t"),
        (lambda c: c.elapsed(INSTANT_MIN - timedelta(microseconds=1), _LAST), "a"),
        (lambda c: c.elapsed(_LAST, INSTANT_END), "b"),
        (
            lambda c: list(
                c.open_intervals(
                    datetime(2026, 1, 1, tzinfo=UTC),
                    datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))),
                )
            ),
            "b",
        ),
    ],
)
def test_always_open_outside_the_span_names_the_argument(call: Any, path: str) -> None:
    from csdomain.calendars import always_open

    with pytest.raises(ValidationError) as raised:
        call(always_open("Asia/Shanghai"))
    assert raised.value.paths == (path,)
    assert "OverflowError" not in str(raised.value)


def test_always_open_accepts_every_instant_of_the_span() -> None:
    from csdomain.calendars import always_open

    cal = always_open()
    assert cal.elapsed(_FIRST, _LAST) == _LAST - _FIRST
    assert cal.add(_FIRST, DURATION_MAX) == _FIRST + DURATION_MAX
    assert cal.add(_LAST - DURATION_MAX, DURATION_MAX) == _LAST
    assert cal.next_open(_LAST) == _LAST
    assert list(cal.open_intervals(_FIRST, _LAST)) == [(_FIRST, _LAST)]


# -- required fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "missing"),
    [
        (lambda: Holiday(date(2026, 10, 1)), {"name"}),  # type: ignore[call-arg]
        (lambda: Holiday(), {"date", "name"}),  # type: ignore[call-arg]
        (lambda: Holiday(name="国庆节"), {"date"}),  # type: ignore[call-arg]
        (lambda: ExtraWorkday(date(2026, 9, 27), hours=["09:00-18:00"]), {"name"}),  # type: ignore[call-arg]
        (lambda: ExtraWorkday(date(2026, 9, 27), "调休"), {"hours"}),  # type: ignore[call-arg]
        (lambda: ExtraWorkday(), {"date", "name", "hours"}),  # type: ignore[call-arg]
    ],
)
def test_omitted_holiday_and_extra_workday_fields_are_validation_errors(
    build: Any, missing: set[str]
) -> None:
    with pytest.raises(ValidationError) as raised:
        build()
    assert set(raised.value.paths) == missing
    assert all(p.message.startswith("missing; ") for p in raised.value.problems)


def test_holiday_and_extra_workday_keep_their_positional_form() -> None:
    holiday = Holiday(date(2026, 10, 1), "国庆节", ["09:00-12:00"])
    assert (holiday.date, holiday.name, str(holiday.closed[0])) == (
        date(2026, 10, 1),
        "国庆节",
        "09:00-12:00",
    )
    extra = ExtraWorkday(date(2026, 9, 27), "调休", ("09:00-12:00", "13:30-18:00"))
    assert [str(r) for r in extra.hours] == ["09:00-12:00", "13:30-18:00"]
