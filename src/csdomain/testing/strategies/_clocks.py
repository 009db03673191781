"""Strategies: clocks."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from csdomain.clock import FrozenClock
from csdomain.ids import IdGenerator, SequentialIds, UlidIds
from csdomain.testing.strategies._common import (
    _DEFAULT_MAX,
    _DEFAULT_MIN,
    aware_datetimes,
)

# -- clocks and id generators -----------------------------------------------------
from csdomain.testing.strategies.registry import register


def frozen_clocks(
    *, min_value: datetime = _DEFAULT_MIN, max_value: datetime = _DEFAULT_MAX
) -> SearchStrategy[FrozenClock]:
    """:class:`~csdomain.FrozenClock` instances set to an instant in ``[min_value, max_value]``.

    Each draw is a new clock, so a test may advance it freely. Requires Hypothesis.
    """
    return aware_datetimes(min_value=min_value, max_value=max_value).map(FrozenClock)


register(FrozenClock, frozen_clocks)


def _seeded_ulid_ids(clock: FrozenClock, seed: int) -> UlidIds:
    return UlidIds(clock, random.Random(seed).getrandbits)


def id_generators(
    *, kinds: Iterable[type[SequentialIds] | type[UlidIds]] | None = None
) -> SearchStrategy[IdGenerator]:
    """Deterministic id generators: :class:`~csdomain.SequentialIds` of some width, or
    :class:`~csdomain.UlidIds` on a frozen clock with seeded randomness.

    ``kinds`` restricts the classes drawn from (default: both). Each draw is
    a fresh generator. Requires Hypothesis.
    """
    makers: dict[type, SearchStrategy[IdGenerator]] = {
        SequentialIds: st.integers(1, 12).map(SequentialIds),
        UlidIds: st.builds(_seeded_ulid_ids, frozen_clocks(), st.integers(0, 2**32 - 1)),
    }
    chosen = list(makers) if kinds is None else list(kinds)
    if not chosen or not all(k in makers for k in chosen):
        raise InvalidArgument(
            f"kinds={kinds!r} must be a non-empty collection of SequentialIds, UlidIds"
        )
    return st.one_of([makers[k] for k in chosen])


register(SequentialIds, id_generators, kinds=(SequentialIds,))
register(UlidIds, id_generators, kinds=(UlidIds,))
