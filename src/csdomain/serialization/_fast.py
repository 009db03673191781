"""Generated loaders for the hot path: timeline events read straight from their JSON objects.

A ticket document is mostly its timeline, and cattrs' generic structuring plus
attrs' ``__init__`` (converters, then the field checks) cost several µs per
event. :func:`event_loader` writes one function per event class that reads the
object's keys, structures each value for its field type, runs the class's
field checks (the same ``ok`` tests, pasted in by
:func:`csdomain._kernel.validation.inline`) and its whole-object checks, and
only then builds the event with ``object.__new__`` and the slot setters.

The loader is an optimistic shortcut, never a second set of rules: it accepts
only input the converter's own path accepts (for instance timestamps written
with ``+00:00``, as :func:`~csdomain.serialization.to_dict` writes them), and
returns None for anything else, including every invalid value. The caller then
runs the converter's path, which loads the value or reports every problem with
its path, exactly as before.
"""

from __future__ import annotations

import reprlib
import types
import typing
from collections import abc
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from operator import attrgetter
from typing import Any, Final, Union, get_args, get_origin

import attrs

from csdomain._kernel.time import INSTANT_END, INSTANT_MIN, to_utc
from csdomain._kernel.validation import (
    CHECK,
    Check,
    Checked,
    JsonScalar,
    identity_condition,
    inline,
    instant,
)

__all__ = [
    "MemoHook",
    "event_dumper",
    "event_loader",
    "object_dumper",
    "plain_checked_class",
    "state_comparer",
]

_MISSING: Any = object()
_NONE_TYPE = type(None)


class MemoHook:
    """A structure hook that shares equal immutable results (actors repeat on every
    event of a timeline): a JSON object holding exactly the fields ``keys`` is looked
    up by their values before ``build`` makes a new one. Loaders read ``memo`` inline."""

    __slots__ = ("build", "keys", "memo")

    def __init__(self, build: Callable[[Any, Any], Any], keys: tuple[str, ...]) -> None:
        self.build = build
        self.keys = keys
        self.memo: dict[tuple[Any, ...], Any] = {}

    def __call__(self, value: Any, cls: Any) -> Any:
        if type(value) is dict and len(value) == len(self.keys):
            key = tuple(value.get(k) for k in self.keys)
            try:
                found = self.memo.get(key)
            except TypeError:  # unhashable junk: let the full path explain it
                found = None
            if found is not None:
                return found
            made = self.build(value, cls)
            if len(self.memo) >= 4096:
                self.memo.clear()
            self.memo[key] = made
            return made
        return self.build(value, cls)


def plain_checked_class(cls: type) -> bool:
    """True when building ``cls`` with ``object.__new__`` and its fields' setters, after
    its checks passed, gives what its ``__init__`` would: an attrs :class:`Checked`
    class with attrs' own ``__init__`` and post-init, and fields without validators,
    aliases or ``init=False``."""
    if not (isinstance(cls, type) and attrs.has(cls) and issubclass(cls, Checked)):
        return False
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False
    if getattr(cls, "__attrs_post_init__", None) is not Checked.__attrs_post_init__:
        return False
    if hasattr(cls, "__attrs_pre_init__"):
        return False
    for a in attrs.fields(cls):
        if not a.init or a.alias != a.name or a.validator is not None:
            return False
        if a.converter is not None and not isinstance(
            a.converter, (types.FunctionType, types.BuiltinFunctionType)
        ):
            return False  # attrs.Converter objects may take self or the field
    return True


def _optional_of(tp: Any) -> Any:
    """``X`` for ``X | None`` (either spelling), else None."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not _NONE_TYPE]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0]
    return None


class _Code:
    """Lines and names of a generated function."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, object] = {"_MISSING": _MISSING}

    def name(self, key: str, value: object) -> str:
        self.names[key] = value
        return key

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


_Hooks = Callable[[Any], Callable[[Any, Any], Any]]


