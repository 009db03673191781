"""SLA evaluation: every metric of 100,000 tickets with realistic timelines.

One policy measures all four metrics (first response, next response, periodic
update, resolution) with a target per priority: business hours of an
Asia/Shanghai support calendar (Monday to Friday 09:00-12:00 and 13:30-18:00,
a few 2026 holidays and two make-up working days) for low, normal and high,
calendar hours (24/7) for urgent. Pause sets, bot-reply, reopen and
priority-change rules are the defaults.

The tickets come from ``random.Random(2026)``: created across 2026, each with
10-30 events built through the public ``Ticket`` methods (``open``,
``add_message``, ``change_status``, ``change_priority``): customer messages,
agent replies (some bot replies, some internal notes), pending and on-hold
pauses, solves, some reopens, some priority changes and some closes. They are
built once, outside the timing, and each is evaluated at two instants: a
``now`` after its last event (up to two days later) and a ``now`` in the middle
of its life (uniform between creation and the last event, so later events are
ignored and clocks are caught running or paused).

Timed: ``evaluate(ticket, [policy], calendars, now)`` over all tickets, for
each of the two instants, and in the same run ``calendar.add(t, d)`` on the
same calendar with random whole-minute UTC starts across 2026 (UTC, like the
event instants evaluate hands to the calendar) and random spans (1 minute to 5
business days). The three passes are interleaved chunk by chunk (1,000 inputs
of each in turn), so a change of load hits them alike; gc is off while timing
(and the built tickets are frozen out of the collector); the median of the
repeats is reported.

Run from the repository root::

    .venv/bin/python bench/sla.py              # full run: 100,000 tickets
    .venv/bin/python bench/sla.py --quick      # smoke run: 2,000 tickets, one repeat
    .venv/bin/python bench/sla.py --profile    # cProfile of evaluate on 5,000 tickets
    .venv/bin/python bench/sla.py --clock      # clock states against timeline length

``--clock`` (issue 10) times, on one ticket each of 10, 100, 1,000 and 10,000
events (customer messages and agent replies, a pending pause every 50 events,
an on-hold one every 500, still open), ``evaluate(ticket, setup, now)``
against ``evaluate_clock(state, setup, now)`` on the ticket's kept
``SlaClockState``, and beside them ``advance_clock`` by one new event and the
full walk ``clock_state``; ``now`` is an hour after the last event. Both
results are checked equal before timing.

Goal (from the issue): the cost of evaluating one ticket at most 15 times one
``BusinessCalendar.add`` call. ``--check`` exits with status 1 when it is not
met.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from machine import cpu, load_average, package_version

import csdomain
from csdomain.calendars import BusinessCalendar, ExtraWorkday, Holiday, TimeRange
from csdomain.channels import ChannelKind
from csdomain.priorities import Priority
from csdomain.sla import (
    MetricPolicy,
    SlaClockState,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    SlaState,
    SlaStatus,
    Target,
    advance_clock,
    clock_state,
    evaluate,
    evaluate_clock,
)
from csdomain.tickets import (
    Actor,
    ActorKind,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    Ticket,
    TicketKind,
    Visibility,
)

GOAL_RATIO = 15.0  # µs per ticket evaluation / µs per BusinessCalendar.add, at most

SEED = 2026
TICKETS_FULL = 100_000
TICKETS_QUICK = 2_000
PROFILE_TICKETS = 5_000
CHUNK = 1_000  # inputs per timed chunk; the passes alternate chunk by chunk
MIN_EVENTS, MAX_EVENTS = 10, 30

CALENDAR_NAME = "cn-support"
ZONE = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
YEAR_START_LOCAL = datetime(2026, 1, 1, tzinfo=ZONE)
YEAR_START_UTC = datetime(2026, 1, 1, tzinfo=UTC)
DAYS_IN_YEAR = 365

# A few of China's 2026 public holidays (whole days) and two weekend make-up
# working days (调休) that open with the usual hours.
HOLIDAYS: dict[date, str] = {
    date(2026, 1, 1): "元旦",
    date(2026, 1, 2): "元旦",
    date(2026, 2, 16): "春节",
    date(2026, 2, 17): "春节",
    date(2026, 2, 18): "春节",
    date(2026, 2, 19): "春节",
    date(2026, 2, 20): "春节",
    date(2026, 2, 23): "春节",
    date(2026, 5, 1): "劳动节",
    date(2026, 5, 4): "劳动节",
    date(2026, 5, 5): "劳动节",
    date(2026, 10, 1): "国庆节",
    date(2026, 10, 2): "国庆节",
    date(2026, 10, 5): "国庆节",
    date(2026, 10, 6): "国庆节",
    date(2026, 10, 7): "国庆节",
}
MAKEUP_DAYS: dict[date, str] = {
    date(2026, 2, 14): "春节调休",
    date(2026, 2, 28): "春节调休",
}
OPENING_HOURS = ("09:00-12:00", "13:30-18:00")
BUSINESS_DAY = timedelta(hours=7, minutes=30)

PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
PRIORITY_WEIGHTS = (20, 50, 22, 8)
CHANNELS = (
    ChannelKind.EMAIL,
    ChannelKind.WEB_CHAT,
    ChannelKind.WECHAT_OFFICIAL_ACCOUNT,
    ChannelKind.IN_APP_CHAT,
    ChannelKind.PHONE_HOTLINE,
)
CHANNEL_WEIGHTS = (30, 25, 25, 12, 8)
SUBJECTS = (
    "无法登录账户",
    "订单一直显示待发货",
    "Refund not received",
    "发票抬头填错了",
    "App crashes on start",
    "会员续费扣款两次",
)
CUSTOMER_BODIES = (
    "您好，我的订单三天了还没有发货，请帮忙查一下。",
    "I tried again and it still fails with the same error.",
    "附件是截图，麻烦尽快处理，谢谢。",
    "Any update on this? It has been a while.",
)
AGENT_BODIES = (
    "您好，已为您查询，我们正在跟进处理，请稍候。",
    "Thanks for the details. Could you send the order number?",
    "问题已反馈给技术团队，有进展会第一时间通知您。",
    "This should be fixed now; please try again and let us know.",
)
BOT_BODIES = (
    "【自动回复】您的问题已收到，客服会在工作时间内尽快回复。",
    "[bot] We received your message; see our help centre meanwhile.",
)
NOTE_BODIES = ("Checked logs: payment gateway timeout.", "已联系仓库，等待回复。")

# Median agent reply delay in business minutes, per priority (lognormal, sigma 1).
AGENT_MEDIAN_MINUTES = {
    Priority.LOW: 180.0,
    Priority.NORMAL: 90.0,
    Priority.HIGH: 45.0,
    Priority.URGENT: 20.0,
}


# -- the calendar and the policy ------------------------------------------------


def build_calendar() -> BusinessCalendar:
    return BusinessCalendar.weekdays(
        CALENDAR_NAME,
        "Asia/Shanghai",
        *OPENING_HOURS,
        holidays=tuple(Holiday(d, name) for d, name in sorted(HOLIDAYS.items())),
        extra_workdays=tuple(
            ExtraWorkday(d, name, hours=tuple(TimeRange.parse(r) for r in OPENING_HOURS))
            for d, name in sorted(MAKEUP_DAYS.items())
        ),
    )


def _targets(
    low: timedelta,
    normal: timedelta,
    high: timedelta,
    urgent: timedelta,
    warnings: tuple[float, ...] = (0.75,),
) -> dict[Priority, Target]:
    """Business-hour targets for low, normal and high; a calendar-hour (24/7) one for urgent."""
    business = {Priority.LOW: low, Priority.NORMAL: normal, Priority.HIGH: high}
    targets = {p: Target(d, calendar=CALENDAR_NAME, warnings=warnings) for p, d in business.items()}
    targets[Priority.URGENT] = Target(urgent, calendar=None, warnings=warnings)
    return targets


def build_policy() -> SlaPolicy:
    h = timedelta(hours=1)
    return SlaPolicy(
        name="cn-standard",
        metrics=(
            MetricPolicy(SlaMetric.FIRST_RESPONSE, _targets(8 * h, 4 * h, 2 * h, 1 * h)),
            MetricPolicy(SlaMetric.NEXT_RESPONSE, _targets(8 * h, 4 * h, 2 * h, 2 * h)),
            MetricPolicy(
                SlaMetric.PERIODIC_UPDATE,
                _targets(3 * BUSINESS_DAY, 2 * BUSINESS_DAY, BUSINESS_DAY, 8 * h),
            ),
            MetricPolicy(
                SlaMetric.RESOLUTION,
                _targets(
                    10 * BUSINESS_DAY, 5 * BUSINESS_DAY, 2 * BUSINESS_DAY, 24 * h, (0.5, 0.75)
                ),
            ),
        ),
    )


def describe_policy(policy: SlaPolicy) -> list[str]:
    lines = []
    for rules in policy.metrics:
        parts = []
        for priority in PRIORITIES:
            target = rules.targets[priority]
            where = "business" if target.calendar else "calendar"
            parts.append(f"{priority.value} {_span(target.duration)} {where}")
        pauses = ", ".join(sorted(s.value for s in rules.pause_statuses)) or "none"
        lines.append(f"- {rules.metric.value}: {'; '.join(parts)} (pauses: {pauses})")
    return lines


def _span(d: timedelta) -> str:
    minutes = round(d.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


# -- the tickets ------------------------------------------------------------------


class TimelineMaker:
    """Builds tickets with realistic timelines through the public ``Ticket`` methods."""

    def __init__(self, rng: random.Random, calendar: BusinessCalendar) -> None:
        self.rng = rng
        self.calendar = calendar
        self.agents = [Actor.agent(f"agent-{i:02d}") for i in range(40)]
        self.bot = Actor.bot("kefu-bot")
        self.system = Actor.system("auto-close")
        self.retries = 0

    # time ---------------------------------------------------------------------

    def created_at(self) -> datetime:
        """A creation instant in 2026: mostly local daytime, any day of the week."""
        rng = self.rng
        day = rng.randrange(DAYS_IN_YEAR)
        daytime = rng.random() < 0.8
        minute = rng.randrange(8 * 60, 22 * 60) if daytime else rng.randrange(24 * 60)
        return YEAR_START_LOCAL + timedelta(days=day, minutes=minute, seconds=rng.randrange(60))

    def _lognormal_minutes(self, median: float) -> int:
        return max(1, round(self.rng.lognormvariate(math.log(median), 1.0)))

    def later(self, t: datetime, median_minutes: float) -> datetime:
        """``t`` plus a calendar-time delay (lognormal around the median)."""
        return t + timedelta(minutes=self._lognormal_minutes(median_minutes))

    def business_later(self, t: datetime, median_minutes: float) -> datetime:
        """``t`` plus a business-time delay: agents work during opening hours."""
        minutes = self._lognormal_minutes(median_minutes)
        return self.calendar.add(t, timedelta(minutes=minutes, seconds=self.rng.randrange(60)))

    def agent_time(self, ticket: Ticket) -> datetime:
        t, priority = ticket.updated_at, ticket.priority
        median = AGENT_MEDIAN_MINUTES[priority]
        if priority is Priority.URGENT and self.rng.random() < 0.5:
            return self.later(t, median)  # the on-call agent answers out of hours
        return self.business_later(t, median)

    # actions ------------------------------------------------------------------

    def agent_reply(self, ticket: Ticket, agent: Actor) -> Ticket:
        return ticket.add_message(
            at=self.agent_time(ticket), actor=agent, body=self.rng.choice(AGENT_BODIES)
        )

    def bot_reply(self, ticket: Ticket) -> Ticket:
        at = ticket.updated_at + timedelta(seconds=self.rng.randrange(5, 90))
        return ticket.add_message(at=at, actor=self.bot, body=self.rng.choice(BOT_BODIES))

    def note(self, ticket: Ticket, agent: Actor) -> Ticket:
        return ticket.add_message(
            at=self.business_later(ticket.updated_at, 30),
            actor=agent,
            body=self.rng.choice(NOTE_BODIES),
            visibility=Visibility.INTERNAL,
        )

    def customer_message(self, ticket: Ticket, customer: Actor, median_minutes: float) -> Ticket:
        return ticket.add_message(
            at=self.later(ticket.updated_at, median_minutes),
            actor=customer,
            body=self.rng.choice(CUSTOMER_BODIES),
        )

    def change_priority(self, ticket: Ticket, agent: Actor) -> Ticket:
        others = [p for p in PRIORITIES if p is not ticket.priority]
        new = self.rng.choice(others)
        return ticket.change_priority(
            new, at=self.business_later(ticket.updated_at, 20), actor=agent
        )

    def step(self, ticket: Ticket, agent: Actor, customer: Actor, changes_left: int) -> Ticket:
        """One action that fits the ticket's status."""
        rng = self.rng
        status = ticket.status
        if status is Status.NEW:
            if rng.random() < 0.15 and not any(e.actor is self.bot for e in ticket.timeline):
                return self.bot_reply(ticket)
            if rng.random() < 0.05:
                return self.note(ticket, agent)
            return self.agent_reply(ticket, agent)  # also opens the ticket
        if status is Status.PENDING:
            roll = rng.random()
            if roll < 0.75:  # the customer answers: reopens the ticket
                return self.customer_message(ticket, customer, 300)
            if roll < 0.9:  # a reminder from the agent, still pending
                return ticket.add_message(
                    at=self.business_later(ticket.updated_at, 450),
                    actor=agent,
                    body=rng.choice(AGENT_BODIES),
                )
            return ticket.change_status(
                Status.ON_HOLD, at=self.business_later(ticket.updated_at, 60), actor=agent
            )
        if status is Status.ON_HOLD:  # the third party answered
            return ticket.change_status(
                Status.OPEN, at=self.business_later(ticket.updated_at, 480), actor=agent
            )
        # open
        choice = rng.choices(
            ("customer", "reply", "pending", "hold", "note", "bot", "priority"),
            (22, 26, 20, 7, 10, 3, 12 if changes_left else 0),
        )[0]
        if choice == "customer":
            return self.customer_message(ticket, customer, 60)
        if choice == "reply":
            return self.agent_reply(ticket, agent)
        if choice == "pending":  # ask the customer something and wait
            ticket = self.agent_reply(ticket, agent)
            at = ticket.updated_at + timedelta(seconds=rng.randrange(10, 120))
            return ticket.change_status(Status.PENDING, at=at, actor=agent)
        if choice == "hold":
            return ticket.change_status(
                Status.ON_HOLD, at=self.business_later(ticket.updated_at, 30), actor=agent
            )
        if choice == "note":
            return self.note(ticket, agent)
        if choice == "bot":
            return self.bot_reply(ticket)
        return self.change_priority(ticket, agent)

    def solve(self, ticket: Ticket, agent: Actor) -> Ticket:
        median = 900 if ticket.status is Status.PENDING else 60  # pending: solved after no answer
        return ticket.change_status(
            Status.SOLVED, at=self.business_later(ticket.updated_at, median), actor=agent
        )

    # tickets ------------------------------------------------------------------

    def attempt(self, number: int) -> Ticket:
        rng = self.rng
        target = rng.randint(MIN_EVENTS, MAX_EVENTS - 2)
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        customer = Actor.customer(f"cust-{rng.randrange(1, 50_000):05d}")
        agent = rng.choice(self.agents)
        ticket = Ticket.open(
            id=f"T{number:06d}",
            customer_id=customer.id or "",
            channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
            subject=rng.choice(SUBJECTS),
            at=self.created_at(),
            kind=rng.choice(tuple(TicketKind)),
            priority=priority,
            description=rng.choice(CUSTOMER_BODIES),
        )
        reopens = rng.choices((0, 1, 2), (78, 18, 4))[0]
        solved_in_the_end = rng.random() < 0.82
        roll = rng.random()
        changes_left = 2 if roll < 0.03 else 1 if roll < 0.18 else 0
        rounds = reopens + 1
        for r in range(rounds):
            last_round = r == rounds - 1
            round_end = 2 + (target - 2) * (r + 1) // rounds
            while len(ticket.timeline) < round_end - 1:
                before = ticket.priority
                ticket = self.step(ticket, agent, customer, changes_left)
                if ticket.priority is not before:
                    changes_left -= 1
                if rng.random() < 0.05:  # the ticket moves to another agent
                    agent = rng.choice(self.agents)
            if not last_round or solved_in_the_end:
                ticket = self.solve(ticket, agent)
            if not last_round:  # the customer writes back: reopens the ticket
                ticket = self.customer_message(ticket, customer, 24 * 60)
        if ticket.status is Status.SOLVED and rng.random() < 0.3:
            at = ticket.updated_at + timedelta(days=rng.randint(3, 7))
            ticket = ticket.change_status(Status.CLOSED, at=at, actor=self.system)
        return ticket

    def make(self, number: int) -> Ticket:
        """A ticket of 10-30 events (an attempt that overshoots is thrown away)."""
        while True:
            ticket = self.attempt(number)
            if MIN_EVENTS <= len(ticket.timeline) <= MAX_EVENTS:
                return ticket
            self.retries += 1


