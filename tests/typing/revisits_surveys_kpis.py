"""What mypy sees of revisits, surveys, KPIs and reports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import assert_type

from csdomain.calendars import BusinessCalendar
from csdomain.helpdesk import MaterializeReport, RevisitDesk, SurveyDesk
from csdomain.kpis import STANDARD_KPIS, KpiResult, KpiSet, TicketSummary
from csdomain.reports import AnnualReport, render
from csdomain.revisits import (
    AgendaEntry,
    ContactWindow,
    Outcome,
    Recurrence,
    RevisitForm,
    RevisitPlan,
    RevisitRule,
    RevisitTask,
    TaskState,
    Trigger,
)
from csdomain.storage import Page
from csdomain.surveys import (
    Interval,
    LocalizedText,
    Question,
    QuestionKind,
    Score,
    SurveyKind,
    SurveyPolicy,
    SurveyResponse,
    SurveyTemplate,
    SurveyTrigger,
    csat_score,
    wilson,
)

AT = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)


def plan() -> RevisitPlan:
    window = ContactWindow(BusinessCalendar.weekdays("calls", "Asia/Shanghai", "09:00-18:00"))
    monthly = RevisitRule(
        "vip-monthly",
        recurrence=Recurrence("FREQ=MONTHLY;BYMONTHDAY=1"),
        forms=(RevisitForm.PHONE, RevisitForm.SMS),
        purpose="Monthly care call",
        time_of_day=time(10, 0),
    )
    follow_up = RevisitRule(
        "complaint-follow-up",
        trigger=Trigger.complaint_solved(business_days=3),
        forms=(RevisitForm.PHONE,),
        purpose="Was the complaint resolved?",
    )
    return RevisitPlan(
        "care", rules=(monthly, follow_up), window=window, starts_on=date(2026, 12, 1)
    )


def revisits(desk: RevisitDesk) -> None:
    assert_type(desk.materialize(90), MaterializeReport)
    page = desk.agenda(day=date(2026, 12, 7), agent_id="agt_1")
    assert_type(page, Page[RevisitTask])
    task = page.items[0]
    assert_type(desk.complete(task.id, Outcome.REACHED_WITH_ISSUE, agent_id="agt_1"), RevisitTask)
    assert_type(task.ticket_id, str | None)
    entries = desk.agenda_entries(day=date(2026, 12, 7), group_id="l1", limit=50)
    assert_type(entries, Page[AgendaEntry])
    entry = entries.items[0]
    assert_type(entry.state, TaskState)
    assert_type(entry.due_at, datetime)
    assert_type(desk.task(entry.task_id), RevisitTask)
    desk.agenda_entries(day=date(2026, 12, 7), agent_id="agt_1", cursor=page.next_cursor)


def revisit_mistakes(desk: RevisitDesk) -> None:
    desk.complete("rvt_1", "no_answer", agent_id="agt_1")  # type: ignore[arg-type]
    desk.complete("rvt_1", Outcome.BUSY)  # type: ignore[call-arg]
    desk.agenda(day="2026-12-07")  # type: ignore[arg-type]
    desk.agenda_entries(day="2026-12-07", agent_id="agt_1")  # type: ignore[arg-type]
    desk.agenda_entries(date(2026, 12, 7))  # type: ignore[call-arg]
    entry = desk.agenda_entries(day=date(2026, 12, 7), agent_id="agt_1").items[0]
    entry.state = TaskState.DONE  # type: ignore[misc]


def surveys() -> None:
    text = LocalizedText.of(en="How satisfied are you?", zh_hans="您对本次服务满意吗？")
    LocalizedText.of(en="Hi", zh_Hans="你好")  # type: ignore[call-arg]
    csat = Question("csat", QuestionKind.CSAT, text)
    template = SurveyTemplate("after-solve", 1, SurveyKind.CSAT, text, (csat,))
    policy = SurveyPolicy(
        name="csat-after-solve",
        trigger=SurveyTrigger.TICKET_SOLVED,
        template="after-solve",
        channels=("email", "sms"),
    )
    desk = SurveyDesk([policy], [template])
    assert_type(desk.answer("token", {"csat": 5}), SurveyResponse)
    score = csat_score([5, 4, 2])
    assert_type(score, Score)
    assert_type(score.n, int)
    assert_type(wilson(81, 263), Interval | None)


def kpis(summaries: list[TicketSummary]) -> None:
    totals = KpiSet(STANDARD_KPIS, as_of=AT)
    totals.add_summaries(summaries)
    merged = totals.merge(KpiSet(STANDARD_KPIS, as_of=AT))
    assert_type(merged, KpiSet)
    assert_type(merged.results(), dict[str, KpiResult])
    totals.add_summary("not a summary")  # type: ignore[arg-type]


def reports(report: AnnualReport) -> None:
    assert_type(render(report, "html", "zh_Hans"), str)
    render(report, "pdf")  # type: ignore[arg-type]
    render("a report")  # type: ignore[arg-type]
    _ = timedelta
