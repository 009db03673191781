"""Every ```python block in docs/**/*.md runs.

Blocks run in order, page by page, in one namespace per page, so a later block
may use the names an earlier block of the same page defined. A block that is
deliberately not runnable uses another info string (```text, ```console, ...).
Blocks nested inside MyST directives (````{note} ... ````) are found too; the
contents of other code blocks are never searched.
"""

from __future__ import annotations

import importlib
import re
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    """One ```python block: its number on the page, first line and source."""

    number: int
    line: int
    source: str


def _closes(line: str, char: str, length: int) -> bool:
    match = _FENCE.match(line)
    if match is None:
        return False
    fence = match["fence"]
    return fence[0] == char and len(fence) >= length and not match["info"].strip()


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown page, in order (CommonMark fences, nested in
    directives allowed)."""
    blocks: list[Block] = []
    # Open fences, innermost last: (char, length, info, indent, first line, body lines).
    stack: list[tuple[str, int, str, int, int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if stack:
            char, length, info, indent, start, body = stack[-1]
            if _closes(line, char, length):
                stack.pop()
                if info == "python":
                    source = "\n".join(_dedent(body, indent))
                    blocks.append(Block(len(blocks) + 1, start, source + "\n"))
                continue
            if not info.startswith("{"):  # inside a code block: literal text
                body.append(line)
                continue
        match = _FENCE.match(line)
        if match is not None and not (match["fence"][0] == "`" and "`" in match["info"]):
            words = match["info"].split()
            stack.append(
                (
                    match["fence"][0],
                    len(match["fence"]),
                    words[0] if words else "",
                    len(match["indent"]),
                    number + 1,
                    [],
                )
            )
        elif stack:
            stack[-1][5].append(line)
    if stack and stack[-1][2] == "python":
        raise AssertionError(f"unclosed ```python block starting at line {stack[-1][4] - 1}")
    return blocks


def _dedent(lines: list[str], indent: int) -> list[str]:
    """Remove up to ``indent`` leading spaces, as CommonMark does for fenced code."""
    out = []
    for line in lines:
        spaces = len(line) - len(line.lstrip(" "))
        out.append(line[min(spaces, indent) :])
    return out


def test_pages_found() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"index.md", "tutorial.md", "fundamentals.md"} <= names


def test_fence_parser() -> None:
    page = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            "```text",
            "```python",
            "not code",
            "```",
            "````{note}",
            "```python",
            "b = a + 1",
            "```",
            "````",
            "~~~python",
            "c = 3",
            "~~~",
        ]
    )
    blocks = python_blocks(page)
    assert [b.source for b in blocks] == ["a = 1\n", "b = a + 1\n", "c = 3\n"]
    assert [b.line for b in blocks] == [2, 10, 14]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = page.relative_to(DOCS).as_posix()
    # Each page runs as a module of its own, registered while it runs, so that
    # classes defined in examples resolve their annotations as in a real module.
    module = types.ModuleType("docs_" + re.sub(r"\W", "_", name.removesuffix(".md")))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in python_blocks(page.read_text(encoding="utf-8")):
        # Pad with blank lines so that tracebacks give line numbers of the page;
        # dont_inherit: this file's __future__ imports must not leak into examples.
        source = "\n" * (block.line - 1) + block.source
        code = compile(source, f"docs/{name}", "exec", dont_inherit=True)
        try:
            exec(code, module.__dict__)
        except Exception as error:
            # Skip this function's own frame: show the example's lines only.
            tb = error.__traceback__.tb_next if error.__traceback__ else None
            failure = "".join(traceback.format_exception(type(error), error, tb))
        else:
            continue
        pytest.fail(
            f"docs/{name}: python block {block.number} (starting at line {block.line}) "
            f"failed:\n{failure}",
            pytrace=False,
        )


def test_reexport_table_matches_package() -> None:
    """docs/reference/index.md lists every name of ``csdomain.__all__`` once, under the
    module that defines it."""
    import csdomain

    text = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    listed: dict[str, str] = {}
    for row in re.findall(r"^\| (\{doc\}`\w+`|this page) \| (.+) \|$", text, re.MULTILINE):
        where, names = row
        module = "csdomain" if where == "this page" else "csdomain." + where[6:-1]
        for name in re.findall(r"`(\w+)`", names):
            assert name not in listed, f"{name} is listed twice"
            listed[name] = module
    assert set(listed) == set(csdomain.__all__)
    for name, module in listed.items():
        if module != "csdomain":
            defining = importlib.import_module(module)
            assert getattr(defining, name) is getattr(csdomain, name), (name, module)