def _structure(
    code: _Code, indent: int, var: str, tp: Any, check: Check | None, hooks: _Hooks, i: int
) -> bool:
    """Statements turning the JSON value in ``var`` into a value of type ``tp``, or
    returning None (the caller's fallback) when the value is not plainly right.

    ``check`` is the field's check when it runs on this very value (no converter in
    between): a text field whose check accepts only ``str`` needs no second type test.
    Returns True when the value produced certainly passes ``check`` (the check is then
    the reader's own guarantee, and testing it again would test nothing).
    """

    def call(of: Any) -> str:
        hook = code.name(f"_hook{i}", hooks(of))
        return f"{hook}({var}, {code.name(f'_type{i}', of)})"

    covered = check.types if check is not None else None
    memo = hooks(tp)
    if isinstance(memo, MemoHook):
        found = code.name(f"_memo{i}", memo.memo)
        key = ", ".join(f"{var}[{k!r}]" for k in memo.keys)  # KeyError: the full path
        code.add(indent, f"if type({var}) is dict and len({var}) == {len(memo.keys)}:")
        code.add(indent + 1, f"_m = {found}.get(({key},))")
        code.add(indent + 1, f"{var} = _m if _m is not None else {call(tp)}")
        code.add(indent, "else:")
        code.add(indent + 1, f"{var} = {call(tp)}")
        # The converter's hook for tp returns a tp or raises, and the memo holds tps.
        return _is_type_test(check, "isinstance({v}, {cls})", "cls", tp)
    inner = _optional_of(tp)
    if tp is str:
        if covered is None or not set(covered) <= {str}:
            code.add(indent, f"if type({var}) is not str: return None")
    elif inner is str:
        if covered is None or not set(covered) <= {str, _NONE_TYPE}:
            code.add(indent, f"if {var} is not None and type({var}) is not str: return None")
    elif tp in (int, bool):
        code.add(indent, f"if type({var}) is not {tp.__name__}: return None")
    elif isinstance(tp, type) and issubclass(tp, Enum):
        members = code.name(f"_members{i}", {m.value: m for m in tp})
        code.add(indent, f"{var} = {members}[{var}]")
        return _is_type_test(check, "type({v}) is {enum}", "enum", tp)
    elif isinstance(inner, type) and issubclass(inner, Enum):
        members = code.name(f"_members{i}", {m.value: m for m in inner})
        code.add(indent, f"if {var} is not None: {var} = {members}[{var}]")
    elif tp is datetime or inner is datetime:
        # What to_dict writes; any other spelling takes the converter's path.
        parse = code.name("_fromisoformat", datetime.fromisoformat)
        test = f"type({var}) is not str or not {var}.endswith('+00:00')"
        if inner is datetime:
            code.add(indent, f"if {var} is not None:")
            indent += 1
        code.add(indent, f"if {test}: return None")
        code.add(indent, f"{var} = {parse}({var})")
        if inner is None and check is instant:
            # fromisoformat of a "+00:00" text is an aware datetime in UTC: an instant
            # once it lies in the span, which is all of the check left to test.
            lo, hi = code.name("_INSTANT_MIN", INSTANT_MIN), code.name("_INSTANT_END", INSTANT_END)
            code.add(indent, f"if not {lo} <= {var} < {hi}: return None")
            return True
        return False
    elif get_origin(tp) is frozenset and get_args(tp) == (str,):
        if check is not None and check.shape == tp:  # the check tests every item
            code.add(indent, f"if type({var}) is not list: return None")
        else:
            only_str = code.name("_only_str", _only_str)
            code.add(indent, f"if type({var}) is not list or not {only_str}({var}): return None")
        code.add(indent, f"{var} = frozenset({var})")
    elif get_origin(tp) is dict and check is not None and check.shape == tp:
        # The check tests every key and value: copying the JSON object is all to do.
        code.add(indent, f"if type({var}) is not dict: return None")
        code.add(indent, f"{var} = dict({var})")
    elif get_origin(tp) is tuple:
        code.add(indent, f"{var} = () if type({var}) is list and not {var} else {call(tp)}")
    elif inner is not None:
        code.add(indent, f"if {var} is not None: {var} = {call(inner)}")
    else:
        code.add(indent, f"{var} = {call(tp)}")
    return False


def _is_type_test(check: Check | None, source: str, name: str, tp: Any) -> bool:
    """Whether ``check`` is exactly the type test ``source`` for ``tp``."""
    return check is not None and check.source == source and check.names.get(name) is tp


def _only_str(items: list[Any]) -> bool:
    return _STR.issuperset(map(type, items))  # every item exactly a str


_STR: Final = frozenset({str})


