"""A plan as a reviewer reads it: each component, its resources, and the settings worth checking.

Settings are chosen two ways. First by resource type (``BY_TYPE``): who is given
access (who becomes cluster admin, who a role or an IAM grant is for), traffic
rules (security groups, network security groups, network policies), where routes
send traffic and what flow logs record; these show even when empty, since an
empty rule list is itself what a reviewer checks. Then by property name, at any
depth of any resource's inputs (``REVIEWED``): address ranges, zones, machine
types and node counts, Kubernetes versions, endpoint access, encryption,
retention, deletion protection, roles and tags. Values are the plan's own, so
secrets are already ``[secret]``; ``flow`` writes one as YAML on a single line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

import yaml

from terrane.engine.offline.render import SECRET, STACK_TYPE, UNKNOWN, Plan, RenderedResource
from terrane.engine.wire import PROVIDER_TYPE_PREFIX


def _named(names: str, flags: int = 0) -> re.Pattern[str]:
    """A property called ``names`` (a regex), at any depth."""
    return re.compile(rf"(?:^|\.)(?:{names})$", flags)


REVIEWED: tuple[re.Pattern[str], ...] = (
    # Address ranges.
    _named(r"\w*cidr\w*|addressPrefix(?:es)?|\w*ipRanges", re.IGNORECASE),
    # Zones and locations.
    _named(r"availabilityZones?|zones|nodeLocations|locations?"),
    # Machine types, then node counts: min, max, desired.
    _named(r"instanceTypes?|machineType|vmSize"),
    _named(r"(?:total)?min\w*(?:size|count)", re.IGNORECASE),
    _named(r"(?:total)?max\w*(?:size|count)", re.IGNORECASE),
    _named(r"(?:desired\w*|initialNode|node)?(?:size|count)|enableAutoScaling", re.IGNORECASE),
    # Kubernetes versions; a bare "version" only at the top, as deeper it versions a template or a log format.
    re.compile(r"^version$|(?:^|\.)(?:kubernetes|orchestrator|minMaster|node)Version$"),
    # Endpoint and network access.
    _named(r"endpoint\w*|\w*Access|enablePrivate\w*|\w*[aA]uthorized\w*|mapPublicIpOnLaunch|enableNodePublicIP"
           r"|disableLocalAccounts|networkAcls|networkRuleSet"),
    # Encryption and its keys.
    _named(r"\w*encrypt\w*|kms\w*|\w*rotation\w*", re.IGNORECASE),
    # Retention of logs and of deleted data.
    _named(r"\w*retention\w*|recoveryWindow\w*|deletionWindow\w*", re.IGNORECASE),
    # Deletion protection.
    _named(r"deletionProtection|\w*PurgeProtection|enableSoftDelete"),
    # Who may do what: permissions boundaries, IAM policies and role grants, and what they are scoped to.
    _named(r"permissionsBoundary|policy|policyArn|role|roleDefinitionId|scope|repository"),
    # Tags and labels.
    _named(r"(?:default|resource)?(?:tags|labels)", re.IGNORECASE),
)
"""What a reviewer checks, in the order a resource shows it.

