"""Business-time ``add`` and ``elapsed``: csdomain against pandas, businesstime, business-duration.

Two calendars, both built from the ``holidays`` package for 2025-2027:

* **cn**: Asia/Shanghai, Monday to Friday 09:00-18:00, China's statutory
  holidays (whole days) and its weekend make-up working days (调休,
  ``holidays.China().weekend_workdays``) open 09:00-18:00.
* **us**: America/New_York, Monday to Friday 09:00-17:00, US federal holidays
  (whole days, observed dates included as the package lists them).

The inputs are 2,000 random start instants (``random.Random(2026)``, minute
precision, uniform over 2025-2026 in UTC, shown in the calendar's zone); every
contender gets the same ones. Spans: 1 and 8 business hours, 5 and 30 business
days (a business day is the calendar's opening hours: 9 h for cn, 8 h for us).

* ``add(start, span)``: csdomain ``BusinessCalendar.add`` (aware datetimes)
  against pandas ``CustomBusinessHour`` added to a naive local ``Timestamp``.
* ``elapsed(start, end)`` with ``end`` the oracle's ``add(start, span)``:
  csdomain ``BusinessCalendar.elapsed`` against ``businesstime``'s
  ``BusinessTime.businesstime_hours`` and ``business-duration``'s
  ``businessDuration(..., unit="sec")``, both on naive local datetimes.

The peers get their inputs already converted (naive local values, offsets and
calendars built once), and holiday sets rather than lists, so the timing is
their best case. None of them can express make-up working days.

The oracle is exact and independent of csdomain: it walks local days, each
day's opening and closing converted to UTC with zoneinfo (valid because neither
zone changes its offset during opening hours; the script checks that for every
day). It is itself checked against a minute-by-minute walk over UTC minutes
(each minute classified by its local wall time) on the first inputs of every
span. A contender agrees when its answer equals the oracle's exactly: the same
instant for ``add``, the same duration to the second for ``elapsed``.

Run from the repository root (needs the ``bench`` extra)::

    .venv/bin/python bench/calendars.py            # full run
    .venv/bin/python bench/calendars.py --quick    # smoke run (a second or two)

Goals (from the issue): ``add`` at least 40x faster than pandas
``CustomBusinessHour``; ``elapsed`` at least 2x faster than businesstime on
1-hour spans and 25x on 30-business-day spans; a 30-business-day call at most
1.3x a 1-hour call; 100% agreement with the oracle. ``--check`` exits with
status 1 when a goal is not met.

Then the run times the datetime operations every csdomain call performs
whatever its algorithm (the method call, ``t - epoch`` on an aware input,
``epoch + offset`` for a UTC result) and one bisect, each alone on the first
calendar's inputs: the per-call floor a pure-Python ``add`` or ``elapsed`` works
above. Last come the first query in a new year and queries centuries apart (a
ticket opened in 1900 evaluated in 2199, ``--far`` alone): time, tracemalloc
peak and the months the index keeps.
"""

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from machine import cpu, load_average, package_version

import csdomain

try:
    import holidays as holidays_pkg
except ImportError:  # pragma: no cover - the bench extra installs it
    holidays_pkg = None  # type: ignore[assignment]

GOAL_ADD_VS_PANDAS = 40.0  # pandas µs / csdomain µs, at least
GOAL_ELAPSED_VS_BUSINESSTIME = {"1 h": 2.0, "30 d": 25.0}  # businesstime / csdomain, at least
GOAL_30D_OVER_1H = 1.3  # csdomain 30-day µs / 1-hour µs, at most

YEARS = (2025, 2026, 2027)  # 30 business days from late 2026 reach into 2027
SEED = 2026
INPUT_FROM = datetime(2025, 1, 1, tzinfo=timezone.utc)
INPUT_TO = datetime(2027, 1, 1, tzinfo=timezone.utc)

# (label, business hours, business days): exactly one of the two is set
SPANS: tuple[tuple[str, int, int], ...] = (
    ("1 h", 1, 0),
    ("8 h", 8, 0),
    ("5 d", 0, 5),
    ("30 d", 0, 30),
)
SPAN_WORDS = {
    "1 h": "1 business hour",
    "8 h": "8 business hours",
    "5 d": "5 business days",
    "30 d": "30 business days",
}

DAY = timedelta(days=1)


# -- the calendars, independent of csdomain -------------------------------------


