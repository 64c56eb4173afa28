"""The CloudFormation template that prepares an AWS account for terrane.

``terrane accounts bootstrap aws`` prints it; an administrator of the target
account creates the stack once, in the region given by ``--region`` (IAM is
global; the state store is not). Its roles are assumable only by the trusted
principal and only with the external id (which guards against the confused
deputy problem):

- ``terrane-provisioner``: what ``up``, ``destroy`` and ``refresh`` run as. Its
  customer-managed policy allows only what the AWS components create: the
  network, the EKS cluster and its node groups, KMS keys, Secrets Manager secrets
  and log groups. Its IAM rights reach only roles under the path ``/terrane/``
  (every role the components create lives there), the EKS OIDC providers and
  the EKS service-linked roles, so it cannot change its own role or any other
  role of the account. It cannot read secret values either: it has neither
  ``secretsmanager:GetSecretValue`` nor ``kms:Decrypt``, and it is denied the
  state store outright.
- ``terrane-drift``: the AWS managed ``ReadOnlyAccess``, for drift checks.
  ReadOnlyAccess does not include ``secretsmanager:GetSecretValue``, so drift
  checks see a secret's metadata but never its value.
- ``terrane-registry-reader``, only when repositories are named: pulls from
  exactly those ECR repositories (``ecr:GetAuthorizationToken`` is its only
  ``Resource: "*"``), and reads its own role's policies so that
  ``accounts verify`` can show it cannot push.

The provisioner cannot escalate through the roles it creates. Every role it
creates, and every policy it puts on or attaches to one, must carry the
permissions boundary ``terrane-boundary`` (``iam:PermissionsBoundary`` on
CreateRole, PutRolePolicy, DeleteRolePolicy, AttachRolePolicy,
DetachRolePolicy and PutRolePermissionsBoundary, the role actions the service
authorization reference lists that key for). The boundary allows only what
the components' roles need, nothing in IAM but the load balancers'
service-linked role, and nothing on the state store. The provisioner may not
remove a boundary (DeleteRolePermissionsBoundary), change or delete the
boundary policy, assume a ``/terrane/`` role itself or touch the state store:
explicit denies, in its role's inline policy ``terrane-provisioner-guardrails``.
IAM actions that do not support the key (TagRole, UpdateAssumeRolePolicy,
GetRole, DeleteRole...) keep only the path scope: they name, tag, read or
delete a role, or change who may assume it, never what it may do. The
boundary caps what a role may do, not who may assume it.

The state store: an S3 bucket (versioned, encrypted with the state key, no
public access, ACLs off, TLS only) for Pulumi's state and a KMS key (alias
``alias/terrane-state``) for its secrets. Both outlive the stack. Pulumi reads
and writes them as whoever runs terrane (the trusted principal), never as the
provisioner, whose credentials exist only inside the AWS provider; they grant
nothing outside the account.

Resource ARNs of the roles' policies leave the region as ``*`` on purpose: the
stack lives in one region, but an account's environments may run in any.

    >>> body = template("arn:aws:iam::111122223333:role/ci", new_external_id(), region="eu-west-1")
    >>> print(render(body, "yaml"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from terrane.components.aws_iam import CLUSTER_POLICY, ECR_PULL_ACTIONS, IAM_PATH, NODE_POLICIES
from terrane.engine.errors import InvalidInputError
from terrane.engine.store.paths import BACKEND_ENV, SECRETS_PROVIDER_ENV
from terrane.stacks.spec import ECR_REPOSITORY, REGION

ROLE_NAMES = {
    "provisioner": "terrane-provisioner",
    "drift": "terrane-drift",
    "registry": "terrane-registry-reader",
}
GUARDRAILS_NAME = "terrane-provisioner-guardrails"
"""The provisioner role's inline policy: what it may never do."""
BOUNDARY_NAME = "terrane-boundary"
BOUNDARY_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy" + IAM_PATH + BOUNDARY_NAME
"""The permissions boundary's ARN, as an ``Fn::Sub`` pattern."""
STATE_KEY_ALIAS = "alias/terrane-state"
STACK_NAME = "terrane-bootstrap"
"""The stack name the usage notes suggest (``accounts link aws --bootstrap-stack`` reads its outputs)."""
EXTERNAL_ID_ENV = "TERRANE_AWS_EXTERNAL_ID"
"""The environment variable the usage notes suggest for the external id."""

