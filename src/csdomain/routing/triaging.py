"""Triage: which group a new ticket goes to.

A :class:`Triage` is an ordered tuple of :class:`TriageRule` values and a
``default_group``. :func:`triage` returns the group of the first rule, in
order, whose every given filter matches; when none matches, the default group.

Filters of a rule (an empty filter matches everything):

* ``channels``: the ticket's channel key is one of them.
* ``kinds``: the ticket's kind is one of them.
* ``customer_tiers``: the customer's tier is one of them.
* ``segments``: the customer belongs to at least one of them.
* ``locales``: the customer's locale is one of them. Locales are compared as
  :class:`~csdomain.customers.Customer` keeps them (as given: ``"zh_Hans"``,
  ``"zh-CN"``, ``"en"``), after writing ``-`` as ``_`` and case-folding on both
  sides; a rule locale also matches the customer locales it is a prefix of at
  a ``_`` boundary (``"zh"`` matches ``"zh_Hans"`` and ``"zh-TW"``; ``"zh_Hans"``
  does not match ``"zh_CN"``: no likely-subtag expansion is made).
* ``keywords``: at least one keyword is a substring of the ticket's subject,
  both case-folded with :meth:`str.casefold` (so ``"REFUND"`` matches
  ``"refund please"`` and ``"投诉"`` matches ``"我要投诉"``).
* ``condition``: a :class:`~csdomain.conditions.Condition` over the ticket and
  customer (default :data:`~csdomain.conditions.ALWAYS`).

When the customer is ``None`` (unknown), a rule with a customer filter
(``customer_tiers``, ``segments`` or ``locales``) does not match; its
``condition`` sees ``customer=None``.

The trace returned by :func:`triage` is English sentences naming rules,
filters and configured values; it never quotes the subject (personal data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from enum import Enum
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.validation import (
    Check,
    Checked,
    checked,
    describe,
    each,
    frozen_set_of_str,
    instance,
    key,
    member_of,
    tags_check,
    text,
    tuple_of,
)
from csdomain.channels import ChannelKind, channel_key
from csdomain.conditions import ALWAYS, Condition
from csdomain.customers import CustomerTier
from csdomain.tickets import Ticket, TicketKind

if TYPE_CHECKING:
    from csdomain.customers import Customer

__all__ = ["Triage", "TriageRule", "locale_matches", "triage"]


_Strings: TypeAlias = AbstractSet[str] | list[str] | tuple[str, ...] | Iterator[str]


def _channel_keys(value: Iterable[ChannelKind | str]) -> frozenset[str]:
    converted = frozen_set_of_str(value)
    if isinstance(converted, frozenset):
        return frozenset(channel_key(c) if isinstance(c, ChannelKind) else c for c in converted)
    return converted  # left for the check to reject


E = TypeVar("E", bound=Enum)


def _members(enum: type[E], value: Iterable[E | str]) -> frozenset[E]:
    # Any collection (not a bare string) to a frozenset, members' values becoming members;
    # anything else is left for the field's check to reject.
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]  # left for the check to reject
    out: set[object] = set()
    for item in value:
        if type(item) is str:
            try:
                out.add(enum(item))
                continue
            except ValueError:
                pass  # reported by the check
        out.add(item)
    return frozenset(out)  # type: ignore[arg-type]  # the check refuses what is not


def _kinds(value: Iterable[TicketKind | str]) -> frozenset[TicketKind]:
    return _members(TicketKind, value)


def _tiers(value: Iterable[CustomerTier | str]) -> frozenset[CustomerTier]:
    return _members(CustomerTier, value)


def _strings(value: _Strings) -> frozenset[str]:
    return frozen_set_of_str(value)


def _keywords(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return value  # type: ignore[return-value]  # a bare string: left for the check
    return tuple_of(value)


_LOCALE = re.compile(r"[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*")


def _locale_explain(value: object) -> Iterator[tuple[str, str]]:
    yield (
        "",
        "expected a locale identifier such as 'en', 'zh', 'zh_Hans' or 'zh-TW', "
        f"got {describe(value)}",
    )


_locale_check = Check(
    lambda v: type(v) is str and _LOCALE.fullmatch(v) is not None, _locale_explain
)
_keyword_check = text(max_length=200)


def _keywords_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of keywords, got {describe(value)}"
        return
    for i, item in enumerate(value):
        if not _keyword_check.ok(item):
            for sub, message in _keyword_check.explain(item):
                yield f"[{i}]{sub}", message


def _normal_locale(locale: str) -> str:
    return locale.replace("-", "_").casefold()


def locale_matches(rule_locale: str, customer_locale: str) -> bool:
    """True when ``customer_locale`` is ``rule_locale`` or a more specific locale of it.

    Both are compared with ``-`` written as ``_`` and case-folded; ``"zh"``
    matches ``"zh_Hans"`` and ``"zh-TW"``, ``"zh_Hans"`` does not match ``"zh_CN"``.

    >>> locale_matches("zh", "zh_Hans"), locale_matches("zh_Hans", "zh_CN")
    (True, False)
    """
    rule = _normal_locale(rule_locale)
    given = _normal_locale(customer_locale)
    return given == rule or given.startswith(rule + "_")


@attrs.frozen
class TriageRule(Checked):
    """Send tickets matching every given filter to ``group_id``.

    An empty filter matches every ticket; see :mod:`csdomain.routing.triaging`
    for what each filter compares.

    >>> rule = TriageRule(name="complaints", group_id="grp_complaints", keywords=("投诉",))
    >>> rule.keywords
    ('投诉',)
    """

    name: str = attrs.field(metadata=checked(text(max_length=200)))
    group_id: str = attrs.field(metadata=checked(key("group id")))
    channels: frozenset[str] = attrs.field(
        factory=frozenset,
        converter=_channel_keys,
        metadata=checked(each(key("channel key"), frozenset)),
    )
    kinds: frozenset[TicketKind] = attrs.field(
        factory=frozenset,
        converter=_kinds,
        metadata=checked(each(member_of(TicketKind), frozenset)),
    )
    customer_tiers: frozenset[CustomerTier] = attrs.field(
        factory=frozenset,
        converter=_tiers,
        metadata=checked(each(member_of(CustomerTier), frozenset)),
    )
    segments: frozenset[str] = attrs.field(
        factory=frozenset, converter=_strings, metadata=checked(tags_check)
    )
    locales: frozenset[str] = attrs.field(
        factory=frozenset, converter=_strings, metadata=checked(each(_locale_check, frozenset))
    )
    keywords: tuple[str, ...] = attrs.field(
        default=(), converter=_keywords, metadata=checked(Check.of(_keywords_explain))
    )
    condition: Condition = attrs.field(
        default=ALWAYS, metadata=checked(instance(Condition, "a Condition"))
    )
    # The keywords case-folded once: triage folds only the subject.
    _folded: tuple[str, ...] = attrs.field(init=False, default=(), eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_folded", tuple(k.casefold() for k in self.keywords))

    @property
    def uses_customer(self) -> bool:
        """True when the rule has a filter on the customer (tier, segment or locale)."""
        return bool(self.customer_tiers or self.segments or self.locales)

    def mismatch(self, ticket: Ticket, customer: Customer | None) -> str | None:
        """Why the rule does not match (a short English phrase), or None when it matches."""
        if self.channels and ticket.channel not in self.channels:
            return f"channel {ticket.channel!r} is not among {_listed(self.channels)}"
        if self.kinds and ticket.kind not in self.kinds:
            return f"kind {ticket.kind.value!r} is not among {_listed(k.value for k in self.kinds)}"
        if self.uses_customer and customer is None:
            return "the customer is unknown and the rule filters on customers"
        if customer is not None:
            if self.customer_tiers and customer.tier not in self.customer_tiers:
                return (
                    f"customer tier {customer.tier.value!r} is not among "
                    f"{_listed(t.value for t in self.customer_tiers)}"
                )
            if self.segments and not (customer.segments & self.segments):
                return f"the customer is in none of the segments {_listed(self.segments)}"
            if self.locales and not any(locale_matches(x, customer.locale) for x in self.locales):
                return f"locale {customer.locale!r} is not among {_listed(self.locales)}"
        if self._folded:
            subject = ticket.subject.casefold()
            if not any(k in subject for k in self._folded):
                return f"the subject contains none of the keywords {list(self.keywords)!r}"
        if self.condition is not ALWAYS and not self.condition.matches(ticket, customer):
            return "its condition does not match"
        return None

    def matches(self, ticket: Ticket, customer: Customer | None) -> bool:
        """True when every given filter matches ``ticket`` and ``customer``."""
        return self.mismatch(ticket, customer) is None


def _listed(values: Iterable[str]) -> str:
    return "[" + ", ".join(repr(v) for v in sorted(values)) + "]"


def _rules(value: Iterable[TriageRule]) -> tuple[TriageRule, ...]:
    return tuple_of(value)


def _rules_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of TriageRule, got {describe(value)}"
        return
    seen: dict[str, int] = {}
    for i, item in enumerate(value):
        if not isinstance(item, TriageRule):
            yield f"[{i}]", f"expected a TriageRule, got {describe(item)}"
        elif item.name in seen:
            yield f"[{i}].name", f"rule name {item.name!r} is already used by [{seen[item.name]}]"
        else:
            seen[item.name] = i


@attrs.frozen
class Triage(Checked):
    """The ordered triage rules and the group taking what no rule matches.

    Rule names are unique (traces and problems name rules by them).
    """

    rules: tuple[TriageRule, ...] = attrs.field(
        converter=_rules, metadata=checked(Check.of(_rules_explain))
    )
    default_group: str = attrs.field(metadata=checked(key("group id")))


declare_document("triage_rule", TriageRule)
declare_document("triage", Triage)


def triage(
    rules: Triage, ticket: Ticket, customer: Customer | None
) -> tuple[str, str | None, tuple[str, ...]]:
    """The group for ``ticket``: ``(group id, name of the rule that chose it or None for the
    default group, trace)``.

    The first rule in order whose every filter matches chooses; the trace has
    one sentence per rule tried and one for the choice.
    """
    trace: list[str] = []
    for rule in rules.rules:
        why = rule.mismatch(ticket, customer)
        if why is None:
            trace.append(f"triage rule {rule.name!r} matched: group {rule.group_id!r}")
            return rule.group_id, rule.name, tuple(trace)
        trace.append(f"triage rule {rule.name!r} did not match: {why}")
    trace.append(f"no triage rule matched: default group {rules.default_group!r}")
    return rules.default_group, None, tuple(trace)
