"""The collections the adapter-level tests declare (memory, SQLite, PostgreSQL alike).

``THINGS`` has a column of every type, a unique column, a multiple column, a
unique multiple column, queries ordered by key, by text and by instant, and
event rows; ``PLAIN`` has nothing but documents.
"""

from __future__ import annotations

from typing import Any

from csdomain.storage import Collection, Column, ColumnType, Query

THINGS: Collection[dict[str, Any]] = Collection(
    name="things",
    what="thing",
    document=dict,
    key_of=lambda value: str(value["key"]),
    columns=(
        Column("name", ColumnType.TEXT, unique=True),
        Column("size", ColumnType.INTEGER),
        Column("due", ColumnType.INSTANT),
        Column("open", ColumnType.BOOLEAN),
        Column("tags", ColumnType.TEXT, multiple=True),
        Column("handles", ColumnType.TEXT, unique=True, multiple=True),
    ),
    queries=(
        Query("open_by_due", ("open",), "due"),
        Query("by_tag", ("tags",), "key"),
        Query("by_size", ("size",), "key"),
        Query("by_name", (), "name"),
        Query("by_due", (), "due"),
    ),
    events=True,
)

PLAIN: Collection[dict[str, Any]] = Collection(
    name="plain", what="plain record", document=dict, key_of=lambda value: str(value["key"])
)
