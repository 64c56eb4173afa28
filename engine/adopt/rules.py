"""What a rule of adoption is made of: the attributes that identify a resource on either side, and its import id.

Each cloud's module (``aws``, ``azure``, ``gcp``, ``kubernetes``) builds its table of ``Rule`` from
these parts. An attribute reads an identifying value from a Terraform state resource and from a
program resource; ``same_object`` says whether two such values name the same object. A program input
that is not known before deployment (``[unknown]``, ``[secret]``) reads as None, which matches nothing.

Two program names are known offline only up to a part decided later, and read as a ``Pattern``: a
name the program leaves to Pulumi's autonaming (``autonamed``), and a name that carries the stack's
incarnation (GCP key rings), whatever incarnation it carries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from terrane.engine.offline import render
from terrane.engine.tfstate import StateResource, TerraformState

INCARNATION = "[0-9a-f]{8}"
"""A stack's incarnation as ``workspace.renew_incarnation`` makes it: ``secrets.token_hex(4)``."""
AUTONAME_SUFFIX = "[0-9a-f]{7}"
"""The random suffix Pulumi's default autonaming appends to a resource's name, after a hyphen."""


# --- Values on either side ---------------------------------------------------------------------------------

StateValue = str | tuple[str, ...] | frozenset[str] | None
"""An identifying value in a state: a string, a list (sorted), any of several names, or None when absent."""


@dataclass(frozen=True)
class Pattern:
    """A program name known offline only up to a part decided later."""

    regex: re.Pattern[str]


ProgramValue = str | tuple[str, ...] | frozenset[str] | Pattern | None
"""An identifying value in the program; None when absent or not known offline."""


def same_object(state: StateValue, program: ProgramValue) -> bool:
    """Whether a value of the state and one of the program name the same object (None never does)."""
    if state is None or program is None:
        return False
    if isinstance(program, Pattern):
        return isinstance(state, str) and program.regex.fullmatch(state) is not None
    if isinstance(state, frozenset) or isinstance(program, frozenset):
        ours = state if isinstance(state, frozenset) else frozenset([state])
        theirs = program if isinstance(program, frozenset) else frozenset([program])
        return all(isinstance(v, str) for v in ours | theirs) and bool(ours & theirs)
    return state == program


def shown(value: StateValue) -> str:
    """A state's identifying value as a reason shows it."""
    if isinstance(value, frozenset):
        return " or ".join(sorted(value))
    if isinstance(value, tuple):
        return ", ".join(value)
    return value or ""


# --- Reading attributes ------------------------------------------------------------------------------------


def dig(data: Any, path: Sequence[str | int]) -> Any:
    """The value at ``path`` (keys, and list positions) in ``data``; None where the path leads nowhere."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or len(data) <= step:
                return None
        elif not isinstance(data, Mapping):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


def strings(value: Any) -> str | tuple[str, ...] | None:
    """A non-empty string, or a list of them (sorted: order does not identify); else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return tuple(sorted(value))
    return None


def last_segment(value: str | tuple[str, ...] | None) -> str | None:
    """The last segment of a path-like id (``projects/p/.../keyRings/ring`` -> ``ring``)."""
    if not isinstance(value, str):
        return None
    return value.rstrip("/").rsplit("/", 1)[-1] or None


def known(value: Any) -> bool:
    """False for what a plan cannot know: ``[unknown]`` and ``[secret]``, anywhere in ``value``."""
    if isinstance(value, str):
        return value not in (render.UNKNOWN, render.SECRET)
    if isinstance(value, list):
        return all(known(item) for item in value)
    return True


def program_value(value: Any) -> ProgramValue:
    """A program input as an identifying value: None when not known offline, a ``Pattern`` with an incarnation."""
    if not known(value):
        return None
    found = strings(value)
    if isinstance(found, str) and render.PLAN_INCARNATION in found:
        before, _, after = found.partition(render.PLAN_INCARNATION)
        regex = re.compile(f"{re.escape(before)}{INCARNATION}{re.escape(after)}")
        return Pattern(regex)
    return found


# --- Attributes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    """One identifying attribute: how to read it from a state resource, and from a program resource."""

    label: str
    """Its name in the program, as reasons show it."""
    state: Callable[[StateResource, TerraformState], StateValue]
    program: Callable[[render.RenderedResource, Sequence[render.RenderedResource]], ProgramValue]
    missing: str
    """Why a state resource without it is unmatched."""


def attribute(label: str, state_path: str, program_path: str | None = None, *, last: bool = False) -> Attribute:
    """An attribute at ``state_path`` (``metadata.0.name``) and ``program_path`` (default: ``label``).

    ``last``: compare the last segment of a path-like value on both sides (a key ring's id -> its name).
    """
    in_state = [int(step) if step.isdigit() else step for step in state_path.split(".")]
    in_program = (program_path or label).split(".")

    def state(resource: StateResource, _: TerraformState) -> StateValue:
        found = strings(dig(resource.attributes, in_state))
        return last_segment(found) if last else found

    def program(resource: render.RenderedResource, _: Sequence[render.RenderedResource]) -> ProgramValue:
        raw = dig(resource.inputs, in_program)
        if last and isinstance(raw, str) and known(raw):
            raw = last_segment(raw)
        return program_value(raw)

    return Attribute(label, state, program, f"the state holds no {state_path.replace('.0.', '.')} for it")


def autonamed(label: str, state_path: str) -> Attribute:
    """A name the program may leave to Pulumi's autonaming: then the resource's name, with or without its suffix."""
    plain = attribute(label, state_path)

    def program(resource: render.RenderedResource, others: Sequence[render.RenderedResource]) -> ProgramValue:
        if label in resource.inputs:
            return plain.program(resource, others)
        regex = re.compile(f"{re.escape(resource.name)}(?:-{AUTONAME_SUFFIX})?")
        return Pattern(regex)

    return Attribute(label, plain.state, program, plain.missing)


# --- Import ids ---------------------------------------------------------------------------------------------

ImportId = Callable[[StateResource], str | None]
"""The id a Pulumi provider's import takes for a state resource; None when the state holds none."""


def state_id(resource: StateResource) -> str | None:
    """The state's own ``id``, where the Pulumi provider imports by the same."""
    return resource.id


def joined(template: str, *paths: str) -> ImportId:
    """An id made of attributes: ``joined("{}:{}", "cluster_name", "node_group_name")``."""

    def build(resource: StateResource) -> str | None:
        parts = [strings(dig(resource.attributes, path.split("."))) for path in paths]
        if not all(isinstance(part, str) for part in parts):
            return None
        return template.format(*parts)

    return build


@dataclass(frozen=True)
class Rule:
    """What a Terraform resource type becomes, how it is recognised, and the import id its Pulumi type takes."""

    pulumi_type: str
    identity: tuple[Attribute, ...]
    import_id: ImportId
