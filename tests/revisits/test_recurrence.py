"""Recurrences: dateutil's own occurrences, and the rules refused at construction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.revisits.recurrence import Recurrence
from csdomain.testing.strategies._revisits import recurrences

_STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31))


@settings(max_examples=300, deadline=None)
@given(recurrences(), _STARTS, st.integers(-400, 4000), st.integers(0, 400))
def test_occurrences_are_dateutils_own(
    recurrence: Recurrence, start: datetime, offset_days: int, span_days: int
) -> None:
    after = start + timedelta(days=offset_days)
    before = after + timedelta(days=span_days)
    expected = rrulestr(recurrence.rrule, dtstart=start).between(after, before, inc=True)
    assert recurrence.occurrences(start, after, before) == expected
    # asked again (served from the cache): the same answer, in a list of its own
    again = recurrence.occurrences(start, after, before)
    assert again == expected
    assert again is not recurrence.occurrences(start, after, before)


def test_a_monthly_rule_on_the_first() -> None:
    monthly = Recurrence("FREQ=MONTHLY;BYMONTHDAY=1")
    found = monthly.occurrences(
        datetime(2025, 1, 1, 10), datetime(2025, 9, 1, 10), datetime(2025, 11, 1, 10)
    )
    assert found == [datetime(2025, 9, 1, 10), datetime(2025, 10, 1, 10), datetime(2025, 11, 1, 10)]


def test_the_rrule_prefix_and_lower_case_are_accepted() -> None:
    assert Recurrence("RRULE:freq=weekly;byday=mo").frequency == "WEEKLY"
    assert Recurrence("FREQ=MONTHLY;INTERVAL=3").step == relativedelta(months=3)
    assert Recurrence("FREQ=DAILY").step == relativedelta(days=1)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("FREQ=MONTHY", "dateutil says: invalid 'FREQ': MONTHY"),
        ("FOO=1", "dateutil says: unknown parameter 'FOO'"),
        ("BYMONTHDAY=1", "dateutil says"),
        ("FREQ=DAILY;;", "dateutil says"),
        ("", "empty text"),
        ("FREQ=HOURLY", "finer than a revisit can recur"),
        ("FREQ=MINUTELY", "finer than a revisit can recur"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number of 1 or more"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number of 1 or more"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20250101", "COUNT and UNTIL cannot both be given"),
        ("DTSTART:20200101T000000\nRRULE:FREQ=DAILY", "without DTSTART"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", "never occurs"),
    ],
)
def test_bad_rules_are_refused_naming_the_field_and_quoting_the_text(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Recurrence(text)
    error = raised.value
    assert error.subject == "Recurrence"
    assert error.paths == ("rrule",)
    assert says in error.problems[0].message
    if text:
        assert repr(text) in error.problems[0].message


def test_a_rule_that_never_occurs_is_refused_quickly() -> None:
    # dateutil alone would search to the year 9999 (seconds) for this one
    started = datetime.now()
    with pytest.raises(ValidationError):
        Recurrence("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31;INTERVAL=2")
    assert datetime.now() - started < timedelta(seconds=2)


def test_occurrences_take_naive_wall_times_only() -> None:
    monthly = Recurrence("FREQ=MONTHLY")
    aware = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ValidationError, match="naive local wall times"):
        monthly.occurrences(aware, datetime(2025, 1, 1), datetime(2025, 2, 1))
    with pytest.raises(ValidationError, match="naive local wall times"):
        monthly.occurrences(datetime(2025, 1, 1), aware, datetime(2025, 2, 1))