@dataclass
class Workload:
    tickets: list[Ticket]
    end_nows: list[datetime]  # after the last event
    mid_nows: list[datetime]  # between creation and the last event
    add_starts: list[datetime]
    add_spans: list[timedelta]
    build_seconds: float
    retries: int


def build_workload(n: int, calendar: BusinessCalendar) -> Workload:
    rng = random.Random(SEED)
    maker = TimelineMaker(rng, calendar)
    tickets, end_nows, mid_nows = [], [], []
    t0 = time.perf_counter()
    for number in range(1, n + 1):
        ticket = maker.make(number)
        first, last = ticket.created_at, ticket.updated_at
        tickets.append(ticket)
        end_nows.append(last + timedelta(seconds=rng.randrange(60, 2 * 86_400)))
        life = int((last - first).total_seconds())
        mid_nows.append(first + timedelta(seconds=rng.randrange(life + 1)))
    build_seconds = time.perf_counter() - t0
    max_span = int(5 * BUSINESS_DAY.total_seconds()) // 60
    add_starts = [
        YEAR_START_UTC + timedelta(minutes=rng.randrange(DAYS_IN_YEAR * 24 * 60)) for _ in range(n)
    ]
    add_spans = [timedelta(minutes=rng.randint(1, max_span)) for _ in range(n)]
    return Workload(
        tickets, end_nows, mid_nows, add_starts, add_spans, build_seconds, maker.retries
    )


