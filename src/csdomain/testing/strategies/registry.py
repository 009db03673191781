"""Which strategy generates each csdomain type: an open registry.

Each area module of :mod:`csdomain.testing.strategies` registers the types it
generates beside the strategy that generates them (``register(Ticket,
tickets)``); an extension registers its own types the same way, and nothing
edits a central table. The Hypothesis entry point
(:mod:`csdomain.testing._hypothesis`) looks types up here when
``st.from_type`` first resolves one, so ``st.from_type(csdomain.Ticket)``
yields what :func:`~csdomain.testing.strategies.tickets` yields.

>>> import hypothesis.strategies as st
>>> from csdomain import Customer
>>> from csdomain.testing.strategies import customers
>>> from csdomain.testing.strategies.registry import strategy_for
>>> strategy_for(Customer) is not None
True

This module imports no strategy: importing :mod:`csdomain.testing.strategies`
fills it. Requires Hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

__all__ = ["register", "registered", "strategy_for"]

_Factory = Callable[..., SearchStrategy[Any]]

_entries: dict[type, tuple[_Factory, dict[str, Any]]] = {}


def register(cls: type, factory: _Factory, /, **kwargs: Any) -> None:
    """Generate ``cls`` with ``factory(**kwargs)`` (a strategy function, called on first use).

    Registering ``cls`` again replaces the earlier entry, so an extension may
    refine a strategy; a factory that is not callable is refused.
    """
    if not isinstance(cls, type):
        raise InvalidArgument(f"register() needs a class, got {cls!r}")
    if not callable(factory):
        raise InvalidArgument(
            f"register({cls.__name__}, {factory!r}): the factory must be a function "
            "returning a SearchStrategy"
        )
    _entries[cls] = (factory, dict(kwargs))
    _built.pop(cls, None)


_built: dict[type, SearchStrategy[Any]] = {}


def strategy_for(cls: type) -> SearchStrategy[Any] | None:
    """The registered strategy for exactly ``cls``, or ``None`` if none is registered."""
    found = _built.get(cls)
    if found is None:
        entry = _entries.get(cls)
        if entry is None:
            return None
        factory, kwargs = entry
        found = _built[cls] = factory(**kwargs)
    return found


def registered() -> Mapping[type, tuple[_Factory, Mapping[str, Any]]]:
    """Every registration: each class with its strategy function and keyword arguments."""
    return dict(_entries)
