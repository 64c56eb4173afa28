"""Drift of a Kubernetes object: what terrane sets, read from the live object before and after.

pulumi-kubernetes prunes the live object to the shape of what was applied
(lists to the applied length, maps to the applied keys) before it diffs, in a
refresh as in an update. So a rule appended to a network policy's egress, a key
added to a selector, or rules given to a policy applied with none do not show
in its diff, and the refresh step may even say ``same``.

So the object is compared here, from the live object as the last apply left it
to the one just read. ``metadata`` is compared key by key where terrane sets a
key (its name, and each label and annotation terrane sets): a label someone else
added is theirs to keep. Every other field terrane sets (``spec``,
``automountServiceAccountToken``, ``data``...) is compared whole, as the object
it is: whatever someone changed, added or removed in it is drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from terrane.engine.drift.properties import Comparison, Difference, Keys, compare, property_path

TYPE_PREFIX = "kubernetes:"
NAMESPACE = "kubernetes:core/v1:Namespace"
_KEYED = ("labels", "annotations")
# Structs that server-side apply sets whole (+structType=atomic, +mapType=atomic): applying one replaces it.
_ATOMIC = frozenset({"podSelector", "namespaceSelector", "selector"})


@dataclass(frozen=True)
class ObjectDrift:
    differences: tuple[Difference, ...]
    hidden: tuple[str, ...]
    unapplied: tuple[str, ...]
    """Paths of differences that lie outside every field terrane applies: no apply of terrane's takes them away."""


def owned_differences(applied: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> ObjectDrift:
    """What differs from ``old`` to ``new`` (outputs: the live object) in what ``applied`` (inputs) sets."""
    differences: list[Difference] = []
    hidden: list[str] = []
    for comparison in _compared(applied, old, new):
        differences += comparison.differences
        hidden += comparison.hidden
    unapplied = tuple(found.path for found in differences if not _applies(applied, property_path(found.path) or []))
    return ObjectDrift(tuple(differences), tuple(hidden), unapplied)


def _compared(applied: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Comparison]:
    for key, value in applied.items():
        if key.startswith("__"):
            continue  # the provider's own bookkeeping
        if key != "metadata" or not isinstance(value, Mapping):
            yield compare(old.get(key), new.get(key), (key,))
            continue
        before, after = _mapping(old.get(key)), _mapping(new.get(key))
        for name, set_to in value.items():
            if name in _KEYED and isinstance(set_to, Mapping):
                for item in set_to:
                    yield compare(_mapping(before.get(name)).get(item), _mapping(after.get(name)).get(item),
                                  (key, name, item))
            else:
                yield compare(before.get(name), after.get(name), (key, name))


def _applies(applied: Any, keys: Keys) -> bool:
    """Whether terrane's apply sets the field at ``keys``: its path exists in ``applied`` down to a list or a leaf."""
    for key in keys:
        if not isinstance(applied, Mapping):
            return True  # within a list (owned whole) or a value terrane sets
        if key not in applied:
            return False
        if key in _ATOMIC:
            return True
        applied = applied[key]
    return True


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
