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
from typing import Any, cast

import attrs

from csdomain._time import is_aware, zone_problem
from csdomain.errors import ValidationError

#: A check yields ``(subpath, message)`` pairs; ``subpath`` is appended to the field name.
Check = Callable[[Any], Iterable[tuple[str, str]]]

CHECK = "csdomain.check"
PERSONAL = "csdomain.personal"

JsonScalar = str | int | float | bool | None

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

_checks_cache: dict[type, tuple[tuple[str, Check], ...]] = {}


def _checks_of(cls: type) -> tuple[tuple[str, Check], ...]:
    found = _checks_cache.get(cls)
    if found is None:
        found = tuple((a.name, a.metadata[CHECK]) for a in attrs.fields(cls) if CHECK in a.metadata)
        _checks_cache[cls] = found
    return found


class Checked:
    """Mixin for attrs classes whose fields carry csdomain checks."""

    __slots__ = ()

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        for name, check in _checks_of(type(self)):
            for sub, message in check(getattr(self, name)):
                problems.append((name + sub, message))
        if not problems:
            problems.extend(self._check_whole())
        if problems:
            raise ValidationError(type(self).__name__, problems)

    def _check_whole(self) -> Iterable[tuple[str, str]]:
        """Checks across fields, run once every field is valid on its own."""
        return ()


def field(
    check: Check | None = None,
    *,
    personal: bool = False,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    converter: Callable[[Any], Any] | None = None,
    kw_only: bool = False,
) -> Any:
    """An attrs field with a csdomain check and the personal-data mark."""
    metadata: dict[str, Any] = {}
    if check is not None:
        metadata[CHECK] = check
    if personal:
        metadata[PERSONAL] = True
    extra: dict[str, Any] = {"kw_only": True} if kw_only else {}
    return attrs.field(
        default=default, factory=factory, converter=converter, metadata=metadata, **extra
    )


def personal_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of attrs class ``cls`` that hold personal data."""
    return tuple(a.name for a in attrs.fields(cls) if a.metadata.get(PERSONAL))


# -- checks ------------------------------------------------------------------


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def text(*, max_length: int = 10_000, allow_empty: bool = False) -> Check:
    """A ``str``, stripped non-empty unless ``allow_empty``, at most ``max_length`` long."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, str):
            yield "", f"expected text, got {type(value).__name__} {_show(value)}"
        elif not allow_empty and not value.strip():
            yield "", f"must not be empty or blank, got {_show(value)}"
        elif len(value) > max_length:
            yield "", f"must be at most {max_length} characters, got {len(value)}"
        elif "\x00" in value:
            yield "", "must not contain NUL characters"

    return check


def optional(inner: Check) -> Check:
    """``None`` or whatever ``inner`` accepts."""

    def check(value: object) -> Iterable[tuple[str, str]]:
        return () if value is None else inner(value)

    return check


def key(what: str = "key") -> Check:
    """An identifier: 1-64 characters of letters, digits, ``_ . : -``, not starting with a mark."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            yield (
                "",
                (
                    f"expected a {what} of 1-64 letters, digits, '_', '.', ':' or '-' "
                    f"starting with a letter or digit, got {_show(value)}"
                ),
            )

    return check


def instant(value: object) -> Iterator[tuple[str, str]]:
    """An aware datetime (naive ones are rejected, never guessed)."""
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


def calendar_date(value: object) -> Iterator[tuple[str, str]]:
    """A ``date`` that is not a ``datetime``."""
    if not isinstance(value, date) or isinstance(value, datetime):
        yield "", f"expected a date, got {type(value).__name__} {_show(value)}"


def member_of(enum: type[Enum]) -> Check:
    """A member of ``enum``."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, enum):
            allowed = ", ".join(repr(m.value) for m in enum)
            yield "", f"expected a {enum.__name__} ({allowed}), got {_show(value)}"

    return check


