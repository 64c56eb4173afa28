from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pytest

from terrane.components.gcp import Network, NetworkArgs
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

PROJECT = "sandbox-project-123"
REGION = "europe-west1"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"
OUTPUTS = (
    "network_id",
    "network_self_link",
    "subnet_id",
    "subnet_self_link",
    "pods_range_name",
    "services_range_name",
)


def _args(**overrides: object) -> NetworkArgs:
    values: dict[str, object] = {
        "network_name": "gcp-dev",
        "region": REGION,
        "cidr": "10.20.0.0/20",
        "pod_cidr": "10.64.0.0/14",
        "service_cidr": "10.68.0.0/20",
        "nat": "per_zone",
        "flow_logs": True,
        "labels": {"team": "platform"},
    }
    return NetworkArgs(**{**values, **overrides})  # type: ignore[arg-type]


def _render(args: NetworkArgs) -> Rendered:
    def program() -> None:
        provider = gcp.Provider("gcp", project=PROJECT, region=REGION)
        network = Network("net", args, pulumi.ResourceOptions(provider=provider))
        for output in OUTPUTS:
            pulumi.export(output, getattr(network, output))

    return render(program, project="terrane", stack="test", account_id=PROJECT, region=REGION)


@pytest.fixture(scope="module")
def per_zone() -> Rendered:
    return _render(_args())


@pytest.fixture(scope="module")
def single() -> Rendered:
    return _render(_args(nat="single", flow_logs=False))


@pytest.fixture(scope="module")
def no_nat() -> Rendered:
    return _render(_args(nat="none", flow_logs=False))


def _subnet(rendered: Rendered) -> RenderedResource:
    return rendered.one("gcp:compute/subnetwork:Subnetwork")


@pytest.mark.parametrize("fixture", ["per_zone", "single", "no_nat"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:gcp:Network"), rendered.one("pulumi:providers:gcp"))


def test_vpc_is_custom_mode_and_regional(per_zone: Rendered) -> None:
    vpc = per_zone.one("gcp:compute/network:Network")
    assert vpc.inputs == {
        "name": "gcp-dev",
        "autoCreateSubnetworks": False,
        "routingMode": "REGIONAL",
        "deleteDefaultRoutesOnCreate": False,
    }
    assert per_zone.outputs["network_id"] == f"projects/{PROJECT}/global/networks/gcp-dev"
    assert per_zone.outputs["network_self_link"] == f"{COMPUTE}/global/networks/gcp-dev"


def test_subnet_has_node_pod_and_service_ranges_and_private_google_access(per_zone: Rendered) -> None:
    subnet = _subnet(per_zone)
    assert per_zone.one("gcp:compute/network:Network").urn in subnet.depends_on
    assert subnet.inputs["network"] == per_zone.outputs["network_id"]
    assert subnet.inputs["name"] == "gcp-dev"
    assert subnet.inputs["region"] == REGION
    assert subnet.inputs["ipCidrRange"] == "10.20.0.0/20"
    assert subnet.inputs["secondaryIpRanges"] == [
        {"rangeName": "gcp-dev-pods", "ipCidrRange": "10.64.0.0/14"},
        {"rangeName": "gcp-dev-services", "ipCidrRange": "10.68.0.0/20"},
    ]
    assert subnet.inputs["privateIpGoogleAccess"] is True
    assert per_zone.outputs["pods_range_name"] == "gcp-dev-pods"
    assert per_zone.outputs["services_range_name"] == "gcp-dev-services"
    assert per_zone.outputs["subnet_id"] == f"projects/{PROJECT}/regions/{REGION}/subnetworks/gcp-dev"
    assert per_zone.outputs["subnet_self_link"] == f"{COMPUTE}/regions/{REGION}/subnetworks/gcp-dev"


def test_flow_logs_sample_every_flow_type_with_metadata(per_zone: Rendered, single: Rendered) -> None:
    assert _subnet(per_zone).inputs["logConfig"] == {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 0.5,
        "metadata": "INCLUDE_ALL_METADATA",
    }
    assert "logConfig" not in _subnet(single).inputs


@pytest.mark.parametrize("fixture", ["per_zone", "single"])
def test_nat_is_one_regional_router_for_this_subnet(fixture: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    router = rendered.one("gcp:compute/router:Router")
    nat = rendered.one("gcp:compute/routerNat:RouterNat")
    assert router.inputs == {
        "name": "gcp-dev-router",
        "network": rendered.outputs["network_id"],
        "region": REGION,
    }
    assert router.urn in nat.depends_on
    assert nat.inputs == {
        "name": "gcp-dev-nat",
        "router": "gcp-dev-router",
        "region": REGION,
        "natIpAllocateOption": "AUTO_ONLY",
        "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
        "subnetworks": [{"name": rendered.outputs["subnet_id"], "sourceIpRangesToNats": ["ALL_IP_RANGES"]}],
        "logConfig": {"enable": True, "filter": "ERRORS_ONLY"},
    }


def test_no_router_or_nat_without_nat(no_nat: Rendered) -> None:
    assert no_nat.of_type("gcp:compute/router:Router") == []
    assert no_nat.of_type("gcp:compute/routerNat:RouterNat") == []


@pytest.mark.parametrize("fixture", ["per_zone", "no_nat"])
def test_no_firewall_rule_opens_ingress(fixture: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert rendered.of_type("gcp:compute/firewall:Firewall") == []


def test_a_name_too_long_for_its_ranges_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 54"):
        _args(network_name="n" * 55)
