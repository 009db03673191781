"""Conditions: serializable predicates over a ticket and its customer.

SLA policies, escalation and routing rules and revisit plans choose what they
apply to with a condition. A condition is an immutable attrs value built from
the classes below; it serializes to JSON (``document: "condition"``) so that
an app can keep it in its database and edit it in an admin page. It holds no
code: no lambdas, no expressions to parse.

>>> from csdomain.conditions import AllOf, Compare, Contains, Equals
>>> rule = AllOf((Equals("ticket.kind", "complaint"), Compare("customer.tier", "ge", "vip")))
>>> rule.conditions[1].value
<CustomerTier.VIP: 'vip'>

Combinators: :class:`AllOf` (every one matches; ``AllOf(())`` always
matches, see :data:`ALWAYS`), :class:`AnyOf` (at least one matches;
``AnyOf(())`` never matches) and :class:`Not`. Tests on one field:
:class:`Equals`, :class:`In`, :class:`Compare` (``lt``, ``le``, ``gt``,
``ge``), :class:`Contains` and :class:`Exists`.

Fields are named by a path from a closed vocabulary:

==============================  ===============================================  ===================
path                            value                                            tests (and Exists)
==============================  ===============================================  ===================
``ticket.kind``                 :class:`~csdomain.tickets.TicketKind`            Equals, In
``ticket.channel``              a channel key (``"email"``)                      Equals, In
``ticket.priority``             :class:`~csdomain.priorities.Priority`           Equals, In, Compare
``ticket.status``               :class:`~csdomain.tickets.Status`                Equals, In
``ticket.group``                a group id (absent when unset)                   Equals, In
``ticket.assignee``             an agent id (absent when unset)                  Equals, In
``ticket.tier``                 an escalation tier key (``"L2"``)                Equals, In
``ticket.tags``                 a set of tags                                    Contains
``ticket.custom_fields.<key>``  a JSON scalar (absent when unset or null)        every test
``customer.tier``               :class:`~csdomain.customers.CustomerTier`        Equals, In, Compare
``customer.segments``           a set of segment tags                            Contains
``customer.attributes.<key>``   a JSON scalar (absent when unset or null)        every test
==============================  ===============================================  ===================

``<key>`` follows the rule for keys: 1-64 letters, digits, ``_ . : -``,
starting with a letter or digit.

**Everything is checked when the condition is built or loaded, never when it
is evaluated.** An unknown field, a value of the wrong type, an enum value
the field does not have, a comparison on a field without an order, ``In``
without values: each raises :class:`~csdomain.errors.ValidationError` naming
the path of the bad value (``value``; ``conditions[1].value`` when loading a
document). Enum-backed fields take the enum's members or their string values
(``"high"`` for ``Priority.HIGH``); either way the condition holds the
member. ``ticket.channel`` also takes a :class:`~csdomain.channels.ChannelKind`
or :class:`~csdomain.channels.Channel` and holds its key. ``None`` is never a
value: test for a missing value with :class:`Exists`. Conditions nest at most
:data:`MAX_DEPTH` (32) levels deep, so that evaluating, saving and loading
one never runs out of stack.

**Evaluation** (:meth:`Condition.matches`) is pure and never raises:

* A field is *absent* when the ticket (or customer) is not given, when a
  custom field or attribute is unset or ``null``, and when a ticket has no
  group or assignee. An absent field matches no test except ``Not``: so
  ``Equals`` is false on it and ``Not(Equals(...))`` true.
* :class:`Exists` is true when the field is present; a set field (tags,
  segments) must also be non-empty.
* Values compare by type, as JSON does: text equals text only, a boolean
  equals a boolean only, numbers compare as numbers (``1`` equals ``1.0``,
  and never ``True``). A custom field holding a value of another type than
  the test expects (text where a number is compared, a number where text is
  searched) does not match; it is not an error.
* ``Compare`` orders priorities and customer tiers by their scale
  (``low < normal < high < urgent``; ``standard < vip < enterprise``) and
  custom fields and attributes holding numbers by value.
* ``Contains`` tests membership in a set field, and is a case-sensitive
  substring test on text in a custom field or attribute.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.registry import Registry
from csdomain._kernel.validation import (
    KEY_PATTERN,
    Check,
    Checked,
    checked,
    each,
    instance,
    is_text,
    surrogate_problem,
    tuple_of,
)
from csdomain.channels import Channel, ChannelKind, channel_key
from csdomain.conditions.facts import Facts
from csdomain.conditions.fields import (
    CONDITION_FIELDS,
    KEYED_FIELDS,
    ConditionField,
    FieldKind,
    KeyedFields,
    declare_field,
    declare_keyed_fields,
    field_vocabulary,
    resolve_field,
)

if TYPE_CHECKING:
    from csdomain.customers import Customer
    from csdomain.tickets import Ticket

__all__ = [
    "ALWAYS",
    "CONDITION_FIELDS",
    "CONDITION_TYPES",
    "KEYED_FIELDS",
    "MAX_DEPTH",
    "AllOf",
    "AnyOf",
    "Compare",
    "Comparison",
    "Condition",
    "ConditionField",
    "Contains",
    "Equals",
    "Exists",
    "Facts",
    "FieldKind",
    "In",
    "KeyedFields",
    "Not",
    "declare_field",
    "declare_keyed_fields",
    "field_vocabulary",
]

#: A value a field test compares with: a JSON scalar other than null, or an enum member.
_Value = str | int | float | bool | Enum


# -- fields ---------------------------------------------------------------------

_ENUM, _KEY, _SET, _SCALAR = FieldKind.ENUM, FieldKind.KEY, FieldKind.SET, FieldKind.SCALAR
_Field = ConditionField
_resolve = resolve_field


def _field_of(path: str) -> ConditionField:
    """The field of a path already checked by :data:`_field_path`."""
    found = resolve_field(path)
    assert found is not None, path
    return found


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path_ok(value: object) -> bool:
    return type(value) is str and _resolve(value) is not None


def _path_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not str:
        yield "", f"expected a field path such as 'ticket.priority', got {_show(value)}"
        return
    for prefix in KEYED_FIELDS:
        if value.startswith(prefix):
            yield (
                "",
                (
                    f"{value!r}: the name after {prefix!r} must be a key of 1-64 letters, "
                    "digits, '_', '.', ':' or '-' starting with a letter or digit"
                ),
            )
            return
    vocabulary = field_vocabulary()
    close = difflib.get_close_matches(value, vocabulary, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    yield "", f"unknown field {value!r}{hint}; expected one of {', '.join(vocabulary)}"


_field_path = Check(_path_ok, _path_explain)


# -- values -----------------------------------------------------------------------


def _normalize(field: _Field, value: object) -> object:
    """Enum values to members, channels to their keys; anything else as it is."""
    if field.enum is not None and type(value) is str:
        return field.enum._value2member_map_.get(value, value)
    if field.path == "ticket.channel" and isinstance(value, (ChannelKind, Channel)):
        return channel_key(value)
    return value


def _is_number(value: object) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _is_scalar(value: object) -> bool:
    return type(value) in (str, bool) or _is_number(value)


def _allowed(enum: type[Enum]) -> str:
    return ", ".join(repr(m.value) for m in enum)


_KEY_RULE: Final = "of 1-64 letters, digits, '_', '.', ':' or '-' starting with a letter or digit"
_SET_TESTS: Final = "use Contains to test for one"
_ORDERED: Final = (
    "Compare works on ticket.priority, customer.tier and numbers in "
    "ticket.custom_fields.<key> and customer.attributes.<key>"
)
_SEARCHABLE: Final = (
    "Contains works on ticket.tags, customer.segments and text in "
    "ticket.custom_fields.<key> and customer.attributes.<key>"
)


def _equality_problem(field: _Field, value: object) -> str | None:
    """Why ``value`` cannot be compared for equality with ``field``, or ``None``."""
    if field.kind is _ENUM:
        assert field.enum is not None
        if type(value) is not field.enum:
            name = field.enum.__name__
            return f"{field.path} takes a {name} ({_allowed(field.enum)}), got {_show(value)}"
    elif field.kind is _KEY:
        if type(value) is not str or KEY_PATTERN.fullmatch(value) is None:
            return f"{field.path} takes a {field.what} {_KEY_RULE}, got {_show(value)}"
    elif not _is_scalar(value):
        hint = "; use Exists to test for a missing value" if value is None else ""
        return f"{field.path} takes text, a finite number or true/false, got {_show(value)}{hint}"
    elif type(value) is str and not is_text(value):
        return f"{field.path} takes text; the value {surrogate_problem(value)}"
    return None


def _typed(value: object) -> tuple[type, object]:
    """Equality key: ``True``, ``1`` and ``1.0`` are different conditions' values."""
    return (type(value), value)


