"""RevisitDesk: revisit plans materialized in a store, the task lifecycle at the desk,
the desk's changes followed (complaints solved, tickets reopened, customers erased or
withdrawing consent, surveys answered), agendas, figures; laws over small stores."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_helpdesk import _setup

import csdomain.surveys.fields  # noqa: F401 - declares the survey.* condition fields
from csdomain.calendars import BusinessCalendar
from csdomain.cli.revisits import progress_bar
from csdomain.clock import FrozenClock
from csdomain.conditions import Compare
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier
from csdomain.errors import InvalidTransitionError, NotFoundError, ValidationError
from csdomain.helpdesk import DeskChange, DeskExtension, HelpDesk
from csdomain.helpdesk.revisits import MaterializeReport, RevisitDesk
from csdomain.ids import SequentialIds
from csdomain.revisits.materialize import replacement_key
from csdomain.revisits.placement import ContactWindow
from csdomain.revisits.plans import RetryPolicy, RevisitPlan, RevisitRule, Trigger
from csdomain.revisits.recurrence import Recurrence
from csdomain.revisits.tracking import Rate
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm, TaskState
from csdomain.storage import Store, open_store
from csdomain.tickets import Actor, TicketKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Monday 7 December 2026, 10:00 in Shanghai: the desk's "now".
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
CONSENTED = datetime(2026, 1, 1, tzinfo=SHANGHAI)
WINDOW = ContactWindow(
    calendar=BusinessCalendar.weekdays("window", "Asia/Shanghai", "09:00-12:00", "14:00-18:00"),
    min_gap=timedelta(days=2),
)
MONTHLY = RevisitRule(
    name="vip-monthly",
    who=Compare("customer.tier", "ge", "vip"),
    recurrence=Recurrence("FREQ=MONTHLY;BYMONTHDAY=1"),
    forms=(RevisitForm.PHONE, RevisitForm.SMS),
    purpose="Monthly care call",
    group_id="l1",
    retry=RetryPolicy(max_attempts=2),
)
FOLLOW_UP = RevisitRule(
    name="complaint-follow-up",
    trigger=Trigger.complaint_solved(business_days=3),
    forms=(RevisitForm.PHONE,),
    purpose="Complaint follow-up",
    group_id="l1",
)
LOW_SCORE = RevisitRule(
    name="low-csat",
    trigger=Trigger.survey_answered(Compare("survey.csat", "le", 2), days=1),
    forms=(RevisitForm.PHONE,),
    purpose="Low satisfaction call",
    group_id="l1",
)
PLAN = RevisitPlan(
    name="care",
    rules=(MONTHLY, FOLLOW_UP, LOW_SCORE),
    window=WINDOW,
    starts_on=date(2026, 12, 1),
)
#: The monthly call's three occurrences in 90 days from NOW, each a weekday 10:00.
MONTHLY_DUE = [
    datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI),
    datetime(2027, 2, 1, 10, 0, tzinfo=SHANGHAI),
    datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI),
]


def _customer(
    number: int,
    *,
    tier: CustomerTier = CustomerTier.VIP,
    phone: Consent = Consent.GIVEN,
    sms: Consent = Consent.GIVEN,
) -> Customer:
    address = f"1380013{number:04d}"

    def point(channel: str, consent: Consent) -> ContactPoint:
        changed = None if consent is Consent.UNKNOWN else CONSENTED
        return ContactPoint(channel, address, consent=consent, consent_changed_at=changed)

    return Customer(
        id=f"cus_{number:04d}",
        display_name=f"Customer {number}",
        contact_points=(point("phone_hotline", phone), point("sms", sms)),
        tier=tier,
        timezone="Asia/Shanghai",
    )


def _desk(
    customers: list[Customer] = (),  # type: ignore[assignment]
    *,
    url: str = "memory:",
    page_size: int = 2,
    plans: tuple[RevisitPlan, ...] = (PLAN,),
    others: tuple[Any, ...] = (),
) -> tuple[HelpDesk, RevisitDesk, FrozenClock]:
    clock = FrozenClock(NOW)
    store = open_store(url, tenant="acme", clock=clock, create=True)
    revisits = RevisitDesk(plans, page_size=page_size)
    desk = HelpDesk(
        store, _setup(), clock=clock, ids=SequentialIds(), extensions=(revisits, *others)
    )
    if customers:
        store.customers.add_many(customers)
    return desk, revisits, clock


def _all_tasks(store: Store, revisits: RevisitDesk) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for plan in revisits.plans:
        cursor = None
        while True:
            page = revisits.by_plan(plan.name, limit=7, cursor=cursor)
            found.update((t.id, t) for t in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    return found


def _move(clock: FrozenClock, to: datetime) -> None:
    clock.advance(to - clock.now())


# -- materializing --------------------------------------------------------------------


def test_the_revisit_desk_is_a_desk_extension() -> None:
    assert isinstance(RevisitDesk([PLAN]), DeskExtension)
    _, revisits, _ = _desk()
    assert revisits.name == "revisits"
    assert revisits.plan("care") is PLAN


def test_materialize_schedules_each_vip_monthly_call_on_exact_instants() -> None:
    customers = [_customer(1), _customer(2, tier=CustomerTier.STANDARD), _customer(3)]
    _, revisits, _ = _desk(customers)
    report = revisits.materialize(90)
    assert report == MaterializeReport(
        customers=3, created=6, cancelled=0, refused=0, kept=0, pages=2
    )
    mine = revisits.by_customer("cus_0001").items
    assert [t.due_at for t in mine] == MONTHLY_DUE
    assert {(t.state, t.form, t.channel, t.rule, t.group_id) for t in mine} == {
        (TaskState.SCHEDULED, RevisitForm.PHONE, "phone_hotline", "vip-monthly", "l1")
    }
    assert revisits.by_customer("cus_0002").items == ()


def test_materialize_reads_customers_a_page_at_a_time_and_reports_progress(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customers = [_customer(n) for n in range(5)]
    desk, revisits, _ = _desk(customers, page_size=2)
    limits: list[int] = []
    listing = desk.store.customers.list

    def spy(*, limit: int = 100, cursor: str | None = None) -> Any:
        limits.append(limit)
        return listing(limit=limit, cursor=cursor)

    monkeypatch.setattr(desk.store.customers, "list", spy)
    monkeypatch.setattr(
        desk.store.customers,
        "get_many",
        lambda *a, **k: pytest.fail("materialize must not load customers by id"),
    )
    seen: list[tuple[int, int]] = []
    report = revisits.materialize(90, progress=lambda done, total: seen.append((done, total)))
    assert limits == [2, 2, 2]
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert report.pages == 3 and report.created == 15


def test_materialize_twice_is_materialize_once() -> None:
    desk, revisits, _ = _desk([_customer(n) for n in range(3)])
    first = revisits.materialize(90)
    stored = _all_tasks(desk.store, revisits)
    versions = {k: desk.store.collection(_tasks()).get(k).version for k in stored}
    second = revisits.materialize(90)
    assert (second.created, second.cancelled, second.refused) == (0, 0, 0)
    assert second.kept == first.created
    assert _all_tasks(desk.store, revisits) == stored
    assert {k: desk.store.collection(_tasks()).get(k).version for k in stored} == versions


def _tasks() -> Any:
    from csdomain.revisits.collection import REVISIT_TASKS

    return REVISIT_TASKS


def test_erased_customers_get_no_task() -> None:
    desk, revisits, _ = _desk([_customer(1), _customer(2)])
    desk.erase_customer("cus_0001", reason="request 42")
    revisits.materialize(90)
    assert revisits.by_customer("cus_0001").items == ()
    assert len(revisits.by_customer("cus_0002").items) == 3


def test_a_customer_without_consent_is_refused_and_nothing_is_stored() -> None:
    _, revisits, _ = _desk([_customer(1, phone=Consent.WITHDRAWN, sms=Consent.UNKNOWN)])
    report = revisits.materialize(90)
    assert (report.created, report.refused) == (0, 3)
    assert revisits.by_customer("cus_0001").items == ()


def test_editing_the_plan_replans_only_untouched_future_tasks() -> None:
    desk, revisits, clock = _desk([_customer(1)])
    revisits.materialize(90)
    first = revisits.by_customer("cus_0001").items[0]
    revisits.start(first.id, "agt_amy")
    edited = attrs.evolve(
        PLAN,
        version=2,
        rules=(attrs.evolve(MONTHLY, forms=(RevisitForm.SMS,)), FOLLOW_UP, LOW_SCORE),
    )
    again = RevisitDesk([edited], page_size=2)
    HelpDesk(desk.store, _setup(), clock=clock, extensions=(again,))
    report = again.materialize(90)
    tasks = again.by_customer("cus_0001").items
    started = [t for t in tasks if t.id == first.id]
    assert started[0].state is TaskState.IN_PROGRESS  # touched: kept as it was
    cancelled = [t for t in tasks if t.state is TaskState.CANCELLED]
    assert {t.cancel_reason for t in cancelled} == {CancelReason.PLAN_CHANGED}
    assert len(cancelled) == report.cancelled == 2
    fresh = [t for t in tasks if t.state is TaskState.SCHEDULED]
    assert {t.form for t in fresh} == {RevisitForm.SMS}
    assert report.created == len(fresh) == 2


# -- the lifecycle ---------------------------------------------------------------------


def _first_task(revisits: RevisitDesk, customer_id: str = "cus_0001") -> Any:
    return revisits.by_customer(customer_id).items[0]


def test_a_reached_outcome_with_an_issue_opens_a_linked_ticket_in_the_same_unit() -> None:
    desk, revisits, clock = _desk([_customer(1)])
    revisits.materialize(90)
    task = _first_task(revisits)
    _move(clock, task.due_at)
    done = revisits.complete(
        task.id, Outcome.REACHED_WITH_ISSUE, agent_id="agt_amy", note="The router fails again"
    )
    assert done.state is TaskState.DONE
    assert done.outcome is Outcome.REACHED_WITH_ISSUE
    assert done.ticket_id is not None
    ticket = desk.ticket(done.ticket_id).value
    assert ticket.customer_id == "cus_0001"
    assert ticket.subject == "Monthly care call"
    assert ticket.kind is TicketKind.AFTER_SALES
    assert ticket.channel == "phone_hotline"
    assert "revisit" in ticket.tags
    assert revisits.task(task.id) == done


class Refusing:
    """An extension refusing every ticket opened (its observe raises)."""

    name = "refusing"

    def attach(self, desk: HelpDesk) -> None:
        pass

    def observe(self, change: DeskChange) -> None:
        if change.source == "ticket" and change.before is None:
            raise RuntimeError("no tickets today")

    def sweep(self, now: datetime, **kwargs: Any) -> dict[str, int]:
        return {}


def test_a_ticket_that_cannot_be_opened_leaves_the_task_as_it_was() -> None:
    desk, revisits, _ = _desk([_customer(1)], others=(Refusing(),))
    revisits.materialize(90)
    task = _first_task(revisits)
    with pytest.raises(RuntimeError, match="no tickets today"):
        revisits.complete(task.id, Outcome.REACHED_WITH_ISSUE, agent_id="agt_amy")
    assert revisits.task(task.id) == task
    assert desk.store.tickets.count() == 0


def test_a_retryable_outcome_gets_the_next_attempt_until_the_policy_says_stop() -> None:
    _, revisits, clock = _desk([_customer(1)])
    revisits.materialize(90)
    task = _first_task(revisits)
    _move(clock, task.due_at)
    retried = revisits.complete(task.id, Outcome.NO_ANSWER, agent_id="agt_amy")
    assert retried.state is TaskState.RESCHEDULED
    assert retried.attempts == 1
    assert retried.due_at > task.due_at
    assert retried.form is RevisitForm.SMS  # alternate forms: the next allowed one
    _move(clock, retried.due_at)
    last = revisits.complete(task.id, Outcome.BUSY, agent_id="agt_bob")
    assert last.state is TaskState.DONE and last.outcome is Outcome.BUSY
    assert last.attempts == 2  # max_attempts=2: no third attempt


def test_the_sweep_misses_tasks_not_started_by_the_close_of_their_window_day() -> None:
    desk, revisits, clock = _desk([_customer(1)])
    revisits.materialize(90)
    task = _first_task(revisits)
    # Friday 1 January 17:59: the window day is still open; 18:00 it has closed.
    report = desk.sweep(datetime(2027, 1, 1, 17, 59, tzinfo=SHANGHAI))
    assert report.extensions["revisits"] == {"missed": 0, "rescheduled": 0, "unreadable": 0}
    _move(clock, datetime(2027, 1, 1, 18, 0, tzinfo=SHANGHAI))
    report = desk.sweep(datetime(2027, 1, 1, 18, 0, tzinfo=SHANGHAI))
    assert report.extensions["revisits"] == {"missed": 1, "rescheduled": 1, "unreadable": 0}
    moved = revisits.task(task.id)
    assert moved.state is TaskState.RESCHEDULED
    assert moved.due_at >= datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)  # the next window day
    again = desk.sweep(datetime(2027, 1, 1, 18, 0, tzinfo=SHANGHAI))
    assert again.extensions["revisits"] == {"missed": 0, "rescheduled": 0, "unreadable": 0}


def test_bad_input_gets_typed_errors_and_changes_nothing() -> None:
    desk, revisits, _ = _desk([_customer(1)])
    revisits.materialize(90)
    task = _first_task(revisits)
    with pytest.raises(NotFoundError, match="rvt_missing"):
        revisits.start("rvt_missing", "agt_amy")
    with pytest.raises(NotFoundError, match="agt_nobody"):
        revisits.complete(task.id, Outcome.REACHED_SATISFIED, agent_id="agt_nobody")
    with pytest.raises(NotFoundError, match="no-such-plan"):
        revisits.by_plan("no-such-plan")
    with pytest.raises(NotFoundError, match="no-such-plan"):
        revisits.figures(plan="no-such-plan")
    with pytest.raises(ValidationError, match="outcome"):
        revisits.complete(task.id, "reached", agent_id="agt_amy")  # type: ignore[arg-type]
    assert revisits.task(task.id) == task
    cancelled = revisits.cancel(task.id)
    assert cancelled.cancel_reason is CancelReason.BY_AGENT
    with pytest.raises(InvalidTransitionError, match=task.id):
        revisits.complete(task.id, Outcome.REACHED_WITH_ISSUE, agent_id="agt_amy")
    assert revisits.task(task.id) == cancelled
    assert desk.store.tickets.count() == 0
    with pytest.raises(ValidationError, match="page_size"):
        RevisitDesk([PLAN], page_size=0)
    with pytest.raises(ValidationError, match="unique"):
        RevisitDesk([PLAN, PLAN])


# -- following the desk -----------------------------------------------------------------


def _complaint(desk: HelpDesk) -> str:
    opened = desk.open_ticket_for(
        "cus_0001", channel="phone_hotline", subject="Rude agent", kind=TicketKind.COMPLAINT
    )
    return opened.value.id


def test_solving_a_complaint_schedules_its_follow_up_once() -> None:
    desk, revisits, clock = _desk([_customer(1, tier=CustomerTier.STANDARD)])
    ticket_id = _complaint(desk)
    desk.solve(ticket_id, actor=Actor.agent("agt_amy"))  # Monday 7 December, 10:00
    [task] = revisits.by_customer("cus_0001").items
    assert task.rule == "complaint-follow-up" and task.cause == ticket_id
    # Three window days after Monday: Thursday 10 December, at 10:00.
    assert task.due_at == datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)

    clock.advance(timedelta(hours=1))
    desk.customer_message(ticket_id, body="Still rude")  # reopens the ticket
    [cancelled] = revisits.by_customer("cus_0001").items
    assert cancelled.state is TaskState.CANCELLED
    assert cancelled.cancel_reason is CancelReason.TICKET_REOPENED

    clock.advance(timedelta(hours=1))
    desk.solve(ticket_id, actor=Actor.agent("agt_amy"))
    assert [t.id for t in revisits.by_customer("cus_0001").items] == [task.id]


def test_a_solved_ticket_of_another_kind_schedules_nothing() -> None:
    desk, revisits, _ = _desk([_customer(1)])
    opened = desk.open_ticket_for("cus_0001", channel="phone_hotline", subject="Question")
    desk.solve(opened.value.id, actor=Actor.agent("agt_amy"))
    assert revisits.by_customer("cus_0001").items == ()


def _response(score: int, response_id: str = "rsp_1") -> Any:
    return SimpleNamespace(
        id=response_id,
        customer_id="cus_0001",
        answered_at=NOW,
        csat=score,
        nps=None,
        ces=None,
        kind=None,
        template="after-solve",
    )


def test_a_low_survey_score_schedules_a_call_once() -> None:
    desk, revisits, _ = _desk([_customer(1, tier=CustomerTier.STANDARD)])

    def publish(response: Any) -> None:
        change = DeskChange(source="surveys", at=NOW, customer_id="cus_0001", subject=response)
        desk.run_unit(lambda: desk.publish(change))

    publish(_response(4))
    assert revisits.by_customer("cus_0001").items == ()
    publish(_response(1))
    publish(_response(1))  # an edit of the same response: no second call
    [task] = revisits.by_customer("cus_0001").items
    assert (task.rule, task.cause) == ("low-csat", "rsp_1")
    # One day after Monday 10:00: Tuesday, inside the window.
    assert task.due_at == datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)


def _withdraw(channel: str) -> Any:
    def change(customer: Customer) -> Customer:
        points = tuple(
            p.withdraw_consent(NOW) if p.channel == channel else p for p in customer.contact_points
        )
        return attrs.evolve(customer, contact_points=points)

    return change


def test_withdrawn_consent_cancels_the_tasks_on_that_channel() -> None:
    desk, revisits, _ = _desk([_customer(1)])
    revisits.materialize(90)
    desk.update_customer("cus_0001", _withdraw("phone_hotline"))
    tasks = revisits.by_customer("cus_0001").items
    assert {(t.state, t.cancel_reason) for t in tasks} == {
        (TaskState.CANCELLED, CancelReason.CONSENT_WITHDRAWN)
    }
    assert revisits.customer_changed("cus_0001") == 0  # nothing left to cancel


def test_occurrences_cancelled_for_consent_come_back_on_a_form_still_consented_to() -> None:
    desk, revisits, _ = _desk([_customer(1)])
    revisits.materialize(90)
    before = revisits.by_customer("cus_0001").items
    desk.update_customer("cus_0001", _withdraw("phone_hotline"))
    report = revisits.materialize(90)
    tasks = revisits.by_customer("cus_0001").items
    live = [t for t in tasks if t.state is TaskState.SCHEDULED]
    # Every cancelled phone occurrence is taken over, on SMS, at the same nominal instant,
    # under a key derived from the cancelled one (so materializing again adds nothing).
    cancelled = [t for t in tasks if t.state is TaskState.CANCELLED]
    assert {t.nominal_at for t in live} == {t.nominal_at for t in before}
    assert {t.id for t in live} == {replacement_key(t.id) for t in cancelled}
    assert all(t.form is RevisitForm.SMS for t in live)
    assert report.created == len(before)
    assert revisits.materialize(90).created == 0


# -- laws over small stores ---------------------------------------------------------------

customers_strategy = st.lists(
    st.builds(
        _customer,
        st.integers(0, 30),
        tier=st.sampled_from(CustomerTier),
        phone=st.sampled_from(Consent),
        sms=st.sampled_from(Consent),
    ),
    max_size=6,
    unique_by=lambda c: c.id,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers=customers_strategy, page_size=st.integers(1, 4))
def test_law_materialize_twice_equals_once_whatever_the_page_size(
    customers: list[Customer], page_size: int
) -> None:
    desk, revisits, _ = _desk(customers, page_size=page_size)
    first = revisits.materialize(90)
    once = _all_tasks(desk.store, revisits)
    second = revisits.materialize(90)
    assert (second.created, second.cancelled) == (0, 0)
    assert _all_tasks(desk.store, revisits) == once
    # The same store materialized a customer at a time holds the same tasks.
    other, other_revisits, _ = _desk(customers, page_size=1)
    other_revisits.materialize(90)
    assert _all_tasks(other.store, other_revisits) == once
    assert first.created == len(once)
    for task in once.values():
        customer = next(c for c in customers if c.id == task.customer_id)
        assert customer.contactable_on(task.channel)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=customers_strategy.filter(bool),
    erase=st.booleans(),
    channel=st.sampled_from(["phone_hotline", "sms"]),
)
def test_law_erasure_or_withdrawn_consent_cancels_every_future_task(
    customers: list[Customer], erase: bool, channel: str
) -> None:
    desk, revisits, _ = _desk(customers)
    revisits.materialize(90)
    target = customers[0].id
    before = {t.id: t for t in revisits.by_customer(target, limit=1000).items}
    if erase:
        desk.erase_customer(target, reason="request 7")
    else:
        desk.update_customer(target, _withdraw(channel))
    after = revisits.by_customer(target, limit=1000).items
    assert {t.id for t in after} == set(before)
    for task in after:
        if erase or task.channel == channel:
            assert task.state is TaskState.CANCELLED
            expected = CancelReason.ERASED if erase else CancelReason.CONSENT_WITHDRAWN
            assert task.cancel_reason is expected
        else:
            assert task == before[task.id]
    # Materializing again brings none back.
    revisits.materialize(90)
    live = [
        t
        for t in revisits.by_customer(target, limit=1000).items
        if t.state is not TaskState.CANCELLED
    ]
    stored = desk.store.customers.get(target).value
    assert all(not erase and stored.contactable_on(t.channel) for t in live)


# -- reading ----------------------------------------------------------------------------


def test_agenda_serves_an_agents_day_and_overdue_the_late_tasks_page_by_page() -> None:
    desk, revisits, _ = _desk([_customer(n) for n in range(3)])
    revisits.materialize(90)
    january = [t for t in _all_tasks(desk.store, revisits).values() if t.due_at == MONTHLY_DUE[0]]
    assert len(january) == 3
    for task in january[:2]:
        revisits.assign(task.id, "agt_amy")
    first = revisits.agenda(agent_id="agt_amy", day=date(2027, 1, 1), limit=1)
    assert first.next_cursor is not None
    rest = revisits.agenda(
        agent_id="agt_amy", day=date(2027, 1, 1), limit=1, cursor=first.next_cursor
    )
    assert sorted(t.id for t in (*first.items, *rest.items)) == sorted(t.id for t in january[:2])
    assert rest.next_cursor is None
    assert revisits.agenda(agent_id="agt_amy", day=date(2027, 1, 2)).items == ()
    group_day = revisits.agenda(group_id="l1", day=date(2027, 1, 1)).items
    assert len(group_day) == 3
    late = revisits.overdue(datetime(2027, 1, 2, tzinfo=SHANGHAI))
    assert {t.id for t in late.items} == {t.id for t in january}
    with pytest.raises(ValidationError, match="exactly one"):
        revisits.agenda(day=date(2027, 1, 1))


def test_figures_count_completions_overdue_and_reach() -> None:
    _, revisits, clock = _desk([_customer(1), _customer(2)])
    revisits.materialize(90)
    one = revisits.by_customer("cus_0001").items[0]
    _move(clock, one.due_at)
    revisits.complete(one.id, Outcome.REACHED_SATISFIED, agent_id="agt_amy")
    figures = revisits.figures(datetime(2027, 1, 2, tzinfo=SHANGHAI))
    assert figures.tasks == 6
    assert figures.overdue == 1  # the other customer's January call
    assert figures.completion == Rate(1, 2)
    assert figures.reach_by_agent == {"agt_amy": Rate(1, 1)}
    assert figures.reach_by_form == {RevisitForm.PHONE: Rate(1, 1)}
    assert revisits.figures(datetime(2027, 1, 2, tzinfo=SHANGHAI), plan="care") == figures


# -- the progress bar -------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_on_a_terminal_and_writes_tenths_to_a_log() -> None:
    terminal = _Terminal()
    draw = progress_bar(terminal, width=10)
    draw(0, 4)
    draw(1, 4)
    draw(4, 4)
    assert terminal.getvalue() == (
        "\rrevisits [----------]   0%  0/4 customers"
        "\rrevisits [##--------]  25%  1/4 customers"
        "\rrevisits [##########] 100%  4/4 customers\n"
    )
    log = io.StringIO()
    draw = progress_bar(log, label="materialize")
    for done in range(0, 1001, 50):
        draw(done, 1000)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "materialize:   0%  0/1,000 customers"
    assert lines[-1] == "materialize: 100%  1,000/1,000 customers"
    with pytest.raises(ValidationError, match="width"):
        progress_bar(log, width=2)
