"""``terrane plan``'s human form shows what a reviewer must see: who becomes cluster admin, traffic rules, routes
and flow logs, per resource type (``BY_TYPE``), with the plan's own values."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
import yaml

from terrane.components.azure.roles import AKS_RBAC_CLUSTER_ADMIN
from terrane.engine.cli import main
from terrane.engine.offline.render import plan
from terrane.engine.offline.review import BY_TYPE, flow, settings
from terrane.engine.project import open_project
from tests.helpers.project import REPO

ENVIRONMENTS = ("aws-dev", "azure-dev", "gcp-dev")
Shown = dict[tuple[str, str, str], list[str]]


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    project = open_project(REPO)
    return {name: plan(project, name).to_dict() for name in ENVIRONMENTS}


@pytest.fixture(scope="module")
def shown() -> Shown:
    """``terrane plan`` of the sample environments as a user reads it: each resource's settings, by environment,
    name and type."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["--project", str(REPO), "plan", *ENVIRONMENTS]) == 0, err.getvalue()
    return _resources(out.getvalue())


def _resources(text: str) -> Shown:
    """Each resource line of the trees (``├── NAME TYPE``) with the setting lines under it."""
    found: Shown = {}
    environment, current = "", None
    for line in text.splitlines():
        if header := re.match(r"^(\S+): \w+, account ", line):
            environment, current = header[1], None
        elif resource := re.search(r"[├└]── (\S+) (\S+)(?: \(.*\))?$", line):
            current = found.setdefault((environment, resource[1], resource[2]), [])
        elif current is not None and line.startswith(("│", " ")) and line.strip(" │"):
            current.append(line.strip(" │"))
        else:
            current = None  # a blank line ends the tree
    return found