def event_loader(cls: type, structure_hook: _Hooks) -> Callable[[dict[str, Any]], Any] | None:
    """The generated loader of ``cls`` objects from JSON dicts (None when ``cls`` is not a
    :func:`plain_checked_class`). ``structure_hook(type)`` gives the converter's hook for
    a field type the loader does not read itself (nested objects, durations, ...).

    The loader returns the object, or None when the converter's path must decide.
    """
    if not plain_checked_class(cls):
        return None
    hints = typing.get_type_hints(cls)
    code = _Code()
    new = code.name("_new", object.__new__)
    klass = code.name("_cls", cls)
    code.add(0, "def load(d):")
    code.add(1, "try:")
    tests: list[str] = []
    sets: list[str] = []
    for i, a in enumerate(attrs.fields(cls)):
        var = f"v{i}"
        tp = hints[a.name]
        check = a.metadata.get(CHECK)
        # The check runs on the value read when nothing converts it in between; a UTC
        # datetime read here is what to_utc would keep, so to_utc is skipped below.
        utc_read = a.converter is to_utc and tp is datetime and a.default is attrs.NOTHING
        direct = check if a.converter is None or utc_read else None
        guaranteed = False
        if a.default is attrs.NOTHING:
            code.add(2, f"{var} = d[{a.name!r}]")
            guaranteed = _structure(code, 2, var, tp, direct, structure_hook, i)
        else:
            # A subscript in a try costs less than .get() when the key is there, as
            # documents written by to_dict always have it.
            code.add(2, "try:")
            code.add(3, f"{var} = d[{a.name!r}]")
            code.add(2, "except KeyError:")
            if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
                if a.default.takes_self:
                    return None
                factory = code.name(f"_factory{i}", a.default.factory)
                code.add(3, f"{var} = {factory}()")
            else:
                default = code.name(f"_default{i}", a.default)
                code.add(3, f"{var} = {default}")
            code.add(2, "else:")
            before = len(code.lines)
            read_ok = _structure(code, 3, var, tp, direct, structure_hook, i)
            # The default needs the check too; a plain one is tested once, here.
            plain_default = not isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
            guaranteed = read_ok and plain_default and check is not None and check.ok(a.default)
            if len(code.lines) == before:
                code.lines.pop()  # nothing to do with a given value
        if utc_read:
            pass  # the reader above gives exactly what to_utc keeps: a datetime in UTC
        elif a.converter is not None:
            convert = code.name(f"_convert{i}", a.converter)
            same = identity_condition(a.converter)
            if same is None:
                code.add(2, f"{var} = {convert}({var})")
            else:
                source, names = same
                renamed = {n: code.name(f"_same{i}_{n}", value) for n, value in names.items()}
                test = source.format(v=var, **renamed)
                code.add(2, f"if not ({test}): {var} = {convert}({var})")
        if check is not None and not guaranteed:
            test, names = inline(check, var, f"_c{i}_")
            code.names.update(names)
            tests.append(test)
        slot = getattr(cls, a.name, None)
        if isinstance(slot, types.MemberDescriptorType):
            setter = code.name(f"_set{i}", slot.__set__)
            sets.append(f"{setter}(obj, {var})")
        else:
            setattr_ = code.name("_setattr", object.__setattr__)
            sets.append(f"{setattr_}(obj, {a.name!r}, {var})")
    if tests:
        code.add(2, f"if not ({' and '.join(tests)}): return None")
    code.add(2, f"obj = {new}({klass})")
    for line in sets:
        code.add(2, line)
    if getattr(cls, "_check_whole", None) is not Checked._check_whole:
        code.add(2, "for _ in obj._check_whole(): return None")
    code.add(1, "except Exception:  # anything unusual: the converter's path decides")
    code.add(2, "return None")
    code.add(1, "return obj")
    source = "\n".join(code.lines) + "\n"
    exec(
        compile(source, f"<csdomain loader {cls.__module__}.{cls.__qualname__}>", "exec"),
        code.names,
    )
    load = code.names["load"]
    load.__csdomain_source__ = source  # type: ignore[attr-defined]  # for debugging
    return typing.cast(Callable[[dict[str, Any]], Any], load)


def state_comparer(
    fields: dict[str, Any],
    unstructure_hook: Callable[[Any], Callable[[Any], Any]],
    isoformat: Callable[[datetime], str] = datetime.isoformat,
) -> Callable[[Any, Any], list[tuple[str, str]]]:
    """A function listing the state fields a document states differently from the
    replayed object: ``(name, message)`` for each ``name`` of ``fields`` (name -> type)
    present in the document whose value is not the JSON value of the object's field
    (as ``unstructure_hook(type)`` writes it; ``isoformat`` writes datetimes, the same
    text as ``datetime.isoformat``)."""
    code = _Code()
    code.add(0, "def disagreements(doc, obj):")
    code.add(1, "problems = []")
    for i, (name, tp) in enumerate(fields.items()):
        value = f"obj.{name}"
        if tp is str or _optional_of(tp) is str:
            expected = value
        elif isinstance(tp, type) and issubclass(tp, Enum):
            expected = f"{value}._value_"
        elif tp is datetime:
            expected = f"{code.name('_isoformat', isoformat)}({value})"
        elif get_origin(tp) is frozenset and get_args(tp) == (str,):
            expected = f"sorted({value})"  # what the frozenset hook writes for text
        elif get_origin(tp) in (dict, abc.Mapping) and get_args(tp) == (str, JsonScalar):
            # JSON scalars are written as they are: the hook's dict is a plain copy.
            expected = f"dict({value})"
        elif get_origin(tp) is tuple:  # written as a list; most are empty
            hook = code.name(f"_hook{i}", unstructure_hook(tp))
            expected = f"({hook}(_x) if (_x := {value}) else [])"
        else:
            expected = f"{code.name(f'_hook{i}', unstructure_hook(tp))}({value})"
        code.add(1, f"v = doc.get({name!r}, _MISSING)")
        code.add(1, f"if v is not _MISSING and v != (e := {expected}):")
        code.add(2, f"problems.append(({name!r}, _says(v, e)))")
    code.add(1, "return problems")
    code.names["_says"] = _says
    exec(compile("\n".join(code.lines) + "\n", "<csdomain state comparer>", "exec"), code.names)
    return typing.cast(Callable[[Any, Any], list[tuple[str, str]]], code.names["disagreements"])


