"""Drift of a Kubernetes object: every field terrane sets, read whole where Kubernetes owns it whole.

pulumi-kubernetes prunes the live object to the shape of what was applied
(lists to the applied length, maps to the applied keys) before it diffs, in a
refresh as in an update. So a rule appended to a network policy's egress, a key
added to a selector, or rules given to a policy that was applied with none do
not show in its diff, and the refresh step may even say ``same``. Under
server-side apply those fields are atomic: whoever changed them owns the whole
list or selector now, and it says something other than what terrane set.

So the object is compared here, from the last applied state to the one just
read: by key through maps that Kubernetes merges key by key (``metadata``, its
labels and annotations, and object fields), and whole for lists, for selectors
and for anything terrane set empty. A key terrane does not set (a label someone
added) is not compared: it is theirs to keep.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from terrane.engine.drift.properties import Comparison, Difference, compare

TYPE_PREFIX = "kubernetes:"

# Structs that Kubernetes treats as one value under server-side apply (+structType=atomic, +mapType=atomic).
_ATOMIC = frozenset({"podSelector", "namespaceSelector", "selector"})


def owned_differences(applied: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> Comparison:
    """What differs from ``old`` to ``new`` (outputs: the live object) in the fields ``applied`` (inputs) sets."""
    differences: list[Difference] = []
    hidden: list[str] = []
    for comparison in _walk(applied, old, new, ()):
        differences += comparison.differences
        hidden += comparison.hidden
    return Comparison(tuple(differences), tuple(hidden))


def _walk(applied: Any, old: Any, new: Any, keys: tuple[str | int, ...]) -> Iterator[Comparison]:
    merged_by_key = isinstance(applied, Mapping) and applied and not (keys and keys[-1] in _ATOMIC)
    if not merged_by_key:
        yield compare(old, new, keys)
        return
    for key in applied:
        if key.startswith("__"):
            continue  # the provider's own bookkeeping
        yield from _walk(applied[key], _get(old, key), _get(new, key), (*keys, key))


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None
