"""People and teams: agents, groups and the escalation ladder.

Agent *grades* (standard 普通 < senior 高级 < elite 精英 < expert 专家 <
gold 金牌) measure an agent's seniority. Escalation *tiers* (L1 frontline,
L2 engineers, L3 third-party vendors, and any an app declares) are where a
ticket is worked; a group belongs to one tier. The two are independent: a
gold agent may still work L1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from enum import Enum
from typing import TypeAlias

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.enums import OrderedEnum
from csdomain._kernel.labels import declare_key_labels, declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.validation import (
    Checked,
    boolean,
    both,
    checked,
    each,
    frozen_set_of_str,
    instance,
    integer,
    key,
    member_of,
    optional,
    tags_check,
    text,
    tuple_of,
    unique_by,
)
from csdomain.channels import Channel, ChannelKind, channel_key
from csdomain.errors import NotFoundError
from csdomain.privacy import masked

__all__ = [
    "Agent",
    "AgentGrade",
    "EscalationLadder",
    "EscalationTier",
    "Group",
    "Presence",
    "Role",
]


class AgentGrade(OrderedEnum):
    """Seniority, ordered ``STANDARD < SENIOR < ELITE < EXPERT < GOLD``."""

    STANDARD = "standard"
    SENIOR = "senior"
    ELITE = "elite"
    EXPERT = "expert"
    GOLD = "gold"


declare_labels(
    AgentGrade,
    {
        AgentGrade.STANDARD: _mark("agent grade", "Standard"),
        AgentGrade.SENIOR: _mark("agent grade", "Senior"),
        AgentGrade.ELITE: _mark("agent grade", "Elite"),
        AgentGrade.EXPERT: _mark("agent grade", "Expert"),
        AgentGrade.GOLD: _mark("agent grade", "Gold"),
    },
)


class Role(Enum):
    """What a person does in the service organisation."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ENGINEER = "engineer"
    VENDOR = "vendor"


declare_labels(
    Role,
    {
        Role.AGENT: _mark("role", "Agent"),
        Role.SUPERVISOR: _mark("role", "Supervisor"),
        Role.MANAGER: _mark("role", "Manager"),
        Role.ENGINEER: _mark("role", "Engineer"),
        Role.VENDOR: _mark("role", "Vendor"),
    },
)


