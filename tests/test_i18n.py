"""Tests for csdomain.i18n: labels, catalogs and compound durations."""

from __future__ import annotations

import doctest
import gettext
import importlib.util
import re
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

import csdomain.i18n
from csdomain.channels import BUILTIN_CHANNELS, Channel, ChannelKind, ChannelTraits
from csdomain.customers import Consent, CustomerTier
from csdomain.errors import NotFoundError, ValidationError
from csdomain.i18n import (
    SUPPORTED_LOCALES,
    channel_label,
    format_duration,
    label,
    tier_label,
    translation,
)
from csdomain.people import AgentGrade, EscalationLadder, EscalationTier, Presence, Role
from csdomain.priorities import Impact, Priority, Urgency
from csdomain.tickets import ActorKind, LinkKind, Status, TicketKind, Visibility

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "src" / "csdomain" / "i18n" / "locale"
CATALOGS = ("zh_Hans", "zh_Hant")

#: Every enum the issue asks labels for, listed here independently of i18n.py.
LABELLED: tuple[type[Enum], ...] = (
    Status,
    TicketKind,
    ActorKind,
    Visibility,
    LinkKind,
    Priority,
    Impact,
    Urgency,
    ChannelKind,
    CustomerTier,
    Consent,
    AgentGrade,
    Role,
    Presence,
)
MEMBERS = [m for enum in LABELLED for m in enum]
SIMPLIFIED = ("zh_CN", "zh_SG", "zh_Hans", "zh", "zh-CN", "zh_Hans_CN")
TRADITIONAL = ("zh_TW", "zh_HK", "zh_MO", "zh_Hant", "zh-TW", "zh_Hant_TW")
ENGLISH = ("en", "en_US", "en_GB", "fr", "ja", "de_DE")


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "update_catalogs.py"
    spec = importlib.util.spec_from_file_location("_update_catalogs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _po(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "csdomain.po").open("rb") as fp:
        return read_po(fp, locale=locale)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, str(m.id)) for m in catalog if m.id}


def _strings(catalog: Catalog) -> dict[tuple[str | None, str], str]:
    def context(value: str | bytes | None) -> str | None:
        # babel's read_mo leaves msgctxt as bytes.
        return value.decode() if isinstance(value, bytes) else value

    return {(context(m.context), str(m.id)): str(m.string) for m in catalog if m.id and not m.fuzzy}


# -- labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_every_member_has_a_label(member: Enum, locale: str) -> None:
    text = label(member, locale)
    assert isinstance(text, str)
    assert text.strip() == text
    assert text


@pytest.mark.parametrize("locale", CATALOGS)
@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_chinese_labels_are_translated(member: Enum, locale: str) -> None:
    # An untranslated or missing message falls back to the English msgid.
    assert label(member, locale) != label(member, "en")
    assert not re.search(r"[A-Za-z]{4,}", label(member, locale)), "English left in the label"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("enum", LABELLED, ids=lambda e: e.__name__)
def test_labels_tell_the_members_of_an_enum_apart(enum: type[Enum], locale: str) -> None:
    labels = [label(m, locale) for m in enum]
    assert len(set(labels)) == len(labels), labels


def test_english_labels() -> None:
    assert label(Status.ON_HOLD) == "On hold"
    assert label(Priority.NORMAL, "en_US") == "Normal"
    assert label(ChannelKind.WECHAT_MINI_PROGRAM) == "WeChat mini program"
    assert label(TicketKind.AFTER_SALES) == "After-sales"


@pytest.mark.parametrize(
    ("member", "hans", "hant"),
    [
        (Status.SOLVED, "已解决", "已解決"),
        (Status.CLOSED, "已关闭", "已關閉"),
        (TicketKind.CONSULTATION, "咨询", "諮詢"),
        (TicketKind.AFTER_SALES, "售后", "售後"),
        (ChannelKind.PHONE_HOTLINE, "电话热线", "電話熱線"),
        (ChannelKind.WECHAT_OFFICIAL_ACCOUNT, "微信公众号", "微信公眾號"),
        (ChannelKind.WECHAT_MINI_PROGRAM, "微信小程序", "微信小程式"),
        (ChannelKind.WECOM, "企业微信", "企業微信"),
        (ChannelKind.SMS, "短信", "簡訊"),
        (ChannelKind.LIVESTREAM, "直播", "直播"),
        (ChannelKind.ON_SITE, "上门服务", "到府服務"),
        (AgentGrade.STANDARD, "普通", "普通"),
        (AgentGrade.SENIOR, "高级", "高級"),
        (AgentGrade.ELITE, "精英", "菁英"),
        (AgentGrade.EXPERT, "专家", "專家"),
        (AgentGrade.GOLD, "金牌", "金牌"),
        (Priority.URGENT, "紧急", "緊急"),
        (Visibility.INTERNAL, "内部", "內部"),
    ],
)
def test_known_translations(member: Enum, hans: str, hant: str) -> None:
    assert label(member, "zh_CN") == hans
    assert label(member, "zh_TW") == hant


