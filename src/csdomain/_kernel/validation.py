"""Field helpers: construction-time checks that report every problem at once.

attrs stops at the first failing validator; csdomain wants a ``ValidationError``
listing every bad field. So checks live in field metadata and
:class:`Checked.__attrs_post_init__` runs them all and raises once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final, TypeVar, cast

import attrs

from csdomain._kernel.registry import declare_type
from csdomain._kernel.time import (
    DURATION_MAX,
    INSTANT_END,
    INSTANT_MIN,
    UTC,
    duration_text,
    is_aware,
    optional_utc,
    span_problem,
    to_utc,
    utc_tuple,
    zone_problem,
)
from csdomain.errors import ValidationError
from csdomain.privacy import PERSONAL

Explain = Callable[[Any], Iterable[tuple[str, str]]]

E = TypeVar("E", bound=Enum)


class Check:
    """A field check: a fast ``ok`` test, and ``explain`` to list problems when it fails.

    ``explain`` yields ``(subpath, message)`` pairs; ``subpath`` is appended to
    the field name (``"[2]"``, ``".address"``). Construction runs only ``ok`` on
    valid input, so checking stays cheap on the hot path (loading documents).

    A check made by :meth:`expression` also keeps its ``ok`` test as source
    text, so :func:`inline` can paste it into generated code (one function
    testing every field of a class) instead of calling it; ``ok`` is compiled
    from that same text, so the two cannot differ. ``types``, when known, are
    the exact types ``ok`` can accept (``ok(v)`` implies ``type(v) in types``).
    """

    __slots__ = ("explain", "names", "ok", "shape", "source", "types")

    def __init__(
        self,
        ok: Callable[[Any], bool],
        explain: Explain,
        *,
        types: tuple[type, ...] | None = None,
    ) -> None:
        self.ok = ok
        self.explain = _refused_only(ok, explain)
        self.types = types
        #: When known, the container type ``ok`` implies with the exact types of its
        #: items: ``dict[str, JsonScalar]`` for json_scalars means ``ok(v)`` only for a
        #: dict whose keys are exactly ``str`` and values exactly JSON scalar types.
        self.shape: object = None
        self.source: str | None = None
        self.names: Mapping[str, object] = {}

    @classmethod
    def expression(
        cls,
        source: str,
        explain: Explain,
        /,
        *,
        types: tuple[type, ...] | None = None,
        **names: object,
    ) -> Check:
        """A check whose ``ok`` is the expression ``source``: ``{v}`` stands for the
        value and ``{name}`` for each object passed in ``names``."""
        code = source.format(v="value", **{n: n for n in names})
        ok = eval(f"lambda value: {code}", dict(names))  # our own source text, not input
        check = cls(ok, explain, types=types)
        check.source = source
        check.names = MappingProxyType(dict(names))
        return check

    @classmethod
    def of(cls, check: Check | Explain) -> Check:
        """``check`` itself, or a plain explain function wrapped as a check."""
        if isinstance(check, Check):
            return check
        return cls(lambda v: next(iter(check(v)), None) is None, check)


def _refused_only(ok: Callable[[Any], bool], explain: Explain) -> Explain:
    """``explain`` speaking only of values ``ok`` refuses, so the two agree by construction."""

    def guarded(value: Any) -> Iterable[tuple[str, str]]:
        return () if ok(value) else explain(value)

    return guarded


def inline(check: Check, var: str, prefix: str) -> tuple[str, dict[str, object]]:
    """``check``'s ``ok`` test as an expression over the variable ``var``, and the names
    it needs (each starting with ``prefix``, so several checks can share a namespace).

    A check without source text becomes a call of its ``ok`` function.
    """
    if check.source is None:
        return f"{prefix}ok({var})", {f"{prefix}ok": check.ok}
    renamed = {name: f"{prefix}{name}" for name in check.names}
    code = check.source.format(v=var, **renamed)
    return f"({code})", {renamed[name]: value for name, value in check.names.items()}


CHECK = "csdomain.check"

JsonScalar = str | int | float | bool | None

KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")  # always used with fullmatch

_Compiled = tuple[tuple[tuple[str, Check], ...], Callable[[Any], bool], bool]
_checks_cache: dict[type, _Compiled] = {}


def compile_all_ok(
    fields: Iterable[tuple[str, Check]], *, read: str = "self.{name}"
) -> tuple[list[str], str, dict[str, object]]:
    """Code testing every ``(name, check)`` at once: the statements binding each value
    (``read`` says how to get it), the expression that is true when every ``ok`` is,
    and the names the code needs. Used by :func:`checks_of` and by loaders that build
    objects without ``__init__``; the expression runs exactly the checks' ``ok`` tests."""
    namespace: dict[str, object] = {}
    binds: list[str] = []
    tests: list[str] = []
    for i, (name, check) in enumerate(fields):
        var = f"_v{i}"
        binds.append(f"{var} = {read.format(name=name)}")
        code, names = inline(check, var, f"_c{i}_")
        tests.append(code)
        namespace.update(names)
    return binds, " and ".join(tests) or "True", namespace


