"""Sweep workers as processes: four ``spawn``-ed processes, each with a HelpDesk of its
own built from the same :func:`sweep_setup`, sweep one store at once, on one SQLite
file and on one PostgreSQL database.

400 tickets are opened, then the clock is moved past their first-response breaches
(and their half-time warnings); the workers sweep side by side. Each rule must fire
exactly once per ticket (its ``RuleFired`` event, the ``fired`` lists of the workers'
reports, and its action: the tier raised once), each notification must be queued
once and reach the outbox once, every ticket must have been examined by exactly one
worker and none may be left due (every schedule's ``sweep_at`` is ahead of the sweep
or None). On PostgreSQL, whose leases skip each other's rows instead of waiting, at
least two workers must have done some of the work.

Intake races too: four processes open tickets from the same 20 new phone numbers
(each writing them its own way): exactly 20 customers, one per number.

See ``tests/storage/test_postgres.py`` for the server the PostgreSQL races need
(skipped without one, a failure under ``CSDOMAIN_REQUIRE_POSTGRES``).
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.escalation import Action, EscalationRule, NotificationQueued, RuleFired, Trigger
from csdomain.helpdesk import SCHEDULES, DeskSetup, HelpDesk
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import AssignmentPolicy, Strategy
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import Store, open_store

TICKETS = 400
WORKERS = 4
BATCH = 10
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Monday 10:00 in Shanghai: tickets open every 10 seconds from then on.
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
#: The sweep: Monday 16:00, past every breach (the last is due at 13:06, after lunch).
NOW = datetime(2026, 12, 7, 16, 0, tzinfo=SHANGHAI)
RULES = ("first-response-late", "half-time")

_spawn = multiprocessing.get_context("spawn")


def sweep_setup(agents: tuple[Agent, ...] = ()) -> DeskSetup:
    """The desk every process builds (importable: spawned workers find it by name).

    High-priority first responses are due within one hour of desk time and warn at
    half of it; a breach raises the tier and notifies L2, the warning notifies L1.
    Nobody is on duty (``agents``: nobody by default), so tickets wait in L1's queue.
    """
    desk = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
    sla = SlaSetup(
        [
            SlaPolicy(
                "standard",
                [
                    MetricPolicy(
                        SlaMetric.FIRST_RESPONSE,
                        {p: Target(timedelta(hours=1), "desk", warnings=(0.5,)) for p in Priority},
                    )
                ],
            )
        ],
        [desk],
    )
    rules = (
        EscalationRule(
            name="first-response-late",
            trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
            actions=(Action.raise_tier(), Action.notify(groups=("l2",))),
        ),
        EscalationRule(
            name="half-time",
            trigger=Trigger.sla_warning(SlaMetric.FIRST_RESPONSE, 0.5),
            actions=(Action.notify(groups=("l1",)),),
        ),
    )
    return DeskSetup(
        sla=sla,
        groups=(
            Group("l1", "Frontline", tier="L1", calendar="desk"),
            Group("l2", "Engineering", tier="L2", calendar="desk"),
        ),
        agents=agents,
        assignment=(AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
        escalation=rules,
        default_region="CN",
    )


def intake_setup() -> DeskSetup:
    """:func:`sweep_setup` with three agents online in L1, assigned round robin."""
    return sweep_setup(
        tuple(
            Agent(f"agt_{i}", f"Agent {i}", presence=Presence.ONLINE, groups=("l1",), max_load=50)
            for i in range(3)
        )
    )


def _report(out: str, value: dict[str, Any]) -> None:
    Path(out).write_text(json.dumps(value), encoding="utf-8")


def sweep_worker(url: str, tenant: str, worker: int, barrier: Any, out: str) -> None:
    """A sweep worker: its own store and HelpDesk, one sweep at :data:`NOW` once every
    worker is ready; writes its report's counts and firings to ``out``."""
    clock = FrozenClock(NOW)
    store = open_store(url, tenant=tenant, clock=clock)
    try:
        desk = HelpDesk(store, sweep_setup(), clock=clock)
        barrier.wait(timeout=120)
        report = desk.sweep(NOW, worker=f"w{worker}", batch=BATCH)
        _report(
            out,
            {
                "examined": report.examined,
                "fired": report.fired,
                "saved": report.saved,
                "batches": report.batches,
                "retried": report.retried,
            },
        )
    finally:
        store.close()


