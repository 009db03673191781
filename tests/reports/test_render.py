"""Reports: figures, the builders on a store of known tickets, and the three formats.

The store holds tickets at exact instants in a desk calendar open 09:00-18:00
on weekdays (Asia/Shanghai), so every duration below is worked out by hand.
"""

from __future__ import annotations

import importlib
import re
import sys
import unicodedata
import warnings
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.calendars import BusinessCalendar
from csdomain.customers import Customer
from csdomain.errors import NotFoundError, ValidationError
from csdomain.reports.annual import AnnualReport, annual_report, mask_name
from csdomain.reports.figures import ScoreFigure, ScoreKind, ScoreUnit, TimeFigure
from csdomain.reports.period import PeriodReport, period_report, status_at
from csdomain.reports.render import render
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import Outcome, RevisitForm, TaskState
from csdomain.sla import MetricPolicy, SlaPolicy, SlaSetup, Target
from csdomain.storage import Store, open_store
from csdomain.surveys.collections import RESPONSES
from csdomain.surveys.invitations import Attribution
from csdomain.surveys.questions import QuestionKind
from csdomain.surveys.responses import Answer, SurveyResponse
from csdomain.tickets import Actor, Status, Ticket, TicketKind, Visibility

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
AGENT = Actor.agent("agt_1")


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _ticket(
    ticket_id: str,
    customer: str,
    opened: datetime,
    *,
    channel: str = "email",
    kind: TicketKind = TicketKind.CONSULTATION,
    reply: datetime | None = None,
    solve: datetime | None = None,
    note_first: bool = False,
) -> Ticket:
    ticket = Ticket.open(
        id=ticket_id, customer_id=customer, channel=channel, subject="s", at=opened, kind=kind
    )
    if note_first and reply is not None:
        ticket = ticket.add_message(
            at=opened + timedelta(minutes=1),
            body="note",
            actor=AGENT,
            visibility=Visibility.INTERNAL,
        )
    if reply is not None:
        ticket = ticket.add_message(at=reply, body="hello", actor=AGENT)
    if solve is not None:
        ticket = ticket.change_status(Status.SOLVED, at=solve, actor=AGENT)
    return ticket


@pytest.fixture
def store() -> Store:
    store = open_store("memory:", tenant="t")
    store.customers.add(Customer(id="cus_1", display_name="王芳", timezone="Asia/Shanghai"))
    store.customers.add(Customer(id="cus_2", display_name="Li Wei", timezone="UTC"))
    tickets = [
        # Monday 2026-03-02: opened 17:00, replied Tuesday 09:30 -> 1 h 30 min of open time;
        # solved Tuesday 10:00 -> 2 h.
        _ticket(
            "tkt_1",
            "cus_1",
            at(3, 2, 17),
            reply=at(3, 3, 9, 30),
            solve=at(3, 3, 10),
            note_first=True,
        ),
        # A complaint on WeChat in November: replied after 20 min, solved after 3 h.
        _ticket(
            "tkt_2",
            "cus_1",
            at(11, 23, 10),
            channel="wechat_official_account",
            kind=TicketKind.COMPLAINT,
            reply=at(11, 23, 10, 20),
            solve=at(11, 23, 13),
        ),
        # Unanswered, in November.
        _ticket("tkt_3", "cus_1", at(11, 24, 9)),
        # Another year, and another customer: not in cus_1's 2026 report.
        _ticket("tkt_4", "cus_1", at(12, 31, 23, year=2025), reply=at(1, 2, 9), solve=at(1, 2, 10)),
        _ticket("tkt_5", "cus_2", at(11, 23, 11), reply=at(11, 23, 11, 5)),
    ]
    for ticket in tickets:
        store.tickets.add(ticket)
    responses = store.collection(RESPONSES)
    for number, (customer, ticket_id, answered, csat, nps, group) in enumerate(
        [
            ("cus_1", "tkt_1", at(3, 4, 10), 5, 9, "grp_a"),
            ("cus_1", "tkt_2", at(11, 24, 10), 2, 3, "grp_a"),
            ("cus_1", "tkt_2", at(11, 25, 10), 1, None, "grp_b"),  # (another invitation)
            ("cus_2", "tkt_5", at(11, 26, 10), 4, None, "grp_b"),
            ("cus_1", "tkt_4", at(1, 3, 10, year=2025), 5, None, "grp_a"),  # another year
        ]
    ):
        answers = [Answer(question="csat", kind=QuestionKind.CSAT, score=csat)]
        if nps is not None:
            answers.append(Answer(question="nps", kind=QuestionKind.NPS, score=nps))
        responses.add(
            SurveyResponse(
                id=f"rsp_{number}",
                invitation_id=f"inv_{number}",
                template="after-solve",
                template_version=1,
                kind="csat",
                customer_id=customer,
                ticket_id=ticket_id,
                answers=tuple(answers),
                answered_at=answered,
                attribution=Attribution(
                    agent_id="agt_1", group_id=group, channel="email", recorded_at=answered
                ),
                channel="email",
            )
        )
    tasks = store.collection(REVISIT_TASKS)
    for task_id, cause, due in (
        ("rvt_1", "tkt_2", at(11, 26, 10)),  # the complaint's follow-up
        ("rvt_2", None, at(6, 1, 10)),  # a routine call: not about the complaint
    ):
        task = RevisitTask.schedule(
            id=task_id,
            plan="care",
            rule="after-complaint" if cause else "quarterly",
            customer_id="cus_1",
            purpose="follow up",
            nominal_at=due,
            due_at=due,
            form=RevisitForm.PHONE,
            channel="phone_hotline",
            at=at(11, 23, 13),
            cause=cause,
        )
        if cause:
            task = task.start("agt_1", due).complete(Outcome.REACHED_SATISFIED, due)
        tasks.add(task)
    return store