def timeline_summary(tickets: Sequence[Ticket]) -> list[str]:
    """What the built timelines hold, to show they are the intended mix."""
    n = len(tickets)
    lengths = [len(t.timeline) for t in tickets]
    has: Counter[str] = Counter()
    events: Counter[str] = Counter()
    for ticket in tickets:
        seen: set[str] = set()
        for e in ticket.timeline:
            kind = type(e)
            if kind is MessageAdded:
                actor = e.actor.kind
                if e.visibility is Visibility.INTERNAL:  # type: ignore[attr-defined]
                    events["internal note"] += 1
                elif actor is ActorKind.CUSTOMER:
                    events["customer message"] += 1
                elif actor is ActorKind.BOT:
                    events["bot reply"] += 1
                    seen.add("a bot reply")
                else:
                    events["agent reply"] += 1
            elif kind is StatusChanged:
                events["status change"] += 1
                new, old = e.new, e.old  # type: ignore[attr-defined]
                if new in (Status.PENDING, Status.ON_HOLD):
                    seen.add("a pending or on-hold pause")
                if old is Status.SOLVED and new is Status.OPEN:
                    seen.add("a reopen")
            elif kind is PriorityChanged:
                events["priority change"] += 1
                seen.add("a priority change")
            else:
                events["created"] += 1
        has.update(seen)
        has[f"final status {ticket.status.value}"] += 1
    priorities = Counter(t.timeline[0].priority.value for t in tickets)  # type: ignore[attr-defined]
    total = sum(lengths)
    lines = [
        f"Events per ticket: mean {total / n:.2f}, min {min(lengths)}, max {max(lengths)} "
        f"({total:,} events)  ",
        "Events: "
        + ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in events.most_common())
        + "  ",
        "Tickets with "
        + ", ".join(
            f"{k} {100 * has[k] / n:.1f}%"
            for k in ("a reopen", "a priority change", "a pending or on-hold pause", "a bot reply")
        )
        + "  ",
        "Final status: "
        + ", ".join(
            f"{s.value} {100 * has[f'final status {s.value}'] / n:.1f}%"
            for s in Status
            if has[f"final status {s.value}"]
        )
        + "  ",
        "Priority at creation: "
        + ", ".join(f"{p.value} {100 * priorities[p.value] / n:.1f}%" for p in PRIORITIES)
        + "  ",
    ]
    return lines


