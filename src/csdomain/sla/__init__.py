"""SLA policies and their evaluation: per-metric clocks over business calendars.

An :class:`SlaPolicy` names a condition (which tickets it covers) and, for
each :class:`SlaMetric` it measures, a :class:`MetricPolicy`: a :class:`Target`
per priority (a duration counted in business hours of a named calendar, or in
calendar hours, with warning fractions) and the rules of that metric's clock:
the statuses in which it pauses, whether bot replies count as responses, what
a reopen does and what a priority change does. An :class:`SlaSetup` puts the
ordered policies together with the calendars their targets name, and refuses
a target naming an unknown calendar, or two calendars sharing a name, when it
is built.

:func:`evaluate` is a pure function of (ticket, setup or policies and
calendars, now). It reads the ticket's timeline up to ``now`` (later events
are ignored) and returns an :class:`SlaStatus` holding a :class:`MetricStatus`
per metric: state, target, elapsed, remaining, due, breach and fulfilment
instants, warnings reached and the cycle number. :func:`explain` returns the
same evaluation with a trace of every interval counted, paused or excluded and
the rule behind each choice, renderable in English and Chinese
(:mod:`csdomain.sla.rendering`).

A sweep that evaluates a ticket again and again keeps its
:class:`SlaClockState` (:func:`clock_state`): :func:`advance_clock` walks only
the events added since and :func:`evaluate_clock` measures from the state
alone, equal to :func:`evaluate` at any later instant, at a cost independent
of the timeline's length (:mod:`~csdomain.sla.clock_state`).

The clocks (see ``docs/sla.md`` for worked examples):

* **first_response** runs from creation to the first public agent reply.
* **next_response** runs from a customer's public message that awaits an
  answer (one arriving after the first response, while no next-response cycle
  runs) to the next public agent reply; each such message starts a new cycle.
* **periodic_update** runs from each public agent reply to the next one, so it
  bounds the gap between updates; the first reply starts cycle 1.
* **resolution** runs from creation to solved.

Only public replies by agents count as responses, and bot replies too when the
metric's ``count_bot_replies`` says so; internal notes never count. No clock
counts while the ticket is solved or closed. Solving fulfils resolution; the
response clocks stop without being fulfilled (state ``cancelled``) and a reopen
resumes them, or starts a new cycle, as ``on_reopen`` says. Closing is final;
a clock still open when a ticket closes (a merge) ends ``cancelled``.

A metric is *breached* at its due instant (the instant its counted time reaches
the target) when the clock is still running after it: a reply exactly at the
due instant is on time, a reply one microsecond later is late, and so is a
reply after closing time when the target was due at closing time.

The package's modules: :mod:`~csdomain.sla.policy` (configuration),
:mod:`~csdomain.sla.status` (results), :mod:`~csdomain.sla.evaluation`,
:mod:`~csdomain.sla.clock_state` (the walk kept between evaluations),
:mod:`~csdomain.sla.explanation` (the trace, as data) and
:mod:`~csdomain.sla.rendering` (text; the only one that needs Babel, imported
on first use). ``Metric`` is the deprecated name of :class:`SlaMetric`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from csdomain.sla.clock_state import (
    CycleState,
    SlaClockState,
    advance_clock,
    clock_state,
    evaluate_clock,
)
from csdomain.sla.evaluation import evaluate, next_deadline
from csdomain.sla.explanation import SlaExplanation, TraceEntry, TraceKind, explain
from csdomain.sla.policy import (
    DEFAULT_PAUSE_STATUSES,
    MetricPolicy,
    OnPriorityChange,
    OnReopen,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    Target,
    select_policy,
)
from csdomain.sla.status import MetricStatus, SlaState, SlaStatus

__all__ = [
    "DEFAULT_PAUSE_STATUSES",
    "CycleState",
    "MetricPolicy",
    "MetricStatus",
    "OnPriorityChange",
    "OnReopen",
    "SlaClockState",
    "SlaExplanation",
    "SlaMetric",
    "SlaPolicy",
    "SlaSetup",
    "SlaState",
    "SlaStatus",
    "Target",
    "TraceEntry",
    "TraceKind",
    "advance_clock",
    "clock_state",
    "evaluate",
    "evaluate_clock",
    "explain",
    "next_deadline",
    "select_policy",
]

if TYPE_CHECKING:
    #: Deprecated: the old name of :class:`SlaMetric`.
    Metric = SlaMetric
else:

    def __getattr__(name: str) -> object:
        if name == "Metric":
            warnings.warn(
                "csdomain.sla.Metric is deprecated; use csdomain.sla.SlaMetric "
                "(the same enum under its new name)",
                DeprecationWarning,
                stacklevel=2,
            )
            return SlaMetric
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
