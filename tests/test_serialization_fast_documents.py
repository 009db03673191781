"""Generated loaders and dumpers of plain attrs documents (``serialization._fast``).

Every attrs class of plain document shape (text, integers, booleans, enums,
datetimes, optionals, tuples, nested attrs classes; checked or not) is loaded by a
generated loader and written by a generated dumper: the SLA clock states
(``Checked``) and the desk's ticket schedules (plain attrs) among them. The
loader is an optimistic shortcut: whatever it builds, the converter's own path
(cattrs' functions and the classes' ``__init__``) builds too, equal; anything
else goes to that path, which loads it or reports every problem exactly as it
did before. The properties compare each public entry point with a *reference*
path: the same converters configured without the generated document functions.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from csdomain import ValidationError, serialization
from csdomain._kernel import codec
from csdomain._kernel.validation import Checked, checked, instant, integer, key
from csdomain.escalation import Action, EscalationRule, Trigger
from csdomain.helpdesk.schedule import TicketSchedule
from csdomain.routing import Triage, TriageRule
from csdomain.serialization import DOCUMENT_TYPES, from_dict, from_json, to_dict, to_json
from csdomain.serialization._fast import FastHook, plain_document_class
from csdomain.sla import CycleState, SlaClockState, SlaMetric
from csdomain.testing import strategies as cst
from csdomain.testing.strategies.registry import strategy_for

try:
    import orjson
except ImportError:  # pragma: no cover - the fast extra is absent
    orjson = None  # type: ignore[assignment, unused-ignore]


def _reference_converter(*, detailed: bool = False, orjson_native: bool = False) -> Any:
    """A converter configured as serialization's own, without generated document hooks."""
    generated = serialization._configure_documents
    serialization._configure_documents = lambda converter: None  # type: ignore[assignment]
    try:
        return serialization.make_converter(
            detailed_validation=detailed, orjson_native=orjson_native
        )
    finally:
        serialization._configure_documents = generated  # type: ignore[assignment]


_REFERENCE = {
    (False, False): _reference_converter(),
    (True, False): _reference_converter(detailed=True),
    (False, True): _reference_converter(orjson_native=True),
}


@contextmanager
def reference_path() -> Iterator[None]:
    """to_json/from_json/to_dict/from_dict on the reference converters meanwhile."""
    saved = serialization._converter

    def converter(detailed: bool, orjson_native: bool = False) -> Any:
        return _REFERENCE[(detailed, orjson_native)]

    serialization._converter = converter  # type: ignore[assignment]
    try:
        yield
    finally:
        serialization._converter = saved


@contextmanager
def using_stdlib_json() -> Iterator[None]:
    saved = codec._orjson
    codec._orjson = None
    try:
        yield
    finally:
        codec._orjson = saved


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call gives: the value (with its exact type), or the error's whole report."""
    try:
        value = call()
    except ValidationError as exc:
        problems = [(p.path, p.message) for p in exc.problems]
        return ("refused", exc.subject, problems, exc.problem_count)
    return ("loaded", type(value), value)


