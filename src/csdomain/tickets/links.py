"""Links between tickets (follow-up, merge, related)."""

from __future__ import annotations

from enum import Enum

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import Checked, checked, key, member_of

__all__ = ["LinkKind", "TicketLink"]


class LinkKind(Enum):
    """How a ticket relates to another."""

    FOLLOW_UP_OF = "follow_up_of"
    MERGED_INTO = "merged_into"
    RELATED = "related"


declare_labels(
    LinkKind,
    {
        # Translators: this ticket follows up on the linked (closed) ticket.
        LinkKind.FOLLOW_UP_OF: _mark("link kind", "Follow-up of"),
        LinkKind.MERGED_INTO: _mark("link kind", "Merged into"),
        LinkKind.RELATED: _mark("link kind", "Related"),
    },
)


@attrs.frozen
class TicketLink(Checked):
    """A link from this ticket to another one."""

    kind: LinkKind = attrs.field(metadata=checked(member_of(LinkKind)))
    ticket_id: str = attrs.field(metadata=checked(key("ticket id")))


declare_document("ticket_link", TicketLink)
