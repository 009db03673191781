"""Pending: a ticket's derived fields look writable.

Assigning ``ticket.status`` raises ``FrozenInstanceError`` at run time. Needs in
csdomain/tickets: the derived fields declared read-only for type checkers on ``Ticket``
without a second list of their names (they are declared once, on ``TicketState``, which
the replay writes).
"""

from __future__ import annotations

from datetime import datetime, timezone

from csdomain import Status, Ticket

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def tickets() -> None:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    ticket.status = Status.OPEN  # type: ignore[misc]
