"""Revisits (issue 11): materializing plans, RRULE expansion, the agenda query.

One run measures, on SQLite (a file, WAL):

1. **materialize**: ``RevisitDesk.materialize(90)`` over a store of 100,000
   customers (seeded with ``store.customers.add_many`` in transactions of
   5,000), one plan of three rules: a monthly RRULE for VIP customers (phone,
   then SMS), a quarterly RRULE for the others (SMS, then email) and a
   birthday trigger (SMS, then email), in a contact window of weekday hours
   read in each customer's zone with lunch as quiet hours and a 7-day minimum
   gap between a customer's tasks; customers in three zones, one in ten VIP,
   seven in ten with a birthday, consent given, withdrawn or never asked per
   contact point. Tasks created per second (wall clock, in a fresh process on
   the seeded file, in units of the desk's default ``page_size`` customers or
   ``--page-size N``, the progress bar of ``csdomain.cli.revisits`` on stderr)
   and the peak memory (that process's ``ru_maxrss``; not tracemalloc, whose
   hooks would slow the run it measures). Goal: >= 20,000 tasks/s. Before
   timing, a 600-customer store is materialized and every task checked: its
   nominal instant one of the rule's occurrences (dateutil, the birthday),
   created + refused = every occurrence, a consented channel of the rule's
   forms, open in the customer's window, at or after the nominal instant, 7
   days from the customer's other tasks; a second run creates nothing.
2. **RRULE expansion**: ``Recurrence.occurrences`` against dateutil alone on
   the same rules, dtstarts and windows, checked equal first. "cold": every
   (rule, dtstart) new (``rrulestr(rule, dtstart=...).between(...)`` on
   dateutil's side); "shared": what materializing does, one dtstart per rule
   (the plan's first day at the rule's time of day) and one window per zone,
   called once per customer (dateutil's side parses each rule once and calls
   ``between``). Goal: <= 1.5x dateutil in both.
3. **agenda**: ``RevisitDesk.agenda_entries(agent_id, day)`` (the first page,
   the declared collection's ``agenda_agent`` query, read from the stored
   columns) at 100,000 and 1,000,000 stored tasks, against the raw SQL the
   query needs (the same ``WHERE`` and ``ORDER BY`` on the same table, through
   the same index, the documents fetched but not decoded) and against the raw
   SQL selecting the entry's columns; beside them ``RevisitDesk.agenda`` (the
   same page as whole decoded tasks) and the raw SQL with ``orjson.loads`` per
   document, for reference; all on the same SQLite file, the task keys checked
   equal first. Tasks are seeded with ``add_many`` in transactions of 50,000.
   Goal: agenda entries <= 3x raw, and flat from 100,000 to 1,000,000.

Run from the repository root::

    .venv/bin/python bench/revisits.py                   # full run (about 10 minutes)
    .venv/bin/python bench/revisits.py --quick           # smoke run, about 15 s
    .venv/bin/python bench/revisits.py --parts rrule     # a subset

``--check`` exits with status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from zoneinfo import ZoneInfo

import orjson
from dateutil.rrule import rrulestr
from machine import cpu, load_average, package_version

import csdomain
from csdomain.calendars import BusinessCalendar
from csdomain.cli.revisits import progress_bar
from csdomain.clock import FrozenClock
from csdomain.conditions import Compare, Facts
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier
from csdomain.helpdesk import DeskSetup, HelpDesk
from csdomain.helpdesk.revisits import RevisitDesk
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.history import CustomerHistory, birthday_in
from csdomain.revisits.placement import ContactWindow
from csdomain.revisits.plans import RevisitPlan, RevisitRule, Trigger
from csdomain.revisits.recurrence import Recurrence
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import CancelReason, RevisitForm
from csdomain.routing import AssignmentPolicy, Strategy, Triage
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import Store, open_store

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
AGENTS = tuple(f"agt_{i:03d}" for i in range(1, 201))


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


# -- part 1: materialize -----------------------------------------------------------------------

SHANGHAI = "Asia/Shanghai"
ZONES = (SHANGHAI,) * 8 + ("Europe/Berlin", "America/New_York")
#: Monday 7 December 2026, 10:00 in Shanghai: the run's "now".
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
SEED_CHUNK = 5_000
CONSENTED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def revisit_plan() -> RevisitPlan:
    """Three rules in a weekday window read in each customer's zone, lunch kept quiet."""
    window = ContactWindow(
        calendar=BusinessCalendar.weekdays("revisit-window", SHANGHAI, "09:00-18:00"),
        quiet_hours=("12:00-13:30",),
        min_gap=timedelta(days=7),
    )
    rules = (
        RevisitRule(
            name="vip-monthly",
            who=Compare("customer.tier", "ge", "vip"),
            recurrence=Recurrence(RRULES[0]),
            forms=(RevisitForm.PHONE, RevisitForm.SMS),
            purpose="Monthly care call",
            group_id="l1",
        ),
        RevisitRule(
            name="quarterly",
            who=Compare("customer.tier", "lt", "vip"),
            recurrence=Recurrence(RRULES[1]),
            forms=(RevisitForm.SMS, RevisitForm.EMAIL),
            purpose="Quarterly check-in",
            group_id="l1",
        ),
        RevisitRule(
            name="birthday",
            trigger=Trigger.birthday(),
            forms=(RevisitForm.SMS, RevisitForm.EMAIL),
            purpose="Birthday greeting",
            group_id="l1",
            time_of_day=dtime(9, 30),
        ),
    )
    return RevisitPlan(name="care", rules=rules, window=window, starts_on=date(2026, 12, 1))


