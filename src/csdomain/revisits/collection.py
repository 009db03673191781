"""The stored collection of revisit tasks, declared as data beside the task.

:data:`REVISIT_TASKS` (collection ``revisit_tasks``) keeps one
:class:`~csdomain.revisits.tasks.RevisitTask` per task key, with the columns
and queries the desk reads them by:

=================  ====================================  =========
query              filters                               order
=================  ====================================  =========
``agenda_group``   ``group_id``, ``state``               ``due_at``
``agenda_agent``   ``assignee_id``, ``state``            ``due_at``
``by_customer``    ``customer_id``                       ``due_at``
``by_plan``        ``plan``                              ``due_at``
``overdue``        ``state``                             ``due_at``
=================  ====================================  =========

Every query is keyset-paged by ``(due_at, key)``, ranges on ``due_at``
included (an agent's day, the tasks overdue at an instant); other filters
are checked on the rows of the query that serves them (a customer's live
tasks, :data:`~csdomain.revisits.placement.LIVE_STATES`, are ``by_customer``
with a ``state`` filter). Each query is an index every insert updates, so
there is one per way the desk reads tasks and no more: a store written when
the collection also had a ``live`` column and query keeps both (the column
then written empty). The ``form`` column (the current attempt's
:class:`~csdomain.revisits.RevisitForm`) serves no query: it is there for
:class:`~csdomain.revisits.agenda.AgendaEntry`, which reads an agenda page
from the columns alone (a store written before it existed fills it in when
it declares the collection again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain.revisits.tasks import RevisitTask

__all__ = ["REVISIT_TASKS"]

_TEXT, _INSTANT = ColumnType.TEXT, ColumnType.INSTANT


def _key(task: RevisitTask) -> str:
    return task.id


def _columns(task: RevisitTask) -> Mapping[str, Any]:
    return {
        "customer_id": task.customer_id,
        "plan": task.plan,
        "rule": task.rule,
        "state": task.state,
        "form": task.form,
        "group_id": task.group_id,
        "assignee_id": task.assignee_id,
        "due_at": task.due_at,
    }


#: The revisit tasks of a tenant, keyed by task key (see the module documentation).
REVISIT_TASKS: Final = declare_collection(
    Collection(
        "revisit_tasks",
        "revisit task",
        RevisitTask,
        key_of=_key,
        columns=[
            Column("customer_id", _TEXT),
            Column("plan", _TEXT),
            Column("rule", _TEXT),
            Column("state", _TEXT),
            # Read by agenda entries, never filtered on: no index, inserts stay cheap.
            Column("form", _TEXT),
            Column("group_id", _TEXT),
            Column("assignee_id", _TEXT),
            Column("due_at", _INSTANT),
        ],
        queries=[
            Query("agenda_group", where=["group_id", "state"], order="due_at"),
            Query("agenda_agent", where=["assignee_id", "state"], order="due_at"),
            Query("by_customer", where=["customer_id"], order="due_at"),
            Query("by_plan", where=["plan"], order="due_at"),
            Query("overdue", where=["state"], order="due_at"),
        ],
        columns_of=_columns,
    )
)
