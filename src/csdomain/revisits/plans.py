"""Revisit plans as data: rules saying who is revisited, when, how and why.

A :class:`RevisitPlan` holds ordered :class:`RevisitRule` values and the
:class:`~csdomain.revisits.placement.ContactWindow` its tasks land in. Each
rule has:

- **who**: a :class:`~csdomain.conditions.Condition` over
  ``Facts(customer=..., history=...)`` (the customer's tier and segments, and the
  ``history.*`` fields of :mod:`csdomain.revisits.history`; a survey trigger's
  condition reads ``survey`` too);
- **when**: exactly one of a :class:`~csdomain.revisits.recurrence.Recurrence`
  (an RFC 5545 RRULE started on the plan's first day at the rule's
  ``time_of_day``, in the customer's zone) or a :class:`Trigger` (after a
  complaint is solved, after a purchase, after a survey answer, on the
  birthday);
- an :class:`Anchor`: recurrences count from the due instants (``DUE``) or
  from completion (``COMPLETION``, as Odoo's activity plans do): once a task
  of the rule is done at D, the occurrences before D plus the rule's interval
  (``FREQ=MONTHLY;INTERVAL=2``: two months) are skipped;
- **how**: forms in order of preference (each filtered by consent when a task
  is placed), the purpose, the script or questionnaire, the group or role that
  does it, a :class:`RetryPolicy` and how long a task takes.

Everything is validated at construction; a bad rule is a
:class:`~csdomain.errors.ValidationError` whose subject names the rule
(``invalid RevisitRule 'vip-monthly': recurrence: ...``), a bad plan one that
names the plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import (
    Check,
    Checked,
    boolean,
    calendar_date,
    checked,
    describe,
    duration,
    enum_member,
    identity_when,
    instance,
    integer,
    key,
    member_of,
    optional,
    text,
    tuple_of,
    unique_by,
)
from csdomain.conditions import ALWAYS, Condition
from csdomain.errors import NotFoundError, ValidationError
from csdomain.people import Role
from csdomain.revisits.placement import ContactWindow
from csdomain.revisits.recurrence import Recurrence, rrule_problem
from csdomain.revisits.vocabulary import RevisitForm

__all__ = [
    "Anchor",
    "RetryPolicy",
    "RevisitPlan",
    "RevisitRule",
    "Trigger",
    "TriggerKind",
]


class TriggerKind(Enum):
    """What, other than a recurrence, makes a revisit rule schedule a task."""

    #: A complaint ticket was solved: ``business_days`` open days of the contact window later.
    COMPLAINT_SOLVED = "complaint_solved"
    #: A purchase: ``days`` calendar days after ``Purchase.purchased_at``.
    PURCHASE = "purchase"
    #: A survey response for which ``condition`` holds: ``days`` calendar days later.
    SURVEY_ANSWERED = "survey_answered"
    #: The customer's birthday (local date; February 29 is February 28 in other years).
    BIRTHDAY = "birthday"


declare_labels(
    TriggerKind,
    {
        TriggerKind.COMPLAINT_SOLVED: _mark("revisit trigger", "Complaint solved"),
        TriggerKind.PURCHASE: _mark("revisit trigger", "Purchase"),
        TriggerKind.SURVEY_ANSWERED: _mark("revisit trigger", "Survey answered"),
        TriggerKind.BIRTHDAY: _mark("revisit trigger", "Birthday"),
    },
)


class Anchor(Enum):
    """What a recurring rule's next task counts from."""

    #: The nominal due instants of the recurrence, whatever happened to earlier tasks.
    DUE = "due"
    #: The completion of the rule's latest done task (occurrences closer to it than the
    #: rule's interval are skipped).
    COMPLETION = "completion"


declare_labels(
    Anchor,
    {
        Anchor.DUE: _mark("revisit anchor", "From the due date"),
        Anchor.COMPLETION: _mark("revisit anchor", "From completion"),
    },
)


# -- field helpers --------------------------------------------------------------------


def _trigger_kind(value: TriggerKind | str) -> TriggerKind:
    return enum_member(TriggerKind, value)


def _anchor(value: Anchor | str) -> Anchor:
    return enum_member(Anchor, value)