def both_paths(call: Callable[[], Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    with reference_path():
        expected = outcome(call)
    return outcome(call), expected


def documents() -> st.SearchStrategy[Any]:
    return st.one_of(
        cst.sla_cycle_states(max_events=12),
        cst.sla_clock_states(max_events=12, max_policies=2),
        cst.ticket_schedules(max_events=10),
    )


def body_of(text: str) -> dict[str, Any]:
    doc = codec.loads(text, subject="test")
    del doc["schema_version"], doc["document"]
    return dict(doc)


# -- which classes ---------------------------------------------------------------------


def test_the_clock_states_and_the_schedules_get_generated_loaders_and_dumpers() -> None:
    converter = serialization._converter(False)
    for cls in (CycleState, SlaClockState, TicketSchedule):
        assert plain_document_class(cls)
        assert isinstance(converter.get_structure_hook(cls), FastHook)
        assert serialization._fast.is_class_dumper(converter.get_unstructure_hook(cls), cls)


def test_custom_hooks_keep_precedence_over_the_generated_ones() -> None:
    # Events and conditions are tagged unions; actors share equal instances; tickets
    # replay their timeline: their own hooks stay, though their classes are attrs.
    converter = serialization._converter(False)
    for name in ("ticket_event", "condition", "actor", "ticket"):
        assert not isinstance(converter.get_structure_hook(DOCUMENT_TYPES[name]), FastHook)


def test_the_detailed_converter_explains_on_cattrs_own_path() -> None:
    detailed = serialization._converter(True)
    assert not isinstance(detailed.get_structure_hook(SlaClockState), FastHook)


_STRICT = cattrs.Converter(forbid_extra_keys=True, prefer_attrib_converters=False)
serialization.configure_converter(_STRICT)


@settings(max_examples=5)
@given(cst.sla_cycle_states(max_events=6))
def test_a_converter_with_other_attrs_options_keeps_cattrs_functions(cycle: CycleState) -> None:
    assert not isinstance(_STRICT.get_structure_hook(CycleState), FastHook)
    doc = json.loads(to_json(cycle))
    del doc["schema_version"], doc["document"]
    assert _STRICT.structure(doc, CycleState) == cycle
    with pytest.raises(cattrs.errors.ClassValidationError) as refused:
        _STRICT.structure({**doc, "surplus": 1}, CycleState)
    assert any(
        isinstance(e, cattrs.errors.ForbiddenExtraKeysError) for e in refused.value.exceptions
    )


# -- valid documents -------------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_round_trips_are_identity_and_the_generated_loader_builds_them(value: Any) -> None:
    cls = type(value)
    text = to_json(value)
    assert from_json(text, cls) == value
    assert from_json(text) == value  # by the document's name alone
    assert from_dict(to_dict(value), cls) == value
    # Not a silent fallback: the generated loader itself builds the object.
    hook = serialization._converter(False).get_structure_hook(cls)
    assert isinstance(hook, FastHook)
    loaded = hook.fast(body_of(text))
    assert loaded == value
    assert type(loaded) is cls


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_documents_are_written_exactly_as_the_converters_path_writes_them(value: Any) -> None:
    with reference_path():
        expected_dict, expected_text = to_dict(value), to_json(value)
    # repr compares the containers' types too (a pair of a segment stays a tuple).
    assert repr(to_dict(value)) == repr(expected_dict)
    assert to_json(value) == expected_text


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_both_json_backends_write_and_read_the_same_documents(value: Any) -> None:
    text = to_json(value)
    with using_stdlib_json():
        assert to_json(value) == text
        assert from_json(text, type(value)) == value


# -- mutated and invalid documents -----------------------------------------------------

_T = "2026-11-23T09:00:00"
_tricky_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=3),
    st.sampled_from([2**63, -(2**63) - 1, 0.5, 1.0]),
    st.text(max_size=4),
    st.sampled_from(["", " ", "x" * 300, "a\x00b", "tkt_1", "policy 9", "Standard"]),
    # every enum value of the documents, so that many mutations still type-check
    st.sampled_from(
        sorted(
            {m.value for e in (SlaMetric,) for m in e}
            | {"new", "open", "pending", "on_hold", "solved", "closed"}
            | {"low", "normal", "high", "urgent", "consultation", "complaint", "L1"}
        )
    ),
    st.sampled_from(
        [
            f"{_T}+00:00",
            f"{_T}.000001+00:00",
            f"{_T}Z",
            f"{_T}+08:00",
            _T,
            f"{_T[:10]} {_T[11:]}+00:00",
            "0001-01-01T00:00:00+00:00",
            "1899-12-31T23:59:59+00:00",
            "2199-12-31T23:59:59+00:00",
            "2200-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+00:00",
            "+00:00",
            "2026-02-30T00:00:00+00:00",
        ]
    ),
)
_json_values = st.recursive(
    _tricky_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=4,
)


