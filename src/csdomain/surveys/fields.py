"""Condition fields over the fact ``survey`` (a :class:`~csdomain.surveys.SurveyResponse`).

They let a condition read a survey answer, so a low score can reopen a ticket
(a policy's ``reopen_when``), trigger a revisit or feed an escalation rule:

====================  ========================================  ===================
path                  value                                     tests (and Exists)
====================  ========================================  ===================
``survey.csat``       the first CSAT score, 1-5                 every test
``survey.nps``        the first NPS score, 0-10                 every test
``survey.ces``        the first CES score, 1-7                  every test
``survey.kind``       :class:`~csdomain.surveys.SurveyKind`     Equals, In
``survey.template``   the template key                          Equals, In
====================  ========================================  ===================

A score is absent when the response holds none of that kind (so
``Compare("survey.csat", "le", 2)`` is false on an NPS-only response).

>>> from csdomain.conditions import Compare
>>> Compare("survey.csat", "le", 2).field
'survey.csat'
"""

from __future__ import annotations

from operator import attrgetter
from typing import Final

from csdomain.conditions.fields import ConditionField, FieldKind, declare_field
from csdomain.surveys.templates import SurveyKind

__all__ = ["SURVEY_FIELDS"]

#: The fact name the fields read.
FACT: Final = "survey"


#: The declared ``survey.*`` fields, by path.
SURVEY_FIELDS: Final[dict[str, ConditionField]] = {
    "survey.csat": declare_field(
        "survey.csat", FieldKind.SCALAR, fact=FACT, read=attrgetter("csat")
    ),
    "survey.nps": declare_field("survey.nps", FieldKind.SCALAR, fact=FACT, read=attrgetter("nps")),
    "survey.ces": declare_field("survey.ces", FieldKind.SCALAR, fact=FACT, read=attrgetter("ces")),
    "survey.kind": declare_field(
        "survey.kind", FieldKind.ENUM, fact=FACT, read=attrgetter("kind"), enum=SurveyKind
    ),
    "survey.template": declare_field(
        "survey.template",
        FieldKind.KEY,
        fact=FACT,
        read=attrgetter("template"),
        what="template key",
    ),
}
