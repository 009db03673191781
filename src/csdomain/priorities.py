"""Priorities, and the ITIL impact x urgency matrix that yields one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TypeAlias

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.enums import OrderedEnum
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import Checked, checked

__all__ = ["Impact", "Priority", "PriorityMatrix", "Urgency"]


class Priority(OrderedEnum):
    """How soon a ticket needs attention, ordered ``LOW < NORMAL < HIGH < URGENT``."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


declare_labels(
    Priority,
    {
        Priority.LOW: _mark("priority", "Low"),
        Priority.NORMAL: _mark("priority", "Normal"),
        Priority.HIGH: _mark("priority", "High"),
        Priority.URGENT: _mark("priority", "Urgent"),
    },
)


class Impact(OrderedEnum):
    """How much of the business an issue affects, ``LOW < MEDIUM < HIGH``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


declare_labels(
    Impact,
    {
        Impact.LOW: _mark("impact", "Low"),
        Impact.MEDIUM: _mark("impact", "Medium"),
        Impact.HIGH: _mark("impact", "High"),
    },
)


class Urgency(OrderedEnum):
    """How quickly the business needs a fix, ``LOW < MEDIUM < HIGH``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


declare_labels(
    Urgency,
    {
        Urgency.LOW: _mark("urgency", "Low"),
        Urgency.MEDIUM: _mark("urgency", "Medium"),
        Urgency.HIGH: _mark("urgency", "High"),
    },
)


def _check_rows(value: object) -> Iterator[tuple[str, str]]:
    shape = "3 rows (impact low, medium, high) of 3 priorities (urgency low, medium, high)"
    if not isinstance(value, tuple) or len(value) != len(Impact):
        yield "", f"expected {shape}, got {value!r}"
        return
    for i, row in enumerate(value):
        if not isinstance(row, tuple) or len(row) != len(Urgency):
            yield f"[{i}]", f"expected 3 priorities (urgency low, medium, high), got {row!r}"
            continue
        for j, cell in enumerate(row):
            if not isinstance(cell, Priority):
                allowed = ", ".join(p.value for p in Priority)
                yield f"[{i}][{j}]", f"expected a Priority ({allowed}), got {cell!r}"


#: One row of the matrix, as written by a caller.
_Row: TypeAlias = list[Priority] | tuple[Priority, ...]
#: The rows, as lists or tuples (both levels); stored as tuples.
_Rows: TypeAlias = list[list[Priority]] | list[tuple[Priority, ...]] | list[_Row] | tuple[_Row, ...]


def _nested_tuple(value: _Rows) -> tuple[tuple[Priority, ...], ...]:
    if isinstance(value, (list, tuple)):
        return tuple(tuple(r) if isinstance(r, (list, tuple)) else r for r in value)
    return value  # left for the check to reject


@attrs.frozen
class PriorityMatrix(Checked):
    """Priority as a function of impact and urgency (ITIL style), configurable.

    ``rows[impact.rank][urgency.rank]`` is the priority. The matrix must be
    monotone: raising impact or urgency never lowers the priority.

    >>> PriorityMatrix.itil().priority(Impact.HIGH, Urgency.MEDIUM)
    <Priority.HIGH: 'high'>
    """

    rows: tuple[tuple[Priority, ...], ...] = attrs.field(
        converter=_nested_tuple, metadata=checked(_check_rows)
    )

    @classmethod
    def itil(cls) -> PriorityMatrix:
        """The usual 3x3 matrix: high impact and high urgency make an urgent ticket."""
        p = Priority
        return cls(
            rows=(
                (p.LOW, p.LOW, p.NORMAL),  # impact low
                (p.LOW, p.NORMAL, p.HIGH),  # impact medium
                (p.NORMAL, p.HIGH, p.URGENT),  # impact high
            )
        )

    def priority(self, impact: Impact, urgency: Urgency) -> Priority:
        """The priority for ``impact`` and ``urgency``."""
        return self.rows[impact.rank][urgency.rank]

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        for i, j in itertools.product(range(len(Impact)), range(len(Urgency))):
            cell = self.rows[i][j]
            lower = [("impact", self.rows[i - 1][j])] if i else []
            lower += [("urgency", self.rows[i][j - 1])] if j else []
            for axis, neighbour in lower:
                if cell < neighbour:
                    yield (
                        f"rows[{i}][{j}]",
                        (
                            f"{cell.value!r} is below {neighbour.value!r} at a lower {axis}; "
                            f"a higher {axis} must never lower the priority"
                        ),
                    )


declare_document("priority_matrix", PriorityMatrix)
