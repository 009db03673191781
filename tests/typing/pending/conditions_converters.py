"""Pending: condition converters typed ``Iterable[Any]`` and ``object`` accept anything.

Needs in csdomain/conditions: ``AllOf.conditions`` and ``AnyOf.conditions`` converters
taking ``Iterable[Condition]``; ``In.values`` taking
``list[_Value] | tuple[_Value, ...] | Set[_Value]`` (a bare string is refused at run time);
``Compare.comparison`` taking ``Comparison | str``.
"""

from __future__ import annotations

from csdomain import AllOf, AnyOf, Compare, In


def conditions() -> None:
    AllOf([5])  # type: ignore[list-item]
    AnyOf("ticket.kind")  # type: ignore[arg-type]
    In("ticket.status", "open")  # type: ignore[arg-type]
    In("ticket.status", [None])  # type: ignore[list-item]
    Compare("ticket.priority", 5, "high")  # type: ignore[arg-type]
