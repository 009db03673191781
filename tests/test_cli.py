"""The csdomain command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import csdomain
from csdomain.cli import describe_event, main, run_demo
from csdomain.serialization import from_json
from csdomain.tickets import Status, Ticket


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"csdomain {csdomain.__version__}"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "demo" in out
    code, out, _ = run(capsys)
    assert code == 0 and "usage: csdomain" in out


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "en",
            [
                "Solved",
                "Engineering",
                "Complaint",
                "WeChat official account",
                "4 minutes, 30 seconds",
            ],
        ),
        ("zh_CN", ["已解决", "二线", "投诉", "微信公众号", "工单", "客户已回复"]),
        ("zh_TW", ["已解決", "第二線", "微信公眾號", "工單", "客戶已回覆"]),
    ],
)
def test_demo_prints_localized_timelines(
    capsys: pytest.CaptureFixture[str], locale: str, words: list[str]
) -> None:
    code, out, _ = run(capsys, "demo", "--locale", locale)
    assert code == 0
    for word in words:
        assert word in out, word
    assert out.count("tkt_000") >= 3


def test_demo_json_document_loads_back(capsys: pytest.CaptureFixture[str]) -> None:
    tickets = run_demo("en", write=lambda _line: None)
    assert all(t.status is Status.SOLVED for t in tickets)
    assert tickets[0].tier == "L2"
    code, out, _ = run(capsys, "demo")
    assert code == 0
    document = out[out.index("{") :]
    assert from_json(document, Ticket) == tickets[0]
    assert json.loads(document)["document"] == "ticket"


def test_bad_locale_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "demo", "--locale", "xx_NOPE")
    assert code == 2 and "xx_NOPE" in err


def test_describe_event_covers_every_event_type() -> None:
    tickets = run_demo("en", write=lambda _line: None)
    kinds = {type(e) for t in tickets for e in t.timeline}
    assert len(kinds) >= 6
    for ticket in tickets:
        for event in ticket.timeline:
            assert describe_event(event, "zh_CN") != event.type_name


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "csdomain", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"csdomain {csdomain.__version__}"
