"""The csdomain command."""

from __future__ import annotations

import itertools
import json
import shlex
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import csdomain
from csdomain.cli import DEMO_DB, list_tickets, main, run_demo
from csdomain.cli.demo import DEMO_ZONE, demo_revisit_plan, demo_setup
from csdomain.escalation import NotificationQueued, RuleFired, SeniorAgentRequested
from csdomain.helpdesk import Routed
from csdomain.i18n import SUPPORTED_LOCALES, label
from csdomain.revisits import REVISIT_TASKS, Outcome, RevisitForm, RevisitTask, TaskState
from csdomain.serialization import from_json
from csdomain.sla import SlaState
from csdomain.storage import Store, open_store
from csdomain.surveys import INVITATIONS, RESPONSES, Invitation, InvitationState
from csdomain.tickets import Status, Ticket, TicketKind, TierChanged
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
                "Third-party vendor",
                "Complaint",
                "WeChat official account",
                "4 minutes, 30 seconds",
                "Round robin",
                "Skills",
                "asked for a senior agent",
                "escalation rule complaint-to-engineering fired: SLA breach (First response)",
            ],
        ),
        (
            "zh_CN",
            [
                "已解决",
                "二线",
                "三线",
                "投诉",
                "微信公众号",
                "工单",
                "客户已回复",
                "轮询分配",
                "按技能分配",
                "要求高级客服",
                "升级规则 complaint-to-engineering 触发：SLA 超时（首次响应）",
            ],
        ),
        (
            "zh_TW",
            [
                "已解決",
                "第二線",
                "第三線",
                "微信公眾號",
                "工單",
                "客戶已回覆",
                "輪詢指派",
                "要求高級客服",
                "升級規則 complaint-to-vendor 觸發：SLA 逾時（後續回應）",
            ],
        ),
    ],
)
def test_demo_prints_localized_timelines(
    capsys: pytest.CaptureFixture[str], locale: str, words: list[str]
) -> None:
    code, out, _ = run(capsys, "demo", "--memory", "--locale", locale)
    assert code == 0
    for word in words:
        assert word in out, word
    assert out.count("Ticket tkt_000" if locale == "en" else "tkt_000") >= 7


#: The demo's own English words, which the Chinese reports must not show.
ENGLISH_WORDS = (
    "routed to",
    "because",
    "escalation rule",
    "notification to",
    "held until",
    "asked for a senior agent",
    "Sweeps",
    "Escalation rules",
    "Round robin",
    "tickets due",
    "Due or breaching",
    "Revisits",
    "materialized",
    "Agenda of",
    "opened ticket",
    "Surveys",
    "answered",
    "interval",
    "small sample",
    "annual service report",
)


@pytest.mark.parametrize("locale", ["zh_CN", "zh_TW"])
def test_demo_words_in_chinese_are_chinese(capsys: pytest.CaptureFixture[str], locale: str) -> None:
    code, out, _ = run(capsys, "demo", "--memory", "--locale", locale)
    assert code == 0
    report = out[: out.index("{")]
    # What the engines recorded (routing traces, rule reasons) is data, shown as recorded
    # on the lines starting with "·"; every other line is in the catalogs' words.
    own = [line for line in report.splitlines() if not line.lstrip().startswith("· ")]
    for word in ENGLISH_WORDS:
        assert not [line for line in own if word in line], word


def test_demo_json_document_loads_back(capsys: pytest.CaptureFixture[str]) -> None:
    tickets = run_demo("en", write=lambda _line: None)
    complaint = tickets[2]
    assert [t.status for t in tickets] == [Status.SOLVED] * 2 + [Status.OPEN] + [Status.SOLVED] * 4
    assert complaint.tier == "L3" and complaint.group_id == "grp_vendor"
    code, out, _ = run(capsys, "demo", "--memory")
    assert code == 0
    document = out[out.index("{") : out.index("\n}\n") + 2]
    assert from_json(document, Ticket) == complaint
    assert json.loads(document)["document"] == "ticket"