# Role, user or account root, in any partition; or a bare account id.
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)|\d{12}", re.ASCII)
# What sts:AssumeRole accepts as an external id.
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
# An AWS region: the rule environments' regions follow (stacks/rules.py), e.g. eu-west-1, us-gov-west-1.
AWS_REGION = re.compile(REGION["aws"], re.ASCII)
# ECR's rule for repository names (CreateRepository's repositoryName), 2 to 256 characters.
_ECR_REPOSITORY = re.compile(ECR_REPOSITORY, re.ASCII)


def template(trusted_principal: str, external_id: str, *, region: str | None = None,
             repositories: Sequence[str] = ()) -> dict[str, Any]:
    """The bootstrap template for ``trusted_principal`` (an IAM ARN or an account id) and ``external_id``.

    ``region``: where the stack must be deployed (a rule of the template refuses
    any other); None leaves it to the deployer. ``repositories``: the ECR
    repositories the registry reader may pull from; none, no registry reader.
    """
    _check_principal(trusted_principal)
    _check_external_id(external_id)
    if region is not None:
        _check_region(region)
    repositories = _checked_repositories(repositories)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "terrane account bootstrap: the roles terrane assumes in this account, trusted only by one principal "
            "with an external id, the permissions boundary of the roles terrane creates, and terrane's state store."
        ),
        "Metadata": {
            "terrane": {
                "Usage": usage(region, repositories=repositories),
                "RolePath": IAM_PATH,
                "Notes": (
                    f"The provisioner manages only IAM roles under the path {IAM_PATH}, and only with the "
                    f"permissions boundary {BOUNDARY_NAME}. The drift role's ReadOnlyAccess does not include "
                    "secretsmanager:GetSecretValue. The state bucket and key are retained when the stack is deleted."
                ),
            }
        },
        **({"Rules": _region_rule(region)} if region is not None else {}),
        "Resources": _resources(_trust(trusted_principal, external_id), repositories),
        # The external id is deliberately not an output: outputs are readable by
        # anyone who may describe the stack.
        "Outputs": _outputs(repositories),
    }


def usage(region: str | None, template_file: str = "terrane-bootstrap.yaml",
          repositories: Sequence[str] = ()) -> list[str]:
    """How to deploy the template and use what it creates: prose lines, each command on a line of its own."""
    where = region or "REGION"
    outputs = f"aws cloudformation describe-stacks --region {where} --stack-name {STACK_NAME}"
    registry = [
        "Link the repositories too, read with the pull-only registry reader (its RegistryReaderRoleArn output):",
        (f"terrane accounts link ecr NAME --account-id ID --region {where} "
         + " ".join(f"--repository {name}" for name in repositories)
         + f" --role-arn arn:aws:iam::ID:role/{ROLE_NAMES['registry']} --external-id env:{EXTERNAL_ID_ENV}"),
    ] if repositories else []
    return [
        (f"Deploy it once per account, in {where} (the IAM roles are global, the state store lives in {where}), "
         "with the CAPABILITY_NAMED_IAM capability:"),
        (f"aws cloudformation deploy --region {where} --template-file {template_file} --stack-name {STACK_NAME} "
         "--capabilities CAPABILITY_NAMED_IAM"),
        "Keep terrane's state and secrets there (the stack's BackendUrl and SecretsProvider outputs):",
        (f"export {BACKEND_ENV}=\"$({outputs} --query \"Stacks[0].Outputs[?OutputKey=='BackendUrl'].OutputValue\" "
         "--output text)\""),
        f"export {SECRETS_PROVIDER_ENV}='awskms://{STATE_KEY_ALIAS}?region={where}'",
        ("Whoever runs terrane (the trusted principal) reads and writes them with its own credentials, not the "
         "provisioner's: it needs s3:ListBucket on the StateBucket, s3:GetObject, s3:PutObject and s3:DeleteObject "
         "on its objects, and kms:Encrypt, kms:Decrypt and kms:GenerateDataKey on the StateKeyArn key. The bucket "
         "and the key give no access outside this account."),
        f"Then link the account, with the external id in {EXTERNAL_ID_ENV}:",
        (f"terrane accounts link aws NAME --account-id ID --bootstrap-stack {STACK_NAME} --region {where} "
         f"--external-id env:{EXTERNAL_ID_ENV}"),
        *registry,
    ]


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


# --- inputs --------------------------------------------------------------------------------------


def _check_principal(trusted_principal: str) -> None:
    if not _PRINCIPAL.fullmatch(trusted_principal):
        raise InvalidInputError(
            f"--trusted-principal: {trusted_principal!r} is not an IAM role, user or account root ARN "
            "(arn:aws:iam::123456789012:role/NAME) or a 12-digit account id"
        )


