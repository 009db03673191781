"""Strategies: calendars."""

from __future__ import annotations

from datetime import date

import hypothesis.strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.calendars import (
    BusinessCalendar,
    CalendarUnion,
    ExtraWorkday,
    Holiday,
    TimeRange,
)
from csdomain.testing.strategies._common import (
    _check_size,
    _memo,
    texts,
)
from csdomain.testing.strategies.registry import register

# -- calendars ---------------------------------------------------------------------------

_CALENDAR_ZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "UTC",
)


@_memo
def time_ranges(*, step: int = 60) -> SearchStrategy[TimeRange]:
    """:class:`~csdomain.TimeRange` values on multiples of ``step`` seconds (default: whole
    minutes), ``24:00`` included as an end.

    Requires Hypothesis.
    """
    _check_size("step", step, 1, 86_400)
    slots = 86_400 // step
    return (
        st.tuples(st.integers(0, slots - 1), st.integers(1, slots))
        .filter(lambda p: p[0] < p[1])
        .map(lambda p: TimeRange(start=p[0] * step, end=p[1] * step))
    )


register(TimeRange, time_ranges)


def _day_ranges(max_ranges: int = 3) -> SearchStrategy[tuple[TimeRange, ...]]:
    """Sorted, non-overlapping ranges of one day, built from distinct minute cut points."""
    cuts = st.lists(st.integers(0, 1_440), min_size=0, max_size=2 * max_ranges, unique=True)
    return cuts.map(sorted).map(
        lambda points: tuple(
            TimeRange(start=points[i] * 60, end=points[i + 1] * 60)
            for i in range(0, len(points) - 1, 2)
        )
    )


_CAL_DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@_memo
def holidays() -> SearchStrategy[Holiday]:
    """:class:`~csdomain.Holiday` values: whole days or partial closures, 2024-2027.

    Requires Hypothesis.
    """
    return st.builds(Holiday, date=_CAL_DATES, name=texts(max_size=30), closed=_day_ranges(2))


register(Holiday, holidays)


@_memo
def extra_workdays() -> SearchStrategy[ExtraWorkday]:
    """:class:`~csdomain.ExtraWorkday` values (make-up working days), 2024-2027.

    Requires Hypothesis.
    """
    hours = _day_ranges(3).filter(bool)
    return st.builds(ExtraWorkday, date=_CAL_DATES, name=texts(max_size=30), hours=hours)


register(ExtraWorkday, extra_workdays)


@_memo
def business_calendars(
    *, max_holidays: int = 4, max_extra_workdays: int = 2
) -> SearchStrategy[BusinessCalendar]:
    """:class:`~csdomain.BusinessCalendar` values in zones with and without DST (Lord Howe's
    30-minute shift included), split shifts, holidays and extra working days; sometimes 24/7.

    Requires Hypothesis.
    """
    _check_size("max_holidays", max_holidays)
    _check_size("max_extra_workdays", max_extra_workdays)
    return st.one_of(
        st.sampled_from(_CALENDAR_ZONES).map(_always_open),
        _business_calendars(max_holidays, max_extra_workdays),
    )


def _always_open(zone_name: str) -> BusinessCalendar:
    return BusinessCalendar.always_open(timezone=zone_name)


register(BusinessCalendar, business_calendars)


@st.composite
def _business_calendars(draw: DrawFn, max_holidays: int, max_extra: int) -> BusinessCalendar:
    weekly = draw(st.lists(_day_ranges(3), min_size=7, max_size=7).filter(any))
    holiday_list = draw(st.lists(holidays(), max_size=max_holidays, unique_by=_date_of))
    taken = {h.date for h in holiday_list}
    extras = draw(
        st.lists(
            extra_workdays().filter(lambda e: e.date not in taken),
            max_size=max_extra,
            unique_by=_date_of,
        )
    )
    return BusinessCalendar(
        name=draw(texts(max_size=20)),
        timezone=draw(st.sampled_from(_CALENDAR_ZONES)),
        weekly=tuple(weekly),
        holidays=tuple(holiday_list),
        extra_workdays=tuple(extras),
    )


def _date_of(item: Holiday | ExtraWorkday) -> date:
    return item.date


@_memo
def calendar_unions(*, max_members: int = 3) -> SearchStrategy[CalendarUnion]:
    """:class:`~csdomain.CalendarUnion` values of 1 to ``max_members`` calendars.

    Requires Hypothesis.
    """
    _check_size("max_members", max_members, 1)
    members = st.lists(business_calendars(max_holidays=2), min_size=1, max_size=max_members)
    return st.builds(CalendarUnion, name=texts(max_size=20), members=members.map(tuple))


register(CalendarUnion, calendar_unions)