def consent_of(n: int, salt: int) -> Consent:
    roll = (n * 2654435761 + salt * 40503) % 100
    return Consent.WITHDRAWN if roll < 6 else Consent.UNKNOWN if roll < 10 else Consent.GIVEN


def build_customer(n: int) -> Customer:
    """Customer ``n``: a zone, a tier (one in ten VIP), a birthday for seven in ten
    (some on February 29), phone, SMS and email points with consent given, withdrawn
    or never asked."""
    address = f"139{n:08d}"

    def point(channel: str, value: str, salt: int) -> ContactPoint:
        consent = consent_of(n, salt)
        changed = None if consent is Consent.UNKNOWN else CONSENTED
        return ContactPoint(channel, value, consent=consent, consent_changed_at=changed)

    birthday = None
    if n % 10 < 7:
        birthday = (
            date(2000, 2, 29) if n % 997 == 0 else date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
        )
    return Customer(
        id=f"cus_{n:07d}",
        display_name=f"Customer {n}",
        contact_points=(
            point("phone_hotline", address, 1),
            point("sms", address, 2),
            point("email", f"c{n}@example.com", 3),
        ),
        tier=CustomerTier.VIP if n % 10 == 3 else CustomerTier.STANDARD,
        timezone=ZONES[n % len(ZONES)],
        birthday=birthday,
    )


