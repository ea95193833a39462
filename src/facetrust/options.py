"""Declaring options once: a dataclass field carries its type, default, help and limits.

:func:`option` makes such a field; :func:`validate` checks a dataclass's declared fields;
:func:`add_arguments` / :func:`from_args` turn them into ``argparse`` flags and back; :func:`coerce`
reads one value given as text (a form field) or JSON. ``facetrust.pipeline.ScanOptions`` is the
one user of this today: the CLI, the server and the eval workbench all read their options from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

KINDS = ("int", "float", "str", "bool", "names", "floats")


@dataclass(frozen=True)
class OptionSpec:
    """What an option accepts. ``names``/``floats`` are tuples of str/float."""

    kind: str
    help: str
    minimum: float | None = None  # inclusive unless ``exclusive_min``
    exclusive_min: bool = False
    maximum: float | None = None
    choices: Callable[[], Sequence[str]] | Sequence[str] | None = None  # a callable is read when validating
    also_valid: Callable[[str], bool] | None = None  # a name outside choices it accepts (a model-card path)
    max_items: int | None = None  # names / floats
    unique: bool = False  # names: no repeats
    flag: str | None = None  # CLI flag, default --the-name; None with cli=False: no flag
    metavar: str | None = None
    cli: bool = True
    request: bool = False  # a server request may set it
    request_cap: bool = False  # a request may lower it, never raise it above the server's value (a budget)
    group: str | None = None  # options of one group are mutually exclusive on the CLI

    def allowed(self) -> Sequence[str] | None:
        return self.choices() if callable(self.choices) else self.choices


def option(default: Any, help: str, kind: str, **spec: Any) -> Any:
    """A dataclass field declaring an option (see :class:`OptionSpec`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown option kind {kind!r}")
    return field(default=default, metadata={"option": OptionSpec(kind, help, **spec)})


def specs(cls: Any) -> dict[str, tuple[dataclasses.Field, OptionSpec]]:
    """The declared options of a dataclass, in declaration order."""
    return {f.name: (f, f.metadata["option"]) for f in dataclasses.fields(cls) if "option" in f.metadata}


def _check_number(name: str, v: Any, spec: OptionSpec, whole: bool) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (whole and not float(v).is_integer()):
        raise ValueError(f"{name} must be {'a whole number' if whole else 'a number'}, got {v!r}")
    if not math.isfinite(float(v)):
        raise ValueError(f"{name} must be finite, got {v!r}")
    if spec.minimum is not None:
        if spec.exclusive_min and not v > spec.minimum:
            raise ValueError(f"{name} must be > {spec.minimum:g}, got {v!r}")
        if not spec.exclusive_min and not v >= spec.minimum:
            raise ValueError(f"{name} must be >= {spec.minimum:g}, got {v!r}")
    if spec.maximum is not None and not v <= spec.maximum:
        raise ValueError(f"{name} must be <= {spec.maximum:g}, got {v!r}")
    return int(v) if whole else float(v)


def check(name: str, value: Any, spec: OptionSpec) -> Any:
    """The value normalised (ints stay ints, lists become tuples), or ValueError saying why not."""
    if spec.kind == "int":
        return _check_number(name, value, spec, whole=True)
    if spec.kind == "float":
        return _check_number(name, value, spec, whole=False)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        allowed = spec.allowed()
        if allowed is not None and value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")
        return value
    items = (value,) if isinstance(value, (str, int, float)) else tuple(value)
    if spec.max_items is not None and len(items) > spec.max_items:
        raise ValueError(f"{name}: at most {spec.max_items} items, got {len(items)}")
    if spec.kind == "floats":
        return tuple(_check_number(name, v, spec, whole=False) for v in items)
    if not items:
        raise ValueError(f"{name}: at least one is needed")
    if not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"{name}: expected names, got {value!r}")
    if spec.unique and len(set(items)) != len(items):
        raise ValueError(f"{name}: each may be given once, got {', '.join(items)}")
    allowed = spec.allowed()
    unknown = [v for v in items if allowed is not None and v not in allowed
               and not (spec.also_valid is not None and spec.also_valid(v))]
    if unknown:
        raise ValueError(f"unknown {name}: {', '.join(unknown)}; available: {', '.join(allowed or ())}")
    return items