# -- timing ---------------------------------------------------------------------


@dataclass
class Pass:
    """One timed pass: a call over every input, run as chunks of the inputs."""

    name: str
    calls: int
    chunks: list[Callable[[], list[Any]]]  # each runs the call over one chunk of inputs
    samples: list[float] = field(default_factory=list)  # µs per call, one per repeat

    @property
    def us(self) -> float:
        return statistics.median(self.samples)

    def run_all(self) -> list[Any]:
        return [r for chunk in self.chunks for r in chunk()]


def measure(passes: list[Pass], repeat: int) -> None:
    """Median µs per call of each pass, gc off while timing.

    The passes are interleaved chunk by chunk (chunk 1 of every pass, then
    chunk 2, ...), so a change of load on a shared machine hits them alike
    and their ratio stays fair. A repeat sums each pass's chunk times.
    """
    for _ in range(repeat):
        totals = [0] * len(passes)
        gc.collect()
        gc.disable()
        try:
            for k in range(len(passes[0].chunks)):
                for i, p in enumerate(passes):
                    run = p.chunks[k]
                    t0 = time.perf_counter_ns()
                    out = run()
                    t1 = time.perf_counter_ns()
                    del out  # freed outside the timing
                    totals[i] += t1 - t0
        finally:
            gc.enable()
        for p, total in zip(passes, totals, strict=True):
            p.samples.append(total / p.calls / 1000)


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def state_table(results: dict[str, list[SlaStatus]]) -> list[str]:
    """Metric states by evaluation instant, as a sanity check of the mix."""
    states = list(SlaState)
    lines = [
        "| now | metric | " + " | ".join(s.value for s in states) + " |",
        "|---|---|" + "--:|" * len(states),
    ]
    for label, statuses in results.items():
        counts: dict[SlaMetric, Counter[SlaState]] = {m: Counter() for m in SlaMetric}
        for status in statuses:
            for m in status.metrics:
                counts[m.metric][m.state] += 1
        total: Counter[SlaState] = Counter()
        for metric, c in counts.items():
            total.update(c)
            cells = " | ".join(_pct(c[s], len(statuses)) for s in states)
            lines.append(f"| {label} | {metric.value} | {cells} |")
        cells = " | ".join(_pct(total[s], 4 * len(statuses)) for s in states)
        lines.append(f"| {label} | all four | {cells} |")
    return lines


