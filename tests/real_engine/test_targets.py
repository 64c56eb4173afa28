"""``--target`` and ``terrane state ENV list`` on the real Pulumi CLI.

The test cloud's program: a component ``core`` holding ``network`` and ``bucket`` (which depends on the network),
and ``token`` beside them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from terrane.stacks.standard import INCARNATION_KEY
from tests.helpers.project import SampleProject
from tests.helpers.testcloud import TestCloud

DYNAMIC = "pulumi-python:dynamic:Resource"
NETWORK = f"urn:pulumi:aws-dev::terrane::terrane:test:Group${DYNAMIC}::network"
BUCKET = f"urn:pulumi:aws-dev::terrane::terrane:test:Group${DYNAMIC}::bucket"
TOKEN = f"urn:pulumi:aws-dev::terrane::{DYNAMIC}::token"


def _ok(result) -> dict:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _held(cli) -> dict[str, dict]:
    """What aws-dev's stack holds, by resource name."""
    return {resource["name"]: resource for resource in _ok(cli("state", "aws-dev", "list", "--json"))["resources"]}


def _incarnation(project: SampleProject) -> str:
    return yaml.safe_load((project.root / "Pulumi.aws-dev.yaml").read_text())["config"][INCARNATION_KEY]


def test_up_with_a_target_changes_only_it(project: SampleProject, cloud: TestCloud, cli) -> None:
    _ok(cli("up", "aws-dev", "--yes", "--json"))
    project.edit_env("aws-dev", lambda env: env["tags"].update(team="payments"))  # the network's tags change
    cloud.edit("aws-dev", "bucket", lambda bucket: bucket.update(retention=30))
    cloud.edit("aws-dev", "network", lambda network: network.update(cidr="10.99.0.0/16"))

    # Refreshed alone, the bucket takes the cloud's value into the state; the network's drift is left unread.
    [refreshed] = _ok(cli("refresh", "aws-dev", "--json", "--target", "bucket"))["results"]
    assert refreshed["changes"].get("update") == 1

    [previewed] = _ok(cli("preview", "aws-dev", "--json", "--target", BUCKET))["results"]
    assert [(step["urn"], step["op"]) for step in previewed["planned"]] == [(BUCKET, "update")]

    [applied] = _ok(cli("up", "aws-dev", "--yes", "--json", "--target", "bucket"))["results"]
    assert applied["changes"].get("update") == 1
    assert cloud.get("aws-dev", "bucket")["retention"] == 7
    network = cloud.get("aws-dev", "network")
    assert network["tags"]["team"] == "platform" and network["cidr"] == "10.99.0.0/16"  # untouched

    # The network's change is still to be made.
    [pending] = _ok(cli("preview", "aws-dev", "--json"))["results"]
    assert [(step["urn"], step["op"]) for step in pending["planned"]] == [(NETWORK, "update")]


def test_destroy_with_a_target_deletes_only_it(project: SampleProject, cloud: TestCloud, cli) -> None:
    _ok(cli("up", "aws-dev", "--yes", "--json"))
    incarnation = _incarnation(project)

    [destroyed] = _ok(cli("destroy", "aws-dev", "--yes", "--json", "--target", "token"))["results"]
    assert destroyed["changes"] == {"delete": 1}
    assert not cloud.path("aws-dev", "token").exists()
    assert cloud.path("aws-dev", "network").exists() and cloud.path("aws-dev", "bucket").exists()
    assert {"network", "bucket", "core"} <= set(_held(cli)) and "token" not in _held(cli)
    assert _incarnation(project) == incarnation  # what remains keeps the names it was made with

    # The bucket depends on the network: the network goes only with it.
    refused = cli("destroy", "aws-dev", "--yes", "--target", "network")
    assert refused.code == 1 and "--target-dependents" in refused.stderr, refused.stderr
    assert cloud.path("aws-dev", "network").exists() and cloud.path("aws-dev", "bucket").exists()
    [both] = _ok(cli("destroy", "aws-dev", "--yes", "--json", "--target", "network", "--target-dependents"))["results"]
    assert both["changes"] == {"delete": 2}
    assert not cloud.path("aws-dev", "network").exists() and not cloud.path("aws-dev", "bucket").exists()


