"""Localization: labels for the domain's enums and compound durations.

Labels come from gettext catalogs managed with Babel (see ``babel.cfg`` and
``scripts/update_catalogs.py``); English is the source language, so the English
labels are the message ids themselves. Each enum has its own message context
(``"status"``, ``"priority"``, ...), so the same English word in two enums
("Open", "Low", "Agent") can be translated differently.

Locales are given as Babel :class:`~babel.Locale` objects or identifiers such as
``"en"``, ``"en_US"``, ``"zh_CN"``, ``"zh_SG"``, ``"zh_Hans"`` (Simplified
Chinese), ``"zh_TW"``, ``"zh_HK"``, ``"zh_MO"`` or ``"zh_Hant"`` (Traditional
Chinese); ``-`` works as a separator too (``"zh-TW"``). Chinese without a script
or territory (``"zh"``) means Simplified Chinese. A locale Babel knows but for
which csdomain has no catalog (``"fr"``, ``"ja"``) gets the English labels;
:func:`format_duration`, which needs no catalog, still uses that locale's CLDR
data. A string Babel does not know raises :class:`~csdomain.errors.ValidationError`.

>>> from csdomain.tickets import Status
>>> label(Status.SOLVED, "zh_TW")
'已解決'
>>> from datetime import timedelta
>>> format_duration(timedelta(hours=2, minutes=15), "zh_CN")
'2小时15分钟'
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Mapping
from datetime import timedelta
from enum import Enum
from importlib import resources
from typing import TYPE_CHECKING, Final, Literal

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.units import format_unit

# The built-in channel and tier keys are declared by these two modules; importing them
# lets a bare key such as "email" or "L1" find its label.
import csdomain.channels
import csdomain.people  # noqa: F401
from csdomain._kernel.labels import enum_labels, key_labels
from csdomain._kernel.messages import Message
from csdomain.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from csdomain.channels import Channel, ChannelKind
    from csdomain.people import EscalationTier

__all__ = [
    "SUPPORTED_LOCALES",
    "channel_label",
    "format_duration",
    "label",
    "tier_label",
    "translation",
]

#: Locales with labels, as catalog identifiers. ``"en"`` is the source language
#: (its labels are the message ids); the others have compiled gettext catalogs
#: in ``csdomain/locale/<id>/LC_MESSAGES/csdomain.mo``.
SUPPORTED_LOCALES: Final[tuple[str, ...]] = ("en", "zh_Hans", "zh_Hant")

_DOMAIN: Final = "csdomain"
_SOURCE_LOCALE: Final = "en"

_Message = Message


# -- locales ---------------------------------------------------------------------------------


def _bad_locale(value: object) -> ValidationError:
    supported = ", ".join(SUPPORTED_LOCALES)
    return ValidationError.single(
        "locale",
        "",
        f"unknown locale identifier {value!r}; expected a Babel locale such as 'en', "
        f"'en_US', 'zh_CN', 'zh_TW' or 'zh_Hant' (labels exist for: {supported})",
    )


@functools.lru_cache(maxsize=128)
def _parse_identifier(identifier: str) -> Locale:
    cleaned = identifier.strip().replace("-", "_")
    if not cleaned:
        raise _bad_locale(identifier)
    try:
        return Locale.parse(cleaned)
    except (UnknownLocaleError, ValueError, TypeError):
        raise _bad_locale(identifier) from None


def _parse(locale: str | Locale) -> Locale:
    if isinstance(locale, Locale):
        return locale
    if not isinstance(locale, str):
        raise _bad_locale(locale)
    return _parse_identifier(locale)


def _catalog_id(locale: Locale) -> str:
    """The identifier in :data:`SUPPORTED_LOCALES` whose labels ``locale`` gets."""
    if locale.language != "zh":
        return _SOURCE_LOCALE
    # Locale.parse fills in the script: zh_TW, zh_HK and zh_MO are zh_Hant_*.
    return "zh_Hant" if locale.script == "Hant" else "zh_Hans"


@functools.cache
def _load(catalog_id: str) -> gettext.NullTranslations:
    if catalog_id == _SOURCE_LOCALE:
        return gettext.NullTranslations()
    mo = resources.files("csdomain.i18n") / "locale" / catalog_id / "LC_MESSAGES" / f"{_DOMAIN}.mo"
    with mo.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def translation(locale: str | Locale = "en") -> gettext.NullTranslations:
    """The gettext translations for ``locale``, loaded once and cached.

    Other modules translate their own English strings with it, using
    ``.gettext(message)`` or ``.pgettext(context, message)`` (both are
    extracted by ``scripts/update_catalogs.py``). English, and locales without
    a catalog, get a :class:`gettext.NullTranslations` that returns the
    English message unchanged.

    Raises :class:`~csdomain.errors.ValidationError` for an unknown locale.
    """
    return _load(_catalog_id(_parse(locale)))


# -- labels ----------------------------------------------------------------------------------


def _translate(message: _Message, locale: str | Locale) -> str:
    context, msgid = message
    return translation(locale).pgettext(context, msgid)


def label(value: Enum, locale: str | Locale = "en") -> str:
    """The localized label of a member of one of csdomain's enums.

    Labelled enums: ``Status``, ``TicketKind``, ``ActorKind``, ``Visibility``,
    ``LinkKind``, ``Priority``, ``Impact``, ``Urgency``, ``ChannelKind``,
    ``CustomerTier``, ``Consent``, ``AgentGrade``, ``Role``, ``Presence``,
    ``Metric`` and ``SlaState``.

    >>> from csdomain.priorities import Priority
    >>> label(Priority.URGENT), label(Priority.URGENT, "zh_CN")
    ('Urgent', '紧急')

    Raises :class:`~csdomain.errors.NotFoundError` for any other value and
    :class:`~csdomain.errors.ValidationError` for an unknown locale.
    """
    labels = enum_labels.get(type(value))
    message = labels.get(value) if labels is not None else None
    if message is None:
        name = f"{type(value).__name__}.{value.name}" if isinstance(value, Enum) else str(value)
        labelled = ", ".join(sorted(t.__name__ for t in enum_labels))
        raise NotFoundError("enum label", name, f"labels exist for members of: {labelled}")
    return _translate(message, locale)


def tier_label(tier: EscalationTier | str, locale: str | Locale = "en") -> str:
    """The label of an escalation tier.

    The built-in keys ``L1`` (Frontline), ``L2`` (Engineering) and ``L3``
    (Third-party vendor) get a translated label, also when given as an
    :class:`~csdomain.people.EscalationTier` with one of those keys. Any other
    ``EscalationTier`` is labelled by its ``name``, and any other key string by
    the key itself.

    >>> tier_label("L1", "zh_CN")
    '一线'
    """
    key = tier if isinstance(tier, str) else tier.key
    locale_checked = _parse(locale)
    message = key_labels.get(("tier", key))
    if message is not None:
        return _translate(message, locale_checked)
    return tier if isinstance(tier, str) else tier.name


def channel_label(channel: ChannelKind | Channel | str, locale: str | Locale = "en") -> str:
    """The label of a channel.

    Built-in channels (a :class:`~csdomain.channels.ChannelKind`, a built-in
    :class:`~csdomain.channels.Channel` or a built-in key such as
    ``"wechat_mini_program"``) get a translated label; a custom ``Channel``
    is labelled by its ``name`` and an unknown key by the key itself.

    >>> channel_label("wechat_mini_program", "zh_CN")
    '微信小程序'
    """
    locale_checked = _parse(locale)
    key = (
        channel
        if isinstance(channel, str)
        else channel.value
        if isinstance(channel, Enum)
        else channel.key
    )
    message = key_labels.get(("channel", key))
    if message is not None:
        return _translate(message, locale_checked)
    return key if isinstance(channel, (str, Enum)) else channel.name


# -- durations -------------------------------------------------------------------------------

_Length = Literal["long", "short", "narrow"]
_ListStyle = Literal["unit", "unit-short", "unit-narrow"]
_WIDTHS: Final[Mapping[str, tuple[_Length, _ListStyle]]] = {
    "long": ("long", "unit"),
    "short": ("short", "unit-short"),
    "narrow": ("narrow", "unit-narrow"),
}
_UNITS: Final[tuple[tuple[str, int], ...]] = (
    ("duration-day", 86_400),
    ("duration-hour", 3_600),
    ("duration-minute", 60),
    ("duration-second", 1),
)


def _unit_length(amount: int, unit: str, width: _Length, locale: Locale) -> _Length:
    """``width`` if ``locale`` has a pattern for it, else ``"short"``.

    Babel does not resolve CLDR's root aliases "long -> short" and "narrow ->
    short" for unit patterns (zh has only short patterns for most duration
    units), so apply them here, as ``babel.dates.format_timedelta`` does.
    """
    patterns = locale._data["unit_patterns"].get(unit, {}).get(width, {})
    return width if locale.plural_form(amount) in patterns else "short"


def format_duration(
    value: timedelta,
    locale: str | Locale = "en",
    *,
    width: str = "long",
    max_units: int | None = None,
    largest_unit: str = "day",
) -> str:
    """A duration in days, hours, minutes and seconds, such as "2 hours, 15 minutes".

    Babel's ``format_timedelta`` rounds to a single unit; this keeps every
    non-zero unit, formats each with the locale's CLDR unit pattern
    (:func:`babel.units.format_unit`) and joins them with the locale's unit list
    pattern (:func:`babel.lists.format_list`, style ``unit``, ``unit-short`` or
    ``unit-narrow`` for ``width`` ``"long"``, ``"short"`` or ``"narrow"``).

    >>> from datetime import timedelta
    >>> d = timedelta(hours=2, minutes=15)
    >>> format_duration(d), format_duration(d, "zh_CN"), format_duration(d, width="narrow")
    ('2 hours, 15 minutes', '2小时15分钟', '2h 15m')
    >>> format_duration(timedelta(0), "en")
    '0 seconds'

    Days are the largest unit (no months or years) and whole seconds the
    smallest: fractions of a second are dropped. ``largest_unit`` (``"day"``,
    ``"hour"``, ``"minute"`` or ``"second"``) caps the units used, for
    durations that are not wall-clock days, such as business hours: with
    ``largest_unit="hour"``, 90 hours read "90 hours", not "3 days, 18 hours".
    A zero duration (or one under a second) reads as zero seconds.
    ``max_units`` keeps only that many largest non-zero units and drops the
    smaller ones, so the result is rounded down:
    ``timedelta(days=1, hours=3, minutes=59)`` with ``max_units=2`` is
    "1 day, 3 hours".

    Where the locale's CLDR data has no pattern for the requested width, the
    short one is used, as CLDR prescribes (Chinese has mostly short duration
    patterns), and the parts are then joined as short units.

    The locale may be any locale Babel knows; durations use its CLDR data even
    when csdomain has no label catalog for it.

    Raises :class:`~csdomain.errors.ValidationError` for a negative duration,
    an unknown locale, an unknown width or largest unit, or a ``max_units`` below 1.
    """
    if not isinstance(value, timedelta):
        raise ValidationError.single(
            "duration", "value", f"expected a datetime.timedelta, got {value!r}"
        )
    if value < timedelta(0):
        raise ValidationError.single(
            "duration", "value", f"expected a duration of zero or more, got -{-value}"
        )
    styles = _WIDTHS.get(width) if isinstance(width, str) else None
    if styles is None:
        allowed = ", ".join(repr(w) for w in _WIDTHS)
        raise ValidationError.single(
            "duration", "width", f"expected one of {allowed}, got {width!r}"
        )
    if max_units is not None and (
        isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1
    ):
        raise ValidationError.single(
            "duration", "max_units", f"expected None or an integer of 1 or more, got {max_units!r}"
        )
    units = [u for u in _UNITS if u[0] == f"duration-{largest_unit}"]
    if not units:
        allowed = ", ".join(repr(u[len("duration-") :]) for u, _ in _UNITS)
        raise ValidationError.single(
            "duration", "largest_unit", f"expected one of {allowed}, got {largest_unit!r}"
        )
    loc = _parse(locale)

    remaining = value.days * 86_400 + value.seconds
    amounts: list[tuple[int, str]] = []
    for unit, seconds in _UNITS[_UNITS.index(units[0]) :]:
        amount, remaining = divmod(remaining, seconds)
        if amount:
            amounts.append((amount, unit))
    if not amounts:
        amounts.append((0, "duration-second"))
    if max_units is not None:
        amounts = amounts[:max_units]
    width_, list_style = styles
    parts: list[str] = []
    fell_back = False
    for amount, unit in amounts:
        length = _unit_length(amount, unit, width_, loc)
        fell_back = fell_back or length != width_
        parts.append(format_unit(amount, unit, length=length, locale=loc))
    if fell_back:
        # Units fell back to short patterns: join them as short units too, so
        # that spacing stays consistent ("1 小時 1 分鐘", not "1 小時1 分鐘").
        list_style = "unit-short"
    return _join_units(parts, list_style, loc)


def _join_units(parts: list[str], style: _ListStyle, locale: Locale) -> str:
    """Join with the locale's unit list pattern, falling back as CLDR inherits.

    Babel does not resolve list patterns a locale inherits from root (German,
    Spanish, ... lack some ``unit`` patterns), so fall back to the locale's
    standard list pattern and, if that is incomplete too, to a plain space.
    """
    for candidate in (style, "standard"):
        try:
            return format_list(parts, style=candidate, locale=locale)
        except KeyError:
            continue
    return " ".join(parts)
