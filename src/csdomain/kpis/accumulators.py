"""Mergeable KPI accumulators: ``add``, ``merge``, ``result`` and ``empty``.

Every accumulator folds items one at a time (``add``) or a batch at once
(``add_all``, the fast path: one tight loop), and two accumulators of the same
configuration combine with ``merge``, which returns a new accumulator and leaves
both inputs as they were. Shards computed anywhere (threads, processes, Dask
workers) therefore give the one-pass result: counts and means exactly (integer
sums, :class:`~fractions.Fraction` means), quantiles exactly as one sketch fed
every value would give them, which is within the sketch's relative accuracy of
the exact quantile (:class:`Quantiles`).

Accumulators are plain ``__slots__`` classes holding integers, lists and dicts,
so folding a million summaries stays a loop over attribute reads.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from fractions import Fraction
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol, TypeVar, runtime_checkable

from ddsketch import DDSketch, LogarithmicMapping

from csdomain._kernel.time import EPOCH, INSTANT_MIN, US, delta_us, to_epoch_us, zone_problem
from csdomain._kernel.time import zone as zone_info
from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError
from csdomain.kpis.summaries import TicketSummary
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.tracking import RevisitFigures, RevisitFiguresResult
from csdomain.sla import SlaMetric
from csdomain.surveys.questions import CesReporting, QuestionKind
from csdomain.surveys.scores import Score, ScoreTally

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

__all__ = [
    "RELATIVE_ACCURACY",
    "Accumulator",
    "Backlog",
    "ComplaintRate",
    "Count",
    "FcrResult",
    "FirstContactResolution",
    "Mean",
    "Proportion",
    "Quantiles",
    "ReopenRate",
    "ResponseTime",
    "ResponseTimeResult",
    "RevisitCompletion",
    "Satisfaction",
    "SlaCompliance",
    "Volume",
    "VolumeResult",
]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
T = TypeVar("T")

#: The relative accuracy of every quantile sketch: an estimated quantile is within 1 % of
#: the exact one (see :class:`Quantiles` for which exact quantile).
RELATIVE_ACCURACY: Final = 0.01


@runtime_checkable
class Accumulator(Protocol[In, Out]):
    """What every KPI accumulator offers.

    ``add(item)`` folds one item in; ``add_all(items)`` folds many (same result,
    faster); ``merge(other)`` returns a NEW accumulator holding both (neither input
    changes; ``other`` must have the same configuration); ``result()`` reads the
    figure; ``empty()`` returns a new accumulator of the same configuration holding
    nothing, an identity for ``merge``.
    """

    def add(self, item: In, /) -> None:
        """Fold one item in."""

    def add_all(self, items: Iterable[In], /) -> None:
        """Fold every item of ``items`` in, as ``add`` would one by one."""

    def merge(self, other: Self, /) -> Self:
        """A new accumulator holding what this one and ``other`` hold."""

    def result(self) -> Out:
        """The figure so far."""

    def empty(self) -> Self:
        """A new accumulator of the same configuration holding nothing."""


def _merge_check(owner: object, other: object) -> None:
    if type(other) is not type(owner) or other.config() != owner.config():  # type: ignore[attr-defined]
        raise ValidationError.single(
            f"{type(owner).__name__}.merge",
            "other",
            f"can only merge a {type(owner).__name__} of the same configuration "
            f"{owner.config()!r}, got {describe(other)}"  # type: ignore[attr-defined]
            + (
                f" configured {other.config()!r}"  # type: ignore[attr-defined]
                if type(other) is type(owner)
                else ""
            ),
        )


# -- results ---------------------------------------------------------------------------


class Proportion(NamedTuple):
    """``successes`` out of ``n``; ``value`` is the exact share (None when ``n`` is 0)."""

    successes: int
    n: int

    @property
    def value(self) -> Fraction | None:
        """``successes / n`` exactly, or None without observations."""
        return Fraction(self.successes, self.n) if self.n else None


class FcrResult(NamedTuple):
    """First contact resolution: ``successes`` of the ``n`` decided tickets; ``pending``
    tickets were left out because their window had not ended at ``as_of``."""

    successes: int
    n: int
    pending: int

    @property
    def value(self) -> Fraction | None:
        """The FCR rate exactly, or None without decided tickets."""
        return Fraction(self.successes, self.n) if self.n else None


class ResponseTimeResult(NamedTuple):
    """A duration KPI: ``n`` values, their exact mean and sketched median and p90, all in
    microseconds (the median and p90 within ``relative_accuracy`` of the exact ones).
    """

    n: int
    mean_us: Fraction | None
    median_us: float | None
    p90_us: float | None
    relative_accuracy: float = RELATIVE_ACCURACY

    @property
    def mean(self) -> timedelta | None:
        """The mean as a timedelta, rounded to the microsecond."""
        return None if self.mean_us is None else timedelta(microseconds=round(self.mean_us))


class VolumeResult(NamedTuple):
    """Tickets counted: ``total`` and the count per cell of ``by`` (keys are tuples of
    text in the order of ``by``: channel key, kind value, period label)."""

    total: int
    by: tuple[str, ...]
    cells: Mapping[tuple[str, ...], int]


# -- exact building blocks -------------------------------------------------------------


class Count:
    """How many items were added."""

    __slots__ = ("n",)

    def __init__(self, n: int = 0) -> None:
        self.n = n

    def config(self) -> tuple[()]:
        """The configuration two mergeable counts share (none)."""
        return ()

    def add(self, item: object, /) -> None:
        """Count one item."""
        self.n += 1

    def add_all(self, items: Iterable[object], /) -> None:
        """Count every item."""
        if isinstance(items, (list, tuple)):
            self.n += len(items)
        else:
            self.n += sum(1 for _ in items)

    def merge(self, other: Count, /) -> Count:
        """A new count of both."""
        _merge_check(self, other)
        return Count(self.n + other.n)

    def result(self) -> int:
        """The count."""
        return self.n

    def empty(self) -> Count:
        """A new zero count."""
        return Count()


def _integer_problem(value: object) -> str | None:
    if type(value) is not int:
        return f"expected an integer (microseconds), got {describe(value)}"
    if value < 0:
        return f"expected zero or more, got {value}"
    return None


class Mean:
    """The exact mean of non-negative integers (durations in microseconds): an integer sum
    and a count, read as a :class:`~fractions.Fraction` (None when empty)."""

    __slots__ = ("count", "total")

    def __init__(self, total: int = 0, count: int = 0) -> None:
        self.total = total
        self.count = count

    def config(self) -> tuple[()]:
        """The configuration two mergeable means share (none)."""
        return ()

    def add(self, value: int, /) -> None:
        """Add one value; a non-integer or negative value is refused and nothing changes."""
        if type(value) is not int or value < 0:
            raise ValidationError.single("Mean.add", "value", _integer_problem(value) or "")
        self.total += value
        self.count += 1

    def add_all(self, values: Iterable[int], /) -> None:
        """Add every value; if any is refused, none is added."""
        batch = values if isinstance(values, list) else list(values)
        for i, value in enumerate(batch):
            if type(value) is not int or value < 0:
                raise ValidationError.single(
                    "Mean.add_all", f"values[{i}]", _integer_problem(value) or ""
                )
        self.total += sum(batch)
        self.count += len(batch)

    def merge(self, other: Mean, /) -> Mean:
        """A new mean of both."""
        _merge_check(self, other)
        return Mean(self.total + other.total, self.count + other.count)

    def result(self) -> Fraction | None:
        """The exact mean, or None without values."""
        return Fraction(self.total, self.count) if self.count else None

    def empty(self) -> Mean:
        """A new empty mean."""
        return Mean()


# Values are buffered and folded into the sketch a sorted batch at a time: DDSketch.add
# costs about a microsecond per value in pure Python; a sorted batch needs one key
# computation per sketch bin boundary (bisect on the mapping's own key function), so the
# sketch's bins come out exactly as adding each value would make them.
_FLUSH_AT: Final = 65_536


class Quantiles:
    """Quantiles of non-negative numbers from DataDog's DDSketch
    (``DDSketch(relative_accuracy=0.01)``; unbounded dense store, so no bin collapses).

    The bound: for ``0 <= q <= 1`` and ``n`` values, :meth:`quantile` returns a value
    within 1 % (:data:`RELATIVE_ACCURACY`) of ``x[floor(q * (n - 1))]``, the exact lower
    ``q``-quantile of the sorted values ``x`` (``x[0]`` the smallest); values at or
    near zero (below the sketch's smallest bin) are kept exactly as 0. Merging adds
    bin counts, so a merged sketch equals the one-pass sketch bin for bin and its
    quantiles equal the one-pass quantiles exactly, however the values were split.
    """

    __slots__ = ("_pending", "_sketch", "count")

    def __init__(self) -> None:
        self._sketch = DDSketch(RELATIVE_ACCURACY)
        self._pending: list[int | float] = []
        self.count = 0

    def config(self) -> tuple[float]:
        """The configuration two mergeable sketches share: the relative accuracy."""
        return (RELATIVE_ACCURACY,)

    def add(self, value: float, /) -> None:
        """Add one value (zero or more); anything else is refused and nothing changes."""
        if not (type(value) is int or type(value) is float) or not value >= 0:
            raise ValidationError.single(
                "Quantiles.add",
                "value",
                f"expected a number zero or more (not NaN), got {describe(value)}",
            )
        pending = self._pending
        pending.append(value)
        self.count += 1
        if len(pending) >= _FLUSH_AT:
            self._flush()

    def add_all(self, values: Iterable[float], /) -> None:
        """Add every value; if any is refused, none is added."""
        batch = values if isinstance(values, list) else list(values)
        for i, value in enumerate(batch):
            if not (type(value) is int or type(value) is float) or not value >= 0:
                raise ValidationError.single(
                    "Quantiles.add_all",
                    f"values[{i}]",
                    f"expected a number zero or more (not NaN), got {describe(value)}",
                )
        self._pending.extend(batch)
        self.count += len(batch)
        if len(self._pending) >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        if pending:
            _fold_sorted(self._sketch, sorted(pending))
            pending.clear()

    def merge(self, other: Quantiles, /) -> Quantiles:
        """A new sketch holding both (the inputs' sketches are copied, not changed)."""
        _merge_check(self, other)
        merged = Quantiles()
        merged._sketch.merge(self._sketch)  # merging into an empty sketch copies it
        merged._sketch.merge(other._sketch)
        merged._pending = self._pending + other._pending
        merged.count = self.count + other.count
        if len(merged._pending) >= _FLUSH_AT:
            merged._flush()
        return merged

    def quantile(self, q: float) -> float | None:
        """The sketched ``q``-quantile (``0 <= q <= 1``), None without values."""
        if not (type(q) in (int, float) and 0 <= q <= 1):
            raise ValidationError.single(
                "Quantiles.quantile", "q", f"expected a number from 0 to 1, got {describe(q)}"
            )
        self._flush()  # folds the buffer in: what the sketch holds is unchanged
        found = self._sketch.get_quantile_value(q)
        return None if found is None else float(found)

    def result(self) -> tuple[float | None, float | None]:
        """The median and the 90th percentile."""
        return self.quantile(0.5), self.quantile(0.9)

    def empty(self) -> Quantiles:
        """A new empty sketch."""
        return Quantiles()


_MAPPING: Final = LogarithmicMapping(RELATIVE_ACCURACY)  # what DDSketch(0.01) maps with
_SMALLEST: Final = _MAPPING.min_possible


def _fold_sorted(sketch: DDSketch, values: list[int | float]) -> None:
    """Add sorted non-negative ``values`` to ``sketch``: one weighted add per run of
    values sharing a bin, each run found by bisecting on the mapping's key."""
    size = len(values)
    start = bisect_right(values, _SMALLEST)  # the sketch's zero bucket
    if start:
        sketch.add(values[0], float(start))
    key = _MAPPING.key
    while start < size:
        first = values[start]
        end = bisect_right(values, key(first), start, size, key=key)
        sketch.add(first, float(end - start))
        start = end


# -- ticket KPIs -----------------------------------------------------------------------


def _choice(owner: str, name: str, value: object, allowed: tuple[str, ...]) -> str:
    if type(value) is not str or value not in allowed:
        raise ValidationError.single(
            owner,
            name,
            f"expected one of {', '.join(repr(a) for a in allowed)}, got {describe(value)}",
        )
    return value


def _summaries(owner: str, items: Iterable[TicketSummary]) -> list[TicketSummary]:
    batch = items if isinstance(items, list) else list(items)
    for i, item in enumerate(batch):
        if type(item) is not TicketSummary:
            raise ValidationError.single(
                owner, f"items[{i}]", f"expected a TicketSummary, got {describe(item)}"
            )
    return batch


def _summary(owner: str, item: object) -> None:
    if type(item) is not TicketSummary:
        raise ValidationError.single(
            owner, "item", f"expected a TicketSummary, got {describe(item)}"
        )


_PERIODS: Final = ("month", "week", "day")
_DIMENSIONS: Final = ("channel", "kind", "priority", "group", "assignee", "period")


def _period_start(period: str, day: date) -> date:
    if period == "month":
        return day.replace(day=1)
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day


def _period_label(period: str, start: date) -> str:
    if period == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return start.isoformat()


class _LocalPeriods:
    """The local period (its first day) of UTC instants in one zone, remembered per UTC
    date: on a UTC date whose offset is the same at both ends, local time is the UTC
    time plus that offset, so the period changes at most once, at a local midnight
    found once; dates with an offset change (a DST switch) convert every instant.
    (tzdata has no UTC date with two changes that cancel out.)"""

    __slots__ = ("_days", "period", "zone")

    def __init__(self, period: str, zone: tzinfo) -> None:
        self.period = period
        self.zone = zone
        #: UTC date -> (period before, boundary or None, period from the boundary); None
        #: for a date with an offset change
        self._days: dict[date, tuple[date, datetime | None, date] | None] = {}

    def __call__(self, at: datetime) -> date:
        day = at.date()
        days = self._days
        if day in days:
            entry = days[day]
        else:
            entry = days[day] = self._learn(day)
        if entry is None:
            return _period_start(self.period, at.astimezone(self.zone).date())
        before, boundary, after = entry
        return before if boundary is None or at < boundary else after

    def _learn(self, day: date) -> tuple[date, datetime | None, date] | None:
        start = datetime(day.year, day.month, day.day, tzinfo=_UTC)
        try:
            last = start + _LAST_US_OF_DAY
            first_local, last_local = start.astimezone(self.zone), last.astimezone(self.zone)
        except OverflowError:  # at the ends of datetime's range: convert each instant
            return None
        offset = first_local.utcoffset()
        if offset != last_local.utcoffset() or offset is None:
            return None
        before = _period_start(self.period, first_local.date())
        after = _period_start(self.period, last_local.date())
        if before == after:
            return before, None, after
        # The period starts at local midnight of after's first day within this UTC date.
        midnight = datetime.combine(last_local.date(), datetime.min.time()) - offset
        return before, midnight.replace(tzinfo=_UTC), after


_EPOCH: Final = EPOCH
_US: Final = US
_UTC: Final = timezone.utc
_LAST_US_OF_DAY: Final = timedelta(days=1, microseconds=-1)


class Volume:
    """Tickets opened, counted per cell of ``by``: any of ``"channel"``, ``"kind"``,
    ``"priority"``, ``"group"``, ``"assignee"`` and ``"period"`` (the ``period``
    ``"month"``, ``"week"`` (ISO, Monday first) or ``"day"`` of ``opened_at`` on the
    wall clock of the IANA ``zone``). Cell keys are text: ``"2026-03"``, ``"2026-W09"``,
    ``"2026-03-05"`` for periods, ``"-"`` for no group or assignee."""

    __slots__ = ("_cells", "_key", "_zone", "by", "period", "total", "zone")

    def __init__(
        self,
        by: Iterable[str] = ("channel", "kind", "period"),
        *,
        period: str = "month",
        zone: str = "UTC",
    ) -> None:
        dims = tuple(by) if not isinstance(by, str) else (by,)
        for i, dim in enumerate(dims):
            _choice("Volume", f"by[{i}]", dim, _DIMENSIONS)
        if len(set(dims)) != len(dims):
            raise ValidationError.single("Volume", "by", f"names a dimension twice: {dims!r}")
        self.period = _choice("Volume", "period", period, _PERIODS)
        problem = zone_problem(zone)
        if problem is not None:
            raise ValidationError.single("Volume", "zone", problem)
        self.by = dims
        self.zone = zone
        self._zone = zone_info(zone)
        self._key = self._key_function()
        self._cells: dict[tuple[Any, ...], int] = {}
        self.total = 0

    def _key_function(self) -> Callable[[TicketSummary], tuple[Any, ...]]:
        # Raw keys while folding (the kind's value, the period's local date); text at result.
        parts = {
            "channel": "s.channel",
            "kind": "s.kind._value_",
            "priority": "s.priority._value_",
            "group": "s.group_id",
            "assignee": "s.assignee_id",
            "period": "period(s.opened_at)",
        }
        source = f"def key(s):\n    return ({''.join(parts[d] + ', ' for d in self.by)})\n"
        namespace: dict[str, Any] = {"period": _LocalPeriods(self.period, self._zone)}
        exec(source, namespace)  # our own source text: one tuple expression per `by`
        return namespace["key"]  # type: ignore[no-any-return]

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable volumes share."""
        return (self.by, self.period, self.zone)

    def __reduce__(self) -> tuple[object, ...]:
        # The key function is generated code: pickles carry the configuration and counts.
        return (_volume, (self.by, self.period, self.zone, self._cells, self.total))

    def add(self, item: TicketSummary, /) -> None:
        """Count one ticket."""
        _summary("Volume.add", item)
        cells = self._cells
        cell = self._key(item)
        cells[cell] = cells.get(cell, 0) + 1
        self.total += 1

    def add_all(self, items: Iterable[TicketSummary], /) -> None:
        """Count every ticket."""
        self._fold(_summaries("Volume.add_all", items))

    def _fold(self, batch: list[TicketSummary]) -> None:
        cells = self._cells
        get = cells.get
        for cell in map(self._key, batch):
            cells[cell] = get(cell, 0) + 1
        self.total += len(batch)

    def merge(self, other: Volume, /) -> Volume:
        """A new volume of both."""
        _merge_check(self, other)
        merged = self.empty()
        cells = dict(self._cells)
        for cell, n in other._cells.items():
            cells[cell] = cells.get(cell, 0) + n
        merged._cells = cells
        merged.total = self.total + other.total
        return merged

    def result(self) -> VolumeResult:
        """The total and the count per cell, cells keyed by text (sorted)."""
        if "period" not in self.by:
            cells = {tuple("-" if v is None else v for v in k): n for k, n in self._cells.items()}
        else:
            at = self.by.index("period")
            labels: dict[date, str] = {}
            cells = {}
            for k, n in self._cells.items():
                start = k[at]
                label = labels.get(start)
                if label is None:
                    label = labels[start] = _period_label(self.period, start)
                text = tuple(label if i == at else "-" if v is None else v for i, v in enumerate(k))
                cells[text] = cells.get(text, 0) + n
        return VolumeResult(self.total, self.by, dict(sorted(cells.items())))

    def empty(self) -> Volume:
        """A new empty volume of the same configuration."""
        return Volume(self.by, period=self.period, zone=self.zone)


def _volume(
    by: tuple[str, ...], period: str, zone: str, cells: dict[tuple[Any, ...], int], total: int
) -> Volume:
    """A volume rebuilt from a pickle."""
    volume = Volume(by, period=period, zone=zone)
    volume._cells = dict(cells)
    volume.total = total
    return volume


_SCOPES: Final = ("customer", "ticket")


class FirstContactResolution:
    """First contact resolution (FCR) over tickets solved at least once.

    A ticket counts as resolved at first contact when it was solved and not
    reopened within ``window`` (default 7 days) of its first solve; with
    ``scope="customer"`` (the default) also no other ticket of the same customer
    was opened from this ticket's opening to the end of that window (a repeat
    contact about anything, the strict definition). ``scope="ticket"`` looks at
    the ticket alone.

    With ``as_of``, a ticket whose window ends after ``as_of`` is not decided yet:
    it is counted in ``pending``, not in ``n``. Without it every solved ticket is
    decided on what the summaries say.

    Customer scope needs all of a customer's tickets: it keeps three integers per
    ticket, per customer, and decides at :meth:`result`; merging joins them per
    customer, so shards may split a customer's tickets in any way.
    """

    __slots__ = (
        "_limit_us",
        "_tickets",
        "_window_us",
        "as_of",
        "n",
        "pending",
        "scope",
        "successes",
        "window",
    )

    def __init__(
        self,
        window: timedelta = timedelta(days=7),
        *,
        scope: str = "customer",
        as_of: datetime | None = None,
    ) -> None:
        if type(window) is not timedelta or window < timedelta(0):
            raise ValidationError.single(
                "FirstContactResolution",
                "window",
                f"expected a timedelta of zero or more, got {describe(window)}",
            )
        self.scope = _choice("FirstContactResolution", "scope", scope, _SCOPES)
        if as_of is not None and not (
            isinstance(as_of, datetime) and as_of.utcoffset() is not None
        ):
            raise ValidationError.single(
                "FirstContactResolution",
                "as_of",
                f"expected an aware datetime or None, got {describe(as_of)}",
            )
        self.window = window
        self.as_of = as_of
        self._window_us = delta_us(window)
        self._limit_us = None if as_of is None else to_epoch_us(as_of)
        #: Decided so far: all of them in ticket scope; in customer scope, ``successes``
        #: counts nothing until :meth:`result` looks at the other tickets.
        self.successes = 0
        self.n = 0
        self.pending = 0
        #: customer scope: customer -> flat triples per ticket (opened, window end, 1 if
        #: not reopened within the window else 0), epoch us; end and flag -1 for a ticket
        #: not decided (unsolved or pending). Ints only: nothing for the collector to scan.
        self._tickets: dict[str, list[int]] = {}

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable FCR accumulators share."""
        return (self.window, self.scope, self.as_of)

    def add(self, item: TicketSummary, /) -> None:
        """Fold one ticket in."""
        _summary("FirstContactResolution.add", item)
        self._fold((item,))

    def add_all(self, items: Iterable[TicketSummary], /) -> None:
        """Fold every ticket in."""
        self._fold(_summaries("FirstContactResolution.add_all", items))

    def _fold(self, batch: Iterable[TicketSummary]) -> None:
        window, window_us, limit = self.window, self._window_us, self._limit_us
        n = pending = successes = 0
        if self.scope == "ticket":
            for s in batch:
                to_solve = s.first_resolution_us
                if to_solve is None:
                    continue
                if limit is not None:
                    delta = s.opened_at - _EPOCH
                    opened = (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds
                    if opened + to_solve + window_us > limit:
                        pending += 1
                        continue
                n += 1
                reopened = s.reopened_at
                if not reopened or reopened[0] > s.solved_at[0] + window:
                    successes += 1
            self.successes += successes
        else:
            tickets_by = self._tickets
            for s in batch:
                customer = s.customer_id
                delta = s.opened_at - _EPOCH
                opened = (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds
                to_solve = s.first_resolution_us
                if to_solve is None:
                    end = kept = -1  # not solved: only an opening other tickets may repeat
                else:
                    end = opened + to_solve + window_us
                    if limit is not None and end > limit:
                        pending += 1
                        end = kept = -1
                    else:
                        n += 1
                        reopened = s.reopened_at
                        kept = 1 if not reopened or reopened[0] > s.solved_at[0] + window else 0
                listed = tickets_by.get(customer)
                if listed is None:
                    tickets_by[customer] = [opened, end, kept]
                else:
                    listed += (opened, end, kept)
        self.n += n
        self.pending += pending

    def merge(self, other: FirstContactResolution, /) -> FirstContactResolution:
        """A new accumulator holding both, joined per customer."""
        _merge_check(self, other)
        merged = self.empty()
        merged.successes = self.successes + other.successes
        merged.n = self.n + other.n
        merged.pending = self.pending + other.pending
        merged._tickets = _joined(self._tickets, other._tickets)
        return merged

    def result(self) -> FcrResult:
        """The FCR count, the decided tickets and the pending ones."""
        successes = self.successes
        for records in self._tickets.values():
            if len(records) == 3:  # one ticket: no repeat contact possible
                successes += records[2] == 1
                continue
            opened = sorted(records[0::3])
            for i in range(0, len(records), 3):
                start, end, kept = records[i], records[i + 1], records[i + 2]
                # This ticket is among the openings in [start, end]: any more is a repeat.
                if kept == 1 and bisect_right(opened, end) - bisect_left(opened, start) == 1:
                    successes += 1
        return FcrResult(successes, self.n, self.pending)

    def empty(self) -> FirstContactResolution:
        """A new empty accumulator of the same configuration."""
        return FirstContactResolution(self.window, scope=self.scope, as_of=self.as_of)


def _joined(mine: dict[str, list[T]], theirs: dict[str, list[T]]) -> dict[str, list[T]]:
    """New lists per key: ``mine``'s followed by ``theirs``' (neither input changes)."""
    joined = {key: values[:] for key, values in mine.items()}
    for key, values in theirs.items():
        present = joined.get(key)
        joined[key] = values[:] if present is None else present + values
    return joined


_METRICS: Final = ("first_response", "resolution", "full_resolution", "handle")
_BASES: Final = ("business", "calendar")
_FIELDS: Final = {
    ("first_response", "calendar"): "first_response_us",
    ("first_response", "business"): "first_response_business_us",
    ("resolution", "calendar"): "first_resolution_us",
    ("resolution", "business"): "first_resolution_business_us",
    ("full_resolution", "calendar"): "full_resolution_us",
    ("full_resolution", "business"): "full_resolution_business_us",
    ("handle", "calendar"): "handle_us",
}


class ResponseTime:
    """A duration KPI over tickets: ``metric`` ``"first_response"`` (opening to the first
    public agent reply), ``"resolution"`` (to the first solve), ``"full_resolution"``
    (to the last solve, resolved tickets only) or ``"handle"`` (agent handle time the
    messages record); ``basis`` ``"business"`` (open time of the desk calendar the
    summaries were built with) or ``"calendar"`` (elapsed time; the only basis of
    ``"handle"``). Tickets without the value (not answered yet, no calendar) are
    left out and not counted in ``n``.

    The mean is exact (:class:`Mean`); the median and p90 come from :class:`Quantiles`
    (within 1 % of the exact lower quantiles).
    """

    __slots__ = ("_get", "_mean", "_quantiles", "basis", "field", "metric")

    def __init__(self, metric: str = "first_response", *, basis: str = "business") -> None:
        self.metric = _choice("ResponseTime", "metric", metric, _METRICS)
        self.basis = _choice("ResponseTime", "basis", basis, _BASES)
        field = _FIELDS.get((metric, basis))
        if field is None:
            raise ValidationError.single(
                "ResponseTime",
                "basis",
                "handle time is agent time as the channel records it: basis 'calendar' only, "
                f"got {basis!r}",
            )
        self.field = field
        self._get = attrgetter(field)
        self._mean = Mean()
        self._quantiles = Quantiles()

    def config(self) -> tuple[str, str]:
        """The configuration two mergeable response-time accumulators share."""
        return (self.metric, self.basis)

    def add(self, item: TicketSummary, /) -> None:
        """Fold one ticket in."""
        _summary("ResponseTime.add", item)
        value = self._get(item)
        if value is not None:
            mean = self._mean
            mean.total += value
            mean.count += 1
            self._quantiles.add(value)

    def add_all(self, items: Iterable[TicketSummary], /) -> None:
        """Fold every ticket in."""
        self._fold(_summaries("ResponseTime.add_all", items))

    def _fold(self, batch: list[TicketSummary]) -> None:
        values = [v for v in map(self._get, batch) if v is not None]
        mean = self._mean
        mean.total += sum(values)
        mean.count += len(values)
        quantiles = self._quantiles
        quantiles._pending.extend(values)  # summaries hold checked non-negative integers
        quantiles.count += len(values)
        if len(quantiles._pending) >= _FLUSH_AT:
            quantiles._flush()

    def merge(self, other: ResponseTime, /) -> ResponseTime:
        """A new accumulator holding both."""
        _merge_check(self, other)
        merged = ResponseTime(self.metric, basis=self.basis)
        merged._mean = self._mean.merge(other._mean)
        merged._quantiles = self._quantiles.merge(other._quantiles)
        return merged

    def quantile(self, q: float) -> float | None:
        """The sketched ``q``-quantile in microseconds (None without values)."""
        return self._quantiles.quantile(q)

    def result(self) -> ResponseTimeResult:
        """n, the exact mean, the median and the p90, in microseconds."""
        median, p90 = self._quantiles.result()
        return ResponseTimeResult(self._mean.count, self._mean.result(), median, p90)

    def empty(self) -> ResponseTime:
        """A new empty accumulator of the same configuration."""
        return ResponseTime(self.metric, basis=self.basis)


class _Ratio:
    """Shared by the rate KPIs: ``successes`` of ``n`` as a :class:`Proportion`."""

    __slots__ = ("n", "successes")

    def __init__(self) -> None:
        self.successes = 0
        self.n = 0

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable accumulators share."""
        return ()

    def add(self, item: TicketSummary, /) -> None:
        """Fold one ticket in."""
        _summary(f"{type(self).__name__}.add", item)
        self._fold((item,))

    def add_all(self, items: Iterable[TicketSummary], /) -> None:
        """Fold every ticket in."""
        self._fold(_summaries(f"{type(self).__name__}.add_all", items))

    def _fold(self, batch: Iterable[TicketSummary]) -> None:
        raise NotImplementedError

    def merge(self, other: Self, /) -> Self:
        """A new accumulator holding both."""
        _merge_check(self, other)
        merged = self.empty()
        merged.successes = self.successes + other.successes
        merged.n = self.n + other.n
        return merged

    def result(self) -> Proportion:
        """The count of successes and of observations."""
        return Proportion(self.successes, self.n)

    def empty(self) -> Self:
        """A new empty accumulator of the same configuration."""
        raise NotImplementedError


class ReopenRate(_Ratio):
    """The share of tickets solved at least once that were reopened at least once."""

    __slots__ = ()

    def _fold(self, batch: Iterable[TicketSummary]) -> None:
        successes = n = 0
        for s in batch:
            if s.solved_at:
                n += 1
                if s.reopened_at:
                    successes += 1
        self.successes += successes
        self.n += n

    def empty(self) -> ReopenRate:
        """A new empty reopen rate."""
        return ReopenRate()


class ComplaintRate(_Ratio):
    """The share of tickets that are complaints (kind complaint, 投诉)."""

    __slots__ = ()

    def _fold(self, batch: Iterable[TicketSummary]) -> None:
        items = batch if isinstance(batch, (list, tuple)) else list(batch)
        self.successes += sum(1 for s in items if s.complaint)
        self.n += len(items)

    def empty(self) -> ComplaintRate:
        """A new empty complaint rate."""
        return ComplaintRate()


class SlaCompliance(_Ratio):
    """The share of tickets that met the SLA ``metric``, among those where it is decided
    (achieved or breached); tickets whose metric is still running, paused or
    cancelled, or not measured, are left out."""

    __slots__ = ("metric",)

    def __init__(self, metric: SlaMetric | str = SlaMetric.FIRST_RESPONSE) -> None:
        super().__init__()
        try:
            self.metric = metric if type(metric) is SlaMetric else SlaMetric(metric)
        except ValueError:
            raise ValidationError.single(
                "SlaCompliance",
                "metric",
                f"expected an SLA metric ({', '.join(m.value for m in SlaMetric)}), "
                f"got {describe(metric)}",
            ) from None

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable accumulators share: the metric."""
        return (self.metric,)

    def _fold(self, batch: Iterable[TicketSummary]) -> None:
        metric = self.metric
        successes = n = 0
        for s in batch:
            for measured, met in s.sla:
                if measured is metric and met is not None:
                    n += 1
                    if met:
                        successes += 1
        self.successes += successes
        self.n += n

    def empty(self) -> SlaCompliance:
        """A new empty accumulator for the same metric."""
        return SlaCompliance(self.metric)


class Backlog:
    """Tickets open at ``at``: opened at or before it, not closed by then, and not
    resolved then (solved and not reopened since, as the summary's ``solved_at`` and
    ``reopened_at`` say: a ticket solved, reopened and solved again is open between
    the reopen and the second solve only). With ``at`` None: tickets unresolved in
    their final state (the backlog as of the export)."""

    __slots__ = ("at", "n")

    def __init__(self, at: datetime | None = None) -> None:
        if at is not None and not (isinstance(at, datetime) and at.utcoffset() is not None):
            raise ValidationError.single(
                "Backlog", "at", f"expected an aware datetime or None, got {describe(at)}"
            )
        self.at = at
        self.n = 0

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable backlogs share: the instant."""
        return (self.at,)

    def add(self, item: TicketSummary, /) -> None:
        """Fold one ticket in."""
        _summary("Backlog.add", item)
        self._fold((item,))

    def add_all(self, items: Iterable[TicketSummary], /) -> None:
        """Fold every ticket in."""
        self._fold(_summaries("Backlog.add_all", items))

    def _fold(self, batch: Iterable[TicketSummary]) -> None:
        at = self.at
        n = 0
        if at is None:
            for s in batch:
                if s.resolved_at is None and s.closed_at is None:
                    n += 1
        else:
            for s in batch:
                if s.opened_at <= at and (s.closed_at is None or s.closed_at > at):
                    solved = s.solved_at
                    if not solved or solved[0] > at or (s.reopened_at and not s.resolved_by(at)):
                        n += 1
        self.n += n

    def merge(self, other: Backlog, /) -> Backlog:
        """A new backlog of both."""
        _merge_check(self, other)
        merged = Backlog(self.at)
        merged.n = self.n + other.n
        return merged

    def result(self) -> int:
        """How many tickets are open."""
        return self.n

    def empty(self) -> Backlog:
        """A new empty backlog at the same instant."""
        return Backlog(self.at)


class _Answers(Protocol):
    """What :class:`Satisfaction` reads of a survey response."""

    @property
    def csat(self) -> int | None: ...
    @property
    def nps(self) -> int | None: ...
    @property
    def ces(self) -> int | None: ...


class Satisfaction:
    """A survey score (``kind`` CSAT, NPS or CES) over survey responses, wrapping
    :class:`~csdomain.surveys.scores.ScoreTally` (counts per answer value, so merging
    is exact). A response without an answer of ``kind`` is left out. The result is
    the tally's :class:`~csdomain.surveys.scores.Score` (CES as the mean unless
    ``reporting`` says the share of 5-7)."""

    __slots__ = ("_tally", "kind", "reporting")

    def __init__(
        self, kind: QuestionKind = QuestionKind.CSAT, *, reporting: CesReporting = CesReporting.MEAN
    ) -> None:
        self._tally = ScoreTally(kind)  # refuses a kind that is not a score
        self.kind = kind
        if not isinstance(reporting, CesReporting):
            raise ValidationError.single(
                "Satisfaction",
                "reporting",
                f"expected a CesReporting ({', '.join(r.value for r in CesReporting)}), "
                f"got {describe(reporting)}",
            )
        self.reporting = reporting

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable satisfaction accumulators share."""
        return (self.kind, self.reporting)

    def add(self, item: _Answers, /) -> None:
        """Count the response's answer of ``kind``, if it has one."""
        value = getattr(item, self.kind.value, None)
        if value is not None:
            self._tally.add(value)

    def add_all(self, items: Iterable[_Answers], /) -> None:
        """Count every response's answer of ``kind``."""
        for item in items:
            self.add(item)

    def merge(self, other: Satisfaction, /) -> Satisfaction:
        """A new accumulator holding both tallies."""
        _merge_check(self, other)
        merged = self.empty()
        merged._tally = self._tally.merge(other._tally)
        return merged

    @property
    def tally(self) -> ScoreTally:
        """A copy of the counts per answer value."""
        return self._tally.merge(ScoreTally(self.kind))

    def result(self) -> Score:
        """The score with its n, interval and small-sample flag."""
        return self._tally.score(reporting=self.reporting)

    def empty(self) -> Satisfaction:
        """A new empty accumulator of the same kind."""
        return Satisfaction(self.kind, reporting=self.reporting)


class RevisitCompletion:
    """Revisit (回访) figures over revisit tasks, wrapping
    :class:`~csdomain.revisits.tracking.RevisitFigures`: the completion rate done /
    (done + missed + overdue at ``now``), the overdue count and the reach rates. With
    ``now`` None no task counts as overdue (the completion rate of the tasks that
    ended)."""

    __slots__ = ("_figures", "now")

    def __init__(self, now: datetime | None = None) -> None:
        if now is not None and not (isinstance(now, datetime) and now.utcoffset() is not None):
            raise ValidationError.single(
                "RevisitCompletion",
                "now",
                f"expected an aware datetime or None, got {describe(now)}",
            )
        self.now = now
        self._figures = RevisitFigures()

    def config(self) -> tuple[object, ...]:
        """The configuration two mergeable accumulators share: the instant."""
        return (self.now,)

    def add(self, item: RevisitTask, /) -> None:
        """Fold one task in."""
        self._figures.add(item)

    def add_all(self, items: Iterable[RevisitTask], /) -> None:
        """Fold every task in."""
        self._figures.add_all(items)

    def merge(self, other: RevisitCompletion, /) -> RevisitCompletion:
        """A new accumulator holding the tasks of both."""
        _merge_check(self, other)
        merged = RevisitCompletion(self.now)
        merged._figures = self._figures.merge(other._figures)
        return merged

    def result(self) -> RevisitFiguresResult:
        """The figures at ``now`` (at the start of the accepted instants when None)."""
        return self._figures.result(INSTANT_MIN if self.now is None else self.now)

    def empty(self) -> RevisitCompletion:
        """A new empty accumulator at the same instant."""
        return RevisitCompletion(self.now)
