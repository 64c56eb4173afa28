"""Putting back Kubernetes objects whose drift their provider does not see.

pulumi-kubernetes diffs the live object pruned to the shape of what was
applied, so after someone appends a rule to a list terrane set, ``up`` finds
nothing to do and leaves it (``engine.drift.kubernetes``). ``--remediate up``
therefore marks each such object with the annotation ``terrane.dev/reconcile``
(a new value every run): the object then differs, the provider applies it, and a
server-side apply with ``pulumi.com/patchForce`` takes every field terrane sets
back, whole lists and selectors included. The remediation's second ``up``,
without the mark, takes the annotation away again, so nothing is left pending.

What someone added outside every field terrane applies (rules given to a
default-deny policy, which terrane applies with none) no apply takes away: such
an object is replaced, deleted first (a new one of the same name cannot be made
beside it). A namespace is never replaced: that would delete all that is in it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from terrane.engine.drift.kubernetes import NAMESPACE, TYPE_PREFIX
from terrane.engine.drift.report import ResourceDrift

ANNOTATION = "terrane.dev/reconcile"


@dataclass(frozen=True)
class Reconcile:
    """The Kubernetes objects of one environment that a remediation's ``up`` marks, and those it replaces."""

    marks: tuple[tuple[str, str], ...] = ()
    """``(type, name)`` of each object to mark."""
    replace: tuple[str, ...] = ()
    """URNs of the objects to replace."""

    @classmethod
    def of(cls, drifted: Sequence[ResourceDrift]) -> Reconcile:
        changed = [found for found in drifted if found.change == "update" and found.type.startswith(TYPE_PREFIX)]
        return cls(tuple((found.type, found.name) for found in changed),
                   tuple(found.urn for found in changed if found.unapplied and found.type != NAMESPACE))



def reconciling(program: Callable[[], None], reconcile: Reconcile, mark: str) -> Callable[[], None]:
    """``program``, with ``ANNOTATION: mark`` on each object ``reconcile`` marks, deleted first if replaced."""
    chosen = set(reconcile.marks)
    replaced = {urn.rsplit("::", 1)[-1] for urn in reconcile.replace}
    if not chosen:
        return program

    def run() -> None:
        import pulumi

        def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
            if (args.type_, args.name) not in chosen or "metadata" not in args.props:
                return None
            props = {**args.props, "metadata": _marked(args.props["metadata"], mark)}
            first = pulumi.ResourceOptions(delete_before_replace=True) if args.name in replaced else None
            return pulumi.ResourceTransformationResult(props, pulumi.ResourceOptions.merge(args.opts, first))

        pulumi.runtime.register_stack_transformation(transformation)
        program()

    return run


def _marked(metadata: Any, mark: str) -> Any:
    """The object's metadata (a dict, an ``ObjectMetaArgs`` or an output of either) with the annotation added."""
    import pulumi

    if isinstance(metadata, pulumi.Output):
        return metadata.apply(lambda value: _marked(value, mark))
    annotations = _get(metadata, "annotations")
    marked = (pulumi.Output.from_input(annotations).apply(lambda found: {**(found or {}), ANNOTATION: mark})
              if isinstance(annotations, pulumi.Output) else {**(annotations or {}), ANNOTATION: mark})
    if isinstance(metadata, Mapping):
        return {**metadata, "annotations": marked}
    copied = copy.copy(metadata)
    pulumi.set(copied, "annotations", marked)
    return copied


def _get(metadata: Any, key: str) -> Any:
    import pulumi

    return metadata.get(key) if isinstance(metadata, Mapping) else pulumi.get(metadata, key) if metadata else None
