"""Decoding that fails fast and typed, the same on both JSON backends (orjson and json).

Every case runs on both backends: the stdlib path is forced by setting the codec's
orjson reference to None (what a missing ``fast`` extra does), the orjson path runs
when orjson is installed. Outcomes are compared whole: the value loaded, or the
error's type, subject and problems.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain import Actor, Ticket, TicketEvent, ValidationError, serialization
from csdomain._kernel import codec
from csdomain.conditions import Condition, Equals, Not
from csdomain.serialization import from_dict, from_json, to_dict, to_json
from csdomain.testing import strategies as cst

try:
    import orjson
except ImportError:  # pragma: no cover - the fast extra is absent
    orjson = None  # type: ignore[assignment, unused-ignore]

BACKENDS = [
    "json",
    pytest.param(
        "orjson", marks=pytest.mark.skipif(orjson is None, reason="the fast extra is absent")
    ),
]

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@contextmanager
def using(backend: str) -> Iterator[None]:
    """The codec on ``backend`` for the duration (usable inside Hypothesis tests)."""
    saved = codec._orjson
    codec._orjson = None if backend == "json" else orjson
    try:
        yield
    finally:
        codec._orjson = saved


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    with using(request.param):
        yield request.param


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """What ``call`` gives: its value, or its error as type, subject and problems."""
    try:
        return ("value", call())
    except ValidationError as exc:
        return ("ValidationError", (exc.subject, exc.problems))


def on_both(call: Callable[[], Any]) -> tuple[str, Any]:
    """``call``'s outcome, asserted to be the same on every installed backend."""
    found = {}
    for name in ("json", "orjson") if orjson is not None else ("json",):
        with using(name):
            found[name] = outcome(call)
    first, *rest = found.values()
    for other in rest:
        assert same(other, first), found
    return first


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (-0.0 is not 0.0), by a loop: the
    values may nest deeper than ``==`` recurses."""
    pairs = [(a, b)]
    while pairs:
        x, y = pairs.pop()
        if type(x) is not type(y):
            return False
        if type(x) in (list, tuple):
            if len(x) != len(y):
                return False
            pairs.extend(zip(x, y, strict=True))
        elif type(x) is dict:
            if list(x) != list(y):
                return False
            pairs.extend((x[k], y[k]) for k in x)
        elif repr(x) != repr(y):
            return False
    return True


def refused(text: Any, **kwargs: Any) -> str:
    """The message refusing ``text`` (identical on both backends)."""
    kind, found = on_both(lambda: codec.loads(text, subject="probe", **kwargs))
    assert kind == "ValidationError", found
    subject, problems = found
    assert subject == "probe"
    assert len(problems) == 1 and problems[0].path == ""
    message: str = problems[0].message
    return message


def loaded(text: Any, **kwargs: Any) -> Any:
    kind, value = on_both(lambda: codec.loads(text, subject="probe", **kwargs))
    assert kind == "value", value
    return value


# -- malformed text and input types ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a":', "line 1 column 6"),
        ("", "line 1 column 1"),
        ("[1,]", "line 1 column 4"),
        ("01", "line 1 column 2"),
        ('{"a" 1}', "line 1 column 6"),
        ('"a\x01"', "line 1 column 3"),
        ("[1]\n[2]", "line 2 column 1"),
        ("nul", "line 1 column 1"),
    ],
)
def test_malformed_json_is_one_validation_error_with_its_place(text: str, where: str) -> None:
    message = refused(text)
    assert message.startswith(f"malformed JSON at {where}: ")
    assert refused(text.encode()) == message


def test_every_kind_of_text_loads_the_same() -> None:
    raw = '{"a":[1,2.5,"退款",null,true]}'.encode()
    expected = {"a": [1, 2.5, "退款", None, True]}
    for text in (raw.decode(), raw, bytearray(raw), memoryview(raw), memoryview(b"  " + raw)[2:]):
        assert loaded(text) == expected


@pytest.mark.parametrize("text", [12, None, ["{}"], 1.5, object()])
def test_what_is_not_text_is_refused_naming_what_is_accepted(text: object) -> None:
    message = refused(text)
    assert f"expected JSON text, got {type(text).__name__}" in message
    assert "str, bytes, bytearray or memoryview" in message


# -- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("\ufeff{}", "UTF-8 byte order mark"),
        (b"\xef\xbb\xbf{}", "UTF-8 byte order mark"),
        ("{}".encode("utf-16"), "byte order mark"),
        ("{}".encode("utf-32"), "byte order mark"),
        ('{"a":1}'.encode("utf-16-le"), "UTF-16 or UTF-32"),
        ('{"a":1}'.encode("utf-16-be"), "UTF-16 or UTF-32"),
        ('{"a":1}'.encode("utf-32-le"), "UTF-16 or UTF-32"),
        ('"é"'.encode("latin-1"), "not valid UTF-8 at byte 1"),
        (b'"\xed\xa0\x80"', "not valid UTF-8 at byte 1"),  # a surrogate, UTF-8 encoded
    ],
)
def test_only_utf8_without_a_byte_order_mark_is_read(text: str | bytes, words: str) -> None:
    message = refused(text)
    assert words in message
    assert "JSON text is UTF-8" in message


# -- nesting -----------------------------------------------------------------------------


def _nested(depth: int, kind: str = "[") -> str:
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["[", "{"])
def test_nesting_is_accepted_up_to_the_documented_depth(kind: str) -> None:
    value = loaded(_nested(codec.MAX_DEPTH, kind))
    for _ in range(codec.MAX_DEPTH - 1):
        value = value[0] if kind == "[" else value["a"]
    assert value == ([] if kind == "[" else {"a": 1})


@pytest.mark.parametrize("depth", [codec.MAX_DEPTH + 1, 5_000, 200_000])
@pytest.mark.parametrize("kind", ["[", "{"])
def test_deeper_nesting_is_refused_never_a_recursion_error(depth: int, kind: str) -> None:
    message = refused(_nested(depth, kind))
    assert f"more than {codec.MAX_DEPTH} levels deep" in message
    assert refused(_nested(depth, kind)[:-1]) == message  # malformed too: still too deep


def test_deep_text_loads_from_an_already_deep_stack() -> None:
    # The stdlib's C scanner recurses; from deep in the caller's stack it reads by a loop.
    text = _nested(900)

    def dive(levels: int) -> Any:
        return dive(levels - 1) if levels else codec.loads(text, subject="probe")

    for name in ("json", "orjson") if orjson is not None else ("json",):
        with using(name):
            value = dive(sys.getrecursionlimit() - 150)
        for _ in range(900):
            assert type(value) is list
            value = value[0] if value else "bottom"
        assert value == "bottom"


def test_the_depth_limit_holds_where_the_recursion_limit_was_raised() -> None:
    # The C scanner then reads deeper than MAX_DEPTH itself; what it read is measured.
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(5_000)
    try:
        assert "more than 1024 levels" in refused(_nested(codec.MAX_DEPTH + 1))
        assert "more than 1024 levels" in refused(_nested(2_000, "{"))
        assert type(loaded(_nested(codec.MAX_DEPTH))) is list
    finally:
        sys.setrecursionlimit(saved)


def test_malformed_deep_text_read_by_the_loop_is_explained_like_the_scanner() -> None:
    for text in ["[" * 1000 + "1,]" + "]" * 999, "[" * 1000 + '{"a" 1}' + "]" * 1000]:
        with using("json"):
            message = refused(text)
        assert message.startswith("malformed JSON at line 1 column")


def test_the_loop_reads_what_the_scanner_reads() -> None:
    decoder = json.JSONDecoder()
    for text in [
        '{"a": [1, -2.5e3, "x\\n\\u00e9", null, true, false, {}, []], "": {"b": {}}}',
        " [ 1 , [ ] , { } ] ",
        '"only"',
        "-0",
        "[1e5, 0.25, -0.0]",
    ]:
        assert repr(codec._decode_by_loop(text, decoder)) == repr(json.loads(text))


# -- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal", [str(codec.INT64_MAX), str(codec.INT64_MIN), "0", "-0", "1" * 18, "10" * 9]
)
def test_integers_in_64_bits_load_as_integers(literal: str) -> None:
    value = loaded(f"[{literal}]")[0]
    assert type(value) is int and value == int(literal)


@pytest.mark.parametrize(
    "literal",
    [
        str(codec.INT64_MAX + 1),
        str(codec.INT64_MIN - 1),
        str(2**64),  # orjson alone reads integers up to 2**64 - 1
        str(10**30),  # orjson alone reads it as a float
        "1" * 5_000,  # beyond the 4,300 digits int() reads
        "-" + "9" * 100_000,
    ],
)
def test_integers_beyond_64_bits_are_refused(literal: str) -> None:
    message = refused(f'{{"n": [{literal}]}}')
    assert "is out of range; integers are accepted from" in message
    assert str(codec.INT64_MIN) in message and str(codec.INT64_MAX) in message
    assert len(message) < 300  # a long literal is not copied whole


def test_long_digit_runs_in_text_and_floats_are_not_integers() -> None:
    assert loaded('["12345678901234567890123", 12345678901234567890.5, 1e25]') == [
        "12345678901234567890123",
        12345678901234567890.5,
        1e25,
    ]


@pytest.mark.parametrize(
    ("literal", "words"),
    [
        ("NaN", "NaN and Infinity are not JSON numbers; got NaN"),
        ("Infinity", "got Infinity"),
        ("-Infinity", "got -Infinity"),
        ("1e400", "number 1e400 is too large for a float"),
        ("-1.5E+999", "too large for a float"),
        ("1" * 400 + ".0", "too large for a float"),
    ],
)
def test_numbers_are_finite(literal: str, words: str) -> None:
    message = refused(f"[{literal}]")
    assert words in message
    assert "finite" in message


def test_finite_extremes_and_underflow_load_alike() -> None:
    assert loaded("[1.7976931348623157e308, 5e-324, 1e-400, -0.0]") == [
        1.7976931348623157e308,
        5e-324,
        0.0,
        -0.0,
    ]


# -- lone surrogates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '"\\udc00"',
        '"a\\uDBFFb"',
        '"\\udc00\\ud800"',  # the wrong order
        '{"\\ud800": 1}',  # a key
        '["ok", {"deep": ["\\ud83d"]}]',
    ],
)
def test_lone_surrogate_escapes_are_refused(text: str) -> None:
    assert "lone surrogate" in refused(text)
    assert "lone surrogate" in refused(text.encode())


def test_a_lone_surrogate_in_a_str_is_refused_where_it_stands() -> None:
    message = refused('["ab\ud800"]')
    assert "lone surrogate at character 4" in message


def test_surrogate_pairs_and_escaped_backslashes_are_text() -> None:
    assert loaded('["\\ud83d\\ude00", "\\\\ud800", "😀"]') == ["😀", "\\ud800", "😀"]


# -- size --------------------------------------------------------------------------------


def test_a_text_over_max_bytes_is_refused_before_it_is_parsed() -> None:
    assert loaded('{"a":1}', max_bytes=7) == {"a": 1}
    message = refused('{"a":1}', max_bytes=6)
    assert message == "JSON text is 7 bytes, over the limit of 6 bytes"
    # Checked before parsing: a malformed or deep text over the limit gets the size error.
    assert "over the limit of 10 bytes" in refused("[" * 50_000, max_bytes=10)
    assert "1,000,000 bytes, over the limit of 999,999" in refused(
        b" " * 1_000_000, max_bytes=999_999
    )
    for kind in (bytearray, memoryview):
        assert "over the limit" in refused(kind(b'{"a":1}'), max_bytes=6)


def test_max_bytes_counts_utf8_bytes_of_text() -> None:
    text = '"éé"'  # 4 characters, 6 bytes
    assert loaded(text, max_bytes=6) == "éé"
    assert refused(text, max_bytes=5) == "JSON text is 6 bytes, over the limit of 5 bytes"
    assert "at least 7 bytes" in refused('"ééééé"', max_bytes=6)  # more characters than bytes


@pytest.mark.parametrize("limit", [-1, "10", 1.5])
def test_max_bytes_must_be_a_size(limit: Any) -> None:
    assert "max_bytes must be a non-negative integer or None" in refused("{}", max_bytes=limit)


# -- writing -----------------------------------------------------------------------------


def test_dumps_writes_the_same_values_on_both_backends() -> None:
    doc = {"b": [1, 2.5, 1e-7, None, True], "a": "退款 🙂", "at": T0, "big": 2**70}
    texts = {}
    for name in ("json", "orjson") if orjson is not None else ("json",):
        with using(name):
            texts[name] = codec.dumps(doc)
            whole, part = codec.dumps_all([doc, doc["b"]])
            assert whole == texts[name] and f'"b":{part},' in whole  # spelled as in the whole
    values = [json.loads(t) for t in texts.values()]
    assert values == [{**doc, "at": "2026-11-23T09:00:00+00:00"}] * len(values)
    assert "退款" in texts["json"]  # non-ASCII kept


def test_dumps_refuses_a_lone_surrogate_on_both_backends() -> None:
    kind, found = on_both(lambda: codec.dumps({"a": "x\ud800"}))
    assert kind == "ValidationError"
    assert "lone surrogate" in found[1][0].message


def test_dumps_writes_deep_values_the_stdlib_way() -> None:
    value: Any = 1
    for _ in range(300):  # deeper than orjson writes
        value = [value]
    kind, text = on_both(lambda: codec.dumps(value))
    assert kind == "value" and text == "[" * 300 + "1" + "]" * 300


# -- documents -------------------------------------------------------------------------


def _envelope(document: object) -> str:
    return json.dumps({"schema_version": 1, "document": document, "id": "x"})


@pytest.mark.parametrize("document", [[1], {"a": 1}, 5, None, True, ["ticket"]])
def test_an_envelope_naming_no_document_type_is_a_validation_error(document: object) -> None:
    for cls in (None, Ticket, Condition):
        kind, found = on_both(lambda cls=cls: from_json(_envelope(document), cls))
        assert kind == "ValidationError"
        _, problems = found
        assert [p.path for p in problems] == ["document"]
        assert "expected" in problems[0].message


@pytest.mark.parametrize("version", [[1], {"v": 1}, "1", None, 1.0, 0])
def test_a_bad_schema_version_is_a_validation_error(version: object) -> None:
    text = json.dumps({"schema_version": version, "document": "ticket"})
    kind, found = on_both(lambda: from_json(text))
    assert kind == "ValidationError"
    assert [p.path for p in found[1]] == ["schema_version"]


def test_from_json_refuses_for_the_codec_naming_the_class() -> None:
    kind, found = on_both(lambda: from_json('{"schema_version": 1e400}', Ticket))
    assert kind == "ValidationError" and found[0] == "Ticket"
    kind, found = on_both(lambda: from_json(to_json(_ticket()), max_bytes=100))
    assert kind == "ValidationError" and "over the limit of 100 bytes" in found[1][0].message


def test_from_json_reads_every_kind_of_text(backend: str) -> None:
    text = to_json(_ticket())
    for given_text in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        assert from_json(given_text) == _ticket()
        assert from_json(given_text, Ticket, max_bytes=len(text.encode())) == _ticket()


def test_abstract_bases_load_their_subclasses(backend: str) -> None:
    condition = Not(Equals("ticket.priority", "urgent"))
    assert from_json(to_json(condition), Condition) == condition
    assert from_dict(to_dict(condition), Condition) == condition
    with pytest.raises(ValidationError, match="holds a Not"):
        from_json(to_json(condition), Equals)
    event = _ticket().timeline[1]
    assert from_json(to_json(event), TicketEvent) == event
    with pytest.raises(ValidationError):
        from_json(to_json(event), Condition)


def test_state_disagreements_show_the_document_value_briefly(backend: str) -> None:
    doc = to_dict(_ticket())
    doc["custom_fields"] = {"order": [[[[[["x" * 10_000]]]]]]}
    kind, found = on_both(lambda: from_dict(json.loads(json.dumps(doc))))
    assert kind == "ValidationError"
    assert len(str(found)) < 2_000


def _ticket() -> Ticket:
    ticket = Ticket.open(
        id="tkt_1",
        customer_id="cus_1",
        channel="email",
        subject="退款 🙂",
        at=T0,
        description="d",
        custom_fields={"order": "8812", "amount": 12.5, "n": 2**63 - 1},
    )
    return ticket.add_message(at=T0, actor=Actor.agent("agt_1"), body="好的 ok")


def test_event_rows_load_alike_on_both_backends() -> None:
    texts = serialization.events_json(_ticket().timeline)
    kind, value = on_both(lambda: serialization.ticket_from_events_json(texts))
    assert kind == "value" and value == _ticket()
    bad = [texts[0][:-1] + ',"extra":"\\ud800"}']
    kind, found = on_both(lambda: serialization.ticket_from_events_json(bad, key="tkt_1"))
    assert kind == "ValidationError"
    assert found[0] == "Ticket 'tkt_1'"
    assert found[1][0].path == "timeline[0]" and "lone surrogate" in found[1][0].message
    kind, found = on_both(
        lambda: serialization.ticket_from_events_json(texts, max_bytes=len(texts[0]))
    )
    assert kind == "ValidationError" and "over the limit" in found[1][0].message


# -- laws --------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["\ud800", "\udfff", "😀", "\\ud800"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_json_values, st.booleans(), st.data())
def test_both_backends_give_the_same_outcome_for_any_text(
    value: Any, ascii_only: bool, data: st.DataObject
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    if data.draw(st.booleans()):  # damage it
        at = data.draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + data.draw(st.sampled_from(["", ",", "]", '"', "\\", "e9", "-"]))
            + text[at + 1 :]
        )
    as_bytes = data.draw(st.booleans())
    kind, found = on_both(
        lambda: codec.loads(
            text.encode("utf-8", "surrogatepass") if as_bytes else text, subject="x"
        )
    )
    if kind == "value":  # what is read is exactly what the stdlib reads
        assert same(found, json.loads(text))


@settings(max_examples=60, deadline=None)
@given(cst.tickets(max_events=10))
def test_round_trips_hold_on_both_backends(ticket: Ticket) -> None:
    for name in ("json", "orjson") if orjson is not None else ("json",):
        with using(name):
            assert from_json(to_json(ticket)) == ticket
            assert from_json(to_json(ticket).encode(), Ticket) == ticket
            texts = serialization.events_json(ticket.timeline)
            assert texts == serialization.ticket_json_and_events(ticket)[1]
            assert serialization.ticket_from_events_json(texts) == ticket


@settings(max_examples=60, deadline=None)
@given(cst.conditions())
def test_conditions_round_trip_as_conditions(condition: Condition) -> None:
    for name in ("json", "orjson") if orjson is not None else ("json",):
        with using(name):
            assert from_json(to_json(condition), Condition) == condition


@pytest.mark.parametrize(("depth", "every"), [(33, 2), (300, 2), (600, 2), (1_000, 1)])
def test_deeply_nested_conditions_are_refused_by_their_rule(depth: int, every: int) -> None:
    # Not, or every other level AllOf (an object and a list: two JSON levels).
    doc = '{"op":"equals","field":"ticket.priority","value":"urgent"}'
    for i in range(depth):
        if i % every == 0:
            doc = f'{{"op":"not","condition":{doc}}}'
        else:
            doc = f'{{"op":"all","conditions":[{doc}]}}'
    text = '{"schema_version":1,"document":"condition",' + doc[1:]
    kind, found = on_both(lambda: from_json(text, Condition))
    assert kind == "ValidationError"
    assert "at most 32 are allowed" in found[1][0].message
    assert len(found[1]) == 1


def test_conditions_nested_as_deep_as_allowed_load() -> None:
    condition: Condition = Equals("ticket.priority", "urgent")
    for _ in range(32):
        condition = Not(condition)
    kind, value = on_both(lambda: from_json(to_json(condition), Condition))
    assert kind == "value" and value == condition
