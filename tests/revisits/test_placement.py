"""Where revisit tasks land: contact windows in the customer's zone, quiet hours, consent,
rate limits and the minimum gap (csdomain.revisits.placement)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import assume, given

from csdomain.calendars import BusinessCalendar, ExtraWorkday, Holiday, TimeRange
from csdomain.customers import Consent, ContactPoint, Customer
from csdomain.errors import ValidationError
from csdomain.revisits.placement import (
    LIVE_STATES,
    WECHAT_48H,
    ContactState,
    ContactWindow,
    LiveTask,
    Placement,
    RateLimit,
    Refusal,
    RefusalReason,
    allowed_forms,
    place,
)
from csdomain.revisits.vocabulary import FORM_CHANNELS, RevisitForm, TaskState
from csdomain.testing.strategies import business_calendars, time_ranges

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
RECORDED = datetime(2026, 1, 1, tzinfo=UTC)
HORIZON = datetime(2027, 6, 1, tzinfo=UTC)
OA = "wechat_official_account"
MINI = "wechat_mini_program"

PHONE, EMAIL, SMS, WECHAT, QUESTIONNAIRE = (
    RevisitForm.PHONE,
    RevisitForm.EMAIL,
    RevisitForm.SMS,
    RevisitForm.WECHAT,
    RevisitForm.QUESTIONNAIRE,
)

#: 2026 National Day in China: 1-7 October off, made up on Sunday 20 September and
#: Saturday 10 October (the State Council's notice for 2026).
CN_TEMPLATE = BusinessCalendar.weekdays(
    "cn-revisit",
    "Asia/Shanghai",
    "09:00-12:00",
    "13:30-18:00",
    holidays=[Holiday(date(2026, 10, d), "国庆节") for d in range(1, 8)],
    extra_workdays=[
        ExtraWorkday(date(2026, 9, 20), "国庆节调休", ["09:00-18:00"]),
        ExtraWorkday(date(2026, 10, 10), "国庆节调休", ["09:00-18:00"]),
    ],
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def point(channel: str, consent: Consent = Consent.GIVEN, **kw: bool) -> ContactPoint:
    recorded = None if consent is Consent.UNKNOWN else RECORDED
    return ContactPoint(
        channel, f"{channel}-address", consent=consent, consent_changed_at=recorded, **kw
    )


def customer(zone: str = "Asia/Shanghai", *points: ContactPoint) -> Customer:
    return Customer(
        id="cus_1",
        display_name="Li Wei",
        timezone=zone,
        contact_points=points or (point("phone_hotline"),),
    )


def put(
    nominal: datetime,
    window: ContactWindow,
    state: ContactState,
    forms: tuple[RevisitForm, ...] = (PHONE,),
    **kw: datetime,
) -> Placement | Refusal:
    kw.setdefault("horizon_end", HORIZON)
    return place(nominal, forms=forms, window=window, state=state, **kw)


def at(result: Placement | Refusal) -> datetime:
    assert isinstance(result, Placement), result
    return result.at


# -- the window template in the customer's zone ---------------------------------------


def test_national_day_moves_a_task_to_the_first_working_day_after_it() -> None:
    state = ContactState(customer())
    window = ContactWindow(CN_TEMPLATE)
    assert at(put(datetime(2026, 10, 1, 10, tzinfo=SHANGHAI), window, state)) == utc(2026, 10, 8, 1)


def test_make_up_days_open_a_weekend_in_the_customers_zone() -> None:
    state = ContactState(customer())
    window = ContactWindow(CN_TEMPLATE)
    saturday = datetime(2026, 9, 19, 10, tzinfo=SHANGHAI)
    assert at(put(saturday, window, state)) == utc(2026, 9, 20, 1)  # Sunday 09:00 +08
    friday_evening = datetime(2026, 10, 9, 18, 30, tzinfo=SHANGHAI)
    assert at(put(friday_evening, window, state)) == utc(2026, 10, 10, 1)  # Saturday 09:00


def test_a_customer_in_berlin_reads_the_same_template_by_berlin_dates_and_hours() -> None:
    state = ContactState(customer("Europe/Berlin"))
    window = ContactWindow(CN_TEMPLATE)
    # National Day by Berlin's calendar date: 8 October 09:00 CEST
    assert at(put(datetime(2026, 10, 1, 10, tzinfo=BERLIN), window, state)) == utc(2026, 10, 8, 7)
    # the make-up Sunday opens at 09:00 Berlin time
    assert at(put(datetime(2026, 9, 19, 12, tzinfo=BERLIN), window, state)) == utc(2026, 9, 20, 7)
    # 09:00 Shanghai on 8 October is 03:00 in Berlin: closed there until 09:00 CEST
    assert at(put(utc(2026, 10, 8, 1), window, state)) == utc(2026, 10, 8, 7)
    # across the end of summer time (25 October): Monday 09:00 CET
    assert at(put(datetime(2026, 10, 24, 10, tzinfo=BERLIN), window, state)) == utc(2026, 10, 26, 8)


def test_calendar_for_re_zones_the_template_once_per_zone() -> None:
    window = ContactWindow(CN_TEMPLATE, quiet_hours=["12:00-14:00"])
    berlin = window.calendar_for("Europe/Berlin")
    assert berlin.timezone == "Europe/Berlin"
    assert berlin.holidays[:7] == CN_TEMPLATE.holidays
    assert window.calendar_for("Europe/Berlin") is berlin
    twin = ContactWindow(CN_TEMPLATE, quiet_hours=["12:00-14:00"])
    assert twin == window
    assert twin.calendar_for("Europe/Berlin") is berlin  # equal windows share it
    assert window.calendar_for("Asia/Shanghai").ranges_on(date(2026, 10, 8)) == (
        TimeRange.parse("09:00-12:00"),
        TimeRange.parse("14:00-18:00"),
    )
    with pytest.raises(ValidationError) as caught:
        window.calendar_for("Mars/Olympus")
    assert caught.value.paths == ("timezone",)
    assert "Mars/Olympus" in str(caught.value)


def test_spring_forward_skips_the_hour_that_does_not_exist() -> None:
    template = BusinessCalendar.weekdays("night", "UTC", "01:00-05:00", days=range(7))
    window = ContactWindow(template, quiet_hours=["01:00-02:45"])
    state = ContactState(customer("Europe/Berlin"))
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:45 never comes
    assert at(put(utc(2026, 3, 29, 0), window, state)) == utc(2026, 3, 29, 1)
    assert at(put(utc(2026, 3, 28, 0), window, state)) == utc(2026, 3, 28, 1, 45)


# -- quiet hours ----------------------------------------------------------------------


def test_quiet_hours_are_cut_from_weekly_make_up_and_partial_holiday_hours() -> None:
    template = attrs.evolve(
        CN_TEMPLATE,
        holidays=(*CN_TEMPLATE.holidays, Holiday(date(2026, 12, 31), "跨年", ["15:00-18:00"])),
    )
    window = ContactWindow(template, quiet_hours=["12:00-14:00", "09:00-11:00"])
    state = ContactState(customer())
    # weekly lunch: 12:15 waits for 14:00, not 13:30
    assert at(put(datetime(2026, 10, 8, 12, 15, tzinfo=SHANGHAI), window, state)) == utc(
        2026, 10, 8, 6
    )
    # the make-up Sunday's 09:00-18:00 loses the quiet hours too
    assert at(put(datetime(2026, 9, 20, 8, tzinfo=SHANGHAI), window, state)) == utc(2026, 9, 20, 3)
    assert at(put(datetime(2026, 9, 20, 12, 30, tzinfo=SHANGHAI), window, state)) == utc(
        2026, 9, 20, 6
    )
    # New Year's Eve closes at 15:00; what is left (11:00-12:00, 14:00-15:00) is quiet-cut
    assert window.calendar_for("Asia/Shanghai").ranges_on(date(2026, 12, 31)) == (
        TimeRange.parse("11:00-12:00"),
        TimeRange.parse("14:00-15:00"),
    )
    assert at(put(datetime(2026, 12, 31, 15, 10, tzinfo=SHANGHAI), window, state)) == utc(
        2027, 1, 1, 3
    )


def test_an_extra_workday_left_without_hours_closes() -> None:
    template = BusinessCalendar.weekdays(
        "evening",
        "Asia/Shanghai",
        "18:00-21:00",
        extra_workdays=[ExtraWorkday(date(2026, 10, 10), "调休", ["21:00-22:00"])],
    )
    window = ContactWindow(template, quiet_hours=["20:30-08:00"])
    calendar = window.calendar_for("Asia/Shanghai")
    assert calendar.ranges_on(date(2026, 10, 10)) == ()
    assert calendar.ranges_on(date(2026, 10, 12)) == (TimeRange.parse("18:00-20:30"),)
    state = ContactState(customer())
    assert at(put(datetime(2026, 10, 10, 8, tzinfo=SHANGHAI), window, state)) == utc(
        2026, 10, 12, 10
    )


def test_overnight_quiet_hours_text_is_two_ranges() -> None:
    window = ContactWindow(CN_TEMPLATE, quiet_hours=["21:00-08:00", "22:00-00:00"])
    assert window.quiet_hours == (
        TimeRange.parse("21:00-24:00"),
        TimeRange.parse("00:00-08:00"),
        TimeRange.parse("22:00-24:00"),
    )


@pytest.mark.parametrize("text", ["25:00-08:00", "08:00-08:00", "noon", "8-9-10"])
def test_bad_quiet_hours_text_names_the_item(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ContactWindow(CN_TEMPLATE, quiet_hours=["12:00-13:00", text])
    assert caught.value.subject == "ContactWindow"
    assert caught.value.paths == ("quiet_hours[1]",)
    assert repr(text) in str(caught.value)


def test_a_window_with_no_open_time_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as caught:
        ContactWindow(CN_TEMPLATE, quiet_hours=["08:00-19:00"])
    error = caught.value
    assert error.subject == "ContactWindow"
    assert error.paths == ("quiet_hours",)
    assert "'cn-revisit'" in str(error)
    assert "no open time" in str(error)
    # a make-up day keeping some hours is open time
    only_extra = BusinessCalendar(
        name="weekend-only",
        timezone="UTC",
        weekly=((),) * 5 + (("10:00-11:00",),) * 2,
        extra_workdays=[ExtraWorkday(date(2026, 10, 12), "make-up", ["09:00-18:00"])],
    )
    window = ContactWindow(only_extra, quiet_hours=["10:00-11:00"])
    state = ContactState(customer("UTC"))
    assert at(put(utc(2026, 10, 1), window, state)) == utc(2026, 10, 12, 9)


# -- consent --------------------------------------------------------------------------


def test_only_contactable_channels_are_used() -> None:
    person = customer(
        "Asia/Shanghai",
        point("phone_hotline", Consent.WITHDRAWN),
        point("email", do_not_contact=True),
        point("sms"),
        point(OA, Consent.UNKNOWN),
    )
    forms = (PHONE, EMAIL, WECHAT, SMS, QUESTIONNAIRE)
    assert allowed_forms(forms, person) == (SMS, QUESTIONNAIRE)
    state = ContactState(person)
    window = ContactWindow(CN_TEMPLATE)
    placed = put(utc(2026, 10, 8, 2), window, state, forms)
    assert placed == Placement(utc(2026, 10, 8, 2), SMS, "sms")
    # a questionnaire link goes on the first contactable channel of its form
    assert put(utc(2026, 10, 8, 2), window, state, (QUESTIONNAIRE,)) == Placement(
        utc(2026, 10, 8, 2), QUESTIONNAIRE, "sms"
    )
    refused = put(utc(2026, 10, 8, 2), window, state, (PHONE, EMAIL, WECHAT))
    assert isinstance(refused, Refusal)
    assert refused.reason is RefusalReason.NO_FORM
    assert "cus_1" in refused.detail and "phone, email, wechat" in refused.detail


# -- the minimum gap ------------------------------------------------------------------


def test_the_minimum_gap_pushes_a_task_past_every_live_task() -> None:
    monday = utc(2026, 10, 12, 1)  # 09:00 +08
    state = ContactState(customer(), (LiveTask(monday, EMAIL, "email"),))
    window = ContactWindow(CN_TEMPLATE)  # 7 days
    # after a task: exactly 7 days later is allowed
    assert at(put(datetime(2026, 10, 14, 10, tzinfo=SHANGHAI), window, state)) == utc(
        2026, 10, 19, 1
    )
    # before it, 4 days apart: pushed past it as well
    assert at(put(utc(2026, 10, 8, 1), window, state)) == utc(2026, 10, 19, 1)
    # pushed past the gap onto a closed instant: the next opening (Monday 19:00 -> Tuesday)
    evening = ContactState(customer(), (LiveTask(utc(2026, 10, 12, 11), PHONE, "phone_hotline"),))
    assert at(put(utc(2026, 10, 13, 1), window, evening)) == utc(2026, 10, 20, 1)


@attrs.frozen
class StoredTask:
    id: str
    state: TaskState
    due_at: datetime
    form: RevisitForm
    channel: str


def test_only_live_tasks_count_and_a_moved_task_sets_itself_aside() -> None:
    due = utc(2026, 10, 12, 1)
    tasks = [
        StoredTask(f"rvt_{s.value}", s, due + timedelta(minutes=i), PHONE, "phone_hotline")
        for i, s in enumerate(TaskState)
    ]
    state = ContactState.from_tasks(customer(), tasks)
    assert {t.task_id for t in state.live_tasks} == {f"rvt_{s.value}" for s in LIVE_STATES}
    assert {
        TaskState.SCHEDULED,
        TaskState.IN_PROGRESS,
        TaskState.DONE,
        TaskState.RESCHEDULED,
    } == LIVE_STATES
    window = ContactWindow(CN_TEMPLATE, min_gap=timedelta(hours=1))
    # the last live one is the rescheduled task at +4 min (the cancelled one, +5, is not)
    assert at(put(due, window, state)) == due + timedelta(minutes=4, hours=1)
    alone = ContactState.from_tasks(customer(), [tasks[0]]).without("rvt_scheduled")
    assert alone.live_tasks == ()
    assert at(put(due, window, alone)) == due


# -- rate limits ----------------------------------------------------------------------

WECHAT_WINDOW = ContactWindow(CN_TEMPLATE, rate_limits=(WECHAT_48H,), min_gap=timedelta(0))
MESSAGE = utc(2026, 10, 12, 2)  # Monday 10:00 +08


def wechat_state(*tasks: LiveTask, inbound: dict[str, datetime] | None = None) -> ContactState:
    person = customer("Asia/Shanghai", point(OA), point(MINI), point("sms"))
    return ContactState(person, tasks, {OA: MESSAGE} if inbound is None else inbound)


def test_wechat_tasks_only_follow_a_message_and_at_most_five_in_48_hours() -> None:
    state = wechat_state()
    assert put(utc(2026, 10, 12, 2, 30), WECHAT_WINDOW, state, (WECHAT,)) == Placement(
        utc(2026, 10, 12, 2, 30), WECHAT, OA
    )
    # before the message: it waits for the message
    assert at(put(utc(2026, 10, 12, 1), WECHAT_WINDOW, state, (WECHAT,))) == MESSAGE
    for nominal in (utc(2026, 10, 14, 2), utc(2026, 10, 20, 2)):  # 48 h after, and later
        refused = put(nominal, WECHAT_WINDOW, state, (WECHAT,))
        assert isinstance(refused, Refusal) and refused.reason is RefusalReason.RATE_LIMITED
    assert put(utc(2026, 10, 14, 1, 59), WECHAT_WINDOW, state, (WECHAT,)) == Placement(
        utc(2026, 10, 14, 1, 59), WECHAT, OA
    )
    no_message = wechat_state(inbound={})
    refused = put(utc(2026, 10, 12, 2, 30), WECHAT_WINDOW, no_message, (WECHAT,))
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.RATE_LIMITED
    # a preferred form that is rate limited gives way to the next one
    assert put(utc(2026, 10, 20, 2), WECHAT_WINDOW, state, (WECHAT, SMS)) == Placement(
        utc(2026, 10, 20, 2), SMS, "sms"
    )


def test_five_wechat_messages_fill_the_48_hours_questionnaire_links_included() -> None:
    sent = [LiveTask(MESSAGE + timedelta(hours=h), WECHAT, OA) for h in (1, 2, 3, 4)]
    four = wechat_state(*sent)
    assert at(put(utc(2026, 10, 12, 8), WECHAT_WINDOW, four, (WECHAT,))) == utc(2026, 10, 12, 8)
    link = LiveTask(MESSAGE + timedelta(hours=5), QUESTIONNAIRE, OA)
    five = wechat_state(*sent, link)
    refused = put(utc(2026, 10, 12, 8), WECHAT_WINDOW, five, (WECHAT,))
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.RATE_LIMITED
    # tasks before the message are outside its 48 hours
    earlier = wechat_state(*sent, LiveTask(MESSAGE - timedelta(minutes=1), WECHAT, OA))
    assert isinstance(put(utc(2026, 10, 12, 8), WECHAT_WINDOW, earlier, (WECHAT,)), Placement)
    # the mini program has its own message and its own 48 hours
    both = wechat_state(*sent, link, inbound={OA: MESSAGE, MINI: MESSAGE})
    assert put(utc(2026, 10, 12, 8), WECHAT_WINDOW, both, (WECHAT,)) == Placement(
        utc(2026, 10, 12, 8), WECHAT, MINI
    )


def test_a_sliding_rate_limit_moves_the_task_until_the_span_frees_up() -> None:
    limit = RateLimit(PHONE, 2, timedelta(days=30))
    window = ContactWindow(CN_TEMPLATE, rate_limits=(limit,), min_gap=timedelta(0))
    person = customer("Asia/Shanghai", point("phone_hotline"), point("email"))
    calls = (
        LiveTask(utc(2026, 10, 12, 1), PHONE, "phone_hotline"),
        LiveTask(utc(2026, 10, 13, 1), PHONE, "phone_hotline"),
    )
    state = ContactState(person, calls)
    # 30 days after the first call: Wednesday 11 November 09:00 +08
    assert at(put(utc(2026, 10, 14, 2), window, state)) == utc(2026, 11, 11, 1)
    # before both calls, 29 days ahead of the second: also blocked until then
    assert at(put(utc(2026, 9, 14, 2), window, state)) == utc(2026, 11, 11, 1)
    # 30 days before the second call and more than that before the first is free
    assert at(put(utc(2026, 9, 10, 2), window, state)) == utc(2026, 9, 10, 2)
    assert put(utc(2026, 10, 14, 2), window, state, (PHONE, EMAIL)) == Placement(
        utc(2026, 10, 14, 2), EMAIL, "email"
    )
    refused = put(utc(2026, 10, 14, 2), window, state, horizon_end=utc(2026, 11, 1))
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.RATE_LIMITED


def test_what_a_rate_limit_counts() -> None:
    by_email = RateLimit(EMAIL, 1, timedelta(days=1))
    assert by_email.counts(EMAIL, "email")
    assert by_email.counts(QUESTIONNAIRE, "email")  # a link sent by e-mail is an e-mail
    assert not by_email.counts(QUESTIONNAIRE, "sms")
    assert WECHAT_48H.counts(QUESTIONNAIRE, MINI)
    questionnaires = RateLimit("questionnaire", 1, timedelta(days=30))
    assert questionnaires.form is QUESTIONNAIRE
    assert questionnaires.counts(QUESTIONNAIRE, "sms")
    assert not questionnaires.counts(EMAIL, "email")
    assert RateLimit(WECHAT, 5, timedelta(hours=48), after_customer_message=True) == WECHAT_48H


def test_bad_rate_limits_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        RateLimit("fax", 0, timedelta(0))
    assert set(caught.value.paths) == {"form", "limit", "per"}


# -- horizon, earliest, bad input -----------------------------------------------------


def test_earliest_and_the_horizon() -> None:
    state = ContactState(customer())
    window = ContactWindow(CN_TEMPLATE)
    nominal = utc(2026, 10, 8, 2)
    assert at(put(nominal, window, state, earliest=utc(2026, 10, 9, 11))) == utc(2026, 10, 10, 1)
    assert at(put(nominal, window, state, earliest=utc(2026, 1, 1))) == nominal
    refused = put(utc(2026, 10, 1, 2), window, state, horizon_end=utc(2026, 10, 8, 1))
    assert isinstance(refused, Refusal) and refused.reason is RefusalReason.BEYOND_HORIZON
    assert "'cn-revisit'" in refused.detail
    # the horizon is excluded: an opening exactly on it does not count, one before does
    assert isinstance(
        put(utc(2026, 10, 1, 2), window, state, horizon_end=utc(2026, 10, 8, 1)), Refusal
    )
    assert at(put(utc(2026, 10, 1), window, state, horizon_end=utc(2026, 10, 8, 1, 0, 1))) == utc(
        2026, 10, 8, 1
    )


def test_naive_instants_are_refused_naming_the_argument() -> None:
    state = ContactState(customer())
    window = ContactWindow(CN_TEMPLATE)
    with pytest.raises(ValidationError) as caught:
        put(datetime(2026, 10, 8, 10), window, state)
    assert (caught.value.subject, caught.value.paths) == ("place", ("nominal",))
    with pytest.raises(ValidationError) as caught:
        put(utc(2026, 10, 8), window, state, earliest=datetime(2026, 10, 8))
    assert caught.value.paths == ("earliest",)


def test_a_contact_state_refuses_bad_parts() -> None:
    with pytest.raises(ValidationError) as caught:
        ContactState(
            customer(),
            (LiveTask(utc(2026, 1, 1), PHONE, "phone_hotline"), "task"),  # type: ignore[arg-type]
            {"sms": datetime(2026, 1, 1)},
        )
    assert set(caught.value.paths) == {"live_tasks[1]", "last_inbound['sms']"}


# -- laws -----------------------------------------------------------------------------

CHANNELS = ("phone_hotline", "email", "sms", OA, MINI)
LIMITS = (
    WECHAT_48H,
    RateLimit(PHONE, 1, timedelta(days=3)),
    RateLimit(EMAIL, 2, timedelta(days=10)),
    RateLimit(QUESTIONNAIRE, 1, timedelta(days=20)),
    RateLimit(SMS, 3, timedelta(hours=36), after_customer_message=True),
)
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC")
START = datetime(2025, 12, 1, tzinfo=UTC)


def instants(days: int = 400) -> st.SearchStrategy[datetime]:
    return st.integers(0, days * 96).map(lambda q: START + timedelta(minutes=15 * q))


@st.composite
def windows(draw: st.DrawFn) -> ContactWindow:
    calendar = draw(business_calendars(max_holidays=6, max_extra_workdays=3))
    quiet = draw(st.lists(time_ranges(step=900), max_size=3))
    limits = draw(st.lists(st.sampled_from(LIMITS), max_size=3, unique=True))
    gap = draw(st.sampled_from([timedelta(0), timedelta(hours=20), timedelta(days=7)]))
    try:
        return ContactWindow(calendar, tuple(quiet), tuple(limits), gap)
    except ValidationError:
        assume(False)
        raise


def near(anchor: datetime, before_days: int, after_days: int) -> st.SearchStrategy[datetime]:
    """Instants on a 15-minute grid around ``anchor``, where tasks and messages matter."""
    return st.integers(-before_days * 96, after_days * 96).map(
        lambda q: anchor + timedelta(minutes=15 * q)
    )


@st.composite
def states(draw: st.DrawFn, anchor: datetime) -> ContactState:
    points = draw(
        st.lists(
            st.builds(
                point,
                st.sampled_from(CHANNELS),
                st.sampled_from([Consent.GIVEN] * 3 + list(Consent)),
                do_not_contact=st.sampled_from([False] * 4 + [True]),
            ),
            max_size=5,
            unique_by=lambda p: p.channel,
        )
    )
    person = Customer(
        id="cus_law",
        display_name="x",
        timezone=draw(st.sampled_from(ZONES)),
        contact_points=points,
    )
    tasks = draw(
        st.lists(
            st.builds(
                LiveTask,
                near(anchor, 15, 30),
                st.sampled_from(RevisitForm),
                st.sampled_from(CHANNELS),
            ),
            max_size=7,
        )
    )
    inbound = draw(st.dictionaries(st.sampled_from(CHANNELS), near(anchor, 3, 2), max_size=3))
    return ContactState(person, tuple(tasks), inbound)


@st.composite
def situations(draw: st.DrawFn) -> tuple[datetime, datetime | None, ContactState]:
    nominal = draw(instants(300))
    earliest = draw(st.one_of(st.none(), near(nominal, 5, 5)))
    return nominal, earliest, draw(states(nominal))


def local_open(window: ContactWindow, zone: str, t: datetime) -> bool:
    """An oracle independent of calendar_for: the template's ranges of the customer's local
    date, at the customer's local wall time, outside the quiet hours."""
    local = t.astimezone(ZoneInfo(zone))
    second = local.hour * 3600 + local.minute * 60 + local.second
    if any(q.start <= second < q.end for q in window.quiet_hours):
        return False
    return any(r.start <= second < r.end for r in window.calendar.ranges_on(local.date()))