def test_labels_are_looked_up_in_the_enums_context() -> None:
    zh = translation("zh_CN")
    assert zh.pgettext("status", "Open") == label(Status.OPEN, "zh_CN") == "处理中"
    # Without the context the same English word is a different message.
    assert zh.gettext("Open") == "Open"
    assert label(Role.AGENT, "zh_CN") != label(ActorKind.AGENT, "zh_CN")


@pytest.mark.parametrize("locale", SIMPLIFIED)
def test_simplified_chinese_locales(locale: str) -> None:
    assert label(Status.SOLVED, locale) == "已解决"


@pytest.mark.parametrize("locale", TRADITIONAL)
def test_traditional_chinese_locales(locale: str) -> None:
    assert label(Status.SOLVED, locale) == "已解決"


@pytest.mark.parametrize("locale", ENGLISH)
def test_other_known_locales_fall_back_to_english(locale: str) -> None:
    assert label(Status.SOLVED, locale) == "Solved"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (Locale("zh", territory="TW", script="Hant"), "已解決"),
        (Locale.parse("zh_HK"), "已解決"),
        (Locale("zh", script="Hant"), "已解決"),
        (Locale("zh", territory="CN", script="Hans"), "已解决"),
        (Locale("zh"), "已解决"),
        (Locale.parse("zh_SG"), "已解决"),
        (Locale("en"), "Solved"),
        (Locale("de"), "Solved"),
    ],
)
def test_babel_locale_objects(locale: Locale, expected: str) -> None:
    assert label(Status.SOLVED, locale) == expected


@pytest.mark.parametrize("bad", ["xx", "", "  ", "zz_QQ", "english", "zh_Hant_TW_XX_YY", None, 42])
def test_unknown_locale_is_a_validation_error(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        label(Status.NEW, bad)  # type: ignore[arg-type]
    message = str(info.value)
    assert repr(bad) in message
    for supported in SUPPORTED_LOCALES:
        assert supported in message
    assert info.value.subject == "locale"


@pytest.mark.parametrize(
    "call",
    [
        lambda: translation("xx"),
        lambda: tier_label("L1", "xx"),
        lambda: tier_label("custom", "xx"),
        lambda: channel_label("line", "xx"),
        lambda: format_duration(timedelta(1), "xx"),
    ],
)
def test_every_entry_point_checks_the_locale(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError, match="'xx'"):
        call()


def test_enum_without_labels() -> None:
    class Colour(Enum):
        RED = "red"

    with pytest.raises(NotFoundError) as info:
        label(Colour.RED)
    assert isinstance(info.value, LookupError)
    message = str(info.value)
    assert "Colour.RED" in message
    for enum in LABELLED:
        assert enum.__name__ in message


def test_translation_is_cached_and_shared_by_aliases() -> None:
    assert translation("zh_CN") is translation("zh_Hans") is translation("zh_SG")
    assert translation("zh_TW") is translation("zh_HK")
    assert translation("zh_TW") is not translation("zh_CN")
    assert isinstance(translation("zh_TW"), gettext.GNUTranslations)
    english = translation("en")
    assert english.pgettext("status", "Open") == "Open"
    assert english.ngettext("ticket", "tickets", 2) == "tickets"


def test_docstring_examples() -> None:
    result = doctest.testmod(csdomain.i18n)
    assert result.attempted > 0
    assert result.failed == 0


# -- tiers and channels ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "en", "hans", "hant"),
    [
        ("L1", "Frontline", "一线", "第一線"),
        ("L2", "Engineering", "二线", "第二線"),
        ("L3", "Third-party vendor", "三线（第三方厂商）", "第三線（第三方廠商）"),
    ],
)
def test_builtin_tier_labels(key: str, en: str, hans: str, hant: str) -> None:
    assert tier_label(key) == en
    assert tier_label(key, "zh_CN") == hans
    assert tier_label(key, "zh_TW") == hant
    assert tier_label(EscalationTier(key=key, name="anything"), "zh_CN") == hans


def test_default_ladder_names_match_the_english_tier_labels() -> None:
    for tier in EscalationLadder.default().tiers:
        assert tier_label(tier, "en") == tier.name
        assert tier_label(tier, "zh_Hans") != tier.name


def test_custom_and_unknown_tiers() -> None:
    custom = EscalationTier(key="L4", name="消费者协会", external=True)
    assert tier_label(custom, "zh_TW") == "消费者协会"
    assert tier_label(custom) == "消费者协会"
    assert tier_label("vendor-x", "zh_CN") == "vendor-x"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("kind", list(ChannelKind), ids=lambda k: k.value)
