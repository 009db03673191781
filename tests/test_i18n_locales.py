"""Tests for csdomain.i18n locales: the spellings accepted, and every other locale refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from babel import Locale

from csdomain.errors import ValidationError
from csdomain.i18n import (
    SUPPORTED_LOCALES,
    catalog_locale,
    channel_label,
    format_duration,
    label,
    parse_locale,
    tier_label,
    translation,
)
from csdomain.tickets import Status

#: The spellings the issue names, browsers' hyphens included, and their catalogs.
SPELLINGS = {
    "en": "en",
    "en_US": "en",
    "en-US": "en",
    "en-gb": "en",
    "zh_CN": "zh_Hans",
    "zh-CN": "zh_Hans",
    "zh_Hans": "zh_Hans",
    "zh-Hans": "zh_Hans",
    "zh-Hans-CN": "zh_Hans",
    "zh": "zh_Hans",
    "zh_SG": "zh_Hans",
    "zh_TW": "zh_Hant",
    "zh-TW": "zh_Hant",
    "zh_Hant": "zh_Hant",
    "zh-Hant-TW": "zh_Hant",
    "zh_HK": "zh_Hant",
    "zh-MO": "zh_Hant",
    " zh-CN ": "zh_Hans",
}
UNSUPPORTED = ("fr", "de", "de_DE", "es", "es-419", "ja", "ko_KR", "yue", "zh_Latn", "und")
UNKNOWN = ("xx", "", "  ", "zz_QQ", "english", "zh_Hant_TW_XX_YY", "zh--CN")


@pytest.mark.parametrize(("spelling", "catalog"), SPELLINGS.items())
def test_spellings_browsers_send_are_accepted(spelling: str, catalog: str) -> None:
    assert catalog_locale(spelling) == catalog
    assert translation(spelling) is translation(catalog)
    assert label(Status.SOLVED, spelling) == label(Status.SOLVED, catalog)
    assert catalog in SUPPORTED_LOCALES


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_parse_locale_gives_babel_a_locale_it_can_format_with(spelling: str) -> None:
    locale = parse_locale(spelling)
    assert isinstance(locale, Locale)
    assert parse_locale(locale) is locale
    assert catalog_locale(locale) == SPELLINGS[spelling]


def test_parse_locale_keeps_the_territory() -> None:
    assert parse_locale("zh-TW") == Locale("zh", territory="TW", script="Hant")
    assert parse_locale("en-GB") == Locale("en", territory="GB")


@pytest.mark.parametrize(
    ("locale", "catalog"),
    [
        (Locale("zh", territory="TW", script="Hant"), "zh_Hant"),
        (Locale("zh", territory="HK", script="Hant"), "zh_Hant"),
        (Locale("zh", territory="HK", script="Hans"), "zh_Hans"),
        (Locale("zh", territory="CN", script="Hans"), "zh_Hans"),
        (Locale("zh", script="Hant"), "zh_Hant"),
        (Locale("zh"), "zh_Hans"),
        (Locale("en", territory="AU"), "en"),
    ],
)
def test_babel_locale_objects(locale: Locale, catalog: str) -> None:
    assert catalog_locale(locale) == catalog


@pytest.mark.parametrize("bad", UNSUPPORTED + UNKNOWN + (None, 42))
def test_other_locales_are_refused_with_the_supported_ones(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        label(Status.NEW, bad)  # type: ignore[arg-type]
    message = str(info.value)
    assert repr(bad) in message
    for supported in SUPPORTED_LOCALES:
        assert supported in message
    assert "zh-CN" in message and "zh-TW" in message
    assert info.value.subject == "locale"


@pytest.mark.parametrize(
    "bad",
    [
        Locale("fr"),
        Locale("de", territory="DE"),
        Locale("en", script="Dsrt"),
        Locale("zh", script="Latn"),
    ],
)
def test_unsupported_babel_locale_objects_are_refused(bad: Locale) -> None:
    with pytest.raises(ValidationError, match=repr(str(bad))):
        catalog_locale(bad)


def test_non_string_message_shows_no_object_repr() -> None:
    class Secret:
        def __repr__(self) -> str:
            return "phone 13800000000"

    with pytest.raises(ValidationError) as info:
        translation(Secret())  # type: ignore[arg-type]
    assert "13800000000" not in str(info.value)
    assert "Secret" in str(info.value)


@pytest.mark.parametrize("bad", ["xx", "fr"])
@pytest.mark.parametrize(
    "call",
    [
        translation,
        parse_locale,
        catalog_locale,
        lambda locale: label(Status.OPEN, locale),
        lambda locale: tier_label("L1", locale),
        lambda locale: tier_label("custom", locale),
        lambda locale: channel_label("line", locale),
        lambda locale: channel_label("email", locale),
        lambda locale: format_duration(timedelta(1), locale),
    ],
)
def test_every_entry_point_checks_the_locale(call: Callable[[str], object], bad: str) -> None:
    with pytest.raises(ValidationError, match=repr(bad)):
        call(bad)
