"""The ``csdomain`` command line: the parser, its option checks and the dispatch."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import csdomain
from csdomain._kernel.validation import explain, key
from csdomain.cli.demo import DEMO_DB, run_demo
from csdomain.cli.report import add_report_command, run_report
from csdomain.cli.tickets import list_tickets
from csdomain.errors import CSDomainError, NoStoreError, ValidationError
from csdomain.i18n import translation
from csdomain.privacy import mask_url
from csdomain.storage import MAX_PAGE, Store, open_store
from csdomain.tickets import Status

__all__ = ["main"]

_TENANT = key("tenant")


def _reason(error: CSDomainError) -> str:
    """What was wrong, without the internal subject a ValidationError starts with."""
    if isinstance(error, ValidationError):
        return "; ".join(problem.message for problem in error.problems)
    return str(error)


# argparse turns an ArgumentTypeError into "argument --option: <message>" and exit status 2;
# any other exception would name the converter function instead of the option.


def _tenant(value: str) -> str:
    if not _TENANT.ok(value):
        raise argparse.ArgumentTypeError("; ".join(m for _, m in explain(_TENANT, value)))
    return value


def _locale(value: str) -> str:
    try:
        translation(value)
    except CSDomainError as error:
        raise argparse.ArgumentTypeError(_reason(error)) from None
    return value  # passed on as typed: csdomain.i18n reads "zh-CN" and "zh_CN" alike


def _page_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 1 to {MAX_PAGE}, got {value!r}"
        )
    return size


def _store_arguments(command: argparse.ArgumentParser, *, default_db: str | None) -> None:
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--db",
        default=default_db,
        metavar="PATH",
        help="SQLite database file"
        + (f" (default {default_db}; created if missing)" if default_db else " (must exist)"),
    )
    where.add_argument("--url", help="any store URL, e.g. postgresql://user@host/db")
    if default_db:
        where.add_argument("--memory", action="store_true", help="keep nothing: an in-memory store")
    command.add_argument(
        "--tenant", default="demo", type=_tenant, help="the tenant to use (default demo)"
    )
    command.add_argument(
        "--locale",
        default="en",
        type=_locale,
        help="language of the labels: en, zh_CN or zh-CN (简体中文), zh_TW or zh-TW (繁體中文); "
        "default en",
    )


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="csdomain",
        description="The customer-service domain as a library: tickets, channels, SLA and more.",
    )
    parser.add_argument("--version", action="version", version=f"csdomain {csdomain.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run a help-desk day through the HelpDesk (routing, escalation L1 -> L2 -> vendor), "
        "save it, print who got what and why",
    )
    _store_arguments(demo, default_db=DEMO_DB)
    tickets = commands.add_parser("tickets", help="list a store's tickets page by page")
    _store_arguments(tickets, default_db=None)
    tickets.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in Status],
        help="only tickets with this status (repeat for several)",
    )
    tickets.add_argument(
        "--page-size",
        type=_page_size,
        default=20,
        help=f"tickets per page, 1 to {MAX_PAGE} (default 20)",
    )
    report = add_report_command(commands, _store_arguments)
    return parser, {"demo": demo, "tickets": tickets, "report": report}


def _open(args: argparse.Namespace, command: argparse.ArgumentParser) -> tuple[Store, str]:
    """The store the options name, and how to show where it is; usage errors exit 2."""
    if args.url:
        option, url, location = "--url", args.url, mask_url(args.url)
    elif args.db:
        option, url, location = "--db", f"sqlite:///{args.db}", os.path.abspath(args.db)
        if args.command in ("tickets", "report") and not os.path.isfile(args.db):
            command.error(f"argument --db: no such database file: {location}")
    else:
        command.error("say where the store is: --db PATH or --url URL")
    try:
        # Only the demo creates a store: listing a mistyped path or URL must not make one.
        return open_store(url, tenant=args.tenant, create=args.command == "demo"), location
    except NoStoreError:
        command.error(f"argument {option}: no csdomain store at {location}")
    except CSDomainError as error:
        command.error(f"argument {option}: {_reason(error)}")


def _run(argv: Sequence[str] | None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "demo" and args.memory:
        run_demo(args.locale)
        return 0
    store, location = _open(args, commands[args.command])
    try:
        if args.command == "demo":
            run_demo(args.locale, store=store, location=location)
        elif args.command == "report":
            run_report(args, store)
        else:
            list_tickets(
                store,
                statuses=[Status(s) for s in args.status or ()],
                page_size=args.page_size,
                locale=args.locale,
            )
    except CSDomainError as error:
        print(f"csdomain {args.command}: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``csdomain`` command; returns the exit status.

    Usage errors (an unknown option, a bad value, a missing database file)
    exit with status 2 and name the option; a failure while running exits 1.
    A reader that stops early (``csdomain demo | head``) ends the command
    quietly with status 1, as the Python documentation advises for EPIPE;
    the demo has saved its day before writing anything.
    """
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # output still buffered meets the closed pipe here
    except BrokenPipeError:
        # Point stdout at devnull so the interpreter's own flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
