"""The document registry: each module names its own top-level JSON document types.

``declare_document("ticket", Ticket)`` sits beside the class; the serialization
package reads this registry, so a new aggregate (an extension's, too) becomes a
document without editing a central list. Engines declare their documents here
without importing serialization.
"""

from __future__ import annotations

from typing import TypeVar

from csdomain._kernel.registry import Registry

__all__ = ["declare_document", "document_types"]

T = TypeVar("T", bound=type)

#: Document name -> type, for every type that can be a top-level document.
document_types: Registry[str, type] = Registry("document type")


def declare_document(name: str, cls: T) -> T:
    """Register ``cls`` as the top-level document called ``name``; returns ``cls``.

    A class attrs rebuilt (slots) under the same qualified name replaces the first.
    """
    present = document_types.get(name)
    if present is not None and (present.__module__, present.__qualname__) == (
        cls.__module__,
        cls.__qualname__,
    ):
        document_types.replace(name, cls)
    else:
        document_types.add(name, cls)
    return cls
