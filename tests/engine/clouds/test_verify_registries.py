"""Verifying registries: ECR against moto's server with IAM enforced; ACR and Artifact Registry against a local
HTTP server, behind faked SDKs (as the account tests fake them).

moto evaluates a caller's identity policies once ``enable_iam_authentication`` is on, but checks every ECR
action against the resource ``*``: a statement scoped to repository ARNs would never match. ``ecr_resources``
teaches moto ECR's resource (the repository ARN of the request's ``repositoryName``), so that its own policy
evaluation decides, per repository, what the role may list. Trust policies, IAM reads of the role (moto resolves
``RoleName`` to the role's ARN) and ``iam:GetPolicy`` (resource ``*``) are enforced by moto as it is.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication
from moto.ecr.responses import ECRResponse

from terrane.engine.clouds.aws.bootstrap import template
from terrane.engine.clouds.aws.registry_verify import ECR_PUSH_ACTIONS
from terrane.engine.clouds.azure import registry_verify as acr_verify
from terrane.engine.clouds.azure.registry_verify import ACR_PUSH_OPERATIONS
from terrane.engine.clouds.gcp import registry_verify as gar_verify
from terrane.engine.clouds.gcp.registry_verify import GAR_PUSH_PERMISSIONS
from terrane.engine.clouds.results import Evidence, Verification
from terrane.engine.clouds.verification import verify
from terrane.engine.errors import EngineError
from terrane.stacks.spec.registries import AcrRegistry, ArtifactRegistry, EcrRegistry
from tests.engine.clouds.test_verify import assert_not_leaked, throwaway_key
from tests.helpers.fake_clouds import AZURE_TOKEN, GOOGLE_TOKEN, FakeApi, FakeAzure, FakeGoogle, fake_api

ACCOUNT = "123456789012"  # moto's default account: the operator user, the role and the registry live there
REGION = "us-east-1"
READER = "terrane-registry-reader"
READER_ARN = f"arn:aws:iam::{ACCOUNT}:role/{READER}"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/{READER}/terrane"
EXTERNAL_ID = "xid-registry-LeakCanary-8d"
DOCKER_PASSWORD = f"{ACCOUNT}-auth-token"  # what moto's pull token holds
DOCKER_TOKEN = base64.b64encode(f"AWS:{DOCKER_PASSWORD}".encode()).decode()

# AmazonEC2ContainerRegistryPowerUser's statement, as AWS publishes it.
POWER_USER = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages",
    "ecr:BatchGetImage", "ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource",
    "ecr:DescribeImageScanFindings", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
    "ecr:PutImage"]}]}
PULL_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}


def _ecr_resource(self: ECRResponse) -> str:
    body = json.loads(self.body or "{}")
    name = body.get("repositoryName") if isinstance(body, dict) else None
    if not name:
        return "*"
    return f"arn:{self.partition}:ecr:{self.region}:{body.get('registryId') or self.current_account}:repository/{name}"


@pytest.fixture
def ecr_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ECRResponse, "_determine_resource", _ecr_resource, raising=False)


def _substituted(value: Any) -> Any:
    """A CloudFormation value with its ``Fn::Sub`` pseudo parameters filled in, as CloudFormation would."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return value["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", ACCOUNT)
    if isinstance(value, dict):
        return {key: _substituted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item) for item in value]
    return value


@contextmanager
def enforced(monkeypatch: pytest.MonkeyPatch, operator: tuple[str, str]) -> Iterator[None]:
    """IAM enforced, and the operator's own keys (a moto user that may assume the reader) as base credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", operator[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", operator[1])
    with enable_iam_authentication():
        yield


@pytest.fixture
def operator(aws: str, ecr_resources: None) -> tuple[str, str]:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="assume-terrane-roles", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"}]}))
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def reader_role(repositories: list[str], *extra_policies: tuple[str, dict[str, Any]],
                managed: tuple[str, ...] = ()) -> None:
    """The bootstrap's registry reader for ``repositories``, created as its template says, plus ``extra_policies``."""
    body = template(f"arn:aws:iam::{ACCOUNT}:user/operator", EXTERNAL_ID, repositories=repositories)
    role = _substituted(body["Resources"]["RegistryReaderRole"]["Properties"])
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName=role["RoleName"], AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]))
    for policy in role["Policies"]:
        iam.put_role_policy(RoleName=READER, PolicyName=policy["PolicyName"],
                            PolicyDocument=json.dumps(policy["PolicyDocument"]))
    for name, document in extra_policies:
        iam.put_role_policy(RoleName=READER, PolicyName=name, PolicyDocument=json.dumps(document))
    for arn in managed:
        iam.attach_role_policy(RoleName=READER, PolicyArn=arn)


