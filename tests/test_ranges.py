"""The accepted ranges: instants in 1900-01-01 to 2200-01-01 UTC, bounded durations.

Every public entry point taking an instant or a duration agrees on the same
bounds, refuses what lies outside with a ``ValidationError`` naming the
argument when the value is given (never an ``OverflowError`` later, in
arithmetic on an accepted value), and accepts both ends of the span. The
calendar queries have their own cases in test_calendars_index.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from csdomain import (
    Actor,
    BusinessCalendar,
    FrozenClock,
    MetricPolicy,
    Priority,
    SlaPolicy,
    SlaSetup,
    Target,
    Ticket,
)
from csdomain._kernel import codec
from csdomain.calendars import DURATION_MAX, INSTANT_END, INSTANT_MIN, TARGET_MAX, always_open
from csdomain.customers import ContactPoint, Purchase
from csdomain.errors import ValidationError
from csdomain.serialization import from_json, ticket_from_events_json, to_json
from csdomain.sla import SlaMetric, SlaState, evaluate, next_deadline
from csdomain.testing import strategies as cst
from csdomain.tickets import MessageAdded

UTC = timezone.utc
MICRO = timedelta(microseconds=1)
LAST = INSTANT_END - MICRO
AGENT = Actor.agent("agt_1")

#: Instants outside the span, among them the ones that used to overflow later: near
#: year 1 and 9999, with offsets that push them past what datetime holds in UTC.
OUTSIDE = [
    INSTANT_MIN - MICRO,
    INSTANT_END,
    datetime(1899, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2))),  # 1900-01-01T01Z: inside
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
    datetime(2, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    datetime.max.replace(tzinfo=UTC),
    datetime(2200, 1, 1, 7, tzinfo=timezone(timedelta(hours=8))),  # 2199-12-31T23Z: inside
]
INSIDE = [v for v in OUTSIDE if INSTANT_MIN <= v < INSTANT_END]
OUTSIDE = [v for v in OUTSIDE if v not in INSIDE]
ENDS = [INSTANT_MIN, LAST, *INSIDE]


def _opened(at: datetime) -> Ticket:
    return Ticket.open(id="T-1", customer_id="cus_1", channel="email", subject="Refund", at=at)


def _message(at: datetime) -> MessageAdded:
    return MessageAdded(at=at, actor=AGENT, body="hi", channel="email")


def _consent(at: datetime) -> ContactPoint:
    return ContactPoint("email", "a@example.com").give_consent(at)


def _purchase(at: datetime) -> Purchase:
    return Purchase(
        order_id="o1", product="router", amount=Decimal("1"), currency="CNY", purchased_at=at
    )


def _reply(at: datetime) -> Ticket:
    return _opened(INSTANT_MIN).add_message(at=at, actor=AGENT, body="hi")


def _clock(at: datetime) -> FrozenClock:
    return FrozenClock(at)


def _clock_set(at: datetime) -> FrozenClock:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.set(at)
    return clock


_POLICY = SlaPolicy(
    "std", [MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=8))})]
)


def _evaluated(at: datetime) -> object:
    return evaluate(_opened(datetime(2026, 1, 1, tzinfo=UTC)), _POLICY, {}, at)


def _deadline(at: datetime) -> object:
    return next_deadline(_opened(datetime(2026, 1, 1, tzinfo=UTC)), _POLICY, {}, at)


#: Each entry point taking an instant, and the path its error names.
ENTRY_POINTS: list[tuple[Callable[[datetime], Any], str]] = [
    (_opened, "at"),
    (_message, "at"),
    (_reply, "at"),
    (_consent, "consent_changed_at"),
    (_purchase, "purchased_at"),
    (_clock, "start"),
    (_clock_set, "instant"),
    (lambda at: BusinessCalendar.weekdays("d", "UTC", "09:00-17:00").is_open(at), "t"),
    (lambda at: always_open().is_open(at), "t"),
]
_IDS = [getattr(f, "__name__", "calendar") for f, _ in ENTRY_POINTS]


@pytest.mark.parametrize(("build", "path"), ENTRY_POINTS, ids=_IDS)
@pytest.mark.parametrize("at", OUTSIDE, ids=str)
def test_every_entry_point_refuses_an_instant_outside_the_span(
    build: Callable[[datetime], Any], path: str, at: datetime
) -> None:
    with pytest.raises(ValidationError) as raised:
        build(at)
    assert raised.value.paths == (path,)
    assert "outside the accepted instants" in str(raised.value)
    assert "1900-01-01T00:00:00+00:00" in str(raised.value)


def _evaluated_with_setup(at: datetime) -> object:
    return evaluate(_opened(datetime(2026, 1, 1, tzinfo=UTC)), SlaSetup([_POLICY]), at)


@pytest.mark.parametrize("build", [_evaluated, _deadline, _evaluated_with_setup])
@pytest.mark.parametrize("at", OUTSIDE, ids=str)
def test_sla_evaluation_refuses_a_now_outside_the_span(
    build: Callable[[datetime], Any], at: datetime
) -> None:
    with pytest.raises(ValidationError) as raised:
        build(at)
    assert raised.value.paths == ("now",)
    assert "outside the accepted instants" in str(raised.value)


class _NoOffset(tzinfo):
    """A tzinfo that gives no offset: its datetimes are naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> None:
        return None