def test_demo_shows_each_tickets_sla_status(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--memory")
    assert code == 0
    assert out.count("SLA at 17:30 (policy standard):") == 7
    # The outage was urgent: 30 calendar minutes to solve, solved after 40.
    assert "Resolution: Breached · 40 min of 30 min · breached at 10:50" in out
    # The call was answered within 4 minutes of the 2-hour business target.
    assert "First response: Achieved · 4 min of 2 hr" in out
    # The complaint came in at 09:35 with 30 business minutes to answer; engineering
    # answered at 10:30, and the customer's 15:40 message waited past its hour.
    assert "First response: Breached · 55 min of 30 min · breached at 10:05" in out
    assert "Next response: Breached · 1 hr, 50 min of 1 hr · breached at 16:40" in out
    assert "Resolution: Running · 6 hr, 25 min of 8 hr · due 11-24 10:05" in out
    code, out, _ = run(capsys, "demo", "--memory", "--locale", "zh_CN")
    # The words are the catalog's (reviewed elsewhere); the layout is the demo's.
    breached, running = (label(state, "zh_CN") for state in (SlaState.BREACHED, SlaState.RUNNING))
    assert f"：{breached} · " in out and f"：{running} · " in out


def _lines_of(out: str, ticket_id: str) -> list[str]:
    block = out[out.index(f"Ticket {ticket_id} ") :]
    return block[: block.index("\n\n")].splitlines()


def test_demo_routes_and_escalates_from_l1_to_l2_to_the_vendor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    vip, call, complaint, invoice, outage, parcel, coupon = run_demo("en", write=lambda _line: None)
    # Round robin in the frontline, passing over the agent who stepped away at 14:00.
    frontline = [call, complaint, outage, parcel, coupon]
    first_agents = [
        next(e for e in t.timeline if isinstance(e, Routed)).assignee_id for t in frontline
    ]
    assert first_agents == ["agt_an", "agt_bai", "agt_cao", "agt_an", "agt_cao"]
    # Skills: the VAT invoice goes to the billing agent who also knows VAT.
    assert (invoice.group_id, invoice.assignee_id) == ("grp_billing", "agt_he")
    # The VIP is triaged to the VIP desk, asks for a senior agent and gets one.
    assert any(isinstance(e, SeniorAgentRequested) for e in vip.timeline)
    assert [e.assignee_id for e in vip.timeline if isinstance(e, Routed)] == ["agt_du", "agt_fang"]
    # The complaint: breached at L1, to engineering; breached again at L2, to the vendor.
    fired = [e for e in complaint.timeline if isinstance(e, RuleFired)]
    assert [(e.rule, e.trigger) for e in fired] == [
        ("complaint-to-engineering", "sla_breach:first_response"),
        ("complaint-to-vendor", "sla_breach:next_response"),
    ]
    tiers = [(e.old, e.new) for e in complaint.timeline if isinstance(e, TierChanged)]
    assert tiers == [("L1", "L2"), ("L2", "L3")]
    to_engineering, to_vendor = (e for e in complaint.timeline if isinstance(e, NotificationQueued))
    assert to_engineering.groups == ("grp_l2",) and to_engineering.deliver_at == fired[0].at
    # The vendor closed at 16:30: the 17:00 notification waits for its next opening.
    assert to_vendor.groups == ("grp_vendor",) and to_vendor.calendar == "vendor-hours"
    assert to_vendor.deliver_at == datetime(2026, 11, 24, 9, 0, tzinfo=DEMO_ZONE)
    vendor_hours = demo_setup().sla.calendar("vendor-hours")
    assert vendor_hours.is_open(to_vendor.deliver_at) and not vendor_hours.is_open(to_vendor.at)
    # And the report says so, line by line, in that order.
    code, out, _ = run(capsys, "demo", "--memory")
    assert code == 0
    lines = _lines_of(out, complaint.id)
    expected = [
        "routed to Frontline (grp_l1), agent 白露 (agt_bai), because: "
        "no triage rule matched, so the default group; Round robin",
        "escalation rule complaint-to-engineering fired: SLA breach (First response)",
        "· first_response breached at 11-23 10:05 (target 0:30:00)",
        "escalation tier Frontline → Engineering (rule complaint-to-engineering)",
        "notification to Engineering (grp_l2), delivered at once: 11-23 10:10",
        "routed to Engineering (grp_l2), agent 金鑫 (agt_jin), because: Round robin",
        "escalation rule complaint-to-vendor fired: SLA breach (Next response)",
        "escalation tier Engineering → Third-party vendor (rule complaint-to-vendor)",
        "notification to RouterCo (vendor) (grp_vendor), held until the receivers open: "
        "11-24 09:00",
        "routed to RouterCo (vendor) (grp_vendor), waiting in its queue, because: "
        "the group is closed until 11-24 09:00",
    ]
    found = [next(i for i, line in enumerate(lines) if line.endswith(text)) for text in expected]
    assert found == sorted(found)
    invoice_lines = _lines_of(out, invoice.id)
    assert any(
        line.endswith(
            "routed to Billing (grp_billing), agent 何静 (agt_he), because: "
            "triage rule billing-questions; Skills; skills billing, vat"
        )
        for line in invoice_lines
    )
    # Routing's own reasons follow, as it recorded them.
    assert any("lacks required skills ['billing']" in line for line in invoice_lines)
    assert "Sweeps:\n  10:10: tickets due: 1; fired complaint-to-engineering on tkt_0003" in out


def test_demo_adds_to_the_same_store_on_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"memory:cli-{uuid.uuid4().hex}"
    code, out, _ = run(capsys, "demo", "--url", url)
    assert code == 0 and "now holds 6 customers and 8 tickets" in out
    code, out, _ = run(capsys, "demo", "--url", url)
    # The customers are found again by their contact addresses; the tickets are new:
    # the day's seven and the one a revisit opened.
    assert code == 0 and "now holds 6 customers and 16 tickets" in out
    assert "Ticket tkt_0015" in out and "Ticket tkt_0001 " not in out
    assert "opened ticket tkt_0016" in out
    store = open_store(url, tenant="demo")
    assert [s.value.id for s in store.tickets.list().items] == [
        f"tkt_{i:04d}" for i in range(1, 17)
    ]
    # Round robin goes on where the first day left it: engineering's next agent.
    assert "routed to Engineering (grp_l2), agent 孔亮 (agt_kong)" in out
    # The two complaints still open are indexed by their next SLA deadline.
    due = store.tickets.due_before(datetime(2026, 11, 25, tzinfo=timezone.utc))
    assert [s.value.id for s in due.items] == ["tkt_0003", "tkt_0011"]


def test_tickets_lists_page_by_page(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"memory:cli-{uuid.uuid4().hex}"
    run(capsys, "demo", "--url", url)
    code, out, _ = run(capsys, "tickets", "--url", url, "--page-size", "3")
    assert code == 0
    assert out.splitlines()[0] == "Page 1" and "Page 3" in out and "Page 4" not in out
    assert out.count("tkt_000") == 8
    code, out, _ = run(capsys, "tickets", "--url", url, "--status", "open", "--locale", "zh_CN")
    assert code == 0 and "tkt_0003" in out and "tkt_0001" not in out and "第 1 页" in out
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
        f"Saved in {written}: the store of tenant demo now holds 6 customers and 8 tickets."
    )
    code, out, _ = run(capsys, "demo", "--db", "other.db", "--tenant", "acme")
    assert out.splitlines()[-1].startswith(f"Saved in {tmp_path / 'other.db'}: ")
    assert "tenant acme" in out
    code, out, _ = run(capsys, "demo", "--url", f"sqlite:///{written}")
    assert out.splitlines()[-1].startswith(f"Saved in sqlite:///{written}: ")
    assert "now holds 6 customers and 16 tickets" in out
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
    assert set(stored_when_writing) == {8}
    # Without a location, the last line names none.
    assert lines[-1] == "Saved: the store of tenant demo now holds 6 customers and 8 tickets."
    shown: list[str] = []
    assert list_tickets(store, statuses=[Status.OPEN], write=shown.append) == 1
    assert shown == [
        "Page 1",
        f"  {tickets[2].id}  Open · High · 2026-11-23 17:00 · Router keeps dropping the connection",
    ]


def test_every_event_of_the_day_is_told_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    tickets = run_demo("en", write=lambda _line: None)
    kinds = {type(e) for t in tickets for e in t.timeline}
    assert {Routed, RuleFired, NotificationQueued, SeniorAgentRequested} <= kinds
    assert len(kinds) >= 10
    # The ticket package tells its own events; the demo tells the desk's and escalation's.
    for ticket in tickets:
        for event in ticket.timeline:
            if type(event).__module__.startswith("csdomain.tickets"):
                assert describe_event(event, "zh_CN") != event.type_name
                assert describe_event(event, "zh-CN") == describe_event(event, "zh_CN")
    for locale in ("en", "zh_CN", "zh_TW"):
        code, out, _ = run(capsys, "demo", "--memory", "--locale", locale)
        report = out[: out.index("{")]
        assert code == 0
        # describe_event names an event type it does not know by its type name.
        names = {kind.type_name for kind in kinds}
        assert not [line for line in report.splitlines() if line.split(" ")[-1] in names]
        assert not [name for name in names if "." in name and name in report]


def test_describe_event_lines() -> None:
    vip, call, complaint, _, outage, *_ = run_demo("en", write=lambda _line: None)
    assert [describe_event(e) for e in complaint.timeline[:3]] == [
        "opened: Router keeps dropping the connection (Complaint, Email, priority High, Frontline)",
        "message via Email: Third time this week that the router drops the line. Fix it.",
        "assigned to group grp_l1, agent agt_bai",
    ]
    tiers = [describe_event(e) for e in complaint.timeline if isinstance(e, TierChanged)]
    assert tiers == [
        "escalation tier Frontline → Engineering (rule complaint-to-engineering)",
        "escalation tier Engineering → Third-party vendor (rule complaint-to-vendor)",
    ]
    assert describe_event(vip.timeline[-2]) == "status New → Open (agent replied)"
    # Long bodies are cut to 60 characters, the last one an ellipsis.
    assert describe_event(call.timeline[1]) == (
        "message via Phone hotline: Caller asks how to change the delivery address of order 992…"
    )
    assert describe_event(call.timeline[4]).endswith("(handled in 4 minutes, 30 seconds)")
    assert "priority Normal → Urgent" in [describe_event(e) for e in outage.timeline]
    notes = [describe_event(e) for e in outage.timeline if "note" in describe_event(e)]
    assert notes == ["internal note: Load balancer restarted; dashboard is back."]


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


# -- revisits and surveys in the demo ---------------------------------------------------------

LONDON = ZoneInfo("Europe/London")


def _demo_tasks(store: Store) -> list[RevisitTask]:
    page = store.collection(REVISIT_TASKS).find(
        "by_plan", where={"plan": "customer-care"}, limit=1000
    )
    assert page.next_cursor is None
    return [stored.value for stored in page.items]


def _invitations_of(store: Store, ticket_id: str) -> list[Invitation]:
    page = store.collection(INVITATIONS).find("by_ticket", where={"ticket_id": ticket_id})
    return [stored.value for stored in page.items]


def _one(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


def test_demo_schedules_and_completes_revisits_one_of_which_opens_a_ticket() -> None:
    store = open_store("memory:", tenant="demo")
    lines: list[str] = []
    tickets = run_demo("en", write=lines.append, store=store)
    tasks = _demo_tasks(store)
    vip, parcel = tickets[0], tickets[5]
    acme = tickets[4]
    assert parcel.kind is TicketKind.COMPLAINT and parcel.status is Status.SOLVED
    # Solved on Monday: three contact days later is Thursday, at the rule's 10:00.
    follow_up = _one([t for t in tasks if t.cause == parcel.id])
    assert follow_up.due_at == follow_up.nominal_at == datetime(2026, 11, 26, 10, tzinfo=DEMO_ZONE)
    assert (follow_up.state, follow_up.outcome) == (TaskState.DONE, Outcome.REACHED_WITH_ISSUE)
    assert follow_up.ticket_id is not None
    opened = store.tickets.get(follow_up.ticket_id).value
    assert (opened.kind, opened.status) == (TicketKind.COMPLAINT, Status.SOLVED)
    assert opened.customer_id == parcel.customer_id and "revisit" in opened.tags
    assert f"  revisit {follow_up.id} opened ticket {opened.id}" in lines
    # The opened complaint's own follow-up: due Tuesday 1 December, but the window keeps
    # 7 days after Thursday's call, so Thursday 3 December; the customer is satisfied.
    second = _one([t for t in tasks if t.cause == opened.id])
    assert second.nominal_at == datetime(2026, 12, 1, 10, tzinfo=DEMO_ZONE)
    assert second.due_at == datetime(2026, 12, 3, 10, tzinfo=DEMO_ZONE)
    assert (second.state, second.outcome) == (TaskState.DONE, Outcome.REACHED_SATISFIED)
    # The agent's agenda of Thursday, read before the call, holds the follow-up.
    agenda = lines.index("  Agenda of 安琪 (agt_an) for 11-26:")
    assert lines[agenda + 1].startswith(f"    10:00 · {follow_up.id} · 11-26 10:00 Asia/Shanghai")
    # The monthly calls, in each customer's zone, on the channel they consent to; New
    # Year's Day is closed, so January's call waits for Monday 4 January's opening.
    monthly = sorted(
        (t.customer_id, t.nominal_at, t.due_at, t.form)
        for t in tasks
        if t.rule == "vip-monthly-call"
    )

    def calls(customer: str, zone: ZoneInfo, form: RevisitForm) -> list[tuple[Any, ...]]:
        def at(*day: int, hour: int = 10) -> datetime:
            return datetime(*day, hour, tzinfo=zone)

        return [
            (customer, at(2026, 12, 1), at(2026, 12, 1), form),
            (customer, at(2027, 1, 1), at(2027, 1, 4, hour=9), form),
            (customer, at(2027, 2, 1), at(2027, 2, 1), form),
        ]

    assert monthly == sorted(
        calls(vip.customer_id, DEMO_ZONE, RevisitForm.WECHAT)
        + calls(acme.customer_id, LONDON, RevisitForm.EMAIL)
    )
    # The low score of the afternoon booked a call for the next day.
    (response,) = [s.value for s in store.collection(RESPONSES).find("by_period").items]
    low = _one([t for t in tasks if t.cause == response.id])
    assert (low.rule, low.customer_id) == ("low-score-call", response.customer_id)
    assert low.due_at == datetime(2026, 11, 24, 10, tzinfo=DEMO_ZONE)


def test_demo_sends_surveys_takes_a_low_score_and_shows_the_csat_with_its_interval() -> None:
    store = open_store("memory:", tenant="demo")
    lines: list[str] = []
    vip, call, _, invoice, outage, parcel, coupon = run_demo("en", write=lines.append, store=store)
    states = {
        t.id: [(i.state, i.channel) for i in _invitations_of(store, t.id)]
        for t in (vip, call, invoice, outage, parcel, coupon)
    }
    assert states == {
        vip.id: [(InvitationState.SENT, "wechat_official_account")],
        call.id: [(InvitationState.ANSWERED, "email")],
        # The same customer two tickets later: at most one invitation in 30 days.
        invoice.id: [(InvitationState.SUPPRESSED, None)],
        outage.id: [(InvitationState.SENT, "email")],
        # No consent to any of the policy's channels.
        parcel.id: [(InvitationState.SUPPRESSED, None)],
        coupon.id: [(InvitationState.SUPPRESSED, None)],
    }
    (answered,) = _invitations_of(store, call.id)
    assert len(answered.token_hashes) == 1  # the token the outbox got is stored as a hash only
    (response,) = [s.value for s in store.collection(RESPONSES).find("by_period").items]
    assert (response.csat, response.invitation_id) == (2, answered.id)
    assert f"  16:00 Li Wei (cus_0002) answered {answered.id}: 2 (Dissatisfied)" in lines
    # Wilson's 95% interval for 0 of 1 is [0, z²/(1+z²)] = [0, 0.7935].
    assert lines[lines.index("JSON document of ticket tkt_0003:") - 2] == (
        "  CSAT (share of 4 and 5) of every answer so far: 0% · 95% interval 0% to 79% · "
        "n = 1 · small sample (fewer than 30 answers)"
    )
    assert (
        "  10:10: tickets due: 1; fired complaint-to-engineering on tkt_0003; survey "
        "invitations: 2 sent, 0 suppressed"
    ) in lines


@pytest.mark.parametrize("locale", ["zh_CN", "zh_TW"])
def test_demo_revisits_and_surveys_in_chinese(
    capsys: pytest.CaptureFixture[str], locale: str
) -> None:
    code, out, _ = run(capsys, "demo", "--memory", "--locale", locale)
    assert code == 0
    words = {
        "zh_CN": ["回访计划", "已接通，客户仍有问题", "已接通，客户满意", "满意度调查", "不满意"],
        "zh_TW": ["回訪計劃", "已接通，客戶仍有問題", "已接通，客戶滿意", "滿意度調查", "不滿意"],
    }[locale]
    for word in words:
        assert word in out, word


def test_demo_runs_three_times_on_one_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "demo.db"
    outs = []
    for locale in ("zh_TW", "en", "en"):
        code, out, err = run(capsys, "demo", "--db", str(db), "--locale", locale)
        assert (code, err) == (0, "")
        outs.append(out)
    # Each run: the day's 7 tickets and the one a revisit opened.
    assert "now holds 6 customers and 24 tickets" in outs[2]
    assert "0 tasks created, 6 kept, 0 refused" in outs[2]  # the plan's tasks are kept
    # Later days find each customer's invitation of the first: throttled.
    assert "No invitation went out today, so nobody answered." in outs[2]
    with open_store(f"sqlite:///{db}", tenant="demo") as store:
        tasks = _demo_tasks(store)
        assert len([t for t in tasks if t.rule == "vip-monthly-call"]) == 6
        follow_ups = [t for t in tasks if t.rule == "complaint-follow-up"]
        outcomes = sorted(t.outcome.value for t in follow_ups if t.outcome)
        assert outcomes == ["reached_satisfied"] * 3 + ["reached_with_issue"] * 3
        # Later runs' follow-ups keep 7 days from the earlier ones of the same customer.
        dues = sorted(t.due_at for t in follow_ups)
        gap = demo_revisit_plan().window.min_gap
        assert all(b - a >= gap for a, b in itertools.pairwise(dues))
        assert store.collection(RESPONSES).count() == 1


def test_the_annual_report_command_the_demo_prints_writes_chinese_html_with_charts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "demo.db"
    code, out, _ = run(capsys, "demo", "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    at = lines.index(
        "The annual service report of customer 张伟 (cus_0004), in Chinese with charts:"
    )
    command = shlex.split(lines[at + 1])
    assert command[:3] == ["csdomain", "report", "annual"]
    assert command[command.index("--db") + 1] == str(db)
    page_path = tmp_path / "report.html"
    command[command.index("--out") + 1] = str(page_path)
    code, _, err = run(capsys, *command[1:])
    assert (code, err) == (0, "")
    page = page_path.read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in page
    assert page.count("<svg") >= 3
    for text in ("年度服务报告", "张*", "投诉", "已接通，客户仍有问题", "已接通，客户满意"):
        assert text in page, text
    # Without a file the demo names a placeholder for it.
    code, out, _ = run(capsys, "demo", "--memory")
    assert "  csdomain report annual --db FILE --customer cus_0004 --year 2026 " in out
