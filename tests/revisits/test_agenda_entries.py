"""RevisitDesk.agenda_entries: an agent's or a group's day read from the stored columns,
page for page what RevisitDesk.agenda gives, on memory, SQLite and, when a server is
reachable, PostgreSQL (csdomain.revisits.agenda)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain.calendars import BusinessCalendar
from csdomain.clock import FrozenClock
from csdomain.errors import CorruptRecordError, CSDomainError
from csdomain.helpdesk import DeskSetup, HelpDesk, RevisitDesk
from csdomain.ids import SequentialIds
from csdomain.people import Agent, Group, Presence
from csdomain.priorities import Priority
from csdomain.revisits import (
    REVISIT_TASKS,
    AgendaEntry,
    CancelReason,
    Outcome,
    RevisitForm,
    RevisitTask,
    TaskState,
)
from csdomain.routing import Triage
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, SlaSetup, Target
from csdomain.storage import Page, open_store
from csdomain.testing.strategies import revisit_tasks

UTC = timezone.utc
SHANGHAI = "Asia/Shanghai"
#: Monday 12 October 2026, 09:00 in Shanghai.
MONDAY = datetime(2026, 10, 12, 1, tzinfo=UTC)
AGENTS = ("agt_amy", "agt_bo", "agt_chen", "agt_dan")  # the revisit_tasks strategy's
GROUPS = ("grp_care", "grp_vip")
LIVE = {TaskState.SCHEDULED, TaskState.RESCHEDULED, TaskState.IN_PROGRESS}


def _setup() -> DeskSetup:
    calendar = BusinessCalendar.weekdays("desk", SHANGHAI, "09:00-18:00")
    policy = SlaPolicy(
        "standard",
        [MetricPolicy(SlaMetric.FIRST_RESPONSE, {p: Target(timedelta(hours=8)) for p in Priority})],
    )
    return DeskSetup(
        sla=SlaSetup([policy], [calendar]),
        groups=tuple(Group(g, g, tier="L1", calendar="desk") for g in GROUPS),
        agents=[Agent(a, a, presence=Presence.ONLINE, groups=("grp_care",)) for a in AGENTS],
        triage=Triage(rules=(), default_group="grp_care"),
    )


@attrs.frozen
class Desk:
    revisits: RevisitDesk
    close: Callable[[], None]

    def versions(self, tasks: Page[RevisitTask]) -> list[int]:
        repository = self.revisits.desk.store.collection(REVISIT_TASKS)
        return [repository.get(t.id).version for t in tasks.items]


def _open(url: str, tasks: list[RevisitTask] = (), tenant: str = "acme") -> Desk:  # type: ignore[assignment]
    clock = FrozenClock(MONDAY)
    store = open_store(url, tenant=tenant, clock=clock, create=True)
    revisits = RevisitDesk([])
    HelpDesk(store, _setup(), clock=clock, ids=SequentialIds(), extensions=(revisits,))
    if tasks:
        store.collection(REVISIT_TASKS).add_many(tasks)
    return Desk(revisits, store.close)


def task(n: int, due: datetime, **changes: Any) -> RevisitTask:
    arguments: dict[str, Any] = {
        "id": f"rvt_{n:03d}",
        "plan": "care",
        "rule": "monthly",
        "customer_id": f"cus_{n % 3}",
        "purpose": "Monthly check-in",
        "nominal_at": due,
        "due_at": due,
        "form": RevisitForm.PHONE,
        "channel": "phone_hotline",
        "at": MONDAY - timedelta(days=30),
        "forms": (RevisitForm.PHONE, RevisitForm.SMS),
        "group_id": "grp_care",
    }
    arguments.update(changes)
    return RevisitTask.schedule(**arguments)


def seed() -> list[RevisitTask]:
    """An agent's Monday in Shanghai: live tasks in every live state and form, done and
    cancelled ones, others on Tuesday, another agent's and another group's."""
    at = MONDAY - timedelta(hours=20)
    hour = timedelta(hours=1)
    return [
        task(1, MONDAY + hour, assignee_id="agt_amy"),
        task(2, MONDAY + 2 * hour, assignee_id="agt_amy").start("agt_amy", at),
        task(3, MONDAY - hour, assignee_id="agt_amy")
        .miss(at)
        .reschedule(MONDAY + 3 * hour, RevisitForm.SMS, at),
        task(4, MONDAY + 4 * hour, assignee_id="agt_amy").cancel(CancelReason.BY_AGENT, at),
        task(5, MONDAY + 5 * hour, assignee_id="agt_amy")
        .start("agt_amy", at)
        .complete(Outcome.REACHED_SATISFIED, at),
        task(6, MONDAY + 2 * hour, assignee_id="agt_amy", form=RevisitForm.SMS, channel="sms"),
        task(7, MONDAY + timedelta(days=1), assignee_id="agt_amy"),
        task(8, MONDAY + hour, assignee_id="agt_bo"),
        task(9, MONDAY + hour, group_id="grp_vip"),
        task(10, MONDAY + 6 * hour),
    ]


def project(tasks: list[RevisitTask], versions: list[int]) -> list[AgendaEntry]:
    """What an agenda entry must say of each task: its columns, projected by hand."""
    return [
        AgendaEntry(
            task_id=t.id,
            version=v,
            customer_id=t.customer_id,
            plan=t.plan,
            rule=t.rule,
            state=t.state,
            form=t.form,
            group_id=t.group_id,
            assignee_id=t.assignee_id,
            due_at=t.due_at,
        )
        for t, v in zip(tasks, versions, strict=True)
    ]


def walk_both(desk: Desk, **arguments: Any) -> list[AgendaEntry]:
    """Walk agenda and agenda_entries page by page side by side, checking each page and
    cursor alike and each cursor accepted by the other method; returns the entries."""
    walked: list[AgendaEntry] = []
    cursor: str | None = None
    while True:
        full = desk.revisits.agenda(**arguments, cursor=cursor)
        entries = desk.revisits.agenda_entries(**arguments, cursor=cursor)
        assert list(entries.items) == project(list(full.items), desk.versions(full))
        assert entries.next_cursor == full.next_cursor
        walked.extend(entries.items)
        if entries.next_cursor is None:
            return walked
        # A cursor of one continues the other: the next pages agree as well.
        crossed = desk.revisits.agenda(**arguments, cursor=entries.next_cursor)
        assert [t.id for t in crossed.items] == [
            e.task_id
            for e in desk.revisits.agenda_entries(**arguments, cursor=full.next_cursor).items
        ]
        cursor = entries.next_cursor


def test_an_agents_day_lists_the_agendas_tasks_as_entries(url: str) -> None:
    desk = _open(url, seed())
    try:
        entries = walk_both(desk, agent_id="agt_amy", day=date(2026, 10, 12), limit=2)
        # Done, cancelled, Tuesday's, agt_bo's and the group's others are not on it;
        # 6 and 2 share a due instant and come in key order.
        assert [(e.task_id, e.state, e.form) for e in entries] == [
            ("rvt_001", TaskState.SCHEDULED, RevisitForm.PHONE),
            ("rvt_002", TaskState.IN_PROGRESS, RevisitForm.PHONE),
            ("rvt_006", TaskState.SCHEDULED, RevisitForm.SMS),
            ("rvt_003", TaskState.RESCHEDULED, RevisitForm.SMS),
        ]
        assert entries[0].due_at == MONDAY + timedelta(hours=1)
        assert entries[0].due_at.utcoffset() == timedelta(0)  # aware, in UTC
        assert [e.version for e in entries] == [1, 1, 1, 1]
        assert desk.revisits.task(entries[3].task_id).due_at == entries[3].due_at
        group = walk_both(desk, group_id="grp_care", day=date(2026, 10, 12))
        assert [e.task_id for e in group] == [
            "rvt_001",
            "rvt_008",
            "rvt_002",
            "rvt_006",
            "rvt_003",
            "rvt_010",
        ]
        span = (MONDAY + timedelta(hours=2), MONDAY + timedelta(hours=3))
        assert [e.task_id for e in walk_both(desk, agent_id="agt_amy", day=span)] == [
            "rvt_002",
            "rvt_006",
        ]
    finally:
        desk.close()


def test_an_entry_follows_a_saved_change_with_its_new_version(url: str) -> None:
    desk = _open(url, seed())
    try:
        desk.revisits.start("rvt_001", "agt_amy")
        [first, *_] = desk.revisits.agenda_entries(agent_id="agt_amy", day=date(2026, 10, 12)).items
        assert (first.task_id, first.state, first.version) == ("rvt_001", TaskState.IN_PROGRESS, 2)
    finally:
        desk.close()


# -- refusals ----------------------------------------------------------------------------


def _other_cursor(desk: Desk) -> str:
    page = desk.revisits.by_customer("cus_1", limit=1)
    assert page.next_cursor is not None
    return page.next_cursor


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("neither agent nor group", {"day": date(2026, 10, 12)}),
    ("both", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "group_id": "grp_care"}),
    ("unknown agent", {"day": date(2026, 10, 12), "agent_id": "agt_zed"}),
    ("day as text", {"day": "2026-10-12", "agent_id": "agt_amy"}),
    ("day as an instant", {"day": MONDAY, "agent_id": "agt_amy"}),
    ("naive start", {"day": (datetime(2026, 10, 12), MONDAY), "agent_id": "agt_amy"}),
    ("end before start", {"day": (MONDAY, MONDAY - timedelta(1)), "agent_id": "agt_amy"}),
    ("unknown zone", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "zone": "Mars/Base"}),
    ("zone not text", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "zone": 8}),
    ("limit 0", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "limit": 0}),
    ("limit too big", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "limit": 1_001}),
    ("limit as text", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "limit": "5"}),
    ("forged cursor", {"day": date(2026, 10, 12), "agent_id": "agt_amy", "cursor": "abc"}),
    ("another query's cursor", {"day": date(2026, 10, 12), "agent_id": "agt_amy"}),
]


@pytest.mark.parametrize(("case", "arguments"), REFUSED, ids=[c for c, _ in REFUSED])
def test_agenda_entries_refuses_what_agenda_refuses_alike(
    case: str, arguments: dict[str, Any]
) -> None:
    desk = _open("memory:", seed())
    if case == "another query's cursor":
        arguments = {**arguments, "cursor": _other_cursor(desk)}
    with pytest.raises(CSDomainError) as full:
        desk.revisits.agenda(**arguments)
    with pytest.raises(CSDomainError) as entries:
        desk.revisits.agenda_entries(**arguments)
    assert type(entries.value) is type(full.value)
    # The same message, naming the method called.
    assert str(entries.value) == str(full.value).replace(
        "RevisitDesk.agenda", "RevisitDesk.agenda_entries"
    )
    if "RevisitDesk.agenda" in str(full.value):
        assert "RevisitDesk.agenda_entries" in str(entries.value)


def test_a_damaged_state_or_form_column_is_a_corrupt_record_naming_the_task(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/tasks.db"
    desk = _open(url, seed())
    desk.close()
    with sqlite3.connect(tmp_path / "tasks.db") as raw:
        raw.execute("UPDATE c_revisit_tasks SET form = 'fax' WHERE key = 'rvt_006'")
    desk = _open(url)
    try:
        with pytest.raises(CorruptRecordError, match=r"'rvt_006'.*form 'fax'.*phone") as caught:
            desk.revisits.agenda_entries(agent_id="agt_amy", day=date(2026, 10, 12))
        assert caught.value.key == "rvt_006"
    finally:
        desk.close()


# -- a store written before the form column -------------------------------------------------


def _without_form() -> Any:
    """REVISIT_TASKS as declared before it had the ``form`` column."""

    def columns_of(value: RevisitTask) -> dict[str, Any]:
        columns = dict(REVISIT_TASKS.columns_of(value))
        del columns["form"]
        return columns

    return attrs.evolve(
        REVISIT_TASKS,
        columns=[c for c in REVISIT_TASKS.columns if c.name != "form"],
        columns_of=columns_of,
    )


def test_a_store_written_before_the_form_column_serves_entries_with_forms(url: str) -> None:
    tasks = seed()
    for tenant in ("acme", "globex"):
        with open_store(url, tenant=tenant, create=True) as store:
            store.collection(_without_form()).add_many(tasks)
    for tenant in ("acme", "globex"):  # the first declares the column, each recomputes it
        desk = _open(url, tenant=tenant)
        try:
            entries = walk_both(desk, agent_id="agt_amy", day=date(2026, 10, 12))
            assert [(e.task_id, e.form) for e in entries] == [
                ("rvt_001", RevisitForm.PHONE),
                ("rvt_002", RevisitForm.PHONE),
                ("rvt_006", RevisitForm.SMS),
                ("rvt_003", RevisitForm.SMS),
            ]
        finally:
            desk.close()


# -- the law ----------------------------------------------------------------------------------


_FORMS = (RevisitForm.PHONE, RevisitForm.SMS, RevisitForm.EMAIL)
_CHANNELS = {RevisitForm.PHONE: "phone_hotline", RevisitForm.SMS: "sms", RevisitForm.EMAIL: "email"}
_PATHS = ("scheduled", "started", "done", "missed", "rescheduled", "cancelled")


@st.composite
def crowded_days(draw: st.DrawFn) -> list[RevisitTask]:
    """Up to 14 tasks due over four days around MONDAY (so that agendas are full), of two
    agents or none, two groups or none, in every state and form."""
    tasks = []
    at = MONDAY - timedelta(days=3)
    hour = timedelta(hours=1)
    for n in range(draw(st.integers(1, 14))):
        form, other = draw(st.permutations(_FORMS))[:2]
        made = task(
            n,
            MONDAY + draw(st.integers(-30, 60)) * hour,
            form=form,
            channel=_CHANNELS[form],
            forms=(form, other),
            assignee_id=draw(st.sampled_from((None, *AGENTS[:2]))),
            group_id=draw(st.sampled_from((None, *GROUPS))),
        )
        path = draw(st.sampled_from(_PATHS))
        if path in ("started", "done"):
            made = made.start(draw(st.sampled_from(AGENTS[:2])), at)
        if path == "done":
            made = made.complete(Outcome.BUSY, at)
        if path in ("missed", "rescheduled"):
            made = made.miss(at)
        if path == "rescheduled":
            due = made.due_at + draw(st.integers(-20, 20)) * hour
            made = made.reschedule(max(due, at + hour), other, at, channel=_CHANNELS[other])
        if path == "cancelled":
            made = made.cancel(CancelReason.BY_AGENT, at)
        tasks.append(made)
    return tasks


def _numbered(tasks: list[RevisitTask]) -> list[RevisitTask]:
    # The strategy draws keys at random; numbered keys make every drawn task a new one.
    return [attrs.evolve(t, id=f"rvt_{100 + i:03d}") for i, t in enumerate(tasks)]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tasks=st.one_of(
        crowded_days(),
        # and tasks of any shape the library's strategy reaches, spread over years
        st.lists(revisit_tasks(max_steps=4), min_size=1, max_size=6).map(_numbered),
    ),
    data=st.data(),
)
def test_agenda_entries_are_the_agenda_projected_page_by_page(
    url: str, tasks: list[RevisitTask], data: st.DataObject
) -> None:
    desk = _open(url, tasks, tenant=f"t{uuid.uuid4().hex[:12]}")
    try:
        zone = data.draw(st.sampled_from((None, "UTC", SHANGHAI, "America/New_York")))
        # A day that holds a drawn task, read in the zone the agenda reads it in.
        due = data.draw(st.sampled_from(tasks)).due_at.astimezone(ZoneInfo(zone or SHANGHAI))
        who = data.draw(
            st.sampled_from([{"agent_id": a} for a in AGENTS] + [{"group_id": g} for g in GROUPS])
        )
        limit = data.draw(st.integers(1, 5))
        entries = walk_both(desk, **who, day=due.date(), zone=zone, limit=limit)
        assert {e.state for e in entries} <= LIVE
        assert [(e.due_at, e.task_id) for e in entries] == sorted(
            (e.due_at, e.task_id) for e in entries
        )
    finally:
        desk.close()
