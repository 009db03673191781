"""HelpDesk sweeps (issue 10): due-proportional sweeps, throughput, intake, GC pauses.

One run measures, on SQLite (a file, WAL) and on PostgreSQL (a fresh schema and
a unique tenant, dropped at the end):

1. **due-proportional sweep**: ``HelpDesk.sweep(now)`` over a store of 100,000
   unsolved tickets of which 1,000 are due, against the same sweep over 10,000
   unsolved with 1,000 due (best of 3 sweeps each, interleaved; every sweep
   takes a fresh set of 1,000 due tickets). Goal: at most 1.5x.
2. **end-to-end throughput**: due tickets per second through load, evaluate,
   escalate and save (commits included, garbage collector on), tickets of 19
   events, every due ticket escalating (a first-response breach rule with
   ``raise_tier`` and ``notify``). ``HelpDesk.sweep`` with 1 worker process on
   SQLite (goal >= 5,000/s) and PostgreSQL (goal >= 3,000/s), and 2 worker
   processes on PostgreSQL (goal >= 1.6x one). Beside it, in the same store:
   the naive sweep peers run (page every unsolved ticket, ``evaluate`` it,
   escalate and save the breached ones) and the hand-written loop the issue
   cites (page ``tickets.due_before(now)``, ``evaluate``, escalate, save).
3. **GC pauses**: a sweep paging through all 100,000 tickets of the big store
   (a ``now`` at which every one is due), timing every collection through
   ``gc.callbacks``. Goal: no pause over 100 ms.
4. **intake latency**: ``HelpDesk.open_ticket`` end to end (customer found or
   created by contact, triage, round-robin routing, SLA start, schedule,
   outbox), one unit of work each, against the driver inserting the same rows
   (captured from the store after each intake) in one transaction each; and
   ``open_ticket`` again in the 10,000-ticket store.

Seeding is bulk: the tickets are built with the public ``Ticket`` methods
exactly as the desk's commands build them (``Ticket.open`` with a description,
the router's ``Assigned`` and ``Routed``, then customer messages and internal
notes a second apart) and their schedules with ``schedule_for`` from
``clock_state``/``evaluate_clock``/``next_check``, as the desk settles a ticket;
they are stored with ``add_many`` in transactions of 5,000. Before seeding, a
reference desk (memory store, frozen clock) opens tickets through its commands,
and the builder is checked to make equal tickets, customers and schedules.

Run from the repository root (needs the ``postgres`` extra)::

    .venv/bin/python bench/helpdesk.py                  # full run (several minutes)
    .venv/bin/python bench/helpdesk.py --quick          # smoke run, under 30 s
    .venv/bin/python bench/helpdesk.py --parts sweep,gc # a subset

``--check`` exits with status 1 when a goal is missed. In ``--quick`` mode the
PostgreSQL part is skipped, with a note, when no server answers.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import multiprocessing
import os
import platform
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from machine import cpu, load_average, package_version, postgres_reachable

import csdomain
from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.customers import ContactPoint, Customer
from csdomain.escalation import Action, EscalationRule, Trigger, apply_firing, due_firings
from csdomain.escalation import next_check as escalation_next_check
from csdomain.helpdesk import (
    SCHEDULES,
    UNSOLVED,
    DeskSetup,
    HelpDesk,
    Routed,
    TicketSchedule,
    schedule_for,
)
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import AssignmentPolicy, Strategy, Triage
from csdomain.sla import (
    MetricPolicy,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    SlaState,
    SlaStatus,
    Target,
    advance_clock,
    clock_state,
    evaluate,
    evaluate_clock,
)
from csdomain.storage import Store, open_store
from csdomain.tickets import Actor, Ticket, Visibility

try:
    import psycopg
except ImportError:  # pragma: no cover - the postgres extra installs it
    psycopg = None  # type: ignore[assignment]

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: Monday 2026-12-07 10:00 in Shanghai (02:00 UTC): the first ticket's creation.
T0 = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
#: Calendar time of a normal ticket's first-response target (breach = due).
FIRST_RESPONSE = timedelta(hours=8)
#: Calendar time of a low-priority ticket's first-response target: never due in a window.
LOW_FIRST_RESPONSE = timedelta(days=30)
#: Each window of due tickets: created within its first half, swept after it.
WINDOW = timedelta(minutes=5)
CHANNEL = "phone_hotline"
SUBJECT = "宽带断线 / broadband keeps dropping"
DESCRIPTION = "Since this morning the router drops the line every few minutes. 路由器一直掉线。"
EVENTS = 19  # per ticket: created, description, assigned, routed, 15 messages and notes
AGENTS = tuple(f"agt_{i:02d}" for i in range(1, 11))
ROUTER = Actor.system("router")
CHUNK = 5_000
GC_GOAL_MS = 100.0
CALENDARS = {
    "desk": BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
}


# -- the desk -------------------------------------------------------------------------------------


def desk_setup() -> DeskSetup:
    """Three lines, ten frontline agents, one breach rule: raise the tier and tell L2.

    No warning thresholds: a ticket's next sweep is its breach, so every due ticket
    escalates (warnings would add a sweep per ticket that fires nothing).
    """
    first = {
        Priority.LOW: Target(LOW_FIRST_RESPONSE, warnings=()),
        Priority.NORMAL: Target(FIRST_RESPONSE, warnings=()),
        Priority.HIGH: Target(timedelta(hours=2), warnings=()),
        Priority.URGENT: Target(timedelta(minutes=30), warnings=()),
    }
    policy = SlaPolicy(
        "standard",
        [
            MetricPolicy(SlaMetric.FIRST_RESPONSE, first),
            MetricPolicy(
                SlaMetric.RESOLUTION,
                {p: Target(timedelta(days=2), calendar="desk", warnings=()) for p in Priority},
            ),
        ],
    )
    online = Presence.ONLINE
    agents = [Agent(a, a.upper(), presence=online, groups=("l1",)) for a in AGENTS]
    agents += [
        Agent("agt_eng", "Eng", presence=online, groups=("l2",)),
        Agent("agt_ven", "Ven", presence=online, groups=("vendor",)),
    ]
    rule = EscalationRule(
        name="first-response-breach",
        trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
        actions=(Action.raise_tier(), Action.notify(groups=("l2",))),
    )
    return DeskSetup(
        sla=SlaSetup([policy], list(CALENDARS.values())),
        groups=(
            Group("l1", "Frontline", tier="L1", calendar="desk"),
            Group("l2", "Engineering", tier="L2", calendar="desk"),
            Group("vendor", "Vendor", tier="L3", calendar="desk"),
        ),
        agents=agents,
        triage=Triage(rules=(), default_group="l1"),
        assignment=(AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
        escalation=(rule,),
        default_region="CN",
    )


def contact_of(n: int) -> str:
    return f"13{n:09d}"


def build_customer(customer_id: str, contact: str) -> Customer:
    """The customer ``open_ticket`` creates for a new contact."""
    return Customer(
        id=customer_id,
        display_name=contact,
        contact_points=(ContactPoint(channel=CHANNEL, address=contact),),
    )


def body_of(k: int) -> str:
    return f"Message {k}: still down, 还是断线 (line test {k * 7 % 100})"


def build_ticket(
    ticket_id: str,
    customer_id: str,
    created: datetime,
    priority: Priority,
    agent: str,
    reasons: tuple[str, ...],
    events: int = EVENTS,
) -> Ticket:
    """The ticket ``open_ticket`` then ``customer_message``/``add_note`` (a second apart)
    make: created, description, assigned, routed, then messages and notes in turn."""
    ticket = Ticket.open(
        id=ticket_id,
        customer_id=customer_id,
        channel=CHANNEL,
        subject=SUBJECT,
        description=DESCRIPTION,
        at=created,
        priority=priority,
    )
    ticket = ticket.assign(at=created, actor=ROUTER, group_id="l1", assignee_id=agent)
    ticket = ticket.record(
        Routed(at=created, actor=ROUTER, group_id="l1", assignee_id=agent, reasons=reasons)
    )
    customer = Actor.customer(customer_id)
    for k in range(1, events - 3):
        at = created + timedelta(seconds=k)
        if k % 2:
            ticket = ticket.add_message(at=at, actor=customer, body=body_of(k))
        else:
            ticket = ticket.add_message(
                at=at, actor=Actor.agent(agent), body=body_of(k), visibility=Visibility.INTERNAL
            )
    return ticket


def build_schedule(
    ticket: Ticket, customer: Customer, setup: DeskSetup, fingerprint: str
) -> TicketSchedule:
    """The schedule the desk stores after settling ``ticket`` at its last change."""
    at = ticket.updated_at
    state = clock_state(ticket, setup.sla, customer=customer)
    status = evaluate_clock(state, setup.sla, at)
    check = escalation_next_check(
        setup.escalation, ticket, status, customer=customer, now=at, calendars=CALENDARS
    )
    return schedule_for(ticket, state, status, check_at=check, setup=fingerprint)


@dataclass
class Reference:
    """What the reference desk showed: the router's reasons per agent, the policy fingerprint."""

    reasons: dict[str, tuple[str, ...]]
    fingerprint: str


