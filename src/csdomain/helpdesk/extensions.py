"""Extensions of the HelpDesk: features that follow its changes and sweep with it.

Revisits (:class:`~csdomain.helpdesk.revisits.RevisitDesk`) and satisfaction
surveys (:class:`~csdomain.helpdesk.surveys.SurveyDesk`) are extensions: the desk
gives each one every change it makes (a ticket opened, replied to, solved or
reopened; a customer changed or erased) inside the unit of work that makes it,
and runs each one's sweep after its own. An extension tells the others of its own
changes (a revisit done, a survey answered) with :meth:`HelpDesk.publish
<csdomain.helpdesk.HelpDesk.publish>`. The desk knows no extension by name; an
app passes the ones it wants::

    desk = HelpDesk(store, setup, extensions=[RevisitDesk(plans), SurveyDesk(...)])
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from csdomain.customers import Customer
from csdomain.tickets import Ticket

if TYPE_CHECKING:
    from csdomain.helpdesk.service import HelpDesk

__all__ = ["DeskChange", "DeskExtension"]


@attrs.frozen
class DeskChange:
    """A change the desk (or an extension) made, published inside its unit of work.

    ``source`` says who made it: ``"ticket"`` (a ticket command or a sweep),
    ``"customer"`` (:meth:`HelpDesk.update_customer` or :meth:`HelpDesk.erase_customer`)
    or an extension's :attr:`~DeskExtension.name` (``"revisits"``, ``"surveys"``).
    ``ticket`` is the ticket after the change (for other sources, the ticket the change
    concerns, when known) and ``before`` the ticket before it (``None`` when just
    opened). ``events`` are the new events (the ticket's new timeline events, or the
    extension's own), ``subject`` the value the change is about (a revisit task, a
    survey response) and ``customer`` the customer when the desk has it loaded.
    """

    source: str
    at: datetime
    ticket: Ticket | None = None
    before: Ticket | None = None
    customer: Customer | None = None
    customer_id: str | None = None
    events: tuple[object, ...] = ()
    subject: object | None = None


@runtime_checkable
class DeskExtension(Protocol):
    """What a HelpDesk extension offers the desk.

    ``observe`` runs inside the unit of work of the change: what it stores commits
    with the change, and an exception it raises undoes the change (the command is
    retried on a conflict like any other). It is called again when the unit of work
    is retried, so it must derive what it does from the change alone.
    """

    @property
    def name(self) -> str:
        """The extension's name, unique on a desk (``"revisits"``)."""
        ...

    def attach(self, desk: HelpDesk) -> None:
        """Called once, by the desk's constructor: keep the desk, declare collections."""
        ...

    def observe(self, change: DeskChange) -> None:
        """Follow a change made by the desk or another extension."""
        ...

    def sweep(
        self, now: datetime, *, worker: str, batch: int, lease: timedelta
    ) -> Mapping[str, int]:
        """Do what is due by ``now`` (in units of work of its own); return counts by name."""
        ...
