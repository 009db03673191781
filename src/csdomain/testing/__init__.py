"""Helpers for testing code that uses csdomain.

This package imports neither Hypothesis nor pytest, so it is safe to import
from production code and from test suites that use neither:

- :class:`FrozenClock`, a clock that stands still until told to move;
- :class:`SequentialIds`, deterministic ids such as ``tkt_000001``.

Hypothesis strategies for every public csdomain type live in
:mod:`csdomain.testing.strategies`, which requires Hypothesis (install the
``test`` extra: ``pip install "csdomain[test]"``). With csdomain installed,
``hypothesis.strategies.from_type(csdomain.Ticket)`` and friends yield valid
values too: csdomain registers its strategies through Hypothesis'
``hypothesis`` entry point (see :mod:`csdomain.testing._hypothesis`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csdomain.clock import FrozenClock
    from csdomain.ids import SequentialIds

__all__ = ["FrozenClock", "SequentialIds"]

#: Where each name lives; resolved on first use, so that the Hypothesis entry
#: point (``csdomain.testing._hypothesis``) loads this package for free.
_HOMES = {"FrozenClock": "csdomain.clock", "SequentialIds": "csdomain.ids"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