def _check_external_id(external_id: str) -> None:
    if not EXTERNAL_ID.fullmatch(external_id):
        # The value is not echoed: it is treated as a secret everywhere else.
        raise InvalidInputError(
            f"--external-id: expected 2 to 1224 characters of letters, digits and _+=,.@:/- "
            f"(got {len(external_id)} characters); omit it to have one generated"
        )


def _check_region(region: str) -> None:
    if not AWS_REGION.fullmatch(region):
        raise InvalidInputError(f"--region: {region!r} is not an AWS region (like eu-west-1 or us-gov-west-1)")


def _checked_repositories(repositories: Sequence[str]) -> tuple[str, ...]:
    """The repository names, each once, in the order given."""
    for name in repositories:
        if not _ECR_REPOSITORY.fullmatch(name):
            raise InvalidInputError(
                f"--repository: {name!r} is not an ECR repository name (2 to 256 lowercase letters, "
                "digits and . _ - between them, in /-separated parts, like team/app)"
            )
    return tuple(dict.fromkeys(repositories))


# --- resources -----------------------------------------------------------------------------------


def _region_rule(region: str) -> dict[str, Any]:
    return {
        "StateStoreRegion": {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, region]},
                    "AssertDescription": f"terrane's state store was generated for {region}: deploy it there "
                                         "(or generate the template again with --region)",
                }
            ]
        }
    }


def _resources(trust: dict[str, Any], repositories: Sequence[str]) -> dict[str, Any]:
    return {
        "PermissionsBoundary": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": BOUNDARY_NAME,
                "Path": IAM_PATH,
                "Description": "The most any role terrane creates may do (its permissions boundary)",
                "PolicyDocument": _document(_BOUNDARY),
            },
        },
        **_role("ProvisionerRole", ROLE_NAMES["provisioner"],
                "terrane provisions environments (network, EKS, secrets) with this role", trust,
                Policies=[{"PolicyName": GUARDRAILS_NAME, "PolicyDocument": _document(_GUARDRAILS)}]),
        "ProvisionerPolicy": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": ROLE_NAMES["provisioner"],
                "Description": "What terrane's AWS components create, update, read and delete",
                "Roles": [{"Ref": "ProvisionerRole"}],
                "PolicyDocument": _document(_PROVISIONER),
            },
        },
        **_role("DriftRole", ROLE_NAMES["drift"], "terrane reads environments with this role to detect drift", trust,
                ManagedPolicyArns=[_sub("arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess")]),
        **(_registry_reader(trust, repositories) if repositories else {}),
        **_state_store(),
    }


def _outputs(repositories: Sequence[str]) -> dict[str, Any]:
    registry = {
        "RegistryReaderRoleArn": _output("Role for pulling images from ECR",
                                         {"Fn::GetAtt": ["RegistryReaderRole", "Arn"]}),
        "RegistryRepositories": _output("The ECR repositories the registry reader may pull from",
                                        ",".join(repositories)),
    }
    return {
        "ProvisionerRoleArn": _output("--role-arn of terrane accounts link", {"Fn::GetAtt": ["ProvisionerRole", "Arn"]}),
        "PermissionsBoundaryArn": _output(
            "permissions_boundary of the account in accounts.yaml; terrane accounts link --bootstrap-stack fills it in",
            {"Ref": "PermissionsBoundary"},
        ),
        "DriftRoleArn": _output("Role for drift checks (read-only)", {"Fn::GetAtt": ["DriftRole", "Arn"]}),
        **(registry if repositories else {}),
        "StateBucket": _output("The S3 bucket of terrane's state", {"Ref": "StateBucket"}),
        "StateKeyArn": _output("The KMS key of terrane's state and secrets", {"Fn::GetAtt": ["StateKey", "Arn"]}),
        "BackendUrl": _output(f"export {BACKEND_ENV}=<this>",
                              _sub("s3://${StateBucket}?region=${AWS::Region}&awssdk=v2")),
        "SecretsProvider": _output(f"export {SECRETS_PROVIDER_ENV}=<this>",
                                   _sub("awskms://${StateKeyAlias}?region=${AWS::Region}")),
    }


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _output(description: str, value: Any) -> dict[str, Any]:
    return {"Description": description, "Value": value}


def _tags() -> list[dict[str, str]]:
    return [{"Key": "managed-by", "Value": "terrane"}]


