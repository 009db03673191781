"""Rejecting invalid input: time, problems kept and message size, however bad the input.

The cases (issue 9, "Invalid documents are costly to reject"):

* a 100 kB customer document whose ``contact_points`` is a string, loaded with
  ``csdomain.serialization.from_json`` (the issue's case: 6.3 s, 546 MB and
  200,000 problems in a 15.6 MB message before; goal: rejected in under 50 ms)
  and built directly with ``Customer(...)``;
* a customer with 10,000 bad contact points (goal: 100 problems kept, a count of
  10,000);
* a ``ValidationError`` handed 200,000 problems one at a time.

Each case runs once untimed (the first construction of a class compiles its
checks), then ``--repeat`` times (gc off); the table gives the median and the
largest time in ms, the problems kept and counted, and the message length.
``--check`` exits with status 1 when a goal is not met.

Run from the repository root::

    .venv/bin/python bench/rejection.py
    .venv/bin/python bench/rejection.py --quick    # one repeat
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable

from machine import cpu, load_average, package_version

import csdomain
from csdomain.customers import Customer
from csdomain.errors import ValidationError
from csdomain.serialization import from_json as load_json
from csdomain.serialization import json_backend, to_dict

GOAL_100_KB_MS = 50.0  # the 100 kB document rejected in under this


def _document(contact_points: object) -> str:
    document = to_dict(Customer(id="cus_1", display_name="A"))
    document["contact_points"] = contact_points
    return json.dumps(document, ensure_ascii=False)


def _rejection(build: Callable[[], object]) -> ValidationError:
    try:
        build()
    except ValidationError as error:
        return error
    raise AssertionError("the input was accepted")


def _many(count: int) -> object:
    return ValidationError("Thing", ((f"items[{i}]", "bad item") for i in range(count)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: one repeat")
    parser.add_argument("--repeat", type=int, help="timing repeats (default 5, quick 1)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is not met")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 5)

    text_100_kb = _document("x" * 100_000)
    bad_items = [f"+86 138 {i:04d}" for i in range(10_000)]
    cases: list[tuple[str, Callable[[], object], float | None, int | None]] = [
        (
            f"from_json, 100 kB document, contact_points a string ({len(text_100_kb)} B)",
            lambda: load_json(text_100_kb, Customer),
            GOAL_100_KB_MS,
            1,
        ),
        (
            "Customer(...), contact_points a 100 kB string",
            lambda: Customer(id="cus_1", display_name="A", contact_points="x" * 100_000),  # type: ignore[arg-type]
            GOAL_100_KB_MS,
            1,
        ),
        (
            "Customer(...), 10,000 bad contact points",
            lambda: Customer(id="cus_1", display_name="A", contact_points=bad_items),  # type: ignore[arg-type]
            None,
            10_000,
        ),
        ("ValidationError of 200,000 problems, one at a time", lambda: _many(200_000), None, None),
    ]

    print("# Rejection benchmark: invalid input, rejected fast and small\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/rejection.py {given}".rstrip() + "  ")
    print(
        f"Versions: csdomain {csdomain.__version__}, JSON backend {json_backend()}, "
        f"orjson {package_version('orjson')}  "
    )
    print(f"Machine: {cpu()}, {load_average()}  ")
    print(f"Timing: median and largest of {repeat} runs, gc off, ms\n")
    print("| case | ms, median | ms, max | problems kept | problem_count | message chars | goal |")
    print("|---|--:|--:|--:|--:|--:|---|")
    all_ok = True
    for label, build, goal_ms, goal_count in cases:
        times: list[float] = []
        error: ValidationError | None = None
        _ = build() if "ValidationError" in label else _rejection(build)  # warm-up, untimed
        for _ in range(repeat):
            gc.disable()
            start = time.perf_counter()
            found = build() if "ValidationError" in label else _rejection(build)
            times.append((time.perf_counter() - start) * 1e3)
            gc.enable()
            assert isinstance(found, ValidationError)
            error = found
        assert error is not None
        median = statistics.median(times)
        goals = []
        if goal_ms is not None:
            met = median < goal_ms
            goals.append(f"< {goal_ms:.0f} ms: {'met' if met else '**NOT met**'}")
            all_ok &= met
        if goal_count is not None:
            met = error.problem_count == goal_count and len(error.problems) <= 100
            goals.append(f"{goal_count} counted: {'met' if met else '**NOT met**'}")
            all_ok &= met
        print(
            f"| {label} | {median:.2f} | {max(times):.2f} | {len(error.problems)} "
            f"| {error.problem_count} | {len(str(error))} | {'; '.join(goals) or '-'} |"
        )
    print(f"\nMachine at the end: {load_average('the end')}  ")
    return 1 if args.check and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
