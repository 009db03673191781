"""Pending: SLA converters accept a bare string of statuses and any iterable of rules.

Needs in csdomain/sla/policy.py: ``_statuses_convert`` taking
``Set[Status | str] | list[Status | str] | tuple[Status | str, ...]``
(a bare ``"pending"`` is an ``Iterable[str]`` but is refused at run time);
``_metric_policies`` taking ``list[MetricPolicy] | tuple[MetricPolicy, ...]`` (it converts
only lists, so a generator is refused at run time).
"""

from __future__ import annotations

from datetime import timedelta

from csdomain import Priority
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target


def policies() -> None:
    targets: dict[Priority, Target] = {Priority.URGENT: Target(timedelta(hours=8))}
    rules = MetricPolicy(SlaMetric.RESOLUTION, targets)
    MetricPolicy(SlaMetric.RESOLUTION, targets, pause_statuses="pending")  # type: ignore[arg-type]
    SlaPolicy("x", (r for r in [rules]))  # type: ignore[arg-type]
