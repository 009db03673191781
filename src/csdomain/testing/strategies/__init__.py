"""Hypothesis strategies for every public csdomain type.

**Requires Hypothesis** (``pip install "csdomain[test]"``); importing this
module imports Hypothesis. :mod:`csdomain` and :mod:`csdomain.testing` do not.

Every strategy here is a function taking keyword-only arguments and returning
a ``SearchStrategy``. Values are valid by construction: they pass the model's
own checks, so ``attrs.evolve(value)`` never raises and a generated
:class:`~csdomain.Ticket` replays from its timeline
(``Ticket(timeline=t.timeline) == t``). Tickets are built the way an app
builds them, by :meth:`Ticket.open <csdomain.Ticket.open>` followed by a
random sequence of allowed changes at non-decreasing instants.

Generated text mixes ASCII, CJK, emoji, quotes and control characters (never
NUL), is never blank and is kept short for speed. Instants are aware and
expressed in a representative set of zones (``Asia/Shanghai``,
``America/New_York``, ``Europe/London``, ``Australia/Lord_Howe``, UTC, fixed
offsets, ...); the model stores them in UTC.

With csdomain installed, ``hypothesis.strategies.from_type(csdomain.Ticket)``
(and ``@given(ticket=...)`` inference) uses these strategies too: they are
registered through Hypothesis' ``hypothesis`` entry point.

>>> from hypothesis import given
>>> from csdomain.testing import strategies as cst
>>> @given(cst.tickets(min_events=3))
... def test_replay(ticket):
...     assert type(ticket)(timeline=ticket.timeline) == ticket
"""

from __future__ import annotations

from csdomain.testing.strategies._addresses import contact_rules
from csdomain.testing.strategies._calendars import (
    business_calendars,
    calendar_unions,
    extra_workdays,
    holidays,
    time_ranges,
)
from csdomain.testing.strategies._channels import (
    channel_directories,
    channel_keys,
    channel_kinds,
    channel_traits,
    channels,
)
from csdomain.testing.strategies._clocks import (
    frozen_clocks,
    id_generators,
)
from csdomain.testing.strategies._common import (
    aware_datetimes,
    ids,
    json_scalars,
    keys,
    locales,
    texts,
    timezone_names,
)
from csdomain.testing.strategies._conditions import (
    comparisons,
    conditions,
)
from csdomain.testing.strategies._customers import (
    consents,
    contact_points,
    customer_tiers,
    customers,
    purchases,
)
from csdomain.testing.strategies._errors import (
    errors,
    problems,
    validation_errors,
)
from csdomain.testing.strategies._escalation import (
    escalation_actions,
    escalation_events,
    escalation_rules,
    escalation_triggers,
)
from csdomain.testing.strategies._helpdesk import (
    agent_presences,
    desk_setups,
    routed_events,
    ticket_schedules,
)
from csdomain.testing.strategies._kpis import (
    kpi_definitions,
    ticket_summaries,
)
from csdomain.testing.strategies._people import (
    agent_grades,
    agents,
    escalation_ladders,
    escalation_tiers,
    groups,
    presences,
    roles,
)
from csdomain.testing.strategies._priorities import (
    impacts,
    priorities,
    priority_matrices,
    urgencies,
)
from csdomain.testing.strategies._revisit_tasks import (
    revisit_figures,
    revisit_outcomes,
    revisit_task_events,
    revisit_tasks,
)
from csdomain.testing.strategies._revisits import (
    contact_windows,
    rate_limits,
    recurrences,
    retry_policies,
    revisit_plans,
    revisit_rules,
    revisit_triggers,
)
from csdomain.testing.strategies._routing import (
    assignment_policies,
    grade_rules,
    round_robin_cursors,
    triage_rules,
    triages,
)
from csdomain.testing.strategies._sla import (
    metric_policies,
    priority_change_rules,
    reopen_rules,
    sla_clock_states,
    sla_cycle_states,
    sla_metrics,
    sla_policies,
    sla_setups,
    sla_states,
    sla_targets,
)
from csdomain.testing.strategies._surveys import (
    attributions,
    invitation_events,
    localized_texts,
    survey_answers,
    survey_invitations,
    survey_policies,
    survey_questions,
    survey_responses,
    survey_templates,
    throttles,
)
from csdomain.testing.strategies._tickets import (
    actor_kinds,
    actors,
    link_kinds,
    statuses,
    ticket_events,
    ticket_kinds,
    ticket_links,
    tickets,
    visibilities,
)

__all__ = [
    "actor_kinds",
    "actors",
    "agent_grades",
    "agent_presences",
    "agents",
    "assignment_policies",
    "attributions",
    "aware_datetimes",
    "business_calendars",
    "calendar_unions",
    "channel_directories",
    "channel_keys",
    "channel_kinds",
    "channel_traits",
    "channels",
    "comparisons",
    "conditions",
    "consents",
    "contact_points",
    "contact_rules",
    "contact_windows",
    "customer_tiers",
    "customers",
    "desk_setups",
    "errors",
    "escalation_actions",
    "escalation_events",
    "escalation_ladders",
    "escalation_rules",
    "escalation_tiers",
    "escalation_triggers",
    "extra_workdays",
    "frozen_clocks",
    "grade_rules",
    "groups",
    "holidays",
    "id_generators",
    "ids",
    "impacts",
    "invitation_events",
    "json_scalars",
    "keys",
    "kpi_definitions",
    "link_kinds",
    "locales",
    "localized_texts",
    "metric_policies",
    "presences",
    "priorities",
    "priority_change_rules",
    "priority_matrices",
    "problems",
    "purchases",
    "rate_limits",
    "recurrences",
    "reopen_rules",
    "retry_policies",
    "revisit_figures",
    "revisit_outcomes",
    "revisit_plans",
    "revisit_rules",
    "revisit_task_events",
    "revisit_tasks",
    "revisit_triggers",
    "roles",
    "round_robin_cursors",
    "routed_events",
    "sla_clock_states",
    "sla_cycle_states",
    "sla_metrics",
    "sla_policies",
    "sla_setups",
    "sla_states",
    "sla_targets",
    "statuses",
    "survey_answers",
    "survey_invitations",
    "survey_policies",
    "survey_questions",
    "survey_responses",
    "survey_templates",
    "texts",
    "throttles",
    "ticket_events",
    "ticket_kinds",
    "ticket_links",
    "ticket_schedules",
    "ticket_summaries",
    "tickets",
    "time_ranges",
    "timezone_names",
    "triage_rules",
    "triages",
    "urgencies",
    "validation_errors",
    "visibilities",
]
