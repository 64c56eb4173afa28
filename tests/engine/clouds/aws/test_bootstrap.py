"""The AWS account bootstrap template: cfn-lint clean, trust locked to one principal, least privilege,
a permissions boundary the provisioner cannot escape, a scoped registry reader and terrane's state store.

moto deploys it in test_aws_bootstrap_moto.py; parliament lints its policies in test_aws_bootstrap_parliament.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import yaml

from terrane.engine.clouds.aws.bootstrap import (
    GUARDRAILS_NAME,
    IAM_PATH,
    ROLE_NAMES,
    STACK_NAME,
    STATE_KEY_ALIAS,
    new_external_id,
    render,
    template,
    usage,
)
from terrane.engine.clouds.aws.bootstrap_policies import BOUNDARY_ARN
from terrane.engine.errors import InvalidInputError
from tests.helpers.project import REPO

PRINCIPAL = "arn:aws:iam::111122223333:role/ci/terrane-deployer"
EXTERNAL_ID = "terrane-Xq3_5fE2.example@ci"
REGION = "eu-west-1"
REPOSITORIES = ("team/app", "base-images")
ACCOUNT = "123456789012"
# What the template's own resources resolve to, in the shape CloudFormation gives them.
STATE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STATE_BUCKET = "terrane-bootstrap-statebucket-abcdefgh1234"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/terrane/terrane-boundary"
TERRANE_ROLES = f"arn:aws:iam::{ACCOUNT}:role/terrane/*"
ROLES = {"ProvisionerRole": "provisioner", "DriftRole": "drift", "RegistryReaderRole": "registry"}
# The only Allow statements with Resource "*": reads, actions without a resource type, and creating a key whose
# ARN does not exist yet.
UNSCOPED_ACTIONS = {"sts:GetCallerIdentity", "ec2:Describe*", "logs:DescribeLogGroups", "eks:CreateCluster",
                    "kms:CreateKey", "kms:ListAliases"}
# The role actions IAM can condition on iam:PermissionsBoundary (service authorization reference; parliament's
# copy of it checks this list in test_aws_bootstrap_parliament.py).
BOUNDARY_KEYED = {"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
                  "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary"}


def resolve(value: Any, *, account: str = ACCOUNT, key: str = STATE_KEY, bucket: str = STATE_BUCKET,
            region: str = REGION) -> Any:
    """A template value as CloudFormation would deploy it in ``account`` (partition ``aws``)."""
    names = {"AWS::Partition": "aws", "AWS::AccountId": account, "AWS::Region": region, "StateKey.Arn": key,
             "StateBucket": bucket, "StateKeyAlias": STATE_KEY_ALIAS}
    attributes = {("StateKey", "Arn"): key, ("StateBucket", "Arn"): f"arn:aws:s3:::{bucket}"}
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{([^}]+)\}", lambda match: names[match[1]], value["Fn::Sub"])
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return attributes[tuple(value["Fn::GetAtt"])]
    if isinstance(value, dict):
        return {name: resolve(item, account=account, key=key, bucket=bucket, region=region)
                for name, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, account=account, key=key, bucket=bucket, region=region) for item in value]
    return value


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    """The Allow statements that cover ``action`` on ``resource`` (IAM wildcards, conditions not evaluated)."""
    return [s for s in _covering(statements, action, resource) if s["Effect"] == "Allow"]


def denies(statements: list[dict[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    return [s for s in _covering(statements, action, resource) if s["Effect"] == "Deny"]


def _covering(statements: list[dict[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    return [
        s
        for s in statements
        if any(fnmatchcase(action.lower(), a.lower()) for a in listed(s["Action"]))
        and any(fnmatchcase(resource, r) for r in listed(s["Resource"]))
    ]


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    return template(PRINCIPAL, EXTERNAL_ID, region=REGION, repositories=REPOSITORIES)


@pytest.fixture(scope="module")
def bare() -> dict[str, Any]:
    """Without --repository: no registry reader."""
    return template(PRINCIPAL, EXTERNAL_ID, region=REGION)


@pytest.fixture(scope="module")
def statements(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The provisioner's statements, resolved for account 123456789012 in ``aws``: its managed policy's grants,
    then its role's inline guardrails."""
    policy = body["Resources"]["ProvisionerPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "ProvisionerRole"}]
    (guardrails,) = body["Resources"]["ProvisionerRole"]["Properties"]["Policies"]
    assert guardrails["PolicyName"] == GUARDRAILS_NAME
    return resolve([*policy["PolicyDocument"]["Statement"], *guardrails["PolicyDocument"]["Statement"]])


@pytest.fixture(scope="module")
def boundary(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The permissions boundary's statements, resolved."""
    return resolve(body["Resources"]["PermissionsBoundary"]["Properties"]["PolicyDocument"])["Statement"]


# --- cfn-lint ---------------------------------------------------------------------------------


def test_cfn_lint_finds_nothing(tmp_path: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    assert cfn_lint.exists(), f"cfn-lint is a test dependency; install it next to {sys.executable}"
    variants = {
        # Both formats, with and without --repository; the account-id principal is an Fn::Sub.
        "with-repositories.yaml": template(PRINCIPAL, new_external_id(), region=REGION, repositories=REPOSITORIES),
        "with-repositories.json": template("111122223333", new_external_id(), region="us-gov-west-1",
                                           repositories=("a/b/c",)),
        "bare.yaml": template("111122223333", new_external_id(), region="ap-southeast-2"),
        "bare.json": template(PRINCIPAL, new_external_id(), region=REGION),
        # The library's form without a region (no region rule), which the audit reads.
        "any-region.yaml": template(PRINCIPAL, new_external_id()),
    }
    paths = []
    for name, variant in variants.items():
        path = tmp_path / name
        path.write_text(render(variant, path.suffix.lstrip(".")))  # type: ignore[arg-type]
        paths.append(str(path))
    result = subprocess.run([str(cfn_lint), *paths], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_yaml_and_json_render_the_same_template_without_yaml_anchors(body: dict[str, Any]) -> None:
    text = render(body, "yaml")
    # CloudFormation rejects YAML aliases, and short-form tags (!Sub) would need a custom loader.
    assert not re.search(r"[&*]id\d+|!\w+", text)
    assert yaml.safe_load(text) == body
    assert json.loads(render(body, "json")) == body
    assert render(body, "json").startswith('{\n  "AWSTemplateFormatVersion": "2010-09-09"')


def test_unknown_format_is_invalid_input(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="--format"):
        render(body, "toml")  # type: ignore[arg-type]


# --- roles and trust --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (PRINCIPAL, PRINCIPAL),
        ("arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:root"),
        ("arn:aws-us-gov:iam::111122223333:user/alice", "arn:aws-us-gov:iam::111122223333:user/alice"),
        ("111122223333", {"Fn::Sub": "arn:${AWS::Partition}:iam::111122223333:root"}),
    ],
)
def test_every_role_trusts_exactly_the_principal_with_the_external_id(principal: str, expected: Any) -> None:
    resources = template(principal, EXTERNAL_ID, region=REGION, repositories=REPOSITORIES)["Resources"]
    roles = {logical: r for logical, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert set(roles) == set(ROLES)
    for role in roles.values():
        assert role["Properties"]["AssumeRolePolicyDocument"] == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": expected},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
                }
            ],
        }