def _drain(store: Store) -> list[tuple[str, int, Any]]:
    """Every unpublished outbox message (ticket id, sequence, event), marked published."""
    drained: list[tuple[str, int, Any]] = []
    while True:
        batch = store.outbox.pending(limit=500)
        if not batch:
            return drained
        drained += [(m.ticket_id, m.sequence, m.event) for m in batch]
        store.outbox.mark_published(m.id for m in batch)


def _seed(store: Store) -> list[str]:
    clock = FrozenClock(T0)
    desk = HelpDesk(store, sweep_setup(), clock=clock)
    ids = []
    for i in range(TICKETS):
        stored = desk.open_ticket(
            contact=f"1380000{i % 40:04d}",
            channel="phone_hotline",
            subject=f"Outage {i}",
            priority=Priority.HIGH,
        )
        ids.append(stored.value.id)
        clock.advance(timedelta(seconds=10))
    return ids


def sweep_race(url: str, tmp: Path) -> list[dict[str, Any]]:
    """Seed, sweep with the workers, check that everything was done once; returns the
    workers' reports."""
    tenant = f"sweep{secrets.token_hex(4)}"
    store = open_store(url, tenant=tenant, create=True, clock=FrozenClock(NOW))
    try:
        ids = _seed(store)
        assert not any(
            isinstance(e, RuleFired)
            for stored in store.tickets.get_many(ids).values()
            for e in stored.value.timeline
        )
        _drain(store)  # the intake's messages: not what this test counts

        barrier = _spawn.Barrier(WORKERS)
        files = [tmp / f"{tenant}_{w}.json" for w in range(WORKERS)]
        children = [
            _spawn.Process(target=sweep_worker, args=(url, tenant, w, barrier, str(files[w])))
            for w in range(WORKERS)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=300)
        assert [child.exitcode for child in children] == [0] * WORKERS
        reports = [json.loads(file.read_text(encoding="utf-8")) for file in files]

        # Each ticket examined by one worker, each rule fired once per ticket.
        assert sum(r["examined"] for r in reports) == TICKETS, reports
        fired = Counter((t, rule) for r in reports for t, rule in r["fired"])
        assert fired == Counter({(t, rule): 1 for t in ids for rule in RULES})

        tickets = store.tickets.get_many(ids)
        assert sorted(tickets) == sorted(ids)
        queued: set[tuple[str, int]] = set()
        for ticket_id, stored in tickets.items():
            ticket = stored.value
            assert sorted(e.rule for e in ticket.timeline if isinstance(e, RuleFired)) == sorted(
                RULES
            ), ticket_id
            assert ticket.tier == "L2"  # raised once: L1 -> L2, not on to L3
            notes = [
                (i, e) for i, e in enumerate(ticket.timeline) if isinstance(e, NotificationQueued)
            ]
            assert sorted((e.rule, e.groups) for _, e in notes) == [
                ("first-response-late", ("l2",)),
                ("half-time", ("l1",)),
            ], ticket_id
            assert all(e.deliver_at == e.at for _, e in notes)  # 16:00: the desk is open
            queued |= {(ticket_id, i) for i, _ in notes}

        # Each notification reached the outbox once.
        messages = _drain(store)
        sent = Counter(
            (ticket_id, sequence)
            for ticket_id, sequence, event in messages
            if isinstance(event, NotificationQueued)
        )
        assert set(sent.values()) == {1}
        assert set(sent) == queued

        # Nothing lost, nothing left due.
        schedules = store.collection(SCHEDULES).get_many(ids)
        assert sorted(schedules) == sorted(ids)
        late = [s.value for s in schedules.values() if s.value.sweep_at is not None]
        assert all(s.sweep_at is not None and s.sweep_at > NOW for s in late)
        again = HelpDesk(store, sweep_setup(), clock=FrozenClock(NOW)).sweep(NOW)
        assert (again.examined, again.fired) == (0, ())
        return reports
    finally:
        store.close()


#: The same 20 new phone numbers, written four ways (one per intake process).
NUMBERS = [f"1391234{n:04d}" for n in range(20)]
SPELLINGS = (
    lambda n: n,
    lambda n: f"+86 {n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"+86{n}",
    lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
)


