"""The words of revisits (回访): forms, task states, outcomes and cancel reasons.

Every other revisit module speaks these enums; each enum declares its labels
(English msgids, translated by the catalogs) beside itself.

Forms and channels
    :data:`FORM_CHANNELS` maps each :class:`RevisitForm` to the channel keys
    of :mod:`csdomain.channels` it reaches the customer on, in preference
    order. csdomain has no plain ``"wechat"`` channel: WeChat means the
    official account and the mini program, the two places where WeChat's
    customer-service messages (and their 48-hour rule) apply. A
    questionnaire is a link sent on e-mail, SMS or WeChat.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Final

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark

__all__ = [
    "FORM_CHANNELS",
    "CancelReason",
    "Outcome",
    "RevisitForm",
    "TaskState",
]


class RevisitForm(Enum):
    """How a revisit reaches the customer."""

    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    WECHAT = "wechat"
    QUESTIONNAIRE = "questionnaire"


declare_labels(
    RevisitForm,
    {
        RevisitForm.PHONE: _mark("revisit form", "Phone call"),
        RevisitForm.EMAIL: _mark("revisit form", "E-mail"),
        RevisitForm.SMS: _mark("revisit form", "SMS"),
        RevisitForm.WECHAT: _mark("revisit form", "WeChat"),
        RevisitForm.QUESTIONNAIRE: _mark("revisit form", "Online questionnaire"),
    },
)

_WECHAT_CHANNELS: Final = ("wechat_official_account", "wechat_mini_program")

#: The channel keys each form reaches the customer on, in preference order.
FORM_CHANNELS: Final[Mapping[RevisitForm, tuple[str, ...]]] = MappingProxyType(
    {
        RevisitForm.PHONE: ("phone_hotline",),
        RevisitForm.EMAIL: ("email",),
        RevisitForm.SMS: ("sms",),
        RevisitForm.WECHAT: _WECHAT_CHANNELS,
        RevisitForm.QUESTIONNAIRE: ("email", "sms", *_WECHAT_CHANNELS),
    }
)


class TaskState(Enum):
    """Where a revisit task is in its lifecycle (see :mod:`csdomain.revisits.tasks`)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    MISSED = "missed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


declare_labels(
    TaskState,
    {
        TaskState.SCHEDULED: _mark("revisit task state", "Scheduled"),
        TaskState.IN_PROGRESS: _mark("revisit task state", "In progress"),
        TaskState.DONE: _mark("revisit task state", "Done"),
        TaskState.MISSED: _mark("revisit task state", "Missed"),
        TaskState.RESCHEDULED: _mark("revisit task state", "Rescheduled"),
        TaskState.CANCELLED: _mark("revisit task state", "Cancelled"),
    },
)


class Outcome(Enum):
    """What a revisit attempt came to."""

    REACHED_SATISFIED = "reached_satisfied"
    REACHED_WITH_ISSUE = "reached_with_issue"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"

    @property
    def reached(self) -> bool:
        """Whether the customer was reached (satisfied or with an issue)."""
        return self in _REACHED

    @property
    def retryable(self) -> bool:
        """Whether another attempt may follow (no answer, busy, voicemail)."""
        return self in _RETRYABLE


_REACHED: Final = frozenset({Outcome.REACHED_SATISFIED, Outcome.REACHED_WITH_ISSUE})
_RETRYABLE: Final = frozenset({Outcome.NO_ANSWER, Outcome.BUSY, Outcome.VOICEMAIL})

declare_labels(
    Outcome,
    {
        Outcome.REACHED_SATISFIED: _mark("revisit outcome", "Reached, satisfied"),
        Outcome.REACHED_WITH_ISSUE: _mark("revisit outcome", "Reached, with an issue"),
        Outcome.NO_ANSWER: _mark("revisit outcome", "No answer"),
        Outcome.BUSY: _mark("revisit outcome", "Busy"),
        Outcome.VOICEMAIL: _mark("revisit outcome", "Voicemail"),
        Outcome.REFUSED: _mark("revisit outcome", "Refused"),
        Outcome.WRONG_NUMBER: _mark("revisit outcome", "Wrong number"),
    },
)


class CancelReason(Enum):
    """Why a revisit task was cancelled."""

    ERASED = "erased"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    TICKET_REOPENED = "ticket_reopened"
    PLAN_CHANGED = "plan_changed"
    BY_AGENT = "by_agent"


declare_labels(
    CancelReason,
    {
        CancelReason.ERASED: _mark("revisit cancel reason", "Customer erased"),
        CancelReason.CONSENT_WITHDRAWN: _mark("revisit cancel reason", "Consent withdrawn"),
        CancelReason.TICKET_REOPENED: _mark("revisit cancel reason", "Ticket reopened"),
        CancelReason.PLAN_CHANGED: _mark("revisit cancel reason", "Plan changed"),
        CancelReason.BY_AGENT: _mark("revisit cancel reason", "Cancelled by an agent"),
    },
)
