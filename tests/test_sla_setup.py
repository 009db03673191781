"""The SLA package's API around evaluation: SlaSetup, status lookup, the Metric alias,
status rendering and the package's import rules."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import csdomain.sla
from csdomain.calendars import BusinessCalendar, CalendarUnion
from csdomain.conditions import Equals
from csdomain.errors import NotFoundError, ValidationError
from csdomain.serialization import from_json, to_json
from csdomain.sla import (
    MetricPolicy,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    SlaState,
    Target,
    evaluate,
    explain,
    next_deadline,
)
from csdomain.sla.rendering import render_explanation, render_status
from csdomain.tickets import Actor, Ticket

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
DESK = BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-12:00", "13:30-18:00")
NY = BusinessCalendar.weekdays("ny", "America/New_York", "09:00-17:00")
SUN = CalendarUnion("sun", (DESK, NY))
SLA_DIR = Path(csdomain.sla.__file__).parent


def policy(name: str, calendar: str | None, metric: SlaMetric = SlaMetric.RESOLUTION) -> SlaPolicy:
    return SlaPolicy(name, [MetricPolicy(metric, {"normal": Target(8 * H, calendar)})])


def ticket(at: datetime) -> Ticket:
    return Ticket.open(id="T-1", customer_id="cus_1", channel="email", subject="Refund", at=at)


T0 = datetime(2026, 3, 2, 9, tzinfo=SH)
NOW = datetime(2026, 3, 2, 11, tzinfo=SH)


# -- SlaSetup -------------------------------------------------------------------------


def test_a_setup_evaluates_like_policies_and_calendars() -> None:
    policies = [policy("desk", "desk"), policy("sun", "sun")]
    setup = SlaSetup(policies, [DESK, SUN])
    t = ticket(T0)
    assert evaluate(t, setup, NOW) == evaluate(t, policies, [DESK, SUN], NOW)
    assert next_deadline(t, setup, NOW) == next_deadline(t, policies, [DESK, SUN], NOW)
    assert explain(t, setup, NOW) == explain(t, policies, [DESK, SUN], NOW)
    assert setup.calendar("sun") is SUN and setup.calendar("nope") is None


def test_a_setup_refuses_unknown_calendars_naming_the_target_and_the_known_names() -> None:
    with pytest.raises(ValidationError) as caught:
        SlaSetup([policy("a", "desk"), policy("b", "dsk", SlaMetric.FIRST_RESPONSE)], [DESK, NY])
    assert caught.value.paths == ("policies[1].metrics[0].targets[normal].calendar",)
    message = caught.value.problems[0].message
    assert "policy 'b'" in message and "first_response target for normal priority" in message
    assert "calendar 'dsk'" in message and "calendars: 'desk', 'ny'" in message


def test_a_setup_refuses_shared_names_and_reports_every_problem_at_once() -> None:
    twin = BusinessCalendar.weekdays("desk", "Europe/Berlin", "08:00-16:00")
    with pytest.raises(ValidationError) as caught:
        SlaSetup([policy("p", "desk"), policy("p", "none")], [DESK, NY, twin])
    assert caught.value.paths == (
        "policies[1].name",
        "calendars[2].name",
        "policies[1].metrics[0].targets[normal].calendar",
    )
    assert "calendar name 'desk' is already used by calendars[0]" in str(caught.value)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: SlaSetup("p", []), "policies"),  # type: ignore[arg-type]
        (lambda: SlaSetup(["p"], []), "policies[0]"),  # type: ignore[list-item]
        (lambda: SlaSetup([], [DESK, "cal"]), "calendars[1]"),  # type: ignore[list-item]
        (lambda: SlaSetup([], {"desk": DESK}), "calendars"),  # type: ignore[dict-item]
    ],
)
def test_a_setup_refuses_wrong_types(build, path: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.paths == (path,)


def test_a_setup_is_a_json_document_checked_when_loaded() -> None:
    setup = SlaSetup([policy("desk", "desk"), policy("sun", "sun")], [DESK, SUN])
    text = to_json(setup)
    assert '"document":"sla_setup"' in text.replace(" ", "")
    assert from_json(text, SlaSetup) == setup
    with pytest.raises(ValidationError, match="names calendar 'moon'"):
        from_json(text.replace('"calendar":"sun"', '"calendar":"moon"'), SlaSetup)


def test_setup_style_arguments_are_checked() -> None:
    setup = SlaSetup([policy("desk", "desk")], [DESK])
    with pytest.raises(ValidationError, match="naive datetime"):
        evaluate(ticket(T0), setup, datetime(2026, 3, 2, 11))
    with pytest.raises(ValidationError, match="an SlaSetup holds its calendars"):
        evaluate(ticket(T0), setup, [DESK], NOW)  # type: ignore[call-overload]
    with pytest.raises(ValidationError, match="expected calendars after the policies"):
        evaluate(ticket(T0), [policy("desk", "desk")], NOW)  # type: ignore[call-overload]
    with pytest.raises(ValidationError, match="expected a Ticket, got 'T-1'"):
        evaluate("T-1", setup, NOW)  # type: ignore[call-overload]


def test_the_old_style_refuses_two_calendars_sharing_a_name() -> None:
    twin = BusinessCalendar.weekdays("desk", "Europe/Berlin", "08:00-16:00")
    with pytest.raises(ValidationError) as caught:
        evaluate(ticket(T0), policy("desk", "desk"), [DESK, NY, twin], NOW)
    assert caught.value.paths == ("calendars[2].name",)
    # ... and still finds an unknown calendar only when a target needs it.
    with pytest.raises(NotFoundError, match="calendar 'desk' not found; calendars given: 'ny'"):
        evaluate(ticket(T0), policy("desk", "desk"), [NY], NOW)


# -- looking metrics up ---------------------------------------------------------------


def test_a_metric_the_policy_lacks_is_a_key_error_not_a_not_found_error() -> None:
    status = evaluate(ticket(T0), SlaSetup([policy("desk", "desk")], [DESK]), NOW)
    assert status.get(SlaMetric.RESOLUTION) is status[SlaMetric.RESOLUTION]
    assert status.get(SlaMetric.FIRST_RESPONSE) is None
    assert SlaMetric.RESOLUTION in status and SlaMetric.FIRST_RESPONSE not in status
    with pytest.raises(KeyError) as caught:
        status[SlaMetric.FIRST_RESPONSE]
    assert not isinstance(caught.value, NotFoundError)
    assert "first_response is not measured for ticket 'T-1' under policy 'desk'" in str(
        caught.value
    )
    assert "measured: resolution" in str(caught.value)


def test_without_a_matching_policy_every_lookup_misses() -> None:
    nobody = SlaPolicy(
        "vip",
        [MetricPolicy(SlaMetric.RESOLUTION, {"normal": Target(H)})],
        condition=Equals("ticket.priority", "urgent"),
    )
    status = evaluate(ticket(T0), SlaSetup([nobody]), NOW)
    assert status.policy is None and status.get(SlaMetric.RESOLUTION) is None
    with pytest.raises(KeyError, match="under no policy; measured: none"):
        status[SlaMetric.RESOLUTION]


# -- the deprecated name ----------------------------------------------------------------


def test_metric_is_a_deprecated_alias_of_sla_metric() -> None:
    with pytest.warns(DeprecationWarning, match=r"csdomain\.sla\.Metric is deprecated.*SlaMetric"):
        alias = csdomain.sla.Metric
    assert alias is SlaMetric
    with pytest.warns(DeprecationWarning, match="use csdomain.sla.SlaMetric"):
        from csdomain.sla import Metric
    assert Metric is SlaMetric
    assert "Metric" not in csdomain.sla.__all__  # a star import does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec("from csdomain.sla import *", {})
    with pytest.raises(AttributeError, match="has no attribute 'Metrics'"):
        csdomain.sla.Metrics  # type: ignore[attr-defined]  # noqa: B018


# -- rendering ------------------------------------------------------------------------


def test_render_status_summarizes_each_metric() -> None:
    agent = Actor.agent("agt_1")
    t = ticket(T0).add_message(at=T0 + 3 * H, actor=agent, body="Refunded.")
    setup = SlaSetup(
        [
            SlaPolicy(
                "desk",
                [
                    MetricPolicy(SlaMetric.FIRST_RESPONSE, {"normal": Target(2 * H, "desk")}),
                    MetricPolicy(SlaMetric.RESOLUTION, {"normal": Target(8 * H, "desk")}),
                ],
            )
        ],
        [DESK],
    )
    status = evaluate(t, setup, T0 + 4 * H)
    assert status[SlaMetric.FIRST_RESPONSE].state is SlaState.BREACHED
    assert render_status(status, zone="Asia/Shanghai").splitlines() == [
        "T-1 · SLA at 2026-03-02 13:00 Asia/Shanghai (policy desk):",
        "  First response: Breached · 3 hr of 2 hr · breached at 2026-03-02 11:00",
        "  Resolution: Running · 3 hr of 8 hr · due 2026-03-03 09:30",
    ]
    explanation = explain(t, setup, T0 + 4 * H)
    assert render_explanation(explanation, "zh_TW") == explanation.render("zh_TW")


# -- import rules ---------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(SLA_DIR.glob("*.py")), ids=lambda p: p.name)
def test_sla_modules_keep_their_imports_in_their_lane(path: Path) -> None:
    imports = _imports(path)
    forbidden = ("csdomain.serialization", "csdomain.storage", "csdomain.testing")
    assert not [m for m in imports if m.startswith(forbidden)]
    uses_i18n = any(m == "csdomain.i18n" or m.startswith("csdomain.i18n.") for m in imports)
    assert uses_i18n == (path.name == "rendering.py")


def test_importing_the_sla_package_does_not_load_rendering() -> None:
    code = (
        "import sys, csdomain.sla; "
        "print(sorted({'csdomain.i18n', 'csdomain.sla.rendering'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