def _role(value: Role | str | None) -> Role | None:
    return enum_member(Role, value)


def _form(value: RevisitForm | str) -> RevisitForm:
    return enum_member(RevisitForm, value)


def _forms(value: Iterable[RevisitForm | str]) -> tuple[RevisitForm, ...]:
    items = tuple_of(value)
    if type(items) is tuple:
        return tuple(map(_form, items))
    return items


def _recurrence(value: Recurrence | str | None) -> Recurrence | None:
    # Text becomes a Recurrence only when valid; bad text is left for the field's check,
    # so the error names the rule (a Recurrence built here would name only itself).
    if type(value) is str and rrule_problem(value) is None:
        return Recurrence(value)
    return value  # type: ignore[return-value]


def _recurrence_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is str:
        problem = rrule_problem(value)
        if problem is not None:
            yield ".rrule", problem
            return
    yield "", f"expected a Recurrence (or the text of an RRULE), got {describe(value)}"


# Loaders building objects without __init__ skip these converters when they change nothing.
for _converter in (_trigger_kind, _anchor, _role, _recurrence):
    identity_when(_converter, "type({v}) is not {str}", str=str)

_RECURRENCE: Final = Check(
    lambda v: v is None or type(v) is Recurrence, _recurrence_explain, types=(Recurrence,)
)


def _forms_explain(value: object) -> Iterator[tuple[str, str]]:
    allowed = ", ".join(repr(f.value) for f in RevisitForm)
    if type(value) is not tuple or not value:
        yield "", f"expected at least one form ({allowed}), got {describe(value)}"
        return
    seen: dict[RevisitForm, int] = {}
    for i, form in enumerate(value):
        if type(form) is not RevisitForm:
            yield f"[{i}]", f"expected a RevisitForm ({allowed}), got {describe(form)}"
        elif form in seen:
            yield f"[{i}]", f"form {form.value!r} is listed twice (also at [{seen[form]}])"
        else:
            seen[form] = i


_FORMS: Final = Check(
    lambda v: (
        type(v) is tuple
        and bool(v)
        and all(type(f) is RevisitForm for f in v)
        and len(set(v)) == len(v)
    ),
    _forms_explain,
)


def _time_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is time:
        yield "", f"expected a local time of day without a zone, got {value.isoformat()}"
    else:
        yield "", f"expected a local time of day such as time(10, 0), got {describe(value)}"


_TIME_OF_DAY: Final = Check(lambda v: type(v) is time and v.tzinfo is None, _time_explain)


def _named(subject: str, name: object, error: ValidationError) -> ValidationError:
    """``error`` with a subject naming the object (``RevisitRule 'vip-monthly'``)."""
    who = f"{subject} {describe(name)}" if type(name) is str else subject
    return ValidationError(who, error.problems, error.problem_count)


# -- triggers -------------------------------------------------------------------------

_TRIGGER_FIELDS: Final = ("business_days", "days", "condition")
_TRIGGER_TAKES: Final[dict[TriggerKind, frozenset[str]]] = {
    TriggerKind.COMPLAINT_SOLVED: frozenset({"business_days"}),
    TriggerKind.PURCHASE: frozenset({"days"}),
    TriggerKind.SURVEY_ANSWERED: frozenset({"condition", "days"}),
    TriggerKind.BIRTHDAY: frozenset(),
}
_TRIGGER_NEEDS: Final[dict[TriggerKind, tuple[str, ...]]] = {
    TriggerKind.COMPLAINT_SOLVED: ("business_days",),
    TriggerKind.PURCHASE: ("days",),
    TriggerKind.SURVEY_ANSWERED: ("condition", "days"),
    TriggerKind.BIRTHDAY: (),
}


