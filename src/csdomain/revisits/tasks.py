"""Revisit tasks: one planned contact with one customer, and its lifecycle.

A :class:`RevisitTask` is an aggregate with its own timeline of
:class:`~csdomain.revisits.events.TaskEvent` values. Its state fields
(``state``, ``attempts``, ``outcome``, ``ticket_id``, ``cancel_reason``,
``assignee_id``, ``due_at``, ``form``, ``channel``) are exactly what folding
the timeline gives (:func:`replay`); a task whose fields disagree with its
timeline is refused at construction, so a stored document cannot lie.

Lifecycle::

    scheduled --start--> in_progress --complete--> done (with an outcome)
        |                    |
        +------miss----------+--> missed --reschedule--> rescheduled (a new attempt,
        |                    |                            behaves like scheduled)
        +------cancel--------+--> cancelled
    done with a retryable outcome (no answer, busy, voicemail) --reschedule--> rescheduled

Attempts
    ``attempts`` counts the attempts that ended, completed or missed; a new
    task has none. A task may be rescheduled only while ``attempts <
    max_attempts`` (copied from the rule's retry policy when scheduled), so
    ``attempts`` never exceeds ``max_attempts``. A rescheduled event names the
    attempt it schedules (``attempts + 1``).

Terminal
    A task is :attr:`~RevisitTask.terminal` when no state change is left: it
    is cancelled, done (unless its outcome is retryable and attempts remain),
    or missed with its attempts exhausted. A missed task with attempts left
    may still be rescheduled or cancelled. A done task whose outcome is
    "reached, with an issue" still takes :meth:`~RevisitTask.link_ticket`
    once (its state does not change).

Every step is a method returning a new task; a step the task does not allow
raises :class:`~csdomain.errors.InvalidTransitionError` (subject ``"revisit
task"``) naming the task, its state and the states it allows, and changes
nothing. Events must come in time order: a step dated before the task's last
change is refused the same way.

:func:`next_attempt` says where the next attempt of a missed (or unreached)
task lands under a retry policy, through
:func:`~csdomain.revisits.placement.place`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final, NamedTuple, Protocol

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.time import ensure_aware, to_utc, zone
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    identity_when,
    instant,
    integer,
    key,
    member_of,
    optional,
    text,
    tuple_of,
)
from csdomain.errors import InvalidTransitionError, NotFoundError, ValidationError
from csdomain.people import Role
from csdomain.revisits.events import ATTEMPTS_MAX, TaskEvent, TaskEventKind
from csdomain.revisits.placement import ContactState, ContactWindow, Refusal, place
from csdomain.revisits.vocabulary import (
    FORM_CHANNELS,
    CancelReason,
    Outcome,
    RevisitForm,
    TaskState,
)

__all__ = [
    "NextAttempt",
    "RetryLike",
    "RevisitTask",
    "TaskFacts",
    "next_attempt",
    "replay",
]

#: The longest purpose and script a task keeps.
PURPOSE_MAX: Final = 1000
SCRIPT_MAX: Final = 20_000

_S = TaskState
_K = TaskEventKind
SUBJECT: Final = "revisit task"

#: Where each kind of event moves the task (kinds not listed change no state).
_MOVES: Final = {
    _K.STARTED: _S.IN_PROGRESS,
    _K.COMPLETED: _S.DONE,
    _K.MISSED: _S.MISSED,
    _K.RESCHEDULED: _S.RESCHEDULED,
    _K.CANCELLED: _S.CANCELLED,
}
_WAITING: Final = frozenset({_S.SCHEDULED, _S.RESCHEDULED})


class TaskFacts(NamedTuple):
    """The state fields of a task, as a fold of its timeline gives them."""

    state: TaskState
    attempts: int
    outcome: Outcome | None
    ticket_id: str | None
    cancel_reason: CancelReason | None
    assignee_id: str | None
    due_at: datetime
    form: RevisitForm
    channel: str


def _targets(facts: TaskFacts, max_attempts: int) -> frozenset[TaskState]:
    """The states a task in ``facts`` may move to."""
    state = facts.state
    if state is _S.SCHEDULED or state is _S.RESCHEDULED:
        return _FROM_WAITING
    if state is _S.IN_PROGRESS:
        return _FROM_IN_PROGRESS
    left = facts.attempts < max_attempts
    if state is _S.MISSED:
        return _FROM_MISSED if left else _NOWHERE
    if state is _S.DONE and left and facts.outcome is not None and facts.outcome.retryable:
        return _RETRY
    return _NOWHERE


#: FORM_CHANNELS by form value (a str key: cheaper to look up than an enum member).
_CHANNELS: Final = {form.value: channels for form, channels in FORM_CHANNELS.items()}

_FROM_WAITING: Final = frozenset({_S.IN_PROGRESS, _S.MISSED, _S.CANCELLED})
_FROM_IN_PROGRESS: Final = frozenset({_S.DONE, _S.MISSED, _S.CANCELLED})
_FROM_MISSED: Final = frozenset({_S.RESCHEDULED, _S.CANCELLED})
_RETRY: Final = frozenset({_S.RESCHEDULED})
_NOWHERE: Final[frozenset[TaskState]] = frozenset()


def _refusal(
    task_id: str,
    facts: TaskFacts,
    max_attempts: int,
    attempted: str,
    detail: str | None = None,
) -> InvalidTransitionError:
    allowed = [s.value for s in _targets(facts, max_attempts)]
    return InvalidTransitionError(
        task_id, facts.state.value, attempted, allowed, detail, subject=SUBJECT
    )


def _final_detail(facts: TaskFacts, max_attempts: int) -> str:
    state = facts.state
    if state is _S.CANCELLED:
        return "a cancelled task is final"
    if state is _S.MISSED:
        return f"all {max_attempts} attempts are used ({facts.attempts} made); it is final"
    if facts.outcome is not None and facts.outcome.retryable:
        return f"all {max_attempts} attempts are used ({facts.attempts} made); it is final"
    shown = "none" if facts.outcome is None else facts.outcome.value
    return f"it is done with outcome {shown}, which takes no further attempt; it is final"


def _step(
    task_id: str,
    facts: TaskFacts | None,
    event: TaskEvent,
    max_attempts: int,
    forms: tuple[RevisitForm, ...],
) -> TaskFacts:
    """``facts`` after ``event``; ``InvalidTransitionError`` when the task does not take it.

    The one place that says what each event does: the task's methods and
    :func:`replay` both go through it, so they cannot disagree.
    """
    kind = event.kind
    if facts is None:
        if kind is not _K.SCHEDULED:
            raise InvalidTransitionError(
                task_id,
                "none",
                f"record a {kind.value} event",
                detail="a task's timeline starts with its scheduled event",
                subject=SUBJECT,
            )
        assert event.due_at is not None and event.form is not None and event.channel is not None
        return TaskFacts(
            _S.SCHEDULED,
            0,
            None,
            None,
            None,
            event.agent_id,
            event.due_at,
            event.form,
            event.channel,
        )
    if kind is _K.SCHEDULED:
        raise _refusal(
            task_id, facts, max_attempts, "record a scheduled event", "it is already scheduled"
        )
    target = _MOVES.get(kind)
    if target is not None:
        if target not in _targets(facts, max_attempts):
            raise _refusal(task_id, facts, max_attempts, target.value)
        if kind is _K.STARTED:
            return facts._replace(state=target, assignee_id=event.agent_id)
        if kind is _K.COMPLETED:
            return facts._replace(state=target, attempts=facts.attempts + 1, outcome=event.outcome)
        if kind is _K.MISSED:
            return facts._replace(state=target, attempts=facts.attempts + 1)
        if kind is _K.CANCELLED:
            return facts._replace(state=target, cancel_reason=event.reason)
        # rescheduled: the next attempt, on one of the task's forms
        assert event.due_at is not None and event.form is not None and event.channel is not None
        if event.attempt != facts.attempts + 1:
            raise _refusal(
                task_id,
                facts,
                max_attempts,
                f"schedule attempt {event.attempt}",
                f"{facts.attempts} attempts were made, so the next is attempt {facts.attempts + 1}",
            )
        _check_form(task_id, facts, max_attempts, event.form, event.channel, forms)
        return facts._replace(
            state=target,
            outcome=None,
            due_at=event.due_at,
            form=event.form,
            channel=event.channel,
        )
    if kind is _K.ASSIGNED:
        if not _targets(facts, max_attempts):
            raise _refusal(
                task_id,
                facts,
                max_attempts,
                f"assign it to agent {event.agent_id}",
                _final_detail(facts, max_attempts),
            )
        return facts._replace(assignee_id=event.agent_id)
    # ticket opened: once, from an attempt that reached the customer with an issue
    if facts.state is not _S.DONE or facts.outcome is not Outcome.REACHED_WITH_ISSUE:
        shown = "none" if facts.outcome is None else facts.outcome.value
        raise _refusal(
            task_id,
            facts,
            max_attempts,
            f"link ticket {event.ticket_id}",
            f"only a task done with outcome reached_with_issue opens a ticket "
            f"(its outcome: {shown})",
        )
    if facts.ticket_id is not None:
        raise _refusal(
            task_id,
            facts,
            max_attempts,
            f"link ticket {event.ticket_id}",
            f"ticket {facts.ticket_id} is already linked",
        )
    return facts._replace(ticket_id=event.ticket_id)


def _check_form(
    task_id: str,
    facts: TaskFacts,
    max_attempts: int,
    form: RevisitForm,
    channel: str,
    forms: tuple[RevisitForm, ...],
) -> None:
    if form not in forms:
        raise _refusal(
            task_id,
            facts,
            max_attempts,
            f"reschedule it on form {form.value}",
            f"its rule's forms are {', '.join(f.value for f in forms)}",
        )
    if channel not in FORM_CHANNELS[form]:
        raise _refusal(
            task_id,
            facts,
            max_attempts,
            f"reschedule it on channel {channel}",
            f"form {form.value} uses the channels {', '.join(FORM_CHANNELS[form])}",
        )


def replay(
    timeline: Iterable[TaskEvent],
    *,
    max_attempts: int,
    forms: tuple[RevisitForm, ...],
    task_id: str = "(unnamed)",
) -> TaskFacts:
    """The state fields the ``timeline`` of a task gives (the fold of its events).

    ``InvalidTransitionError`` when an event is one the task could not take
    then (``task_id`` names the task in the message); ``ValidationError`` when
    the timeline is empty.
    """
    facts: TaskFacts | None = None
    for event in timeline:
        facts = _step(task_id, facts, event, max_attempts, forms)
    if facts is None:
        raise ValidationError.single(
            f"revisit task {task_id}", "timeline", "a timeline holds at least its scheduled event"
        )
    return facts


# -- field helpers --------------------------------------------------------------------


def _events(value: Iterable[TaskEvent]) -> tuple[TaskEvent, ...]:
    return tuple_of(value)


def _forms(value: Iterable[RevisitForm]) -> tuple[RevisitForm, ...]:
    return tuple_of(value)


identity_when(_events, "type({v}) is {tuple}", tuple=tuple)
identity_when(_forms, "type({v}) is {tuple}", tuple=tuple)


def _timeline_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", f"expected at least one TaskEvent, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if type(item) is not TaskEvent:
            yield f"[{i}]", f"expected a TaskEvent, got {describe(item)}"


def _timeline_ok(value: object) -> bool:
    if type(value) is not tuple or not value:
        return False
    return all(type(event) is TaskEvent for event in value)


_TIMELINE: Final = Check(_timeline_ok, _timeline_explain)


def _forms_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", f"expected at least one RevisitForm, got {describe(value)}"
        return
    seen: dict[object, int] = {}
    for i, item in enumerate(value):
        if type(item) is not RevisitForm:
            allowed = ", ".join(repr(f.value) for f in RevisitForm)
            yield f"[{i}]", f"expected a RevisitForm ({allowed}), got {describe(item)}"
        elif item in seen:
            yield f"[{i}]", f"form {item.value!r} is listed twice (also at [{seen[item]}])"
        else:
            seen[item] = i


def _forms_ok(value: object) -> bool:
    if type(value) is not tuple or not value:
        return False
    for form in value:
        if type(form) is not RevisitForm:
            return False
    return len(value) == 1 or len({form._value_ for form in value}) == len(value)


_FORMS: Final = Check(_forms_ok, _forms_explain)

_maybe_key = optional(key("id"))


@attrs.frozen(kw_only=True)
class RevisitTask(Checked):
    """One planned revisit of one customer (see the module documentation).

    ``id`` is the deterministic task key; ``plan``, ``plan_version``, ``rule``
    and ``rule_fingerprint`` say which rule of which plan version made it;
    ``purpose``, ``script`` and ``questionnaire`` what to do; ``group_id`` and
    ``role`` who should; ``nominal_at`` the instant the rule asked for and
    ``due_at`` where it landed (each attempt's own); ``forms`` the rule's forms
    in preference order (retries may alternate between them), ``form`` and
    ``channel`` the current attempt's; ``cause`` the ticket, order or response
    id that triggered it (None for recurring tasks); ``max_attempts`` the retry
    policy's bound. Create one with :meth:`schedule`.

    >>> from datetime import timezone
    >>> at = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    >>> task = RevisitTask.schedule(
    ...     id="rvt_1", plan="vip", rule="monthly", customer_id="cus_1",
    ...     purpose="Monthly check-in", nominal_at=at, due_at=at,
    ...     form=RevisitForm.PHONE, channel="phone_hotline", at=at,
    ... )
    >>> task.start("agent-7", at).complete(Outcome.NO_ANSWER, at).state
    <TaskState.DONE: 'done'>
    >>> task.complete(Outcome.NO_ANSWER, at)
    Traceback (most recent call last):
    ...
    csdomain.errors.InvalidTransitionError: cannot move revisit task rvt_1 from scheduled to done; allowed: cancelled, in_progress, missed
    """  # noqa: E501

    id: str = attrs.field(metadata=checked(key("task key")))
    plan: str = attrs.field(metadata=checked(key("plan name")))
    plan_version: int = attrs.field(
        default=1, metadata=checked(integer(minimum=1, maximum=1_000_000_000))
    )
    rule: str = attrs.field(metadata=checked(key("rule name")))
    rule_fingerprint: str = attrs.field(
        default="", metadata=checked(text(max_length=200, allow_empty=True))
    )
    customer_id: str = attrs.field(metadata=checked(key("customer id")))
    purpose: str = attrs.field(metadata=checked(text(max_length=PURPOSE_MAX)))
    script: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=SCRIPT_MAX)))
    )
    questionnaire: str | None = attrs.field(
        default=None, metadata=checked(optional(key("questionnaire id")))
    )
    group_id: str | None = attrs.field(default=None, metadata=checked(optional(key("group id"))))
    role: Role | None = attrs.field(default=None, metadata=checked(optional(member_of(Role))))
    nominal_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    forms: tuple[RevisitForm, ...] = attrs.field(converter=_forms, metadata=checked(_FORMS))
    max_attempts: int = attrs.field(
        default=3, metadata=checked(integer(minimum=1, maximum=ATTEMPTS_MAX))
    )
    cause: str | None = attrs.field(default=None, metadata=checked(optional(key("cause id"))))
    state: TaskState = attrs.field(metadata=checked(member_of(TaskState)))
    attempts: int = attrs.field(
        default=0, metadata=checked(integer(minimum=0, maximum=ATTEMPTS_MAX))
    )
    outcome: Outcome | None = attrs.field(
        default=None, metadata=checked(optional(member_of(Outcome)))
    )
    ticket_id: str | None = attrs.field(default=None, metadata=checked(optional(key("ticket id"))))
    cancel_reason: CancelReason | None = attrs.field(
        default=None, metadata=checked(optional(member_of(CancelReason)))
    )
    assignee_id: str | None = attrs.field(default=None, metadata=checked(optional(key("agent id"))))
    due_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    form: RevisitForm = attrs.field(metadata=checked(member_of(RevisitForm)))
    channel: str = attrs.field(metadata=checked(key("channel key")))
    timeline: tuple[TaskEvent, ...] = attrs.field(converter=_events, metadata=checked(_TIMELINE))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if len(self.timeline) == 1 and self._fresh():
            return iter(())
        return self._problems()

    def _fresh(self) -> bool:
        """True for a just-scheduled task that agrees with its one event (the common
        case, checked without a replay: :meth:`schedule` runs in bulk)."""
        event = self.timeline[0]
        form = self.form
        return (
            event.kind is _K.SCHEDULED
            and self.state is _S.SCHEDULED
            and self.attempts == 0
            and self.outcome is None
            and self.ticket_id is None
            and self.cancel_reason is None
            and self.assignee_id == event.agent_id
            and self.due_at == event.due_at
            and form is event.form
            and self.channel == event.channel
            and form in self.forms
            and self.channel in _CHANNELS[form._value_]
        )

    def _problems(self) -> Iterator[tuple[str, str]]:
        who = f"revisit task {self.id}"
        if self.form not in self.forms:
            yield "form", f"{who}: form {self.form.value!r} is not one of its forms"
            return
        if self.channel not in FORM_CHANNELS[self.form]:
            yield (
                "channel",
                f"{who}: channel {self.channel!r} is not one of form {self.form.value!r}'s "
                f"channels ({', '.join(FORM_CHANNELS[self.form])})",
            )
            return
        if self.attempts > self.max_attempts:
            yield (
                "attempts",
                f"{who}: {self.attempts} attempts exceed its max_attempts {self.max_attempts}",
            )
            return
        timeline = self.timeline
        for i in range(1, len(timeline)):
            if timeline[i].at < timeline[i - 1].at:
                yield f"timeline[{i}]", f"{who}: events must be in time order"
                return
        try:
            facts = replay(
                timeline, max_attempts=self.max_attempts, forms=self.forms, task_id=self.id
            )
        except InvalidTransitionError as error:
            yield "timeline", f"{who}: the timeline does not replay: {error}"
            return
        if facts != self.facts:
            wrong = [
                f"{name} is {getattr(self, name)!r}, the timeline says {value!r}"
                for name, value in facts._asdict().items()
                if getattr(self, name) != value
            ]
            yield "timeline", f"{who}: fields disagree with the timeline: {'; '.join(wrong)}"

    # -- reading ---------------------------------------------------------------------

    @property
    def facts(self) -> TaskFacts:
        """The task's state fields."""
        return TaskFacts(
            self.state,
            self.attempts,
            self.outcome,
            self.ticket_id,
            self.cancel_reason,
            self.assignee_id,
            self.due_at,
            self.form,
            self.channel,
        )

    @property
    def created_at(self) -> datetime:
        """When the task was scheduled (its first event)."""
        return self.timeline[0].at

    @property
    def updated_at(self) -> datetime:
        """When the task last changed (its last event)."""
        return self.timeline[-1].at

    @property
    def allowed(self) -> frozenset[TaskState]:
        """The states the task may move to now."""
        return _targets(self.facts, self.max_attempts)

    @property
    def terminal(self) -> bool:
        """True when no state change is left (see the module documentation)."""
        return not _targets(self.facts, self.max_attempts)

    @property
    def waiting(self) -> bool:
        """True while an attempt waits to be started (scheduled or rescheduled)."""
        return self.state in _WAITING

    @property
    def live(self) -> bool:
        """True for a task that is to reach, reaching or has reached the customer
        (scheduled, in progress, done, rescheduled): what counts for the gap and for
        rate limits (:data:`csdomain.revisits.placement.LIVE_STATES`)."""
        return self.state in _LIVE

    @property
    def can_retry(self) -> bool:
        """True when the task may be rescheduled: missed, or done with a retryable
        outcome, and attempts left."""
        return _S.RESCHEDULED in _targets(self.facts, self.max_attempts)

    def overdue(self, now: datetime) -> bool:
        """True when the task waits to be started and its due instant is before ``now``."""
        return self.state in _WAITING and self.due_at < to_utc(now)

    # -- creating --------------------------------------------------------------------

    @classmethod
    def schedule(
        cls,
        *,
        id: str,
        plan: str,
        rule: str,
        customer_id: str,
        purpose: str,
        nominal_at: datetime,
        due_at: datetime,
        form: RevisitForm,
        channel: str,
        at: datetime,
        forms: Sequence[RevisitForm] | None = None,
        plan_version: int = 1,
        rule_fingerprint: str = "",
        max_attempts: int = 3,
        script: str | None = None,
        questionnaire: str | None = None,
        group_id: str | None = None,
        role: Role | None = None,
        assignee_id: str | None = None,
        cause: str | None = None,
    ) -> RevisitTask:
        """A new task, scheduled at ``at``, due at ``due_at`` on ``form`` via ``channel``.

        ``forms`` are the rule's forms in preference order (default: ``form``
        alone); ``max_attempts`` the rule's retry policy's bound. Bad values are a
        ``ValidationError`` listing each.
        """
        event = TaskEvent.scheduled(at, due_at, form, channel, assignee_id)
        return cls(
            id=id,
            plan=plan,
            plan_version=plan_version,
            rule=rule,
            rule_fingerprint=rule_fingerprint,
            customer_id=customer_id,
            purpose=purpose,
            script=script,
            questionnaire=questionnaire,
            group_id=group_id,
            role=role,
            nominal_at=nominal_at,
            forms=(form,) if forms is None else tuple(forms),
            max_attempts=max_attempts,
            cause=cause,
            state=_S.SCHEDULED,
            assignee_id=assignee_id,
            due_at=event.due_at,  # type: ignore[arg-type]  # a scheduled event has one
            form=form,
            channel=channel,
            timeline=(event,),
        )

    # -- steps -----------------------------------------------------------------------

    def apply(self, event: TaskEvent) -> RevisitTask:
        """This task with ``event`` appended and applied (what every step does).

        ``InvalidTransitionError`` when the task does not take the event now, or
        when the event is dated before the task's last change.
        """
        if type(event) is not TaskEvent:
            raise ValidationError.single(
                f"revisit task {self.id}", "event", f"expected a TaskEvent, got {describe(event)}"
            )
        facts = self.facts
        last = self.timeline[-1].at
        if event.at < last:
            raise _refusal(
                self.id,
                facts,
                self.max_attempts,
                f"record a {event.kind.value} event at {event.at.isoformat()}",
                f"its last change was at {last.isoformat()}; events come in time order",
            )
        after = _step(self.id, facts, event, self.max_attempts, self.forms)
        return attrs.evolve(self, timeline=(*self.timeline, event), **after._asdict())

    def start(self, agent_id: str, at: datetime) -> RevisitTask:
        """Agent ``agent_id`` starts the waiting attempt at ``at`` (and becomes the assignee)."""
        return self.apply(TaskEvent.started(at, agent_id))

    def complete(
        self,
        outcome: Outcome,
        at: datetime,
        note: str | None = None,
        agent_id: str | None = None,
    ) -> RevisitTask:
        """The attempt in progress ended at ``at`` with ``outcome`` (one attempt more)."""
        return self.apply(TaskEvent.completed(at, outcome, note, agent_id))

    def miss(self, at: datetime) -> RevisitTask:
        """The attempt was not made (or not finished) in its window (one attempt more)."""
        return self.apply(TaskEvent.missed(at))

    def reschedule(
        self,
        due_at: datetime,
        form: RevisitForm,
        at: datetime,
        *,
        channel: str | None = None,
    ) -> RevisitTask:
        """The next attempt, due at ``due_at`` on ``form`` via ``channel``.

        Without ``channel``: the task's channel when ``form`` is its form, else the
        form's first channel. See :func:`next_attempt` for where it should land.
        """
        if not self.can_retry:  # refused as a move before the event is even built
            raise _refusal(self.id, self.facts, self.max_attempts, _S.RESCHEDULED.value)
        if channel is None:
            channels = FORM_CHANNELS.get(form)  # not a form: the event's check says so
            channel = self.channel if form is self.form else channels[0] if channels else None
        return self.apply(
            TaskEvent.rescheduled(at, due_at, form, channel, self.attempts + 1)  # type: ignore[arg-type]
        )

    def cancel(self, reason: CancelReason, at: datetime) -> RevisitTask:
        """The task will not happen, for ``reason``."""
        return self.apply(TaskEvent.cancelled(at, reason))

    def assign(self, agent_id: str, at: datetime) -> RevisitTask:
        """The task given to agent ``agent_id``; unchanged when it already is theirs."""
        if agent_id == self.assignee_id and not self.terminal:
            return self
        return self.apply(TaskEvent.assigned(at, agent_id))

    def link_ticket(self, ticket_id: str, at: datetime) -> RevisitTask:
        """Ticket ``ticket_id``, opened from this done task's outcome (reached, with an
        issue), linked to it; once."""
        return self.apply(TaskEvent.ticket_opened(at, ticket_id))


_LIVE: Final = frozenset({_S.SCHEDULED, _S.IN_PROGRESS, _S.DONE, _S.RESCHEDULED})

declare_document("revisit_task", RevisitTask)


# -- the next attempt -----------------------------------------------------------------


class RetryLike(Protocol):
    """What :func:`next_attempt` reads of a retry policy
    (:class:`csdomain.revisits.plans.RetryPolicy` has it)."""

    @property
    def max_attempts(self) -> int:
        """At most this many attempts."""

    @property
    def backoff_windows(self) -> int:
        """The next attempt lands this many window openings after the attempt's day."""

    @property
    def alternate_forms(self) -> bool:
        """Whether the next attempt moves to the next allowed form."""


class NextAttempt(NamedTuple):
    """Where the next attempt of a task lands: its instant, form and channel."""

    due_at: datetime
    form: RevisitForm
    channel: str


#: How far past the earliest instant :func:`next_attempt` looks for a place.
RETRY_HORIZON: Final = timedelta(days=90)


def _attempt_day(task: RevisitTask, timezone: str) -> date:
    """The local day of the attempt that ended: the day a completed attempt was
    completed on, or the day a missed one was due on."""
    if task.state is _S.DONE:
        for event in reversed(task.timeline):
            if event.kind is _K.COMPLETED:
                return event.at.astimezone(zone(timezone)).date()
    return task.due_at.astimezone(zone(timezone)).date()


def _day_start(day: date, timezone: str) -> datetime:
    return to_utc(datetime.combine(day, time(0), tzinfo=zone(timezone)))


def _rotated(forms: tuple[RevisitForm, ...], current: RevisitForm) -> tuple[RevisitForm, ...]:
    """``forms`` starting after ``current`` and wrapping round to it (the next form first)."""
    if current not in forms:
        return forms
    i = forms.index(current) + 1
    return forms[i:] + forms[:i]


def next_attempt(
    task: RevisitTask,
    retry: RetryLike,
    window: ContactWindow,
    state: ContactState,
    at: datetime,
    *,
    horizon: timedelta = RETRY_HORIZON,
) -> NextAttempt | None:
    """Where the next attempt of ``task`` lands under ``retry``, or None when there is none.

    None unless the task can be retried (missed, or done with a retryable
    outcome) with fewer than ``retry.max_attempts`` (and the task's own
    ``max_attempts``) attempts made. Otherwise the earliest instant is the
    ``retry.backoff_windows``-th opening of the customer's window after the
    attempt's local day (the day a completed attempt ended, or the day a missed
    one was due; one opening per open day), and not before ``at`` (with no
    backoff, ``at`` itself). From there
    :func:`~csdomain.revisits.placement.place` finds the instant, on the forms
    of the task starting with the one after its current form when
    ``retry.alternate_forms`` (else on its current form only), with the task
    itself set aside from ``state``, up to ``horizon`` later. None when placing
    is refused.
    """
    at = ensure_aware(at, "next_attempt", "at")
    if not task.can_retry or task.attempts >= retry.max_attempts:
        return None
    timezone = state.customer.timezone
    calendar = window.calendar_for(timezone)
    day = _attempt_day(task, timezone)
    earliest = at  # no backoff: as soon as the window allows
    for _ in range(retry.backoff_windows):
        try:
            opening = calendar.next_open(_day_start(day + timedelta(days=1), timezone))
        except NotFoundError:
            return None
        day = opening.astimezone(zone(timezone)).date()
        earliest = opening if opening > at else at
    forms = _rotated(task.forms, task.form) if retry.alternate_forms else (task.form,)
    placed = place(
        earliest,
        forms=forms,
        window=window,
        state=state.without(task.id),
        horizon_end=earliest + horizon,
    )
    if isinstance(placed, Refusal):
        return None
    return NextAttempt(placed.at, placed.form, placed.channel)
