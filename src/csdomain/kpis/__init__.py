"""Service KPIs as mergeable accumulators, definitions as data.

:func:`summarize` reads a ticket's timeline once into a flat :class:`TicketSummary`
(first public reply, first and last solve, reopens, business and calendar
durations in whole microseconds, SLA outcomes). Each KPI is an accumulator with
``add``, ``merge`` and ``result``: shards computed anywhere merge into exactly the
one-pass result (counts and means exact; medians and p90 from DataDog's DDSketch
within :data:`RELATIVE_ACCURACY`). :class:`KpiDefinition` values say what each KPI
counts (the first-contact-resolution window and scope, business or calendar time,
mean, median or p90); :data:`STANDARD_KPIS` documents the common choices one by
one, and :class:`KpiSet` computes any set of definitions in one pass.

``csdomain.kpis.dask`` (the ``csdomain[dask]`` extra, not imported here) folds the
same accumulators over the partitions of a ``dask.bag``. See ``docs/kpis.md``.
"""

from __future__ import annotations

from csdomain.kpis.accumulators import (
    RELATIVE_ACCURACY,
    Accumulator,
    Backlog,
    ComplaintRate,
    Count,
    FcrResult,
    FirstContactResolution,
    Mean,
    Proportion,
    Quantiles,
    ReopenRate,
    ResponseTime,
    ResponseTimeResult,
    RevisitCompletion,
    Satisfaction,
    SlaCompliance,
    Volume,
    VolumeResult,
)
from csdomain.kpis.definitions import (
    STANDARD_KPIS,
    Basis,
    KpiDefinition,
    KpiResult,
    KpiSet,
    Measure,
    Statistic,
)
from csdomain.kpis.summaries import SlaOutcome, TicketSummary, summarize

__all__ = [
    "RELATIVE_ACCURACY",
    "STANDARD_KPIS",
    "Accumulator",
    "Backlog",
    "Basis",
    "ComplaintRate",
    "Count",
    "FcrResult",
    "FirstContactResolution",
    "KpiDefinition",
    "KpiResult",
    "KpiSet",
    "Mean",
    "Measure",
    "Proportion",
    "Quantiles",
    "ReopenRate",
    "ResponseTime",
    "ResponseTimeResult",
    "RevisitCompletion",
    "Satisfaction",
    "SlaCompliance",
    "SlaOutcome",
    "Statistic",
    "TicketSummary",
    "Volume",
    "VolumeResult",
    "summarize",
]
