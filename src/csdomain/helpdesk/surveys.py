"""Satisfaction surveys (满意度调查) at the desk: the store-backed service over the
pure survey engine.

:class:`SurveyDesk` is a :class:`~csdomain.helpdesk.DeskExtension`. Given to a
:class:`~csdomain.helpdesk.HelpDesk` it keeps templates, invitations and responses
in the declared collections ``survey_templates``, ``survey_invitations`` and
``survey_responses`` and

* follows the desk's changes, inside their units of work: a ticket solved creates,
  for each policy it triggers whose condition holds, an invitation pending until
  the solve plus the policy's delay (credited to the ticket's assignee, group and
  channel at once when the policy attributes at the solve), or a suppressed one
  when the customer's throttle is full; a reopen voids or keeps the ticket's
  unanswered invitations, as each policy says; a revisit task done with the
  customer reached triggers the ``revisit_done`` policies; an erased customer's
  open invitations are voided;
* sweeps: leases the invitations due to send, picks the first channel of the
  policy the customer consents to (none: suppressed), makes a token, keeps its hash,
  credits the invitation when the policy attributes at the send, and calls
  ``deliver(invitation, token, channel)`` inside the invitation's unit of work: a
  ``deliver`` that raises leaves it pending, to be sent again once its lease runs
  out (at-least-once). Then the one reminder each (a second token, both links
  work), then the expiries;
* takes answers (:meth:`SurveyDesk.answer`): the token is found by its hash and
  compared in constant time; an unknown, used, expired or voided token raises
  :class:`~csdomain.errors.InvitationTokenError` and stores nothing; answers are
  checked against the template version of the invitation; a second answer is an
  edit of the same response within the policy's edit window, else refused: never
  a second count. The ticket is not touched (answering after it is closed
  works), unless the response matches the policy's ``reopen_when`` and the ticket
  is solved: then it is reopened. Each answer is published as a
  ``DeskChange(source="surveys", subject=response)`` for the other extensions.

Attribution is fixed at the solve or at the send, never at the answer: an agent
unassigned between the send and the answer keeps the credit (Chatwoot #14872).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import attrs

from csdomain._kernel.time import ensure_aware
from csdomain.conditions import Facts
from csdomain.customers import Customer
from csdomain.errors import InvitationTokenError, NotFoundError, ValidationError
from csdomain.helpdesk.extensions import DeskChange
from csdomain.helpdesk.schedule import UNSOLVED
from csdomain.storage import Page, Stored
from csdomain.storage.erasure import ERASURES
from csdomain.surveys.collections import INVITATIONS, RESPONSES, SURVEY_TEMPLATES
from csdomain.surveys.invitations import OPEN_STATES, Attribution, Invitation, InvitationState
from csdomain.surveys.policies import (
    AttributionPoint,
    ReopenRule,
    SurveyPolicy,
    SurveyTrigger,
    throttle_allows,
)
from csdomain.surveys.questions import CesReporting, QuestionKind
from csdomain.surveys.responses import SurveyResponse, validate_answers_for
from csdomain.surveys.scores import Score, ces_score, csat_score, nps_score
from csdomain.surveys.templates import SurveyKind, SurveyTemplate, template_for
from csdomain.surveys.tokens import TOKEN_TEXT_MAX, new_token, token_hash, token_matches
from csdomain.tickets import Actor, Status, StatusChanged, Ticket

if TYPE_CHECKING:
    from csdomain.helpdesk.service import HelpDesk
    from csdomain.storage import DocumentRepository

__all__ = ["Deliver", "SurveyDesk", "SurveySummary"]

#: What sends an invitation: ``deliver(invitation, token, channel)``; the token is
#: the secret for the link, the invitation (already marked sent or reminded) says
#: to whom and what.
Deliver = Callable[[Invitation, str, str], None]

_MICROSECOND: Final = timedelta(microseconds=1)
_OPEN_VALUES: Final = tuple(s.value for s in OPEN_STATES)
_PAGE: Final = 200
#: How far back the throttle looks for a customer's invitations (by creation): the
#: longest delay (a year) and the longest throttle window (3,660 days) together.
_THROTTLE_LOOKBACK: Final = timedelta(days=366 + 3660)
_SYSTEM: Final = Actor.system("surveys")


def _default_link(token: str) -> str:
    return f"survey:{token}"


@attrs.frozen
class SurveySummary:
    """The survey figures of a period (answers in ``[low, high)``): how many
    responses, and the CSAT, NPS and CES scores of their answers (each with its n,
    interval and small-sample flag)."""

    low: datetime | None
    high: datetime | None
    responses: int
    by_kind: Mapping[SurveyKind, int]
    csat: Score
    nps: Score
    ces: Score


class SurveyDesk:
    """The survey policies and templates of a desk, and their records in its store.

    ``policies`` (names unique) name templates among ``templates`` (``key@version``
    unique; a policy without a version uses the newest). ``deliver`` sends an
    invitation (None: invitations are marked sent and nothing is sent, for tests and
    apps that read the store themselves); ``link`` turns a token into the URL a
    message carries (the app's; the default is ``"survey:<token>"``).
    """

    name: Final = "surveys"

    def __init__(
        self,
        policies: Sequence[SurveyPolicy],
        templates: Sequence[SurveyTemplate],
        *,
        deliver: Deliver | None = None,
        link: Callable[[str], str] = _default_link,
    ) -> None:
        templates = tuple(templates)
        refs: set[str] = set()
        for index, template in enumerate(templates):
            if not isinstance(template, SurveyTemplate):
                raise ValidationError.single(
                    "SurveyDesk",
                    f"templates[{index}]",
                    f"expected a SurveyTemplate, got {template!r}",
                )
            if template.ref in refs:
                raise ValidationError.single(
                    "SurveyDesk",
                    f"templates[{index}]",
                    f"template {template.ref!r} is given twice; key@version must be unique",
                )
            refs.add(template.ref)
        policies = tuple(policies)
        problems: list[tuple[str, str]] = []
        names: set[str] = set()
        for index, policy in enumerate(policies):
            at = f"policies[{index}]"
            if not isinstance(policy, SurveyPolicy):
                problems.append((at, f"expected a SurveyPolicy, got {policy!r}"))
                continue
            if policy.name in names:
                problems.append((f"{at}.name", f"two policies are named {policy.name!r}"))
            names.add(policy.name)
            try:
                template_for(templates, policy.template, policy.template_version)
            except NotFoundError as exc:
                problems.append((f"{at}.template", f"policy {policy.name!r}: {exc}"))
        if problems:
            raise ValidationError("SurveyDesk", problems)
        if deliver is not None and not callable(deliver):
            raise ValidationError.single(
                "SurveyDesk", "deliver", f"expected a callable or None, got {deliver!r}"
            )
        self._policies: tuple[SurveyPolicy, ...] = policies
        self._by_name = {p.name: p for p in policies}
        self._templates = templates
        self._deliver = deliver
        self._link = link
        self._desk: HelpDesk | None = None

    # -- the extension protocol ---------------------------------------------------------

    def attach(self, desk: HelpDesk) -> None:
        """Keep the desk and store the templates (idempotent: a stored version is kept)."""
        if self._desk is not None and self._desk is not desk:
            raise ValidationError.single(
                "SurveyDesk", "desk", "this SurveyDesk is attached to another desk already"
            )
        self._desk = desk
        repo = desk.store.collection(SURVEY_TEMPLATES)

        def store_templates() -> None:
            stored = repo.get_many([t.storage_key for t in self._templates])
            for template in self._templates:
                if template.storage_key not in stored:
                    repo.add(template)

        desk.run_unit(store_templates)

    @property
    def desk(self) -> HelpDesk:
        """The desk this extension is attached to."""
        if self._desk is None:
            raise ValidationError.single(
                "SurveyDesk",
                "desk",
                "not attached to a desk; pass it to HelpDesk(..., extensions=[...]) first",
            )
        return self._desk

    @property
    def policies(self) -> tuple[SurveyPolicy, ...]:
        """The policies this desk runs."""
        return self._policies

    @property
    def _invitations(self) -> DocumentRepository[Invitation]:
        return self.desk.store.collection(INVITATIONS)

    @property
    def _responses(self) -> DocumentRepository[SurveyResponse]:
        return self.desk.store.collection(RESPONSES)

    def link(self, token: str) -> str:
        """The link a message carries for ``token``."""
        return self._link(token)

    def observe(self, change: DeskChange) -> None:
        """Follow a desk change inside its unit of work (see the module documentation)."""
        if change.source == "ticket" and change.ticket is not None:
            self._ticket_changed(change)
        elif change.source == "revisits":
            self._revisit_changed(change)
        elif change.source == "customer" and change.customer_id is not None:
            self._customer_changed(change.customer_id, change.at)

    # -- following the desk ---------------------------------------------------------------

    def _ticket_changed(self, change: DeskChange) -> None:
        after = change.ticket
        assert after is not None
        before = change.before
        was = before.status if before is not None else None
        if after.status is Status.SOLVED and was is not Status.SOLVED:
            solved_at = next(
                (
                    e.at
                    for e in reversed(change.events)
                    if isinstance(e, StatusChanged) and e.new is Status.SOLVED
                ),
                change.at,
            )
            customer = change.customer or self._customer(after.customer_id)
            facts = Facts(ticket=after, customer=customer)
            for policy in self._policies:
                if policy.triggered_by(SurveyTrigger.TICKET_SOLVED, after.channel) and (
                    policy.condition.holds(facts)
                ):
                    attribution = None
                    if policy.attribution is AttributionPoint.SOLVE:
                        attribution = _attribution_of(after, solved_at)
                    self._invite(
                        policy,
                        after.customer_id,
                        solved_at,
                        ticket_id=after.id,
                        attribution=attribution,
                    )
        elif was is Status.SOLVED and after.status in UNSOLVED:
            self._reopened(after.id, change.at)

    def _reopened(self, ticket_id: str, at: datetime) -> None:
        for stored in self._each("by_ticket", {"ticket_id": ticket_id}):
            invitation = stored.value
            policy = self._by_name.get(invitation.policy)
            rule = policy.on_reopen if policy is not None else ReopenRule.VOID
            if invitation.open and rule is ReopenRule.VOID:
                self._invitations.save(
                    invitation.void(at=at, reason="ticket reopened"),
                    expected_version=stored.version,
                )

    def _revisit_changed(self, change: DeskChange) -> None:
        task = change.subject
        state = getattr(task, "state", None)
        outcome = getattr(task, "outcome", None)
        task_id = getattr(task, "id", None)
        customer_id = getattr(task, "customer_id", None)
        if getattr(state, "value", state) != "done" or not getattr(outcome, "reached", False):
            return
        if not isinstance(task_id, str) or not isinstance(customer_id, str):
            return
        done_at = getattr(task, "done_at", None) or getattr(task, "completed_at", None)
        at = done_at if isinstance(done_at, datetime) else change.at
        existing = {s.value.policy for s in self._each("by_task", {"task_id": task_id})}
        customer = change.customer or self._customer(customer_id)
        facts = Facts(revisit=task, customer=customer, ticket=change.ticket)
        for policy in self._policies:
            if policy.name in existing or not policy.triggered_by(SurveyTrigger.REVISIT_DONE):
                continue
            if policy.condition.holds(facts):
                self._invite(
                    policy,
                    customer_id,
                    at,
                    ticket_id=change.ticket.id if change.ticket is not None else None,
                    task_id=task_id,
                    attribution=_task_attribution(task, at)
                    if policy.attribution is AttributionPoint.SOLVE
                    else None,
                )

    def _customer_changed(self, customer_id: str, at: datetime) -> None:
        if not self.desk.store.collection(ERASURES).get_many([customer_id]):
            return  # a withdrawn consent is read at send time
        for stored in self._each("by_customer", {"customer_id": customer_id}):
            if stored.value.open:
                self._invitations.save(
                    stored.value.void(at=at, reason="customer erased"),
                    expected_version=stored.version,
                )

    def _invite(
        self,
        policy: SurveyPolicy,
        customer_id: str,
        at: datetime,
        *,
        ticket_id: str | None = None,
        task_id: str | None = None,
        attribution: Attribution | None = None,
    ) -> Invitation:
        template = template_for(self._templates, policy.template, policy.template_version)
        send_at = at + policy.delay
        common: dict[str, Any] = {
            "id": self.desk.ids.new("inv"),
            "policy": policy.name,
            "template": template.key,
            "template_version": template.version,
            "kind": template.kind,
            "customer_id": customer_id,
            "ticket_id": ticket_id,
            "task_id": task_id,
            "at": at,
            "send_at": send_at,
        }
        throttle = policy.throttle
        sent = [
            (s.value.send_at, s.value.kind)
            for s in self._each(
                "by_customer",
                {"customer_id": customer_id},
                low=send_at - _THROTTLE_LOOKBACK,
            )
            if s.value.state not in (InvitationState.SUPPRESSED, InvitationState.VOIDED)
        ]
        if throttle_allows(throttle, template.kind, sent, send_at):
            invitation = Invitation.create(**common, expiry=policy.expiry, attribution=attribution)
        else:
            reason = f"throttled: {throttle.max_invitations} per {throttle.per_days} days" + (
                f" of kind {template.kind.value}" if throttle.per_kind else ""
            )
            invitation = Invitation.suppressed(**common, reason=reason)
        self._invitations.add(invitation)
        return invitation

    # -- sweeping ------------------------------------------------------------------------------

    def sweep(
        self, now: datetime, *, worker: str, batch: int, lease: timedelta
    ) -> Mapping[str, int]:
        """Send what is due, then the reminders, then the expiries, by ``now``; returns
        ``{"sent", "suppressed", "reminded", "expired", "failed", "unreadable"}`` counts
        (``failed``:
        a ``deliver`` that raised; the invitation waits for its lease to run out;
        ``unreadable``: a damaged stored invitation, skipped and left for repair)."""
        at = ensure_aware(now, "SurveyDesk.sweep", "now")
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1000:
            raise ValidationError.single(
                "SurveyDesk.sweep", "batch", f"expected an integer from 1 to 1000, got {batch!r}"
            )
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ValidationError.single(
                "SurveyDesk.sweep", "lease", f"expected a positive timedelta, got {lease!r}"
            )
        counts = {
            "sent": 0,
            "suppressed": 0,
            "reminded": 0,
            "expired": 0,
            "failed": 0,
            "unreadable": 0,
        }
        steps: tuple[
            tuple[str, Sequence[str], Callable[[Invitation, datetime], str | None]], ...
        ] = (
            ("due_send", (InvitationState.PENDING.value,), self._send),
            ("due_remind", (InvitationState.SENT.value,), self._remind),
            ("due_expire", _OPEN_VALUES, self._expire),
        )
        for query, states, step in steps:
            while True:
                unreadable: list[str] = []
                leased = self.desk.run_unit(
                    partial(
                        self._invitations.lease,
                        query,
                        where={"state": states},
                        high=at + _MICROSECOND,
                        until=at + lease,
                        limit=batch,
                        unreadable=unreadable,
                    )
                )
                # A damaged invitation is counted and left for repair; the rest go on.
                counts["unreadable"] += len(unreadable)
                if not leased and not unreadable:
                    break
                for stored in leased:
                    try:
                        done = self.desk.run_unit(partial(self._step, stored.value.id, step, at))
                    except _DeliveryError:
                        counts["failed"] += 1
                        continue
                    if done is not None:
                        counts[done] += 1
        return counts

    def _step(
        self, key: str, step: Callable[[Invitation, datetime], str | None], at: datetime
    ) -> str | None:
        # Read again inside the unit of work: another worker or an answer may have moved it.
        return step(self._invitations.get(key).value, at)

    def _call_deliver(self, invitation: Invitation, token: str, channel: str) -> None:
        if self._deliver is None:
            return
        try:
            self._deliver(invitation, token, channel)
        except Exception as exc:  # the app's callback: any failure leaves it unsent
            raise _DeliveryError(invitation.id) from exc

    def _send(self, invitation: Invitation, at: datetime) -> str | None:
        if invitation.state is not InvitationState.PENDING or invitation.send_at > at:
            return None
        if invitation.expired_by(at):
            return self._expire(invitation, at)
        policy = self._by_name.get(invitation.policy)
        customer = self._customer(invitation.customer_id)
        channel = None
        if policy is not None and customer is not None:
            channel = policy.first_channel(c for c in policy.channels if customer.contactable_on(c))
        if policy is None or channel is None:
            reason = (
                f"policy {invitation.policy!r} is no longer configured"
                if policy is None
                else "the customer consents to none of the channels " + ", ".join(policy.channels)
            )
            self._save_new(invitation, invitation.suppress(at=at, reason=reason))
            return "suppressed"
        token = new_token()
        sent = invitation.send(
            at=at,
            channel=channel,
            token_hash=token_hash(token),
            expiry=policy.expiry,
            reminder_after=policy.reminder_after,
        )
        # Credit at the send (a no-op when fixed at the solve already).
        sent = sent.attribute(self._attribution_at_send(sent, channel, at))
        self._save_new(invitation, sent)
        self._call_deliver(sent, token, channel)
        return "sent"

    def _remind(self, invitation: Invitation, at: datetime) -> str | None:
        if invitation.state is not InvitationState.SENT or invitation.remind_at is None:
            return None
        if invitation.remind_at > at:
            return None
        if invitation.expired_by(at):
            return self._expire(invitation, at)
        token = new_token()
        reminded = invitation.remind(at=at, token_hash=token_hash(token))
        self._save_new(invitation, reminded)
        assert reminded.channel is not None
        self._call_deliver(reminded, token, reminded.channel)
        return "reminded"

    def _expire(self, invitation: Invitation, at: datetime) -> str | None:
        if not invitation.expired_by(at):
            return None
        self._save_new(invitation, invitation.expire(at=at))
        return "expired"

    def _save_new(self, before: Invitation, after: Invitation) -> None:
        stored = self._invitations.get(before.id)
        self._invitations.save(after, expected_version=stored.version)

    def _attribution_at_send(
        self, invitation: Invitation, channel: str, at: datetime
    ) -> Attribution:
        if invitation.ticket_id is not None:
            try:
                ticket = self.desk.store.tickets.get(invitation.ticket_id).value
            except NotFoundError:
                ticket = None
            if ticket is not None:
                return _attribution_of(ticket, at)
        return Attribution(agent_id=None, group_id=None, channel=channel, recorded_at=at)

    # -- answering --------------------------------------------------------------------------------

    def answer(
        self, token: str, answers: Mapping[str, object], *, now: datetime | None = None
    ) -> SurveyResponse:
        """Record ``answers`` for the invitation holding ``token``; returns the response.

        Raises :class:`~csdomain.errors.InvitationTokenError` (reason ``unknown``,
        ``expired``, ``voided`` or ``used``) or
        :class:`~csdomain.errors.ValidationError` (the answers, against the
        invitation's template version); either way nothing is stored. A second answer
        within the policy's edit window replaces the answers of the same response
        (``edits`` one more on the invitation); never a second response.
        """
        at = self.desk.now() if now is None else ensure_aware(now, "SurveyDesk.answer", "now")
        if type(token) is not str or not 0 < len(token) <= TOKEN_TEXT_MAX:
            raise InvitationTokenError("unknown", detail="a token is text of 1 to 512 characters")
        digest = token_hash(token)
        return self.desk.run_unit(lambda: self._answer(token, digest, answers, at))

    def _answer(
        self, token: str, digest: str, answers: Mapping[str, object], at: datetime
    ) -> SurveyResponse:
        page = self._invitations.find("by_token", where={"token_hash": digest}, limit=1)
        found = [s for s in page.items if token_matches(token, s.value.token_hashes)]
        if not found:
            raise InvitationTokenError("unknown")
        stored = found[0]
        invitation = stored.value
        policy = self._by_name.get(invitation.policy)
        edit_window = policy.edit_window if policy is not None else None
        if invitation.state is InvitationState.VOIDED:
            raise InvitationTokenError("voided", invitation.id)
        if invitation.state is InvitationState.EXPIRED or (
            invitation.open and invitation.expired_by(at)
        ):
            raise InvitationTokenError("expired", invitation.id)
        if invitation.state is InvitationState.ANSWERED and not invitation.editable_at(
            at, edit_window
        ):
            detail = "" if edit_window is None else f"the edit window of {edit_window} has passed"
            raise InvitationTokenError("used", invitation.id, detail)
        if invitation.state not in (
            InvitationState.SENT,
            InvitationState.REMINDED,
            InvitationState.ANSWERED,
        ):
            raise InvitationTokenError("unknown")
        valid = validate_answers_for(
            self._known_templates(invitation),
            invitation.template,
            invitation.template_version,
            answers,
        )
        if invitation.state is InvitationState.ANSWERED:
            assert invitation.response_id is not None
            stored_response = self._responses.get(invitation.response_id)
            response = stored_response.value.edited(valid, at)
            self._responses.save(response, expected_version=stored_response.version)
            changed = invitation.edit(at=at, edit_window=edit_window)
        else:
            response = SurveyResponse(
                id=self.desk.ids.new("rsp"),
                invitation_id=invitation.id,
                template=invitation.template,
                template_version=invitation.template_version,
                kind=invitation.kind,
                customer_id=invitation.customer_id,
                ticket_id=invitation.ticket_id,
                task_id=invitation.task_id,
                answers=valid,
                answered_at=at,
                attribution=invitation.attribution,
                channel=invitation.channel,
            )
            self._responses.add(response)
            changed = invitation.answer(at=at, response_id=response.id)
        self._invitations.save(changed, expected_version=stored.version)
        ticket = self._ticket(invitation.ticket_id)
        self.desk.publish(
            DeskChange(
                source=self.name,
                at=at,
                ticket=ticket,
                customer_id=invitation.customer_id,
                events=changed.timeline[len(invitation.timeline) :],
                subject=response,
            )
        )
        if policy is not None and policy.reopen_when is not None and ticket is not None:
            customer = self._customer(invitation.customer_id)
            facts = Facts(survey=response, ticket=ticket, customer=customer)
            if ticket.status is Status.SOLVED and policy.reopen_when.holds(facts):
                self.desk.set_status(
                    ticket.id,
                    Status.OPEN,
                    actor=_SYSTEM,
                    reason=f"survey response {response.id} matched policy {policy.name!r}",
                )
        return response

    def _known_templates(self, invitation: Invitation) -> list[SurveyTemplate]:
        known = [t for t in self._templates if t.key == invitation.template]
        ref = f"{invitation.template}:{invitation.template_version}"
        if not any(t.storage_key == ref for t in known):
            stored = self.desk.store.collection(SURVEY_TEMPLATES).get_many([ref])
            known.extend(s.value for s in stored.values())
        return known

    # -- reading ---------------------------------------------------------------------------------

    def _customer(self, customer_id: str) -> Customer | None:
        found = self.desk.store.customers.get_many([customer_id]).get(customer_id)
        return None if found is None else found.value

    def _ticket(self, ticket_id: str | None) -> Ticket | None:
        if ticket_id is None:
            return None
        try:
            return self.desk.store.tickets.get(ticket_id).value
        except NotFoundError:
            return None

    def _each(
        self, query: str, where: Mapping[str, Any], *, low: object = None
    ) -> Iterator[Stored[Invitation]]:
        cursor: str | None = None
        while True:
            page = self._invitations.find(query, where=where, low=low, limit=_PAGE, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def invitation(self, invitation_id: str) -> Invitation:
        """The stored invitation ``invitation_id`` (``NotFoundError`` if none)."""
        return self._invitations.get(invitation_id).value

    def invitations_of(self, ticket_id: str) -> list[Invitation]:
        """The invitations that follow ticket ``ticket_id``, oldest first."""
        return [s.value for s in self._each("by_ticket", {"ticket_id": ticket_id})]

    def responses(
        self,
        low: datetime | None = None,
        high: datetime | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Stored[SurveyResponse]]:
        """A page of the responses answered in ``[low, high)``, by answer instant."""
        return self._responses.find("by_period", low=low, high=high, limit=limit, cursor=cursor)

    def response(self, response_id: str) -> SurveyResponse:
        """The stored response ``response_id`` (``NotFoundError`` if none)."""
        return self._responses.get(response_id).value

    def summary(
        self,
        low: datetime | None = None,
        high: datetime | None = None,
        *,
        ces_reporting: CesReporting = CesReporting.MEAN,
    ) -> SurveySummary:
        """The figures of the responses answered in ``[low, high)`` (read a page at a
        time): counts by kind, and the CSAT, NPS and CES scores of their answers."""
        scores: dict[QuestionKind, list[int]] = {
            QuestionKind.CSAT: [],
            QuestionKind.NPS: [],
            QuestionKind.CES: [],
        }
        by_kind: dict[SurveyKind, int] = {}
        total = 0
        cursor: str | None = None
        while True:
            page = self.responses(low, high, limit=_PAGE, cursor=cursor)
            for stored in page.items:
                response = stored.value
                total += 1
                by_kind[response.kind] = by_kind.get(response.kind, 0) + 1
                for kind, values in scores.items():
                    value = next(
                        (
                            a.score
                            for a in response.answers
                            if a.kind is kind and a.score is not None
                        ),
                        None,
                    )
                    if value is not None:
                        values.append(value)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        return SurveySummary(
            low=low,
            high=high,
            responses=total,
            by_kind=by_kind,
            csat=csat_score(scores[QuestionKind.CSAT]),
            nps=nps_score(scores[QuestionKind.NPS]),
            ces=ces_score(scores[QuestionKind.CES], ces_reporting),
        )


class _DeliveryError(Exception):
    """``deliver`` raised: the invitation's unit of work is undone (it stays due)."""


def _attribution_of(ticket: Ticket, at: datetime) -> Attribution:
    return Attribution(
        agent_id=ticket.assignee_id,
        group_id=ticket.group_id,
        channel=ticket.channel,
        recorded_at=at,
    )


def _task_attribution(task: object, at: datetime) -> Attribution | None:
    channel = getattr(task, "channel", None)
    if not isinstance(channel, str):
        return None  # fixed at the send, with the survey's channel
    agent = getattr(task, "assignee_id", None) or getattr(task, "agent_id", None)
    group = getattr(task, "group_id", None)
    return Attribution(
        agent_id=agent if isinstance(agent, str) else None,
        group_id=group if isinstance(group, str) else None,
        channel=channel,
        recorded_at=at,
    )