def _one(document: dict[str, Any], type_: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [r for r in document["resources"] if r["type"] == type_ and name in (None, r["name"])]
    return found


def _of(shown: Shown, environment: str, resource: dict[str, Any]) -> list[str]:
    return shown[(environment, resource["name"], resource["type"])]


def test_the_table_names_only_types_the_sample_environments_render(documents: dict[str, dict[str, Any]]) -> None:
    rendered = {resource["type"] for document in documents.values() for resource in document["resources"]}
    assert set(BY_TYPE) - rendered == set()


def test_each_chosen_property_shows_with_its_value(shown: Shown, documents: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for environment, document in documents.items():
        for resource in document["resources"]:
            for path in BY_TYPE.get(resource["type"], {}):
                value = _value(resource["inputs"], path)
                if value is not None:
                    assert f"{path}: {flow(value)}" in _of(shown, environment, resource), (resource["name"], path)
                    checked += 1
    assert checked > 50


def _value(inputs: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        inputs = inputs.get(key) if isinstance(inputs, dict) else None
    if isinstance(inputs, str) and inputs.startswith("{"):
        return yaml.safe_load(inputs)  # a JSON document shows as the structure it holds
    return inputs


def test_aws_shows_who_becomes_cluster_admin(shown: Shown, documents: dict[str, dict[str, Any]]) -> None:
    accounts = yaml.safe_load((REPO / "accounts.yaml").read_text())["accounts"]
    provisioner = accounts["aws-sandbox"]["auth"]["assume_role"]["role_arn"]
    document = documents["aws-dev"]
    entry = _of(shown, "aws-dev", _one(document, "aws:eks/accessEntry:AccessEntry"))
    assert entry[0] == f"principalArn: {provisioner}"
    association = _of(shown, "aws-dev", _one(document, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"))
    assert association[:3] == [f"principalArn: {provisioner}",
                               "policyArn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                               "accessScope: {type: cluster}"]
    # Once each: the policy is also a setting every resource shows by its name.
    assert sum(line.startswith("policyArn:") for line in association) == 1
    cluster = _of(shown, "aws-dev", _one(document, "aws:eks/cluster:Cluster"))
    assert "accessConfig: {authenticationMode: API, bootstrapClusterCreatorAdminPermissions: false}" in cluster


def test_aws_shows_the_empty_default_security_group_routes_and_flow_log(shown: Shown,
                                                                       documents: dict[str, dict[str, Any]]) -> None:
    document = documents["aws-dev"]
    group = _of(shown, "aws-dev", _one(document, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"))
    assert group[:2] == ["ingress: []", "egress: []"]
    targets = {}
    for route in (r for r in document["resources"] if r["type"] == "aws:ec2/route:Route"):
        lines = _of(shown, "aws-dev", route)
        assert lines[0] == f"destinationCidrBlock: {route['inputs']['destinationCidrBlock']}"
        targets[route["name"]] = lines[1].split(":")[0]
    assert targets == {"aws-dev-private-0-default": "natGatewayId", "aws-dev-private-1-default": "natGatewayId",
                       "aws-dev-private-2-default": "natGatewayId", "aws-dev-public-default": "gatewayId"}
    flow_log = _of(shown, "aws-dev", _one(document, "aws:ec2/flowLog:FlowLog"))
    assert flow_log[:2] == ["trafficType: ALL", "logDestinationType: cloud-watch-logs"]


def test_azure_shows_the_cluster_admin_role_and_the_security_group(shown: Shown,
                                                                   documents: dict[str, dict[str, Any]]) -> None:
    document = documents["azure-dev"]
    admin = _one(document, "azure-native:authorization:RoleAssignment", "azure-dev-deployer-admin")
    cluster = _one(document, "azure-native:containerservice:ManagedCluster")
    lines = _of(shown, "azure-dev", admin)
    assert lines[0] == f"principalId: {admin['inputs']['principalId']}"
    assert lines[1] == "principalType: ServicePrincipal"
    assert lines[2].startswith("roleDefinitionId: ") and lines[2].endswith(f"/roleDefinitions/{AKS_RBAC_CLUSTER_ADMIN}")
    assert lines[3].startswith("scope: ") and lines[3].endswith("/managedClusters/azure-dev")
    aks = _of(shown, "azure-dev", cluster)
    assert aks[0] == f"aadProfile: {flow(cluster['inputs']['aadProfile'])}" and "enableAzureRBAC: true" in aks[0]
    assert {"disableLocalAccounts: true", "networkProfile.outboundType: userAssignedNATGateway"} <= set(aks)
    # The security group has no rules of its own (Azure's defaults only): said, not left out.
    assert _of(shown, "azure-dev", _one(document, "azure-native:network:NetworkSecurityGroup"))[0] == "securityRules: []"
    nodes = _of(shown, "azure-dev", _one(document, "azure-native:network:Subnet", "azure-dev-nodes"))
    assert nodes[0] == "defaultOutboundAccess: false" and nodes[1].startswith("natGateway: {id: ")
    assert "enabled: true" in _of(shown, "azure-dev", _one(document, "azure-native:network:FlowLog"))


def test_gcp_network_and_nat_show_their_settings(shown: Shown, documents: dict[str, dict[str, Any]]) -> None:
    document = documents["gcp-dev"]
    assert _of(shown, "gcp-dev", _one(document, "gcp:compute/network:Network")) == [
        "autoCreateSubnetworks: false", "routingMode: REGIONAL", "deleteDefaultRoutesOnCreate: false"]
    nat = _of(shown, "gcp-dev", _one(document, "gcp:compute/routerNat:RouterNat"))
    assert {"natIpAllocateOption: AUTO_ONLY", "sourceSubnetworkIpRangesToNat: LIST_OF_SUBNETWORKS",
            "logConfig: {enable: true, filter: ERRORS_ONLY}"} <= set(nat)
    assert any(line.startswith("subnetworks: [{name: projects/sandbox-project-123/regions/europe-west1/subnetworks/")
               for line in nat)
    for member in (r for r in document["resources"] if r["type"] == "gcp:projects/iAMMember:IAMMember"):
        assert _of(shown, "gcp-dev", member)[:2] == [f"member: {member['inputs']['member']}",
                                                     f"role: {member['inputs']['role']}"]
    gke = _of(shown, "gcp-dev", _one(document, "gcp:container/cluster:Cluster"))
    assert "masterAuth: {clientCertificateConfig: {issueClientCertificate: false}}" in gke


def test_present_empty_values_show_and_absent_ones_do_not() -> None:
    route = settings("aws:ec2/route:Route", {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}, None)
    assert [setting.shown for setting in route] == ["destinationCidrBlock: 0.0.0.0/0", "gatewayId: igw-1"]
    group = settings("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"ingress": [], "tags": {}}, None)
    assert [setting.shown for setting in group] == ["ingress: []"]  # egress is not in its inputs: not shown
    nsg = settings("azure-native:network:NetworkSecurityGroup", {"location": "westeurope"}, "westeurope")
    assert [setting.shown for setting in nsg] == ["securityRules: []"]  # absent: no rules of its own
    # A type the table does not name shows what every resource shows by name, and nothing else.
    assert [setting.shown for setting in settings("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "x": 1}, None)] == [
        "cidrBlock: 10.0.0.0/16"]
