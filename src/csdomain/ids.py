"""Unique, creation-sortable string ids with a type prefix.

An id looks like ``tkt_01JD3Q4Z8X5V6W7Y8Z9A0B1C2D``: a prefix naming the kind
of record, an underscore, then 26 Crockford base-32 characters holding a 48-bit
millisecond timestamp and 80 random bits (the ULID layout). Ids made later sort
later as plain strings; ids made within one millisecond by one generator still
sort in creation order, because the random part is incremented rather than
redrawn.

The generator is injectable: pass :class:`SequentialIds` in tests for ids such
as ``tkt_000001`` that do not depend on time or chance.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from csdomain._kernel.registry import declare_type
from csdomain.clock import Clock, SystemClock
from csdomain.errors import ValidationError

__all__ = [
    "PREFIXES",
    "IdGenerator",
    "SequentialIds",
    "UlidIds",
]

#: The prefix of each kind of record.
PREFIXES: dict[str, str] = {
    "ticket": "tkt",
    "customer": "cus",
    "agent": "agt",
    "group": "grp",
    "message": "msg",
    "order": "ord",
}

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,11}$")


@runtime_checkable
class IdGenerator(Protocol):
    """Makes new ids for a given prefix."""

    def new(self, prefix: str) -> str:
        """A new id ``f"{prefix}_..."``, greater than every id this generator made before."""
        ...


def _check_prefix(prefix: str) -> None:
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ValidationError.single(
            "id prefix",
            "prefix",
            f"expected 2-12 lowercase letters or digits starting with a letter "
            f"(such as 'tkt'), got {prefix!r}",
        )


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


@declare_type
class UlidIds:
    """ULID-layout ids: time-sortable, monotonic per generator, thread-safe."""

    def __init__(
        self,
        clock: Clock | None = None,
        randbits: Callable[[int], int] = secrets.randbits,
    ) -> None:
        self._clock = clock or SystemClock()
        self._randbits = randbits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def new(self, prefix: str) -> str:
        """A new id for ``prefix``."""
        _check_prefix(prefix)
        ms = int(self._clock.now().timestamp() * 1000)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                rand = self._last_random + 1
                if rand >= 1 << 80:  # 2**80 ids in one millisecond: move on to the next
                    ms, rand = ms + 1, self._randbits(79)
            else:
                rand = self._randbits(79)  # top bit clear leaves room to increment
            self._last_ms, self._last_random = ms, rand
        return f"{prefix}_{_encode(ms, 10)}{_encode(rand, 16)}"

    def __repr__(self) -> str:
        return f"UlidIds(clock={self._clock!r})"


@declare_type
class SequentialIds:
    """Deterministic ids ``prefix_000001``, ``prefix_000002``, ... per prefix, for tests.

    ``start_after`` continues numbering after the given count per prefix
    (``{"tkt": 4}`` makes ``tkt_000005`` the next ticket id), for runs that add
    to ids already handed out.
    """

    def __init__(self, width: int = 6, *, start_after: Mapping[str, int] | None = None) -> None:
        self._width = width
        self._counters: dict[str, int] = {}
        for prefix, count in (start_after or {}).items():
            _check_prefix(prefix)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValidationError.single(
                    "SequentialIds",
                    f"start_after[{prefix!r}]",
                    f"expected a count of 0 or more, got {count!r}",
                )
            self._counters[prefix] = count
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """The next id for ``prefix``."""
        _check_prefix(prefix)
        with self._lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
        return f"{prefix}_{n:0{self._width}d}"

    def __repr__(self) -> str:
        return f"SequentialIds(width={self._width})"
