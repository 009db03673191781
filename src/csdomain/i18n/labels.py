"""Labels: the localized names of enum members, escalation tiers and channels.

The labels are those the domain modules declare beside their enums and keys
(:mod:`csdomain._kernel.labels`); this module translates them and imports no
domain module. Built-in channel and tier keys find their labels once
:mod:`csdomain.channels` and :mod:`csdomain.people` are imported, which
importing :mod:`csdomain.i18n` does.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from babel import Locale

from csdomain._kernel.labels import enum_labels, key_labels
from csdomain._kernel.messages import Message
from csdomain.errors import NotFoundError
from csdomain.i18n.catalogs import _resolve, translation

__all__ = ["Named", "channel_label", "label", "tier_label"]


class Named(Protocol):
    """Anything with a ``key`` and a display ``name``: an escalation tier, a channel."""

    @property
    def key(self) -> str:
        """The stable key (``"L2"``, ``"wechat_mini_program"``)."""

    @property
    def name(self) -> str:
        """The display name, used when the key has no translated label."""


def _translate(message: Message, locale: str | Locale) -> str:
    context, msgid = message
    return translation(locale).pgettext(context, msgid)


def label(value: Enum, locale: str | Locale = "en") -> str:
    """The localized label of a member of an enum that declared its labels.

    Every enum of csdomain declares labels (``Status``, ``TicketKind``,
    ``Priority``, ``ChannelKind``, ``AgentGrade``, ``SlaState``, ...), and so
    can an application's enum, with ``declare_labels``.

    >>> from csdomain.priorities import Priority
    >>> label(Priority.URGENT), label(Priority.URGENT, "zh-CN")
    ('Urgent', '紧急')

    Raises :class:`~csdomain.errors.NotFoundError` for a value whose enum
    declared no labels and :class:`~csdomain.errors.ValidationError` for an
    unsupported locale.
    """
    labels = enum_labels.get(type(value))
    message = labels.get(value) if labels is not None else None
    if message is None:
        name = f"{type(value).__name__}.{value.name}" if isinstance(value, Enum) else repr(value)
        labelled = ", ".join(sorted(t.__name__ for t in enum_labels))
        raise NotFoundError("enum label", name, f"labels exist for members of: {labelled}")
    return _translate(message, locale)


def tier_label(tier: Named | str, locale: str | Locale = "en") -> str:
    """The label of an escalation tier.

    The built-in keys ``L1`` (Frontline), ``L2`` (Engineering) and ``L3``
    (Third-party vendor) get a translated label, also when given as an
    :class:`~csdomain.people.EscalationTier` with one of those keys. Any other
    ``EscalationTier`` is labelled by its ``name``, and any other key string by
    the key itself.

    >>> tier_label("L1", "zh_CN")
    '一线'

    Raises :class:`~csdomain.errors.ValidationError` for an unsupported
    locale, also when the tier has no translated label.
    """
    _resolve(locale)
    key = tier if isinstance(tier, str) else tier.key
    message = key_labels.get(("tier", key))
    if message is not None:
        return _translate(message, locale)
    return tier if isinstance(tier, str) else tier.name


def channel_label(channel: Enum | Named | str, locale: str | Locale = "en") -> str:
    """The label of a channel.

    Built-in channels (a :class:`~csdomain.channels.ChannelKind`, a built-in
    :class:`~csdomain.channels.Channel` or a built-in key such as
    ``"wechat_mini_program"``) get a translated label; a custom ``Channel``
    is labelled by its ``name`` and an unknown key by the key itself.

    >>> channel_label("wechat_mini_program", "zh_CN")
    '微信小程序'

    Raises :class:`~csdomain.errors.ValidationError` for an unsupported
    locale, also when the channel has no translated label.
    """
    _resolve(locale)
    key = (
        channel
        if isinstance(channel, str)
        else str(channel.value)
        if isinstance(channel, Enum)
        else channel.key
    )
    message = key_labels.get(("channel", key))
    if message is not None:
        return _translate(message, locale)
    return key if isinstance(channel, (str, Enum)) else channel.name
