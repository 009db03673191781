"""Generation speed of csdomain's Hypothesis strategies: examples per second.

Runs a trivial ``@given`` test under Hypothesis' default settings (only
``max_examples`` and the example database changed, so runs do not replay each
other) and prints examples/s for ``st.from_type(Ticket)``, ``tickets()`` and
``customers()``. ``--quick`` runs fewer examples (for CI smoke runs).

    python bench/strategies.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import hypothesis
import hypothesis.strategies as st
from hypothesis import given, settings
from machine import cpu, load_average, package_version

import csdomain
from csdomain.testing import strategies as cst


def examples_per_second(strategy: st.SearchStrategy[Any], examples: int) -> float:
    """Examples per second of a do-nothing test drawing from ``strategy``."""
    count = 0

    @settings(max_examples=examples, database=None)
    @given(strategy)
    def test(value: object) -> None:
        nonlocal count
        count += 1

    start = time.perf_counter()
    test()
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    """Print examples/s for each strategy, best of three runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 examples, one run")
    args = parser.parse_args(argv)
    examples, runs = (100, 1) if args.quick else (500, 3)
    print(
        f"Python {sys.version.split()[0]}, Hypothesis {hypothesis.__version__}, "
        f"csdomain {package_version('csdomain')}; {cpu()}; {load_average()}"
    )
    contenders = {
        "from_type(Ticket)": st.from_type(csdomain.Ticket),
        "tickets()": cst.tickets(),
        "customers()": cst.customers(),
    }
    for name, strategy in contenders.items():
        best = max(examples_per_second(strategy, examples) for _ in range(runs))
        print(f"{name:20} {best:8.0f} examples/s")
    print(load_average("the end"))


if __name__ == "__main__":
    main()
