"""An existing network's ids, read from the outputs of a Terraform state by pulumi-terraform's state references.

``network_ids(env, cloud)`` gives one Output per output ``network.terraform_state.outputs`` maps, under
terrane's name for it (``vpc_id``, ``node_subnet_id``, ``subnetwork``...). The state is read by the
``terraform`` provider's functions through its default provider: terrane parses no state here, and passes no
credential (the spec holds none; each backend reads with the ambient credentials of the stack's run).

A state that lacks an output the spec maps, or holds one of the wrong shape, fails the program with the
words validation uses for a local state (``stacks.rules.terraform_output_problems``), naming the
environment's file, the field, the state and the output. No output's value is ever repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_terraform import state as tfstate

from terrane.stacks import rules
from terrane.stacks.spec import Cloud
from terrane.stacks.spec.environments import Environment, ExistingNetworkSpec
from terrane.stacks.spec.terraform_state import AzurermState, LocalState, RemoteState, S3State, TerraformState


def network_ids(env: Environment, cloud: Cloud) -> dict[str, pulumi.Output[Any]]:
    """terrane's name -> the value of the Terraform output the spec maps to it, checked for ``cloud``."""
    existing = _existing(env)
    outputs = _reference(existing.terraform_state).outputs
    checked = outputs.apply(lambda values: _checked(env, cloud, values))
    return {key: checked.apply(lambda values, name=name: values[name])
            for key, name in existing.terraform_state.outputs.items()}


def _existing(env: Environment) -> ExistingNetworkSpec:
    existing = env.existing_network
    if existing is None:
        raise ValueError(f"{env.file}: the network is not an existing one (network.terraform_state)")
    return existing


def _reference(state: TerraformState) -> Any:
    """The state's outputs, as the backend's reference function reads them: only the settings the spec gives."""
    settings = state.config.model_dump(exclude_none=True)
    if isinstance(state, LocalState):
        return tfstate.get_local_reference_output(**settings)
    if isinstance(state, S3State):
        return tfstate.get_s3_reference_output(**settings)
    if isinstance(state, AzurermState):
        return tfstate.get_azure_rm_reference_output(**settings)
    if isinstance(state, RemoteState):
        return tfstate.get_remote_reference_output(**settings)
    raise TypeError(f"no pulumi-terraform reference reads a {type(state).__name__}")


def _checked(env: Environment, cloud: Cloud, values: Mapping[str, Any]) -> Mapping[str, Any]:
    problems = rules.terraform_output_problems(env, cloud, values)
    if problems:
        # RunError: the message alone, as validation words it, without the program's traceback.
        raise pulumi.RunError("\n".join(f"{env.file}: {problem.path}: {problem.message}" for problem in problems))
    return values