# -- figures -----------------------------------------------------------------------------


def test_masked_names_keep_the_first_character_of_each_word() -> None:
    assert mask_name("王芳") == "王*"
    assert mask_name("Li Wei") == "L* W**"
    assert mask_name("[erased]") == "[erased]"


def test_exact_time_figure() -> None:
    minutes = [timedelta(minutes=m) for m in (30, 10, 20, 40)]
    figure = TimeFigure.exact(minutes, business=True)
    assert figure.n == 4
    assert figure.mean == timedelta(minutes=25)
    assert figure.median == timedelta(minutes=25)  # the mean of 20 and 30
    assert figure.p90 == timedelta(minutes=40)  # nearest rank: ceil(0.9 * 4) = 4th
    assert TimeFigure.exact([], business=False) == TimeFigure(0, business=False)


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=50))
def test_time_figure_laws(seconds: list[int]) -> None:
    durations = [timedelta(seconds=s) for s in seconds]
    figure = TimeFigure.exact(durations, business=False)
    assert figure.mean is not None and figure.median is not None and figure.p90 is not None
    assert min(durations) <= figure.median <= figure.p90 <= max(durations)
    assert min(durations) <= figure.mean <= max(durations)
    # at least 90% of the values are at or below p90, and p90 is one of them
    assert sum(d <= figure.p90 for d in durations) * 10 >= 9 * len(durations)
    assert figure.p90 in durations


def test_figures_refuse_inconsistent_values() -> None:
    with pytest.raises(ValidationError, match="n > 0"):
        TimeFigure(2)
    with pytest.raises(ValidationError, match="whole number"):
        TimeFigure(-1)
    with pytest.raises(ValidationError, match="n=0"):
        ScoreFigure(ScoreKind.CSAT, ScoreUnit.PERCENT, 0, value=80.0)


# -- the annual report --------------------------------------------------------------------


def test_annual_report_counts_the_customers_year(store: Store) -> None:
    report = annual_report(store, "cus_1", 2026, calendar=DESK)
    assert report.customer_name == "王*"
    assert report.zone == "Asia/Shanghai"
    assert report.tickets == 3
    assert report.by_month == (0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0)
    assert report.by_channel == (("email", 2), ("wechat_official_account", 1))
    assert report.by_kind == ((TicketKind.CONSULTATION, 2), (TicketKind.COMPLAINT, 1))
    # business time: 1 h 30 min (overnight closed) and 20 min; the internal note is no reply
    assert report.first_response == TimeFigure.exact(
        [timedelta(minutes=90), timedelta(minutes=20)], business=True
    )
    assert report.resolution == TimeFigure.exact(
        [timedelta(hours=2), timedelta(hours=3)], business=True
    )
    assert [c.ticket_id for c in report.complaints] == ["tkt_2"]
    assert report.complaints[0].solved_at == at(11, 23, 13).astimezone(timezone.utc)
    assert report.complaints[0].csat == 1  # the latest answer about the ticket
    (revisit,) = report.complaints[0].revisits
    assert (revisit.task_id, revisit.state, revisit.outcome) == (
        "rvt_1",
        TaskState.DONE,
        Outcome.REACHED_SATISFIED,
    )


def test_annual_satisfaction_by_month(store: Store) -> None:
    report = annual_report(store, "cus_1", 2026)
    march, november = report.satisfaction[2], report.satisfaction[10]
    assert (march.csat.n, march.csat.value) == (1, 100.0)
    assert (november.csat.n, november.csat.value) == (2, 0.0)
    assert (november.nps.n, november.nps.value) == (1, -100.0)
    assert all(m.csat.n == 0 for i, m in enumerate(report.satisfaction) if i not in (2, 10))
    assert (report.csat.n, report.csat.small_sample) == (3, True)
    assert report.csat.value == pytest.approx(100 / 3)
    assert report.csat.low is not None and report.csat.high is not None
    assert report.csat.low <= report.csat.value <= report.csat.high
    assert report.nps.n == 2 and report.nps.value == 0.0  # one promoter, one detractor


