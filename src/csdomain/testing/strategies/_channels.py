"""Strategies: channels."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from csdomain.channels import (
    BUILTIN_CHANNELS,
    Channel,
    ChannelDirectory,
    ChannelKind,
    ChannelTraits,
)
from csdomain.testing.strategies._common import (
    _check_size,
    _keys,
    _memo,
    _texts,
)
from csdomain.testing.strategies.registry import register

_BUILTIN_KEYS: tuple[str, ...] = tuple(kind.value for kind in ChannelKind)


def channel_kinds() -> SearchStrategy[ChannelKind]:
    """Members of :class:`~csdomain.ChannelKind`. Requires Hypothesis."""
    return st.sampled_from(ChannelKind)


# -- channels -----------------------------------------------------------------------


def channel_traits() -> SearchStrategy[ChannelTraits]:
    """:class:`~csdomain.ChannelTraits` with any combination of flags. Requires Hypothesis."""
    return _channel_traits()


register(ChannelTraits, channel_traits)


@_memo
def _channel_traits() -> SearchStrategy[ChannelTraits]:
    return st.builds(
        ChannelTraits,
        synchronous=st.booleans(),
        automated=st.booleans(),
        public=st.booleans(),
    )


@_memo
def _custom_channel_keys() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(("line", "whatsapp", "telegram", "xiaohongshu", "dingtalk", "feishu")),
        _keys(32),
    ).filter(lambda k: k not in BUILTIN_CHANNELS)


def channel_keys(*, builtin: bool = True, custom: bool = True) -> SearchStrategy[str]:
    """Channel keys: built-in ones (``"email"``, ``"wechat_official_account"``, ...)
    and/or custom ones (``"line"``, or any key that is not a built-in one).

    Requires Hypothesis.
    """
    if not (builtin or custom):
        raise InvalidArgument("at least one of builtin and custom must be true")
    return _channel_keys(bool(builtin), bool(custom))


@_memo
def _channel_keys(builtin: bool, custom: bool) -> SearchStrategy[str]:
    parts: list[SearchStrategy[str]] = []
    if builtin:
        parts.append(st.sampled_from(_BUILTIN_KEYS))
    if custom:
        parts.append(_custom_channel_keys())
    return st.one_of(parts)


def channels(*, builtin: bool = False) -> SearchStrategy[Channel]:
    """Custom :class:`~csdomain.Channel` definitions, whose keys never collide with
    the built-in channels; with ``builtin=True`` the built-in channels are drawn too.

    Requires Hypothesis.
    """
    return _channels(bool(builtin))


register(Channel, channels, builtin=True)


@_memo
def _channels(builtin: bool) -> SearchStrategy[Channel]:
    custom = st.builds(
        Channel, key=_custom_channel_keys(), traits=_channel_traits(), name=_texts(40)
    )
    if builtin:
        return st.one_of(st.sampled_from(tuple(BUILTIN_CHANNELS.values())), custom)
    return custom


def channel_directories(*, max_custom: int = 4) -> SearchStrategy[ChannelDirectory]:
    """:class:`~csdomain.ChannelDirectory` values with up to ``max_custom`` custom
    channels of distinct keys. Requires Hypothesis.
    """
    _check_size("max_custom", max_custom)
    return st.lists(_channels(False), max_size=max_custom, unique_by=_key_of).map(_directory)


register(ChannelDirectory, channel_directories)


def _key_of(channel: Channel) -> str:
    return channel.key


def _directory(custom: list[Channel]) -> ChannelDirectory:
    return ChannelDirectory().with_channels(*custom)
