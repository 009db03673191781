"""JSON round trip of one ticket: csdomain against pydantic v2, msgspec and hand-written code.

The ticket is opened by email with tags and custom fields and has 10 messages
(the description counts as one; English and Chinese bodies of 100-300
characters, two internal notes) and 5 explicit status changes; the automatic
moves (an agent's first reply opens it, a customer's reply reopens it) add two
more ``StatusChanged`` events. Every contender dumps that ticket to JSON text
and loads it back into its own objects:

* **csdomain + json** / **csdomain + orjson**: ``serialization.to_json`` and
  ``serialization.from_json``. The ``fast`` extra only makes orjson importable;
  the stdlib variant is measured by setting ``csdomain._kernel.codec._orjson``
  to ``None`` for the run (exactly what a missing extra does), then restoring it.
* **pydantic v2**: ``BaseModel`` classes of the same shape (state fields and a
  timeline that is a discriminated union on ``type``; aware datetimes, enums,
  frozenset tags) with ``model_dump_json`` and ``model_validate_json``.
* **msgspec**: ``Struct`` classes of the same shape (a tagged union with
  ``tag_field="type"``) with ``msgspec.json.encode`` and ``msgspec.json.decode``.
* **hand-written + json** / **hand-written + orjson**: plain functions that turn
  the csdomain ``Ticket`` into the same document (isoformat datetimes, enum
  values, sorted tags) and back into csdomain events and ``Ticket(timeline=...)``,
  which checks every field and replays the timeline just as ``from_json`` does.

Each contender's round trip is checked once, outside the timing, to give back
an object equal to the one it started from. Every timing is the median of
several repeats (after a warm-up) of a loop of N calls, reported per call in µs.

Run from the repository root (needs the ``bench`` extra)::

    .venv/bin/python bench/serialization.py            # full run (about a minute)
    .venv/bin/python bench/serialization.py --quick    # smoke run (a few seconds)

Goals (from the issue), with orjson: loading a ticket costs at most 3 µs per
timeline event, and csdomain's round trip takes at most 0.9x pydantic v2's
(while csdomain runs every domain check and the replay that pydantic does not);
with either JSON library, csdomain's round trip is at most 1.5x the hand-written
code's. ``--check`` exits with status 1 when a goal is not met.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from handwritten import ticket_doc, ticket_from_doc
from machine import cpu, load_average, package_version

import csdomain
from csdomain import (
    Actor,
    ActorKind,
    LinkKind,
    Priority,
    Status,
    StatusChanged,
    Ticket,
    TicketKind,
    Visibility,
)
from csdomain import serialization as ser
from csdomain._kernel import codec  # the benchmark switches its JSON backend

try:
    import orjson
except ImportError:  # pragma: no cover - the bench extra installs it
    orjson = None  # type: ignore[assignment]

GOAL_LOAD_PER_EVENT_US = 3.0  # csdomain+orjson load µs / timeline events, at most
GOAL_VS_PYDANTIC = 0.9  # csdomain+orjson round trip / pydantic round trip, at most
GOAL_VS_HAND = 1.5  # csdomain round trip / hand-written round trip, at most

# -- the ticket ----------------------------------------------------------------

SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
CUSTOMER = Actor.customer("cus_10482")
AGENT = Actor.agent("agt_7")

DESCRIPTION = (
    "您好，我在11月20日下单的无线降噪耳机（订单号 DD2026112000481）到货后左耳没有声音，"
    "已经按照说明书重置并重新配对了三次，问题依旧。请问可以换货还是需要先寄回检测？"
    "我下周要出差，希望能尽快处理，谢谢。"
)
MESSAGES: tuple[tuple[Actor, Visibility, str], ...] = (
    (
        AGENT,
        Visibility.PUBLIC,
        "您好，非常抱歉给您带来不便。为了尽快帮您处理，麻烦您提供一下耳机背面的序列号照片"
        "以及左耳充电仓指示灯的状态（常亮、闪烁或不亮）。收到后我们会第一时间为您确认换货方案，"
        "一般会在一个工作日内给您答复。",
    ),
    (
        CUSTOMER,
        Visibility.PUBLIC,
        "序列号照片已经上传到附件里了。充电仓放进去以后左边的指示灯是闪烁的白灯，右边正常常亮。"
        "另外耳机外观没有任何磕碰，包装盒、充电线和说明书都还在。如果需要寄回检测，"
        "能不能上门取件？我白天都在公司，地址和下单时填的一样。",
    ),
    (
        AGENT,
        Visibility.INTERNAL,
        "Serial number checks out (batch 2026-W44, known flaky left-bud charging contact). "
        "Customer qualifies for a direct exchange under the 15-day DOA policy; asking the "
        "warehouse whether the black colour is in stock in Shanghai before promising a date.",
    ),
    (
        AGENT,
        Visibility.INTERNAL,
        "Warehouse confirms 3 black units in the Shanghai DC, shipping the same day if the "
        "exchange order is created before 16:00. Holding the ticket until they reserve one.",
    ),
    (
        AGENT,
        Visibility.PUBLIC,
        "您好，经过核实，您的耳机符合15天质量问题换货政策。我们已为您创建换货单 "
        "HH2026112300112，新耳机今天下午从上海仓发出，预计明天送达。旧耳机请在收到新机后"
        "7天内使用同一包装寄回，运费由我们承担。",
    ),
    (
        CUSTOMER,
        Visibility.PUBLIC,
        "Thanks, that was quick! I'll be travelling from Thursday, so if the courier can "
        "deliver before Wednesday evening that would be perfect. Is there a tracking number?",
    ),
    (
        AGENT,
        Visibility.PUBLIC,
        "Of course. The tracking number is SF1402938475610 (SF Express); it is scheduled for "
        "delivery tomorrow before 18:00. A prepaid return label for the old pair is in the box. "
        "Let us know if anything else comes up.",
    ),
    (
        CUSTOMER,
        Visibility.PUBLIC,
        "收到了，新耳机两边都正常，音质也没问题。旧耳机已经按要求寄回，快递单号 "
        "SF1402938499921。整个过程比我预想的快很多，客服回复也很及时，"
        "之后我会在商城里给这次服务打个好评。谢谢你们的耐心处理！",
    ),
    (
        AGENT,
        Visibility.PUBLIC,
        "感谢您的反馈！我们已登记旧耳机的回寄单号，收到后会在系统中完成换货流程。"
        "旧耳机的退款或差价（如有）会在仓库签收后3个工作日内原路退回。"
        "如果之后还有任何问题，直接回复这封邮件即可重新打开工单。祝您出差顺利！",
    ),
)


def build_ticket() -> Ticket:
    """The benchmark ticket: 10 messages, 5 explicit status changes (and 2 automatic ones)."""
    minute = timedelta(minutes=1)
    at = T0
    ticket = Ticket.open(
        id="tkt_20261123_0001",
        customer_id=CUSTOMER.id or "",
        channel="email",
        subject="无线降噪耳机左耳无声音 / left earbud silent",
        at=at,
        kind=TicketKind.AFTER_SALES,
        priority=Priority.HIGH,
        group_id="grp_after_sales",
        assignee_id="agt_7",
        tags={"headphones", "doa", "exchange"},
        custom_fields={"order_no": "DD2026112000481", "amount": 899.0, "vip": True},
        description=DESCRIPTION,
    )
    # (message index after which a status change comes, new status, reason)
    changes = {
        0: (Status.PENDING, "waiting for the serial number photo"),  # after the auto open
        3: (Status.ON_HOLD, "waiting on the warehouse"),
        4: (Status.OPEN, "warehouse reserved a unit"),
        8: (Status.SOLVED, "exchange shipped and received"),
    }
    for i, (author, visibility, body) in enumerate(MESSAGES):
        at += 37 * minute
        ticket = ticket.add_message(at=at, actor=author, visibility=visibility, body=body)
        if i in changes:
            status, reason = changes[i]
            assert status in ticket.allowed_statuses, (ticket.status, status)
            at += minute
            ticket = ticket.change_status(status, at=at, actor=AGENT, reason=reason)
    at += timedelta(days=3)
    ticket = ticket.change_status(Status.CLOSED, at=at, actor=Actor.system("auto_close"))
    assert len(ticket.messages) == 10, len(ticket.messages)
    return ticket


# -- hand-written dict code: bench/handwritten.py ---------------------------------

hand_to_dict = ticket_doc
hand_from_dict = ticket_from_doc


def hand_dumps_json(t: Ticket) -> str:
    return json.dumps(hand_to_dict(t), ensure_ascii=False, separators=(",", ":"))


def hand_loads_json(text: str) -> Ticket:
    return hand_from_dict(json.loads(text))


def hand_dumps_orjson(t: Ticket) -> str:
    return orjson.dumps(hand_to_dict(t)).decode()


def hand_loads_orjson(text: str) -> Ticket:
    return hand_from_dict(orjson.loads(text))


# -- pydantic v2 ---------------------------------------------------------------


def pydantic_models() -> Any:
    """The pydantic ``Ticket`` model class (same document shape), or None without pydantic."""
    try:
        from typing import Annotated, Literal, Union

        from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
    except ImportError:
        return None

    scalar = Union[str, int, float, bool, None]  # noqa: UP007 - pydantic needs a runtime union

    class Model(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

    class PActor(Model):
        kind: ActorKind
        id: str | None = None

    class PLink(Model):
        kind: LinkKind
        ticket_id: str

    class PEvent(Model):
        at: AwareDatetime
        actor: PActor

    class PCreated(PEvent):
        type: Literal["created"] = "created"
        ticket_id: str
        kind: TicketKind
        subject: str
        customer_id: str
        channel: str
        priority: Priority
        status: Status = Status.NEW
        group_id: str | None = None
        assignee_id: str | None = None
        tier: str = "L1"
        tags: frozenset[str] = frozenset()
        custom_fields: dict[str, scalar] = Field(default_factory=dict)
        links: tuple[PLink, ...] = ()

    class PMessage(PEvent):
        type: Literal["message"] = "message"
        visibility: Visibility = Visibility.PUBLIC
        channel: str
        body: str
        handle_time: timedelta | None = None

    class PStatus(PEvent):
        type: Literal["status_changed"] = "status_changed"
        old: Status
        new: Status
        reason: str | None = None

    class PPriority(PEvent):
        type: Literal["priority_changed"] = "priority_changed"
        old: Priority
        new: Priority

    class PAssigned(PEvent):
        type: Literal["assigned"] = "assigned"
        old_group_id: str | None = None
        group_id: str | None = None
        old_assignee_id: str | None = None
        assignee_id: str | None = None

    class PTier(PEvent):
        type: Literal["tier_changed"] = "tier_changed"
        old: str
        new: str
        reason: str | None = None

    class PTags(PEvent):
        type: Literal["tags_changed"] = "tags_changed"
        added: frozenset[str] = frozenset()
        removed: frozenset[str] = frozenset()

    class PFields(PEvent):
        type: Literal["custom_fields_changed"] = "custom_fields_changed"
        values: dict[str, scalar] = Field(default_factory=dict)
        unset: frozenset[str] = frozenset()

    class PLinked(PEvent):
        type: Literal["linked"] = "linked"
        link: PLink

    AnyEvent = Annotated[  # noqa: N806 - a type alias
        Union[  # noqa: UP007
            PCreated, PMessage, PStatus, PPriority, PAssigned, PTier, PTags, PFields, PLinked
        ],
        Field(discriminator="type"),
    ]

    class PTicket(Model):
        schema_version: Literal[1] = 1
        document: Literal["ticket"] = "ticket"
        id: str
        kind: TicketKind
        subject: str
        customer_id: str
        channel: str
        priority: Priority
        status: Status
        group_id: str | None
        assignee_id: str | None
        tier: str
        tags: frozenset[str]
        custom_fields: dict[str, scalar]
        links: tuple[PLink, ...]
        created_at: AwareDatetime
        updated_at: AwareDatetime
        timeline: tuple[AnyEvent, ...]

    return PTicket


# -- msgspec -------------------------------------------------------------------


def msgspec_types() -> Any:
    """The msgspec ``Ticket`` Struct (same document shape), or None without msgspec."""
    try:
        from typing import Annotated, Literal, Union

        import msgspec
    except ImportError:
        return None

    scalar = Union[str, int, float, bool, None]  # noqa: UP007
    aware = Annotated[datetime, msgspec.Meta(tz=True)]

    class Base(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
        pass

    class MActor(Base):
        kind: ActorKind
        id: str | None = None

    class MLink(Base):
        kind: LinkKind
        ticket_id: str

    class MEvent(Base, tag_field="type", kw_only=True):
        at: aware
        actor: MActor

    class MCreated(MEvent, tag="created", kw_only=True):
        ticket_id: str
        kind: TicketKind
        subject: str
        customer_id: str
        channel: str
        priority: Priority
        status: Status = Status.NEW
        group_id: str | None = None
        assignee_id: str | None = None
        tier: str = "L1"
        tags: frozenset[str] = frozenset()
        custom_fields: dict[str, scalar] = msgspec.field(default_factory=dict)
        links: tuple[MLink, ...] = ()

    class MMessage(MEvent, tag="message", kw_only=True):
        visibility: Visibility = Visibility.PUBLIC
        channel: str
        body: str
        handle_time: timedelta | None = None

    class MStatus(MEvent, tag="status_changed", kw_only=True):
        old: Status
        new: Status
        reason: str | None = None

    class MPriority(MEvent, tag="priority_changed", kw_only=True):
        old: Priority
        new: Priority

    class MAssigned(MEvent, tag="assigned", kw_only=True):
        old_group_id: str | None = None
        group_id: str | None = None
        old_assignee_id: str | None = None
        assignee_id: str | None = None

    class MTier(MEvent, tag="tier_changed", kw_only=True):
        old: str
        new: str
        reason: str | None = None

    class MTags(MEvent, tag="tags_changed", kw_only=True):
        added: frozenset[str] = frozenset()
        removed: frozenset[str] = frozenset()

    class MFields(MEvent, tag="custom_fields_changed", kw_only=True):
        values: dict[str, scalar] = msgspec.field(default_factory=dict)
        unset: frozenset[str] = frozenset()

    class MLinked(MEvent, tag="linked", kw_only=True):
        link: MLink

    AnyEvent = Union[  # noqa: N806, UP007 - a type alias
        MCreated, MMessage, MStatus, MPriority, MAssigned, MTier, MTags, MFields, MLinked
    ]

    class MTicket(Base):
        schema_version: Literal[1]
        document: Literal["ticket"]
        id: str
        kind: TicketKind
        subject: str
        customer_id: str
        channel: str
        priority: Priority
        status: Status
        group_id: str | None
        assignee_id: str | None
        tier: str
        tags: frozenset[str]
        custom_fields: dict[str, scalar]
        links: tuple[MLink, ...]
        created_at: aware
        updated_at: aware
        timeline: tuple[AnyEvent, ...]

    return MTicket


# -- contenders ----------------------------------------------------------------


@dataclass
class Contender:
    name: str
    library: str
    value: Any  # what gets dumped
    dump: Callable[[Any], str | bytes]
    load: Callable[[str | bytes], Any]
    fast_csdomain: bool | None = None  # csdomain's codec with orjson (True) or without (False)


@contextmanager
def csdomain_backend(fast: bool | None) -> Iterator[None]:
    """Run with csdomain's JSON backend forced to orjson (True) or stdlib json (False)."""
    saved = codec._orjson
    if fast is not None:
        codec._orjson = orjson if fast else None
    try:
        yield
    finally:
        codec._orjson = saved


