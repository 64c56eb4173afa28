"""The policies of the AWS bootstrap (``bootstrap``): the provisioner's, its guardrails, and the permissions
boundary of every role terrane creates.

One grant per statement. Resources are ARN patterns (``Fn::Sub`` fills in the
partition, the account and the template's own resources) or "*"; a grant's
comment says why it is as wide as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from terrane.components.aws_iam import CLUSTER_POLICY, ECR_PULL_ACTIONS, IAM_PATH, NODE_POLICIES

BOUNDARY_NAME = "terrane-boundary"
BOUNDARY_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy" + IAM_PATH + BOUNDARY_NAME
"""The permissions boundary's ARN, as an ``Fn::Sub`` pattern."""

@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: str | tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: str | tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    effect: Literal["Allow", "Deny"] = "Allow"


ANY = "*"
# Services the components hand their roles to: EKS (cluster and node roles),
# EC2 (node instances) and VPC flow logs.
_PASSED_TO = ("eks.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com")
_SERVICE_LINKED_ROLES = {
    "eks.amazonaws.com": "AWSServiceRoleForAmazonEKS",
    "eks-nodegroup.amazonaws.com": "AWSServiceRoleForAmazonEKSNodegroup",
}
_TERRANE_ROLES = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role" + IAM_PATH + "*",)
_KEYS = ("arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*",)
_ATTACHABLE = tuple(f"arn:${{AWS::Partition}}:iam::aws:policy/{name}" for name in (CLUSTER_POLICY, *NODE_POLICIES))
_SERVICE_ROLES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role"
_SERVICE_LINKED = tuple(f"{_SERVICE_ROLES}/{service}/{role}" for service, role in _SERVICE_LINKED_ROLES.items())
_WITH_BOUNDARY = Condition("StringEquals", "iam:PermissionsBoundary", BOUNDARY_ARN)
_STATE_KEY = "${StateKey.Arn}"
STATE_BUCKET = "arn:${AWS::Partition}:s3:::${StateBucket}"
STATE_OBJECTS = STATE_BUCKET + "/*"
_STATE_STORE = (_STATE_KEY, STATE_BUCKET, STATE_OBJECTS)
# Pulling an image, and reading what a repository holds.
ECR_PULL = (*ECR_PULL_ACTIONS, "ecr:DescribeImages", "ecr:ListImages", "ecr:DescribeRepositories")

