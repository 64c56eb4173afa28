"""``--target``: limiting an operation to resources of one environment's stack, each named by URN or by name.

A target is looked up in the stack's state before anything runs: one the stack does not hold, a name several of
its resources share, or a stack that does not exist yet is refused as invalid input, one line each. A URN names a
resource of one stack, so targets go with exactly one environment; and an up adopts an import plan whole, so
targets do not go with one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from terrane.engine.errors import InvalidInputError
from terrane.engine.operations import stack_state
from terrane.engine.operations.protocol import Operation
from terrane.engine.operations.stack_state import URN_PREFIX, StackResource, StackState
from terrane.engine.project import Project
from terrane.engine.store import imports as adopt_imports
from terrane.stacks.spec.environments import Environment


def targeting(project: Project, operation: Operation, environments: Sequence[Environment], all: bool,
              targets: Sequence[str], dependents: bool) -> dict[str, Any]:
    """The options (``protocol.Options``) that limit ``operation`` to ``targets``; none without targets."""
    if not targets:
        if dependents:
            raise InvalidInputError("--target-dependents goes with --target: name the resources whose dependents "
                                    "to include")
        return {}
    if all or len(environments) != 1:
        raise InvalidInputError("--target names resources of one stack: name exactly one environment, not several "
                                "or --all")
    name = environments[0].name
    plan = adopt_imports.read(project.root, name) if operation in ("preview", "up") else None
    if plan and plan.imports:  # a targeted up would adopt part of it, and nothing would say which part
        raise InvalidInputError(f"--target: {name} has an import plan, {adopt_imports.relative_path(name)}, that an up "
                                f"adopts whole: run terrane up {name} without --target first")
    urns = resolve(stack_state.read(project, name), targets)
    return {"target": urns, "target_dependents": dependents}


def resolve(state: StackState, given: Sequence[str]) -> tuple[str, ...]:
    """The URNs ``given`` names, in the order given, each a URN, a logical name (a URN's last segment) or, where
    names repeat, ``TYPE::NAME``; refused (``InvalidInputError``, a line for each) when one names no resource of the
    stack, or several."""
    name = state.environment
    if not state.deployed:
        raise InvalidInputError(f"--target: {name} has no stack yet, so no resource to target; run terrane up {name} "
                                f"first")
    urns: dict[str, None] = {}
    problems = []
    for target in dict.fromkeys(given):
        found = _matching(state, target)
        if len(found) == 1:
            urns[found[0].urn] = None
        else:
            problems.append(_unmatched(name, target, found))
    if problems:
        raise InvalidInputError("\n".join(problems))
    return tuple(urns)


def _matching(state: StackState, target: str) -> list[StackResource]:
    """The resources ``target`` names, one per URN (a replaced one pending delete shares its URN)."""
    if target.startswith(URN_PREFIX):
        found = [resource for resource in state.resources if resource.urn == target]
    elif "::" in target:
        kind, _, logical = target.rpartition("::")
        found = [resource for resource in state.resources if resource.type == kind and resource.name == logical]
    else:
        found = [resource for resource in state.resources if resource.name == target]
    unique: dict[str, StackResource] = {}
    for resource in found:
        unique.setdefault(resource.urn, resource)
    return list(unique.values())


def _unmatched(name: str, target: str, found: Sequence[StackResource]) -> str:
    """Why ``target`` is refused: the resources it could mean, each as it can be targeted, or why it means none."""
    if found:
        short = [f"{resource.type}::{resource.name}" for resource in found]
        listed = short if len(set(short)) == len(short) else [resource.urn for resource in found]
        return (f"--target {target} names {len(found)} resources of {name}: {', '.join(listed)}; target the one you "
                f"mean as written here")
    if target.startswith(URN_PREFIX) and not target.startswith(f"{URN_PREFIX}{name}::"):
        return f"--target {target}: not a URN of {name}'s stack, whose URNs start with {URN_PREFIX}{name}::"
    return f"--target {target}: {name}'s stack holds no such resource (terrane state {name} list shows what it holds)"