def reference_desk(setup: DeskSetup) -> Reference:
    """Open tickets through a real desk and check that the bulk builder makes the same."""
    clock = FrozenClock(T0)
    store = open_store("memory:", tenant="reference", clock=clock)
    desk = HelpDesk(store, setup, clock=clock, ids=SequentialIds())
    opened = []
    for a in range(len(AGENTS) + 1):
        start = T0 + timedelta(minutes=a)
        clock.set(start)
        priority = Priority.NORMAL if a % 2 == 0 else Priority.LOW
        stored = desk.open_ticket(
            contact=contact_of(a),
            channel=CHANNEL,
            subject=SUBJECT,
            description=DESCRIPTION,
            priority=priority,
        )
        ticket_id = stored.value.id
        agent = stored.value.assignee_id
        assert agent is not None
        for k in range(1, EVENTS - 3):
            clock.set(start + timedelta(seconds=k))
            if k % 2:
                desk.customer_message(ticket_id, body=body_of(k))
            else:
                desk.add_note(ticket_id, agent_id=agent, body=body_of(k))
        opened.append((ticket_id, start, priority))
    reasons: dict[str, tuple[str, ...]] = {}
    fingerprint = desk.schedule(opened[0][0]).setup
    for ticket_id, start, priority in opened:
        ticket = desk.ticket(ticket_id).value
        routed = [e for e in ticket.timeline if isinstance(e, Routed)]
        assert ticket.assignee_id is not None and len(routed) == 1
        contact = contact_of(opened.index((ticket_id, start, priority)))
        customer = build_customer(ticket.customer_id, contact)
        built = build_ticket(
            ticket_id, ticket.customer_id, start, priority, ticket.assignee_id, routed[0].reasons
        )
        if built != ticket:
            raise AssertionError(f"the builder's ticket differs from the desk's {ticket_id}")
        if store.customers.get(ticket.customer_id).value != customer:
            raise AssertionError(f"the builder's customer differs from the desk's {ticket_id}")
        if build_schedule(built, customer, setup, fingerprint) != desk.schedule(ticket_id):
            raise AssertionError(f"the builder's schedule differs from the desk's {ticket_id}")
        if len(ticket.timeline) != EVENTS:
            raise AssertionError(f"{ticket_id} has {len(ticket.timeline)} events, not {EVENTS}")
        if ticket_id != opened[0][0]:  # the first says "no one yet"; later ones "after ..."
            reasons[ticket.assignee_id] = routed[0].reasons
    store.close()
    return Reference(reasons, fingerprint)


