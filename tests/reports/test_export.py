"""Ticket summaries exported in partitions fold, merged or on Dask, into the one-pass KPIs."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from csdomain.cli.demo import demo_setup, run_demo
from csdomain.errors import ValidationError
from csdomain.kpis import STANDARD_KPIS, KpiSet
from csdomain.reports.export import (
    export_summaries,
    read_summaries,
    summary_loader,
    ticket_summaries,
)
from csdomain.storage import Store, open_store

AS_OF = datetime(2026, 12, 31, tzinfo=timezone.utc)
# The one PostgreSQL server check lives beside the storage tests.
_STORAGE_TESTS = str(Path(__file__).resolve().parent.parent / "storage")
if _STORAGE_TESTS not in sys.path:
    sys.path.append(_STORAGE_TESTS)


@pytest.fixture(params=["sqlite", "postgres"])
def demo_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store holding two demo days (16 tickets), on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'demo.db'}", tenant="demo", create=True)
        schema = None
    else:
        from test_postgres import Schema, require_server

        require_server()
        schema = Schema()
        store = open_store(schema.url(), tenant="demo", create=True)
    try:
        for _ in range(2):
            run_demo(write=lambda line: None, store=store)
        yield store
    finally:
        store.close()
        if schema is not None:
            schema.drop()


def _one_pass(store: Store) -> dict[str, object]:
    setup = demo_setup()
    kpis = KpiSet(STANDARD_KPIS, as_of=AS_OF)
    calendar = setup.sla.calendars[0]
    kpis.add_summaries(ticket_summaries(store, as_of=AS_OF, calendar=calendar, sla=setup.sla))
    return dict(kpis.results())


def _export(store: Store, directory: Path) -> list[Path]:
    setup = demo_setup()
    return export_summaries(
        store,
        directory,
        as_of=AS_OF,
        per_file=5,
        calendar=setup.sla.calendars[0],
        sla=setup.sla,
        page_size=3,  # several keyset pages per file, and files across pages
    )


def test_exported_partitions_merged_equal_one_pass(demo_store: Store, tmp_path: Path) -> None:
    expected = _one_pass(demo_store)
    paths = _export(demo_store, tmp_path)
    assert [p.name for p in paths] == [f"summaries-{i:05d}.jsonl" for i in range(4)]
    assert sum(len(read_summaries(p)) for p in paths) == demo_store.tickets.count() == 16
    merged = KpiSet(STANDARD_KPIS, as_of=AS_OF)
    for path in reversed(paths):  # any order: merging commutes
        part = KpiSet(STANDARD_KPIS, as_of=AS_OF)
        part.add_summaries(summary_loader(path)())
        merged = merged.merge(part)
    assert merged.results() == expected
    # No personal data leaves the store: no customer name or message is exported.
    text = "".join(p.read_text(encoding="utf-8") for p in paths)
    customers = demo_store.customers.list(limit=100).items
    assert customers and not any(c.value.display_name in text for c in customers)


def test_exported_partitions_fold_on_a_local_dask_cluster(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from csdomain.kpis.dask import compute_on_dask, summaries_bag

    with open_store(f"sqlite:///{tmp_path / 'demo.db'}", tenant="demo", create=True) as store:
        run_demo(write=lambda line: None, store=store)
        expected = _one_pass(store)
        paths = _export(store, tmp_path)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        bag = summaries_bag([summary_loader(p) for p in paths])
        assert compute_on_dask(KpiSet(STANDARD_KPIS, as_of=AS_OF), bag) == expected


def test_an_export_refuses_a_directory_holding_one_and_bad_sizes(tmp_path: Path) -> None:
    with open_store("memory:", tenant="demo") as store:
        run_demo(write=lambda line: None, store=store)
        _export(store, tmp_path)
        with pytest.raises(ValidationError, match="already holds an export"):
            _export(store, tmp_path)
        with tempfile.TemporaryDirectory() as empty:
            with pytest.raises(ValidationError, match="per_file"):
                export_summaries(store, empty, as_of=AS_OF, per_file=0)
            with pytest.raises(ValidationError, match="page_size"):
                list(ticket_summaries(store, as_of=AS_OF, page_size=0))
        with pytest.raises(ValidationError, match="existing directory"):
            export_summaries(store, tmp_path / "missing", as_of=AS_OF)


def test_a_damaged_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "summaries-00000.jsonl"
    path.write_text('{"document": "ticket_summary"}\n', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"summaries-00000\.jsonl:1"):
        read_summaries(path)
