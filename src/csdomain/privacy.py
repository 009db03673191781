"""Personal data: the mark on fields that hold it, and masking for reprs and messages.

A field holding personal data (a name, a phone number, a message body, a
customer's free-form attributes) carries the :data:`PERSONAL` key in its attrs
metadata. :func:`personal_fields` lists the marked fields of a class, so that
redaction and erasure find them without a hand-kept list, and the generated
``repr`` of every csdomain value shows :data:`MASK` in their place, so logging
an object does not leak what it holds::

    >>> from csdomain import ContactPoint, ChannelKind
    >>> ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+8613800138000")
    ContactPoint(channel='phone_hotline', address=<personal>, verified=False, ...)

:func:`redacted` is what erasure stores instead: the same value with every
personal field replaced by :data:`REDACTED` (or emptied), and everything else
(ids, instants, statuses, channels, consent) kept.

:func:`mask_url` hides the password of a connection URL before it reaches a
message or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit, urlunsplit

import attrs

from csdomain.errors import ValidationError

__all__ = [
    "MASK",
    "PERSONAL",
    "REDACTED",
    "is_redacted",
    "mask_url",
    "masked",
    "personal_fields",
    "redacted",
]

T = TypeVar("T")

_PASSWORD_PARAMETER: Final = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)

#: The attrs metadata key marking a field that holds personal data.
PERSONAL: Final = "csdomain.personal"

#: What a repr shows instead of a personal value.
MASK: Final = "<personal>"

#: What erasure stores instead of personal text (see :func:`redacted`).
REDACTED: Final = "[erased]"

_NUMBERED: Final = re.compile(r"\[erased (?:[2-9]|[1-9][0-9]+)\]")


def masked(value: object) -> str:
    """The repr of a personal field's value: :data:`MASK`, or ``None``/empty shown as such.

    Showing that a value is absent tells nothing about the person, and helps debugging.
    """
    if value is None:
        return "None"
    if value in ("", (), frozenset()) or value == {}:
        return repr(value)
    return MASK


def personal_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of ``cls`` that hold personal data, in field order.

    Marked attrs fields, then the derived fields a class lists in its
    ``__csdomain_personal__`` attribute (a ticket's subject and custom fields).
    """
    marked = tuple(a.name for a in attrs.fields(cls) if a.metadata.get(PERSONAL))
    derived: tuple[str, ...] = getattr(cls, "__csdomain_personal__", ())
    return marked + tuple(name for name in derived if name not in marked)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (user, host and path kept).

    >>> mask_url("postgresql://app:s3cret@db.internal:5432/cs")
    'postgresql://app:***@db.internal:5432/cs'
    >>> mask_url("postgresql://db.internal/cs?user=app&password=s3cret")
    'postgresql://db.internal/cs?user=app&password=***'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # an unparsable URL may still hold a secret: show only its scheme
        scheme = url.partition(":")[0]
        return f"{scheme}:***" if scheme.isalnum() else "***"
    query = _PASSWORD_PARAMETER.sub(r"\1***", parts.query)
    if password:
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{user}:***@{host}")
    if not password and query == parts.query:
        return url
    return urlunsplit(parts._replace(query=query))


# -- redaction ---------------------------------------------------------------------------


def is_redacted(text: object) -> bool:
    """True for :data:`REDACTED` and the numbered markers (``"[erased 2]"``) that
    :func:`redacted` writes where equal markers would break a uniqueness rule."""
    return text == REDACTED or (type(text) is str and _NUMBERED.fullmatch(text) is not None)


def redacted(value: T) -> T:
    """A copy of the attrs value ``value`` with its personal data erased.

    Every field marked :data:`PERSONAL` is replaced, by one rule per kind of value:

    - text: :data:`REDACTED` (``"[erased]"``), optional or not, so a reader sees
      that something was there; empty text and ``None`` stay as they are;
    - a mapping (custom fields, a customer's ``attributes``): the same keys, each
      value :data:`REDACTED` (``None`` stays). Keys are field names, not personal
      data, and a ticket's timeline needs them to replay (an event that unsets a
      field names it);
    - an attrs value, or a tuple or frozenset of them (a customer's contact
      points): each redacted by its own marks, so a contact point keeps its
      channel, consent and flags and loses its address. Where equal markers would
      break the container's own check (two erased phone numbers on one channel
      must stay distinct), each distinct original text gets its own numbered
      marker instead (``"[erased]"``, ``"[erased 2]"``, ...; see :func:`is_redacted`);
    - a tuple, list, set or frozenset of anything else: emptied;
    - anything else (a date, a number): ``None``, which the field must accept.

    Fields not marked personal are kept; attrs values in them, and tuples or
    frozensets of attrs values (a ticket's timeline), are redacted in turn, so
    ``redacted(ticket)`` erases its events, and the derived fields a class lists
    in ``__csdomain_personal__`` (a ticket's subject) follow from them.

    The copy is built through the class, so it is validated like any other
    value; redacting a redacted value changes nothing. Raises
    :class:`~csdomain.errors.ValidationError` for a value that is not an attrs
    instance, and for a personal field that cannot hold any redacted form (a
    date without a ``None`` default, text whose check refuses the marker).
    """
    if not attrs.has(type(value)):
        raise ValidationError.single(
            "redaction",
            "value",
            "expected an attrs value (a customer, a ticket, an event), "
            f"got a {type(value).__name__}",
        )
    return _redact(value, {})


