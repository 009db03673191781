"""SIGKILL in the middle of a unit of work of the new services, on SQLite and PostgreSQL.

* ``RevisitDesk.materialize``: a spawned process materializes pages of customers and
  is killed after it wrote a page's tasks but before that page's unit of work
  committed. After the restart every page is all or nothing (each customer of a page
  has all its tasks, or no customer of it has any), the pages before the killed one
  are complete, materializing again creates exactly the missing tasks, and a third
  run creates nothing: no duplicate, none lost.
* ``SurveyDesk`` sweep: a spawned process sends invitations and is killed inside
  ``deliver`` of one of them (its state already saved as sent, not committed). After
  the restart that invitation is pending again with no token kept, the ones sent
  before are sent once, and a sweep after the lease ran out sends exactly the unsent
  ones: every invitation ends sent with one ``sent`` event; the token delivered by
  the killed unit does not work, the one delivered again does (at-least-once).

``CSDOMAIN_SOAK=1`` adds kills at random instants of a materialize run, repeated.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_helpdesk import MONDAY_10, _setup
from test_revisit_desk import NOW, PLAN, _customer
from test_survey_desk import V1, V2, _consenting, policy

from csdomain.clock import FrozenClock
from csdomain.errors import InvitationTokenError
from csdomain.helpdesk import HelpDesk
from csdomain.helpdesk.revisits import RevisitDesk
from csdomain.helpdesk.surveys import SurveyDesk
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.storage import open_store
from csdomain.surveys.collections import INVITATIONS
from csdomain.surveys.invitations import Invitation, InvitationState
from csdomain.surveys.policies import Throttle
from csdomain.surveys.tokens import token_hash
from csdomain.tickets import Actor

_spawn = multiprocessing.get_context("spawn")
CUSTOMERS = 16
PAGE = 4
SOAK = os.environ.get("CSDOMAIN_SOAK", "") not in ("", "0")


def _wait_for(path: Path, child: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert child.is_alive(), f"the child ended (exit code {child.exitcode}) before {path}"
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.02)


def _kill(child: Any) -> None:
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=60)
    assert child.exitcode == -signal.SIGKILL


# -- materialize ----------------------------------------------------------------------------


def _revisit_desk(url: str, tenant: str, *, create: bool = False) -> tuple[HelpDesk, RevisitDesk]:
    clock = FrozenClock(NOW)
    store = open_store(url, tenant=tenant, clock=clock, create=create)
    revisits = RevisitDesk([PLAN], page_size=PAGE)
    return HelpDesk(store, _setup(), clock=clock, extensions=(revisits,)), revisits


def materializer(url: str, tenant: str, marker: str, stop_at_page: int) -> None:
    """Materialize; on page ``stop_at_page`` (counting from 1) hang inside the unit of
    work right after its tasks were written, and say so in ``marker`` (0: never hang)."""
    desk, revisits = _revisit_desk(url, tenant)
    repository = revisits._tasks
    add_many = repository.add_many
    pages = [0]

    def add_then_hang(values: Any, *args: Any, **kwargs: Any) -> Any:
        done = add_many(values, *args, **kwargs)
        pages[0] += 1
        if pages[0] == stop_at_page:
            Path(marker).write_text(str(len(values)), encoding="utf-8")
            time.sleep(600)  # killed here, the unit of work still open
        return done

    repository.add_many = add_then_hang  # type: ignore[method-assign]
    revisits.materialize(90)
    Path(marker).write_text("done", encoding="utf-8")
    desk.store.close()


def _tasks_by_customer(desk: HelpDesk) -> Counter[str]:
    tasks = desk.store.collection(REVISIT_TASKS)
    found: Counter[str] = Counter()
    keys: list[str] = []
    for number in range(CUSTOMERS):
        customer_id = f"cus_{number:04d}"
        page = tasks.find("by_customer", where={"customer_id": customer_id}, limit=100)
        found[customer_id] = len(page.items)
        keys.extend(s.value.id for s in page.items)
    assert len(keys) == len(set(keys)) == tasks.count()
    return found


def _assert_whole_pages(counts: Counter[str]) -> int:
    """Each page of customers (keyset order, PAGE each) is all or nothing; returns how
    many pages are complete (they come first)."""
    ids = sorted(f"cus_{n:04d}" for n in range(CUSTOMERS))
    pages = [ids[i : i + PAGE] for i in range(0, len(ids), PAGE)]
    whole = []
    for page in pages:
        per = {counts[c] for c in page}
        assert per in ({0}, {3}), f"a half page: {[(c, counts[c]) for c in page]}"
        whole.append(per == {3})
    complete = sum(whole)
    assert whole == [True] * complete + [False] * (len(pages) - complete)
    return complete


def _killed_materialize(url: str, tmp: Path, stop_at_page: int) -> None:
    tenant = f"rvk{secrets.token_hex(4)}"
    desk, revisits = _revisit_desk(url, tenant, create=True)
    try:
        desk.store.customers.add_many([_customer(n) for n in range(CUSTOMERS)])
        marker = tmp / f"{tenant}.marker"
        child = _spawn.Process(target=materializer, args=(url, tenant, str(marker), stop_at_page))
        child.start()
        _wait_for(marker, child)
        assert marker.read_text(encoding="utf-8") == str(PAGE * 3)  # a full page was written
        _kill(child)

        complete = _assert_whole_pages(_tasks_by_customer(desk))
        assert complete == stop_at_page - 1  # the killed page left nothing
        again = revisits.materialize(90)
        assert again.created == (CUSTOMERS - complete * PAGE) * 3
        assert again.kept == complete * PAGE * 3
        assert _assert_whole_pages(_tasks_by_customer(desk)) == CUSTOMERS // PAGE
        third = revisits.materialize(90)
        assert (third.created, third.cancelled, third.kept) == (0, 0, CUSTOMERS * 3)
    finally:
        desk.store.close()


def test_materialize_killed_mid_page_on_sqlite_leaves_whole_pages(scratch: Path) -> None:
    _killed_materialize(f"sqlite:///{scratch / 'desk.db'}", scratch, stop_at_page=3)


def test_materialize_killed_mid_page_on_postgres_leaves_whole_pages(
    postgres_schema: Any, tmp_path: Path
) -> None:
    _killed_materialize(postgres_schema.url(), tmp_path, stop_at_page=3)


def _materialize_killed_at_random(url: str, tmp: Path, rounds: int) -> None:
    tenant = f"rvr{secrets.token_hex(4)}"
    desk, revisits = _revisit_desk(url, tenant, create=True)
    rng = random.Random(tenant)
    try:
        desk.store.customers.add_many([_customer(n) for n in range(CUSTOMERS)])
        for round_ in range(rounds):
            marker = tmp / f"{tenant}_{round_}.marker"
            child = _spawn.Process(target=materializer, args=(url, tenant, str(marker), 0))
            child.start()
            time.sleep(rng.uniform(0.5, 3.0))  # somewhere in start-up or in the run
            if child.is_alive():
                _kill(child)
            else:
                child.join()
            _assert_whole_pages(_tasks_by_customer(desk))
        revisits.materialize(90)
        assert _assert_whole_pages(_tasks_by_customer(desk)) == CUSTOMERS // PAGE
    finally:
        desk.store.close()


@pytest.mark.skipif(not SOAK, reason="soak: set CSDOMAIN_SOAK=1")
def test_materialize_killed_at_random_instants_on_sqlite(scratch: Path) -> None:
    _materialize_killed_at_random(f"sqlite:///{scratch / 'desk.db'}", scratch, rounds=20)


@pytest.mark.skipif(not SOAK, reason="soak: set CSDOMAIN_SOAK=1")
def test_materialize_killed_at_random_instants_on_postgres(
    postgres_schema: Any, tmp_path: Path
) -> None:
    _materialize_killed_at_random(postgres_schema.url(), tmp_path, rounds=20)


# -- survey sweep ---------------------------------------------------------------------------

INVITED = 6
THROTTLE = Throttle(max_invitations=10, per_days=1)


def _survey_desk(
    url: str,
    tenant: str,
    at: datetime,
    deliver: Callable[[Invitation, str, str], None] | None,
    *,
    create: bool = False,
) -> tuple[HelpDesk, SurveyDesk, FrozenClock]:
    clock = FrozenClock(at)
    surveys = SurveyDesk([policy(throttle=THROTTLE)], [V1, V2], deliver=deliver)
    store = open_store(url, tenant=tenant, clock=clock, create=create)
    return HelpDesk(store, _setup(), clock=clock, extensions=[surveys]), surveys, clock


def sender(url: str, tenant: str, at: str, log: str, marker: str, hang_at: int) -> None:
    """Sweep at ``at``, logging each delivery; hang inside the ``hang_at``-th one (the
    invitation saved as sent, its unit of work open) after saying so in ``marker``."""
    delivered = [0]

    def deliver(invitation: Invitation, token: str, channel: str) -> None:
        line = json.dumps({"id": invitation.id, "token": token, "state": invitation.state.value})
        with open(log, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        delivered[0] += 1
        if delivered[0] == hang_at:
            Path(marker).write_text(invitation.id, encoding="utf-8")
            time.sleep(600)

    desk, _, _ = _survey_desk(url, tenant, datetime.fromisoformat(at), deliver)
    desk.sweep(datetime.fromisoformat(at), batch=2)
    desk.store.close()


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def __call__(self, invitation: Invitation, token: str, channel: str) -> None:
        self.sent.append((invitation.id, token, invitation.state.value))


def _killed_sweep(url: str, tmp: Path, hang_at: int) -> None:
    tenant = f"svk{secrets.token_hex(4)}"
    outbox = _Outbox()
    desk, surveys, clock = _survey_desk(url, tenant, MONDAY_10, outbox, create=True)
    try:
        tickets = []
        for n in range(INVITED):
            phone = f"1390013{n:04d}"
            opened = desk.open_ticket(contact=phone, channel="phone_hotline", subject="Hi")
            desk.update_customer(opened.value.customer_id, _consenting(clock.now(), phone))
            desk.solve(opened.value.id, actor=Actor.agent("agt_amy"))
            tickets.append(opened.value.id)
        clock.advance(timedelta(days=1))
        log, marker = tmp / f"{tenant}.log", tmp / f"{tenant}.marker"
        child = _spawn.Process(
            target=sender,
            args=(url, tenant, clock.now().isoformat(), str(log), str(marker), hang_at),
        )
        child.start()
        _wait_for(marker, child)
        killed_id = marker.read_text(encoding="utf-8")
        _kill(child)

        delivered = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        assert len(delivered) == hang_at and delivered[-1]["id"] == killed_id
        invitations = {inv.id: inv for t in tickets for inv in surveys.invitations_of(t)}
        assert len(invitations) == INVITED
        sent_before = {d["id"] for d in delivered[:-1]}
        for invitation in invitations.values():
            if invitation.id in sent_before:
                assert invitation.state is InvitationState.SENT
                assert len(invitation.token_hashes) == 1
            else:  # the killed unit left nothing of its send
                assert invitation.state is InvitationState.PENDING, invitation.id
                assert invitation.token_hashes == ()
        # The killed unit's token was delivered but never kept: it does not work.
        with pytest.raises(InvitationTokenError) as caught:
            surveys.answer(delivered[-1]["token"], {"csat": 5}, now=clock.now())
        assert caught.value.reason == "unknown"

        clock.advance(timedelta(minutes=3))  # the child's leases ran out
        counts = desk.sweep(clock.now()).extensions["surveys"]
        assert counts["sent"] == INVITED - len(sent_before)
        assert {i for i, _, _ in outbox.sent} == set(invitations) - sent_before
        assert killed_id in {i for i, _, _ in outbox.sent}
        tokens = {d["id"]: d["token"] for d in delivered[:-1]}
        tokens.update({i: token for i, token, _ in outbox.sent})
        for invitation_id in invitations:
            final = surveys.invitation(invitation_id)
            assert final.state is InvitationState.SENT
            sends = [e for e in final.timeline if e.kind.value == "sent"]
            assert len(sends) == 1, final.timeline
            assert final.token_hashes == (token_hash(tokens[invitation_id]),)
        assert desk.sweep(clock.now()).extensions["surveys"]["sent"] == 0
        assert surveys.answer(tokens[killed_id], {"csat": 4}, now=clock.now()).csat == 4
        assert desk.store.collection(INVITATIONS).count() == INVITED
    finally:
        desk.store.close()


def test_a_survey_sweep_killed_inside_deliver_on_sqlite_sends_each_once(scratch: Path) -> None:
    _killed_sweep(f"sqlite:///{scratch / 'desk.db'}", scratch, hang_at=4)


def test_a_survey_sweep_killed_inside_deliver_on_postgres_sends_each_once(
    postgres_schema: Any, tmp_path: Path
) -> None:
    _killed_sweep(postgres_schema.url(), tmp_path, hang_at=4)
