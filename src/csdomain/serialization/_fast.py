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
import threading
import types
import typing
from collections import abc
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
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
    "FastHook",
    "MemoHook",
    "class_dumper",
    "class_loader",
    "event_dumper",
    "event_loader",
    "is_class_dumper",
    "object_dumper",
    "plain_attrs_class",
    "plain_checked_class",
    "plain_document_class",
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


def plain_attrs_class(cls: type) -> bool:
    """True when building ``cls`` with ``object.__new__`` and its fields' setters (after
    its checks passed, for a :class:`Checked` class) gives what its ``__init__`` would:
    an attrs class with attrs' own ``__init__``, no ``__new__``, pre-init or cached
    hash of its own, no post-init but :class:`Checked`'s, and fields without
    validators, aliases or ``init=False``."""
    if not (isinstance(cls, type) and attrs.has(cls)):
        return False
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False
    post_init = getattr(cls, "__attrs_post_init__", None)
    if post_init is not (Checked.__attrs_post_init__ if issubclass(cls, Checked) else None):
        return False
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "_attrs_cached_hash"):
        return False
    if cls.__new__ is not object.__new__:
        return False
    for a in attrs.fields(cls):
        if not a.init or a.alias != a.name or a.validator is not None:
            return False
        if a.converter is not None and not isinstance(
            a.converter, (types.FunctionType, types.BuiltinFunctionType)
        ):
            return False  # attrs.Converter objects may take self or the field
    return True


def plain_checked_class(cls: type) -> bool:
    """:func:`plain_attrs_class` for a :class:`Checked` class (timeline events are)."""
    return isinstance(cls, type) and issubclass(cls, Checked) and plain_attrs_class(cls)


def plain_document_class(cls: Any) -> bool:
    """True for an attrs class of plain document shape, which gets a generated loader and
    dumper (:func:`class_loader`, :func:`class_dumper`): a :func:`plain_attrs_class`
    (checked or not) whose fields are text, integers, booleans, enums, datetimes,
    optional values of those, tuples of those, or other attrs classes (loaded and
    dumped by the converter's own hooks for them, generated ones too)."""
    if not plain_attrs_class(cls):
        return False
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: cattrs' own path explains
        return False
    return all(_plain_type(hints.get(a.name)) for a in attrs.fields(cls))


def _plain_type(tp: Any) -> bool:
    if tp in _PLAIN_SCALARS or tp in _HOOKED_SCALARS or _is_enum(tp):
        return True
    if get_origin(tp) in (frozenset, dict):
        return True  # read by the branches of _structure, or by the converter's hook
    inner = _optional_of(tp)
    if inner is not None:
        return _plain_type(inner)
    args = _tuple_args(tp)
    if args:
        return all(_plain_type(a) for a in args if a is not Ellipsis)
    return isinstance(tp, type) and attrs.has(tp)


_PLAIN_SCALARS: Final = (str, int, bool, datetime)
#: Scalars the loader reads through the converter's own hook (its errors: cattrs' path).
_HOOKED_SCALARS: Final = (float, date, time, timedelta, Decimal)


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Enum)


class FastHook:
    """A converter's structure hook for a :func:`plain_document_class`: its generated
    loader (``fast``) first, and when that returns None, the hook cattrs makes for the
    class (``slow``), which loads the value or raises exactly as it did without one.
    Loaders of other classes call ``fast`` directly for a field of this class."""

    __slots__ = ("fast", "slow")

    def __init__(
        self, fast: Callable[[dict[str, Any]], Any], slow: Callable[[Any, Any], Any]
    ) -> None:
        self.fast = fast
        self.slow = slow

    def __call__(self, value: Any, cls: Any) -> Any:
        if type(value) is dict:
            made = self.fast(value)
            if made is not None:
                return made
        return self.slow(value, cls)


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
        self.count = 0

    def name(self, key: str, value: object) -> str:
        self.names[key] = value
        return key

    def fresh(self, prefix: str) -> str:
        """A name not used before in this function."""
        self.count += 1
        return f"{prefix}_{self.count}"

    def ref(self, prefix: str, value: object) -> str:
        """A new name bound to ``value``."""
        return self.name(self.fresh(prefix), value)

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


_Hooks = Callable[[Any], Callable[[Any, Any], Any]]

