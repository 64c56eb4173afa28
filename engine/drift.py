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

from engine.errors import InvalidInputError
from engine.secrets import MASK
from stacks.spec import IgnoreRule

SCHEMA_VERSION = 1
Status = Literal["in_sync", "drifted", "error"]
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


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

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "started_at": self.started_at, "finished_at": self.finished_at,
                "environments": [env.to_dict() for env in self.environments]}

    @property
    def exit_code(self) -> int:
        statuses = {env.status for env in self.environments}
        return 1 if "error" in statuses else 2 if "drifted" in statuses else 0


# --- from engine events (in the worker) --------------------------------------------------------


def drifted_resources(events: Iterable[Any]) -> list[ResourceDrift]:
    """The resources a preview refresh found changed or gone, from its ``EngineEvent``s."""
    found: dict[str, ResourceDrift] = {}
    for event in events:
        step = event.res_outputs_event or event.resource_pre_event
        if step is None:
            continue
        drift = _resource(step.metadata)
        if drift is not None:
            found[drift.urn] = drift
        elif event.res_outputs_event:
            # The final word on a resource is its outputs event.
            found.pop(step.metadata.urn, None)
    return list(found.values())


def _resource(metadata: Any) -> ResourceDrift | None:
    op = getattr(metadata.op, "value", metadata.op)
    if metadata.type.startswith("pulumi:") or op in ("same", "read"):
        return None
    old = metadata.old.outputs if metadata.old else None
    new = metadata.new.outputs if metadata.new else None
    if op == "delete" or (old is not None and metadata.new is None):
        return ResourceDrift(metadata.urn, metadata.type, "delete")
    detailed = metadata.detailed_diff or {}
    paths: dict[str, str] = {path: getattr(diff.diff_kind, "value", diff.diff_kind) for path, diff in detailed.items()}
    if not paths:
        paths = {key: "update" for key in metadata.diffs or ()}
    if not paths and op == "update" and old is not None and new is not None:
        paths = {key: "update" for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)}
    if op not in ("update", "refresh") or not paths:
        return None
    properties = tuple(
        PropertyDrift(path, kind.removesuffix("-replace"), _masked(_at(old, path)), _masked(_at(new, path)))  # type: ignore[arg-type]
        for path, kind in sorted(paths.items())
    )
    return ResourceDrift(metadata.urn, metadata.type, "update", properties)


def _at(state: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a property path such as ``tags.owner`` or ``ingress[0].cidrBlocks[1]``."""
    value: Any = state
    for key in re.findall(r'[^.\[\]"]+', path):
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _masked(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get("4dabf18193072939515e22adb298388d") == _SECRET_SIG:
            return MASK
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
