"""JSON text in one place: the same values and the same typed errors on both backends.

>>> from csdomain._kernel import codec
>>> codec.dumps({"name": "退款", "n": [1, 2.5, None]})
'{"name":"退款","n":[1,2.5,null]}'
>>> codec.loads('{"n": 1}', subject="example")
{'n': 1}
>>> codec.loads('{"n": NaN}', subject="example")
Traceback (most recent call last):
...
csdomain.errors.ValidationError: invalid example: NaN and Infinity are not JSON numbers; ...

With the ``fast`` extra (orjson) installed, :func:`dumps` and :func:`loads` use
orjson; otherwise the standard library's :mod:`json`. Either way :func:`loads`
follows one set of rules, so a text loads to the same value, or is refused with
the same :class:`~csdomain.errors.ValidationError`, on both:

* Input is ``str``, ``bytes``, ``bytearray`` or ``memoryview`` holding UTF-8.
  A byte order mark, UTF-16 and UTF-32 are refused, as is text that is not
  valid UTF-8 (a lone surrogate, raw or as a ``\\ud800`` escape, included).
* Arrays and objects nest at most :data:`MAX_DEPTH` (1024) levels deep (what orjson
  reads; the stdlib path reads a text deeper than its recursion allows by a loop).
* Integers are within the signed 64-bit range (:data:`INT64_MIN` to
  :data:`INT64_MAX`); orjson would read ``10**30`` as a float and the stdlib as
  an integer, so neither does.
* Numbers are finite: ``NaN``, ``Infinity`` and literals too large for a float
  (``1e400``) are refused.
* With ``max_bytes``, a text longer than that many bytes (of UTF-8) is refused
  before it is parsed.

Malformed JSON is reported with its line and column, in the stdlib's words on
both backends (a text orjson refuses is read again by the stdlib path, which
explains it).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, NoReturn

from csdomain._kernel.time import UTC
from csdomain._kernel.validation import INT64_MAX, INT64_MIN
from csdomain.errors import ValidationError

try:  # the ``fast`` extra
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when orjson is absent
    _orjson = None  # type: ignore[assignment, unused-ignore]  # unused when orjson is absent

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_DEPTH",
    "backend",
    "dumps",
    "dumps_all",
    "isoformat",
    "loads",
    "writes_datetimes",
]

#: How deep arrays and objects may nest in a document read by :func:`loads`: what orjson
#: reads, so its fast path needs no check of its own.
MAX_DEPTH: Final = 1024

# One pass over the bytes answers the cheap questions: digits become "0" (an integer
# beyond 64 bits has at least 19 of them in a row), openers become "[" (the stdlib path
# counts them), the rest is blank.
_SCAN: Final = bytes(
    ord("0") if c in b"0123456789" else ord("[") if c in b"[{" else ord(" ") for c in range(256)
)
_LONG_DIGITS: Final = b"0" * 19
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_BOMS: Final = (
    (b"\xef\xbb\xbf", "a UTF-8 byte order mark"),
    (b"\xff\xfe", "a UTF-16 or UTF-32 byte order mark"),
    (b"\xfe\xff", "a UTF-16 byte order mark"),
    (b"\x00\x00\xfe\xff", "a UTF-32 byte order mark"),
)
_ODD_FIRST_BYTES: Final = b"\xef\xff\xfe\x00"  # byte order marks, UTF-16BE and UTF-32BE
_ACCEPTED: Final = "JSON text is UTF-8 (str, bytes, bytearray or memoryview)"


def backend() -> str:
    """``"orjson"`` when the ``fast`` extra is installed, else ``"json"``."""
    return "orjson" if _orjson is not None else "json"


def writes_datetimes() -> bool:
    """Whether :func:`dumps` writes datetimes and dates natively, faster than a
    converter turning them to text first (orjson does, as ``isoformat`` spells them)."""
    return _orjson is not None


def isoformat(value: datetime) -> str:
    """``value.isoformat()``; for UTC datetimes through orjson when installed (faster)."""
    if _orjson is not None and type(value) is datetime and value.tzinfo is UTC:
        text: str = _orjson.dumps(value)[1:-1].decode()
        return text
    return value.isoformat()


# -- writing -----------------------------------------------------------------------------


def _write_native(value: Any) -> str:
    """What orjson writes for the values it writes natively (datetimes and dates)."""
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"{type(value).__name__} is not a JSON value")
    text: str = isoformat()
    return text


def dumps(doc: Any, *, indent: int | None = None) -> str:
    """``doc`` (JSON values, datetimes and dates) as compact JSON text, non-ASCII kept.

    orjson writes it when installed; the stdlib writes what orjson refuses (and
    everything, with ``indent``): the same JSON values, though a float may be
    spelled differently (``1e-7`` and ``1e-07``). Text holding a lone surrogate,
    which no UTF-8 store can keep, is refused with a ``ValidationError``; so are NaN
    and infinity by the stdlib, where orjson writes null (csdomain's own values
    never hold them: their checks refuse numbers that are not finite).
    """
    if _orjson is not None and indent is None:
        try:
            text: str = _orjson.dumps(doc).decode("utf-8")
            return text
        except TypeError:  # beyond 64 bits, deeper than orjson goes, ...: the stdlib copes
            pass
    return _stdlib_dumps(doc, indent)


def dumps_all(docs: Sequence[Any]) -> list[str]:
    """:func:`dumps` of each of ``docs``, all written by one writer (orjson when it
    writes every one), so that equal parts are spelled alike in every text."""
    if _orjson is not None:
        write = _orjson.dumps
        try:
            return [write(doc).decode("utf-8") for doc in docs]
        except TypeError:  # as in dumps
            pass
    return [_stdlib_dumps(doc, None) for doc in docs]


def _stdlib_dumps(doc: Any, indent: int | None) -> str:
    separators = (",", ":") if indent is None else (",", ": ")
    try:
        text = json.dumps(
            doc,
            ensure_ascii=False,
            separators=separators,
            indent=indent,
            allow_nan=False,
            default=_write_native,
        )
    except RecursionError:
        raise ValidationError.single(
            "JSON document", "", "nested too deeply to write as JSON"
        ) from None
    except ValueError as exc:  # NaN or infinity
        raise ValidationError.single(
            "JSON document", "", f"{exc}; JSON numbers are finite"
        ) from None
    if not text.isascii() and not _encodes(text):
        raise ValidationError.single(
            "JSON document",
            "",
            "text holds a lone surrogate (such as '\\ud800'), which is not valid Unicode "
            "text; pair it or remove it",
        )
    return text


def _encodes(text: str) -> bool:
    """Whether ``text`` has a UTF-8 form (holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- reading -----------------------------------------------------------------------------


class _RefusedError(Exception):
    """Raised from the stdlib parser's hooks: the message says what is accepted."""


class _TooDeepError(Exception):
    """A text nests more than MAX_DEPTH levels deep."""


def _refuse_constant(name: str) -> NoReturn:
    raise _RefusedError(
        f"NaN and Infinity are not JSON numbers; got {name}, expected a finite number"
    )


def _checked_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    value = int(literal) if digits <= 19 else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        shown = literal if len(literal) <= 40 else f"{literal[:20]}... ({digits} digits)"
        raise _RefusedError(
            f"integer {shown} is out of range; integers are accepted from "
            f"{INT64_MIN} to {INT64_MAX} (signed 64-bit)"
        )
    return value


def _checked_float(literal: str) -> float:
    value = float(literal)
    if value in (_INF, -_INF):
        shown = literal if len(literal) <= 40 else f"{literal[:20]}..."
        raise _RefusedError(f"number {shown} is too large for a float; numbers must be finite")
    return value


_INF: Final = float("inf")

_CHECKED_FLOATS: Final = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_checked_float
)
_CHECKED: Final = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_checked_float, parse_int=_checked_int
)


