"""``terrane adopt``'s input, and the import plan as ``plan`` shows it (offline, under the mock runtime).

Adoption itself, a preview that imports and an ``up`` that takes objects over, runs on the
real engine in tests/real_kubernetes/test_adopt.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terrane.engine.errors import InvalidInputError
from terrane.engine.store import imports
from tests.helpers.project import REPO, SampleProject

VPC = imports.Import("aws:ec2/vpc:Vpc", "aws-dev-vpc", "vpc-0a1b2c3d4e5f60718", "aws_vpc.main")
SUBNET = imports.Import("aws:ec2/subnet:Subnet", "aws-dev-private-0", "subnet-0f1e2d3c4b5a69788",
                        "module.net.aws_subnet.private[0]")


def _write(sample: SampleProject, *items: imports.Import) -> Path:
    imports.write(sample.root, imports.ImportPlan("aws-dev", "network.tfstate", items))
    return sample.root / "imports" / "aws-dev.json"


def test_plan_shows_what_up_would_adopt(sample: SampleProject, cli) -> None:
    _write(sample, VPC, SUBNET)

    planned = cli("--project", sample.root, "plan", "aws-dev", "--json")
    assert planned.code == 0, planned.stderr
    adopting = {r["name"]: r["import_id"] for r in json.loads(planned.stdout)["resources"] if r["import_id"]}
    assert adopting == {"aws-dev-vpc": VPC.id, "aws-dev-private-0": SUBNET.id}

    shown = cli("--project", sample.root, "plan", "aws-dev")
    assert f"aws-dev-vpc aws:ec2/vpc:Vpc adopts {VPC.id}" in shown.stdout


def test_without_an_import_plan_nothing_is_adopted(sample: SampleProject, cli) -> None:
    planned = cli("--project", sample.root, "plan", "aws-dev", "--json")
    assert [r["name"] for r in json.loads(planned.stdout)["resources"] if r["import_id"]] == []


def test_the_import_plan_reads_back_as_written(sample: SampleProject) -> None:
    path = _write(sample, VPC)
    assert imports.read(sample.root, "aws-dev") == imports.ImportPlan("aws-dev", "network.tfstate", (VPC,))
    assert json.loads(path.read_text())["schema_version"] == 1
    assert imports.clear(sample.root, "aws-dev") and not path.exists()
    assert imports.read(sample.root, "aws-dev") is None


@pytest.mark.parametrize(("text", "message"), [
    ("{", "imports/aws-dev.json: not JSON (Expecting property name enclosed in double quotes, line 1)"),
    ("[]", "imports/aws-dev.json: (top level): must be an object"),
    ('{"schema_version": 2}', "imports/aws-dev.json: schema_version: must be 1"),
    ('{"schema_version": 1, "environment": "gcp-dev", "imports": []}',
     "imports/aws-dev.json: environment: must be aws-dev, the environment the file is named after"),
    ('{"schema_version": 1, "environment": "aws-dev", "imports": [{"type": "t", "name": "n"}]}',
     "imports/aws-dev.json: imports[0]: must have exactly type, name, id and source"),
    (('{"schema_version": 1, "environment": "aws-dev", "imports": [{"type": "t", "name": "n", "id": "", '
     '"source": "s"}]}'), "imports/aws-dev.json: imports[0].id: must be a non-empty string"),
])
def test_a_damaged_import_plan_is_invalid_input_naming_the_field(sample: SampleProject, cli, text: str,
                                                                  message: str) -> None:
    (sample.root / "imports").mkdir()
    (sample.root / "imports" / "aws-dev.json").write_text(text)
    with pytest.raises(InvalidInputError) as raised:
        imports.read(sample.root, "aws-dev")
    assert str(raised.value) == message

    planned = cli("--project", sample.root, "plan", "aws-dev")
    assert planned.code == 3
    assert planned.stderr.splitlines()[0] == f"error: {message}"


def test_a_non_utf8_import_plan_is_invalid_input(sample: SampleProject, cli) -> None:
    (sample.root / "imports").mkdir()
    (sample.root / "imports" / "aws-dev.json").write_bytes(b'{"environment": "\xff"}')
    planned = cli("--project", sample.root, "plan", "aws-dev")
    assert planned.code == 3
    assert planned.stderr.startswith("error: imports/aws-dev.json: ")


@pytest.mark.parametrize(("args", "message"), [
    ((), "error: adopt: give --from-tfstate FILE (a Terraform state) or --ids FILE"),
    (("--from-tfstate", "a.tfstate", "--ids", "ids.yaml"), ("error: adopt: give --from-tfstate FILE or --ids FILE, "
                                                           "not both")),
])
def test_adopt_needs_exactly_one_source(sample: SampleProject, cli, args: tuple[str, ...], message: str) -> None:
    result = cli("--project", sample.root, "adopt", "aws-dev", *args)
    assert (result.code, result.stderr.splitlines()[0]) == (3, message)
    assert not (sample.root / "imports").exists()


def test_adopt_an_unknown_environment_is_invalid_input(sample: SampleProject, cli, tmp_path: Path) -> None:
    ids = tmp_path / "ids.yaml"
    ids.write_text("[]\n")
    result = cli("--project", sample.root, "adopt", "nope", "--ids", ids)
    assert result.code == 3
    assert "nope" in result.stderr.splitlines()[0]


def test_refusals_name_each_import_the_engine_would_replace() -> None:
    urn = "urn:pulumi:aws-dev::terrane::terrane:aws:Network$aws:ec2/vpc:Vpc::aws-dev-vpc"
    steps = [
        {"urn": urn, "type": "aws:ec2/vpc:Vpc", "op": "import", "paths": ["cidrBlock"], "replace_keys": ["cidrBlock"],
         "replaces_id": None},
        {"urn": urn.replace("vpc:Vpc::aws-dev-vpc", "subnet:Subnet::aws-dev-private-0"),
         "type": "aws:ec2/subnet:Subnet", "op": "import", "paths": ["tags"], "replace_keys": [], "replaces_id": None},
    ]
    assert imports.refusals([VPC, SUBNET], steps) == [
        ("refusing to adopt vpc-0a1b2c3d4e5f60718 (aws_vpc.main) as aws-dev-vpc: it differs from the spec in "
        "cidrBlock, which cannot change in place, so the engine would replace it")
    ]
    steps[1]["replaces_id"] = "subnet-0123456789abcdef0"
    assert imports.refusals([SUBNET], steps) == [
        ("refusing to adopt subnet-0f1e2d3c4b5a69788 (module.net.aws_subnet.private[0]) as aws-dev-private-0: the "
         "stack has aws-dev-private-0 already, as subnet-0123456789abcdef0, which the import would replace")
    ]


def test_a_state_that_maps_nothing_writes_nothing_and_says_why(sample: SampleProject, cli) -> None:
    state = REPO / "tests" / "fixtures" / "tfstate" / "gcp.tfstate"
    result = cli("--project", sample.root, "adopt", "aws-dev", "--from-tfstate", state, "--json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert (report["imports"], report["written"]) == ([], None)
    assert {item["reason"] for item in report["unmatched"]} >= {"terrane does not adopt google_storage_bucket"}
    assert result.stderr.splitlines()[-1] == ("error: aws-dev: nothing maps onto a resource of its program; "
                                              "nothing was written")
    assert not (sample.root / "imports").exists()


def test_a_missing_state_file_is_invalid_input(sample: SampleProject, cli, tmp_path: Path) -> None:
    result = cli("--project", sample.root, "adopt", "aws-dev", "--from-tfstate", tmp_path / "none.tfstate")
    assert result.code == 3
    assert "none.tfstate" in result.stderr.splitlines()[0]
    assert not (sample.root / "imports").exists()