class Presence(Enum):
    """Whether an agent can take work right now."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


declare_labels(
    Presence,
    {
        Presence.ONLINE: _mark("presence", "Online"),
        Presence.AWAY: _mark("presence", "Away"),
        Presence.OFFLINE: _mark("presence", "Offline"),
    },
)


#: A collection of strings (a set, list, tuple or iterator), not a bare string.
_Strings: TypeAlias = Set[str] | list[str] | tuple[str, ...] | Iterator[str]
#: A channel given as a ``ChannelKind``, a ``Channel`` or a key.
_ChannelRef: TypeAlias = ChannelKind | Channel | str


def _roles(value: Role | Iterable[Role]) -> frozenset[Role]:
    if isinstance(value, Role):
        return frozenset([value])
    return frozen_set_of_str(value)  # type: ignore[arg-type, return-value]  # any iterable


def _skills(value: _Strings) -> frozenset[str]:
    return frozen_set_of_str(value)


def _groups(value: list[str] | tuple[str, ...] | Iterator[str]) -> tuple[str, ...]:
    return tuple_of(value)


def _channels(
    value: Set[_ChannelRef] | list[_ChannelRef] | tuple[_ChannelRef, ...] | Iterator[_ChannelRef],
) -> frozenset[str]:
    converted = frozen_set_of_str(value)  # type: ignore[arg-type]  # keys are taken below
    if isinstance(converted, frozenset):
        return frozenset(channel_key(c) for c in converted)
    return converted  # left for the check to reject


def _tiers(value: Iterable[EscalationTier]) -> tuple[EscalationTier, ...]:
    return tuple_of(value)


@attrs.frozen
class Agent(Checked):
    """A person who works tickets.

    ``max_load`` is the most tickets the agent works at once (0 parks the
    agent: routing gives them nothing new). ``groups`` lists the ids of every
    group the agent belongs to; several are allowed.
    """

    id: str = attrs.field(metadata=checked(key("agent id")))
    name: str = attrs.field(repr=masked, metadata=checked(text(max_length=200), personal=True))
    grade: AgentGrade = attrs.field(
        default=AgentGrade.STANDARD, metadata=checked(member_of(AgentGrade))
    )
    roles: frozenset[Role] = attrs.field(
        factory=lambda: frozenset([Role.AGENT]),
        converter=_roles,
        metadata=checked(each(member_of(Role), frozenset)),
    )
    skills: frozenset[str] = attrs.field(
        factory=frozenset, converter=_skills, metadata=checked(tags_check)
    )
    max_load: int = attrs.field(default=5, metadata=checked(integer(minimum=0, maximum=10_000)))
    presence: Presence = attrs.field(
        default=Presence.OFFLINE, metadata=checked(member_of(Presence))
    )
    groups: tuple[str, ...] = attrs.field(
        factory=tuple, converter=_groups, metadata=checked(each(key("group id"), tuple))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if len(set(self.groups)) != len(self.groups):
            yield "groups", f"each group may be listed once, got {list(self.groups)!r}"


declare_document("agent", Agent)


@attrs.frozen
class Group(Checked):
    """A team that works tickets at one escalation tier.

    ``channels`` are the channel keys the group serves (empty: all);
    ``overflow_to`` names the group that takes work when this one is over its
    threshold (a branch overflowing to headquarters); ``calendar`` names the
    business calendar of the group's opening hours.
    """

    id: str = attrs.field(metadata=checked(key("group id")))
    name: str = attrs.field(metadata=checked(text(max_length=200)))
    tier: str = attrs.field(default="L1", metadata=checked(key("tier key")))
    channels: frozenset[str] = attrs.field(
        factory=frozenset,
        converter=_channels,
        metadata=checked(each(key("channel key"), frozenset)),
    )
    overflow_to: str | None = attrs.field(default=None, metadata=checked(optional(key("group id"))))
    calendar: str | None = attrs.field(
        default=None, metadata=checked(optional(key("calendar name")))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.overflow_to == self.id:
            yield "overflow_to", f"group {self.id!r} cannot overflow to itself"

    def serves(self, channel: str) -> bool:
        """True when the group takes work from ``channel``."""
        return not self.channels or channel_key(channel) in self.channels


declare_document("group", Group)


@attrs.frozen
class EscalationTier(Checked):
    """One rung of the escalation ladder.

    ``external`` marks tiers outside the company (a vendor's support, a
    consumer association); ``name`` is the label for custom tiers (built-in
    keys ``L1``, ``L2``, ``L3`` also have translated labels).
    """

    key: str = attrs.field(metadata=checked(key("tier key")))
    name: str = attrs.field(metadata=checked(text(max_length=200)))
    external: bool = attrs.field(default=False, metadata=checked(boolean))


declare_document("escalation_tier", EscalationTier)


_tier_items = both(
    each(instance(EscalationTier, "an EscalationTier"), tuple), unique_by("key", what="tier key")
)


def _tiers_check(value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, tuple) and not value:
        yield "", "a ladder needs at least one tier"
        return
    yield from _tier_items.explain(value)


@attrs.frozen
class EscalationLadder(Checked):
    """The ordered tiers a ticket escalates through, lowest first."""

    tiers: tuple[EscalationTier, ...] = attrs.field(
        converter=_tiers, metadata=checked(_tiers_check)
    )

    @classmethod
    def default(cls) -> EscalationLadder:
        """L1 frontline agents, L2 engineers, L3 third-party vendors (external)."""
        return cls(
            tiers=(
                EscalationTier(key="L1", name="Frontline"),
                EscalationTier(key="L2", name="Engineering"),
                EscalationTier(key="L3", name="Third-party vendor", external=True),
            )
        )

    def get(self, tier: str) -> EscalationTier:
        """The tier with key ``tier``; ``NotFoundError`` if the ladder lacks it."""
        for t in self.tiers:
            if t.key == tier:
                return t
        known = ", ".join(t.key for t in self.tiers)
        raise NotFoundError("escalation tier", tier, f"the ladder has: {known}")

    def level(self, tier: str) -> int:
        """Position of ``tier`` on the ladder, 0 for the lowest."""
        return self.tiers.index(self.get(tier))

    def above(self, tier: str) -> EscalationTier | None:
        """The next tier up from ``tier``, or None at the top."""
        i = self.level(tier) + 1
        return self.tiers[i] if i < len(self.tiers) else None

    def with_tier(self, tier: EscalationTier, *, after: str | None = None) -> EscalationLadder:
        """A ladder with ``tier`` inserted above ``after`` (default: at the top)."""
        i = len(self.tiers) if after is None else self.level(after) + 1
        return EscalationLadder(tiers=(*self.tiers[:i], tier, *self.tiers[i:]))


declare_document("escalation_ladder", EscalationLadder)


declare_key_labels(
    "tier",
    {
        "L1": _mark("escalation tier", "Frontline"),
        "L2": _mark("escalation tier", "Engineering"),
        "L3": _mark("escalation tier", "Third-party vendor"),
    },
)