# -- plans and seeding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """``background`` low-priority tickets (never due in a window) and due windows in time
    order: window ``i`` holds ``windows[i][1]`` normal tickets swept at ``sweep_at(i)``."""

    name: str
    background: int
    windows: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return self.background + sum(n for _, n in self.windows)

    def window(self, label: str) -> list[int]:
        return [i for i, (name, _) in enumerate(self.windows) if name == label]

    def count(self, index: int) -> int:
        return self.windows[index][1]


def sweep_at(index: int) -> datetime:
    """The ``now`` that takes window ``index``'s tickets (all due) and no later window's."""
    return T0 + FIRST_RESPONSE + index * WINDOW + WINDOW / 2 + timedelta(seconds=30)


def creations(plan: Plan) -> list[tuple[datetime, bool]]:
    """(created at, normal priority?) of every ticket, in creation order."""
    out: list[tuple[datetime, bool]] = []
    for index, (_, count) in enumerate(plan.windows):
        step = (WINDOW / 2) / max(count, 1)
        out.extend((T0 + index * WINDOW + j * step, True) for j in range(count))
    span = max(len(plan.windows), 1) * WINDOW
    step = span / max(plan.background, 1)
    out.extend((T0 + j * step + timedelta(microseconds=7), False) for j in range(plan.background))
    out.sort()
    return out


def seed(stores: Sequence[Store], plan: Plan, setup: DeskSetup, ref: Reference) -> float:
    """Fill every store with the plan's tickets, customers and schedules; seconds taken."""
    started = time.perf_counter()
    schedules = [store.collection(SCHEDULES) for store in stores]
    order = creations(plan)
    for begin in range(0, len(order), CHUNK):
        customers: list[Customer] = []
        tickets: list[Ticket] = []
        plans: list[TicketSchedule] = []
        customer = None
        for seq in range(begin, min(begin + CHUNK, len(order))):
            created, normal = order[seq]
            n = seq // 4  # four tickets per customer
            if customer is None or seq % 4 == 0:
                customer = build_customer(f"cus_{n:08d}", contact_of(n))
                if seq % 4 == 0:
                    customers.append(customer)
            agent = AGENTS[seq % len(AGENTS)]
            ticket = build_ticket(
                f"tkt_{seq:08d}",
                customer.id,
                created,
                Priority.NORMAL if normal else Priority.LOW,
                agent,
                ref.reasons[agent],
            )
            tickets.append(ticket)
            plans.append(build_schedule(ticket, customer, setup, ref.fingerprint))
        deadlines = {s.ticket_id: s.next_deadline for s in plans if s.next_deadline is not None}
        for store, repository in zip(stores, schedules, strict=True):
            with store.transaction():
                store.customers.add_many(customers)
                store.tickets.add_many(tickets, next_deadlines=deadlines)
                repository.add_many(plans)
    del order
    gc.collect()
    return time.perf_counter() - started


# -- targets --------------------------------------------------------------------------------------


@dataclass
class Location:
    """One store location: a SQLite file or a PostgreSQL schema, with its tenant."""

    backend: str  # "SQLite" or "PostgreSQL"
    url: str
    tenant: str
    drop: Callable[[], None] = lambda: None

    def open(self, *, create: bool = False) -> Store:
        return open_store(self.url, tenant=self.tenant, create=create)


class Targets:
    """Makes fresh targets and removes them at the end."""

    def __init__(self, work: str, postgres_url: str | None) -> None:
        self.work = work
        self.postgres_url = postgres_url
        self.run = uuid.uuid4().hex[:8]
        self.made: list[Location] = []

    def backends(self) -> list[str]:
        return ["SQLite", *(["PostgreSQL"] if self.postgres_url else [])]

    def make(self, backend: str, label: str) -> Location:
        tenant = f"bench_{self.run}"
        if backend == "SQLite":
            path = os.path.join(self.work, f"{label}.db")
            target = Location(backend, f"sqlite:///{path}", tenant)
        else:
            assert self.postgres_url is not None
            schema = f"bench_hd_{self.run}_{label}"
            url = f"{self.postgres_url}{'&' if '?' in self.postgres_url else '?'}schema={schema}"
            admin_url = self.postgres_url

            def drop(schema: str = schema) -> None:
                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

            target = Location(backend, url, tenant, drop)
        self.made.append(target)
        return target

    def close(self) -> None:
        for target in self.made:
            with suppress(Exception):
                target.drop()


class Seeded:
    """Stores of each plan on each backend, seeded once, on first use."""

    def __init__(self, targets: Targets, setup: DeskSetup, ref: Reference) -> None:
        self.targets = targets
        self.setup = setup
        self.ref = ref
        self.done: dict[tuple[str, str], Location] = {}
        self.seconds: dict[tuple[str, str], float] = {}

    def get(self, plan: Plan, backends: Sequence[str]) -> dict[str, Location]:
        missing = [b for b in backends if (b, plan.name) not in self.done]
        if missing:
            made = {b: self.targets.make(b, f"{plan.name}_{b[:2].lower()}") for b in missing}
            stores = []
            for target in made.values():
                store = target.open(create=True)
                HelpDesk(store, self.setup)  # declares its collections, unique contacts
                stores.append(store)
            try:
                seconds = seed(stores, plan, self.setup, self.ref)
            finally:
                for store in stores:
                    store.close()
            for b, target in made.items():
                self.done[(b, plan.name)] = target
                self.seconds[(b, plan.name)] = seconds
            print(
                f"Seeded {plan.name!r} ({plan.total:,} tickets of {EVENTS} events) on "
                f"{', '.join(missing)} in {seconds:.1f} s  "
            )
        return {b: self.done[(b, plan.name)] for b in backends}


# -- the contenders of a sweep --------------------------------------------------------------------


def _no_agent(ticket: Ticket, action: Action) -> str | None:
    return None


def _next_deadline(status: SlaStatus, now: datetime) -> datetime | None:
    ahead = [
        t
        for m in status.metrics
        if m.state in (SlaState.RUNNING, SlaState.BREACHED)
        for t in (m.due_at, m.next_warning_at)
        if t is not None and t > now
    ]
    return min(ahead, default=None)


def _escalate_and_save(
    store: Store, setup: DeskSetup, stored: Any, customer: Customer | None, now: datetime
) -> bool:
    """Evaluate the ticket (a full walk), fire the due rules, save it with its next deadline."""
    ticket = stored.value
    status = evaluate(ticket, setup.sla, now, customer=customer)
    firings = due_firings(
        setup.escalation, ticket, status, customer=customer, now=now, calendars=CALENDARS
    )
    if not firings:
        return False
    for firing in firings:
        ticket = apply_firing(
            ticket,
            firing,
            at=now,
            ladder=setup.ladder,
            groups=setup.group_by_id,
            calendars=CALENDARS,
            choose_agent=_no_agent,
        )
    after = evaluate(ticket, setup.sla, now, customer=customer)
    store.tickets.save(
        ticket, expected_version=stored.version, next_deadline=_next_deadline(after, now)
    )
    return True


