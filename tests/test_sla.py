"""SLA policies and evaluation: scenarios with exact instants, and the laws as properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain import (
    Actor,
    BusinessCalendar,
    ExtraWorkday,
    Holiday,
    MetricPolicy,
    OnPriorityChange,
    OnReopen,
    Priority,
    SlaPolicy,
    SlaState,
    Status,
    Target,
    Ticket,
)
from csdomain.conditions import Equals
from csdomain.errors import NotFoundError, ValidationError
from csdomain.serialization import from_json, to_json
from csdomain.sla import SlaMetric, TraceKind, evaluate, explain, next_deadline, select_policy
from csdomain.testing import strategies as cst
from csdomain.tickets import Visibility

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
AGENT = Actor.agent("agt_1")
BOT = Actor.bot("helper")
CUSTOMER = Actor.customer("cus_1")
H = timedelta(hours=1)

SPLIT = BusinessCalendar.weekdays("cn", "Asia/Shanghai", "09:00-12:00", "13:30-18:00")
NATIONAL_DAY = BusinessCalendar.weekdays(
    "cn-2026",
    "Asia/Shanghai",
    "09:00-18:00",
    holidays=[Holiday(date(2026, 10, d), "National Day") for d in range(1, 8)],
    extra_workdays=[
        ExtraWorkday(date(2026, 9, 20), "make-up for National Day", ("09:00-18:00",)),
        ExtraWorkday(date(2026, 10, 10), "make-up for National Day", ("09:00-18:00",)),
    ],
)
CALENDARS = {c.name: c for c in (SPLIT, NATIONAL_DAY)}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def policy(
    metric: SlaMetric,
    duration: timedelta,
    *,
    calendar: str | None = "cn",
    priorities: tuple[Priority, ...] = tuple(Priority),
    **rules: object,
) -> SlaPolicy:
    target = Target(duration, calendar=calendar, warnings=(0.5, 0.75))
    return SlaPolicy(
        name=f"{metric.value}-{duration}",
        metrics=(MetricPolicy(metric, dict.fromkeys(priorities, target), **rules),),  # type: ignore[arg-type]
    )


def opened(at: datetime, priority: Priority = Priority.NORMAL) -> Ticket:
    return Ticket.open(
        id="T-1",
        customer_id="cus_1",
        channel="email",
        subject="Refund not received",
        at=at,
        priority=priority,
        description="Where is my refund?",
    )


def status_of(ticket: Ticket, p: SlaPolicy, now: datetime, metric: SlaMetric | None = None):  # type: ignore[no-untyped-def]
    result = evaluate(ticket, p, CALENDARS, now)
    return result[metric or p.metrics[0].metric]


# -- configuration ----------------------------------------------------------------------


def test_defaults_pause_resolution_only() -> None:
    target = {Priority.NORMAL: Target(H)}
    assert MetricPolicy(SlaMetric.RESOLUTION, target).pause_statuses == {
        Status.PENDING,
        Status.ON_HOLD,
    }
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE, SlaMetric.PERIODIC_UPDATE):
        assert MetricPolicy(metric, target).pause_statuses == frozenset()


@pytest.mark.parametrize(
    ("build", "path", "fragment"),
    [
        (lambda: Target(timedelta(0)), "duration", "must be positive"),
        (lambda: Target(H, warnings=(0.9, 0.5)), "warnings[1]", "ascending"),
        (lambda: Target(H, warnings=(1.0,)), "warnings[0]", "strictly between 0 and 1"),
        (
            lambda: MetricPolicy(SlaMetric.RESOLUTION, {}),
            "targets",
            "non-empty mapping of Priority to Target",
        ),
        (
            lambda: MetricPolicy(SlaMetric.RESOLUTION, {"critical": Target(H)}),
            "targets['critical']",
            "expected a Priority",
        ),
        (
            lambda: MetricPolicy(
                SlaMetric.RESOLUTION, {"low": Target(H)}, pause_statuses={"solved"}
            ),
            "pause_statuses",
            "'solved' cannot pause a clock",
        ),
        (
            lambda: MetricPolicy(SlaMetric.RESOLUTION, {"low": Target(H)}, count_bot_replies=True),
            "count_bot_replies",
            "fulfilled by solving",
        ),
        (
            lambda: SlaPolicy(
                name="p",
                metrics=[
                    MetricPolicy(SlaMetric.RESOLUTION, {"low": Target(H)}),
                    MetricPolicy(SlaMetric.RESOLUTION, {"high": Target(H)}),
                ],
            ),
            "metrics[1].metric",
            "'resolution' is configured twice",
        ),
        (lambda: SlaPolicy(name="p", metrics=[]), "metrics", "at least one MetricPolicy"),
    ],
)
def test_bad_configuration_names_the_path(build, path: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        build()
    assert any(p.path == path and fragment in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_policy_json_round_trip_and_strings_for_enums() -> None:
    built = SlaPolicy(
        name="vip",
        condition=Equals("customer.tier", "vip"),
        metrics=[
            MetricPolicy(
                "first_response",  # type: ignore[arg-type]
                {"urgent": Target(timedelta(minutes=30)), "normal": Target(2 * H, "cn")},
                count_bot_replies=True,
            ),
            MetricPolicy(
                SlaMetric.RESOLUTION,
                {Priority.NORMAL: Target(16 * H, "cn", warnings=(0.5, 0.9))},
                pause_statuses=["pending"],
                on_reopen=OnReopen.NEW_CYCLE,
                on_priority_change=OnPriorityChange.FROM_CHANGE,
            ),
        ],
    )
    assert built.rules(SlaMetric.FIRST_RESPONSE).targets[Priority.URGENT].calendar is None  # type: ignore[union-attr]
    assert built.rules(SlaMetric.NEXT_RESPONSE) is None
    assert from_json(to_json(built), SlaPolicy) == built


def test_a_bad_document_is_refused_with_its_path() -> None:
    text = to_json(policy(SlaMetric.RESOLUTION, H)).replace('"pending"', '"closed"')
    with pytest.raises(ValidationError) as caught:
        from_json(text, SlaPolicy)
    assert "metrics[0].pause_statuses" in str(caught.value)


def test_first_matching_policy_wins() -> None:
    urgent = SlaPolicy(
        name="urgent",
        condition=Equals("ticket.priority", "urgent"),
        metrics=[MetricPolicy(SlaMetric.RESOLUTION, {"urgent": Target(H)})],
    )
    fallback = policy(SlaMetric.RESOLUTION, 8 * H)
    ticket = opened(sh(2026, 3, 2, 9), Priority.URGENT)
    assert select_policy([urgent, fallback], ticket) is urgent
    assert select_policy([urgent, fallback], opened(sh(2026, 3, 2, 9))) is fallback
    assert select_policy([urgent], opened(sh(2026, 3, 2, 9))) is None
    none = evaluate(opened(sh(2026, 3, 2, 9)), [urgent], CALENDARS, sh(2026, 3, 2, 10))
    assert none.policy is None and none.metrics == () and none.next_deadline is None


def test_the_policy_is_chosen_by_the_ticket_as_it_stood_at_now() -> None:
    urgent = SlaPolicy(
        name="urgent",
        condition=Equals("ticket.priority", "urgent"),
        metrics=[MetricPolicy(SlaMetric.FIRST_RESPONSE, dict.fromkeys(Priority, Target(H)))],
    )
    default = policy(SlaMetric.FIRST_RESPONSE, 4 * H, calendar=None)
    ticket = opened(sh(2026, 3, 2, 9)).change_priority(
        Priority.URGENT, at=sh(2026, 3, 2, 10, 30), actor=AGENT
    )
    before = evaluate(ticket, [urgent, default], CALENDARS, sh(2026, 3, 2, 10))
    assert before.policy == default.name
    assert before[SlaMetric.FIRST_RESPONSE].due_at == utc(sh(2026, 3, 2, 13))
    after = evaluate(ticket, [urgent, default], CALENDARS, sh(2026, 3, 2, 11))
    assert after.policy == "urgent" and after[SlaMetric.FIRST_RESPONSE].state is SlaState.BREACHED


def test_bad_arguments() -> None:
    p = policy(SlaMetric.RESOLUTION, H)
    ticket = opened(sh(2026, 3, 2, 9))
    with pytest.raises(ValidationError, match="naive datetime"):
        evaluate(ticket, p, CALENDARS, datetime(2026, 3, 2, 10))
    with pytest.raises(NotFoundError, match=r"calendar 'cn' not found; calendars given: 'x'"):
        evaluate(ticket, p, {"x": SPLIT}, sh(2026, 3, 2, 10))
    with pytest.raises(ValidationError, match="expected an SlaPolicy"):
        evaluate(ticket, [p, "p"], CALENDARS, sh(2026, 3, 2, 10))  # type: ignore[list-item]
    with pytest.raises(KeyError, match="measured: resolution") as missing:
        evaluate(ticket, p, CALENDARS, sh(2026, 3, 2, 10))[SlaMetric.FIRST_RESPONSE]
    assert not isinstance(missing.value, NotFoundError)  # the ticket exists: not a 404
    # Calendars may be given as a sequence, keyed by their names.
    assert evaluate(ticket, p, [SPLIT], sh(2026, 3, 2, 10)) == evaluate(
        ticket, p, CALENDARS, sh(2026, 3, 2, 10)
    )


# -- the worked examples of docs/sla.md -------------------------------------------------


def test_friday_evening_before_a_make_up_sunday() -> None:
    ticket = opened(sh(2026, 9, 18, 17, 30))  # Friday; Sunday 20 September is a working day
    first = policy(SlaMetric.FIRST_RESPONSE, 4 * H, calendar="cn-2026")
    assert status_of(ticket, first, sh(2026, 9, 18, 20)).due_at == utc(sh(2026, 9, 20, 12, 30))
    resolution = policy(SlaMetric.RESOLUTION, 90 * H, calendar="cn-2026")  # 10 business days
    # 0.5 h Friday, Sunday, 21-30 September (8 days) = 81.5 h; the holiday; 8.5 h on 8 October.
    assert status_of(ticket, resolution, sh(2026, 9, 19)).due_at == utc(sh(2026, 10, 8, 17, 30))


def test_split_shift_skips_the_lunch_break() -> None:
    ticket = opened(sh(2026, 3, 3, 11))
    result = status_of(ticket, policy(SlaMetric.RESOLUTION, 2 * H), sh(2026, 3, 3, 11, 30))
    assert result.state is SlaState.RUNNING
    assert result.due_at == utc(sh(2026, 3, 3, 14, 30))
    assert result.elapsed == timedelta(minutes=30) and result.remaining == timedelta(minutes=90)


def test_created_outside_hours_starts_at_the_next_opening_and_due_on_closing_time() -> None:
    ticket = opened(sh(2026, 3, 6, 20))  # Friday evening
    result = status_of(ticket, policy(SlaMetric.RESOLUTION, 7.5 * H), sh(2026, 3, 7, 12))
    assert result.elapsed == timedelta(0)
    assert result.due_at == utc(sh(2026, 3, 9, 18))  # Monday's closing time, not Tuesday 09:00


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (date(2026, 3, 8), datetime(2026, 3, 8, 9, tzinfo=NY)),  # 02:00-03:00 does not exist
        (date(2026, 11, 1), datetime(2026, 11, 1, 7, tzinfo=NY)),
    ],  # 01:00-02:00 happens twice
)
def test_new_york_dst_weekends(day: date, end: datetime) -> None:
    desk = BusinessCalendar.weekdays("ny", "America/New_York", "00:00-24:00", days=range(7))
    start = datetime(day.year, day.month, day.day, tzinfo=NY)
    ticket = opened(start)
    p = policy(SlaMetric.RESOLUTION, 8 * H, calendar="ny")
    result = evaluate(ticket, p, {"ny": desk}, start + timedelta(minutes=1))[SlaMetric.RESOLUTION]
    assert result.due_at == utc(end)
    assert result.due_at - utc(start) == 8 * H  # real elapsed time, whatever the wall clock says


def test_pending_pauses_resolution_but_not_first_response() -> None:
    ticket = opened(sh(2026, 3, 2, 9))
    ticket = ticket.change_status(Status.PENDING, at=sh(2026, 3, 2, 10), actor=AGENT)
    both = SlaPolicy(
        name="both",
        metrics=[
            MetricPolicy(SlaMetric.FIRST_RESPONSE, {"normal": Target(4 * H, "cn")}),
            MetricPolicy(SlaMetric.RESOLUTION, {"normal": Target(8 * H, "cn")}),
        ],
    )
    result = evaluate(ticket, both, CALENDARS, sh(2026, 3, 2, 15))
    assert result[SlaMetric.RESOLUTION].state is SlaState.PAUSED
    assert result[SlaMetric.RESOLUTION].elapsed == H and result[SlaMetric.RESOLUTION].due_at is None
    assert result[SlaMetric.FIRST_RESPONSE].state is SlaState.BREACHED
    assert result[SlaMetric.FIRST_RESPONSE].breached_at == utc(sh(2026, 3, 2, 14, 30))
    # The customer answers: the resolution clock resumes with the hour already counted.
    ticket = ticket.add_message(at=sh(2026, 3, 3, 9), actor=CUSTOMER, body="Here it is.")
    resumed = evaluate(ticket, both, CALENDARS, sh(2026, 3, 3, 9, 30))[SlaMetric.RESOLUTION]
    assert resumed.state is SlaState.RUNNING and resumed.elapsed == 1.5 * H
    assert resumed.due_at == utc(sh(2026, 3, 3, 17, 30))  # 6.5 h more, around the lunch break


@pytest.mark.parametrize(
    ("rule", "cycle", "elapsed"),
    [(OnReopen.RESUME, 1, 3 * H), (OnReopen.NEW_CYCLE, 2, H)],
)
def test_reopen_resumes_or_starts_a_new_cycle(
    rule: OnReopen, cycle: int, elapsed: timedelta
) -> None:
    p = policy(SlaMetric.RESOLUTION, 8 * H, on_reopen=rule)
    ticket = opened(sh(2026, 3, 2, 9)).change_status(
        Status.SOLVED, at=sh(2026, 3, 2, 11), actor=AGENT
    )
    solved = status_of(ticket, p, sh(2026, 3, 2, 17))
    assert solved.state is SlaState.ACHIEVED and solved.achieved_at == utc(sh(2026, 3, 2, 11))
    ticket = ticket.add_message(at=sh(2026, 3, 3, 9), actor=CUSTOMER, body="Still broken.")
    assert ticket.status is Status.OPEN
    reopened = status_of(ticket, p, sh(2026, 3, 3, 10))
    assert (reopened.state, reopened.cycle, reopened.elapsed) == (SlaState.RUNNING, cycle, elapsed)
    assert reopened.achieved_at is None


def test_priority_raised_mid_cycle() -> None:
    targets = {"normal": Target(8 * H, "cn"), "urgent": Target(2 * H, "cn")}
    ticket = opened(sh(2026, 3, 2, 9)).change_priority(
        Priority.URGENT, at=sh(2026, 3, 2, 14), actor=AGENT
    )
    now = sh(2026, 3, 2, 14, 30)

    def resolution(rule: OnPriorityChange):  # type: ignore[no-untyped-def]
        p = SlaPolicy(
            name="p",
            metrics=[MetricPolicy(SlaMetric.RESOLUTION, targets, on_priority_change=rule)],
        )
        return status_of(ticket, p, now)

    from_start = resolution(OnPriorityChange.FROM_CYCLE_START)
    assert from_start.priority is Priority.URGENT and from_start.target == 2 * H
    assert from_start.state is SlaState.BREACHED
    assert from_start.breached_at == utc(sh(2026, 3, 2, 11))  # already past when it was raised
    from_change = resolution(OnPriorityChange.FROM_CHANGE)
    assert from_change.state is SlaState.RUNNING and from_change.elapsed == timedelta(minutes=30)
    assert from_change.due_at == utc(sh(2026, 3, 2, 16))


def test_why_did_this_breach_at_10_30() -> None:
    ticket = opened(sh(2026, 3, 2, 11))
    p = policy(SlaMetric.FIRST_RESPONSE, 2 * H)
    ticket = ticket.add_message(at=sh(2026, 3, 3, 9), actor=AGENT, body="Sorry for the wait.")
    result = status_of(ticket, p, sh(2026, 3, 3, 12))
    assert result.state is SlaState.BREACHED
    assert result.breached_at == utc(sh(2026, 3, 2, 14, 30))
    text = explain(ticket, p, CALENDARS, sh(2026, 3, 3, 12)).render()
    assert "2026-03-02 11:00 – 2026-03-02 12:00: counted 1 hr" in text
    assert "2026-03-02 12:00 – 2026-03-02 13:30: closed hours, not counted" in text
    assert "breached at 2026-03-02 14:30" in text
    assert "2026-03-03 09:00: fulfilled (agent reply)" in text
    chinese = explain(ticket, p, CALENDARS, sh(2026, 3, 3, 12)).render("zh_CN")
    assert "于 2026-03-02 14:30 超时" in chinese and "首次响应：已超时" in chinese
    assert "首次回應：已逾時" in explain(ticket, p, CALENDARS, sh(2026, 3, 3, 12)).render("zh_TW")


def test_a_warning_fraction_that_rounds_to_zero_is_reached_at_the_start() -> None:
    tiny = SlaPolicy(
        name="tiny",
        metrics=[MetricPolicy(SlaMetric.FIRST_RESPONSE, {"normal": Target(H, warnings=(1e-323,))})],
    )
    t0 = sh(2026, 3, 2, 9)
    explanation = explain(opened(t0), tiny, CALENDARS, t0)
    warnings = [e for e in explanation.entries if e.kind is TraceKind.WARNING]
    assert [w.start for w in warnings] == [utc(t0)]


def test_holidays_are_named_in_the_trace() -> None:
    ticket = opened(sh(2026, 9, 30, 17))
    p = policy(SlaMetric.RESOLUTION, 4 * H, calendar="cn-2026")
    explanation = explain(ticket, p, CALENDARS, sh(2026, 10, 9, 12))
    closed = [e for e in explanation.entries if e.kind is TraceKind.CLOSED and e.detail]
    assert closed[0].detail == ("National Day",)
    assert closed[0].start == utc(sh(2026, 9, 30, 18)) and closed[0].end == utc(sh(2026, 10, 8, 9))


# -- response metrics ---------------------------------------------------------------------


def test_reply_exactly_at_the_due_instant_is_on_time() -> None:
    p = policy(SlaMetric.FIRST_RESPONSE, 2 * H)
    due = sh(2026, 3, 2, 11)
    on_time = opened(sh(2026, 3, 2, 9)).add_message(at=due, actor=AGENT, body="Hi")
    late = opened(sh(2026, 3, 2, 9)).add_message(
        at=due + timedelta(microseconds=1), actor=AGENT, body="Hi"
    )
    assert status_of(on_time, p, sh(2026, 3, 5)).state is SlaState.ACHIEVED
    breached = status_of(late, p, sh(2026, 3, 5))
    assert breached.state is SlaState.BREACHED and breached.breached_at == utc(due)
    assert breached.achieved_at == utc(due + timedelta(microseconds=1))


def test_due_at_closing_time_and_a_reply_after_closing_is_late() -> None:
    p = policy(SlaMetric.FIRST_RESPONSE, 2 * H)
    ticket = opened(sh(2026, 3, 2, 16)).add_message(at=sh(2026, 3, 2, 19), actor=AGENT, body="Hi")
    result = status_of(ticket, p, sh(2026, 3, 3))
    assert result.elapsed == 2 * H  # nothing counted after 18:00 ...
    assert result.state is SlaState.BREACHED  # ... but the due instant had passed
    assert result.breached_at == utc(sh(2026, 3, 2, 18))


def test_internal_notes_and_uncounted_bot_replies_do_not_respond() -> None:
    ticket = opened(sh(2026, 3, 2, 9))
    ticket = ticket.add_message(
        at=sh(2026, 3, 2, 9, 5), actor=AGENT, body="note", visibility=Visibility.INTERNAL
    )
    ticket = ticket.add_message(at=sh(2026, 3, 2, 9, 10), actor=BOT, body="We got it.")
    strict = policy(SlaMetric.FIRST_RESPONSE, H)
    lenient = policy(SlaMetric.FIRST_RESPONSE, H, count_bot_replies=True)
    assert status_of(ticket, strict, sh(2026, 3, 2, 9, 30)).state is SlaState.RUNNING
    counted = status_of(ticket, lenient, sh(2026, 3, 2, 9, 30))
    assert counted.state is SlaState.ACHIEVED and counted.achieved_at == utc(sh(2026, 3, 2, 9, 10))


def test_next_response_cycles_follow_customer_messages() -> None:
    p = policy(SlaMetric.NEXT_RESPONSE, H)
    ticket = opened(sh(2026, 3, 2, 9))
    assert status_of(ticket, p, sh(2026, 3, 2, 10)).state is SlaState.IDLE  # first response's job
    ticket = ticket.add_message(at=sh(2026, 3, 2, 9, 30), actor=AGENT, body="Which order?")
    ticket = ticket.add_message(at=sh(2026, 3, 2, 10), actor=CUSTOMER, body="8812")
    ticket = ticket.add_message(at=sh(2026, 3, 2, 10, 20), actor=CUSTOMER, body="Any news?")
    waiting = status_of(ticket, p, sh(2026, 3, 2, 10, 30))
    assert waiting.cycle == 1 and waiting.due_at == utc(sh(2026, 3, 2, 11))  # oldest unanswered
    ticket = ticket.add_message(at=sh(2026, 3, 2, 10, 40), actor=AGENT, body="Refunded.")
    ticket = ticket.add_message(at=sh(2026, 3, 2, 11), actor=CUSTOMER, body="Thanks, but...")
    second = status_of(ticket, p, sh(2026, 3, 2, 11, 15))
    assert (second.cycle, second.state, second.elapsed) == (
        2,
        SlaState.RUNNING,
        timedelta(minutes=15),
    )


def test_periodic_update_bounds_the_gap_between_agent_updates() -> None:
    p = policy(SlaMetric.PERIODIC_UPDATE, 2 * H)
    ticket = opened(sh(2026, 3, 2, 9))
    ticket = ticket.add_message(at=sh(2026, 3, 2, 9, 30), actor=AGENT, body="On it.")
    ticket = ticket.add_message(at=sh(2026, 3, 2, 10, 30), actor=AGENT, body="Still on it.")
    result = status_of(ticket, p, sh(2026, 3, 2, 11))
    assert result.cycle == 2 and result.due_at == utc(sh(2026, 3, 2, 14))  # lunch excluded
    assert next_deadline(ticket, p, CALENDARS, sh(2026, 3, 2, 11)) == utc(
        sh(2026, 3, 2, 11, 30)  # the 50% warning comes first
    )


def test_solving_suspends_response_clocks_and_closing_cancels_them() -> None:
    p = policy(SlaMetric.FIRST_RESPONSE, 2 * H)
    ticket = opened(sh(2026, 3, 2, 9)).change_status(
        Status.SOLVED, at=sh(2026, 3, 2, 10), actor=AGENT
    )
    assert status_of(ticket, p, sh(2026, 3, 2, 15)).state is SlaState.CANCELLED
    reopened = ticket.add_message(at=sh(2026, 3, 3, 9), actor=CUSTOMER, body="Not fixed")
    resumed = status_of(reopened, p, sh(2026, 3, 3, 9, 30))
    assert resumed.state is SlaState.RUNNING and resumed.elapsed == 1.5 * H
    closed = ticket.change_status(Status.CLOSED, at=sh(2026, 3, 4, 9), actor=AGENT)
    assert status_of(closed, p, sh(2026, 3, 9)).state is SlaState.CANCELLED


def test_merge_cancels_a_running_resolution() -> None:
    p = policy(SlaMetric.RESOLUTION, 8 * H)
    ticket = opened(sh(2026, 3, 2, 9)).merge_into("T-0", at=sh(2026, 3, 2, 10), actor=AGENT)
    result = status_of(ticket, p, sh(2026, 3, 3))
    assert result.state is SlaState.CANCELLED and result.elapsed == H


def test_not_applicable_without_a_target_for_the_priority() -> None:
    p = policy(SlaMetric.RESOLUTION, 8 * H, priorities=(Priority.URGENT,))
    result = status_of(opened(sh(2026, 3, 2, 9)), p, sh(2026, 3, 2, 10))
    assert result.state is SlaState.NOT_APPLICABLE and result.target is None


def test_events_after_now_are_ignored() -> None:
    p = policy(SlaMetric.RESOLUTION, 8 * H)
    ticket = opened(sh(2026, 3, 2, 9)).change_status(
        Status.SOLVED, at=sh(2026, 3, 2, 12), actor=AGENT
    )
    before = status_of(ticket, p, sh(2026, 3, 2, 10))
    assert before.state is SlaState.RUNNING and before.elapsed == H
    assert before == status_of(opened(sh(2026, 3, 2, 9)), p, sh(2026, 3, 2, 10))


# -- properties -------------------------------------------------------------------------

PAUSE_SETS = (
    frozenset(),
    frozenset({Status.PENDING, Status.ON_HOLD}),
    frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD}),
)


def all_metrics(pauses: frozenset[Status], calendar: str | None) -> SlaPolicy:
    """Every metric, pausing first response and resolution in ``pauses``."""

    def targets(hours: int) -> dict[Priority, Target]:
        return dict.fromkeys(Priority, Target(hours * H, calendar, warnings=(0.5, 0.75)))

    return SlaPolicy(
        name="all",
        metrics=[
            MetricPolicy(SlaMetric.FIRST_RESPONSE, targets(2), pause_statuses=pauses),
            MetricPolicy(SlaMetric.NEXT_RESPONSE, targets(4)),
            MetricPolicy(SlaMetric.PERIODIC_UPDATE, targets(8), count_bot_replies=True),
            MetricPolicy(SlaMetric.RESOLUTION, targets(20), pause_statuses=pauses),
        ],
    )


property_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Ticket, SlaPolicy, BusinessCalendar, datetime]:
    calendar = draw(cst.business_calendars())
    ticket = draw(cst.tickets(max_events=12, max_gap=timedelta(days=2)))
    p = all_metrics(draw(st.sampled_from(PAUSE_SETS)), draw(st.sampled_from(("cal", None))))
    now = ticket.updated_at + draw(st.timedeltas(timedelta(0), timedelta(days=5)))
    return ticket, p, calendar, now


def _evaluate(
    case: tuple[Ticket, SlaPolicy, BusinessCalendar, datetime], now: datetime | None = None
):  # type: ignore[no-untyped-def]
    ticket, p, calendar, at = case
    return evaluate(ticket, p, {"cal": calendar}, now or at)


@property_settings
@given(cases(), st.timedeltas(timedelta(0), timedelta(days=10)))
def test_elapsed_never_decreases_as_now_grows(case, later: timedelta) -> None:  # type: ignore[no-untyped-def]
    ticket, _, _, now = case
    first = _evaluate(case, ticket.created_at + (now - ticket.created_at) / 2)
    second = _evaluate(case, now + later)
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):  # one cycle each (resume)
        assert second[metric].elapsed >= first[metric].elapsed


@property_settings
@given(cases(), st.timedeltas(timedelta(0), timedelta(days=30)))
def test_an_achieved_metric_never_changes(case, later: timedelta) -> None:  # type: ignore[no-untyped-def]
    now = case[3]
    first, second = _evaluate(case), _evaluate(case, now + later)
    for a, b in zip(first.metrics, second.metrics, strict=True):
        if a.state is SlaState.ACHIEVED or (a.state is SlaState.BREACHED and a.achieved_at):
            assert a == b


@property_settings
@given(cases())
def test_a_pause_never_adds_time(case) -> None:  # type: ignore[no-untyped-def]
    ticket, p, calendar, now = case
    unpaused = all_metrics(frozenset(), p.metrics[0].targets[Priority.LOW].calendar)
    paused_result = evaluate(ticket, p, {"cal": calendar}, now)
    unpaused_result = evaluate(ticket, unpaused, {"cal": calendar}, now)
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
        assert paused_result[metric].elapsed <= unpaused_result[metric].elapsed


@property_settings
@given(cases())
def test_evaluation_is_deterministic_and_survives_json(case) -> None:  # type: ignore[no-untyped-def]
    ticket, p, calendar, now = case
    result = _evaluate(case)
    assert result == _evaluate(case)
    assert (
        evaluate(
            from_json(to_json(ticket)),
            from_json(to_json(p)),
            [
                calendar.__class__(
                    name="cal",
                    timezone=calendar.timezone,
                    weekly=calendar.weekly,
                    holidays=calendar.holidays,
                    extra_workdays=calendar.extra_workdays,
                )
            ],
            now,
        )
        == result
    )


@property_settings
@given(cases())
def test_status_invariants(case) -> None:  # type: ignore[no-untyped-def]
    ticket, _, _, now = case
    result = _evaluate(case)
    for m in result.metrics:
        if m.target is not None:
            assert m.remaining == m.target - m.elapsed
        assert m.elapsed <= now - ticket.created_at
        if m.state is SlaState.RUNNING:
            assert m.due_at is not None and m.due_at >= now and m.remaining >= timedelta(0)
        if m.state is SlaState.PAUSED:
            assert m.due_at is None
        if m.breached_at is not None:
            assert m.state is SlaState.BREACHED and m.breached_at < now
            assert m.achieved_at is None or m.achieved_at > m.breached_at
        if m.target is not None:
            assert m.warnings_reached == tuple(f for f in (0.5, 0.75) if m.elapsed >= m.target * f)
    deadline = result.next_deadline
    assert deadline is None or deadline > now


@property_settings
@given(cases())
def test_the_trace_counts_what_the_status_says(case) -> None:  # type: ignore[no-untyped-def]
    ticket, p, calendar, now = case
    explanation = explain(ticket, p, {"cal": calendar}, now)
    assert explanation.status == _evaluate(case)
    for m in explanation.status.metrics:
        counted = [
            e for e in explanation.entries if e.metric is m.metric and e.kind is TraceKind.COUNTED
        ]
        assert sum((e.amount for e in counted), timedelta(0)) == m.elapsed  # type: ignore[misc]
        for e in counted:
            assert e.end is not None and e.start < e.end
    assert explanation.render() and explanation.render("zh_CN")


@property_settings
@given(cases(), st.floats(0, 1))
def test_later_events_change_nothing(case, fraction: float) -> None:  # type: ignore[no-untyped-def]
    ticket, p, calendar, _ = case
    now = ticket.created_at + (ticket.updated_at - ticket.created_at) * fraction
    prefix = Ticket(timeline=tuple(e for e in ticket.timeline if e.at <= now))
    assert evaluate(ticket, p, {"cal": calendar}, now) == evaluate(
        prefix, p, {"cal": calendar}, now
    )


@property_settings
@given(
    cst.tickets(max_events=12, max_gap=timedelta(days=2)),
    cst.sla_policies(calendar_names=("cal",), conditions=False),
    cst.business_calendars(),
    st.timedeltas(timedelta(0), timedelta(days=5)),
)
def test_generated_policies_trace_what_they_count(ticket, p, calendar, later) -> None:  # type: ignore[no-untyped-def]
    now = ticket.updated_at + later
    explanation = explain(ticket, p, {"cal": calendar}, now)
    assert explanation.status == evaluate(ticket, p, {"cal": calendar}, now)
    for m in explanation.status.metrics:
        counted = [
            e.amount
            for e in explanation.entries
            if e.metric is m.metric and e.kind is TraceKind.COUNTED
        ]
        assert sum(counted, timedelta(0)) == m.elapsed  # type: ignore[arg-type]
    assert explanation.render("zh_TW")
