"""Drift: what changed in the cloud behind an environment's back, per resource and per property.

A drift check is a preview-only refresh (``Stack.preview_refresh``): it reads
every resource from the cloud with the account's current credentials and
changes no state. Its engine events say, per resource, whether the cloud
differs (``update``) or the resource is gone (``delete``), with a detailed diff
per property and the old (expected) and new (actual) state. Ignore rules from
the environment's ``drift.ignore`` then drop what the team accepts.
"""

from __future__ import annotations

import fnmatch
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from terrane.engine import wire
from terrane.engine.errors import ExitCode, InvalidInputError
from terrane.engine.secrets import MASK
from terrane.stacks.spec import IgnoreRule

SCHEMA_VERSION = 1
Status = Literal["in_sync", "drifted", "error", "not_deployed"]
"""not_deployed: the environment has no stack; nothing was checked, and it does not affect the exit code."""


@dataclass(frozen=True)
class PropertyDrift:
    path: str
    kind: Literal["update", "add", "delete"]
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class ResourceDrift:
    urn: str
    type: str
    change: Literal["update", "delete"]
    properties: tuple[PropertyDrift, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "change": self.change,
                "properties": [prop.to_dict() for prop in self.properties]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceDrift:
        return cls(data["urn"], data["type"], data["change"],
                   tuple(PropertyDrift(**prop) for prop in data.get("properties", ())))


@dataclass(frozen=True)
class EnvironmentDrift:
    environment: str
    status: Status
    error: str | None = None
    resources: tuple[ResourceDrift, ...] = ()
    ignored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "status": self.status, "error": self.error,
                "resources": [resource.to_dict() for resource in self.resources], "ignored": self.ignored}

    @property
    def fingerprint(self) -> list[Any]:
        """What a notification compares between runs: the status and which properties drifted."""
        if self.status == "error":
            return ["error"]
        return [self.status, sorted([r.urn, r.change, sorted(p.path for p in r.properties)] for r in self.resources)]


@dataclass(frozen=True)
class DriftReport:
    started_at: str
    finished_at: str
    environments: tuple[EnvironmentDrift, ...] = field(default_factory=tuple)
    notification_error: str | None = None
    """Why the notification of this run could not be delivered; None if it was, or none was asked."""

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "started_at": self.started_at, "finished_at": self.finished_at,
                "environments": [env.to_dict() for env in self.environments]}

    @property
    def exit_code(self) -> ExitCode:
        """What the check found: FAILURE if an environment could not be checked, else CHANGES on drift, else OK."""
        statuses = {env.status for env in self.environments}
        return ExitCode.FAILURE if "error" in statuses else ExitCode.CHANGES if "drifted" in statuses else ExitCode.OK


# --- from engine events (in the worker) --------------------------------------------------------


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


# --- ignore rules and shards (in the driver) ---------------------------------------------------


def apply_ignore_rules(resources: Sequence[ResourceDrift], rules: Sequence[IgnoreRule],
                       today: date) -> tuple[list[ResourceDrift], int]:
    """Drop what live rules ignore; returns what remains and how many changes were ignored.

    A rule names a resource by type token or URN glob and a property path (a
    prefix: ``tags`` covers ``tags.owner``); after its ``until`` date it no
    longer applies. A rule without a property ignores the whole resource.
    """
    live = [rule for rule in rules if rule.until is None or today <= rule.until]
    kept: list[ResourceDrift] = []
    ignored = 0
    for resource in resources:
        matching = [rule for rule in live if _names(rule, resource)]
        if resource.change == "delete" or not resource.properties:
            if any(rule.property in ("*", "") for rule in matching):
                ignored += 1
            else:
                kept.append(resource)
            continue
        properties = [prop for prop in resource.properties if not any(_covers(rule, prop.path) for rule in matching)]
        ignored += len(resource.properties) - len(properties)
        if properties:
            kept.append(replace(resource, properties=tuple(properties)))
    return kept, ignored


def _names(rule: IgnoreRule, resource: ResourceDrift) -> bool:
    return rule.resource == resource.type or fnmatch.fnmatchcase(resource.urn, rule.resource)


def _covers(rule: IgnoreRule, path: str) -> bool:
    prefix = rule.property
    return prefix == "*" or path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N``: shard I (0-based) of N."""
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 0 <= int(match[1]) < int(match[2]):
        raise InvalidInputError(f"--shard {text}: expected I/N with 0 <= I < N, e.g. 0/4")
    return int(match[1]), int(match[2])


def in_shard(name: str, shard: tuple[int, int]) -> bool:
    """Stable by name: an environment stays in its shard however many others come and go."""
    index, count = shard
    return zlib.crc32(name.encode()) % count == index
