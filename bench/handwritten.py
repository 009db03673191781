"""Hand-written dict code for csdomain tickets: the baseline of the benchmarks.

What a careful developer writes without a serialization framework: the same
JSON document as csdomain's (envelope, state fields, timeline tagged by
``type``), and on load the csdomain constructors, which check every field, and
``Ticket(timeline=...)``, which replays the status machine. Shared by
``bench/serialization.py`` and ``bench/storage.py`` so both measure the same
baseline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from csdomain import (
    Actor,
    ActorKind,
    Assigned,
    CustomFieldsChanged,
    Linked,
    LinkKind,
    MessageAdded,
    Priority,
    PriorityChanged,
    Status,
    StatusChanged,
    TagsChanged,
    Ticket,
    TicketCreated,
    TicketEvent,
    TicketKind,
    TicketLink,
    TierChanged,
    Visibility,
)

__all__ = ["event_doc", "ticket_doc", "ticket_from_doc"]


def _actor_doc(a: Actor) -> dict[str, Any]:
    return {"kind": a.kind.value, "id": a.id}


def _link_doc(link: TicketLink) -> dict[str, Any]:
    return {"kind": link.kind.value, "ticket_id": link.ticket_id}


def _duration_doc(d: timedelta | None) -> float | int | None:
    if d is None:
        return None
    return d.total_seconds() if d.microseconds else d.days * 86_400 + d.seconds


def event_doc(e: TicketEvent) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": e.type_name,
        "at": e.at.isoformat(),
        "actor": _actor_doc(e.actor),
    }
    cls = type(e)
    if cls is MessageAdded:
        doc["visibility"] = e.visibility.value
        doc["channel"] = e.channel
        doc["body"] = e.body
        doc["handle_time"] = _duration_doc(e.handle_time)
    elif cls is StatusChanged:
        doc["old"] = e.old.value
        doc["new"] = e.new.value
        doc["reason"] = e.reason
    elif cls is TicketCreated:
        doc["ticket_id"] = e.ticket_id
        doc["kind"] = e.kind.value
        doc["subject"] = e.subject
        doc["customer_id"] = e.customer_id
        doc["channel"] = e.channel
        doc["priority"] = e.priority.value
        doc["status"] = e.status.value
        doc["group_id"] = e.group_id
        doc["assignee_id"] = e.assignee_id
        doc["tier"] = e.tier
        doc["tags"] = sorted(e.tags)
        doc["custom_fields"] = dict(e.custom_fields)
        doc["links"] = [_link_doc(link) for link in e.links]
    elif cls is PriorityChanged:
        doc["old"] = e.old.value
        doc["new"] = e.new.value
    elif cls is Assigned:
        doc["old_group_id"] = e.old_group_id
        doc["group_id"] = e.group_id
        doc["old_assignee_id"] = e.old_assignee_id
        doc["assignee_id"] = e.assignee_id
    elif cls is TierChanged:
        doc["old"] = e.old
        doc["new"] = e.new
        doc["reason"] = e.reason
    elif cls is TagsChanged:
        doc["added"] = sorted(e.added)
        doc["removed"] = sorted(e.removed)
    elif cls is CustomFieldsChanged:
        doc["values"] = dict(e.values)
        doc["unset"] = sorted(e.unset)
    elif cls is Linked:
        doc["link"] = _link_doc(e.link)
    else:  # pragma: no cover - every event type is listed above
        raise TypeError(f"unknown event {e!r}")
    return doc


def _state_doc(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind.value,
        "subject": t.subject,
        "customer_id": t.customer_id,
        "channel": t.channel,
        "priority": t.priority.value,
        "status": t.status.value,
        "group_id": t.group_id,
        "assignee_id": t.assignee_id,
        "tier": t.tier,
        "tags": sorted(t.tags),
        "custom_fields": dict(t.custom_fields),
        "links": [_link_doc(link) for link in t.links],
        "created_at": t.created_at.isoformat(),
        "updated_at": t.updated_at.isoformat(),
    }


def ticket_doc(t: Ticket) -> dict[str, Any]:
    """The ticket document, written by hand."""
    doc: dict[str, Any] = {"schema_version": 1, "document": "ticket"}
    doc.update(_state_doc(t))
    doc["timeline"] = [event_doc(e) for e in t.timeline]
    return doc


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.utcoffset() is None:
        raise ValueError(f"naive timestamp {text!r}")
    return value


def _actor(d: dict[str, Any]) -> Actor:
    return Actor(ActorKind(d["kind"]), d["id"])


def _link(d: dict[str, Any]) -> TicketLink:
    return TicketLink(LinkKind(d["kind"]), d["ticket_id"])


def _event(d: dict[str, Any]) -> TicketEvent:
    tag = d["type"]
    at = _aware(d["at"])
    actor = _actor(d["actor"])
    if tag == "message":
        ht = d["handle_time"]
        return MessageAdded(
            at=at,
            actor=actor,
            visibility=Visibility(d["visibility"]),
            channel=d["channel"],
            body=d["body"],
            handle_time=None if ht is None else timedelta(seconds=ht),
        )
    if tag == "status_changed":
        return StatusChanged(
            at=at, actor=actor, old=Status(d["old"]), new=Status(d["new"]), reason=d["reason"]
        )
    if tag == "created":
        return TicketCreated(
            at=at,
            actor=actor,
            ticket_id=d["ticket_id"],
            kind=TicketKind(d["kind"]),
            subject=d["subject"],
            customer_id=d["customer_id"],
            channel=d["channel"],
            priority=Priority(d["priority"]),
            status=Status(d["status"]),
            group_id=d["group_id"],
            assignee_id=d["assignee_id"],
            tier=d["tier"],
            tags=frozenset(d["tags"]),
            custom_fields=d["custom_fields"],
            links=tuple(_link(x) for x in d["links"]),
        )
    if tag == "priority_changed":
        return PriorityChanged(at=at, actor=actor, old=Priority(d["old"]), new=Priority(d["new"]))
    if tag == "assigned":
        return Assigned(
            at=at,
            actor=actor,
            old_group_id=d["old_group_id"],
            group_id=d["group_id"],
            old_assignee_id=d["old_assignee_id"],
            assignee_id=d["assignee_id"],
        )
    if tag == "tier_changed":
        return TierChanged(at=at, actor=actor, old=d["old"], new=d["new"], reason=d["reason"])
    if tag == "tags_changed":
        return TagsChanged(
            at=at, actor=actor, added=frozenset(d["added"]), removed=frozenset(d["removed"])
        )
    if tag == "custom_fields_changed":
        return CustomFieldsChanged(
            at=at, actor=actor, values=d["values"], unset=frozenset(d["unset"])
        )
    if tag == "linked":
        return Linked(at=at, actor=actor, link=_link(d["link"]))
    raise ValueError(f"unknown event type {tag!r}")


def ticket_from_doc(doc: dict[str, Any]) -> Ticket:
    """A ticket from its document, read by hand (the constructors check and replay)."""
    if doc.get("schema_version") != 1 or doc.get("document") != "ticket":
        raise ValueError("not a version 1 ticket document")
    ticket = Ticket(timeline=tuple(_event(e) for e in doc["timeline"]))
    state = _state_doc(ticket)
    if any(doc[k] != v for k, v in state.items() if k in doc):
        raise ValueError("the document's state fields disagree with its timeline")
    return ticket
