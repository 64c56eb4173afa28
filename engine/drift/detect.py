"""From engine events to drift: what a preview refresh found, per resource and per property.

A drift check is a preview-only refresh (``Stack.preview_refresh``): it reads
every resource from the cloud with the account's current credentials and
changes no state. Its engine events say, per resource, whether the cloud
differs (``update``) or the resource is gone (``delete``), with a detailed diff
per property and the old (expected) and new (actual) state. This runs in the
worker, next to the Automation API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from terrane.engine import wire
from terrane.engine.accounts.secrets import MASK
from terrane.engine.drift.report import PropertyDrift, ResourceDrift


class RefreshReader:
    """Reads a preview refresh's engine events as they arrive, and keeps what the refresh found.

    With ``--run-program`` the engine interleaves two kinds of steps per
    resource. Only the refresh step speaks for the cloud: a pre event with op
    ``refresh``, then an outputs event whose op is its result (``same``,
    ``update`` or ``delete`` with no new state). The program's own steps follow
    for the same URN (``same``, even for a resource just found deleted, as the
    skipped re-create) and say nothing about the cloud, so they are not read.
    """

    def __init__(self) -> None:
        self._checking: set[str] = set()
        self.found: dict[str, ResourceDrift] = {}

    def read(self, event: Any) -> RefreshStep | None:
        """The refresh step ``event`` starts or ends, with what it found; None for any other event."""
        if event.resource_pre_event:
            metadata = event.resource_pre_event.metadata
            if step_op(metadata) != "refresh":
                return None
            self._checking.add(metadata.urn)
            return RefreshStep("start", metadata.urn, metadata.type, None)
        if event.res_outputs_event:
            metadata = event.res_outputs_event.metadata
            if metadata.urn not in self._checking:
                return None
            self._checking.discard(metadata.urn)
            drift = _resource(metadata)
            if drift is not None:
                self.found[drift.urn] = drift
            return RefreshStep("done", metadata.urn, metadata.type, drift)
        return None


@dataclass(frozen=True)
class RefreshStep:
    phase: Literal["start", "done"]
    urn: str
    type: str
    drift: ResourceDrift | None
    """What a finished step found; None: in sync."""


def drifted_resources(events: Iterable[Any]) -> list[ResourceDrift]:
    """The resources a preview refresh found changed or gone, from its ``EngineEvent``s."""
    reader = RefreshReader()
    for event in events:
        reader.read(event)
    return list(reader.found.values())


def step_op(metadata: Any) -> str:
    """A step's op as the engine spells it (``same``, ``refresh``...), from an event's metadata."""
    return str(getattr(metadata.op, "value", metadata.op))


def _resource(metadata: Any) -> ResourceDrift | None:
    """The drift a finished refresh step found, if any.

    Components, providers and the stack "change" in a refresh only in name:
    only custom resources are read from the cloud.
    """
    state = metadata.old or metadata.new
    if metadata.type.startswith("pulumi:") or not (state and state.custom):
        return None
    op = step_op(metadata)
    if op == "delete" or metadata.new is None:
        return ResourceDrift(metadata.urn, metadata.type, "delete")
    if op != "update":
        return None
    # Keys are property paths of the inputs (``inputDiff``) or the outputs; the
    # engine has already inverted the diff, so "add" means present only in the cloud.
    detailed = metadata.detailed_diff or {key: _TOP_LEVEL for key in metadata.diffs or ()}
    properties = []
    for path, diff in sorted(detailed.items()):
        side = "inputs" if diff.input_diff else "outputs"
        kind = str(getattr(diff.diff_kind, "value", diff.diff_kind)).removesuffix("-replace")
        properties.append(PropertyDrift(path, kind, _at(getattr(metadata.old, side), path),  # type: ignore[arg-type]
                                        _at(getattr(metadata.new, side), path)))
    return ResourceDrift(metadata.urn, metadata.type, "update", tuple(properties)) if properties else None


@dataclass(frozen=True)
class _TopLevelDiff:
    """A changed top-level key that came without a detailed diff."""

    diff_kind: str = "update"
    input_diff: bool = False


_TOP_LEVEL = _TopLevelDiff()

# Pulumi's property path syntax: name, .name, [index], ["any key"] (with \" and \\ escaped).
_PATH_PART = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def property_path(path: str) -> list[str | int] | None:
    """The keys of a property path such as ``tags["kubernetes.io/role"]`` or ``rules[0].cidrs[1]``."""
    keys: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None or (match[1] is not None and position and path[position] != "."):
            return None
        name, index, quoted = match.groups()
        keys.append(int(index) if index is not None else name if name is not None else re.sub(r"\\(.)", r"\1", quoted))
        position = match.end()
    return keys


def _at(state: Mapping[str, Any] | None, path: str) -> Any:
    """The value at ``path`` in a state, with secrets (at any depth) as ``[secret]``; None when absent."""
    return value_at(state, property_path(path) or [path])


def value_at(value: Any, keys: Sequence[str | int]) -> Any:
    """The value at ``keys`` (from ``property_path``), None when absent; secrets met on the way are ``[secret]``."""
    for key in keys:
        if _is_secret(value):
            return MASK
        if isinstance(value, Mapping) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
    return _masked(value)




def _is_secret(value: Any) -> bool:
    # Pulumi's wire form of a secret: {SIG_KEY: SECRET_SIG, "value" | "ciphertext": ...}.
    return isinstance(value, Mapping) and value.get(wire.SIG_KEY) == wire.SECRET_SIG


def _masked(value: Any) -> Any:
    if _is_secret(value):
        return MASK
    if isinstance(value, Mapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
