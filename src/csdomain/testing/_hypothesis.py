"""Registration of csdomain's strategies with Hypothesis.

``pyproject.toml`` declares :func:`_hypothesis_setup_hook` under the
``hypothesis`` entry-point group; Hypothesis calls it when it is imported, so
``st.from_type(csdomain.Ticket)`` and ``@given`` inference produce valid
csdomain values in any suite, with no import of :mod:`csdomain.testing.strategies`.

This module imports nothing from Hypothesis at module level: the hook imports
it when called, and only Hypothesis calls the hook. Each registration is a
function that builds its strategy when ``from_type`` first resolves the type,
so Hypothesis' own start-up stays fast and free of side effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypothesis.strategies import SearchStrategy


def _lazy(name: str, **kwargs: Any) -> Callable[[type], SearchStrategy[Any]]:
    """A resolver calling ``csdomain.testing.strategies.<name>(**kwargs)`` on first use."""

    def resolve(thing: type) -> SearchStrategy[Any]:
        from csdomain.testing import strategies

        factory: Callable[..., SearchStrategy[Any]] = getattr(strategies, name)
        return factory(**kwargs)

    resolve.__name__ = resolve.__qualname__ = f"csdomain_{name}"
    return resolve


def _hypothesis_setup_hook() -> None:
    """Register a strategy for every public csdomain class that needs one.

    Called by Hypothesis through the ``hypothesis`` entry point (Hypothesis
    must be installed for it to run at all). Registers the attrs classes
    (``Ticket``, ``Customer``, ``ContactPoint``, ``Purchase``, ``Channel``,
    ``ChannelTraits``, ``ChannelDirectory``, ``Agent``, ``Group``,
    ``EscalationTier``, ``EscalationLadder``, ``PriorityMatrix``, the calendar
    types (``TimeRange``, ``Holiday``, ``ExtraWorkday``, ``BusinessCalendar``,
    ``CalendarUnion``), the SLA configuration (``Target``, ``MetricPolicy``,
    ``SlaPolicy``), ``Actor``,
    ``TicketLink``, ``TicketEvent`` and each of its subclasses, ``Condition``
    and each of its subclasses) and the
    ``FrozenClock``, ``SequentialIds`` and ``UlidIds`` classes, whose
    constructors Hypothesis could not fill validly on its own. ``Clock`` and
    ``IdGenerator`` resolve through the registered classes.

    Enums need no registration (Hypothesis samples their members). The SLA
    results (``SlaStatus``, ``MetricStatus``, ``SlaExplanation``) have no
    strategy: obtain them from :func:`csdomain.evaluate` and
    :func:`csdomain.explain` on generated tickets and policies. The
    exceptions and ``Problem`` are left unregistered on purpose: they
    subclass builtins (``ValueError``, ``tuple``), and registering them would
    make ``from_type(ValueError)`` yield csdomain errors in unrelated tests;
    use :func:`csdomain.testing.strategies.errors` and ``problems`` instead.
    """
    import hypothesis.strategies as st

    import csdomain
    from csdomain.conditions import CONDITION_TYPES
    from csdomain.tickets import EVENT_TYPES

    registrations: list[tuple[type, Callable[[type], SearchStrategy[Any]]]] = [
        (csdomain.Ticket, _lazy("tickets")),
        (csdomain.TicketEvent, _lazy("ticket_events")),
        (csdomain.Customer, _lazy("customers")),
        (csdomain.ContactPoint, _lazy("contact_points")),
        (csdomain.Purchase, _lazy("purchases")),
        (csdomain.Channel, _lazy("channels", builtin=True)),
        (csdomain.ChannelTraits, _lazy("channel_traits")),
        (csdomain.ChannelDirectory, _lazy("channel_directories")),
        (csdomain.Agent, _lazy("agents")),
        (csdomain.Group, _lazy("groups")),
        (csdomain.EscalationTier, _lazy("escalation_tiers")),
        (csdomain.EscalationLadder, _lazy("escalation_ladders")),
        (csdomain.PriorityMatrix, _lazy("priority_matrices")),
        (csdomain.TimeRange, _lazy("time_ranges")),
        (csdomain.Holiday, _lazy("holidays")),
        (csdomain.ExtraWorkday, _lazy("extra_workdays")),
        (csdomain.BusinessCalendar, _lazy("business_calendars")),
        (csdomain.CalendarUnion, _lazy("calendar_unions")),
        (csdomain.Target, _lazy("sla_targets")),
        (csdomain.MetricPolicy, _lazy("metric_policies")),
        (csdomain.SlaPolicy, _lazy("sla_policies")),
        (csdomain.Actor, _lazy("actors")),
        (csdomain.TicketLink, _lazy("ticket_links")),
        (csdomain.FrozenClock, _lazy("frozen_clocks")),
        (csdomain.SequentialIds, _lazy("id_generators", kinds=(csdomain.SequentialIds,))),
        (csdomain.UlidIds, _lazy("id_generators", kinds=(csdomain.UlidIds,))),
        (csdomain.Condition, _lazy("conditions")),
    ]
    for event_type in EVENT_TYPES.values():
        registrations.append((event_type, _lazy("ticket_events", types=(event_type,))))
    for condition_type in CONDITION_TYPES.values():
        registrations.append((condition_type, _lazy("conditions", types=(condition_type,))))
    for cls, resolver in registrations:
        st.register_type_strategy(cls, resolver)
