"""The reports' words in one locale: translated messages, labels, numbers, dates, durations.

Every message of the reports is marked here with ``_mark("report", ...)`` and
translated through the csdomain catalogs; numbers, dates and month names come
from Babel for the locale, durations from :func:`csdomain.i18n.format_duration`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from enum import Enum
from typing import Final

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from csdomain import i18n
from csdomain._kernel.messages import Message, _mark
from csdomain.reports.figures import ScoreFigure, ScoreUnit

__all__ = ["MESSAGES", "Words"]

#: The reports' messages by a short name; English is the msgid.
MESSAGES: Final[dict[str, Message]] = {
    # Translators: the title of a customer's yearly report (年度服务报告).
    "annual.title": _mark("report", "Annual service report {year} · {customer}"),
    "annual.customer": _mark("report", "Customer: {name} ({id})"),
    "annual.scope": _mark("report", "Tickets opened from {start} to {end}, times in {zone}."),
    "business": _mark("report", "Times count the business hours of calendar {calendar}."),
    "calendar time": _mark("report", "Times are calendar time (every hour counts)."),
    "annual.summary": _mark(
        "report", "Tickets in {year}: {tickets}; complaints: {complaints}; reopened: {reopened}."
    ),
    "annual.none": _mark("report", "No tickets in {year}."),
    "section.months": _mark("report", "Tickets by month"),
    "section.channels": _mark("report", "Tickets by channel"),
    "section.kinds": _mark("report", "Tickets by kind"),
    "section.times": _mark("report", "Response and resolution times"),
    "section.complaints": _mark("report", "Complaints and their revisits"),
    "section.satisfaction": _mark("report", "Satisfaction by month"),
    "col.month": _mark("report", "Month"),
    "col.tickets": _mark("report", "Tickets"),
    "col.channel": _mark("report", "Channel"),
    "col.kind": _mark("report", "Kind"),
    "col.share": _mark("report", "Share"),
    "col.measure": _mark("report", "Measure"),
    "col.mean": _mark("report", "Mean"),
    "col.median": _mark("report", "Median"),
    "col.p90": _mark("report", "90th percentile"),
    "col.n": _mark("report", "n"),
    "col.ticket": _mark("report", "Ticket"),
    "col.opened": _mark("report", "Opened"),
    "col.solved": _mark("report", "Solved"),
    "col.status": _mark("report", "Status"),
    "col.revisits": _mark("report", "Revisits"),
    "col.csat": _mark("report", "CSAT"),
    "col.nps": _mark("report", "NPS"),
    "col.score": _mark("report", "Score"),
    "col.interval": _mark("report", "95% interval"),
    "col.value": _mark("report", "Value"),
    "time.first_response": _mark("report", "First response"),
    "time.resolution": _mark("report", "Resolution"),
    "no complaints": _mark("report", "No complaints in {year}."),
    "no answers": _mark("report", "No survey answers in {year}."),
    "not solved": _mark("report", "not solved"),
    "no revisit": _mark("report", "no revisit"),
    "no data": _mark("report", "no data"),
    # Translators: a revisit of a complaint: due date, form (phone, SMS...), state, outcome.
    "revisit": _mark("report", "{date} {form}: {state}"),
    "revisit.outcome": _mark("report", "{date} {form}: {state}, {outcome}"),
    # Translators: a confidence interval from a low to a high value.
    "interval": _mark("report", "{low} to {high}"),
    "small sample": _mark("report", "small sample"),
    "small sample note": _mark(
        "report", "Scores marked “small sample” rest on fewer than 30 answers."
    ),
    "sketch note": _mark(
        "report",
        "Medians and 90th percentiles are within {error} of the exact value (quantile sketch).",
    ),
    "n of": _mark("report", "{value} (n = {n})"),
    # -- the period report
    "period.title": _mark("report", "Service report {start} to {end}"),
    "period.scope": _mark("report", "Tickets opened from {start} to {end}, times in {zone}."),
    "period.summary": _mark("report", "Tickets opened in the period: {tickets}."),
    "section.kpis": _mark("report", "Key figures"),
    "section.surveys": _mark("report", "Surveys"),
    "section.breakdown.group": _mark("report", "CSAT by group"),
    "section.breakdown.channel": _mark("report", "CSAT by channel"),
    "col.kpi": _mark("report", "Figure"),
    "col.group": _mark("report", "Group"),
    "col.overlaps": _mark("report", "Overlaps the overall figure"),
    "yes": _mark("report", "yes"),
    "no": _mark("report", "no"),
    "surveys.summary": _mark("report", "Survey answers in the period: {responses}."),
    "surveys.none": _mark("report", "No survey answers in the period."),
}


class Words:
    """The words and formats of one locale (``en``, ``zh_Hans``, ``zh_Hant`` or a variant)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.catalog = i18n.catalog_locale(locale)  # refuses an unsupported locale
        self.babel = i18n.parse_locale(locale)
        self._translations = i18n.translation(locale)

    @property
    def html_lang(self) -> str:
        """The page's ``lang`` attribute (BCP 47): ``en``, ``zh-Hans`` or ``zh-Hant``."""
        return self.catalog.replace("_", "-")

    def __call__(self, message: str, /, **values: object) -> str:
        """The message named ``message`` in :data:`MESSAGES`, translated, with ``values``
        filled in."""
        text = self._translations.pgettext(*MESSAGES[message])
        return text.format(**values) if values else text

    def tr(self, message: Message) -> str:
        """A message marked elsewhere with ``_mark``, translated."""
        return self._translations.pgettext(*message)

    def label(self, value: Enum) -> str:
        """The label of an enum member that declared its labels."""
        return i18n.label(value, self.locale)

    def channel(self, key: str) -> str:
        """The label of a channel key."""
        return i18n.channel_label(key, self.locale)

    def number(self, value: float, *, digits: int = 0) -> str:
        """A number with the locale's separators and ``digits`` decimals."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return str(format_decimal(value, pattern, locale=self.babel))

    def percent(self, fraction: float, *, digits: int = 1) -> str:
        """``fraction`` (0.5 for half) as a percentage."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return str(format_percent(fraction, pattern, locale=self.babel))

    def day(self, value: date | datetime, tz: tzinfo | None = None) -> str:
        """A date in the locale's medium format (``Mar 5, 2026``, ``2026年3月5日``); an
        instant is shown on its date in ``tz``."""
        if isinstance(value, datetime):
            value = value.astimezone(tz).date()
        return str(format_date(value, "medium", locale=self.babel))

    def month(self, year: int, month: int) -> str:
        """The month's abbreviated name (``Mar``, ``3月``)."""
        return str(format_date(date(year, month, 1), "MMM", locale=self.babel))

    def duration(self, value: timedelta | None) -> str:
        """A duration in hours and minutes at most (``2 hr 15 min``, ``2小时15分``),
        seconds only under a minute."""
        if value is None:
            return "–"
        # Whole minutes from a minute on: a report reads "5 min", not "4 min, 57 sec"
        # (and sketched quantiles are only within 1% anyway).
        rounded = timedelta(seconds=round(value.total_seconds()))
        if rounded >= timedelta(minutes=1):
            rounded = timedelta(minutes=round(rounded.total_seconds() / 60))
        return i18n.format_duration(rounded, self.locale, width="short", largest_unit="hour")

    def score(self, figure: ScoreFigure) -> str:
        """A score's value as its unit reads: ``85.7%``, ``+32.0``, ``2.4``; a dash without
        answers."""
        if figure.value is None:
            return "–"
        return self.score_value(figure.value, figure.unit)

    def score_value(self, value: float, unit: ScoreUnit) -> str:
        """One value of a score's scale (a value or an interval end)."""
        if unit is ScoreUnit.PERCENT:
            return self.percent(value / 100)
        if unit is ScoreUnit.POINTS:
            text = self.number(value, digits=1)
            return "+" + text if value > 0 else text
        return self.number(value, digits=2)

    def interval(self, figure: ScoreFigure) -> str:
        """The score's interval, or a dash without one."""
        if figure.low is None or figure.high is None:
            return "–"
        return self(
            "interval",
            low=self.score_value(figure.low, figure.unit),
            high=self.score_value(figure.high, figure.unit),
        )

    def score_with_n(self, figure: ScoreFigure) -> str:
        """``85.7% (n = 21)``, flagged when the sample is small."""
        if figure.n == 0:
            return self("no data")
        text = self("n of", value=self.score(figure), n=self.number(figure.n))
        if figure.small_sample:
            text += " · " + self("small sample")
        return text
