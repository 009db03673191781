"""Strategies: revisit plans (recurrences, triggers, retry policies, rules, contact windows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.calendars import BusinessCalendar, TimeRange
from csdomain.conditions import ALWAYS, Compare, Condition
from csdomain.people import Role
from csdomain.revisits.placement import WECHAT_48H, ContactWindow, RateLimit
from csdomain.revisits.plans import (
    Anchor,
    RetryPolicy,
    RevisitPlan,
    RevisitRule,
    Trigger,
    TriggerKind,
)
from csdomain.revisits.recurrence import Recurrence, rrule_problem
from csdomain.revisits.vocabulary import RevisitForm
from csdomain.testing.strategies._calendars import business_calendars
from csdomain.testing.strategies._common import (
    _check_size,
    _keys,
    _maybe,
    _members,
    _memo,
    _texts,
)
from csdomain.testing.strategies._conditions import conditions
from csdomain.testing.strategies.registry import register

_FREQUENCIES: tuple[str, ...] = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TYPICAL_RULES: tuple[str, ...] = (
    "FREQ=MONTHLY;BYMONTHDAY=1",
    "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=1",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
    "FREQ=DAILY;INTERVAL=10;COUNT=5",
    "freq=weekly;interval=2;until=20271231",
)
_RULE_NAMES: tuple[str, ...] = (
    "vip-monthly",
    "standard-quarterly",
    "complaint-follow-up",
    "after-purchase",
    "birthday-care",
    "low-csat",
)
_PURPOSES: tuple[str, ...] = (
    "Monthly VIP care call",
    "季度回访：产品使用情况",
    "投诉处理满意度回访",
    "售后回访",
    "生日关怀",
)


# -- recurrences ----------------------------------------------------------------------


def recurrences(*, frequencies: Iterable[str] | None = None) -> SearchStrategy[Recurrence]:
    """:class:`~csdomain.revisits.Recurrence` values: typical revisit rules and rules built
    from parts (``FREQ`` of ``frequencies``, default ``DAILY``, ``WEEKLY``, ``MONTHLY``,
    ``YEARLY``; ``INTERVAL``, ``BYDAY`` with and without ordinals, ``BYMONTHDAY``
    (negative too), ``BYMONTH``, ``BYSETPOS``, ``COUNT`` or ``UNTIL``, ``WKST``), in
    upper and lower case, with and without the ``RRULE:`` prefix. Every value is one
    the model accepts (rules that never occur are left out).

    Requires Hypothesis.
    """
    if frequencies is None:
        chosen = _FREQUENCIES
    else:
        chosen = tuple(dict.fromkeys(frequencies))
        if not chosen or not all(f in _FREQUENCIES for f in chosen):
            raise InvalidArgument(
                f"frequencies={frequencies!r} must be a non-empty collection of "
                f"{', '.join(_FREQUENCIES)}"
            )
    return _recurrences(chosen)


register(Recurrence, recurrences)


@_memo
def _recurrences(frequencies: tuple[str, ...]) -> SearchStrategy[Recurrence]:
    typical = [r for r in _TYPICAL_RULES if _frequency_of(r) in frequencies]
    built = _rule_texts(frequencies).filter(lambda text: rrule_problem(text) is None)
    texts = st.one_of(st.sampled_from(typical), built) if typical else built
    return texts.map(Recurrence)


def _frequency_of(text: str) -> str:
    body = text.upper().removeprefix("RRULE:")
    return dict(p.split("=") for p in body.split(";"))["FREQ"]


@st.composite
def _rule_texts(draw: DrawFn, frequencies: tuple[str, ...]) -> str:
    parts = [f"FREQ={draw(st.sampled_from(frequencies))}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(_WEEKDAYS), min_size=1, max_size=3, unique=True))
        ordinal = draw(st.sampled_from(("", "", "1", "2", "-1")))
        parts.append("BYDAY=" + ",".join(ordinal + d for d in days))
    if draw(st.booleans()):
        day = draw(st.one_of(st.integers(1, 28), st.integers(-3, -1)))
        parts.append(f"BYMONTHDAY={day}")
    if draw(st.booleans()):
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
        parts.append("BYMONTH=" + ",".join(map(str, sorted(months))))
    if draw(st.booleans()):
        parts.append(f"BYSETPOS={draw(st.sampled_from((1, 2, -1)))}")
    end = draw(st.sampled_from(("", "count", "until")))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 30))}")
    elif end == "until":
        until = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31)))
        parts.append(f"UNTIL={until:%Y%m%d}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(_WEEKDAYS))}")
    text = ";".join(parts)
    if draw(st.booleans()):
        text = text.lower()
    if draw(st.booleans()):
        text = "RRULE:" + text
    return text


# -- triggers and retries -------------------------------------------------------------


def revisit_triggers(*, kinds: Iterable[TriggerKind] | None = None) -> SearchStrategy[Trigger]:
    """:class:`~csdomain.revisits.Trigger` values of one of ``kinds`` (default: every
    :class:`~csdomain.revisits.TriggerKind`): 0-10 business days after a solved complaint,
    0-30 days after a purchase or a survey answer (the survey condition is a
    ``Compare`` on ``customer.attributes.csat``, or any customer condition), birthdays.

    Requires Hypothesis.
    """
    chosen = tuple(dict.fromkeys(_members(TriggerKind, "kinds", kinds)))
    return _triggers(chosen)


register(Trigger, revisit_triggers)


@_memo
def _triggers(kinds: tuple[TriggerKind, ...]) -> SearchStrategy[Trigger]:
    made: dict[TriggerKind, SearchStrategy[Trigger]] = {
        TriggerKind.COMPLAINT_SOLVED: st.builds(Trigger.complaint_solved, st.integers(0, 10)),
        TriggerKind.PURCHASE: st.builds(Trigger.purchase, st.integers(0, 30)),
        TriggerKind.SURVEY_ANSWERED: st.builds(
            Trigger.survey_answered,
            st.one_of(
                st.builds(
                    Compare, st.just("customer.attributes.csat"), st.just("le"), st.integers(1, 3)
                ),
                conditions(max_depth=1),
            ),
            st.integers(0, 30),
        ),
        TriggerKind.BIRTHDAY: st.just(Trigger.birthday()),
    }
    return st.one_of([made[k] for k in kinds])


@_memo
def retry_policies() -> SearchStrategy[RetryPolicy]:
    """:class:`~csdomain.revisits.RetryPolicy` values: 1-5 attempts, 1-3 windows of backoff,
    with and without alternating forms.

    Requires Hypothesis.
    """
    return st.builds(
        RetryPolicy,
        max_attempts=st.integers(1, 5),
        backoff_windows=st.integers(1, 3),
        alternate_forms=st.booleans(),
    )


register(RetryPolicy, retry_policies)


# -- rules ----------------------------------------------------------------------------


def revisit_rules(
    *,
    names: SearchStrategy[str] | None = None,
    who: SearchStrategy[Condition] | None = None,
    recurring: bool | None = None,
    trigger_kinds: Iterable[TriggerKind] | None = None,
    max_forms: int = 3,
) -> SearchStrategy[RevisitRule]:
    """:class:`~csdomain.revisits.RevisitRule` values.

    ``names`` draws the rule name (default: typical names or any key); ``who``
    the condition (default: always, or a condition over the customer);
    ``recurring`` True gives recurrences only, False triggers only (of
    ``trigger_kinds``), None both; 1 to ``max_forms`` distinct forms (a rule
    with the questionnaire form names a questionnaire); times of day on the
    quarter hour from 08:00 to 20:45; durations of 5 to 60 minutes.

    Requires Hypothesis.
    """
    _check_size("max_forms", max_forms, 1, len(RevisitForm))
    if recurring is not None and not isinstance(recurring, bool):
        raise InvalidArgument(f"recurring={recurring!r} must be True, False or None")
    if names is not None and not isinstance(names, SearchStrategy):
        raise InvalidArgument(f"names={names!r} must be a SearchStrategy or None")
    if who is not None and not isinstance(who, SearchStrategy):
        raise InvalidArgument(f"who={who!r} must be a SearchStrategy or None")
    kinds = tuple(dict.fromkeys(_members(TriggerKind, "trigger_kinds", trigger_kinds)))
    return _rules(names, who, recurring, kinds, max_forms)


register(RevisitRule, revisit_rules)


@_memo
def _rule_names() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_RULE_NAMES), _keys(40))


@_memo
def _rules(
    names: SearchStrategy[str] | None,
    who: SearchStrategy[Condition] | None,
    recurring: bool | None,
    kinds: tuple[TriggerKind, ...],
    max_forms: int,
) -> SearchStrategy[RevisitRule]:
    return _rule(
        _rule_names() if names is None else names,
        st.one_of(st.just(ALWAYS), conditions(max_depth=1)) if who is None else who,
        recurring,
        _triggers(kinds),
        max_forms,
    )


@st.composite
def _rule(
    draw: DrawFn,
    names: SearchStrategy[str],
    who: SearchStrategy[Condition],
    recurring: bool | None,
    triggers: SearchStrategy[Trigger],
    max_forms: int,
) -> RevisitRule:
    by_recurrence = draw(st.booleans()) if recurring is None else recurring
    recurrence = draw(_recurrences(_FREQUENCIES)) if by_recurrence else None
    trigger = None if by_recurrence else draw(triggers)
    forms = tuple(
        draw(st.lists(st.sampled_from(RevisitForm), min_size=1, max_size=max_forms, unique=True))
    )
    questionnaire = draw(_maybe(st.sampled_from(("csat-5", "nps", "revisit-q1"))))
    if RevisitForm.QUESTIONNAIRE in forms and questionnaire is None:
        questionnaire = "csat-5"
    quarter = draw(st.integers(8 * 4, 20 * 4 + 3))
    return RevisitRule(
        draw(names),
        who=draw(who),
        recurrence=recurrence,
        trigger=trigger,
        anchor=draw(st.sampled_from(Anchor)) if by_recurrence else Anchor.DUE,
        forms=forms,
        purpose=draw(st.one_of(st.sampled_from(_PURPOSES), _texts(60))),
        script=draw(_maybe(_texts(200))),
        questionnaire=questionnaire,
        group_id=draw(_maybe(st.sampled_from(("revisit-desk", "vip-care", "after-sales")))),
        role=draw(_maybe(st.sampled_from(Role))),
        time_of_day=time(quarter // 4, quarter % 4 * 15),
        retry=draw(retry_policies()),
        duration=timedelta(minutes=draw(st.integers(5, 60))),
    )


# -- contact windows and plans --------------------------------------------------------

_QUIET: tuple[tuple[TimeRange, ...], ...] = (
    (),
    (TimeRange.parse("12:00-13:30"),),
    (TimeRange.parse("21:00-24:00"), TimeRange.parse("00:00-08:00")),
)
_GAPS: tuple[timedelta, ...] = (timedelta(0), timedelta(days=1), timedelta(days=7))


@_memo
def rate_limits() -> SearchStrategy[RateLimit]:
    """:class:`~csdomain.revisits.placement.RateLimit` values: WeChat's 48-hour rule and
    limits of 1-5 tasks of a form per 1-30 days.

    Requires Hypothesis.
    """
    return st.one_of(
        st.just(WECHAT_48H),
        st.builds(
            RateLimit,
            form=st.sampled_from(RevisitForm),
            limit=st.integers(1, 5),
            per=st.integers(1, 30).map(lambda d: timedelta(days=d)),
        ),
    )


register(RateLimit, rate_limits)


def contact_windows(*, max_rate_limits: int = 2) -> SearchStrategy[ContactWindow]:
    """:class:`~csdomain.revisits.placement.ContactWindow` values over generated calendars
    (:func:`business_calendars`), with no quiet hours, a lunch break or the night
    quiet, up to ``max_rate_limits`` rate limits and a minimum gap of 0, 1 or 7 days.
    Every window has open time.

    Requires Hypothesis.
    """
    _check_size("max_rate_limits", max_rate_limits)
    return _windows(max_rate_limits)


register(ContactWindow, contact_windows)


@_memo
def _windows(max_rate_limits: int) -> SearchStrategy[ContactWindow]:
    return st.builds(
        _window,
        calendar=business_calendars(),
        quiet=st.sampled_from(_QUIET),
        limits=st.lists(rate_limits(), max_size=max_rate_limits, unique=True).map(tuple),
        gap=st.sampled_from(_GAPS),
    )


def _window(
    *,
    calendar: BusinessCalendar,
    quiet: tuple[TimeRange, ...],
    limits: tuple[RateLimit, ...],
    gap: timedelta,
) -> ContactWindow:
    try:
        return ContactWindow(calendar, quiet, limits, gap)
    except ValueError:  # the quiet hours cover every opening of this calendar
        return ContactWindow(calendar, (), limits, gap)


def revisit_plans(
    *,
    max_rules: int = 3,
    rules: SearchStrategy[RevisitRule] | None = None,
    windows: SearchStrategy[ContactWindow] | None = None,
) -> SearchStrategy[RevisitPlan]:
    """:class:`~csdomain.revisits.RevisitPlan` values of 1 to ``max_rules`` rules with
    distinct names (drawn by ``rules``, default :func:`revisit_rules`), a contact
    window (``windows``, default :func:`contact_windows`), a first day in 2020-2030 and
    a version of 1-5.

    Requires Hypothesis.
    """
    _check_size("max_rules", max_rules, 1)
    for name, value in (("rules", rules), ("windows", windows)):
        if value is not None and not isinstance(value, SearchStrategy):
            raise InvalidArgument(f"{name}={value!r} must be a SearchStrategy or None")
    return _plans(max_rules, rules, windows)


register(RevisitPlan, revisit_plans)


def _name_of(rule: RevisitRule) -> str:
    return rule.name


@_memo
def _plans(
    max_rules: int,
    rules: SearchStrategy[RevisitRule] | None,
    windows: SearchStrategy[ContactWindow] | None,
) -> SearchStrategy[RevisitPlan]:
    rule_values = revisit_rules() if rules is None else rules
    starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
    return starts.flatmap(
        lambda starts_on: st.builds(
            RevisitPlan,
            st.one_of(st.sampled_from(("vip-care", "standard-care", "after-sales")), _keys(30)),
            # A plan refuses a rule whose UNTIL ends before the plan starts.
            rules=st.lists(
                rule_values.filter(lambda rule: _occurs_from(rule, starts_on)),
                min_size=1,
                max_size=max_rules,
                unique_by=_name_of,
            ).map(tuple),
            window=contact_windows() if windows is None else windows,
            starts_on=st.just(starts_on),
            version=st.integers(1, 5),
        )
    )


def _occurs_from(rule: RevisitRule, starts_on: date) -> bool:
    recurrence = rule.recurrence
    if recurrence is None:
        return True
    return recurrence.first(datetime.combine(starts_on, rule.time_of_day)) is not None