def _typed_all(values: object) -> object:
    if isinstance(values, tuple):
        return tuple(map(_typed, values))
    return _typed(values)


def _same(actual: object, expected: object) -> bool:
    """``actual == expected`` by JSON's types: text, booleans and numbers never mix."""
    if isinstance(expected, Enum) or type(expected) is bool:
        return actual is expected
    if type(expected) is str:
        return type(actual) is str and actual == expected
    return type(actual) in (int, float) and actual == expected


# -- conditions ------------------------------------------------------------------

#: Every condition class, by the ``op`` tag used in JSON documents; filled by the classes.
CONDITION_TYPES: Final[Registry[str, type[Condition]]] = Registry("condition type")


@attrs.frozen
class Condition(Checked):
    """Base of every condition; not instantiated itself.

    ``op`` is the tag naming the condition's class in JSON documents
    (``"all"``, ``"any"``, ``"not"``, ``"equals"``, ``"in"``, ``"compare"``,
    ``"contains"``, ``"exists"``).
    """

    op: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        op = cls.__dict__.get("op")
        if op:
            present = CONDITION_TYPES.get(op)
            same = present is not None and (present.__module__, present.__qualname__) == (
                cls.__module__,
                cls.__qualname__,
            )
            (CONDITION_TYPES.replace if same else CONDITION_TYPES.add)(op, cls)

    #: Nesting depth: 0 for a field test, one more than the deepest part for a combinator.
    _depth: int = attrs.field(init=False, default=0, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if type(self) is Condition:
            raise TypeError(
                "Condition is the base class; build AllOf, AnyOf, Not, Equals, In, "
                "Compare, Contains or Exists"
            )
        super().__attrs_post_init__()
        parts = self._parts()
        if parts is not None:
            object.__setattr__(self, "_depth", _nesting(parts))

    def _parts(self) -> tuple[Condition, ...] | None:
        """The conditions a combinator combines; ``None`` for a field test."""
        return None

    def matches(
        self,
        ticket: Ticket | None = None,
        customer: Customer | None = None,
        **facts: object,
    ) -> bool:
        """Whether ``ticket``, its ``customer`` and any other named ``facts`` satisfy the
        condition.

        Pure and total: never raises for a valid ticket and customer. Fields of
        a ticket or customer that is not given are absent (so a customer-only
        condition can select customers, as revisit plans do). ``customer``
        should be the ticket's customer; that is not checked. Fields that
        features declare read the facts they name (``matches(ticket, sla=status)``).
        """
        return self.holds(Facts(facts, ticket=ticket, customer=customer))

    def holds(self, facts: Mapping[str, object]) -> bool:
        """Whether the condition holds in the context ``facts`` (fact name -> object).

        Subclasses (a feature's own condition types, too) implement this.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement holds(facts)")

    @property
    def field_paths(self) -> frozenset[str]:
        """Every field path the condition reads (to know whether to load the customer)."""
        field = getattr(self, "field", None)  # the field tests' one field
        return frozenset() if field is None else frozenset((field,))


declare_document("condition", Condition)


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple_of(value)


def _values(value: list[_Value] | tuple[_Value, ...] | AbstractSet[_Value]) -> tuple[_Value, ...]:
    # Typed as collections, not Iterable: In("ticket.status", "open") would pass as one.
    return tuple_of(value)


def _conditions_check() -> Check:
    return each(instance(Condition, "a condition (AllOf, AnyOf, Not, Equals, ...)"), tuple)


#: How deep conditions may nest (a field test is 0 deep, ``Not(test)`` 1, ...).
MAX_DEPTH: Final = 32


def _nesting(parts: tuple[Condition, ...]) -> int:
    return 1 + max((p._depth for p in parts), default=0)


def _depth_problems(parts: tuple[Condition, ...], path: str) -> Iterator[tuple[str, str]]:
    depth = _nesting(parts)
    if depth > MAX_DEPTH:
        yield path, f"conditions nest {depth} levels deep; at most {MAX_DEPTH} are allowed"


@attrs.frozen
class _Combination(Condition):
    """What AllOf and AnyOf share: the conditions they combine."""

    conditions: tuple[Condition, ...] = attrs.field(
        factory=tuple, converter=_conditions, metadata=checked(_conditions_check())
    )

    def _parts(self) -> tuple[Condition, ...]:
        return self.conditions

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        return _depth_problems(self.conditions, "conditions")

    @property
    def field_paths(self) -> frozenset[str]:
        return frozenset().union(*(c.field_paths for c in self.conditions))


@attrs.frozen
class AllOf(_Combination):
    """Matches when every condition in ``conditions`` matches (always, when there are none)."""

    op: ClassVar[str] = "all"

    def holds(self, facts: Mapping[str, object]) -> bool:
        return all(c.holds(facts) for c in self.conditions)


@attrs.frozen
class AnyOf(_Combination):
    """Matches when at least one condition in ``conditions`` matches (never, when there are
    none)."""

    op: ClassVar[str] = "any"

    def holds(self, facts: Mapping[str, object]) -> bool:
        return any(c.holds(facts) for c in self.conditions)


@attrs.frozen
class Not(Condition):
    """Matches when ``condition`` does not."""

    op: ClassVar[str] = "not"
    condition: Condition = attrs.field(
        metadata=checked(instance(Condition, "a condition (AllOf, AnyOf, Not, Equals, ...)"))
    )

    def holds(self, facts: Mapping[str, object]) -> bool:
        return not self.condition.holds(facts)

    def _parts(self) -> tuple[Condition, ...]:
        return (self.condition,)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        return _depth_problems((self.condition,), "condition")

    @property
    def field_paths(self) -> frozenset[str]:
        return self.condition.field_paths


@attrs.frozen
class Equals(Condition):
    """Matches when the field is present and equals ``value``.

    Not for set fields (tags, segments): use :class:`Contains`.
    """

    op: ClassVar[str] = "equals"
    field: str = attrs.field(metadata=checked(_field_path))
    value: _Value = attrs.field(eq=_typed)

    def __attrs_post_init__(self) -> None:
        if _path_ok(self.field):
            object.__setattr__(self, "value", _normalize(_field_of(self.field), self.value))
        super().__attrs_post_init__()

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        field = _field_of(self.field)
        if field.kind is _SET:
            yield "field", f"{self.field} is a set of {field.what}s; {_SET_TESTS}"
            return
        problem = _equality_problem(field, self.value)
        if problem:
            yield "value", problem

    def holds(self, facts: Mapping[str, object]) -> bool:
        actual = _field_of(self.field).value(facts)
        return actual is not None and _same(actual, self.value)


def _values_check() -> Check:
    def ok(value: object) -> bool:
        return isinstance(value, tuple) and len(value) > 0

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if isinstance(value, tuple):
            yield "", "expected at least one value; In(field, ()) could never match"
        else:
            yield "", f"expected a non-empty list of values, got {_show(value)}"

    return Check(ok, explain)


@attrs.frozen
class In(Condition):
    """Matches when the field is present and equals one of ``values`` (at least one).

    Not for set fields (tags, segments): use :class:`AnyOf` of :class:`Contains`.
    """

    op: ClassVar[str] = "in"
    field: str = attrs.field(metadata=checked(_field_path))
    values: tuple[_Value, ...] = attrs.field(
        converter=_values, eq=_typed_all, metadata=checked(_values_check())
    )

    def __attrs_post_init__(self) -> None:
        if _path_ok(self.field) and isinstance(self.values, tuple):
            field = _field_of(self.field)
            object.__setattr__(self, "values", tuple(_normalize(field, v) for v in self.values))
        super().__attrs_post_init__()

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        field = _field_of(self.field)
        if field.kind is _SET:
            yield "field", f"{self.field} is a set of {field.what}s; {_SET_TESTS}"
            return
        for i, value in enumerate(self.values):
            problem = _equality_problem(field, value)
            if problem:
                yield f"values[{i}]", problem

    def holds(self, facts: Mapping[str, object]) -> bool:
        actual = _field_of(self.field).value(facts)
        return actual is not None and any(_same(actual, v) for v in self.values)


class Comparison(Enum):
    """How :class:`Compare` orders the field's value against its ``value``."""

    LT = "lt"  #: field < value
    LE = "le"  #: field <= value
    GT = "gt"  #: field > value
    GE = "ge"  #: field >= value


_OPERATORS: Final[Mapping[Comparison, Callable[[Any, Any], bool]]] = {
    Comparison.LT: operator.lt,
    Comparison.LE: operator.le,
    Comparison.GT: operator.gt,
    Comparison.GE: operator.ge,
}


def _comparison(value: Comparison | str) -> Comparison:
    """attrs converter: ``"ge"`` to ``Comparison.GE``; anything else is left for the check."""
    if type(value) is str:
        found = Comparison._value2member_map_.get(value)
        return found if isinstance(found, Comparison) else value  # type: ignore[return-value]
    return value  # type: ignore[return-value]  # anything else is left for the check


def _comparison_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"unknown comparison {_show(value)}; expected one of {_allowed(Comparison)}"


_comparison_check = Check(lambda v: type(v) is Comparison, _comparison_explain)


@attrs.frozen
class Compare(Condition):
    """Matches when the field is present and ``field <comparison> value`` holds.

    ``comparison`` is a :class:`Comparison` or its value (``"lt"``, ``"le"``,
    ``"gt"``, ``"ge"``). Works on ordered fields: ``ticket.priority`` and
    ``customer.tier`` (by their scale), and custom fields and attributes, which
    match only when they hold a number.
    """

    op: ClassVar[str] = "compare"
    field: str = attrs.field(metadata=checked(_field_path))
    comparison: Comparison = attrs.field(converter=_comparison, metadata=checked(_comparison_check))
    value: _Value = attrs.field(eq=_typed)

    def __attrs_post_init__(self) -> None:
        if _path_ok(self.field):
            object.__setattr__(self, "value", _normalize(_field_of(self.field), self.value))
        super().__attrs_post_init__()

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        field = _field_of(self.field)
        if not field.ordered:
            yield "field", f"{self.field} has no order; {_ORDERED}"
        elif field.enum is not None:
            if type(self.value) is not field.enum:
                name = field.enum.__name__
                allowed = _allowed(field.enum)
                yield "value", f"{field.path} takes a {name} ({allowed}), got {_show(self.value)}"
        elif not _is_number(self.value):
            yield "value", f"expected a finite number to compare with, got {_show(self.value)}"

    def holds(self, facts: Mapping[str, object]) -> bool:
        actual = _field_of(self.field).value(facts)
        expected = self.value
        if isinstance(expected, Enum):
            if type(actual) is not type(expected):
                return False
        elif type(actual) not in (int, float):
            return False
        return _OPERATORS[self.comparison](actual, expected)


@attrs.frozen
class Contains(Condition):
    """Matches when a set field (``ticket.tags``, ``customer.segments``) has ``value``, or
    when a custom field or attribute holds text that contains ``value`` (case-sensitive)."""

    op: ClassVar[str] = "contains"
    field: str = attrs.field(metadata=checked(_field_path))
    value: str = attrs.field()

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        field = _field_of(self.field)
        value = self.value
        if field.kind is _SET:
            if type(value) is not str or KEY_PATTERN.fullmatch(value) is None:
                yield "value", f"{self.field} holds {field.what}s {_KEY_RULE}, got {_show(value)}"
        elif field.kind is not _SCALAR:
            yield "field", f"{self.field} is neither a set nor text; {_SEARCHABLE}"
        elif type(value) is not str or not value:
            yield "value", f"expected non-empty text to search for, got {_show(value)}"
        elif not is_text(value):
            yield "value", f"expected text to search for; the value {surrogate_problem(value)}"

    def holds(self, facts: Mapping[str, object]) -> bool:
        actual = _field_of(self.field).value(facts)
        if type(actual) is frozenset:
            return self.value in actual
        return type(actual) is str and self.value in actual


@attrs.frozen
class Exists(Condition):
    """Matches when the field is present: a ticket (or customer) is given, a custom field
    or attribute is set and not null, a group or assignee is set, a set field is not empty."""

    op: ClassVar[str] = "exists"
    field: str = attrs.field(metadata=checked(_field_path))

    def holds(self, facts: Mapping[str, object]) -> bool:
        actual = _field_of(self.field).value(facts)
        if type(actual) is frozenset:
            return bool(actual)
        return actual is not None


#: The condition every ticket matches: ``AllOf(())``.
ALWAYS: Final = AllOf(())
