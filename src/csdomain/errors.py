"""The exception hierarchy.

Every error csdomain raises is a :class:`CSDomainError`. Subclasses also inherit
the builtin exception an application would catch for the same situation, so
``except ValueError`` keeps working around code that validates input with
csdomain. Messages name the object, the offending value and what would have
been accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Final

__all__ = [
    "CSDomainError",
    "ConflictError",
    "CorruptRecordError",
    "InvalidTransitionError",
    "InvitationTokenError",
    "NoStoreError",
    "NotFoundError",
    "Problem",
    "RetryableStorageError",
    "SchemaError",
    "StorageConnectionError",
    "StorageError",
    "ValidationError",
]


class CSDomainError(Exception):
    """Root of every exception raised by csdomain."""


class Problem(tuple[str, str]):
    """One ``(path, message)`` pair of a :class:`ValidationError`.

    ``path`` locates the bad value inside the object or document being checked
    (``"contact_points[0].address"``, ``"timeline[3].at"``); it is ``""`` when
    the problem concerns the object as a whole.
    """

    __slots__ = ()

    def __new__(cls, path: str, message: str) -> Problem:
        return super().__new__(cls, (path, message))

    @property
    def path(self) -> str:
        """Where the problem is, as a dotted/indexed path."""
        return self[0]

    @property
    def message(self) -> str:
        """What is wrong, naming the bad value and what is accepted."""
        return self[1]

    def __repr__(self) -> str:
        return f"Problem(path={self.path!r}, message={self.message!r})"


class ValidationError(CSDomainError, ValueError):
    """Input that cannot form a valid object.

    Carries the problems found, not only the first: ``problems`` is a tuple of
    :class:`Problem` ``(path, message)`` pairs, and ``subject`` names the kind
    of object that was being built or loaded. However bad the input, the error
    stays small: it keeps the first :attr:`MAX_PROBLEMS` problems (each path
    and message shortened to a few hundred characters) and counts the others,
    so ``problem_count`` is the number found and the message ends with
    ``... and N more problems`` when some were left out. Pass ``problem_count``
    when ``problems`` holds only some of those found (as a pickled copy does).

    >>> error = ValidationError("Customer", [(f"tags[{i}]", "not a key") for i in range(250)])
    >>> len(error.problems), error.problem_count
    (100, 250)
    >>> str(error).splitlines()[-1]
    '  ... and 150 more problems'
    """

    #: How many problems an error keeps (the rest are counted in ``problem_count``).
    MAX_PROBLEMS: ClassVar[int] = 100

    def __init__(
        self,
        subject: str,
        problems: Iterable[tuple[str, str]],
        problem_count: int | None = None,
    ) -> None:
        self.subject = subject
        kept: list[Problem] = []
        found = 0
        for path, message in problems:  # consumed once: a generator is never held whole
            found += 1
            if found <= self.MAX_PROBLEMS:
                kept.append(Problem(_shortened(path, _MAX_PATH), _shortened(message, _MAX_MESSAGE)))
        if not kept:
            raise ValueError("ValidationError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(kept)
        #: How many problems were found, kept or not (at least ``len(problems)``).
        self.problem_count: int = max(found, problem_count or 0)
        super().__init__(self._render())

    @classmethod
    def single(cls, subject: str, path: str, message: str) -> ValidationError:
        """Build an error with exactly one problem."""
        return cls(subject, [(path, message)])

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths of the problems kept, in the order they were found."""
        return tuple(p.path for p in self.problems)

    def _render(self) -> str:
        lines = [f"{p.path}: {p.message}" if p.path else p.message for p in self.problems]
        if self.problem_count == 1:
            return f"invalid {self.subject}: {lines[0]}"
        body = "\n".join(f"  - {line}" for line in lines)
        more = self.problem_count - len(lines)
        tail = f"\n  ... and {more} more problem{'s' if more > 1 else ''}" if more else ""
        return f"invalid {self.subject} ({self.problem_count} problems):\n{body}{tail}"

    def __reduce__(
        self,
    ) -> tuple[type[ValidationError], tuple[str, Sequence[tuple[str, str]], int]]:
        problems = [(p.path, p.message) for p in self.problems]
        return (type(self), (self.subject, problems, self.problem_count))