def intake_worker(url: str, tenant: str, worker: int, barrier: Any, out: str) -> None:
    """An intake process: opens one ticket per number, in its own order and spelling;
    writes ``[[number index, customer id], ...]`` to ``out``."""
    store = open_store(url, tenant=tenant)
    try:
        desk = HelpDesk(store, intake_setup(), clock=FrozenClock(T0))
        spell = SPELLINGS[worker]
        order = [(worker * 7 + k) % len(NUMBERS) for k in range(len(NUMBERS))]
        barrier.wait(timeout=120)
        opened = []
        for n in order:
            stored = desk.open_ticket(
                contact=spell(NUMBERS[n]), channel="phone_hotline", subject="Call"
            )
            opened.append([n, stored.value.customer_id])
        Path(out).write_text(json.dumps(opened), encoding="utf-8")
    finally:
        store.close()


def intake_race(url: str, tmp: Path) -> None:
    tenant = f"intake{secrets.token_hex(4)}"
    store = open_store(url, tenant=tenant, create=True)
    try:
        HelpDesk(store, intake_setup())  # the tenant's contact rules: unique phone numbers
        barrier = _spawn.Barrier(WORKERS)
        files = [tmp / f"{tenant}_{w}.json" for w in range(WORKERS)]
        children = [
            _spawn.Process(target=intake_worker, args=(url, tenant, w, barrier, str(files[w])))
            for w in range(WORKERS)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=300)
        assert [child.exitcode for child in children] == [0] * WORKERS
        opened = [pair for file in files for pair in json.loads(file.read_text("utf-8"))]
        assert len(opened) == WORKERS * len(NUMBERS)
        by_number: dict[int, set[str]] = {}
        for n, customer_id in opened:
            by_number.setdefault(n, set()).add(customer_id)
        assert all(len(ids) == 1 for ids in by_number.values()), by_number
        assert len({c for ids in by_number.values() for c in ids}) == len(NUMBERS)
        assert store.customers.count() == len(NUMBERS)
        assert store.tickets.count() == WORKERS * len(NUMBERS)
        for n, (customer_id,) in by_number.items():
            found = store.customers.find_by_contact(NUMBERS[n], "phone_hotline")
            assert [c.value.id for c in found] == [customer_id]
    finally:
        store.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of this test's own, dropped afterwards."""
    from test_postgres import Schema, require_server

    require_server()
    schema = Schema()
    try:
        yield schema.url()
    finally:
        schema.drop()


def test_sweep_workers_on_one_sqlite_file_apply_each_firing_once(scratch: Path) -> None:
    sweep_race(f"sqlite:///{scratch / 'desk.db'}", scratch)


def test_sweep_workers_on_postgres_apply_each_firing_once(
    postgres_url: str, tmp_path: Path
) -> None:
    reports = sweep_race(postgres_url, tmp_path)
    # Leases skip each other's rows instead of waiting: the workers ran side by side.
    assert sum(1 for r in reports if r["examined"]) >= 2, reports


def test_intake_processes_racing_on_sqlite_make_one_customer_per_number(scratch: Path) -> None:
    intake_race(f"sqlite:///{scratch / 'desk.db'}", scratch)


def test_intake_processes_racing_on_postgres_make_one_customer_per_number(
    postgres_url: str, tmp_path: Path
) -> None:
    intake_race(postgres_url, tmp_path)


def desk_starter(url: str, tenant: str, barrier: Any) -> None:
    """A process that opens a desk on a tenant nobody configured yet, with three others."""
    store = open_store(url, tenant=tenant)
    try:
        barrier.wait(timeout=120)
        HelpDesk(store, intake_setup())
    finally:
        store.close()


def desks_start_together(url: str) -> None:
    tenant = f"start{secrets.token_hex(4)}"
    open_store(url, tenant=tenant, create=True).close()
    barrier = _spawn.Barrier(WORKERS)
    children = [
        _spawn.Process(target=desk_starter, args=(url, tenant, barrier)) for _ in range(WORKERS)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=300)
    # Each desk makes the tenant's contact points unique, or finds them made so.
    assert [child.exitcode for child in children] == [0] * WORKERS
    store = open_store(url, tenant=tenant)
    try:
        assert store.contact_rules.unique
    finally:
        store.close()


def test_desks_starting_together_on_sqlite_all_start(scratch: Path) -> None:
    desks_start_together(f"sqlite:///{scratch / 'desk.db'}")


def test_desks_starting_together_on_postgres_all_start(postgres_url: str) -> None:
    desks_start_together(postgres_url)
