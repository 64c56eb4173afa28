"""What terrane adopts of a Terraform state for AWS (hashicorp/aws -> pulumi-aws), with pulumi-aws's import ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from terrane.engine.adopt.rules import (
    Attribute,
    ProgramValue,
    Rule,
    StateValue,
    attribute,
    autonamed,
    joined,
    known,
    state_id,
    strings,
)
from terrane.engine.offline import render
from terrane.engine.tfstate import StateResource, TerraformState


def _kms_key_alias() -> Attribute:
    """AWS keys have no name: a key is known by the alias that targets it ("keys by name")."""

    def state(resource: StateResource, whole: TerraformState) -> StateValue:
        # An alias's target_key_id is the key's id or its ARN, as its configuration gave it.
        ids = {strings(resource.attributes.get(key)) for key in ("key_id", "arn")} - {None}
        names: set[str] = set()
        for alias in whole.resources:
            name = strings(alias.attributes.get("name"))
            target = strings(alias.attributes.get("target_key_id"))
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
        found = frozenset(name for name in names if isinstance(name, str) and name and known(name))
        return found or None

    return Attribute("alias", state, program, "no aws_kms_alias in the state targets it: terrane adopts keys by alias")


RULES: Mapping[str, Rule] = {
    "aws_vpc": Rule("aws:ec2/vpc:Vpc", (attribute("cidrBlock", "cidr_block"),), state_id),
    "aws_subnet": Rule(
        "aws:ec2/subnet:Subnet",
        (attribute("cidrBlock", "cidr_block"), attribute("availabilityZone", "availability_zone")),
        state_id,
    ),
    "aws_eks_cluster": Rule("aws:eks/cluster:Cluster", (attribute("name", "name"),), joined("{}", "name")),
    "aws_eks_node_group": Rule(
        "aws:eks/nodeGroup:NodeGroup",
        (attribute("clusterName", "cluster_name"), autonamed("nodeGroupName", "node_group_name")),
        joined("{}:{}", "cluster_name", "node_group_name"),
    ),
    "aws_kms_key": Rule("aws:kms/key:Key", (_kms_key_alias(),), joined("{}", "key_id")),
    "aws_kms_alias": Rule("aws:kms/alias:Alias", (attribute("name", "name"),), joined("{}", "name")),
    "aws_secretsmanager_secret": Rule(
        "aws:secretsmanager/secret:Secret", (attribute("name", "name"),), joined("{}", "arn")
    ),
}
"""Terraform resource type -> the Pulumi type it becomes, its identifying attributes, its import id."""
