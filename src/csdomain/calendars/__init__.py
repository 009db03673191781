"""Business calendars: when a team is open, and business-time arithmetic over it.

The public names live in focused modules and are re-exported here:
:mod:`csdomain.calendars.model` (:class:`TimeRange`, :class:`Holiday`,
:class:`ExtraWorkday`, :class:`BusinessCalendar`, :class:`CalendarUnion`,
:func:`always_open`) and :mod:`csdomain.calendars.public_holidays` (statutory
holidays from the ``holidays`` package or iCalendar files; its optional
dependencies are imported only when one of its functions runs).

The bounds of what every csdomain API accepts are here too: instants from
:data:`INSTANT_MIN` (1900-01-01T00:00Z, included) to :data:`INSTANT_END`
(2200-01-01T00:00Z, excluded), durations such as ``add``'s up to
:data:`DURATION_MAX` (100 years) and SLA targets up to :data:`TARGET_MAX`
(10 years). Anything outside is a ``ValidationError``.
"""

from csdomain._kernel.time import DURATION_MAX, INSTANT_END, INSTANT_MIN, TARGET_MAX
from csdomain.calendars.model import (
    BusinessCalendar,
    CalendarUnion,
    ExtraWorkday,
    Holiday,
    TimeRange,
    always_open,
)

__all__ = [
    "DURATION_MAX",
    "INSTANT_END",
    "INSTANT_MIN",
    "TARGET_MAX",
    "BusinessCalendar",
    "CalendarUnion",
    "ExtraWorkday",
    "Holiday",
    "TimeRange",
    "always_open",
]
