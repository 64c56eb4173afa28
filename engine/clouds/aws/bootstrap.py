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
from typing import Any, Literal

import yaml

from terrane.components.aws_iam import IAM_PATH
from terrane.engine.clouds.aws.bootstrap_policies import (
    ANY,
    BOUNDARY,
    BOUNDARY_NAME,
    ECR_PULL,
    GUARDRAILS,
    PROVISIONER,
    STATE_BUCKET,
    STATE_OBJECTS,
    Grant,
    document,
    sub,
)
from terrane.engine.errors import InvalidInputError
from terrane.engine.store.paths import BACKEND_ENV, SECRETS_PROVIDER_ENV
from terrane.stacks.spec import ECR_REPOSITORY
from terrane.stacks.spec.regions import region_problem

ROLE_NAMES = {
    "provisioner": "terrane-provisioner",
    "drift": "terrane-drift",
    "registry": "terrane-registry-reader",
}
GUARDRAILS_NAME = "terrane-provisioner-guardrails"
"""The provisioner role's inline policy: what it may never do."""
STATE_KEY_ALIAS = "alias/terrane-state"
STACK_NAME = "terrane-bootstrap"
"""The stack name the usage notes suggest (``accounts link aws --bootstrap-stack`` reads its outputs)."""
EXTERNAL_ID_ENV = "TERRANE_AWS_EXTERNAL_ID"
"""The environment variable the usage notes suggest for the external id."""

# Role, user or account root, in any partition; or a bare account id.
_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)|\d{12}", re.ASCII)
# What sts:AssumeRole accepts as an external id.
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
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
    problem = region_problem("aws", region)  # one of AWS's regions, as an environment's (stacks/spec/regions.py)
    if problem:
        raise InvalidInputError(f"--region: {problem}")


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
                "PolicyDocument": document(BOUNDARY),
            },
        },
        **_role("ProvisionerRole", ROLE_NAMES["provisioner"],
                "terrane provisions environments (network, EKS, secrets) with this role", trust,
                Policies=[{"PolicyName": GUARDRAILS_NAME, "PolicyDocument": document(GUARDRAILS)}]),
        "ProvisionerPolicy": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": ROLE_NAMES["provisioner"],
                "Description": "What terrane's AWS components create, update, read and delete",
                "Roles": [{"Ref": "ProvisionerRole"}],
                "PolicyDocument": document(PROVISIONER),
            },
        },
        **_role("DriftRole", ROLE_NAMES["drift"], "terrane reads environments with this role to detect drift", trust,
                ManagedPolicyArns=[sub("arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess")]),
        **(_registry_reader(trust, repositories) if repositories else {}),
        **_state_key(),
        **_state_bucket(),
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
                              sub("s3://${StateBucket}?region=${AWS::Region}&awssdk=v2")),
        "SecretsProvider": _output(f"export {SECRETS_PROVIDER_ENV}=<this>",
                                   sub("awskms://${StateKeyAlias}?region=${AWS::Region}")),
    }


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
        principal = sub(f"arn:${{AWS::Partition}}:iam::{trusted_principal}:root")
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
        Grant("EcrSignIn", ("ecr:GetAuthorizationToken",), ANY),
        Grant("PullNamedRepositories", ECR_PULL,
               tuple(f"arn:${{AWS::Partition}}:ecr:*:${{AWS::AccountId}}:repository/{repo}" for repo in repositories)),
        # Its own role only, so that `accounts verify` can show what it may (and may not) do.
        Grant("ReadOwnRolePolicies",
               ("iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"),
               (f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}",)),
    )
    return _role("RegistryReaderRole", name, "terrane pulls container images from named ECR repositories with this role",
                 trust, Policies=[{"PolicyName": name, "PolicyDocument": document(grants)}])


_RETAINED = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def _state_key() -> dict[str, Any]:
    account_root = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    return {
        # Pulumi's secrets provider (the stacks' data keys) and the bucket's default encryption. The account
        # administers it and its IAM policies grant its use: nobody outside the account is named.
        "StateKey": {
            "Type": "AWS::KMS::Key",
            **_RETAINED,
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
    }


def _state_bucket() -> dict[str, Any]:
    return {
        # A generated name: S3 names are global, so a predictable one could be taken first by anyone.
        "StateBucket": {
            "Type": "AWS::S3::Bucket",
            **_RETAINED,
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
                            "Resource": [sub(STATE_BUCKET), sub(STATE_OBJECTS)],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }
