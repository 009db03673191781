"""The csdomain command writing into a pipe whose reader stops early (``| head``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import csdomain
from csdomain.storage import open_store

COMMAND = [sys.executable, "-m", "csdomain"]


def stored_tickets(db: Path) -> list[str]:
    with open_store(f"sqlite:///{db}", tenant="demo") as store:
        return [stored.value.id for stored in store.tickets.list().items]


@pytest.mark.skipif(shutil.which("head") is None, reason="needs the head command")
def test_demo_piped_into_head(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo = subprocess.Popen(
        [*COMMAND, "demo", "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert demo.stdout is not None and demo.stderr is not None
    head = subprocess.Popen(["head", "-n", "2"], stdin=demo.stdout, stdout=subprocess.PIPE)
    demo.stdout.close()  # head holds the only read end now
    shown, _ = head.communicate()
    errors = demo.stderr.read().decode()
    demo.stderr.close()
    code = demo.wait()
    assert shown.decode().splitlines() == [
        f"csdomain {csdomain.__version__} demo: 6 customers, 7 tickets",
        "",
    ]
    # Whether the demo met the closed pipe depends on how much head let through first:
    # either way it ends quietly.
    assert errors == "" and code in (0, 1)
    assert stored_tickets(db) == [f"tkt_{i:04d}" for i in range(1, 9)]


@pytest.mark.parametrize("command", [["demo"], ["tickets"], ["--help"], ["--version"]])
def test_reader_gone_before_the_first_line(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "demo.db"
    if command == ["tickets"]:
        subprocess.run([*COMMAND, "demo", "--db", str(db)], capture_output=True, check=True)
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write meets EPIPE
    try:
        arguments = command if command[0].startswith("-") else [*command, "--db", str(db)]
        result = subprocess.run([*COMMAND, *arguments], stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.stderr.decode() == ""  # no BrokenPipeError traceback, no "Exception ignored"
    if command[0].startswith("-"):
        # argparse's own output ignores a failed write and exits 0; either status is quiet.
        assert result.returncode in (0, 1)
    else:
        assert result.returncode == 1  # what Python itself uses for EPIPE
        # The day was saved before the first line was written.
        assert len(stored_tickets(db)) == 8
