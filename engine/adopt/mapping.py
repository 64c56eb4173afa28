"""Which existing cloud objects are which resources of an environment's program (``terrane adopt``).

Offline and pure. ``from_tfstate`` maps the managed resources of a Terraform
state, ``from_ids`` the entries of a file the user wrote; both answer with the
program resources to adopt, each with the id its Pulumi provider's import takes,
and what they could not map, each with the reason.

A Terraform resource is mapped by type and identifying attributes (``RULES``,
one table per cloud: ``aws``, ``azure``, ``gcp``, ``kubernetes``, made of the
parts in ``rules``): a VPC by its CIDR, a subnet by CIDR and zone, a cluster by
name, keys and secrets by name, a Kubernetes object by name and namespace.
Nothing is guessed: a resource of a type terrane does not adopt, one that
matches no program resource or several, and every resource that matches a
program resource another one matches too, is unmatched, and says why. A program
input that is not known before deployment (``[unknown]``, ``[secret]``) never
matches.

Two program names are known offline only up to a part decided later, and match
as patterns: a name the program leaves to Pulumi's autonaming (the resource's
name, with or without Pulumi's random suffix), and a name that carries the
stack's incarnation (GCP key rings), whatever incarnation it carries. When that
is not the new stack's, the preview ``terrane adopt`` runs next sees the name
differ and refuses the import.

Reasons repeat identifying values (CIDRs, names), never other attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from terrane.engine import wire
from terrane.engine.adopt import aws, azure, gcp, kubernetes
from terrane.engine.adopt.ids_file import Entry, read_entries
from terrane.engine.adopt.rules import Rule, StateValue, same_object, shown
from terrane.engine.offline import render
from terrane.engine.tfstate import StateResource, TerraformState
from terrane.stacks.spec import spoken


@dataclass(frozen=True)
class Adoption:
    """A program resource that already exists: the next ``up`` imports it instead of creating it."""

    urn: str
    type: str
    name: str
    id: str
    """The import id the Pulumi provider takes for ``type``."""
    source: str
    """The Terraform address, or ``<ids file>: entry N``."""


@dataclass(frozen=True)
class Unmatched:
    """An existing object mapped to no program resource."""

    source: str
    type: str
    """The Terraform type, or the Pulumi type an ids file names."""
    id: str
    """Its id in the source ("" when the state holds none)."""
    reason: str


@dataclass(frozen=True)
class Matches:
    adoptions: tuple[Adoption, ...]
    """In the plan's resource order."""
    unmatched: tuple[Unmatched, ...]
    """In the source's order."""


RULES: Mapping[str, Rule] = {**aws.RULES, **azure.RULES, **gcp.RULES, **kubernetes.RULES}
"""Terraform resource type -> the Pulumi type it becomes, its identifying attributes, its import id: each cloud's."""


# --- From a Terraform state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    position: int
    resource: StateResource
    target: render.RenderedResource
    import_id: str


def from_tfstate(plan: render.Plan, state: TerraformState) -> Matches:
    """Map the managed resources of ``state`` onto the resources of ``plan``."""
    adoptable = _adoptable(plan)
    unmatched: list[tuple[int, Unmatched]] = []
    claims: list[_Claim] = []
    for position, resource in enumerate(state.resources):
        found = _claim(position, resource, state, adoptable)
        if isinstance(found, _Claim):
            claims.append(found)
        else:
            unmatched.append((position, _unmatched(resource, found)))
    claims, contested = _uncontested(claims)
    unmatched.extend((claim.position, _unmatched(claim.resource, reason)) for claim, reason in contested)
    order = {resource.urn: index for index, resource in enumerate(plan.resources)}
    adoptions = [
        Adoption(claim.target.urn, claim.target.type, claim.target.name, claim.import_id, claim.resource.address)
        for claim in sorted(claims, key=lambda claim: order[claim.target.urn])
    ]
    return Matches(
        adoptions=tuple(adoptions),
        unmatched=tuple(found for _, found in sorted(unmatched, key=lambda pair: pair[0])),
    )


def _adoptable(plan: render.Plan) -> list[render.RenderedResource]:
    return [resource for resource in plan.resources if _is_adoptable(resource)]


def _is_adoptable(resource: render.RenderedResource) -> bool:
    """A cloud resource of the program: neither a component nor a provider."""
    return resource.custom and not resource.type.startswith(wire.PROVIDER_TYPE_PREFIX)


