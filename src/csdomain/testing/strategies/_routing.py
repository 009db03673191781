"""Strategies: routing (triage rules, assignment policies, round-robin cursors)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.conditions import ALWAYS, Condition
from csdomain.customers import CustomerTier
from csdomain.people import AgentGrade
from csdomain.routing import (
    MAX_WEIGHT,
    AssignmentPolicy,
    GradeRule,
    RoundRobinCursor,
    Strategy,
    Triage,
    TriageRule,
)
from csdomain.testing.strategies._channels import _channel_keys
from csdomain.testing.strategies._common import (
    _check_size,
    _ids,
    _keys,
    _maybe,
    _members,
    _memo,
    _texts,
    check_keys,
    locales,
)
from csdomain.testing.strategies._conditions import _CONDITION_TYPES, _conditions
from csdomain.testing.strategies.registry import register
from csdomain.tickets import TicketKind

_KEYWORDS: tuple[str, ...] = ("refund", "REFUND", "投诉", "退款", "invoice", "Broken")
_SKILLS: tuple[str, ...] = ("billing", "vip", "cantonese", "english", "refund", "hardware")


@_memo
def _group_ids(given: tuple[str, ...] | None) -> SearchStrategy[str]:
    return _ids("grp") if given is None else st.sampled_from(given)


@_memo
def _skills() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_SKILLS), _keys(24))


def grade_rules() -> SearchStrategy[GradeRule]:
    """:class:`~csdomain.routing.GradeRule` values: any customer tier, any grade.

    Requires Hypothesis.
    """
    return _grade_rules()


@_memo
def _grade_rules() -> SearchStrategy[GradeRule]:
    return st.builds(
        GradeRule,
        customer_tier=st.sampled_from(CustomerTier),
        min_grade=st.sampled_from(AgentGrade),
    )


register(GradeRule, grade_rules)


def triage_rules(
    *, group_ids: Iterable[str] | None = None, conditions: bool = True
) -> SearchStrategy[TriageRule]:
    """:class:`~csdomain.routing.TriageRule` values with a few of each filter (often
    none): channel keys, kinds, customer tiers, segments, locales, keywords (CJK and
    mixed case among them) and, unless ``conditions`` is False, sometimes a condition.

    ``group_ids`` (a non-empty collection of keys) restricts the group chosen.
    Requires Hypothesis.
    """
    chosen = check_keys("group_ids", group_ids)
    if not isinstance(conditions, bool):
        raise InvalidArgument(f"conditions={conditions!r} must be True or False")
    return _triage_rules(chosen, conditions)


register(TriageRule, triage_rules)


@_memo
def _triage_rules(
    group_ids: tuple[str, ...] | None, conditions: bool
) -> SearchStrategy[TriageRule]:
    condition: SearchStrategy[Condition] = st.just(ALWAYS)
    if conditions:
        condition = st.one_of(condition, _conditions(1, _CONDITION_TYPES))
    return st.builds(
        TriageRule,
        name=st.one_of(st.sampled_from(("vip", "complaints", "phone", "中文")), _texts(30)),
        group_id=_group_ids(group_ids),
        channels=st.frozensets(_channel_keys(True, True), max_size=2),
        kinds=st.frozensets(st.sampled_from(TicketKind), max_size=2),
        customer_tiers=st.frozensets(st.sampled_from(CustomerTier), max_size=2),
        segments=st.frozensets(_keys(16), max_size=2),
        locales=st.frozensets(locales(), max_size=2),
        keywords=st.lists(st.one_of(st.sampled_from(_KEYWORDS), _texts(20)), max_size=2).map(tuple),
        condition=condition,
    )


def triages(
    *, group_ids: Iterable[str] | None = None, max_rules: int = 4
) -> SearchStrategy[Triage]:
    """:class:`~csdomain.routing.Triage` values: up to ``max_rules`` rules with distinct
    names and a default group (from ``group_ids`` when given).

    Requires Hypothesis.
    """
    chosen = check_keys("group_ids", group_ids)
    _check_size("max_rules", max_rules)
    return _triages(chosen, max_rules)


register(Triage, triages)


@_memo
def _triages(group_ids: tuple[str, ...] | None, max_rules: int) -> SearchStrategy[Triage]:
    return st.builds(
        Triage,
        rules=st.lists(
            _triage_rules(group_ids, True), max_size=max_rules, unique_by=_rule_name
        ).map(tuple),
        default_group=_group_ids(group_ids),
    )


def _rule_name(rule: TriageRule) -> str:
    return rule.name


def assignment_policies(
    *, group_ids: Iterable[str] | None = None, strategies: Iterable[Strategy] | None = None
) -> SearchStrategy[AssignmentPolicy]:
    """:class:`~csdomain.routing.AssignmentPolicy` values: a strategy (among
    ``strategies``), channel weights (1 to 20, sometimes a weight filling any agent),
    required skills, optional skills under the skills strategy (dropped after a
    while or never), a minimum grade, grade rules of distinct tiers and overflow
    thresholds. ``group_ids`` restricts the group.

    Requires Hypothesis.
    """
    chosen = check_keys("group_ids", group_ids)
    return _assignment_policies(chosen, _members(Strategy, "strategies", strategies))


register(AssignmentPolicy, assignment_policies)


@_memo
def _assignment_policies(
    group_ids: tuple[str, ...] | None, strategies: tuple[Strategy, ...]
) -> SearchStrategy[AssignmentPolicy]:
    return _policies(_group_ids(group_ids), st.sampled_from(strategies))


def _grade_rule_tier(rule: GradeRule) -> CustomerTier:
    return rule.customer_tier


@st.composite
def _policies(
    draw: DrawFn, group_ids: SearchStrategy[str], strategies: SearchStrategy[Strategy]
) -> AssignmentPolicy:
    strategy = draw(strategies)
    required = draw(st.frozensets(_skills(), max_size=2))
    optional: frozenset[str] = frozenset()
    drop: timedelta | None = None
    if strategy is Strategy.SKILLS:
        optional = draw(st.frozensets(_skills(), max_size=3)) - required
        if optional:
            drop = draw(_maybe(st.integers(1, 3_600).map(_seconds)))
    weights = draw(
        st.dictionaries(
            _channel_keys(True, True),
            st.one_of(st.integers(1, 20), st.just(MAX_WEIGHT)),
            max_size=3,
        )
    )
    return AssignmentPolicy(
        group_id=draw(group_ids),
        strategy=strategy,
        channel_weights=weights,
        required_skills=required,
        optional_skills=optional,
        drop_optional_after=drop,
        min_grade=draw(_maybe(st.sampled_from(AgentGrade))),
        grade_rules=tuple(draw(st.lists(_grade_rules(), max_size=3, unique_by=_grade_rule_tier))),
        overflow_queue=draw(_maybe(st.integers(1, 50))),
        overflow_wait=draw(_maybe(st.integers(1, 7_200).map(_seconds))),
    )


def _seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


def round_robin_cursors(
    *, group_ids: Iterable[str] | None = None, agent_ids: Iterable[str] | None = None
) -> SearchStrategy[RoundRobinCursor]:
    """:class:`~csdomain.routing.RoundRobinCursor` values: a group (from ``group_ids``),
    no agent yet or one (from ``agent_ids``), and a count of assignments.

    Requires Hypothesis.
    """
    groups = check_keys("group_ids", group_ids)
    agents = check_keys("agent_ids", agent_ids)
    return _cursors(groups, agents)


register(RoundRobinCursor, round_robin_cursors)


@_memo
def _cursors(
    group_ids: tuple[str, ...] | None, agent_ids: tuple[str, ...] | None
) -> SearchStrategy[RoundRobinCursor]:
    agents = _ids("agt") if agent_ids is None else st.sampled_from(agent_ids)
    fresh = st.builds(RoundRobinCursor, group_id=_group_ids(group_ids))
    used = st.builds(
        RoundRobinCursor,
        group_id=_group_ids(group_ids),
        last_agent_id=agents,
        assigned=st.one_of(st.integers(1, 1_000), st.integers(1, 2**63 - 1)),
    )
    return st.one_of(fresh, used)
