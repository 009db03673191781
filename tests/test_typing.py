"""The types a user's checker sees: tests/typing under mypy, and mypy --strict over the docs.

- ``tests/typing`` holds ``assert_type`` lines and lines that must be errors (marked
  ``# type: ignore[<code>]``, with ``warn_unused_ignores``); mypy must accept it all.
- ``tests/typing/pending`` holds expectations the library does not meet yet, one file per
  needed fix. Each must still fail, and only on its expectations: once it passes, it
  belongs in ``tests/typing``.
- ``scripts/typecheck_docs.py`` checks every ```python block in docs/ and every example.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# mypy comes with the dev extra; without it there is nothing to check with.
pytest.importorskip("mypy", reason="the typing tests need mypy (pip install -e '.[dev]')")

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
CONFIG = TYPING / "mypy.ini"
PENDING = sorted((TYPING / "pending").glob("*.py"))

#: The errors a pending expectation gives before its fix: an error line that is not one
#: yet, or an expression whose type is not yet the one stated.
_EXPECTATION_CODES = {"unused-ignore", "assert-type"}
_ERROR = re.compile(r"^(?P<where>[^:\n]+:\d+): error: .*\[(?P<code>[a-z-]+)\]$", re.MULTILINE)


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_typing_folder_type_checks() -> None:
    done = _mypy(str(TYPING))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_typing_folder_catches_a_wrong_expectation(tmp_path: Path) -> None:
    """The set-up can fail: a wrong assert_type and an error line that is no error."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import assert_type\n"
        "from csdomain import Customer\n"
        "def f(c: Customer) -> None:\n"
        "    assert_type(c.segments, set[str])\n"
        "    Customer(id='c1', display_name='x')  # type: ignore[call-arg]\n",
        encoding="utf-8",
    )
    done = _mypy(str(probe))
    codes = {m["code"] for m in _ERROR.finditer(done.stdout)}
    assert done.returncode == 1
    assert codes == {"assert-type", "unused-ignore"}, done.stdout


@pytest.mark.parametrize("path", PENDING, ids=lambda p: p.name)
def test_pending_expectations_still_fail_only_on_themselves(path: Path) -> None:
    done = _mypy(str(path))
    errors = list(_ERROR.finditer(done.stdout))
    assert done.returncode != 0, (
        f"{path.name} type-checks now: move its lines into tests/typing and delete it"
    )
    other = [m.group(0) for m in errors if m["code"] not in _EXPECTATION_CODES]
    assert errors, done.stdout + done.stderr
    assert not other, "\n".join(other)
    # Every expectation still fails: one that passes now belongs in tests/typing.
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = {
        f"{path.relative_to(ROOT).as_posix()}:{n}"
        for n, line in enumerate(lines, start=1)
        if "# type: ignore[" in line or "assert_type(" in line
    }
    failing = {m["where"] for m in errors}
    assert expected <= failing, (
        f"met now, move to tests/typing: lines {sorted(expected - failing)} of {path.name}"
    )


def test_docs_blocks_and_examples_pass_mypy_strict() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "typecheck_docs.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if ": error: " in line]
    assert not errors, "\n".join(errors)
    assert done.returncode == 0, done.stdout + done.stderr
