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

from csdomain.clock import FrozenClock
from csdomain.ids import SequentialIds

__all__ = ["FrozenClock", "SequentialIds"]
