"""Pending: calendar converters typed ``object`` accept anything.

Needs in csdomain/calendars/model.py: ``_parse_ranges`` (``Holiday.closed``,
``ExtraWorkday.hours``) taking ``list[str | TimeRange] | tuple[str | TimeRange, ...]``, not
``Sequence[TimeRange | str]``, which a bare string is; ``_weekly_convert`` (typed ``object``)
taking a list or tuple of those; and ``holidays``, ``extra_workdays`` and
``CalendarUnion.members`` converters taking ``Iterable[Holiday]``, ``Iterable[ExtraWorkday]``
and ``Iterable[BusinessCalendar]`` instead of ``tuple_of`` (``Iterable[Any]``).
"""

from __future__ import annotations

from datetime import date

from csdomain import BusinessCalendar, CalendarUnion, ExtraWorkday


def calendars() -> None:
    ExtraWorkday(date=date(2026, 9, 20), name="调休", hours="09:00-18:00")  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly="09:00-18:00")  # type: ignore[arg-type]
    BusinessCalendar(name="x", timezone="UTC", weekly=(), holidays=["x"])  # type: ignore[list-item]
    CalendarUnion(name="x", members=["x"])  # type: ignore[list-item]
