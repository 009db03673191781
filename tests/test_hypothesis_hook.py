"""The Hypothesis entry point: lazy registration, in either import order."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check(*parts: str) -> None:
    result = run_python("".join(textwrap.dedent(part) for part in parts))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


#: Draws one value of ``cls`` with from_type and checks that the model accepts it.
DRAW = """
import warnings
warnings.simplefilter("ignore")  # example() warns outside a test
value = st.from_type(cls).example()
assert type(value) is cls, type(value)
"""


def csdomain_modules_after(statement: str) -> set[str]:
    result = run_python(
        f"""
        import sys
        {statement}
        print(" ".join(m for m in sys.modules if m.partition(".")[0] == "csdomain"))
        """
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_import_hypothesis_imports_no_csdomain_model_module() -> None:
    """The hook loads the type registry (and what ``import csdomain`` loads), nothing more."""
    with_hook = csdomain_modules_after("import hypothesis")
    registry = csdomain_modules_after("import csdomain._kernel.registry")
    assert with_hook - registry == {"csdomain.testing", "csdomain.testing._hypothesis"}
    models = {"tickets", "customers", "channels", "calendars", "conditions", "sla", "people"}
    assert not {m for m in with_hook if m.split(".")[1:2] and m.split(".")[1] in models}


def test_hypothesis_first_then_csdomain_declared_type() -> None:
    check(
        """
        import sys
        import hypothesis.strategies as st
        from csdomain.customers import Customer as cls
        assert "csdomain.testing.strategies" not in sys.modules  # registration is lazy
        """,
        DRAW,
        """
        assert value.contact_points == tuple(value.contact_points)
        print("ok")
        """,
    )


def test_csdomain_first_then_hypothesis_ticket() -> None:
    check(
        """
        import sys
        import csdomain
        cls = csdomain.Ticket
        import hypothesis.strategies as st
        assert "csdomain.testing.strategies" not in sys.modules
        """,
        DRAW,
        """
        assert cls(timeline=value.timeline) == value  # replays: built by the strategy
        print("ok")
        """,
    )


def test_hypothesis_first_then_csdomain_ticket() -> None:
    check(
        """
        import hypothesis.strategies as st
        from csdomain.tickets import Ticket as cls
        """,
        DRAW,
        """
        assert cls(timeline=value.timeline) == value
        print("ok")
        """,
    )


def test_types_declared_after_the_hook_register() -> None:
    """A class declared later (an extension's) resolves through the registry."""
    check(
        """
        import attrs
        import hypothesis.strategies as st
        from csdomain._kernel.validation import Checked

        @attrs.frozen
        class Toy(Checked):
            n: int

        from csdomain.testing.strategies.registry import register
        register(Toy, lambda: st.just(Toy(7)))
        cls = Toy
        """,
        DRAW,
        """
        assert value == Toy(7)
        print("ok")
        """,
    )


def test_types_without_a_strategy_resolve_as_before() -> None:
    check(
        """
        import attrs
        import hypothesis.strategies as st
        from csdomain._kernel.validation import Checked

        @attrs.frozen
        class Plain(Checked):
            n: int

        cls = Plain
        """,
        DRAW,
        """
        assert isinstance(value.n, int)
        print("ok")
        """,
    )
