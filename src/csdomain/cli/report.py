"""``csdomain report``: the annual service report of a customer, or the desk's period report.

::

    csdomain report annual --db desk.db --customer cus_0001 --year 2026 \\
        --format html --locale zh_CN --out report.html
    csdomain report period --db desk.db --from 2026-01-01 --to 2026-12-31

``--format`` is ``text`` (default), ``markdown`` or ``html``; ``--out FILE``
writes the report to a file (UTF-8) instead of standard output. Times count
the business hours of ``--calendar NAME`` (a calendar stored in the store's
configuration under that name, or one of the demo desk's calendars:
``shanghai-desk``, ``vendor-hours``); without it they are calendar time.
``--zone`` is the IANA zone in which the year, the months and the days are
read (annual: the customer's own zone by default; period: UTC). ``--to`` is
the last day included.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from csdomain._kernel.time import zone_problem
from csdomain.calendars import BusinessCalendar
from csdomain.errors import NotFoundError, ValidationError
from csdomain.reports.annual import AnnualReport, annual_report
from csdomain.reports.period import PeriodReport, period_report
from csdomain.reports.render import FORMATS, render
from csdomain.sla.policy import Calendar
from csdomain.storage import Store

__all__ = ["add_report_command", "run_report"]

#: Store options (``--db``/``--url``/``--tenant``/``--locale``) are added by the caller.
StoreArguments = Callable[..., None]


def _year(value: str) -> int:
    try:
        year = int(value)
    except ValueError:
        year = 0
    if not 1970 <= year <= 9998:
        raise argparse.ArgumentTypeError(f"expected a year from 1970 to 9998, got {value!r}")
    return year


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _zone(value: str) -> str:
    problem = zone_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def add_report_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    store_arguments: StoreArguments,
) -> argparse.ArgumentParser:
    """Add ``report`` (with ``annual`` and ``period``) to ``commands``; returns its parser.

    ``store_arguments(parser, default_db=None)`` adds the store options to each
    subcommand, as for the other commands.
    """
    report = commands.add_parser(
        "report", help="write the annual service report of a customer or the desk's period report"
    )
    kinds = report.add_subparsers(dest="report", metavar="REPORT", required=True)
    annual = kinds.add_parser("annual", help="a customer's annual service report (年度服务报告)")
    period = kinds.add_parser("period", help="the desk's report over a range of days")
    for parser in (annual, period):
        store_arguments(parser, default_db=None)
        parser.add_argument(
            "--format", choices=FORMATS, default="text", help="output format (default text)"
        )
        parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
        parser.add_argument(
            "--calendar",
            metavar="NAME",
            help="count times in the open hours of this calendar (default: calendar time)",
        )
        parser.add_argument(
            "--zone", type=_zone, metavar="ZONE", help="IANA zone of the days and months"
        )
    annual.add_argument("--customer", required=True, metavar="ID", help="the customer's id")
    annual.add_argument("--year", required=True, type=_year, help="the year, e.g. 2026")
    period.add_argument(
        "--from", dest="start", required=True, type=_day, metavar="DAY", help="first day"
    )
    period.add_argument(
        "--to", dest="end", required=True, type=_day, metavar="DAY", help="last day (included)"
    )
    return report


def _calendar(store: Store, name: str | None) -> Calendar | None:
    if name is None:
        return None
    try:
        return store.config.get(BusinessCalendar, name).value
    except NotFoundError:
        pass
    from csdomain.cli.demo import demo_setup  # the demo desk's hours, for demo stores

    for calendar in demo_setup().sla.calendars:
        if calendar.name == name:
            return calendar
    raise ValidationError.single(
        "report", "calendar", f"no calendar named {name!r} in the store or the demo desk"
    )


def run_report(
    args: argparse.Namespace, store: Store, write: Callable[[str], object] = print
) -> str:
    """Build and render the report ``args`` asks for; write it (or save it to ``--out``).

    Returns the rendered report. Errors are :class:`~csdomain.errors.CSDomainError`
    (an unknown customer or calendar, a period that ends before it starts).
    """
    calendar = _calendar(store, args.calendar)
    if args.report == "annual":
        report: AnnualReport | PeriodReport = annual_report(
            store, args.customer, args.year, calendar=calendar, zone_name=args.zone
        )
    else:
        report = period_report(
            store,
            args.start,
            args.end + timedelta(days=1),
            calendar=calendar,
            zone_name=args.zone or "UTC",
        )
    text = render(report, args.format, args.locale)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        write(text.rstrip("\n"))
    return text