Each is matched against a property's path with list indices left out
(``scalingConfig.minSize``, ``agentPoolProfiles.vmSize``); the first that
matches shows the property whole, and nothing under it is matched again.
"""


_ABSENT: Any = object()


def _shown(*paths: str) -> dict[str, Any]:
    """Properties shown when the plan sets them (even to an empty value); left out when absent."""
    return dict.fromkeys(paths, _ABSENT)


_IAM_MEMBER = _shown("member", "role")

BY_TYPE: Mapping[str, Mapping[str, Any]] = {
    # Who becomes cluster admin. EKS: the access entry's principal, with the policy associated to it (the cluster's
    # accessConfig says whether its creator is admin as well). AKS: Entra ID groups (aadProfile) and role
    # assignments; local accounts off. GKE gives Kubernetes access by project IAM, which terrane does not grant:
    # its plan holds only the IAM members below, and no client certificate (masterAuth).
    "aws:eks/accessEntry:AccessEntry": _shown("principalArn", "type", "kubernetesGroups"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _shown("principalArn", "policyArn", "accessScope"),
    "aws:eks/cluster:Cluster": _shown("accessConfig"),
    "azure-native:containerservice:ManagedCluster": _shown(
        "aadProfile", "enableRBAC", "networkProfile.networkPolicy", "networkProfile.outboundType"),
    "gcp:container/cluster:Cluster": _shown("masterAuth", "datapathProvider"),
    # Who else is given what: whom a role trusts, whom a role assignment or an IAM grant is for.
    "aws:iam/role:Role": _shown("assumeRolePolicy"),
    "azure-native:authorization:RoleAssignment": _shown("principalId", "principalType", "roleDefinitionId", "scope"),
    "azure-native:managedidentity:FederatedIdentityCredential": _shown("subject", "issuer"),
    "gcp:projects/iAMMember:IAMMember": _IAM_MEMBER,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _IAM_MEMBER,
    "gcp:secretmanager/secretIamMember:SecretIamMember": _IAM_MEMBER,
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _IAM_MEMBER,
    # Traffic rules: an empty list is a rule too (the default security group admits nothing).
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _shown("ingress", "egress"),
    "azure-native:network:NetworkSecurityGroup": {"securityRules": []},  # absent: Azure's default rules only
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _shown(
        "spec.podSelector", "spec.policyTypes", "spec.ingress", "spec.egress"),
    "aws:eks/addon:Addon": _shown("addonName", "configurationValues"),
    # Where traffic goes: each route's destination and target, a subnet's way out, the NAT's.
    "aws:ec2/route:Route": _shown(
        "destinationCidrBlock", "destinationIpv6CidrBlock", "gatewayId", "natGatewayId", "transitGatewayId",
        "vpcPeeringConnectionId", "vpcEndpointId", "networkInterfaceId", "egressOnlyGatewayId"),
    "azure-native:network:Subnet": _shown("defaultOutboundAccess", "natGateway", "routeTable", "networkSecurityGroup"),
    "azure-native:network:NatGateway": _shown("publicIpAddresses"),
    "gcp:compute/network:Network": _shown("autoCreateSubnetworks", "routingMode", "deleteDefaultRoutesOnCreate"),
    "gcp:compute/router:Router": _shown("network"),
    "gcp:compute/routerNat:RouterNat": _shown(
        "router", "natIpAllocateOption", "sourceSubnetworkIpRangesToNat", "subnetworks", "logConfig"),
    # What flow logs record, and where.
    "aws:ec2/flowLog:FlowLog": _shown("trafficType", "logDestinationType", "logDestination",
                                      "maxAggregationInterval"),
    "azure-native:network:FlowLog": _shown("enabled", "targetResourceId", "format", "storageId"),
    "gcp:compute/subnetwork:Subnetwork": _shown("privateIpGoogleAccess", "logConfig"),
}
"""What a reviewer checks on each resource of a type, first and in this order, by path in its inputs (dots
between keys). Each maps to what its absence means: ``_ABSENT`` leaves it out, any other value is shown."""


@dataclass(frozen=True)
class Setting:
    path: str
    """Where the value is in the resource's inputs: ``scalingConfig.minSize``, ``agentPoolProfiles[0].vmSize``."""
    value: Any
    """As the plan holds it: plain JSON, secrets already masked."""

    @property
    def shown(self) -> str:
        return f"{self.path}: {flow(self.value)}"


@dataclass(frozen=True)
class ReviewedResource:
    name: str
    type: str
    settings: tuple[Setting, ...]
    import_id: str | None = None
    """The existing object ``up`` adopts as this resource (``terrane adopt``)."""


@dataclass(frozen=True)
class ReviewedComponent:
    """A component resource, or the stack, with the resources it owns (its descendants up to another component)."""

    name: str
    type: str
    resources: tuple[ReviewedResource, ...]


@dataclass(frozen=True)
class Review:
    environment: str
    cloud: str
    account: str
    region: str | None
    stack: ReviewedComponent
    """The stack, owning the resources that belong to no component (usually none)."""
    providers: tuple[ReviewedResource, ...]
    components: tuple[ReviewedComponent, ...]
    """In build order: a component comes after those whose resources its own depend on."""
    outputs: dict[str, Any]

    @property
    def resources(self) -> tuple[ReviewedResource, ...]:
        """The resources the cloud (or the cluster) would hold: neither the stack, nor providers, nor components."""
        return self.stack.resources + tuple(resource for component in self.components for resource in component.resources)

    def count_by_type(self) -> dict[str, int]:
        """How many of ``resources`` there are of each type."""
        return dict(sorted(Counter(resource.type for resource in self.resources).items()))


def review(plan: Plan) -> Review:
    by_urn = {resource.urn: resource for resource in plan.resources}

    def owner(resource: RenderedResource) -> str:
        """The URN of the nearest component above ``resource``, or the stack's."""
        parent = resource.parent
        while parent is not None and by_urn[parent].custom:
            parent = by_urn[parent].parent
        assert parent is not None, "every resource of a plan is under its stack"
        return parent

    def shown(resource: RenderedResource) -> ReviewedResource:
        return ReviewedResource(resource.name, resource.type, settings(resource.type, resource.inputs, plan.region),
                                resource.import_id)

    stack = next(resource for resource in plan.resources if resource.type == STACK_TYPE)
    providers = [r for r in plan.resources if r.custom and r.type.startswith(PROVIDER_TYPE_PREFIX)]
    owned: dict[str, list[RenderedResource]] = {}
    for resource in plan.resources:
        if resource.custom and not resource.type.startswith(PROVIDER_TYPE_PREFIX):
            owned.setdefault(owner(resource), []).append(resource)

    def group(urn: str) -> str:
        resource = by_urn[urn]
        return owner(resource) if resource.custom else urn

    needs: dict[str, set[str]] = {}
    for urn, resources in owned.items():
        depended = {dep for resource in resources for dep in _dependencies(resource, by_urn)}
        needs[urn] = {group(dep) for dep in depended} - {urn, stack.urn}
    components = [r for r in plan.resources if not r.custom and r.type != STACK_TYPE]
    order = _build_order([component.urn for component in components], needs)

    def reviewed(component: RenderedResource) -> ReviewedComponent:
        resources = tuple(shown(resource) for resource in owned.get(component.urn, []))
        return ReviewedComponent(component.name, component.type, resources)

    return Review(
        environment=plan.environment,
        cloud=plan.cloud,
        account=plan.account,
        region=plan.region,
        stack=reviewed(stack),
        providers=tuple(shown(provider) for provider in providers),
        components=tuple(reviewed(by_urn[urn]) for urn in order),
        outputs=plan.outputs,
    )


