"""A state machine drives random valid and invalid operations on one ticket.

Laws checked after every step: a rejected operation raises the typed error and
leaves the ticket exactly as it was; statuses only move along TRANSITIONS (or
to closed by a merge); the timeline only grows; replaying the timeline gives
the same ticket.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from csdomain import (
    TRANSITIONS,
    Actor,
    InvalidTransitionError,
    Priority,
    Status,
    StatusChanged,
    Ticket,
    ValidationError,
    Visibility,
)

actors = st.sampled_from(
    [
        Actor.customer("cus_1"),
        Actor.agent("agt_1"),
        Actor.agent("agt_2"),
        Actor.bot(),
        Actor.system(),
    ]
)
tags = st.sampled_from(["vip", "refund", "outage", "招商", "bad tag", ""])
group_ids = st.sampled_from([None, "grp_l1", "grp_l2", "not a key!"])
tiers = st.sampled_from(["L1", "L2", "L3", "", "L 4"])


class TicketMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
        self.ticket = Ticket.open(
            id="tkt_1", customer_id="cus_1", channel="web_chat", subject="Help", at=self.now
        )
        self.statuses_seen = [self.ticket.status]

    def tick(self, minutes: int) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def attempt(self, change: object, *args: object, **kwargs: object) -> None:
        """Apply a change; a refusal must be typed and must leave the ticket untouched."""
        before = self.ticket
        snapshot = attrs.asdict(before, recurse=False)
        try:
            after = change(*args, **kwargs)  # type: ignore[operator]
        except (InvalidTransitionError, ValidationError):
            assert self.ticket is before
            assert attrs.asdict(before, recurse=False) == snapshot
            return
        assert isinstance(after, Ticket)
        assert after.timeline[: len(before.timeline)] == before.timeline
        self.check_moves(before, after)
        self.ticket = after

    def check_moves(self, before: Ticket, after: Ticket) -> None:
        status = before.status
        for event in after.timeline[len(before.timeline) :]:
            if isinstance(event, StatusChanged):
                assert event.old is status
                assert event.new in TRANSITIONS[status] or (
                    event.new is Status.CLOSED and after.merged_into is not None
                )
                status = event.new
        assert status is after.status

    @rule(
        minutes=st.integers(0, 90), author=actors, public=st.booleans(), body=st.text(max_size=20)
    )
    def message(self, minutes: int, author: Actor, public: bool, body: str) -> None:
        visibility = Visibility.PUBLIC if public else Visibility.INTERNAL
        self.attempt(
            self.ticket.add_message,
            at=self.tick(minutes),
            actor=author,
            body=body,
            visibility=visibility,
        )

    @rule(minutes=st.integers(0, 90), status=st.sampled_from(Status), actor=actors)
    def change_status(self, minutes: int, status: Status, actor: Actor) -> None:
        allowed = status in TRANSITIONS[self.ticket.status]
        before = self.ticket
        self.attempt(self.ticket.change_status, status, at=self.tick(minutes), actor=actor)
        assert (self.ticket is not before) == allowed

    @rule(minutes=st.integers(0, 90), priority=st.sampled_from(Priority), actor=actors)
    def change_priority(self, minutes: int, priority: Priority, actor: Actor) -> None:
        self.attempt(self.ticket.change_priority, priority, at=self.tick(minutes), actor=actor)

    @rule(minutes=st.integers(0, 90), tier=tiers, actor=actors)
    def change_tier(self, minutes: int, tier: str, actor: Actor) -> None:
        self.attempt(self.ticket.change_tier, tier, at=self.tick(minutes), actor=actor)

    @rule(minutes=st.integers(0, 90), group=group_ids, actor=actors)
    def assign(self, minutes: int, group: str | None, actor: Actor) -> None:
        self.attempt(self.ticket.assign, at=self.tick(minutes), actor=actor, group_id=group)

    @rule(add=st.lists(tags, max_size=2), remove=st.lists(tags, max_size=2), actor=actors)
    def change_tags(self, add: list[str], remove: list[str], actor: Actor) -> None:
        self.attempt(self.ticket.change_tags, at=self.tick(1), actor=actor, add=add, remove=remove)

    @rule(value=st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=5), st.floats()))
    def set_field(self, value: object) -> None:
        self.attempt(
            self.ticket.set_custom_fields, {"order": value}, at=self.tick(1), actor=Actor.system()
        )

    @rule(minutes=st.integers(-30, -1))
    def backdated_change(self, minutes: int) -> None:
        earlier = self.ticket.updated_at + timedelta(minutes=minutes)
        self.attempt(self.ticket.change_priority, Priority.URGENT, at=earlier, actor=Actor.system())

    @rule()
    def naive_instant(self) -> None:
        naive = self.ticket.updated_at.replace(tzinfo=None) + timedelta(hours=1)
        self.attempt(self.ticket.change_status, Status.SOLVED, at=naive, actor=Actor.system())

    @precondition(lambda self: self.ticket.status is not Status.CLOSED)
    @rule(target_id=st.sampled_from(["tkt_2", "tkt_1"]))
    def merge(self, target_id: str) -> None:
        self.attempt(self.ticket.merge_into, target_id, at=self.tick(1), actor=Actor.agent("agt_1"))

    @invariant()
    def replay_equals_ticket(self) -> None:
        assert Ticket(timeline=self.ticket.timeline) == self.ticket

    @invariant()
    def updated_at_is_the_last_event(self) -> None:
        assert self.ticket.updated_at == self.ticket.timeline[-1].at


TestTicketMachine = TicketMachine.TestCase
