"""Business calendars: when a team is open, and business-time arithmetic over it.

The public names live in focused modules and are re-exported here:
:mod:`csdomain.calendars.model` (:class:`TimeRange`, :class:`Holiday`,
:class:`ExtraWorkday`, :class:`BusinessCalendar`, :class:`CalendarUnion`,
:func:`always_open`) and :mod:`csdomain.calendars.public_holidays` (statutory
holidays from the ``holidays`` package or iCalendar files; its optional
dependencies are imported only when one of its functions runs).
"""

from csdomain.calendars.model import (
    BusinessCalendar,
    CalendarUnion,
    ExtraWorkday,
    Holiday,
    TimeRange,
    always_open,
)

__all__ = [
    "BusinessCalendar",
    "CalendarUnion",
    "ExtraWorkday",
    "Holiday",
    "TimeRange",
    "always_open",
]
