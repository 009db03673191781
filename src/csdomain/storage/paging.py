"""Pages of a listing, and cursors bound to the query that returned them.

A cursor carries the keyset position after the last item of a page and a
fingerprint of its query (the collection, the filters, the order and the
range). Passing it to another query, another collection or another tenant's
store, or passing a forged token, raises :class:`~csdomain.errors.ValidationError`
on every adapter, instead of quietly listing something else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from csdomain.errors import ValidationError
from csdomain.storage.backend import Row

__all__ = [
    "MAX_PAGE",
    "Page",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
    "next_cursor",
    "page_of",
]

T = TypeVar("T")

#: The largest page a listing returns.
MAX_PAGE = 1_000


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` to get the next (None: no more)."""

    items: tuple[T, ...]
    next_cursor: str | None


def check_limit(limit: object) -> int:
    """``limit`` if it is a page size this store serves; ``ValidationError`` else."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError.single(
            "page", "limit", f"expected an integer from 1 to {MAX_PAGE}, got {limit!r}"
        )
    return limit


def _fingerprint(query: Sequence[Any]) -> str:
    text = json.dumps(list(query), separators=(",", ":"), sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=9).hexdigest()


def encode_cursor(query: Sequence[Any], order_value: Any, key: str) -> str:
    """An opaque, URL-safe token for the position after ``(order_value, key)`` in ``query``."""
    raw = json.dumps([_fingerprint(query), order_value, key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")


def _refused(cursor: object) -> ValidationError:
    shown = repr(cursor) if isinstance(cursor, str) and len(cursor) <= 200 else "this value"
    return ValidationError.single(
        "cursor",
        "",
        f"{shown} is not a cursor this listing returned; pass the next_cursor of a page of "
        "the same query, as given",
    )


def decode_cursor(query: Sequence[Any], cursor: object) -> tuple[Any, str]:
    """The position a cursor of ``query`` stands for; ``ValidationError`` for any other token."""
    if not isinstance(cursor, str) or len(cursor) > 4_096:
        raise _refused(cursor)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, UnicodeError):
        raise _refused(cursor) from None
    if (
        isinstance(value, list)
        and len(value) == 3
        and value[0] == _fingerprint(query)
        and isinstance(value[2], str)
    ):
        position = value[1]
        # Order values are keys (text) or instants and integers (64-bit).
        if isinstance(position, str) or (type(position) is int and -(2**63) <= position < 2**63):
            return position, value[2]
    raise _refused(cursor)


def page_of(
    query: Sequence[Any],
    rows: list[tuple[Any, Row]],
    limit: int,
    read: Callable[[Row], T],
) -> Page[T]:
    """The page of the first ``limit`` of ``rows`` (one more was asked for, to know
    whether another page follows)."""
    items = tuple(read(row) for _, row in rows[:limit])
    return Page(items, next_cursor(query, rows, limit, _row_key))


def next_cursor(
    query: Sequence[Any], rows: Sequence[Any], limit: int, key: Callable[[Any], str]
) -> str | None:
    """The cursor after the first ``limit`` of ``rows`` when more follow, else None.

    Each row starts with its order value; ``key(row)`` is its key. One row more than
    ``limit`` is asked for, to know whether another page follows.
    """
    if len(rows) <= limit or limit < 1:
        return None
    last = rows[limit - 1]
    return encode_cursor(query, last[0], key(last))


def _row_key(row: tuple[Any, Row]) -> str:
    return row[1].key
