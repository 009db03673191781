"""A revisit plan (回访计划) at work: materialize it, serve the care team's days, track it.

An app keeps its revisit plan as a JSON document, loads it, and gives it to the
help desk as a RevisitDesk extension over a SQLite store. A nightly job
materializes the plan for every customer, one page of customers at a time. During
the day the care team works through its agenda and records each call's outcome:
no answer is tried again on the next form of the rule, and a problem opens a
ticket. A solved complaint schedules its own follow-up, and the tracking figures
sum up the week.

Run: python examples/revisits_plan.py
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from csdomain.calendars import BusinessCalendar, ExtraWorkday, Holiday
from csdomain.clock import FrozenClock
from csdomain.conditions import Compare
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier, Purchase
from csdomain.helpdesk import DeskSetup, HelpDesk, RevisitDesk
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.revisits import (
    ContactWindow,
    Outcome,
    RetryPolicy,
    RevisitForm,
    RevisitPlan,
    RevisitRule,
    RevisitTask,
    TaskState,
    Trigger,
)
from csdomain.serialization import from_json, to_json
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import open_store
from csdomain.tickets import Actor, TicketKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONSENTED = datetime(2026, 1, 1, tzinfo=timezone.utc)
OPEN_HOURS = ("09:00-12:00", "14:00-18:00")

#: The care team's window: weekdays in Shanghai, the 2026 National Day holiday and its
#: make-up working days; read in each customer's own zone.
WINDOW_CALENDAR = BusinessCalendar.weekdays(
    "care-window",
    "Asia/Shanghai",
    *OPEN_HOURS,
    holidays=[Holiday(date(2026, 10, d), "国庆节") for d in range(1, 8)],
    extra_workdays=[
        ExtraWorkday(date(2026, 9, 20), "国庆调休", OPEN_HOURS),
        ExtraWorkday(date(2026, 10, 10), "国庆调休", OPEN_HOURS),
    ],
)


def configured_plan() -> RevisitPlan:
    """The plan as the app's configuration screen would save it."""
    return RevisitPlan(
        "care",
        rules=(
            RevisitRule(
                "vip-monthly",
                who=Compare("customer.tier", "ge", "vip"),
                recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
                forms=(RevisitForm.PHONE, RevisitForm.SMS),
                purpose="Monthly VIP care call",
                group_id="care",
                retry=RetryPolicy(max_attempts=3),
            ),
            RevisitRule(
                "after-purchase",
                trigger=Trigger.purchase(days=7),
                forms=(RevisitForm.QUESTIONNAIRE,),
                questionnaire="qn_product_use",
                purpose="How is the new product working for you?",
                group_id="care",
            ),
            RevisitRule(
                "complaint-follow-up",
                trigger=Trigger.complaint_solved(business_days=3),
                forms=(RevisitForm.PHONE, RevisitForm.SMS),
                purpose="Complaint follow-up",
                group_id="care",
            ),
        ),
        window=ContactWindow(
            WINDOW_CALENDAR, quiet_hours=("20:00-08:00",), min_gap=timedelta(days=5)
        ),
        starts_on=date(2026, 9, 1),
    )


def customers() -> list[Customer]:
    """Three customers: two VIPs (one in New York) and one who just bought a router."""

    def reachable(channel: str, address: str) -> ContactPoint:
        return ContactPoint(channel, address, consent=Consent.GIVEN, consent_changed_at=CONSENTED)

    router = Purchase(
        "ord_8812",
        Decimal("399.00"),
        "CNY",
        datetime(2026, 9, 2, 20, 15, tzinfo=SHANGHAI),
        "Wi-Fi router",
    )
    return [
        Customer(
            "cus_wang",
            "Wang Fang",
            contact_points=(
                reachable("phone_hotline", "+8613800138000"),
                reachable("sms", "+8613800138000"),
            ),
            tier=CustomerTier.VIP,
            timezone="Asia/Shanghai",
        ),
        Customer(
            "cus_smith",
            "John Smith",
            contact_points=(reachable("phone_hotline", "+12125550100"),),
            tier=CustomerTier.VIP,
            timezone="America/New_York",
        ),
        Customer(
            "cus_li",
            "Li Lei",
            contact_points=(reachable("email", "li.lei@example.com"),),
            timezone="Asia/Shanghai",
            purchases=(router,),
        ),
    ]


def show(tasks: tuple[RevisitTask, ...] | list[RevisitTask]) -> None:
    for task in tasks:
        due = task.due_at.astimezone(SHANGHAI).strftime("%a %d %b %H:%M")
        print(
            f"  {due} (Shanghai)  {task.customer_id:<10} {task.rule:<20} "
            f"{task.form.value:<13} {task.state.value}"
        )