PROVISIONER = (
    # Actions without a resource type (service authorization reference), which take "*" or nothing.
    Grant(
        "Unscoped",
        (
            # Availability zones, regions and every EC2 read the provider does on refresh.
            "sts:GetCallerIdentity", "ec2:Describe*", "logs:DescribeLogGroups",
            # A cluster's or a key's ARN exists only once it is created.
            "eks:CreateCluster", "kms:CreateKey", "kms:ListAliases",
        ),
        ANY,
    ),
    Grant(
        "Ec2Network",
        (
            "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute",
            "ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
            "ec2:CreateInternetGateway", "ec2:DeleteInternetGateway",
            "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
            "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DisassociateAddress",
            "ec2:CreateNatGateway", "ec2:DeleteNatGateway",
            "ec2:CreateRouteTable", "ec2:DeleteRouteTable",
            "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute",
            "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation",
            # The default security group is emptied, never opened.
            "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
            "ec2:CreateFlowLogs", "ec2:DeleteFlowLogs",
            "ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate",
            "ec2:DeleteLaunchTemplate", "ec2:DeleteLaunchTemplateVersions",
            "ec2:CreateTags", "ec2:DeleteTags",
        ),
        ("arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:*",),
    ),
    Grant(
        "Eks",
        (
            "eks:DeleteCluster", "eks:DescribeCluster",
            "eks:UpdateClusterConfig", "eks:UpdateClusterVersion", "eks:DescribeUpdate",
            "eks:CreateNodegroup", "eks:DeleteNodegroup", "eks:DescribeNodegroup",
            "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion",
            "eks:CreateAddon", "eks:DeleteAddon", "eks:DescribeAddon", "eks:UpdateAddon",
            "eks:CreateAccessEntry", "eks:DeleteAccessEntry", "eks:DescribeAccessEntry", "eks:UpdateAccessEntry",
            "eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy", "eks:ListAssociatedAccessPolicies",
            "eks:TagResource", "eks:UntagResource", "eks:ListTagsForResource",
        ),
        (
            "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*",
            "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:nodegroup/*",
            "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:addon/*",
            "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:access-entry/*",
        ),
    ),
    # These IAM actions do not support the iam:PermissionsBoundary condition key (service authorization
    # reference): they keep the path scope alone. They read, tag, describe or delete a role, or change who may
    # assume it; none widens what a role may do.
    Grant(
        "IamTerraneRoles",
        (
            "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole",
            "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
            "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
            "iam:GetRolePolicy", "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
        ),
        _TERRANE_ROLES,
    ),
    # What gives a role its permissions needs the role to carry the boundary (these actions support the key).
    Grant(
        "IamTerraneRolesWithinTheBoundary",
        ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
         "iam:PutRolePermissionsBoundary"),
        _TERRANE_ROLES,
        (_WITH_BOUNDARY,),
    ),
    # Only the AWS managed policies the components attach, never AdministratorAccess and the like.
    Grant("IamAttachAwsManagedPolicies", ("iam:AttachRolePolicy",), _TERRANE_ROLES,
           (Condition("ArnEquals", "iam:PolicyARN", _ATTACHABLE), _WITH_BOUNDARY)),
    Grant("IamPassTerraneRoles", ("iam:PassRole",), _TERRANE_ROLES,
           (Condition("StringEquals", "iam:PassedToService", _PASSED_TO),)),
    Grant(
        "IamEksOidcProviders",
        (
            "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint",
            "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
        ),
        ("arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/oidc.eks.*.amazonaws.com/id/*",),
    ),
    # EKS creates these on first use of a cluster and of a managed node group.
    Grant("IamEksServiceLinkedRoles", ("iam:CreateServiceLinkedRole",), _SERVICE_LINKED,
           (Condition("StringEquals", "iam:AWSServiceName", tuple(_SERVICE_LINKED_ROLES)),)),
    Grant(
        "KmsManageKeys",
        (
            "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:UpdateKeyDescription",
            "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
        ),
        _KEYS,
    ),
    # EKS takes a grant on the key that encrypts the cluster's Kubernetes secrets.
    Grant("KmsGrantsForEks", ("kms:CreateGrant",), _KEYS,
           (Condition("Bool", "kms:GrantIsForAWSResource", "true"),)),
    # An alias operation is authorized on both the alias and its key.
    Grant("KmsTerraneAliases", ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
           ("arn:${AWS::Partition}:kms:*:${AWS::AccountId}:alias/terrane/*", *_KEYS)),
    Grant(
        "SecretsManager",
        (
            "secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
            "secretsmanager:DeleteSecret", "secretsmanager:RestoreSecret",
            "secretsmanager:TagResource", "secretsmanager:UntagResource",
            "secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy",
            "secretsmanager:DeleteResourcePolicy",
        ),
        ("arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:*",),
    ),
    Grant(
        "LogGroups",
        (
            "logs:CreateLogGroup", "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
            "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
            "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup",
        ),
        ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*",),
    ),
)

# What the provisioner may never do, whatever else allows it: an inline policy of its role (which it cannot
# edit), beside the managed policy, whose 6,144 characters the grants nearly fill.
GUARDRAILS = (
    Grant("DenyRemovingBoundaries", ("iam:DeleteRolePermissionsBoundary",), ANY, effect="Deny"),
    Grant("DenyChangingTheBoundary",
           ("iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"),
           (BOUNDARY_ARN,), effect="Deny"),
    # A role's trust policy may name the provisioner, and in one account that alone would let it in: it never
    # needs to act as one of the roles it creates.
    Grant("DenyAssumingTerraneRoles", ("sts:AssumeRole",), _TERRANE_ROLES, effect="Deny"),
    # KmsManageKeys reaches every key of the account: not the state key (its policy, its deletion, its use).
    Grant("DenyTheStateStore", ("kms:*", "s3:*"), _STATE_STORE, effect="Deny"),
)