#: Longest path and message a kept problem holds: a message names a value, it does not
#: carry it (a 100 kB bad value must not make a 100 kB error).
_MAX_PATH: Final = 300
_MAX_MESSAGE: Final = 1000


def _shortened(text: str, most: int) -> str:
    if len(text) > most:
        text = text[: most - 3] + "..."
    if not text.isascii() and _SURROGATE.search(text) is not None:
        # a message quoting bad text raw must still be text (loggable, sendable)
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class NotFoundError(CSDomainError, LookupError):
    """A record, channel or other named thing does not exist (here, for this tenant).

    ``kind`` names what was looked up (``"ticket"``), ``key`` the key asked for
    and ``hint`` what would help (which keys exist, which tenant was searched).
    """

    def __init__(self, kind: str, key: str, hint: str = "") -> None:
        self.kind = kind
        self.key = key
        self.hint = hint
        message = f"{kind} {key!r} not found"
        super().__init__(f"{message}; {hint}" if hint else message)

    def __reduce__(self) -> tuple[type[NotFoundError], tuple[str, str, str]]:
        return (type(self), (self.kind, self.key, self.hint))


def _allowed_text(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed) if allowed else "none (closed is final; open a follow-up ticket)"


class InvalidTransitionError(CSDomainError, ValueError):
    """An operation the current state of a ticket (or other aggregate) does not allow.

    ``ticket_id`` names the object, ``current`` the status it is in (``"closed"``),
    ``attempted`` the status asked for (``"open"``) and ``allowed`` the statuses
    ``current`` allows, so a 409 response can say all of it. When the refusal is
    not a status move, ``attempted`` describes the action (``"record a priority
    change low -> high"``) and ``detail`` says why (``"the priority is normal"``).

    >>> error = InvalidTransitionError("T-1", "closed", "open")
    >>> error.current, error.attempted, error.allowed
    ('closed', 'open', ())
    >>> str(error).startswith("cannot move ticket T-1 from closed to open; allowed: none")
    True
    """

    def __init__(
        self,
        ticket_id: str,
        current: str,
        attempted: str,
        allowed: Iterable[str] = (),
        detail: str | None = None,
        subject: str = "ticket",
    ) -> None:
        self.ticket_id = ticket_id
        self.current = current
        self.attempted = attempted
        self.allowed: tuple[str, ...] = tuple(sorted(allowed))
        self.detail = detail
        self.subject = subject
        if detail is None:
            allowed_text = (
                _allowed_text(self.allowed)
                if subject == "ticket" or self.allowed
                else f"none ({current} is final)"
            )
            message = (
                f"cannot move {subject} {ticket_id} from {current} to {attempted}; "
                f"allowed: {allowed_text}"
            )
        else:
            message = f"cannot {attempted} on {subject} {ticket_id} (state {current}): {detail}"
            if subject == "ticket":
                message = f"cannot {attempted} on ticket {ticket_id} (status {current}): {detail}"
        super().__init__(message)

    def __reduce__(
        self,
    ) -> tuple[
        type[InvalidTransitionError], tuple[str, str, str, tuple[str, ...], str | None, str]
    ]:
        return (
            type(self),
            (self.ticket_id, self.current, self.attempted, self.allowed, self.detail, self.subject),
        )


