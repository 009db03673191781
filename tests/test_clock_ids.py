"""Clocks and ids."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain import FrozenClock, SequentialIds, SystemClock, UlidIds, ValidationError
from csdomain.clock import Clock
from csdomain.ids import IdGenerator

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def test_frozen_clock_advances_and_rejects_naive_or_backwards() -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 17, 0, tzinfo=timezone(timedelta(hours=8))))
    assert clock.now() == T0 and clock.now().tzinfo is timezone.utc
    assert clock.advance(minutes=30) == T0 + timedelta(minutes=30)
    assert clock.advance(timedelta(hours=1), seconds=1) == T0 + timedelta(minutes=90, seconds=1)
    with pytest.raises(ValidationError, match="negative"):
        clock.advance(minutes=-1)
    with pytest.raises(ValidationError, match="naive"):
        FrozenClock(datetime(2026, 1, 1))
    clock.set(T0)
    assert clock.now() == T0


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is timezone.utc
    assert isinstance(SystemClock(), Clock) and isinstance(FrozenClock(T0), Clock)


def test_sequential_ids_are_deterministic_per_prefix() -> None:
    ids = SequentialIds()
    assert [ids.new("tkt"), ids.new("tkt"), ids.new("cus")] == [
        "tkt_000001",
        "tkt_000002",
        "cus_000001",
    ]
    assert isinstance(ids, IdGenerator)
    with pytest.raises(ValidationError, match="prefix"):
        ids.new("Bad Prefix")


@given(st.lists(st.integers(0, 5_000), min_size=2, max_size=50))
def test_ulid_ids_sort_in_creation_order(steps_ms: list[int]) -> None:
    clock = FrozenClock(T0)
    ids = UlidIds(clock=clock)
    made = []
    for step in steps_ms:
        clock.advance(timedelta(milliseconds=step))
        made.append(ids.new("tkt"))
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(i.startswith("tkt_") and len(i) == 30 for i in made)


def test_ulid_ids_from_many_threads_are_unique_and_sorted_per_thread() -> None:
    ids = UlidIds(clock=FrozenClock(T0))  # one millisecond for everyone: worst case
    results: list[list[str]] = [[] for _ in range(4)]

    def work(out: list[str]) -> None:
        for _ in range(500):
            out.append(ids.new("msg"))

    threads = [threading.Thread(target=work, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for r in results for i in r]
    assert len(set(everything)) == 2_000
    assert all(r == sorted(r) for r in results)


def test_ulid_time_part_follows_the_clock() -> None:
    later = UlidIds(clock=FrozenClock(T0 + timedelta(seconds=1))).new("tkt")
    earlier = UlidIds(clock=FrozenClock(T0)).new("tkt")
    assert earlier < later