def contenders(ticket: Ticket) -> tuple[list[Contender], list[str]]:
    """Every contender that can run here, and notes on those that cannot."""
    found: list[Contender] = []
    skipped: list[str] = []
    found.append(
        Contender("csdomain", "json", ticket, ser.to_json, ser.from_json, fast_csdomain=False)
    )
    if orjson is not None:
        found.append(
            Contender("csdomain", "orjson", ticket, ser.to_json, ser.from_json, fast_csdomain=True)
        )
    else:
        skipped.append("csdomain + orjson, hand-written + orjson: orjson is not installed")
    found.append(Contender("hand-written", "json", ticket, hand_dumps_json, hand_loads_json))
    if orjson is not None:
        found.append(
            Contender("hand-written", "orjson", ticket, hand_dumps_orjson, hand_loads_orjson)
        )
    document = ser.to_json(ticket)
    p_ticket = pydantic_models()
    if p_ticket is not None:
        model = p_ticket.model_validate_json(document)
        found.append(
            Contender(
                "pydantic v2",
                "pydantic-core",
                model,
                type(model).model_dump_json,
                p_ticket.model_validate_json,
            )
        )
    else:
        skipped.append("pydantic: not installed")
    m_ticket = msgspec_types()
    if m_ticket is not None:
        import msgspec

        decoder = msgspec.json.Decoder(m_ticket)
        encoder = msgspec.json.Encoder()
        found.append(
            Contender(
                "msgspec", "msgspec", decoder.decode(document), encoder.encode, decoder.decode
            )
        )
    else:
        skipped.append("msgspec: not installed")
    return found, skipped


