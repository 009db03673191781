"""The revisit_tasks collection through a real store: memory, SQLite and, when a server is
reachable, PostgreSQL (csdomain.revisits.collection)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from csdomain._kernel.collections import Column, ColumnType, Query
from csdomain.errors import ConflictError, ValidationError
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.placement import LIVE_STATES
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm, TaskState
from csdomain.storage import Store, open_store

# The one PostgreSQL server check lives beside the storage tests (see tests/helpdesk/conftest).
_STORAGE_TESTS = str(Path(__file__).resolve().parent.parent / "storage")
if _STORAGE_TESTS not in sys.path:
    sys.path.append(_STORAGE_TESTS)

UTC = timezone.utc
MONDAY = datetime(2026, 10, 12, 1, tzinfo=UTC)  # Monday 12 October 2026, 09:00 in Shanghai
DAY = timedelta(days=1)
PHONE, SMS = RevisitForm.PHONE, RevisitForm.SMS
WAITING = (TaskState.SCHEDULED, TaskState.RESCHEDULED)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield open_store("memory:", tenant="acme")
    elif request.param == "sqlite":
        shm = Path("/dev/shm")
        base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        with tempfile.TemporaryDirectory(dir=base, prefix="csdomain_test_") as directory:
            store = open_store(f"sqlite:///{directory}/tasks.db", tenant="acme", create=True)
            try:
                yield store
            finally:
                store.close()
    else:
        from test_postgres import Schema, require_server

        require_server()
        schema = Schema()
        try:
            store = open_store(schema.url(), tenant="acme", create=True)
            try:
                yield store
            finally:
                store.close()
        finally:
            schema.drop()


def task(n: int, *, due: datetime, customer: str = "cus_1", **changes: Any) -> RevisitTask:
    arguments: dict[str, Any] = {
        "id": f"rvt_{n:02d}",
        "plan": "vip-care",
        "rule": "monthly",
        "customer_id": customer,
        "purpose": "Monthly check-in",
        "nominal_at": due,
        "due_at": due,
        "form": PHONE,
        "channel": "phone_hotline",
        "at": MONDAY - 30 * DAY,
        "forms": (PHONE, SMS),
    }
    arguments.update(changes)
    return RevisitTask.schedule(**arguments)


def seed(store: Store) -> dict[str, RevisitTask]:
    """Ten tasks over three customers, two plans, two groups and two agents."""
    tasks = [
        task(1, due=MONDAY + timedelta(hours=1), group_id="grp_care"),
        task(2, due=MONDAY + timedelta(hours=5), group_id="grp_care", assignee_id="agt_amy"),
        task(3, due=MONDAY + timedelta(hours=2), group_id="grp_vip", assignee_id="agt_amy"),
        task(4, due=MONDAY + DAY, group_id="grp_care", customer="cus_2"),
        task(5, due=MONDAY - DAY, group_id="grp_care", customer="cus_2"),  # overdue
        task(6, due=MONDAY - 2 * DAY, plan="quarterly", customer="cus_3"),  # overdue
        task(7, due=MONDAY + timedelta(hours=3), assignee_id="agt_bo", customer="cus_3"),
        task(8, due=MONDAY + timedelta(hours=4), plan="quarterly"),
        task(9, due=MONDAY + timedelta(hours=1), group_id="grp_care", customer="cus_3"),
        task(10, due=MONDAY - DAY, group_id="grp_care"),
    ]
    # move some along: 8 done, 9 cancelled, 10 missed then rescheduled to Tuesday 10:00
    at = MONDAY - timedelta(hours=20)
    tasks[7] = tasks[7].start("agt_bo", at).complete(Outcome.REACHED_SATISFIED, at)
    tasks[8] = tasks[8].cancel(CancelReason.CONSENT_WITHDRAWN, at)
    tasks[9] = tasks[9].miss(at).reschedule(MONDAY + DAY + timedelta(hours=1), SMS, at)
    store.collection(REVISIT_TASKS).add_many(tasks)
    return {t.id: t for t in tasks}


def ids(page: Any) -> list[str]:
    return [stored.value.id for stored in page.items]


def test_tasks_round_trip_through_the_store(store: Store) -> None:
    tasks = seed(store)
    repository = store.collection(REVISIT_TASKS)
    assert repository.count() == 10
    for key, value in tasks.items():
        assert repository.get(key).value == value


def test_agenda_of_a_group_for_a_day(store: Store) -> None:
    seed(store)
    page = store.collection(REVISIT_TASKS).find(
        "agenda_group",
        where={"group_id": "grp_care", "state": WAITING},
        low=MONDAY,
        high=MONDAY + DAY,
    )
    assert ids(page) == ["rvt_01", "rvt_02"]  # 9 is cancelled, 4 is Tuesday, 5 overdue


def test_agenda_of_an_agent_pages_in_due_order(store: Store) -> None:
    seed(store)
    repository = store.collection(REVISIT_TASKS)
    where = {"assignee_id": "agt_amy", "state": WAITING}
    first = repository.find("agenda_agent", where=where, limit=1)
    assert ids(first) == ["rvt_03"] and first.next_cursor is not None
    second = repository.find("agenda_agent", where=where, limit=1, cursor=first.next_cursor)
    assert ids(second) == ["rvt_02"] and second.next_cursor is None


def test_overdue_tasks_oldest_first(store: Store) -> None:
    seed(store)
    page = store.collection(REVISIT_TASKS).find("overdue", where={"state": WAITING}, high=MONDAY)
    assert ids(page) == ["rvt_06", "rvt_05"]  # 10 was rescheduled to Tuesday


def test_by_customer_with_several_customers_and_by_plan(store: Store) -> None:
    seed(store)
    repository = store.collection(REVISIT_TASKS)
    page = repository.find("by_customer", where={"customer_id": ("cus_2", "cus_3")})
    assert ids(page) == ["rvt_06", "rvt_05", "rvt_09", "rvt_07", "rvt_04"]
    page = repository.find("by_plan", where={"plan": "quarterly"})
    assert ids(page) == ["rvt_06", "rvt_08"]


def test_live_tasks_of_a_customer(store: Store) -> None:
    tasks = seed(store)
    repository = store.collection(REVISIT_TASKS)
    live = tuple(sorted(state.value for state in LIVE_STATES))
    assert repository.collection.query_for({"customer_id", "state"}, "due_at").name == (
        "by_customer"
    )
    page = repository.select({"customer_id": ("cus_1",), "state": live}, "due_at")
    # 8 is done (live: it reached the customer), 10 rescheduled to Tuesday; 9 is cus_3's
    assert ids(page) == ["rvt_01", "rvt_03", "rvt_08", "rvt_02", "rvt_10"]
    page = repository.select({"customer_id": ("cus_3",), "state": live}, "due_at")
    assert ids(page) == ["rvt_06", "rvt_07"]  # 9 is cancelled: not live
    assert not tasks["rvt_09"].live and all(s.value.live for s in page.items)


def test_select_picks_the_declared_query(store: Store) -> None:
    seed(store)
    repository = store.collection(REVISIT_TASKS)
    page = repository.select({"state": ("done",)}, "due_at")
    assert ids(page) == ["rvt_08"]
    with pytest.raises(ValidationError, match="no declared query serves"):
        repository.select({"rule": "monthly"}, "due_at")


def test_a_saved_change_moves_the_task_between_queries(store: Store) -> None:
    seed(store)
    repository = store.collection(REVISIT_TASKS)
    stored = repository.get("rvt_05")
    started = stored.value.start("agt_amy", MONDAY)
    repository.save(started, expected_version=stored.version)
    overdue = repository.find("overdue", where={"state": WAITING}, high=MONDAY)
    assert ids(overdue) == ["rvt_06"]
    mine = repository.find("agenda_agent", where={"assignee_id": "agt_amy", "state": "in_progress"})
    assert ids(mine) == ["rvt_05"]


def test_a_stale_save_is_refused_and_changes_nothing(store: Store) -> None:
    seed(store)
    repository = store.collection(REVISIT_TASKS)
    stored = repository.get("rvt_01")
    repository.save(stored.value.start("agt_amy", MONDAY), expected_version=stored.version)
    with pytest.raises(ConflictError):
        repository.save(
            stored.value.cancel(CancelReason.BY_AGENT, MONDAY), expected_version=stored.version
        )
    assert repository.get("rvt_01").value.state is TaskState.IN_PROGRESS


def test_a_store_written_with_the_former_live_query_keeps_working(tmp_path: Path) -> None:
    # Before: a ``live`` column (true for a task in a live state) and a query on it. A
    # store written then keeps both (stored columns and queries stay); the column is
    # written empty afterwards and every declared query still answers.
    before = attrs.evolve(
        REVISIT_TASKS,
        columns=[*REVISIT_TASKS.columns, Column("live", ColumnType.BOOLEAN)],
        queries=[
            *REVISIT_TASKS.queries,
            Query("live", where=["customer_id", "live"], order="due_at"),
        ],
        columns_of=lambda t: {**REVISIT_TASKS.columns_of(t), "live": t.live},
    )
    url = f"sqlite:///{tmp_path}/before.db"
    old = open_store(url, tenant="acme", create=True)
    try:
        old.collection(before).add(task(1, due=MONDAY))
    finally:
        old.close()
    store = open_store(url, tenant="acme")
    try:
        repository = store.collection(REVISIT_TASKS)
        repository.add(task(2, due=MONDAY + DAY))
        page = repository.find("by_customer", where={"customer_id": "cus_1"})
        assert ids(page) == ["rvt_01", "rvt_02"]
        with pytest.raises(ValidationError, match="live"):
            repository.find("live", where={"customer_id": "cus_1", "live": True})
    finally:
        store.close()
