"""The aws-dev environment written by hand as one flat Pulumi program: the baseline of ``plan_bench``.

It registers the same custom resources, under the same logical names and with
the same inputs, as ``terrane plan aws-dev`` (the components' own
ComponentResources aside), using nothing but ``pulumi_aws`` and
``pulumi_kubernetes``: no terrane components, no spec, no YAML. Timing it tells
what the same plan costs a user who writes Pulumi by hand, so terrane's own
overhead is the difference. Values mirror ``environments/aws-dev.yaml`` and
``accounts.yaml`` literally, as a hand-written program would; inputs are kept
equal to terrane's, down to empty ``tags``, so ``plan_bench`` can check that the
two stay the same plan while the components evolve.

Run as a script, it renders itself once offline and prints its resource count
(``--json``: the registrations and stack outputs, for that check; see ``_baseline``).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

ENV = "aws-dev"
ACCOUNT = "aws-sandbox"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ADMIN_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/terrane-provisioner"
# The provisioner may only manage roles under this path.
IAM_PATH = "/terrane/"
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/terrane/terrane-boundary"
PULL_REPOSITORIES = [f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/platform/{name}" for name in ("web", "worker")]
EKS_ADDON_REGISTRY = f"arn:aws:ecr:{REGION}:602401143452:repository/*"
PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
DEFAULT_TAGS = {"team": "platform", "cost-center": "1234", "terrane:environment": ENV, "managed-by": "terrane"}

VPC_CIDR = "10.20.0.0/16"
PRIVATE_CIDRS = ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]
PUBLIC_CIDRS = ["10.20.192.0/20", "10.20.208.0/20", "10.20.224.0/20"]
# name, instance type, min, max
NODE_POOLS = [("system", "m6i.xlarge", 2, 4), ("batch", "m6i.2xlarge", 0, 10)]
SECRET_NAMES = ["db-password", "api-token"]
NAMESPACES = ["apps", "observability"]
SECRETS_READER = "secrets-reader"


def program() -> None:
    """Register the aws-dev environment; run it under the Automation API or ``terrane.engine.offline.render``."""
    provider = aws.Provider(
        ACCOUNT,
        region=REGION,
        allowed_account_ids=[ACCOUNT_ID],
        assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=ADMIN_ROLE_ARN, session_name="terrane")],
        default_tags=aws.ProviderDefaultTagsArgs(tags=DEFAULT_TAGS),
    )
    opts = pulumi.ResourceOptions(provider=provider)
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    account_id = aws.get_caller_identity_output(opts=invoke).account_id
    region = aws.get_region_output(opts=invoke).region
    partition = aws.get_partition_output(opts=invoke).partition
    zones = aws.get_availability_zones_output(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=invoke,
    ).names

    # Network
    vpc = aws.ec2.Vpc(
        f"{ENV}-vpc",
        cidr_block=VPC_CIDR,
        enable_dns_support=True,
        enable_dns_hostnames=True,
        tags={"Name": f"{ENV}-vpc"},
        opts=opts,
    )
    aws.ec2.DefaultSecurityGroup(
        f"{ENV}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags={"Name": f"{ENV}-default-sg"}, opts=opts
    )
    igw = aws.ec2.InternetGateway(f"{ENV}-igw", vpc_id=vpc.id, tags={"Name": f"{ENV}-igw"}, opts=opts)
    public_table = aws.ec2.RouteTable(f"{ENV}-public", vpc_id=vpc.id, tags={"Name": f"{ENV}-public"}, opts=opts)
    aws.ec2.Route(
        f"{ENV}-public-default",
        route_table_id=public_table.id,
        destination_cidr_block="0.0.0.0/0",
        gateway_id=igw.id,
        opts=opts,
    )
    cluster_tag = {f"kubernetes.io/cluster/{ENV}": "shared"}
    public_subnets: list[aws.ec2.Subnet] = []
    private_subnets: list[aws.ec2.Subnet] = []
    private_routes: list[aws.ec2.Route] = []
    for index, (public_cidr, private_cidr) in enumerate(zip(PUBLIC_CIDRS, PRIVATE_CIDRS, strict=True)):
        zone = zones[index]
        public = aws.ec2.Subnet(
            f"{ENV}-public-{index}",
            vpc_id=vpc.id,
            cidr_block=public_cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={**cluster_tag, "kubernetes.io/role/elb": "1", "Name": f"{ENV}-public-{index}"},
            opts=opts,
        )
        private = aws.ec2.Subnet(
            f"{ENV}-private-{index}",
            vpc_id=vpc.id,
            cidr_block=private_cidr,
            availability_zone=zone,
            tags={**cluster_tag, "kubernetes.io/role/internal-elb": "1", "Name": f"{ENV}-private-{index}"},
            opts=opts,
        )
        public_subnets.append(public)
        private_subnets.append(private)
        aws.ec2.RouteTableAssociation(
            f"{ENV}-public-{index}", subnet_id=public.id, route_table_id=public_table.id, opts=opts
        )
        eip = aws.ec2.Eip(f"{ENV}-nat-{index}", domain="vpc", tags={"Name": f"{ENV}-nat-{index}"}, opts=opts)
        nat = aws.ec2.NatGateway(
            f"{ENV}-nat-{index}",
            allocation_id=eip.id,
            subnet_id=public.id,
            tags={"Name": f"{ENV}-nat-{index}"},
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[igw]),
        )
        table = aws.ec2.RouteTable(
            f"{ENV}-private-{index}", vpc_id=vpc.id, tags={"Name": f"{ENV}-private-{index}"}, opts=opts
        )
        private_routes.append(
            aws.ec2.Route(
                f"{ENV}-private-{index}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=opts,
            )
        )
        aws.ec2.RouteTableAssociation(
            f"{ENV}-private-{index}", subnet_id=private.id, route_table_id=table.id, opts=opts
        )
    private_subnet_ids = pulumi.Output.all(*[subnet.id for subnet in private_subnets])

    flow_tags = {"Name": f"{ENV}-flow-logs"}
    flow_key = aws.kms.Key(
        f"{ENV}-flow-logs",
        description=f"Encrypts the VPC flow logs of {ENV}",
        enable_key_rotation=True,
        policy=pulumi.Output.all(partition, region, account_id).apply(lambda a: _log_key_policy(*a)),
        tags=flow_tags,
        opts=opts,
    )
    log_group = aws.cloudwatch.LogGroup(
        f"{ENV}-flow-logs", kms_key_id=flow_key.arn, retention_in_days=365, tags=flow_tags, opts=opts
    )
    flow_role = aws.iam.Role(
        f"{ENV}-flow-logs",
        path=IAM_PATH,
        permissions_boundary=BOUNDARY,
        assume_role_policy=pulumi.Output.all(partition, region, account_id).apply(lambda a: _flow_log_trust(*a)),
        tags=flow_tags,
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{ENV}-flow-logs",
        role=flow_role.id,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogStreams",
                        ],
                        "Resource": [log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
                    },
                    {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
                ],
            }
        ),
        opts=opts,
    )
    aws.ec2.FlowLog(
        f"{ENV}-flow-logs",
        vpc_id=vpc.id,
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=log_group.arn,
        iam_role_arn=flow_role.arn,
        tags=flow_tags,
        opts=opts,
    )

    # EKS cluster
    cluster_role = aws.iam.Role(
        f"{ENV}-cluster", path=IAM_PATH, permissions_boundary=BOUNDARY, assume_role_policy=_trust("eks.amazonaws.com"),
        tags={}, opts=opts
    )
    cluster_policy = aws.iam.RolePolicyAttachment(
        f"{ENV}-cluster",
        role=cluster_role.name,
        policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/AmazonEKSClusterPolicy"),
        opts=opts,
    )
    cluster_key = aws.kms.Key(
        f"{ENV}-secrets",
        description=f"Encrypts the Kubernetes secrets of EKS cluster {ENV}",
        enable_key_rotation=True,
        tags={},
        opts=opts,
    )
    cluster = aws.eks.Cluster(
        f"{ENV}-eks",
        name=ENV,
        version="1.31",
        role_arn=cluster_role.arn,
        vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=private_subnet_ids, endpoint_private_access=True, endpoint_public_access=False
        ),
        encryption_config=aws.eks.ClusterEncryptionConfigArgs(
            resources=["secrets"],
            provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=cluster_key.arn),
        ),
        enabled_cluster_log_types=["api", "audit", "authenticator", "controllerManager", "scheduler"],
        access_config=aws.eks.ClusterAccessConfigArgs(
            authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
        ),
        kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(service_ipv4_cidr="172.20.0.0/16"),
        deletion_protection=True,
        tags={},
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[cluster_policy]),
    )
    issuer_url = cluster.identities.apply(lambda identities: identities[0].oidcs[0].issuer)
    oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))
    oidc = aws.iam.OpenIdConnectProvider(
        f"{ENV}-oidc", url=issuer_url, client_id_lists=["sts.amazonaws.com"], tags={}, opts=opts
    )
    aws.eks.Addon(
        f"{ENV}-vpc-cni",
        cluster_name=cluster.name,
        addon_name="vpc-cni",
        configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags={},
        opts=opts,
    )
    entry = aws.eks.AccessEntry(
        f"{ENV}-admin", cluster_name=cluster.name, principal_arn=ADMIN_ROLE_ARN, type="STANDARD", tags={}, opts=opts
    )
    aws.eks.AccessPolicyAssociation(
        f"{ENV}-admin",
        cluster_name=cluster.name,
        principal_arn=entry.principal_arn,
        policy_arn=pulumi.Output.concat(
            "arn:", partition, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        ),
        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
        opts=opts,
    )
    node_role = aws.iam.Role(
        f"{ENV}-node", path=IAM_PATH, permissions_boundary=BOUNDARY, assume_role_policy=_trust("ec2.amazonaws.com"),
        tags={}, opts=opts
    )
    node_policies: list[pulumi.Resource] = [
        aws.iam.RolePolicyAttachment(
            f"{ENV}-node-{policy}",
            role=node_role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy),
            opts=opts,
        )
        for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy")
    ]
    # The cluster names the registry aws-images: its nodes pull from those repositories (and EKS's add-ons) only.
    node_policies.append(aws.iam.RolePolicy(
        f"{ENV}-node-pull",
        role=node_role.id,
        policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "PullToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Sid": "PullLinkedRepositories", "Effect": "Allow", "Action": PULL_ACTIONS,
                 "Resource": PULL_REPOSITORIES},
                {"Sid": "PullEksAddons", "Effect": "Allow", "Action": PULL_ACTIONS, "Resource": EKS_ADDON_REGISTRY},
            ],
        }),
        opts=opts,
    ))
    for pool, instance_type, min_size, max_size in NODE_POOLS:
        template = aws.ec2.LaunchTemplate(
            f"{ENV}-{pool}",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=50, volume_type="gp3", encrypted="true", delete_on_termination="true"
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags={})
                for kind in ("instance", "volume")
            ],
            tags={},
            opts=opts,
        )
        aws.eks.NodeGroup(
            f"{ENV}-{pool}",
            cluster_name=cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=private_subnet_ids,
            instance_types=[instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=min(max(min_size, 1), max_size), min_size=min_size, max_size=max_size
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            tags={},
            opts=pulumi.ResourceOptions(
                provider=provider,
                # Nodes pull images through the NAT routes.
                depends_on=[*node_policies, *private_routes],
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
    ca_data = cluster.certificate_authority.apply(lambda authority: authority.data)
    kubeconfig = pulumi.Output.secret(
        pulumi.Output.all(cluster.name, cluster.endpoint, ca_data).apply(lambda v: json.dumps(_kubeconfig(*v)))
    )

    # Secrets
    secrets_key = aws.kms.Key(
        f"{ENV}-key",
        description=f"Encrypts the secrets under {ENV}/",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags={},
        opts=opts,
    )
    aws.kms.Alias(f"{ENV}-key", name=f"alias/terrane/{ENV}", target_key_id=secrets_key.key_id, opts=opts)
    secrets = {
        name: aws.secretsmanager.Secret(
            f"{ENV}-{name}",
            name=f"{ENV}/{name}",
            kms_key_id=secrets_key.arn,
            recovery_window_in_days=7,
            tags={},
            opts=opts,
        )
        for name in SECRET_NAMES
    }
    subjects = [f"system:serviceaccount:{namespace}:{SECRETS_READER}" for namespace in NAMESPACES]
    reader = aws.iam.Role(
        f"{ENV}-reader",
        path=IAM_PATH,
        permissions_boundary=BOUNDARY,
        assume_role_policy=pulumi.Output.all(oidc.arn, oidc_issuer).apply(
            lambda v: _web_identity_trust(v[0], v[1], subjects)
        ),
        tags={},
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{ENV}-reader",
        role=reader.id,
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                        "Resource": [secret.arn for secret in secrets.values()],
                    },
                    {
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": secrets_key.arn,
                        "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
                    },
                ],
            }
        ),
        opts=opts,
    )

    # Kubernetes bootstrap
    k8s_provider = k8s.Provider(f"{ENV}-k8s", kubeconfig=kubeconfig, cluster_identifier=cluster.arn)
    k8s_opts = pulumi.ResourceOptions(provider=k8s_provider)
    restricted = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    forced = {"pulumi.com/patchForce": "true"}
    namespace_names = []
    for namespace in NAMESPACES:
        created = k8s.core.v1.Namespace(
            f"{ENV}-{namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=restricted, annotations=forced),
            opts=k8s_opts,
        )
        in_namespace = created.metadata.name
        namespace_names.append(in_namespace)
        k8s.networking.v1.NetworkPolicy(
            f"{ENV}-{namespace}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=in_namespace, labels={}, annotations=forced),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"], ingress=[], egress=[]
            ),
            opts=k8s_opts,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{ENV}-{namespace}-allow-dns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns", namespace=in_namespace, labels={}, annotations=forced),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                )
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=53)
                            for protocol in ("UDP", "TCP")
                        ],
                    )
                ],
            ),
            opts=k8s_opts,
        )
        k8s.core.v1.ServiceAccount(
            f"{ENV}-{namespace}-{SECRETS_READER}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRETS_READER,
                namespace=in_namespace,
                annotations={"eks.amazonaws.com/role-arn": reader.arn, **forced},
                labels={},
            ),
            automount_service_account_token=False,
            opts=k8s_opts,
        )

    pulumi.export("region", REGION)
    pulumi.export("vpc_id", vpc.id)
    pulumi.export("private_subnet_ids", private_subnet_ids)
    pulumi.export("public_subnet_ids", pulumi.Output.all(*[subnet.id for subnet in public_subnets]))
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("oidc_provider_arn", oidc.arn)
    pulumi.export("kubeconfig", kubeconfig)
    pulumi.export("secrets_key_arn", secrets_key.arn)
    pulumi.export("secret_arns", {name: secret.arn for name, secret in secrets.items()})
    pulumi.export("secrets_reader_role_arn", reader.arn)
    pulumi.export("namespaces", pulumi.Output.all(*namespace_names))


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def _log_key_policy(partition: str, region: str, account_id: str) -> str:
    log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "LogsEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                },
            ],
        }
    )


def _flow_log_trust(partition: str, region: str, account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"},
                    },
                }
            ],
        }
    )


def _web_identity_trust(provider_arn: str, issuer: str, subjects: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": subjects}
                    },
                }
            ],
        }
    )


def _kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str) -> dict[str, Any]:
    get_token = ["eks", "get-token", "--cluster-name", cluster_name, "--region", REGION, "--role-arn", ADMIN_ROLE_ARN]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": get_token,
                    }
                },
            }
        ],
    }


if __name__ == "__main__":
    from _baseline import main

    main(program, stack=ENV, account_id=ACCOUNT_ID, region=REGION)
