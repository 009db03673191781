"""What each report says, in order, as blocks in one locale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import Enum

from csdomain._kernel.time import zone
from csdomain.reports._blocks import (
    Block,
    Chart,
    ChartKind,
    Heading,
    Note,
    Paragraph,
    Series,
    table,
)
from csdomain.reports._words import Words
from csdomain.reports.annual import AnnualReport, ComplaintLine
from csdomain.reports.figures import ScoreFigure, TimeFigure

__all__ = ["annual_blocks", "count_sections", "time_notes"]


def _share(words: Words, count: int, total: int) -> str:
    return words.percent(count / total) if total else "–"


def count_sections(
    words: Words,
    prefix: str,
    by_channel: Sequence[tuple[str, int]],
    by_kind: Sequence[tuple[Enum, int]],
    total: int,
) -> list[Block]:
    """The tickets by channel and by kind: each a heading, a bar chart (``<prefix>-by-
    channel``, ``<prefix>-by-kind``) when there are tickets, and a table with each
    count's share of ``total``."""
    tickets = words("col.tickets")
    blocks: list[Block] = []
    for key, title, column, pairs in (
        (
            f"{prefix}-by-channel",
            "section.channels",
            "col.channel",
            [(words.channel(k), c) for k, c in by_channel],
        ),
        (
            f"{prefix}-by-kind",
            "section.kinds",
            "col.kind",
            [(words.label(k), c) for k, c in by_kind],
        ),
    ):
        blocks.append(Heading(words(title)))
        if pairs:
            blocks.append(
                Chart(
                    key,
                    ChartKind.HORIZONTAL_BAR,
                    words(title),
                    tuple(name for name, _ in pairs),
                    (Series(tickets, tuple(float(c) for _, c in pairs)),),
                )
            )
        blocks.append(
            table(
                [words(column), tickets, words("col.share")],
                [[n, words.number(c), _share(words, c, total)] for n, c in pairs],
                numeric=[1, 2],
            )
        )
    return blocks


def _time_rows(words: Words, figures: list[tuple[str, TimeFigure]]) -> list[list[str]]:
    return [
        [
            words(name),
            words.duration(figure.mean),
            words.duration(figure.median),
            words.duration(figure.p90),
            words.number(figure.n),
        ]
        for name, figure in figures
    ]


def time_notes(words: Words, figures: list[TimeFigure], calendar: str | None) -> list[Block]:
    """How to read the times: the calendar they count in, the quantiles' error bound."""
    notes: list[Block] = [
        Note(words("business", calendar=calendar) if calendar else words("calendar time"))
    ]
    errors = [f.relative_error for f in figures if f.relative_error is not None]
    if errors:
        notes.append(Note(words("sketch note", error=words.percent(max(errors), digits=0))))
    return notes


def _revisit_text(words: Words, complaint: ComplaintLine, report: AnnualReport) -> str:
    if not complaint.revisits:
        return words("no revisit")
    tz = zone(report.zone)
    parts = []
    for revisit in complaint.revisits:
        values = {
            "date": words.day(revisit.due_at, tz),
            "form": words.label(revisit.form),
            "state": words.label(revisit.state),
        }
        if revisit.outcome is None:
            parts.append(words("revisit", **values))
        else:
            parts.append(words("revisit.outcome", outcome=words.label(revisit.outcome), **values))
    return "; ".join(parts)


def _score_cell(words: Words, figure: ScoreFigure) -> str:
    return words.score_with_n(figure)


