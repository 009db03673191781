"""RevisitDesk.materialize with units of work larger than a storage page (page_size up
to 10,000 customers, read in pages of at most 1,000): the same tasks as small units,
the report's pages and the progress calls per unit, every existing task found again
(a unit's customers are looked up a few hundred per query) and a second run that
creates nothing; on memory, SQLite and, when a server is reachable, PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.conditions import Compare
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier
from csdomain.errors import ValidationError
from csdomain.helpdesk import DeskSetup, HelpDesk, RevisitDesk
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.revisits import REVISIT_TASKS, RevisitForm, RevisitPlan, RevisitRule, Trigger
from csdomain.revisits.placement import ContactWindow
from csdomain.revisits.recurrence import Recurrence
from csdomain.routing import Triage
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import Store, open_store

UTC = timezone.utc
SHANGHAI = "Asia/Shanghai"
#: Monday 7 December 2026, 10:00 in Shanghai.
NOW = datetime(2026, 12, 7, 2, tzinfo=UTC)
#: More customers than one storage page (1,000) and than one by_customer query (500).
CUSTOMERS = 2_300
PLAN = RevisitPlan(
    name="care",
    rules=(
        RevisitRule(
            name="vip-monthly",
            who=Compare("customer.tier", "ge", "vip"),
            recurrence=Recurrence("FREQ=MONTHLY;BYMONTHDAY=1"),
            forms=(RevisitForm.PHONE, RevisitForm.SMS),
            purpose="Monthly care call",
            group_id="grp_care",
        ),
        RevisitRule(
            name="quarterly",
            who=Compare("customer.tier", "lt", "vip"),
            recurrence=Recurrence("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15"),
            forms=(RevisitForm.SMS,),
            purpose="Quarterly check-in",
            group_id="grp_care",
        ),
        RevisitRule(
            name="birthday",
            trigger=Trigger.birthday(),
            forms=(RevisitForm.SMS,),
            purpose="Birthday greeting",
            group_id="grp_care",
        ),
    ),
    window=ContactWindow(
        calendar=BusinessCalendar.weekdays("window", SHANGHAI, "09:00-18:00"),
        min_gap=timedelta(days=7),
    ),
    starts_on=date(2026, 12, 1),
)


def _setup() -> DeskSetup:
    calendar = BusinessCalendar.weekdays("desk", SHANGHAI, "09:00-18:00")
    policy = SlaPolicy(
        "standard",
        [MetricPolicy(SlaMetric.FIRST_RESPONSE, {p: Target(timedelta(hours=8)) for p in Priority})],
    )
    return DeskSetup(
        sla=SlaSetup([policy], [calendar]),
        groups=(Group("grp_care", "Care", tier="L1", calendar="desk"),),
        agents=[Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("grp_care",))],
        triage=Triage(rules=(), default_group="grp_care"),
    )


def _customer(n: int) -> Customer:
    consent = Consent.WITHDRAWN if n % 9 == 4 else Consent.GIVEN
    return Customer(
        id=f"cus_{n:05d}",
        display_name=f"Customer {n}",
        contact_points=(
            ContactPoint(
                "phone_hotline", f"139{n:08d}", consent=Consent.GIVEN, consent_changed_at=NOW
            ),
            ContactPoint("sms", f"139{n:08d}", consent=consent, consent_changed_at=NOW),
        ),
        tier=CustomerTier.VIP if n % 10 == 3 else CustomerTier.STANDARD,
        timezone=SHANGHAI if n % 3 else "Europe/Berlin",
        birthday=date(1980 + n % 30, 1 + n % 12, 1 + n % 28) if n % 4 else None,
    )


def _desk(url: str, tenant: str, page_size: int) -> tuple[Store, RevisitDesk]:
    clock = FrozenClock(NOW)
    store = open_store(url, tenant=tenant, clock=clock, create=True)
    revisits = RevisitDesk([PLAN], page_size=page_size)
    HelpDesk(store, _setup(), clock=clock, ids=SequentialIds(), extensions=(revisits,))
    if store.customers.count() == 0:
        with store.transaction():
            store.customers.add_many(_customer(n) for n in range(CUSTOMERS))
    return store, revisits


def _tasks(store: Store) -> dict[str, object]:
    repository = store.collection(REVISIT_TASKS)
    found: dict[str, object] = {}
    cursor: str | None = None
    while True:
        page = repository.find("by_plan", where={"plan": PLAN.name}, limit=1_000, cursor=cursor)
        found.update((s.value.id, s.value) for s in page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_page_size_is_refused_above_ten_thousand() -> None:
    assert RevisitDesk([PLAN], page_size=10_000) is not None
    for bad in (0, 10_001, True, 1.5):
        with pytest.raises(ValidationError, match="page_size"):
            RevisitDesk([PLAN], page_size=bad)  # type: ignore[arg-type]


def test_a_unit_larger_than_a_storage_page_makes_the_tasks_small_units_make(url: str) -> None:
    small_store, small = _desk(url, "small", 300)
    big_store, big = _desk(url, "big", 1_200)
    try:
        calls: list[tuple[int, int]] = []
        first = big.materialize(90, progress=lambda done, total: calls.append((done, total)))
        # Units of 1,200 customers, each read as a page of 1,000 and one of 200.
        assert calls == [(1_200, CUSTOMERS), (CUSTOMERS, CUSTOMERS)]
        assert (first.customers, first.pages, first.cancelled, first.kept) == (CUSTOMERS, 2, 0, 0)
        reference = small.materialize(90)
        assert reference.pages == 8
        stored = _tasks(big_store)
        assert stored == _tasks(small_store)
        assert (first.created, first.refused) == (reference.created, reference.refused)
        assert first.created == len(stored) > CUSTOMERS
        # Again: every task is found through the unit's by_customer queries and kept.
        again = big.materialize(90)
        assert (again.created, again.cancelled, again.kept) == (0, 0, first.created)
        assert again.refused == first.refused
        assert _tasks(big_store) == stored
    finally:
        small_store.close()
        big_store.close()


class _StopError(Exception):
    pass


def _stop(done: int, total: int) -> None:
    raise _StopError(done)


def test_a_run_stopped_after_a_unit_is_finished_by_units_of_another_size(url: str) -> None:
    store, first = _desk(url, "stopped", 700)
    whole_store, whole = _desk(url, "whole", 10_000)
    try:
        with pytest.raises(_StopError):
            first.materialize(90, progress=_stop)  # the first unit is stored, then it stops
        part = _tasks(store)
        assert part and {t.customer_id for t in part.values()} <= {  # type: ignore[attr-defined]
            f"cus_{n:05d}" for n in range(700)
        }
        resumed = RevisitDesk([PLAN], page_size=1_500)
        HelpDesk(store, _setup(), clock=FrozenClock(NOW), extensions=(resumed,))
        report = resumed.materialize(90)
        assert (report.pages, report.kept) == (2, len(part))
        single = whole.materialize(90)
        assert single.pages == 1
        assert _tasks(store) == _tasks(whole_store)
        assert report.created + len(part) == single.created == len(_tasks(store))
    finally:
        store.close()
        whole_store.close()


def test_two_runs_at_once_in_large_units_create_each_task_once(url: str) -> None:
    if url.startswith("memory:"):
        pytest.skip("two desks race through one file or server, not one process's memory")
    reference_store, reference = _desk(url, "reference", 300)
    stores_and_desks = [_desk(url, "raced", 1_200) for _ in range(2)]
    try:
        want = reference.materialize(90)
        barrier = threading.Barrier(2)
        reports: list[object] = [None, None]
        errors: list[BaseException] = []

        def run(index: int) -> None:
            try:
                barrier.wait(timeout=60)
                reports[index] = stores_and_desks[index][1].materialize(90)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors
        created = [r.created for r in reports]  # type: ignore[attr-defined]
        store = stores_and_desks[0][0]
        assert sum(created) == want.created == store.collection(REVISIT_TASKS).count()
        assert _tasks(store) == _tasks(reference_store)
        again = stores_and_desks[1][1].materialize(90)
        assert (again.created, again.cancelled, again.kept) == (0, 0, want.created)
    finally:
        reference_store.close()
        for store, _ in stores_and_desks:
            store.close()
