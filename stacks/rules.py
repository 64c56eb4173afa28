"""Rules that relate an environment's fields to each other, to its account and to its cloud.

``check`` returns every problem as a field path and a message; the engine adds
the file name. Nothing here reads files or talks to a cloud.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network
from itertools import combinations
from typing import Any, Literal

from terrane.stacks import layout, tag_rules
from terrane.stacks.problem import CLOUD_NAMES, Problem
from terrane.stacks.spec import REGION, Cloud, spoken
from terrane.stacks.spec.accounts import Account, CloudAccount
from terrane.stacks.spec.environments import POD_SECURITY, Environment, label_key_problem, label_value_problem
from terrane.stacks.standard import SECRETS_READER, standard_kubernetes_labels

# What a machine type looks like on each cloud, when a pool does not use a neutral size.
_MACHINE_TYPE = {
    "aws": re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"),
    "azure": re.compile(r"^Standard_[A-Za-z0-9_]+$"),
    "gcp": re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$"),
}
_MACHINE_EXAMPLE = {"aws": "m6i.xlarge", "azure": "Standard_D4s_v5", "gcp": "e2-standard-4"}

# AWS accepts VPC ranges from /16 to /28.
_AWS_VPC_PREFIXES = range(16, 29)
# The service ranges a cluster takes: EKS /12 to /24; AKS up to /12, and room for the DNS service's address (the tenth).
_SERVICE_CIDR_PREFIXES = {"aws": range(12, 25), "azure": range(12, 29)}

# How many CIDRs each cloud lets reach a public cluster endpoint.
_AUTHORIZED_CIDRS_LIMIT = {"aws": 40, "azure": 200, "gcp": 50}

_REGION = {cloud: re.compile(pattern) for cloud, pattern in REGION.items()}
_REGION_EXAMPLE = {"aws": "us-east-1", "azure": "westeurope", "gcp": "europe-west1"}


def check(env: Environment, account: Account, *, invalid: Collection[str] = ()) -> list[Problem]:
    """Every problem of ``env`` on ``account``'s cloud.

    ``invalid`` names the top-level fields that failed the spec's own validation:
    the rules that read them are left out, and the others still run, so that a
    file's problems are all reported at once.
    """
    if not isinstance(account, CloudAccount):  # a linked cluster
        return _linked_cluster(env, skipped=set(invalid))
    skipped = set(invalid) | ({"network"} if env.network is None else set())
    network = [] if env.network or "network" in invalid else [
        Problem("network", "an environment on a cloud needs a network section")
    ]
    return network + [problem for rule, reads in _RULES if not reads & skipped for problem in rule(env, account.cloud)]


def _linked_cluster(env: Environment, *, skipped: set[str]) -> list[Problem]:
    """A cluster made elsewhere: terrane bootstraps it, and makes no cloud resource."""
    problems = [
        Problem(section, "a linked cluster (cloud: kubernetes) takes only kubernetes, tags, protect and drift; "
                         f"remove {section}:")
        for section in ("region", "network", "cluster", "secrets")
        if getattr(env, section) is not None
    ]
    if env.kubernetes is None and "kubernetes" not in skipped:
        problems.append(Problem("kubernetes", "an environment on a linked cluster needs a kubernetes section "
                                              "(its namespaces)"))
    if "tags" not in skipped:
        own = standard_kubernetes_labels(env.model_copy(update={"tags": {}}))
        for key, value in env.tags.items():
            problem = ("terrane sets this label itself" if key in own or key.startswith(POD_SECURITY)
                       else label_key_problem(key) or label_value_problem(value))
            if problem:
                problems.append(Problem(f"tags.{key}", f"tags are labels on a linked cluster: {problem}"))
    return problems


def _secrets(env: Environment, cloud: Cloud) -> list[Problem]:
    if cloud != "gcp" and env.secrets and env.secrets.deletion_protection is not None:
        return [Problem("secrets.deletion_protection",
                        "only GCP secrets have deletion protection; AWS and Azure keep a deleted secret "
                        "for recovery_days instead")]
    return []


def _region(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.region is None or _REGION[cloud].fullmatch(env.region):
        return []
    return [Problem("region", f"'{env.region}' is not a region of {CLOUD_NAMES[cloud]} (like {_REGION_EXAMPLE[cloud]})")]


def _kubernetes_needs_cluster(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.kubernetes is not None and env.cluster is None:
        return [Problem("kubernetes", "needs a cluster section (add cluster: or remove kubernetes:)")]
    return []


def _secrets_reader_name(env: Environment, cloud: Cloud) -> list[Problem]:
    """With secrets and a cluster, every namespace gets the secrets reader: a service account may not take its name."""
    if not (env.kubernetes and env.cluster and env.secrets):
        return []
    return [
        Problem(f"kubernetes.namespaces[{index}].service_accounts",
                f"'{SECRETS_READER}' is the service account terrane makes to read the environment's secrets")
        for index, namespace in enumerate(env.kubernetes.namespaces)
        if SECRETS_READER in namespace.service_accounts
    ]


def _endpoint(env: Environment, cloud: Cloud) -> list[Problem]:
    problems = []
    if env.cluster and env.cluster.authorized_cidrs and env.cluster.endpoint == "private":
        problems.append(Problem("cluster.authorized_cidrs", "only allowed with endpoint: public"))
    if env.cluster and not env.cluster.authorized_cidrs and env.cluster.endpoint == "public":
        # An empty allow-list would open the API server to the whole internet.
        problems.append(
            Problem("cluster.authorized_cidrs", "endpoint: public needs the CIDRs allowed to reach it")
        )
    return problems


def _overlaps(env: Environment, cloud: Cloud) -> list[Problem]:
    # An existing network's ranges are its owner's: only the cluster's own are checked against each other.
    network = env.new_network
    ranges: list[tuple[str, IPv4Network]] = [("network.cidr", network.cidr)] if network else []
    if env.cluster:
        ranges += [
            ("cluster.pod_cidr", env.cluster.pod_cidr),
            ("cluster.service_cidr", env.cluster.service_cidr),
            ("cluster.control_plane_cidr", env.cluster.control_plane_cidr),
        ]
    return [
        Problem(path, f"{cidr} overlaps {other_path} ({other})")
        for (other_path, other), (path, cidr) in combinations(ranges, 2)
        if cidr.overlaps(other)
    ]


def _machine_types(env: Environment, cloud: Cloud) -> list[Problem]:
    if env.cluster is None:
        return []
    return [
        Problem(
            f"cluster.node_pools[{index}].size",
            f"'{pool.size}' is neither a neutral size (small, medium, large, xlarge) "
            f"nor a machine type of {CLOUD_NAMES[cloud]} (like {_MACHINE_EXAMPLE[cloud]})",
        )
        for index, pool in enumerate(env.cluster.node_pools)
        if not pool.neutral_size and not _MACHINE_TYPE[cloud].match(pool.size)
    ]


def _authorized_cidrs(env: Environment, cloud: Cloud) -> list[Problem]:
    limit = _AUTHORIZED_CIDRS_LIMIT[cloud]
    if env.cluster and len(env.cluster.authorized_cidrs) > limit:
        return [
            Problem("cluster.authorized_cidrs", f"{CLOUD_NAMES[cloud]} allows at most {limit} CIDRs for a public endpoint")
        ]
    return []


def _network_range(env: Environment, cloud: Cloud) -> list[Problem]:
    network = env.new_network
    if network is None:
        return []
    cidr, zones = network.cidr, network.zones
    if cloud == "aws":
        if cidr.prefixlen not in _AWS_VPC_PREFIXES:
            return [Problem("network.cidr", f"{cidr}: an AWS VPC takes a range from /16 to /28")]
        if not layout.fits(cidr, zones):
            largest = layout.SMALLEST_SUBNET_PREFIX - 2 * zones.bit_length()
            return [
                Problem(
                    "network.cidr",
                    f"{cidr} is too small for {zones} zone(s): each zone needs a private and a public "
                    f"subnet of at least /{layout.SMALLEST_SUBNET_PREFIX}; use a /{largest} or larger",
                )
            ]
    if cloud == "azure" and cidr.prefixlen > 24:
        return [
            Problem(
                "network.cidr",
                f"{cidr} is too small for Azure: the node and private-endpoint subnets need a /24 or larger",
            )
        ]
    if cloud == "gcp" and not 8 <= cidr.prefixlen <= 29:
        return [Problem("network.cidr", f"{cidr}: a GCP subnet takes a range from /8 to /29")]
    return []


def _service_range(env: Environment, cloud: Cloud) -> list[Problem]:
    prefixes = _SERVICE_CIDR_PREFIXES.get(cloud)
    if env.cluster is None or prefixes is None or env.cluster.service_cidr.prefixlen in prefixes:
        return []
    return [Problem("cluster.service_cidr", f"{env.cluster.service_cidr}: {CLOUD_NAMES[cloud]} takes a service range "
                                            f"from /{prefixes[0]} to /{prefixes[-1]}")]


def _system_pool(env: Environment, cloud: Cloud) -> list[Problem]:
    if cloud == "azure" and env.cluster and env.cluster.node_pools[0].min < 1:
        return [Problem("cluster.node_pools[0].min", "the first pool is AKS's system pool and needs at least 1 node")]
    return []


@dataclass(frozen=True)
class NetworkOutput:
    """What one output of an existing network's Terraform state holds for terrane's components."""

    holds: str
    """In words: "the VPC's id"."""
    required: Literal["always", "with secrets", "never"] = "always"
    many: bool = False
    """A list of ids (at least one when required), instead of one."""

    def needed(self, env: Environment) -> bool:
        return self.required == "always" or (self.required == "with secrets" and env.secrets is not None)

    def fits(self, value: Any) -> bool:
        if not self.many:
            return isinstance(value, str) and bool(value)
        return (isinstance(value, list) and (bool(value) or self.required == "never")
                and all(isinstance(item, str) and item for item in value))

    @property
    def shape(self) -> str:
        if self.many:
            return "a list of strings" if self.required == "never" else "a non-empty list of strings"
        return "a non-empty string"


NETWORK_OUTPUTS: Mapping[Cloud, Mapping[str, NetworkOutput]] = {
    "aws": {
        "vpc_id": NetworkOutput("the VPC's id"),
        "private_subnet_ids": NetworkOutput("the ids of the private subnets EKS puts its interfaces and nodes in",
                                            many=True),
        "public_subnet_ids": NetworkOutput("the ids of the public subnets", required="never", many=True),
    },
    "azure": {
        "vnet_id": NetworkOutput("the VNet's resource id"),
        "node_subnet_id": NetworkOutput("the resource id of the subnet AKS puts its nodes in"),
        "endpoint_subnet_id": NetworkOutput("the resource id of the subnet the Key Vault's private endpoint goes in",
                                            required="with secrets"),
    },
    "gcp": {
        "network": NetworkOutput("the VPC network's self link or id"),
        "subnetwork": NetworkOutput("the self link or id of the subnetwork GKE puts its nodes in"),
        "pods_range_name": NetworkOutput("the name of the subnetwork's secondary range for pods"),
        "services_range_name": NetworkOutput("the name of the subnetwork's secondary range for services"),
    },
}
"""Per cloud, the outputs an existing network's state maps (``network.terraform_state.outputs``), by terrane's names."""

_OUTPUTS = "network.terraform_state.outputs"
_OUTPUT_NAMES_SHOWN = 20


def _network_outputs(env: Environment, cloud: Cloud) -> list[Problem]:
    """Every output the cloud's components need is mapped, and nothing else."""
    existing = env.existing_network
    if existing is None:
        return []
    known = NETWORK_OUTPUTS[cloud]
    mapped = existing.terraform_state.outputs
    problems = [
        Problem(f"{_OUTPUTS}.{key}", f"an existing network on {CLOUD_NAMES[cloud]} maps only {spoken(list(known))}")
        for key in mapped if key not in known
    ]
    problems += [
        Problem(f"{_OUTPUTS}.{key}", "is required" + (" with secrets" if output.required == "with secrets" else "")
                + f": the Terraform output that holds {output.holds}")
        for key, output in known.items() if key not in mapped and output.needed(env)
    ]
    return problems


