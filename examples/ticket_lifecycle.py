"""A complaint on WeChat from first message to a closed ticket and its follow-up.

Run: python examples/ticket_lifecycle.py
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from csdomain import (
    Actor,
    ChannelKind,
    FrozenClock,
    Priority,
    SequentialIds,
    Status,
    Ticket,
    TicketKind,
)
from csdomain.i18n import label

clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
ids = SequentialIds()
agent, engineer = Actor.agent("agt_1"), Actor.agent("agt_2")

ticket = Ticket.open(
    id=ids.new("tkt"),
    customer_id="cus_1",
    channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT,
    subject="Washing machine leaks",
    kind=TicketKind.AFTER_SALES,
    description="It leaks since yesterday's repair.",
    at=clock.now(),
)
ticket = ticket.add_message(at=clock.advance(minutes=3), actor=agent, body="Please send a photo.")
ticket = ticket.change_status(Status.PENDING, at=clock.advance(minutes=1), actor=agent)
ticket = ticket.add_message(
    at=clock.advance(hours=2), actor=Actor.customer("cus_1"), body="Photo attached."
)
ticket = ticket.change_priority(Priority.HIGH, at=clock.advance(minutes=5), actor=agent)
ticket = ticket.change_tier("L2", at=clock.now(), actor=agent, reason="needs a technician")
ticket = ticket.change_status(Status.SOLVED, at=clock.advance(days=1), actor=engineer)
ticket = ticket.change_status(
    Status.CLOSED, at=clock.advance(days=7), actor=Actor.system("auto-close")
)

for event in ticket.timeline:
    print(event.at.isoformat(), event.actor, event.type_name)
print("final:", label(ticket.status, "zh_CN"), ticket.tier)

follow_up = ticket.follow_up(
    id=ids.new("tkt"), at=clock.advance(days=30), description="It leaks again."
)
print("follow-up", follow_up.id, "of", follow_up.links[0].ticket_id)
assert Ticket(timeline=ticket.timeline) == ticket
