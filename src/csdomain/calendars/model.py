"""The calendar model: time ranges, holidays, extra working days, calendars and unions.

A :class:`BusinessCalendar` has an IANA zone, weekly opening ranges (several
a day, second precision, ``24:00`` allowed as an end), holidays (whole days or
partial closures) and extra working days (China's 调休 make-up days, which open
a normally closed day). :class:`CalendarUnion` is open whenever any member is
(follow-the-sun teams); :func:`always_open` is 24/7.

Open time is real elapsed time while the calendar's local wall clock is inside
that local date's ranges: a skipped local hour (spring forward) does not exist
and a repeated one (fall back) counts twice. ``elapsed`` and ``add`` are
inverse (``elapsed(t, add(t, d)) == d``); a due instant that lands exactly on
closing time is that closing instant.

Each calendar lazily builds an index of its open intervals in UTC, one UTC
month at a time, with prefix sums of open time (:mod:`csdomain.calendars._index`);
every query is a binary search over it, so a 30-business-day ``add`` costs
about the same as a 1-hour one. Equal calendars share one index, and what an
index holds is bounded whatever is asked (instants decades apart are answered
by adding up whole months, not by indexing the years between).

The queries take the accepted instants, :data:`~csdomain.calendars.INSTANT_MIN`
(1900-01-01T00:00Z, included) to :data:`~csdomain.calendars.INSTANT_END`
(2200-01-01T00:00Z, excluded), and ``add`` takes at most
:data:`~csdomain.calendars.DURATION_MAX` (100 years) and answers only with an
instant before the end of that span; anything else raises ``ValidationError``
naming the argument.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.time import DURATION_MAX, EPOCH, SPAN, delta_us, duration_text, ensure_aware
from csdomain._kernel.validation import (
    Check,
    Checked,
    calendar_date,
    checked,
    describe,
    each,
    iana_zone,
    instance,
    integer,
    text,
    tuple_of,
)
from csdomain.calendars._index import (
    FIRST,
    LAST,
    Chunk,
    DayPlan,
    Index,
    View,
    day_plan,
    merge,
    month_total,
    open_month,
)
from csdomain.errors import NotFoundError, ValidationError

__all__ = [
    "BusinessCalendar",
    "CalendarUnion",
    "ExtraWorkday",
    "Holiday",
    "TimeRange",
    "always_open",
]

_DAY: Final = 86_400
_Date: TypeAlias = date  # for annotations inside classes that have a field named date
_EPOCH: Final = EPOCH
_ZERO: Final = timedelta(0)
_DATETIME_MAX: Final = datetime.max.replace(tzinfo=EPOCH.tzinfo) - EPOCH
_DATETIME_MIN: Final = datetime.min.replace(tzinfo=EPOCH.tzinfo) - EPOCH
#: How far next_open and next_close look ahead before giving up.
_SEARCH: Final = timedelta(days=36_525)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")

# The queries work on instants as offsets from the epoch, as plain timedeltas:
# ``t - _EPOCH`` gives one directly, ``_EPOCH + offset`` turns one back into a
# UTC datetime, and timedelta comparison and arithmetic run in C (integer
# microseconds would cost a conversion on the way in and out of every call;
# bench/README.md, Calendars, has the figures).


def _exact(delta: timedelta) -> timedelta:
    """A delta of a datetime subclass's own type (pandas ``Timedelta``) as a plain one, in µs."""
    return timedelta(0, 0, delta_us(delta))


def _instant(value: object, owner: object, method: str, path: str) -> timedelta:
    """``value - _EPOCH`` for an aware datetime; ValidationError naming ``method`` otherwise."""
    if type(value) is datetime and value.tzinfo is not None:
        try:
            delta = value - _EPOCH  # raises TypeError when the tzinfo gives no offset
        except TypeError:
            pass
        else:
            return delta
    aware = ensure_aware(value, f"{type(owner).__name__}.{method}", path)
    delta = aware - _EPOCH
    return delta if type(delta) is timedelta else _exact(delta)


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

    start: int = attrs.field(metadata=checked(integer(minimum=0, maximum=_DAY - 1)))
    end: int = attrs.field(metadata=checked(integer(minimum=1, maximum=_DAY)))

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
                "TimeRange",
                "",
                f"expected 'HH:MM-HH:MM' such as '09:00-12:00', got {describe(text)}",
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
        yield "", f"expected a sequence of TimeRange, got {describe(value)}"
        return
    previous: TimeRange | None = None
    for i, item in enumerate(value):
        if not isinstance(item, TimeRange):
            yield f"[{i}]", f"expected a TimeRange, got {describe(item)}"
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


