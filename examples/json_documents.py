"""Store customers and tickets as JSON documents and load them back, with typed errors.

Run: python examples/json_documents.py
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

from csdomain import ContactPoint, Customer, CustomerTier, Purchase, ValidationError
from csdomain.serialization import from_json, json_backend, to_json

now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
customer = Customer(
    id="cus_1",
    display_name="Acme Ltd",
    tier=CustomerTier.ENTERPRISE,
    timezone="Europe/London",
    contact_points=[ContactPoint(channel="email", address="support@acme.example")],
    purchases=[
        Purchase(
            order_id="ord_1",
            amount=Decimal("1999.00"),
            currency="GBP",
            purchased_at=now,
            product="Plan",
        )
    ],
)
text = to_json(customer)
print(f"{len(text)} bytes via {json_backend()}")
assert from_json(text, Customer) == customer

broken = json.loads(text)
broken["tier"] = "platinum"
broken["purchases"][0]["amount"] = 1999.0
try:
    from_json(json.dumps(broken), Customer)
except ValidationError as error:
    for path, problem in error.problems:
        print(f"{path}: {problem}")
