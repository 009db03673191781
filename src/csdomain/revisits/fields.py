"""Condition fields over the fact ``revisit`` (a :class:`~csdomain.revisits.tasks.RevisitTask`).

They let a condition read a revisit task, so a survey policy can send a
questionnaire after a revisit, or a ticket opened from a revisit's outcome can
be routed or escalated by it:

=====================  ==============================================  ==================
path                   value                                           tests (and Exists)
=====================  ==============================================  ==================
``revisit.outcome``    the :class:`~csdomain.revisits.Outcome` of the  Equals, In
                       last attempt (absent until one is recorded)
``revisit.form``       the current form (a                             Equals, In
                       :class:`~csdomain.revisits.RevisitForm`)
``revisit.plan``       the plan's name                                 Equals, In
``revisit.rule``       the rule's name                                 Equals, In
``revisit.attempts``   the attempts made so far                        every test
=====================  ==============================================  ==================

>>> from csdomain.conditions import Equals
>>> Equals("revisit.outcome", "reached_with_issue").field
'revisit.outcome'
"""

from __future__ import annotations

from operator import attrgetter
from typing import Final

from csdomain.conditions.fields import ConditionField, FieldKind, declare_field
from csdomain.revisits.vocabulary import Outcome, RevisitForm

__all__ = ["FACT", "REVISIT_FIELDS"]

#: The fact name the fields read.
FACT: Final = "revisit"


#: The declared ``revisit.*`` fields, by path.
REVISIT_FIELDS: Final[dict[str, ConditionField]] = {
    "revisit.outcome": declare_field(
        "revisit.outcome", FieldKind.ENUM, fact=FACT, read=attrgetter("outcome"), enum=Outcome
    ),
    "revisit.form": declare_field(
        "revisit.form", FieldKind.ENUM, fact=FACT, read=attrgetter("form"), enum=RevisitForm
    ),
    "revisit.plan": declare_field(
        "revisit.plan", FieldKind.KEY, fact=FACT, read=attrgetter("plan"), what="revisit plan name"
    ),
    "revisit.rule": declare_field(
        "revisit.rule", FieldKind.KEY, fact=FACT, read=attrgetter("rule"), what="revisit rule name"
    ),
    "revisit.attempts": declare_field(
        "revisit.attempts", FieldKind.SCALAR, fact=FACT, read=attrgetter("attempts")
    ),
}
