"""What mypy sees of business calendars."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import assert_type

from csdomain import BusinessCalendar, CalendarUnion, ExtraWorkday, Holiday, TimeRange

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def calendars() -> None:
    desk = BusinessCalendar.weekdays(
        "cn-desk",
        "Asia/Shanghai",
        "09:00-12:00",
        TimeRange.parse("13:30-18:00"),
        holidays=[Holiday(date=date(2026, 10, d), name="国庆节") for d in range(1, 8)],
        extra_workdays=[
            ExtraWorkday(date=date(2026, 9, 20), name="国庆调休", hours=("09:00-18:00",)),
        ],
    )
    assert_type(desk, BusinessCalendar)
    assert_type(
        BusinessCalendar.weekdays("ny", "America/New_York", "00:00-24:00", days=range(7)),
        BusinessCalendar,
    )
    assert_type(BusinessCalendar.always_open(), BusinessCalendar)
    BusinessCalendar(name="x", timezone="UTC", weekly=[["09:00-18:00"]] * 5 + [[], []])
    Holiday(date=date(2026, 5, 1), name="劳动节", closed=["13:00-18:00"])
    assert_type(desk.holidays, tuple[Holiday, ...])
    assert_type(desk.weekly, tuple[tuple[TimeRange, ...], ...])
    assert_type(desk.add(AT, timedelta(hours=4)), datetime)
    assert_type(desk.elapsed(AT, AT + timedelta(days=1)), timedelta)
    assert_type(desk.is_open(AT), bool)
    assert_type(desk.next_open(AT), datetime)
    assert_type(desk.next_close(AT), datetime | None)
    assert_type(
        list(desk.open_intervals(AT, AT + timedelta(days=1))), list[tuple[datetime, datetime]]
    )
    assert_type(desk.ranges_on(date(2026, 3, 2)), tuple[TimeRange, ...])
    team = CalendarUnion(name="follow the sun", members=(desk, BusinessCalendar.always_open()))
    assert_type(team.members, tuple[BusinessCalendar, ...])
    assert_type(team.add(AT, timedelta(hours=4)), datetime)
    assert_type(TimeRange.parse("09:00-12:00").start, int)

    BusinessCalendar(name="x", timezone="UTC")  # type: ignore[call-arg]
    BusinessCalendar.weekdays("x", "UTC", 9)  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly=(), holidays=5)  # type: ignore[arg-type]
    Holiday(date=date(2026, 5, 1))  # type: ignore[call-arg]
    Holiday(date=date(2026, 5, 1), name="劳动节", closed=5)  # type: ignore[arg-type]
    Holiday(date="2026-05-01", name="劳动节")  # type: ignore[arg-type]
    ExtraWorkday(date=date(2026, 9, 20), name="调休")  # type: ignore[call-arg]
    CalendarUnion(name="x", members=desk)  # type: ignore[arg-type]
    desk.add(AT, 4)  # type: ignore[arg-type]
    desk.elapsed(date(2026, 3, 2), AT)  # type: ignore[arg-type]


def converters() -> None:
    ExtraWorkday(date=date(2026, 9, 20), name="调休", hours="09:00-18:00")  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly="09:00-18:00")  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly=(), holidays=["x"])  # type: ignore[list-item]
    CalendarUnion(name="x", members=["x"])  # type: ignore[list-item]