def test_roles_names_sessions_and_managed_policies(body: dict[str, Any]) -> None:
    resources = body["Resources"]
    for logical, key in ROLES.items():
        properties = resources[logical]["Properties"]
        assert properties["RoleName"] == ROLE_NAMES[key]
        assert properties["MaxSessionDuration"] == 3600
        # The bootstrap roles sit outside /terrane/, so the provisioner cannot edit them.
        assert properties.get("Path", "/") == "/"
    assert "ManagedPolicyArns" not in resources["ProvisionerRole"]["Properties"]
    assert resources["DriftRole"]["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}
    ]
    # No managed policy on the registry reader: AmazonEC2ContainerRegistryReadOnly reaches every repository.
    assert "ManagedPolicyArns" not in resources["RegistryReaderRole"]["Properties"]
    assert resources["ProvisionerPolicy"]["Type"] == "AWS::IAM::ManagedPolicy"


def test_outputs_and_never_the_external_id(body: dict[str, Any], bare: dict[str, Any]) -> None:
    values = {name: output["Value"] for name, output in body["Outputs"].items()}
    assert values == {
        "ProvisionerRoleArn": {"Fn::GetAtt": ["ProvisionerRole", "Arn"]},
        "PermissionsBoundaryArn": {"Ref": "PermissionsBoundary"},
        "DriftRoleArn": {"Fn::GetAtt": ["DriftRole", "Arn"]},
        "RegistryReaderRoleArn": {"Fn::GetAtt": ["RegistryReaderRole", "Arn"]},
        "RegistryRepositories": "team/app,base-images",
        "StateBucket": {"Ref": "StateBucket"},
        "StateKeyArn": {"Fn::GetAtt": ["StateKey", "Arn"]},
        "BackendUrl": {"Fn::Sub": "s3://${StateBucket}?region=${AWS::Region}&awssdk=v2"},
        "SecretsProvider": {"Fn::Sub": "awskms://${StateKeyAlias}?region=${AWS::Region}"},
    }
    assert body["Outputs"]["PermissionsBoundaryArn"]["Description"] == (
        "permissions_boundary of the account in accounts.yaml; terrane accounts link --bootstrap-stack fills it in")
    assert resolve(values["BackendUrl"]) == f"s3://{STATE_BUCKET}?region=eu-west-1&awssdk=v2"
    assert resolve(values["SecretsProvider"]) == "awskms://alias/terrane-state?region=eu-west-1"
    assert set(bare["Outputs"]) == set(body["Outputs"]) - {"RegistryReaderRoleArn", "RegistryRepositories"}
    # Only the trust conditions carry it.
    assert render(body, "json").count(EXTERNAL_ID) == 3
    assert render(bare, "json").count(EXTERNAL_ID) == 2


