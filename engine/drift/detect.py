"""From engine events to drift: what a preview refresh found, per resource and per property.

A drift check is a preview-only refresh (``Stack.preview_refresh``): it reads
every resource from the cloud with the account's current credentials and
changes no state. Its engine events say, per resource, whether the cloud
differs (``update``) or the resource is gone (``delete``), with a detailed diff
per property and the old (expected) and new (actual) state. This runs in the
worker, next to the Automation API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from terrane.engine.drift import kubernetes
from terrane.engine.drift.properties import Difference, compare, property_path, value_at
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
    only custom resources are read from the cloud. An ``update`` is never
    dropped: without a detailed diff from the provider, the properties are
    compared here, and a change that cannot be told apart is still reported.
    A ``same`` is checked too: the engine says ``same`` when the provider's diff
    of the inputs found nothing (or, without a diff of its own, when the read
    returned no inputs), even if the cloud's outputs changed.
    """
    state = metadata.old or metadata.new
    if metadata.type.startswith("pulumi:") or not (state and state.custom):
        return None
    op = step_op(metadata)
    if op == "delete" or metadata.new is None:
        return ResourceDrift(metadata.urn, metadata.type, "delete")
    if metadata.type.startswith(kubernetes.TYPE_PREFIX):
        return _kubernetes(metadata, op)
    if op == "same":
        found = compare(_public(metadata.old.outputs), _public(metadata.new.outputs)).differences
        return ResourceDrift(metadata.urn, metadata.type, "update", _properties(found)) if found else None
    if op != "update":
        return None
    if metadata.detailed_diff:
        return ResourceDrift(metadata.urn, metadata.type, "update", _detailed(metadata))
    return _compared(metadata)


def _kubernetes(metadata: Any, op: str) -> ResourceDrift | None:
    """A Kubernetes object: what terrane applied, compared in the live object before and after."""
    found = kubernetes.owned_differences(metadata.old.inputs or {}, metadata.old.outputs or {},
                                         metadata.new.outputs or {})
    if found.differences:
        reason = None
        if found.unapplied:
            remedy = ("remove it by hand (replacing a namespace would delete all in it)"
                      if metadata.type == kubernetes.NAMESPACE else "--remediate up replaces the object")
            reason = f"no apply takes away what terrane does not set ({', '.join(found.unapplied)}): {remedy}"
        return ResourceDrift(metadata.urn, metadata.type, "update", _properties(found.differences), reason,
                             unapplied=found.unapplied)
    if op != "update":
        return None
    if metadata.detailed_diff:
        return ResourceDrift(metadata.urn, metadata.type, "update", _detailed(metadata))
    return _compared(metadata)


def _properties(differences: Iterable[Difference]) -> tuple[PropertyDrift, ...]:
    return tuple(PropertyDrift(found.path, found.kind, found.expected, found.actual) for found in differences)


def _detailed(metadata: Any) -> tuple[PropertyDrift, ...]:
    """The provider's detailed diff, with each property's values from the old and new state."""
    # Keys are property paths of the inputs (``inputDiff``) or the outputs; the engine has
    # already inverted the diff, so "add" means present only in the cloud.
    properties = []
    for path, diff in sorted(metadata.detailed_diff.items()):
        side = "inputs" if diff.input_diff else "outputs"
        kind = str(getattr(diff.diff_kind, "value", diff.diff_kind)).removesuffix("-replace")
        keys = property_path(path) or [path]
        properties.append(PropertyDrift(path, kind, value_at(getattr(metadata.old, side), keys),  # type: ignore[arg-type]
                                        value_at(getattr(metadata.new, side), keys)))
    return tuple(properties)


def _compared(metadata: Any) -> ResourceDrift:
    """An update that came without a detailed diff: the old (expected) and new (actual) state compared.

    Outputs say what the cloud has; inputs add what a provider reads back as
    inputs only. A path found on both sides is reported once, as the outputs have it.
    """
    found: dict[str, PropertyDrift] = {}
    hidden: list[str] = []
    for side in ("outputs", "inputs"):
        comparison = compare(_public(getattr(metadata.old, side)), _public(getattr(metadata.new, side)))
        for difference in _properties(comparison.differences):
            found.setdefault(difference.path, difference)
        hidden += [path for path in comparison.hidden if path not in hidden]
    masked = ", ".join(hidden)
    if found:
        reason = f"secret values are masked, so these may have changed too: {masked}" if hidden else None
        return ResourceDrift(metadata.urn, metadata.type, "update", tuple(found[path] for path in sorted(found)),
                             reason)
    tops = sorted(metadata.diffs or ())
    if tops:
        reason = f"the provider named the changed properties ({', '.join(tops)}) but gave no values"
        return ResourceDrift(metadata.urn, metadata.type, "update",
                             tuple(PropertyDrift(path, "update", value_at(metadata.old.outputs, [path]),
                                                 value_at(metadata.new.outputs, [path])) for path in tops), reason)
    if hidden:
        reason = f"changed, but only in secret values, which are masked: one of {masked}"
    else:
        reason = "changed, but the provider gave no diff and the old and new state look alike"
    return ResourceDrift(metadata.urn, metadata.type, "update", (), reason)


def _public(properties: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state's properties without the engine's own (``__provider``, ``__meta``, ``__defaults``)."""
    return {key: value for key, value in (properties or {}).items() if not key.startswith("__")}
