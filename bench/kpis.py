"""KPIs (issue 12): one-pass accumulators against pandas, Dask against one pass, survey sweep.

One run measures:

1. **accumulators vs pandas**: 1,000,000 ticket summaries
   (``csdomain.kpis.summaries.TicketSummary``, generated deterministically:
   300,000 customers, five channels, every kind and priority, 90% answered,
   80% solved of which 12% reopened, SLA outcomes, opened over 180 days) and
   200,000 survey responses with a CSAT answer. The figures: volume by channel,
   kind and month (UTC); mean, median and p90 first response in business time;
   first contact resolution (7 days, customer scope); reopen rate; SLA
   compliance of first response and of resolution; CSAT share of 4-5. csdomain:
   ``KpiSet(definitions).add_summaries(summaries)`` and ``add_response`` per
   response, then ``results()``. pandas: build the DataFrames from the same
   objects (a list per column; nullable ``Int64`` durations so sums stay exact),
   then ``groupby``/``merge``/``quantile(interpolation="lower")``. Before
   timing, the figures are checked equal: counts, rates and means exactly (the
   mean as an exact fraction of pandas' int64 sum and count), the median and
   p90 within the sketch's bound (1% of the exact lower quantile). CPU time
   (``time.process_time``), median of repeats, interleaved; peak memory in a
   separate run of each side (``tracemalloc``: the peak of traced allocations
   above what was allocated before the side started, numpy's and pandas'
   buffers included; the summaries themselves are not counted). Goals: the
   accumulators take no longer than pandas, and peak at most pandas' memory.
2. **Dask**: ``csdomain.kpis.dask.compute_on_dask`` over ``summaries_bag`` of
   partitions that generate their summaries on the workers, on a
   ``distributed.LocalCluster`` of 2 worker processes (1 thread each), against
   one pass in this process over the same partition functions (generation
   included on both sides; wall-clock time). The ratio and the results'
   equality.
3. **survey sweep**: invitations sent per second on SQLite through
   ``SurveyDesk`` (see the table's notes).

Run from the repository root (needs the ``bench`` and ``dask`` extras)::

    .venv/bin/python bench/kpis.py            # full run (several minutes)
    .venv/bin/python bench/kpis.py --quick    # smoke run, a few seconds
    .venv/bin/python bench/kpis.py --parts pandas,dask

``--check`` exits with status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from machine import cpu, load_average, package_version

import csdomain
from csdomain.customers import Consent, ContactPoint, Customer
from csdomain.helpdesk import HelpDesk
from csdomain.kpis.definitions import STANDARD_KPIS, KpiResult, KpiSet
from csdomain.kpis.summaries import TicketSummary
from csdomain.priorities import Priority
from csdomain.sla import SlaMetric
from csdomain.surveys.questions import QuestionKind
from csdomain.surveys.responses import Answer, SurveyResponse
from csdomain.tickets import Status, TicketKind

PARTS = ("pandas", "dask", "sweep")
US = 1_000_000
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SPAN_S = 180 * 86_400
CHANNELS = ("phone_hotline", "email", "wechat", "web_chat", "sms")
KINDS = tuple(TicketKind)
PRIORITIES = tuple(Priority)
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
WINDOW_US = 7 * 86_400 * US
#: The KPIs compared with pandas (definitions of csdomain's standard set).
COMPARED = (
    "volume",
    "first_response_mean_business",
    "first_response_median_business",
    "first_response_p90_business",
    "fcr",
    "reopen_rate",
    "sla_first_response",
    "sla_resolution",
    "csat",
)
DEFINITIONS = tuple(d for d in STANDARD_KPIS if d.name in COMPARED)
RELATIVE_ACCURACY = 0.01


# -- deterministic data ------------------------------------------------------------------------


def summaries_of(partition: int, size: int, customers: int) -> list[TicketSummary]:
    """The ``size`` summaries of ``partition`` (the same on every run and process)."""
    rng = random.Random(f"kpis-bench:{partition}")
    rand, randrange, choice = rng.random, rng.randrange, rng.choice
    customer_ids = [f"cus_{n:06d}" for n in range(customers)]
    found = []
    first = partition * size
    for i in range(first, first + size):
        opened = T0 + timedelta(seconds=randrange(SPAN_S), microseconds=randrange(US))
        kind = choice(KINDS)
        fields: dict[str, Any] = {
            "ticket_id": f"tkt_{i:08d}",
            "customer_id": customer_ids[randrange(customers)],
            "channel": choice(CHANNELS),
            "kind": kind,
            "priority": choice(PRIORITIES),
            "opened_at": opened,
            "complaint": kind is TicketKind.COMPLAINT,
            "customer_contacts": 1 + randrange(4),
        }
        sla_fr: bool | None = None
        sla_res: bool | None = None
        if rand() < 0.9:
            response_us = int(rng.lognormvariate(8.5, 1.2) * US)  # median ~80 min
            fields["first_response_at"] = opened + timedelta(microseconds=response_us)
            fields["first_response_us"] = response_us
            fields["first_response_business_us"] = response_us * randrange(30, 101) // 100
            fields["agent_replies"] = 1 + randrange(5)
            sla_fr = fields["first_response_business_us"] <= 4 * 3600 * US
        elif rand() < 0.5:
            sla_fr = False  # breached, never answered
        status = choice(OPEN_STATUSES)
        if rand() < 0.8:
            solve_us = int(rng.lognormvariate(11.0, 1.0) * US)  # median ~17 h
            if "first_response_us" in fields:
                solve_us = max(solve_us, fields["first_response_us"])
            solved = opened + timedelta(microseconds=solve_us)
            fields["solved_at"] = (solved,)
            fields["first_resolution_us"] = solve_us
            fields["first_resolution_business_us"] = solve_us * randrange(20, 101) // 100
            resolved_at, resolved_us = solved, solve_us
            sla_res = fields["first_resolution_business_us"] <= 24 * 3600 * US
            if rand() < 0.12:
                # Reopened, at times on the 7-day boundary exactly (counted as within).
                after_us = WINDOW_US if rand() < 0.05 else randrange(14 * 86_400 * US)
                fields["reopened_at"] = (solved + timedelta(microseconds=after_us),)
                if rand() < 0.7:
                    resolved_us = solve_us + after_us + randrange(1, 3 * 86_400 * US)
                    resolved_at = opened + timedelta(microseconds=resolved_us)
                    fields["solved_at"] = (solved, resolved_at)
                else:
                    resolved_at = None
            if resolved_at is not None:
                fields["resolved_at"] = resolved_at
                fields["full_resolution_us"] = resolved_us
                fields["full_resolution_business_us"] = resolved_us * randrange(20, 101) // 100
                status = Status.SOLVED
                if rand() < 0.5:
                    status = Status.CLOSED
                    fields["closed_at"] = resolved_at + timedelta(days=3)
        fields["status"] = status
        sla = []
        if sla_fr is not None:
            sla.append((SlaMetric.FIRST_RESPONSE, sla_fr))
        if sla_res is not None or rand() < 0.3:
            sla.append((SlaMetric.RESOLUTION, sla_res))
        fields["sla"] = tuple(sla)
        found.append(TicketSummary(**fields))
    return found


def make_summaries(n: int, customers: int, partitions: int) -> list[TicketSummary]:
    size = n // partitions
    out: list[TicketSummary] = []
    for p in range(partitions):
        out.extend(summaries_of(p, size, customers))
    return out


def make_responses(n: int, customers: int) -> list[SurveyResponse]:
    """``n`` CSAT survey responses (answers 1-5, skewed to satisfied), one per ticket."""
    rng = random.Random("kpis-bench:responses")
    answers = [Answer("csat", QuestionKind.CSAT, score=v) for v in range(1, 6)]
    weights = (5, 7, 13, 35, 40)
    return [
        SurveyResponse(
            id=f"rsp_{i:07d}",
            invitation_id=f"inv_{i:07d}",
            template="csat_after_solve",
            template_version=1,
            kind="csat",
            customer_id=f"cus_{rng.randrange(customers):06d}",
            ticket_id=f"tkt_{i * 5:08d}",
            answers=(rng.choices(answers, weights)[0],),
            answered_at=T0 + timedelta(seconds=rng.randrange(SPAN_S)),
        )
        for i in range(n)
    ]


# -- the two contenders ------------------------------------------------------------------------


def csdomain_figures(
    summaries: Sequence[TicketSummary], responses: Sequence[SurveyResponse]
) -> dict[str, KpiResult]:
    kpis = KpiSet(DEFINITIONS)
    kpis.add_summaries(summaries)
    for response in responses:
        kpis.add_response(response)
    return kpis.results()


def pandas_figures(
    summaries: Sequence[TicketSummary], responses: Sequence[SurveyResponse]
) -> dict[str, Any]:
    """The same figures with pandas, from building the DataFrames to the numbers."""
    import pandas as pd

    def us_of(at: datetime | None) -> int | None:
        if at is None:
            return None
        delta = at - EPOCH
        return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds

    def met(s: TicketSummary, metric: SlaMetric) -> bool | None:
        for measured, ok in s.sla:
            if measured is metric:
                return ok
        return None

    fr, res = SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION
    df = pd.DataFrame(
        {
            "customer_id": [s.customer_id for s in summaries],
            "channel": [s.channel for s in summaries],
            "kind": [s.kind.value for s in summaries],
            "opened_at": pd.to_datetime([s.opened_at for s in summaries], utc=True),
            "opened_us": pd.array([us_of(s.opened_at) for s in summaries], dtype="Int64"),
            "fr_business_us": pd.array(
                [s.first_response_business_us for s in summaries], dtype="Int64"
            ),
            "first_resolution_us": pd.array(
                [s.first_resolution_us for s in summaries], dtype="Int64"
            ),
            "reopened_us": pd.array([us_of(s.first_reopened_at) for s in summaries], dtype="Int64"),
            "reopens": pd.array([s.reopens for s in summaries], dtype="int64"),
            "sla_fr": pd.array([met(s, fr) for s in summaries], dtype="boolean"),
            "sla_res": pd.array([met(s, res) for s in summaries], dtype="boolean"),
        }
    )
    answers = pd.Series(pd.array([r.csat for r in responses], dtype="Int64"))

    out: dict[str, Any] = {}
    month = df["opened_at"].dt.year * 100 + df["opened_at"].dt.month
    cells = df.groupby([df["channel"], df["kind"], month.rename("month")]).size()
    out["volume"] = (
        len(df),
        {(c, k, f"{m // 100:04d}-{m % 100:02d}"): int(n) for (c, k, m), n in cells.items()},
    )
    answered = df["fr_business_us"].dropna()
    out["first_response_business"] = (
        len(answered),
        int(answered.sum()),
        int(answered.quantile(0.5, interpolation="lower")),
        int(answered.quantile(0.9, interpolation="lower")),
    )
    # FCR, customer scope: solved, not reopened within 7 days of the first solve, and no
    # other ticket of the customer opened from this one's opening to the window's end.
    solved = df[df["first_resolution_us"].notna()]
    ends = solved["opened_us"] + solved["first_resolution_us"] + WINDOW_US
    kept = solved["reopened_us"].isna() | (solved["reopened_us"] > ends).fillna(False)
    windows = pd.DataFrame(
        {"customer_id": solved["customer_id"], "start": solved["opened_us"], "end": ends}
    )
    windows = windows[kept.to_numpy()].reset_index()
    pairs = windows.merge(df[["customer_id", "opened_us"]], on="customer_id")
    inside = (pairs["opened_us"] >= pairs["start"]) & (pairs["opened_us"] <= pairs["end"])
    openings = inside.groupby(pairs["index"]).sum()
    out["fcr"] = (int((openings == 1).sum()), len(solved))
    reopened = solved["reopens"] > 0
    out["reopen_rate"] = (int(reopened.sum()), len(solved))
    for name, column in (("sla_first_response", "sla_fr"), ("sla_resolution", "sla_res")):
        decided = df[column].dropna()
        out[name] = (int(decided.sum()), len(decided))
    scored = answers.dropna()
    out["csat"] = (int((scored >= 4).sum()), len(scored))
    return out


def check_same(ours: dict[str, KpiResult], theirs: dict[str, Any]) -> list[str]:
    """Where the figures differ (empty: the same numbers)."""
    problems = []
    total, cells = theirs["volume"]
    volume = ours["volume"]
    if volume.value != total or dict(volume.cells or {}) != cells:
        problems.append(f"volume: {volume.value} vs {total}, cells equal {volume.cells == cells}")
    n, total_us, median_us, p90_us = theirs["first_response_business"]
    mean = ours["first_response_mean_business"]
    if mean.n != n or mean.value != Fraction(total_us, n) / US:
        problems.append(f"mean first response: {mean.value!r} (n {mean.n}) vs {total_us}/{n} us")
    for name, exact in (
        ("first_response_median_business", median_us),
        ("first_response_p90_business", p90_us),
    ):
        got = ours[name]
        assert isinstance(got.value, float)
        error = abs(got.value * US - exact)
        if got.n != n or error > RELATIVE_ACCURACY * exact * (1 + 1e-9):
            problems.append(f"{name}: {got.value * US:.0f} us vs exact {exact} (n {got.n}/{n})")
    for name in ("fcr", "reopen_rate", "sla_first_response", "sla_resolution"):
        successes, n = theirs[name]
        got = ours[name]
        if got.n != n or got.value != (Fraction(successes, n) if n else None):
            problems.append(f"{name}: {got.value} of {got.n} vs {successes}/{n}")
    successes, n = theirs["csat"]
    csat = ours["csat"]
    if csat.n != n or csat.value != successes / n:
        problems.append(f"csat: {csat.value} of {csat.n} vs {successes}/{n}")
    return problems


def quantile_errors(ours: dict[str, KpiResult], theirs: dict[str, Any]) -> str:
    _, _, median_us, p90_us = theirs["first_response_business"]
    median = ours["first_response_median_business"].value
    p90 = ours["first_response_p90_business"].value
    assert isinstance(median, float) and isinstance(p90, float)
    return (
        f"median {median * US / median_us - 1:+.3%}, p90 {p90 * US / p90_us - 1:+.3%} "
        "of the exact lower quantiles"
    )


def cpu_seconds(fn: Callable[[], object]) -> float:
    gc.collect()
    started = time.process_time()
    fn()
    return time.process_time() - started


def peak_mb(fn: Callable[[], object]) -> float:
    """The peak of traced allocations during ``fn`` above those before it, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - before) / 1e6


