"""Deprecated location: public holidays live in :mod:`csdomain.calendars.public_holidays`.

Kept so that ``from csdomain.public_holidays import load_public_holidays`` keeps working.
"""

from csdomain.calendars.public_holidays import (
    PublicHolidays,
    holidays_from_icalendar,
    load_public_holidays,
)

__all__ = ["PublicHolidays", "holidays_from_icalendar", "load_public_holidays"]
