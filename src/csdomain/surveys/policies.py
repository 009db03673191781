"""Survey policies as data: when to invite whom, how, how often and for how long.

A :class:`SurveyPolicy` names a :class:`SurveyTrigger` (a ticket solved, a
revisit done, a chat ended), a condition over the ticket, its customer and the
revisit task (facts ``ticket``, ``customer``, ``revisit``), the template to
send, a delay, the channels in order of preference (the first the customer
consents to wins), a :class:`Throttle`, an expiry, exactly one reminder (or
none), what a reopen does to an unanswered invitation (:class:`ReopenRule`),
when the agent, group and channel are credited (:class:`AttributionPoint`),
whether answers may be edited for a while, and which answers reopen the ticket
(``reopen_when``, over the fact ``survey``: the low-score escalation path).

The defaults follow Zendesk's CSAT: sent 24 hours after the ticket is solved,
the link valid for 28 days. Zendesk does not throttle; the default here sends
one survey of a kind per customer per 30 days (Qualtrics' contact-frequency
rules), so a customer with five tickets in a week is asked once. The default
reminder comes 3 days after the send, once (GLPI's satisfaction plugin was
configured "daily for 3 days" and sent one reminder: here one is what you
configure and what you get). Credit goes to whoever solved the ticket, fixed at
the solve, because automations unassign tickets before customers answer
(Chatwoot #14872).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import (
    Checked,
    boolean,
    checked,
    distinct_keys,
    duration,
    each,
    enum_member,
    frozen_set_of_str,
    identity_unless_str,
    identity_when,
    instance,
    integer,
    key,
    member_of,
    optional,
    text,
    tuple_of,
)
from csdomain.channels import ChannelKind
from csdomain.conditions import ALWAYS, Condition
from csdomain.surveys.fields import SURVEY_FIELDS
from csdomain.surveys.templates import VERSION_MAX, SurveyKind

__all__ = [
    "CHAT_CHANNELS",
    "AttributionPoint",
    "ReopenRule",
    "SurveyPolicy",
    "SurveyTrigger",
    "Throttle",
    "throttle_allows",
]

# reopen_when reads the survey.* condition fields: they must exist before one is built.
assert "survey.csat" in SURVEY_FIELDS

#: The longest delay, expiry, reminder or edit window a policy takes: one year.
POLICY_DURATION_MAX: Final = timedelta(days=366)

#: The built-in channels whose conversations are chats (typed, live or near-live
#: messaging): a ticket on one of them ending solved is a ``chat_ended`` trigger.
CHAT_CHANNELS: Final = frozenset(
    {
        ChannelKind.WEB_CHAT.value,
        ChannelKind.IN_APP_CHAT.value,
        ChannelKind.WECHAT_OFFICIAL_ACCOUNT.value,
        ChannelKind.WECHAT_MINI_PROGRAM.value,
        ChannelKind.WECOM.value,
        ChannelKind.CHATBOT.value,
    }
)


class SurveyTrigger(Enum):
    """What makes a policy invite a customer."""

    #: A ticket was solved.
    TICKET_SOLVED = "ticket_solved"
    #: A revisit task was done with the customer reached.
    REVISIT_DONE = "revisit_done"
    #: A ticket on a chat channel (the policy's ``chat_channels``) was solved.
    CHAT_ENDED = "chat_ended"


declare_labels(
    SurveyTrigger,
    {
        SurveyTrigger.TICKET_SOLVED: _mark("survey trigger", "Ticket solved"),
        SurveyTrigger.REVISIT_DONE: _mark("survey trigger", "Revisit done"),
        SurveyTrigger.CHAT_ENDED: _mark("survey trigger", "Chat ended"),
    },
)


class ReopenRule(Enum):
    """What a reopen of the ticket does to its unanswered invitations."""

    #: Void them: the survey asked about a resolution that did not hold.
    VOID = "void"
    #: Keep them: the customer may still answer.
    KEEP = "keep"


declare_labels(
    ReopenRule,
    {
        ReopenRule.VOID: _mark("survey reopen rule", "Void the invitation"),
        ReopenRule.KEEP: _mark("survey reopen rule", "Keep the invitation"),
    },
)


class AttributionPoint(Enum):
    """When the agent, group and channel an answer is credited to are recorded."""

    #: When the ticket is solved (the solver gets the credit).
    SOLVE = "solve"
    #: When the invitation is sent (whoever holds the ticket then).
    SEND = "send"


declare_labels(
    AttributionPoint,
    {
        AttributionPoint.SOLVE: _mark("survey attribution", "At solve"),
        AttributionPoint.SEND: _mark("survey attribution", "At send"),
    },
)


def _trigger(value: SurveyTrigger | str) -> SurveyTrigger:
    return enum_member(SurveyTrigger, value)


def _reopen_rule(value: ReopenRule | str) -> ReopenRule:
    return enum_member(ReopenRule, value)


def _attribution_point(value: AttributionPoint | str) -> AttributionPoint:
    return enum_member(AttributionPoint, value)


identity_unless_str(_trigger, _reopen_rule, _attribution_point)


@attrs.frozen
class Throttle(Checked):
    """At most ``max_invitations`` invitations to one customer within any ``per_days``
    days (of the same survey kind when ``per_kind``).

    See :func:`throttle_allows` for how a new invitation is judged.
    """

    max_invitations: int = attrs.field(
        default=1, metadata=checked(integer(minimum=1, maximum=1000))
    )
    per_days: int = attrs.field(default=30, metadata=checked(integer(minimum=1, maximum=3660)))
    per_kind: bool = attrs.field(default=True, metadata=checked(boolean))

    @property
    def window(self) -> timedelta:
        """``per_days`` as a duration."""
        return timedelta(days=self.per_days)


declare_document("survey_throttle", Throttle)


def throttle_allows(
    throttle: Throttle,
    kind: SurveyKind,
    sent: Sequence[tuple[datetime, SurveyKind]],
    at: datetime,
) -> bool:
    """Whether an invitation of ``kind`` at ``at`` keeps within ``throttle``, given the
    customer's other invitations ``sent`` (their send instants and kinds: sent ones and
    pending ones, which are scheduled ahead; not suppressed or voided ones).

    It counts the others strictly less than ``per_days`` before *or after* ``at``
    (of ``kind`` when ``per_kind``) and allows the new one when they are fewer than
    ``max_invitations``. Looking both ways is what makes the law hold whatever order
    invitations are created in (a policy with a shorter delay can schedule one before
    a pending one): no span of ``per_days`` days ever holds more than
    ``max_invitations``. One exactly ``per_days`` days after another is allowed.

    >>> from datetime import timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> throttle_allows(Throttle(), SurveyKind.CSAT, [(t0, SurveyKind.CSAT)], t0 + timedelta(days=29))
    False
    >>> throttle_allows(Throttle(), SurveyKind.NPS, [(t0, SurveyKind.CSAT)], t0 + timedelta(days=1))
    True
    """  # noqa: E501
    window = throttle.window
    lo, hi = at - window, at + window
    near = sum(1 for when, k in sent if lo < when < hi and (not throttle.per_kind or k is kind))
    return near < throttle.max_invitations


def _channels(value: Iterable[str]) -> tuple[str, ...]:
    return tuple_of(value)


def _chat_channels(value: Iterable[str]) -> frozenset[str]:
    return frozen_set_of_str(value)


identity_when(_channels, "type({v}) is {tuple}", tuple=tuple)
identity_when(_chat_channels, "type({v}) is {frozenset}", frozenset=frozenset)

_POSITIVE = duration(allow_zero=False, maximum=POLICY_DURATION_MAX)


@attrs.frozen(kw_only=True)
class SurveyPolicy(Checked):
    """When and how to invite customers to a survey (see the module documentation).

    ====================  ======================  ===========================================
    field                 default                 meaning
    ====================  ======================  ===========================================
    ``name``              (required)              the policy's key in a desk (unique)
    ``trigger``           (required)              :class:`SurveyTrigger`
    ``template``          (required)              the template key
    ``template_version``  None                    a version; None: the newest when invited
    ``condition``         ``ALWAYS``              over facts ticket, customer, revisit
    ``delay``             24 hours                from the trigger to the send
    ``channels``          (required, 1 or more)   in order; the first the customer consents
                                                  to is used, none: suppressed
    ``throttle``          1 per 30 days per kind  :class:`Throttle`
    ``expiry``            28 days                 from the send; unanswered then: expired
    ``reminder_after``    3 days                  one reminder after the send; None: none
    ``on_reopen``         void                    :class:`ReopenRule`
    ``attribution``       solve                   :class:`AttributionPoint`
    ``edit_window``       None                    answers editable this long after the first
                                                  answer; None: a token works once
    ``reopen_when``       None                    a condition over fact ``survey`` (and
                                                  ticket, customer): a matching answer
                                                  reopens the solved (not closed) ticket
    ``chat_channels``     :data:`CHAT_CHANNELS`   the channels ``chat_ended`` counts as chats
    ====================  ======================  ===========================================

    The reminder must come before the expiry. Durations are positive (the delay may
    be zero: at once) and at most a year.

    >>> policy = SurveyPolicy(
    ...     name="csat", trigger="ticket_solved", template="after-solve", channels=["email"]
    ... )
    >>> policy.delay, policy.expiry.days
    (datetime.timedelta(days=1), 28)
    """

    name: str = attrs.field(metadata=checked(key("policy name")))
    trigger: SurveyTrigger = attrs.field(
        converter=_trigger, metadata=checked(member_of(SurveyTrigger))
    )
    template: str = attrs.field(metadata=checked(key("template key")))
    template_version: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=1, maximum=VERSION_MAX)))
    )
    condition: Condition = attrs.field(
        default=ALWAYS, metadata=checked(instance(Condition, "a Condition"))
    )
    delay: timedelta = attrs.field(
        default=timedelta(hours=24),
        metadata=checked(duration(allow_zero=True, maximum=POLICY_DURATION_MAX)),
    )
    channels: tuple[str, ...] = attrs.field(
        converter=_channels, metadata=checked(distinct_keys("channel key"))
    )
    throttle: Throttle = attrs.field(
        factory=Throttle, metadata=checked(instance(Throttle, "a Throttle"))
    )
    expiry: timedelta = attrs.field(default=timedelta(days=28), metadata=checked(_POSITIVE))
    reminder_after: timedelta | None = attrs.field(
        default=timedelta(days=3), metadata=checked(optional(_POSITIVE))
    )
    on_reopen: ReopenRule = attrs.field(
        default=ReopenRule.VOID, converter=_reopen_rule, metadata=checked(member_of(ReopenRule))
    )
    attribution: AttributionPoint = attrs.field(
        default=AttributionPoint.SOLVE,
        converter=_attribution_point,
        metadata=checked(member_of(AttributionPoint)),
    )
    edit_window: timedelta | None = attrs.field(default=None, metadata=checked(optional(_POSITIVE)))
    reopen_when: Condition | None = attrs.field(
        default=None, metadata=checked(optional(instance(Condition, "a Condition")))
    )
    chat_channels: frozenset[str] = attrs.field(
        default=CHAT_CHANNELS,
        converter=_chat_channels,
        metadata=checked(each(key("channel key"), frozenset)),
    )
    description: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=2000)))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        who = f"policy {self.name!r}"
        if not self.channels:
            yield "channels", f"{who}: needs at least one channel to send on"
        if self.reminder_after is not None and self.reminder_after >= self.expiry:
            yield (
                "reminder_after",
                f"{who}: the reminder ({self.reminder_after}) must come before the expiry "
                f"({self.expiry})",
            )

    def first_channel(self, consents: Iterable[str]) -> str | None:
        """The first of ``channels`` among ``consents`` (the channels the customer may be
        contacted on), or None when there is none."""
        allowed = frozenset(consents)
        return next((c for c in self.channels if c in allowed), None)

    def triggered_by(self, trigger: SurveyTrigger, channel: str | None = None) -> bool:
        """Whether this policy follows ``trigger`` (for a ticket on ``channel``).

        A solved ticket on one of ``chat_channels`` is both a ``ticket_solved`` and a
        ``chat_ended`` trigger.
        """
        if trigger is SurveyTrigger.TICKET_SOLVED and self.trigger is SurveyTrigger.CHAT_ENDED:
            return channel is not None and channel in self.chat_channels
        return trigger is self.trigger


declare_document("survey_policy", SurveyPolicy)
