"""csdomain: the customer-service domain as a library.

Customers, channels, tickets (工单) with their timelines, priorities, people,
escalation tiers, business calendars, conditions and SLA policies, as immutable attrs values
with typed errors, JSON serialization and localized labels. See https://csdomain.readthedocs.io.

The top level holds the model's nouns and the errors; names are resolved on first
use, so ``import csdomain`` loads nothing else (as the ``whenever`` package does).
Engine verbs live in their namespace: ``csdomain.sla.evaluate``.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Where each public name lives.
_LOCATIONS: dict[str, str] = {
    "Actor": "csdomain.tickets",
    "ActorKind": "csdomain.tickets",
    "Agent": "csdomain.people",
    "AgentGrade": "csdomain.people",
    "AllOf": "csdomain.conditions",
    "ALWAYS": "csdomain.conditions",
    "AnyOf": "csdomain.conditions",
    "Assigned": "csdomain.tickets",
    "BUILTIN_CHANNELS": "csdomain.channels",
    "BusinessCalendar": "csdomain.calendars",
    "CalendarUnion": "csdomain.calendars",
    "Channel": "csdomain.channels",
    "ChannelDirectory": "csdomain.channels",
    "ChannelKind": "csdomain.channels",
    "ChannelTraits": "csdomain.channels",
    "Clock": "csdomain.clock",
    "Compare": "csdomain.conditions",
    "Comparison": "csdomain.conditions",
    "Condition": "csdomain.conditions",
    "ConflictError": "csdomain.errors",
    "Consent": "csdomain.customers",
    "ContactRules": "csdomain.addresses",
    "ContactPoint": "csdomain.customers",
    "Contains": "csdomain.conditions",
    "CSDomainError": "csdomain.errors",
    "StorageError": "csdomain.errors",
    "StorageConnectionError": "csdomain.errors",
    "SchemaError": "csdomain.errors",
    "NoStoreError": "csdomain.errors",
    "RetryableStorageError": "csdomain.errors",
    "CorruptRecordError": "csdomain.errors",
    "Customer": "csdomain.customers",
    "CustomerTier": "csdomain.customers",
    "CustomFieldsChanged": "csdomain.tickets",
    "Equals": "csdomain.conditions",
    "EscalationLadder": "csdomain.people",
    "EscalationTier": "csdomain.people",
    "Exists": "csdomain.conditions",
    "ExtraWorkday": "csdomain.calendars",
    "FrozenClock": "csdomain.clock",
    "Group": "csdomain.people",
    "Holiday": "csdomain.calendars",
    "IdGenerator": "csdomain.ids",
    "Impact": "csdomain.priorities",
    "In": "csdomain.conditions",
    "InvalidTransitionError": "csdomain.errors",
    "InvitationTokenError": "csdomain.errors",
    "Linked": "csdomain.tickets",
    "LinkKind": "csdomain.tickets",
    "MessageAdded": "csdomain.tickets",
    "PersonalDataErased": "csdomain.tickets",
    "MetricPolicy": "csdomain.sla",
    "MetricStatus": "csdomain.sla",
    "Not": "csdomain.conditions",
    "NotFoundError": "csdomain.errors",
    "OnPriorityChange": "csdomain.sla",
    "OnReopen": "csdomain.sla",
    "personal_fields": "csdomain.privacy",
    "Presence": "csdomain.people",
    "Priority": "csdomain.priorities",
    "PriorityChanged": "csdomain.tickets",
    "PriorityMatrix": "csdomain.priorities",
    "Problem": "csdomain.errors",
    "Purchase": "csdomain.customers",
    "Role": "csdomain.people",
    "SequentialIds": "csdomain.ids",
    "SlaExplanation": "csdomain.sla",
    "SlaMetric": "csdomain.sla",
    "SlaPolicy": "csdomain.sla",
    "SlaSetup": "csdomain.sla",
    "SlaState": "csdomain.sla",
    "SlaStatus": "csdomain.sla",
    "Status": "csdomain.tickets",
    "StatusChanged": "csdomain.tickets",
    "SystemClock": "csdomain.clock",
    "TagsChanged": "csdomain.tickets",
    "Target": "csdomain.sla",
    "Ticket": "csdomain.tickets",
    "TicketCreated": "csdomain.tickets",
    "TicketEvent": "csdomain.tickets",
    "TicketKind": "csdomain.tickets",
    "TicketLink": "csdomain.tickets",
    "TierChanged": "csdomain.tickets",
    "TimeRange": "csdomain.calendars",
    "TRANSITIONS": "csdomain.tickets",
    "UlidIds": "csdomain.ids",
    "Urgency": "csdomain.priorities",
    "ValidationError": "csdomain.errors",
    "Visibility": "csdomain.tickets",
}

#: Old top-level names that moved, with where they live now (each access warns).
_DEPRECATED: dict[str, tuple[str, str]] = {
    "Metric": ("csdomain.sla", "SlaMetric"),
    "evaluate": ("csdomain.sla", "evaluate"),
    "explain": ("csdomain.sla", "explain"),
    "next_deadline": ("csdomain.sla", "next_deadline"),
    "select_policy": ("csdomain.sla", "select_policy"),
}


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # resolved once
        return value
    moved = _DEPRECATED.get(name)
    if moved is not None:
        module, new_name = moved
        hint = "csdomain.SlaMetric" if name == "Metric" else f"{module}.{new_name}"
        warnings.warn(
            f"csdomain.{name} is deprecated; use {hint}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(module), new_name)
    raise AttributeError(f"module 'csdomain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted((*globals(), *_LOCATIONS))


if TYPE_CHECKING:
    from csdomain.addresses import ContactRules as ContactRules
    from csdomain.calendars import BusinessCalendar as BusinessCalendar
    from csdomain.calendars import CalendarUnion as CalendarUnion
    from csdomain.calendars import ExtraWorkday as ExtraWorkday
    from csdomain.calendars import Holiday as Holiday
    from csdomain.calendars import TimeRange as TimeRange
    from csdomain.channels import BUILTIN_CHANNELS as BUILTIN_CHANNELS
    from csdomain.channels import Channel as Channel
    from csdomain.channels import ChannelDirectory as ChannelDirectory
    from csdomain.channels import ChannelKind as ChannelKind
    from csdomain.channels import ChannelTraits as ChannelTraits
    from csdomain.clock import Clock as Clock
    from csdomain.clock import FrozenClock as FrozenClock
    from csdomain.clock import SystemClock as SystemClock
    from csdomain.conditions import ALWAYS as ALWAYS
    from csdomain.conditions import AllOf as AllOf
    from csdomain.conditions import AnyOf as AnyOf
    from csdomain.conditions import Compare as Compare
    from csdomain.conditions import Comparison as Comparison
    from csdomain.conditions import Condition as Condition
    from csdomain.conditions import Contains as Contains
    from csdomain.conditions import Equals as Equals
    from csdomain.conditions import Exists as Exists
    from csdomain.conditions import In as In
    from csdomain.conditions import Not as Not
    from csdomain.customers import Consent as Consent
    from csdomain.customers import ContactPoint as ContactPoint
    from csdomain.customers import Customer as Customer
    from csdomain.customers import CustomerTier as CustomerTier
    from csdomain.customers import Purchase as Purchase
    from csdomain.errors import ConflictError as ConflictError
    from csdomain.errors import CorruptRecordError as CorruptRecordError
    from csdomain.errors import CSDomainError as CSDomainError
    from csdomain.errors import InvalidTransitionError as InvalidTransitionError
    from csdomain.errors import InvitationTokenError as InvitationTokenError
    from csdomain.errors import NoStoreError as NoStoreError
    from csdomain.errors import NotFoundError as NotFoundError
    from csdomain.errors import Problem as Problem
    from csdomain.errors import RetryableStorageError as RetryableStorageError
    from csdomain.errors import SchemaError as SchemaError
    from csdomain.errors import StorageConnectionError as StorageConnectionError
    from csdomain.errors import StorageError as StorageError
    from csdomain.errors import ValidationError as ValidationError
    from csdomain.ids import IdGenerator as IdGenerator
    from csdomain.ids import SequentialIds as SequentialIds
    from csdomain.ids import UlidIds as UlidIds
    from csdomain.people import Agent as Agent
    from csdomain.people import AgentGrade as AgentGrade
    from csdomain.people import EscalationLadder as EscalationLadder
    from csdomain.people import EscalationTier as EscalationTier
    from csdomain.people import Group as Group
    from csdomain.people import Presence as Presence
    from csdomain.people import Role as Role
    from csdomain.priorities import Impact as Impact
    from csdomain.priorities import Priority as Priority
    from csdomain.priorities import PriorityMatrix as PriorityMatrix
    from csdomain.priorities import Urgency as Urgency
    from csdomain.privacy import personal_fields as personal_fields
    from csdomain.sla import MetricPolicy as MetricPolicy
    from csdomain.sla import MetricStatus as MetricStatus
    from csdomain.sla import OnPriorityChange as OnPriorityChange
    from csdomain.sla import OnReopen as OnReopen
    from csdomain.sla import SlaExplanation as SlaExplanation
    from csdomain.sla import SlaMetric as Metric  # noqa: F401  # deprecated alias
    from csdomain.sla import SlaMetric as SlaMetric
    from csdomain.sla import SlaPolicy as SlaPolicy
    from csdomain.sla import SlaSetup as SlaSetup
    from csdomain.sla import SlaState as SlaState
    from csdomain.sla import SlaStatus as SlaStatus
    from csdomain.sla import Target as Target
    from csdomain.sla import (  # deprecated at the top level
        evaluate as evaluate,
    )
    from csdomain.sla import (
        explain as explain,
    )
    from csdomain.sla import (
        next_deadline as next_deadline,
    )
    from csdomain.sla import (
        select_policy as select_policy,
    )
    from csdomain.tickets import TRANSITIONS as TRANSITIONS
    from csdomain.tickets import Actor as Actor
    from csdomain.tickets import ActorKind as ActorKind
    from csdomain.tickets import Assigned as Assigned
    from csdomain.tickets import CustomFieldsChanged as CustomFieldsChanged
    from csdomain.tickets import Linked as Linked
    from csdomain.tickets import LinkKind as LinkKind
    from csdomain.tickets import MessageAdded as MessageAdded
    from csdomain.tickets import PersonalDataErased as PersonalDataErased
    from csdomain.tickets import PriorityChanged as PriorityChanged
    from csdomain.tickets import Status as Status
    from csdomain.tickets import StatusChanged as StatusChanged
    from csdomain.tickets import TagsChanged as TagsChanged
    from csdomain.tickets import Ticket as Ticket
    from csdomain.tickets import TicketCreated as TicketCreated
    from csdomain.tickets import TicketEvent as TicketEvent
    from csdomain.tickets import TicketKind as TicketKind
    from csdomain.tickets import TicketLink as TicketLink
    from csdomain.tickets import TierChanged as TierChanged
    from csdomain.tickets import Visibility as Visibility

__all__ = [
    "ALWAYS",
    "BUILTIN_CHANNELS",
    "TRANSITIONS",
    "Actor",
    "ActorKind",
    "Agent",
    "AgentGrade",
    "AllOf",
    "AnyOf",
    "Assigned",
    "BusinessCalendar",
    "CSDomainError",
    "CalendarUnion",
    "Channel",
    "ChannelDirectory",
    "ChannelKind",
    "ChannelTraits",
    "Clock",
    "Compare",
    "Comparison",
    "Condition",
    "ConflictError",
    "Consent",
    "ContactPoint",
    "ContactRules",
    "Contains",
    "CorruptRecordError",
    "CustomFieldsChanged",
    "Customer",
    "CustomerTier",
    "Equals",
    "EscalationLadder",
    "EscalationTier",
    "Exists",
    "ExtraWorkday",
    "FrozenClock",
    "Group",
    "Holiday",
    "IdGenerator",
    "Impact",
    "In",
    "InvalidTransitionError",
    "InvitationTokenError",
    "LinkKind",
    "Linked",
    "MessageAdded",
    "MetricPolicy",
    "MetricStatus",
    "NoStoreError",
    "Not",
    "NotFoundError",
    "OnPriorityChange",
    "OnReopen",
    "PersonalDataErased",
    "Presence",
    "Priority",
    "PriorityChanged",
    "PriorityMatrix",
    "Problem",
    "Purchase",
    "RetryableStorageError",
    "Role",
    "SchemaError",
    "SequentialIds",
    "SlaExplanation",
    "SlaMetric",
    "SlaPolicy",
    "SlaSetup",
    "SlaState",
    "SlaStatus",
    "Status",
    "StatusChanged",
    "StorageConnectionError",
    "StorageError",
    "SystemClock",
    "TagsChanged",
    "Target",
    "Ticket",
    "TicketCreated",
    "TicketEvent",
    "TicketKind",
    "TicketLink",
    "TierChanged",
    "TimeRange",
    "UlidIds",
    "Urgency",
    "ValidationError",
    "Visibility",
    "__version__",
    "personal_fields",
]
