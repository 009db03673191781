"""Tests for csdomain.i18n.format_duration: English from CLDR, Chinese in the compact form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel import Locale, localedata
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.i18n import format_duration
from csdomain.i18n.durations import DurationWidth

WIDTHS: tuple[DurationWidth, ...] = ("long", "short", "narrow")
_UNIT_SECONDS = {"day": 86_400, "hour": 3_600, "minute": 60, "second": 1}
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3653))


def _components(value: timedelta) -> dict[str, int]:
    return {
        "day": value.days,
        "hour": value.seconds // 3600,
        "minute": value.seconds // 60 % 60,
        "second": value.seconds % 60,
    }


# -- English ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(hours=2, minutes=15), "2 hours, 15 minutes"),
        (timedelta(0), "0 seconds"),
        (timedelta(microseconds=999_999), "0 seconds"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3, hours=4), "3 days, 4 hours"),
        (timedelta(days=2, seconds=5), "2 days, 5 seconds"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=45, microseconds=700_000), "45 seconds"),
        (timedelta(days=1, hours=1, minutes=1, seconds=1), "1 day, 1 hour, 1 minute, 1 second"),
        (timedelta(days=1500), "1,500 days"),
    ],
)
def test_english(value: timedelta, expected: str) -> None:
    assert format_duration(value, "en") == expected


@pytest.mark.parametrize(
    ("width", "expected"),
    [("long", "2 hours, 15 minutes"), ("short", "2 hr, 15 min"), ("narrow", "2h 15m")],
)
def test_english_widths(width: DurationWidth, expected: str) -> None:
    assert format_duration(timedelta(hours=2, minutes=15), "en", width=width) == expected


def _english_locales() -> list[str]:
    found = []
    for identifier in localedata.locale_identifiers():
        locale = Locale.parse(identifier)
        if locale.language == "en" and locale.script in (None, "Latn"):
            found.append(identifier)
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_every_english_locale_babel_ships_formats_every_width(width: DurationWidth) -> None:
    # Babel leaves root-inherited CLDR data unresolved; every supported English locale
    # must have its own unit and list patterns, or this raises KeyError.
    value = timedelta(days=1, hours=2, minutes=1, seconds=3)
    locales = _english_locales()
    assert len(locales) > 100
    for identifier in locales:
        text = format_duration(value, identifier, width=width)
        assert re.fullmatch(r"[^\d]*1[^\d]+2[^\d]+1[^\d]+3[^\d]*", text), (identifier, text)


_EN_PART = re.compile(r"^(?P<n>[\d,]+) (?P<unit>day|hour|minute|second)(?P<s>s?)$")


@settings(deadline=None)
@given(durations)
def test_english_durations_name_every_non_zero_unit(value: timedelta) -> None:
    text = format_duration(value, "en")
    expected = {u: n for u, n in _components(value).items() if n} or {"second": 0}
    found: dict[str, int] = {}
    for part in text.split(", "):
        match = _EN_PART.match(part)
        assert match, f"{part!r} in {text!r}"
        n = int(match["n"].replace(",", ""))
        assert (match["s"] == "") == (n == 1), f"plural of {part!r}"
        found[match["unit"]] = n
    assert found == expected
    assert list(found) == [u for u in _UNIT_SECONDS if u in found], "largest unit first"
    total = sum(n * _UNIT_SECONDS[u] for u, n in found.items())
    assert total == value.days * 86_400 + value.seconds


# -- Chinese ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hans", "hant"),
    [
        (timedelta(minutes=4, seconds=30), "4分30秒", "4分30秒"),
        (timedelta(hours=2, minutes=15), "2小时15分", "2小時15分"),
        (timedelta(days=3, hours=4), "3天4小时", "3天4小時"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1天2小时3分4秒", "1天2小時3分4秒"),
        (timedelta(days=1, minutes=5), "1天5分", "1天5分"),
        (timedelta(hours=1, seconds=9), "1小时9秒", "1小時9秒"),
        # Minutes alone read 分钟: a bare 5分 reads as a score.
        (timedelta(minutes=5), "5分钟", "5分鐘"),
        (timedelta(minutes=5, microseconds=10), "5分钟", "5分鐘"),
        (timedelta(hours=2), "2小时", "2小時"),
        (timedelta(seconds=30), "30秒", "30秒"),
        (timedelta(0), "0秒", "0秒"),
        (timedelta(days=1500), "1,500天", "1,500天"),
    ],
)
def test_chinese_is_compact(value: timedelta, hans: str, hant: str) -> None:
    for width in WIDTHS:
        assert format_duration(value, "zh_CN", width=width) == hans
        assert format_duration(value, "zh_TW", width=width) == hant


@pytest.mark.parametrize("locale", ["zh", "zh_CN", "zh-CN", "zh_SG", "zh_Hans", Locale("zh")])
def test_every_simplified_locale_reads_alike(locale: str | Locale) -> None:
    assert format_duration(timedelta(minutes=4, seconds=30), locale) == "4分30秒"


@pytest.mark.parametrize("locale", ["zh_TW", "zh-TW", "zh_HK", "zh_MO", "zh-Hant-TW"])
def test_every_traditional_locale_reads_alike(locale: str) -> None:
    # CLDR's zh_Hant_HK writes 日 and spaces ("1 日 2 小時"); csdomain follows its catalog.
    assert format_duration(timedelta(days=1, hours=2), locale) == "1天2小時"


def test_chinese_with_max_units_and_largest_unit() -> None:
    value = timedelta(days=1, hours=3, minutes=59, seconds=5)
    assert format_duration(value, "zh_CN", max_units=2) == "1天3小时"
    assert format_duration(value, "zh_CN", max_units=3) == "1天3小时59分"
    assert format_duration(timedelta(minutes=90), "zh_CN", max_units=1) == "1小时"
    assert format_duration(timedelta(minutes=59, seconds=5), "zh_CN", max_units=1) == "59分钟"
    ninety = timedelta(hours=90, minutes=5)
    assert format_duration(ninety, "zh_CN", largest_unit="hour") == "90小时5分"
    assert format_duration(ninety, "zh_CN", largest_unit="minute") == "5,405分钟"
    assert format_duration(ninety, "zh_TW", largest_unit="second") == "324,300秒"


_ZH_PART = re.compile(r"([\d,]+)(天|小时|分钟|分|秒)")
_ZH_UNITS = {"天": "day", "小时": "hour", "分": "minute", "分钟": "minute", "秒": "second"}


@settings(deadline=None)
@given(durations, st.sampled_from(WIDTHS))
def test_simplified_chinese_names_every_non_zero_unit(
    value: timedelta, width: DurationWidth
) -> None:
    text = format_duration(value, "zh_CN", width=width)
    parts = _ZH_PART.findall(text)
    assert "".join(n + u for n, u in parts) == text, "nothing between the parts"
    assert not re.search(r"[\s、，,和]", re.sub(r"\d,\d", "", text)), text
    found = {_ZH_UNITS[u]: int(n.replace(",", "")) for n, u in parts}
    expected = {u: n for u, n in _components(value).items() if n} or {"second": 0}
    assert found == expected
    assert list(found) == [u for u in _UNIT_SECONDS if u in found], "largest unit first"
    assert ("分钟" in text) == (list(found) == ["minute"]), "分钟 only for minutes alone"
    assert "秒钟" not in text


# -- across locales --------------------------------------------------------------------------


@settings(deadline=None)
@given(
    durations,
    st.sampled_from(["en", "en_GB", "zh_CN", "zh_TW", "zh_HK"]),
    st.sampled_from(WIDTHS),
    st.integers(min_value=1, max_value=4),
)
def test_max_units_keeps_a_prefix(
    value: timedelta, locale: str, width: DurationWidth, max_units: int
) -> None:
    full = format_duration(value, locale, width=width)
    short = format_duration(value, locale, width=width, max_units=max_units)
    nonzero = sum(1 for n in _components(value).values() if n)
    if nonzero <= max_units:
        assert short == full
    elif locale.startswith("zh"):
        # A prefix of the units; only a lone minute changes its word (分 -> 分钟).
        prefix = short[: -len("分钟")] + "分" if short.endswith("分钟") else short
        assert full.startswith(prefix)
    elif width != "narrow":
        assert len(short.split(", ")) == max_units
        assert full.startswith(short)


@pytest.mark.parametrize(
    ("value", "max_units", "expected"),
    [
        (timedelta(days=1, hours=3, minutes=59), 1, "1 day"),
        (timedelta(days=1, hours=3, minutes=59), 2, "1 day, 3 hours"),
        (timedelta(days=1, hours=3, minutes=59), 3, "1 day, 3 hours, 59 minutes"),
        (timedelta(days=1, hours=3, minutes=59), 9, "1 day, 3 hours, 59 minutes"),
        (timedelta(days=1, minutes=5, seconds=3), 2, "1 day, 5 minutes"),
        (timedelta(0), 1, "0 seconds"),
    ],
)
def test_max_units(value: timedelta, max_units: int, expected: str) -> None:
    assert format_duration(value, max_units=max_units) == expected


def test_largest_unit() -> None:
    ninety = timedelta(hours=90, minutes=5)
    assert format_duration(ninety, "en") == "3 days, 18 hours, 5 minutes"
    assert format_duration(ninety, "en", largest_unit="hour") == "90 hours, 5 minutes"
    with pytest.raises(ValidationError, match="largest_unit: expected one of 'day', 'hour'"):
        format_duration(ninety, "en", largest_unit="week")  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", ["de", "es", "fr", "ja", "es_419", "de_DE", Locale("fr")])
def test_unsupported_locales_are_refused_not_formatted_in_their_own_words(
    locale: str | Locale,
) -> None:
    # Before: "1 Tag, 1 Stunde, ..." next to English labels.
    with pytest.raises(ValidationError) as info:
        format_duration(timedelta(days=1, hours=1), locale)
    assert info.value.subject == "locale"
    assert "zh_Hans" in str(info.value)


def test_negative_duration_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        format_duration(timedelta(seconds=-1))
    assert info.value.paths == ("value",)
    assert "-0:00:01" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"width": "medium"}, "width"),
        ({"width": "LONG"}, "width"),
        ({"width": None}, "width"),
        ({"max_units": 0}, "max_units"),
        ({"max_units": -2}, "max_units"),
        ({"max_units": True}, "max_units"),
        ({"max_units": 1.5}, "max_units"),
        ({"largest_unit": "days"}, "largest_unit"),
        ({"largest_unit": 3}, "largest_unit"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        format_duration(timedelta(hours=1), **kwargs)  # type: ignore[arg-type]
    assert info.value.paths == (path,)
    assert info.value.subject == "duration"


def test_non_timedelta_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timedelta, got 3600"):
        format_duration(3600)  # type: ignore[arg-type]
