"""One typed override engine for every nested options dataclass (the run config, compare's options).

A key names a path through dataclass fields and mapping entries: `train.lr`, `data.roles.confusers`,
`data.mixture.qa`, `ft.lr_sweep`. A value given as text (from `--set KEY=TEXT` or a sweep flag) is
parsed as the type of the value it replaces; a mapping takes `name:value,name:value`. Anything a user
can get wrong is one `UserError` line that names the right keys.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from minigen.errors import UserError


def parse_value(key: str, text: str, current: Any) -> Any:
    """`text` as a value of `current`'s type; UserError when it is not one."""
    kind = type(current)
    try:
        if kind is bool:
            low = text.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return low in ("true", "1", "yes")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is str:
            return text
        if kind is dict:
            pairs = [part.partition(":") for part in text.split(",") if part.strip()]
            if any(not sep for _, sep, _ in pairs):
                raise ValueError
            return {name.strip(): float(value) for name, _, value in pairs}
    except ValueError:
        shape = "name:value,name:value" if kind is dict else f"a {kind.__name__}"
        raise UserError(f"--set {key}={text}: expected {shape}") from None
    raise UserError(f"--set {key}: a field of type {kind.__name__} cannot be set from the command line")


def _coerce(key: str, value: Any, current: Any) -> Any:
    if isinstance(value, str) and not isinstance(current, str):
        return parse_value(key, value, current)
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def set_key(root: Any, key: str, value: Any, what: str = "config key") -> None:
    """Set `key` (a dotted path) of `root` in place to `value` (text is parsed as the field's type)."""
    parts = key.split(".")
    obj = root
    for depth, name in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[:depth])
        if isinstance(obj, dict):
            if not last:
                raise UserError(f"unknown {what} {key!r}: {here} is a mapping of names to numbers")
            obj[name] = _coerce(key, value, obj.get(name, 0.0))
            return
        if not dataclasses.is_dataclass(obj):
            raise UserError(f"unknown {what} {key!r}: {here} has no fields")
        names = [f.name for f in dataclasses.fields(obj)]
        if name not in names:
            where = f"{here} fields" if here else "keys look like"
            listed = ", ".join(names) if here else ", ".join(n + ".X" for n in names)
            raise UserError(f"unknown {what} {key!r}; {where}: {listed}")
        current = getattr(obj, name)
        if last:
            if dataclasses.is_dataclass(current):
                raise UserError(f"{what} {key!r} is a section; set one of its fields: "
                                + ", ".join(f"{key}.{f.name}" for f in dataclasses.fields(current)))
            setattr(obj, name, dict(value) if isinstance(value, dict) else _coerce(key, value, current))
            return
        obj = current


def apply(root: Any, items: list[str], what: str = "config key", example: str = "train.lr=1e-3") -> Any:
    """A re-checked copy of `root` with each "KEY=VALUE" of `items` applied."""
    out = rebuilt(root)
    for item in items:
        key, eq, text = item.partition("=")
        if not eq:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set {example}")
        set_key(out, key.strip(), text.strip(), what)
    return rebuilt(out)


def rebuilt(obj: Any) -> Any:
    """A deep copy in which every dataclass is constructed again (its __post_init__ checks the values)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return type(obj)(**{f.name: rebuilt(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init})
    if isinstance(obj, dict):
        return {k: rebuilt(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rebuilt(v) for v in obj]
    return obj


def from_dict(cls: type, data: dict) -> Any:
    """`cls` built from a (json) dict, nested dataclass fields included; unknown keys are a UserError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise UserError(f"{cls.__name__}: unknown fields {', '.join(sorted(unknown))}")
    kwargs = {}
    for name, value in data.items():
        kind = hints.get(name)
        kwargs[name] = from_dict(kind, value) if dataclasses.is_dataclass(kind) and isinstance(value, dict) \
            else value
    return cls(**kwargs)


def keys(root: Any, prefix: str = "") -> list[str]:
    """Every settable key of `root` (for --help), e.g. train.lr, data.roles.mode, data.mixture."""
    out = []
    for f in dataclasses.fields(root):
        value = getattr(root, f.name)
        if dataclasses.is_dataclass(value):
            out += keys(value, f"{prefix}{f.name}.")
        elif isinstance(value, (bool, int, float, str, dict)):
            out.append(prefix + f.name)
    return out
