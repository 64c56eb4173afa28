"""The bootstrap template's IAM policies, linted by parliament (pinned in pyproject.toml's test extra).

Every policy document of the template is linted as CloudFormation would deploy it (``Fn::Sub`` and
``Fn::GetAtt`` resolved): the provisioner's managed policy and its inline guardrails, the permissions
boundary, the registry reader's inline policy, the state key's policy and the state bucket's policy.
Trust policies are not: parliament requires a Resource in every statement, which a trust policy never has.

A finding fails the test unless EXPECTED names it, with why it is intended. Parliament's action database
(a copy of AWS's service authorization reference) is also the reference for which IAM actions support
the ``iam:PermissionsBoundary`` condition key.
"""

from __future__ import annotations

import json
from typing import Any

import parliament
import pytest

from terrane.engine.clouds.aws.bootstrap import template
from tests.engine.clouds.aws.test_bootstrap import (
    BOUNDARY,
    BOUNDARY_KEYED,
    EXTERNAL_ID,
    PRINCIPAL,
    REGION,
    REPOSITORIES,
    listed,
    resolve,
)

# Actions the template uses that the pinned parliament's database does not know yet. None today: when one
# appears (a new EKS or ECR action, say), name it here with the date AWS documented it, rather than
# accepting UNKNOWN_ACTION findings as a class.
KNOWN_MISSING_ACTIONS: frozenset[str] = frozenset()

# Intended findings: (document, issue) -> a check of the finding's detail, and why it is intended.
EXPECTED: dict[tuple[str, str], tuple[Any, str]] = {
    # ec2:Describe* also covers a few Describe actions that take resource ARNs; the family stays whole on "*".
    ("provisioner", "RESOURCE_STAR"): (
        lambda detail: all(action.startswith("ec2:Describe") for action in detail),
        "ec2:Describe* is one read-only family on *",
    ),
    ("boundary", "RESOURCE_STAR"): (
        lambda detail: all(action.startswith("ec2:Describe") for action in detail),
        "ec2:Describe* is one read-only family on *",
    ),
    # AWS's own examples, and the service authorization reference's older entry, use StringEquals for
    # iam:PermissionsBoundary; parliament's newer entry types the key as an ARN and suggests ArnEquals.
    ("provisioner", "MISMATCHED_TYPE_BUT_USABLE"): (
        lambda detail: detail == "Type mismatch: StringEquals requires a value of type String but given Arn",
        "iam:PermissionsBoundary with StringEquals",
    ),
    # In a key policy, "Resource": "*" is the key itself; the account root administers its own key.
    ("state key", "RESOURCE_STAR"): (
        lambda detail: all(action.startswith("kms:") for action in detail),
        "a key policy's * is the key",
    ),
}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    resources = resolve(template(PRINCIPAL, EXTERNAL_ID, region=REGION, repositories=REPOSITORIES)["Resources"])
    (guardrails,) = resources["ProvisionerRole"]["Properties"]["Policies"]
    (reader,) = resources["RegistryReaderRole"]["Properties"]["Policies"]
    return {
        "provisioner": resources["ProvisionerPolicy"]["Properties"]["PolicyDocument"],
        "guardrails": guardrails["PolicyDocument"],
        "boundary": resources["PermissionsBoundary"]["Properties"]["PolicyDocument"],
        "registry reader": reader["PolicyDocument"],
        "state key": resources["StateKey"]["Properties"]["KeyPolicy"],
        "state bucket": resources["StateBucketPolicy"]["Properties"]["PolicyDocument"],
    }


def _findings(document: dict[str, Any]) -> list[Any]:
    return parliament.analyze_policy_string(json.dumps(document)).findings


def test_parliament_is_the_pinned_version() -> None:
    assert parliament.__version__ == "1.6.4"


@pytest.mark.parametrize("name", ["provisioner", "guardrails", "boundary", "registry reader", "state key",
                                  "state bucket"])
