"""Clocks: the only source of "now" in csdomain.

Domain code never reads the wall clock; it takes a :class:`Clock`. Production
code passes :class:`SystemClock`, tests pass :class:`FrozenClock` and move it
with :meth:`FrozenClock.advance`. A frozen clock holds only accepted instants
(1900-01-01 to 2200-01-01 UTC, see :data:`csdomain._kernel.time.INSTANT_MIN`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

from csdomain._kernel.registry import declare_type
from csdomain._kernel.time import INSTANT_END, INSTANT_MIN, SPAN, duration_text, ensure_aware
from csdomain.errors import ValidationError

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


_SPAN_LENGTH = INSTANT_END - INSTANT_MIN


def _shown(value: object) -> str:
    if not isinstance(value, (int, float, timedelta)):
        return f"a {type(value).__name__} object"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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

        Time never runs backwards, and the clock stays among the accepted instants
        (before :data:`~csdomain.calendars.INSTANT_END`): a negative amount, or one
        moving the clock past that end, raises ``ValidationError`` and leaves the
        clock where it was.
        """
        if delta is not None and not isinstance(delta, timedelta):
            raise ValidationError.single(
                "FrozenClock.advance",
                "delta",
                f"expected a timedelta, got {_shown(delta)}",
            )
        try:
            step = (delta or timedelta()) + timedelta(
                days=days, hours=hours, minutes=minutes, seconds=seconds
            )
        except (TypeError, ValueError, OverflowError):
            given = [("delta", delta), ("days", days), ("hours", hours)]
            given += [("minutes", minutes), ("seconds", seconds)]
            amounts = ", ".join(f"{name}={_shown(value)}" for name, value in given if value)
            raise ValidationError.single(
                "FrozenClock.advance",
                "delta",
                f"{amounts} is not a step of time; give a timedelta or finite numbers of "
                f"days, hours, minutes and seconds, less than {duration_text(_SPAN_LENGTH)}",
            ) from None
        if step < timedelta(0):
            raise ValidationError.single(
                "FrozenClock.advance", "delta", f"must not be negative, got {step!r}"
            )
        if step >= INSTANT_END - self._now:
            raise ValidationError.single(
                "FrozenClock.advance",
                "delta",
                f"{step!r} from {self._now.isoformat()} moves the clock past the accepted "
                f"instants, {SPAN}; accepted: less than {INSTANT_END - self._now!r}",
            )
        self._now += step
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (aware; may be earlier, for replaying history)."""
        self._now = ensure_aware(instant, "FrozenClock", "instant").astimezone(timezone.utc)

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"
