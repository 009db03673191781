"""Race two intakes for one WeChat follower, share the outbox between two relays, erase.

A help desk on SQLite requires contact points to be unique. Two webhooks for
the same WeChat follower arrive at once: one creates the customer, the other
gets a ConflictError and carries on with the winner's customer. The
follower's tickets are saved; two relays, each with its own store, claim and
acknowledge the outbox in parallel, and no event reaches the broker twice.
Then the customer asks to be forgotten: after the erasure, the phone number
is gone from everything the store returns, and from the file.

Run: python examples/relay_and_erase.py
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from csdomain import Actor, ContactPoint, Customer, Status, Ticket
from csdomain.addresses import ContactRules
from csdomain.errors import ConflictError
from csdomain.privacy import REDACTED
from csdomain.serialization import to_json
from csdomain.storage import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENID = "oWx7f3kL9_follower"
PHONE = "138 0013 8000"  # as the follower typed it; stored and compared as +8613800138000
now = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)

path = Path(tempfile.mkdtemp()) / "desk.db"
url = f"sqlite:///{path}"
store = open_store(url, tenant="acme", create=True)
store.set_contact_rules(ContactRules(unique=True, default_region="CN"))

# -- two intakes for one follower: one creates the customer, the other conflicts ----------

both_looked = threading.Barrier(2)
conflicts: list[str] = []
chosen: dict[str, str] = {}


def intake(worker: str) -> None:
    """Find the follower's customer, or create it (the find-or-create of a webhook)."""
    found = store.customers.find_by_contact(OPENID, channel="wechat_official_account")
    both_looked.wait()  # both have seen no customer, so both try to create one
    if not found:
        follower = Customer(
            id=f"cus_{worker}",
            display_name="微信用户 Li",
            contact_points=[
                ContactPoint(channel="wechat_official_account", address=OPENID),
                ContactPoint(channel="phone_hotline", address=PHONE),
            ],
        )
        try:
            chosen[worker] = store.customers.add(follower).value.id
            return
        except ConflictError as conflict:  # the other intake created it first
            conflicts.append(f"{worker}: {conflict}")
        found = store.customers.find_by_contact(OPENID, channel="wechat_official_account")
    chosen[worker] = found[0].value.id


intakes = [threading.Thread(target=intake, args=(name,)) for name in ("web1", "web2")]
for thread in intakes:
    thread.start()
for thread in intakes:
    thread.join()
print("conflict:", *conflicts)
assert len(conflicts) == 1 and store.customers.count() == 1
(customer_id,) = set(chosen.values())  # both intakes carry on with one customer
print("both intakes use", customer_id)
assert store.customers.find_by_contact("+86 13800138000")[0].value.id == customer_id

# -- the follower's tickets, answered by an agent -----------------------------------------

agent = Actor.agent("agt_zhang")
with store.transaction():
    for i in range(1, 9):
        store.tickets.add(
            Ticket.open(
                id=f"tkt_{i}",
                customer_id=customer_id,
                channel="wechat_official_account",
                subject=f"Order {i} - please call {PHONE}",
                at=now + timedelta(minutes=i),
                description=f"My number is {PHONE}, call me after 18:00.",
            )
        )
for i in range(1, 9):
    loaded = store.tickets.get(f"tkt_{i}")
    answered = loaded.value.add_message(
        at=now + timedelta(hours=1, minutes=i), actor=agent, body=f"We will call {PHONE} tonight."
    ).change_status(Status.SOLVED, at=now + timedelta(hours=2, minutes=i), actor=agent)
    store.tickets.save(answered, expected_version=loaded.version)
written = sum(len(stored.value.timeline) for stored in store.tickets.list().items)
print("events written to the outbox:", written)

# -- two relays, each with its own store, share the outbox ---------------------------------

broker: list[tuple[str, str, int]] = []  # (relay, ticket id, sequence), as published
broker_lock = threading.Lock()
start = threading.Barrier(2)


def relay(name: str) -> None:
    """Claim a batch, publish it, acknowledge it; until nothing is left to relay."""
    with open_store(url, tenant="acme") as own:
        start.wait()
        while True:
            batch = own.outbox.claim(relay=name, limit=5, lease=timedelta(seconds=30))
            if not batch:
                if not own.outbox.pending(limit=1):
                    return  # everything is published
                time.sleep(0.005)  # the other relay holds the rest under its lease
                continue
            with broker_lock:
                broker.extend((name, m.ticket_id, m.sequence) for m in batch)
            time.sleep(0.02)  # the broker's round trip, while the other relay claims
            assert own.outbox.ack([m.id for m in batch], relay=name) == len(batch)


relays = [threading.Thread(target=relay, args=(name,)) for name in ("relay-a", "relay-b")]
for thread in relays:
    thread.start()
for thread in relays:
    thread.join()
per_relay = Counter(name for name, _, _ in broker)
print("published per relay:", dict(sorted(per_relay.items())))
copies = Counter((ticket_id, sequence) for _, ticket_id, sequence in broker)
assert max(copies.values()) == 1, "a message was published twice"
assert len(copies) == written, "a message was lost"

# -- the customer asks to be forgotten ------------------------------------------------------

erasure = store.erase_customer(customer_id, reason="erasure request ER-1024")
print(f"erased {erasure.customer_id}: {erasure.tickets} tickets ({erasure.reason})")
assert erasure.tickets == 8

digits = ("13800138000", PHONE)  # the number in E.164 contains these digits too
customer = store.customers.get(customer_id).value
assert customer.display_name == REDACTED
assert {point.address for point in customer.contact_points} == {REDACTED}
assert store.customers.find_by_contact(PHONE) == ()
assert store.customers.find_by_contact(OPENID, channel="wechat_official_account") == ()
for stored in store.tickets.list(customer_id=customer_id).items:
    text = to_json(stored.value)
    assert not any(number in text for number in digits), stored.value.id
    assert stored.value.status is Status.SOLVED  # what KPIs need stays
notices = store.outbox.claim(relay="relay-a", limit=100)
assert {m.event.type_name for m in notices} == {"personal_data_erased"} and len(notices) == 8
assert not any(number in to_json(m.event) for m in notices for number in digits)
store.outbox.ack([m.id for m in notices], relay="relay-a")
print("downstream systems told to purge:", ", ".join(m.ticket_id for m in notices))
first = store.tickets.get("tkt_1").value
print("kept for KPIs: tkt_1", first.status.value, "after", first.updated_at - first.created_at)
store.close()

# Deleted and replaced text is overwritten in the SQLite file and its write-ahead log.
on_disk = b"".join(p.read_bytes() for p in path.parent.iterdir())
assert not any(number.encode() in on_disk for number in digits)
print("the phone number is in none of", sorted(p.name for p in path.parent.iterdir()))