@dataclass
class PandasOutcome:
    summaries: int
    responses: int
    ours_s: list[float]
    pandas_s: list[float]
    ours_mb: float
    pandas_mb: float
    standard_s: float
    standard_n: int
    accuracy: str

    @property
    def time_ratio(self) -> float:
        return statistics.median(self.ours_s) / statistics.median(self.pandas_s)

    @property
    def memory_ratio(self) -> float:
        return self.ours_mb / self.pandas_mb


def run_pandas(n: int, responses_n: int, customers: int, repeat: int) -> PandasOutcome:
    started = time.perf_counter()
    summaries = make_summaries(n, customers, partitions=10)
    responses = make_responses(responses_n, customers)
    print(
        f"Generated {len(summaries):,} summaries and {len(responses):,} responses in "
        f"{time.perf_counter() - started:.1f} s  "
    )
    ours = csdomain_figures(summaries, responses)
    theirs = pandas_figures(summaries, responses)
    problems = check_same(ours, theirs)
    if problems:
        raise SystemExit("csdomain and pandas disagree:\n  " + "\n  ".join(problems))
    accuracy = quantile_errors(ours, theirs)
    print(f"Checked: the same figures from both ({accuracy})  ")
    ours_s: list[float] = []
    pandas_s: list[float] = []
    for r in range(repeat):
        pair = [
            (ours_s, lambda: csdomain_figures(summaries, responses)),
            (pandas_s, lambda: pandas_figures(summaries, responses)),
        ]
        for into, fn in pair if r % 2 == 0 else pair[::-1]:
            into.append(cpu_seconds(fn))
    ours_mb = peak_mb(lambda: csdomain_figures(summaries, responses))
    pandas_mb = peak_mb(lambda: pandas_figures(summaries, responses))

    def standard() -> None:
        kpis = KpiSet(STANDARD_KPIS)
        kpis.add_summaries(summaries)
        for response in responses:
            kpis.add_response(response)
        kpis.results()

    standard_s = cpu_seconds(standard)
    return PandasOutcome(
        len(summaries),
        len(responses),
        ours_s,
        pandas_s,
        ours_mb,
        pandas_mb,
        standard_s,
        len(STANDARD_KPIS),
        accuracy,
    )


