"""Strategies for csdomain's exceptions: every class of the ``CSDomainError`` tree.

The classes are found by walking ``CSDomainError.__subclasses__()`` when a
value is drawn, so a class added to :mod:`csdomain.errors` (or by an
extension) is generated without editing a list. Each is constructed through
its own ``__init__``: arguments are drawn from their names (``kind``, ``key``,
``current``, ``expected_version``, ...) and, failing that, their annotations.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable
from types import NoneType, UnionType
from typing import Any

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain.errors import CSDomainError, Problem, ValidationError
from csdomain.testing.strategies._common import _ids, _keys, _memo, _texts
from csdomain.testing.strategies.registry import registered, strategy_for
from csdomain.tickets import Status


def problems() -> SearchStrategy[Problem]:
    """:class:`~csdomain.Problem` ``(path, message)`` pairs. Requires Hypothesis."""
    return _problems()


@_memo
def _problems() -> SearchStrategy[Problem]:
    paths = st.one_of(
        st.just(""),
        _keys(20),
        st.builds("{}[{}]".format, _keys(20), st.integers(0, 30)),
    )
    return st.builds(Problem, paths, _texts(60))


def validation_errors() -> SearchStrategy[ValidationError]:
    """:class:`~csdomain.ValidationError` with one to four problems. Requires Hypothesis."""
    return _validation_errors()


@_memo
def _validation_errors() -> SearchStrategy[ValidationError]:
    return st.builds(ValidationError, _keys(20), st.lists(_problems(), min_size=1, max_size=4))


def _error_classes() -> tuple[type[CSDomainError], ...]:
    """``CSDomainError`` and every public subclass, depth first, each once."""
    found: dict[type[CSDomainError], None] = {}
    pending: list[type[CSDomainError]] = [CSDomainError]
    while pending:
        cls = pending.pop(0)
        if cls in found or cls.__name__.startswith("_"):
            continue
        found[cls] = None
        pending[:0] = cls.__subclasses__()
    return tuple(found)


@_memo
def _status_values() -> SearchStrategy[str]:
    return st.sampled_from([s.value for s in Status])


@_memo
def _versions() -> SearchStrategy[int]:
    return st.integers(1, 2**31)


#: Strategies for constructor parameters, by name: what the value means.
_BY_NAME: dict[str, Callable[[], SearchStrategy[Any]]] = {
    "subject": lambda: _keys(20),
    "kind": lambda: st.sampled_from(("ticket", "customer", "channel", "escalation tier")),
    "key": lambda: _keys(30),
    "ticket_id": lambda: _ids("tkt"),
    "current": _status_values,
    "attempted": _status_values,
    "allowed": lambda: st.lists(_status_values(), max_size=4, unique=True).map(tuple),
    "expected_version": _versions,
    "stored_version": _versions,
    "problems": lambda: st.lists(_problems(), min_size=1, max_size=4),
}

#: Strategies for constructor parameters, by annotation, when the name is not known.
_BY_TYPE: dict[object, Callable[[], SearchStrategy[Any]]] = {
    str: lambda: _texts(80),
    int: lambda: st.integers(0, 10**6),
    bool: st.booleans,
    float: lambda: st.floats(allow_nan=False, allow_infinity=False),
}


def _for_annotation(annotation: object) -> SearchStrategy[Any] | None:
    if annotation in _BY_TYPE:
        return _BY_TYPE[annotation]()
    args = typing.get_args(annotation)
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        parts: list[SearchStrategy[Any]] = []
        for arg in args:
            part = st.none() if arg is NoneType else _for_annotation(arg)
            if part is None:
                return None
            parts.append(part)
        return st.one_of(parts)
    origin = typing.get_origin(annotation)
    if origin in (tuple, Iterable, list, frozenset) and args and args[0] in _BY_TYPE:
        items = st.lists(_BY_TYPE[args[0]](), max_size=3)
        return items.map(tuple) if origin is Iterable else items.map(origin)
    return None


def _for_parameter(
    cls: type, parameter: inspect.Parameter, hints: dict[str, Any]
) -> SearchStrategy[Any]:
    annotation = hints.get(parameter.name, parameter.annotation)
    value: SearchStrategy[Any] | None
    if parameter.name in _BY_NAME:
        by_name = _BY_NAME[parameter.name]()
        value = (
            st.one_of(st.none(), by_name) if NoneType in typing.get_args(annotation) else by_name
        )
    else:
        value = _for_annotation(annotation)
    if value is None:
        raise InvalidArgument(
            f"errors(): cannot construct {cls.__qualname__}: parameter {parameter.name!r} "
            f"has annotation {annotation!r}, which csdomain's strategies do not know; register "
            "a strategy for the class with csdomain.testing.strategies.registry.register"
        )
    return value


_SLOT_WRAPPER = type(Exception.__init__)


@_memo
def _error_maker(cls: type[CSDomainError]) -> SearchStrategy[CSDomainError]:
    """Instances of exactly ``cls``, built through its own constructor."""
    entry = registered().get(cls)
    if entry is not None and entry[0] is not errors:
        custom = strategy_for(cls)
        if custom is not None:
            return custom
    if isinstance(cls.__init__, _SLOT_WRAPPER):  # Exception's own: a plain message
        return st.builds(cls, _texts(80))
    signature = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(cls.__init__)
    positional: list[SearchStrategy[Any]] = []
    required: dict[str, SearchStrategy[Any]] = {}
    optional: dict[str, SearchStrategy[Any]] = {}
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = _for_parameter(cls, parameter, hints)
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(value)
        elif parameter.default is parameter.empty:
            required[parameter.name] = value
        else:
            optional[parameter.name] = value
    keywords = st.fixed_dictionaries(required, optional=optional)
    return st.builds(_construct, st.just(cls), st.tuples(*positional), keywords)


def _construct(
    cls: type[CSDomainError], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> CSDomainError:
    return cls(*args, **kwargs)


@_memo
def _errors_of(classes: tuple[type[CSDomainError], ...]) -> SearchStrategy[CSDomainError]:
    return st.one_of([_error_maker(cls) for cls in classes])  # type: ignore[arg-type]  # classes hash


@st.composite
def _any_error(draw: DrawFn) -> CSDomainError:
    # The tree is read at draw time, so classes defined after this strategy was
    # made (an extension's, a newer csdomain's) are drawn too.
    return draw(_errors_of(_error_classes()))


def errors(*, types: Iterable[type[CSDomainError]] | None = None) -> SearchStrategy[CSDomainError]:
    """Instances of csdomain's exceptions: by default of every class of the
    :class:`~csdomain.CSDomainError` tree (``CSDomainError`` itself included).

    ``types`` restricts the classes drawn from: each must be ``CSDomainError``
    or one of its subclasses, and values are instances of exactly those
    classes. Each instance is built through its class's constructor with
    arguments that mean something (record kinds, keys, statuses, versions,
    problems), so its message and its structured attributes agree. A class
    whose constructor takes arguments of unknown types needs a strategy of its
    own (:func:`csdomain.testing.strategies.registry.register`).

    Requires Hypothesis.
    """
    if types is None:
        return _any_error()
    chosen = tuple(dict.fromkeys(types)) if isinstance(types, Iterable) else ()
    if not chosen or not all(isinstance(t, type) and issubclass(t, CSDomainError) for t in chosen):
        raise InvalidArgument(
            f"types={types!r} must be a non-empty collection of CSDomainError subclasses "
            f"(such as {', '.join(c.__name__ for c in _error_classes()[:5])}, ...)"
        )
    return _errors_of(chosen)
