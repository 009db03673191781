"""Public holidays for business calendars, from the ``holidays`` package or iCalendar files.

Needs the ``holidays`` extra (``pip install "csdomain[holidays]"``): the
`holidays <https://pypi.org/project/holidays/>`_ package for statutory
holidays by country and subdivision, and ``icalendar`` to read ``.ics`` files.
Neither is imported until a function here is called.

China's weekend make-up working days (调休) come in as
:class:`~csdomain.calendars.ExtraWorkday` values. The holidays package derives
future years' holidays from rules before the government announces them, but
cannot derive their make-up days; :func:`load_public_holidays` reports such
years in :attr:`PublicHolidays.years_without_workdays` instead of silently
treating them as complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from csdomain._kernel.validation import Checked, checked, each, instance, integer, text, tuple_of
from csdomain.calendars.model import BusinessCalendar, ExtraWorkday, Holiday, TimeRange
from csdomain.errors import ValidationError

__all__ = ["PublicHolidays", "holidays_from_icalendar", "load_public_holidays"]

#: Years the check for make-up working days looks at to learn whether a country has any.
_REFERENCE_YEARS = range(2015, 2027)


@attrs.frozen
class PublicHolidays(Checked):
    """Holidays and make-up working days loaded for some years, ready for a calendar.

    ``years_without_workdays`` lists requested years for which the source has
    holidays but no make-up working days although the country uses them (the
    years not yet announced): check them before relying on deadlines there.
    """

    source: str = attrs.field(metadata=checked(text(max_length=200)))
    holidays: tuple[Holiday, ...] = attrs.field(
        converter=tuple_of, metadata=checked(each(instance(Holiday, "a Holiday"), tuple))
    )
    extra_workdays: tuple[ExtraWorkday, ...] = attrs.field(
        default=(),
        converter=tuple_of,
        metadata=checked(each(instance(ExtraWorkday, "an ExtraWorkday"), tuple)),
    )
    years_without_workdays: tuple[int, ...] = attrs.field(
        default=(),
        converter=tuple_of,
        metadata=checked(each(integer(minimum=1, maximum=9999), tuple)),
    )


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{module!r} is needed for public holidays; install the extra: "
            'pip install "csdomain[holidays]"'
        ) from error


#: The name given to make-up working days, by language (the holidays package names
#: holidays, not the days worked in exchange); other languages get the English name.
_MAKE_UP_NAMES = {"zh_CN": "调休上班日", "zh_TW": "補行上班日"}


def _weekday_hours(calendar: BusinessCalendar) -> tuple[TimeRange, ...]:
    """The one set of hours shared by the calendar's open weekdays (Monday to Friday)."""
    schedules = {day for day in calendar.weekly[:5] if day}
    if len(schedules) != 1:
        found = "no open weekday" if not schedules else f"{len(schedules)} different schedules"
        raise ValidationError.single(
            "load_public_holidays",
            "calendar",
            f"make-up days take the hours of the calendar's weekdays, but {calendar.name!r} "
            f"has {found} from Monday to Friday; pass workday_hours instead",
        )
    return schedules.pop()


def _language(table: Any, language: str) -> str:
    """``language`` in the holidays package's spelling (``zh_CN``; ``zh-CN`` accepted)."""
    supported = tuple(getattr(table, "supported_languages", ()))
    wanted = language.replace("-", "_")
    for code in supported:
        if code.lower() == wanted.lower():
            return str(code)
    raise ValidationError.single(
        "load_public_holidays",
        "language",
        f"{language!r} is not a language the holidays package has for this country; "
        f"supported: {', '.join(supported) or 'none'}",
    )


