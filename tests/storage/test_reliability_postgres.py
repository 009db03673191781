"""Issue 9's reliability probes on PostgreSQL, as tests: 6 processes racing
find-or-create, two relay processes over 1,000 outbox messages (one of them killed
mid-lease), erasure checked against every table's rows, damaged rows, an empty
database, forged cursors and lone surrogates.

The server is ``CSDOMAIN_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); every test works in a schema of its
own, dropped when it ends. Without a reachable server the tests are skipped, unless
``CSDOMAIN_REQUIRE_POSTGRES`` is set (as in CI): then they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from test_postgres import URL, require_server
from test_reliability_sqlite import (
    PHONE,
    PHONE_SPELLINGS,
    _policy,
    check_forged_cursors,
    check_healthy_relays,
    check_killed_relay,
    check_lone_surrogates_refused,
    check_one_winner,
    fill_outbox,
    fill_personal_data,
    personal_customer,
    race_find_or_create,
    race_relays,
)

from csdomain.addresses import ContactRules
from csdomain.customers import Customer
from csdomain.errors import CorruptRecordError, NoStoreError
from csdomain.people import Agent
from csdomain.sla import SlaPolicy
from csdomain.storage import Store, open_store
from csdomain.testing.storage import CONTRACT_TASKS, T0, ContractTask, sample_ticket

try:
    import psycopg
    from psycopg import sql
except ImportError:  # without csdomain[postgres]: see require_server
    psycopg = None  # type: ignore[assignment]

SOAK = os.environ.get("CSDOMAIN_SOAK") == "1"


class Schema:
    """A fresh schema of this test's own."""

    def __init__(self) -> None:
        self.name = f"csdomain_rel_{secrets.token_hex(6)}"

    def url(self) -> str:
        query = urlencode({"schema": self.name}, quote_via=quote)
        return f"{URL}{'&' if '?' in URL else '?'}{query}"

    def execute(self, statement: Any, params: Any = None) -> list[Any]:
        with psycopg.connect(URL, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def table(self, name: str) -> Any:
        return sql.Identifier(self.name, name)

    def rows_as_text(self) -> list[str]:
        """Every row of every table in the schema, as PostgreSQL spells it as text."""
        tables = self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (self.name,),
        )
        assert tables
        texts: list[str] = []
        for (table,) in tables:
            rows = self.execute(sql.SQL("SELECT t::text FROM {} t").format(self.table(table)))
            texts.extend(row for (row,) in rows)
        return texts

    def drop(self) -> None:
        self.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.name)))


@pytest.fixture
def schema() -> Iterator[Schema]:
    require_server()
    fresh = Schema()
    yield fresh
    fresh.drop()


@pytest.fixture
def store(schema: Schema) -> Iterator[Store]:
    with open_store(schema.url(), tenant="acme", create=True) as store:
        yield store


def test_racing_find_or_create_intakes_make_one_customer(schema: Schema, store: Store) -> None:
    """Six processes, one WeChat openid: before unique contact points, PostgreSQL made six."""
    store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
    rounds = 10 if SOAK else 1
    for round in range(rounds):
        openid = f"oXk3_openid_{round}"
        outcomes = race_find_or_create(schema.url(), "acme", openid)
        check_one_winner(store, openid, outcomes)
    assert store.customers.count() == rounds


def test_two_relays_publish_every_message_once(
    schema: Schema, store: Store, tmp_path: Path
) -> None:
    """Before leases, two relays published 634 of 720 events twice on PostgreSQL."""
    for round in range(5 if SOAK else 1):
        ids = fill_outbox(store, 1_000, prefix=f"r{round}")
        a, b, _ = race_relays(schema.url(), "acme", tmp_path, lease_seconds=30, kill=False)
        check_healthy_relays(ids, a, b)
        assert store.outbox.pending() == []


def test_a_relay_killed_mid_lease_loses_nothing(
    schema: Schema, store: Store, tmp_path: Path
) -> None:
    for round in range(5 if SOAK else 1):
        ids = fill_outbox(store, 1_000, prefix=f"r{round}")
        a, b, claimed = race_relays(schema.url(), "acme", tmp_path, lease_seconds=2, kill=True)
        check_killed_relay(ids, a, b, claimed)
        assert store.outbox.pending() == []


