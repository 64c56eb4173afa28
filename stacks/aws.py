"""An environment on AWS: AWS's steps of ``stacks.compose``, with one explicit provider for the account.

This is the only place that maps spec fields to AWS component args. The network is a new one (the
Network component), or an existing one whose ids a Terraform state's outputs hold (``stacks.terraform``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from terrane.components.aws import (
    Cluster,
    ClusterArgs,
    EcrRepository,
    Network,
    NetworkArgs,
    NodePoolArgs,
    SecretReaderArgs,
    SecretStore,
    SecretStoreArgs,
)
from terrane.components.kubernetes import ServiceAccountArgs
from terrane.components.outputs import present
from terrane.stacks import layout, terraform
from terrane.stacks.compose import ClusterAccess, Readers, Site, Steps
from terrane.stacks.spec.accounts import AwsAccount
from terrane.stacks.spec.environments import ClusterSpec, Environment, NetworkSpec, SecretsSpec
from terrane.stacks.spec.registries import EcrRegistry
from terrane.stacks.standard import SECRETS_READER, standard_tags


@dataclass(frozen=True)
class _Network:
    """The ids of the environment's network, new or existing."""

    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    public_subnet_ids: pulumi.Input[Sequence[str]] | None
    """None for an existing network whose state maps no public subnets."""
    made: Network | None
    """The network terrane makes, which the cluster's nodes wait for; None for an existing one."""

    def outputs(self) -> dict[str, pulumi.Input[Any]]:
        public = {} if self.public_subnet_ids is None else {"public_subnet_ids": self.public_subnet_ids}
        return {"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids, **public}


def _new_network(site: Site[AwsAccount], spec: NetworkSpec) -> _Network:
    env = site.env
    subnets = layout.zonal_subnets(spec.cidr, spec.zones)
    network = Network(
        env.name,
        NetworkArgs(
            cidr=str(spec.cidr),
            private_subnet_cidrs=[str(subnet) for subnet in subnets.private],
            public_subnet_cidrs=[str(subnet) for subnet in subnets.public],
            nat=spec.nat,
            flow_logs=spec.flow_logs,
            cluster_name=env.name if env.cluster else None,
            permissions_boundary=site.account.permissions_boundary,
        ),
        site.opts,
    )
    return _Network(network.vpc_id, network.private_subnet_ids, network.public_subnet_ids, made=network)


def _existing_network(site: Site[AwsAccount]) -> _Network:
    """A VPC made elsewhere: its subnets' tags (for load balancers) and routes stay its owner's."""
    ids = terraform.network_ids(site.env, "aws")
    return _Network(ids["vpc_id"], ids["private_subnet_ids"], ids.get("public_subnet_ids"), made=None)


def _cluster(site: Site[AwsAccount], spec: ClusterSpec, network: _Network, opts: pulumi.ResourceOptions) -> Cluster:
    env, account = site.env, site.account
    role = account.auth.assume_role
    cluster = Cluster(
        env.name,
        ClusterArgs(
            kubernetes_version=spec.kubernetes_version,
            subnet_ids=network.private_subnet_ids,
            endpoint_public=spec.endpoint == "public",
            authorized_cidrs=[str(cidr) for cidr in spec.authorized_cidrs],
            service_cidr=str(spec.service_cidr),
            node_pools=[
                NodePoolArgs(
                    name=pool.name,
                    instance_type=layout.machine_type("aws", pool),
                    min_size=pool.min,
                    max_size=pool.max,
                )
                for pool in spec.node_pools
            ],
            deletion_protection=spec.deletion_protection,
            region=site.region,
            admin_role_arn=role.role_arn if role else None,
            pull_repositories=[
                EcrRepository(account_id=registry.account_id, region=registry.region, name=repository)
                for registry in env.registries.values()
                if isinstance(registry, EcrRegistry)
                for repository in registry.repositories
            ],
            permissions_boundary=account.permissions_boundary,
        ),
        opts,
    )
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("oidc_provider_arn", cluster.oidc_provider_arn)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    return cluster


def _secret_store(site: Site[AwsAccount], spec: SecretsSpec, network: _Network,
                  readers: Readers[Cluster] | None) -> ServiceAccountArgs | None:
    """Secrets Manager secrets; with readers, an IAM role for their service accounts, which the annotation names."""
    reader = SecretReaderArgs(
        oidc_provider_arn=readers.cluster.oidc_provider_arn,
        oidc_issuer=readers.cluster.oidc_issuer,
        service_accounts=readers.service_accounts,
    ) if readers else None
    env = site.env
    store = SecretStore(
        env.name,
        SecretStoreArgs(
            secret_names=spec.names,
            name_prefix=f"{env.name}/",
            recovery_days=spec.recovery_days,
            reader=reader,
            permissions_boundary=site.account.permissions_boundary,
        ),
        site.opts,
    )
    pulumi.export("secrets_key_arn", store.key_arn)
    pulumi.export("secret_arns", store.secret_arns)
    if reader is None:
        return None
    role_arn = store.reader_role_arn.apply(present)
    pulumi.export("secrets_reader_role_arn", role_arn)
    return ServiceAccountArgs(name=SECRETS_READER, annotations={"eks.amazonaws.com/role-arn": role_arn})


def _access(cluster: Cluster) -> ClusterAccess:
    return ClusterAccess(kubeconfig=cluster.kubeconfig, identifier=cluster.arn)


def account_provider(env: Environment, account: AwsAccount, region: str) -> aws.Provider:
    """The one AWS provider of the environment, bound to the linked account.

    Identity comes from the typed account; secret material (an external id kept
    as a reference, static keys) from the stack's secret config, which the
    engine sets from the account before every operation. Offline, none is set.
    """
    config = pulumi.Config("aws")
    auth = account.auth
    assume_roles = None
    if auth.assume_role:
        role = auth.assume_role
        external_id: pulumi.Input[str] | None = (
            pulumi.Output.secret(role.external_id) if isinstance(role.external_id, str) else None
        )
        configured = config.get_secret_object("assumeRoles")
        if external_id is None and configured is not None:
            external_id = configured.apply(lambda roles: roles[0].get("externalId"))
        assume_roles = [
            aws.ProviderAssumeRoleArgs(
                role_arn=role.role_arn, session_name=role.session_name, external_id=external_id
            )
        ]
    return aws.Provider(
        env.account,
        region=region,
        allowed_account_ids=[account.account_id],
        assume_roles=assume_roles,
        profile=auth.profile,
        access_key=config.get_secret("accessKey") if auth.static else None,
        secret_key=config.get_secret("secretKey") if auth.static else None,
        default_tags=aws.ProviderDefaultTagsArgs(tags=standard_tags(env)),
    )


STEPS = Steps(provider=account_provider, new_network=_new_network, existing_network=_existing_network,
              cluster=_cluster, secret_store=_secret_store, access=_access)
compose = STEPS.compose
"""The program's entry (``stacks.program``): an environment on AWS, in the order every cloud shares."""
