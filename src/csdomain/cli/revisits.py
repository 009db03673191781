"""A progress bar for long revisit materializing runs (``RevisitDesk.materialize``).

:func:`progress_bar` returns the ``progress(done, total)`` callback that
:meth:`RevisitDesk.materialize <csdomain.helpdesk.revisits.RevisitDesk.materialize>`
calls after each page of customers. On a terminal it redraws one line in place::

    revisits [##########--------------------]  33%  33,000/100,000 customers

Written to a file or a pipe (a CI log), it writes one line each time another tenth
of the run is done, so a log shows at most eleven lines however long the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TextIO

from csdomain.errors import ValidationError

__all__ = ["progress_bar"]

#: Steps of the line-per-step progress written when the stream is not a terminal.
_TENTHS: Final = 10


def _percent(done: int, total: int) -> int:
    if total <= 0:
        return 100
    return min(100, done * 100 // total)


def progress_bar(
    stream: TextIO, *, label: str = "revisits", unit: str = "customers", width: int = 30
) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback drawing the run's progress on ``stream``.

    On a TTY (``stream.isatty()``) it redraws a bar of ``width`` characters in place
    (a carriage return, no newline) and ends the line once ``done`` reaches
    ``total``; otherwise it writes a line each time the run passes another 10%
    (and one at the end). ``done`` past ``total`` (customers added meanwhile) shows
    as 100%. ``width`` is from 5 to 200 characters.
    """
    if isinstance(width, bool) or not isinstance(width, int) or not 5 <= width <= 200:
        raise ValidationError.single(
            "progress_bar", "width", f"expected an integer from 5 to 200, got {width!r}"
        )
    interactive = bool(getattr(stream, "isatty", lambda: False)())
    reported = -1  # the last tenth written (line mode)
    finished = False

    def draw(done: int, total: int) -> None:
        nonlocal reported, finished
        if finished:
            return
        percent = _percent(done, total)
        complete = total <= 0 or done >= total
        counts = f"{done:,}/{max(total, done):,} {unit}"
        if interactive:
            filled = width * percent // 100
            bar = "#" * filled + "-" * (width - filled)
            stream.write(f"\r{label} [{bar}] {percent:3d}%  {counts}")
            if complete:
                stream.write("\n")
                finished = True
            stream.flush()
            return
        tenth = percent * _TENTHS // 100
        if tenth > reported or complete:
            reported = tenth
            stream.write(f"{label}: {percent:3d}%  {counts}\n")
            stream.flush()
            finished = complete

    return draw
