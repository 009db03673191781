"""Agenda rows: a revisit task as the agenda lists it, read from the indexed columns.

An agent's or a group's day (:meth:`csdomain.helpdesk.RevisitDesk.agenda_entries`)
lists a few dozen tasks; showing them needs who, what and when, not the task's
timeline, script or retry bookkeeping. :class:`AgendaEntry` holds exactly what the
``revisit_tasks`` collection indexes (:data:`AGENDA_COLUMNS`), so a page of the
agenda is read from the index rows without decoding a stored task document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from csdomain.errors import CorruptRecordError
from csdomain.revisits.vocabulary import RevisitForm, TaskState

__all__ = ["AGENDA_COLUMNS", "AgendaEntry"]

#: The ``revisit_tasks`` columns an :class:`AgendaEntry` is read from.
AGENDA_COLUMNS: Final = (
    "customer_id",
    "plan",
    "rule",
    "state",
    "form",
    "group_id",
    "assignee_id",
    "due_at",
)

# Plain dict lookups: calling the Enum class costs about ten times as much per value.
_STATES: Final[Mapping[str, TaskState]] = {s.value: s for s in TaskState}
_FORMS: Final[Mapping[str, RevisitForm]] = {f.value: f for f in RevisitForm}


@attrs.frozen(slots=True)
class AgendaEntry:
    """One task on an agenda: the stored task's key (``task_id``) and ``version``,
    whose task it is (``customer_id``), which ``plan`` and ``rule`` made it, its
    ``state``, the ``form`` of its current attempt, the ``group_id`` and
    ``assignee_id`` it is for, and ``due_at`` (an aware UTC datetime).

    It is what the agenda shows, read from the stored columns; the whole
    :class:`~csdomain.revisits.RevisitTask` (purpose, script, channel, timeline) is
    :meth:`RevisitDesk.task(entry.task_id) <csdomain.helpdesk.RevisitDesk.task>`,
    read when the agent opens it. ``version`` is the stored version the entry was
    read at.
    """

    task_id: str
    version: int
    customer_id: str
    plan: str
    rule: str
    state: TaskState
    form: RevisitForm
    group_id: str | None
    assignee_id: str | None
    due_at: datetime

    @classmethod
    def from_columns(cls, key: str, version: int, values: Mapping[str, Any]) -> AgendaEntry:
        """The entry of the stored task ``key`` at ``version`` from its column values
        (:data:`AGENDA_COLUMNS`, as the store returns them: enums as their text,
        instants as aware UTC datetimes). A state or form that is no member of its
        enum (a damaged row) raises :class:`~csdomain.errors.CorruptRecordError`."""
        state = _STATES.get(values["state"])
        form = _FORMS.get(values["form"])
        if state is None or form is None:
            raise _damaged(key, values)
        return cls(
            key,
            version,
            values["customer_id"],
            values["plan"],
            values["rule"],
            state,
            form,
            values["group_id"],
            values["assignee_id"],
            values["due_at"],
        )


def _damaged(key: str, values: Mapping[str, Any]) -> CorruptRecordError:
    bad = (
        f"state {values['state']!r} (accepted: {', '.join(_STATES)})"
        if values["state"] not in _STATES
        else f"form {values['form']!r} (accepted: {', '.join(_FORMS)})"
    )
    return CorruptRecordError(
        f"stored revisit task {key!r} has the {bad} in its columns; "
        "reindex the collection or restore the task from a backup",
        kind="revisit task",
        key=key,
    )