# The classes whose loader is being generated, on this thread: a field of such a class
# (a class holding values of its own type) looks the converter's hook up when it loads.
_generating = threading.local()


def _structure(
    code: _Code, indent: int, var: str, tp: Any, check: Check | None, hooks: _Hooks, i: int
) -> bool:
    """Statements turning the JSON value in ``var`` into a value of type ``tp``, or
    returning None (the caller's fallback) when the value is not plainly right.

    ``check`` is the field's check when it runs on this very value (no converter in
    between): a text field whose check accepts only ``str`` needs no second type test.
    Returns True when the value produced certainly passes ``check`` (the check is then
    the reader's own guarantee, and testing it again would test nothing).

    What the statements accept, the converter's hook for ``tp`` accepts with the same
    result: text, integers and booleans of exactly their JSON type, enum values,
    datetimes written with ``+00:00``, lists for tuples (each item read the same way),
    objects for classes with a generated loader; anything else is read by calling the
    converter's hook for ``tp`` (``hooks(tp)``), whose errors make the loader return None.
    """

    def call(of: Any) -> str:
        if of in getattr(_generating, "classes", ()):  # the hook is being made: look it up
            lookup, of_name = code.name("_hooks", hooks), code.ref("_type", of)
            return f"{lookup}({of_name})({var}, {of_name})"
        return f"{code.ref('_hook', hooks(of))}({var}, {code.ref('_type', of)})"

    covered = check.types if check is not None else None
    inner = _optional_of(tp)
    if tp is str:
        if covered is None or not set(covered) <= {str}:
            code.add(indent, f"if type({var}) is not str: return None")
    elif inner is str:
        if covered is None or not set(covered) <= {str, _NONE_TYPE}:
            code.add(indent, f"if {var} is not None and type({var}) is not str: return None")
    elif tp in (int, bool):
        code.add(indent, f"if type({var}) is not {tp.__name__}: return None")
    elif inner in (int, bool):
        test = f"type({var}) is not {inner.__name__}"
        code.add(indent, f"if {var} is not None and {test}: return None")
    elif _is_enum(tp):
        members = code.ref("_members", {m.value: m for m in tp})
        code.add(indent, f"{var} = {members}[{var}]")
        return _is_type_test(check, "type({v}) is {enum}", "enum", tp)
    elif _is_enum(inner):
        members = code.ref("_members", {m.value: m for m in inner})
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
    elif _tuple_args(tp):
        _structure_tuple(code, indent, var, get_args(tp), hooks, i)
    elif isinstance(tp, type) and attrs.has(tp):
        return _structure_object(code, indent, var, tp, check, hooks, call)
    elif inner is not None:
        code.add(indent, f"if {var} is not None:")
        _structure(code, indent + 1, var, inner, None, hooks, i)
    else:
        code.add(indent, f"{var} = {call(tp)}")
    return False


def _structure_tuple(
    code: _Code, indent: int, var: str, args: tuple[Any, ...], hooks: _Hooks, i: int
) -> None:
    """A tuple read from a JSON list (or a tuple for a fixed-size one), each item as its
    type says (the converter's tuple hooks read lists so, refusing a fixed-size tuple of
    the wrong length)."""
    if len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item is str:
            only_str = code.name("_only_str", _only_str)
            code.add(indent, f"if type({var}) is not list or not {only_str}({var}): return None")
            code.add(indent, f"{var} = tuple({var})")
            return
        code.add(indent, f"if type({var}) is not list: return None")
        if _is_enum(item):
            members = code.ref("_members", {m.value: m for m in item})
            x = code.fresh("_x")
            code.add(indent, f"{var} = tuple([{members}[{x}] for {x} in {var}])")
            return
        items, x = code.fresh("_items"), code.fresh("_x")
        code.add(indent, f"{items} = []")
        code.add(indent, f"for {x} in {var}:")
        _structure(code, indent + 1, x, item, None, hooks, i)
        code.add(indent + 1, f"{items}.append({x})")
        code.add(indent, f"{var} = tuple({items})")
        return
    # to_dict writes a fixed-size tuple as a tuple, JSON as a list: both are read.
    shape = f"type({var}) is not list and type({var}) is not tuple or len({var}) != {len(args)}"
    code.add(indent, f"if {shape}: return None")
    parts = [code.fresh("_p") for _ in args]
    code.add(indent, f"{', '.join(parts)}, = {var}")
    for part, arg in zip(parts, args, strict=True):
        _structure(code, indent, part, arg, None, hooks, i)
    code.add(indent, f"{var} = ({', '.join(parts)},)")