def test_annual_report_in_calendar_time(store: Store) -> None:
    report = annual_report(store, "cus_1", 2026)
    assert report.calendar is None
    assert (
        report.first_response.median
        == (timedelta(hours=16, minutes=30) + timedelta(minutes=20)) / 2
    )


def test_annual_report_reads_the_year_in_the_zone_asked_for(store: Store) -> None:
    # 2025-12-31 23:00 in Shanghai is 15:00 UTC: still 2025 in UTC, 2026 in Tokyo (+09:00)
    assert annual_report(store, "cus_1", 2026, zone_name="UTC").tickets == 3
    assert annual_report(store, "cus_1", 2026, zone_name="Asia/Tokyo").tickets == 4


def test_annual_report_refuses_bad_input(store: Store) -> None:
    with pytest.raises(NotFoundError):
        annual_report(store, "cus_404", 2026)
    with pytest.raises(ValidationError, match="year"):
        annual_report(store, "cus_1", 1800)
    with pytest.raises(ValidationError):
        annual_report(store, "cus_1", 2026, zone_name="Mars/Base")


def test_annual_report_pages_through_many_tickets(store: Store) -> None:
    more = [
        _ticket(f"tkt_m{i:03}", "cus_1", at(5, 4, 10) + timedelta(minutes=i)) for i in range(25)
    ]
    for ticket in more:
        store.tickets.add(ticket)
    report = annual_report(store, "cus_1", 2026, page_size=7)
    assert report.by_month[4] == 25 and report.tickets == 28


# -- the period report ---------------------------------------------------------------------


def test_period_report_counts_the_desk(store: Store) -> None:
    report = period_report(store, date(2026, 11, 1), date(2026, 12, 1), zone_name="Asia/Shanghai")
    assert report.tickets == 3
    figures = {line.name: line for line in report.kpis}
    assert figures["volume"].value == 3
    assert figures["backlog"].value == 2  # tkt_3 and tkt_5 unsolved at the end
    assert figures["complaint_rate"].value == pytest.approx(1 / 3)
    assert figures["reopen_rate"].value == 0
    low, high = figures["complaint_rate"].low, figures["complaint_rate"].high
    assert low is not None and high is not None and low < 1 / 3 < high  # Wilson
    # tkt_2 (20 min) and tkt_5 (5 min) were answered; the sketch median is within 1% of 5 min
    assert report.first_response.n == 2 and report.first_response.relative_error == 0.01
    assert report.first_response.median is not None
    assert abs(report.first_response.median - timedelta(minutes=5)) <= timedelta(seconds=3)
    # the three November answers: CSAT 2, 1 and 4 -> one of three satisfied
    assert report.responses == 3
    assert (report.csat.n, report.csat.value) == (3, pytest.approx(100 / 3))
    by_group = {c.key: c.score for c in report.breakdowns[0].cells}
    assert report.breakdowns[0].by == "group"
    assert (by_group["grp_a"].n, by_group["grp_b"].n) == (1, 2)
    assert by_group["grp_b"].value == 50.0


def test_period_report_sla_compliance(store: Store) -> None:
    policy = SlaPolicy(
        "p",
        [
            MetricPolicy(
                "first_response", {"normal": Target(timedelta(minutes=30), calendar="desk")}
            )
        ],
    )
    setup = SlaSetup([policy], [DESK])
    report = period_report(store, date(2026, 11, 1), date(2026, 12, 1), sla=setup)
    line = next(k for k in report.kpis if k.name == "sla_first_response")
    # tkt_2 (20 min) and tkt_5 (5 min) met it; tkt_3, never answered, breached at 09:30
    assert (line.value, line.n) == (pytest.approx(2 / 3), 3)


def test_status_at_replays_the_timeline() -> None:
    ticket = _ticket("tkt_x", "cus_1", at(3, 2, 10), reply=at(3, 2, 11), solve=at(3, 2, 12))
    ticket = ticket.add_message(at=at(3, 3, 9), body="again", actor=Actor.customer("cus_1"))
    assert status_at(ticket, at(3, 2, 10, 30)) is Status.NEW
    assert status_at(ticket, at(3, 2, 12, 30)) is Status.SOLVED
    assert status_at(ticket, at(3, 4, 0)) is Status.OPEN  # reopened by the customer


