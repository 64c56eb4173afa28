"""Verifying an ECR registry: its identity can pull, and cannot push.

The identity signs in as an AWS account's does (``verify.sign_in``).
``ecr:GetAuthorizationToken`` issues a pull token, ``ecr:ListImages`` lists each
repository; the role's own policies (inline and attached) are read and
evaluated offline (``policies``): no statement may allow a push action. Tokens
are kept by the check, so that no message or evidence line can hold one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds.aws.policies import Statement, aws_grants, statements
from terrane.engine.clouds.aws.verify import aws_client, error_code, sign_in
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import PAGE, Check, Findings, images
from terrane.engine.errors import EngineError
from terrane.stacks.spec.registries import EcrRegistry

if TYPE_CHECKING:
    import boto3

__all__ = ["ECR_PUSH_ACTIONS", "IAM_POLICY_SELF_GRANT_ACTIONS", "IAM_ROLE_SELF_GRANT_ACTIONS", "verify_registry"]


# Everything that writes to a repository, deletes from it, or changes who may: none may be allowed.
ECR_PUSH_ACTIONS = (
    "ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
    "ecr:BatchDeleteImage", "ecr:PutImageTagMutability", "ecr:ReplicateImage",
    "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy",
    "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:StartLifecyclePolicyPreview",
    "ecr:PutRegistryPolicy", "ecr:DeleteRegistryPolicy", "ecr:PutReplicationConfiguration",
    "ecr:CreatePullThroughCacheRule", "ecr:UpdatePullThroughCacheRule", "ecr:CreateRepositoryCreationTemplate",
)
# A role that may rewrite its own policies may grant itself any of the above: on its own role, and on the
# managed policies attached to it.
IAM_ROLE_SELF_GRANT_ACTIONS = ("iam:PutRolePolicy", "iam:AttachRolePolicy")
IAM_POLICY_SELF_GRANT_ACTIONS = ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")


def verify_registry(check: Check, registry: EcrRegistry) -> Verification:
    from botocore.exceptions import BotoCoreError

    session, caller, assumed = sign_in(check, registry)
    found = Findings([])
    found.add("sts:GetCallerIdentity", True, f"signed in as {caller['Arn']}" + (f" ({assumed})" if assumed else ""))
    try:
        can_pull = _ecr_pull(check, session, registry, found)
        can_push = _ecr_push(session, caller["Arn"], registry, found)
    except BotoCoreError as exc:
        raise check.error(EngineError, f"cannot reach AWS in {registry.region}: {exc}") from exc
    return found.result(check, registry, caller["Arn"], can_pull, can_push)


def _ecr_pull(check: Check, session: boto3.Session, registry: EcrRegistry, found: Findings) -> bool:
    from botocore.exceptions import ClientError

    ecr = aws_client(session, "ecr")
    code = None
    try:
        data = ecr.get_authorization_token()["authorizationData"]
    except ClientError as exc:
        code = error_code(exc)
    if code is not None:
        return found.add("ecr:GetAuthorizationToken", False, f"no pull token: refused ({code})")
    for item in data:
        check.keep(Secret(item.get("authorizationToken") or ""))
    endpoint = data[0].get("proxyEndpoint", "the registry") if data else "the registry"
    can_pull = found.add("ecr:GetAuthorizationToken", True, f"a pull token for {endpoint}")
    for repository in registry.repositories:
        try:
            listed = ecr.list_images(registryId=registry.account_id, repositoryName=repository, maxResults=PAGE)
        except ClientError as exc:
            detail = (f"no repository {repository} in {registry.account_id}/{registry.region}"
                      if error_code(exc) == "RepositoryNotFoundException" else
                      f"cannot list images of {repository}: refused ({error_code(exc)})")
            can_pull = found.add(f"ecr:ListImages {repository}", False, detail) and can_pull
            continue
        found.add(f"ecr:ListImages {repository}", True, images(len(listed.get("imageIds", [])), "nextToken" in listed))
    return can_pull


def _ecr_push(session: boto3.Session, arn: str, registry: EcrRegistry, found: Findings) -> bool | None:
    """Whether the role's own policies let it push; None (with the reason as evidence) when they cannot be read."""
    role, partition = _role_of(arn)
    if role is None:
        found.add("iam:policies", False, f"cannot show it cannot push: {arn} is not a role; terrane reads a role's "
                                         "own policies (link the registry with --role-arn)")
        return None
    read = _role_statements(session, role, found)
    if read is None:
        return None
    found.add("iam:policies", True, f"read the policies of role {role}: {', '.join(read.policies) or 'none'}")
    repositories = registry.repository_arns(partition)
    grants = [grant for action in ECR_PUSH_ACTIONS
              for grant in aws_grants(read.statements, action, "ecr", repositories, partition)]
    for actions, arns in ((IAM_ROLE_SELF_GRANT_ACTIONS, [read.arn]), (IAM_POLICY_SELF_GRANT_ACTIONS, read.attached)):
        grants += [grant for action in actions
                   for grant in aws_grants(read.statements, action, "iam", arns, partition,
                                                       elsewhere=False)]
    if grants:
        more = f" (and {len(grants) - 1} more)" if len(grants) > 1 else ""
        found.add("push", False, f"CAN push: {grants[0]}{more}")
        return True
    denied = ECR_PUSH_ACTIONS + IAM_ROLE_SELF_GRANT_ACTIONS + (IAM_POLICY_SELF_GRANT_ACTIONS if read.attached else ())
    found.add("push", True, f"cannot push: no statement allows {', '.join(denied)}")
    return False


def _role_of(arn: str) -> tuple[str | None, str]:
    """The role name of an assumed-role ARN (or a role's ARN), and the partition."""
    fields = arn.split(":", 5)
    if len(fields) < 6:
        return None, "aws"
    kind, _, rest = fields[5].partition("/")
    if kind == "assumed-role":
        return rest.split("/")[0], fields[1]
    if kind == "role":
        return rest.rsplit("/", 1)[-1], fields[1]
    return None, fields[1]


@dataclass(frozen=True)
class _RolePolicies:
    arn: str
    """The role's ARN, with its path."""
    attached: list[str]
    """The ARNs of its managed policies."""
    policies: list[str]
    statements: list[Statement]


def _role_statements(session: boto3.Session, role: str, found: Findings) -> _RolePolicies | None:
    """Every statement of the role's inline and attached policies; None when one cannot be read (said as evidence)."""
    from botocore.exceptions import ClientError

    iam = aws_client(session, "iam")
    attached: list[str] = []
    policies: list[str] = []
    read: list[Statement] = []
    step = "iam:GetRole"
    subject = f"role {role}"
    try:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        step = "iam:ListRolePolicies"
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
            for policy in page["PolicyNames"]:
                step, subject = "iam:GetRolePolicy", f"inline policy {policy}"
                document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
                read += statements(document, subject)
                policies.append(subject)
        step, subject = "iam:ListAttachedRolePolicies", f"role {role}"
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
            for attached_policy in page["AttachedPolicies"]:
                policy_arn = attached_policy["PolicyArn"]
                attached.append(policy_arn)
                step, subject = "iam:GetPolicy", f"managed policy {policy_arn}"
                version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
                step = "iam:GetPolicyVersion"
                document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
                read += statements(document, subject)
                policies.append(subject)
    except ClientError as exc:
        found.add("iam:policies", False, f"cannot show it cannot push: {step} refused for {subject} ({error_code(exc)})")
        return None
    return _RolePolicies(arn, attached, policies, read)

