"""Survey invitations: the aggregate that follows one survey from creation to its end.

An :class:`Invitation` is created ``pending`` (waiting for ``send_at``) or
``suppressed`` (throttled, or no channel the customer consents to: kept for the
record). Its life::

    pending --send--> sent --remind--> reminded
       |                |                 |
       |                +-----answer------+--> answered --edit--> answered (edits + 1)
       |                |                 |
       +----------------+---expire--------+--> expired
       +----------------+---void----------+--> voided       (a reopen, per the policy)
       +---suppress--> suppressed

Answered, expired, voided and suppressed are final (an answered invitation only
takes edits, within the policy's edit window). Every method returns a new
value; a step the state does not allow raises
:class:`~csdomain.errors.InvalidTransitionError` naming the invitation.

``token_hashes`` keeps the SHA-256 digest of each token sent (one per send and
reminder, so every link the customer got works); the tokens themselves are
never kept. ``attribution`` (agent, group, channel credited) is fixed once, at
the solve or at the send as the policy says, and never changes after:
:meth:`Invitation.attribute` on an attributed invitation returns it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import optional_utc, to_utc
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    enum_member,
    identity_unless_str,
    identity_when,
    instance,
    instant,
    integer,
    key,
    member_of,
    optional,
    tuple_of,
)
from csdomain.errors import InvalidTransitionError
from csdomain.surveys.events import InvitationEvent, InvitationEventKind
from csdomain.surveys.templates import VERSION_MAX, SurveyKind

__all__ = ["OPEN_STATES", "Attribution", "Invitation", "InvitationState"]

#: The most tokens one invitation holds (one send and one reminder need two).
TOKENS_MAX: Final = 8
#: The most edits of one answer.
EDITS_MAX: Final = 1000


class InvitationState(Enum):
    """Where an invitation stands (see the module documentation)."""

    PENDING = "pending"
    SENT = "sent"
    REMINDED = "reminded"
    ANSWERED = "answered"
    EXPIRED = "expired"
    VOIDED = "voided"
    SUPPRESSED = "suppressed"


declare_labels(
    InvitationState,
    {
        # Translators: a survey invitation waiting to be sent.
        InvitationState.PENDING: _mark("survey invitation state", "Pending"),
        InvitationState.SENT: _mark("survey invitation state", "Sent"),
        InvitationState.REMINDED: _mark("survey invitation state", "Reminded"),
        InvitationState.ANSWERED: _mark("survey invitation state", "Answered"),
        InvitationState.EXPIRED: _mark("survey invitation state", "Expired"),
        InvitationState.VOIDED: _mark("survey invitation state", "Voided"),
        # Translators: not sent, because of throttling or no consented channel.
        InvitationState.SUPPRESSED: _mark("survey invitation state", "Suppressed"),
    },
)

#: The states in which an invitation may still be answered (or sent): unanswered, live.
OPEN_STATES: Final = frozenset(
    {InvitationState.PENDING, InvitationState.SENT, InvitationState.REMINDED}
)
#: The states in which the customer holds a working link.
_DELIVERED: Final = frozenset({InvitationState.SENT, InvitationState.REMINDED})


def _state(value: InvitationState | str) -> InvitationState:
    return enum_member(InvitationState, value)


def _kind(value: SurveyKind | str) -> SurveyKind:
    return enum_member(SurveyKind, value)


identity_unless_str(_state, _kind)


@attrs.frozen
class Attribution(Checked):
    """Who an answer is credited to: the agent and group (None when unset) and the
    channel, as they were at ``recorded_at`` (the solve or the send)."""

    agent_id: str | None = attrs.field(metadata=checked(optional(key("agent id"))))
    group_id: str | None = attrs.field(metadata=checked(optional(key("group id"))))
    channel: str = attrs.field(metadata=checked(key("channel key")))
    recorded_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))


declare_document("survey_attribution", Attribution)


def _events(value: Iterable[InvitationEvent]) -> tuple[InvitationEvent, ...]:
    return tuple_of(value)


def _hashes(value: Iterable[str]) -> tuple[str, ...]:
    return tuple_of(value)


identity_when(_events, "type({v}) is {tuple}", tuple=tuple)
identity_when(_hashes, "type({v}) is {tuple}", tuple=tuple)


def _timeline_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", f"expected at least one InvitationEvent, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if not isinstance(item, InvitationEvent):
            yield f"[{i}]", f"expected an InvitationEvent, got {describe(item)}"


_TIMELINE: Final = Check(
    lambda v: isinstance(v, tuple) and bool(v) and all(isinstance(e, InvitationEvent) for e in v),
    _timeline_explain,
)


def _is_digest(value: object) -> bool:
    return type(value) is str and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _hashes_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a tuple of token hashes, got {describe(value)}"
        return
    if len(value) > TOKENS_MAX:
        yield "", f"must hold at most {TOKENS_MAX} token hashes, got {len(value)}"
    seen: set[object] = set()
    for i, item in enumerate(value):
        if not _is_digest(item):
            yield f"[{i}]", "expected a SHA-256 hex digest (64 lower-case hex digits)"
            continue
        if item in seen:
            yield f"[{i}]", "the same token hash is listed twice"
        seen.add(item)


_HASHES: Final = Check(
    lambda v: (
        isinstance(v, tuple)
        and len(v) <= TOKENS_MAX
        and all(_is_digest(h) for h in v)
        and len(set(v)) == len(v)  # after the digest test: the items are text, hashable
    ),
    _hashes_explain,
)

_at = instant
_maybe_at = optional(instant)


#: The state each event leaves an invitation in (an edit keeps it answered).
_STATE_AFTER: Final = {
    InvitationEventKind.CREATED: InvitationState.PENDING,
    InvitationEventKind.SENT: InvitationState.SENT,
    InvitationEventKind.REMINDED: InvitationState.REMINDED,
    InvitationEventKind.ANSWERED: InvitationState.ANSWERED,
    InvitationEventKind.EDITED: InvitationState.ANSWERED,
    InvitationEventKind.EXPIRED: InvitationState.EXPIRED,
    InvitationEventKind.VOIDED: InvitationState.VOIDED,
    InvitationEventKind.SUPPRESSED: InvitationState.SUPPRESSED,
}


def _replayed_state(timeline: tuple[InvitationEvent, ...]) -> InvitationState | None:
    """The state the timeline leads to: the state after its last event (None when it does
    not start with ``created``)."""
    if not timeline or timeline[0].kind is not InvitationEventKind.CREATED:
        return None
    return _STATE_AFTER[timeline[-1].kind]


@attrs.frozen(kw_only=True)
class Invitation(Checked):
    """One customer's invitation to one survey (see the module documentation).

    Build new ones with :meth:`create` (pending) or :meth:`suppressed`; move them
    with :meth:`send`, :meth:`remind`, :meth:`answer`, :meth:`edit`, :meth:`expire`,
    :meth:`void`, :meth:`suppress`; fix the credit with :meth:`attribute`.
    ``ticket_id`` and ``task_id`` name the ticket and the revisit task it follows
    (either, both or, for a survey sent on its own, none).
    """

    id: str = attrs.field(metadata=checked(key("invitation id")))
    policy: str = attrs.field(metadata=checked(key("policy name")))
    template: str = attrs.field(metadata=checked(key("template key")))
    template_version: int = attrs.field(metadata=checked(integer(minimum=1, maximum=VERSION_MAX)))
    kind: SurveyKind = attrs.field(converter=_kind, metadata=checked(member_of(SurveyKind)))
    customer_id: str = attrs.field(metadata=checked(key("customer id")))
    ticket_id: str | None = attrs.field(default=None, metadata=checked(optional(key("ticket id"))))
    task_id: str | None = attrs.field(default=None, metadata=checked(optional(key("task id"))))
    channel: str | None = attrs.field(default=None, metadata=checked(optional(key("channel key"))))
    state: InvitationState = attrs.field(
        converter=_state, metadata=checked(member_of(InvitationState))
    )
    created_at: datetime = attrs.field(converter=to_utc, metadata=checked(_at))
    send_at: datetime = attrs.field(converter=to_utc, metadata=checked(_at))
    sent_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_maybe_at)
    )
    remind_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_maybe_at)
    )
    reminded_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_maybe_at)
    )
    expires_at: datetime = attrs.field(converter=to_utc, metadata=checked(_at))
    token_hashes: tuple[str, ...] = attrs.field(
        default=(), converter=_hashes, metadata=checked(_HASHES)
    )
    attribution: Attribution | None = attrs.field(
        default=None, metadata=checked(optional(instance(Attribution, "an Attribution")))
    )
    answered_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_maybe_at)
    )
    response_id: str | None = attrs.field(
        default=None, metadata=checked(optional(key("response id")))
    )
    edits: int = attrs.field(default=0, metadata=checked(integer(minimum=0, maximum=EDITS_MAX)))
    timeline: tuple[InvitationEvent, ...] = attrs.field(
        converter=_events, metadata=checked(_TIMELINE)
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        who = f"invitation {self.id}"
        state = self.state
        replayed = _replayed_state(self.timeline)
        if replayed is not state:
            shown = replayed.value if replayed is not None else "nothing (no created event)"
            yield "state", f"{who}: the state is {state.value} but its timeline gives {shown}"
        edits = sum(e.kind is InvitationEventKind.EDITED for e in self.timeline)
        if edits != self.edits:
            yield "edits", f"{who}: {self.edits} edits, but its timeline holds {edits}"
        if self.send_at < self.created_at:
            yield "send_at", f"{who}: send_at is before created_at"
        delivered = state in _DELIVERED or state is InvitationState.ANSWERED
        if delivered and (self.sent_at is None or self.channel is None or not self.token_hashes):
            yield "sent_at", f"{who}: a {state.value} invitation has sent_at, channel and a token"
        if state is InvitationState.ANSWERED and (
            self.answered_at is None or self.response_id is None
        ):
            yield "answered_at", f"{who}: an answered invitation has answered_at and response_id"
        if state is not InvitationState.ANSWERED and (
            self.answered_at is not None or self.response_id is not None or self.edits
        ):
            yield "answered_at", f"{who}: only an answered invitation has an answer"

    # -- construction ----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        id: str,
        policy: str,
        template: str,
        template_version: int,
        kind: SurveyKind,
        customer_id: str,
        at: datetime,
        send_at: datetime,
        expiry: timedelta,
        ticket_id: str | None = None,
        task_id: str | None = None,
        attribution: Attribution | None = None,
    ) -> Invitation:
        """A pending invitation created at ``at``, to send at ``send_at``; unless sent
        first it expires ``expiry`` after ``send_at`` (a send restarts the expiry)."""
        at = to_utc(at)
        return cls(
            id=id,
            policy=policy,
            template=template,
            template_version=template_version,
            kind=kind,
            customer_id=customer_id,
            ticket_id=ticket_id,
            task_id=task_id,
            state=InvitationState.PENDING,
            created_at=at,
            send_at=send_at,
            expires_at=to_utc(send_at) + expiry,
            attribution=attribution,
            timeline=(InvitationEvent(InvitationEventKind.CREATED, at),),
        )

    @classmethod
    def suppressed(
        cls,
        *,
        id: str,
        policy: str,
        template: str,
        template_version: int,
        kind: SurveyKind,
        customer_id: str,
        at: datetime,
        send_at: datetime,
        reason: str,
        ticket_id: str | None = None,
        task_id: str | None = None,
    ) -> Invitation:
        """An invitation not to send (throttled, no consented channel), kept for the record:
        created and suppressed at once, expiring at ``send_at``."""
        created = cls.create(
            id=id,
            policy=policy,
            template=template,
            template_version=template_version,
            kind=kind,
            customer_id=customer_id,
            at=at,
            send_at=send_at,
            expiry=timedelta(0),
            ticket_id=ticket_id,
            task_id=task_id,
        )
        return created.suppress(at=at, reason=reason)

    # -- steps -------------------------------------------------------------------------

    def _refuse(
        self, attempted: str, allowed: Iterable[InvitationState], detail: str | None = None
    ) -> InvalidTransitionError:
        return InvalidTransitionError(
            self.id,
            self.state.value,
            attempted,
            allowed=[s.value for s in allowed],
            detail=detail,
            subject="survey invitation",
        )

    def _require(self, attempted: str, allowed: frozenset[InvitationState]) -> None:
        if self.state not in allowed:
            raise self._refuse(attempted, allowed)

    def _with(self, event: InvitationEvent, **changes: object) -> Invitation:
        return attrs.evolve(self, timeline=(*self.timeline, event), **changes)  # type: ignore[arg-type]

    @property
    def open(self) -> bool:
        """True while the invitation may still be sent or answered."""
        return self.state in OPEN_STATES

    def attribute(self, attribution: Attribution) -> Invitation:
        """This invitation credited to ``attribution``; unchanged when already credited
        (attribution is fixed once, never changed)."""
        if self.attribution is not None:
            return self
        return attrs.evolve(self, attribution=attribution)

    def send(
        self,
        *,
        at: datetime,
        channel: str,
        token_hash: str,
        expiry: timedelta,
        reminder_after: timedelta | None,
    ) -> Invitation:
        """Sent at ``at`` on ``channel`` with a new token (its hash kept): it expires
        ``expiry`` later, and a reminder is due ``reminder_after`` later (None: none)."""
        self._require("sent", frozenset({InvitationState.PENDING}))
        at = to_utc(at)
        if at < self.send_at:
            raise self._refuse(
                "send", (), f"it is due at {self.send_at.isoformat()}, not {at.isoformat()}"
            )
        return self._with(
            InvitationEvent(InvitationEventKind.SENT, at, channel=channel),
            state=InvitationState.SENT,
            channel=channel,
            sent_at=at,
            expires_at=at + expiry,
            remind_at=None if reminder_after is None else at + reminder_after,
            token_hashes=(*self.token_hashes, token_hash),
        )

    def remind(self, *, at: datetime, token_hash: str) -> Invitation:
        """The one reminder, at ``at``, with a new token (its hash added: both links
        work); no reminder is due after it."""
        self._require("reminded", frozenset({InvitationState.SENT}))
        at = to_utc(at)
        if self.remind_at is None or at < self.remind_at:
            due = "none is due" if self.remind_at is None else f"due {self.remind_at.isoformat()}"
            raise self._refuse("remind", (), f"a reminder at {at.isoformat()}: {due}")
        if at >= self.expires_at:
            raise self._refuse("remind", (), f"it expired at {self.expires_at.isoformat()}")
        assert self.channel is not None
        return self._with(
            InvitationEvent(InvitationEventKind.REMINDED, at, channel=self.channel),
            state=InvitationState.REMINDED,
            reminded_at=at,
            remind_at=None,
            token_hashes=(*self.token_hashes, token_hash),
        )

    def expired_by(self, at: datetime) -> bool:
        """True when the invitation is open and its expiry has come at ``at``."""
        return self.state in OPEN_STATES and to_utc(at) >= self.expires_at

    def answer(self, *, at: datetime, response_id: str) -> Invitation:
        """Answered at ``at`` (before the expiry) by response ``response_id``."""
        self._require("answered", _DELIVERED)
        at = to_utc(at)
        if at >= self.expires_at:
            raise self._refuse("answer", (), f"it expired at {self.expires_at.isoformat()}")
        return self._with(
            InvitationEvent(InvitationEventKind.ANSWERED, at, response_id=response_id),
            state=InvitationState.ANSWERED,
            answered_at=at,
            response_id=response_id,
            remind_at=None,
        )

    def editable_at(self, at: datetime, edit_window: timedelta | None) -> bool:
        """True when the answer may be edited at ``at``: answered, and ``at`` within
        ``edit_window`` of the first answer (None: never)."""
        return (
            self.state is InvitationState.ANSWERED
            and edit_window is not None
            and self.answered_at is not None
            and to_utc(at) < self.answered_at + edit_window
            and self.edits < EDITS_MAX
        )

    def edit(self, *, at: datetime, edit_window: timedelta | None) -> Invitation:
        """The answer edited at ``at`` (the same response; ``edits`` one more)."""
        self._require("edit the answer", frozenset({InvitationState.ANSWERED}))
        if not self.editable_at(at, edit_window):
            detail = (
                "the policy allows no edit"
                if edit_window is None
                else f"the edit window of {edit_window} after the answer has passed"
            )
            raise self._refuse("edit the answer", (), detail)
        assert self.response_id is not None
        return self._with(
            InvitationEvent(InvitationEventKind.EDITED, to_utc(at), response_id=self.response_id),
            edits=self.edits + 1,
        )

    def expire(self, *, at: datetime) -> Invitation:
        """Expired at ``at`` (at or after ``expires_at``), unanswered."""
        self._require("expired", OPEN_STATES)
        if not self.expired_by(at):
            raise self._refuse(
                "expire", (), f"it expires at {self.expires_at.isoformat()}, not before"
            )
        return self._with(
            InvitationEvent(InvitationEventKind.EXPIRED, to_utc(at)),
            state=InvitationState.EXPIRED,
            remind_at=None,
        )

    def void(self, *, at: datetime, reason: str) -> Invitation:
        """Voided at ``at`` (its ticket was reopened, say): its links stop working."""
        self._require("voided", OPEN_STATES)
        return self._with(
            InvitationEvent(InvitationEventKind.VOIDED, to_utc(at), reason=reason),
            state=InvitationState.VOIDED,
            remind_at=None,
        )

    def suppress(self, *, at: datetime, reason: str) -> Invitation:
        """Not sent after all (no channel the customer consents to, throttled), kept."""
        self._require("suppressed", frozenset({InvitationState.PENDING}))
        return self._with(
            InvitationEvent(InvitationEventKind.SUPPRESSED, to_utc(at), reason=reason),
            state=InvitationState.SUPPRESSED,
        )


declare_document("survey_invitation", Invitation)