def pandas_table(o: PandasOutcome) -> list[str]:
    ours, theirs = statistics.median(o.ours_s), statistics.median(o.pandas_s)
    runs = ", ".join(f"{s:.2f}" for s in o.ours_s)
    pandas_runs = ", ".join(f"{s:.2f}" for s in o.pandas_s)
    return [
        "| contender | CPU s (median) | all runs, s | summaries/s | peak MB (tracemalloc) |",
        "|---|--:|--:|--:|--:|",
        f"| csdomain `KpiSet` ({len(DEFINITIONS)} KPIs, one pass) | {ours:.2f} | {runs} | "
        f"{o.summaries / ours:,.0f} | {o.ours_mb:,.1f} |",
        f"| pandas (DataFrames built from the summaries, groupby, merge) | {theirs:.2f} | "
        f"{pandas_runs} | {o.summaries / theirs:,.0f} | {o.pandas_mb:,.1f} |",
        f"| csdomain `KpiSet(STANDARD_KPIS)` ({o.standard_n} KPIs), for reference | "
        f"{o.standard_s:.2f} | {o.standard_s:.2f} | {o.summaries / o.standard_s:,.0f} | |",
        "",
        "| goal | measured | met |",
        "|---|--:|---|",
        f"| accumulators' time <= pandas' | {o.time_ratio:.2f}x | "
        f"{'yes' if o.time_ratio <= 1 else '**no**'} |",
        f"| accumulators' peak memory <= pandas' | {o.memory_ratio:.2f}x | "
        f"{'yes' if o.memory_ratio <= 1 else '**no**'} |",
    ]


