"""The bootstrap template deployed by moto's CloudFormation, through moto's server over HTTP.

moto 5.2.5 runs this template only in part. What it leaves out is listed here, and
``test_moto_still_leaves_out`` checks that it still does, so that a gap that closes is noticed and its
property asserted on the deployed stack instead; test_aws_bootstrap.py checks each of them on the
template itself:

- ``AWS::KMS::Key`` ``Tags``: moto reads them in the KMS API's shape (TagKey/TagValue), fails, and then
  calls the key undefined. The stack is deployed without the key's Tags (the only change made to it).
- ``AWS::KMS::Key`` ``KeyPolicy``: kept as the template's object rather than JSON text, so moto's
  DescribeKey fails on it; GetKeyPolicy and GetKeyRotationStatus work, and are what is asserted.
- ``AWS::IAM::Role`` ``ManagedPolicyArns``: ignored, so the drift role has no ReadOnlyAccess in moto.
- ``AWS::IAM::Role`` ``Policies``: applied, but GetRolePolicy returns each document's Python repr rather
  than JSON text; the test reads that repr.
- ``AWS::S3::Bucket``: moto applies the name, ``BucketEncryption`` (without ``BucketKeyEnabled``) and
  ``Tags``, not ``VersioningConfiguration``, ``PublicAccessBlockConfiguration`` or ``OwnershipControls``.
- ``AWS::S3::BucketPolicy``: not supported (moto skips it with a warning).
- ``Rules``: not evaluated, so the stack deploys in any region.
"""

from __future__ import annotations

import ast
import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from terrane.engine.clouds.aws.bootstrap import STACK_NAME, render, template
from tests.engine.clouds.aws.test_bootstrap import EXTERNAL_ID, PRINCIPAL, REGION, REPOSITORIES, resolve
from tests.helpers.project import SampleProject

# The gap named above, which moto reports as a warning on every deploy.
pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS..S3..BucketPolicy:UserWarning")

MOTO_ACCOUNT = "123456789012"  # the account moto reports for credentials it does not know
_NO_RETRY = Config(retries={"total_max_attempts": 1})


def _deployable(body: dict[str, Any]) -> dict[str, Any]:
    """The template less what moto cannot take: the state key's Tags."""
    body = copy.deepcopy(body)
    del body["Resources"]["StateKey"]["Properties"]["Tags"]
    return body


