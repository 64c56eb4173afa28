"""Environments on an existing network (``network.terraform_state``), over the network team's Terraform states in
``tests/fixtures/tfstate``: one ``<cloud>-network.tfstate`` a cloud.

``environment`` maps the outputs every such environment needs and names where a state elsewhere is, nothing more:
how a state elsewhere is read (an identity, a role) and the outputs a cloud maps only if asked are each test's to
add. Every call returns a new document, safe to edit.
"""

from __future__ import annotations

import copy
import json
import shutil
from typing import Any

from tests.helpers.project import REPO, SampleProject

FIXTURES = REPO / "tests" / "fixtures" / "tfstate"
ACCOUNTS = {"aws": "aws-sandbox", "azure": "azure-sandbox", "gcp": "gcp-sandbox"}
# The outputs each cloud needs mapped (Azure's endpoint subnet because the environment has secrets), to the names
# of the fixture states' outputs.
OUTPUTS = {
    "aws": {"vpc_id": "vpc_id", "private_subnet_ids": "private_subnets"},
    "azure": {"vnet_id": "vnet_id", "node_subnet_id": "aks_subnet_id",
              "endpoint_subnet_id": "private_endpoints_subnet_id"},
    "gcp": {"network": "network_self_link", "subnetwork": "subnetwork_self_link", "pods_range_name": "pods_range_name",
            "services_range_name": "services_range_name"},
}
# Where a state elsewhere is, by backend: no credentials and no choice of identity.
ELSEWHERE = {
    "s3": {"bucket": "tf-state", "key": "network/prod.tfstate", "region": "eu-west-1"},
    "azurerm": {"storage_account_name": "tfstateprod", "container_name": "tfstate", "key": "network.tfstate"},
    "remote": {"organization": "example", "workspaces": {"name": "network-prod"}},
}


def environment(name: str, cloud: str, backend: str = "local", **network: Any) -> dict[str, Any]:
    """An environment file's document: a cluster, secrets and a namespace on the network a state's outputs name.

    A local state is the project's ``network/<cloud>-network.tfstate`` (see ``with_states``); ``network`` adds
    settings beside ``terraform_state`` (zones, nat, ...).
    """
    config = {"path": f"network/{cloud}-network.tfstate"} if backend == "local" else copy.deepcopy(ELSEWHERE[backend])
    return {
        "name": name,
        "account": ACCOUNTS[cloud],
        "network": {"terraform_state": {"backend": backend, "config": config, "outputs": dict(OUTPUTS[cloud])},
                    **network},
        "cluster": {"node_pools": [{"name": "system", "min": 2, "max": 4}]},
        "secrets": {"names": ["db-password"]},
        "kubernetes": {"namespaces": ["apps"]},
    }


def with_states(sample: SampleProject) -> SampleProject:
    """``sample``, with the network team's states copied under ``network/``, as ``environment`` names them."""
    (sample.root / "network").mkdir()
    for cloud in ACCOUNTS:
        shutil.copy(FIXTURES / f"{cloud}-network.tfstate", sample.root / "network")
    return sample


def state_outputs(cloud: str) -> dict[str, Any]:
    """The values of the outputs of ``cloud``'s fixture state, by output name."""
    document = json.loads((FIXTURES / f"{cloud}-network.tfstate").read_text())
    return {name: output["value"] for name, output in document["outputs"].items()}
