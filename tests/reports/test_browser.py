"""The HTML report in a real headless browser: it loads, its charts are SVG in the DOM,
and its Chinese text is drawn with glyphs, not boxes (tofu).

Uses Debian's Chromium (``/usr/bin/chromium``) and ``fonts-noto-cjk``. Without
Chromium the tests skip, unless ``CSDOMAIN_REQUIRE_BROWSER`` is set (as in CI):
then they fail.

The tofu check compares two screenshots of the same page: one with the
system's fonts, one in a browser whose fontconfig knows only DejaVu (fonts
without CJK glyphs), so every Chinese character there is the missing-glyph box.
CSS alone cannot force tofu (``font-family: "DejaVu Sans"`` falls back to any
installed CJK font), hence a fontconfig of its own. The title band of the
normal screenshot must have ink and must differ from the control's; without a
CJK font both would draw the same boxes and the check fails.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from csdomain.cli.demo import demo_setup, run_demo
from csdomain.reports.annual import AnnualReport, annual_report
from csdomain.reports.render import render
from csdomain.storage import open_store

REQUIRED = os.environ.get("CSDOMAIN_REQUIRE_BROWSER", "") not in ("", "0")
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)
#: Where Debian keeps DejaVu (Chromium depends on a Latin font; DejaVu has no CJK glyphs).
LATIN_ONLY_FONTS = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail(
                "chromium is missing; CSDOMAIN_REQUIRE_BROWSER is set, so this is a failure"
            )
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    return CHROMIUM


def _complaint_report() -> AnnualReport:
    """The 2026 report of the demo customer whose complaint escalated to the vendor."""
    store = open_store("memory:", tenant="demo")
    run_demo("en", write=lambda line: None, store=store)
    calendar = demo_setup().sla.calendars[0]
    complaint = next(
        t.value for t in store.tickets.list().items if t.value.kind.value == "complaint"
    )
    return annual_report(
        store, complaint.customer_id, 2026, calendar=calendar, zone_name="Asia/Shanghai"
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "annual.zh_Hans.html"
    path.write_text(render(_complaint_report(), "html", "zh_Hans"), encoding="utf-8")
    return path


def _run(chromium: str, args: list[str], profile: Path, env: dict[str, str] | None = None) -> str:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _screenshot(chromium: str, page: Path, out: Path, env: dict[str, str] | None = None) -> Path:
    _run(
        chromium,
        [f"--screenshot={out}", "--window-size=1200,2000", page.as_uri()],
        out.with_suffix(".profile"),
        env,
    )
    assert out.is_file(), f"chromium wrote no screenshot {out}"
    return out


# -- PNG, read with zlib -----------------------------------------------------------------


def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    position, idat, header = 8, bytearray(), b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    step = 3 if color == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + guess) & 0xFF
            else:
                assert kind == 0, f"unknown PNG filter {kind}"
        rows.append(bytes(line))
        previous = line
    return width, height, rows, step


def _inked(row: bytes, step: int) -> int:
    """Pixels of ``row`` darker than the page's white background."""
    return sum(1 for i in range(0, len(row), step) if min(row[i : i + 3]) < 160)


def title_band(path: Path) -> tuple[list[bytes], int]:
    """The rows of the first block of ink from the top (the page's <h1>), and the
    bytes per pixel."""
    _, _, rows, step = read_png(path)
    top = next(y for y, row in enumerate(rows) if _inked(row, step))
    bottom = top
    while bottom < len(rows) and any(_inked(row, step) for row in rows[bottom : bottom + 3]):
        bottom += 1
    return rows[top:bottom], step


def _band_ink(band: tuple[list[bytes], int]) -> int:
    rows, step = band
    return sum(_inked(row, step) for row in rows)


def _differing_pixels(a: tuple[list[bytes], int], b: tuple[list[bytes], int]) -> int:
    (rows_a, step), (rows_b, step_b) = a, b
    assert step == step_b
    return sum(
        1
        for row_a, row_b in zip(rows_a, rows_b, strict=False)
        for i in range(0, min(len(row_a), len(row_b)), step)
        if max(abs(row_a[i + c] - row_b[i + c]) for c in range(3)) > 64
    )


# -- the tests ---------------------------------------------------------------------------