def naive_sweep(store: Store, setup: DeskSetup, now: datetime) -> tuple[int, int]:
    """What peers' cron jobs do: page every unsolved ticket, evaluate each, escalate and save
    the breached ones (a unit of work per page). Returns (loaded, escalated)."""
    loaded = escalated = 0
    cursor: str | None = None
    while True:
        with store.transaction():
            page = store.tickets.list(status=UNSOLVED, limit=100, cursor=cursor)
            customers = store.customers.get_many({s.value.customer_id for s in page.items})
            for stored in page.items:
                found = customers.get(stored.value.customer_id)
                loaded += 1
                escalated += _escalate_and_save(
                    store, setup, stored, found.value if found else None, now
                )
        cursor = page.next_cursor
        if cursor is None:
            return loaded, escalated


def hand_loop(store: Store, setup: DeskSetup, now: datetime) -> tuple[int, int]:
    """The loop the issue cites, written against the store by hand: page
    ``tickets.due_before(now)``, evaluate, escalate, save with the next deadline."""
    loaded = escalated = 0
    cursor: str | None = None
    while True:
        with store.transaction():
            page = store.tickets.due_before(now, limit=100, cursor=cursor)
            customers = store.customers.get_many({s.value.customer_id for s in page.items})
            for stored in page.items:
                found = customers.get(stored.value.customer_id)
                loaded += 1
                escalated += _escalate_and_save(
                    store, setup, stored, found.value if found else None, now
                )
        cursor = page.next_cursor
        if cursor is None:
            return loaded, escalated


def run_contender(
    mode: str, store: Store, setup: DeskSetup, now: datetime, name: str
) -> tuple[int, int]:
    """(tickets looked at, tickets escalated) of one sweep by ``mode``."""
    if mode == "desk":
        report = HelpDesk(store, setup).sweep(now, worker=name)
        return report.examined, len(report.fired)
    if mode == "naive":
        return naive_sweep(store, setup, now)
    if mode == "hand":
        return hand_loop(store, setup, now)
    raise ValueError(mode)


def worker(
    mode: str, url: str, tenant: str, now: str, name: str, ready: Any, start: Any, out: Any
) -> None:
    """One sweep worker process: open, say ready, wait for the start, sweep, report.

    With ``CSDOMAIN_BENCH_PROFILE_DIR`` set, the sweep runs under cProfile and its stats
    are dumped there (``<mode>-<worker>-<pid>.prof``; the reported times then include
    the profiler's overhead)."""
    setup = desk_setup()
    store = open_store(url, tenant=tenant)
    HelpDesk(store, setup)
    gc.collect()
    ready.set()
    start.wait()
    profile_dir = os.environ.get("CSDOMAIN_BENCH_PROFILE_DIR")
    prof = cProfile.Profile() if profile_dir else None
    began = time.perf_counter()
    cpu0 = time.process_time()
    try:
        if prof is not None:
            prof.enable()
        looked, escalated = run_contender(mode, store, setup, datetime.fromisoformat(now), name)
        if prof is not None and profile_dir is not None:
            prof.disable()
            prof.dump_stats(os.path.join(profile_dir, f"{mode}-{name}-{os.getpid()}.prof"))
        out.put((name, began, time.perf_counter(), looked, escalated, time.process_time() - cpu0))
    except BaseException as exc:  # reported, not lost in the child
        out.put((name, began, time.perf_counter(), -1, -1, repr(exc)))
        raise
    finally:
        store.close()


@dataclass
class Run:
    mode: str
    workers: int
    seconds: float
    looked: int
    escalated: int
    cpu: float

    @property
    def rate(self) -> float:
        return self.escalated / self.seconds if self.seconds else 0.0


