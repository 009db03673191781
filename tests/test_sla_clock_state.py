"""SLA clock states: advancing a kept walk equals one full walk, and measuring the
state equals evaluating the ticket; the refusals name what they refuse."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain import (
    Actor,
    Customer,
    MetricPolicy,
    PersonalDataErased,
    Priority,
    SlaPolicy,
    Status,
    Target,
    Ticket,
)
from csdomain.conditions import Equals
from csdomain.errors import NotFoundError, ValidationError
from csdomain.serialization import from_json, to_json
from csdomain.sla import (
    CycleState,
    SlaClockState,
    SlaMetric,
    SlaSetup,
    SlaState,
    _engine,
    advance_clock,
    clock_state,
    evaluate,
    evaluate_clock,
)
from csdomain.testing import strategies as cst

UTC = timezone.utc
H = timedelta(hours=1)
AGENT = Actor.agent("agt_1")
CUSTOMER = Actor.customer("cus_1")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai

PROPERTIES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw: st.DrawFn) -> tuple[Ticket, SlaSetup, Customer | None]:
    ticket = draw(cst.tickets(max_events=20, max_gap=timedelta(days=2)))
    setup = draw(cst.sla_setups(max_policies=3, max_calendars=2))
    customer = draw(st.none() | cst.customers(max_contact_points=1, max_purchases=1))
    return ticket, setup, customer


def prefix(ticket: Ticket, k: int) -> Ticket:
    return Ticket(timeline=ticket.timeline[:k])


# -- the laws -----------------------------------------------------------------------------


@PROPERTIES
@given(cases(), st.data())
def test_advancing_a_prefix_state_equals_one_full_walk(case, data) -> None:  # type: ignore[no-untyped-def]
    ticket, setup, customer = case
    k = data.draw(st.integers(1, len(ticket.timeline)), label="k")
    before = clock_state(prefix(ticket, k), setup, customer=customer)
    assert advance_clock(before, ticket, setup, customer=customer) == clock_state(
        ticket, setup, customer=customer
    )


@PROPERTIES
@given(cases(), st.data())
def test_advancing_in_several_steps_equals_one_full_walk(case, data) -> None:  # type: ignore[no-untyped-def]
    ticket, setup, customer = case
    n = len(ticket.timeline)
    cuts = sorted(data.draw(st.lists(st.integers(1, n), min_size=1, max_size=5), label="cuts"))
    state = clock_state(prefix(ticket, cuts[0]), setup, customer=customer)
    for k in cuts[1:]:
        state = advance_clock(state, prefix(ticket, k), setup, customer=customer)
        assert state == clock_state(prefix(ticket, k), setup, customer=customer)
    assert advance_clock(state, ticket, setup, customer=customer) == clock_state(
        ticket, setup, customer=customer
    )


def _instants(ticket: Ticket, setup: SlaSetup) -> st.SearchStrategy[datetime]:
    """Instants at or after ``updated_at``: the update itself, random later ones, and the
    due and warning instants (and a microsecond either side) of the clocks then running."""
    base = ticket.updated_at
    later = [base]
    for m in evaluate(ticket, setup, base).metrics:
        for at in (m.due_at, m.next_warning_at):
            if at is not None:
                later += [at - timedelta(microseconds=1), at, at + timedelta(microseconds=1)]
    # A clock due at the update itself puts its "microsecond before" behind the state.
    later = [at for at in later if at >= base]
    offsets = st.one_of(
        st.just(timedelta(0)),
        st.timedeltas(timedelta(0), timedelta(days=3)),
        st.timedeltas(timedelta(0), timedelta(days=400)),  # far beyond any due instant
    )
    return st.one_of(st.sampled_from(later), offsets.map(lambda d: base + d))


@PROPERTIES
@given(cases(), st.data())
def test_evaluating_the_state_equals_evaluating_the_ticket(case, data) -> None:  # type: ignore[no-untyped-def]
    ticket, setup, customer = case
    state = clock_state(ticket, setup, customer=customer)
    assert state.last_at == ticket.updated_at
    now = data.draw(_instants(ticket, setup), label="now")
    assert evaluate_clock(state, setup, now) == evaluate(ticket, setup, now, customer=customer)


@PROPERTIES
@given(cases(), st.data())
def test_an_advanced_state_evaluates_like_the_ticket(case, data) -> None:  # type: ignore[no-untyped-def]
    ticket, setup, customer = case
    k = data.draw(st.integers(1, len(ticket.timeline)), label="k")
    state = advance_clock(
        clock_state(prefix(ticket, k), setup, customer=customer), ticket, setup, customer=customer
    )
    now = ticket.updated_at + data.draw(
        st.timedeltas(timedelta(0), timedelta(days=30)), label="later"
    )
    assert evaluate_clock(state, setup, now) == evaluate(ticket, setup, now, customer=customer)


@PROPERTIES
@given(cst.sla_clock_states(), cst.sla_cycle_states())
def test_states_survive_json(state: SlaClockState, cycle: CycleState) -> None:
    text = to_json(state)
    assert from_json(text) == state
    assert from_json(text, SlaClockState) == state
    assert to_json(from_json(text)) == text
    assert from_json(to_json(cycle), CycleState) == cycle
    # The walk builds states without the checks: the checks accept every one.
    assert attrs.evolve(state) == state
    assert all(attrs.evolve(c) == c for c in state.cycles)


# -- cost: only the new events are walked ------------------------------------------------


def long_ticket(events: int) -> Ticket:
    ticket = Ticket.open(id="T-long", customer_id="cus_1", channel="email", subject="Refund", at=T0)
    at, i = T0, 0
    while len(ticket.timeline) < events:  # a customer message may add a reopen too
        i += 1
        at += timedelta(minutes=7)
        if i % 50 == 49 and ticket.status is Status.OPEN:
            ticket = ticket.change_status(Status.PENDING, at=at, actor=AGENT)
        else:
            actor = CUSTOMER if i % 2 else AGENT
            ticket = ticket.add_message(at=at, actor=actor, body="…")
    return ticket


def all_metrics_setup() -> SlaSetup:
    targets = {p: Target(8 * H, warnings=(0.5, 0.75)) for p in Priority}
    return SlaSetup(
        [SlaPolicy("all", [MetricPolicy(m, targets) for m in SlaMetric])],
    )


def test_advance_walks_only_the_new_events(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = all_metrics_setup()
    ticket = long_ticket(400)
    grown = ticket.add_message(at=ticket.updated_at + H, actor=CUSTOMER, body="Any news?")
    state = clock_state(ticket, setup)
    walked: list[int] = []
    walk = _engine._Walk.walk

    def spy(self: _engine._Walk, events, now) -> None:  # type: ignore[no-untyped-def]
        walked.append(len(events))
        walk(self, events, now)

    monkeypatch.setattr(_engine._Walk, "walk", spy)
    advanced = advance_clock(state, grown, setup)
    assert walked == [1]
    assert advance_clock(advanced, grown, setup) is advanced  # nothing new: the same state
    assert walked == [1]
    assert advanced.events == len(grown.timeline) and advanced.last_at == grown.updated_at
    assert advanced == clock_state(grown, setup)


def test_a_state_keeps_only_the_latest_cycles_and_their_intervals() -> None:
    setup = all_metrics_setup()
    ticket = long_ticket(400)
    pauses = sum(1 for e in ticket.timeline if getattr(e, "new", None) is Status.PENDING)
    state = clock_state(ticket, setup)
    assert [c.metric for c in state.cycles] == list(SlaMetric)
    resolution = state.cycles[-1]
    assert pauses > 3 and resolution.number == 1 and len(resolution.segments) == pauses
    assert all(len(c.segments) <= 1 for c in state.cycles[1:3])  # reply cycles are replaced


def test_an_erasure_record_with_a_later_instant_hides_no_event() -> None:
    # An erasure does not move updated_at: the reply after it may carry an earlier instant.
    setup = all_metrics_setup()
    created = opened()
    erased = PersonalDataErased(at=T0 + 3 * H, actor=Actor.system("erasure"), reason="ER-1")
    ticket = Ticket(timeline=(*created.timeline, erased)).add_message(
        at=T0 + H, actor=AGENT, body="Refund sent"
    )
    assert ticket.updated_at == T0 + H
    state = clock_state(ticket, setup)
    assert state.last_at == T0 + H
    for now in (T0 + H, T0 + 2 * H, T0 + 4 * H):
        status = evaluate(ticket, setup, now)
        assert status[SlaMetric.FIRST_RESPONSE].achieved_at == T0 + H
        assert evaluate_clock(state, setup, now) == status
    # Before the reply, the reply is ignored however the events after it are ordered.
    before = evaluate(ticket, setup, T0 + H / 2)[SlaMetric.FIRST_RESPONSE]
    assert before.state is SlaState.RUNNING


# -- when advancing walks everything --------------------------------------------------


def urgent_first_setup() -> SlaSetup:
    urgent = SlaPolicy(
        "urgent",
        [MetricPolicy(SlaMetric.RESOLUTION, dict.fromkeys(Priority, Target(H)))],
        condition=Equals("ticket.priority", "urgent"),
    )
    standard = SlaPolicy(
        "standard", [MetricPolicy(SlaMetric.RESOLUTION, dict.fromkeys(Priority, Target(8 * H)))]
    )
    return SlaSetup([urgent, standard])


def opened(id: str = "T-1") -> Ticket:
    return Ticket.open(id=id, customer_id="cus_1", channel="email", subject="Refund", at=T0)


def test_a_new_policy_choice_walks_the_whole_timeline() -> None:
    setup = urgent_first_setup()
    ticket = opened().add_message(at=T0 + H, actor=AGENT, body="Looking")
    state = clock_state(ticket, setup)
    assert state.policy == "standard"
    raised = ticket.change_priority(Priority.URGENT, at=T0 + 2 * H, actor=AGENT)
    advanced = advance_clock(state, raised, setup)
    assert advanced.policy == "urgent"
    assert advanced == clock_state(raised, setup)
    now = T0 + 3 * H
    assert evaluate_clock(advanced, setup, now) == evaluate(raised, setup, now)
    assert evaluate_clock(advanced, setup, now)[SlaMetric.RESOLUTION].state is SlaState.BREACHED


def test_another_ticket_or_a_shorter_timeline_walks_the_whole_timeline() -> None:
    setup = urgent_first_setup()
    ticket = opened().add_message(at=T0 + H, actor=AGENT, body="Looking")
    state = clock_state(ticket, setup)
    other = opened("T-2")
    assert advance_clock(state, other, setup) == clock_state(other, setup)
    assert advance_clock(state, opened(), setup) == clock_state(opened(), setup)


def test_a_ticket_no_policy_covers_has_a_state_without_clocks() -> None:
    only_urgent = SlaSetup([urgent_first_setup().policies[0]])
    ticket = opened().add_message(at=T0 + H, actor=AGENT, body="Looking")
    state = clock_state(ticket, only_urgent)
    assert (state.policy, state.cycles, state.events) == (None, (), 3)  # the reply opened it
    assert (state.status, state.priority, state.last_at) == (Status.OPEN, Priority.NORMAL, T0 + H)
    assert evaluate_clock(state, only_urgent, T0 + 2 * H) == evaluate(
        ticket, only_urgent, T0 + 2 * H
    )


# -- refusals -------------------------------------------------------------------------


def test_an_instant_before_the_last_event_is_refused_naming_both() -> None:
    setup = urgent_first_setup()
    state = clock_state(opened().add_message(at=T0 + H, actor=AGENT, body="x"), setup)
    with pytest.raises(ValidationError) as caught:
        evaluate_clock(state, setup, T0 + H - timedelta(seconds=1))
    message = str(caught.value)
    assert "2026-03-02T01:59:59+00:00" in message and "2026-03-02T02:00:00+00:00" in message
    assert "evaluate(ticket, setup, now)" in message and caught.value.paths == ("now",)
    assert evaluate_clock(state, setup, T0 + H).now == T0 + H  # the last event itself is fine


def test_a_naive_now_is_refused() -> None:
    setup = urgent_first_setup()
    state = clock_state(opened(), setup)
    with pytest.raises(ValidationError, match="naive datetime"):
        evaluate_clock(state, setup, datetime(2026, 3, 3, 9))


def test_a_policy_the_setup_lacks_is_refused_naming_the_known_ones() -> None:
    state = clock_state(opened(), urgent_first_setup())
    other = SlaSetup(
        [SlaPolicy("vip", [MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(H)})])]
    )
    with pytest.raises(NotFoundError) as caught:
        evaluate_clock(state, other, T0 + H)
    assert caught.value.key == "standard"
    assert "SLA policy 'standard' not found" in str(caught.value)
    assert "the setup's policies: 'vip'" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda s, t, u: evaluate_clock("state", u, T0), "state"),  # type: ignore[arg-type]
        (lambda s, t, u: evaluate_clock(s, [u.policies[0]], T0), "setup"),  # type: ignore[arg-type]
        (lambda s, t, u: advance_clock(s, t.timeline, u), "ticket"),  # type: ignore[arg-type]
        (lambda s, t, u: advance_clock(s.cycles, t, u), "state"),  # type: ignore[arg-type]
        (lambda s, t, u: clock_state(t, u.policies), "setup"),  # type: ignore[arg-type]
    ],
)
def test_arguments_of_the_wrong_type_are_refused(call, path: str) -> None:  # type: ignore[no-untyped-def]
    setup = urgent_first_setup()
    ticket = opened()
    with pytest.raises(ValidationError) as caught:
        call(clock_state(ticket, setup), ticket, setup)
    assert caught.value.paths == (path,)
    assert "expected" in str(caught.value)


def cycle(**changes: object) -> CycleState:
    fields: dict[str, object] = {
        "metric": SlaMetric.RESOLUTION,
        "number": 1,
        "start": T0,
        "priority": Priority.NORMAL,
        "segments": ((T0, T0 + H),),
        "counting_since": T0 + 2 * H,
        "open": True,
        "suspended": False,
        "cancelled": False,
        "achieved_at": None,
    }
    fields.update(changes)
    return CycleState(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        ({"segments": ((T0 + H, T0),)}, "segments[0]", "ends after it starts"),
        (
            {"segments": ((T0, T0 + H), (T0 + H / 2, T0 + 2 * H))},
            "segments[1]",
            "without overlap",
        ),
        ({"segments": [[T0, "soon"]]}, "segments[0][1]", "expected an aware datetime"),
        ({"start": T0 + H / 2}, "segments[0]", "counts from its start"),
        ({"counting_since": T0 + H / 2}, "counting_since", "before the end"),
        ({"open": False}, "counting_since", "only an open cycle"),
        (
            {"counting_since": None, "open": False, "achieved_at": T0 - H},
            "achieved_at",
            "before the cycle's start",
        ),
        ({"counting_since": None, "cancelled": True}, "cancelled", "not open"),
        ({"number": 0}, "number", "at least 1"),
    ],
)
def test_an_impossible_cycle_is_refused_with_its_path(
    changes: dict[str, object], path: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        cycle(**changes)
    assert any(p.path == path and fragment in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_segments_given_as_lists_in_any_zone_are_kept_in_utc() -> None:
    plus8 = timezone(timedelta(hours=8))
    built = cycle(segments=[[T0.astimezone(plus8), (T0 + H).astimezone(plus8)]])
    assert built.segments == ((T0, T0 + H),)
    assert all(t.tzinfo is UTC for pair in built.segments for t in pair)


def state(**changes: object) -> SlaClockState:
    fields: dict[str, object] = {
        "ticket_id": "T-1",
        "policy": "standard",
        "events": 3,
        "last_at": T0 + 3 * H,
        "status": Status.OPEN,
        "priority": Priority.NORMAL,
        "first_response_given": True,
        "cycles": (cycle(),),
    }
    fields.update(changes)
    return SlaClockState(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        ({"policy": None}, "cycles", "expected no cycles"),
        ({"cycles": (cycle(), cycle())}, "cycles[1].metric", "one cycle per metric"),
        ({"last_at": T0 + H}, "cycles[0]", "after the last event walked"),
        ({"events": 0}, "events", "at least 1"),
        ({"cycles": ("resolution",)}, "cycles[0]", "expected a CycleState"),
    ],
)
def test_an_impossible_state_is_refused_with_its_path(
    changes: dict[str, object], path: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        state(**changes)
    assert any(p.path == path and fragment in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_a_bad_document_is_refused_with_its_path() -> None:
    text = to_json(state()).replace('"resolution"', '"speed"')
    with pytest.raises(ValidationError) as caught:
        from_json(text, SlaClockState)
    assert "cycles[0].metric" in str(caught.value)
