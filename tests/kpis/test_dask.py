"""KPIs on Dask: the fold over partitions on a distributed.LocalCluster equals one pass.

The cluster runs 2 worker processes of 1 thread each (``processes=True``: it starts in
about a second here, and worker processes make every partition's KPI set cross a pickle,
as on a real cluster). The threaded scheduler is checked too: it hands every partition
the same initial fold value, which must not be shared state.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest

pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")

from csdomain.errors import ValidationError  # noqa: E402
from csdomain.kpis.dask import compute_on_dask, summaries_bag  # noqa: E402
from csdomain.kpis.definitions import STANDARD_KPIS, KpiSet  # noqa: E402
from csdomain.kpis.summaries import TicketSummary  # noqa: E402
from csdomain.priorities import Priority  # noqa: E402
from csdomain.sla import SlaMetric  # noqa: E402
from csdomain.tickets import Status, TicketKind  # noqa: E402

UTC = timezone.utc
START = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = datetime(2027, 1, 1, tzinfo=UTC)


def _summaries(count: int, seed: int) -> list[TicketSummary]:
    rnd = random.Random(seed)
    made = []
    for i in range(count):
        opened = START + timedelta(seconds=rnd.randrange(365 * 86_400), microseconds=i)
        response = rnd.randrange(10**10) if rnd.random() < 0.9 else None
        solve = rnd.randrange(10**11) if rnd.random() < 0.7 else None
        reopened = solve is not None and rnd.random() < 0.2

        def at(us: int | None, base: datetime = opened) -> datetime | None:
            return None if us is None else base + timedelta(microseconds=us)

        kind = rnd.choice(list(TicketKind))
        made.append(
            TicketSummary(
                ticket_id=f"T-{seed}-{i}",
                customer_id=f"C-{rnd.randrange(200)}",
                channel=rnd.choice(("email", "phone", "chat")),
                kind=kind,
                priority=rnd.choice(list(Priority)),
                status=Status.SOLVED if solve is not None and not reopened else Status.OPEN,
                opened_at=opened,
                first_response_at=at(response),
                first_response_us=response,
                first_response_business_us=None if response is None else response // 3,
                solved_at=() if solve is None else (opened + timedelta(microseconds=solve),),
                first_resolution_us=solve,
                first_resolution_business_us=None if solve is None else solve // 3,
                resolved_at=None if reopened else at(solve),
                full_resolution_us=None if reopened else solve,
                full_resolution_business_us=None if solve is None or reopened else solve // 3,
                reopened_at=(opened + timedelta(microseconds=solve + 3_600_000_000),)
                if reopened and solve
                else (),
                handle_us=rnd.randrange(3_600_000_000) if rnd.random() < 0.5 else None,
                sla=((SlaMetric.FIRST_RESPONSE, rnd.choice((True, False, None))),),
                complaint=kind is TicketKind.COMPLAINT,
            )
        )
    return made


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def _one_pass(items: list[TicketSummary]) -> dict[str, object]:
    kpis = KpiSet(STANDARD_KPIS, as_of=AS_OF)
    kpis.add_summaries(items)
    return dict(kpis.results())


def test_the_fold_on_a_local_cluster_equals_one_pass(client: object) -> None:
    chunks = [_summaries(n, seed) for seed, n in enumerate((1500, 0, 700, 2300, 1))]
    everything = [s for chunk in chunks for s in chunk]
    # Each loader returns its partition's summaries on the worker (tuple is picklable).
    bag = summaries_bag([partial(tuple, chunk) for chunk in chunks])
    kpis = KpiSet(STANDARD_KPIS, as_of=AS_OF)
    found = compute_on_dask(kpis, bag)
    assert found == _one_pass(everything)
    assert found["volume"].value == len(everything)
    assert kpis.results() == KpiSet(STANDARD_KPIS, as_of=AS_OF).results()  # kpis unchanged


def test_the_threaded_scheduler_gives_each_partition_its_own_set() -> None:
    chunks = [_summaries(300, seed) for seed in range(4)]
    bag = summaries_bag([partial(tuple, chunk) for chunk in chunks])
    found = compute_on_dask(KpiSet(STANDARD_KPIS, as_of=AS_OF), bag, scheduler="threads")
    assert found == _one_pass([s for chunk in chunks for s in chunk])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValidationError, match="callables"):
        summaries_bag([])
    with pytest.raises(ValidationError, match="KpiSet"):
        compute_on_dask("kpis", summaries_bag([list]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="TicketSummary values"):
        compute_on_dask(KpiSet(), summaries_bag([partial(list, ["x"])]), scheduler="sync")