def _pct(count: int, n: int) -> str:
    if not count:
        return "-"
    share = 100 * count / n
    return f"{share:.1f}%" if share >= 0.05 else "<0.1%"


def profile(work: Workload, policies: list[SlaPolicy], calendars: dict[str, Any]) -> None:
    """cProfile of evaluate at both instants, per evaluation, top functions by cumulative time."""
    pairs = list(zip(work.tickets, work.end_nows, strict=True))
    pairs += list(zip(work.tickets, work.mid_nows, strict=True))
    for ticket, now in pairs[:200]:  # warm the calendar index and the caches
        evaluate(ticket, policies, calendars, now)
    profiler = cProfile.Profile()
    gc.disable()
    profiler.enable()
    for ticket, now in pairs:
        evaluate(ticket, policies, calendars, now)
    profiler.disable()
    gc.enable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    n = len(pairs)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"\n## Profile: cProfile, {n:,} evaluations ({len(work.tickets):,} tickets x 2 instants)\n"
    )
    print(
        f"Total {total:.2f} s under the profiler, {1e6 * total / n:.1f} µs per evaluation "
        "(cProfile adds a fixed cost per Python call, so call-heavy code looks slower "
        "than it is).\n"
    )
    rows = sorted(raw.items(), key=lambda kv: kv[1][3], reverse=True)
    print("| function | calls/evaluation | own µs/evaluation | cumulative µs/evaluation | cum % |")
    print("|---|--:|--:|--:|--:|")
    for (filename, line, name), (_, calls, own, cum, _) in rows[:25]:
        where = _where(filename, line, name)
        print(
            f"| {where} | {calls / n:.2f} | {1e6 * own / n:.2f} | {1e6 * cum / n:.2f} "
            f"| {100 * cum / total:.0f}% |"
        )
    print("\nBy own time:\n")
    print("| function | calls/evaluation | own µs/evaluation | own % |")
    print("|---|--:|--:|--:|")
    for (filename, line, name), (_, calls, own, _, _) in sorted(
        raw.items(), key=lambda kv: kv[1][2], reverse=True
    )[:20]:
        print(
            f"| {_where(filename, line, name)} | {calls / n:.2f} | {1e6 * own / n:.2f} "
            f"| {100 * own / total:.0f}% |"
        )


