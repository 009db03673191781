"""Personal data: the mark on fields that hold it, and masking for reprs and messages.

A field holding personal data (a name, a phone number, a message body, a
customer's free-form attributes) carries the :data:`PERSONAL` key in its attrs
metadata. :func:`personal_fields` lists the marked fields of a class, so that
redaction and erasure find them without a hand-kept list, and the generated
``repr`` of every csdomain value shows :data:`MASK` in their place, so logging
an object does not leak what it holds::

    >>> from csdomain import ContactPoint, ChannelKind
    >>> ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+8613800138000")
    ContactPoint(channel='phone_hotline', address=<personal>, verified=False, ...)

:func:`mask_url` hides the password of a connection URL before it reaches a
message or a log line.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import attrs

__all__ = ["MASK", "PERSONAL", "mask_url", "masked", "personal_fields"]

_PASSWORD_PARAMETER: Final = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)

#: The attrs metadata key marking a field that holds personal data.
PERSONAL: Final = "csdomain.personal"

#: What a repr shows instead of a personal value.
MASK: Final = "<personal>"


def masked(value: object) -> str:
    """The repr of a personal field's value: :data:`MASK`, or ``None``/empty shown as such.

    Showing that a value is absent tells nothing about the person, and helps debugging.
    """
    if value is None:
        return "None"
    if value in ("", (), frozenset()) or value == {}:
        return repr(value)
    return MASK


def personal_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of ``cls`` that hold personal data, in field order.

    Marked attrs fields, then the derived fields a class lists in its
    ``__csdomain_personal__`` attribute (a ticket's subject and custom fields).
    """
    marked = tuple(a.name for a in attrs.fields(cls) if a.metadata.get(PERSONAL))
    derived: tuple[str, ...] = getattr(cls, "__csdomain_personal__", ())
    return marked + tuple(name for name in derived if name not in marked)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (user, host and path kept).

    >>> mask_url("postgresql://app:s3cret@db.internal:5432/cs")
    'postgresql://app:***@db.internal:5432/cs'
    >>> mask_url("postgresql://db.internal/cs?user=app&password=s3cret")
    'postgresql://db.internal/cs?user=app&password=***'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # an unparsable URL may still hold a secret: show only its scheme
        scheme = url.partition(":")[0]
        return f"{scheme}:***" if scheme.isalnum() else "***"
    query = _PASSWORD_PARAMETER.sub(r"\1***", parts.query)
    if password:
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{user}:***@{host}")
    if not password and query == parts.query:
        return url
    return urlunsplit(parts._replace(query=query))
