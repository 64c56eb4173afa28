"""Random JSON objects and random out-of-band changes to them, with the drift each change must produce.

A ``Mutated`` example is an object as deployed, the object as someone left it in
the cloud, and the set of ``(path, kind)`` a drift report must hold: exactly
those, no more. The changes touch disjoint places (none inside another), so the
expected set follows from each change alone, written here without terrane's
differ: paths are spelled by ``pulumi_path`` below, after Pulumi's Go SDK
(``resource.PropertyPath.String``), not by ``terrane.engine.drift.properties``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]

# Keys as clouds have them: plain words, dotted and slashed label keys, spaces and quotes.
KEYS = st.one_of(
    st.from_regex(r"[a-z][a-zA-Z0-9_]{0,8}", fullmatch=True),
    st.from_regex(r"[a-z]{1,6}\.[a-z]{1,6}/[a-z-]{1,8}", fullmatch=True),
    st.sampled_from(["with space", 'say "hi"', "dash-key", "x[0]", "émoji✓"]),
)
SCALARS = st.one_of(st.booleans(), st.integers(-1000, 1000), st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)
OBJECTS = st.dictionaries(KEYS.filter(lambda key: key != "name"), VALUES, min_size=1, max_size=6)


def pulumi_path(keys: Path) -> str:
    """A property path as Pulumi writes one: a key outside ``[A-Za-z0-9_]`` is quoted, ``"`` escaped."""
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z0-9_]+", key):
            text += f".{key}" if text else key
        else:
            text += '["' + key.replace('"', '\\"') + '"]'
    return text


@dataclass(frozen=True)
class Mutated:
    before: dict[str, Any]
    after: dict[str, Any]
    expected: frozenset[tuple[str, str]]
    """``(path, kind)`` for every property that the change left different."""


def _sites(value: Any, path: Path = ()) -> list[Path]:
    """Every place in ``value`` a change can be made: each node but the root."""
    children = (value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ())
    found: list[Path] = []
    for key, item in children:
        found.append((*path, key))
        found += _sites(item, (*path, key))
    return found


def _disjoint(sites: list[Path]) -> list[Path]:
    """Sites none of which lies inside another, so that each change stands alone."""
    chosen: list[Path] = []
    for site in sites:
        if all(site[:len(other)] != other and other[:len(site)] != site for other in chosen):
            chosen.append(site)
    return chosen


def _at(value: Any, path: Path) -> Any:
    for key in path:
        value = value[key]
    return value


def _differs(old: Any, new: Any) -> bool:
    """Whether ``new`` replaces ``old`` as another value: of another JSON type, or another scalar."""
    def kind(value: Any) -> str:
        return "bool" if isinstance(value, bool) else type(value).__name__

    return kind(new) != kind(old) or (not isinstance(new, dict | list) and new != old)


@st.composite
def mutated(draw: st.DrawFn, objects: st.SearchStrategy[dict[str, Any]] = OBJECTS) -> Mutated:
    """An object, and one to four changes to it: change a value, delete, add a key, grow or shrink a list."""
    before = draw(objects)
    after = copy.deepcopy(before)
    sites = _disjoint(draw(st.permutations(_sites(before))))
    expected: set[tuple[str, str]] = set()
    for site in sites[: draw(st.integers(1, min(4, len(sites))))]:
        parent, key, old = _at(after, site[:-1]), site[-1], _at(after, site)
        action = draw(st.sampled_from(_actions(old, parent)))
        if action == "update":
            parent[key] = draw(VALUES.filter(lambda value, old=old: _differs(old, value)))
            expected.add((pulumi_path(site), "update"))
        elif action == "delete":
            del parent[key]
            expected.add((pulumi_path(site), "delete"))
        elif action == "add":
            new_key = draw(KEYS.filter(lambda candidate, old=old: candidate not in old))
            old[new_key] = draw(VALUES)
            expected.add((pulumi_path((*site, new_key)), "add"))
        elif action == "append":
            old.append(draw(VALUES))
            expected.add((pulumi_path((*site, len(old) - 1)), "add"))
        else:  # shrink
            old.pop()
            expected.add((pulumi_path((*site, len(old))), "delete"))
    return Mutated(before, after, frozenset(expected))


def _actions(old: Any, parent: Any) -> list[str]:
    actions = ["update"]
    if isinstance(parent, dict):
        actions.append("delete")
    if isinstance(old, dict):
        actions.append("add")
    if isinstance(old, list):
        actions += ["append", "shrink"] if old else ["append"]
    return actions
