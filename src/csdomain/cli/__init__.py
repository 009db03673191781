"""The ``csdomain`` command: ``csdomain demo``, ``csdomain tickets``, ``csdomain --version``.

``demo`` runs a day at a three-line help desk through the
:class:`~csdomain.helpdesk.HelpDesk` (intake on four channels, round-robin and
skills routing, a VIP's request for a senior agent, a complaint escalated by
rule L1 -> L2 -> vendor, sweeps), saves it in a store (a SQLite file by default,
``--db PATH``; ``--url URL`` for any store; ``--memory`` for none), then prints
who got what and why, each ticket's SLA status, the support lead's due view and
one ticket as a JSON document, with localized labels, and where it saved. Run
again on the same file, it adds another day's tickets to it. ``tickets``
lists the tickets of an existing store page by page.

Usage errors exit with status 2 and name the option that was wrong
(``argument --tenant: ...``); ``--locale`` takes ``zh_CN`` and ``zh-CN``
alike. The modules: :mod:`csdomain.cli.command` (parser and dispatch),
:mod:`csdomain.cli.demo` and :mod:`csdomain.cli.tickets`.
"""

from __future__ import annotations

import warnings

from csdomain.cli.command import main
from csdomain.cli.demo import DEMO_DB, run_demo
from csdomain.cli.tickets import list_tickets
from csdomain.tickets import TicketEvent
from csdomain.tickets import rendering as _rendering

__all__ = ["DEMO_DB", "describe_event", "list_tickets", "main", "run_demo"]


def describe_event(event: TicketEvent, locale: str = "en") -> str:
    """Deprecated alias of :func:`csdomain.tickets.rendering.describe_event`.

    Describing events is presentation of tickets, not part of the command;
    this alias warns with :class:`DeprecationWarning` and will be removed.
    """
    warnings.warn(
        "csdomain.cli.describe_event is deprecated; use csdomain.tickets.rendering.describe_event",
        DeprecationWarning,
        stacklevel=2,
    )
    return _rendering.describe_event(event, locale)
