"""Which existing cloud objects are which resources of an environment's program (``terrane adopt``).

Offline and pure. ``from_tfstate`` maps the managed resources of a Terraform
state, ``from_ids`` the entries of a file the user wrote; both answer with the
program resources to adopt, each with the id its Pulumi provider's import takes,
and what they could not map, each with the reason.

A Terraform resource is mapped by type and identifying attributes (``RULES``):
a VPC by its CIDR, a subnet by CIDR and zone, a cluster by name, keys and
secrets by name, a Kubernetes object by name and namespace. Nothing is guessed:
a resource of a type terrane does not adopt, one that matches no program
resource or several, and every resource that matches a program resource
another one matches too, is unmatched, and says why. A program input that is
not known before deployment (``[unknown]``, ``[secret]``) never matches.

Two program names are known offline only up to a part decided later, and match
as patterns: a name the program leaves to Pulumi's autonaming (the resource's
name, with or without Pulumi's random suffix), and a name that carries the
stack's incarnation (GCP key rings), whatever incarnation it carries. When that
is not the new stack's, the preview ``terrane adopt`` runs next sees the name
differ and refuses the import.

Reasons repeat identifying values (CIDRs, names), never other attributes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from terrane.engine.errors import InvalidInputError
from terrane.engine.offline import render
from terrane.engine.project import read_text
from terrane.engine.tfstate import StateResource, TerraformState
from terrane.stacks.spec import spoken

INCARNATION = "[0-9a-f]{8}"
"""A stack's incarnation as ``workspace.renew_incarnation`` makes it: ``secrets.token_hex(4)``."""
AUTONAME_SUFFIX = "[0-9a-f]{7}"
"""The random suffix Pulumi's default autonaming appends to a resource's name, after a hyphen."""
IDS_KEYS = ("type", "name", "id")


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


# --- Values on either side ---------------------------------------------------------------------------------

StateValue = str | tuple[str, ...] | frozenset[str] | None
"""An identifying value in a state: a string, a list (sorted), any of several names, or None when absent."""


@dataclass(frozen=True)
class Pattern:
    """A program name known offline only up to a part decided later."""

    regex: re.Pattern[str]


ProgramValue = str | tuple[str, ...] | frozenset[str] | Pattern | None
"""An identifying value in the program; None when absent or not known offline."""


def _compare(state: StateValue, program: ProgramValue) -> bool:
    if state is None or program is None:
        return False
    if isinstance(program, Pattern):
        return isinstance(state, str) and program.regex.fullmatch(state) is not None
    if isinstance(state, frozenset) or isinstance(program, frozenset):
        ours = state if isinstance(state, frozenset) else frozenset([state])
        theirs = program if isinstance(program, frozenset) else frozenset([program])
        return all(isinstance(v, str) for v in ours | theirs) and bool(ours & theirs)
    return state == program


def _shown(value: StateValue) -> str:
    if isinstance(value, frozenset):
        return " or ".join(sorted(value))
    if isinstance(value, tuple):
        return ", ".join(value)
    return value or ""


# --- Reading attributes ------------------------------------------------------------------------------------


