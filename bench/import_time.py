"""Import cost of csdomain: `import csdomain` against `import attrs`, in fresh processes.

Prints the best of N wall-clock times for each import in a new interpreter (the
interpreter's own start-up subtracted), the number of modules each loads, and
whether `import csdomain` loads cattrs or babel (it must not: names resolve on
first use). `--quick` runs 5 processes each instead of 25.

    python bench/import_time.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from machine import cpu, load_average, package_version

_PROBE = """
import sys, time
before = set(sys.modules)
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
loaded = set(sys.modules) - before
print(__import__("json").dumps({{
    "seconds": elapsed,
    "modules": len(loaded),
    "heavy": sorted(m for m in ("cattrs", "babel", "csdomain.tickets") if m in loaded),
}}))
"""


#: What is timed, by label: the two imports, and csdomain's first use of a model noun.
_STATEMENTS = {
    "import attrs": "import attrs",
    "import csdomain": "import csdomain",
    "import csdomain; csdomain.Ticket": "import csdomain; csdomain.Ticket",
}


def probe(statement: str) -> dict[str, object]:
    """One fresh interpreter running ``statement``: seconds, modules loaded, heavy ones."""
    code = _PROBE.format(statement=statement)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main(argv: list[str] | None = None) -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 processes each")
    args = parser.parse_args(argv)
    runs = 5 if args.quick else 25
    print(f"Python {sys.version.split()[0]}, csdomain {package_version('csdomain')}; {cpu()}")
    print(load_average())
    results = {}
    for label, statement in _STATEMENTS.items():
        samples = [probe(statement) for _ in range(runs)]
        best = min(float(str(s["seconds"])) for s in samples)
        results[label] = (best, samples[0]["heavy"])
        print(f"{label:34} {best * 1000:7.2f} ms  {samples[0]['modules']} modules")
    ratio = results["import csdomain"][0] / results["import attrs"][0]
    print(f"import csdomain / import attrs = {ratio:.2f}x")
    heavy = results["import csdomain"][1]
    print(f"loaded by import csdomain among cattrs, babel, csdomain.tickets: {heavy or 'none'}")
    print(load_average("the end"))


if __name__ == "__main__":
    main()