def test_every_policy_lints_clean_but_for_the_expected_findings(documents: dict[str, dict[str, Any]],
                                                                name: str) -> None:
    for finding in _findings(documents[name]):
        if finding.issue == "UNKNOWN_ACTION" and KNOWN_MISSING_ACTIONS:
            assert str(finding.detail).split()[-1] in KNOWN_MISSING_ACTIONS, finding
            continue
        expected = EXPECTED.get((name, finding.issue))
        assert expected is not None, f"{name}: {finding.issue} {finding.detail} at {finding.location}"
        check, why = expected
        assert check(finding.detail), f"{name}: {finding.issue} is expected only as {why}: {finding.detail}"


def test_the_expected_findings_are_still_found(documents: dict[str, dict[str, Any]]) -> None:
    """An entry of EXPECTED that parliament no longer reports goes, so the list never hides more than it must."""
    found = {(name, finding.issue) for name, document in documents.items() for finding in _findings(document)}
    assert set(EXPECTED) <= found
    # One StringEquals per statement that conditions on the boundary.
    boundary_conditions = [s for s in documents["provisioner"]["Statement"]
                           if "iam:PermissionsBoundary" in s.get("Condition", {}).get("StringEquals", {})]
    mismatches = [f for f in _findings(documents["provisioner"]) if f.issue == "MISMATCHED_TYPE_BUT_USABLE"]
    assert len(mismatches) == len(boundary_conditions) == 2


def test_known_missing_actions_are_still_missing() -> None:
    known = {f"{service['prefix']}:{privilege['privilege']}".lower()
             for service in parliament.iam_definition for privilege in service["privileges"]}
    assert not {action.lower() for action in KNOWN_MISSING_ACTIONS} & known


def test_every_action_of_the_template_is_in_parliaments_database(documents: dict[str, dict[str, Any]]) -> None:
    """So the lint above judged every action; a wildcard must match at least one known action."""
    for name, document in documents.items():
        for statement in document["Statement"]:
            for action in listed(statement["Action"]):
                if action in KNOWN_MISSING_ACTIONS or action == "*":
                    continue
                assert parliament.expand_action(action), f"{name}: {action}"


def test_parliament_cannot_lint_trust_policies() -> None:
    """Why the roles' trust policies are left out: parliament wants a Resource in every statement."""
    resources = resolve(template(PRINCIPAL, EXTERNAL_ID, region=REGION)["Resources"])
    trust = resources["ProvisionerRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert [(f.issue, f.detail) for f in _findings(trust)] == [
        ("MALFORMED", "Statement contains neither Resource nor NotResource")]


# --- the permissions boundary's condition key, by the service authorization reference ---------


def _role_actions_supporting(key: str) -> set[str]:
    # The database holds IAM twice (two service names of the reference): both count.
    return {
        f"iam:{privilege['privilege']}"
        for service in parliament.iam_definition
        if service["prefix"] == "iam"
        for privilege in service["privileges"]
        if "Role" in privilege["privilege"]
        and any(key in resource["condition_keys"] for resource in privilege["resource_types"])
    }


def test_the_role_actions_that_support_the_boundary_key_are_the_ones_the_template_conditions() -> None:
    assert _role_actions_supporting("iam:PermissionsBoundary") == BOUNDARY_KEYED


def test_every_allowed_action_that_supports_the_key_carries_the_boundary_condition(
    documents: dict[str, dict[str, Any]],
) -> None:
    keyed = _role_actions_supporting("iam:PermissionsBoundary")
    allowed = [s for s in documents["provisioner"]["Statement"] if s["Effect"] == "Allow"]
    conditioned = {a for s in allowed for a in listed(s["Action"]) if a in keyed}
    # All of them, but DeleteRolePermissionsBoundary, which is denied outright.
    assert conditioned == keyed - {"iam:DeleteRolePermissionsBoundary"}
    for statement in allowed:
        if set(listed(statement["Action"])) & keyed:
            assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY, statement["Sid"]
    (path_only,) = [s for s in allowed if s["Sid"] == "IamTerraneRoles"]
    assert not set(path_only["Action"]) & keyed
    assert "iam:DeleteRolePermissionsBoundary" in [
        a for s in documents["guardrails"]["Statement"] if s["Effect"] == "Deny" for a in listed(s["Action"])]
