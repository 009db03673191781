"""Reports: the customer's annual service report (年度服务报告) and the desk's period report.

:func:`annual_report` reads one customer's tickets, survey responses and revisit
tasks from a store, a page at a time, into an :class:`AnnualReport`: tickets by
channel and kind, response and resolution times, complaints and their revisits,
satisfaction by month with intervals. :func:`period_report` folds the desk's KPIs
(:class:`csdomain.kpis.KpiSet`) and survey scores over a period into a
:class:`PeriodReport`. :func:`render` writes either as text, Markdown or one
self-contained HTML page with inline SVG charts (pygal, the ``csdomain[reports]``
extra; no network at render or view time), in English, Simplified or Traditional
Chinese. ``csdomain report`` does the same from the command line.
:func:`export_summaries` writes a store's ticket summaries in partitions (JSON
lines), which the KPI accumulators fold anywhere, Dask included. See
``docs/reports.md``.
"""

from __future__ import annotations

from csdomain.reports.annual import (
    AnnualReport,
    ComplaintLine,
    MonthSatisfaction,
    RevisitLine,
    annual_report,
    mask_name,
)
from csdomain.reports.export import (
    export_summaries,
    read_summaries,
    summary_loader,
    ticket_summaries,
)
from csdomain.reports.figures import ScoreFigure, ScoreKind, ScoreUnit, TimeFigure
from csdomain.reports.period import (
    Breakdown,
    BreakdownCell,
    KpiLine,
    KpiUnit,
    PeriodReport,
    period_report,
)
from csdomain.reports.render import FORMATS, render

__all__ = [
    "FORMATS",
    "AnnualReport",
    "Breakdown",
    "BreakdownCell",
    "ComplaintLine",
    "KpiLine",
    "KpiUnit",
    "MonthSatisfaction",
    "PeriodReport",
    "RevisitLine",
    "ScoreFigure",
    "ScoreKind",
    "ScoreUnit",
    "TimeFigure",
    "annual_report",
    "export_summaries",
    "mask_name",
    "period_report",
    "read_summaries",
    "render",
    "summary_loader",
    "ticket_summaries",
]