@attrs.frozen
class Trigger(Checked):
    """An event that schedules a revisit: a ``kind`` and the fields that kind takes.

    ======================  ==============================================================
    kind                    fields
    ======================  ==============================================================
    ``complaint_solved``    ``business_days`` (0-60): open days of the window after the
                            solve day
    ``purchase``            ``days`` (0-366): calendar days after the purchase
    ``survey_answered``     ``condition`` (over the ``survey`` fact), ``days`` (0-366)
    ``birthday``            none
    ======================  ==============================================================

    Every other field is None; a missing field, or one the kind does not take,
    is refused at construction. Build triggers with the constructors.

    >>> Trigger.complaint_solved().business_days
    3
    >>> Trigger(TriggerKind.PURCHASE)
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid Trigger: days: a purchase trigger needs days
    """

    kind: TriggerKind = attrs.field(
        converter=_trigger_kind, metadata=checked(member_of(TriggerKind))
    )
    business_days: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=0, maximum=60)))
    )
    days: int | None = attrs.field(
        default=None, metadata=checked(optional(integer(minimum=0, maximum=366)))
    )
    condition: Condition | None = attrs.field(
        default=None, metadata=checked(optional(instance(Condition, "a Condition")))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        kind = self.kind
        for name in _TRIGGER_NEEDS[kind]:
            if getattr(self, name) is None:
                yield name, f"a {kind.value} trigger needs {name}"
        takes = _TRIGGER_TAKES[kind]
        for name in _TRIGGER_FIELDS:
            value = getattr(self, name)
            if name not in takes and value is not None:
                taken = ", ".join(sorted(takes)) or "nothing else"
                yield (
                    name,
                    f"a {kind.value} trigger takes no {name} (it takes {taken}), "
                    f"got {describe(value)}",
                )

    @classmethod
    def complaint_solved(cls, business_days: int = 3) -> Trigger:
        """``business_days`` open days of the customer's contact window after the day a
        complaint was solved (at the rule's time of day, or the first open instant after)."""
        return cls(TriggerKind.COMPLAINT_SOLVED, business_days=business_days)

    @classmethod
    def purchase(cls, days: int = 7) -> Trigger:
        """``days`` calendar days after each purchase (``Purchase.purchased_at``)."""
        return cls(TriggerKind.PURCHASE, days=days)

    @classmethod
    def survey_answered(cls, condition: Condition, days: int = 1) -> Trigger:
        """``days`` after a survey response for which ``condition`` holds (it reads the
        ``survey`` fact, e.g. ``Compare("survey.csat", "le", 2)``)."""
        return cls(TriggerKind.SURVEY_ANSWERED, condition=condition, days=days)

    @classmethod
    def birthday(cls) -> Trigger:
        """On the customer's birthday (local date; February 29 -> 28 in other years)."""
        return cls(TriggerKind.BIRTHDAY)


# -- retries --------------------------------------------------------------------------


@attrs.frozen
class RetryPolicy(Checked):
    """How a task that did not reach the customer is tried again.

    After a retryable outcome (no answer, busy, voicemail) or a missed task,
    the next attempt lands ``backoff_windows`` openings of the contact window
    later (the n-th next opening after the attempt's day), on the next allowed
    form when ``alternate_forms``. After ``max_attempts`` attempts (1-20) no
    retry follows.
    """

    max_attempts: int = attrs.field(default=3, metadata=checked(integer(minimum=1, maximum=20)))
    backoff_windows: int = attrs.field(default=1, metadata=checked(integer(minimum=1, maximum=60)))
    alternate_forms: bool = attrs.field(default=True, metadata=checked(boolean))


# -- rules ----------------------------------------------------------------------------

_DEFAULT_RETRY: Final = RetryPolicy()
_MAX_DURATION: Final = timedelta(hours=8)


@attrs.frozen
class RevisitRule(Checked):
    """One rule of a revisit plan (see the module documentation).

    Exactly one of ``recurrence`` (a :class:`Recurrence` or RRULE text) and
    ``trigger``; ``forms`` non-empty and distinct; a rule with the
    questionnaire form names its ``questionnaire``; ``anchor`` ``COMPLETION``
    only with a recurrence; ``duration`` positive, at most 8 hours.

    >>> rule = RevisitRule(
    ...     "vip-monthly", recurrence="FREQ=MONTHLY;BYMONTHDAY=1", forms=["phone"],
    ...     purpose="Monthly VIP care call",
    ... )
    >>> rule.recurrence.rrule, rule.forms
    ('FREQ=MONTHLY;BYMONTHDAY=1', (<RevisitForm.PHONE: 'phone'>,))
    >>> RevisitRule("both", recurrence="FREQ=YEARLY", trigger=Trigger.birthday(),
    ...             forms=["sms"], purpose="Birthday")
    Traceback (most recent call last):
    ...
    csdomain.errors.ValidationError: invalid RevisitRule 'both': trigger: a rule has either a recurrence or a trigger, not both
    """  # noqa: E501

    name: str = attrs.field(metadata=checked(key("rule name")))
    who: Condition = attrs.field(
        default=ALWAYS, kw_only=True, metadata=checked(instance(Condition, "a Condition"))
    )
    recurrence: Recurrence | None = attrs.field(
        default=None, kw_only=True, converter=_recurrence, metadata=checked(_RECURRENCE)
    )
    trigger: Trigger | None = attrs.field(
        default=None, kw_only=True, metadata=checked(optional(instance(Trigger, "a Trigger")))
    )
    anchor: Anchor = attrs.field(
        default=Anchor.DUE, kw_only=True, converter=_anchor, metadata=checked(member_of(Anchor))
    )
    forms: tuple[RevisitForm, ...] = attrs.field(
        kw_only=True, converter=_forms, metadata=checked(_FORMS)
    )
    purpose: str = attrs.field(kw_only=True, metadata=checked(text(max_length=500)))
    script: str | None = attrs.field(
        default=None, kw_only=True, metadata=checked(optional(text(max_length=10_000)))
    )
    questionnaire: str | None = attrs.field(
        default=None, kw_only=True, metadata=checked(optional(key("questionnaire id")))
    )
    group_id: str | None = attrs.field(
        default=None, kw_only=True, metadata=checked(optional(key("group id")))
    )
    role: Role | None = attrs.field(
        default=None, kw_only=True, converter=_role, metadata=checked(optional(member_of(Role)))
    )
    time_of_day: time = attrs.field(
        default=time(10, 0), kw_only=True, metadata=checked(_TIME_OF_DAY)
    )
    retry: RetryPolicy = attrs.field(
        default=_DEFAULT_RETRY,
        kw_only=True,
        metadata=checked(instance(RetryPolicy, "a RetryPolicy")),
    )
    duration: timedelta = attrs.field(
        default=timedelta(minutes=15),
        kw_only=True,
        metadata=checked(duration(allow_zero=False, maximum=_MAX_DURATION)),
    )

    def __attrs_post_init__(self) -> None:
        try:
            super().__attrs_post_init__()
        except ValidationError as error:
            raise _named("RevisitRule", self.name, error) from None

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.recurrence is None and self.trigger is None:
            yield (
                "recurrence",
                "a rule needs a recurrence (an RRULE such as 'FREQ=MONTHLY') or a trigger "
                "(Trigger.complaint_solved(), .purchase(), .survey_answered(), .birthday())",
            )
        elif self.recurrence is not None and self.trigger is not None:
            yield "trigger", "a rule has either a recurrence or a trigger, not both"
        if self.anchor is Anchor.COMPLETION and self.recurrence is None:
            yield (
                "anchor",
                "anchor 'completion' applies to recurrences only; a triggered rule counts "
                "from its event (use Anchor.DUE)",
            )
        if RevisitForm.QUESTIONNAIRE in self.forms and self.questionnaire is None:
            yield (
                "questionnaire",
                "a rule with the questionnaire form needs questionnaire (the id of the "
                "questionnaire whose link is sent)",
            )

    def start(self, starts_on: date) -> datetime:
        """The naive local start of the rule's recurrence in a plan starting ``starts_on``."""
        return datetime.combine(starts_on, self.time_of_day)


# -- plans ----------------------------------------------------------------------------


def _rules(value: Iterable[RevisitRule]) -> tuple[RevisitRule, ...]:
    return tuple_of(value)


def _rules_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not tuple or not value:
        yield "", f"expected at least one RevisitRule, got {describe(value)}"
        return
    for i, rule in enumerate(value):
        if not isinstance(rule, RevisitRule):
            yield f"[{i}]", f"expected a RevisitRule, got {describe(rule)}"


identity_when(_rules, "type({v}) is {tuple}", tuple=tuple)

_RULE_ITEMS: Final = Check(
    lambda v: type(v) is tuple and bool(v) and all(isinstance(r, RevisitRule) for r in v),
    _rules_explain,
)
_UNIQUE_NAMES: Final = unique_by("name", what="rule name")
_RULES: Final = Check(
    lambda v: _RULE_ITEMS.ok(v) and _UNIQUE_NAMES.ok(v),
    lambda v: _RULE_ITEMS.explain(v) if not _RULE_ITEMS.ok(v) else _UNIQUE_NAMES.explain(v),
)


def _canonical(value: object) -> str:
    """A text that two equal configuration values share, in every process (no hash order)."""
    cls = type(value)
    if attrs.has(cls):
        inner = ",".join(
            f"{a.name}={_canonical(getattr(value, a.name))}"
            for a in attrs.fields(cls)
            if a.init and a.eq
        )
        return f"{cls.__qualname__}({inner})"
    if isinstance(value, Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, (frozenset, set)):
        return "{" + ",".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, Mapping):
        items = sorted((_canonical(k), _canonical(v)) for k, v in value.items())
        return "{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return repr(value)


