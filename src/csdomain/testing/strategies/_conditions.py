"""Strategies: conditions."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from csdomain._kernel.validation import INT64_MAX, INT64_MIN
from csdomain.conditions import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Compare,
    Comparison,
    Condition,
    Contains,
    Equals,
    Exists,
    In,
    Not,
)
from csdomain.testing.strategies._channels import (
    _channel_keys,
)
from csdomain.testing.strategies._common import (
    _KEY_EXAMPLES,
    _check_size,
    _ids,
    _json_scalars,
    _keys,
    _memo,
    _text_pieces,
)
from csdomain.testing.strategies._customers import (
    customer_tiers,
)
from csdomain.testing.strategies._people import (
    _tier_keys,
)
from csdomain.testing.strategies._priorities import (
    priorities,
)
from csdomain.testing.strategies._tickets import (
    statuses,
    ticket_kinds,
)
from csdomain.testing.strategies.registry import register


def comparisons() -> SearchStrategy[Comparison]:
    """Members of :class:`~csdomain.Comparison`. Requires Hypothesis."""
    return st.sampled_from(Comparison)


# -- conditions ---------------------------------------------------------------------------

_LEAF_TYPES: tuple[type[Condition], ...] = (Equals, In, Compare, Contains, Exists)
_COMBINATOR_TYPES: tuple[type[Condition], ...] = (AllOf, AnyOf, Not)
_CONDITION_TYPES: tuple[type[Condition], ...] = (*_COMBINATOR_TYPES, *_LEAF_TYPES)
_FIXED_FIELD_PATHS: tuple[str, ...] = (
    "ticket.kind",
    "ticket.channel",
    "ticket.priority",
    "ticket.status",
    "ticket.group",
    "ticket.assignee",
    "ticket.tier",
    "ticket.tags",
    "customer.tier",
    "customer.segments",
)


def conditions(
    *, max_depth: int = 3, types: Iterable[type[Condition]] | None = None
) -> SearchStrategy[Condition]:
    """Valid conditions (:class:`~csdomain.AllOf`, :class:`~csdomain.AnyOf`,
    :class:`~csdomain.Not` and the field tests) nested at most ``max_depth`` deep.

    A field test has depth 0, a combinator one more than its deepest part, so
    ``max_depth=0`` draws single field tests. ``types`` restricts the class of
    the condition drawn (its parts may be of any class); ``Condition`` stands for
    every class. Combinators have up to three parts. Field tests read every
    field of the vocabulary; custom fields and attributes use keys that
    :func:`tickets` and :func:`customers` also draw (``vip``, ``refund``, ...),
    so conditions match generated values now and then.

    Requires Hypothesis.
    """
    _check_size("max_depth", max_depth, 0, MAX_DEPTH)
    if types is None:
        chosen = _CONDITION_TYPES if max_depth else _LEAF_TYPES
    else:
        given = tuple(types)
        if Condition in given:
            given = _CONDITION_TYPES if max_depth else _LEAF_TYPES
        if not given or not all(t in _CONDITION_TYPES for t in given):
            names = ", ".join(["Condition", *(t.__name__ for t in _CONDITION_TYPES)])
            raise InvalidArgument(
                f"types={types!r} must be a non-empty collection of condition classes ({names})"
            )
        chosen = tuple(dict.fromkeys(given))
        if max_depth == 0 and any(t in _COMBINATOR_TYPES for t in chosen):
            raise InvalidArgument(
                f"types={types!r} includes a combinator (AllOf, AnyOf, Not): "
                "it needs max_depth >= 1"
            )
    return _conditions(max_depth, chosen)


register(Condition, conditions)
for _condition_type in _CONDITION_TYPES:
    register(_condition_type, conditions, types=(_condition_type,))


@_memo
def _conditions(max_depth: int, types: tuple[type[Condition], ...]) -> SearchStrategy[Condition]:
    leaves = _condition_leaves()
    parts: list[SearchStrategy[Condition]] = []
    for cls in types:
        if cls in _COMBINATOR_TYPES:
            parts.append(_combinators(cls, _any_condition(max_depth - 1)))
        else:
            parts.append(leaves[cls])
    return st.one_of(parts)


@_memo
def _any_condition(max_depth: int) -> SearchStrategy[Condition]:
    """Any condition at most ``max_depth`` deep; field tests as likely as combinators."""
    leaves = st.one_of(list(_condition_leaves().values()))
    if max_depth == 0:
        return leaves
    sub = _any_condition(max_depth - 1)
    return st.one_of(leaves, st.one_of([_combinators(cls, sub) for cls in _COMBINATOR_TYPES]))


def _combinators(cls: type[Condition], sub: SearchStrategy[Condition]) -> SearchStrategy[Condition]:
    if cls is Not:
        return st.builds(Not, sub)
    return st.builds(cls, st.lists(sub, max_size=3).map(tuple))


@_memo
def _common_keys() -> SearchStrategy[str]:
    """Keys biased towards the ones generated tickets and customers use most."""
    return st.one_of(st.sampled_from(_KEY_EXAMPLES), _keys(24))


@_memo
def _scalar_field_paths() -> SearchStrategy[str]:
    return st.builds(
        operator.add,
        st.sampled_from(("ticket.custom_fields.", "customer.attributes.")),
        _common_keys(),
    )


@_memo
def _condition_leaves() -> dict[type[Condition], SearchStrategy[Condition]]:
    """A strategy for each field test class."""
    scalar_paths = _scalar_field_paths()
    scalars = _json_scalars().filter(lambda v: v is not None)
    numbers = st.one_of(
        st.integers(-10, 10),
        st.integers(INT64_MIN, INT64_MAX),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    # (paths, values) of the fields that Equals and In take, each drawn as that field holds it.
    equatable: list[tuple[SearchStrategy[str], SearchStrategy[Any]]] = [
        (st.just("ticket.kind"), ticket_kinds()),
        (st.just("ticket.priority"), priorities()),
        (st.just("ticket.status"), statuses()),
        (st.just("customer.tier"), customer_tiers()),
        (st.just("ticket.channel"), _channel_keys(True, True)),
        (st.just("ticket.group"), _ids("grp")),
        (st.just("ticket.assignee"), _ids("agt")),
        (st.just("ticket.tier"), _tier_keys()),
        (scalar_paths, scalars),
    ]
    ordered: list[tuple[SearchStrategy[str], SearchStrategy[Any]]] = [
        (st.just("ticket.priority"), priorities()),
        (st.just("customer.tier"), customer_tiers()),
        (scalar_paths, numbers),
    ]
    searchable: list[tuple[SearchStrategy[str], SearchStrategy[str]]] = [
        (st.sampled_from(("ticket.tags", "customer.segments")), _common_keys()),
        (scalar_paths, st.lists(_text_pieces(), min_size=1, max_size=2).map("".join)),
    ]
    return {
        Equals: st.one_of([st.builds(Equals, p, v) for p, v in equatable]),
        In: st.one_of(
            [st.builds(In, p, st.lists(v, min_size=1, max_size=3).map(tuple)) for p, v in equatable]
        ),
        Compare: st.one_of([st.builds(Compare, p, comparisons(), v) for p, v in ordered]),
        Contains: st.one_of([st.builds(Contains, p, v) for p, v in searchable]),
        Exists: st.builds(Exists, st.sampled_from(_FIXED_FIELD_PATHS) | scalar_paths),
    }
