"""The secure defaults a spec can weaken, and where each cloud's plan shows that it did."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terrane.components.aws_iam import NODE_REGISTRY_POLICY
from terrane.engine.audit._kubernetes import _POD_SECURITY
from terrane.engine.audit._model import SEVERITIES, Finding, Severity
from terrane.engine.audit._plan import _flow, _get, _listed

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource
    from terrane.stacks.spec.environments import Environment


# --- findings: secure defaults the spec weakens ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Probe:
    """Where a plan shows a default: an input of a resource type, and when its value is the weak one."""

    type: str
    path: tuple[str, ...]
    weak: Callable[[Any], bool]


@dataclass(frozen=True)
class _Absent:
    """A default a plan shows by a resource: ``type`` is there, and nothing of type ``missing`` goes with it."""

    type: str
    missing: str


@dataclass(frozen=True)
class _Check:
    rule: str
    field: str
    severity: tuple[Severity | None, Severity]
    """In an environment without, then with ``protect: true``; None: not a finding there."""
    message: str
    fix: str
    probes: tuple[_Probe | _Absent, ...]
    after: str | None = None
    """Only on a resource that the check of this rule found weak already."""


def _is_true(value: Any) -> bool:
    return value is True


def _not_true(value: Any) -> bool:
    return value is not True


def _is_false(value: Any) -> bool:
    return value is False


def _absent(value: Any) -> bool:
    return value is None


def _open_or_absent(value: Any) -> bool:
    """No allow-list at all, or one that lets the whole internet in."""
    ranges = _listed(value)
    return not ranges or any(cidr.endswith("/0") for cidr in ranges)


def _gke_open(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return True
    return any(str(block.get("cidrBlock", "")).endswith("/0") for block in value.get("cidrBlocks") or [])


def _shorter_than(days: int) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, int) and value < days


def _weaker_than_restricted(value: Any) -> bool:
    return value != "restricted"


REGISTRY_READER = "roles/artifactregistry.reader"
"""What GKE nodes pull with: on the project unless the cluster names its registries (``components.gcp.cluster``)."""

ADVISED_RECOVERY_DAYS = 30
"""The longest window ``secrets.recovery_days`` allows, and what AWS keeps a deleted secret by default."""

_CHECKS: tuple[_Check, ...] = (
    _Check("public-endpoint", "cluster.endpoint", ("medium", "medium"),
           "the cluster's API server is reachable from the internet",
           "set cluster.endpoint: private, or keep cluster.authorized_cidrs to the ranges you own", (
               _Probe("aws:eks/cluster:Cluster", ("vpcConfig", "endpointPublicAccess"), _is_true),
               _Probe("azure-native:containerservice:ManagedCluster",
                      ("apiServerAccessProfile", "enablePrivateCluster"), _not_true),
               _Probe("gcp:container/cluster:Cluster", ("privateClusterConfig", "enablePrivateEndpoint"), _not_true),
           )),
    _Check("endpoint-open-to-all", "cluster.authorized_cidrs", ("high", "high"),
           "the public API server accepts connections from any address (0.0.0.0/0)",
           "list only the CIDRs of your offices, VPN or CI runners in cluster.authorized_cidrs", (
               _Probe("aws:eks/cluster:Cluster", ("vpcConfig", "publicAccessCidrs"), _open_or_absent),
               _Probe("azure-native:containerservice:ManagedCluster",
                      ("apiServerAccessProfile", "authorizedIPRanges"), _open_or_absent),
               _Probe("gcp:container/cluster:Cluster", ("masterAuthorizedNetworksConfig",), _gke_open),
           ), after="public-endpoint"),
    _Check("deletion-protection-off", "cluster.deletion_protection", (None, "medium"),
           "the cluster of a protected environment can be deleted by a single call",
           "set cluster.deletion_protection: true (turn it off only on the way to a destroy)", (
               _Probe("aws:eks/cluster:Cluster", ("deletionProtection",), _not_true),
               _Probe("gcp:container/cluster:Cluster", ("deletionProtection",), _is_false),
               _Absent("azure-native:containerservice:ManagedCluster",
                       "azure-native:authorization:ManagementLockByScope"),
           )),
    _Check("flow-logs-off", "network.flow_logs", ("low", "medium"),
           "the network keeps no flow logs: no record of who talked to what",
           "set network.flow_logs: true", (
               _Absent("aws:ec2/vpc:Vpc", "aws:ec2/flowLog:FlowLog"),
               _Absent("azure-native:network:VirtualNetwork", "azure-native:network:FlowLog"),
               _Probe("gcp:compute/subnetwork:Subnetwork", ("logConfig",), _absent),
           )),
    _Check("short-recovery-window", "secrets.recovery_days", ("low", "medium"),
           f"a deleted secret can be recovered for less than {ADVISED_RECOVERY_DAYS} days",
           f"set secrets.recovery_days: {ADVISED_RECOVERY_DAYS}", (
               _Probe("aws:secretsmanager/secret:Secret", ("recoveryWindowInDays",),
                      _shorter_than(ADVISED_RECOVERY_DAYS)),
               _Probe("azure-native:keyvault:Vault", ("properties", "softDeleteRetentionInDays"),
                      _shorter_than(ADVISED_RECOVERY_DAYS)),
           )),
    _Check("secret-deletion-protection-off", "secrets.deletion_protection", (None, "medium"),
           "the secrets of a protected environment can be deleted",
           "remove secrets.deletion_protection (it is on by default), or set it to true", (
               _Probe("gcp:secretmanager/secret:Secret", ("deletionProtection",), _is_false),
           )),
    _Check("no-permissions-boundary", "permissions_boundary (accounts.yaml)", ("medium", "high"),
           "the environment's IAM roles carry no permissions boundary: nothing caps what their policies grant",
           "deploy the bootstrap stack, then link the account with --bootstrap-stack (or --permissions-boundary)", (
               _Probe("aws:iam/role:Role", ("permissionsBoundary",), _absent),
           )),
    _Check("nodes-pull-any-repository", "cluster.registries", ("low", "medium"),
           "the nodes may pull from every repository of the account or project, not only the linked registries",
           "link the registries the cluster uses (terrane accounts link ecr|artifact-registry) and name them in "
           "cluster.registries", (
               _Probe("aws:iam/rolePolicyAttachment:RolePolicyAttachment", ("policyArn",),
                      lambda arn: str(arn).endswith(f"/{NODE_REGISTRY_POLICY}")),
               _Probe("gcp:projects/iAMMember:IAMMember", ("role",), lambda role: role == REGISTRY_READER),
           )),
    _Check("pod-security-not-restricted", "kubernetes.namespaces", ("medium", "high"),
           "a namespace does not enforce the restricted pod security standard: its pods may run privileged",
           "keep terrane's Bootstrap labels (pod-security.kubernetes.io/enforce: restricted) on every namespace", (
               _Probe("kubernetes:core/v1:Namespace", ("metadata", "labels", f"{_POD_SECURITY}enforce"),
                      _weaker_than_restricted),
           )),
)
"""Each secure default a spec can weaken, and where each cloud's plan shows it."""