#: Ranges as callers give them: a list or tuple of TimeRange or text ("09:00-12:00"); lists
#: are spelled out because list is invariant, and a bare str (a Sequence) is not accepted.
_Ranges: TypeAlias = (
    list[TimeRange] | list[str] | list[TimeRange | str] | tuple[TimeRange | str, ...]
)


def _parse_ranges(value: _Ranges) -> tuple[TimeRange, ...]:
    """Converter: ranges given as text (``"09:00-12:00"``) become :class:`TimeRange` values.

    Anything else is left for the field check to explain.
    """
    if isinstance(value, (list, tuple)):
        return tuple(TimeRange.parse(v) if isinstance(v, str) else v for v in value)
    return value  # left for the check to explain


def _required(check: Check, hint: str) -> Check:
    """``check``, explaining a missing value (``None``) with ``hint``."""

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if value is None:
            yield "", f"missing; {hint}"
        else:
            yield from check.explain(value)

    return Check(check.ok, explain)


_NAME = text(max_length=200)
_HOLIDAY_DATE = _required(calendar_date, "give the date the calendar closes")
_HOLIDAY_NAME = _required(
    _NAME, "give the holiday's name, shown in SLA traces, e.g. Holiday(date(2026, 10, 1), '国庆节')"
)
_EXTRA_DATE = _required(calendar_date, "give the date the calendar opens")
_EXTRA_NAME = _required(
    _NAME,
    "give the day's name, shown in SLA traces, "
    "e.g. ExtraWorkday(date(2026, 9, 20), '国庆节调休', ['09:00-18:00'])",
)

# Holiday and ExtraWorkday are the calendar values most often typed in or built from
# rows of data (a holiday list, a spreadsheet), where a blank or absent field is a data
# mistake like any other: so an omitted argument is reported with the other problems
# as a ValidationError instead of Python's TypeError. mypy still sees every argument
# as required, through the __init__ declared for type checkers only. The other
# calendar classes keep Python's rule (TypeError), which mypy catches before run time.


@attrs.frozen(init=False)
class Holiday(Checked):
    """A date on which the calendar closes: the whole day, or only the ``closed`` ranges.

    ``date`` and ``name`` are required (the name shows in SLA traces, so a
    Chinese desk's trace says 国庆节). Leaving one out raises
    ``ValidationError`` naming it, like any other bad value, not ``TypeError``;
    type checkers see both as required.
    """

    date: date = attrs.field(metadata=checked(_HOLIDAY_DATE))
    name: str = attrs.field(metadata=checked(_HOLIDAY_NAME))
    closed: tuple[TimeRange, ...] = attrs.field(
        default=(), converter=_parse_ranges, metadata=checked(_RANGES)
    )

    if TYPE_CHECKING:

        def __init__(self, date: _Date, name: str, closed: _Ranges = ()) -> None: ...

    else:

        def __init__(self, date=None, name=None, closed=()):
            self.__attrs_init__(date, name, closed)


declare_document("holiday", Holiday)


def _extra_hours_explain(value: object) -> Iterator[tuple[str, str]]:
    if value is None:
        yield "", "missing; give the opening ranges of the day, e.g. ['09:00-18:00']"
    elif value == ():
        yield "", "an extra working day needs its opening ranges"
    else:
        yield from _ranges_explain(value)


@attrs.frozen(init=False)
class ExtraWorkday(Checked):
    """A date that opens with ``hours`` instead of its weekly hours (调休 make-up day).

    ``date``, ``name`` and ``hours`` are required; leaving one out raises
    ``ValidationError`` naming it, as for :class:`Holiday`.
    """

    date: date = attrs.field(metadata=checked(_EXTRA_DATE))
    name: str = attrs.field(metadata=checked(_EXTRA_NAME))
    hours: tuple[TimeRange, ...] = attrs.field(
        converter=_parse_ranges,
        metadata=checked(Check(lambda v: v != () and _ranges_ok(v), _extra_hours_explain)),
    )

    if TYPE_CHECKING:

        def __init__(self, date: _Date, name: str, hours: _Ranges) -> None: ...

    else:

        def __init__(self, date=None, name=None, hours=None):
            self.__attrs_init__(date, name, hours)


declare_document("extra_workday", ExtraWorkday)