def _tuple_args(tp: Any) -> tuple[Any, ...]:
    """The item types of ``tuple[X, ...]`` (``(X, Ellipsis)``) or of ``tuple[X, Y]``, else
    ``()``."""
    if get_origin(tp) is not tuple:
        return ()
    args = get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return args
    return () if Ellipsis in args or args == ((),) else args


def _structure_object(
    code: _Code,
    indent: int,
    var: str,
    tp: type,
    check: Check | None,
    hooks: _Hooks,
    call: Callable[[Any], str],
) -> bool:
    """An attrs object: its generated loader when the converter has one for it (inline,
    a shared one for actors), else the converter's hook. True when ``check`` is the
    instance test the value certainly passes."""
    if tp in getattr(_generating, "classes", ()):
        code.add(indent, f"{var} = {call(tp)}")
        return False
    hook = hooks(tp)
    if isinstance(hook, MemoHook):
        found = code.ref("_memo", hook.memo)
        key = ", ".join(f"{var}[{k!r}]" for k in hook.keys)  # KeyError: the full path
        code.add(indent, f"if type({var}) is dict and len({var}) == {len(hook.keys)}:")
        code.add(indent + 1, f"_m = {found}.get(({key},))")
        code.add(indent + 1, f"{var} = _m if _m is not None else {call(tp)}")
        code.add(indent, "else:")
        code.add(indent + 1, f"{var} = {call(tp)}")
        # The converter's hook for tp returns a tp or raises, and the memo holds tps.
        return _is_type_test(check, "isinstance({v}, {cls})", "cls", tp)
    if isinstance(hook, FastHook):
        load = code.ref("_load", hook.fast)
        code.add(indent, f"if type({var}) is not dict: return None")
        code.add(indent, f"{var} = {load}({var})")
        code.add(indent, f"if {var} is None: return None")
        return _is_type_test(check, "isinstance({v}, {cls})", "cls", tp)
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
    return class_loader(cls, structure_hook)


def class_loader(cls: type, structure_hook: _Hooks) -> Callable[[dict[str, Any]], Any] | None:
    """The generated loader of ``cls`` objects from JSON dicts, for a
    :func:`plain_attrs_class` (None for any other class): it reads each field as
    :func:`_structure` says, runs the attrs converters, and for a :class:`Checked` class
    its field checks (inlined) and whole-object checks, then sets the slots.

    It returns the object, or None whenever the converter's path must decide (a value
    it does not plainly accept, a refused check, any error); loaders of the classes of
    nested fields are inlined when ``structure_hook`` gives a :class:`FastHook`.
    """
    if not plain_attrs_class(cls):
        return None
    generating = _generating.__dict__.setdefault("classes", set())
    generating.add(cls)
    try:
        return _class_loader(cls, structure_hook, issubclass(cls, Checked))
    finally:
        generating.discard(cls)