def _role(logical: str, name: str, description: str, trust: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {
        logical: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": name,
                "Description": description,
                "AssumeRolePolicyDocument": trust,
                "MaxSessionDuration": 3600,
                "Tags": _tags(),
                **properties,
            },
        }
    }


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


def _registry_reader(trust: dict[str, Any], repositories: Sequence[str]) -> dict[str, Any]:
    name = ROLE_NAMES["registry"]
    grants = (
        # The one ECR action without a resource type: it signs the docker login, and gives no access by itself.
        _Grant("EcrSignIn", ("ecr:GetAuthorizationToken",), _ANY),
        _Grant("PullNamedRepositories", _ECR_PULL,
               tuple(f"arn:${{AWS::Partition}}:ecr:*:${{AWS::AccountId}}:repository/{repo}" for repo in repositories)),
        # Its own role only, so that `accounts verify` can show what it may (and may not) do.
        _Grant("ReadOwnRolePolicies",
               ("iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"),
               (f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}",)),
    )
    return _role("RegistryReaderRole", name, "terrane pulls container images from named ECR repositories with this role",
                 trust, Policies=[{"PolicyName": name, "PolicyDocument": _document(grants)}])


def _state_store() -> dict[str, Any]:
    retained = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    account_root = _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    return {
        # Pulumi's secrets provider (the stacks' data keys) and the bucket's default encryption. The account
        # administers it and its IAM policies grant its use: nobody outside the account is named.
        "StateKey": {
            "Type": "AWS::KMS::Key",
            **retained,
            "Properties": {
                "Description": "Encrypts terrane's state and the secrets in it",
                "EnableKeyRotation": True,
                # The longest window: every stack's secrets depend on this key.
                "PendingWindowInDays": 30,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministersAndIamPoliciesGrantUse",
                            "Effect": "Allow",
                            "Principal": {"AWS": account_root},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
                "Tags": _tags(),
            },
        },
        "StateKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": STATE_KEY_ALIAS, "TargetKeyId": {"Ref": "StateKey"}},
        },
        # A generated name: S3 names are global, so a predictable one could be taken first by anyone.
        "StateBucket": {
            "Type": "AWS::S3::Bucket",
            **retained,
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": ["StateKey", "Arn"]},
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "Tags": _tags(),
            },
        },
        "StateBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "StateBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [_sub(_STATE_BUCKET), _sub(_STATE_OBJECTS)],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


# --- policies ------------------------------------------------------------------------------------
#
# One grant per statement. Resources are ARN patterns (``Fn::Sub`` fills in the
# partition, the account and the template's own resources) or "*"; a grant's
# comment says why it is as wide as it is.


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
    conditions: tuple[_Condition, ...] = ()
    effect: Literal["Allow", "Deny"] = "Allow"


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
_SERVICE_ROLES = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role"
_SERVICE_LINKED = tuple(f"{_SERVICE_ROLES}/{service}/{role}" for service, role in _SERVICE_LINKED_ROLES.items())
_WITH_BOUNDARY = _Condition("StringEquals", "iam:PermissionsBoundary", BOUNDARY_ARN)
_STATE_KEY = "${StateKey.Arn}"
_STATE_BUCKET = "arn:${AWS::Partition}:s3:::${StateBucket}"
_STATE_OBJECTS = _STATE_BUCKET + "/*"
_STATE_STORE = (_STATE_KEY, _STATE_BUCKET, _STATE_OBJECTS)
# Pulling an image, and reading what a repository holds.
_ECR_PULL = (*ECR_PULL_ACTIONS, "ecr:DescribeImages", "ecr:ListImages", "ecr:DescribeRepositories")