def within_limit(
    limit: RateLimit, state: ContactState, form: RevisitForm, channel: str, t: datetime
) -> bool:
    counted = sorted(
        [
            x.at
            for x in state.live_tasks
            if limit.counts(x.form, x.channel)
            and (not limit.after_customer_message or x.channel == channel)
        ]
    )
    if limit.after_customer_message:
        message = state.last_inbound.get(channel)
        if message is None or not message <= t < message + limit.per:
            return False
        inside = [x for x in counted if message <= x < message + limit.per]
        return len(inside) + 1 <= limit.limit
    # no limit + 1 tasks, the new one among them, within less than per of each other
    return all(
        len([x for x in counted if low <= x < low + limit.per]) + 1 <= limit.limit
        for low in [x for x in counted if t - limit.per < x <= t] + [t]
    )


def usable(
    window: ContactWindow,
    state: ContactState,
    forms: Sequence[RevisitForm],
    t: datetime,
) -> list[tuple[RevisitForm, str]]:
    """Every (form, channel) a task could take at ``t`` by the rules, in preference order."""
    zone = state.customer.timezone
    if not local_open(window, zone, t):
        return []
    if any(abs(t - x.at) < window.min_gap for x in state.live_tasks):
        return []
    return [
        (form, channel)
        for form in forms
        for channel in FORM_CHANNELS[form]
        if state.customer.contactable_on(channel)
        and all(
            within_limit(limit, state, form, channel, t)
            for limit in window.rate_limits
            if limit.counts(form, channel)
        )
    ]


