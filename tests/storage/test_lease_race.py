"""Sweep workers as processes: four ``spawn``-ed processes lease batches of 2,000 due
records from one SQLite file and, separately, one PostgreSQL database, and save
each record they took with the version the lease returned.

Every record must be leased by exactly one process and saved exactly once (its
final version is 3: added, leased, saved), no save may conflict, and on
PostgreSQL, where leases skip each other's rows instead of waiting, every process
must have taken some. See ``test_postgres.py`` for the server the PostgreSQL race
needs (skipped without one, a failure under ``CSDOMAIN_REQUIRE_POSTGRES``).
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
from test_postgres import Schema, require_server

from csdomain.errors import ConflictError
from csdomain.storage import open_store
from csdomain.testing.storage import CONTRACT_TASKS, T0, ContractTask

RECORDS = 2_000
WORKERS = 4
BATCH = 25
HIGH = T0 + timedelta(days=1)
UNTIL = T0 + timedelta(days=2)

_spawn = multiprocessing.get_context("spawn")


def sweep(url: str, tenant: str, worker: int, barrier: Any, out: str) -> None:
    """A sweep worker (importable: spawned processes find it by name): lease batches
    until none is left, save each record taken with the lease's version, and write
    ``{"taken": [...], "saved": [...], "conflicts": [...], "batches": n}`` to ``out``."""
    store = open_store(url, tenant=tenant)
    taken: list[str] = []
    saved: list[str] = []
    conflicts: list[str] = []
    batches = 0
    try:
        tasks = store.collection(CONTRACT_TASKS)
        barrier.wait(timeout=120)
        while True:
            batch = tasks.lease("due", high=HIGH, until=UNTIL, limit=BATCH)
            if not batch:
                break
            batches += 1
            taken += [stored.value.id for stored in batch]
            for stored in batch:
                done = attrs.evolve(stored.value, due=None, owner=f"w{worker}")
                try:
                    tasks.save(done, expected_version=stored.version)
                except ConflictError:
                    conflicts.append(stored.value.id)
                else:
                    saved.append(stored.value.id)
    finally:
        store.close()
        report = {"taken": taken, "saved": saved, "conflicts": conflicts, "batches": batches}
        Path(out).write_text(json.dumps(report), encoding="utf-8")


def race(url: str, tmp: Path) -> list[dict[str, Any]]:
    """Fill the tenant with due records, run the workers, check what they did;
    returns each worker's report."""
    tenant = "acme"
    store = open_store(url, tenant=tenant, create=True)
    try:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(
            ContractTask(f"t{i:04d}", due=T0 + timedelta(seconds=i)) for i in range(RECORDS)
        )
        barrier = _spawn.Barrier(WORKERS)
        files = [tmp / f"worker_{w}.json" for w in range(WORKERS)]
        children = [
            _spawn.Process(target=sweep, args=(url, tenant, w, barrier, str(files[w])))
            for w in range(WORKERS)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=120)
        assert [child.exitcode for child in children] == [0] * WORKERS
        reports = [json.loads(file.read_text(encoding="utf-8")) for file in files]

        everyone = [f"t{i:04d}" for i in range(RECORDS)]
        leased = Counter(key for report in reports for key in report["taken"])
        assert sorted(leased) == everyone and set(leased.values()) == {1}  # each by one
        assert [report["conflicts"] for report in reports] == [[]] * WORKERS
        assert sorted(key for report in reports for key in report["saved"]) == everyone
        final = tasks.get_many(everyone)
        for worker, report in enumerate(reports):
            # Saved once, by the worker that leased it: added (1), leased (2), saved (3).
            assert {(final[k].version, final[k].value.owner) for k in report["taken"]} <= {
                (3, f"w{worker}")
            }
        assert tasks.lease("due", high=UNTIL + timedelta(days=1), until=UNTIL) == []
        return reports
    finally:
        store.close()


def test_processes_leasing_one_sqlite_file_take_each_record_once(tmp_path: Path) -> None:
    race(f"sqlite:///{tmp_path / 'desk.db'}", tmp_path)


def test_processes_leasing_one_postgres_database_take_each_record_once(tmp_path: Path) -> None:
    require_server()
    schema = Schema()
    try:
        reports = race(schema.url(), tmp_path)
    finally:
        schema.drop()
    # Leases skip each other's rows instead of waiting: the workers ran side by side.
    assert all(report["taken"] for report in reports), [len(r["taken"]) for r in reports]
