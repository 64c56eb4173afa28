"""The CloudFormation template that prepares an AWS account for terrane.

``terrane accounts bootstrap aws`` prints it; an administrator of the target
account creates the stack once, in any region (IAM is global). It creates three
roles, each assumable only by the trusted principal and only with the external
id (which guards against the confused deputy problem):

- ``terrane-provisioner``: what ``up``, ``destroy`` and ``refresh`` run as. Its
  customer-managed policy allows only what the AWS components create: the
  network, the EKS cluster and its node groups, KMS keys, Secrets Manager secrets
  and log groups. Its IAM rights reach only roles under the path ``/terrane/``
  (every role the components create lives there), the EKS OIDC providers and
  the EKS service-linked roles, so it cannot change its own role or any other
  role of the account. It cannot read secret values either: it has neither
  ``secretsmanager:GetSecretValue`` nor ``kms:Decrypt``.
- ``terrane-drift``: the AWS managed ``ReadOnlyAccess``, for drift checks.
  ReadOnlyAccess does not include ``secretsmanager:GetSecretValue``, so drift
  checks see a secret's metadata but never its value.
- ``terrane-registry-reader``: ``AmazonEC2ContainerRegistryReadOnly``, for
  pulling images.

Resource ARNs leave the region as ``*`` on purpose: the stack lives in one
region, but an account's environments may run in any.

A caveat: a principal that can create roles and give them inline policies can
grant those roles more than it has itself. The path confines which roles it
may touch, not what they may do; a permissions boundary on the ``/terrane/``
roles would close that gap.

    >>> body = template("arn:aws:iam::111122223333:role/ci", new_external_id())
    >>> print(render(body, "yaml"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from terrane.components.aws_iam import CLUSTER_POLICY, IAM_PATH, NODE_POLICIES
from terrane.engine.errors import InvalidInputError

ROLE_NAMES = {
    "provisioner": "terrane-provisioner",
    "drift": "terrane-drift",
    "registry": "terrane-registry-reader",
}
EXTERNAL_ID_ENV = "TERRANE_AWS_EXTERNAL_ID"
"""The environment variable the usage notes suggest for the external id."""

# Role, user or account root, in any partition; or a bare account id.
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)|\d{12}", re.ASCII)
# What sts:AssumeRole accepts as an external id.
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)

def template(trusted_principal: str, external_id: str) -> dict[str, Any]:
    """The bootstrap template for ``trusted_principal`` (an IAM ARN or an account id) and ``external_id``."""
    if not _PRINCIPAL.fullmatch(trusted_principal):
        raise InvalidInputError(
            f"--trusted-principal: {trusted_principal!r} is not an IAM role, user or account root ARN "
            "(arn:aws:iam::123456789012:role/NAME) or a 12-digit account id"
        )
    if not EXTERNAL_ID.fullmatch(external_id):
        # The value is not echoed: it is treated as a secret everywhere else.
        raise InvalidInputError(
            f"--external-id: expected 2 to 1224 characters of letters, digits and _+=,.@:/- "
            f"(got {len(external_id)} characters); omit it to have one generated"
        )

    def role(logical: str, name: str, description: str, managed_policies: list[Any]) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "RoleName": name,
            "Description": description,
            "AssumeRolePolicyDocument": _trust(trusted_principal, external_id),
            "MaxSessionDuration": 3600,
            "Tags": [{"Key": "managed-by", "Value": "terrane"}],
        }
        if managed_policies:
            properties["ManagedPolicyArns"] = managed_policies
        return {logical: {"Type": "AWS::IAM::Role", "Properties": properties}}

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "terrane account bootstrap: the provisioner, drift and registry reader roles "
            "terrane assumes in this account, trusted only by one principal with an external id."
        ),
        "Metadata": {
            "terrane": {
                "Usage": [
                    (
                        "Create this stack once per account, in any region (IAM is global), "
                        "with the CAPABILITY_NAMED_IAM capability, e.g. aws cloudformation deploy "
                        "--template-file terrane-bootstrap.yaml --stack-name terrane-bootstrap "
                        "--capabilities CAPABILITY_NAMED_IAM"
                    ),
                    (
                        f"Then link the account: export {EXTERNAL_ID_ENV}=<the external id> and run "
                        "terrane accounts link aws NAME --account-id ID --role-arn <ProvisionerRoleArn output> "
                        f"--external-id env:{EXTERNAL_ID_ENV}"
                    ),
                ],
                "RolePath": IAM_PATH,
                "Notes": (
                    f"The provisioner manages only IAM roles under the path {IAM_PATH}. "
                    "The drift role's ReadOnlyAccess does not include secretsmanager:GetSecretValue."
                ),
            }
        },
        "Resources": {
            **role(
                "ProvisionerRole",
                ROLE_NAMES["provisioner"],
                "terrane provisions environments (network, EKS, secrets) with this role",
                [],
            ),
            "ProvisionerPolicy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": ROLE_NAMES["provisioner"],
                    "Description": "What terrane's AWS components create, update, read and delete",
                    "Roles": [{"Ref": "ProvisionerRole"}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": _provisioner_statements()},
                },
            },
            **role(
                "DriftRole",
                ROLE_NAMES["drift"],
                "terrane reads environments with this role to detect drift",
                [_sub("arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess")],
            ),
            **role(
                "RegistryReaderRole",
                ROLE_NAMES["registry"],
                "terrane pulls container images from ECR with this role",
                [_sub("arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")],
            ),
        },
        # The external id is deliberately not an output: outputs are readable by
        # anyone who may describe the stack.
        "Outputs": {
            "ProvisionerRoleArn": {
                "Description": "--role-arn of terrane accounts link",
                "Value": {"Fn::GetAtt": ["ProvisionerRole", "Arn"]},
            },
            "DriftRoleArn": {
                "Description": "Role for drift checks (read-only)",
                "Value": {"Fn::GetAtt": ["DriftRole", "Arn"]},
            },
            "RegistryReaderRoleArn": {
                "Description": "Role for pulling images from ECR",
                "Value": {"Fn::GetAtt": ["RegistryReaderRole", "Arn"]},
            },
        },
    }


def render(template: dict[str, Any], fmt: Literal["yaml", "json"]) -> str:
    """The template as YAML or JSON text; intrinsic functions use their long form, valid in both."""
    if fmt == "yaml":
        return yaml.dump(template, Dumper=_NoAliasDumper, sort_keys=False, default_flow_style=False, width=1000)
    if fmt == "json":
        return json.dumps(template, indent=2) + "\n"
    raise InvalidInputError(f"--format: expected yaml or json, got {fmt!r}")


def new_external_id() -> str:
    """A random, unguessable external id: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


