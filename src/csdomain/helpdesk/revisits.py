"""Revisits (回访) at the desk: the store-backed service over the pure revisit engine.

:class:`RevisitDesk` is a :class:`~csdomain.helpdesk.DeskExtension`. Given to a
:class:`~csdomain.helpdesk.HelpDesk` it keeps revisit tasks in the declared
collection ``revisit_tasks`` and

* materializes its plans for every stored customer, a keyset page of customers
  per unit of work (never all customers at once), idempotently: the task keys are
  deterministic, so a second run over the same store and clock creates nothing;
* runs the task lifecycle (start, complete with an outcome, miss, cancel, assign),
  each command in one unit of work retried on a conflict: two agents completing
  one task make one outcome, the other gets a typed refusal;
* opens a ticket, in the same unit of work, for an outcome *reached with an issue*,
  and links it to the task; plans the next attempt of a retryable outcome or a
  missed task by the rule's retry policy;
* follows the desk's changes: a complaint solved schedules its follow-ups (one per
  complaint and rule: the key comes from the ticket), a reopened ticket cancels the
  live tasks it caused, an erased customer or a withdrawn consent cancels the
  customer's future tasks, a survey answered (a change from the ``"surveys"``
  extension) schedules the tasks of matching survey rules;
* sweeps: a task not started by the close of its window day is missed, and gets
  its next attempt;
* answers the agenda of an agent or a group for a day, the overdue tasks, a
  customer's and a plan's tasks (keyset pages), and the tracking figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import attrs

from csdomain._kernel.time import ensure_aware, zone_problem
from csdomain.clock import Clock
from csdomain.conditions import Facts
from csdomain.customers import Customer
from csdomain.errors import NotFoundError, ValidationError
from csdomain.helpdesk.extensions import DeskChange
from csdomain.helpdesk.schedule import UNSOLVED
from csdomain.revisits.agenda import AGENDA_COLUMNS, AgendaEntry
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.events import TaskEventKind
from csdomain.revisits.history import CustomerHistory
from csdomain.revisits.materialize import materialize, trigger_task
from csdomain.revisits.placement import ContactState, Refusal
from csdomain.revisits.plans import RevisitPlan, RevisitRule, TriggerKind
from csdomain.revisits.tasks import RevisitTask, next_attempt
from csdomain.revisits.tracking import RevisitFigures, RevisitFiguresResult
from csdomain.revisits.vocabulary import FORM_CHANNELS, CancelReason, Outcome, TaskState
from csdomain.storage import Page, Stored
from csdomain.storage.erasure import ERASURES
from csdomain.tickets import Actor, MessageAdded, Status, StatusChanged, Ticket, TicketKind

if TYPE_CHECKING:
    from csdomain.helpdesk.service import HelpDesk
    from csdomain.storage import DocumentRepository

__all__ = ["MaterializeReport", "RevisitDesk"]

#: Tasks still to be done: what the agenda shows and what cancellations reach.
_LIVE: Final = (TaskState.SCHEDULED, TaskState.RESCHEDULED, TaskState.IN_PROGRESS)
_LIVE_VALUES: Final = tuple(sorted(s.value for s in _LIVE))
#: Tasks waiting for an agent to start them: they can be overdue, and missed.
_WAITING_VALUES: Final = tuple(
    sorted(s.value for s in (TaskState.SCHEDULED, TaskState.RESCHEDULED))
)
#: How many tasks a query reads per page inside the desk (the storage maximum).
_READ_PAGE: Final = 1_000
#: The most customers one materializing unit of work handles (``page_size``).
_UNIT_MAX: Final = 10_000
#: How many customers one ``by_customer`` query asks for (as many as the desk read
#: per unit before units could be larger; see ``_tasks_by_customer``).
_CUSTOMERS_PER_QUERY: Final = 500
_UTC: Final = ZoneInfo("UTC")


@attrs.frozen
class MaterializeReport:
    """What one :meth:`RevisitDesk.materialize` run did.

    ``customers`` counts the customers looked at, ``created`` the tasks stored,
    ``cancelled`` the future untouched tasks cancelled because their rule changed,
    went away or no longer applies (``PLAN_CHANGED``), ``refused`` the occurrences
    that found no place (no consented form, rate limited, beyond the horizon) and
    ``kept`` the customers' tasks of the plans that were already stored and stay,
    ``skipped`` the customers left alone because a stored task of theirs cannot be read
    (:class:`~csdomain.errors.CorruptRecordError`; repair it and run again).
    A second run on the same store at the same instant creates and cancels nothing.
    """

    customers: int
    created: int
    cancelled: int
    refused: int
    kept: int
    pages: int = 0
    skipped: int = 0


def _positive(owner: str, name: str, value: object, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValidationError.single(
            owner, name, f"expected an integer from 1 to {high}, got {value!r}"
        )
    return value


class RevisitDesk:
    """The revisit plans of a desk and their tasks in its store (a desk extension).

    ``plans`` are the :class:`~csdomain.revisits.RevisitPlan` values to run (names
    unique); ``clock`` defaults to the desk's; ``page_size`` is how many customers
    one materializing unit of work handles (1 to 10,000, default 5,000; they are read
    in storage pages of at most 1,000). A unit's new tasks go in one commit, which
    writes every index page they touch once (the tasks of a unit fall all over the
    horizon, so they touch most pages of the indexes ordered by due instant): larger
    units write fewer pages per task (inserting the benchmark's 125,948 tasks took
    SQLite a third of the time per task in units of 5,000 customers as in units of
    500), and hold the store's write lock longer (SQLite's for the unit's whole time,
    about 0.1 s per thousand customers on the benchmark's machine) and more customers
    and tasks in memory at once (about 20 MB at 5,000).
    """

    name: Final = "revisits"

    def __init__(
        self,
        plans: Sequence[RevisitPlan],
        *,
        clock: Clock | None = None,
        page_size: int = 5_000,
    ) -> None:
        plans = tuple(plans)
        names: set[str] = set()
        for index, plan in enumerate(plans):
            if not isinstance(plan, RevisitPlan):
                raise ValidationError.single(
                    "RevisitDesk", f"plans[{index}]", f"expected a RevisitPlan, got {plan!r}"
                )
            if plan.name in names:
                raise ValidationError.single(
                    "RevisitDesk",
                    f"plans[{index}]",
                    f"two plans are named {plan.name!r}; plan names must be unique",
                )
            names.add(plan.name)
        self._plans: tuple[RevisitPlan, ...] = plans
        self._by_name: dict[str, RevisitPlan] = {p.name: p for p in plans}
        self._clock = clock
        self._page_size = _positive("RevisitDesk", "page_size", page_size, _UNIT_MAX)
        self._desk: HelpDesk | None = None
        self._tasks_repo: DocumentRepository[RevisitTask] | None = None
        # Channels whose rate limits count from the customer's last inbound message.
        self._inbound_channels = frozenset(
            channel
            for plan in plans
            for limit in plan.window.rate_limits
            if limit.after_customer_message
            for channel in FORM_CHANNELS[limit.form]
        )

    # -- the extension protocol ---------------------------------------------------------

    def attach(self, desk: HelpDesk) -> None:
        """Keep the desk and open the ``revisit_tasks`` collection in its store."""
        if self._desk is not None and self._desk is not desk:
            raise ValidationError.single(
                "RevisitDesk", "desk", "this RevisitDesk is attached to another desk already"
            )
        self._desk = desk
        self._tasks_repo = desk.store.collection(REVISIT_TASKS)

    @property
    def desk(self) -> HelpDesk:
        """The desk this extension is attached to."""
        if self._desk is None:
            raise ValidationError.single(
                "RevisitDesk",
                "desk",
                "not attached to a desk; pass it to HelpDesk(..., extensions=[...]) first",
            )
        return self._desk

    @property
    def plans(self) -> tuple[RevisitPlan, ...]:
        """The plans this desk runs."""
        return self._plans

    def plan(self, name: str) -> RevisitPlan:
        """The plan called ``name``; ``NotFoundError`` naming the desk's plans if none."""
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise NotFoundError(
                "revisit plan", str(name), f"the desk has: {', '.join(self._by_name) or 'none'}"
            ) from None

    @property
    def _tasks(self) -> DocumentRepository[RevisitTask]:
        self.desk  # noqa: B018 - raises when not attached
        assert self._tasks_repo is not None
        return self._tasks_repo

    def _now(self, after: datetime | None = None) -> datetime:
        if self._clock is None:
            return self.desk.now(after)
        now = ensure_aware(self._clock.now(), "RevisitDesk", "clock.now()")
        return now if after is None or now >= after else after

    def _at(self, value: datetime | None, name: str) -> datetime:
        return self._now() if value is None else ensure_aware(value, "RevisitDesk", name)

    def observe(self, change: DeskChange) -> None:
        """Follow a desk change (inside its unit of work): complaints solved and tickets
        reopened, customers changed or erased, surveys answered."""
        if change.source == "ticket" and change.ticket is not None:
            self._ticket_changed(change.before, change.ticket, change.events, change.at)
        elif change.source == "customer" and change.customer_id is not None:
            self._cancel_uncontactable(change.customer_id, change.at)
        elif change.source in ("surveys", "survey"):
            self._survey_answered(change)

    def sweep(
        self, now: datetime, *, worker: str, batch: int, lease: timedelta
    ) -> Mapping[str, int]:
        """Mark missed the waiting tasks not started by the close of their window day,
        and plan their next attempts; returns ``{"missed": n, "rescheduled": m,
        "unreadable": u}`` (``unreadable``: damaged stored tasks, skipped and left for
        repair, so that one of them does not stop the rest).

        Each batch of tasks is changed in a unit of work of its own; workers racing on
        one task conflict and the loser, run again, finds it no longer due.
        """
        at = ensure_aware(now, "RevisitDesk.sweep", "now")
        size = _positive("RevisitDesk.sweep", "batch", batch, _READ_PAGE)
        missed = rescheduled = 0
        unreadable: list[str] = []
        cursor: str | None = None
        while True:
            page = self._tasks.select(
                {"state": _WAITING_VALUES},
                "due_at",
                high=at,
                limit=size,
                cursor=cursor,
                unreadable=unreadable,
            )
            zones = self._zones({s.value.customer_id for s in page.items})
            ids = [s.value.id for s in page.items if self._window_closed(s.value, at, zones)]
            if ids:
                counts = self.desk.run_unit(partial(self._miss_batch, ids, at, zones))
                missed += counts[0]
                rescheduled += counts[1]
            if page.next_cursor is None:
                return {
                    "missed": missed,
                    "rescheduled": rescheduled,
                    "unreadable": len(unreadable),
                }
            cursor = page.next_cursor

    # -- materializing -------------------------------------------------------------------

    def materialize(
        self,
        horizon_days: int = 90,
        *,
        now: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> MaterializeReport:
        """Create the tasks every plan asks for from ``now`` to ``horizon_days`` later,
        for every stored customer, and cancel future untouched tasks whose rule changed.

        Customers are read ``page_size`` at a time (keyset order, in storage pages of
        at most 1,000); each such page's existing tasks come from ``by_customer``
        queries, and its new tasks and cancellations are stored in one unit of work
        (retried on a conflict: two runs at once create each task once).
        ``progress(done, total)`` is called after each page (``total`` counted at the
        start). Erased customers get no task.
        """
        _positive("RevisitDesk.materialize", "horizon_days", horizon_days, 3_660)
        at = self._at(now, "now")
        horizon = (at, at + timedelta(days=horizon_days))
        customers = self.desk.store.customers
        total = customers.count()
        size = self._page_size
        done = created = cancelled = refused = kept = pages = skipped = 0
        cursor: str | None = None
        more = True
        while more:
            values: list[Customer] = []
            while len(values) < size:
                page = customers.list(limit=min(size - len(values), _READ_PAGE), cursor=cursor)
                values.extend(s.value for s in page.items)
                cursor = page.next_cursor
                if cursor is None:
                    more = False
                    break
            if values:
                counts = self.desk.run_unit(partial(self._materialize_page, values, horizon))
                created += counts[0]
                cancelled += counts[1]
                refused += counts[2]
                kept += counts[3]
                skipped += counts[4]
                done += len(values)
                pages += 1
                if progress is not None:
                    progress(done, total)
        return MaterializeReport(done, created, cancelled, refused, kept, pages, skipped)

    def _materialize_page(
        self, customers: list[Customer], horizon: tuple[datetime, datetime]
    ) -> tuple[int, int, int, int, int]:
        now = horizon[0]
        ids = [c.id for c in customers]
        erased = set(self.desk.store.collection(ERASURES).get_many(ids))
        existing, damaged = self._readable_tasks_by_customer(ids)
        inbound = self._last_inbound(customers)
        new: list[RevisitTask] = []
        cancels: list[tuple[Stored[RevisitTask], CancelReason]] = []
        refused = kept = 0
        for customer in customers:
            if customer.id in erased or customer.id in damaged:
                continue
            stored = existing.get(customer.id, [])
            by_key = {s.value.id: s for s in stored}
            tasks = [s.value for s in stored]
            history = self._history(customer, tasks, now)
            last = inbound.get(customer.id, {})
            # Built from checked values (the loaded customer and tasks, instants of stored
            # tickets), so without checking them again; once per customer, and again for
            # a next plan only when this one changed the customer's tasks.
            state = ContactState._from_checked_tasks(customer, tasks, last)
            for index, plan in enumerate(self._plans, 1):
                mine = [t for t in tasks if t.plan == plan.name]
                result = materialize(
                    plan,
                    customer,
                    history=history,
                    state=state,
                    existing=mine,
                    horizon=horizon,
                    now=now,
                )
                gone = {key for key, _ in result.cancel}
                kept += result.kept
                new.extend(result.new)
                tasks.extend(result.new)  # the next plan keeps its gap from these
                refused += len(result.refused)
                for key, reason in result.cancel:
                    cancels.append((by_key[key], reason))
                if gone:
                    tasks = [t for t in tasks if t.id not in gone]
                if (result.new or gone) and index < len(self._plans):
                    state = ContactState._from_checked_tasks(customer, tasks, last)
        if new:
            # In key order (the keys are hashes): SQLite's primary-key index takes them with
            # fewer page misses, about a fifth less insert time on a page of tasks.
            new.sort(key=_task_id)
            self._tasks.add_many(new)
        for stored_task, reason in cancels:
            self._tasks.save(
                stored_task.value.cancel(reason, self._after(stored_task.value, now)),
                expected_version=stored_task.version,
            )
        return len(new), len(cancels), refused, kept, len(damaged)

    def _tasks_by_customer(
        self, ids: Sequence[str], unreadable: list[str] | None = None
    ) -> dict[str, list[Stored[RevisitTask]]]:
        found: dict[str, list[Stored[RevisitTask]]] = defaultdict(list)
        # A few hundred customers per query: one query over a whole unit would sort all
        # their tasks again for every page of 1,000 it reads.
        for first in range(0, len(ids), _CUSTOMERS_PER_QUERY):
            where = {"customer_id": tuple(ids[first : first + _CUSTOMERS_PER_QUERY])}
            for stored in self._each(self._tasks, "by_customer", where, unreadable):
                found[stored.value.customer_id].append(stored)
        return found

    def _readable_tasks_by_customer(
        self, ids: Sequence[str]
    ) -> tuple[dict[str, list[Stored[RevisitTask]]], set[str]]:
        """The page's tasks by customer, and the customers one of whose stored tasks
        cannot be read (their tasks are incomplete: they are left alone this run). A
        damaged row does not say whose it is, so the page is read again a customer at a
        time only when it holds one."""
        unreadable: list[str] = []
        found = self._tasks_by_customer(ids, unreadable)
        if not unreadable:
            return found, set()
        damaged: set[str] = set()
        for customer_id in ids:
            own: list[str] = []
            found[customer_id] = self._tasks_by_customer([customer_id], own)[customer_id]
            if own:
                damaged.add(customer_id)
        return found, damaged

    @staticmethod
    def _each(
        repository: DocumentRepository[RevisitTask],
        query: str,
        where: Mapping[str, Any],
        unreadable: list[str] | None = None,
    ) -> Iterator[Stored[RevisitTask]]:
        cursor: str | None = None
        while True:
            page = repository.find(
                query, where=where, limit=_READ_PAGE, cursor=cursor, unreadable=unreadable
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    @staticmethod
    def _history(
        customer: Customer, tasks: Sequence[RevisitTask], now: datetime
    ) -> CustomerHistory:
        """The customer's history as of ``now``: the last contact is the last reached
        revisit before ``now``."""
        reached = [
            event.at
            for task in tasks
            for event in task.timeline
            if event.kind is TaskEventKind.COMPLETED
            and event.outcome is not None
            and event.outcome.reached
            and event.at <= now
        ]
        return CustomerHistory(
            customer=customer, as_of=now, last_contact_at=max(reached, default=None)
        )

    @staticmethod
    def _state(
        customer: Customer, tasks: Sequence[RevisitTask], inbound: Mapping[str, datetime]
    ) -> ContactState:
        return ContactState.from_tasks(customer, tasks, inbound)

    def _last_inbound(self, customers: Sequence[Customer]) -> dict[str, dict[str, datetime]]:
        """The instant of each customer's last message on each channel whose rate limits
        count from it (read from the customer's tickets only when a plan has such a
        limit and the customer can be reached there)."""
        if not self._inbound_channels:
            return {}
        tickets = self.desk.store.tickets
        found: dict[str, dict[str, datetime]] = {}
        for customer in customers:
            if not any(customer.contactable_on(c) for c in self._inbound_channels):
                continue
            last: dict[str, datetime] = {}
            cursor: str | None = None
            while True:
                page = tickets.list(customer_id=customer.id, limit=200, cursor=cursor)
                for stored in page.items:
                    _inbound_of(stored.value, self._inbound_channels, last)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            found[customer.id] = last
        return found

    # -- the lifecycle ---------------------------------------------------------------------

    def task(self, task_id: str) -> RevisitTask:
        """The stored task ``task_id`` (``NotFoundError`` if there is none)."""
        return self._tasks.get(task_id).value

    @staticmethod
    def _after(task: RevisitTask, now: datetime) -> datetime:
        """``now``, or the task's last change when a clock is behind it (the timeline
        stays in time order)."""
        last = task.updated_at
        return now if now >= last else last

    def _command(
        self,
        task_id: str,
        change: Callable[[RevisitTask, datetime], tuple[RevisitTask, Ticket | None]],
    ) -> RevisitTask:
        def work() -> RevisitTask:
            stored = self._tasks.get(task_id)
            at = self._now(stored.value.updated_at)
            changed, ticket = change(stored.value, at)
            if changed is stored.value:
                return changed
            self._tasks.save(changed, expected_version=stored.version)
            self.desk.publish(
                DeskChange(
                    source=self.name,
                    at=at,
                    ticket=ticket,
                    customer_id=changed.customer_id,
                    events=tuple(changed.timeline[len(stored.value.timeline) :]),
                    subject=changed,
                )
            )
            return changed

        return self.desk.run_unit(work)

    def _agent(self, agent_id: str) -> str:
        self.desk.setup.agent(agent_id)
        return agent_id

    def start(self, task_id: str, agent_id: str) -> RevisitTask:
        """Agent ``agent_id`` starts the task (it must be scheduled or rescheduled)."""
        self._agent(agent_id)
        return self._command(task_id, lambda task, at: (task.start(agent_id, at), None))

    def assign(self, task_id: str, agent_id: str) -> RevisitTask:
        """Give the task to agent ``agent_id`` (it shows on the agent's agenda)."""
        self._agent(agent_id)
        return self._command(task_id, lambda task, at: (task.assign(agent_id, at), None))

    def complete(
        self,
        task_id: str,
        outcome: Outcome,
        *,
        agent_id: str,
        note: str | None = None,
        ticket_kind: TicketKind | None = None,
    ) -> RevisitTask:
        """Record the outcome of the task's attempt by agent ``agent_id`` (a task not
        started yet is started by them first).

        ``REACHED_WITH_ISSUE`` opens a ticket for the customer in the same unit of
        work (subject: the task's purpose; description: ``note``; channel: the task's;
        kind: ``ticket_kind``, else a complaint for a complaint's follow-up and an
        after-sales ticket otherwise) and links it to the task. A retryable outcome
        (no answer, busy, voicemail) plans the next attempt when the rule's retry
        policy allows one. A cancelled or finished task refuses with
        ``InvalidTransitionError`` and nothing changes.
        """
        if not isinstance(outcome, Outcome):
            raise ValidationError.single(
                "RevisitDesk.complete",
                "outcome",
                f"expected an Outcome ({', '.join(o.value for o in Outcome)}), got {outcome!r}",
            )
        if ticket_kind is not None and not isinstance(ticket_kind, TicketKind):
            raise ValidationError.single(
                "RevisitDesk.complete",
                "ticket_kind",
                f"expected a TicketKind ({', '.join(k.value for k in TicketKind)}), "
                f"got {ticket_kind!r}",
            )
        self._agent(agent_id)

        def change(task: RevisitTask, at: datetime) -> tuple[RevisitTask, Ticket | None]:
            if task.state in (TaskState.SCHEDULED, TaskState.RESCHEDULED):
                task = task.start(agent_id, at)
            done = task.complete(outcome, at, note=note, agent_id=agent_id)
            ticket = None
            if outcome is Outcome.REACHED_WITH_ISSUE:
                ticket = self._open_ticket(done, note, ticket_kind)
                done = done.link_ticket(ticket.id, at)
            elif outcome.retryable:
                done = self._retry(done, at)
            return done, ticket

        return self._command(task_id, change)

    def miss(self, task_id: str) -> RevisitTask:
        """The task's attempt was missed: plan the next one if the retry policy allows."""
        return self._command(task_id, lambda task, at: (self._retry(task.miss(at), at), None))

    def cancel(self, task_id: str, reason: CancelReason = CancelReason.BY_AGENT) -> RevisitTask:
        """Cancel the task (``InvalidTransitionError`` once it is done or cancelled)."""
        if not isinstance(reason, CancelReason):
            raise ValidationError.single(
                "RevisitDesk.cancel",
                "reason",
                f"expected a CancelReason ({', '.join(r.value for r in CancelReason)}), "
                f"got {reason!r}",
            )
        return self._command(task_id, lambda task, at: (task.cancel(reason, at), None))

    def _rule_of(self, task: RevisitTask) -> tuple[RevisitPlan, RevisitRule] | None:
        plan = self._by_name.get(task.plan)
        if plan is None:
            return None
        try:
            return plan, plan.rule(task.rule)
        except (LookupError, ValueError):
            return None

    def _open_ticket(self, task: RevisitTask, note: str | None, kind: TicketKind | None) -> Ticket:
        found = self._rule_of(task)
        if kind is None:
            trigger = found[1].trigger if found is not None else None
            complaint = trigger is not None and trigger.kind is TriggerKind.COMPLAINT_SOLVED
            kind = TicketKind.COMPLAINT if complaint else TicketKind.AFTER_SALES
        opened = self.desk.open_ticket_for(
            task.customer_id,
            channel=task.channel,
            subject=task.purpose,
            description=note,
            kind=kind,
            tags=("revisit",),
        )
        return opened.value

    def _retry(self, task: RevisitTask, at: datetime) -> RevisitTask:
        """``task`` with its next attempt planned, when its rule's retry policy gives one."""
        found = self._rule_of(task)
        if found is None:
            return task
        plan, rule = found
        customer = self.desk.store.customers.get(task.customer_id).value
        # next_attempt sets the task itself aside from the state.
        others = [
            s.value
            for s in self._each(self._tasks, "by_customer", {"customer_id": task.customer_id})
        ]
        inbound = self._last_inbound([customer]).get(customer.id, {})
        state = self._state(customer, others, inbound)
        attempt = next_attempt(task, rule.retry, plan.window, state, at)
        if attempt is None:
            return task
        return task.reschedule(attempt.due_at, attempt.form, at, channel=attempt.channel)

    # -- following the desk ------------------------------------------------------------------

    def _ticket_changed(
        self, before: Ticket | None, after: Ticket, events: Sequence[object], at: datetime
    ) -> None:
        was = before.status if before is not None else None
        if after.status is Status.SOLVED and was is not Status.SOLVED:
            if after.kind is TicketKind.COMPLAINT:
                solved_at = next(
                    (
                        e.at
                        for e in reversed(events)
                        if isinstance(e, StatusChanged) and e.new is Status.SOLVED
                    ),
                    at,
                )
                self._complaint_solved(after, solved_at)
        elif was is Status.SOLVED and after.status in UNSOLVED:
            self._cancel_live(
                after.customer_id,
                at,
                lambda task: task.cause == after.id,
                lambda task: CancelReason.TICKET_REOPENED,
            )

    def _complaint_solved(self, ticket: Ticket, at: datetime) -> None:
        rules = [
            (plan, rule)
            for plan in self._plans
            for rule in plan.rules
            if rule.trigger is not None and rule.trigger.kind is TriggerKind.COMPLAINT_SOLVED
        ]
        if rules:
            self._triggered(ticket.customer_id, rules, cause=ticket.id, at=at, facts={})

    def _survey_answered(self, change: DeskChange) -> None:
        response = change.subject
        customer_id = getattr(response, "customer_id", None)
        response_id = getattr(response, "id", None)
        # Only a response (it was answered) triggers; invitations sent or voided do not.
        answered = getattr(response, "answered_at", None)
        if not isinstance(customer_id, str) or not isinstance(response_id, str):
            return
        if not isinstance(answered, datetime):
            return
        facts = Facts(survey=response)
        rules = [
            (plan, rule)
            for plan in self._plans
            for rule in plan.rules
            if rule.trigger is not None
            and rule.trigger.kind is TriggerKind.SURVEY_ANSWERED
            and rule.trigger.condition is not None
            and rule.trigger.condition.holds(facts)
        ]
        if rules:
            self._triggered(
                customer_id, rules, cause=response_id, at=answered, facts={"survey": response}
            )

    def _triggered(
        self,
        customer_id: str,
        rules: Sequence[tuple[RevisitPlan, RevisitRule]],
        *,
        cause: str,
        at: datetime,
        facts: Mapping[str, object],
    ) -> None:
        """Schedule the tasks of event-triggered ``rules`` whose ``who`` holds for the
        customer, each once (its key comes from ``cause``)."""
        stored_customer = self.desk.store.customers.get_many([customer_id]).get(customer_id)
        if stored_customer is None:
            return
        customer = stored_customer.value
        if self.desk.store.collection(ERASURES).get_many([customer_id]):
            return
        tasks = [
            s.value for s in self._each(self._tasks, "by_customer", {"customer_id": customer_id})
        ]
        history = self._history(customer, tasks, at)
        who = Facts(customer=customer, history=history, **facts)
        inbound = self._last_inbound([customer]).get(customer_id, {})
        new: list[RevisitTask] = []
        for plan, rule in rules:
            if not rule.who.holds(who):
                continue
            state = self._state(customer, tasks, inbound)
            result = trigger_task(
                plan,
                rule,
                customer,
                cause=cause,
                at=at,
                state=state,
                existing=[t for t in tasks if t.plan == plan.name],
            )
            if isinstance(result, Refusal):
                continue
            if any(t.id == result.id for t in tasks):
                continue  # scheduled already (a re-solve after a reopen, a retried change)
            new.append(result)
            tasks.append(result)
        if new:
            self._tasks.add_many(new)

    def customer_changed(self, customer_id: str) -> int:
        """Cancel the customer's future tasks that may no longer happen: every one when
        the customer was erased (``ERASED``), those on a channel without consent (or
        marked do-not-contact) now (``CONSENT_WITHDRAWN``). Returns how many; one unit
        of work. The desk calls this itself on :meth:`HelpDesk.update_customer` and
        :meth:`HelpDesk.erase_customer`."""
        return self.desk.run_unit(lambda: self._cancel_uncontactable(customer_id, self._now()))

    def _cancel_uncontactable(self, customer_id: str, at: datetime) -> int:
        erased = bool(self.desk.store.collection(ERASURES).get_many([customer_id]))
        stored = self.desk.store.customers.get_many([customer_id]).get(customer_id)
        if erased or stored is None:
            return self._cancel_live(
                customer_id, at, lambda task: True, lambda task: CancelReason.ERASED
            )
        customer = stored.value
        return self._cancel_live(
            customer_id,
            at,
            lambda task: not customer.contactable_on(task.channel),
            lambda task: CancelReason.CONSENT_WITHDRAWN,
        )

    def _cancel_live(
        self,
        customer_id: str,
        at: datetime,
        which: Callable[[RevisitTask], bool],
        reason: Callable[[RevisitTask], CancelReason],
    ) -> int:
        live = [
            s
            for s in self._each(self._tasks, "by_customer", {"customer_id": customer_id})
            if s.value.state in _LIVE and which(s.value)
        ]
        for stored in live:
            task = stored.value
            self._tasks.save(
                task.cancel(reason(task), self._after(task, at)), expected_version=stored.version
            )
        return len(live)

    # -- sweeping ------------------------------------------------------------------------------

    def _window_closed(
        self, task: RevisitTask, now: datetime, zones: Mapping[str, ZoneInfo]
    ) -> bool:
        """True when the task's window day closed by ``now`` without the task started."""
        return self._close_of_day(task, zones.get(task.customer_id, _UTC)) <= now

    def _close_of_day(self, task: RevisitTask, zone: ZoneInfo) -> datetime:
        """The last open instant of the customer's window on the task's due day (the end
        of the due day itself when the window has no more open time that day)."""
        found = self._rule_of(task)
        local = task.due_at.astimezone(zone)
        end_of_day = datetime.combine(local.date() + timedelta(days=1), time(0), zone)
        if found is None:
            return end_of_day
        calendar = found[0].window.calendar_for(zone.key)
        close = task.due_at
        for _, end in calendar.open_intervals(task.due_at, end_of_day):
            close = end
        return max(close, task.due_at + found[1].duration)

    def _zones(self, customer_ids: Iterable[str]) -> dict[str, ZoneInfo]:
        """The zones of these customers (one read), by customer id."""
        stored = self.desk.store.customers.get_many(customer_ids)
        return {key: ZoneInfo(s.value.timezone) for key, s in stored.items()}

    def _miss_batch(
        self, ids: Sequence[str], now: datetime, zones: Mapping[str, ZoneInfo]
    ) -> tuple[int, int]:
        missed = rescheduled = 0
        for stored in self._tasks.get_many(ids).values():
            task = stored.value
            if not task.waiting or not self._window_closed(task, now, zones):
                continue  # started, done or moved meanwhile
            at = self._after(task, now)
            changed = self._retry(task.miss(at), at)
            self._tasks.save(changed, expected_version=stored.version)
            missed += 1
            rescheduled += changed.state is TaskState.RESCHEDULED
            self.desk.publish(
                DeskChange(
                    source=self.name,
                    at=at,
                    customer_id=changed.customer_id,
                    events=tuple(changed.timeline[len(task.timeline) :]),
                    subject=changed,
                )
            )
        return missed, rescheduled

    # -- reading -------------------------------------------------------------------------------

    def _page(
        self,
        where: Mapping[str, Any],
        *,
        low: datetime | None = None,
        high: datetime | None = None,
        limit: int,
        cursor: str | None,
    ) -> Page[RevisitTask]:
        page = self._tasks.select(where, "due_at", low=low, high=high, limit=limit, cursor=cursor)
        return Page(tuple(s.value for s in page.items), page.next_cursor)

    def agenda(
        self,
        *,
        day: date | tuple[datetime, datetime],
        agent_id: str | None = None,
        group_id: str | None = None,
        zone: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[RevisitTask]:
        """The tasks to do (scheduled, rescheduled, in progress) of agent ``agent_id`` or
        of group ``group_id`` due on ``day``, soonest first.

        ``day`` is a date (read in ``zone``, by default the zone of the agent's first
        group's calendar or the group's, else UTC) or a ``(start, end)`` pair of
        instants (``start <= due_at < end``). Each task is decoded whole: to list a day,
        :meth:`agenda_entries` reads the same page from the stored columns, several
        times faster.
        """
        where, low, high = self._agenda_query("RevisitDesk.agenda", day, agent_id, group_id, zone)
        return self._page(where, low=low, high=high, limit=limit, cursor=cursor)

    def agenda_entries(
        self,
        *,
        day: date | tuple[datetime, datetime],
        agent_id: str | None = None,
        group_id: str | None = None,
        zone: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[AgendaEntry]:
        """The page :meth:`agenda` gives (same arguments, checks, order and cursors:
        a cursor of one continues the other), as :class:`~csdomain.revisits.AgendaEntry`
        rows read from the stored columns, no task document decoded.

        Use it to list a day (who, which rule, state, form, when); use :meth:`agenda`
        when every listed task is needed whole, and :meth:`task` for the one an agent
        opens. An entry's ``version`` is the stored version it was read at.
        """
        where, low, high = self._agenda_query(
            "RevisitDesk.agenda_entries", day, agent_id, group_id, zone
        )
        return self._tasks.select_values(
            where,
            "due_at",
            columns=AGENDA_COLUMNS,
            make=AgendaEntry.from_values,
            low=low,
            high=high,
            limit=limit,
            cursor=cursor,
        )

    def _agenda_query(
        self,
        what: str,
        day: object,
        agent_id: str | None,
        group_id: str | None,
        zone: str | None,
    ) -> tuple[dict[str, Any], datetime, datetime]:
        """The filters and the ``[low, high)`` due range of an agenda (``what`` names the
        method in refusals)."""
        if (agent_id is None) == (group_id is None):
            raise ValidationError.single(
                what, "agent_id", "expected exactly one of agent_id and group_id"
            )
        where: dict[str, Any] = {"state": _LIVE_VALUES}
        if agent_id is not None:
            agent = self.desk.setup.agent(agent_id)
            where["assignee_id"] = agent_id
            groups = agent.groups
        else:
            assert group_id is not None
            where["group_id"] = group_id
            groups = (group_id,)
        low, high = self._day(what, day, zone, groups)
        return where, low, high

    def _day(
        self, what: str, day: object, zone: str | None, groups: Iterable[str]
    ) -> tuple[datetime, datetime]:
        if isinstance(day, tuple) and len(day) == 2:
            start = ensure_aware(day[0], what, "day[0]")
            end = ensure_aware(day[1], what, "day[1]")
            if end < start:
                raise ValidationError.single(
                    what, "day", f"the end {end} is before the start {start}"
                )
            return start, end
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValidationError.single(
                what,
                "day",
                f"expected a date or a (start, end) pair of instants, got {day!r}",
            )
        if zone is None:
            tz = self._desk_zone(groups)
        else:
            problem = zone_problem(zone)
            if problem is not None:
                raise ValidationError.single(what, "zone", problem)
            tz = ZoneInfo(zone)
        start = datetime.combine(day, time(0), tz)
        end = datetime.combine(day + timedelta(days=1), time(0), tz)
        return start, end

    def _desk_zone(self, groups: Iterable[str]) -> ZoneInfo:
        setup = self.desk.setup
        known = setup.group_by_id
        for group_id in groups:
            group = known.get(group_id)
            calendar = setup.calendar_of(group) if group is not None else None
            zone = getattr(calendar, "timezone", None)
            if isinstance(zone, str):
                return ZoneInfo(zone)
        return _UTC

    def overdue(
        self,
        now: datetime | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[RevisitTask]:
        """The tasks waiting to be started (scheduled, rescheduled) whose due instant is
        before ``now``, oldest first."""
        at = self._at(now, "now")
        return self._page({"state": _WAITING_VALUES}, high=at, limit=limit, cursor=cursor)

    def by_customer(
        self, customer_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[RevisitTask]:
        """Every task of customer ``customer_id``, in due order."""
        return self._page({"customer_id": customer_id}, limit=limit, cursor=cursor)

    def by_plan(
        self, plan: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[RevisitTask]:
        """Every task of the plan called ``plan`` (one of the desk's), in due order."""
        self.plan(plan)
        return self._page({"plan": plan}, limit=limit, cursor=cursor)

    def figures(
        self, now: datetime | None = None, *, plan: str | None = None
    ) -> RevisitFiguresResult:
        """The tracking figures (completion rate, overdue count, reach rate per form and
        per agent) of every task of the desk's plans, or of ``plan``, as of ``now``;
        read a page at a time."""
        at = self._at(now, "now")
        names = [self.plan(plan).name] if plan is not None else [p.name for p in self._plans]
        figures = RevisitFigures()
        for name in names:
            for stored in self._each(self._tasks, "by_plan", {"plan": name}):
                figures.add(stored.value)
        return figures.result(at)


def _task_id(task: RevisitTask) -> str:
    return task.id


def _inbound_of(ticket: Ticket, channels: frozenset[str], last: dict[str, datetime]) -> None:
    """Record in ``last`` the customer's latest message on each of ``channels`` in ``ticket``."""
    for event in ticket.timeline:
        if not isinstance(event, MessageAdded) or event.actor != Actor.customer(ticket.customer_id):
            continue
        channel = event.channel or ticket.channel
        if channel in channels and (channel not in last or last[channel] < event.at):
            last[channel] = event.at