def test_description_and_metadata_say_how_to_use_it(body: dict[str, Any]) -> None:
    assert "terrane" in body["Description"]
    lines = body["Metadata"]["terrane"]["Usage"]
    assert lines == usage(REGION, repositories=REPOSITORIES)
    assert (f"terrane accounts link ecr NAME --account-id ID --region {REGION} --repository team/app "
            "--repository base-images --role-arn arn:aws:iam::ID:role/terrane-registry-reader "
            "--external-id env:TERRANE_AWS_EXTERNAL_ID") in lines
    assert not any("link ecr" in line for line in usage(REGION))
    assert (f"aws cloudformation deploy --region {REGION} --template-file terrane-bootstrap.yaml "
            f"--stack-name {STACK_NAME} --capabilities CAPABILITY_NAMED_IAM") in lines
    assert (f"export TERRANE_BACKEND_URL=\"$(aws cloudformation describe-stacks --region {REGION} --stack-name "
            f"{STACK_NAME} --query \"Stacks[0].Outputs[?OutputKey=='BackendUrl'].OutputValue\" --output text)\"") in lines
    assert f"export TERRANE_SECRETS_PROVIDER='awskms://alias/terrane-state?region={REGION}'" in lines
    assert (f"terrane accounts link aws NAME --account-id ID --bootstrap-stack {STACK_NAME} --region {REGION} "
            "--external-id env:TERRANE_AWS_EXTERNAL_ID") in lines
    access = next(line for line in lines if line.startswith("Whoever runs terrane"))
    for permission in ("s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                       "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"):
        assert permission in access
    assert "no access outside this account" in access


def test_the_template_refuses_another_region(body: dict[str, Any]) -> None:
    assert body["Rules"] == {
        "StateStoreRegion": {
            "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "AWS::Region"}, REGION]},
                            "AssertDescription": body["Rules"]["StateStoreRegion"]["Assertions"][0]["AssertDescription"]}]
        }
    }
    without = template(PRINCIPAL, EXTERNAL_ID)
    assert "Rules" not in without
    assert "--region REGION" in " ".join(without["Metadata"]["terrane"]["Usage"])


# --- the permissions boundary -----------------------------------------------------------------


def test_the_boundary_is_a_managed_policy_under_the_terrane_path(body: dict[str, Any]) -> None:
    resource = body["Resources"]["PermissionsBoundary"]
    assert resource["Type"] == "AWS::IAM::ManagedPolicy"
    assert resource["Properties"]["ManagedPolicyName"] == "terrane-boundary"
    assert resource["Properties"]["Path"] == IAM_PATH == "/terrane/"
    assert "Roles" not in resource["Properties"]  # a boundary, attached to nothing
    assert resolve({"Fn::Sub": BOUNDARY_ARN}) == BOUNDARY


