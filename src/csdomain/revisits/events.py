"""The timeline of a revisit task: one flat event class, a kind per step.

A :class:`~csdomain.revisits.tasks.RevisitTask` keeps every change as a
:class:`TaskEvent`. Like survey invitations' events and escalation triggers,
the event is one class with a ``kind`` and the fields that kind takes, so a
task is a document of plain shape (its timeline a plain list in JSON,
document ``revisit.task_event``) that the generated serializer reads and
writes:

=================  ==========================================  ====================
kind               takes (required)                            takes (optional)
=================  ==========================================  ====================
``scheduled``      ``due_at``, ``form``, ``channel``           ``agent_id``
``started``        ``agent_id``
``completed``      ``outcome``                                 ``note``, ``agent_id``
``missed``         nothing
``rescheduled``    ``due_at``, ``form``, ``channel``,
                   ``attempt``
``cancelled``      ``reason``
``ticket_opened``  ``ticket_id``
``assigned``       ``agent_id``
=================  ==========================================  ====================

Build events with the constructors (:meth:`TaskEvent.scheduled`,
:meth:`TaskEvent.started`, ...); how each one changes the task is in
:mod:`csdomain.revisits.tasks` (the task's state is the fold of its timeline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import optional_utc, to_utc
from csdomain._kernel.validation import (
    Checked,
    checked,
    instant,
    integer,
    key,
    member_of,
    optional,
    text,
)
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm

__all__ = ["ATTEMPTS_MAX", "NOTE_MAX", "TaskEvent", "TaskEventKind"]

#: The longest note an agent may leave on a completed attempt.
NOTE_MAX: Final = 4000

#: The most attempts any retry policy may allow (a bound for checks).
ATTEMPTS_MAX: Final = 100


class TaskEventKind(Enum):
    """One step in the life of a revisit task."""

    SCHEDULED = "scheduled"
    STARTED = "started"
    COMPLETED = "completed"
    MISSED = "missed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    TICKET_OPENED = "ticket_opened"
    ASSIGNED = "assigned"


declare_labels(
    TaskEventKind,
    {
        TaskEventKind.SCHEDULED: _mark("revisit task event", "Revisit scheduled"),
        TaskEventKind.STARTED: _mark("revisit task event", "Revisit started"),
        TaskEventKind.COMPLETED: _mark("revisit task event", "Revisit completed"),
        TaskEventKind.MISSED: _mark("revisit task event", "Revisit missed"),
        TaskEventKind.RESCHEDULED: _mark("revisit task event", "Revisit rescheduled"),
        TaskEventKind.CANCELLED: _mark("revisit task event", "Revisit cancelled"),
        TaskEventKind.TICKET_OPENED: _mark("revisit task event", "Ticket opened from revisit"),
        TaskEventKind.ASSIGNED: _mark("revisit task event", "Revisit assigned"),
    },
)

_K = TaskEventKind

#: The fields each kind takes besides ``kind`` and ``at``: (required, optional).
_TAKES: Final[dict[TaskEventKind, tuple[frozenset[str], frozenset[str]]]] = {
    _K.SCHEDULED: (frozenset({"due_at", "form", "channel"}), frozenset({"agent_id"})),
    _K.STARTED: (frozenset({"agent_id"}), frozenset()),
    _K.COMPLETED: (frozenset({"outcome"}), frozenset({"note", "agent_id"})),
    _K.MISSED: (frozenset(), frozenset()),
    _K.RESCHEDULED: (frozenset({"due_at", "form", "channel", "attempt"}), frozenset()),
    _K.CANCELLED: (frozenset({"reason"}), frozenset()),
    _K.TICKET_OPENED: (frozenset({"ticket_id"}), frozenset()),
    _K.ASSIGNED: (frozenset({"agent_id"}), frozenset()),
}
_FIELDS: Final = (
    "agent_id",
    "outcome",
    "note",
    "due_at",
    "form",
    "channel",
    "attempt",
    "reason",
    "ticket_id",
)
#: Per kind, the fields it does not take: what must be None.
_ABSENT: Final = {
    kind: tuple(f for f in _FIELDS if f not in required | optional_fields)
    for kind, (required, optional_fields) in _TAKES.items()
}
_REQUIRED: Final = {kind: tuple(sorted(required)) for kind, (required, _) in _TAKES.items()}


def _fits(kind: TaskEventKind) -> Callable[[TaskEvent], bool]:
    """A fast test that an event of ``kind`` has exactly the fields it takes (events are
    made on every step of every task: this keeps the common case cheap)."""
    tests = [f"e.{f} is not None" for f in _REQUIRED[kind]]
    tests += [f"e.{f} is None" for f in _ABSENT[kind]]
    if kind is TaskEventKind.RESCHEDULED:
        tests.append("e.due_at >= e.at")
    fits: Callable[[TaskEvent], bool] = eval(
        f"lambda e: {' and '.join(tests) or 'True'}"
    )  # our text
    return fits


#: Per kind value, the fast test of :func:`_fits`.
_FITS: Final = {kind.value: _fits(kind) for kind in TaskEventKind}


@attrs.frozen(kw_only=True)
class TaskEvent(Checked):
    """What happened to a revisit task at ``at`` (see the module documentation).

    >>> from datetime import timezone
    >>> at = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    >>> TaskEvent.started(at, "agent-7").kind
    <TaskEventKind.STARTED: 'started'>
    >>> TaskEvent(kind=TaskEventKind.CANCELLED, at=at)
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid TaskEvent: reason: a cancelled event needs reason
    """

    kind: TaskEventKind = attrs.field(metadata=checked(member_of(TaskEventKind)))
    at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    agent_id: str | None = attrs.field(default=None, metadata=checked(optional(key("agent id"))))
    outcome: Outcome | None = attrs.field(
        default=None, metadata=checked(optional(member_of(Outcome)))
    )
    note: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=NOTE_MAX)))
    )
    due_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(optional(instant))
    )
    form: RevisitForm | None = attrs.field(
        default=None, metadata=checked(optional(member_of(RevisitForm)))
    )
    channel: str | None = attrs.field(default=None, metadata=checked(optional(key("channel key"))))
    attempt: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=2, maximum=ATTEMPTS_MAX)))
    )
    reason: CancelReason | None = attrs.field(
        default=None, metadata=checked(optional(member_of(CancelReason)))
    )
    ticket_id: str | None = attrs.field(default=None, metadata=checked(optional(key("ticket id"))))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if _FITS[self.kind._value_](self):
            return iter(())
        return self._problems()

    def _problems(self) -> Iterator[tuple[str, str]]:
        kind = self.kind
        name = kind.value
        for field in _REQUIRED[kind]:
            if getattr(self, field) is None:
                yield field, f"a {name} event needs {field}"
        for field in _ABSENT[kind]:
            if getattr(self, field) is not None:
                required, optional_fields = _TAKES[kind]
                takes = ", ".join(sorted(required | optional_fields)) or "nothing else"
                yield field, f"a {name} event takes no {field} (it takes {takes})"
        if kind is _K.RESCHEDULED and self.due_at is not None and self.due_at < self.at:
            yield (
                "due_at",
                f"a rescheduled event at {self.at.isoformat()} cannot be due before it, "
                f"got {self.due_at.isoformat()}",
            )

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def scheduled(
        cls,
        at: datetime,
        due_at: datetime,
        form: RevisitForm,
        channel: str,
        agent_id: str | None = None,
    ) -> TaskEvent:
        """The task was created at ``at``, due at ``due_at`` on ``form`` via ``channel``
        (assigned to ``agent_id`` from the start, when given)."""
        return cls(
            kind=_K.SCHEDULED, at=at, due_at=due_at, form=form, channel=channel, agent_id=agent_id
        )

    @classmethod
    def started(cls, at: datetime, agent_id: str) -> TaskEvent:
        """Agent ``agent_id`` started the attempt."""
        return cls(kind=_K.STARTED, at=at, agent_id=agent_id)

    @classmethod
    def completed(
        cls,
        at: datetime,
        outcome: Outcome,
        note: str | None = None,
        agent_id: str | None = None,
    ) -> TaskEvent:
        """The attempt ended with ``outcome`` (an agent's ``note``; ``agent_id`` who did it)."""
        return cls(kind=_K.COMPLETED, at=at, outcome=outcome, note=note, agent_id=agent_id)

    @classmethod
    def missed(cls, at: datetime) -> TaskEvent:
        """The attempt was not made in its window."""
        return cls(kind=_K.MISSED, at=at)

    @classmethod
    def rescheduled(
        cls, at: datetime, due_at: datetime, form: RevisitForm, channel: str, attempt: int
    ) -> TaskEvent:
        """Attempt number ``attempt`` (2 or more) is due at ``due_at`` on ``form`` via
        ``channel``."""
        return cls(
            kind=_K.RESCHEDULED, at=at, due_at=due_at, form=form, channel=channel, attempt=attempt
        )

    @classmethod
    def cancelled(cls, at: datetime, reason: CancelReason) -> TaskEvent:
        """The task was cancelled for ``reason``."""
        return cls(kind=_K.CANCELLED, at=at, reason=reason)

    @classmethod
    def ticket_opened(cls, at: datetime, ticket_id: str) -> TaskEvent:
        """Ticket ``ticket_id`` was opened from the attempt's outcome (reached, with an issue)."""
        return cls(kind=_K.TICKET_OPENED, at=at, ticket_id=ticket_id)

    @classmethod
    def assigned(cls, at: datetime, agent_id: str) -> TaskEvent:
        """The task was given to agent ``agent_id``."""
        return cls(kind=_K.ASSIGNED, at=at, agent_id=agent_id)


declare_document("revisit.task_event", TaskEvent)