def _places(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON value, outermost first."""
    if isinstance(node, dict):
        for k in node:
            yield node, k
            yield from _places(node[k])
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield node, i
            yield from _places(item)


def _mutate(doc: dict[str, Any], data: st.DataObject) -> None:
    """One to three edits anywhere in ``doc``: a value replaced (by any JSON value, or by
    another value of the document), a key removed or added, an item dropped or repeated."""
    for _ in range(data.draw(st.integers(1, 3))):
        places = list(_places(doc))
        container, where = data.draw(st.sampled_from(places))
        edit = data.draw(st.sampled_from(["replace", "swap", "remove", "add", "repeat"]))
        if edit == "replace":
            container[where] = data.draw(_json_values)
        elif edit == "swap":  # a value of the right shape for some other field
            other_container, other = data.draw(st.sampled_from(places))
            container[where] = copy.deepcopy(other_container[other])
        elif edit == "remove":
            del container[where]
        elif edit == "add" and isinstance(container, dict):
            container[data.draw(st.text(max_size=8))] = data.draw(_json_values)
        elif isinstance(container, list):
            container.insert(where, copy.deepcopy(container[where]))


@settings(max_examples=250, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_mutated_documents_load_or_are_refused_exactly_as_on_the_converters_path(
    value: Any, data: st.DataObject
) -> None:
    cls = type(value)
    doc = json.loads(to_json(value))
    _mutate(doc, data)
    actual, expected = both_paths(lambda: from_dict(doc, cls))
    assert actual == expected
    # The generated loader itself builds only what the converter's path builds.
    body = {k: v for k, v in doc.items() if k not in ("schema_version", "document")}
    fast = serialization._converter(False).get_structure_hook(cls).fast(copy.deepcopy(body))
    event(f"{actual[0]}, generated loader {'built it' if fast is not None else 'declined'}")
    if fast is not None:
        assert _REFERENCE[(False, False)].structure(body, cls) == fast


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_edited_json_text_loads_or_is_refused_exactly_as_on_the_converters_path(
    value: Any, data: st.DataObject
) -> None:
    text = to_json(value)
    i = data.draw(st.integers(0, len(text) - 1))
    edit = data.draw(st.sampled_from(["delete", "replace", "truncate"]))
    if edit == "delete":
        text = text[:i] + text[i + 1 :]
    elif edit == "replace":
        text = (
            text[:i] + data.draw(st.sampled_from(list('0123456789",: Zx+-.[]{}'))) + text[i + 1 :]
        )
    else:
        text = text[:i]
    cls = type(value)
    actual, expected = both_paths(lambda: from_json(text, cls))
    assert actual == expected
    assert both_paths(lambda: from_json(text))[0] == both_paths(lambda: from_json(text))[1]


@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow])
@given(cst.ticket_schedules(max_events=6), cst.sla_cycle_states(max_events=6))
def test_a_refused_schedule_lists_every_problem_with_its_path(
    value: TicketSchedule, cycle: CycleState
) -> None:
    doc = json.loads(to_json(value))
    doc["due_at"] = 5
    bad = to_dict(cycle)
    del bad["schema_version"], bad["document"]
    bad["start"] = bad["start"].replace("+00:00", "")
    doc["clock"]["cycles"] = [bad]
    actual, expected = both_paths(lambda: from_json(json.dumps(doc), TicketSchedule))
    assert actual == expected
    _, subject, problems, _ = actual
    assert subject == "TicketSchedule"
    assert dict(problems) == {
        "due_at": "expected an RFC 3339 timestamp string, got int",
        "clock.cycles[0].start": f"timestamp {bad['start']!r} has no UTC offset; naive times "
        "are rejected",
    }


# -- by shape: any attrs class of plain document shape ----------------------------------


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Part:
    label: str
    at: datetime
    colour: Colour | None = None


@attrs.frozen
class Box:
    name: str
    count: int
    sealed: bool
    parts: tuple[Part, ...]
    spare: Part | None
    colours: tuple[Colour, ...] = ()
    window: tuple[datetime, datetime] | None = None


@attrs.frozen
class CheckedBox(Checked):
    id: str = attrs.field(metadata=checked(key("box id")))
    size: int = attrs.field(metadata=checked(integer(minimum=1)))
    made: datetime = attrs.field(metadata=checked(instant))
    inner: Box | None = None

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.inner is not None and self.inner.count > self.size:
            yield "inner", "holds more than its size"


@attrs.frozen
class Node:
    name: str
    children: tuple[Node, ...] = ()


_utc_instants = st.datetimes(
    min_value=datetime(1890, 1, 1), max_value=datetime(2210, 1, 1), timezones=st.just(timezone.utc)
)
_parts = st.builds(
    Part, label=st.text(max_size=3), at=_utc_instants, colour=st.sampled_from([None, *Colour])
)
_boxes = st.builds(
    Box,
    name=st.text(max_size=3),
    count=st.integers(-3, 5),
    sealed=st.booleans(),
    parts=st.lists(_parts, max_size=2).map(tuple),
    spare=st.none() | _parts,
    colours=st.lists(st.sampled_from(Colour), max_size=2).map(tuple),
    window=st.none() | st.tuples(_utc_instants, _utc_instants),
)


@st.composite
def _checked_boxes(draw: st.DrawFn) -> CheckedBox:
    inner = draw(st.none() | _boxes)
    size = draw(st.integers(1, 6))
    return draw(
        st.builds(
            CheckedBox,
            id=st.sampled_from(["box_1", "b.2"]),
            size=st.just(size),
            made=st.datetimes(
                min_value=datetime(1900, 1, 1),
                max_value=datetime(2199, 1, 1),
                timezones=st.just(timezone.utc),
            ),
            inner=st.just(inner if inner is None or inner.count <= size else None),
        )
    )


_CONVERTER = serialization.make_converter()
_PLAIN = _reference_converter()
_DETAILED = _reference_converter(detailed=True)


def _structure_outcome(converter: Any, doc: Any, cls: type) -> tuple[Any, ...]:
    try:
        value = converter.structure(doc, cls)
    except Exception:  # the converter's own error; explained below
        try:
            _DETAILED.structure(doc, cls)
        except Exception as exc:
            return ("refused", serialization._repathed(cls.__name__, exc, "").problems)
        raise
    return ("loaded", type(value), value)


@pytest.mark.parametrize("cls", [Part, Box, CheckedBox, Node])
def test_local_classes_of_plain_shape_get_a_generated_loader(cls: type) -> None:
    assert plain_document_class(cls)
    assert isinstance(_CONVERTER.get_structure_hook(cls), FastHook)


@settings(max_examples=150)
@given(st.one_of(_boxes, _checked_boxes()), st.data())
def test_local_classes_load_and_write_as_on_cattrs_path(value: Any, data: st.DataObject) -> None:
    cls = type(value)
    doc = _PLAIN.unstructure(value, cls)
    assert repr(_CONVERTER.unstructure(value, cls)) == repr(doc)
    doc = json.loads(json.dumps(doc))
    assert _CONVERTER.structure(doc, cls) == value
    assert _CONVERTER.get_structure_hook(cls).fast(doc) == value
    _mutate(doc, data)
    assert _structure_outcome(_CONVERTER, doc, cls) == _structure_outcome(_PLAIN, doc, cls)


def test_a_class_holding_values_of_its_own_type_round_trips() -> None:
    tree = Node("a", (Node("b"), Node("c", (Node("d"),))))
    doc = _CONVERTER.unstructure(tree)
    assert doc == _PLAIN.unstructure(tree)
    assert _CONVERTER.structure(doc, Node) == tree
    assert _CONVERTER.get_structure_hook(Node).fast(doc) == tree


@attrs.frozen
class WithValidator:
    name: str = attrs.field(validator=attrs.validators.min_len(1))


@attrs.frozen
class WithFloat:
    share: float


@attrs.frozen
class WithPostInit:
    name: str

    def __attrs_post_init__(self) -> None:
        pass


@attrs.frozen(cache_hash=True)
class WithCachedHash:
    name: str


@attrs.frozen
class WithPrivateField:
    _name: str


@attrs.frozen
class WithDuration:
    wait: timedelta


@pytest.mark.parametrize("cls", [WithValidator, WithPostInit, WithCachedHash, WithPrivateField])
def test_classes_of_other_shapes_keep_cattrs_functions(cls: type) -> None:
    assert not plain_document_class(cls)
    assert not isinstance(_CONVERTER.get_structure_hook(cls), FastHook)


@attrs.frozen
class WithHookedScalars:
    share: float
    wait: timedelta
    on: date
    at: time
    amount: Decimal
    labels: frozenset[str]
    extra: dict[str, int]


def test_scalars_read_through_the_converters_hooks_get_generated_loaders() -> None:
    value = WithHookedScalars(
        share=0.25,
        wait=timedelta(minutes=90),
        on=date(2026, 10, 1),
        at=time(10, 30),
        amount=Decimal("12.50"),
        labels=frozenset({"b", "a"}),
        extra={"k": 1},
    )
    assert plain_document_class(WithFloat) and plain_document_class(WithDuration)
    assert plain_document_class(WithHookedScalars)
    hook = _CONVERTER.get_structure_hook(WithHookedScalars)
    assert isinstance(hook, FastHook)
    doc = _CONVERTER.unstructure(value)
    assert doc == _PLAIN.unstructure(value)
    assert hook.fast(doc) == value == _PLAIN.structure(doc, WithHookedScalars)
    # What the hook refuses, the generated loader leaves to cattrs' path (None here).
    assert hook.fast({**doc, "at": "10:30+08:00"}) is None
    assert hook.fast({**doc, "amount": 12.5}) is None


# -- every declared document of plain shape --------------------------------------------

_PLAIN_DOCUMENTS = sorted(
    name
    for name, cls in DOCUMENT_TYPES.items()
    if plain_document_class(cls)
    and isinstance(serialization._converter(False).get_structure_hook(cls), FastHook)
    and strategy_for(cls) is not None
)


def test_the_escalation_and_routing_documents_are_of_plain_shape() -> None:
    for name in ("escalation_action", "escalation_rule", "round_robin_cursor", "triage"):
        assert name in _PLAIN_DOCUMENTS


@pytest.mark.parametrize("name", _PLAIN_DOCUMENTS)
@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_plain_document_type_round_trips_as_on_the_converters_path(
    name: str, data: st.DataObject
) -> None:
    cls = DOCUMENT_TYPES[name]
    value = data.draw(st.from_type(cls))
    with reference_path():
        expected_dict, expected_text = to_dict(value), to_json(value)
    assert repr(to_dict(value)) == repr(expected_dict)
    assert to_json(value) == expected_text
    assert from_json(expected_text, cls) == value
    doc = json.loads(expected_text)
    _mutate(doc, data)
    actual, expected = both_paths(lambda: from_dict(doc, cls))
    assert actual == expected


# -- documents by name -----------------------------------------------------------------


def test_escalation_and_routing_documents_load_by_name_with_serialization_alone() -> None:
    rule = EscalationRule(
        name="breach",
        trigger=Trigger.sla_breach(SlaMetric.FIRST_RESPONSE),
        actions=(Action.raise_tier(), Action.notify(groups=("l2",))),
    )
    triage = Triage(rules=(TriageRule(name="vip", group_id="vip"),), default_group="l1")
    texts = [to_json(rule), to_json(triage)]
    program = (
        "import sys, json\n"
        "import csdomain.serialization as s\n"
        "for text in json.loads(sys.stdin.read()):\n"
        "    print(type(s.from_json(text)).__name__, s.to_json(s.from_json(text)) == text)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["EscalationRule", "True", "Triage", "True"]
