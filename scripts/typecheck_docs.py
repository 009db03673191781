"""Type-check every ```python block in docs/ and every script in examples/ with mypy --strict.

The blocks of one page run in one namespace (see tests/test_docs.py, whose fence
parser this script reuses), so each page becomes one module holding its blocks at
their own line numbers: mypy's line numbers are the page's. A failure is printed
as ``docs/<page>.md:<line>: ... (python block <n>)``.

Usage: ``python scripts/typecheck_docs.py [--keep DIR] [mypy options...]``.
Exit status is mypy's (0 when everything type-checks).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

_MYPY_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<rest>.*)$")


def _test_docs() -> ModuleType:
    """tests/test_docs.py, whose ``python_blocks`` and ``PAGES`` define what a block is."""
    path = ROOT / "tests" / "test_docs.py"
    spec = importlib.util.spec_from_file_location("_csdomain_test_docs", path)
    if spec is None or spec.loader is None:
        raise SystemExit("cannot load tests/test_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


def module_name(page: Path) -> str:
    """The module name a page's blocks are checked as (``docs/guide/storage.md`` ->
    ``docs_guide_storage``)."""
    return "docs_" + re.sub(r"\W", "_", page.relative_to(DOCS).as_posix().removesuffix(".md"))


def write_modules(target: Path) -> dict[str, tuple[Path, list[tuple[int, int, int]]]]:
    """Write one module per page with python blocks into ``target``.

    Returns, per written file name, the page and its blocks as
    ``(number, first line, last line)``, to name the block a mypy error falls in.
    """
    test_docs = _test_docs()
    written: dict[str, tuple[Path, list[tuple[int, int, int]]]] = {}
    for page in test_docs.PAGES:
        blocks = test_docs.python_blocks(page.read_text(encoding="utf-8"))
        if not blocks:
            continue
        lines: list[str] = []
        spans = []
        for block in blocks:
            # Blank lines up to the block's first line keep the page's line numbers.
            lines.extend([""] * (block.line - 1 - len(lines)))
            body = block.source.splitlines()
            spans.append((block.number, block.line, block.line + len(body) - 1))
            lines.extend(body)
        name = module_name(page) + ".py"
        (target / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[name] = (page, spans)
    return written


def _translate(line: str, written: dict[str, tuple[Path, list[tuple[int, int, int]]]]) -> str:
    """A mypy output line with a generated module's path replaced by its page (and block)."""
    match = _MYPY_LINE.match(line)
    if match is None:
        return line
    found = written.get(Path(match["path"]).name)
    if found is None or Path(match["path"]).parent.name != "docs_blocks":
        return line
    page, spans = found
    number = int(match["line"])
    block = next((n for n, first, last in spans if first <= number <= last), None)
    where = f" (python block {block})" if block is not None else ""
    return f"{page.relative_to(ROOT).as_posix()}:{number}:{match['rest']}{where}"


def run(mypy_args: Sequence[str] = (), keep: Path | None = None) -> tuple[int, str]:
    """Run ``mypy --strict`` over the docs' blocks and the examples; return its exit
    status and its output with page names and line numbers."""
    with tempfile.TemporaryDirectory() as tmp:
        target = (keep or Path(tmp)) / "docs_blocks"
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.py"):
            old.unlink()
        written = write_modules(target)
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            *mypy_args,
            *sorted(str(target / name) for name in written),
            *sorted(str(p) for p in EXAMPLES.glob("*.py")),
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        output = "\n".join(_translate(line, written) for line in done.stdout.splitlines())
        return done.returncode, output + done.stderr


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", type=Path, help="write the generated modules under this directory and keep them"
    )
    options, mypy_args = parser.parse_known_args(argv)
    status, output = run(mypy_args, options.keep)
    print(output)
    return status


if __name__ == "__main__":
    sys.exit(main())
