"""The KPI accumulators on Dask (the ``csdomain[dask]`` extra): fold partitions, merge.

``csdomain.kpis`` does not import this module (nor Dask); import it as
``from csdomain.kpis.dask import compute_on_dask, summaries_bag``.

:func:`summaries_bag` makes a ``dask.bag.Bag`` of ticket summaries from loaders,
one per partition: each is a picklable callable returning that partition's
summaries (a slice of a store export, a range of keyset pages from PostgreSQL),
run on the worker that holds the partition, so summaries never travel through
the client. :func:`compute_on_dask` folds each partition into a fresh
:class:`~csdomain.kpis.definitions.KpiSet` (``Bag.fold``: ``binop`` adds a batch
of summaries, ``combine`` merges two sets) and reads the results; they equal the
one-pass results (counts and means exactly, quantiles exactly too, since merged
sketches have the one-pass bins).

On a multi-machine cluster the same code runs unchanged: start a scheduler and
workers (``dask scheduler``; ``dask worker tcp://scheduler:8786`` on each machine,
with csdomain and the loaders' code installed), connect a
``distributed.Client("tcp://scheduler:8786")`` before computing, and give loaders
that each machine can run (a database URL and a key range, not an open
connection). Only the small per-partition KPI sets cross the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import dask.bag as db

from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError
from csdomain.kpis.definitions import KpiResult, KpiSet
from csdomain.kpis.summaries import TicketSummary

__all__ = ["compute_on_dask", "fold_on_dask", "summaries_bag"]


class _Fresh:
    """The fold's initial value: the definitions only. Each partition starts its own
    empty set from it, so no two tasks ever add into one shared object (the threaded
    scheduler hands every task the same initial object)."""

    __slots__ = ("kpis",)

    def __init__(self, kpis: KpiSet) -> None:
        self.kpis = kpis.empty()


def _started(value: KpiSet | _Fresh) -> KpiSet:
    return value.kpis.empty() if type(value) is _Fresh else value  # type: ignore[return-value]


def _add_batch(accumulated: KpiSet | _Fresh, batch: list[TicketSummary]) -> KpiSet:
    kpis = _started(accumulated)
    kpis.add_summaries(batch)
    return kpis


def _combine(left: KpiSet | _Fresh, right: KpiSet | _Fresh) -> KpiSet:
    return _started(left).merge(_started(right))


def _as_batch(partition: Iterable[TicketSummary]) -> list[list[TicketSummary]]:
    return [list(partition)]


def fold_on_dask(kpis: KpiSet, bag: db.Bag) -> Any:
    """The lazy fold of ``bag`` (a Bag of :class:`TicketSummary`) into a
    :class:`KpiSet` of ``kpis``' definitions: a ``dask.Delayed``-like item whose
    ``compute()`` returns the merged set (``kpis`` itself is not changed)."""
    if not isinstance(kpis, KpiSet):
        raise ValidationError.single(
            "fold_on_dask", "kpis", f"expected a KpiSet, got {describe(kpis)}"
        )
    if not isinstance(bag, db.Bag):
        raise ValidationError.single(
            "fold_on_dask", "bag", f"expected a dask.bag.Bag of summaries, got {describe(bag)}"
        )
    # One batch per partition: the set folds it with its fast path (add_summaries).
    batches = bag.map_partitions(_as_batch)  # type: ignore[no-untyped-call]
    return batches.fold(_add_batch, _combine, initial=_Fresh(kpis))


def compute_on_dask(kpis: KpiSet, bag: db.Bag, **compute_options: Any) -> dict[str, KpiResult]:
    """Fold ``bag`` on Dask and read every KPI of ``kpis``' definitions (with the
    current ``distributed.Client``, if any, else Dask's default scheduler;
    ``compute_options`` go to ``compute``). Equal to folding the summaries in one
    pass into ``kpis.empty()``."""
    folded = fold_on_dask(kpis, bag).compute(**compute_options)
    result: KpiSet = _started(folded)
    return result.results()


def _load(loaders: Iterable[Callable[[], Iterable[TicketSummary]]]) -> Iterator[TicketSummary]:
    for load in loaders:
        for summary in load():
            if type(summary) is not TicketSummary:
                raise ValidationError.single(
                    "summaries_bag",
                    "partitions",
                    f"a loader returned {describe(summary)}; loaders return TicketSummary values",
                )
            yield summary


def summaries_bag(partitions: Sequence[Callable[[], Iterable[TicketSummary]]]) -> db.Bag:
    """A Bag with one partition per loader; each loader (picklable: a module-level
    function or a ``functools.partial`` of one) returns its partition's summaries and
    runs on the worker computing that partition."""
    loaders = list(partitions) if not isinstance(partitions, str) else None
    if not loaders or not all(callable(load) for load in loaders):
        raise ValidationError.single(
            "summaries_bag",
            "partitions",
            f"expected a non-empty sequence of callables returning summaries, "
            f"got {describe(partitions)}",
        )
    bag = db.from_sequence(loaders, npartitions=len(loaders))  # type: ignore[no-untyped-call]
    loaded: db.Bag = bag.map_partitions(_load)
    return loaded
