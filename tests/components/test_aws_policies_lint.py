"""The IAM policies the AWS components generate, linted by parliament (pinned in pyproject.toml's test extra).

The sample's aws-dev is rendered offline, and every identity or key policy its program creates is linted as
the provider would send it: the flow-log role's, the nodes' pull policy, the secret reader's, and the key
policies. (The bootstrap template's own policies are linted in tests/engine/clouds/aws.) A finding fails the
test unless EXPECTED names it, with why it is intended.
"""

from __future__ import annotations

import json
from typing import Any

import parliament
import pytest

from terrane.engine.offline.render import plan
from terrane.engine.project import open_project
from tests.helpers.project import REPO

# (resource, issue) -> why it is intended.
EXPECTED: dict[tuple[str, str], str] = {
    # In a key policy, "Resource": "*" is the key itself; the account root administers its own key.
    ("aws-dev-flow-logs (aws:kms/key:Key)", "RESOURCE_STAR"): "a key policy's * is the key",
    # The flow-log key's statement for CloudWatch Logs is AWS's documented one
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): kms:Describe* and
    # an ArnLike on the log group's encryption context, a key parliament types as a string.
    ("aws-dev-flow-logs (aws:kms/key:Key)", "UNKNOWN_CONDITION_FOR_ACTION"): "AWS's documented key policy for Logs",
    ("aws-dev-flow-logs (aws:kms/key:Key)", "MISMATCHED_TYPE"): "AWS's documented key policy for Logs",
}
POLICIES = {"aws:iam/rolePolicy:RolePolicy": "policy", "aws:kms/key:Key": "policy"}


@pytest.fixture(scope="module")
def documents() -> dict[str, Any]:
    rendered = plan(open_project(REPO), "aws-dev")
    return {f"{r.name} ({r.type})": json.loads(r.inputs[POLICIES[r.type]])
            for r in rendered.resources if r.type in POLICIES and r.inputs.get(POLICIES[r.type])}


def test_every_generated_policy_is_linted(documents: dict[str, Any]) -> None:
    assert set(documents) == {
        "aws-dev-flow-logs (aws:iam/rolePolicy:RolePolicy)",
        "aws-dev-node-pull (aws:iam/rolePolicy:RolePolicy)",
        "aws-dev-reader (aws:iam/rolePolicy:RolePolicy)",
        "aws-dev-flow-logs (aws:kms/key:Key)",
    }


def test_parliament_finds_nothing_unintended(documents: dict[str, Any]) -> None:
    found = [(name, finding.issue, finding.detail)
             for name, document in documents.items()
             for finding in parliament.analyze_policy_string(json.dumps(document)).findings]
    assert [finding for finding in found if finding[:2] not in EXPECTED] == []