def desk_setup() -> DeskSetup:
    desk_calendar = BusinessCalendar.weekdays("desk", SHANGHAI, "09:00-12:00", "13:00-18:00")
    policy = SlaPolicy(
        "standard",
        [MetricPolicy(SlaMetric.FIRST_RESPONSE, {p: Target(timedelta(hours=8)) for p in Priority})],
    )
    online = Presence.ONLINE
    return DeskSetup(
        sla=SlaSetup([policy], [desk_calendar]),
        groups=(Group("l1", "Frontline", tier="L1", calendar="desk"),),
        agents=[Agent(a, a.upper(), presence=online, groups=("l1",)) for a in AGENTS],
        triage=Triage(rules=(), default_group="l1"),
        assignment=(AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
        default_region="CN",
    )


def open_desk(
    path: str, *, create: bool, page_size: int | None = None
) -> tuple[Store, HelpDesk, RevisitDesk]:
    """The store, desk and revisit desk (``page_size`` None: the desk's default)."""
    clock = FrozenClock(NOW)
    store = open_store(f"sqlite:///{path}", tenant="bench", clock=clock, create=create)
    sized = {} if page_size is None else {"page_size": page_size}
    revisits = RevisitDesk([revisit_plan()], **sized)
    desk = HelpDesk(store, desk_setup(), clock=clock, ids=SequentialIds(), extensions=(revisits,))
    return store, desk, revisits


def seed_customers(store: Store, n: int) -> None:
    for first in range(0, n, SEED_CHUNK):
        batch = [build_customer(i) for i in range(first, min(n, first + SEED_CHUNK))]
        with store.transaction():
            store.customers.add_many(batch)


def expected_nominals(plan: RevisitPlan, customer: Customer) -> dict[str, list[datetime]]:
    """Each rule's nominal instants for ``customer`` in the horizon, found without the
    engine: dateutil for the recurrences, the calendar for the birthday."""
    tz = ZoneInfo(customer.timezone)
    start, end = NOW, NOW + HORIZON
    found: dict[str, list[datetime]] = {}
    for rule in plan.rules:
        facts = Facts(customer=customer, history=CustomerHistory(customer, as_of=NOW))
        if not rule.who.holds(facts):
            continue
        local: list[datetime] = []
        if rule.recurrence is not None:
            first = datetime.combine(plan.starts_on, rule.time_of_day)
            lo = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
            hi = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
            local = rrulestr(rule.recurrence.rrule, dtstart=first).between(lo, hi, inc=True)
        elif customer.birthday is not None:
            for year in range(start.year, end.year + 1):
                day = birthday_in(customer.birthday, year)
                local.append(datetime.combine(day, rule.time_of_day))
        found[rule.name] = [at for at in (t.replace(tzinfo=tz) for t in local) if start <= at < end]
    return found


def all_tasks(revisits: RevisitDesk) -> list[RevisitTask]:
    tasks: list[RevisitTask] = []
    for plan in revisits.plans:
        cursor = None
        while True:
            page = revisits.by_plan(plan.name, limit=1_000, cursor=cursor)
            tasks.extend(page.items)
            if page.next_cursor is None:
                return tasks
            cursor = page.next_cursor


def check_materialize(work: str, n: int, page_size: int | None) -> str:
    """Materialize a small store and check every task against the plan; None or a problem."""
    path = os.path.join(work, "check.sqlite")
    store, _desk, revisits = open_desk(path, create=True, page_size=page_size)
    try:
        seed_customers(store, n)
        report = revisits.materialize(90, now=NOW)
        tasks = all_tasks(revisits)
        plan = revisits.plans[0]
        customers = {i: build_customer(i) for i in range(n)}
        by_id = {c.id: c for c in customers.values()}
        expected = {c.id: expected_nominals(plan, c) for c in customers.values()}
        want = sum(len(v) for e in expected.values() for v in e.values())
        problems: list[str] = []
        if report.created != len(tasks) or report.created + report.refused != want:
            problems.append(
                f"report {report}: {len(tasks)} tasks stored, {want} occurrences expected"
            )
        mine: dict[str, list[RevisitTask]] = {}
        for task in tasks:
            customer = by_id[task.customer_id]
            mine.setdefault(customer.id, []).append(task)
            calendar = plan.window.calendar_for(customer.timezone)
            rule = plan.rule(task.rule)
            if task.nominal_at not in expected[customer.id].get(task.rule, []):
                problems.append(f"{task.id}: nominal {task.nominal_at} is not an occurrence")
            if not customer.contactable_on(task.channel) or task.form not in rule.forms:
                problems.append(f"{task.id}: {task.form} on {task.channel} not allowed")
            if not calendar.is_open(task.due_at) or task.due_at < task.nominal_at:
                problems.append(f"{task.id}: due {task.due_at} closed or before nominal")
        for customer_id, listed in mine.items():
            due = sorted(t.due_at for t in listed)
            if any(b - a < plan.window.min_gap for a, b in itertools.pairwise(due)):
                problems.append(f"{customer_id}: tasks closer than the minimum gap: {due}")
        again = revisits.materialize(90, now=NOW)
        if again.created or again.cancelled:
            problems.append(f"a second run changed the store: {again}")
        if problems:
            raise SystemExit("materialize check failed:\n  " + "\n  ".join(problems[:20]))
        forms = sorted({t.form.value for t in tasks})
        return (
            f"{n:,} customers: {report.created:,} tasks and {report.refused:,} refused "
            f"occurrences = the {want:,} occurrences dateutil and the birthdays give; every task "
            f"on a consented channel of its rule's forms ({', '.join(forms)}), open in the "
            "customer's window, at or after its nominal instant, 7 days from the customer's "
            "others; a second run created and cancelled nothing"
        )
    finally:
        store.close()


@dataclass
class MaterializeOutcome:
    customers: int
    created: int
    refused: int
    pages: int
    page_size: int
    wall_s: float
    cpu_s: float
    rss_before_mb: float
    rss_peak_mb: float
    seed_s: float
    again_s: float

    @property
    def rate(self) -> float:
        return self.created / self.wall_s


def materialize_worker(path: str, page_size: int | None) -> None:
    """In a fresh process: open the seeded store, materialize (timed), print JSON."""
    store, _desk, revisits = open_desk(path, create=False, page_size=page_size)
    before = max_rss_mb()
    progress = progress_bar(sys.stderr, unit="customers")
    started, cpu_started = time.perf_counter(), time.process_time()
    report = revisits.materialize(90, now=NOW, progress=progress)
    wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    peak = max_rss_mb()
    started = time.perf_counter()
    again = revisits.materialize(90, now=NOW)
    again_s = time.perf_counter() - started
    store.close()
    assert again.created == 0 and again.cancelled == 0, again
    print(
        json.dumps(
            {
                "customers": report.customers,
                "created": report.created,
                "refused": report.refused,
                "pages": report.pages,
                "page_size": revisits._page_size,
                "wall_s": wall,
                "cpu_s": cpu_s,
                "rss_before_mb": before,
                "rss_peak_mb": peak,
                "again_s": again_s,
            }
        )
    )


def run_materialize(work: str, n: int, page_size: int | None) -> MaterializeOutcome:
    path = os.path.join(work, "materialize.sqlite")
    store, _, _ = open_desk(path, create=True)
    started = time.perf_counter()
    seed_customers(store, n)
    seed_s = time.perf_counter() - started
    store.close()
    sized = [] if page_size is None else ["--page-size", str(page_size)]
    done = subprocess.run(
        [sys.executable, __file__, "--materialize-worker", path, *sized],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return MaterializeOutcome(seed_s=seed_s, **got)


def materialize_table(o: MaterializeOutcome) -> list[str]:
    return [
        "| customers | tasks created | refused | wall s | CPU s | tasks/s | customers/s | "
        "peak RSS MB (before) | second run s | goal >= 20,000 tasks/s |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        f"| {o.customers:,} | {o.created:,} | {o.refused:,} | {o.wall_s:.1f} | {o.cpu_s:.1f} | "
        f"**{o.rate:,.0f}** | {o.customers / o.wall_s:,.0f} | {o.rss_peak_mb:,.1f} "
        f"({o.rss_before_mb:,.1f}) | {o.again_s:.1f} | "
        f"{'yes' if o.rate >= 20_000 else '**no**'} |",
    ]


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


# -- part 3: the agenda query ------------------------------------------------------------------

AGENDA_AGENT = AGENTS[0]
#: The agent's day the agenda reads (a Tuesday), in the desk calendar's zone.
AGENDA_DAY = date(2027, 1, 12)
AGENDA_TASKS = 50
SEED_TASKS_CHUNK = 50_000
RAW_AGENDA = (
    "SELECT key, document FROM c_revisit_tasks WHERE tenant = ? AND assignee_id = ? "
    "AND state IN (?, ?, ?) AND due_at >= ? AND due_at < ? ORDER BY due_at, key LIMIT ?"
)
#: The same query selecting what an agenda entry holds (its key, version and columns).
RAW_AGENDA_COLUMNS = RAW_AGENDA.replace(
    "key, document",
    "key, version, customer_id, plan, rule, state, form, group_id, assignee_id, due_at",
)
LIVE_STATES = ("in_progress", "rescheduled", "scheduled")


def epoch_us(at: datetime) -> int:
    delta = at - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def agenda_bounds() -> tuple[datetime, datetime]:
    tz = ZoneInfo(SHANGHAI)
    start = datetime.combine(AGENDA_DAY, dtime(0), tz)
    return start, datetime.combine(AGENDA_DAY + timedelta(days=1), dtime(0), tz)


def seed_task(number: int, agent: str, due: datetime, cancelled: bool) -> RevisitTask:
    task = RevisitTask.schedule(
        id=f"rvt_{number:08d}",
        plan="care",
        rule="quarterly",
        customer_id=f"cus_{number % 300_000:07d}",
        purpose="Quarterly check-in",
        nominal_at=due,
        due_at=due,
        form=RevisitForm.SMS,
        channel="sms",
        at=NOW,
        forms=(RevisitForm.SMS, RevisitForm.EMAIL),
        group_id="l1",
        assignee_id=agent,
    )
    return task.cancel(CancelReason.BY_AGENT, NOW) if cancelled else task


def seed_tasks(store: Store, first: int, stop: int) -> None:
    """Tasks ``first`` to ``stop``: the first ``AGENDA_TASKS`` (and as many cancelled ones)
    are the agenda agent's on the agenda day; the others fall on any agent and day of a
    year, never the agenda agent's agenda day."""
    repository = store.collection(REVISIT_TASKS)
    tz = ZoneInfo(SHANGHAI)
    day_start, day_end = agenda_bounds()
    year_start = datetime(2026, 12, 7, 9, 0, tzinfo=tz)
    for chunk in range(first, stop, SEED_TASKS_CHUNK):
        batch = []
        for i in range(chunk, min(stop, chunk + SEED_TASKS_CHUNK)):
            if i < 2 * AGENDA_TASKS:
                due = day_start + timedelta(hours=9, minutes=(i % AGENDA_TASKS) * 10)
                batch.append(seed_task(i, AGENDA_AGENT, due, cancelled=i >= AGENDA_TASKS))
                continue
            mixed = i * 2654435761 % 2**32
            agent = AGENTS[mixed % len(AGENTS)]
            due = year_start + timedelta(days=mixed // 7 % 365, minutes=mixed // 11 % 540)
            if agent == AGENDA_AGENT and day_start <= due < day_end:
                due += timedelta(days=1)
            batch.append(seed_task(i, agent, due, cancelled=mixed % 10 == 0))
        with store.transaction():
            repository.add_many(batch)


@dataclass
class AgendaResult:
    """CPU seconds per repeat of each contender (``entries``: ``agenda_entries``, the
    goal's; ``tasks``: ``agenda``; ``raw``: key and document; ``raw_columns``: the
    entry's columns; ``raw_json``: key and document, decoded)."""

    stored: int
    calls: int
    seconds: dict[str, list[float]] = field(
        default_factory=lambda: {
            k: [] for k in ("entries", "tasks", "raw", "raw_columns", "raw_json")
        }
    )

    def us(self, contender: str) -> float:
        """Median µs per call."""
        return statistics.median(self.seconds[contender]) / self.calls * 1e6

    @property
    def ratio(self) -> float:
        """agenda_entries / raw SQL: the goal's ratio."""
        return self.us("entries") / self.us("raw")


def measure_agenda(
    path: str, revisits: RevisitDesk, stored: int, calls: int, repeat: int
) -> AgendaResult:
    raw = sqlite3.connect(path)
    low, high = agenda_bounds()
    params = ("bench", AGENDA_AGENT, *LIVE_STATES, epoch_us(low), epoch_us(high), 101)
    try:
        theirs = [row[0] for row in raw.execute(RAW_AGENDA, params).fetchall()]
        columns = raw.execute(RAW_AGENDA_COLUMNS, params).fetchall()
        tasks = revisits.agenda(agent_id=AGENDA_AGENT, day=AGENDA_DAY).items
        entries = revisits.agenda_entries(agent_id=AGENDA_AGENT, day=AGENDA_DAY).items
        for name, ours in (
            ("agenda_entries", [e.task_id for e in entries]),
            ("agenda", [t.id for t in tasks]),
            ("the raw column query", [row[0] for row in columns]),
        ):
            if ours != theirs or len(ours) != AGENDA_TASKS:
                raise SystemExit(
                    f"{name} at {stored:,} tasks: {len(ours)} tasks, raw SQL {len(theirs)}; "
                    f"equal: {ours == theirs}"
                )
        shown = [
            (e.version, e.state.value, e.form.value, e.assignee_id, epoch_us(e.due_at))
            for e in entries
        ]
        if shown != [(r[1], r[5], r[6], r[8], r[9]) for r in columns]:
            raise SystemExit(f"agenda entries at {stored:,} tasks differ from their columns")
        for query in (RAW_AGENDA, RAW_AGENDA_COLUMNS):
            plan = raw.execute("EXPLAIN QUERY PLAN " + query, params).fetchall()
            if not any("q_revisit_tasks__agenda_agent" in str(row) for row in plan):
                raise SystemExit(f"the raw agenda query does not use the index: {plan}")
        result = AgendaResult(stored, calls=calls)

        def entries_calls() -> None:
            for _ in range(calls):
                revisits.agenda_entries(agent_id=AGENDA_AGENT, day=AGENDA_DAY)

        def tasks_calls() -> None:
            for _ in range(calls):
                revisits.agenda(agent_id=AGENDA_AGENT, day=AGENDA_DAY)

        def raw_calls() -> None:
            for _ in range(calls):
                raw.execute(RAW_AGENDA, params).fetchall()

        def raw_columns_calls() -> None:
            for _ in range(calls):
                raw.execute(RAW_AGENDA_COLUMNS, params).fetchall()

        def raw_json_calls() -> None:
            for _ in range(calls):
                [orjson.loads(row[1]) for row in raw.execute(RAW_AGENDA, params).fetchall()]

        contenders = [
            ("entries", entries_calls),
            ("tasks", tasks_calls),
            ("raw", raw_calls),
            ("raw_columns", raw_columns_calls),
            ("raw_json", raw_json_calls),
        ]
        for r in range(repeat):
            for name, fn in contenders if r % 2 == 0 else contenders[::-1]:
                result.seconds[name].append(timed(fn))
        return result
    finally:
        raw.close()


def run_agenda(work: str, sizes: Sequence[int], calls: int, repeat: int) -> list[AgendaResult]:
    path = os.path.join(work, "agenda.sqlite")
    store, _desk, revisits = open_desk(path, create=True)
    results = []
    seeded = 0
    try:
        for size in sizes:
            started = time.perf_counter()
            seed_tasks(store, seeded, size)
            print(f"Seeded tasks {seeded:,} to {size:,} in {time.perf_counter() - started:.1f} s  ")
            seeded = size
            results.append(measure_agenda(path, revisits, size, calls, repeat))
    finally:
        store.close()
    return results


def agenda_table(results: Sequence[AgendaResult]) -> list[str]:
    lines = [
        "| stored tasks | `agenda_entries` µs | raw SQL µs | ratio | goal <= 3x | "
        "raw SQL, the entry's columns µs | ratio to it | `agenda` (tasks decoded) µs | "
        "ratio to raw | raw SQL + `orjson.loads` µs |",
        "|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        entries, raw = r.us("entries"), r.us("raw")
        lines.append(
            f"| {r.stored:,} | {entries:,.0f} | {raw:,.0f} | **{r.ratio:.2f}x** | "
            f"{'yes' if r.ratio <= 3 else '**no**'} | {r.us('raw_columns'):,.0f} | "
            f"{entries / r.us('raw_columns'):.2f}x | {r.us('tasks'):,.0f} | "
            f"{r.us('tasks') / raw:.2f}x | {r.us('raw_json'):,.0f} |"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        lines.append("")
        lines.append(
            f"Flatness, {last.stored:,} / {first.stored:,} tasks: agenda entries "
            f"**{flatness(results, 'entries'):.2f}x** (agenda {flatness(results, 'tasks'):.2f}x, "
            f"raw SQL {flatness(results, 'raw'):.2f}x)."
        )
    return lines


def flatness(results: Sequence[AgendaResult], contender: str) -> float:
    """The largest store's time per call over the smallest's."""
    return results[-1].us(contender) / results[0].us(contender)


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
    parser.add_argument("--customers", type=int, help="customers materialized (100,000)")
    parser.add_argument(
        "--page-size", type=int, help="customers per materializing unit (the desk's default)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    parser.add_argument("--materialize-worker", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.materialize_worker:
        materialize_worker(args.materialize_worker, args.page_size)
        return 0
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
    work = tempfile.mkdtemp(prefix="csdomain-bench-revisits-")

    if "materialize" in parts:
        print("\n## Materializing a plan of 3 rules over 90 days on SQLite\n")
        n = args.customers or (1_000 if quick else 100_000)
        checked = check_materialize(work, 100 if quick else 600, args.page_size)
        print("Checked first: " + checked + ".  ")
        m = run_materialize(work, n, args.page_size)
        print(
            f"\nSeeded {m.customers:,} customers with `store.customers.add_many` in transactions "
            f"of {SEED_CHUNK:,} ({m.seed_s:.1f} s, not timed). `RevisitDesk.materialize(90)` "
            f"timed in a fresh process on the seeded file ({m.pages:,} pages of up to "
            f"{m.page_size:,} customers, each its own unit of work), wall and CPU time, "
            "the progress bar of "
            "`csdomain.cli.revisits` on stderr; peak memory: that process's `ru_maxrss` at "
            "the end (before: after imports and opening the store). Second run: the same "
            "materialize again (creates nothing).\n"
        )
        print("\n".join(materialize_table(m)))
        if m.rate < 20_000:
            missed.append("materialize tasks/s")

    if "rrule" in parts:
        print("\n## RRULE expansion: `Recurrence.occurrences` vs dateutil alone\n")
        cold_n = 300 if quick else 3_000
        shared_n = 500 if quick else 10_000
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

    if "agenda" in parts:
        print("\n## Agenda query: an agent's day at 100,000 and 1,000,000 stored tasks\n")
        sizes = (1_000, 5_000) if quick else (100_000, 1_000_000)
        calls = 50 if quick else 300
        results = run_agenda(work, sizes, calls, repeat)
        print(
            f"\nThe agent's day holds {AGENDA_TASKS} live tasks (and {AGENDA_TASKS} cancelled) "
            f"in both stores; the other tasks fall on {len(AGENTS)} agents over a year (one in "
            "ten cancelled). `RevisitDesk.agenda_entries(agent_id=..., day=...)`: the first "
            "page (limit 100) read from the stored columns; raw: `" + RAW_AGENDA + "` on its "
            "own sqlite3 connection to the same file, rows fetched (documents not decoded); "
            "the entry's columns: the same query selecting `key, version` and the 8 columns "
            "of `AGENDA_COLUMNS`; `RevisitDesk.agenda`: the same page as tasks decoded; "
            "beside them the raw query with `orjson.loads` of each document, for reference. "
            "Both raw plans checked to use the `agenda_agent` index; checked equal first (the "
            "same keys in the same order, the entries' columns the raw ones). CPU time, gc "
            f"off, median of {repeat} interleaved repeats of {calls} calls.\n"
        )
        print("\n".join(agenda_table(results)))
        missed += [f"agenda entries at {r.stored:,}" for r in results if r.ratio > 3]
        if len(results) > 1 and flatness(results, "entries") > 1.5:
            missed.append("agenda entries not flat")

    print(f"\nTotal {time.perf_counter() - started:.1f} s; {load_average('the end')}  ")
    if missed:
        print("Goals missed: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
