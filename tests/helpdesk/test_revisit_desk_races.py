"""RevisitDesk races between real processes, on one SQLite file and on PostgreSQL.

* Two materializers (``spawn``-ed processes, each with a desk of its own) run over the
  same 60 customers at once: every task is created exactly once, the two reports'
  ``created`` counts add up to the tasks stored, and a third run creates nothing.
* Two agents complete one task at once with an outcome that opens a ticket: one
  outcome is recorded and one ticket opened; the other agent is refused with
  ``InvalidTransitionError`` (after its conflicting unit of work was retried on fresh
  data), never a second ticket.

See ``tests/storage/test_postgres.py`` for the server the PostgreSQL races need
(skipped without one, a failure under ``CSDOMAIN_REQUIRE_POSTGRES``).
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_helpdesk import _setup
from test_revisit_desk import NOW, PLAN, _customer

from csdomain.clock import FrozenClock
from csdomain.errors import InvalidTransitionError
from csdomain.helpdesk import HelpDesk
from csdomain.helpdesk.revisits import RevisitDesk
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.events import TaskEventKind
from csdomain.revisits.vocabulary import Outcome, TaskState
from csdomain.storage import open_store

CUSTOMERS = 60
PAGE = 7
_spawn = multiprocessing.get_context("spawn")


def _desk(url: str, tenant: str, *, create: bool = False) -> tuple[HelpDesk, RevisitDesk]:
    clock = FrozenClock(NOW)
    store = open_store(url, tenant=tenant, clock=clock, create=create)
    revisits = RevisitDesk([PLAN], page_size=PAGE)
    return HelpDesk(store, _setup(), clock=clock, extensions=(revisits,)), revisits


def materializer(url: str, tenant: str, barrier: Any, out: str) -> None:
    """A process materializing the plan once every process is ready; writes its report."""
    desk, revisits = _desk(url, tenant)
    try:
        barrier.wait(timeout=120)
        report = revisits.materialize(90)
        Path(out).write_text(json.dumps([report.created, report.kept]), encoding="utf-8")
    finally:
        desk.store.close()


def completer(url: str, tenant: str, task_id: str, agent: str, barrier: Any, out: str) -> None:
    """A process in which ``agent`` completes ``task_id`` with an issue; writes what happened."""
    desk, revisits = _desk(url, tenant)
    try:
        barrier.wait(timeout=120)
        try:
            done = revisits.complete(task_id, Outcome.REACHED_WITH_ISSUE, agent_id=agent)
            result = {"won": True, "ticket": done.ticket_id}
        except InvalidTransitionError as error:
            result = {"won": False, "current": error.current}
        Path(out).write_text(json.dumps(result), encoding="utf-8")
    finally:
        desk.store.close()


def _run(target: Any, args: list[tuple[Any, ...]]) -> None:
    children = [_spawn.Process(target=target, args=a) for a in args]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=300)
    assert [child.exitcode for child in children] == [0] * len(children)


def materialize_race(url: str, tmp: Path) -> None:
    tenant = f"rvm{secrets.token_hex(4)}"
    desk, revisits = _desk(url, tenant, create=True)
    try:
        desk.store.customers.add_many([_customer(n) for n in range(CUSTOMERS)])
        barrier = _spawn.Barrier(2)
        files = [tmp / f"{tenant}_{w}.json" for w in range(2)]
        _run(materializer, [(url, tenant, barrier, str(f)) for f in files])
        reports = [json.loads(f.read_text(encoding="utf-8")) for f in files]

        tasks = desk.store.collection(REVISIT_TASKS)
        keys = Counter(
            t.value.id
            for customer in range(CUSTOMERS)
            for t in tasks.find(
                "by_customer", where={"customer_id": f"cus_{customer:04d}"}, limit=100
            ).items
        )
        assert len(keys) == tasks.count() == CUSTOMERS * 3
        assert set(keys.values()) == {1}
        assert sum(created for created, _ in reports) == CUSTOMERS * 3, reports
        again = revisits.materialize(90)
        assert (again.created, again.cancelled, again.kept) == (0, 0, CUSTOMERS * 3)
    finally:
        desk.store.close()


def complete_race(url: str, tmp: Path) -> None:
    tenant = f"rvc{secrets.token_hex(4)}"
    desk, revisits = _desk(url, tenant, create=True)
    try:
        desk.store.customers.add_many([_customer(1)])
        revisits.materialize(90)
        task = revisits.by_customer("cus_0001").items[0]
        barrier = _spawn.Barrier(2)
        files = [tmp / f"{tenant}_{agent}.json" for agent in ("agt_amy", "agt_bob")]
        _run(
            completer,
            [
                (url, tenant, task.id, agent, barrier, str(f))
                for agent, f in zip(("agt_amy", "agt_bob"), files, strict=True)
            ],
        )
        results = [json.loads(f.read_text(encoding="utf-8")) for f in files]
        assert sorted(r["won"] for r in results) == [False, True], results
        lost = next(r for r in results if not r["won"])
        assert lost["current"] == TaskState.DONE.value
        won = next(r for r in results if r["won"])

        done = revisits.task(task.id)
        assert done.state is TaskState.DONE
        assert done.ticket_id == won["ticket"]
        completions = [e for e in done.timeline if e.kind is TaskEventKind.COMPLETED]
        assert len(completions) == 1
        tickets = desk.store.tickets.list(customer_id="cus_0001").items
        assert [t.value.id for t in tickets] == [done.ticket_id]
    finally:
        desk.store.close()


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


def test_two_materializers_on_one_sqlite_file_create_each_task_once(scratch: Path) -> None:
    materialize_race(f"sqlite:///{scratch / 'desk.db'}", scratch)


def test_two_materializers_on_postgres_create_each_task_once(
    postgres_url: str, tmp_path: Path
) -> None:
    materialize_race(postgres_url, tmp_path)


def test_two_agents_completing_one_task_on_sqlite_make_one_outcome(scratch: Path) -> None:
    complete_race(f"sqlite:///{scratch / 'desk.db'}", scratch)


def test_two_agents_completing_one_task_on_postgres_make_one_outcome(
    postgres_url: str, tmp_path: Path
) -> None:
    complete_race(postgres_url, tmp_path)
