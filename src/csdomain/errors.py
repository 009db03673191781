"""The exception hierarchy.

Every error csdomain raises is a :class:`CSDomainError`. Subclasses also inherit
the builtin exception an application would catch for the same situation, so
``except ValueError`` keeps working around code that validates input with
csdomain. Messages name the object, the offending value and what would have
been accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "CSDomainError",
    "ConflictError",
    "InvalidTransitionError",
    "NotFoundError",
    "Problem",
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

    Carries every problem found, not only the first: ``problems`` is a tuple of
    :class:`Problem` ``(path, message)`` pairs, and ``subject`` names the kind
    of object that was being built or loaded.
    """

    def __init__(self, subject: str, problems: Iterable[tuple[str, str]]) -> None:
        self.subject = subject
        self.problems: tuple[Problem, ...] = tuple(Problem(p, m) for p, m in problems)
        if not self.problems:
            raise ValueError("ValidationError needs at least one problem")
        super().__init__(self._render())

    @classmethod
    def single(cls, subject: str, path: str, message: str) -> ValidationError:
        """Build an error with exactly one problem."""
        return cls(subject, [(path, message)])

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths of every problem, in the order they were found."""
        return tuple(p.path for p in self.problems)

    def _render(self) -> str:
        lines = [f"{p.path}: {p.message}" if p.path else p.message for p in self.problems]
        if len(lines) == 1:
            return f"invalid {self.subject}: {lines[0]}"
        body = "\n".join(f"  - {line}" for line in lines)
        return f"invalid {self.subject} ({len(lines)} problems):\n{body}"

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, Sequence[tuple[str, str]]]]:
        return (type(self), (self.subject, [(p.path, p.message) for p in self.problems]))


class NotFoundError(CSDomainError, LookupError):
    """A record, channel or other named thing does not exist (here, for this tenant)."""

    def __init__(self, kind: str, key: str, hint: str = "") -> None:
        self.kind = kind
        self.key = key
        message = f"{kind} {key!r} not found"
        super().__init__(f"{message}; {hint}" if hint else message)

    def __reduce__(self) -> tuple[type[NotFoundError], tuple[str, str, str]]:
        hint = str(self).partition("; ")[2]
        return (type(self), (self.kind, self.key, hint))


class InvalidTransitionError(CSDomainError, ValueError):
    """An operation the current state of an aggregate does not allow.

    The message says which object, the state it is in, what was attempted and
    which moves are allowed from that state.
    """


class ConflictError(CSDomainError):
    """A save based on a stale version: someone else changed the record first."""