# The permissions boundary: the most a role the components create may do. Roles and what they need
# (components/aws/*.py): the EKS cluster role (AmazonEKSClusterPolicy), the node role
# (AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly), the VPC flow-log
# role (log writes) and the secret readers (IRSA: read a secret, decrypt its key).
BOUNDARY = (
    # Cluster, nodes and CNI: the EC2 and load-balancer reads of the cloud controller, kubelet and CNI; and the
    # flow-log role's DescribeLogGroups. None of these has a resource type (or most Describe* do not).
    Grant("Reads", ("ec2:Describe*", "elasticloadbalancing:Describe*", "autoscaling:DescribeAutoScalingGroups",
                     "logs:DescribeLogGroups"), ANY),
    Grant(
        "ClusterAndNodeEc2",
        (
            # AmazonEKSClusterPolicy: load balancers' security groups, node routes, in-tree EBS volumes.
            "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
            "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
            "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ModifyInstanceAttribute",
            "ec2:CreateVolume", "ec2:DeleteVolume", "ec2:AttachVolume", "ec2:DetachVolume", "ec2:ModifyVolume",
            "ec2:CreateTags",
            # AmazonEKS_CNI_Policy: pod networking on the nodes' network interfaces.
            "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
            "ec2:AttachNetworkInterface", "ec2:DetachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute",
            "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
        ),
        ("arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:*",),
    ),
    Grant(
        "ClusterLoadBalancers",
        (
            # AmazonEKSClusterPolicy: Services of type LoadBalancer.
            "elasticloadbalancing:AddTags", "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
            "elasticloadbalancing:AttachLoadBalancerToSubnets", "elasticloadbalancing:DetachLoadBalancerFromSubnets",
            "elasticloadbalancing:ConfigureHealthCheck",
            "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:CreateLoadBalancerListeners", "elasticloadbalancing:DeleteLoadBalancerListeners",
            "elasticloadbalancing:CreateLoadBalancerPolicy",
            "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
            "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
            "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
            "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
            "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
        ),
        ("arn:${AWS::Partition}:elasticloadbalancing:*:${AWS::AccountId}:*",),
    ),
    # AmazonEKSClusterPolicy: the node groups' scaling.
    Grant("ClusterAutoScaling", ("autoscaling:UpdateAutoScalingGroup",),
           ("arn:${AWS::Partition}:autoscaling:*:${AWS::AccountId}:autoScalingGroup:*",)),
    # The only IAM action: AmazonEKSClusterPolicy creates the load balancers' service-linked role, and only that.
    Grant("ClusterLoadBalancerServiceLinkedRole", ("iam:CreateServiceLinkedRole",),
           (_SERVICE_ROLES + "/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",),
           (Condition("StringEquals", "iam:AWSServiceName", "elasticloadbalancing.amazonaws.com"),)),
    # Nodes (AmazonEKSWorkerNodePolicy): find their cluster, and EKS Pod Identity.
    Grant("Nodes", ("eks:DescribeCluster", "eks-auth:AssumeRoleForPodIdentity"),
           ("arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*",)),
    # Nodes (AmazonEC2ContainerRegistryReadOnly): pull images, from any account (EKS add-ons' images live in
    # AWS-owned registries). The sign-in token has no resource type.
    Grant("ImageSignIn", ("ecr:GetAuthorizationToken",), ANY),
    Grant("ImagePulls", ECR_PULL, ("arn:${AWS::Partition}:ecr:*:*:repository/*",)),
    # The flow-log role writes the VPC's flow logs.
    Grant("FlowLogs", ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
           ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*",)),
    # Secret readers (IRSA) read the environment's secrets.
    Grant("SecretReaders", ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
           ("arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:*",)),
    # Secret readers decrypt through Secrets Manager; the cluster role describes its secrets key
    # (AmazonEKSClusterPolicy) and EKS encrypts Kubernetes secrets with it.
    Grant("Keys", ("kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:ListGrants"), _KEYS),
    # No role terrane creates may touch the state store, whatever its own policy says.
    Grant("DenyTheStateStore", ("kms:*", "s3:*"), _STATE_STORE, effect="Deny"),
)


def document(grants: Sequence[Grant]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [_statement(grant) for grant in grants]}


def _statement(grant: Grant) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": grant.sid, "Effect": grant.effect, "Action": list(grant.actions),
                                 "Resource": _values(grant.resources)}
    if grant.conditions:
        conditions: dict[str, dict[str, Any]] = {}
        for condition in grant.conditions:
            conditions.setdefault(condition.operator, {})[condition.key] = _values(condition.values)
        statement["Condition"] = conditions
    return statement


def _values(values: str | tuple[str, ...]) -> Any:
    """One value or a list, each pattern with ``${...}`` as an ``Fn::Sub``."""
    if isinstance(values, str):
        return sub(values) if "${" in values else values
    return [_values(value) for value in values]


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}