def test_period_report_refuses_an_empty_period(store: Store) -> None:
    with pytest.raises(ValidationError, match="after the start"):
        period_report(store, date(2026, 12, 1), date(2026, 11, 1))
    with pytest.raises(ValidationError):
        period_report(store, datetime(2026, 11, 1), date(2026, 12, 1))  # naive


# -- rendering -----------------------------------------------------------------------------


@pytest.fixture
def annual(store: Store) -> AnnualReport:
    return annual_report(store, "cus_1", 2026, calendar=DESK)


@pytest.fixture
def period(store: Store) -> PeriodReport:
    return period_report(store, date(2026, 11, 1), date(2026, 12, 1), calendar=DESK)


LOCALES = ("en", "zh_Hans", "zh_Hant")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_format_and_locale_renders_the_same_figures(
    annual: AnnualReport, fmt: str, locale: str
) -> None:
    out = render(annual, fmt, locale)
    assert out == render(annual, fmt, locale)  # deterministic
    out = out.replace("\\", "")  # Markdown's escapes
    assert "王*" in out and "tkt_2" in out
    assert "55" in out  # mean first response: (90 + 20) / 2 minutes
    if locale == "en":
        assert "Nov" in out and "WeChat" in out
    else:
        assert "11月" in out
        assert "2026年11月23日" in out  # Babel's medium date
    if locale == "en":
        assert "Nov 26, 2026 Phone" in out  # the complaint's revisit
    if locale == "zh_Hans":
        assert "投诉" in out
    if locale == "zh_Hant":
        assert "客訴" in out


def test_html_is_one_self_contained_page(annual: AnnualReport) -> None:
    page = render(annual, "html", "zh_Hans")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-Hans">' in page
    assert '"Noto Sans CJK SC"' in page
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert "<script" not in page and "<!--" not in page
    assert not re.search(r"\b(src|href)=", page)
    assert "@import" not in page and "url(" not in page
    assert page.count("<svg") == 4  # months, channels, kinds, satisfaction
    assert 'id="chart-tickets-by-month"' in page
    assert ">0.5<" not in page  # counts get whole-number ticks
    assert render(annual, "html", "zh_TW").count('"Noto Sans CJK TC"') >= 1


def test_html_escapes_what_it_shows(store: Store) -> None:
    store.customers.add(Customer(id="cus_3", display_name="<b>&"))
    store.tickets.add(_ticket("tkt_9", "cus_3", at(6, 1, 10)))
    page = render(annual_report(store, "cus_3", 2026), "html", "en")
    assert "<b>" not in page and "&lt;* (cus_3)" not in page  # masked to "<*" then escaped
    assert "&lt;*" in page


def test_text_tables_align_by_display_width(annual: AnnualReport) -> None:
    text = render(annual, "text", "zh_Hans")
    lines = text.splitlines()
    january = lines.index(next(line for line in lines if line.startswith("1月")))
    rule = january - 1
    header, dashes = lines[rule - 1], lines[rule]

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    columns = [m.start() for m in re.finditer(r"-+", dashes)]
    body = lines[rule + 1 : rule + 13]  # the twelve months
    assert len(columns) == 2
    for line in [header, *body]:
        # the count column ends where its dashes end
        assert width(line) == len(dashes)


def test_markdown_tables_and_escapes(annual: AnnualReport) -> None:
    md = render(annual, "markdown", "en")
    assert md.startswith("# Annual service report 2026")
    assert "| Month | Tickets |\n| --- | ---: |" in md
    assert "cus\\_1" in md  # underscores would start emphasis


def test_period_report_renders(period: PeriodReport) -> None:
    text = render(period, "text", "en")
    assert "Complaint rate" in text and "33.3%" in text
    page = render(period, "html", "zh_Hant")
    assert '<html lang="zh-Hant">' in page and "<script" not in page


def test_render_refuses_what_it_cannot_write(annual: AnnualReport) -> None:
    with pytest.raises(ValidationError, match="unknown format 'pdf'"):
        render(annual, "pdf")
    with pytest.raises(ValidationError, match="supported locales"):
        render(annual, "text", "fr")
    with pytest.raises(ValidationError, match="AnnualReport or a PeriodReport"):
        render("a report", "text")


def test_drawing_charts_leaves_failed_imports_quiet(annual: AnnualReport) -> None:
    """pygal's legacy import hook would make every later failed import warn."""
    render(annual, "html")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("csdomain_has_no_such_module")


def test_html_without_pygal_names_the_extra(
    annual: AnnualReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "csdomain.reports.charts", raising=False)
    monkeypatch.setitem(sys.modules, "pygal", None)  # import pygal now raises ImportError
    with pytest.raises(ValidationError, match=r"install csdomain\[reports\]"):
        render(annual, "html")
    assert render(annual, "markdown").startswith("# ")