def loads(
    text: str | bytes | bytearray | memoryview, *, subject: str, max_bytes: int | None = None
) -> Any:
    """The JSON value of ``text``, read by the rules of this module on either backend.

    ``subject`` names what is being read, for the ``ValidationError`` raised for any
    text the rules refuse (see the module's documentation); ``max_bytes`` bounds its
    size in bytes of UTF-8, checked before parsing.
    """
    if type(text) is str and max_bytes is None:  # the common case, in short
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            _lone_surrogate(subject, exc.start)
    else:
        if max_bytes is not None and (type(max_bytes) is not int or max_bytes < 0):
            raise ValidationError.single(
                subject,
                "",
                f"max_bytes must be a non-negative integer or None, got {max_bytes!r}",
            )
        data = _utf8(text, subject, max_bytes)
        if max_bytes is not None and len(data) > max_bytes:
            _too_large(subject, len(data), max_bytes)
    # UTF-16 and UTF-32 put a zero byte beside the first (ASCII) character of JSON text.
    if not data or data[0] in _ODD_FIRST_BYTES or data[1:2] == b"\x00":
        _check_encoding(data, subject)
    scan = data.translate(_SCAN)
    long_digits = _LONG_DIGITS in scan
    if _orjson is not None and not long_digits:
        try:
            return _orjson.loads(data)  # refuses more than MAX_DEPTH levels itself
        except _orjson.JSONDecodeError:
            pass  # explained by the stdlib path, in its words
    return _stdlib_loads(data, text if type(text) is str else None, scan, long_digits, subject)