def _weekly_convert(value: Sequence[_Ranges]) -> tuple[tuple[TimeRange, ...], ...]:
    if isinstance(value, (list, tuple)):
        return tuple(_parse_ranges(day) for day in value)
    return value  # type: ignore[return-value]  # left for the check to explain


def _holidays(value: Iterable[Holiday]) -> tuple[Holiday, ...]:
    return tuple_of(value)


def _extra_workdays(value: Iterable[ExtraWorkday]) -> tuple[ExtraWorkday, ...]:
    return tuple_of(value)


def _weekly_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or len(value) != 7:
        yield "", f"expected 7 days of ranges, Monday first, got {describe(value)}"
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


def _out_of_range(owner: object, method: str, path: str, at: timedelta) -> ValidationError:
    """The error for an instant outside the accepted span, naming the argument."""
    if at < _DATETIME_MIN:
        shown = "an instant before 0001-01-01 in UTC"
    elif at > _DATETIME_MAX:
        shown = "an instant after 9999-12-31 in UTC"
    else:
        shown = (_EPOCH + at).isoformat()
    return ValidationError.single(
        f"{type(owner).__name__}.{method}",
        path,
        f"{shown} is outside the accepted instants, {SPAN}",
    )


def _check_span(
    owner: object, method: str, lo: timedelta, lo_path: str, hi: timedelta, hi_path: str
) -> None:
    """Raise ``ValidationError`` naming the first of ``lo`` and ``hi`` outside the span."""
    if not FIRST <= lo < LAST:
        raise _out_of_range(owner, method, lo_path, lo)
    if not FIRST <= hi < LAST:
        raise _out_of_range(owner, method, hi_path, hi)


def _cover(
    owner: object,
    index: Index,
    method: str,
    lo: timedelta,
    lo_path: str,
    hi: timedelta,
    hi_path: str,
) -> View | None:
    """``index.covering(lo, hi)`` once both instants are known to be in the span (None:
    too far apart for one run, the far path answers)."""
    _check_span(owner, method, lo, lo_path, hi, hi_path)
    return index.covering(lo, hi)


def _too_long(owner: object, d: timedelta) -> ValidationError:
    return ValidationError.single(
        f"{type(owner).__name__}.add",
        "d",
        f"{d!r} is more than {duration_text(DURATION_MAX)}; accepted: zero to {DURATION_MAX!r}",
    )


def _past_the_span(owner: object, at: timedelta, d: timedelta) -> ValidationError:
    return ValidationError.single(
        f"{type(owner).__name__}.add",
        "d",
        f"{d!r} of open time from t={(_EPOCH + at).isoformat()} ends past the accepted "
        f"instants, {SPAN}",
    )


