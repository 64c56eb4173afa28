"""Reading permissions offline: IAM policy documents and Azure RBAC permissions, as ``accounts verify`` does."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terrane.engine.clouds.aws.policies import aws_grants, statements
from terrane.engine.clouds.azure.registry_verify import azure_grant
from terrane.engine.clouds.wildcards import wildcard_match

REPO = "arn:aws:ecr:us-east-1:123456789012:repository/web"


def grants(*statement: dict[str, Any], action: str = "ecr:PutImage") -> list[str]:
    document = {"Version": "2012-10-17", "Statement": list(statement)}
    return [str(grant) for grant in aws_grants(statements(document, "inline policy p"), action, "ecr", [REPO])]


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@given(st.text(alphabet="ab/:*?", max_size=8), st.text(alphabet="ab/:", max_size=8))
def test_wildcards_match_as_fnmatch_does_without_brackets(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) == fnmatch.fnmatchcase(text, pattern)


def test_actions_ignore_case_and_resources_do_not() -> None:
    assert wildcard_match("ECR:put*", "ecr:PutImage", ignore_case=True)
    assert not wildcard_match("arn:aws:ecr:*:*:repository/Web", REPO)


@pytest.mark.parametrize("action", ["ecr:PutImage", ["ecr:GetAuthorizationToken", "ecr:PutImage"], "ecr:*", "*",
                                    "ecr:Put*", "ECR:putimage", "ecr:P?tImage"])
def test_actions_that_allow_pushing(action: Any) -> None:
    assert grants(allow(action)) == ["statement 1 of inline policy p allows ecr:PutImage on *"]


@pytest.mark.parametrize("action", ["ecr:Get*", ["ecr:BatchGetImage", "ecr:ListImages"], "s3:*", "ecr:PutImageX"])
def test_actions_that_do_not(action: Any) -> None:
    assert grants(allow(action)) == []


def test_not_action_allows_everything_it_does_not_name() -> None:
    pull_only = {"Sid": "AllButReads", "Effect": "Allow", "NotAction": ["ecr:Get*", "ecr:BatchGet*"], "Resource": "*"}
    assert grants(pull_only) == ["statement 'AllButReads' of inline policy p allows ecr:PutImage on *"]
    assert grants({**pull_only, "NotAction": "ecr:*"}) == []


@pytest.mark.parametrize(("resource", "reaches"), [
    (REPO, True),
    ("arn:aws:ecr:*:123456789012:repository/*", True),
    ("arn:aws:ecr:eu-west-1:999999999999:repository/other", True),  # another repository is still a push
    ("arn:*:repository/web", True),  # a wildcard before the service field may span into it
    ("arn:aws:e*", True),
    ("arn:aws:s3:::images/*", False),
    ("arn:aws:iam::123456789012:role/x", False),
    ("arn:aws:ecr-public::123456789012:repository/web", False),
])
def test_resources_that_may_name_a_repository(resource: str, reaches: bool) -> None:
    assert bool(grants(allow("ecr:PutImage", [resource]))) is reaches


def test_not_resource_reaches_unless_it_excludes_the_whole_service() -> None:
    assert grants({"Effect": "Allow", "Action": "ecr:*", "NotResource": "arn:aws:s3:::*"}) == [
        "statement 1 of inline policy p allows ecr:PutImage on every resource but arn:aws:s3:::*"]
    assert grants({"Effect": "Allow", "Action": "ecr:*", "NotResource": ["arn:aws:ecr:*"]}) == []


def test_a_deny_cancels_only_what_it_certainly_covers() -> None:
    everything = allow("ecr:*")
    assert grants(everything, {"Effect": "Deny", "Action": "ecr:PutImage", "Resource": "*"}) == []
    assert grants(allow("ecr:*", REPO), {"Effect": "Deny", "Action": "ecr:*", "Resource": "arn:aws:ecr:*"}) == []
    assert grants(everything, {"Effect": "Deny", "NotAction": "ecr:Get*", "Resource": "*"}) == []
    # A deny of one repository leaves the others; a conditional deny may not apply; NotResource is not read.
    assert grants(everything, {"Effect": "Deny", "Action": "ecr:*", "Resource": REPO}) != []
    assert grants(everything, {"Effect": "Deny", "Action": "ecr:*", "Resource": "*",
                               "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}) != []
    assert grants(everything, {"Effect": "Deny", "Action": "ecr:*", "NotResource": "arn:aws:s3:::*"}) != []
    assert grants(everything, {"Effect": "Deny", "Action": "ecr:*", "Resource": "arn:aws:ecr:us-?ast-1:*"}) != []


def test_a_conditional_allow_counts_and_says_so() -> None:
    conditional = allow("ecr:PutImage", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}})
    assert grants(conditional) == ["statement 1 of inline policy p allows ecr:PutImage on * (under a condition)"]


def test_documents_as_json_text_with_one_statement() -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": allow("ecr:PutImage")})
    found = statements(document, "managed policy arn:aws:iam::aws:policy/X")
    assert [statement.name for statement in found] == ["statement 1 of managed policy arn:aws:iam::aws:policy/X"]
    assert statements({"Statement": ["not a statement", allow("*")]}, "p")[0].number == 2
    assert statements("[]", "p") == []


AZURE_PUSH = "Microsoft.ContainerRegistry/registries/push/write"


@pytest.mark.parametrize(("permissions", "expected"), [
    ([{"actions": ["*"]}], "actions: '*'"),
    ([{"actions": ["microsoft.containerregistry/registries/*"]}], "actions: 'microsoft.containerregistry/registries/*'"),
    ([{"actions": ["Microsoft.ContainerRegistry/*"], "notActions": ["Microsoft.ContainerRegistry/registries/push/*"]}],
     None),
    ([{"actions": ["*"], "notActions": ["*"]}, {"dataActions": [AZURE_PUSH]}], f"dataActions: '{AZURE_PUSH}'"),
    ([{"dataActions": ["*"], "notDataActions": [AZURE_PUSH]}], None),
    ([{"actions": "not a list"}, {}], None),
])
def test_azure_permissions(permissions: list[dict[str, Any]], expected: str | None) -> None:
    assert azure_grant(permissions, AZURE_PUSH) == expected


def test_grants_on_the_given_arns_only() -> None:
    role = "arn:aws:iam::123456789012:role/teams/reader"

    def self_grants(*statement: dict[str, Any]) -> list[str]:
        found = statements({"Statement": list(statement)}, "p")
        return [str(grant) for grant in aws_grants(found, "iam:PutRolePolicy", "iam", [role], elsewhere=False)]

    assert self_grants(allow("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/teams/*")) != []
    assert self_grants(allow("iam:*", "*")) != []
    assert self_grants(allow("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/other")) == []
    assert self_grants({"Effect": "Allow", "Action": "iam:*", "NotResource": "arn:aws:iam::*:role/teams/*"}) == []
    assert self_grants({"Effect": "Allow", "Action": "iam:*", "NotResource": "arn:aws:iam::*:role/other"}) != []