def instance(cls: type | tuple[type, ...], what: str) -> Check:
    """An instance of ``cls``."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, cls):
            yield "", f"expected {what}, got {type(value).__name__} {_show(value)}"

    return check


def boolean(value: object) -> Iterator[tuple[str, str]]:
    """Exactly ``True`` or ``False``."""
    if not isinstance(value, bool):
        yield "", f"expected true or false, got {_show(value)}"


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Check:
    """An ``int`` (not ``bool``) within the bounds."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if isinstance(value, bool) or not isinstance(value, int):
            yield "", f"expected an integer, got {type(value).__name__} {_show(value)}"
        elif minimum is not None and value < minimum:
            yield "", f"must be at least {minimum}, got {value}"
        elif maximum is not None and value > maximum:
            yield "", f"must be at most {maximum}, got {value}"

    return check


def duration(*, allow_zero: bool = True) -> Check:
    """A non-negative ``timedelta``."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, timedelta):
            yield "", f"expected a timedelta, got {type(value).__name__} {_show(value)}"
        elif value < timedelta(0) or (not allow_zero and not value):
            bound = "positive" if not allow_zero else "zero or positive"
            yield "", f"must be {bound}, got {value!r}"

    return check


def decimal_amount(value: object) -> Iterator[tuple[str, str]]:
    """A finite ``Decimal``."""
    if not isinstance(value, Decimal) or not value.is_finite():
        yield "", f"expected a finite Decimal amount, got {_show(value)}"


def iana_zone(value: object) -> Iterator[tuple[str, str]]:
    """An IANA time zone name that this machine's zoneinfo knows."""
    problem = zone_problem(value)
    if problem:
        yield "", problem


def each(inner: Check, container: type | tuple[type, ...] = (tuple, frozenset)) -> Check:
    """A tuple (or frozenset) whose every item passes ``inner``."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        if not isinstance(value, container):
            yield "", f"expected a collection, got {type(value).__name__} {_show(value)}"
            return
        collection = cast(Iterable[object], value)
        items = sorted(collection, key=repr) if isinstance(value, frozenset) else list(collection)
        for i, item in enumerate(items):
            for sub, message in inner(item):
                yield f"[{i}]{sub}", message

    return check


def unique_by(attribute: str, what: str) -> Check:
    """A tuple of objects whose ``attribute`` values are pairwise distinct."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        seen: set[object] = set()
        items: tuple[object, ...] = value if isinstance(value, tuple) else ()
        for i, item in enumerate(items):
            k = getattr(item, attribute)
            if k in seen:
                yield f"[{i}].{attribute}", f"duplicate {what} {k!r}"
            seen.add(k)

    return check


def json_scalars(value: object) -> Iterator[tuple[str, str]]:
    """A mapping of string keys to JSON scalars (text, number, boolean, null)."""
    if not isinstance(value, Mapping):
        yield "", f"expected a mapping, got {type(value).__name__} {_show(value)}"
        return
    for k, v in value.items():
        if not isinstance(k, str) or not KEY_PATTERN.match(k):
            yield f"[{k!r}]", f"expected a key of letters, digits, '_', '.', ':' or '-', got {k!r}"
        elif v is not None and not isinstance(v, (str, int, float, bool)):
            yield (
                f"[{k!r}]",
                (
                    "expected a JSON scalar (text, number, boolean or null), "
                    f"got {type(v).__name__} {_show(v)}"
                ),
            )
        elif isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            yield f"[{k!r}]", f"numbers must be finite, got {v!r}"


def both(*checks: Check) -> Check:
    """Every problem any of ``checks`` finds (each runs only if the earlier passed)."""

    def check(value: object) -> Iterator[tuple[str, str]]:
        for c in checks:
            found = list(c(value))
            if found:
                yield from found
                return

    return check


def frozen_set_of_str(value: object) -> frozenset[str]:
    """attrs converter: any iterable of strings (but not a bare string) to a frozenset."""
    if isinstance(value, (str, bytes)):
        return value  # type: ignore[return-value]  # left for the check to reject
    if isinstance(value, Iterable):
        return frozenset(value)
    return value  # type: ignore[return-value]


def tuple_of(value: object) -> tuple[Any, ...]:
    """attrs converter: lists and other iterables to tuples."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, (list, Iterable)) and not isinstance(value, (str, bytes, Mapping)):
        return tuple(value)
    return value  # type: ignore[return-value]


tags_check = each(key("tag"), frozenset)
