"""Pending: ordered enums of different kinds compare without a mypy error.

``CustomerTier.VIP < Priority.HIGH`` raises ``TypeError`` at run time. Needs in
csdomain/_kernel/enums.py: ``OrderedEnum.__lt__``, ``__le__``, ``__gt__`` and ``__ge__``
taking ``other: Self`` (``typing_extensions.Self`` on 3.10) instead of ``Any``.
"""

from __future__ import annotations

from csdomain import CustomerTier, Priority


def ordering() -> None:
    assert CustomerTier.STANDARD < CustomerTier.VIP
    _ = CustomerTier.VIP < Priority.HIGH  # type: ignore[operator]