# -- part 2: Dask ------------------------------------------------------------------------------


@dataclass
class DaskOutcome:
    summaries: int
    partitions: int
    one_pass_s: float
    dask_s: list[float]
    startup_s: float
    equal: bool

    @property
    def ratio(self) -> float:
        return min(self.dask_s) / self.one_pass_s


def run_dask(n: int, customers: int, partitions: int, repeat: int) -> DaskOutcome:
    from distributed import Client, LocalCluster

    from csdomain.kpis.dask import compute_on_dask, summaries_bag

    size = n // partitions
    loaders = [functools.partial(summaries_of, p, size, customers) for p in range(partitions)]

    def one_pass() -> dict[str, KpiResult]:
        kpis = KpiSet(DEFINITIONS)
        for load in loaders:
            kpis.add_summaries(load())
        return kpis.results()

    gc.collect()
    started = time.perf_counter()
    expected = one_pass()
    one_pass_s = time.perf_counter() - started
    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):
        tiny = [functools.partial(summaries_of, p, 10, customers) for p in range(2)]
        compute_on_dask(KpiSet(DEFINITIONS), summaries_bag(tiny))  # workers import csdomain
        startup_s = time.perf_counter() - started
        dask_s = []
        equal = True
        for _ in range(repeat):
            started = time.perf_counter()
            got = compute_on_dask(KpiSet(DEFINITIONS), summaries_bag(loaders))
            dask_s.append(time.perf_counter() - started)
            equal = equal and got == expected
    if not equal:
        raise SystemExit("Dask's results differ from the one-pass results")
    return DaskOutcome(size * partitions, partitions, one_pass_s, dask_s, startup_s, equal)