def test_every_role_mutating_action_that_supports_the_key_needs_the_boundary(statements: list[dict[str, Any]]) -> None:
    for action in BOUNDARY_KEYED - {"iam:DeleteRolePermissionsBoundary"}:
        found = allows(statements, action, "arn:aws:iam::123456789012:role/terrane/aws-dev-node")
        assert found, action
        for statement in found:
            assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY, statement["Sid"]
    for statement in statements:
        actions = set(listed(statement["Action"]))
        if statement["Effect"] == "Allow" and actions & BOUNDARY_KEYED:
            assert statement["Condition"]["StringEquals"] == {"iam:PermissionsBoundary": BOUNDARY}
    (attach,) = allows(statements, "iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/terrane/x")
    assert set(attach["Condition"]) == {"ArnEquals", "StringEquals"}


def test_role_actions_without_the_key_keep_the_path_scope(statements: list[dict[str, Any]]) -> None:
    (path_only,) = [s for s in statements if s["Sid"] == "IamTerraneRoles"]
    assert "Condition" not in path_only
    assert path_only["Resource"] == [TERRANE_ROLES]
    assert not set(path_only["Action"]) & BOUNDARY_KEYED
    assert {"iam:TagRole", "iam:UpdateAssumeRolePolicy", "iam:GetRole", "iam:DeleteRole"} <= set(path_only["Action"])


def test_explicit_denies(statements: list[dict[str, Any]]) -> None:
    denied = {s["Sid"]: s for s in statements if s["Effect"] == "Deny"}
    assert denied["DenyRemovingBoundaries"]["Action"] == ["iam:DeleteRolePermissionsBoundary"]
    assert denied["DenyRemovingBoundaries"]["Resource"] == "*"
    assert set(denied["DenyChangingTheBoundary"]["Action"]) == {
        "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"}
    assert denied["DenyChangingTheBoundary"]["Resource"] == [BOUNDARY]
    assert denied["DenyAssumingTerraneRoles"] == {
        "Sid": "DenyAssumingTerraneRoles", "Effect": "Deny", "Action": ["sts:AssumeRole"], "Resource": [TERRANE_ROLES]}
    assert all("Condition" not in s for s in denied.values())
    # Nothing allows what a deny covers, except through the deny's own wildcard.
    assert allows(statements, "iam:DeleteRolePermissionsBoundary", "arn:aws:iam::123456789012:role/terrane/x") == []
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
        assert allows(statements, action, BOUNDARY) == []
        assert denies(statements, action, BOUNDARY)


def test_the_state_store_is_out_of_reach_of_the_provisioner_and_of_every_role_it_creates(
    statements: list[dict[str, Any]], boundary: list[dict[str, Any]]
) -> None:
    for policy in (statements, boundary):
        (deny,) = [s for s in policy if s["Sid"] == "DenyTheStateStore"]
        assert deny == {"Sid": "DenyTheStateStore", "Effect": "Deny", "Action": ["kms:*", "s3:*"],
                        "Resource": [STATE_KEY, f"arn:aws:s3:::{STATE_BUCKET}", f"arn:aws:s3:::{STATE_BUCKET}/*"]}
    # The provisioner manages the account's keys, but not this one; its aliases are under alias/terrane/ only.
    assert allows(statements, "kms:PutKeyPolicy", STATE_KEY) and denies(statements, "kms:PutKeyPolicy", STATE_KEY)
    assert denies(statements, "kms:ScheduleKeyDeletion", STATE_KEY)
    assert allows(statements, "kms:UpdateAlias", f"arn:aws:kms:{REGION}:{ACCOUNT}:{STATE_KEY_ALIAS}") == []
    assert not [s for s in statements if s["Effect"] == "Allow" and any(a.startswith("s3:") for a in s["Action"])]


def test_the_boundary_allows_no_iam_but_the_load_balancers_service_linked_role(boundary: list[dict[str, Any]]) -> None:
    allowed = [s for s in boundary if s["Effect"] == "Allow"]
    actions = {a for s in allowed for a in listed(s["Action"])}
    assert not {a for a in actions if a.split(":")[0] in ("organizations", "sts", "account")}
    (iam,) = [s for s in allowed if any(a.startswith("iam:") for a in listed(s["Action"]))]
    assert iam == {
        "Sid": "ClusterLoadBalancerServiceLinkedRole",
        "Effect": "Allow",
        "Action": ["iam:CreateServiceLinkedRole"],
        "Resource": [(f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
                      "AWSServiceRoleForElasticLoadBalancing")],
        "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
    }
    # No "*" nor a whole service, and "*" resources only for reads and the ECR sign-in.
    for statement in allowed:
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+\*?", a) for a in listed(statement["Action"])), statement
        assert all(a.endswith(":Describe*") for a in listed(statement["Action"]) if a.endswith("*")), statement
        if statement["Resource"] == "*":
            assert all(":Describe" in a or a == "ecr:GetAuthorizationToken" for a in statement["Action"])


