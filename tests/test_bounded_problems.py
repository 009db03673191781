"""Rejecting bad input stays cheap and small, however bad the input.

A ``ValidationError`` keeps the first 100 problems and counts the others, and
its paths and messages are shortened, so a huge invalid document makes a small
error. A str given where a collection is expected is one problem, never one per
character. (bench/rejection.py times the 100 kB case.)
"""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain.customers import Customer
from csdomain.errors import ValidationError
from csdomain.serialization import from_dict, ticket_from_events_json, to_dict
from csdomain.tickets import Actor, Ticket

LIMIT = ValidationError.MAX_PROBLEMS
_T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _customer_document(**fields: Any) -> dict[str, Any]:
    document = to_dict(Customer(id="cus_1", display_name="A"))
    document.update(fields)
    return document


def _problems(build: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        build()
    return caught.value


# -- a string for a collection ------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["contact_points", "purchases", "segments", "attributes"], ids=str
)
def test_a_100_kb_string_for_a_collection_is_one_problem(field: str) -> None:
    fields: dict[str, Any] = {field: "x" * 100_000}
    error = _problems(lambda: Customer(id="cus_1", display_name="A", **fields))
    assert error.paths == (field,) and error.problem_count == 1
    assert len(str(error)) < 300


def test_a_100_kb_customer_document_loads_to_one_problem() -> None:
    error = _problems(lambda: from_dict(_customer_document(contact_points="x" * 100_000)))
    assert error.paths == ("contact_points",) and error.problem_count == 1
    assert "expected a list of ContactPoint, got a string" in str(error)
    assert len(str(error)) < 300


_NO_LISTS: list[tuple[object, str]] = [
    ("x" * 100_000, "a string"),
    (b"x" * 1_000, "bytes"),
    ({f"k{i}": i for i in range(1_000)}, "an object (a mapping)"),
    (None, "null"),
    (5, "int 5"),
]


def _documents() -> list[dict[str, Any]]:
    """One document of every top-level type but tickets (whose lists are state fields,
    compared with the timeline, or the timeline: see below), drawn once."""
    import csdomain.testing.strategies  # noqa: F401  # fills the registry
    from csdomain.serialization import DOCUMENT_TYPES
    from csdomain.testing.strategies.registry import strategy_for

    found = []
    for _name, cls in sorted(DOCUMENT_TYPES.items()):
        strategy = strategy_for(cls)
        if cls is Ticket or strategy is None:
            continue
        found.append(to_dict(_example(strategy)))
    return found


def _example(strategy: Any) -> Any:
    found: list[Any] = []

    @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value: Any) -> None:
        found.append(value)

    draw()
    return found[0]


@pytest.mark.parametrize("document", _documents(), ids=lambda d: str(d["document"]))
@pytest.mark.parametrize(
    ("value", "shown"), _NO_LISTS, ids=["str", "bytes", "mapping", "null", "int"]
)
def test_a_value_that_is_no_list_for_a_list_field_is_one_problem(
    document: dict[str, Any], value: object, shown: str
) -> None:
    """Whatever document, a str, bytes, a mapping or a scalar where a list belongs is one
    problem at that field's path, never one per character, byte or key."""
    lists = [field for field, item in document.items() if type(item) is list]
    for field in lists:
        error = _problems(lambda: from_dict({**document, field: value}))  # noqa: B023
        assert error.paths == (field,) and error.problem_count == 1
        assert "expected a list of " in str(error) and f"got {shown}" in str(error)
        assert len(str(error)) < 500


def test_a_string_for_a_ticket_timeline_is_one_problem() -> None:
    document = to_dict(
        Ticket.open(id="T-1", customer_id="cus_1", channel="email", subject="s", at=_T0)
    )
    document["timeline"] = "x" * 100_000
    error = _problems(lambda: from_dict(document))
    assert error.paths == ("timeline",) and error.problem_count == 1
    assert "expected a list of TicketEvent, got a string" in str(error)


