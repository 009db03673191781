"""A report laid out as blocks (headings, paragraphs, tables, charts) in one locale.

The layout is written once per report type; each output format (text,
Markdown, HTML) writes the same blocks its own way, so the three formats say
the same things.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import attrs

__all__ = ["Block", "Chart", "ChartKind", "Heading", "Note", "Paragraph", "Series", "Table"]


@attrs.frozen
class Heading:
    """A title (level 1) or a section heading (level 2)."""

    text: str
    level: int = 2


@attrs.frozen
class Paragraph:
    """A sentence or two."""

    text: str


@attrs.frozen
class Note:
    """A footnote-like remark (how to read the figures)."""

    text: str


@attrs.frozen
class Table:
    """Rows of cells under headers; ``numeric`` marks the columns aligned right."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()


class ChartKind(Enum):
    """How a chart draws its series."""

    BAR = "bar"
    HORIZONTAL_BAR = "horizontal_bar"
    LINE = "line"


@attrs.frozen
class Series:
    """A named series of values, one per label (None: no value there), optionally with
    an interval (low, high) per value."""

    name: str
    values: tuple[float | None, ...]
    intervals: tuple[tuple[float, float] | None, ...] = ()
    #: How each value is shown in its tooltip (formatted in the locale); empty: the value.
    texts: tuple[str, ...] = ()


@attrs.frozen
class Chart:
    """A chart: its key (the SVG element's id), title, category labels and series.

    Every chart in a report sits next to a table holding the same numbers, so the
    text and Markdown formats, which draw no charts, lose nothing.
    """

    key: str
    kind: ChartKind
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    #: The value range shown, when the scale is fixed (a percentage: 0 to 100).
    value_range: tuple[float, float] | None = None


Block = Heading | Paragraph | Note | Table | Chart


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> Table:
    """A :class:`Table` from lists."""
    return Table(tuple(headers), tuple(tuple(row) for row in rows), frozenset(numeric))