def dask_table(o: DaskOutcome) -> list[str]:
    runs = ", ".join(f"{s:.1f}" for s in o.dask_s)
    return [
        "| contender | wall s | summaries/s | results |",
        "|---|--:|--:|---|",
        f"| one pass in this process (generate + `add_summaries`, {o.partitions} partitions) | "
        f"{o.one_pass_s:.1f} | {o.summaries / o.one_pass_s:,.0f} | reference |",
        f"| `compute_on_dask`, `LocalCluster` of 2 worker processes (best of: {runs}) | "
        f"{min(o.dask_s):.1f} | {o.summaries / min(o.dask_s):,.0f} | "
        f"{'equal' if o.equal else '**differ**'} |",
        "",
        f"Dask / one pass: **{o.ratio:.2f}x** the time (speed-up {1 / o.ratio:.2f}x on 2 "
        f"workers); cluster start and the workers' first import {o.startup_s:.1f} s, not "
        "counted.",
    ]


# -- part 3: the survey sweep ------------------------------------------------------------------

SWEEP_NOW = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai
SWEEP_CHUNK = 5_000


def survey_customer(n: int) -> Customer:
    """Customer ``n``: email consent for nine in ten, SMS for eight in ten (the sweep
    picks the policy's first consented channel; without one the invitation is
    suppressed)."""
    given = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def point(channel: str, address: str, yes: bool) -> ContactPoint:
        consent = Consent.GIVEN if yes else Consent.WITHDRAWN
        return ContactPoint(channel, address, consent=consent, consent_changed_at=given)

    return Customer(
        id=f"cus_{n:07d}",
        display_name=f"Customer {n}",
        contact_points=(
            point("email", f"c{n}@example.com", n % 10 != 0),
            point("sms", f"139{n:08d}", n % 5 != 0),
        ),
        timezone="Asia/Shanghai",
    )


