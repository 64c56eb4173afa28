"""An EKS cluster in private subnets: secrets encrypted with a rotating KMS key,
control-plane logs on, IAM access entries instead of the aws-auth ConfigMap, an
IRSA OIDC provider and managed node groups that require IMDSv2."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from terrane.components.aws_iam import (
    CLUSTER_POLICY,
    ECR_PULL_ACTIONS,
    EKS_ADDON_REGISTRY_ACCOUNTS,
    EKS_ADDON_REGISTRY_DEFAULT,
    IAM_PATH,
    NODE_POLICIES,
    NODE_REGISTRY_POLICY,
)
from terrane.components.kubeconfig import exec_kubeconfig
from terrane.components.outputs import present

_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


@dataclass(frozen=True)
class NodePoolArgs:
    name: str
    instance_type: str
    min_size: int
    max_size: int
    disk_size_gb: int = 50


@dataclass(frozen=True)
class EcrRepository:
    """An ECR repository the nodes may pull from."""

    account_id: str
    region: str
    name: str


@dataclass(frozen=True)
class ClusterArgs:
    kubernetes_version: str
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets, for the control plane's interfaces and the nodes."""
    endpoint_public: bool
    authorized_cidrs: Sequence[str]
    """Who may reach a public endpoint; ignored when the endpoint is private."""
    service_cidr: str
    node_pools: Sequence[NodePoolArgs]
    deletion_protection: bool
    region: str
    """Region of the cluster, for the kubeconfig's ``aws eks get-token``."""
    admin_role_arn: str | None = None
    """The IAM role terrane deploys with: made cluster admin and assumed by the kubeconfig."""
    pull_repositories: Sequence[EcrRepository] = ()
    """When set, the nodes may pull from these repositories (and EKS's add-on images) only,
    instead of from every repository the managed ``AmazonEC2ContainerRegistryReadOnly`` reaches."""
    permissions_boundary: str | None = None
    """The IAM policy the cluster and node roles carry as their permissions boundary."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # AWS opens a public endpoint to 0.0.0.0/0 when no CIDR is given.
        if self.endpoint_public and not self.authorized_cidrs:
            raise ValueError("a public cluster endpoint needs at least one authorized CIDR")


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    """The issuer without ``https://``, as IAM trust policy conditions spell it."""
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:aws:Cluster", name, None, opts)
        tags = dict(args.tags)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition

        cluster_role, cluster_policy = self._cluster_role(name, args, partition, tags)
        key = self._secrets_key(name, tags)
        cluster = self._control_plane(name, args, cluster_role, cluster_policy, key, tags)
        issuer_url = cluster.identities.apply(lambda identities: present(present(identities[0].oidcs)[0].issuer))
        oidc = self._oidc_provider(name, issuer_url, tags)
        self._vpc_cni(name, cluster, tags)
        if args.admin_role_arn is not None:
            self._admin_access(name, cluster, args.admin_role_arn, partition, tags)
        self._node_groups(name, args, cluster, partition, tags)

        self.name = cluster.name
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.certificate_authority = cluster.certificate_authority.apply(lambda authority: present(authority.data))
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.name, self.endpoint, self.certificate_authority).apply(
                lambda values: _kubeconfig_json(args, values)
            )
        )
        self.register_outputs(
            {
                "name": self.name,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "certificate_authority": self.certificate_authority,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _cluster_role(
        self, name: str, args: ClusterArgs, partition: pulumi.Output[str], tags: Mapping[str, str]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-cluster",
            path=IAM_PATH,
            permissions_boundary=args.permissions_boundary,
            assume_role_policy=_trust("eks.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster",
            role=role.name,
            policy_arn=_managed_policy(partition, CLUSTER_POLICY),
            opts=child,
        )
        return role, policy

    def _secrets_key(self, name: str, tags: Mapping[str, str]) -> aws.kms.Key:
        return aws.kms.Key(
            f"{name}-secrets",
            description=f"Encrypts the Kubernetes secrets of EKS cluster {name}",
            enable_key_rotation=True,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _control_plane(
        self,
        name: str,
        args: ClusterArgs,
        role: aws.iam.Role,
        role_policy: aws.iam.RolePolicyAttachment,
        key: aws.kms.Key,
        tags: Mapping[str, str],
    ) -> aws.eks.Cluster:
        return aws.eks.Cluster(
            f"{name}-eks",
            # A fixed name lets the network tag its subnets for this cluster before it exists.
            name=name,
            version=args.kubernetes_version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=args.endpoint_public,
                public_access_cidrs=list(args.authorized_cidrs) if args.endpoint_public else None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
            ),
            enabled_cluster_log_types=_LOG_TYPES,
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # With an admin role its access entry (``_admin_access``) grants admin; otherwise
                # whoever creates the cluster must keep access to it.
                bootstrap_cluster_creator_admin_permissions=args.admin_role_arn is None,
            ),
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                service_ipv4_cidr=args.service_cidr,
            ),
            deletion_protection=args.deletion_protection,
            tags=tags,
            # EKS needs its role's permissions to create, and to clean up on delete.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )

    def _oidc_provider(
        self, name: str, issuer_url: pulumi.Output[str], tags: Mapping[str, str]
    ) -> aws.iam.OpenIdConnectProvider:
        return aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _vpc_cni(self, name: str, cluster: aws.eks.Cluster, tags: Mapping[str, str]) -> None:
        # Without the VPC CNI's network policy agent, NetworkPolicies are accepted but not enforced.
        aws.eks.Addon(
            f"{name}-vpc-cni",
            cluster_name=cluster.name,
            addon_name="vpc-cni",
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _admin_access(
        self,
        name: str,
        cluster: aws.eks.Cluster,
        admin_role_arn: str,
        partition: pulumi.Output[str],
        tags: Mapping[str, str],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        entry = aws.eks.AccessEntry(
            f"{name}-admin",
            cluster_name=cluster.name,
            principal_arn=admin_role_arn,
            type="STANDARD",
            tags=tags,
            opts=child,
        )
        aws.eks.AccessPolicyAssociation(
            f"{name}-admin",
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=pulumi.Output.concat(
                "arn:", partition, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            ),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=child,
        )

    def _node_groups(
        self,
        name: str,
        args: ClusterArgs,
        cluster: aws.eks.Cluster,
        partition: pulumi.Output[str],
        tags: Mapping[str, str],
    ) -> None:
        role, policies = self._node_role(name, args, partition, tags)
        for pool in args.node_pools:
            template = self._launch_template(name, pool, tags)
            aws.eks.NodeGroup(
                f"{name}-{pool.name}",
                cluster_name=cluster.name,
                node_role_arn=role.arn,
                subnet_ids=args.subnet_ids,
                instance_types=[pool.instance_type],
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    desired_size=min(max(pool.min_size, 1), pool.max_size),
                    min_size=pool.min_size,
                    max_size=pool.max_size,
                ),
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                    id=template.id,
                    version=template.latest_version.apply(str),
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                tags=tags,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=policies,
                    # The cluster autoscaler owns the desired size once the group exists.
                    ignore_changes=["scalingConfig.desiredSize"],
                ),
            )

    def _node_role(
        self, name: str, args: ClusterArgs, partition: pulumi.Output[str], tags: Mapping[str, str]
    ) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The nodes' role and its policies, which the node groups wait for.

        With repositories to pull from, a policy for exactly those takes the managed registry policy's place.
        """
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-node",
            path=IAM_PATH,
            permissions_boundary=args.permissions_boundary,
            assume_role_policy=_trust("ec2.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        scoped = bool(args.pull_repositories)
        policies: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=role.name,
                policy_arn=_managed_policy(partition, policy),
                opts=child,
            )
            for policy in NODE_POLICIES
            if not (scoped and policy == NODE_REGISTRY_POLICY)
        ]
        if scoped:
            policies.append(aws.iam.RolePolicy(
                f"{name}-node-pull",
                role=role.id,
                policy=partition.apply(lambda partition: _pull_policy(partition, args.region, args.pull_repositories)),
                opts=child,
            ))
        return role, policies

    def _launch_template(self, name: str, pool: NodePoolArgs, tags: Mapping[str, str]) -> aws.ec2.LaunchTemplate:
        return aws.ec2.LaunchTemplate(
            f"{name}-{pool.name}",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # One hop keeps pods off the node's credentials; they get their own through IRSA.
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=pool.disk_size_gb,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                for kind in ("instance", "volume")
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )


def kubeconfig(
    *,
    cluster_name: str,
    endpoint: str,
    certificate_authority: str,
    region: str,
    role_arn: str | None = None,
) -> dict[str, Any]:
    """A kubeconfig that authenticates with ``aws eks get-token``, so it holds no credential."""
    get_token = ["eks", "get-token", "--cluster-name", cluster_name, "--region", region]
    if role_arn is not None:
        get_token += ["--role-arn", role_arn]
    return exec_kubeconfig(
        name=cluster_name,
        server=endpoint,
        certificate_authority=certificate_authority,
        exec_plugin={"command": "aws", "args": get_token},
    )


def _kubeconfig_json(args: ClusterArgs, values: Sequence[str]) -> str:
    cluster_name, endpoint, certificate_authority = values
    return json.dumps(
        kubeconfig(
            cluster_name=cluster_name,
            endpoint=endpoint,
            certificate_authority=certificate_authority,
            region=args.region,
            role_arn=args.admin_role_arn,
        )
    )


def _pull_policy(partition: str, region: str, repositories: Sequence[EcrRepository]) -> str:
    """Pulling from exactly ``repositories``, and from the region's EKS add-on registry."""
    addons = EKS_ADDON_REGISTRY_ACCOUNTS.get(region, EKS_ADDON_REGISTRY_DEFAULT)
    arns = [f"arn:{partition}:ecr:{repo.region}:{repo.account_id}:repository/{repo.name}" for repo in repositories]
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            # A pull token names no repository: this is the only action that needs "*".
            {"Sid": "PullToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "PullLinkedRepositories", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS), "Resource": arns},
            {"Sid": "PullEksAddons", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS),
             "Resource": f"arn:{partition}:ecr:{region}:{addons}:repository/*"},
        ],
    })


def _managed_policy(partition: pulumi.Output[str], policy: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy)


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