class InvitationTokenError(CSDomainError, PermissionError):
    """A survey invitation token that cannot be used: unknown, expired, voided, or
    already used (and the policy allows no edit).

    ``reason`` is one of ``"unknown"``, ``"expired"``, ``"voided"``, ``"used"``;
    ``invitation_id`` names the invitation when the token matched one (never the
    token itself: it is a secret). Nothing was stored.

    >>> InvitationTokenError("expired", "inv_1").reason
    'expired'
    """

    REASONS: Final = ("unknown", "expired", "voided", "used")

    def __init__(self, reason: str, invitation_id: str | None = None, detail: str = "") -> None:
        self.reason = reason
        self.invitation_id = invitation_id
        self.detail = detail
        subject = "survey token" if invitation_id is None else f"survey invitation {invitation_id}"
        message = {
            "unknown": "no survey invitation has this token",
            "expired": f"{subject} has expired",
            "voided": f"{subject} was voided (its ticket was reopened)",
            "used": f"{subject} was already answered and allows no edit",
        }.get(reason, f"{subject} cannot be used ({reason})")
        super().__init__(f"{message}; {detail}" if detail else message)

    def __reduce__(self) -> tuple[type[InvitationTokenError], tuple[str, str | None, str]]:
        return (type(self), (self.reason, self.invitation_id, self.detail))


class ConflictError(CSDomainError):
    """A save based on a stale version, or an add of a key that exists: someone else
    changed the record first.

    ``kind`` and ``key`` name the record; ``expected_version`` is the version the
    caller based its change on (``None`` for an add) and ``stored_version`` the
    version stored now (``None`` when the record is gone, or when a value that must
    be unique, such as a contact point, is held by another record: ``detail`` says
    which). Nothing was changed.
    """

    def __init__(
        self,
        kind: str,
        key: str,
        expected_version: int | None,
        stored_version: int | None,
        detail: str = "",
    ) -> None:
        self.kind = kind
        self.key = key
        self.expected_version = expected_version
        self.stored_version = stored_version
        self.detail = detail
        if expected_version is None and stored_version is None:
            message = f"{kind} {key!r} conflicts with a stored {kind}"  # a unique value
        elif expected_version is None:
            message = f"{kind} {key!r} already exists (version {stored_version})"
        elif stored_version is None:
            message = f"{kind} {key!r} version {expected_version} is stale: it no longer exists"
        else:
            message = (
                f"{kind} {key!r} version {expected_version} is stale: "
                f"the stored version is {stored_version}"
            )
        super().__init__(f"{message}; {detail}" if detail else message)

    def __reduce__(
        self,
    ) -> tuple[type[ConflictError], tuple[str, str, int | None, int | None, str]]:
        return (
            type(self),
            (self.kind, self.key, self.expected_version, self.stored_version, self.detail),
        )


class StorageError(CSDomainError):
    """The database failed, or holds what this csdomain cannot use.

    Adapters raise one of its subclasses for every driver error (the driver's
    exception is its ``__cause__``), so no ``sqlite3`` or ``psycopg`` exception
    reaches callers. Catch the subclass that calls for an action: retry on
    :class:`RetryableStorageError`, migrate or upgrade on :class:`SchemaError`,
    repair on :class:`CorruptRecordError`, check the server on
    :class:`StorageConnectionError`.
    """


class RetryableStorageError(StorageError):
    """A transient failure (database locked, serialization failure, deadlock): the
    unit of work was rolled back and may be retried as it is."""


class SchemaError(StorageError):
    """The stored schema is not one this csdomain can use (newer, unknown or damaged)."""


class NoStoreError(SchemaError):
    """The URL names no csdomain store (a missing or empty file, an empty database),
    and creating one was not asked for: pass ``create=True`` to ``open_store``."""


class CorruptRecordError(StorageError, ValueError):
    """A stored record cannot be decoded (damaged row, truncated file, foreign data).

    ``kind`` and ``key`` name the record when known.
    """

    def __init__(self, message: str, *, kind: str = "", key: str = "") -> None:
        self.kind = kind
        self.key = key
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_corrupt, (type(self), str(self), self.kind, self.key))


def _rebuild_corrupt(
    cls: type[CorruptRecordError], message: str, kind: str, key: str
) -> CorruptRecordError:
    return cls(message, kind=kind, key=key)


class StorageConnectionError(StorageError, ConnectionError):
    """The database cannot be reached or the connection was lost."""
