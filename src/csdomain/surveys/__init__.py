"""Satisfaction surveys (满意度调查): templates, policies, invitations, responses, scores.

A :class:`SurveyTemplate` is versioned and localized, with typed :class:`Question`
values (CSAT 1-5, NPS 0-10, CES 1-7, single or multiple choice, free text). A
:class:`SurveyPolicy` says when an :class:`Invitation` follows a service record
(a ticket solved, a revisit done, a chat ended), after what delay, on which
channel, how often one customer may be asked (:class:`Throttle`), when it expires,
its one reminder, what a reopen does and when the agent, group and channel are
credited (:class:`Attribution`, fixed once). Tokens come from :mod:`secrets` and
are stored only as hashes (:func:`token_hash`, compared in constant time by
:func:`token_matches`). :func:`validate_answers` checks a response against the
template version it answers.

Scores follow the industry definitions with honest statistics: :func:`csat_score`
(share of 4-5, Wilson interval), :func:`nps_score` (% 9-10 minus % 0-6,
adjusted-Wald interval), :func:`ces_score` (mean with a Student t interval, or the
share of 5-7), each a :class:`Score` with ``n``, its interval and a small-sample
flag; :func:`breakdown` and :func:`drivers` find the cells and groups that differ.

Everything here is pure; :class:`csdomain.helpdesk.SurveyDesk` stores templates,
invitations and responses in :data:`SURVEY_TEMPLATES`, :data:`INVITATIONS` and
:data:`RESPONSES` and sends invitations from the HelpDesk's sweeps. See
``docs/surveys.md``.
"""

from __future__ import annotations

from csdomain.surveys.collections import INVITATIONS, RESPONSES, SURVEY_TEMPLATES
from csdomain.surveys.events import InvitationEvent, InvitationEventKind
from csdomain.surveys.fields import SURVEY_FIELDS
from csdomain.surveys.intervals import (
    Interval,
    TestResult,
    adjusted_wald_nps,
    holm_adjust,
    nps_difference_z_test,
    t_interval,
    t_quantile,
    two_proportion_z_test,
    welch_t_test,
    wilson,
)
from csdomain.surveys.invitations import OPEN_STATES, Attribution, Invitation, InvitationState
from csdomain.surveys.policies import (
    CHAT_CHANNELS,
    AttributionPoint,
    ReopenRule,
    SurveyPolicy,
    SurveyTrigger,
    Throttle,
    throttle_allows,
)
from csdomain.surveys.questions import CesReporting, Choice, LocalizedText, Question, QuestionKind
from csdomain.surveys.responses import Answer, SurveyResponse, validate_answers
from csdomain.surveys.scores import (
    SMALL_SAMPLE,
    Breakdown,
    BreakdownCell,
    DriverAnalysis,
    DriverFinding,
    ResponseFacts,
    Score,
    ScoreTally,
    ScoreUnit,
    breakdown,
    ces_score,
    csat_score,
    drivers,
    nps_score,
    response_rate,
)
from csdomain.surveys.templates import SurveyKind, SurveyTemplate, template_for
from csdomain.surveys.tokens import new_token, token_hash, token_matches

__all__ = [
    "CHAT_CHANNELS",
    "INVITATIONS",
    "OPEN_STATES",
    "RESPONSES",
    "SMALL_SAMPLE",
    "SURVEY_FIELDS",
    "SURVEY_TEMPLATES",
    "Answer",
    "Attribution",
    "AttributionPoint",
    "Breakdown",
    "BreakdownCell",
    "CesReporting",
    "Choice",
    "DriverAnalysis",
    "DriverFinding",
    "Interval",
    "Invitation",
    "InvitationEvent",
    "InvitationEventKind",
    "InvitationState",
    "LocalizedText",
    "Question",
    "QuestionKind",
    "ReopenRule",
    "ResponseFacts",
    "Score",
    "ScoreTally",
    "ScoreUnit",
    "SurveyKind",
    "SurveyPolicy",
    "SurveyResponse",
    "SurveyTemplate",
    "SurveyTrigger",
    "TestResult",
    "Throttle",
    "adjusted_wald_nps",
    "breakdown",
    "ces_score",
    "csat_score",
    "drivers",
    "holm_adjust",
    "new_token",
    "nps_difference_z_test",
    "nps_score",
    "response_rate",
    "t_interval",
    "t_quantile",
    "template_for",
    "throttle_allows",
    "token_hash",
    "token_matches",
    "two_proportion_z_test",
    "validate_answers",
    "welch_t_test",
    "wilson",
]