class _NoAliasDumper(yaml.SafeDumper):
    """A safe dumper that repeats shared values instead of writing YAML anchors, which CloudFormation rejects."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _trust(trusted_principal: str, external_id: str) -> dict[str, Any]:
    principal: Any = trusted_principal
    if trusted_principal.isdigit():
        # A bare account id means the account's root, i.e. any principal the account lets assume roles.
        principal = _sub(f"arn:${{AWS::Partition}}:iam::{trusted_principal}:root")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


# --- the provisioner's policy --------------------------------------------------------------------
#
# One grant per statement. Resources are ARN patterns (``Fn::Sub`` fills in the
# partition and account) or "*"; a grant's comment says why it is as wide as it is.


@dataclass(frozen=True)
class _Condition:
    operator: str
    key: str
    values: str | tuple[str, ...]


@dataclass(frozen=True)
class _Grant:
    sid: str
    actions: tuple[str, ...]
    resources: str | tuple[str, ...]
    condition: _Condition | None = None


_ANY = "*"
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
_SERVICE_LINKED = tuple(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/aws-service-role/{service}/{role}"
                        for service, role in _SERVICE_LINKED_ROLES.items())

_PROVISIONER = (
    # Availability zones, regions and every EC2 read the provider does on refresh.
    _Grant("Discovery", ("sts:GetCallerIdentity", "ec2:Describe*"), _ANY),
    _Grant(
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
    _Grant(
        "Eks",
        (
            "eks:CreateCluster", "eks:DeleteCluster", "eks:DescribeCluster",
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
    _Grant(
        "IamTerraneRoles",
        (
            "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole",
            "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
            "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
            "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
            "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
        ),
        _TERRANE_ROLES,
    ),
    # Only the AWS managed policies the components attach, never AdministratorAccess and the like.
    _Grant("IamAttachAwsManagedPolicies", ("iam:AttachRolePolicy",), _TERRANE_ROLES,
           _Condition("ArnEquals", "iam:PolicyARN", _ATTACHABLE)),
    _Grant("IamPassTerraneRoles", ("iam:PassRole",), _TERRANE_ROLES,
           _Condition("StringEquals", "iam:PassedToService", _PASSED_TO)),
    _Grant(
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
    _Grant("IamEksServiceLinkedRoles", ("iam:CreateServiceLinkedRole",), _SERVICE_LINKED,
           _Condition("StringEquals", "iam:AWSServiceName", tuple(_SERVICE_LINKED_ROLES))),
    # A key's ARN is only known once it exists.
    _Grant("KmsCreateKeysAndListAliases", ("kms:CreateKey", "kms:ListAliases"), _ANY),
    _Grant(
        "KmsManageKeys",
        (
            "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:UpdateKeyDescription",
            "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
        ),
        _KEYS,
    ),
    # EKS takes a grant on the key that encrypts the cluster's Kubernetes secrets.
    _Grant("KmsGrantsForEks", ("kms:CreateGrant",), _KEYS, _Condition("Bool", "kms:GrantIsForAWSResource", "true")),
    # An alias operation is authorized on both the alias and its key.
    _Grant("KmsTerraneAliases", ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
           ("arn:${AWS::Partition}:kms:*:${AWS::AccountId}:alias/terrane/*", *_KEYS)),
    _Grant(
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
    _Grant(
        "LogGroups",
        (
            "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups",
            "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
            "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
            "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup",
        ),
        ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*",),
    ),
)


def _provisioner_statements() -> list[dict[str, Any]]:
    return [_statement(grant) for grant in _PROVISIONER]


def _statement(grant: _Grant) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": grant.sid, "Effect": "Allow", "Action": list(grant.actions),
                                 "Resource": _values(grant.resources)}
    if grant.condition:
        condition = grant.condition
        statement["Condition"] = {condition.operator: {condition.key: _values(condition.values)}}
    return statement


def _values(values: str | tuple[str, ...]) -> Any:
    """One value or a list, each pattern with ``${...}`` as an ``Fn::Sub``."""
    if isinstance(values, str):
        return _sub(values) if "${" in values else values
    return [_values(value) for value in values]
