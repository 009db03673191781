"""A store's ticket summaries exported in partitions, for KPIs folded anywhere.

:func:`export_summaries` reads every ticket of a store in keyset pages (on
PostgreSQL as on SQLite or memory), summarizes each one
(:func:`csdomain.kpis.summarize`, with its SLA status when the desk's SLA setup is
given) and writes the summaries as JSON lines, ``per_file`` to a file. Each file is
one partition: :func:`summary_loader` gives the loader of a file, so the same
accumulators fold the partitions in one process, on Dask
(``csdomain.kpis.dask.summaries_bag([summary_loader(p) for p in paths])``, the
``csdomain[dask]`` extra) or on any other engine, and merge into exactly the result
of one pass (see ``docs/kpis.md``).

The files hold what KPIs need and no personal data: a summary carries ids,
channels, kinds, instants and durations, never names or messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

from csdomain._kernel.time import ensure_aware
from csdomain.errors import ValidationError
from csdomain.kpis import TicketSummary, summarize
from csdomain.serialization import from_json, to_json
from csdomain.sla import SlaSetup, evaluate
from csdomain.sla.policy import Calendar
from csdomain.storage import Store
from csdomain.storage.paging import MAX_PAGE

__all__ = ["export_summaries", "read_summaries", "summary_loader", "ticket_summaries"]


def ticket_summaries(
    store: Store,
    *,
    as_of: datetime,
    calendar: Calendar | None = None,
    sla: SlaSetup | None = None,
    page_size: int = 500,
) -> Iterator[TicketSummary]:
    """The summary of every ticket of ``store``, read in keyset pages (never all at once),
    with SLA outcomes evaluated at ``as_of`` when ``sla`` is given and business durations
    on ``calendar`` when one is given."""
    at = ensure_aware(as_of, "ticket summaries", "as_of")
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= MAX_PAGE
    ):
        raise ValidationError.single(
            "ticket summaries",
            "page_size",
            f"expected an integer from 1 to {MAX_PAGE}, got {page_size!r}",
        )
    cursor: str | None = None
    while True:
        page = store.tickets.list(limit=page_size, cursor=cursor)
        for stored in page.items:
            ticket = stored.value
            status = evaluate(ticket, sla, at) if sla is not None else None
            yield summarize(ticket, sla=status, calendar=calendar)
        # Each page's timelines are not kept: an export walks every ticket once.
        for stored in page.items:
            store.tickets.forget(stored.value.id)
        cursor = page.next_cursor
        if cursor is None:
            return


def export_summaries(
    store: Store,
    directory: Path | str,
    *,
    as_of: datetime,
    per_file: int = 10_000,
    calendar: Calendar | None = None,
    sla: SlaSetup | None = None,
    page_size: int = 500,
) -> list[Path]:
    """Write the summaries of every ticket of ``store`` to ``directory`` as JSON lines,
    ``per_file`` to a file (``summaries-00000.jsonl``, ...); returns the files in order.

    ``directory`` must exist and hold no earlier export (``ValidationError``: an old
    partition would be folded twice).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ValidationError.single(
            "summary export", "directory", f"expected an existing directory, got {str(folder)!r}"
        )
    if any(folder.glob("summaries-*.jsonl")):
        raise ValidationError.single(
            "summary export",
            "directory",
            f"{str(folder)!r} already holds an export (summaries-*.jsonl); use an empty one",
        )
    if isinstance(per_file, bool) or not isinstance(per_file, int) or per_file < 1:
        raise ValidationError.single(
            "summary export", "per_file", f"expected a positive integer, got {per_file!r}"
        )
    paths: list[Path] = []
    lines: list[str] = []

    def flush() -> None:
        path = folder / f"summaries-{len(paths):05d}.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
        lines.clear()

    summaries = ticket_summaries(
        store, as_of=as_of, calendar=calendar, sla=sla, page_size=page_size
    )
    for summary in summaries:
        lines.append(to_json(summary) + "\n")
        if len(lines) == per_file:
            flush()
    if lines:
        flush()
    return paths


def read_summaries(path: Path | str) -> list[TicketSummary]:
    """The summaries of one exported file (a ``ValidationError`` names a damaged line)."""
    found: list[TicketSummary] = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                found.append(from_json(line, TicketSummary))
            except ValidationError as error:
                raise ValidationError.single(
                    "summary export", f"{path}:{number}", f"not a ticket summary: {error}"
                ) from None
    return found


def summary_loader(path: Path | str) -> Callable[[], list[TicketSummary]]:
    """A loader of one exported file, picklable, for a partition read on a worker."""
    return partial(read_summaries, str(path))
