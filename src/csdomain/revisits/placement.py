"""Where revisit tasks land: contact windows, consent, rate limits and the minimum gap.

A :class:`ContactWindow` is the part of a revisit plan that says when and how
often a customer may be contacted:

- its ``calendar`` is a **template**: the weekly ranges, holidays and extra
  working days (make-up days, 调休) are read in the *customer's* own IANA zone,
  by the customer's local dates, so a desk in Shanghai and a customer in
  Berlin share one template and the customer is called at 10:00 Berlin time
  on a Berlin working day (the template's own zone is where it is shown; it
  places nothing). :meth:`ContactWindow.calendar_for` builds that calendar
  once per zone and keeps it; daylight saving time is the calendar's business;
- ``quiet_hours`` are local ranges removed from every day's opening: from the
  weekly ranges, from what a partial holiday leaves open and from the hours of
  extra working days (an extra working day left with no hours closes). Text
  such as ``"21:00-08:00"`` (an end before its start) means overnight, the two
  ranges ``21:00-24:00`` and ``00:00-08:00``. A window with no open time left
  at all is a ``ValidationError`` naming the window's calendar;
- ``rate_limits`` (:class:`RateLimit`) bound how many tasks a span holds;
  :data:`WECHAT_48H` is WeChat's customer-service rule as data;
- ``min_gap`` keeps the customer's tasks apart, across every plan.

:func:`place` answers where one task lands for one customer, described by a
:class:`ContactState` (the customer's consent, the other live tasks, the last
inbound messages): a :class:`Placement` or a :class:`Refusal` with its
:class:`RefusalReason`. It is a pure, deterministic function.

Which tasks are live
    A task in state scheduled, in_progress, done or rescheduled is *live*
    (:data:`LIVE_STATES`): it is about to reach the customer, is reaching them
    or has reached them, so it counts for the minimum gap and for rate limits.
    A missed task did not reach the customer and a cancelled one never will,
    so neither counts.

What a rate limit counts
    A limit on a direct form (phone, e-mail, SMS, WeChat) is a limit of that
    form's channels: it counts every live task sent there, questionnaire links
    included (a questionnaire link sent on WeChat is a WeChat message). A
    limit on :attr:`~csdomain.revisits.vocabulary.RevisitForm.QUESTIONNAIRE`
    counts questionnaires only, on whichever channel they went.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any, Final, Protocol

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import (
    INSTANT_END,
    INSTANT_MIN,
    UTC,
    ensure_aware,
    optional_utc,
    to_utc,
    zone_problem,
)
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    duration,
    each,
    enum_member,
    instance,
    instant,
    integer,
    key,
    member_of,
    optional,
    tuple_of,
)
from csdomain.calendars import BusinessCalendar, Holiday, TimeRange
from csdomain.customers import Customer
from csdomain.errors import NotFoundError, ValidationError
from csdomain.revisits.vocabulary import FORM_CHANNELS, RevisitForm, TaskState

__all__ = [
    "LIVE_STATES",
    "WECHAT_48H",
    "ContactState",
    "ContactWindow",
    "LiveTask",
    "Placement",
    "RateLimit",
    "Refusal",
    "RefusalReason",
    "allowed_forms",
    "place",
]

#: The task states that count for the minimum gap and for rate limits.
LIVE_STATES: Final = frozenset(
    {TaskState.SCHEDULED, TaskState.IN_PROGRESS, TaskState.DONE, TaskState.RESCHEDULED}
)

_DAY: Final = 86_400


# -- refusals -------------------------------------------------------------------------


class RefusalReason(Enum):
    """Why :func:`place` found no instant for a task."""

    #: No form of the rule has a contactable contact point (consent given, no
    #: do-not-contact block).
    NO_FORM = "no_form"
    #: There were open instants clear of the customer's other tasks, but every
    #: allowed form was over a rate limit at each of them, up to the horizon.
    RATE_LIMITED = "rate_limited"
    #: The window has no open instant clear of the customer's other tasks before
    #: the end of the horizon.
    BEYOND_HORIZON = "beyond_horizon"


declare_labels(
    RefusalReason,
    {
        RefusalReason.NO_FORM: _mark("revisit refusal", "No consented form"),
        RefusalReason.RATE_LIMITED: _mark("revisit refusal", "Rate limited"),
        RefusalReason.BEYOND_HORIZON: _mark("revisit refusal", "Beyond the horizon"),
    },
)


@attrs.frozen(slots=True)
class Placement:
    """Where a task lands: the instant (UTC), the form and the channel it uses."""

    at: datetime
    form: RevisitForm
    channel: str


@attrs.frozen(slots=True)
class Refusal:
    """Why a task could not be placed: a :class:`RefusalReason` and a sentence saying more."""

    reason: RefusalReason
    detail: str = ""


# -- field helpers --------------------------------------------------------------------


def _form(value: RevisitForm | str) -> RevisitForm:
    return enum_member(RevisitForm, value)


def _overnight(text: str) -> tuple[TimeRange, ...] | None:
    """``"21:00-08:00"`` as ``(21:00-24:00, 00:00-08:00)``; None when it is no such text."""
    bounds = text.split("-")
    if len(bounds) != 2:
        return None
    start, end = (b.strip() for b in bounds)
    try:
        late = TimeRange.parse(f"{start}-24:00")
        early = None if end in ("0:00", "00:00") else TimeRange.parse(f"00:00-{end}")
    except ValidationError:
        return None
    if early is not None and early.end >= late.start:
        return None  # not overnight: an empty range (start == end), left for the check
    return (late,) if early is None else (late, early)


def _quiet_item(item: object) -> tuple[object, ...]:
    if not isinstance(item, str):
        return (item,)
    try:
        return (TimeRange.parse(item),)
    except ValidationError:
        overnight = _overnight(item)
        return (item,) if overnight is None else overnight  # bad text: left for the check


def _quiet_hours(value: Iterable[TimeRange | str]) -> tuple[TimeRange, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(r for item in value for r in _quiet_item(item))  # type: ignore[misc]
    return value  # type: ignore[return-value]  # left for the check to explain


def _quiet_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of TimeRange or 'HH:MM-HH:MM' text, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if isinstance(item, str):
            yield (
                f"[{i}]",
                f"{item!r} is not a time range; expected 'HH:MM-HH:MM' such as '12:00-13:30', "
                "or an overnight range such as '21:00-08:00'",
            )
        elif not isinstance(item, TimeRange):
            yield f"[{i}]", f"expected a TimeRange, got {describe(item)}"


_QUIET: Final = Check(
    lambda v: type(v) is tuple and all(type(r) is TimeRange for r in v), _quiet_explain
)


def _rate_limits(value: Iterable[RateLimit]) -> tuple[RateLimit, ...]:
    return tuple_of(value)


def _without(hours: tuple[TimeRange, ...], quiet: tuple[TimeRange, ...]) -> tuple[TimeRange, ...]:
    """``hours`` with every ``quiet`` range cut out (ranges in order, as the calendar keeps)."""
    pieces = [(r.start, r.end) for r in hours]
    for q in quiet:
        pieces = [
            part
            for s, e in pieces
            for part in ((s, min(e, q.start)), (max(s, q.end), e))
            if part[0] < part[1]
        ]
    if len(pieces) == len(hours) and all(
        (s, e) == (r.start, r.end) for (s, e), r in zip(pieces, hours, strict=True)
    ):
        return hours
    return tuple(TimeRange(start=s, end=e) for s, e in pieces)


def _quieted(calendar: BusinessCalendar, quiet: tuple[TimeRange, ...]) -> BusinessCalendar | None:
    """``calendar`` minus the quiet hours (still in its own zone); None when nothing is open.

    An extra working day whose hours are all quiet becomes a whole-day holiday: its
    hours replace the weekday's, so nothing of that date stays open. A partial
    holiday needs nothing: what it leaves open is cut from the quieted weekly hours.
    """
    if not quiet:
        return calendar
    weekly = tuple(_without(day, quiet) for day in calendar.weekly)
    extras = []
    closed = []
    for extra in calendar.extra_workdays:
        hours = _without(extra.hours, quiet)
        if hours:
            extras.append(extra if hours is extra.hours else attrs.evolve(extra, hours=hours))
        else:
            closed.append(Holiday(extra.date, extra.name))
    if not any(weekly) and not extras:
        return None
    return attrs.evolve(
        calendar,
        weekly=weekly,
        holidays=calendar.holidays + tuple(closed),
        extra_workdays=tuple(extras),
    )


@lru_cache(maxsize=1024)
def _zoned(template: BusinessCalendar, timezone: str) -> BusinessCalendar:
    """The quieted template read in ``timezone``; shared by equal windows."""
    if template.timezone == timezone:
        return template
    return attrs.evolve(template, timezone=timezone)


# -- rate limits ----------------------------------------------------------------------


@attrs.frozen(cache_hash=True)
class RateLimit(Checked):
    """At most ``limit`` tasks on ``form`` within any span of ``per``.

    With ``after_customer_message``, the span is the ``per`` that follows the
    customer's last inbound message on the task's channel: a task is allowed
    only inside it (none without such a message), and at most ``limit`` tasks
    on that channel fall inside it (WeChat's official account and mini
    program each have their own span). :data:`WECHAT_48H` is WeChat's rule for customer-service
    messages. Spans are half-open: two tasks exactly ``per`` apart are not
    within one span.

    What a limit counts is in the module's documentation: a limit on a direct
    form counts every task on its channels, a questionnaire limit counts
    questionnaires.
    """

    form: RevisitForm = attrs.field(converter=_form, metadata=checked(member_of(RevisitForm)))
    limit: int = attrs.field(metadata=checked(integer(minimum=1, maximum=10_000)))
    per: timedelta = attrs.field(metadata=checked(duration(allow_zero=False)))
    after_customer_message: bool = attrs.field(
        default=False, metadata=checked(instance(bool, "true or false"))
    )

    def counts(self, form: RevisitForm, channel: str) -> bool:
        """True when a task of ``form`` on ``channel`` counts against this limit."""
        if form is self.form:
            return True
        return self.form is not RevisitForm.QUESTIONNAIRE and channel in FORM_CHANNELS[self.form]

    def __str__(self) -> str:
        after = " after the customer's last message" if self.after_customer_message else ""
        return f"at most {self.limit} {self.form.value} tasks within {self.per}{after}"


declare_document("rate_limit", RateLimit)

#: WeChat customer-service messages: only within 48 hours after the customer's last
#: inbound WeChat message, and at most 5 in those 48 hours.
WECHAT_48H: Final = RateLimit(RevisitForm.WECHAT, 5, timedelta(hours=48), True)


# -- the contact window ---------------------------------------------------------------


@attrs.frozen(cache_hash=True)
class ContactWindow(Checked):
    """When and how often a plan's customers may be contacted.

    ``calendar`` is a template read in each customer's zone (see the module's
    documentation), ``quiet_hours`` are cut from every day's opening,
    ``rate_limits`` bound the tasks per span and ``min_gap`` (default 7 days,
    zero for none) keeps any two live tasks of a customer, of any plan, apart.
    """

    calendar: BusinessCalendar = attrs.field(
        metadata=checked(instance(BusinessCalendar, "a BusinessCalendar"))
    )
    quiet_hours: tuple[TimeRange, ...] = attrs.field(
        default=(), converter=_quiet_hours, metadata=checked(_QUIET)
    )
    rate_limits: tuple[RateLimit, ...] = attrs.field(
        default=(),
        converter=_rate_limits,
        metadata=checked(each(instance(RateLimit, "a RateLimit"), tuple)),
    )
    min_gap: timedelta = attrs.field(
        default=timedelta(days=7), metadata=checked(duration(allow_zero=True))
    )
    _template: BusinessCalendar | None = attrs.field(
        init=False, default=None, eq=False, hash=False, repr=False
    )
    _zones: dict[str, BusinessCalendar] = attrs.field(
        init=False, factory=dict, eq=False, hash=False, repr=False
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if _quieted(self.calendar, self.quiet_hours) is None:
            quiet = ", ".join(str(r) for r in self.quiet_hours)
            yield (
                "quiet_hours",
                f"the contact window on calendar {self.calendar.name!r} has no open time: "
                f"quiet hours {quiet} cover every opening range of every weekday and extra "
                "working day; leave some opening hours outside the quiet hours",
            )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        template = _quieted(self.calendar, self.quiet_hours)
        assert template is not None  # _check_whole refused a window without open time
        object.__setattr__(self, "_template", template)

    def calendar_for(self, timezone: str) -> BusinessCalendar:
        """The window's calendar read in the IANA zone ``timezone``, quiet hours cut out.

        Built once per zone and kept (equal windows share it), so its index of
        open time is built once too. An unknown zone is a ``ValidationError``.
        """
        found = self._zones.get(timezone)
        if found is None:
            problem = zone_problem(timezone)
            if problem is not None:
                raise ValidationError.single("ContactWindow.calendar_for", "timezone", problem)
            template = self._template
            assert template is not None  # set by __attrs_post_init__
            found = _zoned(template, timezone)
            self._zones[timezone] = found
        return found


declare_document("contact_window", ContactWindow)


# -- what placement knows of a customer -----------------------------------------------


@attrs.frozen
class LiveTask(Checked):
    """A live task of the customer (see :data:`LIVE_STATES`): when, on which form and
    channel, and (optionally) its id, so :meth:`ContactState.without` can set it aside."""

    at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    form: RevisitForm = attrs.field(converter=_form, metadata=checked(member_of(RevisitForm)))
    channel: str = attrs.field(metadata=checked(key("channel key")))
    task_id: str | None = attrs.field(default=None, metadata=checked(optional(key("task id"))))


class TaskLike(Protocol):
    """What :meth:`ContactState.from_tasks` reads of a task (a ``RevisitTask`` has it)."""

    @property
    def id(self) -> str:
        """The task's id."""

    @property
    def state(self) -> TaskState:
        """The task's state."""

    @property
    def due_at(self) -> datetime:
        """When the task is due."""

    @property
    def form(self) -> RevisitForm:
        """The task's form."""

    @property
    def channel(self) -> str:
        """The channel the task uses."""


