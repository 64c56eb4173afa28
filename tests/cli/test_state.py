"""``terrane state ENV list``: what a stack holds, read from the backend (here the stand-in's; the real CLI's ids
and protection are proven in tests/real_engine/test_targets.py)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.project import SampleProject
from tests.standin import StandIn

STACK = "urn:pulumi:aws-dev::terrane::pulumi:pulumi:Stack::terrane-aws-dev"
NETWORK = "urn:pulumi:aws-dev::terrane::aws:ec2/vpc:Vpc::network"


def test_the_table_lists_each_resource_with_its_type_name_id_and_protection(standin: StandIn, cli) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    listed = cli("state", "aws-dev", "list")
    assert listed.code == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "TYPE                  NAME             ID  PROTECTED",
        "pulumi:pulumi:Stack   terrane-aws-dev  -   no",
        "aws:ec2/vpc:Vpc       network          -   no",
        "aws:s3/bucket:Bucket  bucket           -   no",
    ]
    assert [call["command"] for call in standin.calls()[-1:]] == ["stack export"]  # read only: one export


def test_json_has_a_documented_shape(standin: StandIn, cli) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    listed = cli("state", "aws-dev", "list", "--json")
    assert listed.code == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert {key: document[key] for key in ("schema_version", "environment", "deployed")} == {
        "schema_version": 1, "environment": "aws-dev", "deployed": True}
    stack, network, _bucket = document["resources"]
    assert stack == {"urn": STACK, "type": "pulumi:pulumi:Stack", "name": "terrane-aws-dev", "id": None,
                     "protected": False, "custom": False, "parent": None, "pending_delete": False}
    assert network["urn"] == NETWORK and network["name"] == "network" and network["custom"] is True


def test_an_environment_never_deployed_holds_nothing(sample: SampleProject, standin: StandIn, cli) -> None:
    listed = cli("state", "aws-dev", "list")
    assert listed.code == 0 and listed.stdout == ""
    assert listed.stderr.strip() == "aws-dev has no stack yet: nothing is deployed (terrane up aws-dev makes it)"
    as_json = cli("state", "aws-dev", "list", "--json")
    assert json.loads(as_json.stdout) == {"schema_version": 1, "environment": "aws-dev", "deployed": False,
                                          "resources": []}
    assert not (sample.root / ".terrane").exists() and not standin.calls()  # nothing made to look


def test_a_stack_whose_state_is_gone_is_an_error(sample: SampleProject, standin: StandIn, cli) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    for state in (standin.control / "stacks").glob("aws-dev*.json"):
        state.unlink()
    listed = cli("state", "aws-dev", "list")
    assert listed.code == 1
    assert "aws-dev: state missing:" in listed.stderr and "Pulumi.aws-dev.yaml remains" in listed.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("state", "nosuch", "list"), "unknown environment 'nosuch'"),
    (("state", "list", "aws-dev"), "name the environment first: terrane state ENV list"),
    (("state", "list"), "name the environment first: terrane state ENV list"),
])
def test_bad_input_is_one_line_and_exit_3(standin: StandIn, cli, args: tuple[str, ...], message: str) -> None:
    done = cli(*args)
    assert done.code == 3 and message in done.stderr.splitlines()[0]
    assert not standin.calls()


def test_names_show_as_they_are(standin: StandIn, cli) -> None:
    standin.scenario("aws-dev", resources=[{"type": "aws:ec2/vpc:Vpc", "name": "net[bold]"}])
    assert cli("up", "aws-dev", "--yes").code == 0
    listed = cli("state", "aws-dev", "list")
    assert listed.stdout.splitlines()[-1] == "aws:ec2/vpc:Vpc      net[bold]        -   no"
