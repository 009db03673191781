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
    assert all(t.status is Status.SOLVED for t in tickets[:3])
    assert tickets[3].status is Status.NEW
    assert tickets[0].tier == "L2"
    code, out, _ = run(capsys, "demo")
    assert code == 0
    document = out[out.index("{") :]
    assert from_json(document, Ticket) == tickets[0]
    assert json.loads(document)["document"] == "ticket"


def test_demo_shows_each_tickets_sla_status(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert out.count("SLA at 17:00 (policy standard):") == 4
    # The outage was urgent: 30 calendar minutes to solve, solved after 44.
    assert "Resolution: Breached · 44 min of 30 min · breached at 11:37" in out
    # The call was answered within 4 minutes of the 2-hour business target.
    assert "First response: Achieved · 4 min of 2 hr" in out
    # The invoice request came in at 16:51 and nobody has answered: 9 minutes counted,
    # and the rest of the 2 business hours runs from tomorrow's opening.
    assert "First response: Running · 9 min of 2 hr · due 11-24 09:51" in out
    code, out, _ = run(capsys, "demo", "--locale", "zh_CN")
    assert "解决：已违约" in out and "首次响应：计时中" in out


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