def test_the_boundary_covers_what_the_components_roles_are_given() -> None:
    """Every action of the sample AWS plan's inline role policies lies within the boundary, on its resources."""
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    rendered = plan(open_project(REPO), "aws-dev")
    boundary = resolve(template(PRINCIPAL, EXTERNAL_ID)["Resources"]["PermissionsBoundary"]["Properties"]
                       ["PolicyDocument"], region=rendered.region)["Statement"]
    policies = [json.loads(r.inputs["policy"]) for r in rendered.resources if r.type == "aws:iam/rolePolicy:RolePolicy"]
    assert len(policies) >= 2
    checked = 0
    for policy in policies:
        for statement in policy["Statement"]:
            for action in listed(statement["Action"]):
                for resource in listed(statement["Resource"]):
                    assert allows(boundary, action, resource), (action, resource)
                    assert not denies(boundary, action, resource), (action, resource)
                    checked += 1
    assert checked > 10


# What the AWS managed policies the components attach allow and the boundary does not: the node role only
# pulls images, so AmazonEC2ContainerRegistryReadOnly's other reads stay out.
OUTSIDE_THE_BOUNDARY = {
    "AmazonEC2ContainerRegistryReadOnly": {
        "ecr:GetRepositoryPolicy", "ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview",
        "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings",
    },
}


