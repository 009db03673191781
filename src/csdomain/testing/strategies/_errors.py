"""Strategies: errors."""

from __future__ import annotations

from collections.abc import Iterable

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from csdomain.errors import (
    ConflictError,
    CSDomainError,
    InvalidTransitionError,
    NotFoundError,
    Problem,
    ValidationError,
)
from csdomain.testing.strategies._common import (
    _keys,
    _texts,
)

# -- errors -------------------------------------------------------------------------


def problems() -> SearchStrategy[Problem]:
    """:class:`~csdomain.Problem` ``(path, message)`` pairs. Requires Hypothesis."""
    paths = st.one_of(
        st.just(""),
        _keys(20),
        st.builds("{}[{}]".format, _keys(20), st.integers(0, 30)),
    )
    return st.builds(Problem, paths, _texts(60))


def validation_errors() -> SearchStrategy[ValidationError]:
    """:class:`~csdomain.ValidationError` with one to four problems. Requires Hypothesis."""
    return st.builds(ValidationError, _keys(20), st.lists(problems(), min_size=1, max_size=4))


def errors(*, types: Iterable[type[CSDomainError]] | None = None) -> SearchStrategy[CSDomainError]:
    """Instances of csdomain's exceptions (by default every concrete kind).

    ``types`` restricts the classes drawn from: any of ``ValidationError``,
    ``NotFoundError``, ``InvalidTransitionError``, ``ConflictError`` and
    ``CSDomainError``. Requires Hypothesis.
    """
    makers: dict[type[CSDomainError], SearchStrategy[CSDomainError]] = {
        ValidationError: validation_errors(),
        NotFoundError: st.builds(
            NotFoundError,
            st.sampled_from(["ticket", "customer", "channel", "escalation tier"]),
            _keys(30),
            st.one_of(st.just(""), _texts(40)),
        ),
        InvalidTransitionError: _texts(80).map(InvalidTransitionError),
        ConflictError: _texts(80).map(ConflictError),
        CSDomainError: _texts(80).map(CSDomainError),
    }
    if types is None:
        chosen = [k for k in makers if k is not CSDomainError]
    else:
        chosen = list(types)
        unknown = [t for t in chosen if t not in makers]
        if not chosen or unknown:
            raise InvalidArgument(
                f"types={types!r} must be a non-empty collection of "
                f"{', '.join(k.__name__ for k in makers)}"
            )
    return st.one_of([makers[t] for t in chosen])
