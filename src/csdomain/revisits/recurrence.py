"""Recurrences: an RFC 5545 RRULE body, checked by dateutil when it is built.

A :class:`Recurrence` holds the text of one recurrence rule
(``"FREQ=MONTHLY;BYMONTHDAY=1"``; an ``RRULE:`` prefix is accepted) without a
start: the start comes from the revisit plan (its first day at the rule's
time of day, in the customer's own zone), so the rule reads the same for a
customer in Shanghai and one in New York.

Construction refuses, as a :class:`~csdomain.errors.ValidationError` whose
path names the field (``rrule``) and whose message quotes the text:

* text dateutil cannot parse (the message carries dateutil's own complaint);
* a rule finer than daily (``SECONDLY``, ``MINUTELY``, ``HOURLY``): a revisit
  is a call or a message, not a timer;
* more than one line, or a ``DTSTART`` (the plan gives the start);
* a rule part given twice (RFC 5545 allows each once; dateutil keeps the last);
* ``BYHOUR``, ``BYMINUTE`` or ``BYSECOND``: a revisit happens once on each day the
  rule gives, at the rule's time of day;
* ``INTERVAL`` below 1 and ``COUNT`` below 1 (dateutil would loop forever on
  the first and yield nothing on the second), and ``COUNT`` together with
  ``UNTIL`` (RFC 5545 forbids it);
* a rule that never occurs in 29 consecutive years (which hold every
  combination of weekday and leap year), such as
  ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``: dateutil would search for an
  occurrence until the year 9999 on every expansion.

:meth:`Recurrence.occurrences` is exactly dateutil's
``rrulestr(rule, dtstart=start).between(after, before, inc=True)``; parsed
rules and expansions are cached, so expanding the same rule for many customers
costs one expansion per distinct window.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Final

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from csdomain._kernel.documents import declare_document
from csdomain._kernel.validation import Check, Checked, checked, describe
from csdomain.errors import ValidationError

__all__ = ["Recurrence", "rrule_problem"]

_MAX_LENGTH: Final = 1000
#: The frequencies a revisit may recur at, finest last, with their step for anchors.
_STEPS: Final[dict[str, relativedelta]] = {
    "YEARLY": relativedelta(years=1),
    "MONTHLY": relativedelta(months=1),
    "WEEKLY": relativedelta(weeks=1),
    "DAILY": relativedelta(days=1),
}
_TOO_FINE: Final = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
#: Parts that would repeat a rule within a day (the rule's time of day gives the time).
_TIME_PARTS: Final = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
_PARSE_START: Final = datetime(2000, 1, 1)
#: Whether a rule can occur at all is probed on the last 29 years dateutil can reach: it
#: stops at the year 9999, so a rule that never occurs costs 29 years of steps, not 8,000.
#: 29 years hold every weekday and leap-year combination (the 28-year cycle).
_PROBE_START: Final = datetime(9970, 1, 1)
_NUMBER: Final = re.compile(r"[+-]?\d+")


def _parts(text: str) -> tuple[dict[str, str], str | None]:
    """The ``NAME=value`` pairs of a rule body, names and values upper-cased (as dateutil
    reads them), and the first name given twice (RFC 5545 allows each part once; dateutil
    would keep the last, so a check of the first would check the wrong one); a malformed
    pair is left for dateutil to complain about."""
    body = text[6:] if text[:6].upper() == "RRULE:" else text
    found: dict[str, str] = {}
    repeated: str | None = None
    for pair in body.split(";"):
        name, _, value = pair.partition("=")
        name = name.strip().upper()
        if name in found and repeated is None:
            repeated = name
        found[name] = value.strip().upper()
    return found, repeated


def _problem(text: str) -> str | None:
    shown = describe(text)
    if not text.strip():
        return "expected an RRULE body such as 'FREQ=MONTHLY;BYMONTHDAY=1', got an empty text"
    if len(text) > _MAX_LENGTH:
        return f"an RRULE has at most {_MAX_LENGTH} characters, got {len(text)}"
    if "\n" in text or "\r" in text or "DTSTART" in text.upper():
        return (
            f"{shown}: give one RRULE body without DTSTART or other lines "
            "(the plan's first day and the rule's time of day are the start)"
        )
    parts, repeated = _parts(text)
    if repeated:
        return f"{shown}: {repeated} is given twice; RFC 5545 allows each rule part once"
    times = sorted(name for name in _TIME_PARTS if name in parts)
    if times:
        return (
            f"{shown}: {', '.join(times)} not accepted: a revisit happens once on each day the "
            "rule gives, at the rule's time of day"
        )
    until = parts.get("UNTIL", "")
    if until.endswith("Z") or "+" in until:
        return (
            f"{shown}: UNTIL={until} has a zone; give it as a local date or time without Z "
            "(such as UNTIL=20271231): the rule runs in each customer's own zone"
        )
    if "COUNT" in parts and "UNTIL" in parts:  # before dateutil, which only warns
        return f"{shown}: COUNT and UNTIL cannot both be given (RFC 5545); keep one"
    try:
        parsed = rrulestr(text, dtstart=_PARSE_START)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        return f"{shown} is not an RFC 5545 RRULE: dateutil says: {error}"
    if not isinstance(parsed, rrule):  # pragma: no cover - one line always gives an rrule
        return f"{shown} is not a single RRULE"
    freq = parts.get("FREQ", "")
    if freq in _TOO_FINE:
        return (
            f"{shown}: FREQ={freq} is finer than a revisit can recur; "
            "use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY"
        )
    for name in ("INTERVAL", "COUNT"):
        value = parts.get(name)
        if value is not None and (_NUMBER.fullmatch(value) is None or int(value) < 1):
            return f"{shown}: {name} must be a whole number of 1 or more, got {value!r}"
    probe = parsed.replace(dtstart=_PROBE_START, count=None, until=None)
    if next(iter(probe), None) is None:
        return (
            f"{shown} never occurs (no occurrence in 29 consecutive years); "
            "check BYMONTH, BYMONTHDAY, BYYEARDAY and BYSETPOS"
        )
    return None


@lru_cache(maxsize=1024)
def rrule_problem(text: str) -> str | None:
    """Why ``text`` is not an RRULE a revisit rule accepts, or None when it is (cached)."""
    return _problem(text)


def _rrule_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not str:
        yield "", f"expected the text of an RRULE such as 'FREQ=MONTHLY', got {describe(value)}"
        return
    problem = rrule_problem(value)
    if problem is not None:
        yield "", problem


_RRULE: Final = Check(
    lambda v: type(v) is str and rrule_problem(v) is None, _rrule_explain, types=(str,)
)


@lru_cache(maxsize=4096)
def _parsed(text: str, start: datetime) -> rrule:
    # Without dateutil's own cache=True: it generates occurrences ten at a time under a
    # lock (a 90-day window of a monthly rule would build ten months more); windows asked
    # again are served by _between's cache instead.
    parsed = rrulestr(text, dtstart=start)
    assert isinstance(parsed, rrule)
    return parsed


@lru_cache(maxsize=16_384)
def _between(text: str, start: datetime, after: datetime, before: datetime) -> tuple[datetime, ...]:
    return tuple(_parsed(text, start).between(after, before, inc=True))


@attrs.frozen
class Recurrence(Checked):
    """An RFC 5545 recurrence rule body, validated by dateutil (see the module docs).

    >>> from datetime import datetime
    >>> monthly = Recurrence("FREQ=MONTHLY;BYMONTHDAY=1")
    >>> monthly.occurrences(datetime(2026, 1, 1, 10), datetime(2026, 9, 15), datetime(2026, 11, 15))
    [datetime.datetime(2026, 10, 1, 10, 0), datetime.datetime(2026, 11, 1, 10, 0)]
    >>> Recurrence("FREQ=HOURLY")
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid Recurrence: rrule: 'FREQ=HOURLY': FREQ=HOURLY is finer than a revisit can recur; use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY
    """  # noqa: E501

    rrule: str = attrs.field(metadata=checked(_RRULE))

    def first(self, start: datetime) -> datetime | None:
        """The first occurrence of the rule started at ``start`` (naive local wall time),
        or None when its ``UNTIL`` ends before it: dateutil's ``after(start, inc=True)``."""
        if start.tzinfo is not None:
            raise ValidationError.single(
                "Recurrence.first", "start", f"expected a naive local wall time, got {start!r}"
            )
        found: datetime | None = _parsed(self.rrule, start).after(start, inc=True)
        return found

    def occurrences(self, start: datetime, after: datetime, before: datetime) -> list[datetime]:
        """The occurrences from ``after`` to ``before`` (both included) of the rule started
        at ``start``; all three are naive local wall times, as are the results.

        Exactly ``rrulestr(self.rrule, dtstart=start).between(after, before, inc=True)``.
        """
        if start.tzinfo is not None or after.tzinfo is not None or before.tzinfo is not None:
            raise ValidationError.single(
                "Recurrence.occurrences",
                "start" if start.tzinfo is not None else "after",
                "expected naive local wall times for start, after and before "
                "(a recurrence runs on the customer's local clock)",
            )
        return list(_between(self.rrule, start, after, before))

    @property
    def frequency(self) -> str:
        """``"YEARLY"``, ``"MONTHLY"``, ``"WEEKLY"`` or ``"DAILY"``."""
        return _parts(self.rrule)[0]["FREQ"]

    @property
    def step(self) -> relativedelta:
        """The rule's interval as a calendar step (``FREQ=MONTHLY;INTERVAL=3``: 3 months),
        which a rule anchored on completion waits after a task is done."""
        parts, _ = _parts(self.rrule)
        return _STEPS[parts["FREQ"]] * int(parts.get("INTERVAL", "1"))


declare_document("revisit_recurrence", Recurrence)
