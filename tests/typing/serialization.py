"""What mypy sees of serialization: documents as dicts and as JSON text."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, assert_type

import cattrs

from csdomain import Customer, SlaPolicy, Ticket
from csdomain.serialization import (
    from_dict,
    from_json,
    json_backend,
    make_converter,
    to_dict,
    to_json,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def documents() -> None:
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    text = to_json(ticket)
    assert_type(text, str)
    assert_type(to_json(ticket, indent=2), str)
    assert_type(from_json(text, Ticket), Ticket)
    assert_type(from_json(text.encode(), Customer), Customer)
    assert_type(from_json(text, SlaPolicy), SlaPolicy)
    # Without a class the document names its own type: the caller narrows it.
    loaded = from_json(text)
    assert_type(loaded, object)
    if isinstance(loaded, Ticket):
        assert_type(loaded, Ticket)
    doc = to_dict(ticket)
    assert_type(doc, dict[str, Any])
    assert_type(from_dict(doc, Ticket), Ticket)
    assert_type(from_dict(doc), object)
    assert_type(make_converter(detailed_validation=True), cattrs.Converter)
    assert_type(json_backend(), str)

    t: Ticket = from_json(text, Ticket)
    n: int = from_json(text)  # type: ignore[assignment]
    m: int = from_json(text, Ticket)  # type: ignore[assignment]
    _ = from_json(text).status  # type: ignore[attr-defined]
    from_json(ticket)  # type: ignore[call-overload]
    from_json(text, "ticket")  # type: ignore[call-overload]
    assert t == ticket
    del n, m
