"""Business calendars, checked against a brute-force oracle.

The oracle walks UTC time one minute at a time and asks zoneinfo for the local
wall clock of every minute. Every random calendar boundary is a whole local
minute and every UTC offset involved is a whole number of minutes (Lord Howe's
30-minute DST shift included), so a calendar is either open or closed for the
whole of each UTC minute ``[u, u + 1 min)``. Classifying minutes is therefore
exact, and the oracle can answer for instants with microseconds too: an instant
inside a minute just takes part of that minute.

Then ``add``, ``elapsed``, ``is_open``, ``next_open``, ``next_close`` and
``open_intervals`` are compared with the oracle by Hypothesis on random
calendars (split shifts, 24:00 ends, holidays, partial holidays, extra working
days, unions, the always-open calendar) in zones with awkward DST rules, with
instants concentrated around DST changes and range boundaries. The calendar laws
are tested as properties with microsecond instants, and worked examples pin the
semantics a reader checks by hand.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from csdomain import ValidationError
from csdomain.calendars import (
    INSTANT_END,
    BusinessCalendar,
    CalendarUnion,
    ExtraWorkday,
    Holiday,
    TimeRange,
)

UTC = timezone.utc
MINUTE = timedelta(minutes=1)
MICRO = timedelta(microseconds=1)
DAY = 86_400

# More examples under CSDOMAIN_LONG=1 (the soak profile of conftest.py).
_SCALE = 20 if os.environ.get("CSDOMAIN_LONG") else 1


def _examples(n: int) -> settings:
    return settings(max_examples=n * _SCALE, deadline=None)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


def _local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc, arg-type]


# --------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------

Ranges = tuple[tuple[int, int], ...]  # (start, end) seconds since local midnight, end <= 86400


def _inside(ranges: Ranges, sec: int) -> bool:
    return any(start <= sec < end for start, end in ranges)


def _covers_day(ranges: Ranges) -> bool:
    return all(_inside(ranges, minute * 60) for minute in range(1440))


def _every_day(*ranges: tuple[int, int]) -> tuple[Ranges, ...]:
    return (tuple(ranges),) * 7


@dataclass(frozen=True)
class CalSpec:
    """A calendar as plain data: what the oracle reads and what the tests build from."""

    zone: str
    weekly: tuple[Ranges, ...]
    holidays: tuple[tuple[date, Ranges], ...] = ()  # () ranges: the whole day is closed
    extras: tuple[tuple[date, Ranges], ...] = ()
    always: bool = False  # BusinessCalendar.always_open()
    _holiday_map: dict[date, Ranges] = field(init=False, repr=False, compare=False)
    _extra_map: dict[date, Ranges] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        assert len(self.weekly) == 7
        for ranges in (*self.weekly, *(r for _, r in self.holidays), *(r for _, r in self.extras)):
            assert all(0 <= start < end <= DAY for start, end in ranges), ranges
        object.__setattr__(self, "_holiday_map", dict(self.holidays))
        object.__setattr__(self, "_extra_map", dict(self.extras))

    @classmethod
    def always_open(cls) -> CalSpec:
        return cls("UTC", _every_day((0, DAY)), always=True)

    def open_local(self, day: date, sec: int) -> bool:
        """Is the wall clock ``sec`` seconds after midnight of local ``day`` open?"""
        if self.always:
            return True
        hours = self._extra_map.get(day)
        if hours is not None:
            return _inside(hours, sec)
        weekly_open = _inside(self.weekly[day.weekday()], sec)
        closed = self._holiday_map.get(day)
        if closed is None:
            return weekly_open
        return bool(closed) and weekly_open and not _inside(closed, sec)

    def structurally_always_open(self) -> bool:
        return self.always or (
            all(_covers_day(day) for day in self.weekly)
            and not self.holidays
            and all(_covers_day(hours) for _, hours in self.extras)
        )

    def boundaries(self, day: date) -> set[int]:
        """Every range end point that matters on local ``day``."""
        points = {0, DAY}
        if self.always:
            return points
        groups = [
            self.weekly[day.weekday()],
            self._holiday_map.get(day, ()),
            self._extra_map.get(day, ()),
        ]
        for ranges in groups:
            for start, end in ranges:
                points.update((start, end))
        return points

    def build(self) -> BusinessCalendar:
        if self.always:
            return BusinessCalendar.always_open()

        def tr(ranges: Ranges) -> tuple[TimeRange, ...]:
            return tuple(TimeRange(start, end) for start, end in ranges)

        return BusinessCalendar(
            name="random",
            timezone=self.zone,
            weekly=tuple(tr(day) for day in self.weekly),
            holidays=tuple(Holiday(d, f"holiday {d}", tr(c)) for d, c in self.holidays),
            extra_workdays=tuple(ExtraWorkday(d, f"make-up {d}", tr(h)) for d, h in self.extras),
        )


class Oracle:
    """Brute force: classify each UTC minute by its local wall clock, then walk."""

    def __init__(self, specs: tuple[CalSpec, ...]) -> None:
        self._members = [(ZoneInfo(spec.zone), spec) for spec in specs]
        self._memo: dict[datetime, bool] = {}

    def minute_open(self, minute: datetime) -> bool:
        """Open during ``[minute, minute + 1 min)``; ``minute`` is a whole UTC minute."""
        result = self._memo.get(minute)
        if result is None:
            result = False
            for tz, spec in self._members:
                wall = minute.astimezone(tz)
                sec = wall.hour * 3600 + wall.minute * 60 + wall.second
                if spec.open_local(wall.date(), sec):
                    result = True
                    break
            self._memo[minute] = result
        return result

    def pieces(self, a: datetime, b: datetime) -> Iterator[tuple[datetime, datetime, bool]]:
        """``[a, b)`` cut at whole UTC minutes, each piece with its open-ness."""
        a = a.astimezone(UTC)
        b = b.astimezone(UTC)
        minute = a.replace(second=0, microsecond=0)
        while minute < b and a < b:
            nxt = minute + MINUTE
            yield max(minute, a), min(nxt, b), self.minute_open(minute)
            minute = nxt

    def is_open(self, t: datetime) -> bool:
        return self.minute_open(t.astimezone(UTC).replace(second=0, microsecond=0))

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        total = timedelta()
        for start, end, is_open in self.pieces(a, b):
            if is_open:
                total += end - start
        return total

    def add(self, t: datetime, d: timedelta, limit: timedelta) -> datetime | None:
        """Walk forward until ``d`` of open time has accumulated; ``None`` past ``t + limit``."""
        if d == timedelta():
            return t
        remaining = d
        for start, end, is_open in self.pieces(t, t + limit):
            if is_open:
                if remaining <= end - start:
                    return start + remaining
                remaining -= end - start
        return None

    def next_open(self, t: datetime, limit: timedelta) -> datetime | None:
        for start, _, is_open in self.pieces(t, t + limit):
            if is_open:
                return start
        return None

    def next_close(self, t: datetime, limit: timedelta) -> datetime | None:
        seen_open = False
        for start, _, is_open in self.pieces(t, t + limit):
            if is_open:
                seen_open = True
            elif seen_open:
                return start
        return None

    def intervals(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        out: list[tuple[datetime, datetime]] = []
        for start, end, is_open in self.pieces(a, b):
            if not is_open:
                continue
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out


def _oracle_for(*specs: CalSpec) -> Oracle:
    return Oracle(tuple(specs))


# --------------------------------------------------------------------------------------
# Zones, DST transitions and anchors
# --------------------------------------------------------------------------------------

ZONES = (
    "America/New_York",
    "Europe/London",
    "Asia/Shanghai",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # changes at local midnight
)
ALWAYS = "24x7"

# The first UTC instant of each new offset, 2025-2026 (checked against zoneinfo below).
TRANSITIONS = {
    "America/New_York": (
        _utc(2025, 3, 9, 7),
        _utc(2025, 11, 2, 6),
        _utc(2026, 3, 8, 7),
        _utc(2026, 11, 1, 6),
    ),
    "Europe/London": (
        _utc(2025, 3, 30, 1),
        _utc(2025, 10, 26, 1),
        _utc(2026, 3, 29, 1),
        _utc(2026, 10, 25, 1),
    ),
    "Asia/Shanghai": (),
    "Australia/Lord_Howe": (
        _utc(2025, 4, 5, 15),
        _utc(2025, 10, 4, 15, 30),
        _utc(2026, 4, 4, 15),
        _utc(2026, 10, 3, 15, 30),
    ),
    "America/Santiago": (
        _utc(2025, 4, 6, 3),
        _utc(2025, 9, 7, 4),
        _utc(2026, 4, 5, 3),
        _utc(2026, 9, 6, 4),
    ),
    ALWAYS: (),
}
# Where random instants gather: the DST changes, or for zones without any, a few
# interesting days (Spring Festival 2026 and its make-up Saturday, year end).
# The UTC New Year is there too: the implementation may index time by UTC year.
NEW_YEAR = _utc(2026, 1, 1)
ANCHORS: dict[str, tuple[datetime, ...]] = {
    **{zone: (*changes, NEW_YEAR) for zone, changes in TRANSITIONS.items()},
    "Asia/Shanghai": (_utc(2026, 2, 13, 16), _utc(2026, 9, 30, 16), _utc(2025, 12, 31, 16)),
    ALWAYS: (_utc(2026, 3, 8, 7), NEW_YEAR),
}

# --------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------

# Minutes of the day worth hitting: midnight, 24:00, DST change times (00:00/01:00/02:00/
# 02:30/03:00 local), office hours and lunch breaks.
_INTERESTING_MINUTES = (0, 30, 60, 90, 120, 150, 180, 540, 720, 810, 1020, 1050, 1080, 1380, 1440)
_minute_points = st.one_of(st.sampled_from(_INTERESTING_MINUTES), st.integers(0, 1440))


@st.composite
def day_ranges(draw: st.DrawFn, min_size: int = 0, max_size: int = 3) -> Ranges:
    """Sorted, non-overlapping whole-minute ranges; sometimes touching, sometimes 00:00-24:00."""
    if min_size <= 1 <= max_size and draw(st.integers(0, 7)) == 0:
        return ((0, DAY),)
    k = draw(st.integers(min_size, max_size))
    if k == 0:
        return ()
    points = sorted(draw(st.lists(_minute_points, min_size=2 * k, max_size=2 * k, unique=True)))
    ranges = [[points[2 * i], points[2 * i + 1]] for i in range(k)]
    for i in range(1, k):
        if draw(st.integers(0, 3)) == 0:  # a range that starts where the previous one ends
            ranges[i][0] = ranges[i - 1][1]
    return tuple((start * 60, end * 60) for start, end in ranges)


@st.composite
def calendar_specs(draw: st.DrawFn, zone: str, anchor: datetime) -> CalSpec:
    if zone == ALWAYS:
        return CalSpec.always_open()
    pattern = draw(st.sampled_from(("per-day", "weekdays", "every-day")))
    if pattern == "per-day":
        weekly = [draw(day_ranges()) for _ in range(7)]
        if not any(weekly):
            weekly[draw(st.integers(0, 6))] = draw(day_ranges(min_size=1))
    else:
        hours = draw(day_ranges(min_size=1))
        days = 5 if pattern == "weekdays" else 7
        weekly = [hours] * days + [()] * (7 - days)
    local_day = anchor.astimezone(ZoneInfo(zone)).date()
    near = [local_day + timedelta(days=i) for i in range(-3, 4)]
    holiday_dates = draw(st.lists(st.sampled_from(near), unique=True, max_size=3))
    holidays = tuple((d, draw(day_ranges(0, 2))) for d in holiday_dates)
    free = [d for d in near if d not in holiday_dates]
    extra_dates = draw(st.lists(st.sampled_from(free), unique=True, max_size=2))
    extras = tuple((d, draw(day_ranges(1, 3))) for d in extra_dates)
    return CalSpec(zone, tuple(weekly), holidays, extras)


@dataclass(frozen=True)
class Scenario:
    specs: tuple[CalSpec, ...]
    union: bool
    anchor: datetime

    def build(self) -> BusinessCalendar | CalendarUnion:
        if self.union:
            return CalendarUnion("union", tuple(spec.build() for spec in self.specs))
        return self.specs[0].build()

    def oracle(self) -> Oracle:
        return Oracle(self.specs)

    def always_open(self) -> bool:
        return any(spec.structurally_always_open() for spec in self.specs)


@st.composite
def scenarios(draw: st.DrawFn, union: bool = False) -> Scenario:
    if union:
        zones = draw(st.lists(st.sampled_from(ZONES), min_size=2, max_size=3))
        if draw(st.integers(0, 9)) == 0:
            zones.append(ALWAYS)
    else:
        zones = [draw(st.sampled_from((*ZONES, ALWAYS)))]
    anchor = draw(st.sampled_from([a for zone in zones for a in ANCHORS[zone]]))
    specs = tuple(draw(calendar_specs(zone, anchor)) for zone in zones)
    return Scenario(specs, union, anchor)


any_scenarios = st.one_of(scenarios(), scenarios(), scenarios(union=True))


@st.composite
def instants(draw: st.DrawFn, scn: Scenario, precise: bool = False) -> datetime:
    """Whole UTC minutes near the anchor's DST change or near a range boundary.

    ``precise`` adds microseconds (sometimes none).
    """
    if draw(st.integers(0, 2)) == 0:
        t = scn.anchor + draw(st.integers(-2 * 1440, 2 * 1440)) * MINUTE
    else:
        spec = draw(st.sampled_from(scn.specs))
        tz = ZoneInfo(spec.zone)
        day = scn.anchor.astimezone(tz).date() + timedelta(days=draw(st.integers(-2, 2)))
        sec = draw(st.sampled_from(sorted(spec.boundaries(day))))
        wall = datetime.combine(day, time()) + timedelta(seconds=sec)
        t = wall.replace(tzinfo=tz, fold=draw(st.integers(0, 1))).astimezone(UTC)
        t += draw(st.integers(-3, 3)) * MINUTE
    t = t.astimezone(UTC)
    assert t.second == 0 and t.microsecond == 0
    if precise:
        t += timedelta(microseconds=draw(st.one_of(st.just(0), st.integers(0, 60_000_000 - 1))))
    return t


def durations(precise: bool = False, long: bool = False) -> st.SearchStrategy[timedelta]:
    """Whole minutes (or with microseconds); ``long`` adds up to 60 days of open time."""
    minutes = st.one_of(st.integers(0, 600), st.integers(0, 3 * 1440))
    if long:
        minutes = st.one_of(minutes, st.integers(0, 60 * 1440))
    if not precise:
        return minutes.map(lambda m: m * MINUTE)
    micros = st.one_of(st.just(0), st.integers(0, 60_000_000 - 1), st.integers(1, 10))
    return st.builds(lambda m, us: m * MINUTE + timedelta(microseconds=us), minutes, micros)


def _in_some_zone(data: st.DataObject, t: datetime) -> datetime:
    """The same instant written in another zone (fold set by astimezone)."""
    return t.astimezone(ZoneInfo(data.draw(st.sampled_from(ZONES))))


LIMIT = timedelta(days=21)  # how far the oracle walks before giving up

# --------------------------------------------------------------------------------------
# The oracle's own sanity
# --------------------------------------------------------------------------------------


def test_oracle_transitions_are_real_offset_changes() -> None:
    for zone, changes in TRANSITIONS.items():
        if zone == ALWAYS:
            continue
        tz = ZoneInfo(zone)
        for at in changes:
            assert (at - MINUTE).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset()
        assert len(changes) == (0 if zone == "Asia/Shanghai" else 4)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", date(2026, 3, 8), timedelta(hours=23)),
        ("America/New_York", date(2026, 11, 1), timedelta(hours=25)),
        ("America/New_York", date(2026, 3, 9), timedelta(hours=24)),
        ("Europe/London", date(2026, 3, 29), timedelta(hours=23)),
        ("Europe/London", date(2026, 10, 25), timedelta(hours=25)),
        ("Australia/Lord_Howe", date(2026, 4, 5), timedelta(hours=24, minutes=30)),
        ("Australia/Lord_Howe", date(2026, 10, 4), timedelta(hours=23, minutes=30)),
        ("America/Santiago", date(2026, 4, 4), timedelta(hours=25)),  # Saturday 24:00 -> 23:00
        ("America/Santiago", date(2026, 9, 6), timedelta(hours=23)),  # Sunday 00:00 -> 01:00
        ("Asia/Shanghai", date(2026, 2, 14), timedelta(hours=24)),
    ],
)
def test_oracle_day_lengths_follow_dst(zone: str, day: date, hours: timedelta) -> None:
    oracle = _oracle_for(CalSpec(zone, _every_day((0, DAY))))
    start = datetime.combine(day, time(), tzinfo=ZoneInfo(zone))
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
    assert oracle.elapsed(start, end) == hours
    assert oracle.intervals(start - timedelta(days=2), end) == [(start - timedelta(days=2), end)]


def test_oracle_counts_a_repeated_hour_twice_and_a_skipped_hour_never() -> None:
    one_to_two = _oracle_for(CalSpec("America/New_York", _every_day((3600, 7200))))
    fall = _local("America/New_York", 2026, 11, 1)
    assert one_to_two.elapsed(fall, fall + timedelta(days=1)) == timedelta(hours=2)
    assert one_to_two.intervals(fall, fall + timedelta(days=1)) == [
        (_utc(2026, 11, 1, 5), _utc(2026, 11, 1, 7))
    ]
    two_to_three = _oracle_for(CalSpec("America/New_York", _every_day((7200, 10800))))
    spring = _local("America/New_York", 2026, 3, 8)
    assert two_to_three.elapsed(spring, spring + timedelta(days=1)) == timedelta()
    half_past_two = _oracle_for(CalSpec("America/New_York", _every_day((9000, 14400))))
    assert half_past_two.intervals(spring, spring + timedelta(days=1)) == [
        (_utc(2026, 3, 8, 7), _utc(2026, 3, 8, 8))  # 03:00-04:00 EDT
    ]


def test_oracle_walks_and_partial_minutes() -> None:
    split = ((9 * 3600, 12 * 3600), (13 * 3600 + 1800, 18 * 3600))
    oracle = _oracle_for(CalSpec("Asia/Shanghai", (split,) * 5 + ((), ())))
    ten = _local("Asia/Shanghai", 2026, 3, 10, 10)
    assert oracle.add(ten, timedelta(hours=4), LIMIT) == _local(
        "Asia/Shanghai", 2026, 3, 10, 15, 30
    )
    assert oracle.add(ten, timedelta(hours=2), LIMIT) == _local("Asia/Shanghai", 2026, 3, 10, 12)
    assert oracle.add(ten, timedelta(), LIMIT) == ten
    noon = _local("Asia/Shanghai", 2026, 3, 10, 12)
    assert oracle.next_open(noon, LIMIT) == _local("Asia/Shanghai", 2026, 3, 10, 13, 30)
    assert oracle.next_close(noon, LIMIT) == _local("Asia/Shanghai", 2026, 3, 10, 18)
    assert oracle.next_close(ten, LIMIT) == noon
    assert not oracle.is_open(noon) and oracle.is_open(noon - MICRO)
    t = ten + timedelta(seconds=30, microseconds=7)
    assert oracle.elapsed(t, noon) == timedelta(hours=2) - timedelta(seconds=30, microseconds=7)
    assert oracle.add(t, timedelta(hours=2), LIMIT) == _local(
        "Asia/Shanghai", 2026, 3, 10, 13, 30, 30, 7
    )
    friday = _local("Asia/Shanghai", 2026, 3, 13, 17, 59)
    assert oracle.add(friday, timedelta(minutes=2), LIMIT) == _local(
        "Asia/Shanghai", 2026, 3, 16, 9, 1
    )
    assert oracle.next_close(friday, timedelta(minutes=1)) is None
    assert oracle.add(friday, timedelta(hours=100), timedelta(days=1)) is None


def test_oracle_holidays_partial_holidays_and_extra_workdays() -> None:
    nine_to_six = ((9 * 3600, 18 * 3600),)
    spec = CalSpec(
        "Asia/Shanghai",
        (nine_to_six,) * 5 + ((), ()),
        holidays=((date(2026, 2, 16), ()), (date(2026, 2, 17), ((9 * 3600, 12 * 3600),))),
        extras=((date(2026, 2, 14), ((10 * 3600, 11 * 3600),)),),
    )
    assert not spec.open_local(date(2026, 2, 16), 10 * 3600)  # whole-day holiday (Monday)
    assert not spec.open_local(date(2026, 2, 17), 10 * 3600)  # partial holiday, closed part
    assert spec.open_local(date(2026, 2, 17), 13 * 3600)  # partial holiday, open part
    assert spec.open_local(date(2026, 2, 14), 10 * 3600)  # make-up Saturday
    assert not spec.open_local(date(2026, 2, 14), 9 * 3600)  # only its own hours
    assert not spec.open_local(date(2026, 2, 15), 10 * 3600)  # ordinary Sunday
    assert spec.open_local(date(2026, 2, 18), 10 * 3600)


@_examples(10)
@given(scn=any_scenarios, data=st.data())
def test_oracle_is_self_consistent(scn: Scenario, data: st.DataObject) -> None:
    oracle = scn.oracle()
    t = data.draw(instants(scn, precise=True))
    d = data.draw(durations(precise=True))
    due = oracle.add(t, d, LIMIT)
    assume(due is not None)
    assert due is not None
    assert oracle.elapsed(t, due) == d


# --------------------------------------------------------------------------------------
# The implementation against the oracle
# --------------------------------------------------------------------------------------


@_examples(60)
@given(scn=any_scenarios, data=st.data())
def test_elapsed_matches_oracle(scn: Scenario, data: st.DataObject) -> None:
    cal, oracle = scn.build(), scn.oracle()
    precise = data.draw(st.booleans())
    a = data.draw(instants(scn, precise))
    b = data.draw(instants(scn, precise))
    assert cal.elapsed(a, b) == oracle.elapsed(a, b)
    assert cal.elapsed(b, a) == oracle.elapsed(b, a)
    # the zone an instant is written in does not matter
    assert cal.elapsed(_in_some_zone(data, a), _in_some_zone(data, b)) == oracle.elapsed(a, b)


@_examples(60)
@given(scn=any_scenarios, data=st.data())
def test_add_matches_oracle(scn: Scenario, data: st.DataObject) -> None:
    cal, oracle = scn.build(), scn.oracle()
    precise = data.draw(st.booleans())
    t = data.draw(instants(scn, precise))
    if data.draw(st.booleans()):
        d = oracle.elapsed(t, data.draw(instants(scn, precise)))  # lands on an interesting spot
    else:
        d = data.draw(durations(precise))
    expected = oracle.add(t, d, LIMIT)
    assume(expected is not None)
    due = cal.add(t, d)
    assert due == expected
    assert due.tzinfo is UTC
    assert cal.add(_in_some_zone(data, t), d) == expected


@_examples(60)
@given(scn=any_scenarios, data=st.data())
def test_is_open_next_open_next_close_match_oracle(scn: Scenario, data: st.DataObject) -> None:
    cal, oracle = scn.build(), scn.oracle()
    t = data.draw(instants(scn, data.draw(st.booleans())))
    assert cal.is_open(t) == oracle.is_open(t)
    assert cal.is_open(_in_some_zone(data, t)) == oracle.is_open(t)

    expected_open = oracle.next_open(t, LIMIT)
    assert expected_open is not None  # every random calendar opens at least weekly
    opened = cal.next_open(t)
    assert opened == expected_open
    assert opened.tzinfo is UTC

    closed = cal.next_close(t)
    expected_close = oracle.next_close(t, LIMIT)
    if scn.always_open():
        assert closed is None
        return
    assume(expected_close is not None)  # closes too far away (or never) for the walk
    assert closed == expected_close
    assert closed is not None and closed.tzinfo is UTC


@_examples(40)
@given(scn=any_scenarios, data=st.data())
def test_open_intervals_match_oracle(scn: Scenario, data: st.DataObject) -> None:
    cal, oracle = scn.build(), scn.oracle()
    precise = data.draw(st.booleans())
    a = data.draw(instants(scn, precise))
    b = data.draw(instants(scn, precise))
    got = list(cal.open_intervals(a, b))
    assert got == oracle.intervals(a, b)
    for start, end in got:
        assert start.tzinfo is UTC and end.tzinfo is UTC
        assert a <= start < end <= b
    for (_, end), (start, _) in itertools.pairwise(got):
        assert end < start  # sorted, disjoint and never adjacent
    assert sum((end - start for start, end in got), timedelta()) == cal.elapsed(a, b)


# --------------------------------------------------------------------------------------
# Laws, with microsecond instants
# --------------------------------------------------------------------------------------


def _due(cal: Any, t: datetime, d: timedelta) -> datetime | None:
    """``cal.add(t, d)``, or None when the calendar has less than ``d`` of open time
    before the end of the accepted span (a calendar open a minute a day, say): then
    ``add`` must refuse, saying so."""
    if cal.elapsed(t, INSTANT_END - MICRO) < d:
        with pytest.raises(ValidationError, match="past the accepted instants"):
            cal.add(t, d)
        return None
    return cast(datetime, cal.add(t, d))


@_examples(50)
@given(scn=any_scenarios, data=st.data())
def test_add_inverts_elapsed_and_is_earliest(scn: Scenario, data: st.DataObject) -> None:
    cal = scn.build()
    t = data.draw(instants(scn, precise=True))
    d = data.draw(durations(precise=True, long=True))
    due = _due(cal, t, d)
    assume(due is not None)
    assert due is not None
    assert due >= t
    assert cal.elapsed(t, due) == d
    if d > timedelta():
        assert cal.elapsed(t, due - MICRO) < d  # earliest
        assert cal.is_open(due - MICRO)
    else:
        assert due == t
    assert cal.add(t, timedelta()) == t
    assert cal.elapsed(t, t) == timedelta()


@_examples(50)
@given(scn=any_scenarios, data=st.data())
def test_elapsed_is_additive_and_zero_backwards(scn: Scenario, data: st.DataObject) -> None:
    cal = scn.build()
    a, b, c = sorted(data.draw(instants(scn, precise=True)) for _ in range(3))
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)
    assert timedelta() <= cal.elapsed(a, c) <= c - a
    assert cal.elapsed(c, a) == timedelta() or a == c
    assert cal.elapsed(b, a) == timedelta()
    # add(a, elapsed(a, c)) is the earliest instant with that much open time: never after c
    assert cal.add(a, cal.elapsed(a, c)) <= c


@_examples(40)
@given(scn=any_scenarios, data=st.data())
def test_add_is_monotone_in_t_and_d(scn: Scenario, data: st.DataObject) -> None:
    cal = scn.build()
    t1, t2 = sorted(data.draw(instants(scn, precise=True)) for _ in range(2))
    d1, d2 = sorted(data.draw(durations(precise=True, long=True)) for _ in range(2))
    assume(_due(cal, t2, d2) is not None)  # then every add below ends within the span
    assert cal.add(t1, d1) <= cal.add(t2, d1)
    assert cal.add(t1, d1) <= cal.add(t1, d2)
    assert cal.add(cal.add(t1, d1), d2 - d1) == cal.add(t1, d2)


@_examples(40)
@given(scn=any_scenarios, data=st.data())
def test_next_open_next_close_laws(scn: Scenario, data: st.DataObject) -> None:
    cal = scn.build()
    t = data.draw(instants(scn, precise=True))
    opened = cal.next_open(t)
    assert opened >= t and cal.is_open(opened)
    assert cal.elapsed(t, opened) == timedelta()
    assert (opened == t) == cal.is_open(t)
    closed = cal.next_close(t)
    if closed is None:
        assert scn.always_open() or scn.oracle().next_close(t, LIMIT) is None
        return
    assert closed > opened and not cal.is_open(closed)
    assert cal.elapsed(opened, closed) == closed - opened
    assert cal.is_open(closed - MICRO)


@_examples(30)
@given(scn=scenarios(union=True), data=st.data())
def test_union_is_open_when_any_member_is(scn: Scenario, data: st.DataObject) -> None:
    union = scn.build()
    members = [spec.build() for spec in scn.specs]
    t = data.draw(instants(scn, precise=True))
    assert union.is_open(t) == any(m.is_open(t) for m in members)
    a, b = sorted(data.draw(instants(scn, precise=True)) for _ in range(2))
    spent = union.elapsed(a, b)
    each = [m.elapsed(a, b) for m in members]
    assert max(each) <= spent <= sum(each, timedelta())


# --------------------------------------------------------------------------------------
# Worked examples
# --------------------------------------------------------------------------------------

NY = "America/New_York"
SH = "Asia/Shanghai"


def _ny_office() -> BusinessCalendar:
    return BusinessCalendar.weekdays("ny", NY, "09:00-17:00")


def test_due_on_closing_time_is_that_closing_time() -> None:
    cal = _ny_office()
    four = _local(NY, 2026, 3, 10, 16)
    five = _local(NY, 2026, 3, 10, 17)
    assert cal.add(four, timedelta(hours=1)) == five
    assert cal.add(four, timedelta(hours=1)).tzinfo is UTC
    assert cal.add(four, timedelta(hours=1) + MICRO) == _local(NY, 2026, 3, 11, 9) + MICRO
    assert not cal.is_open(five) and cal.is_open(five - MICRO)
    assert cal.next_close(four) == five
    assert cal.next_open(five) == _local(NY, 2026, 3, 11, 9)


def test_new_york_office_across_both_dst_weekends() -> None:
    cal = _ny_office()
    # spring forward on Sunday 2026-03-08: Friday EST, Monday EDT
    friday = _local(NY, 2026, 3, 6, 16)
    assert friday.utcoffset() == timedelta(hours=-5)
    assert cal.add(friday, timedelta(hours=2)) == _utc(2026, 3, 9, 14)  # Monday 10:00 EDT
    assert cal.elapsed(_local(NY, 2026, 3, 6, 9), _local(NY, 2026, 3, 9, 17)) == timedelta(hours=16)
    assert cal.next_open(_local(NY, 2026, 3, 7, 12)) == _utc(2026, 3, 9, 13)
    # fall back on Sunday 2026-11-01: Friday EDT, Monday EST
    friday = _local(NY, 2026, 10, 30, 16)
    assert cal.add(friday, timedelta(hours=2)) == _utc(2026, 11, 2, 15)  # Monday 10:00 EST
    weekend = cal.elapsed(_local(NY, 2026, 10, 30, 17), _local(NY, 2026, 11, 2, 9))
    assert weekend == timedelta()
    assert list(cal.open_intervals(_utc(2026, 10, 30), _utc(2026, 11, 3))) == [
        (_utc(2026, 10, 30, 13), _utc(2026, 10, 30, 21)),
        (_utc(2026, 11, 2, 14), _utc(2026, 11, 2, 22)),
    ]


def test_a_24_hour_new_york_day_lasts_23_or_25_hours_on_dst_days() -> None:
    cal = BusinessCalendar("ny24", NY, weekly=((TimeRange(0, DAY),),) * 7)
    for day, hours in [(8, 23), (9, 24)]:
        start, end = _local(NY, 2026, 3, day), _local(NY, 2026, 3, day + 1)
        assert cal.elapsed(start, end) == timedelta(hours=hours)
    fall = _local(NY, 2026, 11, 1)
    assert cal.elapsed(fall, _local(NY, 2026, 11, 2)) == timedelta(hours=25)
    assert cal.add(fall, timedelta(hours=25)) == _local(NY, 2026, 11, 2)
    # midnight does not split an interval, and a calendar open all the time never closes
    assert list(cal.open_intervals(fall, fall + timedelta(days=3))) == [
        (fall, fall + timedelta(days=3))
    ]
    assert cal.next_close(fall) is None


def test_repeated_hour_counts_twice_and_skipped_hour_never() -> None:
    one_to_two = BusinessCalendar("night", NY, weekly=((TimeRange(3600, 7200),),) * 7)
    fall = _local(NY, 2026, 11, 1)
    assert one_to_two.elapsed(fall, _local(NY, 2026, 11, 2)) == timedelta(hours=2)
    assert list(one_to_two.open_intervals(fall, _local(NY, 2026, 11, 2))) == [
        (_utc(2026, 11, 1, 5), _utc(2026, 11, 1, 7))
    ]
    assert one_to_two.next_close(_utc(2026, 11, 1, 5, 30)) == _utc(2026, 11, 1, 7)
    assert one_to_two.add(_utc(2026, 11, 1, 5), timedelta(minutes=90)) == _utc(2026, 11, 1, 6, 30)
    spring = _local(NY, 2026, 3, 8)
    two_to_three = BusinessCalendar("gap", NY, weekly=((TimeRange(7200, 10800),),) * 7)
    assert two_to_three.elapsed(spring, _local(NY, 2026, 3, 9)) == timedelta()
    assert two_to_three.next_open(spring) == _local(NY, 2026, 3, 9, 2)
    half_past_two = BusinessCalendar("half", NY, weekly=((TimeRange.parse("02:30-04:00"),),) * 7)
    assert list(half_past_two.open_intervals(spring, _local(NY, 2026, 3, 9))) == [
        (_utc(2026, 3, 8, 7), _utc(2026, 3, 8, 8))  # 03:00-04:00 EDT only
    ]


def test_lord_howe_and_santiago_dst_days() -> None:
    lh = BusinessCalendar("lh", "Australia/Lord_Howe", weekly=((TimeRange(0, DAY),),) * 7)
    start = _local("Australia/Lord_Howe", 2026, 4, 5)
    assert lh.elapsed(start, start + timedelta(days=1)) == timedelta(hours=24, minutes=30)
    start = _local("Australia/Lord_Howe", 2026, 10, 4)
    assert lh.elapsed(start, _local("Australia/Lord_Howe", 2026, 10, 5)) == timedelta(
        hours=23, minutes=30
    )
    # Santiago falls back at Saturday 24:00: Saturday's 23:00-24:00 happens twice
    late = BusinessCalendar(
        "cl", "America/Santiago", weekly=((), (), (), (), (), (TimeRange.parse("23:00-24:00"),), ())
    )
    saturday = _local("America/Santiago", 2026, 4, 4)
    assert late.elapsed(saturday, saturday + timedelta(days=2)) == timedelta(hours=2)
    assert list(late.open_intervals(saturday, saturday + timedelta(days=2))) == [
        (_utc(2026, 4, 5, 2), _utc(2026, 4, 5, 4))
    ]


def test_ranges_with_seconds() -> None:
    cal = BusinessCalendar.weekdays("s", SH, "09:00:30-17:00")
    nine = _local(SH, 2026, 3, 10, 9)
    assert not cal.is_open(nine + timedelta(seconds=29, microseconds=999_999))
    assert cal.next_open(nine) == nine + timedelta(seconds=30)
    assert cal.add(nine, timedelta(seconds=30)) == _local(SH, 2026, 3, 10, 9, 1)
    assert cal.elapsed(nine, _local(SH, 2026, 3, 10, 10)) == timedelta(minutes=59, seconds=30)


def test_shanghai_split_shift_with_lunch_break() -> None:
    cal = BusinessCalendar.weekdays("cn", SH, "09:00-12:00", "13:30-18:00")
    ten = _local(SH, 2026, 3, 10, 10)
    assert cal.add(ten, timedelta(hours=4)) == _local(SH, 2026, 3, 10, 15, 30)
    assert cal.add(_local(SH, 2026, 3, 10, 11), timedelta(hours=1)) == _local(SH, 2026, 3, 10, 12)
    assert cal.add(_local(SH, 2026, 3, 10, 12), MINUTE) == _local(SH, 2026, 3, 10, 13, 31)
    assert cal.next_open(_local(SH, 2026, 3, 10, 12, 30)) == _local(SH, 2026, 3, 10, 13, 30)
    assert cal.next_close(ten) == _local(SH, 2026, 3, 10, 12)
    assert cal.elapsed(_local(SH, 2026, 3, 10), _local(SH, 2026, 3, 11)) == timedelta(hours=7.5)


def _china_2026() -> BusinessCalendar:
    nine_to_six = (TimeRange.parse("09:00-18:00"),)
    spring_festival = tuple(
        Holiday(date(2026, 2, 15) + timedelta(days=i), "春节") for i in range(9)
    )  # Sunday 15 .. Monday 23 February
    new_year = tuple(Holiday(date(2026, 1, d), "元旦") for d in (1, 2, 3))
    make_up = tuple(
        ExtraWorkday(d, "调休", nine_to_six)
        for d in (date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28))
    )
    return BusinessCalendar.weekdays(
        "cn-2026",
        SH,
        "09:00-18:00",
        holidays=new_year + spring_festival,
        extra_workdays=make_up,
    )


def test_china_2026_spring_festival_with_make_up_saturday() -> None:
    cal = _china_2026()
    ticket = _local(SH, 2026, 2, 13, 17, 30)  # Friday
    # 30 minutes on Friday, then 7.5 hours of the make-up Saturday 2026-02-14
    assert cal.add(ticket, timedelta(hours=8)) == _local(SH, 2026, 2, 14, 16, 30)
    # a full make-up Saturday (9 h) after Friday's 30 minutes, then nine days off
    assert cal.add(ticket, timedelta(hours=10)) == _local(SH, 2026, 2, 24, 9, 30)
    assert cal.elapsed(ticket, _local(SH, 2026, 2, 24, 9, 30)) == timedelta(hours=10)
    assert cal.is_open(_local(SH, 2026, 2, 14, 10))
    assert not cal.is_open(_local(SH, 2026, 2, 16, 10))  # Monday, Spring Festival
    assert cal.next_open(_local(SH, 2026, 2, 14, 18)) == _local(SH, 2026, 2, 24, 9)
    assert cal.is_open(_local(SH, 2026, 1, 4, 9))  # Sunday make-up day
    assert cal.is_open(_local(SH, 2026, 2, 28, 17, 59))
    assert not cal.is_open(_local(SH, 2026, 1, 2, 10))  # New Year holiday, a Friday


def test_partial_holiday_closes_only_its_ranges() -> None:
    cal = BusinessCalendar.weekdays(
        "cn",
        SH,
        "09:00-18:00",
        holidays=(Holiday(date(2026, 3, 10), "afternoon off", (TimeRange.parse("12:00-24:00"),)),),
    )
    day = _local(SH, 2026, 3, 10)
    assert cal.elapsed(day, day + timedelta(days=1)) == timedelta(hours=3)
    assert cal.next_close(_local(SH, 2026, 3, 10, 9)) == _local(SH, 2026, 3, 10, 12)


def test_touching_ranges_make_one_interval() -> None:
    cal = BusinessCalendar.weekdays("cn", SH, "09:00-12:00", "12:00-13:00")
    assert cal.next_close(_local(SH, 2026, 3, 10, 10)) == _local(SH, 2026, 3, 10, 13)
    day = _local(SH, 2026, 3, 10)
    assert list(cal.open_intervals(day, day + timedelta(days=1))) == [
        (_local(SH, 2026, 3, 10, 9), _local(SH, 2026, 3, 10, 13))
    ]


def test_union_of_shanghai_and_london_follows_the_sun() -> None:
    cn = BusinessCalendar.weekdays("cn", SH, "09:00-18:00")
    uk = BusinessCalendar.weekdays("uk", "Europe/London", "09:00-17:30")
    both = CalendarUnion("follow-the-sun", (cn, uk))
    # Tuesday 2026-03-10: Shanghai 01:00-10:00 UTC, London (GMT) 09:00-17:30 UTC
    assert both.is_open(_utc(2026, 3, 10, 3)) and not uk.is_open(_utc(2026, 3, 10, 3))
    assert both.is_open(_utc(2026, 3, 10, 12)) and not cn.is_open(_utc(2026, 3, 10, 12))
    assert not both.is_open(_utc(2026, 3, 10, 18))
    assert not both.is_open(_utc(2026, 3, 10, 0, 30))
    assert both.elapsed(_utc(2026, 3, 10), _utc(2026, 3, 11)) == timedelta(hours=16.5)
    assert list(both.open_intervals(_utc(2026, 3, 10), _utc(2026, 3, 11))) == [
        (_utc(2026, 3, 10, 1), _utc(2026, 3, 10, 17, 30))
    ]
    assert both.next_close(_utc(2026, 3, 10, 2)) == _utc(2026, 3, 10, 17, 30)
    assert both.next_open(_utc(2026, 3, 10, 18)) == _utc(2026, 3, 11, 1)
    assert both.add(_utc(2026, 3, 9), timedelta(hours=20)) == _utc(2026, 3, 10, 4, 30)
    # after London moves to BST on 2026-03-29 it opens at 08:00 UTC
    assert both.elapsed(_utc(2026, 3, 31), _utc(2026, 4, 1)) == timedelta(hours=15.5)
    assert both.next_close(_utc(2026, 3, 31, 2)) == _utc(2026, 3, 31, 16, 30)


def test_always_open() -> None:
    cal = BusinessCalendar.always_open()
    t = _utc(2026, 3, 8, 6, 59, 59, 999_999)
    assert cal.is_open(t)
    assert cal.next_open(t) == t
    assert cal.next_close(t) is None
    assert cal.add(t, timedelta(days=30, microseconds=3)) == t + timedelta(days=30, microseconds=3)
    assert cal.elapsed(t, t + timedelta(days=400)) == timedelta(days=400)
    assert list(cal.open_intervals(t, t + timedelta(days=2))) == [(t, t + timedelta(days=2))]


def test_results_are_utc_whatever_the_input_zone() -> None:
    cal = BusinessCalendar.weekdays("cn", SH, "09:00-12:00", "13:30-18:00")
    t = _local(SH, 2026, 3, 10, 12, 30)
    for result in (cal.add(t, MINUTE), cal.next_open(t), cal.next_close(t)):
        assert result is not None and result.tzinfo is UTC
    for start, end in cal.open_intervals(t, t + timedelta(days=1)):
        assert start.tzinfo is UTC and end.tzinfo is UTC


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 10, 10)
AWARE = _utc(2026, 3, 10, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda cal: cal.is_open(NAIVE),
        lambda cal: cal.next_open(NAIVE),
        lambda cal: cal.next_close(NAIVE),
        lambda cal: list(cal.open_intervals(NAIVE, AWARE)),
        lambda cal: list(cal.open_intervals(AWARE, NAIVE)),
        lambda cal: cal.elapsed(NAIVE, AWARE),
        lambda cal: cal.elapsed(AWARE, NAIVE),
        lambda cal: cal.add(NAIVE, MINUTE),
        lambda cal: cal.add(AWARE, -MICRO),
        lambda cal: cal.add(AWARE, timedelta(hours=-1)),
    ],
    ids=[
        "is_open",
        "next_open",
        "next_close",
        "open_intervals-a",
        "open_intervals-b",
        "elapsed-a",
        "elapsed-b",
        "add",
        "add-negative-micro",
        "add-negative-hour",
    ],
)
@pytest.mark.parametrize("kind", ["calendar", "union", "always"])
def test_naive_instants_and_negative_durations_are_rejected(call: Any, kind: str) -> None:
    cal: BusinessCalendar | CalendarUnion
    if kind == "calendar":
        cal = _ny_office()
    elif kind == "union":
        cal = CalendarUnion("u", (_ny_office(), BusinessCalendar.weekdays("cn", SH, "09:00-18:00")))
    else:
        cal = BusinessCalendar.always_open()
    with pytest.raises(ValidationError):
        call(cal)


@pytest.mark.parametrize(
    ("start", "end"),
    [(3600, 3600), (7200, 3600), (-60, 3600), (0, DAY + 1), (DAY, DAY + 60)],
)
def test_invalid_time_ranges(start: int, end: int) -> None:
    with pytest.raises(ValidationError):
        TimeRange(start, end)


@pytest.mark.parametrize("text", ["12:00-09:00", "09:00-24:01", "09:00-25:00", "09:00", "9-5", ""])
def test_invalid_time_range_text(text: str) -> None:
    with pytest.raises(ValidationError):
        TimeRange.parse(text)


def test_time_range_parse() -> None:
    assert TimeRange.parse("09:00-12:00") == TimeRange(9 * 3600, 12 * 3600)
    assert TimeRange.parse("09:00:30-24:00") == TimeRange(9 * 3600 + 30, DAY)
    assert TimeRange.parse("00:00-24:00") == TimeRange(0, DAY)


def _week(**days: tuple[TimeRange, ...]) -> tuple[tuple[TimeRange, ...], ...]:
    week: list[tuple[TimeRange, ...]] = [(TimeRange.parse("09:00-17:00"),)] * 5 + [(), ()]
    for key, ranges in days.items():
        week[int(key[1:])] = ranges
    return tuple(week)


def _r(text: str) -> TimeRange:
    return TimeRange.parse(text)


@pytest.mark.parametrize(
    ("kwargs", "paths"),
    [
        ({"weekly": _week(d2=(_r("09:00-12:00"), _r("11:00-13:00")))}, {"weekly[2][1]"}),
        ({"weekly": _week(d1=(_r("13:00-14:00"), _r("09:00-10:00")))}, {"weekly[1][1]"}),
        ({"weekly": _week(d6=(_r("00:00-24:00"), _r("00:00-01:00")))}, {"weekly[6][1]"}),
        ({"weekly": _week()[:6]}, {"weekly"}),
        ({"weekly": (*_week(), ())}, {"weekly"}),
        ({"timezone": "Mars/Olympus_Mons"}, {"timezone"}),
        ({"timezone": ""}, {"timezone"}),
        (
            {"holidays": (Holiday(date(2026, 2, 16), "a"), Holiday(date(2026, 2, 16), "b"))},
            {"holidays[1].date"},
        ),
        (
            {
                "extra_workdays": (
                    ExtraWorkday(date(2026, 2, 14), "a", (_r("09:00-18:00"),)),
                    ExtraWorkday(date(2026, 2, 14), "b", (_r("09:00-18:00"),)),
                )
            },
            {"extra_workdays[1].date"},
        ),
        (
            {
                "holidays": (Holiday(date(2026, 2, 14), "h"),),
                "extra_workdays": (ExtraWorkday(date(2026, 2, 14), "x", (_r("09:00-18:00"),)),),
            },
            {"extra_workdays[0].date", "holidays[0].date"},
        ),
    ],
    ids=[
        "overlap",
        "unsorted",
        "overlap-full-day",
        "six-days",
        "eight-days",
        "unknown-zone",
        "empty-zone",
        "duplicate-holiday",
        "duplicate-extra",
        "holiday-and-extra",
    ],
)
def test_invalid_calendar_names_the_offending_item(kwargs: dict[str, Any], paths: set[str]) -> None:
    arguments: dict[str, Any] = {"name": "bad", "timezone": NY, "weekly": _week(), **kwargs}
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar(**arguments)
    assert paths & set(caught.value.paths), caught.value.paths


def test_invalid_holiday_and_extra_workday_ranges() -> None:
    with pytest.raises(ValidationError) as caught:
        Holiday(date(2026, 2, 17), "p", (_r("09:00-12:00"), _r("10:00-11:00")))
    assert caught.value.paths == ("closed[1]",)
    with pytest.raises(ValidationError) as caught:
        ExtraWorkday(date(2026, 2, 14), "a", (_r("09:00-18:00"), _r("17:00-19:00")))
    assert caught.value.paths == ("hours[1]",)


def test_valid_construction_accepts_touching_ranges_and_24_00() -> None:
    cal = BusinessCalendar(
        "ok",
        NY,
        weekly=_week(d5=(_r("00:00-12:00"), _r("12:00-24:00"))),
        holidays=(Holiday(date(2026, 3, 9), "h", (_r("09:00-10:00"),)),),
        extra_workdays=(ExtraWorkday(date(2026, 3, 8), "x", (_r("00:00-24:00"),)),),
    )
    spring = _local(NY, 2026, 3, 8)
    assert cal.elapsed(spring, spring + timedelta(days=1)) == timedelta(hours=23)
    # Saturday 00:00-24:00, make-up Sunday 00:00-24:00, Monday opens late at 10:00
    assert cal.next_close(_local(NY, 2026, 3, 7, 11)) == _local(NY, 2026, 3, 9)
    assert cal.next_open(_local(NY, 2026, 3, 9)) == _local(NY, 2026, 3, 9, 10)


def test_empty_union_is_rejected() -> None:
    with pytest.raises(ValidationError):
        CalendarUnion("nobody", ())


# --------------------------------------------------------------------------------------
# Query order and threads
# --------------------------------------------------------------------------------------

_JOBS = [
    (_utc(year, month, day, 15), timedelta(hours=hours))
    for year, month, day, hours in [
        (2040, 12, 5, 170),
        (2035, 6, 5, 9),
        (2030, 12, 5, 45),
        (2025, 12, 29, 40),
        (2020, 3, 5, 200),
        (2015, 11, 5, 1),
        (2010, 12, 5, 80),
        (2005, 10, 5, 33),
    ]
]
_unique = itertools.count()


def _office(label: str) -> BusinessCalendar:
    # a fresh name each time: equal calendars may share their index
    return BusinessCalendar.weekdays(f"{label}-{next(_unique)}", NY, "09:00-12:00", "13:00-17:00")


def _expected_jobs() -> list[datetime]:
    return [_office("reference").add(t, d) for t, d in _JOBS]


def test_answers_do_not_depend_on_the_order_of_queries() -> None:
    expected = _expected_jobs()
    cal = _office("ordered")
    assert [cal.add(t, d) for t, d in _JOBS] == expected  # later years first
    assert [cal.add(t, d) for t, d in reversed(_JOBS)] == expected[::-1]
    # Monday 2025-12-29 10:00 EST + 40 h of 7-hour days: Monday 2026-01-05 16:00 EST
    assert expected[3] == _utc(2026, 1, 5, 21)


def test_concurrent_queries_on_one_calendar_agree_with_sequential_ones() -> None:
    """Threads extending a shared index must not see each other's half-built state."""
    expected = _expected_jobs()
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(16):
            cal = _office("shared")
            barrier = threading.Barrier(len(_JOBS))
            results: list[object] = [None] * len(_JOBS)

            def run(
                k: int,
                cal: BusinessCalendar = cal,
                barrier: Any = barrier,
                results: list[object] = results,
            ) -> None:
                barrier.wait()
                try:
                    results[k] = cal.add(*_JOBS[k])
                except Exception as error:  # reported by the assertion below
                    results[k] = error

            threads = [threading.Thread(target=run, args=(k,)) for k in range(len(_JOBS))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert results == expected
    finally:
        sys.setswitchinterval(previous)