def main() -> None:
    # The plan travels as a JSON document and comes back equal.
    plan = from_json(to_json(configured_plan()), RevisitPlan)
    assert plan == configured_plan()

    four_hours = {p: Target(timedelta(hours=4), calendar="care-window") for p in Priority}
    setup = DeskSetup(
        sla=SlaSetup(
            [SlaPolicy("standard", [MetricPolicy(SlaMetric.FIRST_RESPONSE, four_hours)])],
            [WINDOW_CALENDAR],
        ),
        groups=(Group("care", "Care team", calendar="care-window"),),
        agents=(
            Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("care",)),
            Agent("agt_bo", "Bo", presence=Presence.ONLINE, groups=("care",)),
        ),
    )
    clock = FrozenClock(datetime(2026, 9, 1, 2, 0, tzinfo=SHANGHAI))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'desk.db'}"
        store = open_store(url, tenant="acme", clock=clock, create=True)
        revisits = RevisitDesk([plan], page_size=2)
        desk = HelpDesk(store, setup, clock=clock, ids=SequentialIds(), extensions=[revisits])
        store.customers.add_many(customers())

        print("Nightly materializing, 92 days ahead:")
        report = revisits.materialize(
            92, progress=lambda done, total: print(f"  {done}/{total} customers")
        )
        print(f"  {report}")
        assert (report.created, report.refused) == (9, 0)
        again = revisits.materialize(92)
        assert (again.created, again.kept) == (0, report.created), "materializing is idempotent"

        print("The care team's Tuesday 1 September:")
        tuesday = revisits.agenda(group_id="care", day=date(2026, 9, 1), zone="Asia/Shanghai")
        show(tuesday.items)
        wang_call, smith_call = tuesday.items
        assert wang_call.due_at == datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)
        assert smith_call.due_at == datetime(2026, 9, 1, 22, 0, tzinfo=SHANGHAI)  # 10:00 NY

        clock.advance(datetime(2026, 9, 1, 10, 5, tzinfo=SHANGHAI) - clock.now())
        retried = revisits.complete(wang_call.id, Outcome.NO_ANSWER, agent_id="agt_amy")
        assert retried.state is TaskState.RESCHEDULED and retried.form is RevisitForm.SMS
        print(f"No answer from Wang; next attempt by SMS at {retried.due_at.astimezone(SHANGHAI)}")

        clock.advance(datetime(2026, 9, 2, 9, 30, tzinfo=SHANGHAI) - clock.now())
        reached = revisits.complete(
            wang_call.id,
            Outcome.REACHED_WITH_ISSUE,
            agent_id="agt_bo",
            note="The router drops Wi-Fi every evening.",
        )
        assert reached.ticket_id is not None
        ticket = desk.ticket(reached.ticket_id).value
        print(f"Wang reached with an issue: ticket {ticket.id} ({ticket.kind.value}) opened")

        clock.advance(datetime(2026, 9, 2, 10, 0, tzinfo=SHANGHAI) - clock.now())
        smith_done = revisits.complete(smith_call.id, Outcome.REACHED_SATISFIED, agent_id="agt_amy")
        assert smith_done.state is TaskState.DONE

        # The ticket was a complaint in the end; solving it schedules the follow-up.
        complaint = desk.open_ticket_for(
            "cus_wang",
            channel="phone_hotline",
            subject="Refund for the router",
            kind=TicketKind.COMPLAINT,
        )
        clock.advance(datetime(2026, 9, 16, 15, 0, tzinfo=SHANGHAI) - clock.now())
        desk.solve(complaint.value.id, actor=Actor.agent("agt_amy"))
        follow_up = [
            t for t in revisits.by_customer("cus_wang").items if t.cause == complaint.value.id
        ]
        print("A complaint solved on Wednesday 16 September schedules:")
        show(follow_up)
        assert [t.due_at for t in follow_up] == [datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI)]

        print("Li's questionnaire a week after the purchase:")
        li = revisits.by_customer("cus_li").items
        show(li)
        assert [(t.due_at, t.channel) for t in li] == [
            (datetime(2026, 9, 9, 10, 0, tzinfo=SHANGHAI), "email")
        ]

        figures = revisits.figures(datetime(2026, 9, 16, 18, 0, tzinfo=SHANGHAI))
        print(
            f"Figures: completion {figures.completion.hits}/{figures.completion.n}, "
            f"overdue {figures.overdue}, reach {figures.reach.hits}/{figures.reach.n}"
        )
        for form, rate in figures.reach_by_form.items():
            print(f"  reach by {form.value}: {rate.hits}/{rate.n}")
        for agent, rate in figures.reach_by_agent.items():
            print(f"  reach by {agent}: {rate.hits}/{rate.n}")
        assert (figures.completion, figures.overdue, figures.reach) == ((2, 3), 1, (2, 3))
        store.close()


if __name__ == "__main__":
    main()