def test_builtin_channel_labels(kind: ChannelKind, locale: str) -> None:
    expected = label(kind, locale)
    assert channel_label(kind, locale) == expected
    assert channel_label(kind.value, locale) == expected
    assert channel_label(BUILTIN_CHANNELS[kind.value], locale) == expected
    assert expected != kind.value


def test_custom_and_unknown_channels() -> None:
    line = Channel(key="line", traits=ChannelTraits(synchronous=False), name="LINE 官方帳號")
    assert channel_label(line, "zh_TW") == "LINE 官方帳號"
    assert channel_label(line) == "LINE 官方帳號"
    assert channel_label("telegram", "zh_CN") == "telegram"


# -- catalogs --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    """The messages the sources mark today, extracted with the project's babel.cfg."""
    catalog: Catalog = _load_script().extract_template()
    return catalog


def test_template_is_up_to_date(extracted: Catalog) -> None:
    with (LOCALE_DIR / "csdomain.pot").open("rb") as fp:
        template = read_po(fp)
    missing = _keys(extracted) - _keys(template)
    stale = _keys(template) - _keys(extracted)
    assert not missing, f"run scripts/update_catalogs.py; not in the .pot: {sorted(missing)}"
    assert not stale, f"run scripts/update_catalogs.py; no longer in the sources: {sorted(stale)}"


def test_extraction_finds_every_label(extracted: Catalog) -> None:
    keys = _keys(extracted)
    assert len(keys) >= len(MEMBERS) + 3
    assert ("status", "Open") in keys
    assert ("priority", "Normal") in keys
    assert ("escalation tier", "Frontline") in keys
    # The same English word in two enums is two messages.
    assert {("impact", "Low"), ("urgency", "Low"), ("priority", "Low")} <= keys


@pytest.mark.parametrize("locale", CATALOGS)
def test_catalog_is_up_to_date_and_complete(extracted: Catalog, locale: str) -> None:
    catalog = _po(locale)
    assert _keys(catalog) == _keys(extracted), "run scripts/update_catalogs.py"
    assert not catalog.fuzzy
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    empty = sorted(str(m.id) for m in catalog if m.id and not m.string)
    assert not fuzzy, f"{locale}: fuzzy translations to review: {fuzzy}"
    assert not empty, f"{locale}: untranslated: {empty}"
    assert not list(catalog.obsolete)


@pytest.mark.parametrize("locale", CATALOGS)
def test_compiled_catalog_matches_its_po(tmp_path: Path, locale: str) -> None:
    catalog = _po(locale)
    fresh = tmp_path / "csdomain.mo"
    with fresh.open("wb") as fp:
        write_mo(fp, catalog, use_fuzzy=False)
    with fresh.open("rb") as fp:
        expected = _strings(read_mo(fp))
    shipped_path = LOCALE_DIR / locale / "LC_MESSAGES" / "csdomain.mo"
    with shipped_path.open("rb") as fp:
        shipped = _strings(read_mo(fp))
    assert shipped == expected, "the .mo is stale: run scripts/update_catalogs.py"
    assert expected == _strings(catalog)


@pytest.mark.parametrize("locale", CATALOGS)
def test_compiled_catalogs_are_package_data(locale: str) -> None:
    mo = resources.files("csdomain.i18n") / "locale" / locale / "LC_MESSAGES" / "csdomain.mo"
    assert mo.is_file()
    with mo.open("rb") as fp:
        assert gettext.GNUTranslations(fp).pgettext("status", "Solved") != "Solved"


# -- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (timedelta(hours=2, minutes=15), "en", "2 hours, 15 minutes"),
        (timedelta(hours=2, minutes=15), "zh_CN", "2小时15分钟"),
        (timedelta(hours=2, minutes=15), "zh_TW", "2 小時 15 分鐘"),
        (timedelta(hours=2, minutes=15), "zh_Hant", "2 小時 15 分鐘"),
        (timedelta(0), "en", "0 seconds"),
        (timedelta(0), "zh_CN", "0秒钟"),
        (timedelta(0), "zh_TW", "0 秒"),
        (timedelta(microseconds=999_999), "en", "0 seconds"),
        (timedelta(days=1), "en", "1 day"),
        (timedelta(days=3, hours=4), "en", "3 days, 4 hours"),
        (timedelta(days=3, hours=4), "zh_CN", "3天4小时"),
        (timedelta(days=2, seconds=5), "en", "2 days, 5 seconds"),
        (timedelta(seconds=1), "en", "1 second"),
        (timedelta(seconds=45, microseconds=700_000), "en", "45 seconds"),
        (
            timedelta(days=1, hours=1, minutes=1, seconds=1),
            "en",
            "1 day, 1 hour, 1 minute, 1 second",
        ),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "zh_CN", "1天2小时3分钟4秒钟"),
        (timedelta(days=1500), "en", "1,500 days"),
        (timedelta(hours=2, minutes=15), Locale.parse("zh_CN"), "2小时15分钟"),
    ],
)
def test_format_duration(value: timedelta, locale: str | Locale, expected: str) -> None:
    assert format_duration(value, locale) == expected