@pytest.mark.parametrize("build", [_evaluated, _deadline, _evaluated_with_setup])
def test_sla_evaluation_refuses_a_now_whose_tzinfo_gives_no_offset(
    build: Callable[[datetime], Any],
) -> None:
    with pytest.raises(ValidationError) as raised:
        build(datetime(2026, 1, 2, tzinfo=_NoOffset()))
    assert raised.value.paths == ("now",)
    assert "naive datetime" in str(raised.value)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        *ENTRY_POINTS,
        (_evaluated, "now"),
        (_deadline, "now"),
        (_evaluated_with_setup, "now"),
    ],
)
@pytest.mark.parametrize("at", ENDS, ids=str)
def test_every_entry_point_accepts_the_ends_of_the_span(
    build: Callable[[datetime], Any], path: str, at: datetime
) -> None:
    build(at)  # no error


def test_the_span_is_documented_in_utc() -> None:
    assert datetime(1900, 1, 1, tzinfo=UTC) == INSTANT_MIN
    assert datetime(2200, 1, 1, tzinfo=UTC) == INSTANT_END
    assert timedelta(days=36_525) == DURATION_MAX
    assert timedelta(days=3_653) == TARGET_MAX


# -- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "duration",
    [timedelta(seconds=86_399_999_999_999), timedelta.max, TARGET_MAX + MICRO],
    ids=str,
)
def test_a_target_longer_than_ten_years_is_refused(duration: timedelta) -> None:
    with pytest.raises(ValidationError) as raised:
        Target(duration)
    assert raised.value.paths == ("duration",)
    assert "at most 3653 days (10 years)" in str(raised.value)


def test_the_longest_target_evaluates_at_the_end_of_the_span() -> None:
    """A 10-year target on a ticket opened at the span's last hour: no overflow."""
    rules = MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(TARGET_MAX)})
    ticket = _opened(LAST - timedelta(hours=1))
    status = evaluate(ticket, SlaPolicy("long", [rules]), {}, LAST)[SlaMetric.RESOLUTION]
    assert status.state is SlaState.RUNNING
    assert status.due_at == LAST - timedelta(hours=1) + TARGET_MAX


@pytest.mark.parametrize("handle_time", [DURATION_MAX + MICRO, timedelta.max], ids=str)
def test_a_handle_time_longer_than_a_century_is_refused(handle_time: timedelta) -> None:
    with pytest.raises(ValidationError) as raised:
        MessageAdded(
            at=datetime(2026, 1, 1, tzinfo=UTC),
            actor=AGENT,
            body="hi",
            channel="email",
            handle_time=handle_time,
        )
    assert raised.value.paths == ("handle_time",)


def test_the_issue_cases_are_validation_errors() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError) as raised:
        always_open("Asia/Shanghai").add(t, timedelta(days=999_999_999))
    assert raised.value.paths == ("d",)
    with pytest.raises(ValidationError):
        Target(timedelta(seconds=86_399_999_999_999))
    for year in (1, 9999):
        with pytest.raises(ValidationError):
            _opened(datetime(year, 6, 1, tzinfo=UTC))


# -- the clock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        {"delta": timedelta(days=1)},
        {"days": 1e12},
        {"hours": float("nan")},
        {"seconds": float("inf")},
        {"delta": timedelta.max, "days": 1},
        {"delta": "1 day"},
    ],
    ids=str,
)
def test_a_clock_never_leaves_the_span_and_stays_put_when_refused(step: dict[str, Any]) -> None:
    clock = FrozenClock(LAST - timedelta(hours=1))
    with pytest.raises(ValidationError) as raised:
        clock.advance(**step)
    assert raised.value.paths == ("delta",)
    assert clock.now() == LAST - timedelta(hours=1)
    assert clock.advance(hours=1) - MICRO == LAST - MICRO  # the last instant is reachable


# -- a ticket spanning the span ------------------------------------------------------------


