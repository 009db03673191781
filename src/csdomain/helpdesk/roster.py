"""What the desk knows of its people at run time: presence, and round-robin cursors.

Both live in declared collections of the store, so every worker and every restart
sees the same: an agent set online by one process is routed to by all, and round
robin continues where the last assignment in that group left it (the cursor is
saved, version-checked, in the unit of work of the assignment, so two workers
racing for the same group cannot both give the next ticket to the same agent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from csdomain._kernel.collections import Collection, declare_collection
from csdomain._kernel.documents import declare_document
from csdomain.people import Presence
from csdomain.routing import RoundRobinCursor

__all__ = ["CURSORS", "PRESENCE", "AgentPresence"]


@attrs.frozen
class AgentPresence:
    """Agent ``agent_id`` has been ``presence`` since ``since``."""

    agent_id: str
    presence: Presence
    since: datetime


declare_document("agent_presence", AgentPresence)

#: Presence by agent id.
PRESENCE: Final = declare_collection(
    Collection(
        "agent_presence", "agent presence", AgentPresence, key_of=lambda value: value.agent_id
    )
)

#: Round-robin cursors by group id.
CURSORS: Final = declare_collection(
    Collection(
        "routing_cursors",
        "round-robin cursor",
        RoundRobinCursor,
        key_of=lambda cursor: cursor.group_id,
    )
)
