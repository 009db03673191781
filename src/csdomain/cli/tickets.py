"""``csdomain tickets``: a store's tickets, page by page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from csdomain.cli.demo import DEMO_ZONE
from csdomain.i18n import label, translation
from csdomain.storage import Store
from csdomain.tickets import Status

__all__ = ["list_tickets"]


def list_tickets(
    store: Store,
    *,
    statuses: Sequence[Status] = (),
    page_size: int = 20,
    locale: str = "en",
    write: Callable[[str], object] = print,
    zone: tzinfo = DEMO_ZONE,
) -> int:
    """Write the store's tickets (those with one of ``statuses``, if given) page by page.

    Each line shows the ticket's id, status, priority, last change (local
    time in ``zone``, by default the demo desk's Asia/Shanghai) and subject.
    Returns how many tickets were written.
    """
    _ = translation(locale).gettext
    cursor: str | None = None
    number = shown = 0
    while True:
        page = store.tickets.list(status=statuses or None, limit=page_size, cursor=cursor)
        if not page.items:
            break
        number += 1
        write(_("Page {number}").format(number=number))
        for stored in page.items:
            ticket = stored.value
            when = ticket.updated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            write(
                f"  {ticket.id}  {label(ticket.status, locale)} · {label(ticket.priority, locale)}"
                f" · {when} · {ticket.subject}"
            )
            shown += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    if not shown:
        write(_("No tickets."))
    return shown
