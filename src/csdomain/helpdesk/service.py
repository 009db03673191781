"""The HelpDesk application service: commands in units of work, and sweeps.

Every command loads what it needs, changes the ticket, settles it (fires the
escalation rules now due, recomputes the schedule) and stores the ticket and its
schedule in one unit of work, returning the stored ticket. When another writer
changed the ticket first (:class:`~csdomain.errors.ConflictError`), or the
database asks for a retry, the command runs again on fresh data, at most
:data:`~csdomain.helpdesk.setup.MAX_ATTEMPTS` times. Each change happens at
``max(clock.now(), the ticket's last change)``, so a retried change never breaks
the timeline's time order, whatever clocks the workers have.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import attrs

from csdomain._kernel.time import ensure_aware, to_epoch_us
from csdomain.addresses import PHONE_CHANNELS, ContactRules
from csdomain.channels import Channel, ChannelKind, channel_key
from csdomain.clock import Clock
from csdomain.conditions import ALWAYS
from csdomain.customers import ContactPoint, Customer
from csdomain.errors import (
    ConflictError,
    NotFoundError,
    RetryableStorageError,
    ValidationError,
)
from csdomain.escalation import (
    Action,
    SeniorAgentRequested,
    apply_firing,
    due_firings,
    next_check,
)
from csdomain.helpdesk.events import Routed
from csdomain.helpdesk.extensions import DeskChange, DeskExtension
from csdomain.helpdesk.roster import CURSORS, PRESENCE, AgentPresence
from csdomain.helpdesk.schedule import (
    SCHEDULES,
    UNSOLVED,
    StatusGroup,
    TicketSchedule,
    schedule_for,
)
from csdomain.helpdesk.setup import MAX_ATTEMPTS, DeskSetup
from csdomain.ids import IdGenerator, UlidIds
from csdomain.people import Agent, AgentGrade, Presence, Role
from csdomain.priorities import Priority
from csdomain.routing import (
    AgentLoad,
    GroupState,
    RoundRobinCursor,
    RoutingDecision,
    choose_agent,
    overflow_chain,
    route,
    triage,
)
from csdomain.serialization import to_json
from csdomain.sla import SlaClockState, SlaStatus, advance_clock, clock_state, evaluate_clock
from csdomain.storage import Page, Store, Stored
from csdomain.tickets import (
    Actor,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketKind,
    Visibility,
)
from csdomain.tickets.ticket import Tags

__all__ = ["HelpDesk", "SweepReport"]

T = TypeVar("T")

_UNSOLVED_VALUES: Final = tuple(sorted(s.value for s in UNSOLVED))
_SYSTEM: Final = Actor.system()
_ROUTER: Final = Actor.system("router")
_MICROSECOND: Final = timedelta(microseconds=1)
#: The events an SLA clock reads (csdomain.sla's walk): after firings that added none of
#: these, the SLA status at the same instant is unchanged.
_CLOCK_EVENTS: Final = frozenset({MessageAdded, StatusChanged, PriorityChanged, TicketCreated})
#: The first pause between attempts of a command (doubled each time, randomized).
_BACKOFF: Final = 0.002
_random = random.Random()
#: How long a sweep worker holds the schedules it leased before another may take them.
DEFAULT_LEASE: Final = timedelta(minutes=2)


@attrs.frozen
class SweepReport:
    """What one :meth:`HelpDesk.sweep` did.

    ``examined`` counts the tickets whose schedule was due; ``fired`` lists
    ``(ticket id, rule name)`` for every rule that fired, in order; ``saved``
    counts the tickets that gained events; ``retried`` the batches run again after
    another writer changed one of their tickets first.
    """

    now: datetime
    examined: int
    fired: tuple[tuple[str, str], ...]
    saved: int
    batches: int
    retried: int
    #: Each extension's sweep counts, by extension name (after the ticket batches).
    extensions: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)


def _fingerprint(document: object) -> str:
    text = to_json(document)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _statuses(value: StatusGroup | Status | Iterable[Status]) -> tuple[str, ...]:
    if isinstance(value, StatusGroup):
        value = value.statuses
    statuses = (value,) if isinstance(value, Status) else tuple(value)
    if not statuses or not all(isinstance(s, Status) for s in statuses):
        raise ValidationError.single(
            "HelpDesk query",
            "statuses",
            f"expected a StatusGroup ({', '.join(g.value for g in StatusGroup)}), a Status or "
            f"Statuses, got {value!r}",
        )
    return tuple(sorted(s.value for s in statuses))


class HelpDesk:
    """A desk: a :class:`~csdomain.storage.Store`, a clock, an id generator and a
    :class:`~csdomain.helpdesk.DeskSetup`, working tickets for an embedding app.

    See ``docs/helpdesk.md`` for worked examples (each asserted on exact instants)
    and ``docs/routing-escalation.md`` for the semantics.
    """

    def __init__(
        self,
        store: Store,
        setup: DeskSetup,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        extensions: Sequence[DeskExtension] = (),
    ) -> None:
        if not isinstance(store, Store):
            raise ValidationError.single(
                "HelpDesk", "store", f"expected a Store (open_store(...)), got {store!r}"
            )
        if not isinstance(setup, DeskSetup):
            raise ValidationError.single(
                "HelpDesk", "setup", f"expected a DeskSetup, got {setup!r}"
            )
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValidationError.single(
                "HelpDesk",
                "max_attempts",
                f"expected an integer of 1 or more, got {max_attempts!r}",
            )
        extensions = tuple(extensions)
        names: set[str] = set()
        for index, extension in enumerate(extensions):
            if not isinstance(extension, DeskExtension):
                raise ValidationError.single(
                    "HelpDesk",
                    f"extensions[{index}]",
                    f"expected a DeskExtension (name, attach, observe, sweep), got {extension!r}",
                )
            if extension.name in names:
                raise ValidationError.single(
                    "HelpDesk",
                    f"extensions[{index}]",
                    f"two extensions are named {extension.name!r}; names must be unique",
                )
            names.add(extension.name)
        self._extensions: tuple[DeskExtension, ...] = extensions
        self._store = store
        self._setup = setup
        self._clock = clock or store.clock
        self._ids = ids or UlidIds(self._clock)
        self._max_attempts = max_attempts
        self._schedules = store.collection(SCHEDULES)
        self._presence = store.collection(PRESENCE)
        self._cursors = store.collection(CURSORS)
        self._calendars = {c.name: c for c in setup.sla.calendars}
        self._groups = setup.group_by_id
        self._agents = {a.id: a for a in setup.agents}
        self._members = {
            g.id: tuple(sorted((a for a in setup.agents if g.id in a.groups), key=lambda a: a.id))
            for g in setup.groups
        }
        self._fingerprints = {p.name: _fingerprint(p) for p in setup.sla.policies}
        # Sweeps read customers only when a policy's or a rule's condition may ask.
        self._conditions_read_customers = any(
            p.condition != ALWAYS for p in setup.sla.policies
        ) or any(r.condition != ALWAYS for r in setup.escalation)
        rules = store.contact_rules
        if not rules.unique:
            wanted = ContactRules(
                unique=True, default_region=setup.default_region or rules.default_region
            )
            try:
                store.set_contact_rules(wanted)
            except ConflictError:
                # Another desk starting on the same store set them first.
                if not store.contact_rules.unique:
                    raise
        for extension in self._extensions:
            extension.attach(self)

    # -- properties ------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store the desk works in."""
        return self._store

    @property
    def setup(self) -> DeskSetup:
        """The desk's configuration."""
        return self._setup

    @property
    def clock(self) -> Clock:
        """The clock commands and sweeps read."""
        return self._clock

    @property
    def ids(self) -> IdGenerator:
        """The id generator of new tickets, customers (and extensions' records)."""
        return self._ids

    @property
    def extensions(self) -> tuple[DeskExtension, ...]:
        """The desk's extensions, in the order they were given."""
        return self._extensions

    def extension(self, name: str) -> DeskExtension:
        """The extension named ``name`` (``NotFoundError`` if the desk has none)."""
        for extension in self._extensions:
            if extension.name == name:
                return extension
        raise NotFoundError(
            "desk extension", name, f"the desk has: {[e.name for e in self._extensions]}"
        )

    def now(self, after: datetime | None = None) -> datetime:
        """The desk clock's instant, or ``after`` when the clock is behind it."""
        return self._now(after)

    def publish(self, change: DeskChange) -> None:
        """Give ``change`` to every extension but its source, inside the open unit of work
        (extensions call this to tell the others of their own changes)."""
        if not isinstance(change, DeskChange):
            raise ValidationError.single(
                "HelpDesk.publish", "change", f"expected a DeskChange, got {change!r}"
            )
        for extension in self._extensions:
            if extension.name != change.source:
                extension.observe(change)

    def run_unit(self, work: Callable[[], T]) -> T:
        """Run ``work`` in one unit of work, again on a conflict or a retryable storage
        error (at most ``max_attempts`` times, after short random pauses). When a unit of
        work is already open in this thread, ``work`` runs inside it, and the caller's
        unit of work is the one retried."""
        return self._retrying(work)

    # -- units of work -----------------------------------------------------------------

    def _retrying(self, work: Callable[[], T]) -> T:
        """Run ``work`` in a transaction, again on a conflict or a retryable error, after
        a short random pause that doubles each time (so racing writers spread out).

        Inside a unit of work already open in this thread (an extension's, or the
        app's), ``work`` joins it: the outer unit of work is the one retried."""
        if self._store.backend.in_transaction():
            return work()
        last: Exception | None = None
        for attempt in range(self._max_attempts):
            if attempt:
                time.sleep(_random.uniform(0, _BACKOFF * 2 ** min(attempt, 8)))
            try:
                with self._store.transaction():
                    return work()
            except (ConflictError, RetryableStorageError) as exc:
                last = exc
        assert last is not None
        raise last

    def _now(self, after: datetime | None = None) -> datetime:
        now = ensure_aware(self._clock.now(), "HelpDesk", "clock.now()")
        return now if after is None or now >= after else after

    def _change(
        self, ticket_id: str, change: Callable[[Ticket, datetime], Ticket]
    ) -> Stored[Ticket]:
        def work() -> Stored[Ticket]:
            stored = self._store.tickets.get(ticket_id)
            at = self._now(stored.value.updated_at)
            changed = change(stored.value, at)
            if changed is stored.value:
                return stored
            return self._commit(stored, changed, at)

        return self._retrying(work)

    def _schedule_of(self, ticket_id: str) -> Stored[TicketSchedule] | None:
        try:
            return self._schedules.get(ticket_id)
        except NotFoundError:
            return None

    def _customer_of(self, ticket: Ticket) -> Customer | None:
        try:
            return self._store.customers.get(ticket.customer_id).value
        except NotFoundError:
            return None

    def _commit(
        self,
        stored: Stored[Ticket] | None,
        ticket: Ticket,
        at: datetime,
        *,
        customer: Customer | None = None,
        known_customer: bool = False,
    ) -> Stored[Ticket]:
        """Settle ``ticket`` at ``at`` and store it with its schedule (schedule first: a
        sweep holding the schedule makes this wait, then conflict, never deadlock)."""
        if not known_customer:
            customer = self._customer_of(ticket)
        previous = self._schedule_of(ticket.id)
        ticket, schedule = self._settle(ticket, previous.value if previous else None, customer, at)
        if previous is None:
            self._schedules.add(schedule)
        else:
            self._schedules.save(schedule, expected_version=previous.version)
        if stored is None:
            result = self._store.tickets.add(ticket, next_deadline=schedule.next_deadline)
        else:
            result = self._store.tickets.save(
                ticket, expected_version=stored.version, next_deadline=schedule.next_deadline
            )
        self._ticket_changed(stored.value if stored else None, ticket, customer, at)
        return result

    def _ticket_changed(
        self, before: Ticket | None, after: Ticket, customer: Customer | None, at: datetime
    ) -> None:
        if not self._extensions:
            return
        known = len(before.timeline) if before is not None else 0
        self.publish(
            DeskChange(
                source="ticket",
                at=at,
                ticket=after,
                before=before,
                customer=customer,
                customer_id=after.customer_id,
                events=tuple(after.timeline[known:]),
            )
        )

    # -- settling: rules, clocks, schedule ---------------------------------------------------

    def _clock_for(
        self, ticket: Ticket, previous: TicketSchedule | None, customer: Customer | None
    ) -> SlaClockState:
        sla = self._setup.sla
        if previous is not None and previous.setup == self._fingerprints.get(
            previous.clock.policy or "", ""
        ):
            return advance_clock(previous.clock, ticket, sla, customer=customer)
        return clock_state(ticket, sla, customer=customer)

    def _settle(
        self,
        ticket: Ticket,
        previous: TicketSchedule | None,
        customer: Customer | None,
        at: datetime,
    ) -> tuple[Ticket, TicketSchedule]:
        """Fire the rules due at ``at`` (each firing may make others due) and compute the
        schedule of the result."""
        setup = self._setup
        rules = setup.escalation
        clock = self._clock_for(ticket, previous, customer)
        status = evaluate_clock(clock, setup.sla, at)
        for _ in range(len(rules) + 1):
            if not rules or ticket.status not in UNSOLVED:
                break
            firings = due_firings(
                rules,
                ticket,
                status,
                customer=customer,
                now=at,
                calendars=self._calendars,
                clock=clock,
            )
            if not firings:
                break
            chooser = self._agent_chooser(at, customer)
            for firing in firings:
                group = ticket.group_id
                ticket = apply_firing(
                    ticket,
                    firing,
                    at=at,
                    ladder=setup.ladder,
                    groups=self._groups,
                    calendars=self._calendars,
                    choose_agent=chooser,
                )
                if ticket.group_id not in (group, None) and ticket.assignee_id is None:
                    # Moved to another group: it is transferred to an agent there.
                    if customer is None:
                        customer = self._customer_of(ticket)
                    ticket = self._route(ticket, customer, at, group_id=ticket.group_id)
            walked = clock.events
            clock = advance_clock(clock, ticket, setup.sla, customer=customer)
            if clock.policy != status.policy or any(
                type(event) in _CLOCK_EVENTS for event in ticket.timeline[walked:]
            ):
                status = evaluate_clock(clock, setup.sla, at)
            # else: the firings added no event the SLA clocks read; the status stands.
        check = (
            next_check(rules, ticket, status, customer=customer, now=at, calendars=self._calendars)
            if rules
            else None
        )
        fingerprint = self._fingerprints.get(clock.policy or "", "")
        route_at = None
        if ticket.assignee_id is None and ticket.group_id is not None and ticket.status in UNSOLVED:
            calendar = self._setup.calendar_of(self._setup.group(ticket.group_id))
            if calendar is not None and not calendar.is_open(at):
                route_at = calendar.next_open(at)
        return ticket, schedule_for(
            ticket, clock, status, check_at=check, setup=fingerprint, route_at=route_at
        )

    def sla_status(self, ticket_id: str, now: datetime | None = None) -> SlaStatus:
        """The SLA status of ticket ``ticket_id`` at ``now`` (default: the clock's now), from
        its stored clock state (no timeline walk)."""
        schedule = self.schedule(ticket_id)
        at = self._now(schedule.clock.last_at) if now is None else now
        return evaluate_clock(schedule.clock, self._setup.sla, at)

    # -- routing ---------------------------------------------------------------------------

    def _loads(self, members: Iterable[Agent], group_id: str) -> dict[str, AgentLoad]:
        """Each member's open work: unsolved tickets assigned to them, in any group, each
        weighing what the routing group's policy gives its channel (1 unless said),
        counted in the index without reading a schedule."""
        policy = self._setup.policy_for(group_id)
        weighted = [c for c, w in policy.channel_weights.items() if w != 1]
        loads: dict[str, AgentLoad] = {}
        for agent in members:
            where: dict[str, Any] = {"assignee_id": agent.id, "status": _UNSOLVED_VALUES}
            tickets = self._schedules.count("load", where=where)
            units = tickets
            if tickets:
                for channel in weighted:
                    # What routing counts for one ticket: its weight, capped at max_load.
                    extra = policy.units(channel, agent) - 1
                    if extra:
                        units += extra * self._schedules.count(where={**where, "channel": channel})
            loads[agent.id] = AgentLoad(agent.id, units, tickets)
        return loads

    def _group_state(self, group_id: str, at: datetime) -> GroupState:
        group = self._setup.group(group_id)
        members = self._members.get(group_id, ())
        presence = {
            key: stored.value.presence
            for key, stored in self._presence.get_many([a.id for a in members]).items()
        }
        waiting = {
            "group_id": group_id,
            "assignee_id": (None,),
            "status": _UNSOLVED_VALUES,
        }
        queue_length = self._schedules.count("queue", where=waiting)
        oldest = self._schedules.find("queue", where=waiting, limit=1).items
        oldest_wait = (
            at - oldest[0].value.queued_at if oldest and oldest[0].value.queued_at else None
        )
        try:
            cursor: RoundRobinCursor | None = self._cursors.get(group_id).value
        except NotFoundError:
            cursor = None
        return GroupState(
            group=group,
            policy=self._setup.policy_for(group_id),
            members=members,
            presence=presence,
            loads=self._loads(members, group_id),
            queue_length=queue_length,
            oldest_wait=oldest_wait if oldest_wait is None or oldest_wait >= timedelta(0) else None,
            cursor=cursor,
            calendar=self._setup.calendar_of(group),
        )

    def _save_cursor(self, cursor: RoundRobinCursor | None) -> None:
        if cursor is None:
            return
        try:
            stored = self._cursors.get(cursor.group_id)
        except NotFoundError:
            self._cursors.add(cursor)
            return
        self._cursors.save(cursor, expected_version=stored.version)

    def _agent_chooser(
        self, at: datetime, customer: Customer | None
    ) -> Callable[[Ticket, Action], str | None]:
        def choose(ticket: Ticket, action: Action) -> str | None:
            if ticket.group_id is None:
                return None
            state = self._group_state(ticket.group_id, at)
            agent, cursor, _ = choose_agent(
                state,
                ticket,
                customer,
                now=at,
                waited=timedelta(0),
                role=action.role,
                min_grade=action.min_grade,
            )
            if agent is not None:
                self._save_cursor(cursor)
            return agent

        return choose

    def _route(
        self,
        ticket: Ticket,
        customer: Customer | None,
        at: datetime,
        *,
        group_id: str | None = None,
        min_grade: AgentGrade | None = None,
        role: Role | None = None,
    ) -> Ticket:
        """Place ``ticket``: triage (unless ``group_id`` is given), overflow, then an agent."""
        rule: str | None = None
        reasons: tuple[str, ...] = ()
        if group_id is None:
            group_id, rule, reasons = triage(self._setup.triage_rules(), ticket, customer)
        chain = overflow_chain(group_id, self._groups)
        states = {g: self._group_state(g, at) for g in chain}
        waited = at - ticket.created_at
        if min_grade is not None or role is not None:
            state = states[group_id]
            agent, cursor, why = choose_agent(
                state, ticket, customer, now=at, waited=waited, role=role, min_grade=min_grade
            )
            decision = RoutingDecision(
                group_id=group_id, agent_id=agent, cursor=cursor, trace=tuple(why)
            )
        else:
            decision = route(
                ticket, customer, group_id=group_id, states=states, now=at, waited=waited
            )
        if decision.agent_id is not None:
            self._save_cursor(decision.cursor)
        changed = ticket.assign(
            at=at, actor=_ROUTER, group_id=decision.group_id, assignee_id=decision.agent_id
        )
        return changed.record(
            Routed(
                at=at,
                actor=_ROUTER,
                group_id=decision.group_id,
                assignee_id=decision.agent_id,
                rule=rule,
                reasons=tuple(line[:500] for line in (*reasons, *decision.trace)),
            )
        )

    def _route_queued(self, ticket: Ticket, customer: Customer | None, at: datetime) -> Ticket:
        """Route a ticket waiting unassigned in its group, if an agent is free now; else
        leave it as it is (no note: waiting is what a queue does)."""
        if ticket.assignee_id is not None or ticket.group_id is None:
            return ticket
        if ticket.status not in UNSOLVED:
            return ticket
        if customer is None:
            customer = self._customer_of(ticket)
        routed = self._route(ticket, customer, at, group_id=ticket.group_id)
        return routed if routed.assignee_id is not None else ticket

    # -- intake ------------------------------------------------------------------------------

    def _find_or_create_customer(
        self,
        contact: str,
        channel: str,
        name: str | None,
        locale: str | None,
    ) -> Customer:
        customers = self._store.customers
        found = customers.find_by_contact(contact, channel)
        if found:
            return found[0].value
        if channel in PHONE_CHANNELS:
            # One phone number is one person on every phone-like channel: the hotline
            # caller who texts later is the same customer, who gains an sms contact point.
            for other in sorted(PHONE_CHANNELS - {channel}):
                known = customers.find_by_contact(contact, other)
                if known:
                    stored = known[0]
                    point = ContactPoint(channel=channel, address=contact)
                    customer = stored.value.with_contact_point(point)
                    customers.save(customer, expected_version=stored.version)
                    return customer
        customer = Customer(
            id=self._ids.new("cus"),
            display_name=name or contact,
            contact_points=(ContactPoint(channel=channel, address=contact),),
        )
        if locale is not None:
            customer = attrs.evolve(customer, locale=locale)
        # A racing intake of the same contact point makes this a ConflictError: the
        # command then runs again and finds the customer the other one created.
        self._store.customers.add(customer)
        return customer

    def open_ticket(
        self,
        *,
        contact: str,
        channel: ChannelKind | Channel | str,
        subject: str,
        description: str | None = None,
        kind: TicketKind = TicketKind.CONSULTATION,
        priority: Priority = Priority.NORMAL,
        customer_name: str | None = None,
        locale: str | None = None,
        tags: Tags = (),
        group_id: str | None = None,
    ) -> Stored[Ticket]:
        """Open a ticket for whoever writes from ``contact`` on ``channel``.

        The customer is found by the normalized contact point, or created, in a unit
        of work of its own (two intakes racing from one new phone number make one
        customer: the store's unique contact points decide). The ticket is then
        triaged to a group (``group_id`` skips triage), routed to an agent (or left in
        the group's queue), its SLA clocks start, the escalation rules due at once
        fire (a complaint, a priority at or above a threshold), and its events go to
        the outbox, all in one unit of work.
        """
        key = channel_key(channel)
        if group_id is not None:
            self._setup.group(group_id)

        # The customer first, in a unit of work of its own: racing intakes from one new
        # contact point make one customer (the unique contact column decides), and the
        # ticket's unit of work below stays short.
        customer = self._retrying(
            lambda: self._find_or_create_customer(contact, key, customer_name, locale)
        )

        return self._opened(
            lambda: customer,
            channel=key,
            subject=subject,
            description=description,
            kind=kind,
            priority=priority,
            tags=tags,
            group_id=group_id,
        )

    def _opened(
        self,
        customer_of: Callable[[], Customer],
        *,
        channel: str,
        subject: str,
        description: str | None,
        kind: TicketKind,
        priority: Priority,
        tags: Tags,
        group_id: str | None,
    ) -> Stored[Ticket]:
        """Open, triage, route and settle a ticket of ``customer_of()`` in one unit of work."""

        def work() -> Stored[Ticket]:
            customer = customer_of()
            at = self._now()
            ticket = Ticket.open(
                id=self._ids.new("tkt"),
                customer_id=customer.id,
                channel=channel,
                subject=subject,
                description=description,
                at=at,
                kind=kind,
                priority=priority,
                tags=tags,
            )
            ticket = self._route(ticket, customer, at, group_id=group_id)
            return self._commit(None, ticket, at, customer=customer, known_customer=True)

        return self._retrying(work)

    def open_ticket_for(
        self,
        customer_id: str,
        *,
        channel: ChannelKind | Channel | str,
        subject: str,
        description: str | None = None,
        kind: TicketKind = TicketKind.CONSULTATION,
        priority: Priority = Priority.NORMAL,
        tags: Tags = (),
        group_id: str | None = None,
    ) -> Stored[Ticket]:
        """Open a ticket for the stored customer ``customer_id`` (``NotFoundError`` if there
        is none), as :meth:`open_ticket` does for a contact: triage, routing, SLA clocks,
        the rules due at once and the outbox, in one unit of work (the caller's, when one
        is open: a revisit outcome and the ticket it opens commit together)."""
        key = channel_key(channel)
        if group_id is not None:
            self._setup.group(group_id)

        return self._opened(
            lambda: self._store.customers.get(customer_id).value,
            channel=key,
            subject=subject,
            description=description,
            kind=kind,
            priority=priority,
            tags=tags,
            group_id=group_id,
        )

    def update_customer(
        self, customer_id: str, change: Callable[[Customer], Customer]
    ) -> Stored[Customer]:
        """Store ``change(customer)`` for the stored customer ``customer_id`` and tell the
        extensions (a withdrawn consent cancels the customer's future revisits), in one
        unit of work, retried on a conflict. ``change`` must keep the customer's id."""

        def work() -> Stored[Customer]:
            stored = self._store.customers.get(customer_id)
            changed = change(stored.value)
            if not isinstance(changed, Customer) or changed.id != customer_id:
                raise ValidationError.single(
                    "HelpDesk.update_customer",
                    "change",
                    f"expected the change to return customer {customer_id!r}, got {changed!r}",
                )
            saved = self._store.customers.save(changed, expected_version=stored.version)
            self.publish(
                DeskChange(
                    source="customer",
                    at=self._now(),
                    customer=changed,
                    customer_id=customer_id,
                )
            )
            return saved

        return self._retrying(work)

    def erase_customer(self, customer_id: str, *, reason: str) -> None:
        """Erase the customer's personal data everywhere (:meth:`Store.erase_customer
        <csdomain.storage.Store.erase_customer>`) and tell the extensions (which cancel
        the customer's future revisits and survey invitations), in one unit of work."""

        def work() -> None:
            at = self._now()
            self._store.erase_customer(customer_id, reason=reason, at=at)
            try:
                customer: Customer | None = self._store.customers.get(customer_id).value
            except NotFoundError:
                customer = None
            self.publish(
                DeskChange(source="customer", at=at, customer=customer, customer_id=customer_id)
            )

        self._retrying(work)

    # -- commands on a ticket ------------------------------------------------------------------

    def _agent_actor(self, agent_id: str) -> Actor:
        self._setup.agent(agent_id)
        return Actor.agent(agent_id)

    def reply(
        self,
        ticket_id: str,
        *,
        agent_id: str,
        body: str,
        channel: ChannelKind | Channel | str | None = None,
        handle_time: timedelta | None = None,
    ) -> Stored[Ticket]:
        """A public reply by agent ``agent_id`` (it answers the SLA's response clocks)."""
        actor = self._agent_actor(agent_id)
        return self._change(
            ticket_id,
            lambda t, at: t.add_message(
                at=at, actor=actor, body=body, channel=channel, handle_time=handle_time
            ),
        )

    def add_note(self, ticket_id: str, *, agent_id: str, body: str) -> Stored[Ticket]:
        """An internal note by agent ``agent_id`` (the customer does not see it)."""
        actor = self._agent_actor(agent_id)
        return self._change(
            ticket_id,
            lambda t, at: t.add_message(
                at=at, actor=actor, body=body, visibility=Visibility.INTERNAL
            ),
        )

    def customer_message(
        self, ticket_id: str, *, body: str, channel: ChannelKind | Channel | str | None = None
    ) -> Stored[Ticket]:
        """A message from the ticket's customer (it reopens a solved or pending ticket)."""
        return self._change(
            ticket_id,
            lambda t, at: t.add_message(
                at=at, actor=Actor.customer(t.customer_id), body=body, channel=channel
            ),
        )

    def set_status(
        self, ticket_id: str, status: Status, *, actor: Actor, reason: str | None = None
    ) -> Stored[Ticket]:
        """Move the ticket to ``status``; its current status again changes nothing."""

        def change(ticket: Ticket, at: datetime) -> Ticket:
            if status is ticket.status:
                return ticket
            return ticket.change_status(status, at=at, actor=actor, reason=reason)

        return self._change(ticket_id, change)

    def solve(self, ticket_id: str, *, actor: Actor, reason: str | None = None) -> Stored[Ticket]:
        """Mark the ticket solved (already solved: nothing changes)."""
        return self.set_status(ticket_id, Status.SOLVED, actor=actor, reason=reason)

    def change_priority(
        self, ticket_id: str, priority: Priority, *, actor: Actor
    ) -> Stored[Ticket]:
        """Set the priority (targets follow the SLA policy's priority-change rule)."""
        return self._change(
            ticket_id, lambda t, at: t.change_priority(priority, at=at, actor=actor)
        )

    _KEEP: Any = object()

    def assign(
        self,
        ticket_id: str,
        *,
        actor: Actor,
        group_id: str = _KEEP,
        agent_id: str | None = _KEEP,
    ) -> Stored[Ticket]:
        """Set the group and/or the agent (``agent_id=None`` leaves the ticket unassigned
        in its group; omitted ones stay). Moving to another group without naming an
        agent routes the ticket in that group. The group cannot be cleared."""
        if group_id is None:
            raise ValidationError.single(
                "HelpDesk.assign",
                "group_id",
                "a ticket keeps a group (every ticket waiting on the desk must have one); "
                f"move it to another group ({', '.join(self._groups)}) instead of clearing it",
            )
        if group_id is not self._KEEP:
            self._setup.group(group_id)
        if agent_id is not self._KEEP and agent_id is not None:
            agent = self._setup.agent(agent_id)
            if group_id is not self._KEEP and group_id is not None and group_id not in agent.groups:
                raise ValidationError.single(
                    "HelpDesk.assign",
                    "agent_id",
                    f"agent {agent_id!r} is not in group {group_id!r}; the agent's groups: "
                    f"{', '.join(agent.groups) or 'none'}",
                )

        def change(ticket: Ticket, at: datetime) -> Ticket:
            kwargs: dict[str, Any] = {}
            if group_id is not self._KEEP:
                kwargs["group_id"] = group_id
            if agent_id is not self._KEEP:
                kwargs["assignee_id"] = agent_id
            group = kwargs.get("group_id", ticket.group_id)
            agent = self._agents.get(agent_id) if isinstance(agent_id, str) else None
            if agent is not None and group not in agent.groups:
                raise ValidationError.single(
                    "HelpDesk.assign",
                    "agent_id",
                    f"agent {agent_id!r} is not in group {group!r} of ticket {ticket.id}; "
                    f"the agent's groups: {', '.join(agent.groups) or 'none'}",
                )
            changed = ticket.assign(at=at, actor=actor, **kwargs)
            if (
                agent_id is self._KEEP
                and group_id is not self._KEEP
                and group_id is not None
                and group_id != ticket.group_id
            ):
                customer = self._customer_of(ticket)
                changed = self._route(changed, customer, at, group_id=group_id)
            return changed

        return self._change(ticket_id, change)

    def escalate(
        self,
        ticket_id: str,
        *,
        actor: Actor,
        tier: str | None = None,
        group_id: str | None = None,
        reason: str | None = None,
    ) -> Stored[Ticket]:
        """Raise the ticket to ``tier`` (default: the next tier up) and route it in
        ``group_id`` (default: the first group of that tier, if the desk has one).

        At the top of the ladder without a tier named, ``ValidationError``.
        """
        ladder = self._setup.ladder
        if tier is not None:
            ladder.get(tier)
        if group_id is not None:
            self._setup.group(group_id)

        def change(ticket: Ticket, at: datetime) -> Ticket:
            target = tier
            if target is None:
                above = ladder.above(ticket.tier)
                if above is None:
                    raise ValidationError.single(
                        "HelpDesk.escalate",
                        "tier",
                        f"ticket {ticket.id} is at {ticket.tier}, the top of the ladder; "
                        f"name a tier ({', '.join(t.key for t in ladder.tiers)})",
                    )
                target = above.key
            group = group_id or next((g.id for g in self._setup.groups if g.tier == target), None)
            changed = ticket.change_tier(target, at=at, actor=actor, reason=reason)
            if group is not None and group != ticket.group_id:
                changed = changed.assign(at=at, actor=actor, group_id=group, assignee_id=None)
                changed = self._route(changed, self._customer_of(ticket), at, group_id=group)
            return changed

        return self._change(ticket_id, change)

    def request_senior_agent(
        self, ticket_id: str, *, actor: Actor | None = None, reason: str | None = None
    ) -> Stored[Ticket]:
        """The customer asked for a senior agent (高级客服): record it and route the ticket
        to an agent of grade senior or above in its group when one is free (else it
        keeps its agent); escalation rules on the request fire too."""

        def change(ticket: Ticket, at: datetime) -> Ticket:
            who = actor or Actor.customer(ticket.customer_id)
            changed = ticket.record(SeniorAgentRequested(at=at, actor=who, reason=reason))
            current = self._agents.get(ticket.assignee_id or "")
            if ticket.group_id is None or (
                current is not None and current.grade >= AgentGrade.SENIOR
            ):
                return changed
            customer = self._customer_of(ticket)
            state = self._group_state(ticket.group_id, at)
            agent, cursor, why = choose_agent(
                state,
                changed,
                customer,
                now=at,
                waited=timedelta(0),
                min_grade=AgentGrade.SENIOR,
            )
            if agent is None:
                return changed
            self._save_cursor(cursor)
            changed = changed.assign(at=at, actor=_ROUTER, assignee_id=agent)
            return changed.record(
                Routed(
                    at=at,
                    actor=_ROUTER,
                    group_id=ticket.group_id,
                    assignee_id=agent,
                    reasons=tuple(line[:500] for line in why),
                )
            )

        return self._change(ticket_id, change)

    def merge(self, ticket_id: str, *, into: str, actor: Actor) -> Stored[Ticket]:
        """Merge ticket ``ticket_id`` into ``into`` (both must exist); returns the merged one."""
        self._store.tickets.get(into)
        return self._change(ticket_id, lambda t, at: t.merge_into(into, at=at, actor=actor))

    def close_solved_after(self, days: int | timedelta, *, now: datetime | None = None) -> int:
        """Close every ticket solved at least ``days`` ago (an int of days or a timedelta);
        returns how many were closed."""
        if isinstance(days, bool) or not isinstance(days, (int, timedelta)):
            raise ValidationError.single(
                "HelpDesk.close_solved_after",
                "days",
                f"expected days (int or timedelta), got {days!r}",
            )
        age = days if isinstance(days, timedelta) else timedelta(days=days)
        if age < timedelta(0):
            raise ValidationError.single(
                "HelpDesk.close_solved_after", "days", f"expected 0 or more days, got {days!r}"
            )
        at = self._now() if now is None else ensure_aware(now, "HelpDesk", "now")
        closed = 0
        while True:
            page = self._schedules.find(
                "solved",
                where={"status": Status.SOLVED.value},
                high=at - age + _MICROSECOND,
                limit=100,
            )
            if not page.items:
                return closed
            for stored in page.items:
                result = self.set_status(
                    stored.value.ticket_id, Status.CLOSED, actor=_SYSTEM, reason=f"solved {age} ago"
                )
                closed += result.value.status is Status.CLOSED

    # -- presence and dispatch --------------------------------------------------------------

    def set_presence(self, agent_id: str, presence: Presence) -> None:
        """Record that agent ``agent_id`` is online, away or offline from now on."""
        self._setup.agent(agent_id)
        if not isinstance(presence, Presence):
            raise ValidationError.single(
                "HelpDesk.set_presence",
                "presence",
                f"expected a Presence ({', '.join(p.value for p in Presence)}), got {presence!r}",
            )

        def work() -> None:
            value = AgentPresence(agent_id=agent_id, presence=presence, since=self._now())
            try:
                stored = self._presence.get(agent_id)
            except NotFoundError:
                self._presence.add(value)
                return
            self._presence.save(value, expected_version=stored.version)

        self._retrying(work)

    def presence(self, agent_id: str) -> Presence:
        """The agent's presence: as last set, else as the roster says."""
        agent = self._setup.agent(agent_id)
        try:
            return self._presence.get(agent_id).value.presence
        except NotFoundError:
            return agent.presence

    def dispatch(self, group_id: str | None = None, *, limit: int = 100) -> list[Stored[Ticket]]:
        """Route the tickets waiting unassigned (in ``group_id``, or every group), oldest
        first, now that agents may be free; returns the tickets that got an agent."""
        groups = [self._setup.group(group_id).id] if group_id else list(self._groups)
        assigned: list[Stored[Ticket]] = []
        for group in groups:
            waiting = self._schedules.find(
                "queue",
                where={"group_id": group, "assignee_id": (None,), "status": _UNSOLVED_VALUES},
                limit=limit,
            )
            for stored in waiting.items:

                def change(ticket: Ticket, at: datetime, group: str = group) -> Ticket:
                    if ticket.group_id != group:
                        return ticket
                    return self._route_queued(ticket, None, at)

                result = self._change(stored.value.ticket_id, change)
                if result.value.assignee_id is not None:
                    assigned.append(result)
        return assigned

    # -- reading -------------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Stored[Ticket]:
        """The stored ticket ``ticket_id``."""
        return self._store.tickets.get(ticket_id)

    def schedule(self, ticket_id: str) -> TicketSchedule:
        """The stored schedule of ticket ``ticket_id`` (``NotFoundError`` if the desk never
        stored the ticket)."""
        return self._schedules.get(ticket_id).value

    def _window(
        self,
        order: str,
        within: timedelta,
        now: datetime | None,
        statuses: StatusGroup | Status | Iterable[Status],
        group_id: str | None,
        assignee_id: str | None,
        tier: str | None,
        kind: TicketKind | None,
        limit: int,
        cursor: str | None,
    ) -> Page[TicketSchedule]:
        if not isinstance(within, timedelta) or within < timedelta(0):
            raise ValidationError.single(
                "HelpDesk query", "within", f"expected a duration of 0 or more, got {within!r}"
            )
        at = self._now() if now is None else ensure_aware(now, "HelpDesk query", "now")
        where: dict[str, Any] = {"status": _statuses(statuses)}
        for name, value in (
            ("group_id", group_id),
            ("assignee_id", assignee_id),
            ("tier", tier),
            ("kind", kind),
        ):
            if value is not None:
                where[name] = value
        page = self._schedules.select(
            where, order, high=to_epoch_us(at + within) + 1, limit=limit, cursor=cursor
        )
        return Page(tuple(s.value for s in page.items), page.next_cursor)

    def due(
        self,
        *,
        within: timedelta,
        now: datetime | None = None,
        statuses: StatusGroup | Status | Iterable[Status] = StatusGroup.UNSOLVED,
        group_id: str | None = None,
        assignee_id: str | None = None,
        tier: str | None = None,
        kind: TicketKind | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[TicketSchedule]:
        """Schedules of tickets due (or already breaching) by ``now + within``, soonest
        first: the earliest due instant of a running metric is at most that."""
        return self._window(
            "due_at", within, now, statuses, group_id, assignee_id, tier, kind, limit, cursor
        )

    def warnings(
        self,
        *,
        within: timedelta,
        now: datetime | None = None,
        statuses: StatusGroup | Status | Iterable[Status] = StatusGroup.UNSOLVED,
        group_id: str | None = None,
        assignee_id: str | None = None,
        tier: str | None = None,
        kind: TicketKind | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[TicketSchedule]:
        """Schedules of tickets whose next warning threshold falls by ``now + within``."""
        return self._window(
            "warning_at", within, now, statuses, group_id, assignee_id, tier, kind, limit, cursor
        )

    # -- sweeps -------------------------------------------------------------------------------

    def sweep(
        self,
        now: datetime | None = None,
        *,
        worker: str = "sweeper",
        batch: int = 100,
        lease: timedelta = DEFAULT_LEASE,
    ) -> SweepReport:
        """Look at every ticket whose schedule is due by ``now``: evaluate its SLA from the
        stored clock state, fire the escalation rules now due, store what changed and
        advance its indexed instants.

        Only due schedules are read (an index on ``sweep_at``), a batch at a time, each
        batch leased and stored in one unit of work: several workers (threads or
        processes, on SQLite or PostgreSQL) may sweep one store at once, and no firing
        is applied twice. Tickets are not kept once their batch is stored (not even in
        the store's memory of recent timelines).
        """
        at = self._now() if now is None else ensure_aware(now, "HelpDesk.sweep", "now")
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1000:
            raise ValidationError.single(
                "HelpDesk.sweep", "batch", f"expected an integer from 1 to 1000, got {batch!r}"
            )
        high = to_epoch_us(at) + 1
        until = at + lease
        examined = saved = batches = retried = 0
        fired: list[tuple[str, str]] = []
        size = batch
        while True:
            try:
                with self._store.transaction():
                    leased = self._schedules.lease("sweep", high=high, until=until, limit=size)
                    outcome = self._sweep_batch(leased, at) if leased else ([], 0)
            except (ConflictError, RetryableStorageError):
                retried += 1
                size = 1  # run the batch again ticket by ticket
                if retried > self._max_attempts * batch:
                    raise
                continue
            if not leased:
                break
            # A sweep keeps no ticket alive: what the store remembers of the batch's
            # timelines (to check later saves cheaply) is dropped, so a sweep through
            # 100,000 tickets leaves nothing for the garbage collector to walk.
            for schedule in leased:
                self._store.tickets.forget(schedule.value.ticket_id)
            batches += 1
            examined += len(leased)
            fired.extend(outcome[0])
            saved += outcome[1]
            size = batch
        counts = {
            extension.name: dict(extension.sweep(at, worker=worker, batch=batch, lease=lease))
            for extension in self._extensions
        }
        return SweepReport(at, examined, tuple(fired), saved, batches, retried, counts)

    def _sweep_batch(
        self, leased: list[Stored[TicketSchedule]], now: datetime
    ) -> tuple[list[tuple[str, str]], int]:
        tickets = self._store.tickets.get_many([s.value.ticket_id for s in leased])
        customers = (
            self._store.customers.get_many({s.value.customer_id for s in leased})
            if self._conditions_read_customers
            else {}
        )
        fired: list[tuple[str, str]] = []
        saved = 0
        for stored_schedule in leased:
            previous = stored_schedule.value
            stored = tickets.get(previous.ticket_id)
            if stored is None:
                continue  # not stored (yet): nothing to do; the lease runs out
            ticket = stored.value
            customer_stored = customers.get(ticket.customer_id)
            customer = customer_stored.value if customer_stored else None
            at = now if now >= ticket.updated_at else ticket.updated_at
            if previous.route_at is not None and previous.route_at <= at:
                ticket = self._route_queued(ticket, customer, at)
            settled, schedule = self._settle(ticket, previous, customer, at)
            self._schedules.save(schedule, expected_version=stored_schedule.version)
            if settled is not stored.value:
                self._store.tickets.save(
                    settled, expected_version=stored.version, next_deadline=schedule.next_deadline
                )
                self._ticket_changed(stored.value, settled, customer, at)
                saved += 1
                fired.extend(
                    (ticket.id, event.rule)  # type: ignore[attr-defined]
                    for event in settled.timeline[len(stored.value.timeline) :]
                    if event.type_name == "escalation.rule_fired"
                )
        return fired, saved