def test_a_target_not_in_the_stack_is_refused_before_anything_runs(project: SampleProject, cloud: TestCloud,
                                                                   cli) -> None:
    never = cli("up", "aws-dev", "--yes", "--target", "network")
    assert never.code == 3
    assert never.stderr.splitlines() == [
        "error: --target: aws-dev has no stack yet, so no resource to target; run terrane up aws-dev first"]
    assert not (project.root / "Pulumi.aws-dev.yaml").exists() and not (cloud.root / "aws-dev").exists()

    _ok(cli("up", "aws-dev", "--yes", "--json"))
    state = project.root / ".terrane" / "state" / ".pulumi"
    before = {path: path.read_bytes() for path in state.rglob("*") if path.is_file()}
    refusal = ("error: --target nosuch: aws-dev's stack holds no such resource (terrane state aws-dev list shows "
               "what it holds)")
    for operation in ("preview", "up", "refresh", "destroy"):
        refused = cli(operation, "aws-dev", *(("--yes",) if operation in ("up", "destroy") else ()), "--target", "nosuch")
        assert refused.code == 3 and refused.stderr.splitlines() == [refusal]
    assert {path: path.read_bytes() for path in state.rglob("*") if path.is_file()} == before  # no update, no lock
    assert cloud.path("aws-dev", "token").exists()


def test_state_list_after_an_up_lists_the_resources_with_their_ids(project: SampleProject, cloud: TestCloud, cli,
                                                                   pulumi_root: Path) -> None:
    assert cli("state", "aws-dev", "list").stderr.startswith("aws-dev has no stack yet")
    _ok(cli("up", "aws-dev", "--yes", "--json"))
    held = _held(cli)
    for name in ("network", "bucket", "token"):
        assert held[name]["type"] == DYNAMIC and held[name]["id"] == name and held[name]["custom"] is True
        assert held[name]["protected"] is False
    assert held["network"]["urn"] == NETWORK and held["network"]["parent"] == held["core"]["urn"]
    assert held["core"]["type"] == "terrane:test:Group" and held["core"]["id"] is None
    assert held["terrane-aws-dev"]["type"] == "pulumi:pulumi:Stack"

    # Changing the state by hand is Pulumi's, run as docs/operations.md says: the backend and passphrase terrane uses.
    environ = {**os.environ, "PULUMI_BACKEND_URL": (project.root / ".terrane" / "state").as_uri(),
               "PULUMI_CONFIG_PASSPHRASE_FILE": str(project.root / ".terrane" / "passphrase")}
    subprocess.run([pulumi_root / "bin" / "pulumi", "state", "protect", "--stack", "aws-dev", TOKEN, "--yes"],
                   cwd=project.root, env=environ, check=True, capture_output=True)
    table = cli("state", "aws-dev", "list")
    assert table.code == 0, table.stderr
    rows = {line.split()[1]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows["token"] == [DYNAMIC, "token", "token", "yes"]
    assert rows["network"] == [DYNAMIC, "network", "network", "no"]
    assert rows["core"] == ["terrane:test:Group", "core", "-", "no"]
    assert table.stdout.splitlines()[0].split() == ["TYPE", "NAME", "ID", "PROTECTED"]


def test_state_list_of_a_state_that_does_not_read_names_the_file(project: SampleProject, cli) -> None:
    _ok(cli("up", "aws-dev", "--yes", "--json"))
    state = project.root / ".terrane" / "state" / ".pulumi" / "stacks" / "terrane" / "aws-dev.json"
    state.write_text('{"version": 3, "checkpoint": {')
    for args in (("state", "aws-dev", "list"), ("destroy", "aws-dev", "--yes", "--target", "token")):
        failed = cli(*args)
        assert failed.code == 1
        assert f"error: aws-dev: state unreadable: {state} (" in failed.stderr, failed.stderr
