"""How a spec's validation errors read: one "field.path: message" line each.

A message never repeats a rejected string: it may be a secret. What it may say
is how YAML read a value that is not a string (``1.30`` as the number 1.3,
``yes`` as true, an account id as a number), since that is what a user must
change, and how the file wrote it when the caller can tell (``written``): a
number or a boolean is never a secret, because the fields that hold secrets
refuse any plain value before its type is looked at (``stacks.spec.references``).
An unknown key is named with the keys it may have been meant to be.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from terrane.stacks.spec import meant, spoken

Loc = tuple[str | int, ...]
Written = Callable[[Loc], str | None]
"""How the file wrote the scalar at a path into it, when it was a plain (unquoted) scalar; None when unknown."""

_NOT_TEXT = (bool, int, float)
_LONGEST = 40
"""A longer scalar is not repeated: a message stays one line a terminal shows whole."""


def validation_problems(exc: ValidationError, prefix: Loc = (), *, model: type[BaseModel] | None = None,
                        written: Written | None = None) -> list[str]:
    """One "field.path: message" line per problem of ``exc``, raised by ``model`` for the value at ``prefix``.

    A misspelt key is one problem: the required field it was meant to be is not also said to be missing.
    """
    typos = misspelt(exc, model) if model else {}
    misspelt_fields = {(*loc[:-1], name) for loc, names in typos.items() if len(names) == 1 for name in names}
    lines = []
    for error in exc.errors(include_url=False):
        if error["type"] == "missing" and error["loc"] in misspelt_fields:
            continue
        loc = (*prefix, *error["loc"])
        if error["type"] == "extra_forbidden":
            message = unknown_field(typos.get(error["loc"], []))
        else:
            message = _message(error, loc, written)
        path = _path(loc)
        lines.append(f"{path}: {message}" if path else message)
    return lines


def misspelt(exc: ValidationError, model: type[BaseModel]) -> dict[Loc, list[str]]:
    """Each unknown key of ``exc`` (by its path) with the keys of ``model`` it is likeliest a typo of, if any."""
    return {
        error["loc"]: meant(str(error["loc"][-1]), known_keys(model, error["loc"][:-1]))
        for error in exc.errors(include_url=False, include_input=False)
        if error["type"] == "extra_forbidden"
    }


def unknown_field(meant: Sequence[str]) -> str:
    """What to say of an unknown key: the known keys it is likeliest a typo of (``stacks.spec.meant``), if any."""
    return f"unknown field; did you mean {spoken(meant, 'or')}?" if meant else "unknown field"


def _path(loc: Loc) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _message(error: Mapping[str, Any], loc: Loc, written: Written | None) -> str:
    kind, value = error["type"], error.get("input")
    text = _short(written(loc)) if written and isinstance(value, _NOT_TEXT) else None
    if kind == "missing":
        return "is required"
    if kind.startswith("date_"):
        reason = error.get("ctx", {}).get("error")
        return "must be a date like 2027-01-31" + (f" ({reason})" if reason else "")
    if value is None and kind in ("string_type", "int_type", "bool_type", "literal_error"):
        return "is empty: give it a value, or remove it"
    if kind == "int_type":
        if isinstance(value, bool):
            return f"must be a whole number, not true or false ({_read_as(value, text)})"
        return "must be a whole number" + (", without quotes" if isinstance(value, str) else "")
    if kind == "bool_type":
        return "must be true or false" + (", without quotes" if isinstance(value, str) else
                                          ", not a number" if isinstance(value, int | float) else "")
    if kind in ("model_type", "dict_type"):
        return "must be a mapping of keys to values" + (f" ({_read_as(value, text)})" if isinstance(value, _NOT_TEXT)
                                                         else "")
    if kind == "string_type" and isinstance(value, _NOT_TEXT):
        return f"must be text, but {_read_as(value, text)}: write it in quotes" + (f": '{text}'" if text else "")
    message = str(error["msg"]).replace("Input should be", "must be").replace("String should", "should")
    if kind == "literal_error" and isinstance(value, _NOT_TEXT):
        return f"{message} ({_read_as(value, text)})"
    return message


def _read_as(value: bool | float, text: str | None) -> str:
    """What YAML made of an unquoted scalar written as ``text`` (None: unknown): "YAML read 1.30 as the number 1.3"."""
    if isinstance(value, bool):
        became = "true" if value else "false"
    elif text == repr(value) or len(repr(value)) > _LONGEST:
        became = "a number"
    else:
        became = f"the number {value!r}"
    return f"YAML read {text or 'it'} as {became}"


def _short(text: str | None) -> str | None:
    return text if text is not None and len(text) <= _LONGEST else None


def known_keys(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The keys the mapping at ``path`` (into what ``model`` validates) may have; empty when it is not known."""
    shapes: list[Any] = [model]
    for part in path:
        shapes = [inner for shape in shapes for inner in _inside(shape, part)]
    return sorted({name for shape in shapes for arm in _arms(shape) if _is_model(arm) for name in arm.model_fields})


def _inside(shape: Any, part: str | int) -> list[Any]:
    """What ``part`` of a value of ``shape`` is: a model's field, a list's item, a mapping's value."""
    found = []
    for arm in _arms(shape):
        origin = get_origin(arm)
        if _is_model(arm) and isinstance(part, str) and part in arm.model_fields:
            found.append(arm.model_fields[part].annotation)
        elif origin is list and isinstance(part, int):
            found.append(get_args(arm)[0])
        elif origin is dict and isinstance(part, str):
            found.append(get_args(arm)[1])
    return found


def _arms(shape: Any) -> list[Any]:
    """``shape`` without its ``Annotated`` and union wrappings: the models, lists, mappings and scalars it may be."""
    origin = get_origin(shape)
    if origin is Annotated:
        return _arms(get_args(shape)[0])
    if origin in (Union, types.UnionType):
        return [arm for inner in get_args(shape) for arm in _arms(inner)]
    return [shape]


def _is_model(shape: Any) -> bool:
    return isinstance(shape, type) and issubclass(shape, BaseModel)