def terraform_output_problems(env: Environment, cloud: Cloud, values: Mapping[str, Any]) -> list[Problem]:
    """What is wrong with a Terraform state's outputs ``values`` for the outputs ``env``'s existing network maps.

    The same words whether the state was read before anything ran (a local state) or by the program. A value is
    never repeated: a state's outputs may be secret.
    """
    existing = env.existing_network
    if existing is None:
        return []
    where = existing.terraform_state.config.where
    problems = []
    for key, name in existing.terraform_state.outputs.items():
        output = NETWORK_OUTPUTS[cloud].get(key)
        if output is None:
            continue
        if name not in values:
            problems.append(Problem(f"{_OUTPUTS}.{key}", f"{where} has no output '{name}' ({_outputs_in(values)})"))
        elif not output.fits(values[name]):
            problems.append(Problem(f"{_OUTPUTS}.{key}", f"output '{name}' of {where} must be {output.shape} "
                                                          f"({output.holds})"))
    return problems


def _outputs_in(values: Mapping[str, Any]) -> str:
    names = sorted(values)
    if not names:
        return "it has no outputs"
    shown = ", ".join(names[:_OUTPUT_NAMES_SHOWN]) + (", ..." if len(names) > _OUTPUT_NAMES_SHOWN else "")
    return f"it has: {shown}"


