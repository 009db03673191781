"""Adversarial inputs to revisits: plans and rules loaded from JSON, and the desk's
lifecycle commands given what a client can send.

* RRULE texts (finer than daily, huge COUNT/INTERVAL, BYSETPOS junk, UNTIL with a zone,
  DTSTART inside, 10 KB, repeated parts): a ``ValidationError`` naming the plan, the
  rule's path and quoting the text, through ``from_dict`` and ``from_json``.
* Plan documents with one field damaged: one ``ValidationError`` whose path names it.
* ``RevisitDesk.complete/start/cancel/miss/assign`` with unknown ids, wrong outcome or
  reason types, unknown agents, on a cancelled task: typed errors, and every row of
  the store (SQLite and PostgreSQL) is the same afterwards.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from test_revisit_desk import PLAN, _customer, _desk

from csdomain.errors import (
    CSDomainError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from csdomain.revisits.plans import RevisitPlan
from csdomain.revisits.recurrence import Recurrence
from csdomain.revisits.vocabulary import CancelReason, Outcome, TaskState
from csdomain.serialization import from_dict, from_json, to_dict

Rows = dict[str, list[str]]
PLAN_DOC: dict[str, Any] = to_dict(PLAN)


def _plan_with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(PLAN_DOC)
    change(doc)
    return doc


def _rrule(text: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["rules"][0]["recurrence"]["rrule"] = text

    return change


def _refused_plan(doc: dict[str, Any]) -> ValidationError:
    """The ValidationError of ``doc`` through from_dict, the same through from_json."""
    with pytest.raises(ValidationError) as caught:
        from_dict(doc, RevisitPlan)
    with pytest.raises(ValidationError) as again:
        from_json(json.dumps(doc), RevisitPlan)
    assert again.value.paths == caught.value.paths
    assert "RevisitPlan" in str(caught.value)
    return caught.value


# -- RRULE texts ----------------------------------------------------------------------------

REFUSED_RRULES: list[tuple[str, str]] = [
    ("FREQ=SECONDLY", "finer than a revisit"),
    ("FREQ=MINUTELY;INTERVAL=5", "finer than a revisit"),
    ("FREQ=HOURLY", "finer than a revisit"),
    ("freq=secondly", "finer than a revisit"),
    ("RRULE:FREQ=SECONDLY", "finer than a revisit"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
    ("FREQ=DAILY;INTERVAL=-1", "INTERVAL"),
    ("FREQ=DAILY;INTERVAL=1.5", "INTERVAL"),
    ("FREQ=DAILY;COUNT=0", "COUNT"),
    ("FREQ=DAILY;COUNT=5;UNTIL=20270101", "COUNT and UNTIL"),
    ("FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO", "bysetpos"),
    ("FREQ=MONTHLY;BYSETPOS=400;BYDAY=MO", "bysetpos"),
    ("FREQ=MONTHLY;BYSETPOS=x;BYDAY=MO", "BYSETPOS"),
    ("FREQ=MONTHLY;BYSETPOS=;BYDAY=MO", "BYSETPOS"),
    ("FREQ=DAILY;UNTIL=20270101T000000Z", "UNTIL"),
    ("FREQ=DAILY;UNTIL=20270101T000000+0800", "UNTIL"),
    ("FREQ=DAILY;UNTIL=notadate", "dateutil says"),
    ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "without DTSTART"),
    ("FREQ=DAILY;DTSTART=20260101", "without DTSTART"),
    ("FREQ=DAILY\r\nFREQ=WEEKLY", "without DTSTART or other lines"),
    ("FREQ=DAILY;" + "BYMONTHDAY=1;" * 800, "at most 1000 characters"),
    ("FREQ=DAILY;X-" + "A" * 10_240, "at most 1000 characters"),
    ("FREQ=WEEKLY;BYDAY=XX", "BYDAY"),
    ("FREQ=DAILY;X-FOO=1", "X-FOO"),
    ("FREQ=", "FREQ"),
    ("FREQ=DAILY;;", "dateutil says"),
    ("", "empty"),
    ("   ", "empty"),
    ("FREQ=DAILY\x00", "dateutil says"),
    ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "never occurs"),
]


@pytest.mark.parametrize(("text", "says"), REFUSED_RRULES)
def test_a_bad_rrule_in_a_plan_document_names_the_plan_the_rule_and_the_text(
    text: str, says: str
) -> None:
    error = _refused_plan(_plan_with(_rrule(text)))
    assert error.paths == ("rules[0].recurrence.rrule",)
    assert says.lower() in str(error).lower()
    with pytest.raises(ValidationError) as direct:
        Recurrence(text)
    assert direct.value.paths == ("rrule",)
    if text.strip() and len(text) <= 1000:
        assert repr(text)[1:-1][:40] in str(direct.value)  # the text is quoted


@pytest.mark.parametrize("text", [5, None, True, ["FREQ=DAILY"], {"rrule": "FREQ=DAILY"}, 2.5])
def test_an_rrule_that_is_not_text_is_refused_at_its_path(text: object) -> None:
    error = _refused_plan(_plan_with(_rrule(text)))
    assert error.paths == ("rules[0].recurrence.rrule",)


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;COUNT=" + "9" * 500,  # dateutil stops at the year 9999
        "FREQ=DAILY;INTERVAL=" + "9" * 500,  # the first occurrence is the start itself
        "FREQ=YEARLY;INTERVAL=99999999999999999999",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1,1,1",
    ],
)
def test_huge_counts_and_intervals_load_and_expand_quickly(text: str) -> None:
    plan = from_dict(_plan_with(_rrule(text)), RevisitPlan)
    recurrence = plan.rules[0].recurrence
    assert recurrence is not None
    from datetime import datetime

    start = datetime(2026, 12, 1, 10)
    found = recurrence.occurrences(start, start, datetime(2027, 3, 1, 10))
    assert len(found) <= 91


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;INTERVAL=1;INTERVAL=0",  # dateutil: interval 0, expansion never ends
        "FREQ=DAILY;FREQ=SECONDLY",  # dateutil: SECONDLY
        "FREQ=DAILY;COUNT=1;COUNT=0",  # dateutil: no occurrence
    ],
)
def test_a_repeated_rrule_part_is_refused(text: str) -> None:
    # Only construction runs here: an accepted rule is never expanded (it could hang).
    with pytest.raises(ValidationError) as caught:
        Recurrence(text)
    assert caught.value.paths == ("rrule",)


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)),
        "FREQ=WEEKLY;BYMINUTE=" + ",".join(str(m) for m in range(60)),
        "FREQ=DAILY;BYSECOND=0,30",
    ],
)
def test_a_rule_finer_than_daily_through_by_parts_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match=r"finer than a revisit|BYHOUR|BYMINUTE|BYSECOND"):
        Recurrence(text)


def test_a_rule_ending_before_the_plan_starts_is_refused_naming_it() -> None:
    doc = _plan_with(_rrule("FREQ=MONTHLY;BYMONTHDAY=1;UNTIL=20200101"))
    error = _refused_plan(doc)
    assert error.paths[0].startswith("rules[0]")
    assert "vip-monthly" in str(error)


# -- plan documents with one field damaged -----------------------------------------------------


def _set(path: list[Any], value: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _drop(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


BIRTHDAY = {"kind": "birthday", "business_days": None, "days": None, "condition": None}
DAMAGED_PLANS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("recurrence as text", _set(["rules", 0, "recurrence"], "FREQ=DAILY"), "rules[0].recurrence"),
    ("recurrence and trigger", _set(["rules", 0, "trigger"], BIRTHDAY), "rules[0].trigger"),
    ("neither", _set(["rules", 0, "recurrence"], None), "rules[0].recurrence"),
    ("no form", _set(["rules", 0, "forms"], []), "rules[0].forms"),
    ("a form twice", _set(["rules", 0, "forms"], ["phone", "phone"]), "rules[0].forms[1]"),
    ("unknown form", _set(["rules", 0, "forms"], ["pigeon"]), "rules[0].forms[0]"),
    ("forms as text", _set(["rules", 0, "forms"], "phone"), "rules[0].forms"),
    ("two rules one name", _set(["rules", 1, "name"], "vip-monthly"), "rules[1].name"),
    ("25 o'clock", _set(["rules", 0, "time_of_day"], "25:00"), "rules[0].time_of_day"),
    ("time with zone", _set(["rules", 0, "time_of_day"], "10:00+08:00"), "rules[0].time_of_day"),
    ("time as seconds", _set(["rules", 0, "time_of_day"], 36000), "rules[0].time_of_day"),
    ("negative duration", _set(["rules", 0, "duration"], -5), "rules[0].duration"),
    ("huge duration", _set(["rules", 0, "duration"], 10**18), "rules[0].duration"),
    ("NaN duration", _set(["rules", 0, "duration"], float("nan")), "rules[0].duration"),
    ("bool duration", _set(["rules", 0, "duration"], True), "rules[0].duration"),
    ("no attempt", _set(["rules", 0, "retry", "max_attempts"], 0), "rules[0].retry.max_attempts"),
    (
        "huge attempts",
        _set(["rules", 0, "retry", "max_attempts"], 10**30),
        "rules[0].retry.max_attempts",
    ),
    (
        "bool attempts",
        _set(["rules", 0, "retry", "max_attempts"], True),
        "rules[0].retry.max_attempts",
    ),
    ("version 0", _set(["version"], 0), "version"),
    ("version 2**70", _set(["version"], 2**70), "version"),
    ("30 February", _set(["starts_on"], "2026-02-30"), "starts_on"),
    ("starts_on instant", _set(["starts_on"], "2026-12-01T00:00:00Z"), "starts_on"),
    ("negative gap", _set(["window", "min_gap"], -1), "window.min_gap"),
    ("unknown zone", _set(["window", "calendar", "timezone"], "Mars/Olympus"), "window.calendar"),
    ("never open", _set(["window", "calendar", "weekly"], [[]] * 7), "window.calendar.weekly"),
    ("quiet all day", _set(["window", "quiet_hours"], ["00:00-24:00"]), "window.quiet_hours"),
    ("rule without name", _drop(["rules", 0, "name"]), "rules[0].name"),
    ("no rules", _set(["rules"], []), "rules"),
    ("rules missing", _drop(["rules"]), "rules"),
    ("who garbage", _set(["rules", 0, "who"], {"op": "nope"}), "rules[0].who"),
    (
        "who unknown field",
        _set(["rules", 0, "who"], {"op": "compare", "field": "customer.zzz", "comparison": "ge"}),
        "rules[0].who",
    ),
    ("trigger kind", _set(["rules", 1, "trigger", "kind"], "earthquake"), "rules[1].trigger.kind"),
    (
        "trigger days",
        _set(["rules", 1, "trigger", "business_days"], -3),
        "rules[1].trigger.business_days",
    ),
    (
        "survey trigger no condition",
        _set(["rules", 2, "trigger", "condition"], None),
        "rules[2].trigger.condition",
    ),
    ("empty name", _set(["name"], ""), "name"),
    ("huge name", _set(["name"], "x" * 100_000), "name"),
    ("surrogate name", _set(["name"], "\ud800"), "name"),
    ("blank purpose", _set(["rules", 0, "purpose"], " "), "rules[0].purpose"),
    ("unknown anchor", _set(["rules", 0, "anchor"], "moon"), "rules[0].anchor"),
]


@pytest.mark.parametrize(
    ("change", "path"), [(c, p) for _, c, p in DAMAGED_PLANS], ids=[n for n, _, _ in DAMAGED_PLANS]
)
def test_a_damaged_plan_document_is_refused_at_the_damaged_path(
    change: Callable[[dict[str, Any]], None], path: str
) -> None:
    doc = _plan_with(change)
    with pytest.raises(ValidationError) as caught:
        from_dict(doc, RevisitPlan)
    assert any(p.startswith(path) for p in caught.value.paths), caught.value.paths
    assert "RevisitPlan" in str(caught.value)


def test_json_text_the_codec_refuses_is_a_validation_error() -> None:
    text = json.dumps(PLAN_DOC)
    for bad in (
        text[: len(text) // 2],
        text.replace('"version": 1', '"version": 1e400'),
        text.replace('"version": 1', '"version": NaN'),
        text.replace('"version": 1', '"version": ' + "9" * 30),
        text.replace('"script": null', '"script": ' + "[" * 600 + "]" * 600),
        "\ufeff" + text,
        "",
        "null",
        "[]",
    ):
        with pytest.raises(ValidationError):
            from_json(bad, RevisitPlan)
    with pytest.raises(ValidationError):
        from_json(text, RevisitPlan, max_bytes=100)
    assert from_json(text, RevisitPlan) == PLAN


# -- desk commands -------------------------------------------------------------------------------


def test_lifecycle_commands_refuse_bad_input_with_typed_errors_and_store_nothing(
    backend: tuple[str, Callable[[], Rows]],
) -> None:
    url, rows = backend
    desk, revisits, _ = _desk([_customer(1)], url=url)
    try:
        revisits.materialize(90)
        live, cancelled = revisits.by_customer("cus_0001").items[:2]
        revisits.cancel(cancelled.id)
        amy = "agt_amy"
        wrong_outcome: Any = CancelReason.BY_AGENT
        wrong_note: Any = 5
        calls: list[tuple[type[CSDomainError], Callable[[], object]]] = [
            (NotFoundError, lambda: revisits.complete("rvt_nope", Outcome.BUSY, agent_id=amy)),
            (ValidationError, lambda: revisits.complete("", Outcome.BUSY, agent_id=amy)),
            (ValidationError, lambda: revisits.complete(None, Outcome.BUSY, agent_id=amy)),  # type: ignore[arg-type]
            (ValidationError, lambda: revisits.complete("x" * 100_000, Outcome.BUSY, agent_id=amy)),
            (ValidationError, lambda: revisits.complete("\ud800", Outcome.BUSY, agent_id=amy)),
            (ValidationError, lambda: revisits.complete(live.id, "busy", agent_id=amy)),  # type: ignore[arg-type]
            (ValidationError, lambda: revisits.complete(live.id, None, agent_id=amy)),  # type: ignore[arg-type]
            (
                ValidationError,
                lambda: revisits.complete(live.id, wrong_outcome, agent_id=amy),
            ),
            (ValidationError, lambda: revisits.complete(live.id, True, agent_id=amy)),  # type: ignore[arg-type]
            (NotFoundError, lambda: revisits.complete(live.id, Outcome.BUSY, agent_id="agt_zzz")),
            (NotFoundError, lambda: revisits.complete(live.id, Outcome.BUSY, agent_id=None)),  # type: ignore[arg-type]
            (
                ValidationError,
                lambda: revisits.complete(live.id, Outcome.BUSY, agent_id=amy, note=wrong_note),
            ),
            (
                ValidationError,
                lambda: revisits.complete(
                    live.id, Outcome.REACHED_WITH_ISSUE, agent_id=amy, note="\ud800"
                ),
            ),
            (
                ValidationError,
                lambda: revisits.complete(
                    live.id, Outcome.REACHED_WITH_ISSUE, agent_id=amy, note="x" * 1_000_000
                ),
            ),
            (
                ValidationError,
                lambda: revisits.complete(
                    live.id,
                    Outcome.REACHED_WITH_ISSUE,
                    agent_id=amy,
                    ticket_kind="complaint",  # type: ignore[arg-type]
                ),
            ),
            (
                InvalidTransitionError,
                lambda: revisits.complete(cancelled.id, Outcome.BUSY, agent_id=amy),
            ),
            (
                InvalidTransitionError,
                lambda: revisits.complete(cancelled.id, Outcome.REACHED_WITH_ISSUE, agent_id=amy),
            ),
            (InvalidTransitionError, lambda: revisits.start(cancelled.id, amy)),
            (NotFoundError, lambda: revisits.start("rvt_nope", amy)),
            (NotFoundError, lambda: revisits.start(live.id, "agt_zzz")),
            (NotFoundError, lambda: revisits.start(live.id, 7)),  # type: ignore[arg-type]
            (InvalidTransitionError, lambda: revisits.cancel(cancelled.id)),
            (NotFoundError, lambda: revisits.cancel("rvt_nope")),
            (ValidationError, lambda: revisits.cancel(live.id, "by_agent")),  # type: ignore[arg-type]
            (ValidationError, lambda: revisits.cancel(live.id, Outcome.BUSY)),  # type: ignore[arg-type]
            (InvalidTransitionError, lambda: revisits.miss(cancelled.id)),
            (NotFoundError, lambda: revisits.miss("rvt_nope")),
            (InvalidTransitionError, lambda: revisits.assign(cancelled.id, amy)),
            (NotFoundError, lambda: revisits.assign(live.id, "agt_zzz")),
        ]
        before = rows()
        for expected, call in calls:
            with pytest.raises(expected) as caught:
                call()
            message = str(caught.value)
            if expected is InvalidTransitionError:
                assert cancelled.id in message and "cancelled" in message
            if expected is NotFoundError:
                assert "not found" in message
        assert rows() == before
        assert revisits.task(cancelled.id).state is TaskState.CANCELLED
        assert revisits.task(live.id) == live
    finally:
        desk.store.close()