def in_processes(mode: str, target: Location, now: datetime, workers: int) -> Run:
    """Sweep ``target`` at ``now`` with ``workers`` spawned processes started together."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = ctx.Event()
    readies = [ctx.Event() for _ in range(workers)]
    procs = [
        ctx.Process(
            target=worker,
            args=(
                mode,
                target.url,
                target.tenant,
                now.isoformat(),
                f"w{i}",
                readies[i],
                start,
                out,
            ),
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    for ready in readies:
        if not ready.wait(120):
            raise RuntimeError("a sweep worker did not start")
    began = time.perf_counter()
    start.set()
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    for r in results:
        if r[3] < 0:
            raise RuntimeError(f"worker {r[0]} failed: {r[5]}")
    end = max(r[2] for r in results)
    return Run(
        mode,
        workers,
        end - began,
        sum(r[3] for r in results),
        sum(r[4] for r in results),
        sum(r[5] for r in results),
    )


# -- 1. due-proportional sweeps -------------------------------------------------------------------


@dataclass
class Proportional:
    backend: str
    big: list[float] = field(default_factory=list)
    small: list[float] = field(default_factory=list)
    sizes: tuple[int, int, int] = (0, 0, 0)

    @property
    def ratio(self) -> float:
        return min(self.big) / min(self.small)


def run_proportional(
    seeded: Seeded, big: Plan, small: Plan, backends: list[str]
) -> list[Proportional]:
    setup = seeded.setup
    results = []
    for plan in (big, small):
        seeded.get(plan, backends)  # built once, written to every backend
    for backend in backends:
        targets = {p.name: seeded.get(p, [backend])[backend] for p in (big, small)}
        res = Proportional(backend, sizes=(big.total, small.total, big.count(0)))
        stores = {name: t.open() for name, t in targets.items()}
        try:
            desks = {name: HelpDesk(s, setup) for name, s in stores.items()}
            for index in big.window("due"):
                for plan, samples in ((big, res.big), (small, res.small)):
                    gc.collect()
                    began = time.perf_counter()
                    report = desks[plan.name].sweep(sweep_at(index))
                    samples.append(time.perf_counter() - began)
                    want = plan.count(index)
                    if report.examined != want or len(report.fired) != want:
                        raise AssertionError(
                            f"{plan.name} window {index}: examined {report.examined}, fired "
                            f"{len(report.fired)}, expected {want}"
                        )
        finally:
            for s in stores.values():
                s.close()
        results.append(res)
    return results


# -- 2. throughput --------------------------------------------------------------------------------


def throughput_plan(due: int, repeat: int) -> Plan:
    windows = [("desk1", due)] * repeat + [("desk2", due)] * repeat
    windows += [("naive", due)] + [("hand", due)] * repeat
    return Plan("throughput", 0, tuple(windows))


@dataclass
class Throughput:
    backend: str
    due: int
    unsolved: int
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def best(self, key: str) -> Run:
        return max(self.runs[key], key=lambda r: r.rate)


def run_throughput(seeded: Seeded, due: int, repeat: int, backends: list[str]) -> list[Throughput]:
    results = []
    plan = throughput_plan(due, repeat)
    seeded.get(plan, backends)
    for backend in backends:
        target = seeded.get(plan, [backend])[backend]
        res = Throughput(backend, due, plan.total)
        for label, mode, workers in (
            ("desk1", "desk", 1),
            ("desk2", "desk", 2),
            ("naive", "naive", 1),
            ("hand", "hand", 1),
        ):
            for index in plan.window(label):
                run = in_processes(mode, target, sweep_at(index), workers)
                if run.escalated != plan.count(index):
                    raise AssertionError(
                        f"{backend} {label} window {index}: {run.escalated} escalated, "
                        f"expected {plan.count(index)}"
                    )
                res.runs.setdefault(label, []).append(run)
        results.append(res)
    return results


# -- 3. GC pauses ---------------------------------------------------------------------------------


@dataclass
class Pauses:
    backend: str
    examined: int
    fired: int
    seconds: float
    pauses: list[tuple[int, float]]

    @property
    def longest(self) -> float:
        return max((p for _, p in self.pauses), default=0.0)

    @property
    def total(self) -> float:
        return sum(p for _, p in self.pauses)


def run_gc(seeded: Seeded, big: Plan) -> Pauses:
    target = seeded.get(big, ["SQLite"])["SQLite"]
    setup = seeded.setup
    store = target.open()
    pauses: list[tuple[int, float]] = []
    began_at = [0.0]

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began_at[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - began_at[0]))

    try:
        desk = HelpDesk(store, setup)
        gc.collect()
        gc.callbacks.append(timing)
        try:
            began = time.perf_counter()
            report = desk.sweep(T0 + LOW_FIRST_RESPONSE + timedelta(days=1))
            seconds = time.perf_counter() - began
        finally:
            gc.callbacks.remove(timing)
    finally:
        store.close()
    return Pauses("SQLite", report.examined, len(report.fired), seconds, pauses)


# -- 4. intake ------------------------------------------------------------------------------------

_SKIP = {"csdomain_schema", "csdomain_collections", "csdomain_reindex", "sqlite_sequence"}


class Tables:
    """Every csdomain table of one store location, for capturing and replaying rows."""

    def __init__(self, target: Location) -> None:
        self.target = target
        self.sqlite = target.backend == "SQLite"
        if self.sqlite:
            path = target.url.removeprefix("sqlite:///")
            self.conn: Any = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            names = [
                r[0]
                for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            self.columns = {
                n: [r[1] for r in self.conn.execute(f"PRAGMA table_info({n})")]
                for n in names
                if n not in _SKIP and not n.startswith("legacy_")
            }
            self.json: dict[str, set[str]] = {n: set() for n in self.columns}
            self.prefix = ""
        else:
            base, _, query = target.url.partition("?")
            self.schema = query.split("schema=", 1)[1].split("&", 1)[0]
            self.conn = psycopg.connect(base)
            rows = self.conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s ORDER BY table_name, ordinal_position",
                (self.schema,),
            ).fetchall()
            self.conn.commit()
            self.columns = {}
            self.json = {}
            for table, column, kind in rows:
                if table in _SKIP or table.startswith("legacy_"):
                    continue
                self.columns.setdefault(table, []).append(column)
                if kind in ("json", "jsonb"):
                    self.json.setdefault(table, set()).add(column)
            self.json = {n: self.json.get(n, set()) for n in self.columns}
            self.prefix = f'"{self.schema}".'

    def _select(self, table: str) -> str:
        cols = ", ".join(f"{c}::text" if c in self.json[table] else c for c in self.columns[table])
        return f"SELECT {cols} FROM {self.prefix}{table} WHERE tenant = {self._mark()}"

    def _mark(self) -> str:
        return "?" if self.sqlite else "%s"

    def snapshot(self) -> dict[str, set[tuple[Any, ...]]]:
        out = {}
        for table in self.columns:
            out[table] = set(self.conn.execute(self._select(table), (self.target.tenant,)))
        if not self.sqlite:
            self.conn.commit()
        return out

    def statements(
        self, before: dict[str, set[tuple[Any, ...]]], after: dict[str, set[tuple[Any, ...]]]
    ) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """(SQL, rows) for each table: INSERTs of the new rows, UPDATEs of changed ones."""
        out = []
        for table, columns in self.columns.items():
            new = after[table] - before[table]
            if not new:
                continue
            keyed = "key" in columns and "sequence" not in columns and "value" not in columns
            if "id" in columns and table.startswith("outbox"):
                keyed = False
            old_keys = (
                {(r[columns.index("tenant")], r[columns.index("key")]) for r in before[table]}
                if keyed
                else set()
            )
            inserts, updates = [], []
            for row in sorted(new, key=repr):
                values = dict(zip(columns, row, strict=True))
                values["tenant"] = self.raw_tenant
                if keyed and (row[columns.index("tenant")], values["key"]) in old_keys:
                    updates.append(values)
                else:
                    inserts.append(values)
            cols = [c for c in columns if not (c == "id" and table.startswith("outbox"))]
            mark = self._mark()
            cast = {c: (f"{mark}::json" if c in self.json[table] else mark) for c in cols}
            if inserts:
                sql = (
                    f"INSERT INTO {self.raw_prefix}{table} ({', '.join(cols)}) VALUES "
                    f"({', '.join(cast[c] for c in cols)})"
                )
                out.append((sql, [tuple(v[c] for c in cols) for v in inserts]))
            if updates:
                rest = [c for c in cols if c not in ("tenant", "key")]
                sql = (
                    f"UPDATE {self.raw_prefix}{table} SET "
                    f"{', '.join(f'{c} = {cast[c]}' for c in rest)} "
                    f"WHERE tenant = {mark} AND key = {mark}"
                )
                out.append((sql, [(*(v[c] for c in rest), v["tenant"], v["key"]) for v in updates]))
        return out

    raw_prefix = ""
    raw_tenant = ""

    def close(self) -> None:
        self.conn.close()


@dataclass
class Intake:
    backend: str
    desk_ms: list[float]
    raw_ms: list[float]
    rows: float
    statements: float
    loaded_ms: list[float]
    loaded_open: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.desk_ms) / statistics.median(self.raw_ms)


def run_intake(
    seeded: Seeded,
    targets: Targets,
    count: int,
    loaded: Plan,
    loaded_count: int,
    backends: list[str],
) -> list[Intake]:
    setup = seeded.setup
    results = []
    for backend in backends:
        desk_target = targets.make(backend, "intake")
        raw_target = targets.make(backend, "intake_raw")
        for t in (desk_target, raw_target):
            s = t.open(create=True)
            HelpDesk(s, setup)
            s.close()
        clock = FrozenClock(T0 + timedelta(days=1))
        store = open_store(desk_target.url, tenant=desk_target.tenant, clock=clock, create=False)
        desk = HelpDesk(store, setup, clock=clock)
        tables = Tables(desk_target)
        tables.raw_prefix = (
            tables.prefix.replace(
                desk_target.url.split("schema=")[-1], raw_target.url.split("schema=")[-1]
            )
            if not tables.sqlite
            else ""
        )
        tables.raw_tenant = raw_target.tenant
        raw = Tables(raw_target)
        captured: list[list[tuple[str, list[tuple[Any, ...]]]]] = []
        desk_ms: list[float] = []
        before = tables.snapshot()
        contacts: list[str] = []
        try:
            for i in range(count):
                clock.advance(timedelta(seconds=1))
                if i % 3 == 2:
                    contact = contacts[-1]  # a returning customer: found, not created
                else:
                    contact = f"139{i:08d}"
                    contacts.append(contact)
                gc.collect(0)
                began = time.perf_counter()
                desk.open_ticket(
                    contact=contact, channel=CHANNEL, subject=SUBJECT, description=DESCRIPTION
                )
                desk_ms.append((time.perf_counter() - began) * 1e3)
                after = tables.snapshot()
                captured.append(tables.statements(before, after))
                before = after
        finally:
            tables.close()
            store.close()
        # replay: the driver inserting the same rows, one transaction per intake
        raw_ms: list[float] = []
        try:
            for statements in captured:
                began = time.perf_counter()
                if raw.sqlite:
                    raw.conn.execute("BEGIN IMMEDIATE")
                    for sql, rows in statements:
                        raw.conn.executemany(sql, rows)
                    raw.conn.execute("COMMIT")
                else:
                    with raw.conn.transaction(), raw.conn.cursor() as cur:
                        for sql, rows in statements:
                            cur.executemany(sql, rows)
                raw_ms.append((time.perf_counter() - began) * 1e3)
            if raw.sqlite:
                raw.conn.execute("BEGIN")
                raw.conn.execute("COMMIT")
        finally:
            raw.close()
        check = Tables(raw_target)
        got = sum(len(v) for v in check.snapshot().values())
        check.close()
        rows = statistics.mean(sum(len(r) for _, r in s) for s in captured)
        stmts = statistics.mean(len(s) for s in captured)
        if got < rows * count * 0.9:
            raise AssertionError(f"raw replay stored {got} rows, expected about {rows * count}")
        # open_ticket again in a store with loaded_count open tickets in the group
        target = seeded.get(loaded, [backend])[backend]
        clock2 = FrozenClock(T0 + timedelta(days=1))
        store2 = open_store(target.url, tenant=target.tenant, clock=clock2)
        desk2 = HelpDesk(store2, setup, clock=clock2)
        loaded_ms = []
        try:
            for i in range(loaded_count):
                clock2.advance(timedelta(seconds=1))
                gc.collect(0)
                began = time.perf_counter()
                desk2.open_ticket(contact=f"137{i:08d}", channel=CHANNEL, subject=SUBJECT)
                loaded_ms.append((time.perf_counter() - began) * 1e3)
        finally:
            store2.close()
        results.append(Intake(backend, desk_ms, raw_ms, rows, stmts, loaded_ms, loaded.total))
    return results


# -- report ---------------------------------------------------------------------------------------


def environment(pg: str | None) -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()}",
            f"csdomain {csdomain.__version__}",
            f"SQLite {sqlite3.sqlite_version}",
            f"orjson {package_version('orjson')}",
            f"psycopg {package_version('psycopg')}",
            f"attrs {package_version('attrs')}",
            f"cattrs {package_version('cattrs')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    lines = [f"Versions: {versions}  ", f"Machine: {machine}, {load_average()}  "]
    lines.append(f"PostgreSQL: {pg}  ")
    return lines


def postgres_server(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
        sets = [
            f"{n}={admin.execute(f'SHOW {n}').fetchone()[0]}"
            for n in ("synchronous_commit", "fsync", "shared_buffers")
        ]
    return f"{version} ({', '.join(sets)}) at {url}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


@dataclass
class Goal:
    text: str
    measured: str
    met: bool


@dataclass
class Outcome:
    proportional: list[Proportional] = field(default_factory=list)
    throughput: list[Throughput] = field(default_factory=list)
    pauses: Pauses | None = None
    intake: list[Intake] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)


def proportional_table(results: list[Proportional]) -> list[str]:
    lines = [
        "| backend | unsolved (due) | sweeps, ms | best, ms | ratio big / small |",
        "|---|--:|--:|--:|--:|",
    ]
    for r in results:
        big, small, due = r.sizes
        lines.append(
            f"| {r.backend} | {big:,} ({due:,}) | {', '.join(ms(s) for s in r.big)} | "
            f"{ms(min(r.big))} | **{r.ratio:.2f}x** |"
        )
        lines.append(
            f"| {r.backend} | {small:,} ({due:,}) | {', '.join(ms(s) for s in r.small)} | "
            f"{ms(min(r.small))} | |"
        )
    return lines


LABELS = {
    "desk1": "`HelpDesk.sweep`, 1 worker",
    "desk2": "`HelpDesk.sweep`, 2 worker processes",
    "naive": "naive sweep (every unsolved ticket, `evaluate`)",
    "hand": "hand-written loop (`due_before`, `evaluate`, save)",
}


def throughput_table(results: list[Throughput]) -> list[str]:
    lines = [
        "| backend | contender | due tickets/s (best) | all runs, due/s | tickets read per run |"
        " CPU s (workers) |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for r in results:
        for key in ("desk1", "desk2", "naive", "hand"):
            if key not in r.runs:
                continue
            best = r.best(key)
            lines.append(
                f"| {r.backend} | {LABELS[key]} | **{best.rate:,.0f}** | "
                f"{', '.join(f'{x.rate:,.0f}' for x in r.runs[key])} | {best.looked:,} | "
                f"{best.cpu:.2f} |"
            )
    return lines


def intake_table(results: list[Intake]) -> list[str]:
    lines = [
        "| backend | `open_ticket`, median ms (p90) | raw INSERTs, median ms (p90) | ratio |"
        " rows (statements) per intake | `open_ticket` with N open tickets, median ms |",
        "|---|--:|--:|--:|--:|--:|",
    ]

    def p90(xs: list[float]) -> float:
        return sorted(xs)[int(0.9 * (len(xs) - 1))]

    for r in results:
        lines.append(
            f"| {r.backend} | {statistics.median(r.desk_ms):.2f} ({p90(r.desk_ms):.2f}) | "
            f"{statistics.median(r.raw_ms):.2f} ({p90(r.raw_ms):.2f}) | **{r.ratio:.1f}x** | "
            f"{r.rows:.1f} ({r.statements:.1f}) | {statistics.median(r.loaded_ms):.2f} "
            f"(N = {r.loaded_open:,}) |"
        )
    return lines


def goals(o: Outcome) -> list[Goal]:
    out = []
    for p in o.proportional:
        out.append(
            Goal(
                f"{p.backend}: sweep over {p.sizes[0]:,} / over {p.sizes[1]:,} "
                f"unsolved ({p.sizes[2]:,} due) <= 1.5x",
                f"{p.ratio:.2f}x",
                p.ratio <= 1.5,
            )
        )
    want = {"SQLite": 5_000, "PostgreSQL": 3_000}
    for t in o.throughput:
        one = t.best("desk1").rate
        out.append(
            Goal(
                f"{t.backend}: due tickets/s, 1 worker >= {want[t.backend]:,}",
                f"{one:,.0f}/s ({one / want[t.backend]:.2f} of the goal)",
                one >= want[t.backend],
            )
        )
        if "desk2" in t.runs and t.backend == "PostgreSQL":  # SQLite: one writer, no goal
            two = t.best("desk2").rate
            out.append(
                Goal(
                    f"{t.backend}: 2 workers >= 1.6x one worker",
                    f"{two / one:.2f}x",
                    two / one >= 1.6,
                )
            )
    if o.pauses is not None:
        out.append(
            Goal(
                f"longest GC pause in a sweep through {o.pauses.examined:,} tickets "
                f"< {GC_GOAL_MS:.0f} ms",
                f"{o.pauses.longest * 1e3:.1f} ms",
                o.pauses.longest * 1e3 < GC_GOAL_MS,
            )
        )
    return out


PARTS = ("sweep", "throughput", "gc", "intake")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (under 30 s)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {', '.join(PARTS)}")
    parser.add_argument("--big", type=int, help="unsolved tickets of the big store (100,000)")
    parser.add_argument("--small", type=int, help="unsolved tickets of the small store (10,000)")
    parser.add_argument("--due", type=int, help="due tickets per proportional sweep (1,000)")
    parser.add_argument("--repeat", type=int, help="sweeps of each kind (best of; default 3)")
    parser.add_argument(
        "--throughput-due", type=int, help="due tickets per throughput sweep (4,000)"
    )
    parser.add_argument("--intakes", type=int, help="open_ticket calls timed (300)")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CSDOMAIN_TEST_POSTGRES_URL", POSTGRES_URL)
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="cProfile one sweep per backend")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts <= set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    quick = args.quick
    big_n = args.big or (1_000 if quick else 100_000)
    small_n = args.small or (300 if quick else 10_000)
    due = args.due or (50 if quick else 1_000)
    repeat = args.repeat or (2 if quick else 3)
    trepeat = args.repeat or (1 if quick else 3)
    tdue = args.throughput_due or (100 if quick else 4_000)
    intakes = args.intakes or (10 if quick else 300)
    loaded_intakes = 3 if quick else 50

    print("# HelpDesk benchmark: sweeps, throughput, GC pauses, intake\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/helpdesk.py {given}".rstrip() + "  ")
    pg_skip: str | None = (
        "--no-postgres" if args.no_postgres else postgres_reachable(args.postgres_url)
    )
    if pg_skip is not None and not quick and not args.no_postgres:
        print(f"\nPostgreSQL is required for a full run: {pg_skip}; or pass --no-postgres")
        return 2
    pg_url = None if pg_skip is not None else args.postgres_url
    for line in environment(postgres_server(pg_url) if pg_url else f"skipped ({pg_skip})"):
        print(line)

    started = time.perf_counter()
    setup = desk_setup()
    ref = reference_desk(setup)
    print(
        f"Reference desk: {len(AGENTS) + 1} tickets opened through `open_ticket`, "
        f"`customer_message` and `add_note`; the bulk builder made equal tickets, customers "
        "and schedules  "
    )
    windows = tuple([("due", due)] * repeat)
    big = Plan("big", big_n - due * repeat, windows)
    small = Plan("small", small_n - due * repeat, windows)
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-helpdesk-") as work:
        targets = Targets(work, pg_url)
        seeded = Seeded(targets, setup, ref)
        backends = targets.backends()
        try:
            if "sweep" in parts:
                print("\n## Due-proportional sweep\n")
                outcome.proportional = run_proportional(seeded, big, small, backends)
                print(
                    f"\n`HelpDesk.sweep(now)` (batches of 100, each leased and stored in one unit "
                    f"of work), {due:,} due tickets each time, {repeat} sweeps per store "
                    "interleaved, each taking a fresh window of due tickets; gc on.\n"
                )
                print("\n".join(proportional_table(outcome.proportional)))
            if "throughput" in parts:
                print("\n## End-to-end throughput\n")
                outcome.throughput = run_throughput(seeded, tdue, trepeat, backends)
                print(
                    f"\n{tdue:,} due tickets per run ({EVENTS} events each; every one escalates: "
                    "`RuleFired`, `TierChanged`, `NotificationQueued`), each run in fresh "
                    "spawned processes timed from the start signal to the last one's end; "
                    f"gc on, commits included; best of {trepeat} (the naive sweep runs once). "
                    "The store holds "
                    + ", ".join(
                        f"{t.unsolved:,} unsolved tickets ({t.backend})" for t in outcome.throughput
                    )
                    + "; the naive sweep reads them all.\n"
                )
                print("\n".join(throughput_table(outcome.throughput)))
            if "gc" in parts:
                print("\n## GC pauses during a sweep through the big store\n")
                p = run_gc(seeded, big)
                outcome.pauses = p
                by_gen = {g: [d for gg, d in p.pauses if gg == g] for g in (0, 1, 2)}
                print(
                    f"\n`HelpDesk.sweep` on SQLite at a `now` when all {p.examined:,} tickets are "
                    f"due: {p.seconds:.1f} s ({p.examined / p.seconds:,.0f} tickets/s, "
                    f"{p.fired:,} escalated); {len(p.pauses):,} collections, longest "
                    f"**{p.longest * 1e3:.1f} ms**, total {p.total * 1e3:,.0f} ms "
                    f"({100 * p.total / p.seconds:.1f}% of the sweep); by generation: "
                    + "; ".join(
                        f"gen {g}: {len(d):,}, longest {max(d, default=0) * 1e3:.1f} ms"
                        for g, d in by_gen.items()
                    )
                )
            if "intake" in parts:
                print("\n## Intake latency\n")
                outcome.intake = run_intake(
                    seeded, targets, intakes, small, loaded_intakes, backends
                )
                print(
                    f"\n{intakes} `open_ticket` calls (a new customer two times in three, a "
                    "returning one the third; phone contact, triage, round robin over 10 "
                    "agents, SLA start, schedule, outbox), each its own unit of work, gc on; "
                    "against the driver executing the INSERTs (and the cursor's UPDATE) of the "
                    "rows each intake wrote, read back from the store, one transaction each "
                    "(executemany per table). Last column: `open_ticket` in the small store "
                    f"({loaded_intakes} calls).\n"
                )
                print("\n".join(intake_table(outcome.intake)))
            if args.profile:
                profile(seeded, tdue, backends)
        finally:
            targets.close()
    outcome.goals = goals(outcome)
    print("\n## Goals\n")
    print("| goal | measured | met |\n|---|---|---|")
    for g in outcome.goals:
        print(f"| {g.text} | {g.measured} | {'yes' if g.met else '**no**'} |")
    print(f"\nTotal time {time.perf_counter() - started:.0f} s; {load_average(at='the end')}")
    return 1 if args.check and not all(g.met for g in outcome.goals) else 0


STAGES = (
    "lease 100 schedules (read them)",
    "get_many 100 tickets (load the timelines)",
    "settle: advance_clock, evaluate_clock, due_firings, apply_firing, next_check, schedule_for",
    "save the schedule",
    "save the ticket (3 new events, outbox)",
    "commit",
)


def stages(store: Store, setup: DeskSetup, now: datetime) -> tuple[dict[str, float], int]:
    """One sweep written with the public functions the desk's sweep calls, each step timed
    (seconds summed over the batches) -- what the sweep's time is made of."""
    schedules = store.collection(SCHEDULES)
    sla, rules = setup.sla, setup.escalation
    spent = dict.fromkeys(STAGES, 0.0)
    high, until, done = now + timedelta(microseconds=1), now + timedelta(minutes=2), 0
    clock = time.perf_counter
    while True:
        t0 = clock()
        with store.transaction():
            leased = schedules.lease("sweep", high=high, until=until, limit=100)
            t1 = clock()
            spent[STAGES[0]] += t1 - t0
            if not leased:
                break
            tickets = store.tickets.get_many([s.value.ticket_id for s in leased])
            t2 = clock()
            spent[STAGES[1]] += t2 - t1
            for stored_schedule in leased:
                a = clock()
                stored = tickets[stored_schedule.value.ticket_id]
                ticket = stored.value
                state = advance_clock(stored_schedule.value.clock, ticket, sla)
                status = evaluate_clock(state, sla, now)
                for firing in due_firings(
                    rules, ticket, status, customer=None, now=now, calendars=CALENDARS
                ):
                    ticket = apply_firing(
                        ticket,
                        firing,
                        at=now,
                        ladder=setup.ladder,
                        groups=setup.group_by_id,
                        calendars=CALENDARS,
                        choose_agent=_no_agent,
                    )
                state = advance_clock(state, ticket, sla)
                check = escalation_next_check(
                    rules, ticket, status, customer=None, now=now, calendars=CALENDARS
                )
                schedule = schedule_for(
                    ticket, state, status, check_at=check, setup=stored_schedule.value.setup
                )
                b = clock()
                schedules.save(schedule, expected_version=stored_schedule.version)
                c = clock()
                store.tickets.save(
                    ticket, expected_version=stored.version, next_deadline=schedule.next_deadline
                )
                d = clock()
                spent[STAGES[2]] += b - a
                spent[STAGES[3]] += c - b
                spent[STAGES[4]] += d - c
                done += 1
            t3 = clock()
        spent[STAGES[5]] += clock() - t3
    return spent, done