def survey_desk(path: str, *, create: bool, outbox: list[tuple[str, str, str]]) -> HelpDesk:
    from csdomain.calendars import BusinessCalendar
    from csdomain.clock import FrozenClock
    from csdomain.helpdesk import DeskSetup, HelpDesk
    from csdomain.helpdesk.surveys import SurveyDesk
    from csdomain.ids import SequentialIds
    from csdomain.people import Agent, Group, Presence
    from csdomain.routing import AssignmentPolicy, Strategy, Triage
    from csdomain.sla import MetricPolicy, SlaPolicy, SlaSetup, Target
    from csdomain.storage import open_store
    from csdomain.surveys.policies import SurveyPolicy
    from csdomain.surveys.questions import LocalizedText, Question
    from csdomain.surveys.templates import SurveyTemplate

    calendar = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:00-18:00")
    targets = {p: Target(timedelta(hours=8)) for p in PRIORITIES}
    setup = DeskSetup(
        sla=SlaSetup(
            [SlaPolicy("standard", [MetricPolicy(SlaMetric.FIRST_RESPONSE, targets)])], [calendar]
        ),
        groups=(Group("l1", "Frontline", tier="L1", calendar="desk"),),
        agents=[Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("l1",))],
        triage=Triage(rules=(), default_group="l1"),
        assignment=(AssignmentPolicy("l1", strategy=Strategy.ROUND_ROBIN),),
        default_region="CN",
    )
    text = LocalizedText.of("How satisfied are you?", zh_hans="您对本次服务满意吗？")
    template = SurveyTemplate("after-solve", 1, "csat", text, [Question("csat", "csat", text)])
    policy = SurveyPolicy(
        name="csat", trigger="ticket_solved", template="after-solve", channels=["email", "sms"]
    )

    def deliver(invitation: Any, token: str, channel: str) -> None:
        outbox.append((invitation.id, token, channel))

    clock = FrozenClock(SWEEP_NOW)
    store = open_store(f"sqlite:///{path}", tenant="bench", clock=clock, create=create)
    surveys = SurveyDesk([policy], [template], deliver=deliver)
    return HelpDesk(store, setup, clock=clock, ids=SequentialIds(), extensions=[surveys])


