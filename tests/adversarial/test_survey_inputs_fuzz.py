"""Adversarial inputs to SurveyDesk.answer: what a customer's browser can send.

* Tokens: empty, huge, unicode, lone surrogates, NUL, a prefix of a real token, the
  stored hash itself, the token with spaces or another case, non-text: each is an
  ``InvitationTokenError`` with reason ``unknown``, and every row of the store
  (every collection, SQLite and PostgreSQL) is the same afterwards.
* Answers, JSON-shaped: nested lists, bools for ints, floats, NaN, infinities, huge
  ints, strings with surrogates or NUL, unknown and missing keys, non-mappings: each
  is one ``ValidationError`` whose paths name the questions at fault, nothing stored.
  A property over generated JSON-shaped answers: refused means a ValidationError
  (never another exception), accepted means every value is in the question's range.
* A token works once; both links of a reminded invitation are spent by one answer.
* Two real processes answering one token at once (SQLite file, PostgreSQL): one
  response, counted once; the other is refused as ``used``.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_helpdesk import MONDAY_10, _setup
from test_survey_desk import _OPENED, V1, V2, Outbox, World, policy

from csdomain.clock import FrozenClock
from csdomain.errors import InvitationTokenError, ValidationError
from csdomain.helpdesk import HelpDesk
from csdomain.helpdesk.surveys import SurveyDesk
from csdomain.storage import open_store
from csdomain.surveys.collections import INVITATIONS, RESPONSES
from csdomain.surveys.invitations import InvitationState
from csdomain.surveys.questions import Choice, LocalizedText, Question, QuestionKind
from csdomain.surveys.responses import validate_answers
from csdomain.surveys.templates import SurveyTemplate
from csdomain.surveys.tokens import token_hash
from csdomain.tickets import Actor

DAY = timedelta(days=1)
_spawn = multiprocessing.get_context("spawn")

Rows = dict[str, list[str]]


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().store.close()


def _sent_world(url: str, **changes: object) -> tuple[World, str, str]:
    """A world on ``url`` with one invitation sent: (world, its id, its token)."""
    world = World(url, policy(**changes))
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    invitation = world.only(ticket_id)
    assert invitation.state is InvitationState.SENT
    return world, invitation.id, world.outbox.tokens(invitation.id)[0]


# -- tokens -----------------------------------------------------------------------------------


def _fuzzed_tokens(token: str, stored_hash: str) -> list[object]:
    return [
        "",
        "x" * 100_000,
        "x" * 513,
        "é中文\U0001f600",
        "\ud800",
        "\udfff" + token,
        "\x00",
        token + "\x00",
        token[:-1],
        token[:10],
        token[1:],
        stored_hash,
        stored_hash.upper(),
        token_hash(stored_hash),
        token + " ",
        " " + token,
        token.swapcase(),
        token + token,
        None,
        123,
        b"bytes",
        token.encode(),
        [token],
        {"token": token},
    ]


def test_fuzzed_tokens_are_unknown_and_store_nothing(
    backend: tuple[str, Callable[[], Rows]],
) -> None:
    url, rows = backend
    world, invitation_id, token = _sent_world(url)
    stored_hash = world.surveys.invitation(invitation_id).token_hashes[0]
    before = rows()
    for fuzzed in _fuzzed_tokens(token, stored_hash):
        with pytest.raises(InvitationTokenError) as caught:
            world.surveys.answer(fuzzed, {"csat": 5})  # type: ignore[arg-type]
        assert caught.value.reason == "unknown", fuzzed
        assert caught.value.invitation_id is None  # an unknown token names no invitation
        assert "token" in str(caught.value)
    assert rows() == before
    # The real token still works afterwards.
    assert world.surveys.answer(token, {"csat": 5}).csat == 5


# -- answers ----------------------------------------------------------------------------------

#: JSON-shaped answers to template after-solve@2 (csat required 1-5, why optional text
#: up to 1,000) and the question keys the refusal must name ("" = the whole mapping).
FUZZED_ANSWERS: list[tuple[object, set[str]]] = [
    ({}, {"csat"}),
    ({"csat": True}, {"csat"}),
    ({"csat": False}, {"csat"}),
    ({"csat": 5.0}, {"csat"}),
    ({"csat": 4.5}, {"csat"}),
    ({"csat": math.nan}, {"csat"}),
    ({"csat": math.inf}, {"csat"}),
    ({"csat": -math.inf}, {"csat"}),
    ({"csat": 10**100}, {"csat"}),
    ({"csat": -(2**63)}, {"csat"}),
    ({"csat": 0}, {"csat"}),
    ({"csat": 6}, {"csat"}),
    ({"csat": "5"}, {"csat"}),
    ({"csat": [5]}, {"csat"}),
    ({"csat": [[5]]}, {"csat"}),
    ({"csat": {"value": 5}}, {"csat"}),
    ({"csat": None}, {"csat"}),
    ({"csat": "\ud800"}, {"csat"}),
    ({"csat": 3, "why": "\ud800"}, {"why"}),
    ({"csat": 3, "why": "ok \udfff"}, {"why"}),
    ({"csat": 3, "why": "\x00"}, {"why"}),
    ({"csat": 3, "why": "x" * 1001}, {"why"}),
    ({"csat": 3, "why": 5}, {"why"}),
    ({"csat": 3, "why": ["a", ["b"]]}, {"why"}),
    ({"csat": 3, "why": None}, {"why"}),
    ({"csat": 3, "mood": "fine"}, {"mood"}),
    ({"csat": 3, "CSAT": 3}, {"CSAT"}),
    ({"csat": 7, "mood": 1, "why": 2}, {"csat", "mood", "why"}),
    ({"why": "no score"}, {"csat"}),
    (None, {""}),
    ([["csat", 5]], {""}),
    ("csat=5", {""}),
    (5, {""}),
]


def test_fuzzed_answers_are_one_validation_error_naming_each_question(
    backend: tuple[str, Callable[[], Rows]],
) -> None:
    url, rows = backend
    world, invitation_id, token = _sent_world(url)
    invitation_before = world.surveys.invitation(invitation_id)
    before = rows()
    for answers, paths in FUZZED_ANSWERS:
        with pytest.raises(ValidationError) as caught:
            world.surveys.answer(token, answers)  # type: ignore[arg-type]
        assert paths <= set(caught.value.paths), (answers, caught.value.paths)
        assert set(caught.value.paths) <= paths | {"csat"}, (answers, caught.value.paths)
        assert "survey answers" in str(caught.value)
    assert rows() == before
    assert world.surveys.invitation(invitation_id) == invitation_before
    assert world.surveys.answer(token, {"csat": 2, "why": "slow"}).csat == 2


_T = LocalizedText.of("Q")
MIXED = SurveyTemplate(
    "mixed",
    1,
    "nps",
    _T,
    [
        Question("nps", "nps", _T),
        Question("ces", "ces", _T, required=False),
        Question(
            "one", "single_choice", _T, required=False, choices=[Choice("a", _T), Choice("b", _T)]
        ),
        Question(
            "many",
            "multiple_choice",
            _T,
            required=False,
            choices=[Choice("a", _T), Choice("b", _T), Choice("c", _T)],
        ),
        Question("txt", "text", _T, required=False, max_length=5),
    ],
)
_KEYS = {q.key for q in MIXED.questions}
_RANGES = {QuestionKind.NPS: range(11), QuestionKind.CES: range(1, 8)}

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-2, max_value=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["a", "b", "c", "z", "", "\ud800", "a\x00"]),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_json_answers = st.dictionaries(
    st.one_of(st.sampled_from(["nps", "ces", "one", "many", "txt"]), st.text(max_size=4)),
    _json_values,
    max_size=6,
)


@given(_json_answers)
def test_json_shaped_answers_are_valid_or_one_validation_error(answers: dict[str, Any]) -> None:
    """Law: whatever JSON a browser posts, validate_answers either returns answers that
    are each in their question's range and among its choices, or raises one
    ValidationError (never another exception) whose paths are question keys."""
    refused: ValidationError | None = None
    try:
        valid = validate_answers(MIXED, answers)
    except ValidationError as error:
        refused = error
    if refused is not None:
        assert refused.paths
        for path in refused.paths:
            assert path == "" or path in answers or path in _KEYS, (path, answers)
        return
    assert set(valid) <= set(answers) and "nps" in valid
    for key, answer in valid.items():
        question = next(q for q in MIXED.questions if q.key == key)
        if question.kind in _RANGES:
            assert type(answer.score) is int and answer.score in _RANGES[question.kind]
        elif question.kind is QuestionKind.SINGLE_CHOICE:
            assert len(answer.choices) == 1 and answer.choices[0] in {"a", "b"}
        elif question.kind is QuestionKind.MULTIPLE_CHOICE:
            assert set(answer.choices) <= {"a", "b", "c"}
            assert len(set(answer.choices)) == len(answer.choices)
        else:
            assert isinstance(answer.text, str) and len(answer.text) <= 5
    json.dumps({k: v.score for k, v in valid.items()})  # what was kept is plain data


# -- once -------------------------------------------------------------------------------------


def test_a_token_works_once_and_a_reminder_link_is_spent_with_it(
    backend: tuple[str, Callable[[], Rows]],
) -> None:
    url, rows = backend
    world = World(url, policy())
    ticket_id = world.solved_ticket(world.customer())
    world.at(DAY)
    world.sweep()
    world.at(3 * DAY)
    assert world.sweep()["reminded"] == 1
    first, second = world.outbox.tokens(world.only(ticket_id).id)
    response = world.surveys.answer(second, {"csat": 4})
    before = rows()
    for token in (first, second, second, first):
        with pytest.raises(InvitationTokenError) as caught:
            world.surveys.answer(token, {"csat": 1})
        assert caught.value.reason == "used"
        assert caught.value.invitation_id == world.only(ticket_id).id
        assert world.only(ticket_id).id in str(caught.value)
    assert rows() == before
    assert world.surveys.response(response.id).csat == 4
    assert world.counts() == (1, 1)


# -- two processes, one token -----------------------------------------------------------------


def _answerer(
    url: str, tenant: str, token: str, at: str, score: int, barrier: Any, out: str
) -> None:
    """A process of its own answering ``token`` once every process is ready."""
    clock = FrozenClock(datetime.fromisoformat(at))
    surveys = SurveyDesk([policy()], [V1, V2])
    store = open_store(url, tenant=tenant, clock=clock)
    desk = HelpDesk(store, _setup(), clock=clock, extensions=[surveys])
    try:
        barrier.wait(timeout=120)
        try:
            response = surveys.answer(token, {"csat": score})
            result: dict[str, Any] = {"won": True, "response": response.id}
        except InvitationTokenError as error:
            result = {"won": False, "reason": error.reason}
        Path(out).write_text(json.dumps(result), encoding="utf-8")
    finally:
        desk.store.close()


def _answer_race(url: str, tmp: Path) -> None:
    tenant = f"sva{secrets.token_hex(4)}"
    clock = FrozenClock(MONDAY_10)
    outbox = Outbox()
    surveys = SurveyDesk([policy()], [V1, V2], deliver=outbox)
    store = open_store(url, tenant=tenant, clock=clock, create=True)
    desk = HelpDesk(store, _setup(), clock=clock, extensions=[surveys])
    try:
        opened = desk.open_ticket(contact="13800138000", channel="phone_hotline", subject="Hi")
        from test_survey_desk import _consenting

        desk.update_customer(opened.value.customer_id, _consenting(clock.now()))
        desk.solve(opened.value.id, actor=Actor.agent("agt_amy"))
        clock.advance(DAY)
        desk.sweep(clock.now())
        (sent,) = outbox.sent
        token = sent[1]
        barrier = _spawn.Barrier(2)
        files = [tmp / f"{tenant}_{n}.json" for n in range(2)]
        children = [
            _spawn.Process(
                target=_answerer,
                args=(
                    url,
                    tenant,
                    token,
                    (clock.now() + timedelta(hours=1)).isoformat(),
                    n + 1,
                    barrier,
                    str(f),
                ),
            )
            for n, f in enumerate(files)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=300)
        assert [c.exitcode for c in children] == [0, 0]
        results = [json.loads(f.read_text(encoding="utf-8")) for f in files]
        assert sorted(r["won"] for r in results) == [False, True], results
        assert next(r for r in results if not r["won"])["reason"] == "used"
        won = next(r for r in results if r["won"])
        assert store.collection(RESPONSES).count() == 1
        (invitation,) = (
            store.collection(INVITATIONS)
            .find("by_ticket", where={"ticket_id": opened.value.id})
            .items
        )
        assert invitation.value.state is InvitationState.ANSWERED
        assert invitation.value.response_id == won["response"]
        assert invitation.value.edits == 0
        answered = [e for e in invitation.value.timeline if e.kind.value == "answered"]
        assert len(answered) == 1
        assert surveys.summary().responses == 1
    finally:
        store.close()


def test_two_processes_answering_one_token_on_sqlite_count_once(scratch: Path) -> None:
    _answer_race(f"sqlite:///{scratch / 'race.db'}", scratch)


def test_two_processes_answering_one_token_on_postgres_count_once(
    postgres_schema: Any, tmp_path: Path
) -> None:
    _answer_race(postgres_schema.url(), tmp_path)
