"""Tests for csdomain.i18n: labels, tiers, channels, catalogs and the package layout."""

from __future__ import annotations

import ast
import doctest
import gettext
import importlib.util
import re
import sys
from enum import Enum
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

import csdomain.i18n
from csdomain.channels import BUILTIN_CHANNELS, Channel, ChannelKind, ChannelTraits
from csdomain.customers import Consent, CustomerTier
from csdomain.errors import NotFoundError
from csdomain.i18n import (
    SUPPORTED_LOCALES,
    channel_label,
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
SIMPLIFIED = ("zh_CN", "zh_SG", "zh_Hans", "zh", "zh-CN", "zh_Hans_CN", "zh-Hans-CN", "ZH-cn")
TRADITIONAL = ("zh_TW", "zh_HK", "zh_MO", "zh_Hant", "zh-TW", "zh_Hant_TW", "zh-Hant-TW", "zh-hk")
ENGLISH = ("en", "en_US", "en_GB", "en-GB", "en_IN", "en-001")


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
    assert label(CustomerTier.STANDARD, "zh_CN") != label(AgentGrade.STANDARD, "zh_CN")


@pytest.mark.parametrize("locale", SIMPLIFIED)
def test_simplified_chinese_locales(locale: str) -> None:
    assert label(Status.SOLVED, locale) == "已解决"


@pytest.mark.parametrize("locale", TRADITIONAL)
def test_traditional_chinese_locales(locale: str) -> None:
    assert label(Status.SOLVED, locale) == "已解決"


@pytest.mark.parametrize("locale", ENGLISH)
def test_english_locales(locale: str) -> None:
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
        (Locale("zh", territory="MO", script="Hans"), "已解决"),
        (Locale("en"), "Solved"),
        (Locale("en", territory="GB"), "Solved"),
    ],
)
def test_babel_locale_objects(locale: Locale, expected: str) -> None:
    assert label(Status.SOLVED, locale) == expected


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


# -- package structure -----------------------------------------------------------------------

I18N = ROOT / "src" / "csdomain" / "i18n"


def _imported(path: Path) -> set[str]:
    """Every module a source file imports, at the top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _top(name: str) -> str:
    return name.partition(".")[0]


@pytest.mark.parametrize("module", ["catalogs", "labels", "durations"])
def test_core_modules_import_no_domain_module(module: str) -> None:
    allowed = ("csdomain._kernel", "csdomain.errors", "csdomain.i18n.")
    for name in _imported(I18N / f"{module}.py"):
        if _top(name) == "csdomain":
            assert name.startswith(allowed), f"csdomain.i18n.{module} imports {name}"
        else:
            assert _top(name) in sys.stdlib_module_names | {"babel"}, name


def test_only_the_facade_imports_channels_and_people() -> None:
    domain = {n for n in _imported(I18N / "__init__.py") if n.startswith("csdomain.")} - {
        f"csdomain.i18n.{m}" for m in ("catalogs", "labels", "durations")
    }
    assert domain == {"csdomain.channels", "csdomain.people"}
    assert sorted(p.name for p in I18N.glob("*.py")) == [
        "__init__.py",
        "catalogs.py",
        "durations.py",
        "labels.py",
    ]


def test_facade_reexports_every_public_name() -> None:
    names = set(csdomain.i18n.__all__)
    assert {
        "SUPPORTED_LOCALES",
        "channel_label",
        "format_duration",
        "label",
        "tier_label",
        "translation",
    } <= names
    for module in ("catalogs", "labels", "durations"):
        submodule = importlib.import_module(f"csdomain.i18n.{module}")
        for name in submodule.__all__:
            assert name in names, name
            assert getattr(csdomain.i18n, name) is getattr(submodule, name)


@pytest.mark.parametrize("module", ["catalogs", "labels", "durations"])
def test_submodule_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"csdomain.i18n.{module}"))
    assert result.attempted > 0
    assert result.failed == 0
