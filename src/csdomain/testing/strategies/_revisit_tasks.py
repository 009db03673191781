"""Strategies: revisit tasks (reached by their own steps), task events, outcomes and
tracking figures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import hypothesis.strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.people import Role
from csdomain.revisits.events import TaskEvent
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.tracking import RevisitFigures
from csdomain.revisits.vocabulary import (
    FORM_CHANNELS,
    CancelReason,
    Outcome,
    RevisitForm,
    TaskState,
)
from csdomain.testing.strategies._common import (
    _check_size,
    _ids,
    _keys,
    _maybe,
    _members,
    _memo,
    aware_datetimes,
)
from csdomain.testing.strategies.registry import register

__all__ = [
    "revisit_figures",
    "revisit_outcomes",
    "revisit_task_events",
    "revisit_tasks",
]

_UTC = timezone.utc
_START_MIN = datetime(2020, 1, 1, tzinfo=_UTC)
_START_MAX = datetime(2030, 12, 31, tzinfo=_UTC)
_PURPOSES: tuple[str, ...] = (
    "Monthly check-in",
    "Follow-up after complaint",
    "回访：产品使用情况",
    "回訪：滿意度",
    "Birthday care",
)
_AGENTS: tuple[str, ...] = ("agt_amy", "agt_bo", "agt_chen", "agt_dan")


def revisit_outcomes(*, retryable: bool | None = None) -> SearchStrategy[Outcome]:
    """:class:`~csdomain.revisits.Outcome` members: only retryable ones (no answer,
    busy, voicemail) with ``retryable=True``, only the others with ``False``, any
    by default.

    Requires Hypothesis.
    """
    if retryable is None:
        return st.sampled_from(tuple(Outcome))
    return st.sampled_from(tuple(o for o in Outcome if o.retryable is bool(retryable)))


register(Outcome, revisit_outcomes)


def revisit_tasks(
    *, states: Iterable[TaskState] | None = None, max_steps: int = 8
) -> SearchStrategy[RevisitTask]:
    """:class:`~csdomain.revisits.RevisitTask` values in one of ``states`` (default: any
    :class:`~csdomain.revisits.TaskState`), each scheduled and then moved by up to
    ``max_steps`` (2-50) of its own legal steps (start, complete, miss, reschedule,
    cancel, assign, link a ticket) at non-decreasing instants, so its timeline,
    attempts and fields are consistent (every state is reachable in 2 steps).

    Requires Hypothesis.
    """
    steps = _check_size("max_steps", max_steps, 2, 50)
    return _tasks(tuple(dict.fromkeys(_members(TaskState, "states", states))), steps)


register(RevisitTask, revisit_tasks)


@_memo
def _tasks(states: tuple[TaskState, ...], max_steps: int) -> SearchStrategy[RevisitTask]:
    return _task_walks(max_steps).flatmap(lambda walk: _ending_in(walk, states))


def _ending_in(
    walk: list[RevisitTask], states: tuple[TaskState, ...]
) -> SearchStrategy[RevisitTask]:
    # the walk's last task in one of the states: walks go as deep as they were drawn
    for task in reversed(walk):
        if task.state in states:
            return st.just(task)
    return st.nothing()


@_memo
def _task_walks(max_steps: int) -> SearchStrategy[list[RevisitTask]]:
    return _walk(max_steps)


@st.composite
def _walk(draw: DrawFn, max_steps: int) -> list[RevisitTask]:
    """A scheduled task and each task its steps lead to, in order."""
    task = draw(_scheduled())
    walk = [task]
    for _ in range(draw(st.integers(0, max_steps))):
        moves = _legal_steps(task)
        if not moves:
            break
        move = draw(st.sampled_from(moves))
        at = task.updated_at + draw(st.integers(0, 72)) * timedelta(hours=1)
        task = _apply(draw, task, move, at)
        walk.append(task)
    return walk


def _legal_steps(task: RevisitTask) -> list[str]:
    """The names of the steps ``task`` takes now (``"start"``, ``"complete"``, ...)."""
    allowed = task.allowed
    moves = [name for name, target in _TARGETS.items() if target in allowed]
    if not task.terminal:
        moves.append("assign")
    if (
        task.state is TaskState.DONE
        and task.outcome is Outcome.REACHED_WITH_ISSUE
        and task.ticket_id is None
    ):
        moves.append("link_ticket")
    return moves


_TARGETS = {
    "start": TaskState.IN_PROGRESS,
    "complete": TaskState.DONE,
    "miss": TaskState.MISSED,
    "reschedule": TaskState.RESCHEDULED,
    "cancel": TaskState.CANCELLED,
}


def _apply(draw: DrawFn, task: RevisitTask, move: str, at: datetime) -> RevisitTask:
    if move == "start":
        return task.start(draw(st.sampled_from(_AGENTS)), at)
    if move == "complete":
        note = draw(st.sampled_from((None, "客户很满意", "Call back next week")))
        agent = draw(st.sampled_from((None, *_AGENTS)))
        return task.complete(draw(revisit_outcomes()), at, note=note, agent_id=agent)
    if move == "miss":
        return task.miss(at)
    if move == "reschedule":
        form = draw(st.sampled_from(task.forms))
        channel = draw(st.sampled_from(FORM_CHANNELS[form]))
        due_at = at + draw(st.integers(1, 240)) * timedelta(hours=1)
        return task.reschedule(due_at, form, at, channel=channel)
    if move == "cancel":
        return task.cancel(draw(st.sampled_from(tuple(CancelReason))), at)
    if move == "assign":
        choices = [a for a in _AGENTS if a != task.assignee_id]
        return task.assign(draw(st.sampled_from(choices)), at)
    return task.link_ticket(draw(_ids("tkt")), at)


@_memo
def _scheduled() -> SearchStrategy[RevisitTask]:
    return _scheduled_task()


@st.composite
def _scheduled_task(draw: DrawFn) -> RevisitTask:
    forms = tuple(
        draw(st.lists(st.sampled_from(tuple(RevisitForm)), min_size=1, max_size=5, unique=True))
    )
    form = draw(st.sampled_from(forms))
    at = draw(aware_datetimes(min_value=_START_MIN, max_value=_START_MAX))
    nominal = at + draw(st.integers(0, 90 * 24)) * timedelta(hours=1)
    due = nominal + draw(st.integers(0, 14 * 24)) * timedelta(hours=1)
    return RevisitTask.schedule(
        id="rvt_" + draw(st.text("0123456789abcdef", min_size=40, max_size=40)),
        plan=draw(_keys(24)),
        plan_version=draw(st.integers(1, 5)),
        rule=draw(_keys(24)),
        rule_fingerprint=draw(st.text("0123456789abcdef", min_size=16, max_size=16)),
        customer_id=draw(_ids("cus")),
        purpose=draw(st.sampled_from(_PURPOSES)),
        nominal_at=nominal,
        due_at=due,
        form=form,
        channel=draw(st.sampled_from(FORM_CHANNELS[form])),
        at=at,
        forms=forms,
        max_attempts=draw(st.integers(1, 4)),
        script=draw(_maybe(st.sampled_from(("Ask about product use.", "询问产品使用情况。")))),
        questionnaire=draw(_maybe(st.sampled_from(("csat-v1", "nps-2026")))),
        group_id=draw(_maybe(st.sampled_from(("grp_care", "grp_vip")))),
        role=draw(_maybe(st.sampled_from(tuple(Role)))),
        assignee_id=draw(_maybe(st.sampled_from(_AGENTS))),
        cause=draw(_maybe(_ids("tkt"))),
    )


def revisit_task_events() -> SearchStrategy[TaskEvent]:
    """:class:`~csdomain.revisits.TaskEvent` values of every kind, each with the fields
    its kind takes.

    Requires Hypothesis.
    """
    return _events()


register(TaskEvent, revisit_task_events)


@_memo
def _events() -> SearchStrategy[TaskEvent]:
    at = aware_datetimes(min_value=_START_MIN, max_value=_START_MAX)
    agents = st.sampled_from(_AGENTS)
    form_channel = st.sampled_from(
        [(form, channel) for form, channels in FORM_CHANNELS.items() for channel in channels]
    )
    hours = st.integers(0, 240).map(lambda n: n * timedelta(hours=1))
    return st.one_of(
        st.builds(
            lambda t, fc, a: TaskEvent.scheduled(t, t, fc[0], fc[1], a),
            at,
            form_channel,
            _maybe(agents),
        ),
        st.builds(TaskEvent.started, at, agents),
        st.builds(
            TaskEvent.completed,
            at,
            revisit_outcomes(),
            _maybe(st.sampled_from(("客户很满意", "No answer twice"))),
            _maybe(agents),
        ),
        st.builds(TaskEvent.missed, at),
        st.builds(
            lambda t, d, fc, n: TaskEvent.rescheduled(t, t + d, fc[0], fc[1], n),
            at,
            hours,
            form_channel,
            st.integers(2, 5),
        ),
        st.builds(TaskEvent.cancelled, at, st.sampled_from(tuple(CancelReason))),
        st.builds(TaskEvent.ticket_opened, at, _ids("tkt")),
        st.builds(TaskEvent.assigned, at, agents),
    )


def revisit_figures(*, max_tasks: int = 20) -> SearchStrategy[RevisitFigures]:
    """:class:`~csdomain.revisits.RevisitFigures` accumulators holding up to
    ``max_tasks`` (0-200) tasks of :func:`revisit_tasks`.

    Requires Hypothesis.
    """
    return _figures(_check_size("max_tasks", max_tasks, 0, 200))


register(RevisitFigures, revisit_figures)


@_memo
def _figures(max_tasks: int) -> SearchStrategy[RevisitFigures]:
    return st.lists(revisit_tasks(), max_size=max_tasks).map(_figures_of)


def _figures_of(tasks: list[RevisitTask]) -> RevisitFigures:
    figures = RevisitFigures()
    figures.add_all(tasks)
    return figures