def checks_of(cls: type) -> _Compiled:
    """The field checks of ``cls``, one function running every ``ok`` test, and whether
    the class adds whole-object checks (:meth:`Checked._check_whole`)."""
    found = _checks_cache.get(cls)
    if found is None:
        checks = tuple(
            (a.name, a.metadata[CHECK]) for a in attrs.fields(cls) if CHECK in a.metadata
        )
        # One generated function instead of a loop: this runs for every object loaded.
        binds, test, namespace = compile_all_ok(checks)
        body = "".join(f"    {line}\n" for line in binds)
        exec(f"def all_ok(self):\n{body}    return {test}\n", namespace)
        has_whole = getattr(cls, "_check_whole", None) is not Checked._check_whole
        found = (checks, cast(Callable[[Any], bool], namespace["all_ok"]), has_whole)
        _checks_cache[cls] = found
    return found


_checks_of = checks_of


class Checked:
    """Mixin for attrs classes whose fields carry csdomain checks.

    Every subclass is announced to :data:`csdomain._kernel.registry.declared_types`,
    which is how the Hypothesis hook learns of types without a central list.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declare_type(cls)

    def __attrs_post_init__(self) -> None:
        checks, all_ok, has_whole = checks_of(type(self))
        if all_ok(self):
            if not has_whole:
                return
            problems = list(self._check_whole())
            if problems:
                raise ValidationError(type(self).__name__, problems)
            return
        # Some check failed, so there is at least one problem; the error takes them one
        # at a time and keeps only the first few, however many the values hold.
        raise ValidationError(type(self).__name__, self._field_problems(checks))

    def _field_problems(self, checks: Iterable[tuple[str, Check]]) -> Iterator[tuple[str, str]]:
        for name, check in checks:
            value = getattr(self, name)
            if not check.ok(value):
                for sub, message in explain(check, value):
                    yield name + sub, message

    def _check_whole(self) -> Iterable[tuple[str, str]]:
        """Checks across fields, run once every field is valid on its own."""
        return ()


def explain(check: Check, value: object) -> Iterator[tuple[str, str]]:
    """The problems ``check`` finds in ``value``, which its ``ok`` test refused, one at a
    time (a value may hold many: read only those you need).

    The seam cannot be bypassed: if ``explain`` finds nothing to say about a
    value that ``ok`` refused, that is reported as a problem too, never a pass.
    """
    found = iter(check.explain(value))
    first = next(found, None)
    if first is None:
        yield "", f"rejected {describe(value)}"
        return
    yield first
    yield from found


def checked(check: Check | Explain | None = None, *, personal: bool = False) -> dict[str, Any]:
    """attrs field metadata: the csdomain ``check`` and the personal-data mark.

    Used as ``attrs.field(metadata=checked(text()), ...)`` so that mypy's attrs
    support sees the field's default and converter.
    """
    metadata: dict[str, Any] = {}
    if check is not None:
        metadata[CHECK] = Check.of(check)
    if personal:
        metadata[PERSONAL] = True
    return metadata


# -- checks ------------------------------------------------------------------


_SHOWN: Final = (str, int, float, bool, type(None), Decimal, date, timedelta, Enum)


def describe(value: object) -> str:
    """How an error message shows a rejected value: scalars by their (shortened) repr,
    anything else by its type alone, so a message never carries a whole object's repr
    (which could hold personal data)."""
    if type(value) is int and value.bit_length() > 192:  # repr of a huge int is slow or refused
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, _SHOWN):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__} object"


_show = describe


# -- text ----------------------------------------------------------------------------
#
# Every check that accepts a str accepts only text: a str holding a lone surrogate
# (U+D800 to U+DFFF, which Python allows in a str) has no UTF-8 form, so it could be
# neither stored, nor sent, nor written as JSON. The checks refuse it at construction.

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def is_text(value: str) -> bool:
    """True when the str ``value`` holds no lone surrogate, so it has a UTF-8 form.

    Constant time for ASCII text; a scan of the string otherwise.
    """
    return value.isascii() or _SURROGATE.search(value) is None


def surrogate_problem(value: str) -> str | None:
    """Why the str ``value`` is not text (the first lone surrogate), or None when it is."""
    if value.isascii():
        return None
    found = _SURROGATE.search(value)
    if found is None:
        return None
    return (
        f"contains the lone surrogate {found.group()!r} at index {found.start()}; "
        "lone surrogates (U+D800 to U+DFFF) are not text and have no UTF-8 form"
    )


def text(*, max_length: int = 10_000, allow_empty: bool = False) -> Check:
    """A ``str``, non-blank unless ``allow_empty``, at most ``max_length`` long, without NUL
    and without lone surrogates (see :func:`is_text`)."""

    blank = "" if allow_empty else ' and {v} != "" and not {v}.isspace()'

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if type(value) is not str:
            yield "", f"expected text (str), got {type(value).__name__} {_show(value)}"
        elif not allow_empty and not value.strip():
            yield "", f"must not be empty or blank, got {_show(value)}"
        elif len(value) > max_length:
            yield "", f"must be at most {max_length} characters, got {len(value)}"
        elif "\x00" in value:
            yield "", "must not contain NUL characters"
        else:
            problem = surrogate_problem(value)
            if problem is not None:
                yield "", problem

    return Check.expression(
        "type({v}) is str and len({v}) <= {most}"
        + blank
        + " and {nul} not in {v} and ({v}.isascii() or {surrogate}({v}) is None)",
        explain,
        types=(str,),
        most=max_length,
        nul="\x00",
        surrogate=_SURROGATE.search,
    )


def optional(inner: Check) -> Check:
    """``None`` or whatever ``inner`` accepts."""
    types = None if inner.types is None else (*inner.types, type(None))
    if inner.source is not None:
        source = "{v} is None or " + inner.source
        return Check.expression(source, inner.explain, types=types, **inner.names)
    inner_ok = inner.ok
    return Check(lambda v: v is None or inner_ok(v), inner.explain, types=types)


def key(what: str = "key") -> Check:
    """An identifier: 1-64 characters of letters, digits, ``_ . : -``, not starting with a mark."""

    def explain(value: object) -> Iterator[tuple[str, str]]:
        problem = surrogate_problem(value) if type(value) is str else None
        yield (
            "",
            (
                f"expected a {what} of 1-64 letters, digits, '_', '.', ':' or '-' "
                f"starting with a letter or digit, got {_show(value)}"
                + ("" if problem is None else f"; it {problem}")
            ),
        )

    return Check.expression(
        "type({v}) is str and ({v} in {seen} or {learn}({v}))",
        explain,
        types=(str,),
        seen=_known_keys,
        learn=_learn_key,
    )


# Keys repeat (channel keys, agent ids, tags on every event): remembering the ones the
# pattern accepted saves a regular-expression match per field when loading timelines.
_known_keys: set[str] = set()
_KNOWN_KEYS_LIMIT: Final = 8192


def _learn_key(value: str) -> bool:
    if KEY_PATTERN.fullmatch(value) is None:
        return False
    if len(_known_keys) >= _KNOWN_KEYS_LIMIT:
        _known_keys.clear()
    _known_keys.add(value)
    return True


def _instant_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, datetime):
        yield "", f"expected an aware datetime, got {type(value).__name__} {_show(value)}"
    elif not is_aware(value):
        yield (
            "",
            (
                f"naive datetime {value.isoformat()} rejected; "
                "expected a timezone-aware datetime (e.g. tzinfo=timezone.utc)"
            ),
        )
    else:
        yield "", span_problem(value)


#: An aware datetime among the accepted instants, :data:`~csdomain._kernel.time.INSTANT_MIN`
#: (included) to :data:`~csdomain._kernel.time.INSTANT_END` (excluded); naive ones are
#: rejected, never guessed.
instant = Check.expression(
    "isinstance({v}, {datetime}) and ({v}.tzinfo is {utc} or {is_aware}({v}))"
    " and {lo} <= {v} < {hi}",
    _instant_explain,
    datetime=datetime,
    utc=UTC,
    is_aware=is_aware,
    lo=INSTANT_MIN,
    hi=INSTANT_END,
)


def _date_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"expected a date, got {type(value).__name__} {_show(value)}"


#: A ``date`` that is not a ``datetime``.
calendar_date = Check.expression("type({v}) is {date}", _date_explain, types=(date,), date=date)


def member_of(enum: type[Enum]) -> Check:
    """A member of ``enum``."""
    allowed = ", ".join(repr(m.value) for m in enum)

    def explain(value: object) -> Iterator[tuple[str, str]]:
        yield "", f"expected a {enum.__name__} ({allowed}), got {_show(value)}"

    return Check.expression("type({v}) is {enum}", explain, types=(enum,), enum=enum)


def instance(cls: type | tuple[type, ...], what: str) -> Check:
    """An instance of ``cls``."""

    def explain(value: object) -> Iterator[tuple[str, str]]:
        yield "", f"expected {what}, got {type(value).__name__} {_show(value)}"

    return Check.expression("isinstance({v}, {cls})", explain, cls=cls)


def _boolean_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"expected true or false, got {_show(value)}"


#: Exactly ``True`` or ``False``.
boolean = Check.expression("type({v}) is bool", _boolean_explain, types=(bool,))


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Check:
    """An ``int`` (not ``bool``) within the bounds."""

    source = "type({v}) is int"
    if minimum is not None:
        source += " and {v} >= {minimum}"
    if maximum is not None:
        source += " and {v} <= {maximum}"

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if type(value) is not int:
            yield "", f"expected an integer, got {type(value).__name__} {_show(value)}"
        elif minimum is not None and value < minimum:
            yield "", f"must be at least {minimum}, got {_show(value)}"
        else:
            yield "", f"must be at most {maximum}, got {_show(value)}"

    return Check.expression(source, explain, types=(int,), minimum=minimum, maximum=maximum)


def duration(*, allow_zero: bool = True, maximum: timedelta = DURATION_MAX) -> Check:
    """A non-negative ``timedelta`` (positive unless ``allow_zero``), at most ``maximum``
    (default :data:`~csdomain._kernel.time.DURATION_MAX`, 100 years)."""
    zero = timedelta(0)
    sign = "({v} > {zero} or {v} == {zero})" if allow_zero else "{v} > {zero}"
    bound = "zero or positive" if allow_zero else "positive"

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, timedelta):
            yield "", f"expected a timedelta, got {type(value).__name__} {_show(value)}"
        elif value > maximum:
            yield "", f"must be at most {duration_text(maximum)}, got {value!r}"
        else:
            yield "", f"must be {bound}, got {value!r}"

    return Check.expression(
        "type({v}) is {timedelta} and " + sign + " and {v} <= {most}",
        explain,
        types=(timedelta,),
        timedelta=timedelta,
        zero=zero,
        most=maximum,
    )


def _decimal_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"expected a finite Decimal amount, got {_show(value)}"


#: A finite ``Decimal``.
decimal_amount = Check(lambda v: isinstance(v, Decimal) and v.is_finite(), _decimal_explain)


def _zone_explain(value: object) -> Iterator[tuple[str, str]]:
    problem = zone_problem(value)
    if problem:
        yield "", problem


#: An IANA time zone name that this machine's zoneinfo knows.
iana_zone = Check(lambda v: zone_problem(v) is None, _zone_explain)


def each(inner: Check, container: type | tuple[type, ...] = (tuple, frozenset)) -> Check:
    """A tuple (or frozenset) whose every item passes ``inner``."""
    inner_ok = inner.ok

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, container):
            yield "", f"expected a collection, got {type(value).__name__} {_show(value)}"
            return
        collection = cast(Iterable[object], value)
        items = sorted(collection, key=repr) if isinstance(value, frozenset) else list(collection)
        for i, item in enumerate(items):
            if not inner_ok(item):
                for sub, message in inner.explain(item):
                    yield f"[{i}]{sub}", message

    check = Check.expression(
        "isinstance({v}, {container}) and all(map({inner_ok}, {v}))",
        explain,
        container=container,
        inner_ok=inner_ok,
    )
    if inner.types == (str,) and container is frozenset:
        check.types = (frozenset,)
        check.shape = frozenset[str]
    return check


def unique_by(*attributes: str, what: str) -> Check:
    """A tuple of objects whose ``attributes`` values (taken together) are pairwise distinct."""
    get = attrgetter(*attributes)

    def values(value: object) -> list[object]:
        items: tuple[object, ...] = value if isinstance(value, tuple) else ()
        return [get(item) for item in items]

    def ok(value: object) -> bool:
        found = values(value)
        return len(set(found)) == len(found)

    def explain(value: object) -> Iterator[tuple[str, str]]:
        # The duplicate is named by position, not shown: it may be personal data.
        first: dict[object, int] = {}
        for i, k in enumerate(values(value)):
            if k in first:
                yield f"[{i}].{attributes[-1]}", f"duplicate {what}: the same as [{first[k]}]"
            else:
                first[k] = i

    return Check(ok, explain)


def _json_scalars_ok(value: object) -> bool:
    if type(value) is not dict:
        return False
    for k, v in value.items():
        if type(k) is not str or not (k in _known_keys or _learn_key(k)):
            return False
        if type(v) is str:
            if v.isascii() or _SURROGATE.search(v) is None:
                continue
            return False
        if v is None or type(v) is bool or (type(v) is int and _INT64[0] <= v <= _INT64[1]):
            continue
        if type(v) is not float or v != v or v in (_INF, -_INF):
            return False
    return True


_INF = float("inf")
#: Integers must fit 64 bits: JSON parsers (orjson, PostgreSQL, JavaScript) lose larger ones.
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
_INT64 = (INT64_MIN, INT64_MAX)


def _json_scalars_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not dict:
        yield "", f"expected a dict, got {type(value).__name__} {_show(value)}"
        return
    for k, v in value.items():
        at = f"[{_show(k)}]"
        if not isinstance(k, str) or not KEY_PATTERN.fullmatch(k):
            problem = surrogate_problem(k) if isinstance(k, str) else None
            yield (
                at,
                "expected a key of letters, digits, '_', '.', ':' or '-', got "
                + _show(k)
                + ("" if problem is None else f"; it {problem}"),
            )
        elif type(v) is str and not is_text(v):
            yield at, f"text {surrogate_problem(v)}"
        elif v is not None and type(v) not in (str, int, float, bool):
            yield (
                at,
                (
                    "expected a JSON scalar (text, number, boolean or null), "
                    f"got {type(v).__name__} {_show(v)}"
                ),
            )
        elif isinstance(v, float) and (v != v or v in (_INF, -_INF)):
            yield at, f"numbers must be finite, got {v!r}"
        elif type(v) is int and not _INT64[0] <= v <= _INT64[1]:
            yield at, f"integers must fit in 64 bits (-2**63 to 2**63-1), got {_show(v)}"


#: A dict of key-like strings to JSON scalars (text, number, boolean, null).
json_scalars = Check(_json_scalars_ok, _json_scalars_explain, types=(dict,))
json_scalars.shape = dict[str, JsonScalar]


def distinct_keys(what: str) -> Check:
    """A tuple of keys (each a ``what``) in which no key is listed twice; a repeat is
    named by its position and the position of its first listing."""
    inner = each(key(what), tuple)

    def explain(value: object) -> Iterator[tuple[str, str]]:
        if not inner.ok(value):
            yield from inner.explain(value)
            return
        assert isinstance(value, tuple)
        first: dict[str, int] = {}
        for i, item in enumerate(value):
            if item in first:
                yield f"[{i}]", f"{what} {item!r} is listed twice (also at [{first[item]}])"
            else:
                first[item] = i

    return Check(lambda v: inner.ok(v) and len(set(v)) == len(v), explain)


def both(*checks: Check) -> Check:
    """All of ``checks``; explains the first that fails."""

    def ok(value: object) -> bool:
        return all(c.ok(value) for c in checks)

    def explain(value: object) -> Iterator[tuple[str, str]]:
        for c in checks:
            if not c.ok(value):
                yield from c.explain(value)
                return

    return Check(ok, explain)


def frozen_set_of_str(value: Iterable[str]) -> frozenset[str]:
    """attrs converter: any iterable of strings (but not a bare string) to a frozenset.

    Typed for callers; at run time anything else is left for the field's check to reject.
    """
    if type(value) is frozenset:
        return value
    if isinstance(value, (str, bytes)):
        return value  # type: ignore[return-value]  # left for the check to reject
    if isinstance(value, Iterable):
        return frozenset(value)
    return value


def tuple_of(value: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: lists and other iterables to tuples (anything else is left for the
    field's check to reject)."""
    if type(value) is tuple:
        return value
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        return tuple(value)
    return value  # type: ignore[return-value]


