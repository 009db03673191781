"""Tracking figures of revisit tasks: exact rates, merge laws (csdomain.revisits.tracking)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from itertools import pairwise

import hypothesis.strategies as st
import pytest
from hypothesis import given

from csdomain.errors import ValidationError
from csdomain.revisits.events import TaskEventKind
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.tracking import Rate, RevisitFigures, RevisitFiguresResult
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm, TaskState
from csdomain.testing.strategies._common import aware_datetimes
from csdomain.testing.strategies._revisit_tasks import revisit_tasks

UTC = timezone.utc
DUE = datetime(2026, 9, 30, 2, tzinfo=UTC)
NOW = datetime(2026, 10, 15, tzinfo=UTC)
PHONE, SMS = RevisitForm.PHONE, RevisitForm.SMS


def task(n: int, due: datetime = DUE) -> RevisitTask:
    return RevisitTask.schedule(
        id=f"rvt_{n}",
        plan="vip-care",
        rule="monthly",
        customer_id=f"cus_{n}",
        purpose="Monthly check-in",
        nominal_at=due,
        due_at=due,
        form=PHONE,
        channel="phone_hotline",
        at=datetime(2026, 9, 1, tzinfo=UTC),
        forms=(PHONE, SMS),
    )


def figures_of(tasks: list[RevisitTask]) -> RevisitFigures:
    figures = RevisitFigures()
    figures.add_all(tasks)
    return figures


def test_exact_figures_of_a_known_set_of_tasks() -> None:
    at = DUE + timedelta(hours=1)
    # reached on the first call by amy
    reached = task(1).start("agt_amy", at).complete(Outcome.REACHED_SATISFIED, at)
    # no answer by phone (bo), then reached by SMS, completed by chen without starting agent
    retried = task(2).start("agt_bo", at).complete(Outcome.NO_ANSWER, at)
    retried = retried.reschedule(at + timedelta(days=1), SMS, at)
    retried = retried.start("agt_chen", at + timedelta(days=1))
    retried = retried.complete(Outcome.REACHED_WITH_ISSUE, at + timedelta(days=1))
    missed = task(3).miss(at)
    overdue = task(4, due=NOW - timedelta(microseconds=1))
    due_now = task(5, due=NOW)  # due exactly now: not overdue yet
    future = task(6, due=NOW + timedelta(days=3))
    cancelled = task(7).cancel(CancelReason.ERASED, at)
    busy_assigned = task(8).assign("agt_dan", at).start("agt_dan", at)
    busy_assigned = busy_assigned.complete(Outcome.BUSY, at, agent_id="agt_amy")

    result = figures_of(
        [reached, retried, missed, overdue, due_now, future, cancelled, busy_assigned]
    ).result(NOW)

    assert result.tasks == 8
    assert result.states[TaskState.DONE] == 3 and result.states[TaskState.SCHEDULED] == 3
    assert result.overdue == 1
    # done 3 / (done 3 + missed 1 + overdue 1)
    assert result.completion == Rate(3, 5) and result.completion.value == Fraction(3, 5)
    # attempts: phone reached (amy), phone no answer (bo), sms reached (chen), phone busy (amy)
    assert result.reach == Rate(2, 4)
    assert dict(result.reach_by_form) == {PHONE: Rate(1, 3), SMS: Rate(1, 1)}
    assert list(result.reach_by_form) == [PHONE, SMS]
    assert dict(result.reach_by_agent) == {
        "agt_amy": Rate(1, 2),
        "agt_bo": Rate(0, 1),
        "agt_chen": Rate(1, 1),
    }


def test_empty_figures_have_no_rates() -> None:
    result = RevisitFigures().result(NOW)
    assert result.completion == Rate(0, 0) and result.completion.value is None
    assert result.overdue == 0 and not result.reach_by_form and not result.reach_by_agent


def test_bad_input_is_refused() -> None:
    figures = RevisitFigures()
    with pytest.raises(ValidationError, match="expected a RevisitTask"):
        figures.add("rvt_1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="can only merge a RevisitFigures"):
        figures.merge(Counter())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="naive datetime"):
        figures.result(datetime(2026, 10, 15))
    assert figures.tasks == 0


# -- laws -------------------------------------------------------------------------------

_TASKS = st.lists(revisit_tasks(), max_size=12)
_NOWS = aware_datetimes(
    min_value=datetime(2020, 1, 1, tzinfo=UTC), max_value=datetime(2031, 6, 1, tzinfo=UTC)
)


def oracle(tasks: list[RevisitTask], now: datetime) -> tuple[object, ...]:
    """The figures computed the plain way, straight from the definitions."""
    done = sum(t.state is TaskState.DONE for t in tasks)
    missed = sum(t.state is TaskState.MISSED for t in tasks)
    overdue = sum(
        t.state in (TaskState.SCHEDULED, TaskState.RESCHEDULED) and t.due_at < now for t in tasks
    )
    by_form: Counter[tuple[RevisitForm, bool]] = Counter()
    for t in tasks:
        form = None
        for e in t.timeline:
            if e.form is not None:
                form = e.form
            if e.kind is TaskEventKind.COMPLETED:
                assert form is not None and e.outcome is not None
                by_form[form, e.outcome.reached] += 1
    forms = {
        f: Rate(by_form[f, True], by_form[f, True] + by_form[f, False])
        for f in RevisitForm
        if by_form[f, True] + by_form[f, False]
    }
    return (len(tasks), Rate(done, done + missed + overdue), overdue, forms)


def view(result: RevisitFiguresResult) -> tuple[object, ...]:
    return (result.tasks, result.completion, result.overdue, dict(result.reach_by_form))


@given(_TASKS, _NOWS)
def test_figures_follow_their_definitions(tasks: list[RevisitTask], now: datetime) -> None:
    assert view(figures_of(tasks).result(now)) == oracle(tasks, now)


@given(_TASKS, _TASKS, _NOWS)
def test_merge_is_commutative(a: list[RevisitTask], b: list[RevisitTask], now: datetime) -> None:
    fa, fb = figures_of(a), figures_of(b)
    assert fa.merge(fb).result(now) == fb.merge(fa).result(now)


@given(_TASKS, _TASKS, _TASKS, _NOWS)
def test_merge_is_associative(
    a: list[RevisitTask], b: list[RevisitTask], c: list[RevisitTask], now: datetime
) -> None:
    fa, fb, fc = figures_of(a), figures_of(b), figures_of(c)
    assert fa.merge(fb).merge(fc).result(now) == fa.merge(fb.merge(fc)).result(now)


@given(_TASKS, st.lists(st.integers(0, 12), max_size=4), _NOWS)
def test_split_and_merge_equals_one_pass(
    tasks: list[RevisitTask], cuts: list[int], now: datetime
) -> None:
    bounds = [0, *sorted(min(c, len(tasks)) for c in cuts), len(tasks)]
    parts = [figures_of(tasks[lo:hi]) for lo, hi in pairwise(bounds)]
    merged = RevisitFigures()
    for part in parts:
        merged = merged.merge(part)
    assert merged.result(now) == figures_of(tasks).result(now)


@given(_TASKS, _TASKS, _NOWS)
def test_merge_changes_neither_side(
    a: list[RevisitTask], b: list[RevisitTask], now: datetime
) -> None:
    fa, fb = figures_of(a), figures_of(b)
    before = (fa.result(now), fb.result(now))
    fa.merge(fb)
    assert (fa.result(now), fb.result(now)) == before
