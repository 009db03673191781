"""The Chinese glossary, checked over every msgstr of the catalogs.

The rules are those of docs/guide/localization.md ("Glossary"): how support
staff in mainland China and in Taiwan say breach, reply, agent, priority and
durations, and full-width punctuation in Chinese lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from csdomain.i18n import format_duration, label
from csdomain.people import Role
from csdomain.sla import SlaMetric, SlaState
from csdomain.tickets import ActorKind

LOCALE_DIR = Path(__file__).resolve().parent.parent / "src" / "csdomain" / "i18n" / "locale"
CATALOGS = ("zh_Hans", "zh_Hant")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _catalog(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "csdomain.po").open("rb") as fp:
        return read_po(fp, locale=locale)


def _messages(locale: str) -> list[Message]:
    return [m for m in _catalog(locale) if m.id]


def _name(message: Message) -> str:
    return f"{message.context} | {message.id}" if message.context else str(message.id)


def _violations(locale: str, ok: Callable[[Message], object]) -> list[str]:
    return [f"{_name(m)} => {m.string}" for m in _messages(locale) if not ok(m)]


def _english(message: Message) -> str:
    """The English message without its placeholders ("{priority}" names no priority)."""
    return _PLACEHOLDER.sub("", str(message.id)).lower()


def _chinese(message: Message) -> str:
    return str(message.string)


# -- both scripts ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", CATALOGS)
def test_chinese_lines_use_full_width_punctuation(locale: str) -> None:
    def ok(m: Message) -> bool:
        text = _PLACEHOLDER.sub("", _chinese(m))
        return not re.search(r"[:;,()!?]|->|\.\Z| – ", text)

    assert not _violations(locale, ok)


@pytest.mark.parametrize("locale", CATALOGS)
def test_placeholders_are_kept(locale: str) -> None:
    def ok(m: Message) -> bool:
        return sorted(_PLACEHOLDER.findall(str(m.id))) == sorted(_PLACEHOLDER.findall(_chinese(m)))

    assert not _violations(locale, ok)


@pytest.mark.parametrize("locale", CATALOGS)
def test_one_word_for_agent(locale: str) -> None:
    # 客服 throughout; not 坐席/座席 (call-centre jargon) nor 专员 (a job title).
    def ok(m: Message) -> bool:
        text = _chinese(m)
        if re.search("[坐座]席|专员|專員|客服代表|客服人员|客服人員", text):
            return False
        return "agent" not in _english(m) or "客服" in text

    assert not _violations(locale, ok)
    assert label(Role.AGENT, locale) == label(ActorKind.AGENT, locale) == "客服"


# Common characters that the two scripts write differently.
_SIMPLIFIED_ONLY = (
    "时单户级务关开门问们个这说应东车动体来发优处设计认证联网页线话电视频讯邮业专经类题态标签规则"
)
_TRADITIONAL_ONLY = (
    "時單戶級務關開門問們個這說應東車動體來發優處設計認證聯網頁線話電視頻訊郵業專經類題態標簽籤規則"
)


def test_each_catalog_keeps_to_its_script() -> None:
    assert not _violations("zh_Hans", lambda m: not set(_chinese(m)) & set(_TRADITIONAL_ONLY))
    assert not _violations("zh_Hant", lambda m: not set(_chinese(m)) & set(_SIMPLIFIED_ONLY))


@pytest.mark.parametrize(
    ("locale", "escalation", "ticket", "round_robin"),
    [("zh_Hans", "升级", "工单", "轮询"), ("zh_Hant", "升級", "工單", "輪詢")],
)
def test_escalation_tickets_and_round_robin_have_one_word(
    locale: str, escalation: str, ticket: str, round_robin: str
) -> None:
    # Escalation up the tiers is 升级 (not 上报, reporting to a superior); a ticket is 工单;
    # round-robin assignment is 轮询 (not 轮流, 循环).
    def ok(m: Message) -> bool:
        english, text = _english(m), _chinese(m)
        if re.search("上报|上報|轮流|輪流|循环分配|循環指派", text):
            return False
        if "escalat" in english and escalation not in text:
            return False
        if re.search(r"\bticket", english) and ticket not in text:
            return False
        return "round robin" not in english or round_robin in text

    assert not _violations(locale, ok)


# -- zh_Hans ---------------------------------------------------------------------------------


def test_hans_a_breach_is_chaoshi() -> None:
    def ok(m: Message) -> bool:
        text = _chinese(m)
        return "违约" not in text and ("breach" not in _english(m) or "超时" in text)

    assert not _violations("zh_Hans", ok)
    assert label(SlaState.BREACHED, "zh_CN") == "已超时"


def test_hans_an_agent_reply_is_huifu_and_liuyan_is_for_customers_only() -> None:
    def ok(m: Message) -> bool:
        english, text = _english(m), _chinese(m)
        if "repl" in english and "回复" not in text:
            return False
        # 留言 is a message the customer left (asynchronously); an agent never 留言s, and
        # a message of either party ("message via ...") is 消息.
        return "留言" not in text or ("customer" in english and "agent" not in english)

    assert not _violations("zh_Hans", ok)


def test_hans_resolution_is_jiejue_shichang() -> None:
    assert label(SlaMetric.RESOLUTION, "zh_CN") == "解决时长"
    # 解决 stands alone only as a state (已解决), never as the metric.
    assert not _violations(
        "zh_Hans",
        lambda m: "解决" not in _chinese(m) or re.search("已解决|解决时长", _chinese(m)),
    )


@pytest.mark.parametrize("width", ["long", "short", "narrow"])
def test_hans_durations_are_compact(width: str) -> None:
    def text(**kwargs: int) -> str:
        return format_duration(timedelta(**kwargs), "zh_CN", width=width)  # type: ignore[arg-type]

    assert text(minutes=4, seconds=30) == "4分30秒"
    assert text(hours=2, minutes=15) == "2小时15分"
    assert text(days=1, hours=2, minutes=3, seconds=4) == "1天2小时3分4秒"
    assert text(minutes=4) == "4分钟"
    assert "秒钟" not in text(seconds=5)


# -- zh_Hant ---------------------------------------------------------------------------------


def test_hant_a_breach_is_yushi() -> None:
    def ok(m: Message) -> bool:
        text = _chinese(m)
        return "違約" not in text and ("breach" not in _english(m) or "逾時" in text)

    assert not _violations("zh_Hant", ok)
    assert label(SlaState.BREACHED, "zh_TW") == "已逾時"


def test_hant_priority_is_youxian_shunxu() -> None:
    def ok(m: Message) -> bool:
        text = _chinese(m)
        if "優先級" in text or "優先權" in text:
            return False
        return "priority" not in _english(m) or "優先順序" in text

    assert not _violations("zh_Hant", ok)


def test_hant_durations_are_compact() -> None:
    assert format_duration(timedelta(minutes=4, seconds=30), "zh_TW") == "4分30秒"
    assert format_duration(timedelta(hours=2, minutes=15), "zh_HK") == "2小時15分"
    assert format_duration(timedelta(minutes=4), "zh_TW", width="short") == "4分鐘"
