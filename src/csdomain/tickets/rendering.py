"""Ticket events told in words: one localized line per timeline event.

This is presentation, so it is the one module of :mod:`csdomain.tickets` that
reads :mod:`csdomain.i18n`; importing :mod:`csdomain.tickets` does not load it.

>>> from datetime import datetime, timezone
>>> from csdomain.tickets import Actor, Ticket
>>> ticket = Ticket.open(
...     id="tkt_1",
...     customer_id="cus_1",
...     channel="email",
...     subject="Invoice",
...     at=datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc),
... )
>>> describe_event(ticket.timeline[0])
'opened: Invoice (Consultation, Email, priority Normal, Frontline)'
"""

from __future__ import annotations

from babel.lists import format_list

from csdomain.i18n import (
    channel_label,
    format_duration,
    label,
    parse_locale,
    tier_label,
    translation,
)
from csdomain.tickets import (
    REASON_AGENT_REPLIED,
    REASON_CUSTOMER_REPLIED,
    Assigned,
    CustomFieldsChanged,
    Linked,
    MessageAdded,
    PersonalDataErased,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TicketCreated,
    TicketEvent,
    TierChanged,
    Visibility,
)

__all__ = ["describe_event"]

#: Message bodies longer than this are cut, with an ellipsis, to keep one line.
_BODY_CHARACTERS = 60


def describe_event(event: TicketEvent, locale: str = "en") -> str:
    """One line saying what ``event`` did, in ``locale`` (without time or actor).

    Event types this module does not know (an application's own events) are
    named by their ``type_name``. Raises :class:`~csdomain.errors.ValidationError`
    for a locale :mod:`csdomain.i18n` refuses.
    """
    _ = translation(locale).gettext
    if isinstance(event, TicketCreated):
        return _("opened: {subject} ({kind}, {channel}, priority {priority}, {tier})").format(
            subject=event.subject,
            kind=label(event.kind, locale),
            channel=channel_label(event.channel, locale),
            priority=label(event.priority, locale),
            tier=tier_label(event.tier, locale),
        )
    if isinstance(event, MessageAdded):
        body = event.body
        text = body if len(body) <= _BODY_CHARACTERS else body[: _BODY_CHARACTERS - 1] + "…"
        if event.visibility is Visibility.INTERNAL:
            line = _("internal note: {body}").format(body=text)
        else:
            line = _("message via {channel}: {body}").format(
                channel=channel_label(event.channel, locale), body=text
            )
        if event.handle_time is not None:
            line = _("{line} (handled in {duration})").format(
                line=line, duration=format_duration(event.handle_time, locale)
            )
        return line
    if isinstance(event, StatusChanged):
        automatic = {
            REASON_AGENT_REPLIED: _("agent replied"),
            REASON_CUSTOMER_REPLIED: _("customer replied"),
        }
        reason = automatic.get(event.reason or "", event.reason)
        old, new = label(event.old, locale), label(event.new, locale)
        if reason:
            return _("status {old} → {new} ({reason})").format(old=old, new=new, reason=reason)
        return _("status {old} → {new}").format(old=old, new=new)
    if isinstance(event, PriorityChanged):
        return _("priority {old} → {new}").format(
            old=label(event.old, locale), new=label(event.new, locale)
        )
    if isinstance(event, Assigned):
        nobody = _("nobody")
        return _("assigned to group {group}, agent {agent}").format(
            group=event.group_id or nobody, agent=event.assignee_id or nobody
        )
    if isinstance(event, TierChanged):
        old, new = tier_label(event.old, locale), tier_label(event.new, locale)
        if event.reason:
            return _("escalation tier {old} → {new} ({reason})").format(
                old=old, new=new, reason=event.reason
            )
        return _("escalation tier {old} → {new}").format(old=old, new=new)
    if isinstance(event, TagsChanged):
        changes = [f"+{t}" for t in sorted(event.added)] + [f"-{t}" for t in sorted(event.removed)]
        return _("tags {changes}").format(changes=" ".join(changes))
    if isinstance(event, CustomFieldsChanged):
        names = sorted([*event.values, *event.unset])
        listed = format_list(names, locale=parse_locale(locale))
        return _("custom fields changed: {names}").format(names=listed)
    if isinstance(event, Linked):
        return _("linked: {kind} {ticket}").format(
            kind=label(event.link.kind, locale), ticket=event.link.ticket_id
        )
    if isinstance(event, PersonalDataErased):
        # Translators: the customer's personal data on this ticket was erased (PIPL, GDPR);
        # the reason is a short note such as "erasure request ER-1024".
        return _("personal data erased ({reason})").format(reason=event.reason)
    return event.type_name