def settings(type_: str, inputs: Mapping[str, Any], region: str | None) -> tuple[Setting, ...]:
    """The ``BY_TYPE`` settings of a resource of ``type_``, then the ``REVIEWED`` ones among ``inputs``, leaving
    out empty ones and locations that are ``region``."""
    chosen = BY_TYPE.get(type_, {})
    first = tuple(Setting(path, _document(value)) for path, absent in chosen.items()
                  if (value := _at(inputs, path, absent)) is not _ABSENT and value is not None)
    return first + _by_name(inputs, region, skip=set(chosen))


def _at(inputs: Mapping[str, Any], path: str, absent: Any) -> Any:
    """The value at ``path`` (keys between dots), or ``absent``."""
    value: Any = inputs
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return absent
        value = value[key]
    return value


def _by_name(inputs: Mapping[str, Any], region: str | None, *, skip: set[str]) -> tuple[Setting, ...]:
    """The ``REVIEWED`` settings among ``inputs``, but for those at a path in ``skip`` (shown already)."""
    found: list[tuple[int, str, Any]] = []

    def visit(value: Any, path: str, names: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                child, child_names = (f"{path}.{key}", f"{names}.{key}") if path else (key, key)
                if child in skip:
                    continue
                rank = next((rank for rank, pattern in enumerate(REVIEWED) if pattern.search(child_names)), None)
                if rank is None:
                    visit(item, child, child_names)
                elif item not in (None, {}, [], region):
                    found.append((rank, child, _document(item)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]", names)

    visit(inputs, "", "")
    # Settings under one top-level property stay together (a node pool's, an access profile's),
    # placed by the first thing a reviewer checks among them.
    first: dict[str, int] = {}
    for rank, path, _ in found:
        first[_top(path)] = min(rank, first.get(_top(path), rank))
    found.sort(key=lambda entry: (first[_top(entry[1])], _top(entry[1]), entry[0], entry[1]))
    return tuple(Setting(path, value) for _, path, value in found)


def _document(value: Any) -> Any:
    """A JSON policy document as the structure it holds, so that it shows as YAML like every other setting."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _top(path: str) -> str:
    """The top-level property ``path`` is under, with its list index: ``agentPoolProfiles[0]``."""
    return path.split(".", 1)[0]


def _dependencies(resource: RenderedResource, by_urn: Mapping[str, RenderedResource]) -> set[str]:
    """What ``resource`` waits for, its provider's own dependencies included (a cluster, for Kubernetes objects)."""
    provider = by_urn[resource.provider].depends_on if resource.provider else ()
    return {*resource.depends_on, *provider}


def _build_order(components: list[str], needs: Mapping[str, set[str]]) -> list[str]:
    """``components`` each after those it needs, otherwise by URN; by URN alone if they need each other."""
    sorter = TopologicalSorter({urn: needs.get(urn, set()) & set(components) for urn in sorted(components)})
    try:
        sorter.prepare()
    except CycleError:
        return sorted(components)
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order += ready
        sorter.done(*ready)
    return order


class _FlowDumper(yaml.SafeDumper):
    """Writes masked values as they are, and any string that needs quotes double-quoted, on one line."""

    def analyze_scalar(self, scalar: str) -> Any:
        analysis = super().analyze_scalar(scalar)
        analysis.allow_single_quoted = False
        if scalar in (SECRET, UNKNOWN):
            analysis.allow_flow_plain = analysis.allow_block_plain = True
        elif analysis.multiline:
            analysis.allow_flow_plain = analysis.allow_block_plain = False
        return analysis


def flow(value: Any) -> str:
    """``value`` as YAML on one line: a scalar, or a flow collection (``{team: platform}``, ``[m6i.xlarge]``).

    Keys are sorted, so that a value reads the same in every plan.
    """
    text = yaml.dump(value, Dumper=_FlowDumper, default_flow_style=True, width=2**31, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...")
