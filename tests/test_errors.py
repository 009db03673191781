"""The exception tree: every class pickles exactly, and messages name the object and value.

Errors cross process boundaries (worker pools, task queues, a relay in another
process): a copy made by ``pickle`` must be the same error, with the same
message and the same structured attributes, whatever the arguments held.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain import errors
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    CSDomainError,
    InvalidTransitionError,
    InvitationTokenError,
    NoStoreError,
    NotFoundError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    StorageError,
    ValidationError,
)

# Text that has broken messages and their parsing before: separators, quotes, newlines.
_texts = st.text(min_size=1, max_size=30) | st.sampled_from(["; ", "a; b", "'", "\n", " - x"])
_versions = st.none() | st.integers(1, 2**63 - 1)
_problems = st.lists(st.tuples(st.text(max_size=20), _texts), min_size=1, max_size=4)

#: One strategy per class of csdomain.errors, building it through its own __init__.
BUILDERS: dict[type[CSDomainError], st.SearchStrategy[CSDomainError]] = {
    CSDomainError: st.builds(CSDomainError, _texts),
    ValidationError: st.builds(ValidationError, _texts, _problems),
    NotFoundError: st.builds(NotFoundError, _texts, _texts, st.just("") | _texts),
    InvalidTransitionError: st.builds(
        InvalidTransitionError,
        _texts,
        _texts,
        _texts,
        st.lists(_texts, max_size=4),
        st.none() | _texts,
        st.just("ticket") | _texts,
    ),
    InvitationTokenError: st.builds(
        InvitationTokenError,
        st.sampled_from(InvitationTokenError.REASONS) | _texts,
        st.none() | _texts,
        st.just("") | _texts,
    ),
    ConflictError: st.builds(
        ConflictError, _texts, _texts, _versions, _versions, st.just("") | _texts
    ),
    StorageError: st.builds(StorageError, _texts),
    RetryableStorageError: st.builds(RetryableStorageError, _texts),
    SchemaError: st.builds(SchemaError, _texts),
    NoStoreError: st.builds(NoStoreError, _texts),
    CorruptRecordError: st.builds(
        CorruptRecordError, _texts, kind=st.just("") | _texts, key=st.just("") | _texts
    ),
    StorageConnectionError: st.builds(StorageConnectionError, _texts),
}


def _public_classes() -> set[type[CSDomainError]]:
    return {
        value
        for name in errors.__all__
        if isinstance(value := getattr(errors, name), type) and issubclass(value, CSDomainError)
    }


def test_every_class_of_the_tree_is_generated_here() -> None:
    assert set(BUILDERS) == _public_classes()


def _state(error: BaseException) -> tuple[Any, ...]:
    """Everything that makes an error what it is."""
    extra = (error.errno, error.strerror) if isinstance(error, OSError) else ()
    return (type(error), str(error), error.args, dict(vars(error)), extra)


@pytest.mark.parametrize("cls", list(BUILDERS), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_every_error_pickles_to_an_equal_error(
    cls: type[CSDomainError], data: st.DataObject
) -> None:
    error = data.draw(BUILDERS[cls])
    assert type(error) is cls
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert _state(copy) == _state(error)


@given(kind=_texts, key=_texts, hint=_texts)
def test_a_not_found_error_keeps_a_key_holding_the_hint_separator(
    kind: str, key: str, hint: str
) -> None:
    error = pickle.loads(pickle.dumps(NotFoundError(kind, f"{key}; {key}", hint)))
    assert (error.kind, error.key, error.hint) == (kind, f"{key}; {key}", hint)
    assert str(error) == f"{kind} {f'{key}; {key}'!r} not found; {hint}"


# -- messages name the object, the value and what is accepted -----------------------------


@given(kind=_texts, key=_texts, expected=st.integers(1, 99), stored=st.integers(1, 99))
def test_a_stale_save_names_the_record_and_both_versions(
    kind: str, key: str, expected: int, stored: int
) -> None:
    message = str(ConflictError(kind, key, expected, stored))
    assert message == f"{kind} {key!r} version {expected} is stale: the stored version is {stored}"


def test_conflict_messages_for_an_add_and_a_record_that_is_gone() -> None:
    assert str(ConflictError("ticket", "tkt_1", None, 3, "in tenant 'acme'")) == (
        "ticket 'tkt_1' already exists (version 3); in tenant 'acme'"
    )
    assert str(ConflictError("customer", "cus_1", 2, None)) == (
        "customer 'cus_1' version 2 is stale: it no longer exists"
    )
    assert not isinstance(ConflictError("ticket", "t", 1, 2), (ValueError, LookupError))


@given(
    ticket_id=_texts,
    current=_texts,
    attempted=_texts,
    allowed=st.lists(_texts, min_size=1, max_size=4, unique=True),
)
def test_a_refused_transition_names_the_ticket_both_statuses_and_what_is_allowed(
    ticket_id: str, current: str, attempted: str, allowed: list[str]
) -> None:
    error = InvalidTransitionError(ticket_id, current, attempted, allowed)
    assert str(error) == (
        f"cannot move ticket {ticket_id} from {current} to {attempted}; "
        f"allowed: {', '.join(sorted(allowed))}"
    )
    assert error.allowed == tuple(sorted(allowed))


def test_a_refused_transition_from_a_final_status_says_so() -> None:
    error = InvalidTransitionError("T-1", "closed", "open")
    assert str(error) == (
        "cannot move ticket T-1 from closed to open; "
        "allowed: none (closed is final; open a follow-up ticket)"
    )
    detailed = InvalidTransitionError("T-1", "open", "set priority high", (), "it is high")
    assert str(detailed) == "cannot set priority high on ticket T-1 (status open): it is high"


@given(subject=_texts, problems=_problems)
def test_a_validation_error_names_the_subject_and_every_path_and_problem(
    subject: str, problems: list[tuple[str, str]]
) -> None:
    message = str(ValidationError(subject, problems))
    assert message.startswith(f"invalid {subject}")
    for path, problem in problems:
        assert (f"{path}: {problem}" if path else problem) in message


def test_a_validation_error_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="at least one problem"):
        ValidationError("Customer", [])


@given(kind=_texts, key=_texts, hint=_texts)
def test_not_found_names_the_kind_the_key_and_the_hint(kind: str, key: str, hint: str) -> None:
    assert str(NotFoundError(kind, key, hint)) == f"{kind} {key!r} not found; {hint}"
    assert str(NotFoundError(kind, key)) == f"{kind} {key!r} not found"


# -- the builtin each class also is, so existing handlers keep working --------------------

BUILTINS: dict[type[CSDomainError], tuple[type[BaseException], ...]] = {
    ValidationError: (ValueError,),
    InvalidTransitionError: (ValueError,),
    NotFoundError: (LookupError,),
    CorruptRecordError: (ValueError, StorageError),
    StorageConnectionError: (ConnectionError, StorageError),
    RetryableStorageError: (StorageError,),
    SchemaError: (StorageError,),
    NoStoreError: (SchemaError, StorageError),
}

_SAMPLES: dict[type[CSDomainError], Callable[[], CSDomainError]] = {
    ValidationError: lambda: ValidationError.single("Customer", "id", "bad"),
    InvalidTransitionError: lambda: InvalidTransitionError("T-1", "closed", "open"),
    NotFoundError: lambda: NotFoundError("ticket", "tkt_1"),
    CorruptRecordError: lambda: CorruptRecordError("damaged", kind="ticket", key="tkt_1"),
    StorageConnectionError: lambda: StorageConnectionError("refused"),
    RetryableStorageError: lambda: RetryableStorageError("locked"),
    SchemaError: lambda: SchemaError("newer"),
    NoStoreError: lambda: NoStoreError("no store at desk.db; pass create=True"),
}


@pytest.mark.parametrize("cls", list(BUILTINS), ids=lambda cls: cls.__name__)
def test_each_error_is_also_the_builtin_an_application_catches(cls: type[CSDomainError]) -> None:
    error = _SAMPLES[cls]()
    assert isinstance(error, CSDomainError)
    for base in BUILTINS[cls]:
        assert isinstance(error, base)


def test_storage_failures_are_not_value_or_lookup_errors() -> None:
    # A web app maps ValueError to 400 and LookupError to 404: a locked database is neither.
    for error in (StorageError("x"), RetryableStorageError("x"), SchemaError("x")):
        assert not isinstance(error, (ValueError, LookupError))
