"""Strategies: people."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
from hypothesis.strategies import SearchStrategy

from csdomain.people import (
    Agent,
    AgentGrade,
    EscalationLadder,
    EscalationTier,
    Group,
    Presence,
    Role,
)
from csdomain.testing.strategies._channels import (
    _channel_keys,
)
from csdomain.testing.strategies._common import (
    _check_range,
    _check_size,
    _ids,
    _keys,
    _maybe,
    _memo,
    _texts,
)
from csdomain.testing.strategies.registry import register

_TIERS: tuple[str, ...] = ("L1", "L2", "L3")


def agent_grades() -> SearchStrategy[AgentGrade]:
    """Members of :class:`~csdomain.AgentGrade`. Requires Hypothesis."""
    return st.sampled_from(AgentGrade)


def roles() -> SearchStrategy[Role]:
    """Members of :class:`~csdomain.Role`. Requires Hypothesis."""
    return st.sampled_from(Role)


def presences() -> SearchStrategy[Presence]:
    """Members of :class:`~csdomain.Presence`. Requires Hypothesis."""
    return st.sampled_from(Presence)


# -- people ----------------------------------------------------------------------------


@_memo
def _tier_keys() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_TIERS), _keys(16))


def agents(*, max_skills: int = 4, max_groups: int = 3) -> SearchStrategy[Agent]:
    """:class:`~csdomain.Agent` values: any grade, roles, presence and load limit,
    up to ``max_skills`` skills and ``max_groups`` distinct group ids.

    Requires Hypothesis.
    """
    _check_size("max_skills", max_skills)
    _check_size("max_groups", max_groups)
    return _agents(max_skills, max_groups)


register(Agent, agents)


@_memo
def _agents(max_skills: int, max_groups: int) -> SearchStrategy[Agent]:
    return st.builds(
        Agent,
        id=_ids("agt"),
        name=_texts(40),
        grade=agent_grades(),
        roles=st.frozensets(roles()),
        skills=st.frozensets(_keys(24), max_size=max_skills),
        max_load=st.one_of(st.integers(0, 20), st.integers(0, 10_000)),
        presence=presences(),
        groups=st.lists(_ids("grp"), max_size=max_groups, unique=True).map(tuple),
    )


def groups(*, max_channels: int = 4) -> SearchStrategy[Group]:
    """:class:`~csdomain.Group` values: a tier, up to ``max_channels`` channel keys,
    maybe an overflow group (never itself) and a calendar name.

    Requires Hypothesis.
    """
    _check_size("max_channels", max_channels)
    return _groups(max_channels)


register(Group, groups)


@_memo
def _groups(max_channels: int) -> SearchStrategy[Group]:
    return st.builds(
        _group,
        id=_ids("grp"),
        name=_texts(40),
        tier=_tier_keys(),
        channels=st.frozensets(_channel_keys(True, True), max_size=max_channels),
        overflow_to=_maybe(_ids("grp")),
        calendar=_maybe(_keys(24)),
    )


def _group(**fields: Any) -> Group:
    if fields["overflow_to"] == fields["id"]:
        fields["overflow_to"] = None  # a group cannot overflow to itself
    return Group(**fields)


def escalation_tiers() -> SearchStrategy[EscalationTier]:
    """:class:`~csdomain.EscalationTier` values (``L1``-``L3`` or custom keys).

    Requires Hypothesis.
    """
    return _escalation_tiers()


register(EscalationTier, escalation_tiers)


@_memo
def _escalation_tiers() -> SearchStrategy[EscalationTier]:
    return st.builds(EscalationTier, key=_tier_keys(), name=_texts(40), external=st.booleans())


def _tier_key_of(tier: EscalationTier) -> str:
    return tier.key


def _ladder(tiers: list[EscalationTier]) -> EscalationLadder:
    return EscalationLadder(tiers=tuple(tiers))


def escalation_ladders(
    *, min_tiers: int = 1, max_tiers: int = 5
) -> SearchStrategy[EscalationLadder]:
    """:class:`~csdomain.EscalationLadder` values with ``min_tiers`` to ``max_tiers``
    tiers of distinct keys (``min_tiers`` is at least 1).

    Requires Hypothesis.
    """
    _check_size("min_tiers", min_tiers, 1)
    _check_size("max_tiers", max_tiers, 1)
    _check_range("min_tiers", min_tiers, "max_tiers", max_tiers)
    return st.lists(
        _escalation_tiers(), min_size=min_tiers, max_size=max_tiers, unique_by=_tier_key_of
    ).map(_ladder)


register(EscalationLadder, escalation_ladders)