def _where(filename: str, line: int, name: str) -> str:
    if filename == "~":
        return f"`{name}`"
    short = filename.replace("\\", "/")
    if "/csdomain/" in short:
        short = "csdomain/" + short.rsplit("/csdomain/", 1)[1]
    else:
        short = short.rsplit("/", 1)[-1]
    return f"`{short}:{line} {name}`"


# -- clock states (issue 10) --------------------------------------------------------

CLOCK_SIZES = (10, 100, 1_000, 10_000)
CLOCK_SIZES_QUICK = (10, 100, 1_000)


def long_ticket(events: int, calendar: BusinessCalendar) -> Ticket:
    """A ticket of exactly ``events`` events, still open: customer messages and agent
    replies in turn (agents answer in business time), a pending pause about every 50
    changes and an on-hold one about every 500 (the customer's answer reopens a pending
    ticket: two events)."""
    rng = random.Random(SEED + events)
    customer, agent = Actor.customer("cust-00001"), Actor.agent("agent-01")
    ticket = Ticket.open(
        id=f"L{events:05d}",
        customer_id="cust-00001",
        channel=ChannelKind.EMAIL,
        subject=SUBJECTS[0],
        at=datetime(2026, 3, 2, 9, 30, tzinfo=ZONE),
        priority=Priority.NORMAL,
    )
    steps = 0
    while len(ticket.timeline) < events - 1:  # the last change may add two events
        steps += 1
        last = ticket.updated_at
        if ticket.status is Status.OPEN and steps % 500 == 0:
            ticket = ticket.change_status(
                Status.ON_HOLD, at=calendar.add(last, timedelta(minutes=20)), actor=agent
            )
        elif ticket.status is Status.ON_HOLD:
            ticket = ticket.change_status(
                Status.OPEN, at=calendar.add(last, timedelta(hours=2)), actor=agent
            )
        elif ticket.status is Status.OPEN and steps % 50 == 0:
            at = last + timedelta(seconds=rng.randrange(10, 120))
            ticket = ticket.change_status(Status.PENDING, at=at, actor=agent)
        elif ticket.status is Status.PENDING or steps % 2:
            at = last + timedelta(minutes=rng.randint(5, 240))
            ticket = ticket.add_message(at=at, actor=customer, body=rng.choice(CUSTOMER_BODIES))
        else:
            at = calendar.add(last, timedelta(minutes=rng.randint(5, 90)))
            ticket = ticket.add_message(at=at, actor=agent, body=rng.choice(AGENT_BODIES))
    if len(ticket.timeline) < events:
        at = ticket.updated_at + timedelta(minutes=30)
        ticket = ticket.add_message(
            at=at, actor=agent, body=NOTE_BODIES[0], visibility=Visibility.INTERNAL
        )
    return ticket


