"""Pending: the configuration repository returns ``Stored[Any]``.

Needs in csdomain/storage: ``ConfigurationRepository.add(name, value: T) -> Stored[T]`` and
``save(name, value: T, *, expected_version: int) -> Stored[T]``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import assert_type

from csdomain import Priority
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target
from csdomain.storage import Stored, open_store


def configuration() -> None:
    store = open_store("memory:", tenant="acme")
    policy = SlaPolicy(
        "x", [MetricPolicy(SlaMetric.RESOLUTION, {Priority.URGENT: Target(timedelta(hours=8))})]
    )
    assert_type(store.config.add("standard", policy), Stored[SlaPolicy])
    assert_type(store.config.save("standard", policy, expected_version=1), Stored[SlaPolicy])
