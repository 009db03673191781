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

import operator
import random
import string
from collections.abc import Callable, Container, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import DrawFn, SearchStrategy

from csdomain._kernel.time import zone
from csdomain._kernel.validation import JsonScalar
from csdomain.calendars import (
    BusinessCalendar,
    CalendarUnion,
    ExtraWorkday,
    Holiday,
    TimeRange,
)
from csdomain.channels import (
    BUILTIN_CHANNELS,
    Channel,
    ChannelDirectory,
    ChannelKind,
    ChannelTraits,
)
from csdomain.clock import FrozenClock
from csdomain.conditions import (
    ALWAYS,
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
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier, Purchase
from csdomain.errors import (
    ConflictError,
    CSDomainError,
    InvalidTransitionError,
    NotFoundError,
    Problem,
    ValidationError,
)
from csdomain.ids import PREFIXES, IdGenerator, SequentialIds, UlidIds
from csdomain.people import (
    Agent,
    AgentGrade,
    EscalationLadder,
    EscalationTier,
    Group,
    Presence,
    Role,
)
from csdomain.priorities import Impact, Priority, PriorityMatrix, Urgency
from csdomain.sla import (
    Metric,
    MetricPolicy,
    OnPriorityChange,
    OnReopen,
    SlaPolicy,
    SlaState,
    Target,
)
from csdomain.tickets import (
    EVENT_TYPES,
    TRANSITIONS,
    Actor,
    ActorKind,
    Assigned,
    CustomFieldsChanged,
    Linked,
    LinkKind,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    TagsChanged,
    Ticket,
    TicketCreated,
    TicketEvent,
    TicketKind,
    TicketLink,
    TierChanged,
    Visibility,
)

__all__ = [
    "actor_kinds",
    "actors",
    "agent_grades",
    "agents",
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
    "customer_tiers",
    "customers",
    "errors",
    "escalation_ladders",
    "escalation_tiers",
    "extra_workdays",
    "frozen_clocks",
    "groups",
    "holidays",
    "id_generators",
    "ids",
    "impacts",
    "json_scalars",
    "keys",
    "link_kinds",
    "locales",
    "metric_policies",
    "presences",
    "priorities",
    "priority_change_rules",
    "priority_matrices",
    "problems",
    "purchases",
    "reopen_rules",
    "roles",
    "sla_metrics",
    "sla_policies",
    "sla_states",
    "sla_targets",
    "statuses",
    "texts",
    "ticket_events",
    "ticket_kinds",
    "ticket_links",
    "tickets",
    "time_ranges",
    "timezone_names",
    "urgencies",
    "validation_errors",
    "visibilities",
]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

UTC = timezone.utc
_DEFAULT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
_DEFAULT_MAX = datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
_DEFAULT_BOUNDS = (_DEFAULT_MIN.replace(tzinfo=None), _DEFAULT_MAX.replace(tzinfo=None))

#: IANA zones worth testing: UTC+8 without DST, US and European DST, half-hour
#: DST (Lord Howe), negative DST (Dublin), +13:45/+14 and -12 extremes.
_ZONE_NAMES: tuple[str, ...] = (
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Europe/Berlin",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Africa/Casablanca",
    "Etc/GMT+12",
)

_FIXED_OFFSETS: tuple[tzinfo, ...] = (
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=5, minutes=45)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
)

_LOCALES: tuple[str, ...] = (
    "en",
    "zh_CN",
    "zh_TW",
    "zh_Hant_HK",
    "zh",
    "zh_Hans_SG",
    "en_US",
    "en_GB",
    "ja",
    "ko",
    "fr",
    "de_DE",
    "es_419",
    "pt_BR",
    "ar",
    "ru",
    "vi",
    "th",
)

_COMMON_CURRENCIES: tuple[str, ...] = ("CNY", "USD", "EUR", "JPY", "HKD", "TWD", "GBP", "KRW")

#: Multi-character fragments mixed into generated text.
_FLAVOUR: tuple[str, ...] = (
    "您好",
    "工单",
    "投诉",
    "售后",
    "退款",
    "請問",
    "退貨",
    "謝謝",
    "こんにちは",
    "😀",
    "🎉",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇨🇳",
    '"',
    "'",
    "“”",
    "‘’",
    "「」",
    "<b>&amp;</b>",
    "\\",
    " ",
    "\n",
    "\t",
    "\u3000",
    "\u200b",
    "e\u0301",
)

