"""Charts as inline SVG, drawn by pygal (the ``csdomain[reports]`` extra).

pygal is pure Python and writes SVG whose labels stay text, so the browser
draws the Chinese labels with the system's CJK font and the charts can be read,
searched and copied. The SVG is made self-contained: no scripts (``js=[]``, and
pygal's inline configuration script removed: the charts are static), no
comments (pygal's name a web site and the day of rendering), the CSS inline and
a deterministic element id per chart, so the same report renders to the same
bytes and the page needs no network. The only URIs left are the SVG and XLink
namespace names, which are identifiers, never fetched.
"""

from __future__ import annotations

import math
import sys
import unicodedata
from typing import Any, Final

import pygal
from pygal.style import Style

from csdomain.reports._blocks import Chart, ChartKind

__all__ = ["FONT_STACK", "chart_svg"]

# Importing pygal appends to sys.meta_path a finder for its map plugins that has only the
# legacy find_module: from then on every failed import anywhere in the process warns
# (ImportWarning, an error under -W error) on Python < 3.12. The reports draw no maps.
sys.meta_path[:] = [
    finder
    for finder in sys.meta_path
    if not (type(finder).__module__ == "pygal" and type(finder).__name__ == "PluginImportFixer")
]

#: The fonts of the reports' HTML and charts: Latin first, then Noto Sans CJK in the
#: script of the page's locale, then whatever the system offers.
FONT_STACK: Final[dict[str, str]] = {
    "en": '"Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", sans-serif',
    "zh_Hans": '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", sans-serif',
    "zh_Hant": '"Noto Sans CJK TC", "Noto Sans TC", "Source Han Sans TC", "PingFang TC", '
    '"Microsoft JhengHei", sans-serif',
}

_COLORS: Final = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6")


def _style(catalog: str) -> Style:
    fonts = FONT_STACK[catalog]
    return Style(
        background="white",
        plot_background="white",
        foreground="#333333",
        foreground_strong="#111111",
        foreground_subtle="#888888",
        colors=_COLORS,
        font_family=fonts,
        title_font_family=fonts,
        label_font_family=fonts,
        major_label_font_family=fonts,
        legend_font_family=fonts,
        value_font_family=fonts,
        tooltip_font_family=fonts,
        no_data_font_family=fonts,
        title_font_size=18,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=14,
    )


def _static(key: str) -> Any:
    """An SVG tree filter: drop comments and scripts, name the chart ``key``."""

    def clean(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                tag = child.tag if isinstance(child.tag, str) else ""
                if not tag or tag.rsplit("}", 1)[-1] == "script":
                    parent.remove(child)  # comments have a function as tag
        root.set("id", f"chart-{key}")
        return root

    return clean


def chart_svg(chart: Chart, catalog: str, *, width: int = 760, height: int = 360) -> str:
    """``chart`` as an SVG element (text) for a page in ``catalog`` (a supported
    locale's catalog id: ``en``, ``zh_Hans``, ``zh_Hant``)."""
    kinds = {
        ChartKind.BAR: pygal.Bar,
        ChartKind.HORIZONTAL_BAR: pygal.HorizontalBar,
        ChartKind.LINE: pygal.Line,
    }
    config: dict[str, Any] = {
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": True,
        "width": width,
        "height": height
        if chart.kind is not ChartKind.HORIZONTAL_BAR
        else 60 + 36 * len(chart.labels),
        "style": _style(catalog),
        "title": chart.title,
        "show_legend": len(chart.series) > 1,
        "legend_at_bottom": True,
        "print_values": chart.kind is not ChartKind.LINE,
        "allow_interruptions": True,
        "include_x_axis": True,
        "margin": 12,
        "no_data_text": "–",
    }
    if chart.kind is ChartKind.HORIZONTAL_BAR:
        # pygal sizes the label column for Latin letters; a CJK character is twice as wide.
        wide = max(
            (sum(unicodedata.east_asian_width(c) in "WF" for c in label) for label in chart.labels),
            default=0,
        )
        config["margin_left"] = 12 + 7 * wide
    if chart.value_range is not None:
        config["range"] = chart.value_range
    elif chart.kind is not ChartKind.LINE:
        # Counts: whole-number ticks (pygal would label 0.1, 0.2, ... for a count of 1).
        top = max((v for s in chart.series for v in s.values if v is not None), default=0.0)
        step = max(1, math.ceil(top / 5))
        config["y_labels"] = list(range(0, int(top) + step, step))
        config["print_zeroes"] = False
        config["value_formatter"] = lambda value: f"{value:,.0f}"
    drawn = kinds[chart.kind](**config)
    # pygal names each chart with a random uuid4 and prefixes its CSS with it; a fixed
    # name keeps the output deterministic and the CSS of two charts apart.
    drawn.uuid = chart.key
    # pygal draws a horizontal bar chart's first label at the bottom: reversed, the
    # first (most frequent) row is on top, as in the table beside it.
    order = list(range(len(chart.labels)))
    if chart.kind is ChartKind.HORIZONTAL_BAR:
        order.reverse()
    drawn.x_labels = [chart.labels[i] for i in order]
    for series in chart.series:
        points: list[Any] = []
        for i in order:
            value = series.values[i]
            if value is None:
                points.append(None)
                continue
            point: dict[str, Any] = {"value": value}
            if series.texts:
                point["label"] = series.texts[i]
            if series.intervals and series.intervals[i] is not None:
                low, high = series.intervals[i]  # type: ignore[misc]
                point["ci"] = {"low": low, "high": high}
            points.append(point)
        drawn.add(series.name, points)
    drawn.xml_filters.append(_static(chart.key))
    return str(drawn.render(is_unicode=True))