@dataclass
class ClockRow:
    events: int
    segments: int  # intervals the resolution cycle counted
    evaluate_us: float
    clock_us: float
    advance_us: float
    walk_us: float


def _time_call(call: Callable[[], object], budget: float) -> float:
    """µs per call of ``call``: as many calls as fit in about ``budget`` seconds (at
    least 3), gc off."""
    t0 = time.perf_counter()
    call()
    once = time.perf_counter() - t0
    calls = max(3, min(100_000, int(budget / max(once, 1e-7))))
    gc.collect()
    gc.disable()
    try:
        t0_ns = time.perf_counter_ns()
        for _ in range(calls):
            call()
        t1_ns = time.perf_counter_ns()
    finally:
        gc.enable()
    return (t1_ns - t0_ns) / calls / 1000


def clock_case(sizes: Sequence[int], repeat: int, budget: float) -> list[ClockRow]:
    """evaluate against evaluate_clock (and advance_clock, clock_state) per timeline
    length: medians of ``repeat`` rounds, each round timing every size and call in turn."""
    calendar = build_calendar()
    setup = SlaSetup([build_policy()], [calendar])
    cases = []
    for size in sizes:
        ticket = long_ticket(size, calendar)
        if len(ticket.timeline) != size or ticket.status is not Status.OPEN:
            raise AssertionError(f"the {size}-event ticket came out wrong: {ticket!r}")
        now = ticket.updated_at + timedelta(hours=1)
        state = clock_state(ticket, setup)
        before = clock_state(Ticket(timeline=ticket.timeline[:-1]), setup)
        if evaluate_clock(state, setup, now) != evaluate(ticket, setup, now):
            raise AssertionError(f"evaluate_clock differs from evaluate on {size} events")
        if advance_clock(before, ticket, setup) != state:
            raise AssertionError(f"advance_clock differs from clock_state on {size} events")
        cases.append((ticket, now, state, before))
    samples: dict[int, list[tuple[float, float, float, float]]] = {s: [] for s in sizes}
    for _ in range(repeat):
        for size, (ticket, now, state, before) in zip(sizes, cases, strict=True):
            samples[size].append(
                (
                    _time_call(partial(evaluate, ticket, setup, now), budget),
                    _time_call(partial(evaluate_clock, state, setup, now), budget),
                    _time_call(partial(advance_clock, before, ticket, setup), budget),
                    _time_call(partial(clock_state, ticket, setup), budget),
                )
            )
    rows = []
    for size, (_, _, state, _) in zip(sizes, cases, strict=True):
        evaluate_us, clock_us, advance_us, walk_us = (
            statistics.median(column) for column in zip(*samples[size], strict=True)
        )
        rows.append(
            ClockRow(size, _resolution_segments(state), evaluate_us, clock_us, advance_us, walk_us)
        )
    return rows


def _resolution_segments(state: SlaClockState) -> int:
    for cycle in state.cycles:
        if cycle.metric is SlaMetric.RESOLUTION:
            return len(cycle.segments)
    return 0


def clock_report(rows: Sequence[ClockRow], repeat: int) -> None:
    print(f"\n## Clock state (issue 10): one ticket per length, median of {repeat} rounds\n")
    print(
        "| events | resolution intervals | evaluate µs | evaluate_clock µs | evaluate ÷ "
        "evaluate_clock | advance_clock by 1 event µs | clock_state (full walk) µs |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print(
            f"| {r.events:,} | {r.segments:,} | {r.evaluate_us:,.1f} | {r.clock_us:,.1f} "
            f"| {r.evaluate_us / r.clock_us:,.1f}x | {r.advance_us:,.1f} | {r.walk_us:,.1f} |"
        )


# -- report -----------------------------------------------------------------------


