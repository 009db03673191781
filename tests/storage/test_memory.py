"""The storage contract on the in-memory adapter."""

from __future__ import annotations

import itertools

from csdomain.storage import Store, open_store
from csdomain.testing.storage import StoreContract

_databases = itertools.count()


class TestMemoryStore(StoreContract):
    def setup_method(self) -> None:
        self.url = f"memory:contract-{next(_databases)}"

    def make_store(self, tenant: str) -> Store:
        return open_store(self.url, tenant=tenant)