def _deploy(body: dict[str, Any], region: str = REGION) -> dict[str, str]:
    """Create the stack; its outputs."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(StackName=STACK_NAME, TemplateBody=render(body, "json"),
                                Capabilities=["CAPABILITY_NAMED_IAM"])
    (stack,) = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def _document(value: Any) -> Any:
    """A policy document as moto returns it: as is when boto3 parsed it, else JSON text."""
    return json.loads(value) if isinstance(value, str) else value


def _inline_document(value: str) -> Any:
    """A role's inline policy as moto returns it from a template: the document's Python repr, not JSON."""
    return ast.literal_eval(value)


@pytest.fixture
def body() -> dict[str, Any]:
    return template(PRINCIPAL, EXTERNAL_ID, region=REGION, repositories=REPOSITORIES)


def test_the_stack_deploys_with_its_roles_boundary_and_state_store(aws: str, body: dict[str, Any]) -> None:
    outputs = _deploy(_deployable(body))
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    resources = cloudformation.list_stack_resources(StackName=STACK_NAME)["StackResourceSummaries"]
    created = {r["LogicalResourceId"] for r in resources if r["ResourceStatus"] == "CREATE_COMPLETE"}
    # moto lists the AWS::S3::BucketPolicy it does not support with no logical id.
    assert created == set(body["Resources"]) - {"StateBucketPolicy"} | {""}

    kms = boto3.client("kms", region_name=REGION)
    (alias,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/terrane-state"]
    key_arn = f"arn:aws:kms:{REGION}:{MOTO_ACCOUNT}:key/{alias['TargetKeyId']}"
    bucket = outputs["StateBucket"]
    assert outputs == {
        "ProvisionerRoleArn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/terrane-provisioner",
        "PermissionsBoundaryArn": f"arn:aws:iam::{MOTO_ACCOUNT}:policy/terrane/terrane-boundary",
        "DriftRoleArn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/terrane-drift",
        "RegistryReaderRoleArn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/terrane-registry-reader",
        "RegistryRepositories": "team/app,base-images",
        "StateBucket": bucket,
        "StateKeyArn": key_arn,
        "BackendUrl": f"s3://{bucket}?region={REGION}&awssdk=v2",
        "SecretsProvider": f"awskms://alias/terrane-state?region={REGION}",
    }
    deployed = resolve(body["Resources"], account=MOTO_ACCOUNT, key=key_arn, bucket=bucket)

    # The bucket: in the region, encrypted with the state key, tagged.
    s3 = boto3.client("s3", region_name=REGION)
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "managed-by", "Value": "terrane"}]

    # The key: rotating, administered by the account alone.
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    policy = kms.get_key_policy(KeyId=alias["TargetKeyId"], PolicyName="default")["Policy"]
    assert _document(policy) == deployed["StateKey"]["Properties"]["KeyPolicy"]

    # The boundary, under /terrane/, and the roles with their policies.
    iam = boto3.client("iam", region_name=REGION)
    boundary = iam.get_policy(PolicyArn=outputs["PermissionsBoundaryArn"])["Policy"]
    assert (boundary["PolicyName"], boundary["Path"]) == ("terrane-boundary", "/terrane/")
    version = iam.get_policy_version(PolicyArn=boundary["Arn"], VersionId=boundary["DefaultVersionId"])
    assert _document(version["PolicyVersion"]["Document"]) == deployed["PermissionsBoundary"]["Properties"][
        "PolicyDocument"]
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} >= {
        "terrane-provisioner", "terrane-drift", "terrane-registry-reader"}
    for logical in ("ProvisionerRole", "DriftRole", "RegistryReaderRole"):
        name = deployed[logical]["Properties"]["RoleName"]
        role = iam.get_role(RoleName=name)["Role"]
        assert _document(role["AssumeRolePolicyDocument"]) == deployed[logical]["Properties"]["AssumeRolePolicyDocument"]
        for inline in deployed[logical]["Properties"].get("Policies", []):
            document = iam.get_role_policy(RoleName=name, PolicyName=inline["PolicyName"])["PolicyDocument"]
            assert _inline_document(document) == inline["PolicyDocument"], name
    attached = iam.list_attached_role_policies(RoleName="terrane-provisioner")["AttachedPolicies"]
    assert attached == [{"PolicyName": "terrane-provisioner",
                         "PolicyArn": f"arn:aws:iam::{MOTO_ACCOUNT}:policy/terrane-provisioner"}]
    provisioner = iam.get_policy_version(PolicyArn=attached[0]["PolicyArn"], VersionId="v1")["PolicyVersion"]
    assert _document(provisioner["Document"]) == deployed["ProvisionerPolicy"]["Properties"]["PolicyDocument"]
    assert iam.list_attached_role_policies(RoleName="terrane-registry-reader")["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName="terrane-registry-reader")["PolicyNames"] == ["terrane-registry-reader"]


def test_without_repositories_no_registry_reader_is_deployed(aws: str) -> None:
    outputs = _deploy(_deployable(template(PRINCIPAL, EXTERNAL_ID, region=REGION)))
    assert "RegistryReaderRoleArn" not in outputs and "RegistryRepositories" not in outputs
    iam = boto3.client("iam", region_name=REGION)
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName="terrane-registry-reader")
    assert outputs["ProvisionerRoleArn"] == f"arn:aws:iam::{MOTO_ACCOUNT}:role/terrane-provisioner"


def _raises(code: str, call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError as error:
        return bool(error.response["Error"]["Code"] == code)
    return False


def test_moto_still_leaves_out(aws: str, body: dict[str, Any]) -> None:
    """Each gap of the module docstring, still there; when one closes, assert the property above instead."""
    with pytest.raises(ClientError, match="references undefined resource StateKey"):
        _deploy(body)  # with the state key's Tags
    boto3.client("cloudformation", region_name=REGION).delete_stack(StackName=STACK_NAME)

    outputs = _deploy(_deployable(body), region="us-east-2")  # a region the template's rule refuses
    bucket, key = outputs["StateBucket"], outputs["StateKeyArn"]
    s3 = boto3.client("s3", region_name="us-east-2")
    gaps = {
        "Rules": outputs["BackendUrl"] == f"s3://{bucket}?region=us-east-2&awssdk=v2",
        "VersioningConfiguration": "Status" not in s3.get_bucket_versioning(Bucket=bucket),
        "PublicAccessBlockConfiguration": _raises("NoSuchPublicAccessBlockConfiguration",
                                                  lambda: s3.get_public_access_block(Bucket=bucket)),
        "OwnershipControls": _raises("OwnershipControlsNotFoundError",
                                     lambda: s3.get_bucket_ownership_controls(Bucket=bucket)),
        "BucketKeyEnabled": not s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"][0].get("BucketKeyEnabled"),
        "AWS::S3::BucketPolicy": _raises("NoSuchBucketPolicy", lambda: s3.get_bucket_policy(Bucket=bucket)),
        # moto's server answers 500 (its KMS reads the policy object as JSON text); no retries.
        "KeyPolicy as text": _raises("500", lambda: boto3.client("kms", region_name="us-east-2", config=_NO_RETRY)
                                     .describe_key(KeyId=key)),
    }
    guardrails = boto3.client("iam", region_name="us-east-2").get_role_policy(
        RoleName="terrane-provisioner", PolicyName="terrane-provisioner-guardrails")["PolicyDocument"]
    gaps["ManagedPolicyArns"] = boto3.client("iam", region_name="us-east-2").list_attached_role_policies(
        RoleName="terrane-drift")["AttachedPolicies"] == []
    gaps["Policies as JSON"] = isinstance(guardrails, str) and guardrails.startswith("{'")
    assert gaps == dict.fromkeys(gaps, True)


def test_link_fills_the_role_and_the_boundary_from_the_deployed_stack(aws: str, body: dict[str, Any],
                                                                       sample: SampleProject, cli) -> None:
    outputs = _deploy(_deployable(body))
    result = cli("--project", sample.root, "accounts", "link", "aws", "bootstrapped", "--account-id", MOTO_ACCOUNT,
                 "--bootstrap-stack", STACK_NAME, "--region", REGION, "--external-id", "env:TERRANE_AWS_EXTERNAL_ID",
                 "--no-verify")
    assert result.code == 0, result.stderr
    linked = sample.load_accounts()["accounts"]["bootstrapped"]
    assert linked["auth"]["assume_role"]["role_arn"] == outputs["ProvisionerRoleArn"]
    assert linked["permissions_boundary"] == outputs["PermissionsBoundaryArn"]
    assert linked["permissions_boundary"] == f"arn:aws:iam::{MOTO_ACCOUNT}:policy/terrane/terrane-boundary"


def test_link_from_a_stack_that_is_not_there_changes_nothing(aws: str, sample: SampleProject, cli) -> None:
    before = (sample.root / "accounts.yaml").read_text()
    result = cli("--project", sample.root, "accounts", "link", "aws", "bootstrapped", "--account-id", MOTO_ACCOUNT,
                 "--bootstrap-stack", "no-such-stack", "--region", REGION, "--no-verify")
    assert result.code == 3
    assert result.stderr.splitlines()[0] == (
        f"error: --bootstrap-stack: there is no stack 'no-such-stack' in {REGION} (or these credentials cannot see it)")
    assert (sample.root / "accounts.yaml").read_text() == before
