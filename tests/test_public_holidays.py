"""Public holidays from the holidays package and from iCalendar files (the holidays extra)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("holidays")
pytest.importorskip("icalendar")

from csdomain import BusinessCalendar, ValidationError
from csdomain.calendars.public_holidays import holidays_from_icalendar, load_public_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_china_brings_make_up_workdays_and_reports_unannounced_years() -> None:
    loaded = load_public_holidays("CN", years=[2026, 2027], workday_hours=["09:00-18:00"])
    workdays = [e.date for e in loaded.extra_workdays]
    assert workdays == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert all(str(e.hours[0]) == "09:00-18:00" for e in loaded.extra_workdays)
    assert loaded.years_without_workdays == (2027,)
    assert any(h.date == date(2027, 1, 1) for h in loaded.holidays)
    desk = BusinessCalendar.weekdays(
        "cn",
        "Asia/Shanghai",
        "09:00-18:00",
        holidays=loaded.holidays,
        extra_workdays=loaded.extra_workdays,
    )
    sunday = datetime(2026, 1, 4, 10, 0, tzinfo=SHANGHAI)  # a make-up working Sunday
    assert desk.is_open(sunday)
    assert not desk.is_open(datetime(2026, 1, 2, 10, 0, tzinfo=SHANGHAI))  # substituted day off


def test_countries_without_make_up_days_report_nothing_missing() -> None:
    loaded = load_public_holidays("US", years=[2026])
    assert loaded.extra_workdays == ()
    assert loaded.years_without_workdays == ()
    assert date(2026, 7, 3) in {h.date for h in loaded.holidays}  # Independence Day observed


def test_unknown_country_and_empty_years_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="country"):
        load_public_holidays("XX", years=[2026])
    with pytest.raises(ValidationError, match="years"):
        load_public_holidays("CN", years=[])


ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:1\r
SUMMARY:Spring Festival\r
DTSTART;VALUE=DATE:20260216\r
DTEND;VALUE=DATE:20260219\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2\r
SUMMARY:Company day\r
DTSTART;VALUE=DATE:20260217\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3\r
SUMMARY:Timed meeting\r
DTSTART:20260301T090000Z\r
DTEND:20260301T100000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_icalendar_all_day_events_are_dates() -> None:
    found = holidays_from_icalendar(ICS)
    assert [(h.date, h.name) for h in found] == [
        (date(2026, 2, 16), "Spring Festival"),
        (date(2026, 2, 17), "Spring Festival / Company day"),
        (date(2026, 2, 18), "Spring Festival"),
    ]
    # a date, not a midnight instant: closed all day in any zone the calendar uses
    for zone in ("Asia/Shanghai", "America/Los_Angeles"):
        cal = BusinessCalendar.weekdays("c", zone, "00:00-24:00", holidays=found)
        start = datetime(2026, 2, 16, tzinfo=ZoneInfo(zone))
        assert cal.elapsed(start, start + timedelta(days=3)) == timedelta(0)


def test_icalendar_garbage_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="iCalendar"):
        holidays_from_icalendar("not a calendar")


def test_make_up_days_take_the_calendars_split_shift() -> None:
    desk = BusinessCalendar.weekdays("cn", "Asia/Shanghai", "09:00-12:00", "13:30-18:00")
    loaded = load_public_holidays("CN", years=[2026], calendar=desk)
    assert {tuple(str(r) for r in e.hours) for e in loaded.extra_workdays} == {
        ("09:00-12:00", "13:30-18:00")
    }
    desk = BusinessCalendar.weekdays(
        "cn",
        "Asia/Shanghai",
        "09:00-12:00",
        "13:30-18:00",
        holidays=loaded.holidays,
        extra_workdays=loaded.extra_workdays,
    )
    saturday = date(2026, 2, 14)  # a make-up working Saturday before the Spring Festival
    assert not desk.is_open(datetime(2026, 2, 14, 12, 30, tzinfo=SHANGHAI))  # lunch break
    assert desk.elapsed(
        datetime.combine(saturday, datetime.min.time(), SHANGHAI),
        datetime.combine(saturday + timedelta(1), datetime.min.time(), SHANGHAI),
    ) == timedelta(hours=7, minutes=30)


def test_a_calendar_whose_weekdays_differ_needs_explicit_hours() -> None:
    weekly = (("09:00-18:00",),) * 4 + (("09:00-16:00",), (), ())
    desk = BusinessCalendar(name="short-friday", timezone="Asia/Shanghai", weekly=weekly)
    with pytest.raises(ValidationError, match="workday_hours") as raised:
        load_public_holidays("CN", years=[2026], calendar=desk)
    assert raised.value.paths == ("calendar",)
    loaded = load_public_holidays("CN", years=[2026], workday_hours=["09:00-18:00"])
    assert str(loaded.extra_workdays[0].hours[0]) == "09:00-18:00"
    with pytest.raises(ValidationError) as raised:
        load_public_holidays("CN", years=[2026], calendar=desk, workday_hours=["09:00-18:00"])
    assert raised.value.paths == ("workday_hours",)


@pytest.mark.parametrize("language", ["zh_CN", "zh-CN", "zh_cn"])
def test_holiday_names_in_chinese(language: str) -> None:
    loaded = load_public_holidays("CN", years=[2026], language=language)
    names = {h.date: h.name for h in loaded.holidays}
    assert names[date(2026, 10, 1)] == "国庆节"
    assert names[date(2026, 2, 17)] == "春节"
    assert {e.name for e in loaded.extra_workdays} == {"调休上班日"}
    english = load_public_holidays("CN", years=[2026], language="en_US")
    assert {h.date: h.name for h in english.holidays}[date(2026, 10, 1)] == "National Day"


def test_traditional_chinese_names_for_taiwan() -> None:
    loaded = load_public_holidays("TW", years=[2026], language="zh_TW")
    assert any("國慶" in h.name for h in loaded.holidays)


def test_a_language_the_package_lacks_is_refused_with_the_supported_ones() -> None:
    with pytest.raises(ValidationError, match="zh_CN") as raised:
        load_public_holidays("CN", years=[2026], language="fr")
    assert raised.value.paths == ("language",)
