"""``csdomain report``: the annual report of a demo customer, and the period report, from a
store file; usage errors name the option."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from csdomain.cli import main
from csdomain.cli.command import _parser, _store_arguments
from csdomain.cli.report import add_report_command, run_report
from csdomain.errors import NotFoundError, ValidationError
from csdomain.storage import open_store

WIRED = "report" in _parser()[1]
needs_wiring = pytest.mark.skipif(not WIRED, reason="csdomain report is not wired yet")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "desk.db"
    assert main(["demo", "--db", str(path)]) == 0
    return path


def _complaint_customer(db: Path) -> str:
    with open_store(f"sqlite:///{db}", tenant="demo") as store:
        return next(
            t.value.customer_id
            for t in store.tickets.list().items
            if t.value.kind.value == "complaint"
        )


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="csdomain")
    add_report_command(parser.add_subparsers(dest="command"), _store_arguments)
    return parser.parse_args(argv)


def test_the_annual_report_of_a_demo_customer_in_chinese_html(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = _complaint_customer(demo_db)
    out = tmp_path / "annual.html"
    argv = [
        "report",
        "annual",
        "--db",
        str(demo_db),
        "--customer",
        customer,
        "--year",
        "2026",
        "--format",
        "html",
        "--locale",
        "zh_CN",
        "--calendar",
        "shanghai-desk",
        "--out",
        str(out),
    ]
    with open_store(f"sqlite:///{demo_db}", tenant="demo") as store:
        page = run_report(_parse(argv), store)
    assert out.read_text(encoding="utf-8") == page
    assert capsys.readouterr().out == ""  # written to the file only
    assert '<html lang="zh-Hans">' in page
    assert page.count("<svg") >= 3
    assert "投诉" in page and "电子邮件" in page and "11月" in page
    assert "shanghai-desk" in page


def test_the_period_report_as_text(demo_db: Path) -> None:
    argv = ["report", "period", "--db", str(demo_db), "--from", "2026-11-23", "--to", "2026-11-23"]
    lines: list[str] = []
    with open_store(f"sqlite:///{demo_db}", tenant="demo") as store:
        run_report(_parse(argv), store, write=lines.append)
    text = "\n".join(lines)
    assert "Tickets opened" in text and "Complaint rate" in text
    # the --to day is included: the demo day's 7 tickets (per run of the demo)
    assert re.search(r"^Tickets opened +7 ", text, re.MULTILINE)


def test_report_errors_are_typed(demo_db: Path) -> None:
    with open_store(f"sqlite:///{demo_db}", tenant="demo") as store:
        with pytest.raises(NotFoundError):
            run_report(
                _parse(["report", "annual", "--db", "x", "--customer", "cus_x", "--year", "2026"]),
                store,
            )
        with pytest.raises(ValidationError, match="no calendar named 'moon'"):
            run_report(
                _parse(
                    [
                        *("report", "period", "--db", "x", "--calendar", "moon"),
                        *("--from", "2026-01-01", "--to", "2026-01-02"),
                    ]
                ),
                store,
            )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--year", "20x6"], "argument --year: expected a year"),
        (["--year", "2026", "--zone", "Mars/Base"], "argument --zone: unknown IANA time zone"),
        (["--year", "2026", "--format", "pdf"], "argument --format: invalid choice"),
    ],
)
def test_usage_errors_name_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parse(["report", "annual", "--db", "x", "--customer", "c", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@needs_wiring
def test_through_the_csdomain_command(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = _complaint_customer(demo_db)
    argv = ["report", "annual", "--db", str(demo_db), "--customer", customer, "--year", "2026"]
    assert main([*argv, "--locale", "zh-TW"]) == 0
    assert "客訴" in capsys.readouterr().out
    assert main([*argv[:-4], "--customer", "cus_nobody", "--year", "2026"]) == 1
    assert "cus_nobody" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "annual", "--db", str(tmp_path / "missing.db"), "--customer", "c"])
