"""Compound durations: every unit from days down to seconds, in the locale's words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Literal

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError
from csdomain.i18n.catalogs import _resolve

__all__ = ["DurationUnit", "DurationWidth", "format_duration"]

#: The widths of :func:`format_duration`: CLDR's long, short and narrow unit forms.
DurationWidth = Literal["long", "short", "narrow"]
#: The units of :func:`format_duration`, largest first.
DurationUnit = Literal["day", "hour", "minute", "second"]

_LIST_STYLES: Final[Mapping[str, Literal["unit", "unit-short", "unit-narrow"]]] = {
    "long": "unit",
    "short": "unit-short",
    "narrow": "unit-narrow",
}
_UNITS: Final[tuple[tuple[str, int], ...]] = (
    ("day", 86_400),
    ("hour", 3_600),
    ("minute", 60),
    ("second", 1),
)

# Chinese as support staff write it, in every width: 4分30秒, 2小时15分, 1天3小时
# (CLDR's zh gives 4分钟30秒钟 and zh_Hant "4 分鐘 30 秒"). Chinese has no shorter
# unit words, so long, short and narrow read alike.
_CHINESE_UNITS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh_Hans": {"day": "天", "hour": "小时", "minute": "分", "second": "秒"},
    "zh_Hant": {"day": "天", "hour": "小時", "minute": "分", "second": "秒"},
}
# Minutes shown alone read 分钟: a bare "5分" reads as a score or a sum of money.
_CHINESE_LONE_MINUTE: Final[Mapping[str, str]] = {"zh_Hans": "分钟", "zh_Hant": "分鐘"}


def _refuse(path: str, message: str) -> ValidationError:
    return ValidationError.single("duration", path, message)


def _amounts(value: timedelta, largest_unit: str, max_units: int | None) -> list[tuple[int, str]]:
    """The non-zero ``(amount, unit)`` pairs of ``value``, largest first."""
    names = [name for name, _ in _UNITS]
    remaining = value.days * 86_400 + value.seconds
    amounts: list[tuple[int, str]] = []
    for unit, seconds in _UNITS[names.index(largest_unit) :]:
        amount, remaining = divmod(remaining, seconds)
        if amount:
            amounts.append((amount, unit))
    if not amounts:
        amounts.append((0, "second"))
    return amounts if max_units is None else amounts[:max_units]


def format_duration(
    value: timedelta,
    locale: str | Locale = "en",
    *,
    width: DurationWidth = "long",
    max_units: int | None = None,
    largest_unit: DurationUnit = "day",
) -> str:
    """A duration in days, hours, minutes and seconds, such as "2 hours, 15 minutes".

    Babel's ``format_timedelta`` rounds to a single unit; this keeps every
    non-zero unit.

    >>> from datetime import timedelta
    >>> d = timedelta(hours=2, minutes=15)
    >>> format_duration(d), format_duration(d, width="short"), format_duration(d, width="narrow")
    ('2 hours, 15 minutes', '2 hr, 15 min', '2h 15m')
    >>> format_duration(timedelta(minutes=4, seconds=30), "zh_CN")
    '4分30秒'
    >>> format_duration(timedelta(minutes=4), "zh_CN"), format_duration(timedelta(0), "zh_TW")
    ('4分钟', '0秒')

    English (any region) formats each unit with the locale's CLDR unit
    pattern (:func:`babel.units.format_unit`) in ``width`` and joins them with
    the matching CLDR unit list pattern (:func:`babel.lists.format_list`,
    style ``unit``, ``unit-short`` or ``unit-narrow``).

    Chinese writes durations as support staff do, the same in every width:
    number and unit without spaces or separators, with the units 天, 小时
    (小時 in Traditional script), 分 and 秒, as in ``4分30秒`` or
    ``1天2小时3分4秒``. Minutes shown alone read 分钟 (分鐘): ``4分钟``, since
    a bare 分 reads as a score. Numbers use the locale's grouping (``5,405分钟``).

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

    The locale is one of :data:`~csdomain.i18n.SUPPORTED_LOCALES` or a variant
    of one, as for labels, so a duration never reads in another language than
    the labels beside it.

    Raises :class:`~csdomain.errors.ValidationError` for a negative duration,
    an unsupported locale, an unknown width or largest unit, or a ``max_units``
    below 1.
    """
    if not isinstance(value, timedelta):
        raise _refuse("value", f"expected a datetime.timedelta, got {describe(value)}")
    if value < timedelta(0):
        raise _refuse("value", f"expected a duration of zero or more, got -{-value}")
    list_style = _LIST_STYLES.get(width) if isinstance(width, str) else None
    if list_style is None:
        allowed = ", ".join(repr(w) for w in _LIST_STYLES)
        raise _refuse("width", f"expected one of {allowed}, got {describe(width)}")
    if max_units is not None and (
        isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1
    ):
        raise _refuse(
            "max_units", f"expected None or an integer of 1 or more, got {describe(max_units)}"
        )
    if not isinstance(largest_unit, str) or largest_unit not in dict(_UNITS):
        allowed = ", ".join(repr(u) for u, _ in _UNITS)
        raise _refuse("largest_unit", f"expected one of {allowed}, got {describe(largest_unit)}")
    loc, catalog = _resolve(locale)
    amounts = _amounts(value, largest_unit, max_units)

    chinese = _CHINESE_UNITS.get(catalog)
    if chinese is not None:
        if len(amounts) == 1 and amounts[0][1] == "minute":
            return format_decimal(amounts[0][0], locale=loc) + _CHINESE_LONE_MINUTE[catalog]
        return "".join(format_decimal(n, locale=loc) + chinese[unit] for n, unit in amounts)
    # Every English locale Babel ships with the Latin script has all three widths.
    parts = [format_unit(n, f"duration-{unit}", length=width, locale=loc) for n, unit in amounts]
    return format_list(parts, style=list_style, locale=loc)
