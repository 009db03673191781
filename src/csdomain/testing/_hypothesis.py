"""Registration of csdomain's strategies with Hypothesis, at almost no import cost.

``pyproject.toml`` declares :func:`_hypothesis_setup_hook` under the
``hypothesis`` entry-point group; Hypothesis calls it when it is imported, so
``st.from_type(csdomain.Ticket)`` and ``@given`` inference produce valid
csdomain values in any suite, with no import of :mod:`csdomain.testing.strategies`.

The hook imports only :mod:`csdomain._kernel.registry` (the open registry of
declared types), never a model module: with csdomain installed, ``import
hypothesis`` stays about as fast as without. For every type csdomain declares,
now or later, and for the csdomain classes already imported when the hook runs,
it registers a resolver with Hypothesis. The resolver imports
:mod:`csdomain.testing.strategies` the first time ``from_type`` resolves a
csdomain type and answers with the strategy registered in
:mod:`csdomain.testing.strategies.registry`; for a type without one it answers
``NotImplemented``, so Hypothesis resolves it as it would have without csdomain.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypothesis.strategies import SearchStrategy


#: Modules whose classes are machinery, not values to generate: skipping them means
#: a bare ``import hypothesis`` registers nothing (the first registration makes
#: Hypothesis import its type-resolution module, about 10 ms).
_MACHINERY = ("csdomain._kernel", "csdomain.errors", "csdomain.testing")


def _resolver(cls: type) -> Callable[[type], SearchStrategy[Any]]:
    """A resolver answering with the strategy registered for ``cls``.

    Hypothesis passes the type it is resolving, which may be a protocol or base
    class that ``cls`` implements (``from_type(Clock)`` asks ``FrozenClock``'s
    resolver), so the answer is for ``cls`` itself.
    """

    def resolve(thing: type) -> SearchStrategy[Any]:
        import csdomain.testing.strategies  # noqa: F401  # its area modules fill the registry
        from csdomain.testing.strategies.registry import strategy_for

        found = strategy_for(cls)
        return NotImplemented if found is None else found

    resolve.__name__ = resolve.__qualname__ = f"csdomain_{cls.__name__}"
    return resolve


def _is_value_class(cls: object) -> bool:
    """Whether ``cls`` is a csdomain value class the resolver may answer for.

    Exceptions, enums, tuples and protocols are left to Hypothesis: registering
    them would make ``from_type(ValueError)`` or ``from_type(tuple)`` yield
    csdomain values in unrelated tests, and Hypothesis samples enum members itself.
    """
    from enum import Enum

    return (
        isinstance(cls, type)
        and not cls.__name__.startswith("_")
        and not issubclass(cls, (BaseException, Enum, tuple))
        and not getattr(cls, "_is_protocol", False)
    )


def _hypothesis_setup_hook() -> None:
    """Tell Hypothesis how to generate every csdomain type, without importing any of them.

    Called by Hypothesis through the ``hypothesis`` entry point. Subscribes to
    :data:`csdomain._kernel.registry.declared_types` (every checked model class
    is announced there when its module is imported, before or after Hypothesis)
    and, for classes that are not announced, looks through the csdomain modules
    already imported, now and whenever a type is declared later.

    The SLA results (``SlaStatus``, ``MetricStatus``, ``SlaExplanation``) have
    no strategy: obtain them from :func:`csdomain.sla.evaluate` and
    :func:`csdomain.sla.explain` on generated tickets and policies. Exceptions and
    ``Problem`` are left unregistered on purpose; use
    :func:`csdomain.testing.strategies.errors` and ``problems`` instead.
    """
    import hypothesis.strategies as st

    from csdomain._kernel.registry import declared_types

    announced: set[type] = set()
    scanned: set[str] = set()

    def announce(cls: type) -> None:
        if cls not in announced and _is_value_class(cls):
            announced.add(cls)
            st.register_type_strategy(cls, _resolver(cls))

    def scan_imported_modules() -> None:
        # Classes that are not declared types (Ticket, FrozenClock, the id
        # generators) are found in the csdomain modules that finished importing.
        for name, module in tuple(sys.modules.items()):
            if (
                name in scanned
                or name.partition(".")[0] != "csdomain"
                or name.startswith(_MACHINERY)
            ):
                continue
            spec = getattr(module, "__spec__", None)
            if spec is not None and getattr(spec, "_initializing", False):
                continue
            scanned.add(name)
            for value in tuple(vars(module).values()):
                if isinstance(value, type) and value.__module__ == name:
                    announce(value)

    def on_declared(name: str, cls: type) -> None:
        announce(cls)
        scan_imported_modules()

    declared_types.subscribe(on_declared)
    scan_imported_modules()
