"""The HelpDesk's timeline events: :class:`~csdomain.routing.Routed` (why routing chose a
group and an agent), defined beside routing so that every process reading a stored
ticket knows it (serialization imports the engines, not the service)."""

from __future__ import annotations

from csdomain.routing.events import Routed

__all__ = ["Routed"]
