"""The validation seam: every check's fast ``ok`` and its ``explain`` agree.

Construction runs only ``ok`` on valid input and ``explain`` when ``ok``
refuses; if the two disagreed, a value could slip through (``explain`` finds
nothing) or a valid one be reported. The law, over every check csdomain attaches
to a field and the kernel's check factories: ``ok(v)`` is false exactly when
``explain(v)`` yields something.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import MappingProxyType

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

import csdomain
from csdomain._kernel import validation as v
from csdomain._kernel.registry import declared_types
from csdomain.channels import ChannelKind
from csdomain.errors import ValidationError
from csdomain.priorities import Priority
from csdomain.tickets import Actor, Status


def _import_everything() -> None:
    """Import every model and engine module, so each declares its classes."""
    root = Path(csdomain.__file__).parent
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[1] in ("testing", "cli", "storage", "__main__"):
            continue
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


_import_everything()


class _Text(str):
    """A str subclass: not exactly text, so exact-type checks refuse it."""


class _Dict(dict[str, object]):
    """A dict subclass."""


class _Colour(Enum):
    RED = "red"


def _field_checks() -> list[tuple[str, v.Check]]:
    found = []
    for name, cls in sorted(declared_types.items()):
        if not attrs.has(cls):
            continue
        for field in attrs.fields(cls):
            check = field.metadata.get(v.CHECK)
            if check is not None:
                found.append((f"{name}.{field.name}", check))
    return found


_FACTORIES: list[tuple[str, v.Check]] = [
    ("text()", v.text()),
    ("text(max_length=3, allow_empty=True)", v.text(max_length=3, allow_empty=True)),
    ("optional(text())", v.optional(v.text())),
    ("key()", v.key()),
    ("instant", v.instant),
    ("calendar_date", v.calendar_date),
    ("member_of(Priority)", v.member_of(Priority)),
    ("instance(Actor)", v.instance(Actor, "an Actor")),
    ("boolean", v.boolean),
    ("integer(0, 10)", v.integer(minimum=0, maximum=10)),
    ("duration()", v.duration()),
    ("duration(allow_zero=False)", v.duration(allow_zero=False)),
    ("duration(maximum=1 day)", v.duration(maximum=timedelta(days=1))),
    ("decimal_amount", v.decimal_amount),
    ("iana_zone", v.iana_zone),
    ("each(key())", v.each(v.key())),
    ("json_scalars", v.json_scalars),
    ("both(text(), key())", v.both(v.text(), v.key())),
    ("tags_check", v.tags_check),
]

CHECKS = _FACTORIES + _field_checks()

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "a", "tag-1", "Asia/Shanghai", "UTC", "x" * 70, "a\x00b", "CNY"]),
    st.text(max_size=5).map(_Text),
    # lone surrogates: a str Python allows that has no UTF-8 form
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),
    st.sampled_from(["\ud800", "a\udfff", "工单\ud83d", "\ud83d\ude00", "ok-\udc80"]),
    st.integers(min_value=10**70, max_value=10**80),
    st.datetimes(),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=14)), timezone.max])),
    st.dates(),
    st.timedeltas(),
    st.decimals(allow_nan=True),
    st.sampled_from([*Priority, *Status, ChannelKind.EMAIL, _Colour.RED]),
    st.just(Actor.agent("agt_1")),
    st.just(object()),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(tuple),
        st.lists(inner, max_size=3),
        st.frozensets(st.one_of(st.text(max_size=4), st.integers()), max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=2).map(_Dict),
        st.dictionaries(st.text(max_size=6), inner, max_size=2).map(MappingProxyType),
        st.dictionaries(st.text(max_size=6), inner, max_size=2).map(OrderedDict),
    ),
    max_leaves=6,
)


@pytest.mark.parametrize(("name", "check"), CHECKS, ids=[name for name, _ in CHECKS])
@settings(max_examples=40, deadline=None)
@given(value=_values)
def test_ok_is_false_exactly_when_explain_finds_a_problem(
    name: str, check: v.Check, value: object
) -> None:
    accepted = check.ok(value)
    problems = list(check.explain(value))
    assert accepted == (not problems), (name, value, problems)


def _strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (tuple, list, frozenset, set)):
        return [s for item in value for s in _strings_in(item)]
    if isinstance(value, (dict, MappingProxyType)):
        return [s for kv in value.items() for item in kv for s in _strings_in(item)]
    return []


#: Fields whose check tests only the container; the class checks the items as a whole.
_ITEMS_CHECKED_WHOLE = {"csdomain.conditions.In.values"}


@pytest.mark.parametrize(("name", "check"), CHECKS, ids=[name for name, _ in CHECKS])
@settings(max_examples=40, deadline=None)
@given(value=_values)
def test_every_accepted_string_has_a_utf8_form(name: str, check: v.Check, value: object) -> None:
    """No check accepts a lone surrogate anywhere in a value: what is accepted can be
    stored, sent and written as JSON."""
    if check.ok(value) and name not in _ITEMS_CHECKED_WHOLE:
        for text in _strings_in(value):
            text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate


@given(text=st.text(st.characters(codec=None), max_size=8))
def test_is_text_is_having_a_utf8_form(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        encodable = False
    else:
        encodable = True
    assert v.is_text(text) == encodable
    assert (v.surrogate_problem(text) is None) == encodable


def _customer(**fields: object) -> object:
    from csdomain.customers import Customer

    return Customer(**{"id": "cus_1", "display_name": "A", **fields})  # type: ignore[arg-type]


def _ticket(**fields: object) -> object:
    from csdomain.tickets import Ticket

    base = {"id": "T-1", "customer_id": "cus_1", "channel": "email", "subject": "s"}
    return Ticket.open(at=datetime(2026, 1, 1, tzinfo=timezone.utc), **{**base, **fields})  # type: ignore[arg-type]


def _message(body: str) -> object:
    from csdomain.tickets import Ticket

    ticket = Ticket.open(
        id="T-1",
        customer_id="c",
        channel="email",
        subject="s",
        at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    return ticket.add_message(at=ticket.created_at, actor=Actor.agent("agt_1"), body=body)


def _contact(address: str) -> object:
    from csdomain.customers import ContactPoint

    return ContactPoint("email", address)


def _calendar(name: str) -> object:
    from csdomain.calendars import BusinessCalendar

    return BusinessCalendar.weekdays(name, "UTC", "09:00-17:00")


def _holiday(name: str) -> object:
    from csdomain.calendars import Holiday

    return Holiday(date(2026, 10, 1), name)


def _target(calendar: str) -> object:
    from csdomain.sla import Target

    return Target(timedelta(hours=1), calendar=calendar)


_LONE = "工单\ud800"


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: _customer(display_name=_LONE), "display_name"),
        (lambda: _customer(id="cus\ud800"), "id"),
        (lambda: _customer(segments={"vip", "t\udfff"}), "segments[0]"),  # sorted by repr
        (lambda: _customer(attributes={"plan": _LONE}), "attributes['plan']"),
        (lambda: _customer(attributes={"p\ud800": 1}), "attributes['p\\ud800']"),
        (lambda: _contact("a\ud800@example.com"), "address"),
        (lambda: _ticket(subject=_LONE), "subject"),
        (lambda: _ticket(tags=["t\ud800"]), "tags[0]"),
        (lambda: _ticket(custom_fields={"order": _LONE}), "custom_fields['order']"),
        (lambda: _message(_LONE), "body"),
        (lambda: _calendar(_LONE), "name"),
        (lambda: _holiday(_LONE), "name"),
        (lambda: _target(_LONE), "calendar"),
    ],
)
def test_lone_surrogates_are_refused_where_they_are_given(build: object, path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert path in caught.value.paths
    assert "lone surrogate" in str(caught.value)
    assert "are not text" in str(caught.value)
    str(caught.value).encode("utf-8")  # the message itself is text


@pytest.mark.parametrize(
    ("op", "values", "path"),
    [
        ("Equals", _LONE, "value"),
        ("In", ("ok", _LONE), "values[1]"),
        ("Contains", _LONE, "value"),
    ],
    ids=["Equals", "In", "Contains"],
)
@pytest.mark.parametrize("field", ["ticket.custom_fields.order", "customer.attributes.plan"])
def test_condition_values_refuse_lone_surrogates(
    op: str, values: object, path: str, field: str
) -> None:
    import csdomain.conditions

    cls = getattr(csdomain.conditions, op)
    with pytest.raises(ValidationError) as caught:
        cls(field, values)
    assert caught.value.paths == (path,)
    assert "lone surrogate" in str(caught.value)
    assert "are not text" in str(caught.value)
    str(caught.value).encode("utf-8")  # the message itself is text
    cls(field, "工单😀" if isinstance(values, str) else ("ok", "工单😀"))  # astral text is text


def test_astral_characters_are_text_and_their_surrogate_halves_are_not() -> None:
    assert _customer(display_name="客户😀").display_name == "客户😀"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        _customer(display_name="客户\ud83d\ude00")  # the two halves, not the character


def test_every_checked_class_is_covered() -> None:
    """The law above runs over the checks of every declared csdomain class."""
    names = {name.rsplit(".", 1)[0] for name, _ in _field_checks()}
    assert "csdomain.customers.Customer" in names
    assert "csdomain.tickets.events.TicketCreated" in names
    assert len(names) >= 20


def test_a_refusal_without_explanation_is_still_a_problem() -> None:
    """A check whose explain says nothing cannot let a refused value through."""
    silent = v.Check(lambda value: False, lambda value: iter(()))

    @attrs.frozen
    class Probe(v.Checked):
        x: int = attrs.field(metadata=v.checked(silent))

    with pytest.raises(ValidationError) as caught:
        Probe(1)
    assert caught.value.paths == ("x",)
    assert "rejected 1" in str(caught.value)


def test_a_str_subclass_cannot_bypass_the_consent_rule() -> None:
    """The bypass found in review: a str subclass as a contact address built a contact
    point with consent but no consent instant."""
    from csdomain.customers import Consent, ContactPoint

    with pytest.raises(ValidationError):
        ContactPoint(channel="sms", address=_Text("+8613800000000"), consent=Consent.GIVEN)


def test_messages_never_carry_a_whole_object() -> None:
    """A wrong-type error names the type, not the object's repr (which may hold personal
    data such as a phone number)."""
    from csdomain.customers import ContactPoint, Customer

    contact = ContactPoint(channel="phone", address="+8613800000000")
    with pytest.raises(ValidationError) as caught:
        Customer(id="cus_1", display_name="A", contact_points=contact)  # type: ignore[arg-type]
    assert "13800000000" not in str(caught.value)
    assert len(str(caught.value)) < 300


def test_describe_shows_scalars_and_names_other_types() -> None:
    assert v.describe("abc") == "'abc'"
    assert v.describe(date(2026, 1, 1)) == "datetime.date(2026, 1, 1)"
    assert v.describe(datetime(2026, 1, 1)).startswith("datetime.datetime(")
    assert v.describe(Decimal("1.5")) == "Decimal('1.5')"
    assert v.describe(timedelta(0)) == "datetime.timedelta(0)"
    assert v.describe(Actor.agent("agt_1")) == "a Actor object"
    assert v.describe("x" * 100).endswith("...")