@pytest.mark.parametrize(
    ("locale", "width", "expected"),
    [
        ("en", "short", "2 hr, 15 min"),
        ("en", "narrow", "2h 15m"),
        ("zh_CN", "short", "2小时15分钟"),
        ("zh_CN", "narrow", "2小时15分钟"),
        ("zh_HK", "narrow", "2小時15分"),
    ],
)
def test_format_duration_widths(locale: str, width: str, expected: str) -> None:
    assert format_duration(timedelta(hours=2, minutes=15), locale, width=width) == expected


def test_format_duration_largest_unit() -> None:
    ninety = timedelta(hours=90, minutes=5)
    assert format_duration(ninety, "en") == "3 days, 18 hours, 5 minutes"
    assert format_duration(ninety, "en", largest_unit="hour") == "90 hours, 5 minutes"
    assert format_duration(ninety, "zh_CN", largest_unit="minute") == "5,405分钟"
    with pytest.raises(ValidationError, match="largest_unit: expected one of 'day', 'hour'"):
        format_duration(ninety, "en", largest_unit="week")


def test_format_duration_narrow_zh_hant_follows_the_installed_cldr() -> None:
    # CLDR before 47 had no narrow duration units for zh_Hant (short units joined
    # as short units, "2 小時 15 分鐘"); later CLDR has narrow units and a narrow
    # list pattern without a space. Either way the units are never mixed.
    narrow = Locale.parse("zh_TW")._data["unit_patterns"]["duration-hour"].get("narrow", {})
    expected = "2 小時15 分鐘" if "other" in narrow else "2 小時 15 分鐘"
    assert format_duration(timedelta(hours=2, minutes=15), "zh_TW", width="narrow") == expected


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
def test_format_duration_max_units(value: timedelta, max_units: int, expected: str) -> None:
    assert format_duration(value, max_units=max_units) == expected


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
        ({"max_units": 0}, "max_units"),
        ({"max_units": -2}, "max_units"),
        ({"max_units": True}, "max_units"),
        ({"max_units": 1.5}, "max_units"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        format_duration(timedelta(hours=1), **kwargs)  # type: ignore[arg-type]
    assert info.value.paths == (path,)


def test_non_timedelta_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timedelta"):
        format_duration(3600)  # type: ignore[arg-type]


_EN_PART = re.compile(r"^(?P<n>[\d,]+) (?P<unit>day|hour|minute|second)(?P<s>s?)$")
_UNIT_SECONDS = {"day": 86_400, "hour": 3_600, "minute": 60, "second": 1}
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3653))


def _components(value: timedelta) -> dict[str, int]:
    return {
        "day": value.days,
        "hour": value.seconds // 3600,
        "minute": value.seconds // 60 % 60,
        "second": value.seconds % 60,
    }


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


@settings(deadline=None)
@given(durations)
def test_simplified_chinese_durations_concatenate_units(value: timedelta) -> None:
    c = _components(value)
    units = {"day": "天", "hour": "小时", "minute": "分钟", "second": "秒钟"}
    expected = "".join(f"{n:,}{units[u]}" for u, n in c.items() if n) or "0秒钟"
    assert format_duration(value, "zh_CN") == expected


@settings(deadline=None)
@given(
    durations,
    st.sampled_from(["en", "zh_CN", "zh_TW", "zh_HK", "fr", "ja", "ar"]),
    st.sampled_from(["long", "short", "narrow"]),
    st.integers(min_value=1, max_value=4),
)
def test_format_duration_never_fails_and_max_units_keeps_a_prefix(
    value: timedelta, locale: str, width: str, max_units: int
) -> None:
    full = format_duration(value, locale, width=width)
    short = format_duration(value, locale, width=width, max_units=max_units)
    assert full
    assert short
    nonzero = sum(1 for n in _components(value).values() if n)
    if nonzero <= max_units:
        assert short == full
    elif locale == "en" and width != "narrow":
        assert len(short.split(", ")) == max_units
        assert full.startswith(short)


@pytest.mark.parametrize("locale", ["de", "es", "es_419", "hy", "to", "fr", "ja"])
def test_format_duration_works_where_babel_lacks_unit_list_patterns(locale: str) -> None:
    text = format_duration(timedelta(days=1, hours=1, minutes=1, seconds=1), locale)
    assert text.count("1") == 4
