"""What mypy sees of SLA policies and their evaluation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import assert_type

from csdomain import BusinessCalendar, Equals, Priority, Status, Ticket
from csdomain.sla import (
    MetricPolicy,
    MetricStatus,
    OnReopen,
    SlaExplanation,
    SlaMetric,
    SlaPolicy,
    SlaState,
    SlaStatus,
    Target,
    evaluate,
    explain,
    next_deadline,
    select_policy,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def policies() -> None:
    rules = MetricPolicy(SlaMetric.RESOLUTION, {Priority.URGENT: Target(timedelta(hours=8))})
    assert_type(rules.metric, SlaMetric)
    assert_type(rules.pause_statuses, frozenset[Status])
    assert_type(rules.targets, dict[Priority, Target])
    MetricPolicy(
        SlaMetric.FIRST_RESPONSE,
        dict.fromkeys(Priority, Target(timedelta(hours=2), "shanghai-desk", warnings=(0.5, 0.75))),
        pause_statuses={Status.ON_HOLD},
        on_reopen=OnReopen.NEW_CYCLE,
    )
    first = MetricPolicy(SlaMetric.FIRST_RESPONSE, {Priority.URGENT: Target(timedelta(hours=1))})
    policy = SlaPolicy("x", [first, rules])
    assert_type(policy, SlaPolicy)
    assert_type(policy.metrics, tuple[MetricPolicy, ...])
    assert_type(policy.rules(SlaMetric.RESOLUTION), MetricPolicy | None)
    # A typed dict of targets, by priority or by its value.
    targets: dict[Priority, Target] = {Priority.URGENT: Target(timedelta(hours=8))}
    by_value: dict[str, Target] = {"urgent": Target(timedelta(hours=8))}
    assert_type(MetricPolicy(SlaMetric.RESOLUTION, targets).targets, dict[Priority, Target])
    MetricPolicy("resolution", by_value, pause_statuses=["pending", Status.ON_HOLD])
    SlaPolicy("complaints", [rules], condition=Equals("ticket.kind", "complaint"))
    assert_type(Target(timedelta(hours=4), calendar="cn-desk").warnings, tuple[float, ...])

    SlaPolicy("x")  # type: ignore[call-arg]
    MetricPolicy(SlaMetric.RESOLUTION)  # type: ignore[call-arg]
    Target(4)  # type: ignore[arg-type]
    Target(timedelta(hours=4), calendar=BusinessCalendar.always_open())  # type: ignore[arg-type]
    SlaPolicy("x", [rules], condition="ticket.kind == complaint")  # type: ignore[arg-type]


def evaluation() -> None:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    policy = SlaPolicy(
        "x", [MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=8))})]
    )
    desk = BusinessCalendar.weekdays("cn-desk", "Asia/Shanghai", "09:00-18:00")
    now = AT + timedelta(hours=1)
    status = evaluate(ticket, [policy], [desk], now)
    assert_type(status, SlaStatus)
    assert_type(evaluate(ticket, policy, {"cn-desk": desk}, now), SlaStatus)
    assert_type(status.metrics, tuple[MetricStatus, ...])
    assert_type(status[SlaMetric.RESOLUTION], MetricStatus)
    assert_type(status[SlaMetric.RESOLUTION].state, SlaState)
    assert_type(status[SlaMetric.RESOLUTION].due_at, datetime | None)
    assert_type(status.get(SlaMetric.FIRST_RESPONSE), MetricStatus | None)
    assert_type(status.breached, tuple[MetricStatus, ...])
    assert_type(status.next_deadline, datetime | None)
    assert_type(next_deadline(ticket, policy, [desk], now), datetime | None)
    assert_type(select_policy([policy], ticket), SlaPolicy | None)
    explanation = explain(ticket, policy, [desk], now)
    assert_type(explanation, SlaExplanation)
    assert_type(explanation.render("zh_Hans"), str)

    evaluate(ticket, [policy], [desk])  # type: ignore[call-overload]
    evaluate(ticket, [policy], [desk], now.date())  # type: ignore[call-overload]
    evaluate(ticket, ["x"], [desk], now)  # type: ignore[list-item]
    evaluate(ticket, policy, ["cn-desk"], now)  # type: ignore[list-item]
    select_policy(policy, ticket)  # type: ignore[arg-type]

    # Collections of rules: any iterable of policies, but statuses as a collection.
    eight_hours = {Priority.URGENT: Target(timedelta(hours=8))}
    resolution = MetricPolicy(SlaMetric.RESOLUTION, eight_hours)
    assert_type(SlaPolicy("x", (r for r in [resolution])), SlaPolicy)
    MetricPolicy(SlaMetric.RESOLUTION, eight_hours, pause_statuses="on_hold")  # type: ignore[arg-type]
