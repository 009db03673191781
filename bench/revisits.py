"""Revisits (issue 11): materializing plans, RRULE expansion, the agenda query.

One run measures, on SQLite (a file, WAL):

1. **materialize**: ``RevisitDesk.materialize(90)`` over a store of 100,000
   customers (seeded with ``store.customers.add_many`` in transactions of
   5,000), one plan of three rules: a monthly RRULE for VIP customers (phone),
   a quarterly RRULE for the others (SMS, then email) and a birthday trigger
   (WeChat, then SMS), in a contact window of weekday hours read in each
   customer's zone, lunch as quiet hours, a 7-day minimum gap between a
   customer's tasks and the WeChat 48-hour rule; customers in three zones,
   with consent given, withdrawn or never asked per contact point. Tasks
   created per second and the peak memory (``tracemalloc``: the peak of the
   Python heap during the run, not the process's resident size; the process's
   ``ru_maxrss`` is printed beside it). Goal: >= 20,000 tasks/s. Before timing,
   a 300-customer store is materialized and every task checked against the
   plan (the customer, the rule's who, a consented channel, open in the
   window, the minimum gap) and a second run checked to create nothing.
2. **RRULE expansion**: ``Recurrence.occurrences`` against dateutil alone on
   the same rules, dtstarts and windows, checked equal first. "cold": every
   (rule, dtstart) new (``rrulestr(rule, dtstart=...).between(...)`` on
   dateutil's side); "shared": what materializing does, one dtstart per rule
   (the plan's first day at the rule's time of day) and one window per zone,
   called once per customer (dateutil's side parses each rule once and calls
   ``between``). Goal: <= 1.5x dateutil in both.
3. **agenda**: ``RevisitDesk.agenda(agent_id, day)`` (the first page, the
   declared collection's ``agenda_agent`` query) at 100,000 and 1,000,000
   stored tasks, against the raw SQL the query needs (the same ``WHERE`` and
   ``ORDER BY`` on the same table, through the same index, the state documents
   fetched but not decoded) on the same SQLite file; the task keys are checked
   equal first. Goal: <= 3x raw, and flat from 100,000 to 1,000,000.

Run from the repository root::

    .venv/bin/python bench/revisits.py                   # full run (several minutes)
    .venv/bin/python bench/revisits.py --quick           # smoke run, a few seconds
    .venv/bin/python bench/revisits.py --parts rrule     # a subset

``--check`` exits with status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.rrule import rrulestr
from machine import cpu, load_average, package_version

import csdomain
from csdomain.revisits.recurrence import Recurrence

PARTS = ("rrule", "materialize", "agenda")

#: The recurrence rules of the expansion part: the plan's two, and two more common shapes.
RRULES = (
    "FREQ=MONTHLY;BYMONTHDAY=1",
    "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=-1",
)
#: The first day of the 90-day horizons (naive local wall time).
WINDOW_START = datetime(2027, 3, 1)
HORIZON = timedelta(days=90)


def timed(fn: Callable[[], object]) -> float:
    """CPU seconds of one call of ``fn``, the garbage collector off."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        fn()
        return time.process_time() - started
    finally:
        gc.enable()


# -- part 2: RRULE expansion -------------------------------------------------------------------


@dataclass
class RruleResult:
    scenario: str
    calls: int
    dateutil_s: list[float] = field(default_factory=list)
    csdomain_s: list[float] = field(default_factory=list)

    @property
    def dateutil_us(self) -> float:
        return statistics.median(self.dateutil_s) / self.calls * 1e6

    @property
    def csdomain_us(self) -> float:
        return statistics.median(self.csdomain_s) / self.calls * 1e6

    @property
    def ratio(self) -> float:
        return statistics.median(self.csdomain_s) / statistics.median(self.dateutil_s)