def seed_invitations(desk: HelpDesk, n: int) -> None:
    """``n`` customers, each with one pending invitation due an hour before the sweep."""
    from csdomain.surveys.collections import INVITATIONS
    from csdomain.surveys.invitations import Invitation

    store = desk.store
    invitations = store.collection(INVITATIONS)
    created = SWEEP_NOW - timedelta(days=1, hours=1)
    for first in range(0, n, SWEEP_CHUNK):
        numbers = range(first, min(n, first + SWEEP_CHUNK))
        with store.transaction():
            store.customers.add_many([survey_customer(i) for i in numbers])
            invitations.add_many(
                [
                    Invitation.create(
                        id=f"inv_{i:07d}",
                        policy="csat",
                        template="after-solve",
                        template_version=1,
                        kind="csat",
                        customer_id=f"cus_{i:07d}",
                        ticket_id=f"tkt_{i:07d}",
                        at=created,
                        send_at=created + timedelta(days=1),
                        expiry=timedelta(days=7),
                    )
                    for i in numbers
                ]
            )


@dataclass
class SweepOutcome:
    invitations: int
    sent: int
    suppressed: int
    wall_s: float
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.sent / self.wall_s


def check_sweep(work: str, n: int) -> str:
    from csdomain.surveys.collections import INVITATIONS
    from csdomain.surveys.invitations import InvitationState
    from csdomain.surveys.tokens import token_hash

    outbox: list[tuple[str, str, str]] = []
    desk = survey_desk(os.path.join(work, "check.sqlite"), create=True, outbox=outbox)
    try:
        seed_invitations(desk, n)
        counts = dict(desk.sweep(SWEEP_NOW).extensions["surveys"])
        stored = {s.value.id: s.value for s in _all(desk.store.collection(INVITATIONS))}
        problems = []
        delivered = {i: (token, channel) for i, token, channel in outbox}
        for i in range(n):
            customer = survey_customer(i)
            invitation = stored[f"inv_{i:07d}"]
            want = next((c for c in ("email", "sms") if customer.contactable_on(c)), None)
            if want is None:
                if invitation.state is not InvitationState.SUPPRESSED or invitation.id in delivered:
                    problems.append(f"{invitation.id}: {invitation.state}, expected suppressed")
                continue
            token, channel = delivered.get(invitation.id, ("", ""))
            if (
                invitation.state is not InvitationState.SENT
                or channel != want
                or invitation.channel != want
                or invitation.token_hashes != (token_hash(token),)
            ):
                problems.append(f"{invitation.id}: {invitation.state} on {channel}, want {want}")
        if len(outbox) != len(delivered) or counts["sent"] != len(outbox):
            problems.append(f"{len(outbox)} deliveries for {counts}")
        again = dict(desk.sweep(SWEEP_NOW).extensions["surveys"])
        if again["sent"] or again["suppressed"]:
            problems.append(f"a second sweep did more: {again}")
        if problems:
            raise SystemExit("survey sweep check failed:\n  " + "\n  ".join(problems[:20]))
        return (
            f"{n:,} pending invitations: {counts['sent']:,} sent, each delivered once on the "
            f"customer's first consented channel with the token whose hash is stored, "
            f"{counts['suppressed']:,} suppressed (no consent); a second sweep did nothing"
        )
    finally:
        desk.store.close()


def _all(repository: Any) -> list[Any]:
    found: list[Any] = []
    cursor = None
    while True:
        page = repository.list(limit=1_000, cursor=cursor)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def run_sweep(work: str, n: int) -> SweepOutcome:
    outbox: list[tuple[str, str, str]] = []
    desk = survey_desk(os.path.join(work, "sweep.sqlite"), create=True, outbox=outbox)
    try:
        seed_invitations(desk, n)
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        counts = dict(desk.sweep(SWEEP_NOW).extensions["surveys"])
        wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        desk.store.close()
    if counts["sent"] != len(outbox):
        raise SystemExit(f"{counts} but {len(outbox)} deliveries")
    return SweepOutcome(n, counts["sent"], counts["suppressed"], wall, cpu_s)


