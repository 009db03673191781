"""Revisits (回访): plans by customer class and purchases, follow-ups after complaints.

A :class:`RevisitPlan` holds ordered :class:`RevisitRule` values: which customers
(a condition over the customer and their :class:`CustomerHistory`), when (an RFC
5545 :class:`Recurrence`, or a :class:`Trigger`: a complaint solved, a purchase, a
low survey score, a birthday), how (:class:`RevisitForm` values in order of
preference, each kept only where the customer consents), what for and by whom.
:func:`materialize` turns a plan into :class:`RevisitTask` values with deterministic
keys (running it twice equals running it once); :func:`place` lands each task
inside the customer's :class:`ContactWindow` (a calendar read in the customer's own
zone, minus quiet hours), on a consented channel, within rate limits and at least
the window's minimum gap from the customer's other tasks. A task's timeline of
:class:`TaskEvent` values is its history: scheduled, started, done with an
:class:`Outcome`, missed and rescheduled by the rule's :class:`RetryPolicy`, or
cancelled. :class:`RevisitFigures` sums completion and reach rates. An
:class:`AgendaEntry` is a task as an agenda lists it, read from the stored columns.

Everything here is pure; :class:`csdomain.helpdesk.RevisitDesk` stores tasks in the
:data:`REVISIT_TASKS` collection and ties them to the HelpDesk. See
``docs/revisits.md``.
"""

from __future__ import annotations

from csdomain.revisits.agenda import AGENDA_COLUMNS, AgendaEntry
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.events import TaskEvent, TaskEventKind
from csdomain.revisits.fields import REVISIT_FIELDS
from csdomain.revisits.history import CustomerHistory
from csdomain.revisits.materialize import (
    MaterializePlan,
    materialize,
    replacement_key,
    task_key,
    trigger_task,
)
from csdomain.revisits.placement import (
    LIVE_STATES,
    WECHAT_48H,
    ContactState,
    ContactWindow,
    LiveTask,
    Placement,
    RateLimit,
    Refusal,
    RefusalReason,
    allowed_forms,
    place,
)
from csdomain.revisits.plans import (
    Anchor,
    RetryPolicy,
    RevisitPlan,
    RevisitRule,
    Trigger,
    TriggerKind,
)
from csdomain.revisits.recurrence import Recurrence
from csdomain.revisits.tasks import NextAttempt, RevisitTask, next_attempt
from csdomain.revisits.tracking import Rate, RevisitFigures, RevisitFiguresResult
from csdomain.revisits.vocabulary import (
    FORM_CHANNELS,
    CancelReason,
    Outcome,
    RevisitForm,
    TaskState,
)

__all__ = [
    "AGENDA_COLUMNS",
    "FORM_CHANNELS",
    "LIVE_STATES",
    "REVISIT_FIELDS",
    "REVISIT_TASKS",
    "WECHAT_48H",
    "AgendaEntry",
    "Anchor",
    "CancelReason",
    "ContactState",
    "ContactWindow",
    "CustomerHistory",
    "LiveTask",
    "MaterializePlan",
    "NextAttempt",
    "Outcome",
    "Placement",
    "Rate",
    "RateLimit",
    "Recurrence",
    "Refusal",
    "RefusalReason",
    "RetryPolicy",
    "RevisitFigures",
    "RevisitFiguresResult",
    "RevisitForm",
    "RevisitPlan",
    "RevisitRule",
    "RevisitTask",
    "TaskEvent",
    "TaskEventKind",
    "TaskState",
    "Trigger",
    "TriggerKind",
    "allowed_forms",
    "materialize",
    "next_attempt",
    "place",
    "replacement_key",
    "task_key",
    "trigger_task",
]
