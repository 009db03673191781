"""csdomain: the customer-service domain as a library.

Customers, channels, tickets (工单) with their timelines, priorities, people
and escalation tiers, as immutable attrs values with typed errors, JSON
serialization and localized labels. See https://csdomain.readthedocs.io.
"""

from csdomain._fields import personal_fields
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
from csdomain.clock import Clock, FrozenClock, SystemClock
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier, Purchase
from csdomain.errors import (
    ConflictError,
    CSDomainError,
    InvalidTransitionError,
    NotFoundError,
    Problem,
    ValidationError,
)
from csdomain.ids import IdGenerator, SequentialIds, UlidIds
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
from csdomain.tickets import (
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

__version__ = "0.1.0"

__all__ = [
    "BUILTIN_CHANNELS",
    "TRANSITIONS",
    "Actor",
    "ActorKind",
    "Agent",
    "AgentGrade",
    "Assigned",
    "BusinessCalendar",
    "CSDomainError",
    "CalendarUnion",
    "Channel",
    "ChannelDirectory",
    "ChannelKind",
    "ChannelTraits",
    "Clock",
    "ConflictError",
    "Consent",
    "ContactPoint",
    "CustomFieldsChanged",
    "Customer",
    "CustomerTier",
    "EscalationLadder",
    "EscalationTier",
    "ExtraWorkday",
    "FrozenClock",
    "Group",
    "Holiday",
    "IdGenerator",
    "Impact",
    "InvalidTransitionError",
    "LinkKind",
    "Linked",
    "MessageAdded",
    "NotFoundError",
    "Presence",
    "Priority",
    "PriorityChanged",
    "PriorityMatrix",
    "Problem",
    "Purchase",
    "Role",
    "SequentialIds",
    "Status",
    "StatusChanged",
    "SystemClock",
    "TagsChanged",
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