def environment() -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()} ({platform.python_implementation()})",
            f"csdomain {csdomain.__version__}",
            f"attrs {package_version('attrs')}",
            f"tzdata {package_version('tzdata')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    return [f"Versions: {versions}", f"Machine: {machine}, {load_average()}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 tickets, 1 repeat")
    parser.add_argument("-n", type=int, help="number of tickets (default 100000, quick 2000)")
    parser.add_argument("--repeat", type=int, help="timing repeats (default 5, quick 1)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the goal is not met")
    parser.add_argument(
        "--clock",
        action="store_true",
        help="time evaluate against evaluate_clock on tickets of 10 to 10,000 events instead",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"profile evaluate with cProfile instead (default {PROFILE_TICKETS} tickets)",
    )
    args = parser.parse_args(argv)
    default_n = TICKETS_QUICK if args.quick else PROFILE_TICKETS if args.profile else TICKETS_FULL
    n = args.n or default_n
    repeat = args.repeat or (1 if args.quick else 5)

    print("# SLA benchmark: evaluate every metric of a ticket\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/sla.py {given}".rstrip() + "  ")
    for line in environment():
        print(f"{line}  ")

    if args.clock:
        sizes = CLOCK_SIZES_QUICK if args.quick else CLOCK_SIZES
        clock_report(clock_case(sizes, repeat, 0.05 if args.quick else 0.3), repeat)
        return 0

    calendar = build_calendar()
    calendars = {calendar.name: calendar}
    policy = build_policy()
    policies = [policy]
    print(
        f"Calendar: {CALENDAR_NAME}, Asia/Shanghai, Mon-Fri {' and '.join(OPENING_HOURS)}, "
        f"{len(HOLIDAYS)} holidays, {len(MAKEUP_DAYS)} make-up working days "
        f"({', '.join(str(d) for d in sorted(MAKEUP_DAYS))})  "
    )
    print(f"Policy {policy.name}: targets per priority (urgent in calendar hours)  ")
    print("\n".join(describe_policy(policy)))
    print()

    work = build_workload(n, calendar)
    print(
        f"Built {n:,} tickets from random.Random({SEED}) in {work.build_seconds:.1f} s "
        f"(outside the timing; {work.retries} attempts over {MAX_EVENTS} events thrown away)  "
    )
    for line in timeline_summary(work.tickets):
        print(line)

    gc.collect()
    gc.freeze()  # the tickets stay alive: keep them out of every collection

    if args.profile:
        profile(work, policies, calendars)
        return 0

    add = calendar.add
    size = CHUNK
    end_inputs = _chunks(list(zip(work.tickets, work.end_nows, strict=True)), size)
    mid_inputs = _chunks(list(zip(work.tickets, work.mid_nows, strict=True)), size)
    add_inputs = _chunks(list(zip(work.add_starts, work.add_spans, strict=True)), size)

    def evaluations(chunk: Sequence[tuple[Ticket, datetime]]) -> Callable[[], list[SlaStatus]]:
        return lambda: [evaluate(t, policies, calendars, now) for t, now in chunk]

    def additions(chunk: Sequence[tuple[datetime, timedelta]]) -> Callable[[], list[datetime]]:
        return lambda: [add(t, d) for t, d in chunk]

    end = Pass("evaluate, now after the last event", n, [evaluations(c) for c in end_inputs])
    mid = Pass("evaluate, now mid-life", n, [evaluations(c) for c in mid_inputs])
    adds = Pass("BusinessCalendar.add", n, [additions(c) for c in add_inputs])
    passes = [end, mid, adds]
    # the warm-up pass gives the results that are checked
    results = {"after last event": end.run_all(), "mid-life": mid.run_all()}
    due = adds.run_all()
    if any(u < t for u, t in zip(due, work.add_starts, strict=True)):
        raise AssertionError("add returned an instant before its start")
    del due
    measure(passes, repeat)

    print(
        f"\nTiming: median of {repeat} repeats of a pass over all {n:,} inputs, the three "
        f"passes interleaved in chunks of {CHUNK:,} inputs, gc off, after a warm-up pass  \n"
    )
    both_us = (end.us + mid.us) / 2
    print("| pass | calls | µs/call | calls/s | ÷ add | goal <= 15x |")
    print("|---|--:|--:|--:|--:|---|")
    for label, calls, us in (
        (end.name, end.calls, end.us),
        (mid.name, mid.calls, mid.us),
        ("evaluate, both instants (mean)", 2 * n, both_us),
    ):
        ratio = us / adds.us
        ok = "met" if ratio <= GOAL_RATIO else f"**NOT met** ({ratio / GOAL_RATIO:.2f}x over)"
        print(f"| {label} | {calls:,} | {us:.2f} | {1e6 / us:,.0f} | {ratio:.1f}x | {ok} |")
    add_row = f"{adds.name} (random start and span) | {n:,} | {adds.us:.2f}"
    print(f"| {add_row} | {1e6 / adds.us:,.0f} | 1.0x | |")
    spread = ", ".join(
        f"{p.name.split(',')[-1].strip()} {min(p.samples):.2f}-{max(p.samples):.2f}" for p in passes
    )
    print(f"\nRange over the repeats, µs/call: {spread}")

    print("\nMetric states (share of evaluations; warm-up pass):\n")
    print("\n".join(state_table(results)))

    worst = max(end.us, mid.us) / adds.us
    met = worst <= GOAL_RATIO
    print(
        f"\nGoal: evaluate / add <= {GOAL_RATIO:g}x: "
        + (
            f"met (worst pass {worst:.1f}x)"
            if met
            else f"**NOT met**: worst pass {worst:.1f}x, {worst / GOAL_RATIO:.2f}x over; "
            f"evaluate would need about {GOAL_RATIO * adds.us:.1f} µs per ticket"
        )
    )
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