def test_the_page_loads_with_its_charts_as_svg(chromium: str, page: Path, tmp_path: Path) -> None:
    dom = _run(chromium, ["--dump-dom", page.as_uri()], tmp_path / "profile")
    assert '<html lang="zh-Hans">' in dom
    assert "2026年度服务报告" in dom.replace(" ", "")
    charts = re.findall(r'<svg[^>]*id="chart-([a-z-]+)"', dom)
    assert charts == ["tickets-by-month", "tickets-by-channel", "tickets-by-kind"]
    # the charts' labels are text in the DOM, in Chinese
    assert re.search(r"<text[^>]*>11月</text>", dom)
    assert re.search(r"<text[^>]*>投诉</text>", dom)
    assert re.search(r"<rect[^>]*class=\"rect reactive tooltip-trigger\"", dom)
    assert "<script" not in dom


def test_the_chinese_title_is_drawn_with_cjk_glyphs_not_boxes(
    chromium: str, page: Path, tmp_path: Path
) -> None:
    if not LATIN_ONLY_FONTS.is_dir():
        pytest.fail(f"the control needs DejaVu fonts in {LATIN_ONLY_FONTS} (fonts-dejavu-core)")
    normal = title_band(_screenshot(chromium, page, tmp_path / "normal.png"))
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{LATIN_ONLY_FONTS}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir>"
        "</fontconfig>",
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    control = title_band(_screenshot(chromium, page, tmp_path / "tofu.png", env))

    assert _band_ink(normal) > 500, "the title has (almost) no ink"
    assert _band_ink(control) > 500, "the control's title has no ink: the control is broken"
    differing = _differing_pixels(normal, control)
    assert len(normal[0]) != len(control[0]) or differing > 300, (
        "the Chinese title looks the same as in a browser without CJK fonts: tofu"
    )

    # Within the same browser: every missing glyph is the same box, so a title whose
    # Chinese characters are replaced by other ones would look the same. Real glyphs differ.
    variant = tmp_path / "variant.html"
    variant.write_text(other_cjk_title(page.read_text(encoding="utf-8")), encoding="utf-8")
    shifted = title_band(_screenshot(chromium, variant, tmp_path / "variant.png"))
    assert _differing_pixels(normal, shifted) > 50, (
        "other Chinese characters in the title look the same: they are boxes"
    )


def other_cjk_title(page: str) -> str:
    """``page`` with each CJK character of its <h1> replaced by the next code point."""

    def shift(match: re.Match[str]) -> str:
        text = re.sub(r"[\u4e00-\u9ffe]", lambda c: chr(ord(c.group(0)) + 1), match.group(1))
        assert text != match.group(1), "the title has no Chinese character to check"
        return f"<h1>{text}</h1>"

    return re.sub(r"<h1>(.*?)</h1>", shift, page, count=1)


def test_a_title_of_boxes_fails_the_glyph_check(chromium: str, page: Path, tmp_path: Path) -> None:
    """The check above can fail: in a browser without CJK fonts, the title and its
    variant with other Chinese characters are drawn alike (the same boxes)."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{LATIN_ONLY_FONTS}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir>"
        "</fontconfig>",
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    variant = tmp_path / "variant.html"
    variant.write_text(other_cjk_title(page.read_text(encoding="utf-8")), encoding="utf-8")
    boxes = title_band(_screenshot(chromium, page, tmp_path / "boxes.png", env))
    other_boxes = title_band(_screenshot(chromium, variant, tmp_path / "other.png", env))
    assert _differing_pixels(boxes, other_boxes) == 0


def test_png_reader_reads_what_chromium_wrote(chromium: str, tmp_path: Path) -> None:
    """The reader itself: a page that is white above a black block of known size."""
    html = tmp_path / "block.html"
    html.write_text(
        "<!DOCTYPE html><html><body style='margin:0;background:#fff'>"
        "<div style='margin:40px 0 0 100px;width:200px;height:50px;background:#000'></div>"
        "</body></html>",
        encoding="utf-8",
    )
    shot = _screenshot(chromium, html, tmp_path / "block.png")
    width, height, _rows, step = read_png(shot)
    assert (width, height) == (1200, 2000)
    band, band_step = title_band(shot)
    assert (len(band), band_step) == (50, step)
    assert all(_inked(row, step) == 200 for row in band)
    assert _differing_pixels((band, step), (band[:25], step)) == 0
