"""Routing: worked examples, triage, overflow, the configuration check and bad input.

The laws (fairness of round robin, purity, the strategies against an oracle) are in
``test_routing_laws.py``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

import csdomain.routing
from csdomain._kernel.labels import enum_labels
from csdomain.calendars import BusinessCalendar
from csdomain.channels import Channel, ChannelDirectory, ChannelTraits
from csdomain.conditions import Equals
from csdomain.customers import Customer, CustomerTier
from csdomain.errors import NotFoundError, ValidationError
from csdomain.people import Agent, AgentGrade, Group, Presence, Role
from csdomain.routing import (
    AgentLoad,
    AssignmentPolicy,
    GradeRule,
    GroupState,
    RoundRobinCursor,
    RoutingDecision,
    Strategy,
    Triage,
    TriageRule,
    check_routing,
    choose_agent,
    locale_matches,
    overflow_chain,
    route,
    triage,
)
from csdomain.serialization import from_json, to_json
from csdomain.tickets import Ticket, TicketKind

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # a Monday
NO_WAIT = timedelta(0)
MIN = timedelta(minutes=1)


def ticket(channel: str = "email", subject: str = "Where is my order?", **kw: object) -> Ticket:
    return Ticket.open(
        id="tkt_1", customer_id="cus_1", channel=channel, subject=subject, at=AT, **kw
    )


def customer(tier: CustomerTier = CustomerTier.STANDARD, **kw: object) -> Customer:
    return Customer(id="cus_1", display_name="Li Lei", tier=tier, **kw)


def agent(id: str, *groups: str, presence: Presence = Presence.ONLINE, **kw: object) -> Agent:
    return Agent(id, f"name of {id}", presence=presence, groups=groups or ("branch",), **kw)


BRANCH = Group("branch", "Branch", overflow_to="hq")
HQ = Group("hq", "Headquarters")


def state(group: Group = BRANCH, members: tuple[Agent, ...] = (), **kw: object) -> GroupState:
    policy = kw.pop("policy", None) or AssignmentPolicy(group.id)
    return GroupState(group, policy, members, **kw)  # type: ignore[arg-type]


def choose(st: GroupState, t: Ticket | None = None, c: Customer | None = None, **kw: object):
    kw.setdefault("now", AT)
    kw.setdefault("waited", NO_WAIT)
    return choose_agent(st, t or ticket(), c, **kw)  # type: ignore[arg-type]


# -- worked examples --------------------------------------------------------------------


def test_a_vips_ticket_needs_a_senior_agent() -> None:
    policy = AssignmentPolicy(
        "branch", grade_rules=(GradeRule(CustomerTier.VIP, AgentGrade.SENIOR),)
    )
    junior = agent("agt_a")
    senior = agent("agt_b", grade=AgentGrade.SENIOR)
    st = state(members=(junior, senior), policy=policy)
    chosen, cursor, trace = choose(st, c=customer(CustomerTier.VIP))
    assert chosen == "agt_b"
    assert cursor == RoundRobinCursor("branch", "agt_b", 1)
    assert (
        "agent 'agt_a' is not eligible: grade standard, below senior "
        "(the grade rule for vip customers)"
    ) in trace
    # The rule covers tiers above VIP too; standard customers and unknown ones get anyone.
    assert choose(st, c=customer(CustomerTier.ENTERPRISE))[0] == "agt_b"
    assert choose(st, c=customer())[0] == "agt_a"
    assert choose(st)[0] == "agt_a"


def test_the_highest_grade_asked_for_applies() -> None:
    policy = AssignmentPolicy(
        "branch",
        min_grade=AgentGrade.SENIOR,
        grade_rules=(
            GradeRule(CustomerTier.VIP, AgentGrade.ELITE),
            GradeRule(CustomerTier.ENTERPRISE, AgentGrade.EXPERT),
        ),
    )
    members = tuple(agent(f"agt_{g.value}", grade=g) for g in AgentGrade)
    st = state(members=members, policy=policy, cursor=RoundRobinCursor("branch", "agt_zzz"))
    # Round robin wraps to the lowest eligible id; ids sort expert < gold < senior ...
    assert choose(st)[0] == "agt_elite"
    assert choose(st, c=customer(CustomerTier.VIP))[0] == "agt_elite"
    assert choose(st, c=customer(CustomerTier.ENTERPRISE))[0] == "agt_expert"
    assert choose(st, c=customer(CustomerTier.VIP), min_grade=AgentGrade.GOLD)[0] == "agt_gold"
    # A lower grade asked for never lowers the policy's.
    found = choose(st, min_grade=AgentGrade.STANDARD)
    assert found[0] == "agt_elite"
    assert any("the group's minimum grade" in line for line in found[2])


def test_a_phone_call_fills_an_agent_so_the_next_goes_elsewhere() -> None:
    policy = AssignmentPolicy(
        "branch", strategy=Strategy.LEAST_LOADED, channel_weights={"phone_hotline": 100}
    )
    a, b = agent("agt_a", max_load=5), agent("agt_b", max_load=5)
    call = ticket("phone_hotline")
    loads: dict[str, AgentLoad] = {}
    chosen = []
    for _ in range(3):
        found, cursor, trace = choose(state(members=(a, b), policy=policy, loads=loads), call)
        assert cursor is None  # only round robin keeps a cursor
        chosen.append(found)
        if found is not None:
            units = policy.units("phone_hotline", a if found == "agt_a" else b)
            assert units == 5
            loads[found] = AgentLoad(found, units, 1)
    assert chosen == ["agt_a", "agt_b", None]
    assert (
        "agent 'agt_a' is not eligible: no room: 5 of 5 units in use and "
        "a phone_hotline ticket takes 5"
    ) in trace
    assert trace[-1] == (
        "group 'branch' has no eligible agent among 2 members: the ticket waits in its queue"
    )
    # Nor does a full agent take an email (weight 1).
    assert choose(state(members=(a, b), policy=policy, loads=loads))[0] is None


def test_least_loaded_compares_fractions_exactly() -> None:
    # 1/3 < 2/5 < 1/2 although the loads in units go the other way for b and c.
    a, b, c = agent("agt_a", max_load=2), agent("agt_b", max_load=5), agent("agt_c", max_load=3)
    loads = {"agt_a": AgentLoad("agt_a", 1, 1), "agt_b": AgentLoad("agt_b", 2, 2)}
    loads["agt_c"] = AgentLoad("agt_c", 1, 1)
    policy = AssignmentPolicy("branch", strategy=Strategy.LEAST_LOADED)
    assert choose(state(members=(a, b, c), policy=policy, loads=loads))[0] == "agt_c"
    # Equal fractions (2/4 == 1/2) go to the lowest id.
    d = agent("agt_d", max_load=4)
    loads = {"agt_a": AgentLoad("agt_a", 1, 1), "agt_d": AgentLoad("agt_d", 2, 2)}
    assert choose(state(members=(d, a), policy=policy, loads=loads))[0] == "agt_a"
    # Near fractions: 9,999/10,000 against 9,998/9,999 (the second is lower).
    e = agent("agt_e", max_load=10_000)
    f = agent("agt_f", max_load=9_999)
    loads = {"agt_e": AgentLoad("agt_e", 9_999, 1), "agt_f": AgentLoad("agt_f", 9_998, 1)}
    assert choose(state(members=(e, f), policy=policy, loads=loads))[0] == "agt_f"


def test_an_optional_skill_is_dropped_after_five_minutes() -> None:
    policy = AssignmentPolicy(
        "branch",
        strategy=Strategy.SKILLS,
        required_skills={"billing"},
        optional_skills={"cantonese"},
        drop_optional_after=5 * MIN,
    )
    idle = agent("agt_a", skills={"billing"})
    speaker = agent("agt_b", skills={"billing", "cantonese"})
    unskilled = agent("agt_0")
    loads = {"agt_b": AgentLoad("agt_b", 3, 3)}
    st = state(members=(idle, speaker, unskilled), policy=policy, loads=loads)
    chosen, cursor, trace = choose(st, waited=4 * MIN)
    assert (chosen, cursor) == ("agt_b", None)
    assert "agent 'agt_0' is not eligible: lacks required skills ['billing']" in trace
    assert (
        trace[-1] == "skills: agent 'agt_b' with optional skills ['cantonese'], 3 of 5 units in use"
    )
    chosen, _, trace = choose(st, waited=5 * MIN)
    assert chosen == "agt_a"
    assert "skills: optional skills dropped after waiting 0:05:00 (at least 0:05:00)" in trace
    # Without a drop time the skill always ranks first.
    keep = attrs.evolve(policy, drop_optional_after=None)
    assert choose(attrs.evolve(st, policy=keep), waited=timedelta(days=3))[0] == "agt_b"


def test_a_branch_over_queue_three_overflows_to_headquarters() -> None:
    ann = agent("agt_ann", "branch")
    bob = agent("agt_bob", "hq")
    policy = AssignmentPolicy("branch", overflow_queue=3)

    def states(queue: int) -> dict[str, GroupState]:
        return {
            "branch": state(BRANCH, (ann,), policy=policy, queue_length=queue),
            "hq": state(HQ, (bob,)),
        }

    stay = route(ticket(), None, group_id="branch", states=states(2), now=AT, waited=NO_WAIT)
    assert (stay.group_id, stay.agent_id, stay.path) == ("branch", "agt_ann", ("branch",))
    moved = route(ticket(), None, group_id="branch", states=states(3), now=AT, waited=NO_WAIT)
    assert (moved.group_id, moved.agent_id) == ("hq", "agt_bob")
    assert moved.path == ("branch", "hq")
    assert moved.cursor == RoundRobinCursor("hq", "agt_bob", 1)
    assert moved.trace[0] == (
        "group 'branch': its queue of 3 reached the overflow threshold of 3: overflow to 'hq'"
    )


def test_overflow_on_the_oldest_wait_and_along_a_chain() -> None:
    region = Group("region", "Region", overflow_to="hq")
    branch = Group("branch", "Branch", overflow_to="region")
    wait = AssignmentPolicy("branch", overflow_wait=10 * MIN)
    full = AssignmentPolicy("region", overflow_queue=1)
    states = {
        "branch": state(branch, policy=wait, oldest_wait=10 * MIN),
        "region": state(region, policy=full, queue_length=5),
        "hq": state(HQ, (agent("agt_x", "hq"),)),
    }
    decision = route(ticket(), None, group_id="branch", states=states, now=AT, waited=NO_WAIT)
    assert decision.path == ("branch", "region", "hq")
    assert decision.agent_id == "agt_x"
    assert decision.trace[0] == (
        "group 'branch': its oldest ticket waited 0:10:00, at least the overflow wait of "
        "0:10:00: overflow to 'region'"
    )
    # Below the wait threshold it stays, and waits there (no member) with agent None.
    states["branch"] = state(branch, policy=wait, oldest_wait=10 * MIN - timedelta(seconds=1))
    decision = route(ticket(), None, group_id="branch", states=states, now=AT, waited=NO_WAIT)
    assert (decision.group_id, decision.agent_id, decision.cursor) == ("branch", None, None)


def test_overflow_stays_when_no_target_is_named_or_given() -> None:
    policy = AssignmentPolicy("hq", overflow_queue=1)
    alone = {"hq": state(HQ, (agent("agt_x", "hq"),), policy=policy, queue_length=9)}
    decision = route(ticket(), None, group_id="hq", states=alone, now=AT, waited=NO_WAIT)
    assert decision.agent_id == "agt_x"
    assert decision.trace[0] == (
        "group 'hq': its queue of 9 reached the overflow threshold of 1, "
        "but it names no overflow group: it stays"
    )
    branch_policy = AssignmentPolicy("branch", overflow_queue=1)
    missing = {"branch": state(BRANCH, policy=branch_policy, queue_length=1)}
    decision = route(ticket(), None, group_id="branch", states=missing, now=AT, waited=NO_WAIT)
    assert decision.group_id == "branch"
    assert "the state of its overflow group 'hq' is not given: it stays" in decision.trace[0]


def test_a_group_closed_at_20_has_no_agent() -> None:
    desk = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-20:00")
    group = Group("branch", "Branch", calendar="desk")
    st = state(group, (agent("agt_a"),), calendar=desk)
    open_at = datetime(2026, 3, 2, 19, 59, tzinfo=SH)
    assert choose(st, now=open_at)[0] == "agt_a"
    closed_at = datetime(2026, 3, 2, 20, 0, tzinfo=SH)
    chosen, cursor, trace = choose(st, now=closed_at)
    assert (chosen, cursor) == (None, None)
    assert trace == (
        "group 'branch' is closed at 2026-03-02T20:00:00+08:00 (calendar 'desk'): no agent",
    )
    decision = route(
        ticket(), None, group_id="branch", states={"branch": st}, now=closed_at, waited=NO_WAIT
    )
    assert (decision.group_id, decision.agent_id) == ("branch", None)


def test_an_agent_in_two_groups() -> None:
    both = agent("agt_both", "branch", "hq", max_load=2)
    hq_only = agent("agt_hq", "hq")
    loads = {"agt_both": AgentLoad("agt_both", 1, 1)}
    branch = state(BRANCH, (both,), loads=loads)
    hq = state(HQ, (both, hq_only), loads=loads, cursor=RoundRobinCursor("hq", "agt_a"))
    assert choose(branch)[0] == "agt_both"
    assert choose(hq)[0] == "agt_both"
    # Its load counts in every group: once full, neither group gives it more.
    full = {"agt_both": AgentLoad("agt_both", 2, 2)}
    assert choose(attrs.evolve(branch, loads=full))[0] is None
    assert choose(attrs.evolve(hq, loads=full))[0] == "agt_hq"
    # A member list naming an agent of another group: that agent is not eligible.
    chosen, _, trace = choose(state(BRANCH, (hq_only,)))
    assert chosen is None
    assert "agent 'agt_hq' is not eligible: not a member of group 'branch'" in trace


def test_presence_comes_from_the_state_then_from_the_agent() -> None:
    away = agent("agt_a", presence=Presence.AWAY)
    online = agent("agt_b")
    st = state(members=(away, online))
    chosen, _, trace = choose(st)
    assert chosen == "agt_b"
    assert "agent 'agt_a' is not eligible: away, not online" in trace
    st = state(members=(away, online), presence={"agt_a": Presence.ONLINE})
    assert choose(st)[0] == "agt_a"
    st = state(members=(away, online), presence={"agt_b": Presence.OFFLINE})
    assert choose(st)[0] is None


def test_a_parked_agent_and_the_role_asked_for() -> None:
    parked = agent("agt_a", max_load=0)
    boss = agent("agt_b", roles={Role.SUPERVISOR})
    worker = agent("agt_c")
    st = state(members=(parked, boss, worker))
    chosen, _, trace = choose(st, role=Role.SUPERVISOR)
    assert chosen == "agt_b"
    assert "agent 'agt_a' is not eligible: parked (max load 0)" in trace
    assert "agent 'agt_c' is not eligible: does not have the role supervisor" in trace


def test_round_robin_goes_round_from_the_cursor() -> None:
    members = (agent("agt_c"), agent("agt_a"), agent("agt_b"))
    cursor = None
    seen = []
    for _ in range(5):
        chosen, cursor, trace = choose(state(members=members, cursor=cursor))
        seen.append(chosen)
    assert seen == ["agt_a", "agt_b", "agt_c", "agt_a", "agt_b"]
    assert cursor == RoundRobinCursor("branch", "agt_b", 5)
    # The last agent left (or went offline): the next one after it in id order.
    gone = RoundRobinCursor("branch", "agt_bb", 7)
    chosen, cursor, trace = choose(state(members=members, cursor=gone))
    assert (chosen, cursor) == ("agt_c", RoundRobinCursor("branch", "agt_c", 8))
    assert trace[-1] == "round robin: agent 'agt_c', the next eligible after 'agt_bb'"
    last = RoundRobinCursor("branch", "agt_c", 8)
    trace = choose(state(members=members, cursor=last))[2]
    assert (
        trace[-1] == "round robin: agent 'agt_a', the next eligible after 'agt_c' (wrapped around)"
    )


# -- triage ------------------------------------------------------------------------------


def test_triage_takes_the_first_rule_whose_every_filter_matches() -> None:
    rules = Triage(
        rules=(
            TriageRule(
                name="vip phone",
                group_id="vip",
                channels={"phone_hotline"},
                customer_tiers={CustomerTier.VIP},
            ),
            TriageRule(name="complaints", group_id="complaints", keywords=("投诉", "Complaint")),
            TriageRule(name="after sales", group_id="after_sales", kinds={TicketKind.AFTER_SALES}),
            TriageRule(name="chinese", group_id="cn", locales={"zh"}),
        ),
        default_group="general",
    )
    vip = customer(CustomerTier.VIP)
    assert triage(rules, ticket("phone_hotline"), vip)[:2] == ("vip", "vip phone")
    group, rule, trace = triage(rules, ticket("email", "我要投诉!"), vip)
    assert (group, rule) == ("complaints", "complaints")
    assert trace == (
        "triage rule 'vip phone' did not match: channel 'email' is not among ['phone_hotline']",
        "triage rule 'complaints' matched: group 'complaints'",
    )
    assert triage(rules, ticket(subject="A COMPLAINT about delivery"), None)[0] == "complaints"
    after = ticket(kind=TicketKind.AFTER_SALES)
    assert triage(rules, after, None)[0] == "after_sales"
    assert triage(rules, ticket(), customer(locale="zh_Hans"))[0] == "cn"
    assert triage(rules, ticket(), customer(locale="zh-TW"))[0] == "cn"
    group, rule, trace = triage(rules, ticket(), customer(locale="en"))
    assert (group, rule) == ("general", None)
    assert trace[-1] == "no triage rule matched: default group 'general'"
    assert "triage rule 'chinese' did not match: locale 'en' is not among ['zh']" in trace


def test_an_unknown_customer_matches_no_customer_filter() -> None:
    rules = Triage(
        rules=(
            TriageRule(
                name="vip", group_id="vip", customer_tiers={CustomerTier.STANDARD, CustomerTier.VIP}
            ),
            TriageRule(name="segment", group_id="seg", segments={"wholesale"}),
            TriageRule(name="any", group_id="any"),
        ),
        default_group="general",
    )
    group, rule, trace = triage(rules, ticket(), None)
    assert (group, rule) == ("any", "any")
    assert trace[0] == (
        "triage rule 'vip' did not match: the customer is unknown and the rule filters on customers"
    )
    assert triage(rules, ticket(), customer(segments={"wholesale"}))[0] == "vip"
    other = customer(CustomerTier.ENTERPRISE, segments={"wholesale", "north"})
    assert triage(rules, ticket(), other)[0] == "seg"


def test_triage_conditions_see_ticket_and_customer() -> None:
    rule = TriageRule(name="urgent", group_id="fast", condition=Equals("ticket.priority", "urgent"))
    rules = Triage(rules=(rule,), default_group="general")
    assert triage(rules, ticket(), None)[0] == "general"
    from csdomain.priorities import Priority

    assert triage(rules, ticket(priority=Priority.URGENT), None)[0] == "fast"
    assert "its condition does not match" in triage(rules, ticket(), None)[2][0]


def test_keywords_are_case_folded_and_traces_never_quote_the_subject() -> None:
    rule = TriageRule(name="k", group_id="g", keywords=("STRASSE",))
    assert rule.matches(ticket(subject="Problem in der Straße"), None)
    assert not rule.matches(ticket(subject="Strase"), None)
    secret = "my card 4111 1111 1111 1111"
    trace = triage(Triage(rules=(rule,), default_group="d"), ticket(subject=secret), None)[2]
    assert all(secret not in line for line in trace)


@pytest.mark.parametrize(
    ("rule", "given", "matches"),
    [
        ("zh", "zh_Hans", True),
        ("zh", "zh-TW", True),
        ("zh", "zh", True),
        ("zh_Hans", "zh_Hans_SG", True),
        ("zh_hans", "zh-Hans", True),
        ("zh_Hans", "zh_CN", False),
        ("zh", "zha", False),
        ("en_US", "en", False),
    ],
)
def test_locale_matching(rule: str, given: str, matches: bool) -> None:
    assert locale_matches(rule, given) is matches


# -- overflow chains and the configuration check ----------------------------------------


def test_overflow_chain_follows_targets_and_names_a_cycle() -> None:
    groups = {
        "g1": Group("g1", "One", overflow_to="g2"),
        "g2": Group("g2", "Two", overflow_to="g3"),
        "g3": Group("g3", "Three"),
    }
    assert overflow_chain("g1", groups) == ("g1", "g2", "g3")
    assert overflow_chain("g3", groups) == ("g3",)
    groups["g3"] = Group("g3", "Three", overflow_to="g2")
    with pytest.raises(ValidationError, match=re.escape("overflow cycle g2 -> g3 -> g2")):
        overflow_chain("g1", groups)
    with pytest.raises(NotFoundError, match="group 'g9' not found; known groups: g1, g2, g3"):
        overflow_chain("g9", groups)
    groups["g3"] = Group("g3", "Three", overflow_to="g9")
    with pytest.raises(NotFoundError, match="group 'g3' overflows to it"):
        overflow_chain("g1", groups)


def test_route_refuses_an_overflow_cycle_and_an_unknown_group() -> None:
    g1 = Group("g1", "One", overflow_to="g2")
    g2 = Group("g2", "Two", overflow_to="g1")
    states = {
        "g1": state(g1, policy=AssignmentPolicy("g1", overflow_queue=1), queue_length=1),
        "g2": state(g2, policy=AssignmentPolicy("g2", overflow_queue=1), queue_length=1),
    }
    with pytest.raises(ValidationError, match=re.escape("overflow cycle g1 -> g2 -> g1")):
        route(ticket(), None, group_id="g1", states=states, now=AT, waited=NO_WAIT)
    with pytest.raises(NotFoundError, match="group state 'g3' not found; states hold: g1, g2"):
        route(ticket(), None, group_id="g3", states=states, now=AT, waited=NO_WAIT)


def test_check_routing_accepts_a_sound_configuration() -> None:
    groups = {"branch": BRANCH, "hq": HQ}
    rules = Triage(rules=(TriageRule(name="r", group_id="branch"),), default_group="hq")
    policies = [
        AssignmentPolicy("branch", channel_weights={"phone_hotline": 5}),
        AssignmentPolicy("hq"),
    ]
    problems = check_routing(
        rules,
        policies,
        groups=groups,
        agents=["agt_a"],
        channels=ChannelDirectory(),
        calendars=[],
    )
    assert problems == []


def test_check_routing_reports_every_problem() -> None:
    line = Channel("line", ChannelTraits(synchronous=False), "LINE")
    groups = {
        "g1": Group("g1", "One", overflow_to="g2", calendar="desk"),
        "g2": Group("g2", "Two", overflow_to="g1"),
        "g3": Group("g3", "Three", overflow_to="g4"),
        "g4": Group("g4", "Four", overflow_to="g5", channels={"email"}),
        "g5": Group("g5", "Five", overflow_to="g4"),
        "gx": Group("gy", "Misfiled"),
    }
    rules = Triage(
        rules=(
            TriageRule(name="lost", group_id="nowhere"),
            TriageRule(name="phone", group_id="g4", channels={"phone_hotline"}),
            TriageRule(name="odd", group_id="g1", channels={"pager"}),
        ),
        default_group="void",
    )
    policies = [
        AssignmentPolicy("g1"),
        AssignmentPolicy("g9"),
        AssignmentPolicy("g1", channel_weights={"line": 2, "fax": 3}),
    ]
    problems = check_routing(
        rules,
        policies,
        groups=groups,
        agents=(),
        channels=ChannelDirectory(custom=(line,)),
        calendars=["other"],
    )
    assert problems == [
        ("groups['g1'].calendar", "group 'g1' names calendar 'desk', which is unknown"),
        ("groups['gx']", "holds group 'gy' under the key 'gx'"),
        ("groups['g1'].overflow_to", "overflow cycle g1 -> g2 -> g1"),
        ("groups['g4'].overflow_to", "overflow cycle g4 -> g5 -> g4"),
        (
            "triage.rules[0].group_id",
            "triage rule 'lost' names group 'nowhere', which is unknown; "
            "known: g1, g2, g3, g4, g5, gx",
        ),
        (
            "triage.rules[1].channels",
            "triage rule 'phone' sends 'phone_hotline' tickets to group 'g4', "
            "which does not serve that channel",
        ),
        ("triage.rules[2].channels", "triage rule 'odd': unknown channel 'pager'"),
        (
            "triage.default_group",
            "the default group names group 'void', which is unknown; known: g1, g2, g3, g4, g5, gx",
        ),
        (
            "policies[1].group_id",
            "the policy names group 'g9', which is unknown; known: g1, g2, g3, g4, g5, gx",
        ),
        ("policies[2].group_id", "group 'g1' already has a policy: policies[0]"),
        ("policies[2].channel_weights['fax']", "unknown channel 'fax'"),
    ]


def test_check_routing_reports_an_unknown_overflow_target() -> None:
    groups = {"g1": Group("g1", "One", overflow_to="g2")}
    problems = check_routing(Triage(rules=(), default_group="g1"), [], groups=groups, agents=())
    assert problems == [
        (
            "groups['g1'].overflow_to",
            "group 'g1' overflow names group 'g2', which is unknown; known: g1",
        )
    ]


# -- configuration values: bad input, documents, labels ---------------------------------


def _refused(make: object, *fragments: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        make()  # type: ignore[operator]
    text = str(caught.value)
    for fragment in fragments:
        assert fragment in text, text
    return caught.value


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        ({"name": " "}, ("name", "must not be empty or blank")),
        ({"group_id": "no spaces"}, ("group_id", "expected a group id")),
        ({"channels": "email"}, ("channels", "expected a collection")),
        ({"channels": {"e mail"}}, ("channels[0]", "expected a channel key")),
        ({"kinds": {"complain"}}, ("kinds[0]", "expected a TicketKind")),
        ({"customer_tiers": {"gold"}}, ("customer_tiers[0]", "expected a CustomerTier")),
        ({"segments": {"a b"}}, ("segments[0]", "expected a tag")),
        ({"locales": {"1x"}}, ("locales[0]", "expected a locale identifier", "'1x'")),
        ({"keywords": "refund"}, ("keywords", "expected a sequence of keywords")),
        ({"keywords": ("ok", "")}, ("keywords[1]", "must not be empty or blank")),
        ({"keywords": ("x" * 201,)}, ("keywords[0]", "at most 200 characters")),
        ({"condition": "urgent"}, ("condition", "expected a Condition")),
    ],
)
def test_bad_triage_rules_are_refused(fields: dict[str, object], fragments: tuple[str]) -> None:
    values: dict[str, object] = {"name": "r", "group_id": "g", **fields}
    _refused(lambda: TriageRule(**values), "TriageRule", *fragments)  # type: ignore[arg-type]


def test_bad_triages_are_refused() -> None:
    rule = TriageRule(name="r", group_id="g")
    _refused(
        lambda: Triage(rules=(rule, rule), default_group="g"),
        "rules[1].name",
        "rule name 'r' is already used by [0]",
    )
    _refused(lambda: Triage(rules=("r",), default_group="g"), "rules[0]", "expected a TriageRule")
    _refused(lambda: Triage(rules=(), default_group=""), "default_group", "group id")


def test_triage_rule_values_are_converted() -> None:
    from csdomain.channels import ChannelKind

    rule = TriageRule(
        name="r",
        group_id="g",
        channels=[ChannelKind.PHONE_HOTLINE, "email"],
        kinds=["complaint"],
        customer_tiers=["vip"],
        keywords=["a"],
    )
    assert rule.channels == {"phone_hotline", "email"}
    assert rule.kinds == {TicketKind.COMPLAINT}
    assert rule.customer_tiers == {CustomerTier.VIP}
    assert rule.keywords == ("a",)


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        ({"group_id": ""}, ("group_id",)),
        ({"strategy": "random"}, ("strategy", "expected a Strategy")),
        ({"channel_weights": {"phone_hotline": 0}}, ("channel_weights['phone_hotline']", "from 1")),
        ({"channel_weights": {"email": 10_001}}, ("channel_weights['email']", "to 10000")),
        ({"channel_weights": {"email": "2"}}, ("channel_weights['email']", "got '2'")),
        ({"channel_weights": {"email": True}}, ("channel_weights['email']", "got True")),
        ({"channel_weights": {"e mail": 2}}, ("channel_weights['e mail']", "channel key")),
        ({"channel_weights": ["email"]}, ("channel_weights", "expected a mapping")),
        ({"required_skills": "billing"}, ("required_skills", "expected a collection")),
        (
            {"required_skills": {"a"}, "optional_skills": {"a"}, "strategy": "skills"},
            ("optional_skills", "skills ['a'] are also required"),
        ),
        ({"optional_skills": {"a"}}, ("optional_skills", "only under the 'skills' strategy")),
        ({"drop_optional_after": timedelta(minutes=5)}, ("drop_optional_after", "no optional")),
        (
            {"drop_optional_after": timedelta(0), "optional_skills": {"a"}, "strategy": "skills"},
            ("drop_optional_after", "must be positive"),
        ),
        ({"min_grade": "junior"}, ("min_grade", "expected a AgentGrade")),
        (
            {"grade_rules": (GradeRule("vip", "senior"), GradeRule("vip", "gold"))},
            ("grade_rules[1].customer_tier", "customer tier 'vip' already has a rule: [0]"),
        ),
        ({"grade_rules": ("vip",)}, ("grade_rules[0]", "expected a GradeRule")),
        ({"overflow_queue": 0}, ("overflow_queue", "at least 1")),
        ({"overflow_queue": 2.5}, ("overflow_queue", "expected an integer")),
        ({"overflow_wait": timedelta(0)}, ("overflow_wait", "must be positive")),
        ({"overflow_wait": 60}, ("overflow_wait", "expected a timedelta")),
    ],
)
def test_bad_assignment_policies_are_refused(
    fields: dict[str, object], fragments: tuple[str]
) -> None:
    values: dict[str, object] = {"group_id": "g", **fields}
    _refused(lambda: AssignmentPolicy(**values), "AssignmentPolicy", *fragments)  # type: ignore[arg-type]


def test_bad_grade_rules_and_cursors_are_refused() -> None:
    _refused(lambda: GradeRule("platinum", "senior"), "customer_tier", "CustomerTier")  # type: ignore[arg-type]
    _refused(lambda: GradeRule("vip", 3), "min_grade", "AgentGrade")  # type: ignore[arg-type]
    _refused(lambda: RoundRobinCursor("g", "agt a"), "last_agent_id", "agent id")
    _refused(lambda: RoundRobinCursor("g", None, -1), "assigned", "at least 0")
    _refused(lambda: RoundRobinCursor("", None), "group_id")


def test_inconsistent_group_states_are_refused() -> None:
    a = agent("agt_a")
    _refused(
        lambda: GroupState(BRANCH, AssignmentPolicy("hq"), ()),
        "GroupState",
        "policy.group_id",
        "the policy is for group 'hq', not 'branch'",
    )
    _refused(lambda: state(members=(a, a)), "members[1].id", "agent 'agt_a' is listed twice")
    _refused(lambda: state(members=("agt_a",)), "members[0]", "expected an Agent")
    _refused(lambda: state(cursor=RoundRobinCursor("hq")), "cursor.group_id")
    _refused(lambda: state(queue_length=-1), "queue_length", "got -1")
    _refused(lambda: state(oldest_wait=-MIN), "oldest_wait")
    _refused(lambda: state(loads={"agt_a": AgentLoad("agt_b", 1, 1)}), "loads['agt_a']")
    _refused(lambda: state(loads={"agt_a": AgentLoad("agt_a", -1, 1)}), "loads['agt_a'].units")
    _refused(lambda: state(presence={"agt_a": "online"}), "presence['agt_a']", "Presence")
    _refused(lambda: state(members=5), "members", "expected a sequence of Agent")
    _refused(lambda: state(loads=[1]), "loads", "expected a mapping by agent id")
    _refused(lambda: GroupState("branch", AssignmentPolicy("branch"), ()), "group", "Group")  # type: ignore[arg-type]


def test_bad_call_arguments_are_refused() -> None:
    st = state(members=(agent("agt_a"),))
    _refused(lambda: choose(st, now=datetime(2026, 3, 2, 10)), "now", "naive")
    _refused(lambda: choose(st, waited=-MIN), "waited", "expected a duration >= 0")
    _refused(lambda: choose(st, role="agent"), "role", "expected a Role")
    _refused(lambda: choose(st, min_grade="senior"), "min_grade", "expected an AgentGrade")


def test_configuration_round_trips_as_documents() -> None:
    values = [
        TriageRule(
            name="投诉",
            group_id="g",
            keywords=("投诉",),
            locales={"zh_Hans"},
            kinds={TicketKind.COMPLAINT},
            condition=Equals("ticket.channel", "email"),
        ),
        Triage(rules=(TriageRule(name="r", group_id="g"),), default_group="d"),
        AssignmentPolicy(
            "g",
            strategy=Strategy.SKILLS,
            optional_skills={"a"},
            drop_optional_after=5 * MIN,
            channel_weights={"phone_hotline": 5},
            grade_rules=(GradeRule("vip", "senior"),),
            overflow_queue=3,
            overflow_wait=10 * MIN,
            min_grade=AgentGrade.SENIOR,
        ),
        GradeRule(CustomerTier.VIP, AgentGrade.SENIOR),
        RoundRobinCursor("g", "agt_a", 42),
    ]
    names = ["triage_rule", "triage", "assignment_policy", "grade_rule", "round_robin_cursor"]
    for value, name in zip(values, names, strict=True):
        text = to_json(value)
        assert f'"document":"{name}"' in text
        assert from_json(text) == value
        assert from_json(text, type(value)) == value


def test_a_loaded_rule_matches_as_the_built_one() -> None:
    rule = TriageRule(name="r", group_id="g", keywords=("REFUND",))
    loaded = from_json(to_json(rule), TriageRule)
    assert loaded.matches(ticket(subject="refund now"), None)


def test_strategy_labels_are_declared() -> None:
    labels = enum_labels[Strategy]
    assert [labels[s] for s in Strategy] == [
        ("assignment strategy", "Round robin"),
        ("assignment strategy", "Least loaded"),
        ("assignment strategy", "Skills"),
    ]


def test_the_package_exports_what_it_documents() -> None:
    for name in csdomain.routing.__all__:
        assert getattr(csdomain.routing, name) is not None
    assert RoutingDecision("g", None, None, ()).path == ()


def test_routing_is_pure_and_imports_no_upper_layer() -> None:
    import ast
    from pathlib import Path

    root = Path(csdomain.routing.__file__).parent
    forbidden = (
        "csdomain.storage",
        "csdomain.serialization",
        "csdomain.i18n",
        "csdomain.helpdesk",
        "csdomain.escalation",
        "csdomain.clock",
        "datetime.now",
    )
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(forbidden), (path.name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(forbidden), (path.name, alias.name)
            elif isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today"):
                raise AssertionError(f"{path.name} reads the clock")


def test_check_routing_reports_a_value_that_is_no_policy() -> None:
    groups = {"hq": HQ}
    problems = check_routing(
        Triage(rules=(), default_group="hq"),
        [AssignmentPolicy("hq"), "hq"],  # type: ignore[list-item]
        groups=groups,
        agents=(),
    )
    assert problems == [("policies[1]", "expected an AssignmentPolicy, got 'hq'")]