@dataclass(frozen=True)
class CalendarSpec:
    """One benchmark calendar as plain data: what every contender and the oracle are built from."""

    key: str
    title: str
    timezone: str
    opens: int  # seconds since local midnight
    closes: int
    holidays: dict[date, str]  # whole days closed
    extra_workdays: dict[date, str]  # open opens-closes although a weekend day

    @property
    def day_seconds(self) -> int:
        return self.closes - self.opens

    @property
    def hours_text(self) -> str:
        return f"{_hhmm(self.opens)}-{_hhmm(self.closes)}"

    def hours_on(self, d: date) -> tuple[int, int] | None:
        """The local opening hours of date ``d`` (seconds since midnight), None when closed."""
        if d in self.holidays:
            return None
        if d in self.extra_workdays or d.weekday() < 5:
            return self.opens, self.closes
        return None

    def span_seconds(self, label: str) -> int:
        hours, days = next((h, d) for name, h, d in SPANS if name == label)
        return hours * 3600 + days * self.day_seconds


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def build_specs() -> list[CalendarSpec]:
    """The two calendars from the ``holidays`` package."""
    cn = holidays_pkg.country_holidays("CN", years=YEARS)
    # weekend_workdays also carries a few dates of other years (2001, 2005, ...)
    cn_extra = {d: "make-up working day (调休)" for d in cn.weekend_workdays if d.year in YEARS}
    cn_days = {d: name for d, name in cn.items() if d.year in YEARS}
    both = set(cn_days) & set(cn_extra)
    if both:
        raise ValueError(f"dates both holiday and make-up working day: {sorted(both)}")
    us = holidays_pkg.country_holidays("US", years=YEARS)
    us_days = {d: name for d, name in us.items() if d.year in YEARS}
    return [
        CalendarSpec(
            "cn",
            "Asia/Shanghai, Mon-Fri 09:00-18:00, China's holidays and make-up working days",
            "Asia/Shanghai",
            9 * 3600,
            18 * 3600,
            cn_days,
            cn_extra,
        ),
        CalendarSpec(
            "us",
            "America/New_York, Mon-Fri 09:00-17:00, US federal holidays",
            "America/New_York",
            9 * 3600,
            17 * 3600,
            us_days,
            {},
        ),
    ]


# -- the oracle -------------------------------------------------------------------