def _class_loader(
    cls: type, structure_hook: _Hooks, checks: bool
) -> Callable[[dict[str, Any]], Any] | None:
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
        # Only a Checked class runs its fields' checks (in its post-init).
        check = a.metadata.get(CHECK) if checks else None
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
    if checks and getattr(cls, "_check_whole", None) is not Checked._check_whole:
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
    identity hooks (and of cattrs' own list and tuple hooks, written out in place)."""
    code = _Code()
    entries = [
        f"{k!r}: {code.name(f'_first{j}', v)}" for j, (k, v) in enumerate((first or {}).items())
    ]
    for field, tp in fields.items():
        entries.append(f"{field!r}: {_dump(code, f'e.{field}', tp, unstructure_hook)}")
    code.add(0, "def dump(e):")
    code.add(1, "return {" + ", ".join(entries) + "}")
    source = "\n".join(code.lines) + "\n"
    exec(compile(source, f"<csdomain dumper {name}>", "exec"), code.names)
    dump = typing.cast(Callable[[Any], dict[str, Any]], code.names["dump"])
    dump.__csdomain_source__ = source  # type: ignore[attr-defined]  # for debugging
    reads = [(k, _inline_read(unstructure_hook(tp))) for k, tp in fields.items()]
    if not first and all(read is not None for _, read in reads):
        _flat_dumpers[dump] = tuple((k, read) for k, read in reads if read is not None)
    return dump


def _dump(
    code: _Code, value: str, tp: Any, unstructure_hook: Callable[[Any], Callable[[Any], Any]]
) -> str:
    """The expression writing ``value`` (a name or an attribute read, free to read twice)
    of type ``tp`` as ``unstructure_hook(tp)`` writes it."""
    hook = unstructure_hook(tp)
    read = _inline_read(hook)
    if read is not None:
        return f"{value}{read}"
    flat = _flat_dumpers.get(hook)
    if flat is not None:
        x = code.fresh("_x")
        parts = ", ".join(f"{k!r}: {x}.{k}{suffix}" for k, suffix in flat)
        return f"({{{parts}}} if ({x} := {value}) is not None else None)"
    inner = _optional_of(tp)
    if inner is not None:  # cattrs' optional hook: None, else the inner type's hook
        if _inline_read(unstructure_hook(inner)) == "":
            return value
        x = code.fresh("_x")
        return f"(None if ({x} := {value}) is None else {_dump(code, x, inner, unstructure_hook)})"
    args = _tuple_args(tp)
    if hook is list:  # cattrs' list hook for items written as they are
        return f"list({value})"
    if len(args) == 2 and args[1] is Ellipsis and _is_list_hook(hook):
        x = code.fresh("_x")
        return f"[{_dump(code, x, args[0], unstructure_hook)} for {x} in {value}]"
    if args and Ellipsis not in args and _is_tuple_hook(hook, len(args)):
        items = [_dump(code, f"{value}[{k}]", arg, unstructure_hook) for k, arg in enumerate(args)]
        return f"({', '.join(items)},)"
    return f"{code.ref('_hook', hook)}({value})"


def _is_list_hook(hook: Callable[[Any], Any]) -> bool:
    """Whether ``hook`` is cattrs' iterable hook writing a list, each item through the
    hook of the item type."""
    return (
        getattr(hook, "__module__", None) == "cattrs.gen"
        and getattr(hook, "__qualname__", None)
        == "iterable_unstructure_factory.<locals>.unstructure_iterable"
        and (getattr(hook, "__defaults__", None) or (None,))[0] is list
    )


def _is_tuple_hook(hook: Callable[[Any], Any], size: int) -> bool:
    """Whether ``hook`` is cattrs' hook for a tuple of ``size`` given types, writing a
    tuple of each item through the hook of its type."""
    names = getattr(hook, "__globals__", None)
    return (
        getattr(hook, "__name__", None) == "unstructure_tuple"
        and isinstance(names, dict)
        and "__cattr_seq_cl" not in names
        and all(f"__cattr_u_{k}" in names for k in range(size))
        and f"__cattr_u_{size}" not in names
    )


def class_dumper(
    cls: type, unstructure_hook: Callable[[Any], Callable[[Any], Any]]
) -> Callable[[Any], dict[str, Any]]:
    """A generated function writing a ``cls`` object (an attrs class) as the dict cattrs'
    generated unstructure function makes: every field in order, each through
    ``unstructure_hook(type)``."""
    generating = _dumping.__dict__.setdefault("classes", set())
    if cls in generating:  # a class holding values of its own type: look its dumper up then
        return lambda value: unstructure_hook(cls)(value)
    generating.add(cls)
    try:
        hints = typing.get_type_hints(cls)
        fields = {a.name: hints[a.name] for a in attrs.fields(cls)}
        name = f"{cls.__module__}.{cls.__qualname__}"
        dump = object_dumper(fields, unstructure_hook, name=name)
    finally:
        generating.discard(cls)
    dump.__csdomain_class__ = cls  # type: ignore[attr-defined]  # see is_class_dumper
    return dump


# The classes whose dumper is being generated, on this thread.
_dumping = threading.local()


def is_class_dumper(hook: object, cls: type) -> bool:
    """Whether ``hook`` is a :func:`class_dumper` of ``cls``."""
    return getattr(hook, "__csdomain_class__", None) is cls


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