_KEY_HEAD = string.ascii_letters + string.digits
_KEY_TAIL = _KEY_HEAD + "_.:-"
_KEY_EXAMPLES: tuple[str, ...] = (
    "vip",
    "refund",
    "billing",
    "L2",
    "zh-CN",
    "sla:gold",
    "order.delayed",
    "after_sales",
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TIERS: tuple[str, ...] = ("L1", "L2", "L3")
_BUILTIN_KEYS: tuple[str, ...] = tuple(kind.value for kind in ChannelKind)
_EVENT_TYPES: tuple[type[TicketEvent], ...] = tuple(EVENT_TYPES.values())


#: Memoizes the private strategy builders (bounded: some take users' strategies as keys).
_memo = lru_cache(maxsize=256)


# -- argument checks ------------------------------------------------------------


def _check_size(name: str, value: object, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise InvalidArgument(f"{name}={value!r} must be at least {minimum}{upper}")
    return value


def _check_range(lo_name: str, lo: int, hi_name: str, hi: int) -> None:
    if lo > hi:
        raise InvalidArgument(f"{lo_name}={lo!r} must not exceed {hi_name}={hi!r}")


def _check_aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(f"{name}={value!r} must be a timezone-aware datetime")
    return value


def _check_strategy(name: str, value: object) -> None:
    if value is not None and not isinstance(value, SearchStrategy):
        raise InvalidArgument(f"{name}={value!r} must be a SearchStrategy or None")


def _members(enum: type[E], name: str, given: Iterable[E] | None) -> tuple[E, ...]:
    if given is None:
        return tuple(enum)
    chosen = tuple(given)
    if not chosen or not all(isinstance(m, enum) for m in chosen):
        raise InvalidArgument(f"{name}={given!r} must be a non-empty collection of {enum.__name__}")
    return chosen


# -- primitives -----------------------------------------------------------------
#
# Strategies are immutable, and Hypothesis validates each strategy object the
# first time it draws from it; building them once (the cached ``_...``
# builders below) rather than on every draw keeps generation fast.


@_memo
def _zone_names() -> SearchStrategy[str]:
    return st.sampled_from(_ZONE_NAMES)


def timezone_names() -> SearchStrategy[str]:
    """IANA zone names that zoneinfo knows: a representative set including
    ``UTC``, ``Asia/Shanghai``, ``America/New_York``, ``Europe/London`` and
    ``Australia/Lord_Howe`` (half-hour DST).

    Requires Hypothesis.
    """
    return _zone_names()


@_memo
def _zones() -> SearchStrategy[tzinfo]:
    named: list[tzinfo] = [zone(name) for name in _ZONE_NAMES]
    return st.sampled_from((*named, *_FIXED_OFFSETS))


def aware_datetimes(
    *,
    min_value: datetime = _DEFAULT_MIN,
    max_value: datetime = _DEFAULT_MAX,
    timezones: SearchStrategy[tzinfo] | None = None,
) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes whose instant lies in ``[min_value, max_value]``.

    The bounds are aware datetimes (compared as instants; default 2000-01-01
    to 2099-12-31 UTC). Each value is expressed in a zone drawn from
    ``timezones`` (default: IANA zones such as ``Asia/Shanghai``,
    ``America/New_York``, ``Europe/London``, ``Australia/Lord_Howe`` and
    ``UTC``, plus fixed offsets such as +05:45 and -09:30). Values are real
    instants, never in a DST gap.

    Requires Hypothesis.
    """
    lo = _check_aware("min_value", min_value).astimezone(UTC)
    hi = _check_aware("max_value", max_value).astimezone(UTC)
    if lo > hi:
        raise InvalidArgument(f"min_value={min_value!r} must not be after max_value={max_value!r}")
    _check_strategy("timezones", timezones)
    return _aware_datetimes(
        lo.replace(tzinfo=None),
        hi.replace(tzinfo=None),
        _zones() if timezones is None else timezones,
    )


@_memo
def _aware_datetimes(
    lo: datetime, hi: datetime, zones: SearchStrategy[tzinfo]
) -> SearchStrategy[datetime]:
    return st.builds(_in_zone, st.datetimes(min_value=lo, max_value=hi), zones)


def _in_zone(naive_utc: datetime, tz: tzinfo) -> datetime:
    instant = naive_utc.replace(tzinfo=UTC)
    try:
        local = instant.astimezone(tz)
    except (OverflowError, ValueError):  # the local date would leave datetime's range
        return instant
    if local.utcoffset() is None:
        raise InvalidArgument(f"timezones produced {tz!r}, which gives no UTC offset")
    return local


@_memo
def _not_blank_char() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from("工单好😀AZaz09?!"),
        st.characters(codec="utf-8", exclude_characters="\x00"),
    ).filter(lambda c: not c.isspace())


@_memo
def _text_pieces() -> SearchStrategy[str]:
    return st.one_of(
        st.characters(codec="utf-8", exclude_characters="\x00"),
        st.sampled_from(_FLAVOUR),
    )


def texts(*, max_size: int = 80) -> SearchStrategy[str]:
    """Non-blank text without NUL, at most ``max_size`` characters.

    Mixes ASCII, CJK, emoji (with ZWJ sequences), quotes, markup, combining
    marks and whitespace; at least one character is not whitespace. Suits
    every text field of the model (subjects, names, message bodies).

    Requires Hypothesis.
    """
    _check_size("max_size", max_size, 1)
    return _texts(max_size)


@_memo
def _texts(max_size: int) -> SearchStrategy[str]:
    return st.builds(
        _place,
        _not_blank_char(),
        st.lists(_text_pieces(), max_size=min(max_size, 20)),
        st.floats(0, 1),
        st.just(max_size),
    )


def _place(head: str, pieces: list[str], where: float, max_size: int) -> str:
    rest = "".join(pieces)[: max_size - 1]
    at = int(where * len(rest))
    return rest[:at] + head + rest[at:]


def keys(*, max_size: int = 64) -> SearchStrategy[str]:
    """Identifiers the model accepts as keys (tags, segments, skills, field names, ...).

    1 to ``max_size`` (at most 64) characters of ASCII letters, digits and
    ``_ . : -``, starting with a letter or digit.

    Requires Hypothesis.
    """
    _check_size("max_size", max_size, 1, 64)
    return _keys(max_size)


@_memo
def _keys(max_size: int) -> SearchStrategy[str]:
    generated = st.builds(
        operator.add,
        st.sampled_from(_KEY_HEAD),
        st.text(alphabet=_KEY_TAIL, max_size=max_size - 1),
    )
    examples = tuple(k for k in _KEY_EXAMPLES if len(k) <= max_size)
    return st.one_of(st.sampled_from(examples), generated) if examples else generated


def _avoiding(value: str, taken: Container[str], max_size: int = 64) -> str:
    """``value``, or a key derived from it that is not in ``taken``."""
    i = 0
    candidate = value
    while candidate in taken:
        i += 1
        suffix = f"-{i}"
        candidate = value[: max_size - len(suffix)] + suffix
    return candidate


def ids(*, prefix: str | None = None) -> SearchStrategy[str]:
    """Record ids such as ``tkt_01JD3Q4Z8X5V6W7Y8Z9A0B1C2D`` or ``tkt_000042``.

    ``prefix`` (2-12 lowercase letters or digits starting with a letter, as
    :class:`~csdomain.UlidIds` requires) defaults to any of csdomain's
    prefixes (``tkt``, ``cus``, ``agt``, ...). Ids are in ULID layout or in
    :class:`~csdomain.SequentialIds` layout; both are valid keys.

    Requires Hypothesis.
    """
    if prefix is not None and (not isinstance(prefix, str) or not _valid_prefix(prefix)):
        raise InvalidArgument(
            f"prefix={prefix!r} must be 2-12 lowercase letters or digits starting with a letter"
        )
    return _ids(prefix)


def _valid_prefix(prefix: str) -> bool:
    return (
        2 <= len(prefix) <= 12
        and prefix[0] in string.ascii_lowercase
        and all(c in string.ascii_lowercase + string.digits for c in prefix)
    )


@_memo
def _ids(prefix: str | None) -> SearchStrategy[str]:
    prefixes = (
        st.sampled_from(sorted(set(PREFIXES.values()))) if prefix is None else st.just(prefix)
    )
    ulid = st.builds(
        operator.add,
        st.sampled_from(_CROCKFORD[:8]),
        st.text(alphabet=_CROCKFORD, min_size=25, max_size=25),
    )
    sequential = st.integers(1, 999_999_999).map("{:06d}".format)
    return st.builds("{}_{}".format, prefixes, st.one_of(sequential, ulid))


def json_scalars() -> SearchStrategy[JsonScalar]:
    """JSON scalars as custom fields and customer attributes hold them.

    ``None``, booleans, integers (64-bit), finite floats and short NUL-free
    text (possibly empty; with CJK, emoji and quotes).

    Requires Hypothesis.
    """
    return _json_scalars()


@_memo
def _json_scalars() -> SearchStrategy[JsonScalar]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.lists(_text_pieces(), max_size=10).map("".join),
    )


@_memo
def _json_maps(max_size: int) -> SearchStrategy[dict[str, JsonScalar]]:
    return st.dictionaries(_keys(24), _json_scalars(), max_size=max_size)


def locales() -> SearchStrategy[str]:
    """Locale identifiers Babel parses: ``en``, ``zh_CN``, ``zh_TW``, ``zh_Hant_HK``, ...

    Requires Hypothesis.
    """
    return st.sampled_from(_LOCALES)


@_memo
def _maybe(strategy: SearchStrategy[T]) -> SearchStrategy[T | None]:
    return st.none() | strategy


# -- enums ------------------------------------------------------------------------


def channel_kinds() -> SearchStrategy[ChannelKind]:
    """Members of :class:`~csdomain.ChannelKind`. Requires Hypothesis."""
    return st.sampled_from(ChannelKind)


def consents() -> SearchStrategy[Consent]:
    """Members of :class:`~csdomain.Consent`. Requires Hypothesis."""
    return st.sampled_from(Consent)


def customer_tiers() -> SearchStrategy[CustomerTier]:
    """Members of :class:`~csdomain.CustomerTier`. Requires Hypothesis."""
    return st.sampled_from(CustomerTier)


def priorities() -> SearchStrategy[Priority]:
    """Members of :class:`~csdomain.Priority`. Requires Hypothesis."""
    return st.sampled_from(Priority)


def impacts() -> SearchStrategy[Impact]:
    """Members of :class:`~csdomain.Impact`. Requires Hypothesis."""
    return st.sampled_from(Impact)


def urgencies() -> SearchStrategy[Urgency]:
    """Members of :class:`~csdomain.Urgency`. Requires Hypothesis."""
    return st.sampled_from(Urgency)


def agent_grades() -> SearchStrategy[AgentGrade]:
    """Members of :class:`~csdomain.AgentGrade`. Requires Hypothesis."""
    return st.sampled_from(AgentGrade)


def roles() -> SearchStrategy[Role]:
    """Members of :class:`~csdomain.Role`. Requires Hypothesis."""
    return st.sampled_from(Role)


def presences() -> SearchStrategy[Presence]:
    """Members of :class:`~csdomain.Presence`. Requires Hypothesis."""
    return st.sampled_from(Presence)


def ticket_kinds() -> SearchStrategy[TicketKind]:
    """Members of :class:`~csdomain.TicketKind`. Requires Hypothesis."""
    return st.sampled_from(TicketKind)


def statuses() -> SearchStrategy[Status]:
    """Members of :class:`~csdomain.Status`. Requires Hypothesis."""
    return st.sampled_from(Status)


def actor_kinds() -> SearchStrategy[ActorKind]:
    """Members of :class:`~csdomain.ActorKind`. Requires Hypothesis."""
    return st.sampled_from(ActorKind)


def visibilities() -> SearchStrategy[Visibility]:
    """Members of :class:`~csdomain.Visibility`. Requires Hypothesis."""
    return st.sampled_from(Visibility)


def link_kinds() -> SearchStrategy[LinkKind]:
    """Members of :class:`~csdomain.LinkKind`. Requires Hypothesis."""
    return st.sampled_from(LinkKind)


def comparisons() -> SearchStrategy[Comparison]:
    """Members of :class:`~csdomain.Comparison`. Requires Hypothesis."""
    return st.sampled_from(Comparison)


def sla_metrics() -> SearchStrategy[Metric]:
    """Members of :class:`~csdomain.Metric`. Requires Hypothesis."""
    return st.sampled_from(Metric)


def reopen_rules() -> SearchStrategy[OnReopen]:
    """Members of :class:`~csdomain.OnReopen`. Requires Hypothesis."""
    return st.sampled_from(OnReopen)


def priority_change_rules() -> SearchStrategy[OnPriorityChange]:
    """Members of :class:`~csdomain.OnPriorityChange`. Requires Hypothesis."""
    return st.sampled_from(OnPriorityChange)


def sla_states() -> SearchStrategy[SlaState]:
    """Members of :class:`~csdomain.SlaState`. Requires Hypothesis."""
    return st.sampled_from(SlaState)


# -- clocks and id generators -----------------------------------------------------


def frozen_clocks(
    *, min_value: datetime = _DEFAULT_MIN, max_value: datetime = _DEFAULT_MAX
) -> SearchStrategy[FrozenClock]:
    """:class:`~csdomain.FrozenClock` instances set to an instant in ``[min_value, max_value]``.

    Each draw is a new clock, so a test may advance it freely. Requires Hypothesis.
    """
    return aware_datetimes(min_value=min_value, max_value=max_value).map(FrozenClock)


def _seeded_ulid_ids(clock: FrozenClock, seed: int) -> UlidIds:
    return UlidIds(clock, random.Random(seed).getrandbits)


def id_generators(
    *, kinds: Iterable[type[SequentialIds] | type[UlidIds]] | None = None
) -> SearchStrategy[IdGenerator]:
    """Deterministic id generators: :class:`~csdomain.SequentialIds` of some width, or
    :class:`~csdomain.UlidIds` on a frozen clock with seeded randomness.

    ``kinds`` restricts the classes drawn from (default: both). Each draw is
    a fresh generator. Requires Hypothesis.
    """
    makers: dict[type, SearchStrategy[IdGenerator]] = {
        SequentialIds: st.integers(1, 12).map(SequentialIds),
        UlidIds: st.builds(_seeded_ulid_ids, frozen_clocks(), st.integers(0, 2**32 - 1)),
    }
    chosen = list(makers) if kinds is None else list(kinds)
    if not chosen or not all(k in makers for k in chosen):
        raise InvalidArgument(
            f"kinds={kinds!r} must be a non-empty collection of SequentialIds, UlidIds"
        )
    return st.one_of([makers[k] for k in chosen])


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


# -- channels -----------------------------------------------------------------------


def channel_traits() -> SearchStrategy[ChannelTraits]:
    """:class:`~csdomain.ChannelTraits` with any combination of flags. Requires Hypothesis."""
    return _channel_traits()


@_memo
def _channel_traits() -> SearchStrategy[ChannelTraits]:
    return st.builds(
        ChannelTraits,
        synchronous=st.booleans(),
        automated=st.booleans(),
        public=st.booleans(),
    )


@_memo
def _custom_channel_keys() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(("line", "whatsapp", "telegram", "xiaohongshu", "dingtalk", "feishu")),
        _keys(32),
    ).filter(lambda k: k not in BUILTIN_CHANNELS)


def channel_keys(*, builtin: bool = True, custom: bool = True) -> SearchStrategy[str]:
    """Channel keys: built-in ones (``"email"``, ``"wechat_official_account"``, ...)
    and/or custom ones (``"line"``, or any key that is not a built-in one).

    Requires Hypothesis.
    """
    if not (builtin or custom):
        raise InvalidArgument("at least one of builtin and custom must be true")
    return _channel_keys(bool(builtin), bool(custom))


@_memo
def _channel_keys(builtin: bool, custom: bool) -> SearchStrategy[str]:
    parts: list[SearchStrategy[str]] = []
    if builtin:
        parts.append(st.sampled_from(_BUILTIN_KEYS))
    if custom:
        parts.append(_custom_channel_keys())
    return st.one_of(parts)


def channels(*, builtin: bool = False) -> SearchStrategy[Channel]:
    """Custom :class:`~csdomain.Channel` definitions, whose keys never collide with
    the built-in channels; with ``builtin=True`` the built-in channels are drawn too.

    Requires Hypothesis.
    """
    return _channels(bool(builtin))


@_memo
def _channels(builtin: bool) -> SearchStrategy[Channel]:
    custom = st.builds(
        Channel, key=_custom_channel_keys(), traits=_channel_traits(), name=_texts(40)
    )
    if builtin:
        return st.one_of(st.sampled_from(tuple(BUILTIN_CHANNELS.values())), custom)
    return custom


def channel_directories(*, max_custom: int = 4) -> SearchStrategy[ChannelDirectory]:
    """:class:`~csdomain.ChannelDirectory` values with up to ``max_custom`` custom
    channels of distinct keys. Requires Hypothesis.
    """
    _check_size("max_custom", max_custom)
    return st.lists(_channels(False), max_size=max_custom, unique_by=_key_of).map(_directory)


def _key_of(channel: Channel) -> str:
    return channel.key


def _directory(custom: list[Channel]) -> ChannelDirectory:
    return ChannelDirectory().with_channels(*custom)


# -- customers ------------------------------------------------------------------------


@_memo
def _addresses() -> SearchStrategy[str]:
    local = st.text(
        alphabet=string.ascii_lowercase + string.digits + "._+", min_size=1, max_size=12
    )
    domain = st.sampled_from(("example.com", "example.cn", "例子.中国", "mail.example.org"))
    email = st.builds("{}@{}".format, local, domain)
    phone = st.builds(
        "+{} {}".format,
        st.sampled_from(("86", "852", "886", "1", "44", "61")),
        st.text(alphabet=string.digits, min_size=6, max_size=11),
    )
    openid = st.builds(
        operator.add, st.just("o"), st.text(alphabet=_KEY_TAIL, min_size=10, max_size=28)
    )
    return st.one_of(email, phone, openid, _texts(40))


def contact_points(*, channels: SearchStrategy[str] | None = None) -> SearchStrategy[ContactPoint]:
    """:class:`~csdomain.ContactPoint` values (emails, phone numbers, openids, free text).

    ``channels`` draws the channel key (default: :func:`channel_keys`). A
    consent other than ``unknown`` always comes with the instant it was recorded.

    Requires Hypothesis.
    """
    _check_strategy("channels", channels)
    return _contact_points(_channel_keys(True, True) if channels is None else channels)


@_memo
def _contact_points(channel: SearchStrategy[str]) -> SearchStrategy[ContactPoint]:
    return st.builds(
        _contact_point,
        channel=channel,
        address=_addresses(),
        verified=st.booleans(),
        consent=consents(),
        changed_at=_maybe(_aware_datetimes(*_DEFAULT_BOUNDS, _zones())),
        do_not_contact=st.booleans(),
    )


def _contact_point(
    *,
    channel: str,
    address: str,
    verified: bool,
    consent: Consent,
    changed_at: datetime | None,
    do_not_contact: bool,
) -> ContactPoint:
    if consent is not Consent.UNKNOWN and changed_at is None:
        changed_at = _DEFAULT_MIN  # recorded consent needs its instant
    return ContactPoint(
        channel=channel,
        address=address,
        verified=verified,
        consent=consent,
        consent_changed_at=changed_at,
        do_not_contact=do_not_contact,
    )


def purchases(
    *,
    min_amount: Decimal = Decimal("0"),
    max_amount: Decimal = Decimal("100000"),
    currencies: SearchStrategy[str] | None = None,
) -> SearchStrategy[Purchase]:
    """:class:`~csdomain.Purchase` values with finite ``Decimal`` amounts (two places)
    in ``[min_amount, max_amount]`` and ISO 4217 currencies (CNY, USD, EUR, ...
    or any code Babel knows). Requires Hypothesis.
    """
    for name, value in (("min_amount", min_amount), ("max_amount", max_amount)):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise InvalidArgument(f"{name}={value!r} must be a finite Decimal")
    if min_amount > max_amount:
        raise InvalidArgument(f"min_amount={min_amount} must not exceed max_amount={max_amount}")
    _check_strategy("currencies", currencies)
    return _purchases(min_amount, max_amount, _currencies() if currencies is None else currencies)


@_memo
def _currencies() -> SearchStrategy[str]:
    from babel.numbers import list_currencies

    rest = sorted(set(list_currencies()) - set(_COMMON_CURRENCIES))
    return st.sampled_from((*_COMMON_CURRENCIES, *rest))


@_memo
def _purchases(
    min_amount: Decimal, max_amount: Decimal, currencies: SearchStrategy[str]
) -> SearchStrategy[Purchase]:
    return st.builds(
        Purchase,
        order_id=_ids("ord"),
        amount=st.decimals(
            min_value=min_amount,
            max_value=max_amount,
            places=2,
            allow_nan=False,
            allow_infinity=False,
        ),
        currency=currencies,
        purchased_at=_aware_datetimes(*_DEFAULT_BOUNDS, _zones()),
        product=_texts(40),
    )


def _address_of(contact_point: ContactPoint) -> str:
    return contact_point.address


def _order_of(purchase: Purchase) -> str:
    return purchase.order_id


def customers(
    *,
    max_contact_points: int = 3,
    max_purchases: int = 3,
    max_segments: int = 3,
    max_attributes: int = 4,
) -> SearchStrategy[Customer]:
    """:class:`~csdomain.Customer` values.

    Contact points have distinct addresses and purchases distinct order ids;
    the zone is a valid IANA name (:func:`timezone_names`), the locale one
    Babel knows (``en``, ``zh_CN``, ``zh_TW``, ``zh_Hant_HK``, ...);
    attributes are JSON scalars (unicode and emoji text without NUL, finite
    floats). The bounds cap the size of each collection.

    Requires Hypothesis.
    """
    _check_size("max_contact_points", max_contact_points)
    _check_size("max_purchases", max_purchases)
    _check_size("max_segments", max_segments)
    _check_size("max_attributes", max_attributes)
    return _customers(max_contact_points, max_purchases, max_segments, max_attributes)


@_memo
def _customers(
    max_contact_points: int, max_purchases: int, max_segments: int, max_attributes: int
) -> SearchStrategy[Customer]:
    return st.builds(
        Customer,
        id=_ids("cus"),
        display_name=_texts(40),
        contact_points=st.lists(
            _contact_points(_channel_keys(True, True)),
            max_size=max_contact_points,
            unique_by=_address_of,
        ).map(tuple),
        tier=customer_tiers(),
        segments=st.frozensets(_keys(24), max_size=max_segments),
        timezone=_zone_names(),
        locale=locales(),
        birthday=_maybe(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31))),
        attributes=_json_maps(max_attributes),
        purchases=st.lists(
            _purchases(Decimal(0), Decimal(100000), _currencies()),
            max_size=max_purchases,
            unique_by=_order_of,
        ).map(tuple),
    )


# -- priorities -----------------------------------------------------------------------


def priority_matrices() -> SearchStrategy[PriorityMatrix]:
    """Monotone :class:`~csdomain.PriorityMatrix` values (raising impact or urgency
    never lowers the priority); every monotone matrix can be drawn.

    Requires Hypothesis.
    """
    return _priority_matrices()


@st.composite
def _priority_matrices(draw: DrawFn) -> PriorityMatrix:
    levels = list(Priority)
    grid: list[list[int]] = []
    for i in range(len(Impact)):
        row: list[int] = []
        for j in range(len(Urgency)):
            floor = max(grid[i - 1][j] if i else 0, row[j - 1] if j else 0)
            row.append(draw(st.integers(floor, len(levels) - 1)))
        grid.append(row)
    return PriorityMatrix(rows=tuple(tuple(levels[r] for r in row) for row in grid))


# -- people ----------------------------------------------------------------------------


@_memo
def _tier_keys() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_TIERS), _keys(16))


def agents(*, max_skills: int = 4, max_groups: int = 3) -> SearchStrategy[Agent]:
    """:class:`~csdomain.Agent` values: any grade, roles, presence and load limit,
    up to ``max_skills`` skills and ``max_groups`` distinct group ids.

    Requires Hypothesis.
    """
    _check_size("max_skills", max_skills)
    _check_size("max_groups", max_groups)
    return _agents(max_skills, max_groups)


@_memo
def _agents(max_skills: int, max_groups: int) -> SearchStrategy[Agent]:
    return st.builds(
        Agent,
        id=_ids("agt"),
        name=_texts(40),
        grade=agent_grades(),
        roles=st.frozensets(roles()),
        skills=st.frozensets(_keys(24), max_size=max_skills),
        max_load=st.one_of(st.integers(0, 20), st.integers(0, 10_000)),
        presence=presences(),
        groups=st.lists(_ids("grp"), max_size=max_groups, unique=True).map(tuple),
    )


def groups(*, max_channels: int = 4) -> SearchStrategy[Group]:
    """:class:`~csdomain.Group` values: a tier, up to ``max_channels`` channel keys,
    maybe an overflow group (never itself) and a calendar name.

    Requires Hypothesis.
    """
    _check_size("max_channels", max_channels)
    return _groups(max_channels)


@_memo
def _groups(max_channels: int) -> SearchStrategy[Group]:
    return st.builds(
        _group,
        id=_ids("grp"),
        name=_texts(40),
        tier=_tier_keys(),
        channels=st.frozensets(_channel_keys(True, True), max_size=max_channels),
        overflow_to=_maybe(_ids("grp")),
        calendar=_maybe(_keys(24)),
    )


def _group(**fields: Any) -> Group:
    if fields["overflow_to"] == fields["id"]:
        fields["overflow_to"] = None  # a group cannot overflow to itself
    return Group(**fields)


def escalation_tiers() -> SearchStrategy[EscalationTier]:
    """:class:`~csdomain.EscalationTier` values (``L1``-``L3`` or custom keys).

    Requires Hypothesis.
    """
    return _escalation_tiers()


@_memo
def _escalation_tiers() -> SearchStrategy[EscalationTier]:
    return st.builds(EscalationTier, key=_tier_keys(), name=_texts(40), external=st.booleans())


def _tier_key_of(tier: EscalationTier) -> str:
    return tier.key


def _ladder(tiers: list[EscalationTier]) -> EscalationLadder:
    return EscalationLadder(tiers=tuple(tiers))


def escalation_ladders(
    *, min_tiers: int = 1, max_tiers: int = 5
) -> SearchStrategy[EscalationLadder]:
    """:class:`~csdomain.EscalationLadder` values with ``min_tiers`` to ``max_tiers``
    tiers of distinct keys (``min_tiers`` is at least 1).

    Requires Hypothesis.
    """
    _check_size("min_tiers", min_tiers, 1)
    _check_size("max_tiers", max_tiers, 1)
    _check_range("min_tiers", min_tiers, "max_tiers", max_tiers)
    return st.lists(
        _escalation_tiers(), min_size=min_tiers, max_size=max_tiers, unique_by=_tier_key_of
    ).map(_ladder)


# -- calendars ---------------------------------------------------------------------------

_CALENDAR_ZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "UTC",
)


@_memo
def time_ranges(*, step: int = 60) -> SearchStrategy[TimeRange]:
    """:class:`~csdomain.TimeRange` values on multiples of ``step`` seconds (default: whole
    minutes), ``24:00`` included as an end.

    Requires Hypothesis.
    """
    _check_size("step", step, 1, 86_400)
    slots = 86_400 // step
    return (
        st.tuples(st.integers(0, slots - 1), st.integers(1, slots))
        .filter(lambda p: p[0] < p[1])
        .map(lambda p: TimeRange(start=p[0] * step, end=p[1] * step))
    )


def _day_ranges(max_ranges: int = 3) -> SearchStrategy[tuple[TimeRange, ...]]:
    """Sorted, non-overlapping ranges of one day, built from distinct minute cut points."""
    cuts = st.lists(st.integers(0, 1_440), min_size=0, max_size=2 * max_ranges, unique=True)
    return cuts.map(sorted).map(
        lambda points: tuple(
            TimeRange(start=points[i] * 60, end=points[i + 1] * 60)
            for i in range(0, len(points) - 1, 2)
        )
    )


_CAL_DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@_memo
def holidays() -> SearchStrategy[Holiday]:
    """:class:`~csdomain.Holiday` values: whole days or partial closures, 2024-2027.

    Requires Hypothesis.
    """
    return st.builds(Holiday, date=_CAL_DATES, name=texts(max_size=30), closed=_day_ranges(2))


@_memo
def extra_workdays() -> SearchStrategy[ExtraWorkday]:
    """:class:`~csdomain.ExtraWorkday` values (make-up working days), 2024-2027.

    Requires Hypothesis.
    """
    hours = _day_ranges(3).filter(bool)
    return st.builds(ExtraWorkday, date=_CAL_DATES, name=texts(max_size=30), hours=hours)


@_memo
def business_calendars(
    *, max_holidays: int = 4, max_extra_workdays: int = 2
) -> SearchStrategy[BusinessCalendar]:
    """:class:`~csdomain.BusinessCalendar` values in zones with and without DST (Lord Howe's
    30-minute shift included), split shifts, holidays and extra working days; sometimes 24/7.

    Requires Hypothesis.
    """
    _check_size("max_holidays", max_holidays)
    _check_size("max_extra_workdays", max_extra_workdays)
    return st.one_of(
        st.just(BusinessCalendar.always_open()),
        _business_calendars(max_holidays, max_extra_workdays),
    )


@st.composite
def _business_calendars(draw: DrawFn, max_holidays: int, max_extra: int) -> BusinessCalendar:
    weekly = draw(st.lists(_day_ranges(3), min_size=7, max_size=7).filter(any))
    holiday_list = draw(st.lists(holidays(), max_size=max_holidays, unique_by=_date_of))
    taken = {h.date for h in holiday_list}
    extras = draw(
        st.lists(
            extra_workdays().filter(lambda e: e.date not in taken),
            max_size=max_extra,
            unique_by=_date_of,
        )
    )
    return BusinessCalendar(
        name=draw(texts(max_size=20)),
        timezone=draw(st.sampled_from(_CALENDAR_ZONES)),
        weekly=tuple(weekly),
        holidays=tuple(holiday_list),
        extra_workdays=tuple(extras),
    )


def _date_of(item: Holiday | ExtraWorkday) -> date:
    return item.date


@_memo
def calendar_unions(*, max_members: int = 3) -> SearchStrategy[CalendarUnion]:
    """:class:`~csdomain.CalendarUnion` values of 1 to ``max_members`` calendars.

    Requires Hypothesis.
    """
    _check_size("max_members", max_members, 1)
    members = st.lists(business_calendars(max_holidays=2), min_size=1, max_size=max_members)
    return st.builds(CalendarUnion, name=texts(max_size=20), members=members.map(tuple))


# -- tickets -----------------------------------------------------------------------------


def actors(*, kinds: Iterable[ActorKind] | None = None) -> SearchStrategy[Actor]:
    """:class:`~csdomain.Actor` values of the given ``kinds`` (default: all).

    Customers and agents always carry an id; bots and the system may.

    Requires Hypothesis.
    """
    return _actors(_members(ActorKind, "kinds", kinds))


@_memo
def _actors(kinds: tuple[ActorKind, ...]) -> SearchStrategy[Actor]:
    return st.one_of([_actors_of(kind) for kind in kinds])


@_memo
def _actors_of(kind: ActorKind) -> SearchStrategy[Actor]:
    if kind is ActorKind.CUSTOMER:
        return _ids("cus").map(Actor.customer)
    if kind is ActorKind.AGENT:
        return _ids("agt").map(Actor.agent)
    names = _maybe(st.sampled_from(("sla-sweep", "autoreply", "router")) | _keys(24))
    return st.builds(Actor, st.just(kind), names)


def ticket_links(*, kinds: Iterable[LinkKind] | None = None) -> SearchStrategy[TicketLink]:
    """:class:`~csdomain.TicketLink` values of the given ``kinds`` (default: all).

    Requires Hypothesis.
    """
    chosen = _members(LinkKind, "kinds", kinds)
    return st.builds(TicketLink, kind=st.sampled_from(chosen), ticket_id=_ids("tkt"))


_OPS: tuple[str, ...] = (
    # weights by repetition; "message" first so that shrinking favours messages
    *("message",) * 6,
    *("status",) * 4,
    "priority",
    "assign",
    "assign",
    "tier",
    "tags",
    "tags",
    "fields",
    "link",
)
_CLOSING_OPS: tuple[str, ...] = (*_OPS, "merge")
_STAFF: tuple[ActorKind, ...] = (ActorKind.AGENT, ActorKind.SYSTEM, ActorKind.BOT)
_AUTHORS: tuple[ActorKind, ...] = (ActorKind.CUSTOMER, ActorKind.AGENT, ActorKind.BOT)
_NEXT_STATUSES: dict[tuple[Status, bool], tuple[Status, ...]] = {
    (status, may_close): tuple(
        s for s in Status if s in TRANSITIONS[status] and (may_close or s is not Status.CLOSED)
    )
    for status in Status
    for may_close in (False, True)
}
_OTHER_PRIORITIES: dict[Priority, tuple[Priority, ...]] = {
    p: tuple(q for q in Priority if q is not p) for p in Priority
}


def tickets(
    *,
    min_events: int = 0,
    max_events: int = 30,
    start: SearchStrategy[datetime] | None = None,
    max_gap: timedelta = timedelta(days=3),
    ticket_ids: SearchStrategy[str] | None = None,
    customer_ids: SearchStrategy[str] | None = None,
    channels: SearchStrategy[str] | None = None,
    allow_closed: bool = True,
) -> SearchStrategy[Ticket]:
    """:class:`~csdomain.Ticket` values, valid by construction.

    A ticket is opened with :meth:`Ticket.open <csdomain.Ticket.open>` (any
    kind, priority, group, assignee, tier, tags, custom fields, perhaps as a
    follow-up and with a description) at an instant drawn from ``start``
    (default :func:`aware_datetimes`), then changed between ``min_events``
    and ``max_events`` times by allowed operations: public and internal
    messages from the customer, agents and bots; status moves to one of
    ``ticket.allowed_statuses``; priority, assignment, tier, tag and custom
    field changes; links; now and then a merge into another ticket. Each
    change happens ``0`` to ``max_gap`` after the previous one (equal
    instants included), expressed in varying zones.

    Every change adds one event or two (a message may move the status, a
    merge also closes), so the timeline has at least ``min_events + 1``
    entries. With ``allow_closed=False`` no ticket ends closed or merged;
    otherwise the ticket is only closed once ``min_events`` changes are made.

    ``ticket_ids``, ``customer_ids`` and ``channels`` draw the ticket's id,
    its customer's id and its channel key (defaults: :func:`ids` with
    ``tkt``/``cus`` prefixes and :func:`channel_keys`).

    Requires Hypothesis.
    """
    _check_size("min_events", min_events)
    _check_size("max_events", max_events)
    _check_range("min_events", min_events, "max_events", max_events)
    if not isinstance(max_gap, timedelta) or max_gap < timedelta(0):
        raise InvalidArgument(f"max_gap={max_gap!r} must be a non-negative timedelta")
    for name, value in (
        ("start", start),
        ("ticket_ids", ticket_ids),
        ("customer_ids", customer_ids),
        ("channels", channels),
    ):
        _check_strategy(name, value)
    opened = _opened(
        _aware_datetimes(*_DEFAULT_BOUNDS, _zones()) if start is None else start,
        _ids("tkt") if ticket_ids is None else ticket_ids,
        _ids("cus") if customer_ids is None else customer_ids,
        _channel_keys(True, True) if channels is None else channels,
    )
    return _tickets(opened, min_events, max_events, max_gap, bool(allow_closed))


@_memo
def _opened(
    start: SearchStrategy[datetime],
    ticket_ids: SearchStrategy[str],
    customer_ids: SearchStrategy[str],
    channel_keys_: SearchStrategy[str],
) -> SearchStrategy[Ticket]:
    return st.builds(
        _open,
        id=ticket_ids,
        customer_id=customer_ids,
        channel=channel_keys_,
        subject=_texts(60),
        at=start,
        actor=_maybe(_actors(_STAFF)),
        kind=ticket_kinds(),
        priority=priorities(),
        group_id=_maybe(_ids("grp")),
        assignee_id=_maybe(_ids("agt")),
        tier=_tier_keys(),
        tags=st.frozensets(_keys(24), max_size=3),
        custom_fields=_json_maps(3),
        follow_up_of=_maybe(_ids("tkt")),
        description=_maybe(_texts(80)),
    )


def _open(*, at: object, follow_up_of: str | None, id: str, **fields: Any) -> Ticket:
    _check_aware("start produced", at)
    return Ticket.open(
        at=at,  # type: ignore[arg-type]  # checked just above
        id=id,
        follow_up_of=None if follow_up_of == id else follow_up_of,
        **fields,
    )


@st.composite
def _tickets(
    draw: DrawFn,
    opened: SearchStrategy[Ticket],
    min_events: int,
    max_events: int,
    max_gap: timedelta,
    allow_closed: bool,
) -> Ticket:
    ticket = draw(opened)
    gaps = _gaps(max_gap)
    count = draw(st.integers(min_events, max_events))
    for i in range(count):
        if ticket.status is Status.CLOSED:
            break
        may_close = allow_closed and i + 1 >= min_events
        op = draw(st.sampled_from(_CLOSING_OPS if may_close else _OPS))
        ticket = _change(draw, ticket, op, gaps, may_close=may_close)
    return ticket


def _next_instant(draw: DrawFn, ticket: Ticket, gaps: SearchStrategy[timedelta]) -> datetime:
    try:
        at = ticket.updated_at + draw(gaps)
    except OverflowError:
        at = ticket.updated_at
    try:
        return at.astimezone(draw(_zones()))
    except (OverflowError, ValueError):
        return at


def _change(
    draw: DrawFn, ticket: Ticket, op: str, gaps: SearchStrategy[timedelta], *, may_close: bool
) -> Ticket:
    """``ticket`` after one allowed change of kind ``op`` (which always adds an event)."""
    at = _next_instant(draw, ticket, gaps)
    before = len(ticket.timeline)
    changed = _CHANGES[op](draw, ticket, at, may_close)
    assert len(changed.timeline) > before, f"operation {op!r} added no event"
    return changed


def _staff(draw: DrawFn) -> Actor:
    return draw(_actors(_STAFF))


def _other_ticket_id(draw: DrawFn, ticket: Ticket, kind: LinkKind) -> str:
    taken = {link.ticket_id for link in ticket.links if link.kind is kind} | {ticket.id}
    return _avoiding(draw(_ids("tkt")), taken)


def _message(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    who = draw(st.sampled_from(_AUTHORS))
    handle_time = None
    if who is ActorKind.CUSTOMER:
        author = Actor.customer(ticket.customer_id)
        visibility = Visibility.PUBLIC  # a customer cannot write internal notes
    else:
        author = draw(_actors_of(who))
        visibility = draw(visibilities())
        if who is ActorKind.AGENT:
            handle_time = draw(_handle_times())
    return ticket.add_message(
        at=at,
        author=author,
        body=draw(_texts(120)),
        visibility=visibility,
        channel=draw(_maybe(_channel_keys(True, True))),
        handle_time=handle_time,
    )


@_memo
def _handle_times() -> SearchStrategy[timedelta | None]:
    return _maybe(st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2)))


def _status(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    by_customer = draw(st.booleans())
    return ticket.change_status(
        draw(st.sampled_from(_NEXT_STATUSES[ticket.status, may_close])),
        at=at,
        actor=Actor.customer(ticket.customer_id) if by_customer else _staff(draw),
        reason=draw(_maybe(_texts(40))),
    )


def _priority(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    new = draw(st.sampled_from(_OTHER_PRIORITIES[ticket.priority]))
    return ticket.change_priority(new, at=at, actor=_staff(draw))


def _assign(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    group = draw(st.sampled_from((ticket.group_id, None)) | _ids("grp"))
    assignee = draw(st.sampled_from((ticket.assignee_id, None)) | _ids("agt"))
    if (group, assignee) == (ticket.group_id, ticket.assignee_id):
        assignee = None if ticket.assignee_id is not None else draw(_ids("agt"))
    kwargs: dict[str, Any] = {}  # omitted arguments stay as they are
    if group != ticket.group_id or draw(st.booleans()):
        kwargs["group_id"] = group
    if assignee != ticket.assignee_id or draw(st.booleans()):
        kwargs["assignee_id"] = assignee
    return ticket.assign(at=at, actor=_staff(draw), **kwargs)


def _tier(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    new = _avoiding(draw(_tier_keys()), {ticket.tier})
    return ticket.change_tier(new, at=at, actor=_staff(draw), reason=draw(_maybe(_texts(40))))


def _subset(draw: DrawFn, items: Iterable[str]) -> list[str]:
    return [item for item in sorted(items) if draw(st.booleans())]


def _tags(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    remove = _subset(draw, ticket.tags)
    add = [k for k in draw(st.lists(_keys(24), max_size=3)) if k not in remove]
    if not set(add) - ticket.tags and not remove:
        add.append(_avoiding(draw(_keys(24)), ticket.tags))
    return ticket.change_tags(at=at, actor=_staff(draw), add=add, remove=remove)


def _fields(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    current = ticket.custom_fields
    unset = _subset(draw, current)
    values = {k: v for k, v in draw(_json_maps(3)).items() if k not in unset}
    if not unset and all(
        k in current and type(current[k]) is type(v) and current[k] == v for k, v in values.items()
    ):
        values[_avoiding(draw(_keys(24)), current.keys())] = draw(_json_scalars())
    return ticket.set_custom_fields(values, at=at, actor=_staff(draw), unset=unset)


def _link(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    kind = draw(st.sampled_from((LinkKind.RELATED, LinkKind.FOLLOW_UP_OF)))
    return ticket.link(
        _other_ticket_id(draw, ticket, kind),
        at=at,
        actor=draw(_actors((ActorKind.AGENT, ActorKind.SYSTEM))),
        kind=kind,
    )


def _merge(draw: DrawFn, ticket: Ticket, at: datetime, may_close: bool) -> Ticket:
    target = _other_ticket_id(draw, ticket, LinkKind.MERGED_INTO)
    return ticket.merge_into(target, at=at, actor=_staff(draw))


_CHANGES: dict[str, Callable[[DrawFn, Ticket, datetime, bool], Ticket]] = {
    "message": _message,
    "status": _status,
    "priority": _priority,
    "assign": _assign,
    "tier": _tier,
    "tags": _tags,
    "fields": _fields,
    "link": _link,
    "merge": _merge,
}

#: The operations that can produce each event type (other than TicketCreated).
_OPS_FOR: dict[type[TicketEvent], tuple[str, ...]] = {
    MessageAdded: ("message",),
    StatusChanged: ("status", "merge"),
    PriorityChanged: ("priority",),
    Assigned: ("assign",),
    TierChanged: ("tier",),
    TagsChanged: ("tags",),
    CustomFieldsChanged: ("fields",),
    Linked: ("link", "merge"),
}


def ticket_events(
    *, types: Iterable[type[TicketEvent]] | None = None, max_history: int = 5
) -> SearchStrategy[TicketEvent]:
    """Timeline events (instances of the given ``types``; default: every event type).

    Each event is taken from the timeline of a generated ticket, so it is
    one a real ticket records: a :class:`~csdomain.TicketCreated`, or the
    event a change made after up to ``max_history`` earlier changes.
    ``TicketEvent`` itself in ``types`` stands for every event type.

    Requires Hypothesis.
    """
    _check_size("max_history", max_history)
    if types is None:
        chosen = _EVENT_TYPES
    else:
        given = tuple(types)
        if TicketEvent in given:
            given = _EVENT_TYPES
        if not given or not all(t in _EVENT_TYPES for t in given):
            names = ", ".join(t.__name__ for t in _EVENT_TYPES)
            raise InvalidArgument(
                f"types={types!r} must be a non-empty collection of event types ({names})"
            )
        chosen = tuple(dict.fromkeys(given))
    return _ticket_events(chosen, max_history)


@_memo
def _ticket_events(
    types: tuple[type[TicketEvent], ...], max_history: int
) -> SearchStrategy[TicketEvent]:
    history = tickets(max_events=max_history, allow_closed=False)
    return _events_after(st.sampled_from(types), history, _gaps(timedelta(days=3)))


@_memo
def _gaps(max_gap: timedelta) -> SearchStrategy[timedelta]:
    return st.timedeltas(min_value=timedelta(0), max_value=max_gap)


@st.composite
def _events_after(
    draw: DrawFn,
    types: SearchStrategy[type[TicketEvent]],
    history: SearchStrategy[Ticket],
    gaps: SearchStrategy[timedelta],
) -> TicketEvent:
    cls = draw(types)
    ticket = draw(history)
    if cls is TicketCreated:
        return ticket.timeline[0]
    op = draw(st.sampled_from(_OPS_FOR[cls]))
    changed = _change(draw, ticket, op, gaps, may_close=True)
    added = changed.timeline[len(ticket.timeline) :]
    return next(e for e in added if type(e) is cls)


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
    _check_size("max_depth", max_depth, 0, 10)
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
        st.integers(-(2**63), 2**63 - 1),
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


# -- SLA policies ------------------------------------------------------------------------

#: Warning fractions policies commonly use; arbitrary fractions are drawn too.
_WARNING_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9)
_TYPICAL_TARGETS: tuple[timedelta, ...] = (
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=5),
)
#: The statuses a metric's clock may pause in (none counts while solved or closed).
_PAUSABLE_STATUSES: tuple[Status, ...] = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING,
    Status.ON_HOLD,
)
#: The metrics fulfilled by replies, whose policies may count bot replies.
_RESPONSE_METRICS: frozenset[Metric] = frozenset(
    {Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.PERIODIC_UPDATE}
)
_SLA_POLICY_NAMES: tuple[str, ...] = (
    "Standard",
    "VIP 24/7",
    "Enterprise",
    "标准服务",
    "金牌客户 SLA",
    "企業客戶",
)
_MAX_CALENDAR_NAME = 200  # Target.calendar's limit
_ONE_SECOND = timedelta(seconds=1)


def _check_calendar_names(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgument(
            f"calendar_names={value!r} must be a sequence of calendar names, "
            "such as ('cn-support',)"
        )
    names = tuple(value)
    for name in names:
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name) > _MAX_CALENDAR_NAME
            or "\x00" in name
        ):
            raise InvalidArgument(
                f"calendar_names={value!r} holds {name!r}; each name must be non-blank text "
                f"of at most {_MAX_CALENDAR_NAME} characters without NUL"
            )
    return tuple(dict.fromkeys(names))


def _check_max_duration(value: object) -> int:
    """``max_duration`` in whole seconds."""
    if not isinstance(value, timedelta) or value < _ONE_SECOND:
        raise InvalidArgument(f"max_duration={value!r} must be a timedelta of at least one second")
    return value // _ONE_SECOND


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def _distinct_members(enum: type[E], name: str, given: Iterable[E] | None) -> tuple[E, ...]:
    return tuple(dict.fromkeys(_members(enum, name, given)))


def sla_targets(
    *, calendar_names: Sequence[str] = (), max_duration: timedelta = timedelta(days=30)
) -> SearchStrategy[Target]:
    """:class:`~csdomain.Target` values.

    Durations are whole seconds from one second to ``max_duration`` (at least
    one second; default 30 days): typical targets (15 minutes, 4 hours, 1 day,
    ...), whole minutes and odd seconds. The calendar is ``None`` (calendar
    hours) or one of ``calendar_names`` (default: none, so every target counts
    calendar hours and evaluates without calendars). Warnings are an ascending
    tuple of distinct fractions strictly between 0 and 1, possibly empty: common
    ones (0.25, 0.5, 0.75, 0.9) and arbitrary floats.

    Requires Hypothesis.
    """
    names = _check_calendar_names(calendar_names)
    return _sla_targets(names, _check_max_duration(max_duration))


@_memo
def _sla_durations(max_seconds: int) -> SearchStrategy[timedelta]:
    parts: list[SearchStrategy[timedelta]] = []
    typical = tuple(d for d in _TYPICAL_TARGETS if d <= timedelta(seconds=max_seconds))
    if typical:
        parts.append(st.sampled_from(typical))
    if max_seconds >= 60:
        parts.append(st.integers(1, max_seconds // 60).map(_minutes))
    parts.append(st.integers(1, max_seconds).map(_seconds))
    return st.one_of(parts)


def _minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def _seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


@_memo
def _warning_fractions() -> SearchStrategy[tuple[float, ...]]:
    fraction = st.one_of(
        st.sampled_from(_WARNING_FRACTIONS),
        st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True),
    )
    return st.lists(fraction, max_size=4, unique=True).map(_ascending)


def _ascending(fractions: list[float]) -> tuple[float, ...]:
    return tuple(sorted(fractions))


@_memo
def _sla_targets(calendar_names: tuple[str, ...], max_seconds: int) -> SearchStrategy[Target]:
    calendars: SearchStrategy[str | None] = st.none()
    if calendar_names:
        calendars = st.one_of(st.none(), st.sampled_from(calendar_names))
    return st.builds(
        Target,
        duration=_sla_durations(max_seconds),
        calendar=calendars,
        warnings=_warning_fractions(),
    )


def metric_policies(
    *,
    metrics: Iterable[Metric] | None = None,
    calendar_names: Sequence[str] = (),
    max_duration: timedelta = timedelta(days=30),
) -> SearchStrategy[MetricPolicy]:
    """:class:`~csdomain.MetricPolicy` values for one of ``metrics`` (default: every
    :class:`~csdomain.Metric`).

    Targets (drawn by :func:`sla_targets` with ``calendar_names`` and
    ``max_duration``) cover a non-empty subset of the priorities. The pause set
    is the metric's default or any subset of new, open, pending and on hold;
    response metrics may count bot replies (resolution never does); the reopen
    and priority-change rules are any.

    Requires Hypothesis.
    """
    chosen = _distinct_members(Metric, "metrics", metrics)
    targets = _sla_targets(_check_calendar_names(calendar_names), _check_max_duration(max_duration))
    return _metric_policies(chosen, targets)


@_memo
def _metric_policies(
    metrics: tuple[Metric, ...], targets: SearchStrategy[Target]
) -> SearchStrategy[MetricPolicy]:
    return _metric_policies_of(st.sampled_from(metrics), targets)


@st.composite
def _metric_policies_of(
    draw: DrawFn, metrics: SearchStrategy[Metric], targets: SearchStrategy[Target]
) -> MetricPolicy:
    return _metric_policy(draw, draw(metrics), targets)


def _metric_policy(draw: DrawFn, metric: Metric, targets: SearchStrategy[Target]) -> MetricPolicy:
    levels = draw(st.lists(priorities(), min_size=1, max_size=len(Priority), unique=True))
    rules: dict[str, Any] = {}  # omitted rules take the model's defaults
    if draw(st.booleans()):
        rules["pause_statuses"] = draw(st.frozensets(st.sampled_from(_PAUSABLE_STATUSES)))
    if metric in _RESPONSE_METRICS:
        rules["count_bot_replies"] = draw(st.booleans())
    return MetricPolicy(
        metric,
        {level: draw(targets) for level in levels},
        on_reopen=draw(reopen_rules()),
        on_priority_change=draw(priority_change_rules()),
        **rules,
    )


def sla_policies(
    *,
    metrics: Iterable[Metric] | None = None,
    calendar_names: Sequence[str] = (),
    max_duration: timedelta = timedelta(days=30),
    max_metrics: int = 4,
    conditions: bool = True,
) -> SearchStrategy[SlaPolicy]:
    """:class:`~csdomain.SlaPolicy` values measuring 1 to ``max_metrics`` (at most 4)
    distinct metrics among ``metrics`` (default: every :class:`~csdomain.Metric`).

    Each metric's rules are drawn as :func:`metric_policies` draws them, with
    ``calendar_names`` and ``max_duration``. The condition is
    :data:`~csdomain.conditions.ALWAYS` or, unless ``conditions`` is False, one
    drawn by :func:`conditions`.

    Requires Hypothesis.
    """
    chosen = _distinct_members(Metric, "metrics", metrics)
    targets = _sla_targets(_check_calendar_names(calendar_names), _check_max_duration(max_duration))
    _check_size("max_metrics", max_metrics, 1, len(Metric))
    with_conditions = _check_flag("conditions", conditions)
    return _sla_policies(chosen, targets, min(max_metrics, len(chosen)), with_conditions)


@_memo
def _sla_policy_names() -> SearchStrategy[str]:
    return st.one_of(st.sampled_from(_SLA_POLICY_NAMES), _texts(40))


@_memo
def _sla_policies(
    metrics: tuple[Metric, ...],
    targets: SearchStrategy[Target],
    max_metrics: int,
    with_conditions: bool,
) -> SearchStrategy[SlaPolicy]:
    condition: SearchStrategy[Condition] = st.just(ALWAYS)
    if with_conditions:
        condition = st.one_of(condition, _conditions(2, _CONDITION_TYPES))
    chosen = st.lists(st.sampled_from(metrics), min_size=1, max_size=max_metrics, unique=True)
    return _sla_policies_of(chosen, targets, _sla_policy_names(), condition)


@st.composite
def _sla_policies_of(
    draw: DrawFn,
    metrics: SearchStrategy[list[Metric]],
    targets: SearchStrategy[Target],
    names: SearchStrategy[str],
    condition: SearchStrategy[Condition],
) -> SlaPolicy:
    return SlaPolicy(
        name=draw(names),
        metrics=tuple(_metric_policy(draw, metric, targets) for metric in draw(metrics)),
        condition=draw(condition),
    )
