"""Reading Terraform v4 state files: managed resources by address, outputs, and one-line errors without values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.errors import ExitCode, InvalidInputError
from terrane.engine.tfstate import StateResource, TerraformState, read_state
from tests.helpers.project import REPO

FIXTURES = REPO / "tests" / "fixtures" / "tfstate"
SECRET = "hunter2-not-a-real-password"


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(document))
    return path


def _state(resources: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {"version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "0f1e2d3c-4b5a-4697-8877-665544332211",
            "outputs": {}, "resources": resources, **top}


def _vpc(**instance: Any) -> dict[str, Any]:
    return {"mode": "managed", "type": "aws_vpc", "name": "main",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"schema_version": 1, "attributes": {"id": "vpc-0a1b2c3d", "cidr_block": "10.0.0.0/16"},
                           **instance}]}


def test_the_kubernetes_fixture_reads_as_one_resource_per_instance_with_terraform_addresses() -> None:
    state = read_state(FIXTURES / "kubernetes.tfstate")
    assert isinstance(state, TerraformState)
    assert (state.path, state.terraform_version) == (FIXTURES / "kubernetes.tfstate", "1.9.8")
    assert dict(state.outputs) == {"namespaces": ["jobs", "web"]}
    assert [(r.address, r.type, r.id) for r in state.resources] == [
        ("kubernetes_config_map.settings", "kubernetes_config_map", "web/settings"),
        ("kubernetes_namespace_v1.jobs", "kubernetes_namespace_v1", "jobs"),
        ("kubernetes_namespace.web", "kubernetes_namespace", "web"),
        ('kubernetes_network_policy_v1.default_deny["jobs"]', "kubernetes_network_policy_v1", "jobs/default-deny"),
        ('kubernetes_network_policy_v1.default_deny["web"]', "kubernetes_network_policy_v1", "web/default-deny"),
        ("kubernetes_service_account.deployer", "kubernetes_service_account", "web/deployer"),
        ("module.monitoring.kubernetes_namespace.this", "kubernetes_namespace", "monitoring"),
    ]
    web = state.resources[2]
    assert web.attributes["metadata"][0]["labels"] == {"team": "web"}


def test_module_and_numeric_index_addresses_and_data_sources_left_out() -> None:
    state = read_state(FIXTURES / "aws.tfstate")
    addresses = [r.address for r in state.resources]
    assert "module.network.aws_vpc.this" in addresses
    assert [a for a in addresses if a.startswith("module.network.aws_subnet.private")] == [
        "module.network.aws_subnet.private[0]", "module.network.aws_subnet.private[1]",
        "module.network.aws_subnet.private[2]"]
    assert 'aws_secretsmanager_secret.app["db-password"]' in addresses
    assert not any("aws_caller_identity" in a for a in addresses)  # a data source
    assert len(addresses) == 17
    assert state.outputs["vpc_id"] == "vpc-0a1b2c3d4e5f60718"


@pytest.mark.parametrize("name", ["aws.tfstate", "azure.tfstate", "gcp.tfstate", "kubernetes.tfstate"])
def test_every_fixture_is_a_terraform_1_state_of_managed_resources_with_ids(name: str) -> None:
    raw = json.loads((FIXTURES / name).read_text())
    assert raw["version"] == 4 and raw["terraform_version"].startswith("1.") and raw["lineage"]
    state = read_state(FIXTURES / name)
    managed = sum(len(r["instances"]) for r in raw["resources"] if r["mode"] == "managed")
    assert len(state.resources) == managed
    assert all(isinstance(r, StateResource) and r.id for r in state.resources)


def test_id_is_none_unless_a_non_empty_string() -> None:
    assert StateResource("a.b", "a", {"id": "x"}).id == "x"
    for attributes in ({}, {"id": ""}, {"id": None}, {"id": 7}):
        assert StateResource("a.b", "a", attributes).id is None


def test_attributes_and_outputs_are_read_only(tmp_path: Path) -> None:
    state = read_state(_write(tmp_path, _state([_vpc()], outputs={"vpc": {"value": "vpc-0a1b2c3d", "type": "string"}})))
    with pytest.raises(TypeError):
        state.resources[0].attributes["cidr_block"] = "10.1.0.0/16"  # type: ignore[index]
    with pytest.raises(TypeError):
        state.outputs["vpc"] = "other"  # type: ignore[index]


def test_a_deposed_object_is_left_out(tmp_path: Path) -> None:
    old = {"schema_version": 1, "deposed": "00000001", "attributes": {"id": "vpc-old", "cidr_block": "10.0.0.0/16"}}
    document = _state([_vpc()])
    document["resources"][0]["instances"].append(old)
    assert [r.id for r in read_state(_write(tmp_path, document)).resources] == ["vpc-0a1b2c3d"]


def test_a_state_without_resources_or_outputs_is_empty(tmp_path: Path) -> None:
    state = read_state(_write(tmp_path, {"version": 4, "terraform_version": "1.5.7", "serial": 0, "lineage": "x"}))
    assert (state.resources, dict(state.outputs)) == ((), {})


PULL = "Terraform 0.12 and later write version 4: save one with `terraform state pull > FILE`"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 3, "terraform_version": "0.11.14", "modules": []},
         f"a Terraform state of format version 4 is needed, this file has version 3; {PULL}"),
        ({"terraform_version": "1.9.8"},
         f"a Terraform state of format version 4 is needed, this file has no version; {PULL}"),
        ({"version": "4"},
         f"a Terraform state of format version 4 is needed, this file has a version that is not a number; {PULL}"),
        ([1, 2], f"must be a JSON object (a Terraform state); {PULL}"),
        (_state([], terraform_version=1), "terraform_version: must be a string"),
        (_state({"aws_vpc.main": {}}), "resources: must be a list"),
        (_state(["aws_vpc.main"]), "resources[0]: must be an object"),
        (_state([{**_vpc(), "type": ""}]), "resources[0]: type: must be a non-empty string"),
        (_state([{**_vpc(), "mode": "imported"}]), "resources[0]: mode: must be managed or data"),
        (_state([{**_vpc(), "module": ["net"]}]), "resources[0]: module: must be a string"),
        (_state([{**_vpc(), "instances": {}}]), "resources[0] (aws_vpc.main): instances: must be a list"),
        (_state([{**_vpc(), "instances": [SECRET]}]), "resources[0] (aws_vpc.main): instances[0]: must be an object"),
        (_state([_vpc(attributes=None)]),
         "resources[0] (aws_vpc.main): instances[0]: attributes: must be an object (the instance has none)"),
        (_state([_vpc(attributes=[SECRET])]),
         "resources[0] (aws_vpc.main): instances[0]: attributes: must be an object (the instance has none)"),
        (_state([_vpc(index_key=[SECRET])]),
         "resources[0] (aws_vpc.main): instances[0]: index_key: must be a number or a string"),
        (_state([], outputs=[SECRET]), "outputs: must be an object of output name -> {value, type}"),
        (_state([], outputs={"password": SECRET}), "outputs.password: must be an object with a value"),
    ],
)
def test_a_file_that_is_not_a_v4_state_is_invalid_input_naming_file_and_field(
    tmp_path: Path, document: Any, message: str
) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(InvalidInputError) as raised:
        read_state(path)
    assert str(raised.value) == f"{path}: {message}"
    assert raised.value.exit_code is ExitCode.INVALID_INPUT


def test_a_missing_file_says_how_to_save_one(tmp_path: Path) -> None:
    path = tmp_path / "missing.tfstate"
    with pytest.raises(InvalidInputError) as raised:
        read_state(path)
    assert str(raised.value) == f"{path}: no such file; {PULL}"


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as raised:
        read_state(tmp_path)
    assert str(raised.value) == f"{tmp_path}: cannot be read: it is a directory, not a regular file"


def test_not_utf8_and_not_json_name_the_place_never_the_content(tmp_path: Path) -> None:
    path = tmp_path / "terraform.tfstate"
    path.write_bytes(b'{"version": 4, "password": "\xff' + SECRET.encode() + b'"}')
    with pytest.raises(InvalidInputError) as raised:
        read_state(path)
    assert str(raised.value) == f"{path}: byte 28 is not UTF-8: not a Terraform state"

    path.write_text('{"version": 4,\n "outputs": {"password": "' + SECRET)
    with pytest.raises(InvalidInputError) as raised:
        read_state(path)
    assert str(raised.value) == f"{path}: line 2, column 26: not JSON: Unterminated string starting at"
    assert SECRET not in str(raised.value)


def test_no_message_repeats_a_value_of_the_file(tmp_path: Path) -> None:
    bad = [_state([_vpc(attributes=SECRET)]), _state([_vpc(index_key={"k": SECRET})]),
           _state([], outputs={"db": SECRET}), {"version": SECRET}, _state([], terraform_version=[SECRET])]
    for document in bad:
        with pytest.raises(InvalidInputError) as raised:
            read_state(_write(tmp_path, document))
        assert SECRET not in str(raised.value)
        assert "\n" not in str(raised.value)
