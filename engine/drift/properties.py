"""Property values as the Pulumi engine has them: paths, masked secrets, and the differences between two states.

Paths are Pulumi's property-path syntax (``resource.PropertyPath`` in the Go
SDK): ``spec.nodes.max``, ``rules[0].ports[1]``, and ``tags["kubernetes.io/role"]``
for a key with any character outside ``[A-Za-z0-9_]`` (a ``"`` escaped as ``\\"``).
A secret, at any depth, is ``[secret]`` in anything returned here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from terrane.engine import wire
from terrane.engine.accounts.secrets import MASK

Keys = Sequence[str | int]

# Pulumi's property path syntax: name, .name, [index], ["any key"] (with \" escaped).
_PATH_PART = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
# A key is written bare only when every character is one of these (Go SDK: requiresQuote).
_BARE_KEY = re.compile(r"[A-Za-z0-9_]+")


def property_path(path: str) -> list[str | int] | None:
    """The keys of a property path such as ``tags["kubernetes.io/role"]`` or ``rules[0].cidrs[1]``."""
    keys: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None or (match[1] is not None and position and path[position] != "."):
            return None
        name, index, quoted = match.groups()
        keys.append(int(index) if index is not None else name if name is not None else quoted.replace('\\"', '"'))
        position = match.end()
    return keys


def format_path(keys: Keys) -> str:
    """The property path of ``keys``, written as the Pulumi engine writes it (``property_path`` reads it back)."""
    path = ""
    for key in keys:
        path = join(path, key)
    return path


def join(path: str, key: str | int) -> str:
    """``path`` and one more key, written as the Pulumi engine writes it."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _BARE_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f'{path}["' + key.replace('"', '\\"') + '"]'


def value_at(value: Any, keys: Keys) -> Any:
    """The value at ``keys`` (from ``property_path``), None when absent; secrets met on the way are ``[secret]``."""
    for key in keys:
        if is_secret(value):
            return MASK
        if isinstance(value, Mapping) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
    return masked(value)


def is_secret(value: Any) -> bool:
    # Pulumi's wire form of a secret: {SIG_KEY: SECRET_SIG, "value" | "ciphertext": ...}.
    return isinstance(value, Mapping) and value.get(wire.SIG_KEY) == wire.SECRET_SIG


def masked(value: Any) -> Any:
    """``value`` with every secret in it, at any depth, as ``[secret]``."""
    if is_secret(value):
        return MASK
    if isinstance(value, Mapping):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


@dataclass(frozen=True)
class Difference:
    """One property that differs between an expected and an actual state; values masked."""

    path: str
    kind: Literal["update", "add", "delete"]
    expected: Any
    actual: Any


@dataclass(frozen=True)
class Comparison:
    """What comparing two states found: the differences, and the secrets that could not be compared."""

    differences: tuple[Difference, ...]
    hidden: tuple[str, ...]
    """Paths where both sides are secrets whose values are masked (as in engine events): equal or not, unknown."""


def compare(expected: Any, actual: Any, at: Keys = ()) -> Comparison:
    """Every property that differs from ``expected`` to ``actual``, as deep as both go; paths start with ``at``.

    Maps are compared key by key (a key on one side only is ``add`` or
    ``delete``, and null counts as absent), lists index by index (elements past
    the shorter one are added or deleted), anything else by type and value
    (``1`` and ``1.0`` are one JSON number; ``true`` is not ``1``). A whole
    subtree that appears or disappears is one difference at its root.
    """
    differences: list[Difference] = []
    hidden: list[str] = []
    for keys, kind, old, new in _walk(expected, actual, tuple(at)):
        if kind == "hidden":
            hidden.append(format_path(keys))
        else:
            differences.append(Difference(format_path(keys), kind, masked(old), masked(new)))
    return Comparison(tuple(differences), tuple(hidden))


_Found = tuple[tuple[str | int, ...], Literal["update", "add", "delete", "hidden"], Any, Any]


def _walk(old: Any, new: Any, keys: tuple[str | int, ...]) -> Iterator[_Found]:
    if old is None or new is None:
        if old is not None or new is not None:
            yield keys, "add" if old is None else "delete", old, new
    elif is_secret(old) or is_secret(new):
        yield from _secrets(old, new, keys)
    elif isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}):
            yield from _walk(old.get(key), new.get(key), (*keys, key))
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            if index >= len(old):
                yield (*keys, index), "add", None, new[index]
            elif index >= len(new):
                yield (*keys, index), "delete", old[index], None
            else:
                yield from _walk(old[index], new[index], (*keys, index))
    elif not _same(old, new):
        yield keys, "update", old, new


def _secrets(old: Any, new: Any, keys: tuple[str | int, ...]) -> Iterator[_Found]:
    if not (is_secret(old) and is_secret(new)):
        yield keys, "update", old, new  # a value that became secret, or stopped being one
        return
    # In a state both carry their value ("value", or "ciphertext"); engine events mask it as "[secret]".
    before, after = old.get("value", old.get("ciphertext")), new.get("value", new.get("ciphertext"))
    if before == MASK and after == MASK:
        yield keys, "hidden", None, None
    elif before != after:
        yield keys, "update", old, new


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    numbers = (int, float)
    if isinstance(old, numbers) and isinstance(new, numbers):
        return old == new
    return type(old) is type(new) and bool(old == new)