def _utf8(text: object, subject: str, max_bytes: int | None) -> bytes:
    """The bytes of ``text``: str encoded to UTF-8, bytes-like objects copied."""
    if isinstance(text, str):
        if max_bytes is not None and len(text) > max_bytes:  # UTF-8 takes a byte or more each
            _too_large(subject, len(text), max_bytes, at_least=not text.isascii())
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as exc:
            _lone_surrogate(subject, exc.start)
    if type(text) is bytes:
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        size = text.nbytes if isinstance(text, memoryview) else len(text)
        if max_bytes is not None and size > max_bytes:
            _too_large(subject, size, max_bytes)
        return bytes(text)
    raise ValidationError.single(
        subject, "", f"expected JSON text, got {type(text).__name__}; {_ACCEPTED}"
    )


def _lone_surrogate(subject: str, at: int) -> NoReturn:
    raise ValidationError.single(
        subject,
        "",
        f"JSON text holds a lone surrogate at character {at}, which is not valid Unicode "
        f"text; {_ACCEPTED}",
    )


def _too_large(subject: str, size: int, limit: int, *, at_least: bool = False) -> NoReturn:
    raise ValidationError.single(
        subject,
        "",
        f"JSON text is {'at least ' if at_least else ''}{size:,} bytes, over the limit of "
        f"{limit:,} bytes",
    )


def _check_encoding(data: bytes, subject: str) -> None:
    """Refuse a byte order mark, UTF-16 and UTF-32 (whose first four bytes hold a zero)."""
    for mark, name in sorted(_BOMS, key=lambda b: -len(b[0])):
        if data.startswith(mark):
            raise ValidationError.single(
                subject, "", f"JSON text starts with {name}; {_ACCEPTED}, without one"
            )
    if 0 in data[:4]:
        raise ValidationError.single(
            subject, "", f"JSON text looks like UTF-16 or UTF-32 (zero bytes); {_ACCEPTED}"
        )