@pytest.mark.parametrize(
    ("value", "shown"), _NO_LISTS, ids=["str", "bytes", "mapping", "null", "int"]
)
@pytest.mark.parametrize(
    ("index", "field"), [(0, "tags"), (0, "links"), (1, "added"), (1, "removed")]
)
def test_a_value_that_is_no_list_in_an_event_is_one_problem(
    index: int, field: str, value: object, shown: str
) -> None:
    """The events' own lists (read by the fast loaders first) are refused alike."""
    ticket = Ticket.open(
        id="T-1", customer_id="cus_1", channel="email", subject="s", at=_T0, tags=["a"]
    ).change_tags(at=_T0, actor=Actor.agent("agt_1"), add=["b"], remove=["a"])
    document = to_dict(ticket)
    document["timeline"][index][field] = value
    error = _problems(lambda: from_dict(document))
    assert error.paths == (f"timeline[{index}].{field}",) and error.problem_count == 1
    assert f"got {shown}" in str(error)


def test_loading_any_bad_document_keeps_the_error_small() -> None:
    """Whatever the loader finds, the error it raises keeps 100 problems at most."""
    error = _problems(lambda: from_dict(_customer_document(contact_points="x" * 10_000)))
    assert len(error.problems) <= LIMIT
    assert len(str(error)) < 200_000


# -- many bad items -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"contact_points": [f"+86 138 {i:04d}" for i in range(10_000)]},
        {"purchases": list(range(10_000))},
        {"segments": [f"bad tag {i}" for i in range(10_000)]},
        {"attributes": {f"k{i}": [i] for i in range(10_000)}},
    ],
    ids=["contact_points", "purchases", "segments", "attributes"],
)
def test_ten_thousand_bad_items_give_100_problems_and_a_count(fields: dict[str, Any]) -> None:
    error = _problems(lambda: Customer(id="cus_1", display_name="A", **fields))
    assert len(error.problems) == LIMIT
    assert error.problem_count == 10_000
    assert str(error).endswith("\n  ... and 9900 more problems")
    assert str(error).startswith("invalid Customer (10000 problems):\n")
    field = next(iter(fields))
    assert all(path.startswith(f"{field}[") for path in error.paths)


def test_the_kept_problems_are_the_first_found_in_field_order() -> None:
    error = _problems(
        lambda: Customer(
            id="bad id",
            display_name="",
            contact_points=list(range(200)),  # type: ignore[arg-type]
        )
    )
    assert error.paths[:3] == ("id", "display_name", "contact_points[0]")
    assert error.paths[-1] == "contact_points[97]"
    assert error.problem_count == 202


def test_bad_events_of_a_ticket_are_bounded_too() -> None:
    error = _problems(
        lambda: Ticket(timeline=tuple(range(5_000)))  # type: ignore[arg-type]
    )
    assert len(error.problems) <= LIMIT
    assert error.problem_count >= 1


# -- one huge bad value -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "x" * 100_000},
        {"display_name": "x" * 100_000},
        {"attributes": {"k" * 100_000: 1}},
        {"attributes": {"k": 10**5000}},
        {"segments": ["t" * 100_000]},
    ],
    ids=["id", "display_name", "attribute key", "attribute int", "segment"],
)
def test_one_huge_bad_value_makes_a_small_error(fields: dict[str, Any]) -> None:
    error = _problems(lambda: Customer(**{"id": "cus_1", "display_name": "A", **fields}))
    assert error.problem_count == 1
    assert len(str(error)) < 2_000


# -- the error itself -----------------------------------------------------------------------


@given(count=st.integers(1, 400))
def test_an_error_keeps_the_first_hundred_and_counts_all(count: int) -> None:
    problems = ((f"items[{i}]", f"bad item {i}") for i in range(count))  # read once
    error = ValidationError("Thing", problems)
    assert error.problem_count == count
    assert error.paths == tuple(f"items[{i}]" for i in range(min(count, LIMIT)))
    more = count - LIMIT
    if more > 0:
        assert str(error).endswith(f"... and {more} more problem{'s' if more > 1 else ''}")
    else:
        assert "more problem" not in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.problem_count, copy.problems, str(copy)) == (count, error.problems, str(error))


