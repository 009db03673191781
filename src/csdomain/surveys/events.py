"""The timeline of a survey invitation: one flat event class, a kind per step.

An :class:`~csdomain.surveys.invitations.Invitation` keeps what happened to it
as :class:`InvitationEvent` values: created, sent, reminded, answered, edited,
expired, voided, suppressed. Like escalation triggers, the event is one class
with a ``kind`` and the fields that kind takes (``channel`` for a send or a
reminder, ``response_id`` for an answer or an edit, ``reason`` for a void or a
suppression), so a timeline is a plain list in JSON (document
``survey_invitation_event``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import to_utc
from csdomain._kernel.validation import (
    Checked,
    checked,
    enum_member,
    identity_unless_str,
    instant,
    key,
    member_of,
    optional,
    text,
)

__all__ = ["InvitationEvent", "InvitationEventKind"]


class InvitationEventKind(Enum):
    """One step in the life of an invitation."""

    CREATED = "created"
    SENT = "sent"
    REMINDED = "reminded"
    ANSWERED = "answered"
    EDITED = "edited"
    EXPIRED = "expired"
    VOIDED = "voided"
    SUPPRESSED = "suppressed"


declare_labels(
    InvitationEventKind,
    {
        InvitationEventKind.CREATED: _mark("survey invitation event", "Invitation created"),
        InvitationEventKind.SENT: _mark("survey invitation event", "Survey sent"),
        InvitationEventKind.REMINDED: _mark("survey invitation event", "Reminder sent"),
        InvitationEventKind.ANSWERED: _mark("survey invitation event", "Survey answered"),
        InvitationEventKind.EDITED: _mark("survey invitation event", "Answer edited"),
        InvitationEventKind.EXPIRED: _mark("survey invitation event", "Invitation expired"),
        InvitationEventKind.VOIDED: _mark("survey invitation event", "Invitation voided"),
        InvitationEventKind.SUPPRESSED: _mark("survey invitation event", "Invitation suppressed"),
    },
)


def _kind(value: InvitationEventKind | str) -> InvitationEventKind:
    return enum_member(InvitationEventKind, value)


identity_unless_str(_kind)

#: The fields each kind takes besides ``kind`` and ``at``; (required, optional).
_TAKES: Final[dict[InvitationEventKind, tuple[frozenset[str], frozenset[str]]]] = {
    InvitationEventKind.CREATED: (frozenset(), frozenset()),
    InvitationEventKind.SENT: (frozenset({"channel"}), frozenset()),
    InvitationEventKind.REMINDED: (frozenset({"channel"}), frozenset()),
    InvitationEventKind.ANSWERED: (frozenset({"response_id"}), frozenset()),
    InvitationEventKind.EDITED: (frozenset({"response_id"}), frozenset()),
    InvitationEventKind.EXPIRED: (frozenset(), frozenset()),
    InvitationEventKind.VOIDED: (frozenset({"reason"}), frozenset()),
    InvitationEventKind.SUPPRESSED: (frozenset({"reason"}), frozenset()),
}
_FIELDS: Final = ("channel", "response_id", "reason")


@attrs.frozen
class InvitationEvent(Checked):
    """What happened to an invitation at ``at`` (see the module documentation).

    >>> from datetime import timezone
    >>> InvitationEvent("sent", datetime(2026, 1, 1, tzinfo=timezone.utc), channel="email").kind
    <InvitationEventKind.SENT: 'sent'>
    >>> InvitationEvent("voided", datetime(2026, 1, 1, tzinfo=timezone.utc))
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid InvitationEvent: reason: a voided event needs reason
    """

    kind: InvitationEventKind = attrs.field(
        converter=_kind, metadata=checked(member_of(InvitationEventKind))
    )
    at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    channel: str | None = attrs.field(default=None, metadata=checked(optional(key("channel key"))))
    response_id: str | None = attrs.field(
        default=None, metadata=checked(optional(key("response id")))
    )
    reason: str | None = attrs.field(default=None, metadata=checked(optional(text(max_length=500))))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        required, optional_fields = _TAKES[self.kind]
        name = self.kind.value
        for field in _FIELDS:
            value = getattr(self, field)
            if field in required and value is None:
                yield field, f"a {name} event needs {field}"
            elif field not in required and field not in optional_fields and value is not None:
                takes = ", ".join(sorted(required | optional_fields)) or "nothing else"
                yield field, f"a {name} event takes no {field} (it takes {takes})"


declare_document("survey_invitation_event", InvitationEvent)
