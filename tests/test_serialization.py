"""JSON documents: round trips for every public type, and typed errors for bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import csdomain
from csdomain import (
    Actor,
    Customer,
    Purchase,
    Status,
    Ticket,
    TicketEvent,
    ValidationError,
    serialization,
)
from csdomain._kernel import codec
from csdomain.serialization import (
    DOCUMENT_TYPES,
    SCHEMA_VERSION,
    from_dict,
    from_json,
    json_backend,
    to_dict,
    to_json,
)
from csdomain.testing import strategies as cst

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _sla_setups() -> st.SearchStrategy[Any]:
    """Setups whose policies count in the calendars they name."""
    from csdomain.sla import SlaSetup

    calendars = cst.business_calendars().map(lambda c: attrs.evolve(c, name="cn-support"))
    policies = st.lists(
        cst.sla_policies(calendar_names=("cn-support",)), max_size=2, unique_by=lambda p: p.name
    )
    return st.builds(SlaSetup, policies, calendars.map(lambda c: [c]))


def _contact_rules() -> st.SearchStrategy[Any]:
    from csdomain.addresses import ContactRules

    return st.builds(ContactRules, st.booleans(), st.sampled_from([None, "CN", "US", "DE"]))


def _survey_choices() -> st.SearchStrategy[Any]:
    from csdomain.surveys import QuestionKind

    questions = cst.survey_questions(kinds=[QuestionKind.SINGLE_CHOICE])
    return questions.flatmap(lambda q: st.sampled_from(q.choices))


def _survey_answers() -> st.SearchStrategy[Any]:
    responses = cst.survey_responses().filter(lambda r: len(r.answers) > 0)
    return responses.flatmap(lambda r: st.sampled_from(r.answers))


def _erasures() -> st.SearchStrategy[Any]:
    from csdomain.storage.erasure import Erasure

    letters = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
    reasons = st.text(letters, min_size=1, max_size=20).filter(str.strip)
    return st.builds(
        Erasure, cst.ids(prefix="cus"), reasons, cst.aware_datetimes(), st.integers(0, 99)
    )


DOCUMENT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "ticket": cst.tickets(max_events=12),
    "ticket_event": cst.ticket_events(),
    "customer": cst.customers(),
    "contact_point": cst.contact_points(),
    "purchase": cst.purchases(),
    "agent": cst.agents(),
    "group": cst.groups(),
    "escalation_tier": cst.escalation_tiers(),
    "escalation_ladder": cst.escalation_ladders(),
    "channel": cst.channels(),
    "channel_traits": cst.channel_traits(),
    "channel_directory": cst.channel_directories(),
    "priority_matrix": cst.priority_matrices(),
    "holiday": cst.holidays(),
    "extra_workday": cst.extra_workdays(),
    "business_calendar": cst.business_calendars(),
    "calendar_union": cst.calendar_unions(),
    "actor": cst.actors(),
    "ticket_link": cst.ticket_links(),
    "condition": cst.conditions(),
    "sla_policy": cst.sla_policies(calendar_names=("cn-support", "us-east")),
    "metric_policy": cst.metric_policies(calendar_names=("cn-support",)),
    "sla_target": cst.sla_targets(calendar_names=("cn-support",)),
    "sla_setup": _sla_setups(),
    "contact_rules": _contact_rules(),
    "erasure": _erasures(),
    "sla_clock_state": cst.sla_clock_states(),
    "sla_cycle_state": cst.sla_cycle_states(),
    "escalation_trigger": cst.escalation_triggers(),
    "escalation_action": cst.escalation_actions(),
    "escalation_rule": cst.escalation_rules(),
    "triage_rule": cst.triage_rules(),
    "triage": cst.triages(),
    "assignment_policy": cst.assignment_policies(),
    "grade_rule": cst.grade_rules(),
    "round_robin_cursor": cst.round_robin_cursors(),
    "desk_setup": cst.desk_setups(),
    "ticket_schedule": cst.ticket_schedules(),
    "agent_presence": cst.agent_presences(),
    "revisit_recurrence": cst.recurrences(),
    "revisit_trigger": cst.revisit_triggers(),
    "revisit_retry_policy": cst.retry_policies(),
    "revisit_rule": cst.revisit_rules(),
    "rate_limit": cst.rate_limits(),
    "contact_window": cst.contact_windows(),
    "revisit_plan": cst.revisit_plans(),
    "revisit_task": cst.revisit_tasks(),
    "revisit.task_event": cst.revisit_task_events(),
    "survey_text": cst.localized_texts(),
    "survey_question": cst.survey_questions(),
    "survey_choice": _survey_choices(),
    "survey_template": cst.survey_templates(),
    "survey_throttle": cst.throttles(),
    "survey_policy": cst.survey_policies(),
    "survey_attribution": cst.attributions(),
    "survey_invitation": cst.survey_invitations(),
    "survey_invitation_event": cst.invitation_events(),
    "survey_response": cst.survey_responses(),
    "survey_answer": _survey_answers(),
    "ticket_summary": cst.ticket_summaries(),
    "kpi_definition": cst.kpi_definitions(),
}


def test_every_document_type_has_a_strategy_here() -> None:
    # csdomain's own types (tests elsewhere, and csdomain.testing, declare toy documents).
    import csdomain.storage.erasure  # noqa: F401  # declares its document when imported

    own = {
        n
        for n, cls in DOCUMENT_TYPES.items()
        if cls.__module__.startswith("csdomain.")
        and not cls.__module__.startswith("csdomain.testing")
    }
    assert set(DOCUMENT_STRATEGIES) == own


@given(st.sampled_from(sorted(DOCUMENT_STRATEGIES)).flatmap(lambda n: DOCUMENT_STRATEGIES[n]))
def test_json_round_trip_of_every_public_type(value: Any) -> None:
    text = to_json(value)
    assert from_json(text) == value
    assert from_json(text, type(value)) == value
    doc = json.loads(text)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert DOCUMENT_TYPES[doc["document"]] in type(value).__mro__
    assert from_dict(to_dict(value)) == value


@given(cst.sla_policies(calendar_names=("cn-support", "香港 office")))
def test_json_round_trip_of_sla_policies(policy: csdomain.SlaPolicy) -> None:
    text = to_json(policy)
    assert from_json(text, csdomain.SlaPolicy) == policy
    assert to_json(from_json(text)) == text
    doc = json.loads(text)
    assert doc["document"] == "sla_policy"
    for rules, metric_doc in zip(policy.metrics, doc["metrics"], strict=True):
        assert set(metric_doc["targets"]) == {p.value for p in rules.targets}


@given(cst.tickets(max_events=15))
def test_documents_are_deterministic_and_json_libraries_agree(ticket: Ticket) -> None:
    text = to_json(ticket)
    assert to_json(from_json(text)) == text  # dump(load(dump(x))) == dump(x)
    pretty = to_json(ticket, indent=2)  # always the stdlib encoder
    assert json.loads(pretty) == json.loads(text)


def test_stdlib_and_orjson_write_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("orjson")
    ticket = _sample_ticket()
    fast = to_json(ticket)
    monkeypatch.setattr(codec, "_orjson", None)
    assert json_backend() == "json"
    assert to_json(ticket) == fast
    assert from_json(fast) == ticket


@given(st.sampled_from(sorted(DOCUMENT_STRATEGIES)).flatmap(lambda n: DOCUMENT_STRATEGIES[n]))
def test_stdlib_and_orjson_documents_are_equivalent(value: Any) -> None:
    pytest.importorskip("orjson")
    fast = to_json(value)
    original = codec._orjson
    try:
        codec._orjson = None
        slow = to_json(value)
    finally:
        codec._orjson = original
    assert json.loads(fast) == json.loads(slow) == json.loads(json.dumps(to_dict(value)))


@settings(max_examples=40, deadline=None)
@given(cst.tickets(max_events=10))
def test_ticket_json_parts_are_the_document_and_its_events(ticket: Ticket) -> None:
    # Storage writes the document and, again, each event to its outbox.
    texts = []
    original = codec._orjson
    for backend in (original, None):
        codec._orjson = backend
        try:
            text, events = serialization.ticket_json_and_events(ticket)
            same_backend = to_json(ticket)
        finally:
            codec._orjson = original
        assert text == same_backend
        assert [json.loads(e) for e in events] == json.loads(text)["timeline"]
        texts.append((text, events))
    # orjson and the stdlib write the same JSON values (floats may be spelled differently:
    # orjson writes 0.00006103515625 where json writes 6.103515625e-05).
    assert [json.loads(t) for t, _ in texts] == [json.loads(texts[0][0])] * 2


def _sample_ticket() -> Ticket:
    ticket = Ticket.open(
        id="tkt_1",
        customer_id="cus_1",
        channel="email",
        subject='退款 "refund" 🙂',
        at=T0,
        description="Line1\nLine2 ' OR 1=1; --",
        custom_fields={"order": "8812", "amount": 12.5, "gift": False, "note": None},
    )
    ticket = ticket.add_message(
        at=T0 + timedelta(minutes=3),
        actor=Actor.agent("agt_1"),
        body="ok",
        handle_time=timedelta(seconds=95, microseconds=250_000),
    )
    return ticket.change_status(
        Status.SOLVED, at=T0 + timedelta(hours=1), actor=Actor.agent("agt_1")
    )


def test_document_shape() -> None:
    doc = to_dict(_sample_ticket())
    assert list(doc)[:3] == ["schema_version", "document", "id"]
    assert doc["created_at"] == "2026-11-23T09:00:00+00:00"
    assert doc["timeline"][0]["type"] == "created"
    assert doc["timeline"][2]["handle_time"] == 95.25
    assert doc["status"] == "solved"
    customer = Customer(
        id="cus_1",
        display_name="A",
        segments={"b", "a"},
        purchases=[
            Purchase(
                order_id="o1", amount=Decimal("12.50"), currency="CNY", purchased_at=T0, product="K"
            )
        ],
    )
    cdoc = to_dict(customer)
    assert cdoc["segments"] == ["a", "b"]
    assert cdoc["purchases"][0]["amount"] == "12.50"


def test_rfc3339_z_suffix_is_accepted() -> None:
    doc = to_dict(Actor.agent("agt_1"))
    assert from_dict(doc) == Actor.agent("agt_1")
    tdoc = to_dict(_sample_ticket())
    tdoc["timeline"][0]["at"] = "2026-11-23T09:00:00Z"
    assert from_dict(tdoc, Ticket) == _sample_ticket()


def _errors(text: str | bytes, cls: type | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        from_json(text, cls)
    return dict(info.value.problems)


def test_malformed_and_truncated_json() -> None:
    text = to_json(_sample_ticket())
    assert "malformed JSON" in _errors(text[: len(text) // 2])[""]
    assert "malformed JSON" in _errors("")[""]
    assert "expected a JSON object" in _errors("[1, 2]")[""]
    assert "expected JSON text" in _errors(12)[""]  # type: ignore[arg-type]


def test_envelope_errors() -> None:
    doc = to_dict(_sample_ticket())
    newer = {**doc, "schema_version": SCHEMA_VERSION + 1}
    assert "upgrade csdomain" in _errors(json.dumps(newer))["schema_version"]
    assert "schema_version" in _errors(
        json.dumps({k: v for k, v in doc.items() if k != "schema_version"})
    )
    assert "'customer'" in _errors(json.dumps(doc), Customer)["document"]
    assert "document" in _errors(json.dumps({**doc, "document": "invoice"}))
    with pytest.raises(ValidationError, match="not a csdomain document type"):
        to_dict(object())


def test_every_bad_path_is_listed() -> None:
    doc = {
        "schema_version": 1,
        "document": "customer",
        "id": 5,
        "display_name": "A",
        "tier": "gold",
        "contact_points": [{"channel": "email"}],
        "purchases": [
            {
                "order_id": "o",
                "amount": 1.5,
                "currency": "CNY",
                "purchased_at": "2026-01-01T00:00:00",
                "product": "p",
            }
        ],
        "attributes": {"x": [1]},
    }
    found = _errors(json.dumps(doc))
    assert set(found) == {
        "id",
        "tier",
        "contact_points[0].address",
        "purchases[0].amount",
        "purchases[0].purchased_at",
        "attributes['x']",
    }
    assert found["contact_points[0].address"] == "required field missing"
    assert (
        "naive" in found["purchases[0].purchased_at"]
        or "offset" in found["purchases[0].purchased_at"]
    )
    assert "'gold'" in found["tier"]


def test_value_checks_apply_after_types() -> None:
    doc = {"schema_version": 1, "document": "customer", "id": "c", "display_name": "  "}
    assert "empty" in _errors(json.dumps(doc))["display_name"]


def test_strict_scalars_no_silent_coercion() -> None:
    doc = to_dict(csdomain.ContactPoint(channel="sms", address="1"))
    for field, bad in [("verified", "false"), ("address", 5), ("channel", None)]:
        assert field in _errors(json.dumps({**doc, field: bad}))


def test_ticket_document_errors_point_into_the_timeline() -> None:
    doc = to_dict(_sample_ticket())
    doc["timeline"][1]["type"] = "mystery"
    doc["timeline"][2]["at"] = "yesterday"
    found = _errors(json.dumps(doc))
    assert "unknown event type 'mystery'" in found["timeline[1]"]
    assert "RFC 3339" in found["timeline[2].at"]


def test_ticket_state_must_agree_with_its_timeline() -> None:
    doc = to_dict(_sample_ticket())
    doc["status"] = "open"
    found = _errors(json.dumps(doc))
    assert "timeline gives 'solved'" in found["status"]
    doc = to_dict(_sample_ticket())
    doc["timeline"].append(
        {
            "type": "status_changed",
            "at": "2026-11-23T11:00:00+00:00",
            "actor": {"kind": "system", "id": None},
            "old": "open",
            "new": "closed",
            "reason": None,
        }
    )
    assert "timeline[5]" in _errors(json.dumps(doc))
    doc = to_dict(_sample_ticket())
    del doc["timeline"]
    assert _errors(json.dumps(doc))["timeline"] == "required field missing"


def test_event_documents_load_as_their_own_type() -> None:
    event = _sample_ticket().timeline[2]
    assert from_json(to_json(event), TicketEvent) == event
    assert from_json(to_json(event), type(event)) == event
    with pytest.raises(ValidationError):
        from_json(to_json(event), csdomain.StatusChanged)


def test_converter_is_reusable_by_apps() -> None:
    converter = serialization.make_converter()
    raw = converter.unstructure(_sample_ticket())
    assert converter.structure(raw, Ticket) == _sample_ticket()
    assert "Decimal" in (serialization.configure_converter.__doc__ or "")


# -- the generated loaders (serialization._fast) --------------------------------------

_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.sampled_from(
            ["", " ", "x" * 70, "a\x00b", "open", "closed", "public", "internal", "email"]
        ),
        st.sampled_from(["2026-11-23T09:00:00+00:00", "2026-11-23T09:00:00+08:00"]),
        st.sampled_from(["2026-11-23T09:00:00", "2026-11-23 09:00:00+00:00", "+00:00"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)


def _slow_event(doc: dict[str, Any]) -> Any:
    """The event as cattrs' generic path and attrs' __init__ build it (raising if refused)."""
    import cattrs

    converter = serialization._converter(False)
    cls = csdomain.tickets.EVENT_TYPES[doc["type"]]
    return cattrs.gen.make_dict_structure_fn(cls, converter)(doc, cls)


def _fast_event(doc: dict[str, Any]) -> Any:
    from csdomain.serialization._fast import event_loader

    cls = csdomain.tickets.EVENT_TYPES[doc["type"]]
    loader = event_loader(cls, serialization._converter(False).get_structure_hook)
    assert loader is not None, cls
    return loader(doc)


@given(cst.tickets(max_events=12))
def test_generated_loaders_load_every_event_to_dict_writes(ticket: Ticket) -> None:
    # Not a silent fallback: every event a document holds is built by its loader.
    for event, doc in zip(ticket.timeline, to_dict(ticket)["timeline"], strict=True):
        loaded = _fast_event(doc)
        assert loaded == event
        assert type(loaded) is type(event)


@settings(max_examples=300, deadline=None)
@given(cst.tickets(max_events=4), st.data())
def test_generated_loaders_accept_only_what_the_converter_accepts(
    ticket: Ticket, data: st.DataObject
) -> None:
    # One field of one event replaced by any JSON value (or removed): whatever the
    # loader builds, the converter's path builds too, equal; anything else the loader
    # leaves to that path (None).
    docs = to_dict(ticket)["timeline"]
    doc = dict(data.draw(st.sampled_from(docs)))
    name = data.draw(st.sampled_from(sorted(k for k in doc if k != "type")))
    if data.draw(st.booleans()):
        del doc[name]
    else:
        doc[name] = data.draw(_json_values)
    fast = _fast_event(doc)
    if fast is None:
        return
    assert _slow_event(doc) == fast


def test_a_refused_event_is_reported_with_its_path_on_both_json_backends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = to_dict(_sample_ticket())
    doc["timeline"][1]["body"] = 5
    doc["timeline"][1]["at"] = "2026-11-23T09:00:00"
    for backend in (codec._orjson, None):
        monkeypatch.setattr(codec, "_orjson", backend)
        found = _errors(json.dumps(doc))
        assert "expected text" in found["timeline[1].body"]
        assert "no UTC offset" in found["timeline[1].at"]


def test_loading_on_the_stdlib_path_gives_the_same_ticket(monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = _sample_ticket()
    text = to_json(ticket)
    monkeypatch.setattr(codec, "_orjson", None)
    assert from_json(text) == ticket
    assert from_json(text.encode()) == ticket


def test_timestamps_in_other_offsets_take_the_converters_path() -> None:
    ticket = _sample_ticket()
    doc = to_dict(ticket)
    doc["timeline"][0]["at"] = "2026-11-23T17:00:00+08:00"  # the same instant
    assert _fast_event(doc["timeline"][0]) is None
    assert from_dict(doc) == ticket


def test_state_fields_are_compared_exactly_as_written() -> None:
    doc = to_dict(_sample_ticket())
    doc["created_at"] = doc["created_at"].replace("+00:00", "Z")
    assert "timeline gives" in _errors(json.dumps(doc))["created_at"]


def test_isoformat_through_orjson_is_datetime_isoformat() -> None:
    for value in (
        datetime(5, 1, 1, tzinfo=timezone.utc),
        datetime(2026, 11, 23, 9, 0, 0, 5, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    ):
        assert codec.isoformat(value) == value.isoformat()


def test_check_types_and_shapes_are_what_ok_accepts() -> None:
    from csdomain._kernel import validation as v

    samples: list[object] = [
        None, True, 1, 1.5, "a", "tag-1", "", v.__name__, Status.OPEN, frozenset({"a"}),
        frozenset({1}), ("a",), {"a": 1}, {"a": object()}, {1: 1}, timedelta(1), T0,
    ]  # fmt: skip
    checks = [
        v.text(), v.key(), v.optional(v.key()), v.member_of(Status), v.boolean,
        v.integer(), v.duration(), v.calendar_date, v.json_scalars, v.tags_check,
    ]  # fmt: skip
    for check in checks:
        for value in samples:
            if check.ok(value):
                assert check.types is None or type(value) in check.types, (check, value)
    assert v.json_scalars.ok({"a": 1}) and not v.json_scalars.ok({"a": object()})
    assert v.tags_check.ok(frozenset({"a"})) and not v.tags_check.ok(frozenset({1}))


def test_inlined_checks_are_the_checks_ok() -> None:
    from csdomain._kernel import validation as v

    for check in (v.text(max_length=3), v.optional(v.key()), v.duration(allow_zero=False)):
        code, names = v.inline(check, "x", "_p_")
        inlined = eval(f"lambda x: {code}", names)
        for value in (None, "", "ab", "abcd", " ", "a b", timedelta(0), timedelta(1)):
            assert bool(inlined(value)) == bool(check.ok(value)), (code, value)


def test_every_state_field_is_compared_with_the_replay() -> None:
    changes: dict[str, Any] = {
        "id": "tkt_2",
        "kind": "incident",
        "subject": "other",
        "customer_id": "cus_2",
        "channel": "phone_hotline",
        "priority": "urgent",
        "status": "closed",
        "group_id": "grp_9",
        "assignee_id": "agt_9",
        "tier": "L3",
        "tags": ["other"],
        "custom_fields": {"other": 1},
        "links": [{"kind": "related", "ticket_id": "tkt_9"}],
        "created_at": "2026-11-23T08:00:00+00:00",
        "updated_at": "2026-11-23T08:00:00+00:00",
    }
    assert set(changes) == set(csdomain.tickets.STATE_FIELDS)
    for name, value in changes.items():
        doc = to_dict(_sample_ticket())
        assert doc[name] != value
        doc[name] = value
        assert "timeline gives" in _errors(json.dumps(doc))[name], name


def test_backends_agree_on_values_when_they_spell_a_float_differently() -> None:
    """orjson writes 1.192092896e-7 where json writes 1.192092896e-07: the same value."""
    ticket = Ticket.open(
        id="tkt_1",
        customer_id="cus_1",
        channel="email",
        subject="S",
        at=T0,
        custom_fields={"vip": 1.192092896e-07},
    )
    original = codec._orjson
    texts = []
    for backend in (original, None):
        codec._orjson = backend
        try:
            texts.append(serialization.ticket_json_and_events(ticket)[0])
            assert texts[-1] == to_json(ticket)
            assert from_json(texts[-1], Ticket) == ticket
        finally:
            codec._orjson = original
    assert json.loads(texts[0]) == json.loads(texts[1])


# -- tickets stored as event rows ------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(cst.tickets(max_events=12))
def test_a_ticket_loads_back_from_its_event_texts(ticket: Ticket) -> None:
    texts = serialization.events_json(ticket.timeline)
    assert texts == serialization.ticket_json_and_events(ticket)[1]
    assert serialization.ticket_from_events_json(texts) == ticket
    assert serialization.ticket_from_events_json(texts, key=ticket.id) == ticket


def test_event_texts_are_the_timeline_as_to_json_writes_it() -> None:
    ticket = _sample_ticket()
    texts = serialization.events_json(ticket.timeline)
    assert [json.loads(t) for t in texts] == json.loads(to_json(ticket))["timeline"]
    assert serialization.events_json(ticket.timeline[1:2]) == texts[1:2]
    assert serialization.events_json([]) == []


def test_a_bad_event_text_is_named_by_its_index() -> None:
    texts = serialization.events_json(_sample_ticket().timeline)
    for bad, path, words in [
        ('{"type":"message"', "timeline[1]", "malformed JSON"),
        (texts[1] + "," + texts[2], "timeline[1]", "malformed JSON"),  # two values in one
        ("", "timeline[1]", "malformed JSON"),
        ('{"type":"message"}', "timeline[1].body", "required field missing"),
        ("[]", "timeline[1]", "expected an event object"),
    ]:
        with pytest.raises(ValidationError) as info:
            serialization.ticket_from_events_json([texts[0], bad, *texts[2:]], key="tkt_1")
        found = dict(info.value.problems)
        assert words in found[path], (bad, found)
        assert info.value.subject == "Ticket 'tkt_1'"
    with pytest.raises(ValidationError, match="non-empty"):
        serialization.ticket_from_events_json([])
    with pytest.raises(ValidationError, match=r"timeline\[0\]"):
        serialization.ticket_from_events_json([b"{}"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="expected a TicketEvent"):
        serialization.events_json(["created"])  # type: ignore[list-item]