@attrs.frozen
class RevisitPlan(Checked):
    """A named, versioned set of revisit rules and the contact window their tasks land in.

    Rule names are unique in the plan; ``version`` (1 or more) is part of every
    rule's fingerprint (:meth:`fingerprint`), so raising it re-plans every future,
    untouched task of the plan. Recurrences start on ``starts_on``.
    """

    name: str = attrs.field(metadata=checked(key("plan name")))
    rules: tuple[RevisitRule, ...] = attrs.field(
        kw_only=True, converter=_rules, metadata=checked(_RULES)
    )
    window: ContactWindow = attrs.field(
        kw_only=True, metadata=checked(instance(ContactWindow, "a ContactWindow"))
    )
    starts_on: date = attrs.field(kw_only=True, metadata=checked(calendar_date))
    version: int = attrs.field(
        default=1, kw_only=True, metadata=checked(integer(minimum=1, maximum=1_000_000))
    )
    _by_name: dict[str, RevisitRule] = attrs.field(
        init=False, factory=dict, eq=False, hash=False, repr=False
    )
    _fingerprints: dict[str, str] = attrs.field(
        init=False, factory=dict, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        try:
            super().__attrs_post_init__()
        except ValidationError as error:
            raise _named("RevisitPlan", self.name, error) from None
        self._by_name.update((rule.name, rule) for rule in self.rules)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        for index, rule in enumerate(self.rules):
            recurrence = rule.recurrence
            if recurrence is None or "UNTIL" not in recurrence.rrule.upper():
                continue
            start = datetime.combine(self.starts_on, rule.time_of_day)
            # UNTIL bounds the search, so this ends quickly even when nothing is found.
            if recurrence.first(start) is None:
                yield (
                    f"rules[{index}].recurrence",
                    f"rule {rule.name!r} ends ({recurrence.rrule}) before the plan starts on "
                    f"{self.starts_on.isoformat()}: it would never occur",
                )

    def rule(self, name: str) -> RevisitRule:
        """The rule called ``name``; ``NotFoundError`` when the plan has none."""
        found = self._by_name.get(name)
        if found is None:
            names = ", ".join(repr(r.name) for r in self.rules)
            raise NotFoundError("revisit rule", name, f"plan {self.name!r} has {names}")
        return found

    def fingerprint(self, rule_name: str) -> str:
        """A hash of the rule's value and the plan's version (hex, 16 characters): tasks
        made under another fingerprint were made by another version of the rule."""
        found = self._fingerprints.get(rule_name)
        if found is None:
            rule = self.rule(rule_name)
            text = f"{self.name}\x1f{self.version}\x1f{_canonical(rule)}"
            found = hashlib.sha256(text.encode()).hexdigest()[:16]
            self._fingerprints[rule_name] = found
        return found


for _name, _cls in (
    ("revisit_trigger", Trigger),
    ("revisit_retry_policy", RetryPolicy),
    ("revisit_rule", RevisitRule),
    ("revisit_plan", RevisitPlan),
):
    declare_document(_name, _cls)