tags_check = each(key("tag"), frozenset)


# -- converters that change nothing ------------------------------------------------

_identity_when: dict[Callable[[Any], Any], tuple[str, Mapping[str, object]]] = {}


def identity_when(converter: Callable[[Any], Any], source: str, **names: object) -> None:
    """Declare that ``converter(v) is v`` whenever the expression ``source`` holds
    (``{v}`` is the value, ``{name}`` each of ``names``, as in :meth:`Check.expression`).

    Loaders that build objects without ``__init__`` skip the converter when the
    expression holds and call it otherwise, so the stored value is the same either way.
    """
    _identity_when[converter] = (source, MappingProxyType(dict(names)))


def enum_member(enum: type[E], value: object) -> E:
    """``value`` as a member of ``enum`` when it is one of its string values; anything else
    unchanged (a member, None, or a value left for the field's check to refuse: typed as a
    member because the check runs next). The body of the attrs converters of enum fields,
    which accept a member or its value."""
    if type(value) is str:
        try:
            return enum(value)
        except ValueError:
            pass
    return cast(E, value)


def identity_unless_str(*converters: Callable[[Any], Any]) -> None:
    """Declare ``converters`` (built on :func:`enum_member`) as changing nothing but
    strings, so generated loaders skip them for members."""
    for converter in converters:
        identity_when(converter, "type({v}) is not {str}", str=str)


def identity_condition(converter: Callable[[Any], Any]) -> tuple[str, Mapping[str, object]] | None:
    """What :func:`identity_when` declared for ``converter``, or None."""
    return _identity_when.get(converter)


identity_when(to_utc, "type({v}) is {datetime} and {v}.tzinfo is {utc}", datetime=datetime, utc=UTC)
identity_when(
    optional_utc,
    "{v} is None or (type({v}) is {datetime} and {v}.tzinfo is {utc})",
    datetime=datetime,
    utc=UTC,
)
identity_when(
    utc_tuple,
    "type({v}) is {tuple} and all(type(i) is {datetime} and i.tzinfo is {utc} for i in {v})",
    tuple=tuple,
    datetime=datetime,
    utc=UTC,
)
identity_when(frozen_set_of_str, "type({v}) is {frozenset}", frozenset=frozenset)
identity_when(tuple_of, "type({v}) is {tuple}", tuple=tuple)
