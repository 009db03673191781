"""SurveyDesk: invitations after a solve, sweeps that send, remind once and expire,
answers by token, attribution fixed before the answer, on memory, SQLite and
PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest
from test_helpdesk import MONDAY_10, _setup

from csdomain.clock import FrozenClock
from csdomain.conditions import Compare, Equals
from csdomain.customers import Consent, ContactPoint, Customer
from csdomain.errors import InvitationTokenError, ValidationError
from csdomain.helpdesk import DeskChange, HelpDesk
from csdomain.helpdesk.surveys import SurveyDesk
from csdomain.ids import SequentialIds
from csdomain.storage import open_store
from csdomain.surveys.collections import INVITATIONS, RESPONSES, SURVEY_TEMPLATES
from csdomain.surveys.invitations import Invitation, InvitationState
from csdomain.surveys.policies import AttributionPoint, ReopenRule, SurveyPolicy, Throttle
from csdomain.surveys.questions import LocalizedText, Question
from csdomain.surveys.templates import SurveyTemplate
from csdomain.surveys.tokens import token_hash
from csdomain.tickets import Actor, Status

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
TEXT = LocalizedText.of("How satisfied are you?", zh_hans="您对本次服务满意吗？")
V1 = SurveyTemplate("after-solve", 1, "csat", TEXT, [Question("csat", "csat", TEXT)])
V2 = SurveyTemplate(
    "after-solve",
    2,
    "csat",
    TEXT,
    [Question("csat", "csat", TEXT), Question("why", "text", TEXT, required=False)],
)
AMY = Actor.agent("agt_amy")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, scratch: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory:"
    elif request.param == "sqlite":
        yield f"sqlite:///{scratch / 'surveys.db'}"
    else:
        from test_postgres import Schema, require_server

        require_server()
        schema = Schema()
        try:
            yield schema.url()
        finally:
            schema.drop()


class Outbox:
    """A deliver callback that records what it sends and can fail on cue."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, InvitationState]] = []
        self.failing = False

    def __call__(self, invitation: Invitation, token: str, channel: str) -> None:
        if self.failing:
            raise ConnectionError("SMS gateway down")
        self.sent.append((invitation.id, token, channel, invitation.state))

    def tokens(self, invitation_id: str) -> list[str]:
        return [token for i, token, _, _ in self.sent if i == invitation_id]


