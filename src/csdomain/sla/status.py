"""SLA results: where each metric's clock stands for one ticket at one instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Final, NamedTuple

import attrs

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain.priorities import Priority
from csdomain.sla.policy import SlaMetric

__all__ = ["MetricStatus", "SlaState", "SlaStatus"]

_ZERO: Final = timedelta(0)


class SlaState(Enum):
    """Where a metric's clock stands at the evaluation instant."""

    #: The policy has no target for this metric at the ticket's priority.
    NOT_APPLICABLE = "not_applicable"
    #: The metric has a target, but nothing has started a cycle yet.
    IDLE = "idle"
    RUNNING = "running"
    #: The ticket's status is in the metric's pause set.
    PAUSED = "paused"
    #: Fulfilled at or before the due instant.
    ACHIEVED = "achieved"
    #: The due instant passed while the clock ran (fulfilled late, or not yet).
    BREACHED = "breached"
    #: Stopped unfulfilled: solved before a reply (a reopen resumes it) or closed.
    CANCELLED = "cancelled"


declare_labels(
    SlaState,
    {
        SlaState.NOT_APPLICABLE: _mark("sla state", "Not applicable"),
        # Translators: the metric has a target but its clock has not started.
        SlaState.IDLE: _mark("sla state", "Not started"),
        SlaState.RUNNING: _mark("sla state", "Running"),
        SlaState.PAUSED: _mark("sla state", "Paused"),
        SlaState.ACHIEVED: _mark("sla state", "Achieved"),
        SlaState.BREACHED: _mark("sla state", "Breached"),
        SlaState.CANCELLED: _mark("sla state", "Cancelled"),
    },
)


class MetricStatus(NamedTuple):
    """One metric of one ticket at one instant (the latest cycle).

    A named tuple (evaluation builds four per ticket on every sweep, and a
    tuple is the cheapest immutable value to build); compare and read it by
    field name.

    ``elapsed`` is the time counted in the cycle (business time of the target's
    calendar); ``remaining`` is ``target - elapsed`` and negative once
    overdue. ``due_at`` is the instant the target is reached while the clock
    runs (None while paused, stopped or not applicable). ``breached_at`` is the
    due instant once passed; ``achieved_at`` the instant the cycle was fulfilled
    (a reply, or solving for resolution), late or not. ``warnings_reached``
    lists the target's warning fractions already reached, and
    ``next_warning_at`` when the next one will be (None unless running).
    """

    metric: SlaMetric
    state: SlaState
    cycle: int = 0
    priority: Priority | None = None
    target: timedelta | None = None
    calendar: str | None = None
    elapsed: timedelta = _ZERO
    remaining: timedelta | None = None
    due_at: datetime | None = None
    breached_at: datetime | None = None
    achieved_at: datetime | None = None
    warnings_reached: tuple[float, ...] = ()
    next_warning_at: datetime | None = None

    @property
    def is_breached(self) -> bool:
        """True when the latest cycle is breached."""
        return self.state is SlaState.BREACHED

    @property
    def next_deadline(self) -> datetime | None:
        """The next warning instant, else the due instant, while the clock runs."""
        return self.next_warning_at or self.due_at


@attrs.frozen
class SlaStatus:
    """Every metric of one ticket at ``now`` under the chosen policy (``policy`` None: none).

    Look a metric up as in a mapping: ``status[SlaMetric.RESOLUTION]`` raises
    :class:`KeyError` when the policy does not measure that metric (a plain
    lookup miss, not :class:`~csdomain.errors.NotFoundError`: the ticket
    exists), ``status.get(metric)`` returns None then, and ``metric in status``
    tells which.
    """

    ticket_id: str
    now: datetime
    policy: str | None
    metrics: tuple[MetricStatus, ...]

    def get(self, metric: SlaMetric) -> MetricStatus | None:
        """The status of ``metric``, or None when the policy does not measure it."""
        for status in self.metrics:
            if status.metric is metric:
                return status
        return None

    def __getitem__(self, metric: SlaMetric) -> MetricStatus:
        found = self.get(metric)
        if found is None:
            measured = ", ".join(s.metric.value for s in self.metrics) or "none"
            policy = "no policy" if self.policy is None else f"policy {self.policy!r}"
            name = metric.value if isinstance(metric, SlaMetric) else repr(metric)
            raise KeyError(
                f"SLA metric {name} is not measured for ticket {self.ticket_id!r} "
                f"under {policy}; measured: {measured}"
            )
        return found

    def __contains__(self, metric: object) -> bool:
        return any(status.metric is metric for status in self.metrics)

    @property
    def breached(self) -> tuple[MetricStatus, ...]:
        """The metrics whose latest cycle is breached."""
        return tuple(s for s in self.metrics if s.state is SlaState.BREACHED)

    @property
    def next_deadline(self) -> datetime | None:
        """The earliest future instant at which a running metric warns or is due."""
        instants = [d for s in self.metrics if (d := s.next_deadline) is not None and d > self.now]
        return min(instants, default=None)