def profile(seeded: Seeded, due: int, backends: list[str]) -> None:
    """Steps of a sweep written by hand with the desk's functions, then a cProfile of one
    ``HelpDesk.sweep``, per backend, in this process."""
    plan = Plan("stages", 0, (("s", due),))
    for backend in backends:
        target = seeded.get(plan, [backend])[backend]
        store = target.open()
        try:
            gc.collect()
            spent, done = stages(store, seeded.setup, sweep_at(0))
        finally:
            store.close()
        total = sum(spent.values())
        print(
            f"\n### Steps of a sweep: {backend}, {done:,} due tickets, {total:.2f} s "
            f"({done / total:,.0f} tickets/s)\n\n| step | µs per ticket | share |\n|---|--:|--:|"
        )
        for name, seconds in spent.items():
            print(f"| {name} | {seconds / done * 1e6:,.0f} | {100 * seconds / total:.0f}% |")
    plan = Plan("profile", 0, (("p", due),))
    for backend in backends:
        target = seeded.get(plan, [backend])[backend]
        store = target.open()
        try:
            desk = HelpDesk(store, seeded.setup)
            prof = cProfile.Profile()
            began = time.perf_counter()
            prof.enable()
            desk.sweep(sweep_at(0))
            prof.disable()
            seconds = time.perf_counter() - began
        finally:
            store.close()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(
            f"\n### cProfile: {backend}, {due:,} due tickets, {seconds:.2f} s under the profiler\n"
        )
        print("```\n" + out.getvalue() + "```")


if __name__ == "__main__":
    sys.exit(main())