def _dig(data: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or len(data) <= step:
                return None
        elif not isinstance(data, Mapping):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


def _strings(value: Any) -> str | tuple[str, ...] | None:
    """A non-empty string, or a list of them (sorted: order does not identify); else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return tuple(sorted(value))
    return None


def _last(value: str | tuple[str, ...] | None) -> str | None:
    """The last segment of a path-like id (``projects/p/.../keyRings/ring`` -> ``ring``)."""
    if not isinstance(value, str):
        return None
    return value.rstrip("/").rsplit("/", 1)[-1] or None


def _known(value: Any) -> bool:
    """False for what a plan cannot know: ``[unknown]`` and ``[secret]``, anywhere in ``value``."""
    if isinstance(value, str):
        return value not in (render.UNKNOWN, render.SECRET)
    if isinstance(value, list):
        return all(_known(item) for item in value)
    return True


def _program(value: Any) -> ProgramValue:
    if not _known(value):
        return None
    found = _strings(value)
    if isinstance(found, str) and render.PLAN_INCARNATION in found:
        before, _, after = found.partition(render.PLAN_INCARNATION)
        regex = re.compile(f"{re.escape(before)}{INCARNATION}{re.escape(after)}")
        return Pattern(regex)
    return found


@dataclass(frozen=True)
class Attribute:
    """One identifying attribute: how to read it from a state resource, and from a program resource."""

    label: str
    """Its name in the program, as reasons show it."""
    state: Callable[[StateResource, TerraformState], StateValue]
    program: Callable[[render.RenderedResource, Sequence[render.RenderedResource]], ProgramValue]
    missing: str
    """Why a state resource without it is unmatched."""


def _attribute(label: str, state_path: str, program_path: str | None = None, *, last: bool = False) -> Attribute:
    """An attribute at ``state_path`` (``metadata.0.name``) and ``program_path`` (default: ``label``).

    ``last``: compare the last segment of a path-like value on both sides (a key ring's id -> its name).
    """
    in_state = [int(step) if step.isdigit() else step for step in state_path.split(".")]
    in_program = (program_path or label).split(".")

    def state(resource: StateResource, _: TerraformState) -> StateValue:
        found = _strings(_dig(resource.attributes, in_state))
        return _last(found) if last else found

    def program(resource: render.RenderedResource, _: Sequence[render.RenderedResource]) -> ProgramValue:
        raw = _dig(resource.inputs, in_program)
        if last and isinstance(raw, str) and _known(raw):
            raw = _last(raw)
        return _program(raw)

    return Attribute(label, state, program, f"the state holds no {state_path.replace('.0.', '.')} for it")


def _autonamed(label: str, state_path: str) -> Attribute:
    """A name the program may leave to Pulumi's autonaming: then the resource's name, with or without its suffix."""
    plain = _attribute(label, state_path)

    def program(resource: render.RenderedResource, others: Sequence[render.RenderedResource]) -> ProgramValue:
        if label in resource.inputs:
            return plain.program(resource, others)
        regex = re.compile(f"{re.escape(resource.name)}(?:-{AUTONAME_SUFFIX})?")
        return Pattern(regex)

    return Attribute(label, plain.state, program, plain.missing)


def _subnet_prefixes() -> Attribute:
    """An azurerm subnet's ``address_prefixes``; the program sets ``addressPrefix`` or ``addressPrefixes``."""
    state = _attribute("addressPrefix", "address_prefixes").state

    def program(resource: render.RenderedResource, _: Sequence[render.RenderedResource]) -> ProgramValue:
        raw = resource.inputs.get("addressPrefixes", resource.inputs.get("addressPrefix"))
        value = _program([raw] if isinstance(raw, str) else raw)
        return value if isinstance(value, tuple) else None

    return Attribute("addressPrefix", state, program, "the state holds no address_prefixes for it")


def _kms_key_alias() -> Attribute:
    """AWS keys have no name: a key is known by the alias that targets it ("keys by name")."""

    def state(resource: StateResource, whole: TerraformState) -> StateValue:
        # An alias's target_key_id is the key's id or its ARN, as its configuration gave it.
        ids = {_strings(resource.attributes.get(key)) for key in ("key_id", "arn")} - {None}
        names: set[str] = set()
        for alias in whole.resources:
            name = _strings(alias.attributes.get("name"))
            target = _strings(alias.attributes.get("target_key_id"))
            if alias.type == "aws_kms_alias" and isinstance(name, str) and target in ids:
                names.add(name)
        return frozenset(names) or None

    def program(resource: render.RenderedResource, others: Sequence[render.RenderedResource]) -> ProgramValue:
        # An alias depends on the key it targets: its targetKeyId is that key's id.
        names = [
            alias.inputs.get("name")
            for alias in others
            if alias.type == "aws:kms/alias:Alias" and resource.urn in alias.depends_on
        ]
        found = frozenset(name for name in names if isinstance(name, str) and name and _known(name))
        return found or None

    return Attribute("alias", state, program, "no aws_kms_alias in the state targets it: terrane adopts keys by alias")


# --- Import ids ---------------------------------------------------------------------------------------------

ImportId = Callable[[StateResource], str | None]


def _state_id(resource: StateResource) -> str | None:
    return resource.id


def _joined(template: str, *paths: str) -> ImportId:
    """An id made of attributes: ``_joined("{}:{}", "cluster_name", "node_group_name")``."""

    def build(resource: StateResource) -> str | None:
        parts = [_strings(_dig(resource.attributes, path.split("."))) for path in paths]
        if not all(isinstance(part, str) for part in parts):
            return None
        return template.format(*parts)

    return build


def _kubernetes_id(namespaced: bool) -> ImportId:
    """pulumi-kubernetes imports ``name``, or ``namespace/name`` for a namespaced object."""
    keys = ("namespace", "name") if namespaced else ("name",)

    def build(resource: StateResource) -> str | None:
        parts = [_strings(_dig(resource.attributes, ("metadata", 0, key))) for key in keys]
        names = [part for part in parts if isinstance(part, str)]
        return "/".join(names) if len(names) == len(keys) else None

    return build


def _gcp_node_pool_id(resource: StateResource) -> str | None:
    """``{project}/{location}/{cluster}/{name}``; the state's ``cluster`` may be a name or a full id."""
    parts = [_strings(resource.attributes.get(key)) for key in ("project", "location", "cluster", "name")]
    if not all(isinstance(part, str) for part in parts):
        return None
    project, location, cluster, name = parts
    return f"{project}/{location}/{_last(cluster)}/{name}"


def _key_vault_secret_id(resource: StateResource) -> str | None:
    """azure-native takes the ARM id ``<vault id>/secrets/<name>``; azurerm's ``id`` is the data-plane URL."""
    return _joined("{}/secrets/{}", "key_vault_id", "name")(resource)


# --- The table ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What a Terraform resource type becomes, how it is recognised, and the import id its Pulumi type takes."""

    pulumi_type: str
    identity: tuple[Attribute, ...]
    import_id: ImportId


_K8S_NAME = _attribute("metadata.name", "metadata.0.name")
_K8S_NAMESPACE = _attribute("metadata.namespace", "metadata.0.namespace")
_K8S_NAMESPACE_RULE = Rule("kubernetes:core/v1:Namespace", (_K8S_NAME,), _kubernetes_id(namespaced=False))
_K8S_SERVICE_ACCOUNT_RULE = Rule(
    "kubernetes:core/v1:ServiceAccount", (_K8S_NAMESPACE, _K8S_NAME), _kubernetes_id(namespaced=True)
)
_K8S_NETWORK_POLICY_RULE = Rule(
    "kubernetes:networking.k8s.io/v1:NetworkPolicy", (_K8S_NAMESPACE, _K8S_NAME), _kubernetes_id(namespaced=True)
)

RULES: Mapping[str, Rule] = {
    # AWS (hashicorp/aws -> pulumi-aws): the import ids of pulumi-aws's docs.
    "aws_vpc": Rule("aws:ec2/vpc:Vpc", (_attribute("cidrBlock", "cidr_block"),), _state_id),
    "aws_subnet": Rule(
        "aws:ec2/subnet:Subnet",
        (_attribute("cidrBlock", "cidr_block"), _attribute("availabilityZone", "availability_zone")),
        _state_id,
    ),
    "aws_eks_cluster": Rule("aws:eks/cluster:Cluster", (_attribute("name", "name"),), _joined("{}", "name")),
    "aws_eks_node_group": Rule(
        "aws:eks/nodeGroup:NodeGroup",
        (_attribute("clusterName", "cluster_name"), _autonamed("nodeGroupName", "node_group_name")),
        _joined("{}:{}", "cluster_name", "node_group_name"),
    ),
    "aws_kms_key": Rule("aws:kms/key:Key", (_kms_key_alias(),), _joined("{}", "key_id")),
    "aws_kms_alias": Rule("aws:kms/alias:Alias", (_attribute("name", "name"),), _joined("{}", "name")),
    "aws_secretsmanager_secret": Rule(
        "aws:secretsmanager/secret:Secret", (_attribute("name", "name"),), _joined("{}", "arn")
    ),
    # Azure (hashicorp/azurerm -> azure-native): ARM ids, which azurerm keeps as ``id`` but for vault secrets.
    "azurerm_resource_group": Rule(
        "azure-native:resources:ResourceGroup", (_attribute("resourceGroupName", "name"),), _state_id
    ),
    "azurerm_virtual_network": Rule(
        "azure-native:network:VirtualNetwork",
        (_attribute("addressSpace", "address_space", "addressSpace.addressPrefixes"),),
        _state_id,
    ),
    "azurerm_subnet": Rule("azure-native:network:Subnet", (_subnet_prefixes(),), _state_id),
    "azurerm_kubernetes_cluster": Rule(
        "azure-native:containerservice:ManagedCluster", (_attribute("resourceName", "name"),), _state_id
    ),
    "azurerm_kubernetes_cluster_node_pool": Rule(
        "azure-native:containerservice:AgentPool",
        (_attribute("resourceName", "kubernetes_cluster_id", last=True), _attribute("agentPoolName", "name")),
        _state_id,
    ),
    "azurerm_key_vault": Rule("azure-native:keyvault:Vault", (_attribute("vaultName", "name"),), _state_id),
    "azurerm_key_vault_secret": Rule(
        "azure-native:keyvault:Secret",
        (_attribute("vaultName", "key_vault_id", last=True), _attribute("secretName", "name")),
        _key_vault_secret_id,
    ),
    # GCP (hashicorp/google -> pulumi-gcp): the state's ids are the long forms pulumi-gcp imports, but for node pools.
    "google_compute_network": Rule("gcp:compute/network:Network", (_attribute("name", "name"),), _state_id),
    "google_compute_subnetwork": Rule(
        "gcp:compute/subnetwork:Subnetwork",
        (_attribute("ipCidrRange", "ip_cidr_range"), _attribute("region", "region")),
        _state_id,
    ),
    "google_container_cluster": Rule("gcp:container/cluster:Cluster", (_attribute("name", "name"),), _state_id),
    "google_container_node_pool": Rule(
        "gcp:container/nodePool:NodePool",
        (_attribute("cluster", "cluster", last=True), _attribute("name", "name")),
        _gcp_node_pool_id,
    ),
    "google_kms_key_ring": Rule("gcp:kms/keyRing:KeyRing", (_attribute("name", "name"),), _state_id),
    "google_kms_crypto_key": Rule(
        "gcp:kms/cryptoKey:CryptoKey",
        (_attribute("keyRing", "key_ring", last=True), _attribute("name", "name")),
        _state_id,
    ),
    "google_secret_manager_secret": Rule(
        "gcp:secretmanager/secret:Secret", (_attribute("secretId", "secret_id"),), _state_id
    ),
    # Kubernetes (hashicorp/kubernetes -> pulumi-kubernetes), both spellings of each type.
    "kubernetes_namespace": _K8S_NAMESPACE_RULE,
    "kubernetes_namespace_v1": _K8S_NAMESPACE_RULE,
    "kubernetes_service_account": _K8S_SERVICE_ACCOUNT_RULE,
    "kubernetes_service_account_v1": _K8S_SERVICE_ACCOUNT_RULE,
    "kubernetes_network_policy": _K8S_NETWORK_POLICY_RULE,
    "kubernetes_network_policy_v1": _K8S_NETWORK_POLICY_RULE,
}
"""Terraform resource type -> the Pulumi type it becomes, its identifying attributes, its import id."""


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
    return resource.custom and not resource.type.startswith(render.PROVIDER_TYPE_PREFIX)


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
        identity = " and ".join(f"{a.label} {_shown(v)}" for a, v in zip(rule.identity, wanted, strict=True))
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
        _compare(value, attribute.program(target, program))
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


@dataclass(frozen=True)
class _Entry:
    number: int
    type: str
    name: str
    id: str


def from_ids(plan: render.Plan, path: Path) -> Matches:
    """Map the entries of the ids file ``path`` (a YAML list of ``{type, name, id}``) onto ``plan``.

    ``type`` and ``name`` are a resource's Pulumi type and name as ``terrane plan`` shows them,
    ``id`` the id its provider's import takes. A file that is not such a list, or that names one
    resource twice, is invalid input.
    """
    entries = _entries(path)
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


def _why_not(entry: _Entry, found: Sequence[render.RenderedResource], targets: Sequence[object]) -> str:
    if len(targets) > 1:
        return f"the program has {len(targets)} {entry.type} named {entry.name}: terrane does not guess which"
    if found and entry.type.startswith(render.PROVIDER_TYPE_PREFIX):
        return f"{entry.name} is a provider, which is not imported"
    if found:
        return f"{entry.name} is a component, which is not imported: name the resources in it"
    return f"the program has no {entry.type} named {entry.name}"


def _entries(path: Path) -> list[_Entry]:
    text = read_text(path, str(path))
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InvalidInputError(f"{path}: {where}invalid YAML: {exc.problem}") from None
    except yaml.YAMLError:
        raise InvalidInputError(f"{path}: invalid YAML") from None
    if not isinstance(data, list):
        raise InvalidInputError(f"{path}: must be a YAML list of entries, each with {spoken(IDS_KEYS)}")
    entries = [_entry(path, number, raw) for number, raw in enumerate(data, start=1)]
    _named_once(path, entries)
    return entries


def _entry(path: Path, number: int, raw: object) -> _Entry:
    where = f"{path}: entry {number}"
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: must be a mapping with {spoken(IDS_KEYS)}")
    for key in raw:
        if key not in IDS_KEYS:
            raise InvalidInputError(f"{where}: {key}: unknown key (an entry has {spoken(IDS_KEYS)})")
    values: dict[str, str] = {}
    for key in IDS_KEYS:
        if key not in raw:
            raise InvalidInputError(f"{where}: {key}: missing")
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"{where}: {key}: must be a non-empty string")
        values[key] = value
    return _Entry(number, values["type"], values["name"], values["id"])


def _named_once(path: Path, entries: Iterable[_Entry]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        first = seen.setdefault((entry.type, entry.name), entry.number)
        if first != entry.number:
            raise InvalidInputError(
                f"{path}: entries {first} and {entry.number} both name {entry.type} {entry.name}: keep one"
            )