def sweep_table(o: SweepOutcome) -> list[str]:
    return [
        "| pending invitations | sent | suppressed | wall s | CPU s | invitations sent/s |",
        "|--:|--:|--:|--:|--:|--:|",
        f"| {o.invitations:,} | {o.sent:,} | {o.suppressed:,} | {o.wall_s:.1f} | "
        f"{o.cpu_s:.1f} | **{o.rate:,.0f}** |",
    ]


# -- the run -----------------------------------------------------------------------------------


def environment() -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()}",
            f"csdomain {csdomain.__version__}",
            f"pandas {package_version('pandas')}",
            f"numpy {package_version('numpy')}",
            f"ddsketch {package_version('ddsketch')}",
            f"dask {package_version('dask')}",
            f"distributed {package_version('distributed')}",
            f"attrs {package_version('attrs')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    return [f"Versions: {versions}  ", f"Machine: {machine}, {load_average()}  "]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (a few seconds)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {', '.join(PARTS)}")
    parser.add_argument("--summaries", type=int, help="ticket summaries (1,000,000)")
    parser.add_argument("--repeat", type=int, help="timed repeats (median; 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts <= set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    quick = args.quick
    n = args.summaries or (20_000 if quick else 1_000_000)
    customers = max(1, n * 3 // 10)
    repeat = args.repeat or (1 if quick else 3)

    print("# KPI benchmark: accumulators vs pandas, Dask, survey sweep\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/kpis.py {given}".rstrip() + "  ")
    for line in environment():
        print(line)
    started = time.perf_counter()
    missed: list[str] = []
    if "pandas" in parts:
        print("\n## One-pass accumulators vs pandas\n")
        outcome = run_pandas(n, n // 5, customers, repeat)
        print(
            f"\n{outcome.summaries:,} summaries ({customers:,} customers), "
            f"{outcome.responses:,} CSAT responses; CPU time, {repeat} interleaved repeats; "
            "peak memory in one more run of each side.\n"
        )
        print("\n".join(pandas_table(outcome)))
        if outcome.time_ratio > 1:
            missed.append("accumulators slower than pandas")
        if outcome.memory_ratio > 1:
            missed.append("accumulators' peak memory above pandas'")
    if "dask" in parts:
        print("\n## Dask on 2 local workers vs one pass\n")
        d = run_dask(n, customers, 10, 1 if quick else 2)
        print(
            f"{d.summaries:,} summaries in {d.partitions} partitions, each generated by its "
            "loader (a `functools.partial` of this script's deterministic generator) where it "
            f"is folded; the {len(DEFINITIONS)} KPIs of the pandas part; wall-clock time; the "
            "results compared with `==` (every `KpiResult`: counts, exact fractions, sketched "
            "quantiles, volume cells).\n"
        )
        print("\n".join(dask_table(d)))

    if "sweep" in parts:
        print("\n## Survey sweep: invitations sent per second on SQLite\n")
        work = tempfile.mkdtemp(prefix="csdomain-bench-kpis-")
        print("Checked first: " + check_sweep(work, 100 if quick else 500) + ".  ")
        sw = run_sweep(work, 300 if quick else 10_000)
        print(
            "\nOne `HelpDesk.sweep(now)` with a `SurveyDesk` (policy: after a solve, email "
            "then SMS; the `deliver` callback appends to a list) over pending invitations due "
            "an hour before, seeded in bulk with their customers (`add_many`); each invitation "
            "is sent in its own unit of work (a token made, its hash stored, the callback "
            "called), so on SQLite every send commits.\n"
        )
        print("\n".join(sweep_table(sw)))

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nTotal {time.perf_counter() - started:.1f} s; process ru_maxrss {rss:,.0f} MB; ")
    print(f"{load_average('the end')}  ")
    if missed:
        print("Goals missed: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