def _says(stated: object, replayed: object) -> str:
    return f"document says {_brief.repr(stated)} but the timeline gives {_brief.repr(replayed)}"


# A document's value can be anything: its repr in a message is kept short (and shallow).
_brief = reprlib.Repr()
_brief.maxlevel = 3
_brief.maxstring = _brief.maxother = 80
_brief.maxlist = _brief.maxdict = _brief.maxset = _brief.maxfrozenset = 10


# Dumpers whose objects are written field for field with no hook at all: another dumper
# writes their dict literal in place of calling them (an actor on every event).
_flat_dumpers: dict[Callable[[Any], Any], tuple[tuple[str, str], ...]] = {}  # one per converter

#: The unstructure hook of enums: their value. Dumpers read it inline (``x._value_``).
enum_value: Final = attrgetter("_value_")


def _inline_read(hook: Callable[[Any], Any]) -> str | None:
    """How a dumper writes a value whose hook is ``hook`` without calling it: ``""`` (as
    it is), ``"._value_"`` (an enum's value), or None (call the hook)."""
    if _is_identity(hook):
        return ""
    return "._value_" if hook is enum_value else None


def _is_identity(hook: Callable[[Any], Any]) -> bool:
    return getattr(hook, "__name__", None) == "identity" and hook.__module__ == "cattrs.fns"


def object_dumper(
    fields: dict[str, Any],
    unstructure_hook: Callable[[Any], Callable[[Any], Any]],
    *,
    first: dict[str, object] | None = None,
    name: str = "object",
) -> Callable[[Any], dict[str, Any]]:
    """A generated function writing an object's ``fields`` (name -> type) as a dict, in
    order, each value through ``unstructure_hook(type)``, after the ``first`` items:
    the dict cattrs' generated unstructure function makes, without its calls of
    identity hooks."""
    code = _Code()
    items = [
        f"{k!r}: {code.name(f'_first{j}', v)}" for j, (k, v) in enumerate((first or {}).items())
    ]
    for i, (field, tp) in enumerate(fields.items()):
        hook = unstructure_hook(tp)
        value = f"e.{field}"
        inner = _optional_of(tp)
        flat = _flat_dumpers.get(hook)
        read = _inline_read(hook)
        if read is not None:
            items.append(f"{field!r}: {value}{read}")
        elif flat is not None:
            parts = ", ".join(f"{k!r}: _x{i}.{k}{suffix}" for k, suffix in flat)
            items.append(f"{field!r}: {{{parts}}} if (_x{i} := {value}) is not None else None")
        elif inner is not None:
            inner_hook = code.name(f"_hook{i}", unstructure_hook(inner))
            items.append(f"{field!r}: None if (_x{i} := {value}) is None else {inner_hook}(_x{i})")
        else:
            items.append(f"{field!r}: {code.name(f'_hook{i}', hook)}({value})")
    code.add(0, "def dump(e):")
    code.add(1, "return {" + ", ".join(items) + "}")
    exec(compile("\n".join(code.lines) + "\n", f"<csdomain dumper {name}>", "exec"), code.names)
    dump = typing.cast(Callable[[Any], dict[str, Any]], code.names["dump"])
    reads = [(k, _inline_read(unstructure_hook(tp))) for k, tp in fields.items()]
    if not first and all(read is not None for _, read in reads):
        _flat_dumpers[dump] = tuple((k, read) for k, read in reads if read is not None)
    return dump


def event_dumper(
    cls: type, tag: str, unstructure_hook: Callable[[Any], Callable[[Any], Any]]
) -> Callable[[Any], dict[str, Any]]:
    """A generated function writing a ``cls`` object as its tagged JSON object: ``"type"``
    first, then every attrs field in order, each through ``unstructure_hook(type)`` (the
    same dict as cattrs' generated unstructure function, with the tag in front)."""
    hints = typing.get_type_hints(cls)
    fields = {a.name: hints[a.name] for a in attrs.fields(cls)}
    name = f"{cls.__module__}.{cls.__qualname__}"
    return object_dumper(fields, unstructure_hook, first={"type": tag}, name=name)
