"""Agenda rows: a revisit task as the agenda lists it, read from the indexed columns.

An agent's or a group's day (:meth:`csdomain.helpdesk.RevisitDesk.agenda_entries`)
lists a few dozen tasks; showing them needs who, what and when, not the task's
timeline, script or retry bookkeeping. :class:`AgendaEntry` holds exactly what the
``revisit_tasks`` collection indexes (:data:`AGENDA_COLUMNS`), so a page of the
agenda is read from the index rows without decoding a stored task document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

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


class AgendaEntry(NamedTuple):
    """One task on an agenda: the stored task's key (``task_id``) and ``version``,
    whose task it is (``customer_id``), which ``plan`` and ``rule`` made it, its
    ``state``, the ``form`` of its current attempt, the ``group_id`` and
    ``assignee_id`` it is for, and ``due_at`` (an aware UTC datetime).

    It is what the agenda shows, read from the stored columns; the whole
    :class:`~csdomain.revisits.RevisitTask` (purpose, script, channel, timeline) is
    :meth:`RevisitDesk.task(entry.task_id) <csdomain.helpdesk.RevisitDesk.task>`,
    read when the agent opens it. ``version`` is the stored version the entry was
    read at. A row, like :class:`~csdomain.storage.ColumnRow`: an immutable named
    tuple, built once per listed task.
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
        return cls.from_values(key, version, [values[name] for name in AGENDA_COLUMNS])

    @classmethod
    def from_values(cls, key: str, version: int, values: Sequence[Any]) -> AgendaEntry:
        """:meth:`from_columns` with the column values as a sequence in the order of
        :data:`AGENDA_COLUMNS` (how :meth:`RevisitDesk.agenda_entries
        <csdomain.helpdesk.RevisitDesk.agenda_entries>` reads a page): the same entry,
        the same error."""
        customer_id, plan, rule, state_value, form_value, group_id, assignee_id, due_at = values
        state = _STATES.get(state_value)
        form = _FORMS.get(form_value)
        if state is None or form is None:
            raise _damaged(key, state_value, form_value)
        # The tuple itself, without the generated __new__'s keyword handling: once per
        # listed task, in under half the time.
        return _new_tuple(
            cls, (key, version, customer_id, plan, rule, state, form, group_id, assignee_id, due_at)
        )


_new_tuple = tuple.__new__


def _damaged(key: str, state: object, form: object) -> CorruptRecordError:
    bad = (
        f"state {state!r} (accepted: {', '.join(_STATES)})"
        if state not in _STATES
        else f"form {form!r} (accepted: {', '.join(_FORMS)})"
    )
    return CorruptRecordError(
        f"stored revisit task {key!r} has the {bad} in its columns; "
        "reindex the collection or restore the task from a backup",
        kind="revisit task",
        key=key,
    )
