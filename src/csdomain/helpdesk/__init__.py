"""The HelpDesk application service: the three-line back office as verbs.

:class:`HelpDesk` ties a :class:`~csdomain.storage.Store`, a clock, an id
generator and a :class:`DeskSetup` (SLA policies and calendars, groups and
agents, triage and assignment, escalation rules) together for an embedding app.
Extensions follow its changes and sweep with it: :class:`RevisitDesk` (回访) and
:class:`SurveyDesk` (满意度调查).
Every command runs in one unit of work and returns the stored ticket; sweeps
look only at tickets whose schedule is due and may run in several workers.
See ``docs/helpdesk.md``.
"""

from __future__ import annotations

from csdomain.helpdesk.events import Routed
from csdomain.helpdesk.extensions import DeskChange, DeskExtension
from csdomain.helpdesk.revisits import MaterializeReport, RevisitDesk
from csdomain.helpdesk.roster import AgentPresence
from csdomain.helpdesk.schedule import (
    SCHEDULES,
    UNSOLVED,
    StatusGroup,
    TicketSchedule,
    schedule_for,
)
from csdomain.helpdesk.service import DEFAULT_LEASE, HelpDesk, SweepReport
from csdomain.helpdesk.setup import MAX_ATTEMPTS, DeskSetup
from csdomain.helpdesk.surveys import SurveyDesk, SurveySummary

__all__ = [
    "DEFAULT_LEASE",
    "MAX_ATTEMPTS",
    "SCHEDULES",
    "UNSOLVED",
    "AgentPresence",
    "DeskChange",
    "DeskExtension",
    "DeskSetup",
    "HelpDesk",
    "MaterializeReport",
    "RevisitDesk",
    "Routed",
    "StatusGroup",
    "SurveyDesk",
    "SurveySummary",
    "SweepReport",
    "TicketSchedule",
    "schedule_for",
]