def cold_starts(n: int, salt: int) -> list[datetime]:
    """``n`` distinct dtstarts (n < 219,000) in the year before the window, from 08:00;
    ``salt`` moves them by whole seconds so that each repeat's set is new to every cache."""
    return [
        WINDOW_START
        - timedelta(days=1 + (i * 7919) % 365)
        + timedelta(hours=8, minutes=i // 365, seconds=salt)
        for i in range(n)
    ]


def shared_windows() -> list[tuple[datetime, datetime]]:
    """The horizon as three zones see it (Shanghai, Berlin, New York): naive local ends."""
    utc_start = WINDOW_START - timedelta(hours=8)  # 00:00 in Shanghai
    return [
        (utc_start + timedelta(hours=h), utc_start + timedelta(hours=h) + HORIZON)
        for h in (8, 1, -5)
    ]


def check_rrules(starts: Sequence[datetime]) -> int:
    """Recurrence.occurrences equals dateutil's between on every rule, start and window."""
    checked = 0
    windows = [*shared_windows(), (WINDOW_START, WINDOW_START + HORIZON)]
    for text in RRULES:
        recurrence = Recurrence(text)
        for start in starts:
            for after, before in windows:
                ours = recurrence.occurrences(start, after, before)
                theirs = rrulestr(text, dtstart=start).between(after, before, inc=True)
                if ours != theirs:
                    raise SystemExit(
                        f"Recurrence({text!r}).occurrences({start}, {after}, {before}) = {ours} "
                        f"but dateutil gives {theirs}"
                    )
                checked += 1
    return checked


def run_rrule(
    cold_n: int, shared_n: int, check_n: int, repeat: int
) -> tuple[int, list[RruleResult]]:
    checked = check_rrules(cold_starts(check_n, salt=59))
    recurrences = [Recurrence(t) for t in RRULES]
    after, before = WINDOW_START, WINDOW_START + HORIZON
    cold = RruleResult("cold: every (rule, dtstart) new", cold_n * len(RRULES))
    for r in range(repeat):
        starts = cold_starts(cold_n, salt=r)  # the same new set for both sides

        def dateutil_cold(starts: list[datetime] = starts) -> None:
            for text in RRULES:
                for start in starts:
                    rrulestr(text, dtstart=start).between(after, before, inc=True)

        def csdomain_cold(starts: list[datetime] = starts) -> None:
            for recurrence in recurrences:
                for start in starts:
                    recurrence.occurrences(start, after, before)

        pair = [("dateutil", dateutil_cold), ("csdomain", csdomain_cold)]
        for name, fn in pair if r % 2 == 0 else pair[::-1]:
            (cold.dateutil_s if name == "dateutil" else cold.csdomain_s).append(timed(fn))

    # What materializing asks: one dtstart per rule, one window per zone, a call per customer.
    start = datetime(2026, 1, 1, 10, 0)
    windows = shared_windows()
    calls = [windows[i % len(windows)] for i in range(shared_n)]
    parsed = {text: rrulestr(text, dtstart=start) for text in RRULES}
    shared = RruleResult(
        "shared: one dtstart per rule, a window per zone (as materializing)",
        shared_n * len(RRULES),
    )

    def dateutil_shared() -> None:
        for text in RRULES:
            rule = parsed[text]
            for lo, hi in calls:
                rule.between(lo, hi, inc=True)

    def csdomain_shared() -> None:
        for recurrence in recurrences:
            for lo, hi in calls:
                recurrence.occurrences(start, lo, hi)

    for r in range(repeat):
        pair = [("dateutil", dateutil_shared), ("csdomain", csdomain_shared)]
        for name, fn in pair if r % 2 == 0 else pair[::-1]:
            (shared.dateutil_s if name == "dateutil" else shared.csdomain_s).append(timed(fn))
    return checked, [cold, shared]


def ratio(value: float) -> str:
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.4f}x"


def rrule_table(results: Sequence[RruleResult]) -> list[str]:
    lines = [
        "| scenario | expansions per repeat | dateutil µs | csdomain µs | ratio | goal <= 1.5x |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.calls:,} | {r.dateutil_us:.2f} | {r.csdomain_us:.2f} | "
            f"**{ratio(r.ratio)}** | {'yes' if r.ratio <= 1.5 else '**no**'} |"
        )
    return lines


# -- the run -----------------------------------------------------------------------------------


def environment() -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()}",
            f"csdomain {csdomain.__version__}",
            f"SQLite {sqlite3.sqlite_version}",
            f"python-dateutil {package_version('python-dateutil')}",
            f"orjson {package_version('orjson')}",
            f"attrs {package_version('attrs')}",
            f"cattrs {package_version('cattrs')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    return [f"Versions: {versions}  ", f"Machine: {machine}, {load_average()}  "]


def max_rss_mb() -> float:
    """The process's peak resident size so far (``ru_maxrss``, KiB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (a few seconds)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {', '.join(PARTS)}")
    parser.add_argument("--repeat", type=int, help="repeats of each timing (median; 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts <= set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    quick = args.quick
    repeat = args.repeat or (3 if quick else 5)

    print("# Revisits benchmark: materialize, RRULE expansion, agenda\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/revisits.py {given}".rstrip() + "  ")
    for line in environment():
        print(line)
    started = time.perf_counter()
    missed: list[str] = []

    if "rrule" in parts:
        print("\n## RRULE expansion: `Recurrence.occurrences` vs dateutil alone\n")
        cold_n = 300 if quick else 3_000
        shared_n = 500 if quick else 100_000
        check_n = 30 if quick else 200
        checked, results = run_rrule(cold_n, shared_n, check_n, repeat)
        print(
            f"Checked first: {checked:,} expansions ({len(RRULES)} rules x {check_n} dtstarts "
            "x 4 windows) equal "
            "dateutil's `rrulestr(rule, dtstart=start).between(after, before, inc=True)`.\n"
        )
        print(
            f"Rules: {', '.join(f'`{r}`' for r in RRULES)}; 90-day windows from "
            f"{WINDOW_START:%Y-%m-%d}. CPU time (`time.process_time`), gc off, median of "
            f"{repeat} interleaved repeats, µs per expansion. Cold: {cold_n:,} dtstarts per "
            "rule in the year before the window, new ones each repeat. Shared: dtstart "
            "2026-01-01 10:00, the window as Shanghai, Berlin and New York see it, "
            f"{shared_n:,} calls per rule; dateutil's side parses each rule once.\n"
        )
        print("\n".join(rrule_table(results)))
        missed += [f"RRULE {r.scenario}" for r in results if r.ratio > 1.5]

    print(f"\nTotal {time.perf_counter() - started:.1f} s; {load_average('the end')}  ")
    if missed:
        print("Goals missed: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
