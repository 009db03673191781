"""AgendaEntry.from_values: the entry built from column values in AGENDA_COLUMNS' order.

``from_values`` sets the slots directly instead of calling attrs' ``__init__``; these
tests hold what it builds equal to the constructor's entry in every respect a caller
sees (equality, hash, repr, frozenness, field values), and its refusals to
``from_columns``'.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import CorruptRecordError
from csdomain.revisits import RevisitForm, TaskState
from csdomain.revisits.agenda import AGENDA_COLUMNS, AgendaEntry

_text = st.text("abc_0123", min_size=1, max_size=8)
_instants = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2199, 12, 31),
    timezones=st.just(timezone.utc),
)


@st.composite
def _rows(draw: st.DrawFn) -> tuple[str, int, list[Any]]:
    values = [
        draw(_text),
        draw(_text),
        draw(_text),
        draw(st.sampled_from(TaskState)).value,
        draw(st.sampled_from(RevisitForm)).value,
        draw(st.none() | _text),
        draw(st.none() | _text),
        draw(_instants),
    ]
    return draw(_text), draw(st.integers(1, 10**6)), values


@given(row=_rows())
def test_from_values_builds_the_constructors_entry(row: tuple[str, int, list[Any]]) -> None:
    key, version, values = row
    built = AgendaEntry.from_values(key, version, values)
    customer_id, plan, rule, state, form, group_id, assignee_id, due_at = values
    expected = AgendaEntry(
        key,
        version,
        customer_id,
        plan,
        rule,
        TaskState(state),
        RevisitForm(form),
        group_id,
        assignee_id,
        due_at,
    )
    assert built == expected and hash(built) == hash(expected) and repr(built) == repr(expected)
    assert built._asdict() == expected._asdict()
    assert type(built) is AgendaEntry
    assert (
        AgendaEntry.from_columns(key, version, dict(zip(AGENDA_COLUMNS, values, strict=True)))
        == built
    )
    with pytest.raises(AttributeError):
        built.version = version + 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("state", "form", "shown"),
    [("lost", "sms", "state 'lost'"), ("scheduled", "fax", "form 'fax'"), (None, "sms", "None")],
)
def test_a_damaged_row_is_refused_by_both_builders(state: Any, form: Any, shown: str) -> None:
    values = ["cus_1", "care", "quarterly", state, form, "l1", None, datetime.now(timezone.utc)]
    builders: list[Callable[[], AgendaEntry]] = [
        lambda: AgendaEntry.from_values("rvt_1", 2, values),
        lambda: AgendaEntry.from_columns(
            "rvt_1", 2, dict(zip(AGENDA_COLUMNS, values, strict=True))
        ),
    ]
    for build in builders:
        with pytest.raises(CorruptRecordError, match=shown) as caught:
            build()
        assert caught.value.key == "rvt_1"


def test_a_subclass_builds_entries_of_its_own_type() -> None:
    class Marked(AgendaEntry):
        @property
        def overdue_label(self) -> str:
            return f"{self.task_id} due {self.due_at:%H:%M}"

    values = [
        "cus_1",
        "care",
        "quarterly",
        "scheduled",
        "sms",
        "l1",
        None,
        datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc),
    ]
    entry = Marked.from_values("rvt_9", 1, values)
    assert type(entry) is Marked and entry.overdue_label == "rvt_9 due 09:30"
    assert entry == AgendaEntry.from_values("rvt_9", 1, values)
    by_columns = Marked.from_columns("rvt_8", 1, dict(zip(AGENDA_COLUMNS, values, strict=True)))
    assert type(by_columns) is Marked and by_columns.task_id == "rvt_8"
