"""Who acts on a ticket: a customer, an agent, a bot or the system."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import Checked, checked, key, member_of, optional

__all__ = ["Actor", "ActorKind"]


class ActorKind(Enum):
    """Who did something on a ticket."""

    __hash__ = object.__hash__  # identity, as for Status

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


declare_labels(
    ActorKind,
    {
        ActorKind.CUSTOMER: _mark("actor kind", "Customer"),
        ActorKind.AGENT: _mark("actor kind", "Agent"),
        ActorKind.BOT: _mark("actor kind", "Bot"),
        ActorKind.SYSTEM: _mark("actor kind", "System"),
    },
)


@attrs.frozen
class Actor(Checked):
    """Who acted: a customer or agent (with their id), a bot or the system."""

    kind: ActorKind = attrs.field(metadata=checked(member_of(ActorKind)))
    id: str | None = attrs.field(default=None, metadata=checked(optional(key("actor id"))))

    @classmethod
    def customer(cls, customer_id: str) -> Actor:
        """The customer with id ``customer_id``."""
        return cls(ActorKind.CUSTOMER, customer_id)

    @classmethod
    def agent(cls, agent_id: str) -> Actor:
        """The agent with id ``agent_id``."""
        return cls(ActorKind.AGENT, agent_id)

    @classmethod
    def bot(cls, bot_id: str | None = None) -> Actor:
        """A bot (optionally named)."""
        return cls(ActorKind.BOT, bot_id)

    @classmethod
    def system(cls, name: str | None = None) -> Actor:
        """The system itself (automations, sweeps), optionally named."""
        return cls(ActorKind.SYSTEM, name)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.kind in (ActorKind.CUSTOMER, ActorKind.AGENT) and self.id is None:
            yield "id", f"a {self.kind.value} actor needs the {self.kind.value}'s id"

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}" if self.id else self.kind.value


declare_document("actor", Actor)