def _claim(
    position: int, resource: StateResource, state: TerraformState, program: Sequence[render.RenderedResource]
) -> _Claim | str:
    """The one program resource ``resource`` is, or why there is none."""
    rule = RULES.get(resource.type)
    if rule is None:
        return f"terrane does not adopt {resource.type}"
    import_id = rule.import_id(resource)
    if import_id is None:
        return "the state holds no import id for it"
    wanted: list[StateValue] = []
    for attribute in rule.identity:
        value = attribute.state(resource, state)
        if value is None:
            return attribute.missing
        wanted.append(value)
    of_type = [r for r in program if r.type == rule.pulumi_type]
    if not of_type:
        return f"the program has no {rule.pulumi_type}"
    candidates = [target for target in of_type if _identical(rule, wanted, target, program)]
    if not candidates:
        identity = " and ".join(f"{a.label} {shown(v)}" for a, v in zip(rule.identity, wanted, strict=True))
        return f"no {rule.pulumi_type} in the program has {identity}"
    if len(candidates) > 1:
        names = ", ".join(target.name for target in candidates)
        return f"it matches {len(candidates)} resources of the program ({names}): terrane does not guess which"
    return _Claim(position, resource, candidates[0], import_id)


def _identical(
    rule: Rule, wanted: Sequence[StateValue], target: render.RenderedResource,
    program: Sequence[render.RenderedResource],
) -> bool:
    return all(
        same_object(value, attribute.program(target, program))
        for attribute, value in zip(rule.identity, wanted, strict=True)
    )


def _uncontested(claims: list[_Claim]) -> tuple[list[_Claim], list[tuple[_Claim, str]]]:
    """The claims on program resources no other claim is on; the others, each with its reason."""
    by_target: dict[str, list[_Claim]] = {}
    for claim in claims:
        by_target.setdefault(claim.target.urn, []).append(claim)
    kept: list[_Claim] = []
    contested: list[tuple[_Claim, str]] = []
    for claim in claims:
        rivals = [other.resource.address for other in by_target[claim.target.urn] if other is not claim]
        if not rivals:
            kept.append(claim)
            continue
        reason = (
            f"{spoken(rivals)} {'matches' if len(rivals) == 1 else 'match'} {claim.target.name} too: "
            "terrane does not guess which"
        )
        contested.append((claim, reason))
    return kept, contested


def _unmatched(resource: StateResource, reason: str) -> Unmatched:
    return Unmatched(source=resource.address, type=resource.type, id=resource.id or "", reason=reason)


# --- From an ids file ---------------------------------------------------------------------------------------


def from_ids(plan: render.Plan, path: Path) -> Matches:
    """Map the entries of the ids file ``path`` (a YAML list of ``{type, name, id}``) onto ``plan``.

    ``type`` and ``name`` are a resource's Pulumi type and name as ``terrane plan`` shows them,
    ``id`` the id its provider's import takes. A file that is not such a list, or that names one
    resource twice, is invalid input.
    """
    entries = read_entries(path)
    order = {resource.urn: index for index, resource in enumerate(plan.resources)}
    adoptions: list[Adoption] = []
    unmatched: list[Unmatched] = []
    for entry in entries:
        source = f"{path}: entry {entry.number}"
        found = [r for r in plan.resources if r.type == entry.type and r.name == entry.name]
        targets = [r for r in found if _is_adoptable(r)]
        if len(targets) == 1:
            adoptions.append(Adoption(targets[0].urn, entry.type, entry.name, entry.id, source))
            continue
        unmatched.append(Unmatched(source, entry.type, entry.id, _why_not(entry, found, targets)))
    adoptions.sort(key=lambda adoption: order[adoption.urn])
    return Matches(adoptions=tuple(adoptions), unmatched=tuple(unmatched))


def _why_not(entry: Entry, found: Sequence[render.RenderedResource], targets: Sequence[object]) -> str:
    if len(targets) > 1:
        return f"the program has {len(targets)} {entry.type} named {entry.name}: terrane does not guess which"
    if found and entry.type.startswith(wire.PROVIDER_TYPE_PREFIX):
        return f"{entry.name} is a provider, which is not imported"
    if found:
        return f"{entry.name} is a component, which is not imported: name the resources in it"
    return f"the program has no {entry.type} named {entry.name}"