def test_after_erasure_the_phone_number_is_in_no_table(schema: Schema, store: Store) -> None:
    fill_personal_data(store)
    before = "\n".join(schema.rows_as_text())
    assert all(spelling in before for spelling in PHONE_SPELLINGS[:3])  # the search finds it
    erasure = store.erase_customer(
        "cus_1", reason="PIPL request 2026-0042", at=T0 + timedelta(days=3)
    )
    assert erasure.tickets == 3
    rows = schema.rows_as_text()
    for spelling in (*PHONE_SPELLINGS, "王芳", "wang.fang@example.com", "1990-05-17"):
        leaks = [row[:200] for row in rows if spelling in row]
        assert leaks == [], spelling
    after = "\n".join(rows)
    assert "13900000000" in after and "PIPL request 2026-0042" in after


def test_damaged_rows_are_corrupt_records_naming_the_collection_and_key(
    schema: Schema, store: Store
) -> None:
    store.customers.add(personal_customer())
    store.customers.add(Customer(id="cus_ok", display_name="Fine"))
    for i in range(3):
        store.tickets.add(sample_ticket(f"tkt_{i}"))
    store.config.add("standard", _policy())
    store.collection(CONTRACT_TASKS).add(ContractTask("task_1", owner="li"))
    store.agents.add(Agent(id="agt_1", name="Li"))
    with store.transaction():  # through the backend: no domain check sees these
        store.backend.rewrite("config", "sla_policy:standard", '{"schema_version": 1}')
        store.backend.rewrite("agents", "agt_1", "[]")
    # Valid JSON of the wrong shape: the column may be of type json.
    damage = [
        ("c_customers", "cus_1", None, '{"schema_version": 1, "document": "customer", "id": 5}'),
        ("c_tickets__events", "tkt_1", 1, '"garbage"'),
        ("c_tickets", "tkt_2", None, '{"events": "many"}'),
        ("c_contract_tasks", "task_1", None, '{"schema_version": 1, "id": []}'),
    ]
    for table, key, sequence, text in damage:
        statement = sql.SQL("UPDATE {} SET document = %s WHERE key = %s").format(
            schema.table(table)
        )
        if sequence is not None:
            statement = sql.SQL("{} AND sequence = %s").format(statement)
        schema.execute(statement, (text, key) if sequence is None else (text, key, sequence))
    reads: list[tuple[str, str, Any]] = [
        ("customer", "cus_1", lambda: store.customers.get("cus_1")),
        ("customer", "cus_1", lambda: store.customers.find_by_contact(PHONE)),
        ("ticket", "tkt_1", lambda: store.tickets.get("tkt_1")),
        ("ticket", "tkt_1", lambda: store.tickets.list(limit=2)),
        ("ticket", "tkt_2", lambda: store.tickets.get("tkt_2")),
        ("SlaPolicy", "standard", lambda: store.config.get(SlaPolicy, "standard")),
        ("contract task", "task_1", lambda: store.collection(CONTRACT_TASKS).get("task_1")),
        ("agent", "agt_1", lambda: store.agents.get("agt_1")),
    ]
    for kind, key, read in reads:
        with pytest.raises(CorruptRecordError) as info:
            read()
        assert (info.value.kind, info.value.key) == (kind, key), str(info.value)
    assert store.tickets.get("tkt_0").version == 1
    assert store.customers.get("cus_ok").value.display_name == "Fine"


def test_an_empty_database_is_no_store_unless_creating(schema: Schema) -> None:
    with pytest.raises(NoStoreError, match="create=True"):
        open_store(schema.url(), tenant="acme")
    assert schema.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema.name,)
    ) == [(0,)]
    with open_store(schema.url(), tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    with open_store(schema.url(), tenant="other") as other:  # a store now
        assert other.tickets.count() == 0


def test_forged_cursors_are_validation_errors(store: Store) -> None:
    check_forged_cursors(store)


def test_lone_surrogates_are_refused_before_storage(store: Store) -> None:
    check_lone_surrogates_refused(store)