def load_public_holidays(
    country: str,
    *,
    years: Iterable[int],
    subdivision: str | None = None,
    calendar: BusinessCalendar | None = None,
    workday_hours: Sequence[str | TimeRange] | None = None,
    language: str | None = None,
) -> PublicHolidays:
    """Statutory holidays of ``country`` (ISO 3166 code) for ``years``, from ``holidays``.

    Weekend make-up working days (the package's ``weekend_workdays``) become
    extra working days. They open with the hours of ``calendar``'s weekdays
    (the calendar the holidays are for, so a split shift such as 09:00-12:00
    and 13:30-18:00 keeps its lunch break), or ``workday_hours`` if given
    instead; with neither, 09:00-18:00. A calendar whose Monday-to-Friday
    hours differ needs ``workday_hours``.

    ``language`` (``"zh_CN"``, ``"zh_TW"``, ``"en_US"``, ...; ``"zh-CN"`` is
    accepted) names the holidays in that language, as the holidays package
    translates them, so a Chinese SLA trace says 国庆节 rather than "National
    Day"; the default is the package's own language for the country.

    Raises ``ValidationError`` for an unknown country or subdivision, a
    language the package lacks for the country (the message lists the
    supported ones), no years, or both ``calendar`` and ``workday_hours``.
    """
    holidays_package = _require("holidays")
    wanted = sorted(set(years))
    if not wanted:
        raise ValidationError.single("load_public_holidays", "years", "give at least one year")
    if calendar is not None and workday_hours is not None:
        raise ValidationError.single(
            "load_public_holidays",
            "workday_hours",
            "give the calendar or workday_hours, not both: the calendar's weekday hours "
            "are the make-up days' hours",
        )
    if calendar is not None:
        hours = _weekday_hours(calendar)
    else:
        given = ("09:00-18:00",) if workday_hours is None else workday_hours
        hours = tuple(TimeRange.parse(h) if isinstance(h, str) else h for h in given)
    try:
        table = holidays_package.country_holidays(country, subdiv=subdivision, years=wanted)
    except NotImplementedError as error:
        raise ValidationError.single(
            "load_public_holidays", "country", f"{country!r}/{subdivision!r}: {error}"
        ) from None
    make_up = f"make-up working day ({country})"
    if language is not None:
        code = _language(table, language)
        table = holidays_package.country_holidays(
            country, subdiv=subdivision, years=wanted, language=code
        )
        make_up = _MAKE_UP_NAMES.get(code, make_up)
    holidays = tuple(
        Holiday(date=day, name=str(name))
        for day, name in sorted(table.items())
        if day.year in wanted
    )
    workdays = sorted(d for d in getattr(table, "weekend_workdays", ()) if d.year in wanted)
    extra = tuple(
        ExtraWorkday(date=day, name=make_up, hours=hours) for day in workdays if day not in table
    )
    missing: tuple[int, ...] = ()
    if _uses_workdays(holidays_package, country, subdivision):
        found = {d.year for d in workdays}
        missing = tuple(y for y in wanted if y not in found)
    label = f"holidays {holidays_package.__version__}: {country}"
    return PublicHolidays(
        source=label + (f"-{subdivision}" if subdivision else ""),
        holidays=holidays,
        extra_workdays=extra,
        years_without_workdays=missing,
    )


def _uses_workdays(holidays_package: Any, country: str, subdivision: str | None) -> bool:
    reference = holidays_package.country_holidays(
        country, subdiv=subdivision, years=list(_REFERENCE_YEARS)
    )
    return any(d.year in _REFERENCE_YEARS for d in getattr(reference, "weekend_workdays", ()))


def holidays_from_icalendar(data: str | bytes) -> tuple[Holiday, ...]:
    """Whole-day holidays from the all-day events of an iCalendar (``.ics``) file.

    An all-day event (``DTSTART;VALUE=DATE``) closes each date from its start
    up to its exclusive ``DTEND`` (one day when absent), as dates, never as
    midnight instants in some zone. Timed events are not holidays and are
    skipped. Two events on one date give one holiday with both names.
    Raises ``ValidationError`` for text that is not iCalendar.
    """
    icalendar = _require("icalendar")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise ValidationError.single("iCalendar", "", f"not iCalendar data: {error}") from None
    names: dict[date, list[str]] = {}
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is None or isinstance(start.dt, datetime) or not isinstance(start.dt, date):
            continue
        end = event.get("DTEND")
        last = end.dt if end is not None and type(end.dt) is date else start.dt + timedelta(1)
        name = str(event.get("SUMMARY") or "holiday").strip() or "holiday"
        day = start.dt
        while day < last:
            names.setdefault(day, [])
            if name not in names[day]:
                names[day].append(name)
            day += timedelta(1)
    return tuple(Holiday(date=day, name=" / ".join(names[day])) for day in sorted(names))
