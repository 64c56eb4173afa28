"""``terrane drift`` on the real Pulumi CLI: each way the cloud can drift, reports, ignore rules, remediation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.drift.history import project_history
from tests.helpers.project import SENTINELS, SampleProject
from tests.helpers.testcloud import TestCloud

PREFIX = "urn:pulumi:aws-dev::terrane::"
NETWORK = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::network"
BUCKET = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::bucket"
TOKEN = f"{PREFIX}pulumi-python:dynamic:Resource::token"
DYNAMIC = "pulumi-python:dynamic:Resource"


@pytest.fixture
def deployed(project: SampleProject, cloud: TestCloud, cli) -> TestCloud:
    result = cli("up", "aws-dev", "--yes")
    assert result.code == 0, result.stderr
    return cloud


def _drift(cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("drift", "aws-dev", "--json", *args)
    assert result.code in (0, 2), result.stderr
    for secret in SENTINELS:
        assert secret not in result.stdout + result.stderr
    (env,) = json.loads(result.stdout)["environments"]
    return result.code, env


def _properties(env: dict[str, Any], urn: str) -> dict[str, dict[str, Any]]:
    (resource,) = [resource for resource in env["resources"] if resource["urn"] == urn]
    return {prop["path"]: prop for prop in resource["properties"]}


def test_in_sync_twice_without_false_positives(deployed: TestCloud, cli, project: SampleProject) -> None:
    stack_file = (project.root / "Pulumi.aws-dev.yaml").read_bytes()
    for _ in range(2):
        code, env = _drift(cli)
        assert (code, env["status"], env["resources"]) == (0, "in_sync", [])
    # A drift check with an unchanged account rewrites no config; each run is one line of history.
    assert (project.root / "Pulumi.aws-dev.yaml").read_bytes() == stack_file
    runs = project_history(project.root, {}).runs()
    assert [run["environments"][0]["status"] for run in runs] == ["in_sync", "in_sync"]


def test_every_kind_of_drift_in_one_report(deployed: TestCloud, cli, tmp_path: Path) -> None:
    def network(properties: dict[str, Any]) -> None:
        properties["cidr"] = "10.99.0.0/16"                          # a changed property
        properties["spec"]["nodes"]["max"] = 9                       # a nested one
        properties["tags"]["kubernetes.io/role"] = "public"          # a key containing dots
        properties["owner"] = "someone"                              # present only in the cloud

    def token(properties: dict[str, Any]) -> None:
        properties["value"] = "rotated-behind-our-back"              # a secret
        properties["credentials"]["password"] = "rotated-behind-our-back"  # inside a secret object

    deployed.edit("aws-dev", "network", network)
    deployed.edit("aws-dev", "token", token)
    deployed.delete("aws-dev", "bucket")                             # gone from the cloud
    markdown, junit = tmp_path / "drift.md", tmp_path / "drift.xml"

    code, env = _drift(cli, "--markdown", str(markdown), "--junit", str(junit))

    assert (code, env["status"]) == (2, "drifted")
    changes = {resource["urn"]: (resource["type"], resource["change"]) for resource in env["resources"]}
    assert changes == {NETWORK: (DYNAMIC, "update"), BUCKET: (DYNAMIC, "delete"), TOKEN: (DYNAMIC, "update")}
    assert _properties(env, NETWORK) == {
        "cidr": {"path": "cidr", "kind": "update", "expected": "10.20.0.0/16", "actual": "10.99.0.0/16"},
        "spec.nodes.max": {"path": "spec.nodes.max", "kind": "update", "expected": 3, "actual": 9},
        'tags["kubernetes.io/role"]': {"path": 'tags["kubernetes.io/role"]', "kind": "update",
                                       "expected": "internal", "actual": "public"},
        "owner": {"path": "owner", "kind": "add", "expected": None, "actual": "someone"},
    }
    assert _properties(env, TOKEN) == {
        "value": {"path": "value", "kind": "update", "expected": "[secret]", "actual": "[secret]"},
        "credentials.password": {"path": "credentials.password", "kind": "update",
                                 "expected": "[secret]", "actual": "[secret]"},
    }
    for report in (markdown.read_text(), junit.read_text()):
        assert "kubernetes.io/role" in report and "rotated-behind-our-back" not in report
        assert not any(secret in report for secret in SENTINELS)


def test_a_resource_deleted_in_the_cloud_is_reported_once_as_delete(deployed: TestCloud, cli) -> None:
    deployed.delete("aws-dev", "bucket")
    code, env = _drift(cli)
    assert code == 2
    assert env["resources"] == [{"urn": BUCKET, "type": DYNAMIC, "change": "delete", "properties": []}]


def test_ignore_rules_then_remediation(deployed: TestCloud, cli, project: SampleProject) -> None:
    deployed.edit("aws-dev", "network", lambda network: network["tags"].update(team="someone"))
    deployed.edit("aws-dev", "bucket", lambda bucket: bucket.update(retention=30))
    project.edit_env("aws-dev", lambda env: env["drift"].update(ignore=[
        {"resource": DYNAMIC, "property": "tags.team", "reason": "owned by the team"}]))

    code, env = _drift(cli)
    assert (code, env["ignored"]) == (2, 1)
    assert [resource["urn"] for resource in env["resources"]] == [BUCKET]

    # --remediate up: the code wins. It refreshes first (the drift check left the state as
    # the code last applied it) and then applies the whole program, ignored properties too.
    remediated = cli("drift", "aws-dev", "--remediate", "up")
    assert remediated.code == 2, remediated.stderr
    assert "aws-dev: remediation by up done" in remediated.stderr
    assert deployed.get("aws-dev", "bucket")["retention"] == 7
    assert deployed.get("aws-dev", "network")["tags"]["team"] == "platform"
    code, env = _drift(cli)
    assert (code, env["status"], env["ignored"]) == (0, "in_sync", 0)

    # --remediate refresh: the cloud wins; the state takes the cloud's value and drift is gone.
    deployed.edit("aws-dev", "bucket", lambda bucket: bucket.update(versioning=False))
    remediated = cli("drift", "aws-dev", "--remediate", "refresh")
    assert remediated.code == 2, remediated.stderr
    assert "aws-dev: remediation by refresh done" in remediated.stderr
    assert deployed.get("aws-dev", "bucket")["versioning"] is False
    code, env = _drift(cli)
    assert (code, env["status"]) == (0, "in_sync")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_never_deployed_creates_no_stack_and_writes_no_file(project: SampleProject, cli, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_CLIENT_SECRET")  # nothing to check needs no credentials either
    before = _tree(tmp_path)
    result = cli("drift", "--all", "--json")
    assert result.code == 0, result.stderr
    statuses = {env["environment"]: env["status"] for env in json.loads(result.stdout)["environments"]}
    assert statuses == {"aws-dev": "not_deployed", "azure-dev": "not_deployed", "gcp-dev": "not_deployed"}
    assert _tree(tmp_path) == before


def test_one_deployed_environment_among_never_deployed_ones(deployed: TestCloud, project: SampleProject, cli,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The backend says azure-dev has no stack: it needs no credentials to be found not deployed.
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    result = cli("drift", "--all", "--json", "--parallel", "3")
    assert result.code == 0, result.stderr
    statuses = {env["environment"]: env["status"] for env in json.loads(result.stdout)["environments"]}
    assert statuses == {"aws-dev": "in_sync", "azure-dev": "not_deployed", "gcp-dev": "not_deployed"}
    assert sorted(path.name for path in project.root.glob("Pulumi.*.yaml")) == ["Pulumi.aws-dev.yaml"]
    stacks = project.root / ".terrane" / "state" / ".pulumi" / "stacks" / "terrane"
    assert sorted(path.name for path in stacks.glob("*.json")) == ["aws-dev.json"]
