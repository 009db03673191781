"""Which adapter opens which URL: built-in schemes and registered ones, never a module path.

``open_store`` looks a URL's scheme up here. The built-ins are ``memory``,
``sqlite``, ``postgresql`` and ``postgres``. A third-party adapter registers
its scheme in code with :func:`register_adapter`, or in its package metadata
under the entry-point group ``csdomain.storage_adapters``::

    [project.entry-points."csdomain.storage_adapters"]
    mydb = "mydb_csdomain:open_backend"

The opener is called as ``opener(url, tenant, create=...)`` and returns a
:class:`~csdomain.storage.backend.Backend`. A scheme is never taken as the
name of a module to import, so a URL cannot make csdomain import arbitrary code.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Final

from csdomain.errors import StorageError, ValidationError
from csdomain.storage.backend import Backend

__all__ = ["ENTRY_POINT_GROUP", "Opener", "adapter_for", "register_adapter", "schemes"]

#: The entry-point group third-party adapters register their schemes in.
ENTRY_POINT_GROUP: Final = "csdomain.storage_adapters"

#: How an adapter opens a URL: ``opener(url, tenant, create=False) -> Backend``.
Opener = Callable[..., Backend]

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,31}")

_BUILT_IN: Final = {
    "memory": "csdomain.storage.memory",
    "sqlite": "csdomain.storage.sqlite",
    "postgresql": "csdomain.storage.postgres",
    "postgres": "csdomain.storage.postgres",
}

_registered: dict[str, Opener] = {}
_lock = threading.Lock()


def register_adapter(scheme: str, opener: Opener) -> None:
    """Open URLs of ``scheme`` with ``opener`` (replacing an earlier registration)."""
    if not isinstance(scheme, str) or not _SCHEME.fullmatch(scheme) or scheme in _BUILT_IN:
        raise ValidationError.single(
            "register_adapter",
            "scheme",
            f"expected a lower-case URL scheme other than {', '.join(_BUILT_IN)}, got {scheme!r}",
        )
    if not callable(opener):
        raise ValidationError.single(
            "register_adapter", "opener", f"expected a callable, got {opener!r}"
        )
    with _lock:
        _registered[scheme] = opener


def schemes() -> tuple[str, ...]:
    """Every scheme ``open_store`` accepts now: built-in, registered, and advertised."""
    advertised = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return tuple(sorted({*_BUILT_IN, *_registered, *advertised}))


def adapter_for(scheme: str) -> Opener:
    """The opener of ``scheme``; ``ValidationError`` for a scheme no adapter serves."""
    scheme = scheme.lower()
    module_name = _BUILT_IN.get(scheme)
    if module_name is not None:
        try:
            module: Any = importlib.import_module(module_name)
        except ImportError as exc:
            extra = " (install csdomain[postgres])" if "postgres" in module_name else ""
            raise StorageError(
                f"cannot load the storage adapter for {scheme}:{extra}: {exc}"
            ) from exc
        opener: Opener = module.open_backend
        return opener
    with _lock:
        found = _registered.get(scheme)
    if found is not None:
        return found
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == scheme:
            try:
                loaded: Opener = ep.load()
            except Exception as exc:
                raise StorageError(
                    f"cannot load the storage adapter {ep.value!r} registered for {scheme}: {exc}"
                ) from exc
            return loaded
    known = ", ".join(f"{s}:" for s in schemes())
    raise ValidationError.single(
        "open_store",
        "url",
        f"no storage adapter serves the scheme {scheme!r}; expected one of {known} "
        "(a third-party adapter registers its scheme: csdomain.storage.register_adapter "
        f"or the {ENTRY_POINT_GROUP!r} entry-point group)",
    )
