"""The csdomain command."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import pytest

import csdomain
from csdomain.cli import describe_event, main, run_demo
from csdomain.serialization import from_json
from csdomain.storage import open_store
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
    code, out, _ = run(capsys, "demo", "--memory", "--locale", locale)
    assert code == 0
    for word in words:
        assert word in out, word
    assert out.count("tkt_000") >= 3


def test_demo_json_document_loads_back(capsys: pytest.CaptureFixture[str]) -> None:
    tickets = run_demo("en", write=lambda _line: None)
    assert all(t.status is Status.SOLVED for t in tickets[:3])
    assert tickets[3].status is Status.NEW
    assert tickets[0].tier == "L2"
    code, out, _ = run(capsys, "demo", "--memory")
    assert code == 0
    document = out[out.index("{") :]
    assert from_json(document, Ticket) == tickets[0]
    assert json.loads(document)["document"] == "ticket"


def test_demo_shows_each_tickets_sla_status(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--memory")
    assert code == 0
    assert out.count("SLA at 17:00 (policy standard):") == 4
    # The outage was urgent: 30 calendar minutes to solve, solved after 44.
    assert "Resolution: Breached · 44 min of 30 min · breached at 11:37" in out
    # The call was answered within 4 minutes of the 2-hour business target.
    assert "First response: Achieved · 4 min of 2 hr" in out
    # The invoice request came in at 16:51 and nobody has answered: 9 minutes counted,
    # and the rest of the 2 business hours runs from tomorrow's opening.
    assert "First response: Running · 9 min of 2 hr · due 11-24 09:51" in out
    code, out, _ = run(capsys, "demo", "--memory", "--locale", "zh_CN")
    assert "解决：已违约" in out and "首次响应：计时中" in out


def test_demo_adds_to_the_same_store_on_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"memory:cli-{uuid.uuid4().hex}"
    code, out, _ = run(capsys, "demo", "--url", url)
    assert code == 0 and "now holds 3 customers and 4 tickets" in out
    code, out, _ = run(capsys, "demo", "--url", url)
    # The customers are found again by their contact addresses; the tickets are new.
    assert code == 0 and "now holds 3 customers and 8 tickets" in out
    assert "Ticket tkt_0008" in out and "Ticket tkt_0001" not in out
    store = open_store(url, tenant="demo")
    assert [s.value.id for s in store.tickets.list().items] == [f"tkt_{i:04d}" for i in range(1, 9)]
    # The open invoice requests are indexed by their next SLA deadline.
    due = store.tickets.due_before(datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert [s.value.id for s in due.items] == ["tkt_0004", "tkt_0008"]


def test_tickets_lists_page_by_page(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"memory:cli-{uuid.uuid4().hex}"
    run(capsys, "demo", "--url", url)
    code, out, _ = run(capsys, "tickets", "--url", url, "--page-size", "3")
    assert code == 0
    assert out.splitlines()[0] == "Page 1" and "Page 2" in out and "Page 3" not in out
    assert out.count("tkt_000") == 4
    code, out, _ = run(capsys, "tickets", "--url", url, "--status", "new", "--locale", "zh_CN")
    assert code == 0 and "tkt_0004" in out and "tkt_0001" not in out and "第 1 页" in out
    code, out, _ = run(capsys, "tickets", "--url", url, "--status", "pending")
    assert code == 0 and out.strip() == "No tickets."


def test_tickets_needs_a_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tickets")
    assert code == 2 and "--db PATH or --url URL" in err


def test_bad_locale_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "demo", "--memory", "--locale", "xx_NOPE")
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
