"""Routing: overflow between groups, then assignment in the group reached.

:func:`route` starts at ``group_id``. While the group's state is over a
threshold of its policy (``queue_length >= overflow_queue`` or
``oldest_wait >= overflow_wait``), its :class:`~csdomain.people.Group` names
an ``overflow_to`` group, and that group's state is in ``states``, routing
moves on to it; the trace says which threshold passed (or why routing stayed:
no overflow group named, or its state not given). In the group reached,
:func:`~csdomain.routing.assignment.choose_agent` picks an agent; with no
eligible agent the decision's ``agent_id`` is None (the ticket waits in that
group's queue) and the trace says why, agent by agent. An overflow cycle
(every group of it over its threshold) raises a
:class:`~csdomain.errors.ValidationError` naming the cycle.

:func:`overflow_chain` lists a group and its overflow targets;
:func:`check_routing` lists the problems of a routing configuration (the
HelpDesk refuses a setup that has any).

Everything here is pure: same inputs, same decision and trace.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from csdomain._kernel.validation import describe
from csdomain.channels import ChannelDirectory
from csdomain.errors import NotFoundError, ValidationError
from csdomain.people import Group
from csdomain.routing.assignment import (
    AssignmentPolicy,
    GroupState,
    RoundRobinCursor,
    choose_agent,
)
from csdomain.routing.triaging import Triage

if TYPE_CHECKING:
    from csdomain.customers import Customer
    from csdomain.tickets import Ticket

__all__ = ["RoutingDecision", "check_routing", "overflow_chain", "route"]


@attrs.frozen
class RoutingDecision:
    """Where a ticket goes: the group, the agent (None: it waits in the group's queue),
    the group's new round-robin cursor (None: nothing to persist) and the trace
    (English sentences: why this group, why this agent)."""

    group_id: str
    agent_id: str | None
    cursor: RoundRobinCursor | None
    trace: tuple[str, ...]
    #: The groups routing passed through, the first being where it started.
    path: tuple[str, ...] = ()


def _cycle_text(cycle: Sequence[str]) -> str:
    return " -> ".join(cycle)


def _cycle_error(subject: str, path: str, cycle: Sequence[str]) -> ValidationError:
    return ValidationError.single(
        subject,
        path,
        f"overflow cycle {_cycle_text(cycle)}; overflow targets must not lead back to a group",
    )


def overflow_chain(group_id: str, groups: Mapping[str, Group]) -> tuple[str, ...]:
    """``group_id`` then, in order, the groups it overflows to (each one's ``overflow_to``).

    Raises :class:`~csdomain.errors.NotFoundError` for a group not in ``groups``
    (``group_id`` or a target) and :class:`~csdomain.errors.ValidationError`
    naming the cycle (``"g1 -> g2 -> g1"``) when the chain comes back to a group.

    >>> from csdomain.people import Group
    >>> groups = {"branch": Group("branch", "Branch", overflow_to="hq"), "hq": Group("hq", "HQ")}
    >>> overflow_chain("branch", groups)
    ('branch', 'hq')
    """
    chain: list[str] = []
    current: str | None = group_id
    while current is not None:
        group = groups.get(current)
        if group is None:
            hint = f"known groups: {', '.join(sorted(groups)) or 'none'}"
            if chain:
                hint = f"group {chain[-1]!r} overflows to it; {hint}"
            raise NotFoundError("group", current, hint)
        if current in chain:
            cycle = [*chain[chain.index(current) :], current]
            raise _cycle_error("overflow chain", f"groups[{group_id!r}]", cycle)
        chain.append(current)
        current = group.overflow_to
    return tuple(chain)


def route(
    ticket: Ticket,
    customer: Customer | None,
    *,
    group_id: str,
    states: Mapping[str, GroupState],
    now: datetime,
    waited: timedelta,
) -> RoutingDecision:
    """Route ``ticket`` from ``group_id``: overflow while over a threshold, then choose an
    agent in the group reached (see :mod:`csdomain.routing.overflow`).

    ``states`` holds the state of every group routing may reach, by group id;
    ``waited`` is how long the ticket has waited for an agent.
    """
    state = states.get(group_id)
    if state is None:
        raise NotFoundError(
            "group state", group_id, f"states hold: {', '.join(sorted(states)) or 'none'}"
        )
    trace: list[str] = []
    path = [group_id]
    while True:
        gid = state.group.id
        over = state.over_threshold()
        if over is None:
            break
        target = state.group.overflow_to
        if target is None:
            trace.append(f"group {gid!r}: {over}, but it names no overflow group: it stays")
            break
        following = states.get(target)
        if following is None:
            trace.append(
                f"group {gid!r}: {over}, but the state of its overflow group "
                f"{target!r} is not given: it stays"
            )
            break
        if target in path:
            raise _cycle_error("route", "group_id", [*path[path.index(target) :], target])
        trace.append(f"group {gid!r}: {over}: overflow to {target!r}")
        path.append(target)
        state = following
    agent, cursor, why = choose_agent(state, ticket, customer, now=now, waited=waited)
    trace.extend(why)
    return RoutingDecision(state.group.id, agent, cursor, tuple(trace), tuple(path))


def _policy_path(i: int) -> str:
    return f"policies[{i}]"


def check_routing(
    triage: Triage,
    policies: Sequence[AssignmentPolicy],
    *,
    groups: Mapping[str, Group],
    agents: Collection[str],
    channels: ChannelDirectory | None = None,
    calendars: Collection[str] | None = None,
) -> list[tuple[str, str]]:
    """The problems of a routing configuration, as ``(path, message)`` pairs (empty: none).

    Reported: a triage rule, the default group or a policy naming a group not in
    ``groups``; a group keyed under another id; an ``overflow_to`` naming an
    unknown group; each overflow cycle (once, ``"g1 -> g2 -> g1"``); two
    policies for one group; a triage rule sending a channel to a group that does
    not serve it. With ``channels``: channel keys in triage rules and in
    ``channel_weights`` that the directory does not know. With ``calendars``:
    a group naming a calendar not among them. ``agents`` is accepted for
    symmetry with the escalation check; routing configuration names no agent.
    """
    problems: list[tuple[str, str]] = []
    known = ", ".join(sorted(groups)) or "none"

    def unknown_group(path: str, gid: str, what: str) -> None:
        if gid not in groups:
            problems.append((path, f"{what} names group {gid!r}, which is unknown; known: {known}"))

    for k, group in sorted(groups.items()):
        if group.id != k:
            problems.append((f"groups[{k!r}]", f"holds group {group.id!r} under the key {k!r}"))
        if group.overflow_to is not None:
            unknown_group(f"groups[{k!r}].overflow_to", group.overflow_to, f"group {k!r} overflow")
        if calendars is not None and group.calendar is not None and group.calendar not in calendars:
            problems.append(
                (
                    f"groups[{k!r}].calendar",
                    f"group {k!r} names calendar {group.calendar!r}, which is unknown",
                )
            )
    problems.extend(_cycles(groups))
    for i, rule in enumerate(triage.rules):
        path = f"triage.rules[{i}]"
        unknown_group(f"{path}.group_id", rule.group_id, f"triage rule {rule.name!r}")
        target = groups.get(rule.group_id)
        for channel in sorted(rule.channels):
            if channels is not None and channel not in channels:
                problems.append(
                    (f"{path}.channels", f"triage rule {rule.name!r}: unknown channel {channel!r}")
                )
            elif target is not None and not target.serves(channel):
                problems.append(
                    (
                        f"{path}.channels",
                        f"triage rule {rule.name!r} sends {channel!r} tickets to group "
                        f"{rule.group_id!r}, which does not serve that channel",
                    )
                )
    unknown_group("triage.default_group", triage.default_group, "the default group")
    first: dict[str, int] = {}
    for i, policy in enumerate(policies):
        path = _policy_path(i)
        if not isinstance(policy, AssignmentPolicy):
            problems.append((path, f"expected an AssignmentPolicy, got {describe(policy)}"))
            continue
        unknown_group(f"{path}.group_id", policy.group_id, "the policy")
        if policy.group_id in first:
            problems.append(
                (
                    f"{path}.group_id",
                    f"group {policy.group_id!r} already has a policy: "
                    f"{_policy_path(first[policy.group_id])}",
                )
            )
        else:
            first[policy.group_id] = i
        if channels is not None:
            for channel in sorted(policy.channel_weights):
                if channel not in channels:
                    problems.append(
                        (
                            f"{path}.channel_weights[{channel!r}]",
                            f"unknown channel {channel!r}",
                        )
                    )
    return problems


def _cycles(groups: Mapping[str, Group]) -> Iterator[tuple[str, str]]:
    reported: set[str] = set()
    for start in sorted(groups):
        chain: list[str] = []
        current: str | None = start
        while current is not None and current in groups and current not in chain:
            if current in reported:
                break
            chain.append(current)
            current = groups[current].overflow_to
        if current is None or current not in chain:
            reported.update(chain)
            continue
        cycle = chain[chain.index(current) :]
        reported.update(chain)
        # Name each cycle once, from its smallest group id.
        low = cycle.index(min(cycle))
        ordered = [*cycle[low:], *cycle[:low]]
        yield (
            f"groups[{ordered[0]!r}].overflow_to",
            f"overflow cycle {_cycle_text([*ordered, ordered[0]])}",
        )