#: Markers to use for the personal text fields of one item: field name -> text -> marker.
_Markers = Mapping[str, Mapping[str, str]]


def _redact(value: T, markers: _Markers) -> T:
    """``value`` redacted; ``markers`` gives the marker of each personal text by field."""
    plain = _changes(value, markers, numbered=False)
    if not plain:
        return value
    try:
        return attrs.evolve(value, **plain)  # type: ignore[misc]  # attrs.has() checked
    except ValidationError:
        numbered = _changes(value, markers, numbered=True)
        if numbered == plain:
            raise
        return attrs.evolve(value, **numbered)  # type: ignore[misc]


_Plan = tuple[tuple[str, str, bool, bool], ...]
_plans: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    """For each field of ``cls`` given to ``__init__``: name, argument name, whether it
    is personal and whether ``None`` is its default."""
    found = _plans.get(cls)
    if found is None:
        found = _plans[cls] = tuple(
            (a.name, a.alias or a.name, bool(a.metadata.get(PERSONAL)), a.default is None)
            for a in attrs.fields(cls)
            if a.init
        )
    return found


def _changes(value: object, markers: _Markers, *, numbered: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, argument, personal, optional in _plan(type(value)):
        old = getattr(value, name)
        if personal:
            new = _erase(value, name, old, markers.get(name), optional, numbered=numbered)
        else:
            new = _descend(old, numbered=numbered)
        if new is not old and (type(new) is not type(old) or new != old):
            changes[argument] = new
    return changes


def _descend(old: object, *, numbered: bool) -> object:
    """A field not marked personal: attrs values in it are redacted, the rest kept."""
    if attrs.has(type(old)):
        return _redact(old, {})
    if isinstance(old, (tuple, frozenset)) and old and all(attrs.has(type(i)) for i in old):
        return _items(old, numbered=numbered)
    return old


def _erase(
    owner: object,
    name: str,
    old: object,
    markers: Mapping[str, str] | None,
    optional: bool,
    *,
    numbered: bool,
) -> object:
    """The redacted form of the personal field ``name`` of ``owner``, holding ``old``."""
    if old is None or old == "":
        return old
    if type(old) is str:
        return REDACTED if markers is None else markers.get(old, REDACTED)
    if isinstance(old, Mapping):
        return {k: v if v is None else REDACTED for k, v in old.items()}
    if attrs.has(type(old)) and personal_fields(type(old)):
        return _redact(old, {})
    if isinstance(old, (tuple, list, set, frozenset)):
        if isinstance(old, (tuple, frozenset)) and old and all(_redactable(i) for i in old):
            return _items(old, numbered=numbered)
        return type(old)()
    if optional:
        return None
    raise ValidationError.single(
        type(owner).__name__,
        name,
        f"holds personal data ({type(old).__name__}) that cannot be erased: redaction "
        "replaces text, empties collections and sets other values to None, and this "
        "field has no None default",
    )


def _redactable(item: object) -> bool:
    return attrs.has(type(item)) and bool(personal_fields(type(item)))


def _items(old: tuple[Any, ...] | frozenset[Any], *, numbered: bool) -> object:
    """Each attrs item of ``old`` redacted; ``numbered``: distinct personal texts of one
    field get distinct markers, in order of first appearance."""
    markers: dict[type, _Markers] = {}
    if numbered:
        for cls in {type(i) for i in old}:
            markers[cls] = _numbering([i for i in old if type(i) is cls])
    redact: Callable[[Any], Any] = lambda i: _redact(i, markers.get(type(i), {}))  # noqa: E731
    return type(old)(map(redact, old))


def _numbering(items: list[Any]) -> _Markers:
    # Markers first, by number, then other texts: numbering numbered texts changes nothing.
    numbering: dict[str, dict[str, str]] = {}
    for name in personal_fields(type(items[0])):
        texts = {t for i in items if type(t := getattr(i, name, None)) is str and t != ""}
        ordered = sorted(texts, key=_marker_order)
        numbering[name] = {t: _marker(n) for n, t in enumerate(ordered, start=1)}
    return numbering


def _marker(number: int) -> str:
    return REDACTED if number == 1 else f"[erased {number}]"


def _marker_order(text: str) -> tuple[int, int, str]:
    if text == REDACTED:
        return (0, 1, "")
    if _NUMBERED.fullmatch(text):
        return (0, int(text[8:-1]), "")
    return (1, 0, text)
