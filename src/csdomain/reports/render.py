"""Reports as text, Markdown or one self-contained HTML page.

:func:`render` lays a report out once, in the locale asked for (``en``,
``zh_Hans``, ``zh_Hant`` or any variant :mod:`csdomain.i18n` accepts), and
writes it in the format asked for:

- ``"text"``: plain text for a terminal or an e-mail, tables aligned by display
  width (a Chinese character takes two columns);
- ``"markdown"``: headings, paragraphs and pipe tables;
- ``"html"``: one page with its CSS inline and each chart as inline SVG drawn by
  pygal (see :mod:`csdomain.reports.charts`); it loads nothing from the network,
  carries the ``lang`` of its locale and a font stack naming Noto Sans CJK SC or
  TC for Chinese.

Every word comes from the csdomain catalogs; numbers, dates and month names are
formatted by Babel for the locale. The output depends only on the report and
the locale: rendering twice gives the same text.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, Literal

from csdomain.errors import ValidationError
from csdomain.reports._blocks import Block, Chart, Heading, Note, Paragraph, Table
from csdomain.reports._layout import annual_blocks
from csdomain.reports._words import Words
from csdomain.reports.annual import AnnualReport

if TYPE_CHECKING:
    from csdomain.reports.period import PeriodReport

__all__ = ["FORMATS", "Format", "render"]

Format = Literal["text", "markdown", "html"]
#: The formats :func:`render` writes.
FORMATS: Final[tuple[str, ...]] = ("text", "markdown", "html")


def _blocks(report: object, words: Words) -> list[Block]:
    if isinstance(report, AnnualReport):
        return annual_blocks(report, words)
    from csdomain.reports.period import PeriodReport, period_blocks

    if isinstance(report, PeriodReport):
        return period_blocks(report, words)
    raise ValidationError.single(
        "report rendering",
        "report",
        f"expected an AnnualReport or a PeriodReport, got {type(report).__name__}",
    )


def render(report: AnnualReport | PeriodReport, format: Format = "text", locale: str = "en") -> str:
    """``report`` (an :class:`~csdomain.reports.AnnualReport` or
    :class:`~csdomain.reports.PeriodReport`) in ``format`` and ``locale``.

    Raises :class:`~csdomain.errors.ValidationError` for another kind of value,
    a format not in :data:`FORMATS`, an unsupported locale, or ``"html"`` without
    pygal (the ``csdomain[reports]`` extra; text and Markdown need no extra).
    """
    if format not in FORMATS:
        raise ValidationError.single(
            "report rendering",
            "format",
            f"unknown format {format!r}; expected one of {', '.join(FORMATS)}",
        )
    words = Words(locale)
    blocks = _blocks(report, words)
    if format == "text":
        return _text(blocks)
    if format == "markdown":
        return _markdown(blocks)
    return _html(blocks, words)


# -- text ---------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _text_table(table: Table) -> Iterable[str]:
    widths = [_width(h) for h in table.headers]
    for row in table.rows:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        padded = (
            _pad(cell, w, i in table.numeric)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    yield line(table.headers)
    yield "  ".join("-" * w for w in widths)
    for row in table.rows:
        yield line(row)


def _text(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            if lines:
                lines.append("")
            lines += [block.text, ("=" if block.level == 1 else "-") * _width(block.text)]
        elif isinstance(block, (Paragraph, Note)):
            lines.append(block.text if isinstance(block, Paragraph) else "* " + block.text)
        elif isinstance(block, Table):
            lines += _text_table(block)
        # charts: the table beside each chart holds its numbers
    return "\n".join(lines) + "\n"


# -- Markdown -------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_text(text: str) -> str:
    # Characters that would start Markdown syntax inside running text.
    for char in "\\`*_[]<>#":
        text = text.replace(char, "\\" + char)
    return text


def _markdown(blocks: list[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append("#" * block.level + " " + _md_text(block.text))
        elif isinstance(block, Paragraph):
            parts.append(_md_text(block.text))
        elif isinstance(block, Note):
            parts.append("> " + _md_text(block.text))
        elif isinstance(block, Table):
            align = ["---:" if i in block.numeric else "---" for i in range(len(block.headers))]
            rows = [block.headers, tuple(align), *block.rows]
            parts.append(
                "\n".join("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
            )
    return "\n\n".join(parts) + "\n"


# -- HTML -----------------------------------------------------------------------------------

_CSS: Final = """
body { font-family: %(fonts)s; color: #222; background: #fff; margin: 2rem auto;
  max-width: 60rem; padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 2rem; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { padding: .25rem .75rem; border-bottom: 1px solid #eee; text-align: left;
  vertical-align: top; }
th { background: #f5f5f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #555; font-size: .9rem; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%%; height: auto; }
"""


def _html_table(table: Table) -> str:
    def cells(tag: str, row: tuple[str, ...]) -> str:
        return "".join(
            f'<{tag} class="num">{html.escape(c)}</{tag}>'
            if i in table.numeric
            else f"<{tag}>{html.escape(c)}</{tag}>"
            for i, c in enumerate(row)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in table.rows)
    return (
        f"<table><thead><tr>{cells('th', table.headers)}</tr></thead><tbody>{body}</tbody></table>"
    )


def _html(blocks: list[Block], words: Words) -> str:
    try:
        from csdomain.reports.charts import FONT_STACK, chart_svg
    except ImportError as error:  # pygal is the csdomain[reports] extra
        raise ValidationError.single(
            "report rendering",
            "format",
            f"format 'html' draws its charts with pygal, which is missing ({error}); "
            "install csdomain[reports], or use format 'text' or 'markdown'",
        ) from None

    title = next((b.text for b in blocks if isinstance(b, Heading) and b.level == 1), "")
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Note):
            body.append(f'<p class="note">{html.escape(block.text)}</p>')
        elif isinstance(block, Table):
            body.append(_html_table(block))
        elif isinstance(block, Chart):
            body.append(f'<figure class="chart">{chart_svg(block, words.catalog)}</figure>')
    css = _CSS % {"fonts": FONT_STACK[words.catalog]}
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{words.html_lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
