"""Strategies: priorities."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.priorities import Impact, Priority, PriorityMatrix, Urgency
from csdomain.testing.strategies.registry import register


def priorities() -> SearchStrategy[Priority]:
    """Members of :class:`~csdomain.Priority`. Requires Hypothesis."""
    return st.sampled_from(Priority)


def impacts() -> SearchStrategy[Impact]:
    """Members of :class:`~csdomain.Impact`. Requires Hypothesis."""
    return st.sampled_from(Impact)


def urgencies() -> SearchStrategy[Urgency]:
    """Members of :class:`~csdomain.Urgency`. Requires Hypothesis."""
    return st.sampled_from(Urgency)


# -- priorities -----------------------------------------------------------------------


def priority_matrices() -> SearchStrategy[PriorityMatrix]:
    """Monotone :class:`~csdomain.PriorityMatrix` values (raising impact or urgency
    never lowers the priority); every monotone matrix can be drawn.

    Requires Hypothesis.
    """
    return _priority_matrices()


register(PriorityMatrix, priority_matrices)


@st.composite
def _priority_matrices(draw: DrawFn) -> PriorityMatrix:
    levels = list(Priority)
    grid: list[list[int]] = []
    for i in range(len(Impact)):
        row: list[int] = []
        for j in range(len(Urgency)):
            floor = max(grid[i - 1][j] if i else 0, row[j - 1] if j else 0)
            row.append(draw(st.integers(floor, len(levels) - 1)))
        grid.append(row)
    return PriorityMatrix(rows=tuple(tuple(levels[r] for r in row) for row in grid))