def annual_blocks(report: AnnualReport, words: Words) -> list[Block]:
    """The annual report's blocks: title, scope, then one section per topic."""
    tz = zone(report.zone)
    year = report.year
    blocks: list[Block] = [
        Heading(words("annual.title", year=year, customer=report.customer_name), level=1),
        Paragraph(words("annual.customer", name=report.customer_name, id=report.customer_id)),
        Paragraph(
            words(
                "annual.scope",
                start=words.day(date(year, 1, 1)),
                end=words.day(date(year, 12, 31)),
                zone=report.zone,
            )
        ),
    ]
    if report.tickets == 0:
        blocks.append(Paragraph(words("annual.none", year=year)))
    else:
        blocks.append(
            Paragraph(
                words(
                    "annual.summary",
                    tickets=words.number(report.tickets),
                    year=year,
                    complaints=words.number(len(report.complaints)),
                    reopened=words.number(report.reopened),
                )
            )
        )

    months = [words.month(year, m) for m in range(1, 13)]
    tickets = words("col.tickets")
    blocks += [
        Heading(words("section.months")),
        Chart(
            "tickets-by-month",
            ChartKind.BAR,
            words("section.months"),
            tuple(months),
            (Series(tickets, tuple(float(c) for c in report.by_month)),),
        ),
        table(
            [words("col.month"), tickets],
            [[m, words.number(c)] for m, c in zip(months, report.by_month, strict=True)],
            numeric=[1],
        ),
    ]

    blocks.extend(
        count_sections(words, "tickets", report.by_channel, report.by_kind, report.tickets)
    )

    figures = [
        ("time.first_response", report.first_response),
        ("time.resolution", report.resolution),
    ]
    blocks += [
        Heading(words("section.times")),
        table(
            [
                words("col.measure"),
                words("col.mean"),
                words("col.median"),
                words("col.p90"),
                words("col.n"),
            ],
            _time_rows(words, figures),
            numeric=[1, 2, 3, 4],
        ),
        *time_notes(words, [f for _, f in figures], report.calendar),
    ]

    blocks.append(Heading(words("section.complaints")))
    if not report.complaints:
        blocks.append(Paragraph(words("no complaints", year=year)))
    else:
        blocks.append(
            table(
                [
                    words("col.ticket"),
                    words("col.channel"),
                    words("col.opened"),
                    words("col.solved"),
                    words("col.status"),
                    words("col.revisits"),
                    words("col.csat"),
                ],
                [
                    [
                        c.ticket_id,
                        words.channel(c.channel),
                        words.day(c.opened_at, tz),
                        words.day(c.solved_at, tz) if c.solved_at else words("not solved"),
                        words.label(c.status),
                        _revisit_text(words, c, report),
                        words.number(c.csat) if c.csat is not None else "–",
                    ]
                    for c in report.complaints
                ],
            )
        )

    blocks.append(Heading(words("section.satisfaction")))
    if report.csat.n == 0 and report.nps.n == 0:
        blocks.append(Paragraph(words("no answers", year=year)))
    else:
        csat = [m.csat for m in report.satisfaction]
        nps = [m.nps for m in report.satisfaction]
        blocks.append(
            Chart(
                "satisfaction-by-month",
                ChartKind.LINE,
                words("section.satisfaction"),
                tuple(months),
                (
                    Series(
                        words("col.csat"),
                        tuple(f.value for f in csat),
                        tuple(
                            (f.low, f.high) if f.low is not None and f.high is not None else None
                            for f in csat
                        ),
                        tuple(_score_cell(words, f) for f in csat),
                    ),
                    Series(
                        words("col.nps"),
                        tuple(f.value for f in nps),
                        tuple(
                            (f.low, f.high) if f.low is not None and f.high is not None else None
                            for f in nps
                        ),
                        tuple(_score_cell(words, f) for f in nps),
                    ),
                ),
                value_range=(-100.0, 100.0),  # CSAT in %, NPS in points: one scale
            )
        )
        rows = [
            [m, _score_cell(words, c), words.interval(c), _score_cell(words, n), words.interval(n)]
            for m, c, n in zip(months, csat, nps, strict=True)
            if c.n or n.n
        ]
        rows.append(
            [
                str(year),
                _score_cell(words, report.csat),
                words.interval(report.csat),
                _score_cell(words, report.nps),
                words.interval(report.nps),
            ]
        )
        interval = words("col.interval")
        blocks += [
            table(
                [words("col.month"), words("col.csat"), interval, words("col.nps"), interval],
                rows,
            ),
            Note(words("small sample note")),
        ]
    return blocks
