"""The storage collections of surveys, declared as data beside the engine.

* :data:`SURVEY_TEMPLATES` (``survey_templates``): templates keyed
  ``"key:version"`` (:attr:`~csdomain.surveys.SurveyTemplate.storage_key`);
  query ``by_key`` (one key's versions, by version).
* :data:`INVITATIONS` (``survey_invitations``): invitations by id; the token
  hash column holds every digest an invitation was sent with and is unique, so
  a token finds at most one invitation (query ``by_token``). ``due_send``,
  ``due_remind`` and ``due_expire`` serve the sweep (state, then the instant);
  ``by_ticket`` and ``by_customer`` (by creation) serve the desk and the throttle.
* :data:`RESPONSES` (``survey_responses``): responses by id; ``by_period``
  (by answer instant), ``by_template`` and ``by_ticket``; the attribution's
  agent, group and channel are columns for reports.
"""

from __future__ import annotations

from typing import Final

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain.surveys.invitations import Invitation
from csdomain.surveys.responses import SurveyResponse
from csdomain.surveys.templates import SurveyTemplate

__all__ = ["INVITATIONS", "RESPONSES", "SURVEY_TEMPLATES"]

_TEXT, _INSTANT, _INTEGER = ColumnType.TEXT, ColumnType.INSTANT, ColumnType.INTEGER

#: Survey templates, one record per version, keyed ``"key:version"``.
SURVEY_TEMPLATES: Final = declare_collection(
    Collection(
        "survey_templates",
        "survey template",
        SurveyTemplate,
        key_of=lambda template: template.storage_key,
        columns=[Column("template_key", _TEXT), Column("template_version", _INTEGER)],
        queries=[Query("by_key", where=["template_key"], order="template_version")],
        columns_of=lambda t: {"template_key": t.key, "template_version": t.version},
    )
)

#: Survey invitations, keyed by id.
INVITATIONS: Final = declare_collection(
    Collection(
        "survey_invitations",
        "survey invitation",
        Invitation,
        key_of=lambda invitation: invitation.id,
        columns=[
            Column("state", _TEXT),
            Column("send_at", _INSTANT),
            Column("remind_at", _INSTANT),
            Column("expires_at", _INSTANT),
            Column("created_at", _INSTANT),
            Column("token_hash", _TEXT, unique=True, multiple=True),
            Column("customer_id", _TEXT),
            Column("ticket_id", _TEXT),
            Column("task_id", _TEXT),
            Column("policy", _TEXT),
            Column("kind", _TEXT),
        ],
        queries=[
            Query("due_send", where=["state"], order="send_at"),
            Query("due_remind", where=["state"], order="remind_at"),
            Query("due_expire", where=["state"], order="expires_at"),
            Query("by_token", where=["token_hash"]),
            Query("by_ticket", where=["ticket_id"], order="created_at"),
            Query("by_task", where=["task_id"], order="created_at"),
            Query("by_customer", where=["customer_id"], order="created_at"),
        ],
        columns_of=lambda i: {
            "state": i.state,
            "send_at": i.send_at,
            "remind_at": i.remind_at,
            "expires_at": i.expires_at,
            "created_at": i.created_at,
            "token_hash": frozenset(i.token_hashes),
            "customer_id": i.customer_id,
            "ticket_id": i.ticket_id,
            "task_id": i.task_id,
            "policy": i.policy,
            "kind": i.kind,
        },
    )
)

#: Survey responses, keyed by id.
RESPONSES: Final = declare_collection(
    Collection(
        "survey_responses",
        "survey response",
        SurveyResponse,
        key_of=lambda response: response.id,
        columns=[
            Column("answered_at", _INSTANT),
            Column("template", _TEXT),
            Column("kind", _TEXT),
            Column("agent_id", _TEXT),
            Column("group_id", _TEXT),
            Column("channel", _TEXT),
            Column("customer_id", _TEXT),
            Column("ticket_id", _TEXT),
            Column("invitation_id", _TEXT),
        ],
        queries=[
            Query("by_period", order="answered_at"),
            Query("by_template", where=["template"], order="answered_at"),
            Query("by_ticket", where=["ticket_id"], order="answered_at"),
            Query("by_customer", where=["customer_id"], order="answered_at"),
            Query("by_invitation", where=["invitation_id"]),
        ],
        columns_of=lambda r: {
            "answered_at": r.answered_at,
            "template": r.template,
            "kind": r.kind,
            "agent_id": None if r.attribution is None else r.attribution.agent_id,
            "group_id": None if r.attribution is None else r.attribution.group_id,
            "channel": r.channel,
            "customer_id": r.customer_id,
            "ticket_id": r.ticket_id,
            "invitation_id": r.invitation_id,
        },
    )
)
