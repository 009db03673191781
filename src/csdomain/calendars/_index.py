"""The index of a calendar's open intervals, built one UTC month at a time (private).

A calendar's open time in UTC is computed lazily per UTC calendar month (a
month costs about 35 local days of work, whatever the year). Built months form
*runs*: contiguous stretches of months with one published :data:`View`, the
open intervals of the run with prefix sums of open time. A query needs one run
that spans its instants; a query in a month far from every run starts a new
run instead of building the years in between, and runs that meet are joined.
Joining keeps the larger run's prefix sums as they are and shifts the smaller
side's, so growing a run by a month costs about that month's work.

Growing happens under a lock and publishes a new view with one assignment;
a reader takes one view and uses only it, so threads never see half a run.

What an index holds is bounded whatever is asked. A run spans at most
:data:`MAX_RUN_MONTHS` months around the instants of one query: a query whose
instants lie further apart (a ticket created decades before it is evaluated)
takes the *far* path, which adds up the open time of whole months (one integer
kept per month, at most the span's 3,600) and reads only the months at its ends,
without making a run of the years between. And an index keeps at most
:data:`MAX_KEPT_MONTHS` months of intervals and runs: past that it starts
afresh. The answers are the same on either path (a property test checks it).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final, TypeAlias

from csdomain._kernel.time import EPOCH, INSTANT_END, INSTANT_MIN, US, delta_us, zone

__all__ = [
    "FIRST",
    "LAST",
    "MAX_KEPT_MONTHS",
    "MAX_RUN_MONTHS",
    "Chunk",
    "DayPlan",
    "Index",
    "View",
    "day_plan",
    "merge",
    "month_total",
    "open_month",
]

DAY_US: Final = 86_400 * US
_ZERO: Final = timedelta(0)
_ONE_US: Final = timedelta(microseconds=1)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()

#: The supported instants, as offsets from the epoch: the accepted span, 1900-01-01 to
#: 2200-01-01 UTC (end excluded), whole UTC months.
FIRST: Final = INSTANT_MIN - EPOCH
LAST: Final = INSTANT_END - EPOCH
_LAST_US: Final = delta_us(LAST)
_FIRST_MONTH: Final = INSTANT_MIN.year * 12
_LAST_MONTH: Final = INSTANT_END.year * 12 - 1

#: The most months a run spans from the month of the instant a query starts at.
MAX_RUN_MONTHS = 36
#: The most months of intervals (and of runs) an index keeps before starting afresh.
MAX_KEPT_MONTHS = 240

#: Open intervals ``(start, end)`` in integer UTC µs: sorted, disjoint, not touching.
Chunk: TypeAlias = list[tuple[int, int]]

# One consistent snapshot of a run; readers take one and use only it. A plain
# tuple, since unpacking one is cheaper than reading a NamedTuple's fields:
#   (lo, hi, starts, ends, shift, through, day0, first, shift_at, base)
# - [lo, hi) is the span the run covers (whole UTC months), as timedeltas from
#   the epoch, like every instant here;
# - interval k is [starts[k], ends[k]): sorted, disjoint and not touching;
# - P(x), "open time up to x", is counted from an arbitrary origin fixed per run:
#   base is P(lo), through[k] is P(ends[k]), and shift[k] is starts[k] - P(starts[k]),
#   so P(x) for x inside interval k is x - shift[k]; open time between two instants
#   is the difference of their P. shift_at[k] is EPOCH + shift[k] (saves add an
#   addition);
# - first[k] is the last interval starting before the UTC day day0 + k (day0 is
#   lo.days), or -1; so the intervals starting on that day are first[k] + 1 to
#   first[k + 1], and finding an instant's interval seldom needs a bisect.
# - one exception: when the run ends at LAST inside an open interval, that interval's
#   through is one microsecond short, so an add whose due instant would be LAST itself
#   (outside the span) misses it and takes the checked path. No query reads P(LAST).
View: TypeAlias = tuple[
    timedelta,
    timedelta,
    list[timedelta],
    list[timedelta],
    list[timedelta],
    list[timedelta],
    int,
    list[int],
    list[datetime],
    timedelta,
]

_EMPTY: Final[View] = (_ZERO, _ZERO, [], [], [], [], 0, [-1], [], _ZERO)

# (first month, last month, view) of a run; replaced whole, never changed
_Run: TypeAlias = tuple[int, int, View]


def month_of(delta: timedelta) -> int:
    """The UTC month (``year * 12 + month - 1``) holding the instant ``EPOCH + delta``."""
    instant = EPOCH + delta
    return instant.year * 12 + instant.month - 1


def _month_days(month: int) -> tuple[int, int]:
    """Ordinals of the first day of ``month`` and of the month after it."""
    year, index = divmod(month, 12)
    next_year, next_index = divmod(month + 1, 12)
    return date(year, index + 1, 1).toordinal(), date(next_year, next_index + 1, 1).toordinal()


def merge(pieces: Chunk) -> Chunk:
    """``pieces`` sorted, with overlapping or touching intervals joined."""
    pieces.sort()
    merged: Chunk = []
    for lo, hi in pieces:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


# -- one month of a calendar --------------------------------------------------------

#: Local opening ranges in µs since local midnight: the 7 weekdays (Monday first)
#: and the dates (as ordinals) whose hours differ, holidays and extra working days.
DayPlan: TypeAlias = tuple[
    str,
    tuple[tuple[tuple[int, int], ...], ...],
    dict[int, tuple[tuple[int, int], ...]],
    list[int],
]


def day_plan(
    zone_name: str,
    weekly: Sequence[Sequence[tuple[int, int]]],
    special: dict[int, Sequence[tuple[int, int]]],
) -> DayPlan:
    """A calendar's plan from ranges in seconds (``weekly``, and ``special`` by ordinal);
    the plan also lists the special dates in order."""

    def scaled(ranges: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
        return tuple((start * US, end * US) for start, end in ranges)

    return (
        zone_name,
        tuple(scaled(day) for day in weekly),
        {ordinal: scaled(ranges) for ordinal, ranges in special.items()},
        sorted(special),
    )


# zone name -> UTC year -> (offset at the year's first instant, [(instant, new offset)]
# for the changes in (that instant, the next year's first instant]); at most the span's
# 300 years per zone
_zone_years: dict[str, dict[int, tuple[int, list[tuple[int, int]]]]] = {}


def _year_transitions(zone_name: str, year: int) -> tuple[int, list[tuple[int, int]]]:
    """The offset at the start of UTC ``year`` and its changes during the year, as
    ``(instant, new offset)`` in µs; computed once per zone and year.

    The offset is sampled at each UTC midnight, and a change is located to the
    second by bisection (transitions fall on whole seconds). Like any sampling,
    this assumes a zone does not change its offset and back within one day,
    which tzdata has never recorded.
    """
    years = _zone_years.setdefault(zone_name, {})
    found = years.get(year)
    if found is not None:
        return found
    tz = zone(zone_name)
    # fromutc of a UTC wall time labelled with the zone gives the local time; their
    # difference is the offset (a quarter of the cost of astimezone and utcoffset)
    base, fromutc = datetime(1970, 1, 1, tzinfo=tz), tz.fromutc

    def offset_us(us: int) -> int:
        at = base + timedelta(0, 0, us)
        return delta_us(fromutc(at) - at)

    first_day = date(year, 1, 1).toordinal()
    days = date(year + 1, 1, 1).toordinal() - first_day
    day_us = (first_day - _EPOCH_ORDINAL) * DAY_US
    before = start = offset_us(day_us)
    changes: list[tuple[int, int]] = []
    one_day = timedelta(days=1)
    midnight = base + timedelta(0, 0, day_us)
    sampled = fromutc(midnight) - midnight  # the offset at each midnight, as a timedelta
    for _ in range(days):
        midnight += one_day
        offset = fromutc(midnight) - midnight
        if offset == sampled:  # the common case: compared as timedeltas, no conversion
            day_us += DAY_US
            continue
        sampled = offset
        after = delta_us(offset)
        lo = day_us
        while after != before:  # offset(lo) == before; find each change up to midnight
            hi = day_us + DAY_US
            while hi - lo > US:
                mid = (lo + hi) // 2 // US * US
                if mid <= lo:
                    mid = lo + US
                if offset_us(mid) == before:
                    lo = mid
                else:
                    hi = mid
            before = offset_us(hi)
            changes.append((hi, before))
            lo = hi
        day_us += DAY_US
    found = years[year] = (start, changes)
    return found


def _transitions(
    zone_name: str, first_day: int, last_day: int
) -> tuple[int, list[tuple[int, int]]]:
    """The UTC offset at the start of ``first_day`` (an ordinal) and the changes after it up
    to the start of ``last_day``, as ``(instant, new offset)`` in µs (see
    :func:`_year_transitions`)."""
    lo_us = (first_day - _EPOCH_ORDINAL) * DAY_US
    hi_us = (last_day - _EPOCH_ORDINAL) * DAY_US
    first_year = date.fromordinal(first_day).year
    offset, changes = _year_transitions(zone_name, first_year)
    for at, new in changes:
        if at > lo_us:
            break
        offset = new
    found: list[tuple[int, int]] = []
    for year in range(first_year, date.fromordinal(last_day).year + 1):
        found.extend(c for c in _year_transitions(zone_name, year)[1] if lo_us < c[0] <= hi_us)
    return offset, found


def open_month(plan: DayPlan, month: int) -> Chunk:
    """Open intervals (UTC µs) of the calendar ``plan`` describes, clipped to UTC ``month``."""
    zone_name, weekly, special, _ = plan
    lo_day, hi_day = _month_days(month)
    month_lo = (lo_day - _EPOCH_ORDINAL) * DAY_US
    month_hi = (hi_day - _EPOCH_ORDINAL) * DAY_US
    # A local day lies within 16 h of its UTC day (offsets reach about +-15:56 in old
    # local mean times), so two days of margin on each side are enough.
    offset, changes = _transitions(zone_name, lo_day - 3, hi_day + 3)
    pieces: Chunk = []
    append = pieces.append
    for ordinal in range(lo_day - 2, hi_day + 2):
        ranges = special.get(ordinal)
        if ranges is None:
            ranges = weekly[(ordinal + 6) % 7]  # ordinal 1 (0001-01-01) is a Monday
        day_us = (ordinal - _EPOCH_ORDINAL) * DAY_US
        # the offsets in force around this day: [(from, offset)], from the first change
        # after the day's UTC window starts
        while changes and changes[0][0] <= day_us - DAY_US:
            offset = changes.pop(0)[1]
        if not ranges:
            continue
        window = [c for c in changes if c[0] < day_us + 2 * DAY_US]
        if not window:  # one offset all day: the common case
            local = day_us - offset
            for start, end in ranges:
                lo, hi = local + start, local + end
                if lo < month_lo:
                    lo = month_lo
                if hi > month_hi:
                    hi = month_hi
                if lo < hi:
                    append((lo, hi))
            continue
        # the local day's UTC stretches with a constant offset each
        bounds = [(month_lo, offset)] + [(max(at, month_lo), off) for at, off in window]
        for k, (seg_lo, seg_offset) in enumerate(bounds):
            seg_hi = bounds[k + 1][0] if k + 1 < len(bounds) else month_hi
            for start, end in ranges:
                lo = max(day_us + start - seg_offset, seg_lo)
                hi = min(day_us + end - seg_offset, seg_hi, month_hi)
                if lo < hi:
                    append((lo, hi))
    return merge(pieces)


def month_total(plan: DayPlan, month: int) -> int:
    """Open µs of the calendar ``plan`` describes in UTC ``month``: ``open_month``'s total,
    computed arithmetically when the month is quiet (one UTC offset throughout and no
    special date near it), as most months are.

    With one offset ``o`` the open time in UTC ``[lo, hi)`` is the weekly hours' open
    time in local wall time ``[lo + o, hi + o)``: whole weeks times the week's hours,
    plus the days and the part of a day at each end.
    """
    zone_name, weekly, _, specials = plan
    lo_day, hi_day = _month_days(month)
    offset, changes = _transitions(zone_name, lo_day - 3, hi_day + 3)  # as open_month
    if changes or bisect_left(specials, lo_day - 2) != bisect_left(specials, hi_day + 2):
        return sum(end - start for start, end in open_month(plan, month))
    month_lo = (lo_day - _EPOCH_ORDINAL) * DAY_US
    month_hi = (hi_day - _EPOCH_ORDINAL) * DAY_US
    return _wall_open(weekly, month_hi + offset) - _wall_open(weekly, month_lo + offset)


@lru_cache(maxsize=256)
def _week_sums(weekly: tuple[tuple[tuple[int, int], ...], ...]) -> tuple[int, ...]:
    sums = [0]
    for ranges in weekly:
        sums.append(sums[-1] + sum(end - start for start, end in ranges))
    return tuple(sums)


def _wall_open(weekly: tuple[tuple[tuple[int, int], ...], ...], wall: int) -> int:
    """Open µs of the weekly hours before the local wall time ``wall`` (µs from the
    epoch's wall midnight), counted from an arbitrary Monday."""
    day, in_day = divmod(wall, DAY_US)
    weeks, weekday = divmod(day + _EPOCH_ORDINAL - 1, 7)  # ordinal 1 (0001-01-01) is a Monday
    before = _week_sums(weekly)  # open µs of the week before each weekday, and in all 7
    total = weeks * before[7] + before[weekday]
    for start, end in weekly[weekday]:
        if in_day > start:
            total += (in_day if in_day < end else end) - start
    return total


# -- views --------------------------------------------------------------------------


def _piece(lo_us: int, hi_us: int, chunk: Chunk, base: timedelta) -> View:
    """A view of ``chunk`` over ``[lo_us, hi_us)`` (whole UTC days) with ``P(lo) == base``."""
    td = timedelta
    total = delta_us(base)
    shift: list[timedelta] = []
    through: list[timedelta] = []
    for start, end in chunk:
        shift.append(td(0, 0, start - total))
        total += end - start
        through.append(td(0, 0, total))
    if hi_us == _LAST_US and chunk and chunk[-1][1] == hi_us:
        through[-1] -= _ONE_US  # see View: an add never lands on LAST
    first: list[int] = []
    k, n = -1, len(chunk)
    for day_us in range(lo_us, hi_us + 1, DAY_US):
        while k + 1 < n and chunk[k + 1][0] < day_us:
            k += 1
        first.append(k)
    return (
        td(0, 0, lo_us),
        td(0, 0, hi_us),
        [td(0, 0, start) for start, _ in chunk],
        [td(0, 0, end) for _, end in chunk],
        shift,
        through,
        lo_us // DAY_US,
        first,
        [EPOCH + s for s in shift],
        base,
    )


def _end(view: View) -> timedelta:
    """``P(hi)`` of ``view``: the open time counted up to its end."""
    return view[5][-1] if view[5] else view[9]


def _moved(view: View, by: timedelta) -> View:
    """``view`` with its open-time origin moved so that every ``P`` grows by ``by``."""
    if not by:
        return view
    lo, hi, starts, ends, shift, through, day0, first, shift_at, base = view
    return (
        lo,
        hi,
        starts,
        ends,
        [s - by for s in shift],
        [t + by for t in through],
        day0,
        first,
        [s - by for s in shift_at],
        base + by,
    )


def _concat(views: list[View]) -> View:
    """Adjacent views whose open-time origins agree, as one view."""
    if len(views) == 1:
        return views[0]
    starts: list[timedelta] = []
    ends: list[timedelta] = []
    shift: list[timedelta] = []
    through: list[timedelta] = []
    shift_at: list[datetime] = []
    first: list[int] = []
    for _, _, s, e, sh, th, _, f, sa, _ in views:
        n = len(starts)
        if first:
            first.pop()  # the boundary day is the next view's first day too
        if n and s and ends[-1] == s[0]:  # open across the boundary: one interval
            ends[-1], through[-1] = e[0], th[0]
            starts += s[1:]
            ends += e[1:]
            shift += sh[1:]
            through += th[1:]
            shift_at += sa[1:]
            k = n - 1
            first += [k + r if r > 0 else k for r in f]
        else:
            starts += s
            ends += e
            shift += sh
            through += th
            shift_at += sa
            first += [n + r for r in f] if n else f
    head, tail = views[0], views[-1]
    return (head[0], tail[1], starts, ends, shift, through, head[6], first, shift_at, head[9])


def _month_bounds(month: int) -> tuple[int, int]:
    """The first µs of UTC ``month`` and of the month after it."""
    lo_day, hi_day = _month_days(month)
    return (lo_day - _EPOCH_ORDINAL) * DAY_US, (hi_day - _EPOCH_ORDINAL) * DAY_US


def _month_of_us(us: int) -> int:
    return month_of(timedelta(0, 0, us))


def _open_in(chunk: Chunk, lo: int, hi: int) -> int:
    """Open µs of ``chunk`` within ``[lo, hi)``."""
    total = 0
    for start, end in chunk:
        if end > lo and start < hi:
            total += (end if end < hi else hi) - (start if start > lo else lo)
    return total


class Index:
    """Open intervals of one calendar, by UTC month, grown on demand into runs."""

    def __init__(
        self, month: Callable[[int], Chunk], total: Callable[[int], int] | None = None
    ) -> None:
        self._compute = month
        self._compute_total = total
        self._lock = threading.Lock()
        self._months: dict[int, Chunk] = {}
        self._runs: dict[int, _Run] = {}  # each built month -> the run holding it
        self._totals: dict[int, int] = {}  # month -> open µs, for the far path
        #: The run used last: the queries try it before anything else.
        self.view: View = _EMPTY

    # -- months ------------------------------------------------------------------------

    def month(self, month: int) -> Chunk:
        """The open intervals of one UTC month, computed once and kept (within the bound)."""
        chunk = self._months.get(month)
        if chunk is None:
            with self._lock:
                chunk = self._month(month)
        return chunk

    def peek(self, month: int) -> Chunk:
        """The open intervals of one UTC month, kept or computed (then not kept): for
        reading many months once, as unions read their members' and the far path does."""
        chunk = self._months.get(month)
        return self._compute(month) if chunk is None else chunk

    def _month(self, month: int) -> Chunk:
        chunk = self._months.get(month)
        if chunk is None:
            self._make_room(1)
            chunk = self._months[month] = self._compute(month)
        return chunk

    def _make_room(self, months: int) -> None:
        """Start afresh when keeping ``months`` more would pass :data:`MAX_KEPT_MONTHS`.

        Called under the lock. Published views stay valid: readers keep theirs.
        """
        if len(self._months) + months > MAX_KEPT_MONTHS:
            self._months.clear()
            self._runs.clear()
            self.view = _EMPTY

    def total(self, month: int) -> int:
        """Open µs in UTC ``month`` (one integer kept per month)."""
        found = self._totals.get(month)
        if found is None:
            chunk = self._months.get(month)
            if chunk is None and self._compute_total is not None:
                found = self._compute_total(month)
            else:
                found = sum(e - s for s, e in (chunk if chunk is not None else self.peek(month)))
            self._totals[month] = found
        return found

    # -- the far path: whole months added up, never made into runs ----------------------

    def open_between(self, lo: timedelta, hi: timedelta) -> timedelta:
        """Open time in ``[lo, hi)`` (``lo < hi``, both in the span): the months at the ends
        read, the ones between added up."""
        lo_us, hi_us = delta_us(lo), delta_us(hi)
        first, last = month_of(lo), month_of(hi)
        total = _open_in(self.month(first), lo_us, hi_us)
        if last != first:
            total += sum(self.total(m) for m in range(first + 1, last))
            total += _open_in(self.month(last), lo_us, hi_us)
        return timedelta(0, 0, total)

    def due(self, at: timedelta, d: timedelta) -> timedelta | None:
        """The earliest ``u >= at`` with open time ``d`` (positive) in ``[at, u)``, or None
        when there is none before ``LAST``."""
        at_us, left = delta_us(at), delta_us(d)
        month = month_of(at)
        chunk = self.month(month)
        while True:
            for start, end in chunk:
                if end <= at_us:
                    continue
                if start < at_us:
                    start = at_us
                if end - start >= left:
                    found = start + left
                    return timedelta(0, 0, found) if found < _LAST_US else None
                left -= end - start
            month += 1
            while month <= _LAST_MONTH and self.total(month) < left:
                left -= self.total(month)
                month += 1
            if month > _LAST_MONTH:
                return None
            chunk = self.peek(month)

    def opening(self, at: timedelta, limit: timedelta) -> timedelta | None:
        """``at`` when open, else the next opening before ``limit``; None when there is none
        (before ``limit`` or the end of the span)."""
        at_us, limit_us = delta_us(at), delta_us(limit)
        month = month_of(at)
        chunk = self.month(month)
        while True:
            for start, end in chunk:
                if end > at_us:
                    found = start if start > at_us else at_us
                    return timedelta(0, 0, found) if found < limit_us else None
            month += 1
            while month <= _LAST_MONTH and not self.total(month):
                month += 1
            if month > _LAST_MONTH or _month_bounds(month)[0] >= limit_us:
                return None
            chunk = self.peek(month)

    def closing(self, at: timedelta, limit: timedelta) -> timedelta | None:
        """The end of the open interval holding ``at`` or of the next one, before ``limit``;
        None when there is none (before ``limit`` or the end of the span)."""
        at_us, limit_us = delta_us(at), delta_us(limit)
        month = month_of(at)
        chunk = self.month(month)
        carry = False  # an open interval runs into the start of ``month``
        while True:
            lo, hi = _month_bounds(month)
            found: int | None = None
            if carry:
                if not chunk or chunk[0][0] != lo:  # it ended at the month's start
                    found = lo
                elif chunk[0][1] < hi:
                    found = chunk[0][1]
            else:
                for _, end in chunk:
                    if end > at_us:
                        if end < hi:
                            found = end
                        carry = True
                        break
            if found is not None:
                return timedelta(0, 0, found) if found < limit_us else None
            month += 1
            # skip months open throughout (inside an interval) or closed throughout
            while month <= _LAST_MONTH:
                lo, hi = _month_bounds(month)
                if lo >= limit_us or self.total(month) != (hi - lo if carry else 0):
                    break
                month += 1
            if month > _LAST_MONTH or lo >= limit_us:
                return None
            chunk = self.peek(month)

    def intervals(self, lo: timedelta, hi: timedelta) -> Iterator[tuple[int, int]]:
        """The open intervals clipped to ``[lo, hi)`` (µs), joined across month ends, read
        one month at a time."""
        lo_us, hi_us = delta_us(lo), delta_us(hi)
        pending: tuple[int, int] | None = None
        for month in range(month_of(lo), month_of(hi) + 1):
            for start, end in self.peek(month):
                if end <= lo_us:
                    continue
                if start >= hi_us:
                    break
                if pending is not None and pending[1] == start:
                    pending = (pending[0], end)
                    continue
                if pending is not None:
                    yield max(pending[0], lo_us), min(pending[1], hi_us)
                pending = (start, end)
        if pending is not None:
            yield max(pending[0], lo_us), min(pending[1], hi_us)

    # -- runs --------------------------------------------------------------------------

    def covering(self, lo: timedelta, hi: timedelta) -> View | None:
        """A view whose span holds ``[lo, hi]`` (both in ``[FIRST, LAST)``), or None when
        they are too far apart for one run (then the far path answers)."""
        view = self.view
        if view[0] <= lo and hi < view[1]:
            return view
        first, last = month_of(lo), month_of(hi)
        if last - first >= MAX_RUN_MONTHS:
            return None
        return self._months_view(first, last)

    def extended(self, view: View, months: int, at: timedelta) -> View | None:
        """A view spanning ``view`` and ``months`` more months, or None when that would take
        the run past the span's last month or :data:`MAX_RUN_MONTHS` past ``at``'s month
        (then the far path answers)."""
        after = month_of(view[1])
        if after > _LAST_MONTH or after - month_of(at) >= MAX_RUN_MONTHS:
            return None
        last = min(after + months - 1, month_of(at) + MAX_RUN_MONTHS - 1, _LAST_MONTH)
        return self._months_view(month_of(view[0]), last)

    def _months_view(self, first: int, last: int) -> View:
        run = self._runs.get(first)
        if run is None or run[1] < last:
            with self._lock:
                run = self._runs.get(first)
                if run is None or run[1] < last:
                    run = self._grow(first, last)
        self.view = run[2]
        return run[2]

    def _grow(self, first: int, last: int) -> _Run:
        """One run spanning months ``first`` to ``last`` and every run meeting them."""
        self._make_room(sum(1 for m in range(first, last + 1) if m not in self._months))
        runs = self._runs
        for month in (first - 1, first):
            if month in runs:
                first = min(first, runs[month][0])
        for month in (last + 1, last):
            if month in runs:
                last = max(last, runs[month][1])
        # the stretch as existing runs and gaps of months to compute, in order
        parts: list[_Run | tuple[int, int, None]] = []
        month = first
        while month <= last:
            found = runs.get(month)
            if found is not None:
                parts.append(found)
                month = found[1] + 1
            else:
                gap_end = month
                while gap_end + 1 <= last and gap_end + 1 not in runs:
                    gap_end += 1
                parts.append((month, gap_end, None))
                month = gap_end + 1
        # the largest existing run keeps its open-time origin; the others line up with it
        sizes = [len(p[2][2]) if p[2] is not None else -1 for p in parts]
        anchor = max(range(len(parts)), key=sizes.__getitem__)
        views: list[View | None] = [p[2] for p in parts]
        gaps: dict[int, tuple[int, int, Chunk, timedelta]] = {}
        for k, (lo_month, hi_month, view) in enumerate(parts):
            if view is None:
                chunk = [p for m in range(lo_month, hi_month + 1) for p in self._month(m)]
                chunk = merge(chunk)
                lo_us = (_month_days(lo_month)[0] - _EPOCH_ORDINAL) * DAY_US
                hi_us = (_month_days(hi_month)[1] - _EPOCH_ORDINAL) * DAY_US
                total = timedelta(0, 0, sum(e - s for s, e in chunk))
                gaps[k] = (lo_us, hi_us, chunk, total)
        if views[anchor] is None:  # no run yet: one gap
            lo_us, hi_us, chunk, _ = gaps[anchor]
            views[anchor] = _piece(lo_us, hi_us, chunk, _ZERO)
        anchor_view = views[anchor]
        assert anchor_view is not None
        position = _end(anchor_view)
        for k in range(anchor + 1, len(parts)):  # rightwards: each starts where the last ended
            views[k] = self._aligned(views[k], gaps.get(k), position, at_start=True)
            position = _end(views[k])  # type: ignore[arg-type]
        position = anchor_view[9]
        for k in range(anchor - 1, -1, -1):  # leftwards: each ends where the next starts
            views[k] = self._aligned(views[k], gaps.get(k), position, at_start=False)
            position = views[k][9]  # type: ignore[index]
        joined = _concat([v for v in views if v is not None])
        run: _Run = (first, last, joined)
        for month in range(first, last + 1):
            runs[month] = run
        return run

    @staticmethod
    def _aligned(
        view: View | None,
        gap: tuple[int, int, Chunk, timedelta] | None,
        position: timedelta,
        *,
        at_start: bool,
    ) -> View:
        """A part whose ``P`` starts (``at_start``) or ends at ``position``."""
        if view is not None:
            target = position if at_start else position - (_end(view) - view[9])
            return _moved(view, target - view[9])
        assert gap is not None
        lo_us, hi_us, chunk, total = gap
        return _piece(lo_us, hi_us, chunk, position if at_start else position - total)
