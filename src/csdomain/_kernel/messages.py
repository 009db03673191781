"""Marking translatable messages; shared by :mod:`csdomain.i18n` and the modules it labels."""

from __future__ import annotations

Message = tuple[str, str]


def _mark(context: str, message: str) -> Message:
    """Mark ``message`` (in ``context``) for extraction; translated later, at lookup.

    Babel extracts calls to this function through the ``_mark:1c,2`` keyword in
    ``babel.cfg``.
    """
    return (context, message)
