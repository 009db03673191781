"""Channels: the ways customers reach the company, and their traits.

Built-in channels are the members of :class:`ChannelKind`; each has
:class:`ChannelTraits` saying whether the conversation is synchronous (the
customer waits on the line), who answers on it (humans or a bot) and whether
posts on it are public (visible to everyone, as a Weibo comment is). Apps
declare their own channels as :class:`Channel` values and collect them, with
the built-ins, in a :class:`ChannelDirectory`.

Tickets and contact points refer to a channel by its key (``"phone_hotline"``,
``"wechat_official_account"`` or a custom key such as ``"line"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import Enum

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_key_labels, declare_labels, enum_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import Checked, boolean, checked, instance, key, text, tuple_of
from csdomain.errors import NotFoundError

__all__ = [
    "BUILTIN_CHANNELS",
    "Channel",
    "ChannelDirectory",
    "ChannelKind",
    "ChannelTraits",
    "channel_key",
]


class ChannelKind(str, Enum):
    """The built-in channels.

    Members are also strings, so they can be passed wherever a channel key is
    expected; models store the plain key (``ChannelKind.EMAIL.value``).
    """

    PHONE_HOTLINE = "phone_hotline"
    EMAIL = "email"
    WEB_CHAT = "web_chat"
    IN_APP_CHAT = "in_app_chat"
    WECHAT_OFFICIAL_ACCOUNT = "wechat_official_account"
    WECHAT_MINI_PROGRAM = "wechat_mini_program"
    WECOM = "wecom"
    WEIBO = "weibo"
    SMS = "sms"
    DOUYIN = "douyin"
    KUAISHOU = "kuaishou"
    SOCIAL = "social"
    VIDEO_CALL = "video_call"
    LIVESTREAM = "livestream"
    CHATBOT = "chatbot"
    SELF_SERVICE = "self_service"
    ON_SITE = "on_site"
    API = "api"

    @property
    def traits(self) -> ChannelTraits:
        """The traits of this built-in channel."""
        return BUILTIN_CHANNELS[self.value].traits


declare_labels(
    ChannelKind,
    {
        ChannelKind.PHONE_HOTLINE: _mark("channel", "Phone hotline"),
        ChannelKind.EMAIL: _mark("channel", "Email"),
        ChannelKind.WEB_CHAT: _mark("channel", "Web chat"),
        ChannelKind.IN_APP_CHAT: _mark("channel", "In-app chat"),
        ChannelKind.WECHAT_OFFICIAL_ACCOUNT: _mark("channel", "WeChat official account"),
        ChannelKind.WECHAT_MINI_PROGRAM: _mark("channel", "WeChat mini program"),
        ChannelKind.WECOM: _mark("channel", "WeCom"),
        ChannelKind.WEIBO: _mark("channel", "Weibo"),
        ChannelKind.SMS: _mark("channel", "SMS"),
        ChannelKind.DOUYIN: _mark("channel", "Douyin"),
        ChannelKind.KUAISHOU: _mark("channel", "Kuaishou"),
        ChannelKind.SOCIAL: _mark("channel", "Social media"),
        ChannelKind.VIDEO_CALL: _mark("channel", "Video call"),
        ChannelKind.LIVESTREAM: _mark("channel", "Livestream"),
        ChannelKind.CHATBOT: _mark("channel", "Chatbot"),
        ChannelKind.SELF_SERVICE: _mark("channel", "Self-service"),
        # Translators: an engineer visits the customer's home or site.
        ChannelKind.ON_SITE: _mark("channel", "On-site visit"),
        ChannelKind.API: _mark("channel", "API"),
    },
)
declare_key_labels("channel", {kind.value: enum_labels[ChannelKind][kind] for kind in ChannelKind})


@attrs.frozen
class ChannelTraits(Checked):
    """How conversations on a channel behave.

    - ``synchronous``: the customer is on the line waiting (phone, chat, video);
      asynchronous channels (email, SMS, posts) are answered later.
    - ``automated``: answered by a bot or self-service, not by people.
    - ``public``: posts are visible to everyone (Weibo, Douyin comments, a
      livestream's chat). A reply on a public channel must never carry a
      private link (a ticket portal link, a survey token).
    """

    synchronous: bool = attrs.field(metadata=checked(boolean))
    automated: bool = attrs.field(default=False, metadata=checked(boolean))
    public: bool = attrs.field(default=False, metadata=checked(boolean))


declare_document("channel_traits", ChannelTraits)


@attrs.frozen
class Channel(Checked):
    """A channel definition: a key, a display name and traits.

    Built-in channels use their :class:`ChannelKind` value as key and get their
    localized label from :mod:`csdomain.i18n`; a custom channel carries its
    own ``name``.
    """

    key: str = attrs.field(metadata=checked(key("channel key")))
    traits: ChannelTraits = attrs.field(metadata=checked(instance(ChannelTraits, "ChannelTraits")))
    name: str = attrs.field(metadata=checked(text(max_length=200)))

    @property
    def builtin(self) -> bool:
        """True for the channels of :class:`ChannelKind`."""
        return self.key in _BUILTIN_KEYS


declare_document("channel", Channel)


def _traits(synchronous: bool, automated: bool = False, public: bool = False) -> ChannelTraits:
    return ChannelTraits(synchronous=synchronous, automated=automated, public=public)


_SYNC, _ASYNC = True, False
_BUILTIN_TRAITS: dict[ChannelKind, ChannelTraits] = {
    ChannelKind.PHONE_HOTLINE: _traits(_SYNC),
    ChannelKind.EMAIL: _traits(_ASYNC),
    ChannelKind.WEB_CHAT: _traits(_SYNC),
    ChannelKind.IN_APP_CHAT: _traits(_SYNC),
    ChannelKind.WECHAT_OFFICIAL_ACCOUNT: _traits(_ASYNC),
    ChannelKind.WECHAT_MINI_PROGRAM: _traits(_SYNC),
    ChannelKind.WECOM: _traits(_ASYNC),
    ChannelKind.WEIBO: _traits(_ASYNC, public=True),
    ChannelKind.SMS: _traits(_ASYNC),
    ChannelKind.DOUYIN: _traits(_ASYNC, public=True),
    ChannelKind.KUAISHOU: _traits(_ASYNC, public=True),
    ChannelKind.SOCIAL: _traits(_ASYNC, public=True),
    ChannelKind.VIDEO_CALL: _traits(_SYNC),
    ChannelKind.LIVESTREAM: _traits(_SYNC, public=True),
    ChannelKind.CHATBOT: _traits(_SYNC, automated=True),
    ChannelKind.SELF_SERVICE: _traits(_ASYNC, automated=True),
    ChannelKind.ON_SITE: _traits(_SYNC),
    ChannelKind.API: _traits(_ASYNC),
}
_BUILTIN_KEYS = frozenset(k.value for k in ChannelKind)

#: Every built-in channel by key.
BUILTIN_CHANNELS: Mapping[str, Channel] = {
    kind.value: Channel(key=kind.value, traits=traits, name=kind.value)
    for kind, traits in _BUILTIN_TRAITS.items()
}


def channel_key(channel: ChannelKind | Channel | str) -> str:
    """The key of a channel given as a ``ChannelKind``, a ``Channel`` or a key."""
    if isinstance(channel, ChannelKind):
        return channel.value
    if isinstance(channel, Channel):
        return channel.key
    return channel


def _unique_keys(channels: object) -> Iterator[tuple[str, str]]:
    if not isinstance(channels, tuple):
        yield "", f"expected a sequence of Channel, got {channels!r}"
        return
    seen: set[str] = set()
    for i, c in enumerate(channels):
        if not isinstance(c, Channel):
            yield f"[{i}]", f"expected a Channel, got {c!r}"
            continue
        if c.key in _BUILTIN_KEYS:
            yield f"[{i}].key", f"{c.key!r} is a built-in channel; custom channels need new keys"
        elif c.key in seen:
            yield f"[{i}].key", f"duplicate channel key {c.key!r}"
        seen.add(c.key)


def _custom(value: Iterable[Channel]) -> tuple[Channel, ...]:
    return tuple_of(value)


@attrs.frozen
class ChannelDirectory(Checked):
    """The built-in channels plus an app's own; look channels up by key."""

    custom: tuple[Channel, ...] = attrs.field(
        default=(), converter=_custom, metadata=checked(_unique_keys)
    )

    def get(self, channel: ChannelKind | Channel | str) -> Channel:
        """The channel for ``channel``; raises ``NotFoundError`` for an unknown key."""
        k = channel_key(channel)
        found = BUILTIN_CHANNELS.get(k) or next((c for c in self.custom if c.key == k), None)
        if found is None:
            known = ", ".join(sorted([*BUILTIN_CHANNELS, *(c.key for c in self.custom)]))
            raise NotFoundError("channel", k, f"known channels: {known}")
        return found

    def __contains__(self, channel: object) -> bool:
        if not isinstance(channel, (ChannelKind, Channel, str)):
            return False
        k = channel_key(channel)
        return k in BUILTIN_CHANNELS or any(c.key == k for c in self.custom)

    def __iter__(self) -> Iterator[Channel]:
        yield from BUILTIN_CHANNELS.values()
        yield from self.custom

    def with_channels(self, *channels: Channel) -> ChannelDirectory:
        """A directory with ``channels`` added (keys must stay unique)."""
        return ChannelDirectory(custom=self.custom + channels)


declare_document("channel_directory", ChannelDirectory)
