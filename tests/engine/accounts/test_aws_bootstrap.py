"""The AWS account bootstrap template: cfn-lint clean, trust locked to one principal, least privilege."""

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

from terrane.engine.accounts.aws_bootstrap import IAM_PATH, ROLE_NAMES, new_external_id, render, template
from terrane.engine.errors import InvalidInputError
from tests.helpers.project import REPO

PRINCIPAL = "arn:aws:iam::111122223333:role/ci/terrane-deployer"
EXTERNAL_ID = "terrane-Xq3_5fE2.example@ci"
ACCOUNT = "123456789012"
ROLES = {"ProvisionerRole": "provisioner", "DriftRole": "drift", "RegistryReaderRole": "registry"}
# The only statements allowed Resource "*": reads, and creating a key whose ARN does not exist yet.
UNSCOPED_ACTIONS = {"sts:GetCallerIdentity", "ec2:Describe*", "kms:CreateKey", "kms:ListAliases"}


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    return template(PRINCIPAL, EXTERNAL_ID)


@pytest.fixture(scope="module")
def statements(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The provisioner policy's statements, with Fn::Sub resolved for account 123456789012 in ``aws``."""
    policy = body["Resources"]["ProvisionerPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "ProvisionerRole"}]
    return _resolve(policy["PolicyDocument"])["Statement"]


def _resolve(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        return value["Fn::Sub"].replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", ACCOUNT)
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _allows(statements: list[dict[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    """The statements that allow ``action`` on ``resource`` (IAM wildcards, conditions not evaluated)."""
    return [
        s
        for s in statements
        if any(fnmatchcase(action, a) for a in _listed(s["Action"]))
        and any(fnmatchcase(resource, r) for r in _listed(s["Resource"]))
    ]


# --- cfn-lint ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "principal"),
    # One run per format; the JSON run also covers the account-id principal (an Fn::Sub).
    [("yaml", PRINCIPAL), ("json", "111122223333")],
)
def test_cfn_lint_finds_nothing(fmt: str, principal: str, tmp_path: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    assert cfn_lint.exists(), f"cfn-lint is a test dependency; install it next to {sys.executable}"
    path = tmp_path / f"terrane-bootstrap.{fmt}"
    path.write_text(render(template(principal, new_external_id()), fmt))  # type: ignore[arg-type]
    result = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, timeout=120, check=False)
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
    resources = template(principal, EXTERNAL_ID)["Resources"]
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
    assert resources["RegistryReaderRole"]["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}
    ]
    assert resources["ProvisionerPolicy"]["Type"] == "AWS::IAM::ManagedPolicy"


def test_outputs_are_the_role_arns_and_never_the_external_id(body: dict[str, Any]) -> None:
    assert body["Outputs"] == {
        name: {"Description": body["Outputs"][name]["Description"], "Value": {"Fn::GetAtt": [logical, "Arn"]}}
        for name, logical in [
            ("ProvisionerRoleArn", "ProvisionerRole"),
            ("DriftRoleArn", "DriftRole"),
            ("RegistryReaderRoleArn", "RegistryReaderRole"),
        ]
    }
    # Only the three trust conditions carry it.
    assert render(body, "json").count(EXTERNAL_ID) == 3


def test_description_and_metadata_say_how_to_use_it(body: dict[str, Any]) -> None:
    assert "terrane" in body["Description"]
    usage = " ".join(body["Metadata"]["terrane"]["Usage"])
    assert "any region" in usage
    assert "CAPABILITY_NAMED_IAM" in usage
    assert "terrane accounts link aws NAME --account-id ID --role-arn <ProvisionerRoleArn output>" in usage
    assert "--external-id env:" in usage


# --- the provisioner's policy -----------------------------------------------------------------


def test_statements_have_unique_sids_and_fit_the_managed_policy_size_limit(
    body: dict[str, Any], statements: list[dict[str, Any]]
) -> None:
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)
    assert all(s["Effect"] == "Allow" for s in statements)
    # IAM counts a managed policy's characters without whitespace, after CloudFormation substitutes;
    # the longest partition name gives the worst case.
    document = json.dumps(body["Resources"]["ProvisionerPolicy"]["Properties"]["PolicyDocument"])
    document = re.sub(r'\{"Fn::Sub": ("[^"]*")\}', r"\1", document).replace("${AWS::Partition}", "aws-us-gov")
    assert len(re.sub(r"\s", "", document.replace("${AWS::AccountId}", ACCOUNT))) <= 6144


def test_no_wildcard_actions_and_no_unscoped_writes(statements: list[dict[str, Any]]) -> None:
    for statement in statements:
        actions = _listed(statement["Action"])
        # No "*" nor a whole service ("ec2:*"); Describe* is the one read-only family allowed.
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a) or a == "ec2:Describe*" for a in actions), actions
        if "*" in _listed(statement["Resource"]):
            assert set(actions) <= UNSCOPED_ACTIONS, statement["Sid"]
    iam = [s for s in statements if any(a.startswith("iam:") for a in _listed(s["Action"]))]
    assert iam and all("*" not in _listed(s["Resource"]) for s in iam)


def test_iam_rights_touch_only_terrane_roles_eks_oidc_providers_and_eks_service_linked_roles(
    statements: list[dict[str, Any]],
) -> None:
    terrane_roles = f"arn:aws:iam::{ACCOUNT}:role/terrane/*"
    oidc_providers = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.*.amazonaws.com/id/*"
    for statement in statements:
        actions = _listed(statement["Action"])
        if not any(a.startswith("iam:") for a in actions):
            continue
        assert all(a.startswith("iam:") for a in actions), statement["Sid"]
        resources = _listed(statement["Resource"])
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
            assert resources == [terrane_roles], statement["Sid"]

    # Its own role, the other bootstrap roles and any other role of the account are out of reach.
    for name in ROLE_NAMES.values():
        assert _allows(statements, "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/{name}") == []
        assert _allows(statements, "iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/{name}") == []
    assert _allows(statements, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin") == []
    assert _allows(statements, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x") == []


def test_pass_role_only_to_the_services_the_components_use(statements: list[dict[str, Any]]) -> None:
    (statement,) = [s for s in statements if "iam:PassRole" in _listed(s["Action"])]
    assert _listed(statement["Action"]) == ["iam:PassRole"]
    assert statement["Condition"] == {
        "StringEquals": {
            "iam:PassedToService": ["eks.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
        }
    }


def test_only_the_component_managed_policies_may_be_attached(statements: list[dict[str, Any]]) -> None:
    (statement,) = [s for s in statements if "iam:AttachRolePolicy" in _listed(s["Action"])]
    assert _listed(statement["Action"]) == ["iam:AttachRolePolicy"]
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
    (grant,) = [s for s in statements if "kms:CreateGrant" in _listed(s["Action"])]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    alias = f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/terrane/aws-dev"
    assert _allows(statements, "kms:CreateAlias", alias)
    assert _allows(statements, "kms:CreateAlias", f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/ebs") == []


def test_the_provisioner_cannot_read_secret_values(statements: list[dict[str, Any]]) -> None:
    actions = {a for s in statements for a in _listed(s["Action"])}
    assert not actions & {"secretsmanager:GetSecretValue", "kms:Decrypt", "kms:GenerateDataKey"}


def test_the_policy_covers_what_the_aws_components_create() -> None:
    """Every role, policy attachment, alias and OIDC provider of the sample AWS plan lies within the policy."""
    from terrane.engine.offline.render import plan
    from terrane.engine.project import open_project

    statements = _resolve(template(PRINCIPAL, EXTERNAL_ID))["Resources"]["ProvisionerPolicy"]["Properties"][
        "PolicyDocument"
    ]["Statement"]
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
        assert _allows(statements, "iam:CreateRole", arn), arn
        assert _allows(statements, "iam:PassRole", arn), arn
    for attachment in of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        (statement,) = _allows(statements, "iam:AttachRolePolicy", role_arns[0])
        assert attachment.inputs["policyArn"] in statement["Condition"]["ArnEquals"]["iam:PolicyARN"]
    for alias in of_type("aws:kms/alias:Alias"):
        assert _allows(statements, "kms:CreateAlias", f"arn:aws:kms:{rendered.region}:{ACCOUNT}:{alias.inputs['name']}")
    for provider in of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider"):
        arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider.inputs['url'].removeprefix('https://')}"
        assert _allows(statements, "iam:CreateOpenIDConnectProvider", arn), arn


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
        template(principal, EXTERNAL_ID)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("external_id", ["", "x", "has space", "semi;colon", "é-unicode", "a" * 1225])
def test_an_invalid_external_id_is_invalid_input_and_not_echoed(external_id: str) -> None:
    with pytest.raises(InvalidInputError, match="^--external-id: ") as error:
        template(PRINCIPAL, external_id)
    message = str(error.value)
    assert "\n" not in message
    assert len(external_id) < 3 or external_id not in message


def test_new_external_ids_are_random_and_valid() -> None:
    ids = {new_external_id() for _ in range(50)}
    assert len(ids) == 50
    for external_id in ids:
        assert re.fullmatch(r"[\w+=,.@:/-]{32,1224}", external_id, re.ASCII)
        template(PRINCIPAL, external_id)


def test_importing_the_module_loads_no_cloud_sdk() -> None:
    sdks = "{'pulumi', 'pulumi_aws', 'boto3'}"
    code = f"import sys, terrane.engine.accounts.aws_bootstrap; print(sorted(m for m in sys.modules if m.split('.')[0] in {sdks}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