def _findings(env: Environment, index: _Index) -> list[Finding]:
    found: dict[str, list[RenderedResource]] = {}
    findings = []
    for check in _CHECKS:
        weak: list[tuple[RenderedResource, str]] = []
        for probe in check.probes:
            weak += _weak(probe, index, found.get(check.after) if check.after else None)
        found[check.rule] = [resource for resource, _ in weak]
        severity = check.severity[1 if env.protect else 0]
        if weak and severity:
            evidence = tuple(f"{resource.name} ({resource.type}): {shown}" for resource, shown in weak)
            findings.append(Finding(severity, check.rule, check.field, check.message, check.fix, evidence))
    return sorted(findings, key=lambda finding: -SEVERITIES.index(finding.severity))


def _weak(probe: _Probe | _Absent, index: _Index,
          among: list[RenderedResource] | None) -> list[tuple[RenderedResource, str]]:
    resources = [r for r in index.of_type(probe.type) if among is None or r in among]
    if isinstance(probe, _Absent):
        return [(r, f"no {probe.missing}") for r in resources] if not index.of_type(probe.missing) else []
    weak = []
    for resource in resources:
        value = _get(resource.inputs, probe.path)
        if probe.weak(value):
            weak.append((resource, f"{'.'.join(probe.path)}: {'(not set)' if value is None else _flow(value)}"))
    return weak