def test_a_ticket_opened_in_1900_evaluated_in_2199_on_a_business_calendar() -> None:
    desk = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
    rules = MetricPolicy(
        SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=9), "desk")}
    )
    shanghai = ZoneInfo("Asia/Shanghai")
    ticket = _opened(datetime(1900, 1, 1, 9, tzinfo=shanghai))  # a Monday
    status = evaluate(ticket, SlaPolicy("std", [rules]), [desk], datetime(2199, 12, 31, tzinfo=UTC))
    resolution = status[SlaMetric.RESOLUTION]
    assert resolution.state is SlaState.BREACHED
    # LMT +08:05:43 in 1900: the desk's 09:00-18:00 is local time then too
    assert resolution.breached_at == datetime(1900, 1, 1, 18, tzinfo=shanghai)
    assert resolution.elapsed == desk.elapsed(ticket.created_at, datetime(2199, 12, 31, tzinfo=UTC))


# -- strategies draw only accepted values --------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: cst.aware_datetimes(min_value=INSTANT_MIN - MICRO),
        lambda: cst.aware_datetimes(max_value=INSTANT_END),
        lambda: cst.frozen_clocks(max_value=datetime(9999, 1, 1, tzinfo=UTC)),
        lambda: cst.sla_targets(max_duration=TARGET_MAX + MICRO),
    ],
)
def test_strategies_refuse_bounds_outside_the_accepted_values(build: Callable[[], Any]) -> None:
    with pytest.raises(InvalidArgument):
        build().example()


_DESK = BusinessCalendar.weekdays("span-desk", "Europe/London", "09:00-17:00")


@settings(max_examples=50, deadline=None)
@given(at=cst.aware_datetimes(min_value=INSTANT_MIN, max_value=LAST))
def test_instants_drawn_over_the_whole_span_are_accepted(at: datetime) -> None:
    assert _opened(at).created_at == at
    assert FrozenClock(at).now() == at
    assert _DESK.is_open(at) == _DESK.is_open(at.astimezone(UTC))


# -- documents ------------------------------------------------------------------------------

try:
    import orjson
except ImportError:  # pragma: no cover - the fast extra is absent
    orjson = None  # type: ignore[assignment, unused-ignore]


@pytest.fixture(
    params=[
        "json",
        pytest.param(
            "orjson", marks=pytest.mark.skipif(orjson is None, reason="the fast extra is absent")
        ),
    ]
)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The codec on each JSON backend in turn (the stdlib one as without the fast extra)."""
    monkeypatch.setattr(codec, "_orjson", None if request.param == "json" else orjson)
    return str(request.param)


_OUTSIDE_TEXTS = [
    "0001-01-01T00:00:00+00:00",
    "1899-12-31T23:59:59.999999+00:00",
    "2200-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
]


@pytest.mark.parametrize("text", _OUTSIDE_TEXTS)
def test_a_ticket_document_with_an_instant_outside_the_span_is_refused(
    backend: str, text: str
) -> None:
    """A ticket document loads only with its instants in the span, on the loader's fast
    path (instants written with +00:00, as to_json writes them) as on the converter's."""
    ticket = _opened(datetime(2026, 1, 1, tzinfo=UTC)).add_message(
        at=datetime(2026, 1, 2, tzinfo=UTC), actor=AGENT, body="hi"
    )
    document = json.loads(to_json(ticket))
    document["timeline"][1]["at"] = text
    with pytest.raises(ValidationError) as raised:
        from_json(json.dumps(document))
    assert raised.value.paths == ("timeline[1].at",)
    assert "outside the accepted instants" in str(raised.value)
    rows = [json.dumps(event) for event in document["timeline"]]
    with pytest.raises(ValidationError) as raised:
        ticket_from_events_json(rows, key="T-1")
    assert raised.value.paths == ("timeline[1].at",)


def test_a_ticket_document_at_the_ends_of_the_span_loads(backend: str) -> None:
    for at in (INSTANT_MIN, LAST):
        ticket = _opened(at)
        assert from_json(to_json(ticket)) == ticket


@settings(max_examples=30, deadline=None)
@given(
    ticket=cst.tickets(
        min_events=3, start=st.just(LAST - timedelta(hours=1)), max_gap=timedelta(days=30)
    )
)
def test_tickets_drawn_at_the_end_of_the_span_stay_in_it(ticket: Ticket) -> None:
    """Gaps that would pass the span's end leave a change at the last event's instant."""
    assert all(INSTANT_MIN <= event.at < INSTANT_END for event in ticket.timeline)
    assert ticket.updated_at <= LAST
