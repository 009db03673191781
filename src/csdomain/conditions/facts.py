"""The context a condition reads: named facts (the ticket, its customer, and more).

Today's facts are ``ticket`` and ``customer``; later features register fields that
read their own facts (the SLA status, the agent, a revisit task, a survey
response) without any change here: a :class:`Facts` holds whatever names the
caller supplies, and a field names the fact it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["Facts"]


class Facts(Mapping[str, object]):
    """An immutable mapping of fact names to the objects a condition may read.

    >>> Facts(ticket=None, customer="c").get("customer")
    'c'

    A fact that is absent or ``None`` makes every field reading it absent.
    """

    __slots__ = ("_facts",)

    def __init__(self, facts: Mapping[str, object] | None = None, /, **named: Any) -> None:
        merged = dict(facts or {})
        merged.update(named)
        self._facts = {name: value for name, value in merged.items() if value is not None}

    def __getitem__(self, name: str) -> object:
        return self._facts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)

    def __repr__(self) -> str:
        # The facts are domain objects whose reprs mask personal data; show names only.
        return f"Facts({', '.join(sorted(self._facts))})"
