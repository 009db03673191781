"""Bad input to the desk: refused at configuration time, and never half-stored.

A :class:`~csdomain.helpdesk.DeskSetup` naming an unknown group or agent (an agent's
groups, an assignment policy, triage, an escalation action), a rule naming an unknown
tier, a cycle in overflow targets (and the other mistakes it checks) is refused by
the constructor with one :class:`~csdomain.errors.ValidationError` whose problems
name the thing, its path and what is accepted, before any HelpDesk exists. A
HelpDesk given a bad command raises a typed error and leaves the store exactly as it
was: the same records, versions and outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.errors import CSDomainError, NotFoundError, ValidationError
from csdomain.escalation import Action, EscalationRule, Trigger
from csdomain.helpdesk import SCHEDULES, DeskSetup, HelpDesk
from csdomain.helpdesk.roster import CURSORS, PRESENCE
from csdomain.ids import SequentialIds
from csdomain.people import Agent, EscalationLadder, EscalationTier, Group, Presence
from csdomain.priorities import Priority
from csdomain.routing import AssignmentPolicy, Triage, TriageRule
from csdomain.serialization import from_json, to_json
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import Store, open_store
from csdomain.tickets import Actor, Status

DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00")
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _sla() -> SlaSetup:
    return SlaSetup(
        [
            SlaPolicy(
                "standard",
                [
                    MetricPolicy(
                        SlaMetric.FIRST_RESPONSE,
                        {p: Target(timedelta(hours=2), calendar="desk") for p in Priority},
                    )
                ],
            )
        ],
        [DESK],
    )


GROUPS = (
    Group("l1", "Frontline", tier="L1", calendar="desk"),
    Group("branch", "Branch", tier="L1", calendar="desk", overflow_to="l1"),
    Group("l2", "Engineering", tier="L2", calendar="desk"),
    Group("vendor", "Vendor", tier="L3"),
)
AGENTS = (
    Agent("agt_amy", "Amy", presence=Presence.ONLINE, groups=("l1", "branch")),
    Agent("agt_eng", "Eng", presence=Presence.ONLINE, groups=("l2",)),
)
RULE = EscalationRule(
    name="late",
    trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
    actions=(Action.raise_tier(), Action.move_to_group("l2"), Action.notify(groups=("l2",))),
)


def good(**changes: Any) -> dict[str, Any]:
    """The arguments of a valid DeskSetup, with ``changes``."""
    values: dict[str, Any] = {
        "sla": _sla(),
        "groups": GROUPS,
        "agents": AGENTS,
        "triage": Triage(
            rules=(TriageRule(name="email", group_id="branch", channels={"email"}),),
            default_group="l1",
        ),
        "assignment": (AssignmentPolicy("l1"),),
        "escalation": (RULE,),
        "default_region": "CN",
    }
    values.update(changes)
    return values


def rule(*actions: Action, trigger: Trigger | None = None, name: str = "bad") -> EscalationRule:
    return EscalationRule(name=name, trigger=trigger or Trigger.complaint(), actions=tuple(actions))


def test_the_good_setup_is_accepted_and_round_trips_as_a_document() -> None:
    setup = DeskSetup(**good())
    assert from_json(to_json(setup), DeskSetup) == setup


def case(
    what: str, changes: dict[str, Any], path: str, named: str | tuple[str, ...], *marks: Any
) -> Any:
    """A bad configuration: ``changes`` to the good one, the path of the problem (a
    prefix) and the name(s) its message must hold."""
    return pytest.param(what, changes, path, named, id=what, marks=marks)


BAD = [
    case(
        "agent in an unknown group",
        {"agents": (*AGENTS, Agent("agt_x", "X", groups=("l1", "nowhere")))},
        "agents[2].groups[1]",
        "nowhere",
    ),
    case(
        "assignment policy for an unknown group",
        {"assignment": (AssignmentPolicy("l1"), AssignmentPolicy("ghost"))},
        "assignment[1].group_id",
        "ghost",
    ),
    case(
        "triage rule to an unknown group",
        {"triage": Triage(rules=(TriageRule(name="r", group_id="ghost"),), default_group="l1")},
        "triage.rules[0].group_id",
        "ghost",
    ),
    case(
        "triage default group unknown",
        {"triage": Triage(rules=(), default_group="ghost")},
        "triage.default_group",
        "ghost",
    ),
    case(
        "escalation moving to an unknown group",
        {"escalation": (RULE, rule(Action.move_to_group("ghost")))},
        "escalation[1]",
        "ghost",
    ),
    case(
        "escalation notifying an unknown group",
        {"escalation": (rule(Action.notify(groups=("l2", "ghost"))),)},
        "escalation[0]",
        "ghost",
    ),
    case(
        "escalation notifying an unknown agent",
        {"escalation": (rule(Action.notify(agents=("agt_ghost",))),)},
        "escalation[0]",
        "agt_ghost",
    ),
    case(
        "escalation raising to an unknown tier",
        {"escalation": (rule(Action.raise_tier("L9")),)},
        "escalation[0]",
        "L9",
    ),
    case(
        "escalation trigger counting in an unknown calendar",
        {
            "escalation": (
                rule(
                    Action.notify(groups=("l1",)),
                    trigger=Trigger.unassigned_for(timedelta(hours=1), calendar="nights"),
                ),
            )
        },
        "escalation[0]",
        "nights",
    ),
    case(
        "two rules of one name",
        {"escalation": (RULE, attrs.evolve(RULE, trigger=Trigger.complaint()))},
        "escalation[1]",
        "late",
    ),
    case(
        "overflow cycle of two",
        {
            "groups": (
                Group("l1", "Frontline", overflow_to="branch"),
                Group("branch", "Branch", overflow_to="l1"),
                *GROUPS[2:],
            )
        },
        "groups[",
        ("cycle", "l1", "branch"),
    ),
    case(
        "overflow cycle of three",
        {
            "groups": (
                Group("l1", "Frontline", overflow_to="l2"),
                Group("branch", "Branch", overflow_to="l1"),
                Group("l2", "Engineering", tier="L2", overflow_to="branch"),
                GROUPS[3],
            )
        },
        "groups[",
        ("cycle", "l1", "l2", "branch"),
    ),
    case(
        "overflow to an unknown group",
        {"groups": (*GROUPS, Group("hq2", "HQ 2", overflow_to="hq"))},
        "groups[",
        "'hq'",
    ),
    case(
        "group at an unknown tier",
        {"groups": (*GROUPS, Group("l4", "Level 4", tier="L4"))},
        "groups[4].tier",
        "L4",
    ),
    case(
        "group in an unknown calendar",
        {"groups": (*GROUPS, Group("nights", "Nights", calendar="nights"))},
        "groups[4].calendar",
        "nights",
    ),
    case(
        "two groups of one id",
        {"groups": (*GROUPS, Group("l2", "Engineering again", tier="L2"))},
        "groups[4].id",
        "l2",
    ),
    case(
        "two agents of one id",
        {"agents": (*AGENTS, Agent("agt_amy", "Amy again", groups=("l1",)))},
        "agents[2].id",
        "agt_amy",
    ),
    case(
        "a ladder without the tier a group works at",
        {"ladder": EscalationLadder((EscalationTier(key="L1", name="Only"),))},
        "groups[2].tier",
        "L2",
    ),
]


@pytest.mark.parametrize(("what", "changes", "path", "named"), BAD)
def test_bad_configuration_is_refused_naming_the_thing(
    what: str, changes: dict[str, Any], path: str, named: str | tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as caught:
        DeskSetup(**good(**changes))
    error = caught.value
    assert error.subject.startswith("DeskSetup"), error
    names = (named,) if isinstance(named, str) else named
    matching = [
        p for p in error.problems if all(n in p.message for n in names) and p.path.startswith(path)
    ]
    assert matching, (what, error.problems)


def test_every_problem_is_named_in_one_error() -> None:
    with pytest.raises(ValidationError) as caught:
        DeskSetup(
            **good(
                agents=(Agent("agt_x", "X", groups=("nowhere",)),),
                assignment=(AssignmentPolicy("ghost"),),
                escalation=(rule(Action.raise_tier("L9"), Action.notify(agents=("agt_who",))),),
            )
        )
    text = str(caught.value)
    for named in ("nowhere", "ghost", "L9", "agt_who"):
        assert named in text, text
    assert caught.value.problem_count >= 4


def test_a_refused_setup_stores_nothing(tmp_path: Path) -> None:
    """Configuration is refused before a desk (or anything of it) reaches the store."""
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}", tenant="acme", create=True)
    try:
        before = snapshot(store, [])
        with pytest.raises(ValidationError):
            HelpDesk(store, DeskSetup(**good(assignment=(AssignmentPolicy("ghost"),))))
        assert snapshot(store, []) == before
        assert not store.contact_rules.unique  # the desk never got to adopt its rules
    finally:
        store.close()


# -- bad commands leave the store as it was -------------------------------------------------


def snapshot(store: Store, ticket_ids: list[str]) -> dict[str, Any]:
    """What a refused command must not change: counts, every version, the outbox."""
    schedules = store.collection(SCHEDULES)
    tickets = store.tickets.get_many(ticket_ids)
    return {
        "tickets": store.tickets.count(),
        "customers": store.customers.count(),
        "schedules": schedules.count(),
        "cursors": store.collection(CURSORS).count(),
        "presence": store.collection(PRESENCE).count(),
        "versions": {k: (s.version, s.value) for k, s in tickets.items()},
        "schedule_versions": {k: s.version for k, s in schedules.get_many(ticket_ids).items()},
        "outbox": [(m.ticket_id, m.sequence) for m in store.outbox.pending(limit=500)],
        "rules": store.contact_rules,
    }


@pytest.fixture(params=["memory", "sqlite"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HelpDesk]:
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'desk.db'}"
    clock = FrozenClock(MONDAY_10)
    store = open_store(url, tenant="acme", create=True, clock=clock)
    try:
        yield HelpDesk(store, DeskSetup(**good()), clock=clock, ids=SequentialIds())
    finally:
        store.close()


COMMANDS: list[tuple[str, Callable[[HelpDesk, str], object], type[CSDomainError], str]] = [
    (
        "open a ticket in an unknown group",
        lambda d, t: d.open_ticket(
            contact="13900139000", channel="phone_hotline", subject="x", group_id="ghost"
        ),
        NotFoundError,
        "ghost",
    ),
    (
        "reply as an unknown agent",
        lambda d, t: d.reply(t, agent_id="agt_ghost", body="hi"),
        NotFoundError,
        "agt_ghost",
    ),
    (
        "note by an unknown agent",
        lambda d, t: d.add_note(t, agent_id="agt_ghost", body="hi"),
        NotFoundError,
        "agt_ghost",
    ),
    (
        "assign to an unknown group",
        lambda d, t: d.assign(t, actor=Actor.agent("agt_amy"), group_id="ghost"),
        NotFoundError,
        "ghost",
    ),
    (
        "assign to an unknown agent",
        lambda d, t: d.assign(t, actor=Actor.agent("agt_amy"), agent_id="agt_ghost"),
        NotFoundError,
        "agt_ghost",
    ),
    (
        "assign to an agent outside the group",
        lambda d, t: d.assign(t, actor=Actor.agent("agt_amy"), group_id="l2", agent_id="agt_amy"),
        ValidationError,
        "agt_amy",
    ),
    (
        "clear the group of an unsolved ticket",
        lambda d, t: d.assign(t, actor=Actor.agent("agt_amy"), group_id=None),  # type: ignore[arg-type]
        ValidationError,
        "group",
    ),
    (
        "escalate to an unknown tier",
        lambda d, t: d.escalate(t, actor=Actor.agent("agt_amy"), tier="L9"),
        NotFoundError,
        "L9",
    ),
    (
        "escalate into an unknown group",
        lambda d, t: d.escalate(t, actor=Actor.agent("agt_amy"), group_id="ghost"),
        NotFoundError,
        "ghost",
    ),
    (
        "merge into an unknown ticket",
        lambda d, t: d.merge(t, into="tkt_ghost", actor=Actor.agent("agt_amy")),
        NotFoundError,
        "tkt_ghost",
    ),
    (
        "a command on an unknown ticket",
        lambda d, t: d.solve("tkt_ghost", actor=Actor.agent("agt_amy")),
        NotFoundError,
        "tkt_ghost",
    ),
    (
        "a move the status rules forbid",
        lambda d, t: d.set_status(t, Status.CLOSED, actor=Actor.agent("agt_amy")),
        CSDomainError,
        "closed",
    ),
    (
        "presence of an unknown agent",
        lambda d, t: d.set_presence("agt_ghost", Presence.ONLINE),
        NotFoundError,
        "agt_ghost",
    ),
    (
        "close after a negative age",
        lambda d, t: d.close_solved_after(-1),
        ValidationError,
        "-1",
    ),
    (
        "dispatch in an unknown group",
        lambda d, t: d.dispatch("ghost"),
        NotFoundError,
        "ghost",
    ),
]


@pytest.mark.parametrize(
    ("what", "command", "error", "named"), COMMANDS, ids=[c[0] for c in COMMANDS]
)
def test_a_bad_command_raises_a_typed_error_and_changes_nothing(
    desk: HelpDesk,
    what: str,
    command: Callable[[HelpDesk, str], object],
    error: type[CSDomainError],
    named: str,
) -> None:
    first = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Broken")
    second = desk.open_ticket(contact="li@example.com", channel="email", subject="Invoice")
    ids = [first.value.id, second.value.id]
    desk.set_presence("agt_amy", Presence.ONLINE)
    before = snapshot(desk.store, ids)
    with pytest.raises(error, match=named):
        command(desk, first.value.id)
    assert snapshot(desk.store, ids) == before, what
