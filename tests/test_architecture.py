"""The layers of DESIGN.md, checked: import-linter's contracts, and private names.

The contracts live in pyproject.toml (``[tool.importlinter]``); this test runs
``lint-imports`` so a broken layer fails the suite, not only CI. Private names
(a ``_module`` or a ``_name``) may be imported inside their own concept package
only; ``csdomain._kernel`` is the shared private foundation every module may use.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _concept(module: str) -> str:
    """``csdomain.sla._engine`` -> ``csdomain.sla``; flat modules are their own concept."""
    return ".".join(module.split(".")[:2])


def _private_crossings(src: Path = SRC) -> list[str]:
    found = []
    for path in sorted((src / "csdomain").rglob("*.py")):
        importer = _module_name(path, src)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            source = node.module
            if not source.startswith("csdomain") or source.startswith("csdomain._kernel"):
                continue
            same_concept = _concept(source) == _concept(importer)
            private_module = any(part.startswith("_") for part in source.split(".")[1:])
            private_names = [
                alias.name
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
            if not same_concept and (private_module or private_names):
                what = source + (f" ({', '.join(private_names)})" if private_names else "")
                found.append(f"{importer}:{node.lineno} imports private {what}")
    return found


def test_no_private_name_crosses_a_package_boundary() -> None:
    assert _private_crossings() == []


def test_the_crossing_check_reports_crossings_and_allows_the_rest(tmp_path: Path) -> None:
    package = tmp_path / "csdomain"
    (package / "sla").mkdir(parents=True)
    (package / "sla" / "__init__.py").write_text("from csdomain.sla._engine import walk\n")
    (package / "channels.py").write_text(
        "from csdomain._kernel.validation import Checked\n"
        "from csdomain.sla._engine import walk\n"
        "from csdomain.serialization import _ticket_json\n"
    )
    assert _private_crossings(tmp_path) == [
        "csdomain.channels:2 imports private csdomain.sla._engine",
        "csdomain.channels:3 imports private csdomain.serialization (_ticket_json)",
    ]


def test_import_linter_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is in the dev extra")
    result = subprocess.run(
        [lint, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_import_csdomain_loads_neither_cattrs_nor_babel() -> None:
    code = (
        "import sys, csdomain\n"
        "heavy = [m for m in ('cattrs', 'babel', 'csdomain.tickets', 'csdomain.sla') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
