"""The csdomain command."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

import csdomain
from csdomain.cli import DEMO_DB, list_tickets, main, run_demo
from csdomain.i18n import SUPPORTED_LOCALES, label
from csdomain.serialization import from_json
from csdomain.sla import SlaState
from csdomain.storage import open_store
from csdomain.tickets import Status, Ticket
from csdomain.tickets.rendering import describe_event


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
    # The words are the catalog's (reviewed elsewhere); the layout is the demo's.
    breached, running = (label(state, "zh_CN") for state in (SlaState.BREACHED, SlaState.RUNNING))
    assert f"：{breached} · " in out and f"：{running} · " in out


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


@pytest.mark.parametrize("locale", ["xx_NOPE", "fr", "zh-XX-nope"])
def test_bad_locale_is_a_usage_error_listing_the_supported_ones(
    capsys: pytest.CaptureFixture[str], locale: str
) -> None:
    code, out, err = run(capsys, "demo", "--memory", "--locale", locale)
    assert code == 2 and not out
    assert "argument --locale: " in err and repr(locale) in err
    assert all(supported in err for supported in SUPPORTED_LOCALES)
    assert "Traceback" not in err


@pytest.mark.parametrize(("hyphen", "underscore"), [("zh-CN", "zh_CN"), ("zh-TW", "zh_TW")])
def test_locale_may_be_written_with_a_hyphen(
    capsys: pytest.CaptureFixture[str], hyphen: str, underscore: str
) -> None:
    code, out, err = run(capsys, "demo", "--memory", "--locale", hyphen)
    assert code == 0 and not err
    assert (0, out, "") == run(capsys, "demo", "--memory", "--locale", underscore)
    url = f"memory:cli-{uuid.uuid4().hex}"
    run(capsys, "demo", "--url", url)
    listed = run(capsys, "tickets", "--url", url, "--locale", hyphen)
    assert listed == run(capsys, "tickets", "--url", url, "--locale", underscore)
    assert listed[0] == 0 and label(Status.SOLVED, underscore) in listed[1]


def test_tickets_refuses_a_database_file_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.db"
    code, out, err = run(capsys, "tickets", "--db", str(missing))
    assert code == 2 and not out
    assert f"argument --db: no such database file: {missing}" in err
    assert not missing.exists()  # nothing was created
    # A directory is no database file either.
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    code, _, err = run(capsys, "tickets", "--db", str(directory))
    assert code == 2 and str(directory) in err


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["tickets", "--url", "memory:", "--tenant", "a b"], "--tenant"),
        (["tickets", "--url", "memory:", "--tenant", ""], "--tenant"),
        (["demo", "--memory", "--tenant", "-x"], "--tenant"),
        (["tickets", "--url", "memory:", "--page-size", "0"], "--page-size"),
        (["tickets", "--url", "memory:", "--page-size", "1001"], "--page-size"),
        (["tickets", "--url", "memory:", "--page-size", "ten"], "--page-size"),
        (["tickets", "--url", "bogus://x"], "--url"),
        (["tickets", "--url", "no-scheme"], "--url"),
        (["tickets", "--url", "memory:", "--status", "done"], "--status"),
        (["demo", "--db", "/nonexistent-directory/demo.db"], "--db"),
    ],
)
def test_bad_values_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], arguments: list[str], option: str
) -> None:
    code, out, err = run(capsys, *arguments)
    assert code == 2 and not out
    message = err.strip().splitlines()[-1]
    assert message.startswith(f"csdomain {arguments[0]}: error: argument {option}: "), message
    for internal in ("open_store", "_tenant", "_page_size", "limit", "invalid page"):
        assert internal not in message


def test_demo_says_which_file_it_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "demo")
    written = tmp_path / DEMO_DB
    assert code == 0 and written.is_file()
    assert out.splitlines()[-1] == (
        f"Saved in {written}: the store of tenant demo now holds 3 customers and 4 tickets."
    )
    code, out, _ = run(capsys, "demo", "--db", "other.db", "--tenant", "acme")
    assert out.splitlines()[-1].startswith(f"Saved in {tmp_path / 'other.db'}: ")
    assert "tenant acme" in out
    code, out, _ = run(capsys, "demo", "--url", f"sqlite:///{written}")
    assert out.splitlines()[-1].startswith(f"Saved in sqlite:///{written}: ")
    assert "now holds 3 customers and 8 tickets" in out
    code, out, _ = run(capsys, "demo", "--memory")
    assert "Saved" not in out and not (tmp_path / "memory").exists()


def test_run_demo_and_list_tickets_as_functions() -> None:
    store = open_store("memory:", tenant="demo")
    lines: list[str] = []
    stored_when_writing: list[int] = []

    def write(line: str) -> None:
        stored_when_writing.append(store.tickets.count())
        lines.append(line)

    tickets = run_demo(write=write, store=store)
    # Saved before the first line is written, so a reader that stops early loses nothing.
    assert set(stored_when_writing) == {4}
    # Without a location, the last line names none.
    assert lines[-1] == "Saved: the store of tenant demo now holds 3 customers and 4 tickets."
    shown: list[str] = []
    assert list_tickets(store, statuses=[Status.NEW], write=shown.append) == 1
    assert shown == [
        "Page 1",
        f"  {tickets[3].id}  New · Normal · 2026-11-23 16:51 · Invoice for order 9921",
    ]


def test_describe_event_covers_every_event_type() -> None:
    tickets = run_demo("en", write=lambda _line: None)
    kinds = {type(e) for t in tickets for e in t.timeline}
    assert len(kinds) >= 6
    for ticket in tickets:
        for event in ticket.timeline:
            assert describe_event(event, "zh_CN") != event.type_name
            assert describe_event(event, "zh-CN") == describe_event(event, "zh_CN")


def test_describe_event_lines() -> None:
    refund, call, outage, _ = run_demo("en", write=lambda _line: None)
    assert [describe_event(e) for e in refund.timeline[:3]] == [
        "opened: 退款未到账 / refund not received (Complaint, WeChat official account, "
        "priority High, Frontline)",
        "message via WeChat official account: 订单 8812 的退款三天了还没到账。",
        "assigned to group grp_l1, agent agt_0001",
    ]
    assert describe_event(refund.timeline[4]) == "status New → Open (agent replied)"
    assert describe_event(refund.timeline[8]) == (
        "escalation tier Frontline → Engineering (payment gateway issue)"
    )
    assert describe_event(refund.timeline[10]).startswith("internal note: Gateway callback")
    # Long bodies are cut to 60 characters, the last one an ellipsis.
    body = describe_event(call.timeline[2]).split(": ", 1)[1]
    assert body == (
        "Explained the address change in the app; changed it for the… "
        "(handled in 4 minutes, 30 seconds)"
    )
    assert [describe_event(e) for e in outage.timeline[2:4]] == [
        "priority Normal → Urgent",
        "tags +enterprise +outage",
    ]


def test_cli_describe_event_is_a_deprecated_alias() -> None:
    import csdomain.cli

    event = run_demo("en", write=lambda _line: None)[0].timeline[0]
    with pytest.warns(DeprecationWarning, match=r"csdomain\.tickets\.rendering\.describe_event"):
        line = csdomain.cli.describe_event(event, "zh_TW")
    assert line == describe_event(event, "zh_TW")


def test_python_dash_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "csdomain", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"csdomain {csdomain.__version__}"


def test_tickets_with_a_url_naming_no_store_is_a_usage_error_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.db"
    code, _, err = run(capsys, "tickets", "--url", f"sqlite:///{missing}")
    assert code == 2 and "no csdomain store at" in err and not missing.exists()
