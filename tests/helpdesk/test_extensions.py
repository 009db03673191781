"""HelpDesk extensions: what they are told, when, and inside which unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest
from test_helpdesk import MONDAY_10, _setup

from csdomain.clock import FrozenClock
from csdomain.customers import Consent
from csdomain.errors import NotFoundError, ValidationError
from csdomain.helpdesk import DeskChange, DeskExtension, HelpDesk
from csdomain.ids import SequentialIds
from csdomain.storage import open_store
from csdomain.tickets import Actor, MessageAdded, Status, StatusChanged, TicketKind


class Recorder:
    """An extension that records what it is told and can fail or open tickets on cue."""

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.desk: HelpDesk | None = None
        self.changes: list[DeskChange] = []
        self.swept: list[datetime] = []
        self.fail_on: type | None = None
        self.open_on_solve = False

    def attach(self, desk: HelpDesk) -> None:
        self.desk = desk

    def observe(self, change: DeskChange) -> None:
        self.changes.append(change)
        if self.fail_on is not None and any(type(e) is self.fail_on for e in change.events):
            raise RuntimeError("refused by the extension")
        solved = any(isinstance(e, StatusChanged) and e.new is Status.SOLVED for e in change.events)
        if self.open_on_solve and solved and change.ticket is not None:
            assert self.desk is not None
            self.desk.open_ticket_for(
                change.ticket.customer_id, channel="phone_hotline", subject="Follow-up"
            )

    def sweep(
        self, now: datetime, *, worker: str, batch: int, lease: timedelta
    ) -> Mapping[str, int]:
        self.swept.append(now)
        return {"looked": len(self.changes)}


def _desk(*extensions: object, store_url: str = "memory:") -> HelpDesk:
    clock = FrozenClock(MONDAY_10)
    store = open_store(store_url, tenant="acme", clock=clock, create=True)
    return HelpDesk(
        store,
        _setup(),
        clock=clock,
        ids=SequentialIds(),
        extensions=extensions,  # type: ignore[arg-type]
    )


def test_the_recorder_is_a_desk_extension() -> None:
    assert isinstance(Recorder(), DeskExtension)


def test_every_ticket_change_is_published_with_its_new_events() -> None:
    recorder = Recorder()
    desk = _desk(recorder)
    assert recorder.desk is desk
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    ticket_id = opened.value.id
    first = recorder.changes[-1]
    assert first.source == "ticket"
    assert first.before is None
    assert first.ticket == opened.value
    assert first.events == opened.value.timeline
    assert first.customer is not None
    assert first.customer_id == opened.value.customer_id

    agent = opened.value.assignee_id
    assert agent is not None
    replied = desk.reply(ticket_id, agent_id=agent, body="On it")
    change = recorder.changes[-1]
    assert change.before == opened.value
    assert change.ticket == replied.value
    assert change.events == replied.value.timeline[len(opened.value.timeline) :]
    assert MessageAdded in {type(e) for e in change.events}


def test_an_extension_that_raises_undoes_the_change() -> None:
    recorder = Recorder()
    desk = _desk(recorder)
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    recorder.fail_on = StatusChanged
    with pytest.raises(RuntimeError, match="refused by the extension"):
        desk.solve(opened.value.id, actor=Actor.system())
    stored = desk.ticket(opened.value.id)
    assert stored == desk.store.tickets.get(opened.value.id)
    assert stored.value.status is opened.value.status
    assert stored.version == opened.version


def test_a_ticket_opened_by_an_extension_commits_with_the_change(tmp_path: Path) -> None:
    recorder = Recorder()
    recorder.open_on_solve = True
    desk = _desk(recorder, store_url=f"sqlite:///{tmp_path / 'desk.db'}")
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    desk.solve(opened.value.id, actor=Actor.system())
    tickets = desk.store.tickets.list(customer_id=opened.value.customer_id).items
    assert [t.value.subject for t in tickets] == ["Hi", "Follow-up"]

    # The follow-up is undone with the solve when a later extension refuses it.
    refusing = Recorder("refusing")
    refusing.fail_on = StatusChanged
    opener = Recorder("opener")
    opener.open_on_solve = True
    desk = _desk(opener, refusing, store_url=f"sqlite:///{tmp_path / 'two.db'}")
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    with pytest.raises(RuntimeError):
        desk.solve(opened.value.id, actor=Actor.system())
    assert desk.store.tickets.count() == 1


def test_publish_skips_the_source_and_run_unit_joins_an_open_unit() -> None:
    first, second = Recorder("first"), Recorder("second")
    desk = _desk(first, second)
    change = DeskChange(source="first", at=MONDAY_10, customer_id="cus_1")
    desk.run_unit(lambda: desk.publish(change))
    assert change in second.changes
    assert change not in first.changes

    def inner() -> int:
        # Inside the outer unit of work: a command joins it instead of opening another.
        desk.open_ticket_for(
            desk.open_ticket(contact="13800138001", channel="sms", subject="a").value.customer_id,
            channel="sms",
            subject="b",
        )
        return desk.store.tickets.count()

    with desk.store.transaction():
        assert desk.run_unit(inner) == 2


def test_open_ticket_for_an_unknown_customer_is_not_found_and_stores_nothing() -> None:
    desk = _desk(Recorder())
    with pytest.raises(NotFoundError, match="cus_missing"):
        desk.open_ticket_for("cus_missing", channel="email", subject="x")
    assert desk.store.tickets.count() == 0


def test_open_ticket_for_triages_routes_and_starts_the_clocks() -> None:
    desk = _desk()
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    follow = desk.open_ticket_for(
        opened.value.customer_id,
        channel="phone_hotline",
        subject="Revisit found a fault",
        kind=TicketKind.COMPLAINT,
    )
    assert follow.value.group_id == "l1"
    assert follow.value.assignee_id is not None
    assert desk.schedule(follow.value.id).due_at is not None


def test_customer_updates_and_erasure_are_published() -> None:
    recorder = Recorder()
    desk = _desk(recorder)
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    customer_id = opened.value.customer_id

    def withdraw(customer):  # type: ignore[no-untyped-def]
        points = tuple(
            attrs.evolve(p, consent=Consent.WITHDRAWN, consent_changed_at=MONDAY_10)
            for p in customer.contact_points
        )
        return attrs.evolve(customer, contact_points=points)

    saved = desk.update_customer(customer_id, withdraw)
    change = recorder.changes[-1]
    assert change.source == "customer"
    assert change.customer == saved.value
    assert all(p.consent is Consent.WITHDRAWN for p in saved.value.contact_points)

    desk.erase_customer(customer_id, reason="customer request")
    assert recorder.changes[-1].source == "customer"
    assert recorder.changes[-1].customer_id == customer_id


def test_update_customer_refuses_a_change_to_another_id_and_stores_nothing() -> None:
    desk = _desk()
    opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    customer_id = opened.value.customer_id
    before = desk.store.customers.get(customer_id)
    with pytest.raises(ValidationError, match="update_customer"):
        desk.update_customer(customer_id, lambda c: attrs.evolve(c, id="cus_other"))
    assert desk.store.customers.get(customer_id) == before


def test_sweep_reports_each_extensions_counts() -> None:
    recorder = Recorder()
    desk = _desk(recorder)
    desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    report = desk.sweep(MONDAY_10 + timedelta(hours=1))
    assert recorder.swept == [MONDAY_10 + timedelta(hours=1)]
    assert report.extensions == {"recorder": {"looked": len(recorder.changes)}}


def test_extensions_are_checked() -> None:
    with pytest.raises(ValidationError, match="DeskExtension"):
        _desk(object())
    with pytest.raises(ValidationError, match="unique"):
        _desk(Recorder("same"), Recorder("same"))
    desk = _desk(Recorder("only"))
    assert desk.extension("only").name == "only"
    with pytest.raises(NotFoundError, match="other"):
        desk.extension("other")