def _stdlib_loads(
    data: bytes, given: str | None, scan: bytes, long_digits: bool, subject: str
) -> Any:
    """Read ``data`` (the UTF-8 of ``given``, when that is a str) with the stdlib."""
    try:
        text = given if given is not None else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError.single(
            subject, "", f"JSON text is not valid UTF-8 at byte {exc.start}; {_ACCEPTED}"
        ) from None
    # Floats are few in documents: each is checked for overflow (1e400) as it is read.
    decoder = _CHECKED if long_digits else _CHECKED_FLOATS
    try:
        try:
            value = decoder.decode(text)
        except RecursionError:  # deeper than the C scanner goes from here: read by a loop
            value = _decode_by_loop(text, decoder)
        else:
            # The C scanner goes no deeper than the recursion limit allows.
            if (
                sys.getrecursionlimit() > MAX_DEPTH
                and scan.count(b"[") > MAX_DEPTH
                and _deeper(value)
            ):
                raise _TooDeepError
    except json.JSONDecodeError as exc:
        raise ValidationError.single(
            subject, "", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except _RefusedError as exc:
        raise ValidationError.single(subject, "", str(exc)) from None
    except _TooDeepError:
        raise ValidationError.single(
            subject,
            "",
            f"JSON text nests arrays and objects more than {MAX_DEPTH} levels deep; "
            f"at most {MAX_DEPTH} are accepted",
        ) from None
    # A surrogate escape needs a backslash (memchr finds one fast); it may be paired.
    if b"\\" in data and _SURROGATE_ESCAPE.search(data) is not None and _has_surrogate(value):
        raise ValidationError.single(
            subject,
            "",
            "JSON text holds a lone surrogate escape (such as '\\ud800'), which is not valid "
            f"Unicode text; {_ACCEPTED}",
        )
    return value


def _containers(value: Any) -> list[Any]:
    if type(value) is dict:
        return [v for v in value.values() if type(v) is dict or type(v) is list]
    return [v for v in value if type(v) is dict or type(v) is list]


def _deeper(value: Any) -> bool:
    """Whether ``value`` nests containers more than MAX_DEPTH levels deep."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True
        level = [c for v in level for c in _containers(v)]
    return False


def _has_surrogate(value: Any) -> bool:
    """Whether any text in ``value`` (keys included) holds a lone surrogate."""
    stack = [value]
    search = _SURROGATE.search
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if search(item) is not None:
                return True
        elif kind is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
_CONSTANTS: Final = (("null", None), ("true", True), ("false", False))
_NAMED_NUMBERS: Final = ("NaN", "Infinity", "-Infinity")


def _decode_by_loop(text: str, decoder: json.JSONDecoder) -> Any:
    """What ``decoder.decode(text)`` gives, read by a loop instead of recursion (for
    texts nested deeper than the C scanner's recursion allows); more than MAX_DEPTH
    levels raise ``_TooDeepError``."""
    whitespace = _WHITESPACE.match
    number = json.scanner.NUMBER_RE.match  # type: ignore[attr-defined]  # untyped, public
    scanstring: Callable[[str, int, bool], tuple[str, int]]
    scanstring = json.decoder.scanstring  # type: ignore[attr-defined]  # untyped, public
    end = len(text)
    # Each open container, with the key its next value goes under (objects).
    stack: list[tuple[Any, str | None]] = []

    def skip(at: int) -> int:
        found = whitespace(text, at)
        return found.end() if found is not None else at  # it always matches

    def fail(message: str, at: int) -> NoReturn:
        raise json.JSONDecodeError(message, text, at)

    def key_at(at: int) -> tuple[str, int]:
        if not text.startswith('"', at):
            fail("Expecting property name enclosed in double quotes", at)
        key, at = scanstring(text, at + 1, True)
        at = skip(at)
        if not text.startswith(":", at):
            fail("Expecting ':' delimiter", at)
        return key, skip(at + 1)

    at = skip(0)
    while True:
        # A value starts at ``at``.
        char = text[at] if at < end else ""
        value: Any
        if char == '"':
            value, at = scanstring(text, at + 1, True)
        elif char in ("{", "["):
            if len(stack) >= MAX_DEPTH:
                raise _TooDeepError
            at = skip(at + 1)
            if char == "{" and not text.startswith("}", at):
                first_key, at = key_at(at)
                stack.append(({}, first_key))
                continue
            if char == "[" and not text.startswith("]", at):
                stack.append(([], None))
                continue
            value, at = ({} if char == "{" else []), at + 1
        else:
            for name, constant in _CONSTANTS:
                if text.startswith(name, at):
                    value, at = constant, at + len(name)
                    break
            else:
                named = next((n for n in _NAMED_NUMBERS if text.startswith(n, at)), None)
                match = None if named is not None else number(text, at)
                if named is not None:
                    value, at = decoder.parse_constant(named), at + len(named)
                elif match is not None:
                    integer, fraction, exponent = match.groups()
                    if fraction or exponent:
                        value = decoder.parse_float(integer + (fraction or "") + (exponent or ""))
                    else:
                        value = decoder.parse_int(integer)
                    at = match.end()
                else:
                    fail("Expecting value", at)
        # The value is complete: put it in its container, closing those that end here.
        while True:
            at = skip(at)
            if not stack:
                if at != end:
                    fail("Extra data", at)
                return value
            container, key = stack[-1]
            if key is not None:
                container[key] = value
            else:
                container.append(value)
            if text.startswith(",", at):
                at = skip(at + 1)
                if key is not None:
                    next_key, at = key_at(at)
                    stack[-1] = (container, next_key)
                break
            if text.startswith("}" if key is not None else "]", at):
                stack.pop()
                value, at = container, at + 1
                continue
            fail("Expecting ',' delimiter", at)
