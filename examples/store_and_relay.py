"""Keep tickets in SQLite, survive a concurrent edit, and relay their events.

An app saves tickets with their SLA deadline, loses a race to another worker
(a ConflictError, so nothing is overwritten), retries on the fresh version,
and a relay publishes the outbox to a (pretend) message broker.

Run: python examples/store_and_relay.py
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from csdomain import (
    Actor,
    BusinessCalendar,
    MetricPolicy,
    Priority,
    SlaMetric,
    SlaPolicy,
    Status,
    Target,
    Ticket,
)
from csdomain.errors import ConflictError
from csdomain.sla import next_deadline
from csdomain.storage import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
desk = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:30-18:00")
policy = SlaPolicy(
    name="standard",
    metrics=(
        MetricPolicy(
            SlaMetric.FIRST_RESPONSE, dict.fromkeys(Priority, Target(timedelta(hours=2), "desk"))
        ),
    ),
)
now = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)

path = Path(tempfile.mkdtemp()) / "desk.db"
store = open_store(f"sqlite:///{path}", tenant="acme", create=True)
with store.transaction():
    store.config.add("desk", desk)
    store.config.add("standard", policy)
    for i in range(1, 4):
        ticket = Ticket.open(
            id=f"tkt_{i}", customer_id=f"cus_{i}", channel="email", subject="Invoice", at=now
        )
        store.tickets.add(ticket, next_deadline=next_deadline(ticket, policy, [desk], now))

# Two workers load tkt_1 at version 1; the first reply wins, the second conflicts.
agent_a, agent_b = Actor.agent("agt_a"), Actor.agent("agt_b")
loaded = store.tickets.get("tkt_1")
first = loaded.value.add_message(at=now + timedelta(minutes=5), actor=agent_a, body="Sent it.")
store.tickets.save(first, expected_version=loaded.version)
second = loaded.value.add_message(at=now + timedelta(minutes=6), actor=agent_b, body="Sent too.")
try:
    store.tickets.save(second, expected_version=loaded.version)
except ConflictError as conflict:
    print("worker b:", conflict)
    # What a 409 body can say: which record, which version was sent, which is stored.
    print(
        "  409 body:",
        {
            "kind": conflict.kind,
            "key": conflict.key,
            "expected_version": conflict.expected_version,
            "stored_version": conflict.stored_version,
        },
    )
    fresh = store.tickets.get("tkt_1")  # retry on what is stored now
    solved = fresh.value.change_status(Status.SOLVED, at=now + timedelta(minutes=7), actor=agent_b)
    store.tickets.save(solved, expected_version=fresh.version)

# The sweeper's question: which unsolved tickets are due before noon?
noon = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
due = [stored.value.id for stored in store.tickets.due_before(noon).items]
print("due before noon:", due)
assert due == ["tkt_2", "tkt_3"]  # tkt_1 is solved

# The relay: publish in order, then mark; a crash in between publishes again.
broker: list[str] = []
while batch := store.outbox.pending(limit=2):
    for message in batch:
        broker.append(f"{message.ticket_id}#{message.sequence} {message.event.type_name}")
    store.outbox.mark_published([m.id for m in batch])
print("published:", *broker, sep="\n  ")
assert broker[0] == "tkt_1#0 created" and len(broker) == 6
store.close()