def managed_policy(name: str, document: dict[str, Any]) -> str:
    iam = boto3.client("iam", region_name=REGION)
    return iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]


def repositories(*names: str, images: tuple[str, ...] = ("web",)) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    for name in names:
        ecr.create_repository(repositoryName=name)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {}, "layers": []})
    for name in images:
        ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="v1")


def ecr_registry(names: list[str], auth: dict[str, Any] | None = None) -> EcrRegistry:
    auth = auth or {"assume_role": {"role_arn": READER_ARN, "external_id": {"env": "TERRANE_TEST_EXTERNAL_ID"}}}
    return EcrRegistry.model_validate({"cloud": "aws", "account_id": ACCOUNT, "region": REGION,
                                       "repositories": names, "auth": auth})


@pytest.fixture(autouse=True)
def external_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", EXTERNAL_ID)


def checks(result: Verification) -> list[tuple[str, bool]]:
    return [(item.check, item.passed) for item in result.evidence]


def detail(result: Verification, check: str) -> str:
    return next(item.detail for item in result.evidence if item.check == check)


# --- ECR ------------------------------------------------------------------------------


def test_the_bootstrap_reader_can_pull_and_cannot_push(operator: tuple[str, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web", "team/worker")
    reader_role(["web", "team/worker"])
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web", "team/worker"]))

    assert (result.verified, result.can_pull, result.can_push) == (True, True, False)
    assert (result.kind, result.identity, result.account_id) == ("ECR", SESSION_ARN, ACCOUNT)
    assert result.note == "can pull, cannot push"
    assert checks(result) == [("sts:GetCallerIdentity", True), ("ecr:GetAuthorizationToken", True),
                              ("ecr:ListImages web", True), ("ecr:ListImages team/worker", True),
                              ("iam:policies", True), ("push", True)]
    assert detail(result, "sts:GetCallerIdentity") == (
        f"signed in as {SESSION_ARN} (assumed from arn:aws:iam::{ACCOUNT}:user/operator)")
    assert detail(result, "ecr:GetAuthorizationToken") == f"a pull token for https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert detail(result, "ecr:ListImages web") == "lists its images (1)"
    assert detail(result, "ecr:ListImages team/worker") == "lists its images (none yet)"
    assert detail(result, "iam:policies") == f"read the policies of role {READER}: inline policy {READER}"
    assert detail(result, "push").startswith("cannot push: no statement allows ecr:PutImage, ecr:InitiateLayerUpload")
    assert all(action in detail(result, "push") for action in ECR_PUSH_ACTIONS)
    document = result.to_dict()
    assert set(document) == {"account", "cloud", "verified", "identity", "account_id", "note", "kind", "can_pull",
                             "can_push", "evidence"}
    assert document["evidence"][0] == {"check": "sts:GetCallerIdentity", "passed": True,
                                       "detail": detail(result, "sts:GetCallerIdentity")}
    assert_not_leaked([EXTERNAL_ID, DOCKER_TOKEN, DOCKER_PASSWORD, operator[1]], result)


def test_power_user_rights_are_named_and_refuse_verification(operator: tuple[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    reader_role(["web"], ("power-user", POWER_USER))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert (result.verified, result.can_pull, result.can_push, result.failed) == (False, True, True, True)
    # The first push action of the table the policy allows, and how many more grants there are.
    assert result.note == ("CAN push: statement 1 of inline policy power-user allows ecr:PutImage on * "
                           "(and 3 more)")
    assert ("push", False) in checks(result)


def test_a_readable_attached_policy_that_allows_pushing(operator: tuple[str, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    arn = managed_policy("ecr-power-user", POWER_USER)
    read_managed = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadPolicies", "Effect": "Allow", "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"], "Resource": "*"}]}
    reader_role(["web"], ("read-managed", read_managed), managed=(arn,))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert result.can_push is True and not result.verified
    assert result.note is not None
    assert result.note.startswith(f"CAN push: statement 1 of managed policy {arn} allows ecr:PutImage on *")
    assert detail(result, "iam:policies") == (f"read the policies of role {READER}: inline policy {READER}, "
                                              f"inline policy read-managed, managed policy {arn}")


@pytest.mark.parametrize(("resource", "can_push"), [(READER_ARN, True), (f"arn:aws:iam::{ACCOUNT}:role/other", False)])
def test_a_role_that_may_rewrite_its_own_policies_can_push(operator: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
                                                           resource: str, can_push: bool) -> None:
    repositories("web")
    rewrite = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PutRolePolicy",
                                                       "Resource": resource}]}
    reader_role(["web"], ("rewrite", rewrite))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert (result.can_push, result.verified) == (can_push, not can_push)
    if can_push:
        assert result.note == f"CAN push: statement 1 of inline policy rewrite allows iam:PutRolePolicy on {READER_ARN}"


def test_a_role_that_may_rewrite_an_attached_policy_can_push(operator: tuple[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    arn = managed_policy("ecr-pull-only", PULL_ONLY)
    rewrite = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadPolicies", "Effect": "Allow", "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"], "Resource": "*"},
        {"Sid": "NewVersions", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": arn}]}
    reader_role(["web"], ("rewrite", rewrite), managed=(arn,))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert result.note == f"CAN push: statement 'NewVersions' of inline policy rewrite allows iam:CreatePolicyVersion on {arn}"


def test_an_attached_policy_it_cannot_read_is_not_verified(operator: tuple[str, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    arn = managed_policy("ecr-pull-only", PULL_ONLY)
    reader_role(["web"], managed=(arn,))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert (result.verified, result.can_pull, result.can_push) == (False, True, None)
    assert result.note == (f"cannot show it cannot push: iam:GetPolicy refused for managed policy {arn} "
                           "(AccessDenied)")
    assert checks(result)[-1] == ("iam:policies", False)


def test_a_role_that_cannot_read_its_own_policies_is_not_verified(operator: tuple[str, str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    reader_role(["web"])
    iam = boto3.client("iam", region_name=REGION)
    document = json.loads(json.dumps(iam.get_role_policy(RoleName=READER, PolicyName=READER)["PolicyDocument"]))
    document["Statement"] = [statement for statement in document["Statement"] if statement["Sid"] != "ReadOwnRolePolicies"]
    iam.put_role_policy(RoleName=READER, PolicyName=READER, PolicyDocument=json.dumps(document))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert (result.verified, result.can_pull, result.can_push) == (False, True, None)
    assert result.note == f"cannot show it cannot push: iam:GetRole refused for role {READER} (AccessDenied)"


def test_a_repository_the_role_may_not_list(operator: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web", "secret-sauce")
    reader_role(["web"])  # the role pulls from web only
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web", "secret-sauce", "absent"]))
    assert (result.verified, result.can_pull, result.can_push) == (False, False, False)
    assert checks(result)[2:5] == [("ecr:ListImages web", True), ("ecr:ListImages secret-sauce", False),
                                   ("ecr:ListImages absent", False)]
    # moto enforces the policy: secret-sauce exists but is refused; absent is refused before moto looks for it.
    # (moto answers ECR's JSON protocol with an XML error, whose code botocore reads as the HTTP status.)
    assert detail(result, "ecr:ListImages secret-sauce") == "cannot list images of secret-sauce: refused (403)"
    assert detail(result, "ecr:ListImages absent") == "cannot list images of absent: refused (403)"
    assert result.note is not None and result.note.startswith("cannot list images of secret-sauce")


def test_a_missing_repository_is_named(operator: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    reader_role(["web", "gone"])
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web", "gone"]))
    assert detail(result, "ecr:ListImages gone") == f"no repository gone in {ACCOUNT}/{REGION}"
    assert result.can_pull is False and not result.verified


def test_a_role_without_the_pull_token_action(operator: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    reader_role(["web"])
    iam = boto3.client("iam", region_name=REGION)
    document = iam.get_role_policy(RoleName=READER, PolicyName=READER)["PolicyDocument"]
    document["Statement"] = [statement for statement in document["Statement"] if statement["Sid"] != "EcrSignIn"]
    iam.put_role_policy(RoleName=READER, PolicyName=READER, PolicyDocument=json.dumps(document))
    with enforced(monkeypatch, operator):
        result = verify("images", ecr_registry(["web"]))
    assert result.note is not None and result.note.startswith("no pull token: refused (403)")
    assert (result.can_pull, result.can_push) == (False, False)


def test_a_user_is_not_a_role(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="ci")
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    monkeypatch.setenv("TERRANE_TEST_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("TERRANE_TEST_SECRET_KEY", key["SecretAccessKey"])
    static = {"static": {"access_key_id": {"env": "TERRANE_TEST_KEY_ID"},
                         "secret_access_key": {"env": "TERRANE_TEST_SECRET_KEY"}}}
    result = verify("images", ecr_registry(["web"], static))
    assert (result.can_pull, result.can_push, result.verified) == (True, None, False)
    assert result.note == (f"cannot show it cannot push: arn:aws:iam::{ACCOUNT}:user/ci is not a role; terrane reads "
                           "a role's own policies (link the registry with --role-arn)")
    assert_not_leaked([key["SecretAccessKey"]], result)


def test_a_trust_policy_that_refuses_the_operator_raises_naming_the_registry(
        operator: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repositories("web")
    reader_role(["web"])
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "another-external-id")
    with enforced(monkeypatch, operator), pytest.raises(EngineError) as caught:
        verify("images", ecr_registry(["web"]))
    assert str(caught.value).startswith(f"registry images: arn:aws:iam::{ACCOUNT}:user/operator may not assume "
                                        f"{READER_ARN}")
    refused = Verification.refused("images", ecr_registry(["web"]), caught.value)
    assert refused.to_dict()["kind"] == "ECR" and refused.can_pull is None and refused.evidence == ()


# --- ACR ------------------------------------------------------------------------------

TENANT = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "44444444-4444-4444-4444-444444444444"
CLIENT_SECRET = "acr-reader-secret-LeakCanary"
REFRESH_TOKEN = "acr-refresh-LeakCanary-77"
ACCESS_TOKEN = "acr-access-LeakCanary-91"
ACR = AcrRegistry.model_validate({
    "cloud": "azure", "tenant_id": TENANT, "subscription_id": SUBSCRIPTION, "resource_group": "images",
    "name": "AcmeImages", "auth": {"service_principal": {"client_id": CLIENT_ID,
                                                         "client_secret": {"env": "TERRANE_TEST_ACR_SECRET"}}}})
PERMISSIONS_PATH = f"{ACR.resource_id}/providers/Microsoft.Authorization/permissions"
# The built-in roles' permissions, as the permissions API lists them.
ACR_PULL = {"actions": ["Microsoft.ContainerRegistry/registries/pull/read"], "notActions": [],
            "dataActions": [], "notDataActions": []}
ACR_PUSH = {"actions": ["Microsoft.ContainerRegistry/registries/pull/read",
                        "Microsoft.ContainerRegistry/registries/push/write"], "notActions": [],
            "dataActions": [], "notDataActions": []}
CONTRIBUTOR = {"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                                                "Microsoft.Authorization/elevateAccess/Action"],
               "dataActions": [], "notDataActions": []}


@pytest.fixture
def acr(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.setenv("TERRANE_TEST_ACR_SECRET", CLIENT_SECRET)
    FakeAzure(monkeypatch)
    with fake_api() as api:
        monkeypatch.setattr(acr_verify, "AZURE_MANAGEMENT_URL", api.url)
        monkeypatch.setattr(acr_verify, "ACR_URL", api.url)
        api.route("POST", "/oauth2/exchange", {"refresh_token": REFRESH_TOKEN})
        api.route("POST", "/oauth2/token", {"access_token": ACCESS_TOKEN})
        api.route("GET", "/acr/v1/_catalog", {"repositories": ["team/web", "team/worker"]})
        yield api


ACR_SECRETS = [CLIENT_SECRET, AZURE_TOKEN, REFRESH_TOKEN, ACCESS_TOKEN]


def test_acr_pull_is_proven_with_tokens_and_push_is_not_granted(acr: FakeApi) -> None:
    acr.route("GET", PERMISSIONS_PATH, {"value": [ACR_PULL]})
    result = verify("acr", ACR)
    assert (result.verified, result.can_pull, result.can_push, result.kind) == (True, True, False, "ACR")
    assert (result.identity, result.account_id) == (CLIENT_ID, SUBSCRIPTION)
    assert checks(result) == [("sign-in", True), ("Microsoft.Authorization/permissions", True),
                              ("pull permission", True), ("push", True), ("oauth2/exchange", True),
                              ("acr/v1/_catalog", True)]
    assert detail(result, "pull permission") == ("Microsoft.ContainerRegistry/registries/pull/read is granted "
                                                 "(actions: 'Microsoft.ContainerRegistry/registries/pull/read')")
    assert detail(result, "acr/v1/_catalog") == "lists its repositories (team/web, team/worker)"

    permissions, exchange, token, catalog = acr.requests
    assert permissions.query == {"api-version": ["2022-04-01"]}
    assert permissions.headers["Authorization"] == f"Bearer {AZURE_TOKEN}"
    assert exchange.form == {"grant_type": "access_token", "service": "acmeimages.azurecr.io", "tenant": TENANT,
                             "access_token": AZURE_TOKEN}
    assert token.form == {"grant_type": "refresh_token", "service": "acmeimages.azurecr.io",
                          "scope": "registry:catalog:*", "refresh_token": REFRESH_TOKEN}
    assert catalog.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert_not_leaked(ACR_SECRETS, result)


@pytest.mark.parametrize(("permission", "granted_by"), [
    (ACR_PUSH, ("actions: 'Microsoft.ContainerRegistry/registries/push/write' grants "
               "Microsoft.ContainerRegistry/registries/push/write")),
    (CONTRIBUTOR, "actions: '*' grants Microsoft.ContainerRegistry/registries/push/write"),
    ({"dataActions": ["Microsoft.ContainerRegistry/registries/repositories/content/*"]},
     ("dataActions: 'Microsoft.ContainerRegistry/registries/repositories/content/*' grants "
     "Microsoft.ContainerRegistry/registries/repositories/content/write")),
])
def test_acr_push_rights_are_named(acr: FakeApi, permission: dict[str, Any], granted_by: str) -> None:
    acr.route("GET", PERMISSIONS_PATH, {"value": [ACR_PULL, permission]})
    result = verify("acr", ACR)
    assert (result.verified, result.can_push) == (False, True)
    assert result.note is not None and result.note.startswith(f"CAN push: {granted_by}")


def test_acr_not_actions_take_push_out_of_a_wildcard(acr: FakeApi) -> None:
    pull_everything = {"actions": ["Microsoft.ContainerRegistry/*"],
                       "notActions": [operation for operation in ACR_PUSH_OPERATIONS
                                      if operation.startswith("Microsoft.ContainerRegistry/")],
                       "dataActions": ["Microsoft.ContainerRegistry/registries/repositories/content/read"]}
    acr.route("GET", PERMISSIONS_PATH, {"value": [pull_everything]})
    result = verify("acr", ACR)
    assert (result.verified, result.can_pull, result.can_push) == (True, True, False)
    assert "(actions: 'Microsoft.ContainerRegistry/*')" in detail(result, "pull permission")


def test_acr_without_a_pull_role(acr: FakeApi) -> None:
    acr.route("GET", PERMISSIONS_PATH, {"value": []})
    result = verify("acr", ACR)
    assert (result.verified, result.can_pull, result.can_push) == (False, False, False)
    assert result.note == ("no permission grants Microsoft.ContainerRegistry/registries/pull/read or "
                           "Microsoft.ContainerRegistry/registries/repositories/content/read")


def test_acr_refusals_are_evidence_with_tokens_masked(acr: FakeApi) -> None:
    acr.route("GET", PERMISSIONS_PATH, {"error": {"code": "AuthorizationFailed", "message": "no access\nmore"}},
              status=403)
    acr.route("POST", "/oauth2/exchange", {"errors": [
        {"code": "UNAUTHORIZED", "message": f"bad token {AZURE_TOKEN}"}]}, status=401)
    result = verify("acr", ACR)
    assert (result.verified, result.can_pull, result.can_push) == (False, False, None)
    assert detail(result, "Microsoft.Authorization/permissions") == (
        "cannot read its permissions on AcmeImages: HTTP 403 AuthorizationFailed: no access")
    assert detail(result, "oauth2/exchange") == (
        "acmeimages.azurecr.io refused oauth2/exchange: HTTP 401 UNAUTHORIZED: bad token [secret]")
    assert_not_leaked(ACR_SECRETS, result)


def test_acr_unreachable_is_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_ACR_SECRET", CLIENT_SECRET)
    FakeAzure(monkeypatch)
    with fake_api() as api:
        closed = api.url
    monkeypatch.setattr(acr_verify, "AZURE_MANAGEMENT_URL", closed)
    with pytest.raises(EngineError, match=r"^registry acr: cannot reach 127\.0\.0\.1:\d+: ") as caught:
        verify("acr", ACR)
    assert_not_leaked(ACR_SECRETS, caught.value)


def test_acr_without_the_sdk_is_not_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_ACR_SECRET", CLIENT_SECRET)
    monkeypatch.setattr("terrane.engine.clouds.verification.installed", lambda module: False)
    result = verify("acr", ACR)
    assert (result.verified, result.can_pull, result.can_push, result.evidence, result.failed) == (
        False, None, None, (), False)
    assert result.to_dict()["kind"] == "ACR"
    assert result.note is not None and "install terrane[azure]" in result.note


# --- Artifact Registry ---------------------------------------------------------------

GAR_PATH = "/projects/sandbox-project-123/locations/europe-west1/repositories/platform"
SERVICE_ACCOUNT = "terrane@sandbox-project-123.iam.gserviceaccount.com"


def gar(tmp_path: Path) -> ArtifactRegistry:
    path = tmp_path / "reader.json"
    path.write_text(json.dumps(throwaway_key()))
    return ArtifactRegistry.model_validate({"cloud": "gcp", "project": "sandbox-project-123",
                                            "location": "europe-west1", "repository": "platform",
                                            "auth": {"service_account_key": {"file": str(path)}}})


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    FakeGoogle(monkeypatch)
    with fake_api() as api:
        monkeypatch.setattr(gar_verify, "ARTIFACT_REGISTRY_URL", api.url)
        api.route("GET", f"{GAR_PATH}/dockerImages", {"dockerImages": [{"name": "web"}], "nextPageToken": "n"})
        yield api


def test_artifact_registry_reader(google: FakeApi, tmp_path: Path) -> None:
    google.route("POST", f"{GAR_PATH}:testIamPermissions",
                 {"permissions": ["artifactregistry.repositories.downloadArtifacts"]})
    result = verify("gar", gar(tmp_path))
    assert (result.verified, result.can_pull, result.can_push, result.kind) == (True, True, False, "Artifact Registry")
    assert (result.identity, result.account_id) == (SERVICE_ACCOUNT, "sandbox-project-123")
    assert checks(result) == [("sign-in", True), ("testIamPermissions", True), ("push", True), ("dockerImages", True)]
    assert detail(result, "dockerImages") == "lists its images (1 or more)"
    tested, listed = google.requests
    assert tested.json == {"permissions": ["artifactregistry.repositories.downloadArtifacts", *GAR_PUSH_PERMISSIONS]}
    assert tested.headers["Authorization"] == listed.headers["Authorization"] == f"Bearer {GOOGLE_TOKEN}"
    assert listed.query == {"pageSize": ["1"]}
    assert_not_leaked([GOOGLE_TOKEN], result)


def test_artifact_registry_writer_can_push(google: FakeApi, tmp_path: Path) -> None:
    google.route("POST", f"{GAR_PATH}:testIamPermissions", {"permissions": [
        "artifactregistry.repositories.downloadArtifacts", "artifactregistry.repositories.uploadArtifacts",
        "artifactregistry.tags.create"]})
    result = verify("gar", gar(tmp_path))
    assert (result.verified, result.can_pull, result.can_push) == (False, True, True)
    assert result.note == ("CAN push: artifactregistry.repositories.uploadArtifacts, artifactregistry.tags.create "
                           "granted")


def test_artifact_registry_without_download_or_listing(google: FakeApi, tmp_path: Path) -> None:
    google.route("POST", f"{GAR_PATH}:testIamPermissions", {})
    google.route("GET", f"{GAR_PATH}/dockerImages",
                 {"error": {"code": 403, "message": "Permission denied", "status": "PERMISSION_DENIED"}}, status=403)
    result = verify("gar", gar(tmp_path))
    assert (result.verified, result.can_pull, result.can_push) == (False, False, False)
    assert result.note == ("artifactregistry.repositories.downloadArtifacts is not granted; cannot list images of "
                           "platform: HTTP 403 PERMISSION_DENIED: Permission denied")


def test_evidence_round_trips_to_json() -> None:
    item = Evidence("push", True, "cannot push")
    assert item.to_dict() == {"check": "push", "passed": True, "detail": "cannot push"}