def first_usable(
    window: ContactWindow,
    state: ContactState,
    forms: Sequence[RevisitForm],
    start: datetime,
    end: datetime,
) -> tuple[datetime, list[tuple[RevisitForm, str]]] | RefusalReason:
    """The oracle's answer. Usable instants form half-open spans, and each span starts
    where a rule stops refusing: the start itself, an opening, a task + the gap, a
    counted task + a limit's span, or a message; so the first usable instant is the first
    such candidate that is usable."""
    calendar = window.calendar_for(state.customer.timezone)
    candidates = {start}
    candidates.update(s for s, _ in calendar.open_intervals(start, end))
    for x in state.live_tasks:
        candidates.add(x.at + window.min_gap)
        candidates.update(x.at + limit.per for limit in window.rate_limits)
    candidates.update(state.last_inbound.values())
    rate_limited = False
    for t in sorted(c for c in candidates if start <= c < end):
        choices = usable(window, state, forms, t)
        if choices:
            return t, choices
        rate_limited = rate_limited or (
            local_open(window, state.customer.timezone, t)
            and all(abs(t - x.at) >= window.min_gap for x in state.live_tasks)
        )
    return RefusalReason.RATE_LIMITED if rate_limited else RefusalReason.BEYOND_HORIZON


@given(
    windows(),
    situations(),
    st.lists(st.sampled_from(RevisitForm), min_size=1, max_size=3, unique=True).map(tuple),
    st.integers(1, 60),
)
def test_placement_laws(
    window: ContactWindow,
    situation: tuple[datetime, datetime | None, ContactState],
    forms: tuple[RevisitForm, ...],
    horizon_days: int,
) -> None:
    nominal, earliest, state = situation
    start = nominal if earliest is None or earliest <= nominal else earliest
    horizon_end = start + timedelta(days=horizon_days)
    result = place(
        nominal, forms=forms, window=window, state=state, earliest=earliest, horizon_end=horizon_end
    )
    if not allowed_forms(forms, state.customer):
        assert result == Refusal(RefusalReason.NO_FORM, result.detail)  # type: ignore[union-attr]
        return
    expected = first_usable(window, state, forms, start, horizon_end)
    if isinstance(result, Refusal):
        assert result.reason is expected
        return
    t = result.at
    assert t.tzinfo is UTC
    assert start <= t < horizon_end
    # open in the customer's window (by the calendar and by the template's local ranges),
    # outside quiet hours, on a consented channel, clear of the gap, within every limit
    assert window.calendar_for(state.customer.timezone).is_open(t)
    assert local_open(window, state.customer.timezone, t)
    assert result.form in forms and result.channel in FORM_CHANNELS[result.form]
    assert state.customer.contactable_on(result.channel)
    assert all(abs(t - x.at) >= window.min_gap for x in state.live_tasks)
    # the first usable instant, on the first usable form and channel
    assert not isinstance(expected, RefusalReason)
    assert (t, (result.form, result.channel)) == (expected[0], expected[1][0])


@given(windows(), situations())
def test_placing_is_deterministic(
    window: ContactWindow, situation: tuple[datetime, datetime | None, ContactState]
) -> None:
    nominal, earliest, state = situation
    twin = ContactState(state.customer, state.live_tasks[::-1], state.last_inbound)
    forms = tuple(RevisitForm)
    horizon_end = nominal + timedelta(days=90)
    first = place(
        nominal, forms=forms, window=window, state=state, earliest=earliest, horizon_end=horizon_end
    )
    again = place(
        nominal, forms=forms, window=window, state=twin, earliest=earliest, horizon_end=horizon_end
    )
    assert first == again