_PROVISIONER = (
    # Actions without a resource type (service authorization reference), which take "*" or nothing.
    _Grant(
        "Unscoped",
        (
            # Availability zones, regions and every EC2 read the provider does on refresh.
            "sts:GetCallerIdentity", "ec2:Describe*", "logs:DescribeLogGroups",
            # A cluster's or a key's ARN exists only once it is created.
            "eks:CreateCluster", "kms:CreateKey", "kms:ListAliases",
        ),
        _ANY,
    ),
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
    _Grant(
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
    _Grant(
        "IamTerraneRolesWithinTheBoundary",
        ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
         "iam:PutRolePermissionsBoundary"),
        _TERRANE_ROLES,
        (_WITH_BOUNDARY,),
    ),
    # Only the AWS managed policies the components attach, never AdministratorAccess and the like.
    _Grant("IamAttachAwsManagedPolicies", ("iam:AttachRolePolicy",), _TERRANE_ROLES,
           (_Condition("ArnEquals", "iam:PolicyARN", _ATTACHABLE), _WITH_BOUNDARY)),
    _Grant("IamPassTerraneRoles", ("iam:PassRole",), _TERRANE_ROLES,
           (_Condition("StringEquals", "iam:PassedToService", _PASSED_TO),)),
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
           (_Condition("StringEquals", "iam:AWSServiceName", tuple(_SERVICE_LINKED_ROLES)),)),
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
    _Grant("KmsGrantsForEks", ("kms:CreateGrant",), _KEYS,
           (_Condition("Bool", "kms:GrantIsForAWSResource", "true"),)),
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
_GUARDRAILS = (
    _Grant("DenyRemovingBoundaries", ("iam:DeleteRolePermissionsBoundary",), _ANY, effect="Deny"),
    _Grant("DenyChangingTheBoundary",
           ("iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"),
           (BOUNDARY_ARN,), effect="Deny"),
    # A role's trust policy may name the provisioner, and in one account that alone would let it in: it never
    # needs to act as one of the roles it creates.
    _Grant("DenyAssumingTerraneRoles", ("sts:AssumeRole",), _TERRANE_ROLES, effect="Deny"),
    # KmsManageKeys reaches every key of the account: not the state key (its policy, its deletion, its use).
    _Grant("DenyTheStateStore", ("kms:*", "s3:*"), _STATE_STORE, effect="Deny"),
)

# The permissions boundary: the most a role the components create may do. Roles and what they need
# (components/aws/*.py): the EKS cluster role (AmazonEKSClusterPolicy), the node role
# (AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly), the VPC flow-log
# role (log writes) and the secret readers (IRSA: read a secret, decrypt its key).
_BOUNDARY = (
    # Cluster, nodes and CNI: the EC2 and load-balancer reads of the cloud controller, kubelet and CNI; and the
    # flow-log role's DescribeLogGroups. None of these has a resource type (or most Describe* do not).
    _Grant("Reads", ("ec2:Describe*", "elasticloadbalancing:Describe*", "autoscaling:DescribeAutoScalingGroups",
                     "logs:DescribeLogGroups"), _ANY),
    _Grant(
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
    _Grant(
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
    _Grant("ClusterAutoScaling", ("autoscaling:UpdateAutoScalingGroup",),
           ("arn:${AWS::Partition}:autoscaling:*:${AWS::AccountId}:autoScalingGroup:*",)),
    # The only IAM action: AmazonEKSClusterPolicy creates the load balancers' service-linked role, and only that.
    _Grant("ClusterLoadBalancerServiceLinkedRole", ("iam:CreateServiceLinkedRole",),
           (_SERVICE_ROLES + "/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",),
           (_Condition("StringEquals", "iam:AWSServiceName", "elasticloadbalancing.amazonaws.com"),)),
    # Nodes (AmazonEKSWorkerNodePolicy): find their cluster, and EKS Pod Identity.
    _Grant("Nodes", ("eks:DescribeCluster", "eks-auth:AssumeRoleForPodIdentity"),
           ("arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*",)),
    # Nodes (AmazonEC2ContainerRegistryReadOnly): pull images, from any account (EKS add-ons' images live in
    # AWS-owned registries). The sign-in token has no resource type.
    _Grant("ImageSignIn", ("ecr:GetAuthorizationToken",), _ANY),
    _Grant("ImagePulls", _ECR_PULL, ("arn:${AWS::Partition}:ecr:*:*:repository/*",)),
    # The flow-log role writes the VPC's flow logs.
    _Grant("FlowLogs", ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
           ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*",)),
    # Secret readers (IRSA) read the environment's secrets.
    _Grant("SecretReaders", ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
           ("arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:*",)),
    # Secret readers decrypt through Secrets Manager; the cluster role describes its secrets key
    # (AmazonEKSClusterPolicy) and EKS encrypts Kubernetes secrets with it.
    _Grant("Keys", ("kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:ListGrants"), _KEYS),
    # No role terrane creates may touch the state store, whatever its own policy says.
    _Grant("DenyTheStateStore", ("kms:*", "s3:*"), _STATE_STORE, effect="Deny"),
)


def _document(grants: Sequence[_Grant]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [_statement(grant) for grant in grants]}


def _statement(grant: _Grant) -> dict[str, Any]:
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
        return _sub(values) if "${" in values else values
    return [_values(value) for value in values]