_OPENED: list[HelpDesk] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Close every store a test opened (PostgreSQL connections must not outlive it)."""
    yield
    while _OPENED:
        _OPENED.pop().store.close()


class World:
    """A desk with a SurveyDesk on a store of ``url``, a frozen clock and an outbox."""

    def __init__(self, url: str, *policies: SurveyPolicy) -> None:
        self.clock = FrozenClock(MONDAY_10)
        self.outbox = Outbox()
        self.surveys = SurveyDesk(policies or (policy(),), [V1, V2], deliver=self.outbox)
        store = open_store(url, tenant="acme", clock=self.clock, create=True)
        try:
            self.desk = HelpDesk(
                store, _setup(), clock=self.clock, ids=SequentialIds(), extensions=[self.surveys]
            )
        except BaseException:
            store.close()  # a desk refused at start (a damaged template) keeps no connection
            raise
        _OPENED.append(self.desk)

    def customer(self, phone: str = "13800138000", *, consent: bool = True) -> str:
        opened = self.desk.open_ticket(contact=phone, channel="phone_hotline", subject="Hello")
        customer_id = opened.value.customer_id
        if consent:
            self.desk.update_customer(customer_id, _consenting(self.clock.now(), phone))
        return customer_id

    def solved_ticket(self, customer_id: str) -> str:
        ticket = self.desk.open_ticket_for(customer_id, channel="phone_hotline", subject="Router")
        ticket_id = ticket.value.id
        self.desk.reply(ticket_id, agent_id="agt_amy", body="Fixed")
        self.desk.solve(ticket_id, actor=AMY)
        return ticket_id

    def at(self, delta: timedelta) -> datetime:
        self.clock.advance(delta)
        return self.clock.now()

    def sweep(self) -> dict[str, int]:
        return dict(self.desk.sweep(self.clock.now()).extensions["surveys"])

    def only(self, ticket_id: str) -> Invitation:
        (invitation,) = self.surveys.invitations_of(ticket_id)
        return invitation

    def counts(self) -> tuple[int, int]:
        store = self.desk.store
        return store.collection(INVITATIONS).count(), store.collection(RESPONSES).count()


def _consenting(at: datetime, phone: str = "13800138000") -> Callable[[Customer], Customer]:
    def change(customer: Customer) -> Customer:
        sms = ContactPoint(
            channel="sms", address=f"+86{phone}", consent=Consent.GIVEN, consent_changed_at=at
        )
        return customer.with_contact_point(sms)

    return change


def policy(**changes: object) -> SurveyPolicy:
    fields: dict[str, object] = {
        "name": "csat",
        "trigger": "ticket_solved",
        "template": "after-solve",
        "channels": ["email", "sms"],
    }
    fields.update(changes)
    return SurveyPolicy(**fields)  # type: ignore[arg-type]


# -- invitations after a solve ------------------------------------------------------------


def test_a_solve_creates_an_invitation_at_solved_plus_delay(store_url: str) -> None:
    world = World(store_url)
    customer_id = world.customer()
    world.at(HOUR)
    ticket_id = world.solved_ticket(customer_id)
    invitation = world.only(ticket_id)
    assert invitation.state is InvitationState.PENDING
    assert invitation.send_at == MONDAY_10 + HOUR + DAY
    assert (invitation.template, invitation.template_version) == ("after-solve", 2)
    assert invitation.attribution is not None
    assert invitation.attribution.agent_id == world.desk.ticket(ticket_id).value.assignee_id
    assert invitation.attribution.recorded_at == MONDAY_10 + HOUR
    # Templates were stored when the desk started, idempotently.
    templates = world.desk.store.collection(SURVEY_TEMPLATES)
    assert templates.count() == 2
    SurveyDesk([policy()], [V1, V2]).attach(world.desk)
    assert templates.count() == 2


def test_the_sweep_sends_reminds_once_and_expires(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer())
    assert world.sweep()["sent"] == 0  # not due yet
    world.at(DAY)
    assert world.sweep() == {
        "sent": 1,
        "suppressed": 0,
        "reminded": 0,
        "expired": 0,
        "failed": 0,
        "unreadable": 0,
    }
    invitation = world.only(ticket_id)
    (sent,) = world.outbox.sent
    assert sent[2] == "sms" and sent[3] is InvitationState.SENT  # email has no consent
    token = sent[1]
    assert invitation.token_hashes == (token_hash(token),)
    stored_text = world.desk.store.collection(INVITATIONS).get(invitation.id)
    assert token not in repr(stored_text)
    assert world.sweep()["sent"] == 0
    world.at(3 * DAY)
    assert world.sweep()["reminded"] == 1
    world.at(DAY)
    assert world.sweep()["reminded"] == 0  # exactly one reminder (the GLPI bug)
    world.at(3 * DAY)
    assert world.sweep()["reminded"] == 0
    reminded = world.only(ticket_id)
    assert reminded.state is InvitationState.REMINDED and len(reminded.token_hashes) == 2
    assert len(world.outbox.sent) == 2
    world.at(reminded.expires_at - world.clock.now())
    assert world.sweep()["expired"] == 1
    assert world.only(ticket_id).state is InvitationState.EXPIRED
    with pytest.raises(InvitationTokenError) as caught:
        world.surveys.answer(token, {"csat": 5})
    assert caught.value.reason == "expired"
    assert world.counts() == (1, 0)


def test_a_failing_deliver_leaves_the_invitation_pending(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.outbox.failing = True
    assert world.sweep()["failed"] == 1
    assert world.only(ticket_id).state is InvitationState.PENDING
    assert world.only(ticket_id).token_hashes == ()
    world.outbox.failing = False
    world.at(timedelta(minutes=10))  # the lease ran out
    assert world.sweep()["sent"] == 1
    assert world.only(ticket_id).state is InvitationState.SENT


def test_no_consented_channel_suppresses_at_send(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer(consent=False))
    world.at(DAY)
    assert world.sweep()["suppressed"] == 1
    invitation = world.only(ticket_id)
    assert invitation.state is InvitationState.SUPPRESSED
    assert "consents to none of the channels email, sms" in (invitation.timeline[-1].reason or "")
    assert world.outbox.sent == []


def test_throttling_across_tickets(store_url: str) -> None:
    world = World(store_url, policy(throttle=Throttle(max_invitations=1, per_days=30)))
    customer_id = world.customer()
    first = world.solved_ticket(customer_id)
    world.at(2 * DAY)
    second = world.solved_ticket(customer_id)
    assert world.only(first).state is InvitationState.PENDING
    assert world.only(second).state is InvitationState.SUPPRESSED
    assert "throttled: 1 per 30 days" in (world.only(second).timeline[-1].reason or "")
    world.at(30 * DAY)
    third = world.solved_ticket(customer_id)
    assert world.only(third).state is InvitationState.PENDING
    other = world.solved_ticket(world.customer("13900139000"))
    assert world.only(other).state is InvitationState.PENDING


# -- reopen ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [ReopenRule.VOID, ReopenRule.KEEP])
def test_a_reopen_follows_the_policy(store_url: str, rule: ReopenRule) -> None:
    world = World(store_url, policy(on_reopen=rule))
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    world.desk.customer_message(ticket_id, body="Still broken")
    assert world.desk.ticket(ticket_id).value.status is Status.OPEN
    invitation = world.only(ticket_id)
    if rule is ReopenRule.VOID:
        assert invitation.state is InvitationState.VOIDED
        with pytest.raises(InvitationTokenError) as caught:
            world.surveys.answer(token, {"csat": 2})
        assert caught.value.reason == "voided"
        assert world.counts() == (1, 0)
    else:
        assert invitation.state is InvitationState.SENT
        assert world.surveys.answer(token, {"csat": 2}).csat == 2


# -- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("point", [AttributionPoint.SOLVE, AttributionPoint.SEND])
def test_attribution_is_never_taken_at_answer_time(store_url: str, point: AttributionPoint) -> None:
    """The Chatwoot bug: an agent unassigned before the customer answers keeps the credit."""
    world = World(store_url, policy(attribution=point))
    ticket_id = world.solved_ticket(world.customer())
    solver = world.desk.ticket(ticket_id).value.assignee_id
    assert solver is not None
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    # An automation unassigns the solved ticket before the customer answers.
    world.desk.assign(ticket_id, actor=Actor.system("automation"), agent_id=None)
    assert world.desk.ticket(ticket_id).value.assignee_id is None
    credited = world.only(ticket_id).attribution
    assert credited is not None and credited.agent_id == solver
    assert credited.recorded_at == (
        MONDAY_10 if point is AttributionPoint.SOLVE else MONDAY_10 + DAY
    )
    world.at(HOUR)
    response = world.surveys.answer(token, {"csat": 4})
    assert response.attribution == credited
    assert world.surveys.invitation(response.invitation_id).attribution == credited


def test_answering_after_closure_works_and_leaves_the_ticket_untouched(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    world.desk.close_solved_after(0)
    closed = world.desk.ticket(ticket_id)
    assert closed.value.status is Status.CLOSED
    token = world.outbox.sent[0][1]
    response = world.surveys.answer(token, {"csat": 1, "why": "slow"})
    after = world.desk.ticket(ticket_id)
    assert (after.version, after.value) == (closed.version, closed.value)
    assert response.template_version == 2 and response.answer("why") is not None
    assert world.surveys.response(response.id) == response
    assert world.only(ticket_id).state is InvitationState.ANSWERED


def test_a_token_works_once_without_an_edit_window(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    first = world.surveys.answer(token, {"csat": 5})
    with pytest.raises(InvitationTokenError) as caught:
        world.surveys.answer(token, {"csat": 1})
    assert (caught.value.reason, caught.value.invitation_id) == ("used", world.only(ticket_id).id)
    assert world.counts() == (1, 1)
    assert world.surveys.response(first.id).csat == 5
    with pytest.raises(InvitationTokenError) as unknown:
        world.surveys.answer("not-a-token", {"csat": 1})
    assert unknown.value.reason == "unknown" and unknown.value.invitation_id is None


def test_within_the_edit_window_a_second_answer_is_an_edit(store_url: str) -> None:
    world = World(store_url, policy(edit_window=2 * HOUR))
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    first = world.surveys.answer(token, {"csat": 2})
    world.at(HOUR)
    edited = world.surveys.answer(token, {"csat": 4})
    assert edited.id == first.id and edited.csat == 4 and edited.edited_at == world.clock.now()
    assert edited.answered_at == first.answered_at
    assert world.only(ticket_id).edits == 1
    assert world.counts() == (1, 1)  # never a second count
    world.at(HOUR)
    with pytest.raises(InvitationTokenError, match="edit window"):
        world.surveys.answer(token, {"csat": 5})
    assert world.surveys.response(first.id).csat == 4


def test_both_links_work_after_the_reminder(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    world.at(3 * DAY)
    world.sweep()
    first, second = world.outbox.tokens(world.only(ticket_id).id)
    assert world.surveys.answer(first, {"csat": 3}).csat == 3
    with pytest.raises(InvitationTokenError, match="already answered"):
        world.surveys.answer(second, {"csat": 3})


def test_bad_answers_store_nothing(store_url: str) -> None:
    world = World(store_url)
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    before = world.desk.store.collection(INVITATIONS).get(world.only(ticket_id).id)
    with pytest.raises(ValidationError) as caught:
        world.surveys.answer(token, {"csat": 6, "mood": "fine"})
    assert set(caught.value.paths) == {"csat", "mood"}
    assert world.desk.store.collection(INVITATIONS).get(before.value.id) == before
    assert world.counts() == (1, 0)


def test_answers_are_checked_against_the_invitations_version(store_url: str) -> None:
    world = World(store_url, policy(template_version=1))
    ticket_id = world.solved_ticket(world.customer())
    assert world.only(ticket_id).template_version == 1
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    with pytest.raises(ValidationError, match="'after-solve@1' has no question 'why'"):
        world.surveys.answer(token, {"csat": 5, "why": "v2 only"})
    assert world.counts() == (1, 0)
    # A desk configured with only the newer version still reads the stored v1.
    later = SurveyDesk([policy(name="v2-only")], [V2])
    later.attach(world.desk)
    assert later.answer(token, {"csat": 5}).template_version == 1


def test_a_low_score_reopens_a_solved_ticket(store_url: str) -> None:
    world = World(
        store_url,
        policy(reopen_when=Compare("survey.csat", "le", 2), on_reopen=ReopenRule.KEEP),
    )
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    token = world.outbox.sent[0][1]
    world.surveys.answer(token, {"csat": 1})
    ticket = world.desk.ticket(ticket_id).value
    assert ticket.status is Status.OPEN
    assert "survey response" in (ticket.timeline[-1].reason or "")  # type: ignore[attr-defined]
    # A high score leaves a solved ticket alone.
    happy = world.solved_ticket(world.customer("13900139000"))
    world.at(DAY)
    world.sweep()
    token = world.outbox.tokens(world.only(happy).id)[0]
    world.surveys.answer(token, {"csat": 5})
    assert world.desk.ticket(happy).value.status is Status.SOLVED


def test_answers_are_published_to_the_other_extensions() -> None:
    seen: list[DeskChange] = []

    class Listener:
        name = "listener"

        def attach(self, desk: HelpDesk) -> None: ...

        def observe(self, change: DeskChange) -> None:
            seen.append(change)

        def sweep(self, now: datetime, **_: object) -> dict[str, int]:
            return {}

    clock = FrozenClock(MONDAY_10)
    outbox = Outbox()
    surveys = SurveyDesk([policy()], [V1, V2], deliver=outbox)
    store = open_store("memory:", tenant="acme", clock=clock)
    desk = HelpDesk(
        store,
        _setup(),
        clock=clock,
        ids=SequentialIds(),
        extensions=[surveys, Listener()],
    )
    ticket = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
    desk.update_customer(ticket.value.customer_id, _consenting(clock.now()))
    desk.solve(ticket.value.id, actor=AMY)
    clock.advance(DAY)
    desk.sweep(clock.now())
    response = surveys.answer(outbox.sent[0][1], {"csat": 5})
    published = [c for c in seen if c.source == "surveys"]
    assert len(published) == 1 and published[0].subject == response
    assert published[0].ticket is not None and published[0].ticket.id == ticket.value.id


def test_a_policy_condition_and_a_chat_trigger_choose_the_tickets() -> None:
    world = World(
        "memory:",
        policy(name="complaints", condition=Equals("ticket.kind", "complaint")),
        policy(name="chats", trigger="chat_ended", template="after-solve", template_version=1),
    )
    ticket_id = world.solved_ticket(world.customer())
    assert world.surveys.invitations_of(ticket_id) == []
    customer_id = world.customer("13900139000")
    chat = world.desk.open_ticket_for(customer_id, channel="web_chat", subject="Chat")
    world.desk.solve(chat.value.id, actor=AMY)
    assert [i.policy for i in world.surveys.invitations_of(chat.value.id)] == ["chats"]


def test_the_summary_counts_answers_with_their_intervals() -> None:
    world = World("memory:", policy(throttle=Throttle(max_invitations=10, per_days=1)))
    scores = [5, 4, 2]
    for i, score in enumerate(scores):
        ticket_id = world.solved_ticket(world.customer(f"1390013900{i}"))
        world.at(DAY)
        world.sweep()
        world.surveys.answer(world.outbox.tokens(world.only(ticket_id).id)[0], {"csat": score})
    summary = world.surveys.summary()
    assert summary.responses == 3
    assert summary.csat.n == 3 and summary.csat.small_sample
    assert summary.csat.value == pytest.approx(2 / 3)
    assert summary.nps.n == 0
    page = world.surveys.responses(MONDAY_10, world.clock.now() + HOUR)
    assert [r.value.csat for r in page.items] == scores


def test_a_desk_refuses_a_policy_naming_an_unknown_template() -> None:
    with pytest.raises(ValidationError, match="after-solve@7") as caught:
        SurveyDesk([policy(template_version=7)], [V1, V2])
    assert caught.value.paths == ("policies[0].template",)


def test_erasing_the_customer_voids_the_open_invitations() -> None:
    world = World("memory:")
    customer_id = world.customer()
    ticket_id = world.solved_ticket(customer_id)
    world.desk.erase_customer(customer_id, reason="customer request")
    assert world.only(ticket_id).state is InvitationState.VOIDED


def test_sweep_arguments_are_checked() -> None:
    world = World("memory:")
    with pytest.raises(ValidationError):
        world.surveys.sweep(world.clock.now(), worker="w", batch=0, lease=HOUR)
    with pytest.raises(ValidationError):
        world.surveys.sweep(world.clock.now(), worker="w", batch=10, lease=timedelta(0))


@attrs.frozen
class _DoneTask:
    """What the surveys extension reads of a revisit task (the revisits package's own
    RevisitTask has these fields)."""

    id: str
    customer_id: str
    state: str
    outcome: _Outcome | None


@attrs.frozen
class _Outcome:
    reached: bool


def test_a_revisit_done_with_the_customer_reached_triggers_its_policies() -> None:
    world = World("memory:", policy(name="after-revisit", trigger="revisit_done"))
    customer_id = world.customer()

    def publish(task: _DoneTask) -> None:
        world.desk.run_unit(
            lambda: world.desk.publish(
                DeskChange(
                    source="revisits", at=world.clock.now(), customer_id=customer_id, subject=task
                )
            )
        )

    publish(_DoneTask("rvt_1", customer_id, "done", _Outcome(reached=False)))
    publish(_DoneTask("rvt_2", customer_id, "scheduled", None))
    invitations = world.desk.store.collection(INVITATIONS)
    assert invitations.count() == 0
    done = _DoneTask("rvt_3", customer_id, "done", _Outcome(reached=True))
    publish(done)
    publish(done)  # published again: still one invitation
    (stored,) = invitations.find("by_task", where={"task_id": "rvt_3"}).items
    assert stored.value.state is InvitationState.PENDING
    assert stored.value.send_at == world.clock.now() + DAY
    world.at(DAY)
    assert world.sweep()["sent"] == 1
    sent = world.surveys.invitation(stored.value.id)
    assert sent.attribution is not None and sent.attribution.channel == "sms"
