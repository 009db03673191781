"""Revisit tasks: the lifecycle, the timeline fold, typed refusals, the next attempt
(csdomain.revisits.tasks, csdomain.revisits.events)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from csdomain.calendars import BusinessCalendar, ExtraWorkday, Holiday
from csdomain.conditions import Equals, Facts
from csdomain.customers import Consent, ContactPoint, Customer
from csdomain.errors import InvalidTransitionError, ValidationError
from csdomain.revisits import fields as revisit_fields
from csdomain.revisits.events import TaskEvent, TaskEventKind
from csdomain.revisits.placement import ContactState, ContactWindow
from csdomain.revisits.tasks import NextAttempt, RevisitTask, next_attempt, replay
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm, TaskState
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies._revisit_tasks import (
    revisit_outcomes,
    revisit_task_events,
    revisit_tasks,
)

UTC = timezone.utc
PHONE, EMAIL, SMS, WECHAT = (
    RevisitForm.PHONE,
    RevisitForm.EMAIL,
    RevisitForm.SMS,
    RevisitForm.WECHAT,
)
S = TaskState


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


#: Wednesday 30 September 2026, 10:00 in Shanghai.
DUE = utc(2026, 9, 30, 2)


def scheduled(**changes: Any) -> RevisitTask:
    arguments: dict[str, Any] = {
        "id": "rvt_1",
        "plan": "vip-care",
        "rule": "monthly",
        "customer_id": "cus_1",
        "purpose": "Monthly check-in",
        "nominal_at": DUE,
        "due_at": DUE,
        "form": PHONE,
        "channel": "phone_hotline",
        "at": utc(2026, 9, 1),
        "forms": (PHONE, SMS),
        "max_attempts": 3,
    }
    arguments.update(changes)
    return RevisitTask.schedule(**arguments)


# -- creating ---------------------------------------------------------------------------


def test_schedule_makes_a_waiting_task_with_one_event() -> None:
    task = scheduled(group_id="grp_care", cause="tkt_9")
    assert (task.state, task.attempts, task.outcome, task.assignee_id) == (
        S.SCHEDULED,
        0,
        None,
        None,
    )
    assert task.timeline == (TaskEvent.scheduled(utc(2026, 9, 1), DUE, PHONE, "phone_hotline"),)
    assert task.created_at == task.updated_at == utc(2026, 9, 1)
    assert task.waiting and task.live and not task.terminal and not task.can_retry
    assert task.allowed == {S.IN_PROGRESS, S.MISSED, S.CANCELLED}


def test_schedule_refuses_bad_input_listing_every_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        scheduled(customer_id="not a key", max_attempts=0, purpose=" ")
    assert {path for path, _ in caught.value.problems} == {"customer_id", "max_attempts", "purpose"}
    with pytest.raises(
        ValidationError, match="due_at: naive datetime 2026-09-30T10:00:00 rejected"
    ):
        scheduled(due_at=datetime(2026, 9, 30, 10))


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"channel": "email"}, "channel", "not one of form 'phone'"),
        ({"forms": (SMS, EMAIL)}, "form", "not one of its forms"),
        ({"forms": (PHONE, SMS, PHONE)}, "forms[2]", "listed twice"),
    ],
)
def test_schedule_refuses_inconsistent_forms(
    changes: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        scheduled(**changes)
    assert any(p == path and words in m for p, m in caught.value.problems), caught.value.problems


# -- lifecycle --------------------------------------------------------------------------


def test_a_reached_attempt_with_an_issue_links_its_ticket_once() -> None:
    at = DUE + timedelta(minutes=5)
    done = scheduled().start("agt_amy", at).complete(Outcome.REACHED_WITH_ISSUE, at, note="坏了")
    assert (done.state, done.attempts, done.assignee_id) == (S.DONE, 1, "agt_amy")
    assert done.terminal and not done.can_retry
    linked = done.link_ticket("tkt_42", at)
    assert linked.ticket_id == "tkt_42" and linked.state is S.DONE
    assert linked.timeline[-1] == TaskEvent.ticket_opened(at, "tkt_42")
    with pytest.raises(InvalidTransitionError, match="ticket tkt_42 is already linked"):
        linked.link_ticket("tkt_43", at)


def test_only_a_reached_with_issue_outcome_opens_a_ticket() -> None:
    done = scheduled().start("agt_amy", DUE).complete(Outcome.REACHED_SATISFIED, DUE)
    with pytest.raises(InvalidTransitionError) as caught:
        done.link_ticket("tkt_1", DUE)
    assert caught.value.subject == "revisit task"
    assert "its outcome: reached_satisfied" in str(caught.value)


def test_retries_stop_after_max_attempts() -> None:
    task = scheduled(max_attempts=2)
    task = task.start("agt_amy", DUE).complete(Outcome.NO_ANSWER, DUE)
    assert task.can_retry and not task.terminal and task.allowed == {S.RESCHEDULED}
    task = task.reschedule(DUE + timedelta(days=1), SMS, DUE)
    assert (task.state, task.form, task.channel, task.outcome) == (S.RESCHEDULED, SMS, "sms", None)
    assert task.timeline[-1].attempt == 2
    task = task.miss(DUE + timedelta(days=2))
    assert (task.state, task.attempts, task.terminal) == (S.MISSED, 2, True)
    with pytest.raises(InvalidTransitionError) as caught:
        task.reschedule(DUE + timedelta(days=3), PHONE, DUE + timedelta(days=2))
    assert str(caught.value) == (
        "cannot move revisit task rvt_1 from missed to rescheduled; allowed: none (missed is final)"
    )
    assert (caught.value.current, caught.value.attempted, caught.value.allowed) == (
        "missed",
        "rescheduled",
        (),
    )


def test_an_illegal_move_names_the_task_its_state_and_the_allowed_states() -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        scheduled().complete(Outcome.BUSY, DUE)
    assert str(caught.value) == (
        "cannot move revisit task rvt_1 from scheduled to done; "
        "allowed: cancelled, in_progress, missed"
    )


def test_a_done_task_without_retry_cannot_be_cancelled() -> None:
    done = scheduled().start("agt_amy", DUE).complete(Outcome.REFUSED, DUE)
    with pytest.raises(InvalidTransitionError, match="from done to cancelled"):
        done.cancel(CancelReason.ERASED, DUE)


def test_a_missed_task_with_attempts_left_can_be_cancelled() -> None:
    missed = scheduled().miss(DUE + timedelta(hours=9))
    cancelled = missed.cancel(CancelReason.CONSENT_WITHDRAWN, DUE + timedelta(days=1))
    assert (cancelled.state, cancelled.cancel_reason) == (
        S.CANCELLED,
        CancelReason.CONSENT_WITHDRAWN,
    )
    assert cancelled.terminal and not cancelled.live


def test_a_step_dated_before_the_last_change_is_refused() -> None:
    task = scheduled()
    with pytest.raises(InvalidTransitionError, match="events come in time order"):
        task.start("agt_amy", utc(2026, 8, 31))


def test_reschedule_checks_the_form_and_channel_and_due_instant() -> None:
    missed = scheduled().miss(DUE)
    with pytest.raises(InvalidTransitionError, match="its rule's forms are phone, sms"):
        missed.reschedule(DUE + timedelta(days=1), WECHAT, DUE)
    with pytest.raises(InvalidTransitionError, match="uses the channels sms"):
        missed.reschedule(DUE + timedelta(days=1), SMS, DUE, channel="email")
    with pytest.raises(ValidationError, match="cannot be due before it"):
        missed.reschedule(DUE - timedelta(hours=1), SMS, DUE)


def test_assign_to_the_assignee_changes_nothing() -> None:
    task = scheduled().assign("agt_bo", DUE)
    assert task.assign("agt_bo", DUE) is task
    assert task.timeline[-1] == TaskEvent.assigned(DUE, "agt_bo")


def test_fields_that_disagree_with_the_timeline_are_refused() -> None:
    task = scheduled().start("agt_amy", DUE)
    with pytest.raises(ValidationError, match="fields disagree with the timeline"):
        attrs.evolve(task, state=S.SCHEDULED)
    with pytest.raises(ValidationError, match="does not replay"):
        attrs.evolve(task, timeline=(*task.timeline, TaskEvent.ticket_opened(DUE, "tkt_1")))


def test_events_take_exactly_their_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        TaskEvent(kind=TaskEventKind.MISSED, at=DUE, outcome=Outcome.BUSY)
    assert [tuple(p) for p in caught.value.problems] == [
        ("outcome", "a missed event takes no outcome (it takes nothing else)")
    ]


def test_condition_fields_read_the_task() -> None:
    assert set(revisit_fields.REVISIT_FIELDS) == {
        "revisit.outcome",
        "revisit.form",
        "revisit.plan",
        "revisit.rule",
        "revisit.attempts",
    }
    done = scheduled().start("agt_amy", DUE).complete(Outcome.REACHED_WITH_ISSUE, DUE)
    facts = Facts(revisit=done)
    assert Equals("revisit.outcome", Outcome.REACHED_WITH_ISSUE).holds(facts)
    assert Equals("revisit.form", RevisitForm.PHONE).holds(facts)
    assert Equals("revisit.plan", "vip-care").holds(facts)
    assert not Equals("revisit.rule", "quarterly").holds(facts)


# -- laws over generated tasks ----------------------------------------------------------


@given(revisit_tasks())
def test_a_task_is_the_fold_of_its_timeline(task: RevisitTask) -> None:
    assert replay(task.timeline, max_attempts=task.max_attempts, forms=task.forms) == task.facts
    assert task.attempts <= task.max_attempts
    assert task.attempts == sum(
        e.kind in (TaskEventKind.COMPLETED, TaskEventKind.MISSED) for e in task.timeline
    )


@given(revisit_tasks())
def test_tasks_round_trip_through_json(task: RevisitTask) -> None:
    assert from_json(to_json(task), RevisitTask) == task


@given(revisit_task_events())
def test_events_round_trip_through_json(event: TaskEvent) -> None:
    assert from_json(to_json(event), TaskEvent) == event


# -- the lifecycle as a state machine ---------------------------------------------------

_AGENTS = st.sampled_from(("agt_amy", "agt_bo", "agt_chen"))
#: Mostly forward in time; sometimes backwards, which every step must refuse.
_STEP = st.integers(-2, 48).map(lambda h: timedelta(hours=h))


class TaskLifecycle(RuleBasedStateMachine):
    """Random legal and illegal commands on one task, checked against a model of the
    transition table written independently of the implementation."""

    task: RevisitTask

    @initialize(max_attempts=st.integers(1, 4))
    def schedule(self, max_attempts: int) -> None:
        self.task = scheduled(max_attempts=max_attempts, forms=(PHONE, SMS, EMAIL))
        self.model: dict[str, Any] = {
            "state": S.SCHEDULED,
            "attempts": 0,
            "outcome": None,
            "ticket": None,
        }
        self.terminal_state: TaskState | None = None
        self.was_terminal = False

    # the model --------------------------------------------------------------------------

    def _left(self) -> bool:
        return self.model["attempts"] < self.task.max_attempts

    def _model_allows(self, command: str) -> bool:
        state, outcome = self.model["state"], self.model["outcome"]
        waiting = state in (S.SCHEDULED, S.RESCHEDULED)
        retry = self._left() and (
            state is S.MISSED or (state is S.DONE and outcome is not None and outcome.retryable)
        )
        terminal = not (
            waiting or state is S.IN_PROGRESS or retry or (state is S.MISSED and self._left())
        )
        return {
            "start": waiting,
            "complete": state is S.IN_PROGRESS,
            "miss": waiting or state is S.IN_PROGRESS,
            "reschedule": retry,
            "cancel": waiting or state is S.IN_PROGRESS or (state is S.MISSED and self._left()),
            "assign": not terminal,
            "link": state is S.DONE
            and outcome is Outcome.REACHED_WITH_ISSUE
            and self.model["ticket"] is None,
        }[command]

    def _run(self, command: str, step: timedelta, call: Any, **model: Any) -> None:
        before = self.task
        at = before.updated_at + step
        legal = self._model_allows(command) and step >= timedelta(0)
        if not legal:
            with pytest.raises(InvalidTransitionError) as caught:
                call(before, at)
            assert caught.value.ticket_id == before.id
            assert caught.value.current == before.state.value
            assert caught.value.subject == "revisit task"
            assert self.task == before  # nothing changed
            return
        after = call(before, at)
        assert after.timeline[: len(before.timeline)] == before.timeline
        assert len(after.timeline) == len(before.timeline) + 1
        self.model.update(model)
        self.task = after

    # the commands -----------------------------------------------------------------------

    @rule(agent=_AGENTS, step=_STEP)
    def start(self, agent: str, step: timedelta) -> None:
        self._run("start", step, lambda t, at: t.start(agent, at), state=S.IN_PROGRESS)

    @rule(outcome=revisit_outcomes(), step=_STEP)
    def complete(self, outcome: Outcome, step: timedelta) -> None:
        self._run(
            "complete",
            step,
            lambda t, at: t.complete(outcome, at, agent_id="agt_amy"),
            state=S.DONE,
            attempts=self.model["attempts"] + 1,
            outcome=outcome,
        )

    @rule(step=_STEP)
    def miss(self, step: timedelta) -> None:
        self._run(
            "miss",
            step,
            lambda t, at: t.miss(at),
            state=S.MISSED,
            attempts=self.model["attempts"] + 1,
        )

    @rule(form=st.sampled_from((PHONE, SMS, EMAIL)), step=_STEP, later=st.integers(0, 72))
    def reschedule(self, form: RevisitForm, step: timedelta, later: int) -> None:
        self._run(
            "reschedule",
            step,
            lambda t, at: t.reschedule(at + timedelta(hours=later), form, at),
            state=S.RESCHEDULED,
            outcome=None,
        )

    @rule(reason=st.sampled_from(tuple(CancelReason)), step=_STEP)
    def cancel(self, reason: CancelReason, step: timedelta) -> None:
        self._run("cancel", step, lambda t, at: t.cancel(reason, at), state=S.CANCELLED)

    @rule(agent=_AGENTS, step=_STEP)
    def assign(self, agent: str, step: timedelta) -> None:
        if agent == self.task.assignee_id and not self.task.terminal:
            assert self.task.assign(agent, self.task.updated_at + step) is self.task
            return
        self._run("assign", step, lambda t, at: t.assign(agent, at))

    @rule(step=_STEP)
    def link_ticket(self, step: timedelta) -> None:
        self._run("link", step, lambda t, at: t.link_ticket("tkt_7", at), ticket="tkt_7")

    # the laws ---------------------------------------------------------------------------

    @invariant()
    def state_is_the_fold_of_the_timeline(self) -> None:
        task = self.task
        assert replay(task.timeline, max_attempts=task.max_attempts, forms=task.forms) == task.facts
        assert (task.state, task.attempts, task.outcome, task.ticket_id) == (
            self.model["state"],
            self.model["attempts"],
            self.model["outcome"],
            self.model["ticket"],
        )

    @invariant()
    def attempts_never_exceed_the_maximum(self) -> None:
        assert self.task.attempts <= self.task.max_attempts

    @invariant()
    def terminal_states_stay_terminal(self) -> None:
        if self.was_terminal:
            assert self.task.terminal and self.task.state is self.terminal_state
        elif self.task.terminal:
            self.was_terminal = True
            self.terminal_state = self.task.state


TestTaskLifecycle = TaskLifecycle.TestCase


# -- the next attempt -------------------------------------------------------------------

#: 2026 National Day: 1-7 October off; Saturday 10 October a make-up working day.
CN = BusinessCalendar.weekdays(
    "cn-revisit",
    "Asia/Shanghai",
    "09:00-12:00",
    "13:30-18:00",
    holidays=[Holiday(date(2026, 10, d), "国庆节") for d in range(1, 8)],
    extra_workdays=[ExtraWorkday(date(2026, 10, 10), "国庆节调休", ["09:00-18:00"])],
)
WINDOW = ContactWindow(CN, min_gap=timedelta(days=2))


def _point(channel: str) -> ContactPoint:
    return ContactPoint(
        channel, f"{channel}-address", consent=Consent.GIVEN, consent_changed_at=utc(2026, 1, 1)
    )


def _state(task: RevisitTask, *channels: str, others: tuple[RevisitTask, ...] = ()) -> ContactState:
    customer = Customer(
        id="cus_1",
        display_name="Li Wei",
        timezone="Asia/Shanghai",
        contact_points=tuple(_point(c) for c in channels or ("phone_hotline", "sms")),
    )
    return ContactState.from_tasks(customer, (task, *others))


@attrs.frozen
class Retry:
    max_attempts: int = 3
    backoff_windows: int = 1
    alternate_forms: bool = True


def test_a_missed_call_is_retried_by_sms_on_the_first_open_day_after_the_holiday() -> None:
    missed = scheduled().miss(utc(2026, 9, 30, 10))
    found = next_attempt(missed, Retry(), WINDOW, _state(missed), utc(2026, 9, 30, 10))
    # 1-7 October are off: the first opening after Wednesday 30 September is Thursday
    # 8 October, 09:00 in Shanghai
    assert found == NextAttempt(utc(2026, 10, 8, 1), SMS, "sms")
    retried = missed.reschedule(
        found.due_at, found.form, utc(2026, 9, 30, 10), channel=found.channel
    )
    assert (retried.state, retried.due_at, retried.form) == (
        S.RESCHEDULED,
        utc(2026, 10, 8, 1),
        SMS,
    )


def test_backoff_counts_window_openings_and_make_up_days_count() -> None:
    missed = scheduled().miss(utc(2026, 9, 30, 10))
    found = next_attempt(
        missed, Retry(backoff_windows=3), WINDOW, _state(missed), utc(2026, 9, 30, 10)
    )
    # openings: Thursday 8, Friday 9, then the make-up Saturday 10 October
    assert found == NextAttempt(utc(2026, 10, 10, 1), SMS, "sms")


def test_without_alternate_forms_the_retry_keeps_its_form() -> None:
    missed = scheduled().miss(utc(2026, 9, 30, 10))
    found = next_attempt(missed, Retry(alternate_forms=False), WINDOW, _state(missed), DUE)
    assert found == NextAttempt(utc(2026, 10, 8, 1), PHONE, "phone_hotline")


def test_alternating_skips_a_form_without_consent() -> None:
    missed = scheduled(forms=(PHONE, SMS, EMAIL)).miss(utc(2026, 9, 30, 10))
    found = next_attempt(missed, Retry(), WINDOW, _state(missed, "phone_hotline", "email"), DUE)
    assert found == NextAttempt(utc(2026, 10, 8, 1), EMAIL, "email")


def test_a_completed_unreached_attempt_counts_from_its_completion_day() -> None:
    friday = utc(2026, 9, 25, 7)  # Friday 25 September, 15:00 in Shanghai
    done = scheduled(due_at=friday, nominal_at=friday, at=utc(2026, 9, 1))
    done = done.start("agt_amy", friday).complete(Outcome.VOICEMAIL, friday)
    found = next_attempt(done, Retry(), WINDOW, _state(done), friday)
    assert found == NextAttempt(utc(2026, 9, 28, 1), SMS, "sms")  # Monday 09:00


def test_the_minimum_gap_to_other_tasks_holds_for_retries() -> None:
    missed = scheduled().miss(utc(2026, 9, 30, 10))
    other = scheduled(id="rvt_2", due_at=utc(2026, 10, 8, 6), nominal_at=utc(2026, 10, 8, 6))
    found = next_attempt(missed, Retry(), WINDOW, _state(missed, others=(other,)), DUE)
    # two days after the other task's 14:00: Saturday 10 October 14:00 (a make-up day)
    assert found == NextAttempt(utc(2026, 10, 10, 6), SMS, "sms")


def test_no_next_attempt_without_a_retry_left() -> None:
    refused = scheduled().start("agt_amy", DUE).complete(Outcome.REFUSED, DUE)
    assert next_attempt(refused, Retry(), WINDOW, _state(refused), DUE) is None
    missed = scheduled().miss(DUE)
    assert next_attempt(missed, Retry(max_attempts=1), WINDOW, _state(missed), DUE) is None
    waiting = scheduled()
    assert next_attempt(waiting, Retry(), WINDOW, _state(waiting), DUE) is None
    assert next_attempt(missed, Retry(), WINDOW, _state(missed, "email"), DUE) is None  # no form
