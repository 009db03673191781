"""Pending: a ticket's derived fields look writable, and ``tags`` accepts a bare string.

Assigning ``ticket.status`` raises ``FrozenInstanceError`` at run time. Needs in
csdomain/tickets: the derived fields declared read-only for type checkers on ``Ticket``
(e.g. properties, or ``Final`` annotations in a ``TYPE_CHECKING`` block), and
``Ticket.open(tags=...)`` and ``change_tags(add=..., remove=...)`` typed
``Set[str] | list[str] | tuple[str, ...]`` (a bare string is an ``Iterable[str]``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from csdomain import Actor, Status, Ticket

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def tickets() -> None:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    ticket.status = Status.OPEN  # type: ignore[misc]
    Ticket.open(id="t", customer_id="c", channel="email", subject="S", at=AT, tags="vip")  # type: ignore[arg-type]
    ticket.change_tags(at=AT, actor=Actor.agent("agt_1"), add="vip")  # type: ignore[arg-type]