def test_long_paths_and_messages_are_shortened() -> None:
    error = ValidationError("Thing", [("p" * 10_000, "m" * 10_000)])
    (problem,) = error.problems
    assert len(problem.path) <= 300 and problem.path.endswith("...")
    assert len(problem.message) <= 1_000 and problem.message.endswith("...")


# -- every field of every class -------------------------------------------------------------


def _checked_classes() -> list[type]:
    import csdomain.testing.strategies  # noqa: F401  # fills the registry
    from csdomain._kernel.validation import Checked
    from csdomain.testing.strategies.registry import registered

    return sorted(
        (cls for cls in registered() if attrs.has(cls) and issubclass(cls, Checked)),
        key=lambda cls: cls.__qualname__,
    )


@pytest.mark.parametrize("cls", _checked_classes(), ids=lambda cls: cls.__qualname__)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_huge_string_in_any_field_is_at_most_one_problem(cls: type, data: Any) -> None:
    """Whatever field of whatever class gets a 100 kB string, construction either accepts
    it or reports at most one problem for that field, in a small message, and never
    raises anything but ValidationError."""
    from csdomain.testing.strategies.registry import strategy_for

    strategy = strategy_for(cls)
    assert strategy is not None
    value = data.draw(strategy)
    for field in attrs.fields(cls):
        if not field.init:
            continue
        error = _refusal(attrs.evolve, value, **{field.alias: "x" * 100_000})
        if error is not None:
            mine = [p for p in error.paths if p.split("[")[0].split(".")[0] == field.name]
            assert len(mine) <= 1, (field.name, error.paths[:5])
            assert len(str(error)) < 5_000


def _refusal(build: Any, *args: Any, **kwargs: Any) -> ValidationError | None:
    """The ValidationError ``build(*args, **kwargs)`` raises, or None when it accepts (any
    other exception propagates, failing the test)."""
    try:
        build(*args, **kwargs)
    except ValidationError as error:
        return error
    return None


def test_an_error_is_text_even_when_it_quotes_a_lone_surrogate() -> None:
    """A message that quotes bad input raw still encodes, so the error can be logged."""
    error = ValidationError("Thing", [("name\ud800", "got 'a\udfff'")])
    assert str(error) == "invalid Thing: name\\ud800: got 'a\\udfff'"
    str(error).encode("utf-8")


# -- counts kept where problems are re-pathed ----------------------------------------------

_BAD_TAGS = [f"bad tag {i}" for i in range(1_000)]


def _ticket_document_with_bad_tags() -> dict[str, Any]:
    document = to_dict(
        Ticket.open(id="T-1", customer_id="cus_1", channel="email", subject="s", at=_T0)
    )
    document["timeline"][0]["tags"] = _BAD_TAGS
    return document


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: from_dict(_customer_document(segments=_BAD_TAGS)), "segments[0]"),
        (lambda: from_dict(_ticket_document_with_bad_tags()), "timeline[0].tags[0]"),
        (
            lambda: ticket_from_events_json(
                [json.dumps(e) for e in _ticket_document_with_bad_tags()["timeline"]], key="T-1"
            ),
            "timeline[0].tags[0]",
        ),
        (
            lambda: Ticket.open(
                id="T-1", customer_id="cus_1", channel="email", subject="s", at=_T0, tags=_BAD_TAGS
            ),
            "tags[0]",
        ),
    ],
    ids=["from_dict", "ticket document", "ticket_from_events_json", "Ticket.open"],
)
def test_a_re_pathed_error_still_counts_every_problem(build: Any, path: str) -> None:
    """Loaders and Ticket.open re-path the problems of the objects they build: the count
    of those left out goes along."""
    error = _problems(build)
    assert error.problem_count == 1_000 and len(error.problems) == LIMIT
    assert error.paths[0] == path
    assert str(error).endswith("\n  ... and 900 more problems")