def _existing_network_fields(env: Environment, cloud: Cloud) -> list[Problem]:
    """What an existing network leaves to its owner, a spec may not set."""
    existing = env.existing_network
    if existing is None:
        return []
    given = existing.model_fields_set
    problems = []
    if cloud == "aws":
        problems += [Problem(f"network.{field}", f"an existing network on AWS has its own {words}: remove {field}")
                     for field, words in (("zones", "zones (EKS uses the subnets' zones)"),
                                          ("nat", "routes to the internet")) if field in given]
    if cloud == "gcp" and "nat" in given:
        problems.append(Problem("network.nat", "an existing network on GCP has its own Cloud NAT, or none: remove nat"))
    if cloud == "gcp" and env.cluster:
        problems += [
            Problem(f"cluster.{field}", f"on an existing GCP network, {what} get the subnetwork's secondary range "
                                        f"that {_OUTPUTS}.{output} names: remove {field}")
            for field, output, what in (("pod_cidr", "pods_range_name", "pods"),
                                        ("service_cidr", "services_range_name", "services"))
            if field in env.cluster.model_fields_set
        ]
    return problems


Rule = Callable[[Environment, Cloud], list[Problem]]

# Each rule with the top-level fields of the spec it reads.
_RULES: tuple[tuple[Rule, frozenset[str]], ...] = (
    (_region, frozenset({"region"})),
    (_kubernetes_needs_cluster, frozenset({"kubernetes", "cluster"})),
    (_secrets_reader_name, frozenset({"kubernetes", "cluster", "secrets"})),
    (_endpoint, frozenset({"cluster"})),
    (_overlaps, frozenset({"network", "cluster"})),
    (_machine_types, frozenset({"cluster"})),
    (_authorized_cidrs, frozenset({"cluster"})),
    (_secrets, frozenset({"secrets"})),
    (_network_range, frozenset({"network"})),
    (_service_range, frozenset({"cluster"})),
    (_system_pool, frozenset({"cluster"})),
    (tag_rules.tag_count, frozenset({"tags", "name", "cluster"})),
    (tag_rules.tag_text, frozenset({"tags"})),
    (tag_rules.azure_storage_tag_names, frozenset({"tags", "network"})),
    (_network_outputs, frozenset({"network", "secrets"})),
    (_existing_network_fields, frozenset({"network", "cluster"})),
)