def test_the_boundary_covers_the_aws_managed_policies_the_components_attach(boundary: list[dict[str, Any]]) -> None:
    """Every action of AmazonEKSClusterPolicy and the node policies, as moto's copy of them has them."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    from terrane.components.aws_iam import CLUSTER_POLICY, NODE_POLICIES

    managed = json.loads(aws_managed_policies_data)
    for name in (CLUSTER_POLICY, *NODE_POLICIES):
        document = managed[name]["Document"]
        actions = {a for s in document["Statement"] if s["Effect"] == "Allow" for a in listed(s["Action"])}
        assert actions, name
        uncovered = {a for a in actions if not any(fnmatchcase(a.lower(), pattern.lower())
                                                  for s in boundary if s["Effect"] == "Allow"
                                                  for pattern in listed(s["Action"]))}
        assert uncovered == OUTSIDE_THE_BOUNDARY.get(name, set()), name


def test_the_provisioner_can_create_the_components_roles_only_with_the_boundary(statements: list[dict[str, Any]]) -> None:
    """What the sample AWS plan's roles carry is exactly the boundary the provisioner's conditions name."""
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    rendered = plan(open_project(REPO), "aws-dev")
    roles = [r for r in rendered.resources if r.type == "aws:iam/role:Role"]
    assert roles and {r.inputs.get("permissionsBoundary") for r in roles} == {BOUNDARY}


# --- the provisioner's policy -----------------------------------------------------------------


def _managed_policy_size(document: dict[str, Any]) -> int:
    """IAM counts a managed policy's characters without whitespace, after CloudFormation substitutes; the
    longest partition name gives the worst case."""
    text = json.dumps(document)
    text = re.sub(r'\{"Fn::Sub": ("[^"]*")\}', r"\1", text).replace("${AWS::Partition}", "aws-us-gov")
    text = text.replace("${AWS::AccountId}", ACCOUNT).replace("${StateKey.Arn}", STATE_KEY.replace("aws", "aws-us-gov"))
    return len(re.sub(r"\s", "", text.replace("${StateBucket}", "x" * 63)))


def test_statements_have_unique_sids_and_fit_the_managed_policy_size_limit(
    body: dict[str, Any], statements: list[dict[str, Any]], boundary: list[dict[str, Any]]
) -> None:
    for policy in (statements, boundary):
        sids = [s["Sid"] for s in policy]
        assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)
    for logical in ("ProvisionerPolicy", "PermissionsBoundary"):
        assert _managed_policy_size(body["Resources"][logical]["Properties"]["PolicyDocument"]) <= 6144, logical
    # A role's inline policies share 10,240 characters.
    inline = [p["PolicyDocument"] for p in body["Resources"]["ProvisionerRole"]["Properties"]["Policies"]]
    assert sum(_managed_policy_size(document) for document in inline) <= 10240
    managed = body["Resources"]["ProvisionerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert all(s["Effect"] == "Allow" for s in managed)
    assert all(s["Effect"] == "Deny" for s in inline[0]["Statement"])


def test_no_wildcard_actions_and_no_unscoped_writes(statements: list[dict[str, Any]]) -> None:
    for statement in statements:
        if statement["Effect"] == "Deny":
            continue
        actions = listed(statement["Action"])
        # No "*" nor a whole service ("ec2:*"); Describe* is the one read-only family allowed.
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a) or a == "ec2:Describe*" for a in actions), actions
        if "*" in listed(statement["Resource"]):
            assert set(actions) <= UNSCOPED_ACTIONS, statement["Sid"]
    iam = [s for s in statements if s["Effect"] == "Allow" and any(a.startswith("iam:") for a in listed(s["Action"]))]
    assert iam and all("*" not in listed(s["Resource"]) for s in iam)


def test_iam_rights_touch_only_terrane_roles_eks_oidc_providers_and_eks_service_linked_roles(
    statements: list[dict[str, Any]],
) -> None:
    oidc_providers = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.*.amazonaws.com/id/*"
    for statement in statements:
        actions = listed(statement["Action"])
        if statement["Effect"] == "Deny" or not any(a.startswith("iam:") for a in actions):
            continue
        assert all(a.startswith("iam:") for a in actions), statement["Sid"]
        resources = listed(statement["Resource"])
        if actions == ["iam:CreateServiceLinkedRole"]:
            assert resources == [
                f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
                (
                    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/eks-nodegroup.amazonaws.com/"
                    "AWSServiceRoleForAmazonEKSNodegroup"
                ),
            ]
            assert statement["Condition"] == {
                "StringEquals": {"iam:AWSServiceName": ["eks.amazonaws.com", "eks-nodegroup.amazonaws.com"]}
            }
        elif any("OpenIDConnectProvider" in a for a in actions):
            assert resources == [oidc_providers]
        else:
            assert resources == [TERRANE_ROLES], statement["Sid"]

    # Its own role, the other bootstrap roles and any other role of the account are out of reach.
    for name in ROLE_NAMES.values():
        assert allows(statements, "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/{name}") == []
        assert allows(statements, "iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/{name}") == []
    assert allows(statements, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin") == []
    assert allows(statements, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x") == []
    assert allows(statements, "iam:CreatePolicy", f"arn:aws:iam::{ACCOUNT}:policy/terrane/x") == []


def test_pass_role_only_to_the_services_the_components_use(statements: list[dict[str, Any]]) -> None:
    (statement,) = [s for s in statements if "iam:PassRole" in listed(s["Action"])]
    assert listed(statement["Action"]) == ["iam:PassRole"]
    assert statement["Condition"] == {
        "StringEquals": {
            "iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
        }
    }


def test_only_the_component_managed_policies_may_be_attached(statements: list[dict[str, Any]]) -> None:
    (statement,) = [s for s in statements if "iam:AttachRolePolicy" in listed(s["Action"])]
    assert listed(statement["Action"]) == ["iam:AttachRolePolicy"]
    assert "AdministratorAccess" not in json.dumps(statement)
    assert set(statement["Condition"]["ArnEquals"]["iam:PolicyARN"]) == {
        f"arn:aws:iam::aws:policy/{name}"
        for name in (
            "AmazonEKSClusterPolicy",
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        )
    }


def test_kms_grants_only_for_aws_services_and_aliases_only_under_terrane(statements: list[dict[str, Any]]) -> None:
    (grant,) = [s for s in statements if "kms:CreateGrant" in listed(s["Action"])]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    alias = f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/terrane/aws-dev"
    assert allows(statements, "kms:CreateAlias", alias)
    assert allows(statements, "kms:CreateAlias", f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/ebs") == []


def test_the_provisioner_cannot_read_secret_values(statements: list[dict[str, Any]]) -> None:
    actions = {a for s in statements if s["Effect"] == "Allow" for a in listed(s["Action"])}
    assert not actions & {"secretsmanager:GetSecretValue", "kms:Decrypt", "kms:GenerateDataKey"}


def test_the_policy_covers_what_the_aws_components_create() -> None:
    """Every role, policy attachment, alias and OIDC provider of the sample AWS plan lies within the policy."""
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    statements = resolve(template(PRINCIPAL, EXTERNAL_ID)["Resources"]["ProvisionerPolicy"]["Properties"][
        "PolicyDocument"
    ])["Statement"]
    rendered = plan(open_project(REPO), "aws-dev")

    def of_type(type_: str) -> list[Any]:
        found = [r for r in rendered.resources if r.type == type_]
        assert found, type_
        return found

    assert {r.inputs.get("path") for r in of_type("aws:iam/role:Role")} == {IAM_PATH}
    role_arns = [
        *(r.inputs["roleArn"] for r in of_type("aws:eks/cluster:Cluster")),
        *(r.inputs["nodeRoleArn"] for r in of_type("aws:eks/nodeGroup:NodeGroup")),
        *(r.inputs["iamRoleArn"] for r in of_type("aws:ec2/flowLog:FlowLog")),
        rendered.outputs["secrets_reader_role_arn"],
    ]
    for arn in role_arns:
        assert allows(statements, "iam:CreateRole", arn), arn
        assert allows(statements, "iam:PutRolePolicy", arn), arn
        assert allows(statements, "iam:PassRole", arn), arn
    for attachment in of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        (statement,) = allows(statements, "iam:AttachRolePolicy", role_arns[0])
        assert attachment.inputs["policyArn"] in statement["Condition"]["ArnEquals"]["iam:PolicyARN"]
    for alias in of_type("aws:kms/alias:Alias"):
        assert allows(statements, "kms:CreateAlias", f"arn:aws:kms:{rendered.region}:{ACCOUNT}:{alias.inputs['name']}")
    for provider in of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider"):
        arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider.inputs['url'].removeprefix('https://')}"
        assert allows(statements, "iam:CreateOpenIDConnectProvider", arn), arn
    for cluster in of_type("aws:eks/cluster:Cluster"):
        assert allows(statements, "eks:CreateCluster", f"arn:aws:eks:{rendered.region}:{ACCOUNT}:cluster/{cluster.name}")


# --- the registry reader ----------------------------------------------------------------------


def test_the_registry_reader_pulls_exactly_the_named_repositories(body: dict[str, Any]) -> None:
    role = body["Resources"]["RegistryReaderRole"]["Properties"]
    (policy,) = role["Policies"]
    assert policy["PolicyName"] == "terrane-registry-reader"
    statements = resolve(policy["PolicyDocument"])["Statement"]
    assert [s for s in statements if "*" in listed(s["Resource"])] == [
        {"Sid": "EcrSignIn", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}
    ]
    (pull,) = [s for s in statements if s["Sid"] == "PullNamedRepositories"]
    assert set(pull["Action"]) == {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                                   "ecr:DescribeImages", "ecr:ListImages", "ecr:DescribeRepositories"}
    assert pull["Resource"] == [f"arn:aws:ecr:*:{ACCOUNT}:repository/team/app",
                                f"arn:aws:ecr:*:{ACCOUNT}:repository/base-images"]
    (own,) = [s for s in statements if s["Sid"] == "ReadOwnRolePolicies"]
    assert set(own["Action"]) == {"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy",
                                  "iam:ListAttachedRolePolicies"}
    assert own["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/terrane-registry-reader"]
    assert len(statements) == 3
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    for push in ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                 "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy"):
        assert allows(statements, push, f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app") == []
    assert allows(statements, "ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/other") == []


def test_without_repositories_there_is_no_registry_reader(bare: dict[str, Any]) -> None:
    assert "RegistryReaderRole" not in bare["Resources"]
    assert "terrane-registry-reader" not in render(bare, "json")


def test_repositories_are_kept_once_in_order() -> None:
    body = template(PRINCIPAL, EXTERNAL_ID, region=REGION, repositories=["bb", "a/x", "bb"])
    assert body["Outputs"]["RegistryRepositories"]["Value"] == "bb,a/x"


@pytest.mark.parametrize(
    "name",
    ["", "a", "Team/app", "team//app", "/app", "app/", "app-", "-app", "a..b", "app:latest", "app@sha", "x" * 257],
)
def test_an_invalid_repository_is_invalid_input(name: str) -> None:
    with pytest.raises(InvalidInputError, match="^--repository: ") as error:
        template(PRINCIPAL, EXTERNAL_ID, region=REGION, repositories=["ok", name])
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", ["ab", "team/app", "a.b_c-d/e_f", "x" * 256, "0/1/2"])
def test_valid_repositories(name: str) -> None:
    template(PRINCIPAL, EXTERNAL_ID, region=REGION, repositories=[name])


# --- the state store --------------------------------------------------------------------------


def test_the_state_bucket(body: dict[str, Any]) -> None:
    bucket = body["Resources"]["StateBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = bucket["Properties"]
    # A generated name: nobody can take it first, and two regions' stacks never collide.
    assert "BucketName" not in properties
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                  "KMSMasterKeyID": {"Fn::GetAtt": ["StateKey", "Arn"]}},
                "BucketKeyEnabled": True,
            }
        ]
    }
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_the_bucket_policy_only_denies_insecure_transport(body: dict[str, Any]) -> None:
    policy = body["Resources"]["StateBucketPolicy"]
    assert policy["Type"] == "AWS::S3::BucketPolicy"
    assert policy["Properties"]["Bucket"] == {"Ref": "StateBucket"}
    assert resolve(policy["Properties"]["PolicyDocument"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{STATE_BUCKET}", f"arn:aws:s3:::{STATE_BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def test_the_state_key_and_its_alias(body: dict[str, Any]) -> None:
    key = body["Resources"]["StateKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 30
    # The account administers the key and its IAM policies grant its use; no other principal is named, in
    # particular not the provisioner (Pulumi uses the key as whoever runs terrane).
    assert resolve(key["Properties"]["KeyPolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersAndIamPoliciesGrantUse",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    assert body["Resources"]["StateKeyAlias"] == {
        "Type": "AWS::KMS::Alias",
        "Properties": {"AliasName": "alias/terrane-state", "TargetKeyId": {"Ref": "StateKey"}},
    }


# --- inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        "",
        "11112222333",
        "1111222233334",
        "arn:aws:iam::111122223333:group/admins",
        "arn:aws:iam::111122223333:role/",
        "arn:aws:sts::111122223333:assumed-role/ci/session",
        "arn:aws:iam::111122223333:role/${AWS::AccountId}",
        "*",
        " 111122223333",
    ],
)
def test_an_invalid_principal_is_invalid_input(principal: str) -> None:
    with pytest.raises(InvalidInputError, match="^--trusted-principal: ") as error:
        template(principal, EXTERNAL_ID, region=REGION)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("external_id", ["", "x", "has space", "semi;colon", "é-unicode", "a" * 1225])
def test_an_invalid_external_id_is_invalid_input_and_not_echoed(external_id: str) -> None:
    with pytest.raises(InvalidInputError, match="^--external-id: ") as error:
        template(PRINCIPAL, external_id, region=REGION)
    message = str(error.value)
    assert "\n" not in message
    assert len(external_id) < 3 or external_id not in message


@pytest.mark.parametrize("region", ["", "EU-WEST-1", "eu-west", "euwest1", "eu-west-1a", "eu_west_1", "westeurope",
                                    "europe-west1", "us-east-1 "])
def test_an_invalid_region_is_invalid_input(region: str) -> None:
    with pytest.raises(InvalidInputError, match="^--region: "):
        template(PRINCIPAL, EXTERNAL_ID, region=region)


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-5"])
def test_valid_regions(region: str) -> None:
    assert template(PRINCIPAL, EXTERNAL_ID, region=region)["Rules"]["StateStoreRegion"]


def test_new_external_ids_are_random_and_valid() -> None:
    ids = {new_external_id() for _ in range(50)}
    assert len(ids) == 50
    for external_id in ids:
        assert re.fullmatch(r"[\w+=,.@:/-]{32,1224}", external_id, re.ASCII)
        template(PRINCIPAL, external_id)


def test_importing_the_module_loads_no_cloud_sdk() -> None:
    sdks = "{'pulumi', 'pulumi_aws', 'boto3'}"
    code = f"import sys, terrane.engine.clouds.aws.bootstrap; print(sorted(m for m in sys.modules if m.split('.')[0] in {sdks}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
