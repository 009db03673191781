"""Tracking figures of revisit tasks: completion, overdue tasks and reach rates.

:class:`RevisitFigures` is a mergeable accumulator, like the KPI
accumulators: :meth:`~RevisitFigures.add` folds tasks in,
:meth:`~RevisitFigures.merge` combines two accumulators (shards, pages,
workers) into a new one, and :meth:`~RevisitFigures.result` reads the figures
at an instant. Merging is associative and commutative, and splitting tasks
into parts, adding each part to its own accumulator and merging gives exactly
what one pass over all of them gives. Rates are exact
(:class:`~fractions.Fraction`) and keep their ``n``.

Definitions, over the tasks added (each task counted once, in its current state):

* **completion rate**: tasks done / (done + missed + overdue), where overdue
  tasks are those waiting to be started (scheduled or rescheduled) whose due
  instant is before ``now``. Tasks in progress, cancelled, or waiting and not
  yet due count in neither part;
* **overdue count**: the overdue tasks above;
* **reach rate**: over every completed attempt of the tasks' timelines (a
  task rescheduled after "no answer" and then reached has two), the share
  whose outcome reached the customer (reached and satisfied, or reached with
  an issue). Per form, an attempt counts for the form it was made on; per
  agent, for the agent who completed it (the completing event's agent, else
  the agent who started it, else the task's assignee then). An attempt with
  no agent counts for its form only. Missed attempts are no completed
  attempts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import datetime
from fractions import Fraction
from types import MappingProxyType
from typing import Final, NamedTuple, TypeVar

from csdomain._kernel.time import ensure_aware, to_epoch_us
from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError
from csdomain.revisits.events import TaskEventKind
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import RevisitForm, TaskState

__all__ = ["Rate", "RevisitFigures", "RevisitFiguresResult"]

_K = TaskEventKind
_T = TypeVar("_T")
_FORM_ORDER: Final = {form: i for i, form in enumerate(RevisitForm)}


class Rate(NamedTuple):
    """``hits`` out of ``n``; ``value`` is the exact share (None when ``n`` is 0)."""

    hits: int
    n: int

    @property
    def value(self) -> Fraction | None:
        """``hits / n`` exactly, or None without observations."""
        return Fraction(self.hits, self.n) if self.n else None


class RevisitFiguresResult(NamedTuple):
    """The figures at ``now`` (see the module documentation for the definitions).

    ``states`` counts the tasks per current state (every state listed);
    ``reach`` is the reach rate over all completed attempts,
    ``reach_by_form`` and ``reach_by_agent`` per form and per agent (only
    those with attempts, forms in their declared order, agents by id).
    """

    now: datetime
    tasks: int
    states: Mapping[TaskState, int]
    completion: Rate
    overdue: int
    reach: Rate
    reach_by_form: Mapping[RevisitForm, Rate]
    reach_by_agent: Mapping[str, Rate]


class RevisitFigures:
    """A mergeable accumulator of revisit task figures (see the module documentation).

    >>> figures = RevisitFigures()
    >>> figures.tasks
    0
    """

    __slots__ = ("_agents", "_forms", "_states", "_waiting_due", "tasks")

    def __init__(self) -> None:
        #: How many tasks were added.
        self.tasks = 0
        self._states: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        self._waiting_due: list[int] = []  # due instants (µs) of waiting tasks
        self._forms: dict[RevisitForm, list[int]] = {}  # form -> [reached, attempts]
        self._agents: dict[str, list[int]] = {}  # agent -> [reached, attempts]

    def add(self, task: RevisitTask, /) -> None:
        """Fold one task in (its current state and every completed attempt)."""
        if type(task) is not RevisitTask:
            raise ValidationError.single(
                "RevisitFigures.add", "task", f"expected a RevisitTask, got {describe(task)}"
            )
        self.tasks += 1
        self._states[task.state] += 1
        if task.waiting:
            self._waiting_due.append(to_epoch_us(task.due_at))
        form: RevisitForm | None = None
        started_by: str | None = None
        assignee: str | None = None
        for event in task.timeline:
            kind = event.kind
            if kind is _K.SCHEDULED or kind is _K.RESCHEDULED:
                form = event.form
                started_by = None
                if kind is _K.SCHEDULED:
                    assignee = event.agent_id
            elif kind is _K.ASSIGNED:
                assignee = event.agent_id
            elif kind is _K.STARTED:
                started_by = assignee = event.agent_id
            elif kind is _K.COMPLETED:
                assert form is not None and event.outcome is not None  # a valid timeline
                reached = 1 if event.outcome.reached else 0
                _bump(self._forms, form, reached)
                agent = event.agent_id or started_by or assignee
                if agent is not None:
                    _bump(self._agents, agent, reached)

    def add_all(self, tasks: Iterable[RevisitTask], /) -> None:
        """Fold every task in."""
        for task in tasks:
            self.add(task)

    def merge(self, other: RevisitFigures, /) -> RevisitFigures:
        """A new accumulator holding the tasks of both (neither is changed)."""
        if type(other) is not RevisitFigures:
            raise ValidationError.single(
                "RevisitFigures.merge",
                "other",
                f"can only merge a RevisitFigures, got {describe(other)}",
            )
        merged = RevisitFigures()
        merged.tasks = self.tasks + other.tasks
        merged._states = {s: self._states[s] + other._states[s] for s in TaskState}
        merged._waiting_due = [*self._waiting_due, *other._waiting_due]
        merged._forms = _merged(self._forms, other._forms)
        merged._agents = _merged(self._agents, other._agents)
        return merged

    def result(self, now: datetime) -> RevisitFiguresResult:
        """The figures at ``now`` (an aware datetime)."""
        at = ensure_aware(now, "RevisitFigures.result", "now")
        now_us = to_epoch_us(at)
        overdue = bisect_left(sorted(self._waiting_due), now_us)
        done = self._states[TaskState.DONE]
        missed = self._states[TaskState.MISSED]
        forms = {
            form: Rate(*self._forms[form])
            for form in sorted(self._forms, key=_FORM_ORDER.__getitem__)
        }
        agents = {agent: Rate(*self._agents[agent]) for agent in sorted(self._agents)}
        return RevisitFiguresResult(
            now=at,
            tasks=self.tasks,
            states=MappingProxyType(dict(self._states)),
            completion=Rate(done, done + missed + overdue),
            overdue=overdue,
            reach=Rate(sum(r.hits for r in forms.values()), sum(r.n for r in forms.values())),
            reach_by_form=MappingProxyType(forms),
            reach_by_agent=MappingProxyType(agents),
        )


def _bump(counts: dict[_T, list[int]], key: _T, reached: int) -> None:
    found = counts.get(key)
    if found is None:
        counts[key] = [reached, 1]
    else:
        found[0] += reached
        found[1] += 1


def _merged(a: dict[_T, list[int]], b: dict[_T, list[int]]) -> dict[_T, list[int]]:
    merged = {k: list(v) for k, v in a.items()}
    for k, (reached, attempts) in b.items():
        found = merged.get(k)
        if found is None:
            merged[k] = [reached, attempts]
        else:
            found[0] += reached
            found[1] += attempts
    return merged