def verify(c: Contender) -> int:
    """Check the contender's round trip gives back an equal object; return the JSON size."""
    with csdomain_backend(c.fast_csdomain):
        text = c.dump(c.value)
        back = c.load(text)
    if type(back) is not type(c.value) or back != c.value:  # not assert: python -O drops it
        raise AssertionError(f"{c.name} + {c.library}: the round trip changed the value")
    return len(text.encode() if isinstance(text, str) else text)


# -- timing --------------------------------------------------------------------


@dataclass
class Timing:
    dump_us: float
    load_us: float
    round_trip_us: float


OPERATIONS = ("dump", "load", "round trip")


def _loops(c: Contender) -> dict[str, Callable[[], object]]:
    value, dump, load = c.value, c.dump, c.load
    text = dump(value)
    return {
        "dump": lambda: dump(value),
        "load": lambda: load(text),
        "round trip": lambda: load(dump(value)),
    }


def _calibrate(timer: timeit.Timer, min_time: float) -> int:
    """The loop length that makes one repeat last at least ``min_time`` seconds."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= min_time:
            return number
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.2))


def measure(
    found: list[Contender], repeat: int, min_time: float, timer: Callable[[], float]
) -> list[Timing]:
    """Median µs per call of each contender's dump, load and round trip.

    The repeats are interleaved (repeat 1 of every contender, then repeat 2, ...)
    so that a burst of load from elsewhere on the machine hits one repeat of
    each contender rather than every repeat of one.
    """
    timers: list[dict[str, tuple[timeit.Timer, int]]] = []
    for c in found:  # warm up and calibrate
        with csdomain_backend(c.fast_csdomain):
            loops = _loops(c)
            for _ in range(20):
                loops["round trip"]()
            ops = {}
            for op, fn in loops.items():
                t = timeit.Timer(fn, timer=timer)
                ops[op] = (t, _calibrate(t, min_time))
            timers.append(ops)
    runs: list[dict[str, list[float]]] = [{op: [] for op in OPERATIONS} for _ in found]
    for _ in range(repeat):
        for c, ops, samples in zip(found, timers, runs, strict=True):
            with csdomain_backend(c.fast_csdomain):
                for op, (timer, number) in ops.items():
                    samples[op].append(timer.timeit(number) / number * 1e6)
    return [Timing(*(statistics.median(samples[op]) for op in OPERATIONS)) for samples in runs]


# -- report --------------------------------------------------------------------


def environment() -> list[str]:
    versions = ", ".join(
        [
            f"Python {platform.python_version()} ({platform.python_implementation()})",
            f"csdomain {csdomain.__version__}",
            f"pydantic {package_version('pydantic')}",
            f"msgspec {package_version('msgspec')}",
            f"orjson {package_version('orjson')}",
            f"cattrs {package_version('cattrs')}",
            f"attrs {package_version('attrs')}",
        ]
    )
    machine = f"{platform.platform()}, {cpu()}, nproc {os.cpu_count()}"
    return [f"Versions: {versions}", f"Machine: {machine}, {load_average()}"]


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(results: list[tuple[Contender, Timing]], events: int) -> tuple[list[str], bool]:
    """The Markdown table and the goal lines; the flag says whether every goal is met."""
    rt = {(c.name, c.library): t.round_trip_us for c, t in results}
    loads = {(c.name, c.library): t.load_us for c, t in results}
    base_json = rt.get(("csdomain", "json"))
    base_orjson = rt.get(("csdomain", "orjson"))
    lines = [
        "| contender | JSON library | dump µs | load µs | round trip µs "
        "| ÷ csdomain+orjson | ÷ csdomain+json |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for c, t in results:
        lines.append(
            f"| {c.name} | {c.library} | {t.dump_us:.1f} | {t.load_us:.1f} "
            f"| {t.round_trip_us:.1f} | {_ratio(t.round_trip_us, base_orjson)} "
            f"| {_ratio(t.round_trip_us, base_json)} |"
        )
    lines.append("")
    met = True
    for lib in ("orjson", "json"):
        load = loads.get(("csdomain", lib))
        if load is None:
            continue
        per_event = load / events
        ok = per_event <= GOAL_LOAD_PER_EVENT_US
        if lib == "orjson" or base_orjson is None:  # the goal is for the fast extra
            met &= ok
        lines.append(
            f"- csdomain+{lib} load per event = {load:.1f} µs / {events} = {per_event:.2f} µs "
            f"(goal <= {GOAL_LOAD_PER_EVENT_US}): {'met' if ok else 'NOT met'}"
        )
    pyd = rt.get(("pydantic v2", "pydantic-core"))
    for lib, base in (("orjson", base_orjson), ("json", base_json)):
        if pyd is None or base is None:
            continue
        ratio = base / pyd
        ok = ratio <= GOAL_VS_PYDANTIC
        if lib == "orjson" or base_orjson is None:  # the goal is for the fast extra
            met &= ok
        lines.append(
            f"- csdomain+{lib} round trip / pydantic round trip = {ratio:.2f} "
            f"(goal <= {GOAL_VS_PYDANTIC}): {'met' if ok else 'NOT met'}"
        )
    for lib in ("json", "orjson"):
        mine, hand = rt.get(("csdomain", lib)), rt.get(("hand-written", lib))
        if mine is None or hand is None:
            continue
        ratio = mine / hand
        ok = ratio <= GOAL_VS_HAND
        met &= ok
        lines.append(
            f"- csdomain+{lib} round trip / hand-written+{lib} round trip = {ratio:.2f} "
            f"(goal <= {GOAL_VS_HAND}): {'met' if ok else 'NOT met'}"
        )
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few, short repeats")
    parser.add_argument("--repeat", type=int, help="timing repeats (default 7, quick 3)")
    parser.add_argument(
        "--min-time", type=float, help="seconds per repeat (default 0.2, quick 0.01)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is not met")
    parser.add_argument(
        "--timer",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: this process's CPU time (time.process_time), so other work on a shared "
        "machine does not count; wall: elapsed time (time.perf_counter)",
    )
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    min_time = args.min_time or (0.01 if args.quick else 0.2)

    ticket = build_ticket()
    found, skipped = contenders(ticket)
    sizes = {(c.name, c.library): verify(c) for c in found}
    doc_size = sizes[("csdomain", "json")]

    print("# Serialization benchmark: JSON round trip (dump + load) of one ticket\n")
    given = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: python bench/serialization.py {given}".rstrip() + "  ")
    for line in environment():
        print(f"{line}  ")
    print(
        f"Ticket: {len(ticket.timeline)} events ({len(ticket.messages)} messages, "
        f"{sum(isinstance(e, StatusChanged) for e in ticket.timeline)} status changes "
        f"of which 5 explicit), csdomain JSON document {doc_size} bytes (UTF-8)  "
    )
    print(
        "JSON size per contender (bytes): "
        + ", ".join(f"{n} + {lib} {s}" for (n, lib), s in sizes.items())
        + "  "
    )
    clock = "CPU time (time.process_time)" if args.timer == "cpu" else "wall time"
    print(
        f"Timing: {clock}, median of {repeat} interleaved repeats, each a loop lasting "
        f">= {min_time} s, after a warm-up, gc off; µs per call; every round trip verified "
        "equal once\n"
    )
    for note in skipped:
        print(f"Skipped: {note}  ")
    if skipped:
        print()
    timer = time.process_time if args.timer == "cpu" else time.perf_counter
    results = list(zip(found, measure(found, repeat, min_time, timer), strict=True))
    lines, met = report(results, len(ticket.timeline))
    print("\n".join(lines))
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
