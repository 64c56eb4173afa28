"""The rules of a network made elsewhere (``network.terraform_state``): which outputs of its Terraform state each
cloud's components need, and which settings its owner keeps.

Part of ``stacks.rules``, which runs them with the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from terrane.stacks.network_rules import EKS_MIN_ZONES
from terrane.stacks.problem import CLOUD_NAMES, Problem
from terrane.stacks.spec import Cloud, spoken
from terrane.stacks.spec.environments import Environment


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


def network_outputs(env: Environment, cloud: Cloud) -> list[Problem]:
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
        elif cloud == "aws" and key == "private_subnet_ids" and env.cluster and len(set(values[name])) < EKS_MIN_ZONES:
            problems.append(Problem(f"{_OUTPUTS}.{key}", f"output '{name}' of {where} names {len(set(values[name]))} "
                                                          f"subnet(s): EKS needs control-plane subnets in at least "
                                                          f"{EKS_MIN_ZONES} availability zones"))
    return problems


def _outputs_in(values: Mapping[str, Any]) -> str:
    names = sorted(values)
    if not names:
        return "it has no outputs"
    shown = ", ".join(names[:_OUTPUT_NAMES_SHOWN]) + (", ..." if len(names) > _OUTPUT_NAMES_SHOWN else "")
    return f"it has: {shown}"


def existing_network_fields(env: Environment, cloud: Cloud) -> list[Problem]:
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
