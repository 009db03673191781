"""Clocks: the only source of "now" in csdomain.

Domain code never reads the wall clock; it takes a :class:`Clock`. Production
code passes :class:`SystemClock`, tests pass :class:`FrozenClock` and move it
with :meth:`FrozenClock.advance`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

from csdomain._kernel.registry import declare_type
from csdomain._kernel.time import ensure_aware

__all__ = ["Clock", "FrozenClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` returning an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


@declare_type
class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> datetime:
        """The current instant from the operating system, in UTC."""
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        return "SystemClock()"


@declare_type
class FrozenClock:
    """A clock that stands still until told to move; for tests and replays."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_aware(start, "FrozenClock", "start").astimezone(timezone.utc)

    def now(self) -> datetime:
        """The instant the clock is set to, in UTC."""
        return self._now

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move forward by ``delta`` (or by the keyword amounts) and return the new now.

        Time never runs backwards: a negative amount raises ``ValidationError``.
        """
        step = (delta or timedelta()) + timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        if step < timedelta(0):
            from csdomain.errors import ValidationError

            raise ValidationError.single(
                "FrozenClock.advance", "delta", f"must not be negative, got {step!r}"
            )
        self._now += step
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (aware; may be earlier, for replaying history)."""
        self._now = ensure_aware(instant, "FrozenClock", "instant").astimezone(timezone.utc)

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"
