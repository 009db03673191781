"""Sphinx configuration for the csdomain documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html``. The build needs no
network: intersphinx is deliberately not enabled, so references to the standard
library, attrs, cattrs, Babel or Hypothesis render as plain text.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# Import the package from the source tree when it is not installed.
_SRC = Path(__file__).resolve().parent.parent / "src"
if str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

import csdomain  # noqa: E402

# -- project ------------------------------------------------------------------

project = "csdomain"
author = "csdomain developers"
copyright = "csdomain developers"
release = csdomain.__version__
version = ".".join(release.split(".")[:2])

# -- general ------------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
language = "en"
nitpicky = False

# -- MyST ---------------------------------------------------------------------

myst_enable_extensions = ["deflist"]
myst_heading_anchors = 3

# -- autodoc ------------------------------------------------------------------

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "undoc-members": True,
}

# -- HTML ---------------------------------------------------------------------

html_theme = "furo"
html_title = f"csdomain {release}"
html_static_path: list[str] = []


# -- autodoc tidying ----------------------------------------------------------


def _public_bases(app: object, name: str, obj: object, options: object, bases: list[type]) -> None:
    """Show public bases only: a private csdomain base is replaced by its own bases.

    ``Checked`` (construction-time checks) and ``OrderedEnum`` (ordered enum
    members) live in private modules; readers see ``Enum`` instead of
    ``OrderedEnum`` and ``object`` for ``Checked``.
    """
    public: list[type] = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        if base.__module__.startswith("csdomain._"):
            pending[:0] = [b for b in base.__bases__ if b is not object]
        elif base is not object and base not in public:
            public.append(base)
    bases[:] = public or [object]


def _factory_defaults(
    app: object,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None]:
    """attrs shows a default made by a factory as ``NOTHING``; say ``<factory>``."""
    if signature is not None:
        signature = signature.replace("=NOTHING", "=<factory>")
    return signature, return_annotation


def _canonical_name(target: str) -> str | None:
    """``csdomain.Ticket.open`` -> ``csdomain.tickets.Ticket.open``, or None.

    Docstrings refer to re-exported names (``csdomain.Ticket``); each object is
    documented once, under the module that defines it.
    """
    parts = target.split(".")
    if parts[0] != "csdomain" or len(parts) < 2:
        return None
    obj: object = csdomain
    for part in parts[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
        if isinstance(obj, type(csdomain)):  # a submodule: keep walking
            continue
        if hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
            rest = parts[parts.index(part) + 1 :]
            return ".".join([obj.__module__, obj.__qualname__, *rest])
    return None


def _resolve_reexports(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve Python references to re-exported names to their documented place."""
    if node.get("refdomain") != "py":
        return None
    canonical = _canonical_name(node.get("reftarget", ""))
    if canonical is None or canonical == node["reftarget"]:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode
    )


def setup(app: Any) -> None:
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-signature", _factory_defaults)
    app.connect("missing-reference", _resolve_reexports)