def _epoch(t: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime (the inputs are whole minutes)."""
    return int(t.timestamp())


class Oracle:
    """Exact business time of a ``CalendarSpec``, computed day by day in local time.

    Each open local date gets its opening and closing instants as UTC epoch
    seconds. That is exact only if the zone's offset does not change inside
    the opening hours and neither end is a skipped or repeated wall time, so
    the constructor checks both for every day and raises otherwise.
    """

    def __init__(self, spec: CalendarSpec, first: date, last: date) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self.windows: dict[date, tuple[int, int]] = {}
        d = first
        while d <= last:
            hours = spec.hours_on(d)
            if hours is not None:
                o, c = (self._local_instant(d, s) for s in hours)
                if c - o != hours[1] - hours[0]:
                    raise ValueError(f"{spec.key}: the offset changes during {d}'s opening hours")
                self.windows[d] = (o, c)
            d += DAY
        self.first, self.last = first, last

    def _local_instant(self, d: date, seconds: int) -> int:
        wall = datetime(d.year, d.month, d.day) + timedelta(seconds=seconds)
        early, late = wall.replace(tzinfo=self.zone), wall.replace(tzinfo=self.zone, fold=1)
        if early.utcoffset() != late.utcoffset():
            raise ValueError(f"{self.spec.key}: {wall} is skipped or repeated")
        return _epoch(early)

    def local_date(self, u: int) -> date:
        d = datetime.fromtimestamp(u, self.zone).date()
        if not self.first < d < self.last:
            raise ValueError(f"{self.spec.key}: {d} is outside the oracle's days")
        return d

    def add(self, t: int, span: int) -> int:
        """The earliest instant u >= t with ``span`` seconds of open time in [t, u)."""
        d, remaining = self.local_date(t), span
        if remaining == 0:
            return t
        while True:
            window = self.windows.get(d)
            if window is not None:
                start = max(window[0], t)
                if start < window[1]:
                    if remaining <= window[1] - start:
                        return start + remaining
                    remaining -= window[1] - start
            d += DAY
            if d > self.last:
                raise ValueError(f"{self.spec.key}: ran past the oracle's days")

    def elapsed(self, a: int, b: int) -> int:
        """Open seconds in [a, b)."""
        if b <= a:
            return 0
        total, d, end = 0, self.local_date(a), self.local_date(b)
        while d <= end:
            window = self.windows.get(d)
            if window is not None:
                total += max(0, min(window[1], b) - max(window[0], a))
            d += DAY
        return total

    def is_closing(self, u: int) -> bool:
        window = self.windows.get(self.local_date(u))
        return window is not None and window[1] == u

    def next_open(self, u: int) -> int:
        """``u`` when it is open, else the next opening instant."""
        d = self.local_date(u)
        while True:
            window = self.windows.get(d)
            if window is not None and u < window[1]:
                return max(u, window[0])
            d += DAY

    def makeup_between(self, a: int, b: int) -> bool:
        """Whether a make-up working day lies in the local dates from ``a`` to ``b``."""
        lo, hi = sorted((self.local_date(a), self.local_date(b)))
        return any(lo <= d <= hi for d in self.spec.extra_workdays)


class MinuteWalk:
    """The definition itself, minute by minute: a UTC minute is open when its local wall time is.

    Exact for whole-minute inputs and spans, since both zones' offsets are
    whole hours and every opening and closing time is a whole minute. Slow
    (one zoneinfo conversion per minute), so it only checks ``Oracle``.
    """

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)

    def is_open(self, u: int) -> bool:
        local = datetime.fromtimestamp(u, self.zone)
        hours = self.spec.hours_on(local.date())
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        return hours is not None and hours[0] <= seconds < hours[1]

    def add(self, t: int, span: int) -> int:
        assert t % 60 == 0 and span % 60 == 0 and span > 0
        u, remaining = t, span
        while True:
            if self.is_open(u):
                remaining -= 60
                if remaining == 0:
                    return u + 60
            u += 60

    def elapsed(self, a: int, b: int) -> int:
        return sum(60 for u in range(a, b, 60) if self.is_open(u))


def check_oracle(
    spec: CalendarSpec, oracle: Oracle, starts: Sequence[int], counts: dict[str, int]
) -> str:
    """Compare the day oracle with the minute walk on the first inputs of each span."""
    walk = MinuteWalk(spec)
    done = []
    for label, count in counts.items():
        span = spec.span_seconds(label)
        for t in starts[:count]:
            expected = walk.add(t, span)
            got = oracle.add(t, span)
            if got != expected:
                raise AssertionError(
                    f"{spec.key} oracle add({t}, {label}): {got} != walk {expected}"
                )
            if oracle.elapsed(t, got) != walk.elapsed(t, got) or oracle.elapsed(t, got) != span:
                raise AssertionError(
                    f"{spec.key} oracle elapsed({t}, {got}) disagrees with the walk"
                )
        done.append(f"{min(count, len(starts))} x {label}")
    return ", ".join(done)


# -- contenders ---------------------------------------------------------------------


@dataclass
class Inputs:
    """One calendar's inputs in every form a contender wants, made before any timing."""

    spec: CalendarSpec
    oracle: Oracle
    zone: ZoneInfo
    starts: list[int]  # epoch seconds
    aware: list[datetime]  # in the calendar's zone
    naive: list[datetime]  # local wall time, no tzinfo
    ends: dict[str, list[int]] = field(default_factory=dict)  # oracle add(start, span)
    ends_aware: dict[str, list[datetime]] = field(default_factory=dict)
    ends_naive: dict[str, list[datetime]] = field(default_factory=dict)


def make_inputs(spec: CalendarSpec, oracle: Oracle, starts: list[int]) -> Inputs:
    zone = ZoneInfo(spec.timezone)
    aware = [datetime.fromtimestamp(t, zone) for t in starts]
    inputs = Inputs(spec, oracle, zone, starts, aware, [t.replace(tzinfo=None) for t in aware])
    for label, _, _ in SPANS:
        span = spec.span_seconds(label)
        ends = [oracle.add(t, span) for t in starts]
        inputs.ends[label] = ends
        inputs.ends_aware[label] = [datetime.fromtimestamp(u, zone) for u in ends]
        inputs.ends_naive[label] = [t.replace(tzinfo=None) for t in inputs.ends_aware[label]]
    return inputs


@dataclass
class Task:
    """One contender's operation on one span of one calendar: a pass over all inputs."""

    calendar: str
    contender: str
    operation: str  # "add" or "elapsed"
    span: str
    run: Callable[[], list[Any]]
    to_epoch: Callable[
        [list[Any]], list[int]
    ]  # results as epoch seconds (add) or seconds (elapsed)
    samples: list[float] = field(default_factory=list)  # µs per call, one per repeat
    agree: int = 0
    misses: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def us(self) -> float:
        return statistics.median(self.samples)


def _seconds(td: Any) -> int:
    return round(td.total_seconds())


def csdomain_tasks(inp: Inputs) -> tuple[list[Task], list[str]]:
    try:
        from csdomain.calendars import BusinessCalendar, ExtraWorkday, Holiday, TimeRange
    except ImportError as exc:
        return [], [f"csdomain: csdomain.calendars cannot be imported ({exc})"]
    spec = inp.spec
    hours = TimeRange.parse(spec.hours_text)
    cal = BusinessCalendar.weekdays(
        spec.key,
        spec.timezone,
        spec.hours_text,
        holidays=tuple(Holiday(d, name) for d, name in sorted(spec.holidays.items())),
        extra_workdays=tuple(
            ExtraWorkday(d, name, hours=(hours,)) for d, name in sorted(spec.extra_workdays.items())
        ),
    )
    add, elapsed = cal.add, cal.elapsed
    tasks = []
    for label, _, _ in SPANS:
        span, starts, ends = (
            timedelta(seconds=spec.span_seconds(label)),
            inp.aware,
            inp.ends_aware[label],
        )

        def run_add(span: timedelta = span, starts: list[datetime] = starts) -> list[Any]:
            return [add(t, span) for t in starts]

        def run_elapsed(starts: list[datetime] = starts, ends: list[datetime] = ends) -> list[Any]:
            return [elapsed(a, b) for a, b in zip(starts, ends, strict=True)]

        tasks.append(
            Task(spec.key, "csdomain", "add", label, run_add, lambda r: [_epoch(u) for u in r])
        )
        tasks.append(
            Task(
                spec.key,
                "csdomain",
                "elapsed",
                label,
                run_elapsed,
                lambda r: [_seconds(x) for x in r],
            )
        )
    return tasks, []


def pandas_tasks(inp: Inputs) -> tuple[list[Task], list[str]]:
    try:
        import pandas as pd
    except ImportError:
        return [], ["pandas: not installed"]
    spec, zone = inp.spec, inp.zone
    stamps = [pd.Timestamp(t) for t in inp.naive]
    tasks = []
    for label, _, _ in SPANS:
        offset = pd.offsets.CustomBusinessHour(
            n=spec.span_seconds(label) // 3600,
            start=_hhmm(spec.opens),
            end=_hhmm(spec.closes),
            holidays=sorted(spec.holidays),
            weekmask="Mon Tue Wed Thu Fri",
        )

        def run(offset: Any = offset) -> list[Any]:
            return [t + offset for t in stamps]

        def to_epoch(results: list[Any]) -> list[int]:
            return [_epoch(r.to_pydatetime().replace(tzinfo=zone)) for r in results]

        tasks.append(Task(spec.key, "pandas CustomBusinessHour", "add", label, run, to_epoch))
    return tasks, []


def businesstime_tasks(inp: Inputs) -> tuple[list[Task], list[str]]:
    try:
        from businesstime import BusinessTime
    except ImportError:
        return [], ["businesstime: not installed"]
    spec = inp.spec
    bt = BusinessTime(
        business_hours=tuple(
            (datetime.min + timedelta(seconds=s)).time() for s in (spec.opens, spec.closes)
        ),
        weekends=(5, 6),
        holidays=frozenset(spec.holidays),  # any container works; a set is its fastest
    )
    hours = bt.businesstime_hours
    tasks = []
    for label, _, _ in SPANS:
        starts, ends = inp.naive, inp.ends_naive[label]

        def run(starts: list[datetime] = starts, ends: list[datetime] = ends) -> list[Any]:
            return [hours(a, b) for a, b in zip(starts, ends, strict=True)]

        tasks.append(
            Task(
                spec.key, "businesstime", "elapsed", label, run, lambda r: [_seconds(x) for x in r]
            )
        )
    return tasks, []


def business_duration_tasks(inp: Inputs) -> tuple[list[Task], list[str]]:
    try:
        from business_duration import businessDuration
    except ImportError:
        return [], ["business-duration: not installed"]
    spec = inp.spec
    opens, closes = (
        (datetime.min + timedelta(seconds=s)).time() for s in (spec.opens, spec.closes)
    )
    weekend, hols = [5, 6], frozenset(spec.holidays)
    tasks = []
    for label, _, _ in SPANS:
        starts, ends = inp.naive, inp.ends_naive[label]

        def run(starts: list[datetime] = starts, ends: list[datetime] = ends) -> list[Any]:
            return [
                businessDuration(a, b, opens, closes, weekend, hols, "sec")
                for a, b in zip(starts, ends, strict=True)
            ]

        tasks.append(
            Task(
                spec.key,
                "business-duration",
                "elapsed",
                label,
                run,
                lambda r: [round(x) for x in r],
            )
        )
    return tasks, []


# -- agreement ------------------------------------------------------------------------


def score(task: Task, inp: Inputs, results: list[Any]) -> None:
    """Count the contender's answers equal to the oracle's, and sort the misses by cause."""
    oracle, spec = inp.oracle, inp.spec
    got = task.to_epoch(results)
    ends = inp.ends[task.span]
    span = spec.span_seconds(task.span)
    for i, (t, g) in enumerate(zip(inp.starts, got, strict=True)):
        add = task.operation == "add"
        expected = oracle.add(t, span) if add else oracle.elapsed(t, ends[i])
        if g == expected:
            task.agree += 1
            continue
        end = ends[i]
        if (
            task.operation == "add"
            and oracle.is_closing(expected)
            and g == oracle.next_open(expected)
        ):
            cause = "closing time"
        elif oracle.makeup_between(t, max(end, g) if task.operation == "add" else end):
            cause = "make-up day"
        else:
            cause = "other"
        task.misses[cause] = task.misses.get(cause, 0) + 1
        shown = cause == "other" or task.contender == "csdomain"
        if shown and len(task.examples) < 3:
            task.examples.append(_example(task, inp, i, expected, g))


def _example(task: Task, inp: Inputs, i: int, expected: int, got: int) -> str:
    zone = inp.zone
    start = inp.aware[i].isoformat()
    if task.operation == "add":
        show = [datetime.fromtimestamp(u, zone).isoformat() for u in (expected, got)]
        return f"add({start}, {task.span}): expected {show[0]}, got {show[1]}"
    end = datetime.fromtimestamp(inp.ends[task.span][i], zone).isoformat()
    expected_td, got_td = timedelta(seconds=expected), timedelta(seconds=got)
    return f"elapsed({start}, {end}): expected {expected_td}, got {got_td}"


# -- timing ---------------------------------------------------------------------------


def measure(tasks: list[Task], n: int, repeat: int) -> None:
    """Median µs per call of each task, repeats interleaved across tasks, gc off while timing."""
    for _ in range(repeat):
        for task in tasks:
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter_ns()
                task.run()
                t1 = time.perf_counter_ns()
            finally:
                gc.enable()
            task.samples.append((t1 - t0) / n / 1000)


# -- floor ------------------------------------------------------------------------------


class _Noop:
    """A method shaped like ``add`` and ``elapsed`` that does nothing: the call's own cost."""

    def call(self, a: Any, b: Any) -> Any:
        return a


def floor(inp: Inputs, n: int, repeat: int) -> list[str]:
    """The datetime operations under every csdomain call, each timed alone on ``inp``."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    aware, span, call = inp.aware, timedelta(hours=1), _Noop().call
    offsets = [t - epoch for t in aware]
    # the opening instants of the calendar's days: about as many as csdomain's index holds
    opens = [timedelta(seconds=o) for o, _ in sorted(inp.oracle.windows.values())]
    labels = [
        "a method call that returns its first argument, `obj.call(t, span)`",
        "an aware input to an offset, `t - epoch` (zoneinfo zone)",
        "an offset to a UTC datetime, `epoch + offset`",
        f"one `bisect_right` over {len(opens)} opening instants (timedeltas)",
    ]
    runs: list[Callable[[], list[Any]]] = [
        lambda: [call(t, span) for t in aware],
        lambda: [t - epoch for t in aware],
        lambda: [epoch + x for x in offsets],
        lambda: [bisect_right(opens, x) for x in offsets],
    ]
    tasks = [Task(inp.spec.key, "floor", "floor", "1 h", run, lambda r: []) for run in runs]
    for task in tasks:  # warm up, as the contenders' scored pass does
        task.run()
    measure(tasks, n, repeat)
    call_us, into, out, search = (task.us for task in tasks)
    lines = ["| operation (alone) | µs/call |", "|---|--:|"]
    lines += [f"| {label} | {task.us:.2f} |" for label, task in zip(labels, tasks, strict=True)]
    lines.append("")
    lines.append(
        f"Floor with no search at all: add {call_us + into + out:.2f} µs "
        f"(call, one conversion in, one out), elapsed {call_us + 2 * into:.2f} µs "
        f"(call, two conversions in); "
        f"with one bisect each: add {call_us + into + out + search:.2f} µs, "
        f"elapsed {call_us + 2 * into + search:.2f} µs. Each figure includes the list "
        "comprehension's few nanoseconds per item, as the timings above do."
    )
    return lines


# -- first query in a new year ---------------------------------------------------------

FIRST_QUERY_CASES = (
    ("a new calendar, first query (2026)", (), 2026),
    ("2027, after queries in 2026", (2026,), 2027),
    ("2090, after queries in 2026 (a far year, as generated tickets pick)", (2026,), 2090),
)


def first_query(specs: list[CalendarSpec], repeat: int) -> list[str]:
    """Milliseconds for the first query in a year a calendar has not answered for yet.

    Every repeat builds fresh calendars (new names: equal calendars share their index),
    answers one ``add`` in each earlier year, then times one ``add`` of a business hour
    in the new year. This is the index's lazy building, which the timings above leave
    out (their warm-up pass builds it).
    """
    from csdomain.calendars import BusinessCalendar, CalendarUnion, ExtraWorkday, Holiday, TimeRange

    def build(spec: CalendarSpec, tag: str) -> Any:
        hours = TimeRange.parse(spec.hours_text)
        return BusinessCalendar.weekdays(
            f"{spec.key}-{tag}",
            spec.timezone,
            spec.hours_text,
            holidays=tuple(Holiday(d, name) for d, name in sorted(spec.holidays.items())),
            extra_workdays=tuple(
                ExtraWorkday(d, name, hours=(hours,))
                for d, name in sorted(spec.extra_workdays.items())
            ),
        )

    kinds: list[tuple[str, Callable[[str], Any]]] = [
        (f"{specs[0].key} ({specs[0].title})", lambda tag: build(specs[0], tag)),
        (
            f"union of {specs[0].key} and {specs[1].key}",
            lambda tag: CalendarUnion(f"u-{tag}", (build(specs[0], tag), build(specs[1], tag))),
        ),
    ]
    hour = timedelta(hours=1)
    lines = [
        "| calendar | query | ms, median | ms, max |",
        "|---|---|--:|--:|",
    ]
    serial = 0
    for kind, make in kinds:
        for label, before, year in FIRST_QUERY_CASES:
            times = []
            for _ in range(repeat):
                serial += 1
                cal = make(f"first-{serial}")
                for y in before:
                    cal.add(datetime(y, 3, 4, 2, tzinfo=timezone.utc), hour)
                t = datetime(year, 3, 4, 2, tzinfo=timezone.utc)
                gc.disable()
                start = time.perf_counter()
                cal.add(t, hour)
                times.append((time.perf_counter() - start) * 1e3)
                gc.enable()
            lines.append(
                f"| {kind} | {label} | {statistics.median(times):.2f} | {max(times):.2f} |"
            )
    return lines


#: Instants at the ends of the accepted span: a ticket opened in 1900, evaluated in 2199.
FAR_FROM = datetime(1900, 1, 1, tzinfo=timezone.utc)
FAR_TO = datetime(2199, 12, 31, tzinfo=timezone.utc)


def far_queries(specs: list[CalendarSpec], repeat: int) -> list[str]:
    """Milliseconds and memory for queries whose instants lie centuries apart.

    ``elapsed`` from 1900 to 2199 (the whole accepted span) and the SLA evaluation of a
    ticket opened in 1900 evaluated in 2199 (an 8-business-hour resolution target on the
    calendar): the index adds up whole months instead of indexing the years between.
    "Zone unsampled" clears the per-zone cache of UTC offset changes first (each zone is
    sampled once per process, one UTC midnight at a time); "again" asks the same calendar
    a second time. The peak is tracemalloc's, in a separate pass (it slows the timing).
    """
    import tracemalloc

    from csdomain.calendars import BusinessCalendar, _index
    from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target, evaluate
    from csdomain.tickets import Ticket

    serial = 0

    def fresh(spec: CalendarSpec) -> Any:
        nonlocal serial
        serial += 1
        return BusinessCalendar.weekdays(f"far-{spec.key}-{serial}", spec.timezone, spec.hours_text)

    def sla(spec: CalendarSpec) -> Callable[[Any], object]:
        ticket = Ticket.open(
            id="T-1", customer_id="cus_1", channel="email", subject="Refund", at=FAR_FROM
        )
        target = {"normal": Target(timedelta(hours=8), calendar="far")}
        policy = SlaPolicy("far", [MetricPolicy(SlaMetric.RESOLUTION, target)])  # type: ignore[dict-item]

        def run(cal: Any) -> object:
            return evaluate(ticket, policy, {"far": cal}, FAR_TO)

        return run

    cases: list[tuple[str, bool, bool, Callable[[CalendarSpec], Callable[[Any], object]]]] = [
        ("elapsed 1900 to 2199, zone unsampled", True, False, lambda spec: _far_elapsed),
        ("elapsed 1900 to 2199, new calendar", False, False, lambda spec: _far_elapsed),
        ("elapsed 1900 to 2199, again", False, True, lambda spec: _far_elapsed),
        ("SLA evaluation, ticket of 1900 in 2199, new calendar", False, False, sla),
    ]
    lines = [
        "| calendar | query | ms, median | ms, max | peak MB | months kept |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for spec in specs:
        for label, unsampled, again, make in cases:
            query = make(spec)
            times: list[float] = []
            kept = 0
            for _ in range(repeat):
                cal = fresh(spec)
                if again:
                    query(cal)
                if unsampled:
                    _index._zone_years.clear()
                gc.disable()
                start = time.perf_counter()
                query(cal)
                times.append((time.perf_counter() - start) * 1e3)
                gc.enable()
                kept = len(cal._idx()._months)
            cal = fresh(spec)
            if again:
                query(cal)
            if unsampled:
                _index._zone_years.clear()
            tracemalloc.start()
            query(cal)
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            lines.append(
                f"| {spec.key} | {label} | {statistics.median(times):.1f} | {max(times):.1f} "
                f"| {peak:.2f} | {kept} |"
            )
    return lines


def _far_elapsed(cal: Any) -> object:
    return cal.elapsed(FAR_FROM, FAR_TO)


# -- report -----------------------------------------------------------------------------


def environment() -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()} ({platform.python_implementation()})",
            f"csdomain {csdomain.__version__}",
            f"pandas {package_version('pandas')}",
            f"numpy {package_version('numpy')}",
            f"holidays {package_version('holidays')}",
            f"businesstime {package_version('businesstime')}",
            f"business-duration {package_version('business-duration')}",
            f"tzdata {package_version('tzdata')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    return [f"Versions: {versions}", f"Machine: {machine}, {load_average()}"]


def table(tasks: list[Task], n: int) -> list[str]:
    lines = [
        "| contender | operation | span | µs/call | agreement with oracle | misses by cause |",
        "|---|---|---|--:|--:|---|",
    ]
    for t in tasks:
        misses = ", ".join(f"{cause} {count}" for cause, count in sorted(t.misses.items())) or "-"
        lines.append(
            f"| {t.contender} | {t.operation} | {SPAN_WORDS[t.span]} | {t.us:.2f} "
            f"| {100 * t.agree / n:.1f}% ({t.agree}/{n}) | {misses} |"
        )
    return lines


def goals(tasks: list[Task], n: int) -> tuple[list[str], bool]:
    """The goal lines per calendar; the flag says whether every goal is met."""
    by = {(t.calendar, t.contender, t.operation, t.span): t for t in tasks}
    lines: list[str] = []
    met = True

    def line(text: str, ok: bool) -> None:
        nonlocal met
        met &= ok
        lines.append(f"- {text}: {'met' if ok else '**NOT met**'}")

    for cal in dict.fromkeys(t.calendar for t in tasks):
        mine = {k[2:]: t for k, t in by.items() if k[0] == cal and k[1] == "csdomain"}
        if not mine:
            lines.append(f"- {cal}: csdomain did not run, no goal checked")
            met = False
            continue
        for label, _, _ in SPANS:
            pandas = by.get((cal, "pandas CustomBusinessHour", "add", label))
            if pandas is not None:
                ratio = pandas.us / mine["add", label].us
                line(
                    f"{cal} add {label}: pandas / csdomain = {ratio:.1f}x "
                    f"(goal >= {GOAL_ADD_VS_PANDAS:g}x)",
                    ratio >= GOAL_ADD_VS_PANDAS,
                )
        for label, goal in GOAL_ELAPSED_VS_BUSINESSTIME.items():
            bt = by.get((cal, "businesstime", "elapsed", label))
            if bt is not None:
                ratio = bt.us / mine["elapsed", label].us
                line(
                    f"{cal} elapsed {label}: businesstime / csdomain = {ratio:.1f}x "
                    f"(goal >= {goal:g}x)",
                    ratio >= goal,
                )
        for op in ("add", "elapsed"):
            ratio = mine[op, "30 d"].us / mine[op, "1 h"].us
            line(
                f"{cal} csdomain {op}: 30 business days / 1 business hour = {ratio:.2f}x "
                f"(goal <= {GOAL_30D_OVER_1H:g}x)",
                ratio <= GOAL_30D_OVER_1H,
            )
        worst = min(mine.values(), key=lambda t: t.agree)
        line(
            f"{cal} csdomain agreement with the oracle: lowest {100 * worst.agree / n:.1f}% "
            f"({worst.operation} {worst.span}) (goal 100%)",
            all(t.agree == n for t in mine.values()),
        )
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few inputs, one repeat")
    parser.add_argument("-n", type=int, help="number of random inputs (default 2000, quick 50)")
    parser.add_argument("--repeat", type=int, help="timing repeats (default 7, quick 1)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is not met")
    parser.add_argument(
        "--first-query", action="store_true", help="only the first-query-in-a-new-year table"
    )
    parser.add_argument("--far", action="store_true", help="only the queries-centuries-apart table")
    args = parser.parse_args(argv)
    n = args.n or (50 if args.quick else 2000)
    repeat = args.repeat or (1 if args.quick else 7)
    walk_counts = (
        {"1 h": 10, "8 h": 10, "5 d": 2, "30 d": 1}
        if args.quick
        else {"1 h": 300, "8 h": 300, "5 d": 60, "30 d": 20}
    )

    print("# Calendars benchmark: business-time add and elapsed\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/calendars.py {given}".rstrip() + "  ")
    for line in environment():
        print(f"{line}  ")
    if holidays_pkg is None:
        print(
            "\nThe holidays package is missing: install the bench extra "
            "(pip install -e '.[bench]')."
        )
        return 2

    first_repeat = 3 if args.quick else 15
    first_lines = [
        "\n## First query in a new year\n",
        f"One `add` of a business hour, {first_repeat} fresh calendars each; ms per query.\n",
        *first_query(build_specs(), first_repeat),
    ]
    if args.first_query:
        print("\n".join(first_lines))
        return 0
    far_repeat = 2 if args.quick else 5
    far_lines = [
        "\n## Queries centuries apart\n",
        f"A ticket opened in 1900 and evaluated in 2199; {far_repeat} fresh calendars each "
        "(weekly hours only).\n",
        *far_queries(build_specs(), far_repeat),
    ]
    if args.far:
        print("\n".join(far_lines))
        return 0

    rng = random.Random(SEED)
    lo, hi = _epoch(INPUT_FROM) // 60, _epoch(INPUT_TO) // 60
    starts = [rng.randrange(lo, hi) * 60 for _ in range(n)]
    print(
        f"Inputs: {n} random start instants (random.Random({SEED}), whole minutes, uniform over "
        f"{INPUT_FROM.date()} to {INPUT_TO.date()} UTC), the same for every contender  "
    )
    print(
        f"Timing: median of {repeat} interleaved repeats of a pass over all inputs, gc off, "
        "µs per call; peers get ready-made naive local inputs  "
    )

    all_ok = True
    first: Inputs | None = None
    for spec in build_specs():
        oracle = Oracle(spec, date(YEARS[0] - 1, 12, 1), date(YEARS[-1], 12, 31))
        checked = check_oracle(spec, oracle, starts, walk_counts)
        inp = make_inputs(spec, oracle, starts)
        first = first or inp
        tasks: list[Task] = []
        skipped: list[str] = []
        for make in (csdomain_tasks, pandas_tasks, businesstime_tasks, business_duration_tasks):
            found, notes = make(inp)
            tasks += found
            skipped += notes
        for task in tasks:  # the warm-up pass gives the answers that are scored
            score(task, inp, task.run())
        measure(tasks, n, repeat)
        tasks.sort(key=lambda t: (t.operation, t.contender != "csdomain", t.contender))

        print(f"\n## {spec.key}: {spec.title}\n")
        print(
            f"{len(spec.holidays)} holidays, {len(spec.extra_workdays)} make-up working days "
            f"({', '.join(str(d) for d in sorted(spec.extra_workdays)) or 'none'}) "
            f"in {YEARS[0]}-{YEARS[-1]}; "
            f"a business day is {spec.day_seconds // 3600} h. Oracle: day by day in local time, "
            f"checked against a minute walk on the first {checked} inputs.  "
        )
        for note in skipped:
            print(f"Skipped: {note}  ")
        print()
        print("\n".join(table(tasks, n)))
        examples = [(t, e) for t in tasks for e in t.examples]
        if examples:
            print(
                "\nExamples of misses (every csdomain miss; peers' misses not explained by "
                "closing time or make-up days):\n"
            )
            for t, e in examples:
                print(f"- {t.contender}: {e}")
        lines, ok = goals(tasks, n)
        all_ok &= ok
        print("\nGoals:\n")
        print("\n".join(lines))
    if first is not None:
        print(f"\n## Per-call floor ({first.spec.key} inputs)\n")
        print("\n".join(floor(first, n, repeat)))
    print("\n".join(first_lines))
    print("\n".join(far_lines))
    return 1 if args.check and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