def _live_tasks(value: Iterable[LiveTask]) -> tuple[LiveTask, ...]:
    # Kept in time order: placement searches them by instant.
    tasks = tuple_of(value)
    if isinstance(tasks, tuple) and all(type(t) is LiveTask for t in tasks):
        return tuple(sorted(tasks, key=_at))
    return tasks


def _at(task: LiveTask) -> datetime:
    return task.at


def _inbound(value: Mapping[str, datetime]) -> dict[str, datetime]:
    if isinstance(value, Mapping):
        return {k: optional_utc(v) for k, v in value.items()}  # type: ignore[misc]
    return value  # left for the check to explain


_CHANNEL_KEY: Final = key("channel key")


def _inbound_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not dict:
        yield "", f"expected a mapping of channel keys to aware datetimes, got {describe(value)}"
        return
    for k, v in value.items():
        for sub, message in _CHANNEL_KEY.explain(k):
            yield f"[{k!r}]{sub}", message
        for sub, message in instant.explain(v):
            yield f"[{k!r}]{sub}", message


_INBOUND: Final = Check(
    lambda v: type(v) is dict and all(_CHANNEL_KEY.ok(k) and instant.ok(t) for k, t in v.items()),
    _inbound_explain,
)


@attrs.frozen(eq=False)
class ContactState(Checked):
    """What placement needs about one customer.

    ``customer`` gives the zone and, through its contact points, consent and
    do-not-contact; ``live_tasks`` are the customer's other live tasks of
    every plan (kept in time order); ``last_inbound`` holds the instant of the
    customer's last inbound message per channel key (for rate limits with
    ``after_customer_message``). Build one from stored tasks with
    :meth:`from_tasks`; :meth:`with_task` and :meth:`without` give the state
    after placing or before moving a task.
    """

    customer: Customer = attrs.field(metadata=checked(instance(Customer, "a Customer")))
    live_tasks: tuple[LiveTask, ...] = attrs.field(
        default=(),
        converter=_live_tasks,
        metadata=checked(each(instance(LiveTask, "a LiveTask"), tuple)),
    )
    last_inbound: Mapping[str, datetime] = attrs.field(
        factory=dict, converter=_inbound, metadata=checked(_INBOUND)
    )
    _instants: tuple[datetime, ...] = attrs.field(init=False, default=(), repr=False)
    _contactable: frozenset[str] = attrs.field(init=False, default=frozenset(), repr=False)
    # (form, channel) choices per tuple of forms: they depend on the customer only, so a
    # state and its successors (with_task, without) share them. Keyed by the tuple's id
    # (a rule's forms are one tuple, and hashing enum members runs Python code); the
    # tuple is kept beside its choices, so the id stays its own while it is a key.
    _choice_memo: dict[int, tuple[tuple[RevisitForm, ...], tuple[tuple[RevisitForm, str], ...]]] = (
        attrs.field(init=False, factory=dict, repr=False)
    )
    # the counted instants per (limit, channel): they depend on the live tasks
    _count_memo: dict[tuple[RateLimit, str | None], tuple[datetime, ...]] = attrs.field(
        init=False, factory=dict, repr=False
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_instants", tuple(t.at for t in self.live_tasks))
        contactable = frozenset(cp.channel for cp in self.customer.contact_points if cp.contactable)
        object.__setattr__(self, "_contactable", contactable)

    @classmethod
    def from_tasks(
        cls,
        customer: Customer,
        tasks: Iterable[TaskLike],
        last_inbound: Mapping[str, datetime] | None = None,
    ) -> ContactState:
        """The state of ``customer`` with the live ones of ``tasks`` (any plan)."""
        live = [
            LiveTask(t.due_at, t.form, t.channel, t.id) for t in tasks if t.state in LIVE_STATES
        ]
        return cls(customer, tuple(live), {} if last_inbound is None else last_inbound)

    @classmethod
    def _from_checked_tasks(
        cls,
        customer: Customer,
        tasks: Iterable[TaskLike],
        last_inbound: Mapping[str, datetime],
    ) -> ContactState:
        """What :meth:`from_tasks` builds, without its checks, for a caller whose values
        are checked already: a loaded ``Customer``, ``RevisitTask`` values loaded from a
        store or built by :mod:`~csdomain.revisits.materialize` (aware due instants,
        forms, channel and task keys), inbound instants read from stored tickets. The
        revisit desk builds one per customer this way; nothing here comes from a caller's
        raw input."""
        live = [
            _live_task(to_utc(t.due_at), t.form, t.channel, t.id)
            for t in tasks
            if t.state in LIVE_STATES
        ]
        if len(live) > 1:
            live.sort(key=_at)
        inbound = {k: to_utc(v) for k, v in last_inbound.items()} if last_inbound else {}
        contactable = frozenset([cp.channel for cp in customer.contact_points if cp.contactable])
        return _state(customer, tuple(live), tuple(t.at for t in live), inbound, contactable, {})

    def with_task(
        self, at: datetime, form: RevisitForm, channel: str, task_id: str | None = None
    ) -> ContactState:
        """This state with one more live task (one just placed)."""
        return self._with_live(LiveTask(at, form, channel, task_id))  # the caller's: checked

    def _with_live(self, added: LiveTask) -> ContactState:
        """:meth:`with_task` of a checked ``LiveTask``."""
        # The other parts are this state's, checked when it was built: the task goes in at
        # its place in time order (after equal instants, as a stable sort puts it) and the
        # customer's choices are shared.
        index = bisect_right(self._instants, added.at)
        return _state(
            self.customer,
            (*self.live_tasks[:index], added, *self.live_tasks[index:]),
            (*self._instants[:index], added.at, *self._instants[index:]),
            self.last_inbound,
            self._contactable,
            self._choice_memo,
        )

    def without(self, task_id: str) -> ContactState:
        """This state without the live task ``task_id`` (the one being moved to a new attempt)."""
        kept = tuple(t for t in self.live_tasks if t.task_id != task_id)
        if len(kept) == len(self.live_tasks):
            return self
        # a part of this state's checked tasks, still in time order
        return _state(
            self.customer,
            kept,
            tuple(t.at for t in kept),
            self.last_inbound,
            self._contactable,
            self._choice_memo,
        )

    def _choices(self, forms: tuple[RevisitForm, ...]) -> tuple[tuple[RevisitForm, str], ...]:
        """(form, channel) pairs to try, in preference order, on contactable channels."""
        found = self._choice_memo.get(id(forms))
        if found is not None and found[0] is forms:
            return found[1]
        contactable = self._contactable
        choices = tuple(
            (form, channel)
            for form in forms
            for channel in FORM_CHANNELS[form]
            if channel in contactable
        )
        self._choice_memo[id(forms)] = (forms, choices)
        return choices

    def _counted(self, limit: RateLimit, channel: str | None = None) -> tuple[datetime, ...]:
        """The instants (in order) of the live tasks ``limit`` counts (on ``channel`` only,
        unless it is None)."""
        memo = (limit, channel)
        found = self._count_memo.get(memo)
        if found is None:
            found = tuple(
                t.at
                for t in self.live_tasks
                if limit.counts(t.form, t.channel) and (channel is None or t.channel == channel)
            )
            self._count_memo[memo] = found
        return found


# Fields are set through the classes' slot descriptors: what object.__setattr__ does for
# a frozen attrs class, without looking the name up on each call.
_new: Final = object.__new__


def _slot_setter(cls: type, name: str) -> Callable[[object, Any], None]:
    setter: Callable[[object, Any], None] = cls.__dict__[name].__set__
    return setter


_set_at = _slot_setter(LiveTask, "at")
_set_form = _slot_setter(LiveTask, "form")
_set_channel = _slot_setter(LiveTask, "channel")
_set_task_id = _slot_setter(LiveTask, "task_id")


def _live_task(at: datetime, form: RevisitForm, channel: str, task_id: str | None) -> LiveTask:
    """A LiveTask of checked values, without ``__init__``'s converters and checks."""
    task: LiveTask = _new(LiveTask)
    _set_at(task, at)
    _set_form(task, form)
    _set_channel(task, channel)
    _set_task_id(task, task_id)
    return task


_set_customer = _slot_setter(ContactState, "customer")
_set_live_tasks = _slot_setter(ContactState, "live_tasks")
_set_last_inbound = _slot_setter(ContactState, "last_inbound")
_set_instants = _slot_setter(ContactState, "_instants")
_set_contactable = _slot_setter(ContactState, "_contactable")
_set_choice_memo = _slot_setter(ContactState, "_choice_memo")
_set_count_memo = _slot_setter(ContactState, "_count_memo")


def _state(
    customer: Customer,
    live_tasks: tuple[LiveTask, ...],
    instants: tuple[datetime, ...],
    last_inbound: Mapping[str, datetime],
    contactable: frozenset[str],
    choices: dict[int, tuple[tuple[RevisitForm, ...], tuple[tuple[RevisitForm, str], ...]]],
) -> ContactState:
    """A ContactState from parts that are checked already (see the callers), without
    ``__init__``: ``live_tasks`` in time order with their ``instants``."""
    state: ContactState = _new(ContactState)
    _set_customer(state, customer)
    _set_live_tasks(state, live_tasks)
    _set_last_inbound(state, last_inbound)
    _set_instants(state, instants)
    _set_contactable(state, contactable)
    _set_choice_memo(state, choices)
    _set_count_memo(state, {})
    return state


# -- placing --------------------------------------------------------------------------


def allowed_forms(forms: Iterable[RevisitForm], customer: Customer) -> tuple[RevisitForm, ...]:
    """The ``forms``, in their order, with at least one contactable contact point on their
    channels (consent given and no do-not-contact block: ``ContactPoint.contactable``)."""
    contactable = {cp.channel for cp in customer.contact_points if cp.contactable}
    return tuple(form for form in forms if any(c in contactable for c in FORM_CHANNELS[form]))


#: A rate-limit verdict: the instant cannot become allowed without a new message.
_NEVER: Final = datetime.max.replace(tzinfo=UTC)


def _blocked_until(
    limit: RateLimit, channel: str, t: datetime, state: ContactState
) -> datetime | None:
    """None when ``limit`` allows a task on ``channel`` at ``t``; else the earliest later
    instant at which it might (``_NEVER``: none without a new inbound message)."""
    per = limit.per
    if limit.after_customer_message:
        # the span follows the last message on this channel and holds its tasks only
        # (a WeChat official account and a mini program each have their own 48 hours)
        message = state.last_inbound.get(channel)
        if message is None or t >= message + per:
            return _NEVER
        if t < message:
            return message
        counted = state._counted(limit, channel)
        inside = bisect_left(counted, message + per) - bisect_left(counted, message)
        return None if inside < limit.limit else _NEVER
    # Blocked when t and `limit` other tasks lie within less than `per` of each other:
    # a run of `limit` consecutive counted instants around t's place spans, with t,
    # less than per. Each such run blocks until its earliest instant + per.
    counted = state._counted(limit)
    n = limit.limit
    p = bisect_right(counted, t)
    until: datetime | None = None
    for first in range(max(p - n, 0), min(p, len(counted) - n) + 1):
        run_first = counted[first]
        run_last = counted[first + n - 1]
        low = run_first if run_first < t else t
        high = run_last if run_last > t else t
        if high - low < per:
            release = run_first + per
            if until is None or release > until:
                until = release
    return until


def _aware(value: object, where: str, path: str) -> datetime:
    """``ensure_aware(value, where, path)``, the common case (an accepted UTC instant)
    answered without a call (the revisit engine checks several instants per task)."""
    if type(value) is datetime and value.tzinfo is UTC and INSTANT_MIN <= value < INSTANT_END:
        return value
    return ensure_aware(value, where, path)


def place(
    nominal: datetime,
    *,
    forms: tuple[RevisitForm, ...],
    window: ContactWindow,
    state: ContactState,
    earliest: datetime | None = None,
    horizon_end: datetime,
) -> Placement | Refusal:
    """Where a task due at ``nominal`` lands for the customer of ``state``.

    The first instant at or after ``max(nominal, earliest)`` and before
    ``horizon_end`` that is open in ``window.calendar_for(customer zone)``, at
    least ``window.min_gap`` from every live task of ``state`` and on which some
    form of ``forms`` is allowed: the first such form (and the first of its
    channels) that has a contactable contact point and is within every rate
    limit of the window. Otherwise a :class:`Refusal`: ``NO_FORM`` when no form
    has a contactable contact point, ``RATE_LIMITED`` when open, clear instants
    existed but every form was over a limit at each, ``BEYOND_HORIZON`` when no
    open instant clear of the other tasks came before ``horizon_end``.
    """
    start = _aware(nominal, "place", "nominal")
    if earliest is not None and _aware(earliest, "place", "earliest") > start:
        start = earliest
    end = _aware(horizon_end, "place", "horizon_end")
    choices = state._choices(forms if type(forms) is tuple else tuple(forms))
    if not choices:
        shown = ", ".join(f.value for f in forms) or "none"
        return Refusal(
            RefusalReason.NO_FORM,
            f"customer {state.customer.id} has no contactable contact point for the forms "
            f"{shown} (consent given and no do-not-contact block)",
        )
    calendar = window.calendar_for(state.customer.timezone)
    gap = window.min_gap
    instants = state._instants
    limits = window.rate_limits
    rate_limited = False
    t = start
    while t < end:
        try:
            t = calendar.next_open(t)
        except NotFoundError:
            break
        if t >= end:
            break
        if gap and instants:
            lo = bisect_right(instants, t - gap)
            hi = bisect_left(instants, t + gap, lo)
            if lo < hi:  # too close to a task: the first instant clear of it, then reopen
                t = instants[hi - 1] + gap
                continue
        if not limits:
            form, channel = choices[0]
            return Placement(t, form, channel)
        release = _NEVER
        for form, channel in choices:
            until: datetime | None = None
            for limit in limits:
                if limit.counts(form, channel):
                    blocked = _blocked_until(limit, channel, t, state)
                    if blocked is not None and (until is None or blocked > until):
                        until = blocked
            if until is None:
                return Placement(t, form, channel)
            if until < release:
                release = until
        rate_limited = True
        if release is _NEVER:
            break
        t = release
    if rate_limited:
        return Refusal(
            RefusalReason.RATE_LIMITED,
            f"every allowed form for customer {state.customer.id} was over a rate limit "
            f"({'; '.join(str(r) for r in limits)}) at each open instant up to "
            f"{end.isoformat()}",
        )
    return Refusal(
        RefusalReason.BEYOND_HORIZON,
        f"no instant open in the contact window on calendar {window.calendar.name!r} and at "
        f"least {gap} from customer {state.customer.id}'s other tasks between "
        f"{start.isoformat()} and {end.isoformat()}",
    )
