"""Routing laws: round robin is fair, routing is pure, the strategies choose what an
independent oracle says they should, and configuration round-trips as JSON."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from csdomain.calendars import BusinessCalendar
from csdomain.customers import Customer
from csdomain.errors import ValidationError
from csdomain.people import Agent, AgentGrade, Group, Presence, Role
from csdomain.routing import (
    AgentLoad,
    AssignmentPolicy,
    GroupState,
    RoundRobinCursor,
    Strategy,
    Triage,
    check_routing,
    choose_agent,
    overflow_chain,
    route,
    triage,
)
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies import customers, tickets
from csdomain.testing.strategies._routing import (
    assignment_policies,
    grade_rules,
    round_robin_cursors,
    triage_rules,
    triages,
)
from csdomain.tickets import Ticket

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=SH)
GROUP = Group("grp", "Group", overflow_to="hq")
HQ = Group("hq", "Headquarters")
DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
CHANNELS = ("email", "phone_hotline", "web_chat")
SKILLS = ("billing", "cantonese", "vip", "english", "refund", "hardware")
_PRESENCE = st.one_of(st.just(Presence.ONLINE), st.sampled_from(Presence))


def _ticket(channel: str = "email") -> Ticket:
    return Ticket.open(id="tkt_1", customer_id="cus_1", channel=channel, subject="Help", at=AT)


def _online(ids: list[str]) -> tuple[Agent, ...]:
    return tuple(Agent(i, i, presence=Presence.ONLINE, groups=("grp",), max_load=3) for i in ids)


# -- fairness --------------------------------------------------------------------------


def test_ten_thousand_round_robin_assignments_are_fair() -> None:
    members = (
        *_online([f"agt_{i}" for i in (7, 3, 11, 5, 1)]),
        Agent("agt_9", "off", presence=Presence.OFFLINE, groups=("grp",)),
        Agent("agt_4", "other group", presence=Presence.ONLINE, groups=("hq",)),
    )
    policy = AssignmentPolicy("grp")
    cursor: RoundRobinCursor | None = None
    counts: Counter[str] = Counter()
    ticket = _ticket()
    for n in range(10_000):
        chosen, cursor, _ = choose_agent(
            GroupState(GROUP, policy, members, cursor=cursor),
            ticket,
            None,
            now=AT,
            waited=timedelta(0),
        )
        assert chosen is not None and cursor is not None
        counts[chosen] += 1
        assert max(counts.values()) - min(counts.values()) <= 1 or n < 5
    assert set(counts) == {"agt_1", "agt_11", "agt_3", "agt_5", "agt_7"}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(counts.values()) == 10_000 == cursor.assigned


_STEPS = st.lists(
    st.one_of(st.just(("assign", 0)), st.tuples(st.just("toggle"), st.integers(0, 5))),
    min_size=1,
    max_size=150,
)


@settings(max_examples=40)
@given(size=st.integers(1, 6), steps=_STEPS, start=st.one_of(st.none(), st.integers(0, 6)))
def test_round_robin_is_fair_over_every_window_of_a_constant_eligible_set(
    size: int, steps: list[tuple[str, int]], start: int | None
) -> None:
    """Agents go offline and online between assignments; the cursor goes through JSON
    each time (as a restart or another worker would read it). Over every run of
    assignments during which the eligible set does not change, the counts of any two
    eligible agents differ by at most one."""
    ids = [f"agt_{i}" for i in range(size)]
    members = _online(ids)
    online = set(ids)
    last = None if start is None else f"agt_{start}"
    cursor: RoundRobinCursor | None = RoundRobinCursor("grp", last, 0)
    window: Counter[str] = Counter()
    policy = AssignmentPolicy("grp")
    for op, i in steps:
        if op == "toggle":
            online ^= {f"agt_{i % size}"}
            window = Counter()
            continue
        presence = {a: (Presence.ONLINE if a in online else Presence.AWAY) for a in ids}
        state = GroupState(GROUP, policy, members, presence=presence, cursor=cursor)
        chosen, new, _ = choose_agent(state, _ticket(), None, now=AT, waited=timedelta(0))
        if not online:
            assert (chosen, new) == (None, None)
            continue
        assert chosen in online and new is not None
        assert new.assigned == (0 if cursor is None else cursor.assigned) + 1
        cursor = from_json(to_json(new), RoundRobinCursor)
        window[chosen] += 1
        counts = [window[a] for a in online]
        assert max(counts) - min(counts) <= 1, (sorted(online), window)


# -- random group states -----------------------------------------------------------------


@st.composite
def _agents(draw: Any, count: int) -> tuple[Agent, ...]:
    found = []
    for n in range(count):
        groups = draw(st.one_of(st.just(("grp",)), st.sampled_from([("grp", "hq"), ("hq",)])))
        found.append(
            Agent(
                f"agt_{n:02d}",
                f"Agent {n}",
                grade=draw(st.sampled_from(AgentGrade)),
                roles=draw(st.frozensets(st.sampled_from(Role), max_size=2)),
                skills=draw(st.frozensets(st.sampled_from(SKILLS))),
                max_load=draw(st.one_of(st.integers(1, 6), st.just(0))),
                presence=draw(_PRESENCE),
                groups=groups,
            )
        )
    return tuple(found)


@st.composite
def _group_states(draw: Any) -> tuple[GroupState, Ticket, Customer | None, dict[str, Any]]:
    members = draw(_agents(draw(st.integers(0, 7))))
    policy = draw(assignment_policies(group_ids=["grp"]))
    if draw(st.booleans()):  # often a lenient policy, so that some agent is eligible
        policy = attrs.evolve(policy, required_skills=frozenset(), min_grade=None, grade_rules=())
    if draw(st.booleans()):
        weights = {c: draw(st.integers(1, 8)) for c in draw(st.sets(st.sampled_from(CHANNELS)))}
        policy = attrs.evolve(policy, channel_weights=weights)
    presence = {a.id: draw(st.sampled_from(Presence)) for a in members if draw(st.booleans())}
    loads = {}
    for a in members:
        if draw(st.booleans()):
            units = draw(st.integers(0, 7))
            loads[a.id] = AgentLoad(a.id, units, units)
    cursor = draw(
        round_robin_cursors(group_ids=["grp"], agent_ids=[a.id for a in members] or ["agt_x"])
    )
    state = GroupState(
        GROUP,
        policy,
        members,
        presence=presence,
        loads=loads,
        queue_length=draw(st.integers(0, 60)),
        oldest_wait=draw(st.one_of(st.none(), st.integers(0, 9_000).map(_seconds))),
        cursor=draw(st.one_of(st.none(), st.just(cursor))),
        calendar=draw(st.one_of(st.none(), st.just(DESK))),
    )
    ticket = _ticket(draw(st.sampled_from(CHANNELS)))
    customer = draw(st.one_of(st.none(), customers()))
    args = {
        "now": draw(st.sampled_from([AT, AT, AT.replace(hour=18), AT.replace(hour=8, minute=59)])),
        "waited": _seconds(draw(st.integers(0, 7_200))),
        "role": draw(st.sampled_from([None, None, None, Role.AGENT, Role.SUPERVISOR])),
        "min_grade": draw(st.sampled_from([None, None, None, *AgentGrade])),
    }
    return state, ticket, customer, args


def _seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


def _oracle(
    state: GroupState, ticket: Ticket, customer: Customer | None, args: dict[str, Any]
) -> list[Agent]:
    """The eligible agents, from the rules as written in the spec (not the implementation)."""
    policy = state.policy
    if state.calendar is not None and not state.calendar.is_open(args["now"]):
        return []
    grades = [g for g in (policy.min_grade, args["min_grade"]) if g is not None]
    if customer is not None:
        grades += [r.min_grade for r in policy.grade_rules if customer.tier >= r.customer_tier]
    weight = policy.channel_weights.get(ticket.channel, 1)
    found = []
    for a in state.members:
        units = state.loads[a.id].units if a.id in state.loads else 0
        ok = (
            "grp" in a.groups
            and state.presence.get(a.id, a.presence) is Presence.ONLINE
            and a.max_load > 0
            and units + min(weight, a.max_load) <= a.max_load
            and policy.required_skills <= a.skills
            and all(a.grade >= g for g in grades)
            and (args["role"] is None or args["role"] in a.roles)
        )
        if ok:
            found.append(a)
    return sorted(found, key=lambda a: a.id)


def _ratio(state: GroupState, a: Agent) -> Fraction:
    units = state.loads[a.id].units if a.id in state.loads else 0
    return Fraction(units, a.max_load)


@settings(max_examples=150)
@given(case=_group_states())
def test_the_chosen_agent_is_what_the_oracle_says(case: Any) -> None:
    state, ticket, customer, args = case
    chosen, cursor, trace = choose_agent(state, ticket, customer, **args)
    eligible = _oracle(state, ticket, customer, args)
    assert (chosen is None) == (not eligible), trace
    if chosen is None:
        assert cursor is None
        return
    by_id = {a.id: a for a in eligible}
    assert chosen in by_id
    strategy = state.policy.strategy
    if strategy is Strategy.ROUND_ROBIN:
        assert cursor is not None and cursor.last_agent_id == chosen
        assert cursor.assigned == (0 if state.cursor is None else state.cursor.assigned) + 1
        last = None if state.cursor is None else state.cursor.last_agent_id
        after = [a.id for a in eligible if last is not None and a.id > last]
        assert chosen == (after[0] if after else eligible[0].id)
        return
    assert cursor is None
    policy = state.policy
    dropped = (
        policy.drop_optional_after is not None and args["waited"] >= policy.drop_optional_after
    )

    def rank(a: Agent) -> tuple[int, Fraction, str]:
        skills = (
            0
            if dropped or strategy is not Strategy.SKILLS
            else len(a.skills & policy.optional_skills)
        )
        return (-skills, _ratio(state, a), a.id)

    assert rank(by_id[chosen]) == min(rank(a) for a in eligible)


@settings(max_examples=100)
@given(case=_group_states(), seed=st.integers(0, 2**32))
def test_routing_is_pure_and_ignores_the_order_of_members_and_mappings(
    case: Any, seed: int
) -> None:
    state, ticket, customer, args = case
    shuffler = random.Random(seed)
    members = list(state.members)
    shuffler.shuffle(members)
    presence = list(state.presence.items())
    shuffler.shuffle(presence)
    loads = list(state.loads.items())
    shuffler.shuffle(loads)
    shuffled = attrs.evolve(
        state, members=tuple(members), presence=dict(presence), loads=dict(loads)
    )
    hq = GroupState(
        HQ,
        AssignmentPolicy("hq"),
        (Agent("agt_hq", "HQ", presence=Presence.ONLINE, groups=("hq",)),),
    )
    kw = {"now": args["now"], "waited": args["waited"]}
    first = route(ticket, customer, group_id="grp", states={"grp": state, "hq": hq}, **kw)
    again = route(ticket, customer, group_id="grp", states={"grp": state, "hq": hq}, **kw)
    other = route(ticket, customer, group_id="grp", states={"hq": hq, "grp": shuffled}, **kw)
    assert first == again == other
    call = choose_agent(state, ticket, customer, **args)
    assert call == choose_agent(shuffled, ticket, customer, **args)
    if state.over_threshold() is not None:
        assert first.group_id == "hq" and first.path == ("grp", "hq")
    else:
        assert first.group_id == "grp"
        assert (first.agent_id, first.cursor) == choose_agent(state, ticket, customer, **kw)[:2]


# -- triage --------------------------------------------------------------------------------


@settings(max_examples=80)
@given(
    rules=triages(max_rules=5),
    ticket=tickets(max_events=1),
    customer=st.one_of(st.none(), customers()),
    extra=triage_rules(),
)
def test_triage_takes_the_first_matching_rule(
    rules: Triage, ticket: Ticket, customer: Customer | None, extra: Any
) -> None:
    group, name, trace = triage(rules, ticket, customer)
    matching = [r for r in rules.rules if r.matches(ticket, customer)]
    if matching:
        assert (group, name) == (matching[0].group_id, matching[0].name)
        index = rules.rules.index(matching[0])
        assert len(trace) == index + 1
        # Rules after the chosen one do not matter.
        if extra.name not in {r.name for r in rules.rules}:
            more = Triage(rules=(*rules.rules, extra), default_group="elsewhere")
            assert triage(more, ticket, customer)[:2] == (group, name)
    else:
        assert (group, name) == (rules.default_group, None)
        assert len(trace) == len(rules.rules) + 1
    if customer is None:
        assert all(not r.uses_customer for r in matching)


# -- configuration --------------------------------------------------------------------------


@settings(max_examples=60)
@given(
    value=st.one_of(
        triage_rules(), triages(), assignment_policies(), round_robin_cursors(), grade_rules()
    )
)
def test_configuration_round_trips_through_json(value: object) -> None:
    text = to_json(value)
    assert from_json(text) == value
    assert from_json(text, type(value)) == value
    assert to_json(from_json(text)) == text


_IDS = ("g1", "g2", "g3", "g4")


@settings(max_examples=100)
@given(targets=st.lists(st.one_of(st.none(), st.sampled_from(_IDS)), min_size=4, max_size=4))
def test_check_routing_finds_a_cycle_exactly_when_a_chain_has_one(
    targets: list[str | None],
) -> None:
    groups = {
        gid: Group(gid, gid, overflow_to=None if target == gid else target)
        for gid, target in zip(_IDS, targets, strict=True)
    }
    problems = check_routing(Triage(rules=(), default_group="g1"), [], groups=groups, agents=())
    cycles = [m for _, m in problems if m.startswith("overflow cycle")]
    raised = set()
    for gid in _IDS:
        try:
            chain = overflow_chain(gid, groups)
        except ValidationError as error:
            raised.add(str(error).split("overflow cycle ")[1].split(";")[0])
        else:
            assert chain[0] == gid and len(set(chain)) == len(chain)
    # Each cycle is reported once, by check_routing; overflow_chain names the same cycles
    # (each from where the chain entered it).
    assert bool(cycles) == bool(raised)
    for message in cycles:
        members = message.removeprefix("overflow cycle ").split(" -> ")
        assert members[0] == members[-1] == min(members)
        assert any(set(r.split(" -> ")) == set(members) for r in raised)


@pytest.mark.parametrize("make", [assignment_policies, triage_rules, triages, round_robin_cursors])
def test_strategies_refuse_bad_arguments(make: Any) -> None:
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        make(group_ids="grp")
    with pytest.raises(InvalidArgument):
        make(group_ids=["not a key"])
    with pytest.raises(InvalidArgument):
        make(group_ids=[])


def test_strategy_arguments_are_checked_individually() -> None:
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        triage_rules(conditions="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        triages(max_rules=-1)
    with pytest.raises(InvalidArgument):
        assignment_policies(strategies=["round_robin"])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument):
        round_robin_cursors(agent_ids=[5])  # type: ignore[list-item]


@settings(max_examples=30)
@given(
    policy=assignment_policies(strategies=[Strategy.SKILLS]),
    cursor=round_robin_cursors(group_ids=["g"], agent_ids=["agt_1"]),
)
def test_strategies_respect_their_arguments(
    policy: AssignmentPolicy, cursor: RoundRobinCursor
) -> None:
    assert policy.strategy is Strategy.SKILLS
    assert cursor.group_id == "g" and cursor.last_agent_id in (None, "agt_1")
