"""Pending: calendar converters typed ``object`` accept anything.

Needs in csdomain/calendars: ``Holiday.closed`` and ``ExtraWorkday.hours`` converters
taking ``list[str | TimeRange] | tuple[str | TimeRange, ...]``, ``BusinessCalendar.weekly``
taking a list or tuple of those, and ``holidays``, ``extra_workdays`` and
``CalendarUnion.members`` converters taking ``Iterable[Holiday]``, ``Iterable[ExtraWorkday]``
and ``Iterable[BusinessCalendar]`` instead of ``tuple_of`` (``Iterable[Any]``).
"""

from __future__ import annotations

from datetime import date

from csdomain import BusinessCalendar, CalendarUnion, ExtraWorkday, Holiday


def calendars() -> None:
    Holiday(date=date(2026, 5, 1), name="劳动节", closed=5)  # type: ignore[arg-type]
    ExtraWorkday(date=date(2026, 9, 20), name="调休", hours="09:00-18:00")  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly="09:00-18:00")  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly=(), holidays=["x"])  # type: ignore[list-item]
    CalendarUnion(name="x", members=["x"])  # type: ignore[list-item]