def validate(obj: Any) -> None:
    """Check and normalise every declared option of a frozen dataclass instance in place."""
    for name, (f, spec) in specs(type(obj)).items():
        value = getattr(obj, name)
        if value is None and f.default is None:  # optional and not given
            continue
        object.__setattr__(obj, name, check(name, value, spec))


def given(cls: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the ones that are None (not given: the declared default applies); an
    unknown name is a TypeError, as a constructor would raise."""
    unknown = set(values) - set(specs(cls))
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return {k: v for k, v in values.items() if v is not None}


def coerce(name: str, raw: Any, spec: OptionSpec) -> Any:
    """One value from a form (text) or JSON to the option's kind (limits are checked later)."""
    if spec.kind in ("names", "floats"):
        items = raw.split(",") if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else [raw]
        items = [x.strip() if isinstance(x, str) else x for x in items]
        items = [x for x in items if x != ""]
        return tuple(str(x) for x in items) if spec.kind == "names" else tuple(_scalar("float", x) for x in items)
    return _scalar(spec.kind, raw)


def _scalar(kind: str, raw: Any) -> Any:
    if isinstance(raw, bool) and kind != "bool":
        raise ValueError
    if kind == "int":
        if isinstance(raw, float):
            raise ValueError
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError
    if not isinstance(raw, str):
        raise ValueError
    return raw


def _flag(name: str, spec: OptionSpec) -> str:
    return spec.flag or "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, cls: Any, names: Iterable[str] | None = None) -> None:
    """One flag per declared CLI option of ``cls`` (all, or ``names``); every default is None, so
    an option not given on the command line is left to the declaration."""
    wanted = None if names is None else set(names)
    groups: dict[str, Any] = {}
    for name, (f, spec) in specs(cls).items():
        if not spec.cli or (wanted is not None and name not in wanted):
            continue
        target = parser
        if spec.group:
            if spec.group not in groups:
                groups[spec.group] = parser.add_mutually_exclusive_group()
            target = groups[spec.group]
        default = f.default if f.default is not dataclasses.MISSING else None
        shown = ", ".join(map(str, default)) if isinstance(default, tuple) else default
        help_text = spec.help + ("" if default is None else f" (default: {shown})")
        kw: dict[str, Any] = {"dest": name, "default": None, "help": help_text}
        if spec.metavar:
            kw["metavar"] = spec.metavar
        if spec.kind == "bool":
            target.add_argument(_flag(name, spec), action=argparse.BooleanOptionalAction, **kw)
        elif spec.kind in ("names", "floats"):
            kw["type"] = str if spec.kind == "names" else float
            target.add_argument(_flag(name, spec), action="append", **kw)
        else:
            kw["type"] = {"int": int, "float": float, "str": str}[spec.kind]
            if spec.choices is not None and not callable(spec.choices):
                kw["choices"] = list(spec.choices)
            target.add_argument(_flag(name, spec), **kw)


class DeprecatedAlias(argparse.Action):
    """Stores the value; warns on stderr when the old spelling (``deprecated_alias``) was used, so a
    renamed flag keeps working while saying its one name."""

    def __init__(self, *args: Any, deprecated_alias: str, **kwargs: Any) -> None:
        self.deprecated_alias = deprecated_alias
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if option_string == self.deprecated_alias:
            import sys

            print(f"warning: {self.deprecated_alias} is deprecated; use {self.option_strings[0]}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def from_args(args: argparse.Namespace, cls: Any, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The options (all, or ``names``) given on the command line; those left None keep their
    declared default."""
    wanted = specs(cls) if names is None else list(names)
    return {n: getattr(args, n) for n in wanted if getattr(args, n, None) is not None}


__all__ = ["KINDS", "DeprecatedAlias", "OptionSpec", "add_arguments", "check", "coerce", "from_args", "given", "option", "specs",
           "validate"]