class _Queries:
    """The business-time queries, shared by calendars and unions."""

    __slots__ = ()
    _index: Index | None  # set by the attrs subclasses
    _always: bool

    @property
    def is_always_open(self) -> bool:  # overridden
        raise NotImplementedError

    def _new_index(self) -> Index:  # overridden
        raise NotImplementedError

    def _idx(self) -> Index:
        """The calendar's index, made on first use and kept."""
        index = self._index
        if index is None:
            index = _shared_index(self)
            object.__setattr__(self, "_index", index)
        return index

    def is_open(self, t: datetime) -> bool:
        """True when ``t`` falls inside an open interval."""
        at = _instant(t, self, "is_open", "t")
        if self._always:
            _check_span(self, "is_open", at, "t", at, "t")
            return True
        view = _cover(self, self._index or self._idx(), "is_open", at, "t", at, "t")
        assert view is not None  # one instant: one month
        starts, ends = view[2], view[3]
        i = bisect_right(starts, at) - 1
        return i >= 0 and at < ends[i]

    def next_open(self, t: datetime) -> datetime:
        """``t`` if open, else the next opening instant (UTC).

        Raises ``NotFoundError`` when the calendar stays closed for the next
        100 years (or up to the end of the accepted instants).
        """
        at = _instant(t, self, "next_open", "t")
        if self._always:
            _check_span(self, "next_open", at, "t", at, "t")
            return _EPOCH + at
        index = self._index or self._idx()
        view = _cover(self, index, "next_open", at, "t", at, "t")
        months = 1
        while view is not None:
            starts, ends = view[2], view[3]
            i = bisect_right(starts, at) - 1
            if i >= 0 and at < ends[i]:
                return _EPOCH + at
            if i + 1 < len(starts):
                return _EPOCH + starts[i + 1]
            view = index.extended(view, months, at)
            months *= 2  # a long closed stretch costs O(its length), not O(length squared)
        found = index.opening(at, at + _SEARCH)  # past what one run spans
        if found is None:
            raise NotFoundError(
                "opening", (_EPOCH + at).isoformat(), "the calendar stays closed for 100 years"
            )
        return _EPOCH + found

    def next_close(self, t: datetime) -> datetime | None:
        """The end of the open interval holding ``t`` or of the next one.

        None when the calendar never closes (within the next 100 years, or up
        to the end of the accepted instants).
        """
        at = _instant(t, self, "next_close", "t")
        if self._always:
            _check_span(self, "next_close", at, "t", at, "t")
            return None
        index = self._index or self._idx()
        view = _cover(self, index, "next_close", at, "t", at, "t")
        months = 1
        while view is not None:
            _, hi, starts, ends, _, _, _, _, _, _ = view
            i = bisect_right(starts, at) - 1
            j = i if i >= 0 and at < ends[i] else i + 1
            if j < len(starts) and ends[j] < hi:
                return _EPOCH + ends[j]
            view = index.extended(view, months, at)
            months *= 2
        found = index.closing(at, at + _SEARCH)  # past what one run spans
        return None if found is None else _EPOCH + found

    def open_intervals(self, a: datetime, b: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals clipped to ``[a, b)``, in order (UTC)."""
        lo, hi = _instant(a, self, "open_intervals", "a"), _instant(b, self, "open_intervals", "b")
        _check_span(self, "open_intervals", lo, "a", hi, "b")
        if hi <= lo:
            return
        if self._always:
            yield _EPOCH + lo, _EPOCH + hi
            return
        index = self._index or self._idx()
        view = index.covering(lo, hi)
        if view is None:  # far apart: month by month
            for start_us, end_us in index.intervals(lo, hi):
                yield _EPOCH + timedelta(0, 0, start_us), _EPOCH + timedelta(0, 0, end_us)
            return
        starts, ends = view[2], view[3]
        i = max(bisect_right(starts, lo) - 1, 0)
        while i < len(starts) and starts[i] < hi:
            s, e = max(starts[i], lo), min(ends[i], hi)
            if s < e:
                yield _EPOCH + s, _EPOCH + e
            i += 1

    # elapsed and add run on every ticket of every SLA sweep, so every operation
    # counts: they inline _instant, the span check of Index.covering and the
    # interval search (a Python call is dear next to their whole cost), use
    # conditional expressions rather than min(), and look at the neighbouring
    # interval before searching for the other end. With x in interval k (the
    # last one starting at or before x), the open time counted up to x, P(x), is
    # x - shift[k] while x < ends[k], through[k] from then on; see _index.View.

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """Open time between ``a`` and ``b`` (zero when ``b <= a``)."""
        try:
            lo, hi = a - _EPOCH, b - _EPOCH
        except TypeError:  # naive or not a datetime: explained by _instant
            lo, hi = _instant(a, self, "elapsed", "a"), _instant(b, self, "elapsed", "b")
        if type(lo) is not timedelta or type(hi) is not timedelta:  # pandas Timestamp and such
            lo, hi = _instant(a, self, "elapsed", "a"), _instant(b, self, "elapsed", "b")
        if hi <= lo:
            if hi >= FIRST and lo < LAST:
                return _ZERO
            _check_span(self, "elapsed", lo, "a", hi, "b")  # raises
        if self._always:
            if lo >= FIRST and hi < LAST:
                return hi - lo
            _check_span(self, "elapsed", lo, "a", hi, "b")  # raises
        index = self._index or self._idx()
        # one snapshot: another thread may publish another run meanwhile
        span_lo, span_hi, starts, ends, shift, through, day0, first, _, base = index.view
        if not (span_lo <= lo and hi < span_hi):
            view = _cover(self, index, "elapsed", lo, "a", hi, "b")
            if view is None:  # far apart: whole months added up
                return index.open_between(lo, hi)
            _, _, starts, ends, shift, through, day0, first, _, base = view
        k = hi.days - day0  # b's interval, from the day's first candidate
        i, n = first[k], first[k + 1]
        if i < n and starts[i + 1] <= hi:
            i += 1
            if i < n:
                i = bisect_right(starts, hi, i + 1, n + 1) - 1
        if i < 0:  # b is before the first opening
            return _ZERO
        end = ends[i]
        if starts[i] <= lo:  # both in interval i or the gap after it
            return (hi if hi < end else end) - (lo if lo < end else end)
        upto_hi = hi - shift[i] if hi < end else through[i]  # P(b)
        j = i - 1  # a's interval: usually the previous one (an SLA clock started overnight)
        if j >= 0 and starts[j] > lo:
            k = lo.days - day0
            j, n = first[k], first[k + 1]
            if j < n and starts[j + 1] <= lo:
                j += 1
                if j < n:
                    j = bisect_right(starts, lo, j + 1, n + 1) - 1
        if j < 0:  # a is before the first opening
            return upto_hi - base
        return upto_hi - (lo - shift[j] if lo < ends[j] else through[j])

    def add(self, t: datetime, d: timedelta) -> datetime:
        """The earliest instant ``u >= t`` with ``elapsed(t, u) == d`` (UTC).

        ``d`` is zero to :data:`~csdomain.calendars.DURATION_MAX` (100 years).
        Raises ``ValidationError`` naming ``d`` when it is longer, or when the
        due instant would not lie before the end of the accepted instants
        (:data:`~csdomain.calendars.INSTANT_END`).
        """
        try:
            at = t - _EPOCH
        except TypeError:  # naive or not a datetime: explained by _instant
            at = _instant(t, self, "add", "t")
        if type(at) is not timedelta:  # pandas Timestamp and such
            at = _instant(t, self, "add", "t")
        if type(d) is not timedelta or d < _ZERO:
            raise ValidationError.single(
                f"{type(self).__name__}.add",
                "d",
                f"expected a timedelta of zero or more, got {describe(d)}",
            )
        if not d or self._always:
            return self._add_plain(at, d)
        index = self._index or self._idx()
        view = index.view  # one snapshot, as in elapsed
        span_lo, span_hi, starts, ends, shift, through, day0, first, shift_at, base = view
        if not span_lo <= at < span_hi:
            covered = _cover(self, index, "add", at, "t", at, "t")
            assert covered is not None  # one instant: one month
            view = covered
            _, _, starts, ends, shift, through, day0, first, shift_at, base = view
        k = at.days - day0  # t's interval, from the day's first candidate
        i, n = first[k], first[k + 1]
        if i < n and starts[i + 1] <= at:
            i += 1
            if i < n:
                i = bisect_right(starts, at, i + 1, n + 1) - 1
        try:
            # target: P(due instant)
            if i < 0:  # t is before the first opening
                target = base + d
            elif at < ends[i]:  # t is open: the due instant may be in its own interval
                target = at - shift[i] + d
                if through[i] >= target:
                    return shift_at[i] + target
            else:
                target = through[i] + d
            # the due instant is in the first interval that has target open time by its
            # end: usually the one after t's, so look there before bisecting
            j = i + 1
            if through[j] < target:
                j = bisect_left(through, target, j + 1)
            return shift_at[j] + target
        except IndexError:  # no such interval in the view (cheaper than checking first)
            return self._add_beyond(index, view, at, d)
        except OverflowError:  # d near timedelta.max
            return self._add_beyond(index, view, at, d)

    def _add_plain(self, at: timedelta, d: timedelta) -> datetime:
        """``add`` for a zero span or an always-open calendar: ``t + d`` in UTC."""
        if not FIRST <= at < LAST:
            raise _out_of_range(self, "add", "t", at)
        if d > DURATION_MAX:
            raise _too_long(self, d)
        if at + d >= LAST:
            raise _past_the_span(self, at, d)
        return _EPOCH + (at + d)

    def _add_beyond(self, index: Index, view: View, at: timedelta, d: timedelta) -> datetime:
        """``add`` when the due instant lies past ``view``: extend the run ahead of it, then
        (past what one run spans) count whole months.

        The loop starts again from ``view`` (add's first try, redone off the hot path).
        """
        if d > DURATION_MAX:
            raise _too_long(self, d)
        months = 1
        current: View | None = view
        while current is not None:
            _, _, starts, ends, shift, through, _, _, _, base = current
            i = bisect_right(starts, at) - 1
            target = d + ((at if at < ends[i] else ends[i]) - shift[i] if i >= 0 else base)
            if through and through[-1] >= target:
                return _EPOCH + (target + shift[bisect_left(through, target)])
            current = index.extended(current, months, at)
            months *= 2
        found = index.due(at, d)
        if found is None:
            raise _past_the_span(self, at, d)
        return _EPOCH + found


_ALL_DAY: Final = (TimeRange(start=0, end=_DAY),)


@attrs.frozen(cache_hash=True)
class BusinessCalendar(_Queries, Checked):
    """Opening hours in one IANA zone, with holidays and extra working days.

    ``weekly`` holds 7 tuples of :class:`TimeRange` (Monday first); ranges may
    also be given as text (``"09:00-12:00"``). A date cannot be both a
    holiday and an extra working day.
    """

    name: str = attrs.field(metadata=checked(_NAME))
    timezone: str = attrs.field(metadata=checked(iana_zone))
    weekly: tuple[tuple[TimeRange, ...], ...] = attrs.field(
        converter=_weekly_convert, metadata=checked(_WEEKLY)
    )
    holidays: tuple[Holiday, ...] = attrs.field(
        default=(), converter=_holidays, metadata=checked(_dated(Holiday, "holiday"))
    )
    extra_workdays: tuple[ExtraWorkday, ...] = attrs.field(
        default=(),
        converter=_extra_workdays,
        metadata=checked(_dated(ExtraWorkday, "extra working day")),
    )
    _index: Index | None = attrs.field(init=False, default=None, eq=False, hash=False, repr=False)
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
            weekly=weekly,
            holidays=tuple(holidays),
            extra_workdays=tuple(extra_workdays),
        )

    @classmethod
    def always_open(cls, name: str = "24x7", *, timezone: str = "UTC") -> BusinessCalendar:
        """A calendar that never closes; ``timezone`` is the zone its local dates are in.

        The same as :func:`always_open` (``always_open(timezone, name=name)``).
        """
        return cls(name=name, timezone=timezone, weekly=(_ALL_DAY,) * 7)

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

    def _new_index(self) -> Index:
        """A new index of this calendar's open time, by UTC month."""
        plan = self._plan()
        return Index(lambda month: open_month(plan, month), lambda month: month_total(plan, month))

    def _plan(self) -> DayPlan:
        """The calendar's hours by weekday and by special date, as the index reads them."""
        special: dict[int, Sequence[tuple[int, int]]] = {}
        for holiday in self.holidays:
            hours = self.weekly[holiday.date.weekday()]
            open_ = _subtract(hours, holiday.closed) if holiday.closed else ()
            special[holiday.date.toordinal()] = [(r.start, r.end) for r in open_]
        for extra in self.extra_workdays:
            special[extra.date.toordinal()] = [(r.start, r.end) for r in extra.hours]
        weekly = [[(r.start, r.end) for r in day] for day in self.weekly]
        return day_plan(self.timezone, weekly, special)


declare_document("business_calendar", BusinessCalendar)


def always_open(timezone: str = "UTC", *, name: str = "24x7") -> BusinessCalendar:
    """A calendar open at every instant, whose local dates are in the IANA zone ``timezone``.

    ``always_open()`` is in UTC. The zone does not change any answer (open is
    open), but it is the calendar's zone wherever one is shown or stored, and
    :meth:`BusinessCalendar.ranges_on` reads its local dates.
    """
    return BusinessCalendar.always_open(name, timezone=timezone)


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


@lru_cache(maxsize=256)
def _shared_index(calendar: BusinessCalendar | CalendarUnion) -> Index:
    return calendar._new_index()


def _members(value: Iterable[BusinessCalendar]) -> tuple[BusinessCalendar, ...]:
    return tuple_of(value)


def _members_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", "a union needs at least one member calendar"
        return
    for i, item in enumerate(value):
        if not isinstance(item, BusinessCalendar):
            yield f"[{i}]", f"expected a BusinessCalendar, got {describe(item)}"


@attrs.frozen(cache_hash=True)
class CalendarUnion(_Queries, Checked):
    """Open whenever any member calendar is open (follow-the-sun teams)."""

    name: str = attrs.field(metadata=checked(_NAME))
    members: tuple[BusinessCalendar, ...] = attrs.field(
        converter=_members, metadata=checked(Check.of(_members_explain))
    )
    _index: Index | None = attrs.field(init=False, default=None, eq=False, hash=False, repr=False)
    _always: bool = attrs.field(init=False, default=False, eq=False, hash=False, repr=False)

    @property
    def is_always_open(self) -> bool:
        """True when some member is always open."""
        return self._always

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_always", any(m.is_always_open for m in self.members))

    def _new_index(self) -> Index:
        """A new index of the union's open time: the members' months, merged."""
        members = [m._idx() for m in self.members]

        def month(m: int) -> Chunk:
            return merge([p for index in members for p in index.peek(m)])

        return Index(month)


declare_document("calendar_union", CalendarUnion)
