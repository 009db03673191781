"""Business calendars: when a team is open, and business-time arithmetic over it.

A :class:`BusinessCalendar` has an IANA zone, weekly opening ranges (several
a day, second precision, ``24:00`` allowed as an end), holidays (whole days or
partial closures) and extra working days (China's 调休 make-up days, which open
a normally closed day). :class:`CalendarUnion` is open whenever any member is
(follow-the-sun teams); :meth:`BusinessCalendar.always_open` is 24/7.

Open time is real elapsed time while the calendar's local wall clock is inside
that local date's ranges: a skipped local hour (spring forward) does not exist
and a repeated one (fall back) counts twice. ``elapsed`` and ``add`` are
inverse (``elapsed(t, add(t, d)) == d``); a due instant that lands exactly on
closing time is that closing instant.

Each calendar lazily builds an index of its open intervals in UTC, one
calendar year at a time, with prefix sums of open time; every query is a
binary search over it, so a 30-business-day ``add`` costs about the same as a
1-hour one. Equal calendars share one index.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Final, NamedTuple

import attrs

from csdomain._fields import (
    Check,
    Checked,
    calendar_date,
    each,
    field,
    iana_zone,
    instance,
    integer,
    text,
    tuple_of,
)
from csdomain._time import ensure_aware, zone
from csdomain.errors import NotFoundError, ValidationError

__all__ = [
    "BusinessCalendar",
    "CalendarUnion",
    "ExtraWorkday",
    "Holiday",
    "TimeRange",
]

_US: Final = 1_000_000
_DAY: Final = 86_400
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL: Final = _EPOCH.toordinal()
_MIN_YEAR, _MAX_YEAR = 2, 9_997
_SEARCH_YEARS: Final = 100  # how far next_open/add look ahead before giving up
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _to_us(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * _DAY + delta.seconds) * _US + delta.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(0, 0, us)


def _instant(value: object, owner: object, method: str, path: str) -> int:
    if type(value) is datetime and value.tzinfo is not None:
        try:
            delta = value - _EPOCH  # raises TypeError when the tzinfo gives no offset
        except TypeError:
            pass
        else:
            return (delta.days * _DAY + delta.seconds) * _US + delta.microseconds
    return _to_us(ensure_aware(value, f"{type(owner).__name__}.{method}", path))


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


@attrs.frozen
class TimeRange(Checked):
    """A local time-of-day range ``[start, end)`` in seconds since midnight.

    ``end`` may be ``86400`` (``24:00``). Build one from text with
    :meth:`parse`: ``TimeRange.parse("09:00-12:00")``.
    """

    start: int = field(integer(minimum=0, maximum=_DAY - 1))
    end: int = field(integer(minimum=1, maximum=_DAY))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.end <= self.start:
            yield "end", f"{_clock(self.end)} is not after the start {_clock(self.start)}"

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """``"HH:MM-HH:MM"`` (seconds optional, ``24:00`` allowed as the end)."""
        bounds = text.split("-") if isinstance(text, str) else []
        parsed = [_TIME.fullmatch(b.strip()) for b in bounds]
        if len(parsed) != 2 or not all(parsed):
            raise ValidationError.single(
                "TimeRange", "", f"expected 'HH:MM-HH:MM' such as '09:00-12:00', got {text!r}"
            )
        seconds = []
        for match in parsed:
            assert match is not None
            h, m, s = int(match[1]), int(match[2]), int(match[3] or 0)
            if m > 59 or s > 59 or h > 24 or (h == 24 and (m or s)):
                raise ValidationError.single(
                    "TimeRange", "", f"{match[0]!r} is not a time of day (00:00 to 24:00)"
                )
            seconds.append(h * 3600 + m * 60 + s)
        return cls(start=seconds[0], end=seconds[1])

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _ranges_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of TimeRange, got {value!r}"
        return
    previous: TimeRange | None = None
    for i, item in enumerate(value):
        if not isinstance(item, TimeRange):
            yield f"[{i}]", f"expected a TimeRange, got {item!r}"
            return
        if previous is not None and item.start < previous.end:
            yield (
                f"[{i}]",
                (
                    f"{item} overlaps or comes before {previous}; "
                    "list ranges in order, without overlap"
                ),
            )
        previous = item


def _ranges_ok(value: object) -> bool:
    if type(value) is not tuple:
        return False
    end = -1
    for item in value:
        if type(item) is not TimeRange or item.start < end:
            return False
        end = item.end
    return True


_RANGES = Check(_ranges_ok, _ranges_explain)


def _parse_ranges(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(TimeRange.parse(v) if isinstance(v, str) else v for v in value)
    return value


@attrs.frozen
class Holiday(Checked):
    """A date on which the calendar closes: the whole day, or only the ``closed`` ranges."""

    date: date = field(calendar_date)
    name: str = field(text(max_length=200))
    closed: tuple[TimeRange, ...] = field(_RANGES, default=(), converter=_parse_ranges)


def _non_empty_ranges(value: object) -> Iterator[tuple[str, str]]:
    if value == ():
        yield "", "an extra working day needs its opening ranges"
    else:
        yield from _ranges_explain(value)


@attrs.frozen
class ExtraWorkday(Checked):
    """A date that opens with ``hours`` instead of its weekly hours (调休 make-up day)."""

    date: date = field(calendar_date)
    name: str = field(text(max_length=200))
    hours: tuple[TimeRange, ...] = field(
        Check(lambda v: v != () and _ranges_ok(v), _non_empty_ranges), converter=_parse_ranges
    )


def _weekly_convert(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(_parse_ranges(day) for day in value)
    return value


def _weekly_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or len(value) != 7:
        yield "", f"expected 7 days of ranges, Monday first, got {value!r}"
        return
    for i, day in enumerate(value):
        for sub, message in _ranges_explain(day):
            yield f"[{i}]{sub}", message


_WEEKLY = Check(
    lambda v: type(v) is tuple and len(v) == 7 and all(map(_ranges_ok, v)), _weekly_explain
)


def _unique_dates(what: str) -> Check:
    def explain(value: object) -> Iterator[tuple[str, str]]:
        seen: set[date] = set()
        for i, item in enumerate(value if isinstance(value, tuple) else ()):
            if item.date in seen:
                yield f"[{i}].date", f"{item.date.isoformat()} is listed twice"
            seen.add(item.date)

    def ok(value: object) -> bool:
        dates = [item.date for item in value] if isinstance(value, tuple) else []
        return len(set(dates)) == len(dates)

    return Check(ok, explain)


def _dated(cls: type, what: str) -> Check:
    kind = each(instance(cls, f"a {cls.__name__}"), tuple)
    unique = _unique_dates(what)
    return Check(
        lambda v: kind.ok(v) and unique.ok(v),
        lambda v: kind.explain(v) if not kind.ok(v) else unique.explain(v),
    )


class _Queries:
    """The business-time queries, shared by calendars and unions."""

    __slots__ = ()
    _index: _Index | None  # set by the attrs subclasses
    _always: bool

    @property
    def is_always_open(self) -> bool:  # overridden
        raise NotImplementedError

    def _idx(self) -> _Index:  # overridden
        raise NotImplementedError

    def is_open(self, t: datetime) -> bool:
        """True when ``t`` falls inside an open interval."""
        us = _instant(t, self, "is_open", "t")
        if self._always:
            return True
        view = (self._index or self._idx()).covering(us, us)
        i = bisect_right(view.starts, us) - 1
        return i >= 0 and us < view.ends[i]

    def next_open(self, t: datetime) -> datetime:
        """``t`` if open, else the next opening instant (UTC)."""
        us = _instant(t, self, "next_open", "t")
        if self._always:
            return _from_us(us)
        index = self._index or self._idx()
        view = index.covering(us, us)
        for _ in range(_SEARCH_YEARS):
            i = bisect_right(view.starts, us) - 1
            if i >= 0 and us < view.ends[i]:
                return _from_us(us)
            if i + 1 < len(view.starts):
                return _from_us(view.starts[i + 1])
            view = index.extended(view)
        raise NotFoundError("opening", _from_us(us).isoformat(), "the calendar stays closed")

    def next_close(self, t: datetime) -> datetime | None:
        """The end of the open interval holding ``t`` or of the next one; None if never closes."""
        us = _instant(t, self, "next_close", "t")
        if self._always:
            return None
        index = self._index or self._idx()
        view = index.covering(us, us)
        for _ in range(_SEARCH_YEARS):
            i = bisect_right(view.starts, us) - 1
            j = i if i >= 0 and us < view.ends[i] else i + 1
            if j < len(view.starts) and view.ends[j] < view.hi:
                return _from_us(view.ends[j])
            view = index.extended(view)
        return None

    def open_intervals(self, a: datetime, b: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals clipped to ``[a, b)``, in order (UTC)."""
        lo, hi = _instant(a, self, "open_intervals", "a"), _instant(b, self, "open_intervals", "b")
        if hi <= lo:
            return
        if self._always:
            yield _from_us(lo), _from_us(hi)
            return
        view = (self._index or self._idx()).covering(lo, hi)
        starts, ends = view.starts, view.ends
        i = max(bisect_right(starts, lo) - 1, 0)
        while i < len(starts) and starts[i] < hi:
            s, e = max(starts[i], lo), min(ends[i], hi)
            if s < e:
                yield _from_us(s), _from_us(e)
            i += 1

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """Open time between ``a`` and ``b`` (zero when ``b <= a``)."""
        # _instant inlined: this runs on every ticket of every SLA sweep
        try:
            da, db = a - _EPOCH, b - _EPOCH
            lo = (da.days * 86_400 + da.seconds) * 1_000_000 + da.microseconds
            hi = (db.days * 86_400 + db.seconds) * 1_000_000 + db.microseconds
        except TypeError:  # naive or not a datetime: explained by _instant
            lo, hi = _instant(a, self, "elapsed", "a"), _instant(b, self, "elapsed", "b")
        if hi <= lo:
            return timedelta(0)
        if self._always:
            return timedelta(0, 0, hi - lo)
        index = self._index or self._idx()
        view = index.view
        span_lo, span_hi, starts, ends, before, _ = view
        if not (span_lo <= lo and hi < span_hi):
            _, _, starts, ends, before, _ = index.covering(lo, hi)
        i = bisect_right(starts, hi) - 1
        j = bisect_right(starts, lo, 0, i + 1) - 1
        total = before[i] + min(hi, ends[i]) - starts[i] if i >= 0 else 0
        if j >= 0:
            total -= before[j] + min(lo, ends[j]) - starts[j]
        return timedelta(0, 0, total)

    def add(self, t: datetime, d: timedelta) -> datetime:
        """The earliest instant ``u >= t`` with ``elapsed(t, u) == d`` (UTC)."""
        try:  # _instant inlined, as in elapsed
            dt = t - _EPOCH
            us = (dt.days * 86_400 + dt.seconds) * 1_000_000 + dt.microseconds
        except TypeError:
            us = _instant(t, self, "add", "t")
        if type(d) is not timedelta or d.days < 0:
            raise ValidationError.single(
                f"{type(self).__name__}.add",
                "d",
                f"expected a timedelta of zero or more, got {d!r}",
            )
        amount = (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
        if amount == 0 or self._always:
            return _EPOCH + timedelta(0, 0, us + amount)
        index = self._index or self._idx()
        view = index.view
        if not view[0] <= us < view[1]:
            view = index.covering(us, us)
        for _ in range(_SEARCH_YEARS * 2):
            _, _, starts, ends, before, through = view
            i = bisect_right(starts, us) - 1
            target = amount + (before[i] + min(us, ends[i]) - starts[i] if i >= 0 else 0)
            if through and through[-1] >= target:
                j = bisect_left(through, target)
                return _EPOCH + timedelta(0, 0, starts[j] + target - before[j])
            view = index.extended(view)
        raise ValidationError.single(
            f"{type(self).__name__}.add", "d", f"{d!r} reaches past the supported years"
        )


_ALL_DAY: Final = (TimeRange(start=0, end=_DAY),)


@attrs.frozen(cache_hash=True)
class BusinessCalendar(_Queries, Checked):
    """Opening hours in one IANA zone, with holidays and extra working days.

    ``weekly`` holds 7 tuples of :class:`TimeRange` (Monday first); ranges may
    also be given as text (``"09:00-12:00"``). A date cannot be both a
    holiday and an extra working day.
    """

    name: str = field(text(max_length=200))
    timezone: str = field(iana_zone)
    weekly: tuple[tuple[TimeRange, ...], ...] = field(_WEEKLY, converter=_weekly_convert)
    holidays: tuple[Holiday, ...] = field(
        _dated(Holiday, "holiday"), default=(), converter=tuple_of
    )
    extra_workdays: tuple[ExtraWorkday, ...] = field(
        _dated(ExtraWorkday, "extra working day"), default=(), converter=tuple_of
    )
    _index: _Index | None = attrs.field(init=False, default=None, eq=False, hash=False, repr=False)
    _always: bool = attrs.field(init=False, default=False, eq=False, hash=False, repr=False)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        holidays = {h.date for h in self.holidays}
        for i, extra in enumerate(self.extra_workdays):
            if extra.date in holidays:
                yield (
                    f"extra_workdays[{i}].date",
                    (f"{extra.date.isoformat()} is also a holiday; a date is one or the other"),
                )
        if not any(self.weekly) and not self.extra_workdays:
            yield "weekly", "the calendar never opens; give at least one opening range"

    @classmethod
    def weekdays(
        cls,
        name: str,
        timezone: str,
        *ranges: str | TimeRange,
        days: Iterable[int] = (0, 1, 2, 3, 4),
        holidays: Iterable[Holiday] = (),
        extra_workdays: Iterable[ExtraWorkday] = (),
    ) -> BusinessCalendar:
        """A calendar open ``ranges`` on ``days`` (0 = Monday), closed on the others."""
        open_days = set(days)
        hours = _parse_ranges(list(ranges))
        weekly = tuple(hours if d in open_days else () for d in range(7))
        return cls(
            name=name,
            timezone=timezone,
            weekly=weekly,  # type: ignore[arg-type]
            holidays=tuple(holidays),
            extra_workdays=tuple(extra_workdays),
        )

    @classmethod
    def always_open(cls, name: str = "24x7") -> BusinessCalendar:
        """A calendar that never closes."""
        return cls(name=name, timezone="UTC", weekly=(_ALL_DAY,) * 7)

    @property
    def is_always_open(self) -> bool:
        """True when the calendar is open at every instant."""
        return self._always

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        always = all(day == _ALL_DAY for day in self.weekly) and not (
            self.holidays or self.extra_workdays
        )
        object.__setattr__(self, "_always", always)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The local opening ranges of ``day`` after holidays and extra working days."""
        for extra in self.extra_workdays:
            if extra.date == day:
                return extra.hours
        hours = self.weekly[day.weekday()]
        for holiday in self.holidays:
            if holiday.date == day:
                return _subtract(hours, holiday.closed) if holiday.closed else ()
        return hours

    def _chunk(self, year: int) -> list[tuple[int, int]]:
        return _calendar_year(self, year)

    def _idx(self) -> _Index:
        index = self._index
        if index is None:
            index = _shared_index(self)
            object.__setattr__(self, "_index", index)
        return index


def _subtract(hours: tuple[TimeRange, ...], closed: tuple[TimeRange, ...]) -> tuple[TimeRange, ...]:
    result: list[TimeRange] = []
    for r in hours:
        pieces = [(r.start, r.end)]
        for c in closed:
            pieces = [
                part
                for s, e in pieces
                for part in ((s, min(e, c.start)), (max(s, c.end), e))
                if part[0] < part[1]
            ]
        result.extend(TimeRange(start=s, end=e) for s, e in pieces)
    return tuple(result)


def _offset_us(zone_name: str, us: int) -> int:
    offset = _from_us(us).astimezone(zone(zone_name)).utcoffset()
    assert offset is not None
    return (offset.days * _DAY + offset.seconds) * _US + offset.microseconds


def _segments(zone_name: str, day_us: int) -> list[tuple[float, float, int]]:
    """UTC stretches around a local day with their constant UTC offsets, in µs."""
    lo, hi = day_us - 16 * 3600 * _US, day_us + 40 * 3600 * _US
    before, after = _offset_us(zone_name, lo), _offset_us(zone_name, hi)
    if before == after:
        return [(float("-inf"), float("inf"), before)]
    while hi - lo > _US:  # transitions fall on whole seconds: find the one in between
        mid = (lo + hi) // 2 // _US * _US
        if mid <= lo:
            mid = lo + _US
        if _offset_us(zone_name, mid) == before:
            lo = mid
        else:
            hi = mid
    return [(float("-inf"), hi, before), (hi, float("inf"), after)]


def _calendar_year(calendar: BusinessCalendar, year: int) -> list[tuple[int, int]]:
    """Open intervals (UTC µs) of ``calendar`` clipped to UTC ``year``, sorted and merged."""
    year_lo = _to_us(datetime(year, 1, 1, tzinfo=timezone.utc))
    year_hi = _to_us(datetime(year + 1, 1, 1, tzinfo=timezone.utc))
    pieces: list[tuple[int, int]] = []
    first = date(year, 1, 1).toordinal() - 2
    last = date(year, 12, 31).toordinal() + 2
    for ordinal in range(first, last + 1):
        day = date.fromordinal(ordinal)
        ranges = calendar.ranges_on(day)
        if not ranges:
            continue
        day_us = (ordinal - _EPOCH_ORDINAL) * _DAY * _US
        segments = _segments(calendar.timezone, day_us)
        for r in ranges:
            start, end = day_us + r.start * _US, day_us + r.end * _US
            for seg_lo, seg_hi, offset in segments:
                lo = max(start - offset, seg_lo, year_lo)
                hi = min(end - offset, seg_hi, year_hi)
                if lo < hi:
                    pieces.append((int(lo), int(hi)))
    return _merge(pieces)


def _merge(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in pieces:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


class _View(NamedTuple):
    """One consistent snapshot of an index: readers take one and use only it."""

    lo: int  # the span [lo, hi) in UTC µs
    hi: int
    starts: list[int]
    ends: list[int]
    before: list[int]  # open time from lo to the start of interval i
    through: list[int]  # open time from lo to the end of interval i


class _Index:
    """Open intervals in UTC µs over whole UTC years, with prefix sums, grown on demand.

    Growing builds a new :class:`_View` under a lock and publishes it with one
    assignment, so concurrent readers always see a complete snapshot.
    """

    def __init__(self, chunk: Callable[[int], list[tuple[int, int]]]) -> None:
        self._chunk = chunk
        self._lock = threading.Lock()
        self._years: dict[int, list[tuple[int, int]]] = {}
        self.view = _View(0, 0, [], [], [], [])

    def covering(self, lo_us: int, hi_us: int) -> _View:
        """A view whose span holds ``[lo_us, hi_us]``."""
        view = self.view
        if view.lo <= lo_us and hi_us < view.hi:
            return view
        return self._build(_from_us(lo_us).year, _from_us(hi_us).year)

    def extended(self, view: _View) -> _View:
        """A view reaching at least one year past ``view`` (for searches past its end)."""
        next_year = _from_us(view.hi).year
        if next_year > _MAX_YEAR:
            raise ValidationError.single(
                "calendar", "", f"no open time found before the year {_MAX_YEAR}"
            )
        return self._build(next_year, next_year)

    def _build(self, lo_year: int, hi_year: int) -> _View:
        if lo_year < _MIN_YEAR or hi_year > _MAX_YEAR:
            raise ValidationError.single(
                "calendar", "", f"instants must lie in the years {_MIN_YEAR} to {_MAX_YEAR}"
            )
        with self._lock:
            if self._years:  # never shrink: another thread may rely on the current span
                lo_year, hi_year = min(lo_year, *self._years), max(hi_year, *self._years)
            for year in range(lo_year, hi_year + 1):
                if year not in self._years:
                    self._years[year] = self._chunk(year)
            merged: list[tuple[int, int]] = []
            for year in range(lo_year, hi_year + 1):
                for lo, hi in self._years[year]:
                    if merged and lo == merged[-1][1]:  # open across New Year
                        merged[-1] = (merged[-1][0], hi)
                    else:
                        merged.append((lo, hi))
            before, through, total = [], [], 0
            for lo, hi in merged:
                before.append(total)
                total += hi - lo
                through.append(total)
            self.view = _View(
                _to_us(datetime(lo_year, 1, 1, tzinfo=timezone.utc)),
                _to_us(datetime(hi_year + 1, 1, 1, tzinfo=timezone.utc)),
                [lo for lo, _ in merged],
                [hi for _, hi in merged],
                before,
                through,
            )
            return self.view


@lru_cache(maxsize=256)
def _shared_index(calendar: BusinessCalendar | CalendarUnion) -> _Index:
    return _Index(calendar._chunk)


def _members_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", "a union needs at least one member calendar"
        return
    for i, item in enumerate(value):
        if not isinstance(item, BusinessCalendar):
            yield f"[{i}]", f"expected a BusinessCalendar, got {item!r}"


@attrs.frozen(cache_hash=True)
class CalendarUnion(_Queries, Checked):
    """Open whenever any member calendar is open (follow-the-sun teams)."""

    name: str = field(text(max_length=200))
    members: tuple[BusinessCalendar, ...] = field(Check.of(_members_explain), converter=tuple_of)
    _index: _Index | None = attrs.field(init=False, default=None, eq=False, hash=False, repr=False)

    _always: bool = attrs.field(init=False, default=False, eq=False, hash=False, repr=False)

    @property
    def is_always_open(self) -> bool:
        """True when some member is always open."""
        return self._always

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_always", any(m.is_always_open for m in self.members))

    def _chunk(self, year: int) -> list[tuple[int, int]]:
        pieces = [p for m in self.members for p in m._idx()._chunk(year)]
        return _merge(pieces)

    def _idx(self) -> _Index:
        index = self._index
        if index is None:
            index = _shared_index(self)
            object.__setattr__(self, "_index", index)
        return index
