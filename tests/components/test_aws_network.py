from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from terrane.components.aws import Network, NetworkArgs
from terrane.engine.offline.render import Rendered, RenderedResource, render
from tests.helpers.rendered import assert_owned

PRIVATE = ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"]
PUBLIC = ["10.20.96.0/24", "10.20.97.0/24", "10.20.98.0/24"]
TAGS = {"team": "platform"}
UNTAGGABLE = {
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:iam/rolePolicy:RolePolicy",
}


def _render(zones: int, nat: str, *, flow_logs: bool, cluster_name: str | None = None) -> Rendered:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        network = Network(
            "net",
            NetworkArgs(
                cidr="10.20.0.0/16",
                private_subnet_cidrs=PRIVATE[:zones],
                public_subnet_cidrs=PUBLIC[:zones],
                nat=nat,  # type: ignore[arg-type]
                flow_logs=flow_logs,
                cluster_name=cluster_name,
                tags=TAGS,
            ),
            pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("vpc_id", network.vpc_id)
        pulumi.export("private_subnet_ids", network.private_subnet_ids)
        pulumi.export("public_subnet_ids", network.public_subnet_ids)
        pulumi.export("availability_zones", network.availability_zones)

    return render(program, project="terrane", stack="test")


@pytest.fixture(scope="module")
def per_zone() -> Rendered:
    return _render(3, "per_zone", flow_logs=True, cluster_name="dev")


@pytest.fixture(scope="module")
def single() -> Rendered:
    return _render(2, "single", flow_logs=False)


@pytest.fixture(scope="module")
def no_nat() -> Rendered:
    return _render(1, "none", flow_logs=False)


def _named(rendered: Rendered, type_: str, name: str) -> RenderedResource:
    return next(r for r in rendered.of_type(type_) if r.name == name)


def _private_default_routes(rendered: Rendered) -> list[RenderedResource]:
    return [r for r in rendered.of_type("aws:ec2/route:Route") if r.name.startswith("net-private-")]


@pytest.mark.parametrize("fixture", ["per_zone", "single", "no_nat"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:aws:Network"), rendered.one("pulumi:providers:aws"))


@pytest.mark.parametrize(("fixture", "zones"), [("per_zone", 3), ("single", 2), ("no_nat", 1)])
def test_one_public_and_one_private_subnet_per_distinct_zone(
    fixture: str, zones: int, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    subnets = rendered.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if "kubernetes.io/role/elb" in s.inputs["tags"]]
    private = [s for s in subnets if "kubernetes.io/role/internal-elb" in s.inputs["tags"]]
    assert len(public) == len(private) == zones == len(subnets) // 2
    for group in (public, private):
        assert len({s.inputs["availabilityZone"] for s in group}) == zones
    assert {s.inputs["availabilityZone"] for s in public} == {s.inputs["availabilityZone"] for s in private}
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in public)
    assert sorted(s.inputs["cidrBlock"] for s in private) == sorted(PRIVATE[:zones])
    assert len(rendered.outputs["private_subnet_ids"]) == len(rendered.outputs["availability_zones"]) == zones


def test_vpc_resolves_dns(no_nat: Rendered) -> None:
    vpc = no_nat.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.20.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


def test_subnets_carry_cluster_discovery_tags_only_for_a_cluster(per_zone: Rendered, single: Rendered) -> None:
    assert all(
        s.inputs["tags"]["kubernetes.io/cluster/dev"] == "shared" for s in per_zone.of_type("aws:ec2/subnet:Subnet")
    )
    assert not any(
        key.startswith("kubernetes.io/cluster/")
        for s in single.of_type("aws:ec2/subnet:Subnet")
        for key in s.inputs["tags"]
    )


@pytest.mark.parametrize(("fixture", "nats"), [("per_zone", 3), ("single", 1), ("no_nat", 0)])
def test_nat_gateway_count_follows_the_nat_mode(fixture: str, nats: int, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert len(rendered.of_type("aws:ec2/natGateway:NatGateway")) == nats
    assert len(rendered.of_type("aws:ec2/eip:Eip")) == nats
    igw = rendered.one("aws:ec2/internetGateway:InternetGateway")
    for index, nat in enumerate(rendered.of_type("aws:ec2/natGateway:NatGateway")):
        assert _named(rendered, "aws:ec2/subnet:Subnet", f"net-public-{index}").urn in nat.depends_on
        assert igw.urn in nat.depends_on


def test_per_zone_private_routes_use_their_own_zones_nat(per_zone: Rendered) -> None:
    routes = _private_default_routes(per_zone)
    assert len(routes) == 3
    for index in range(3):
        route = _named(per_zone, "aws:ec2/route:Route", f"net-private-{index}-default")
        assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
        assert route.inputs["natGatewayId"].startswith("nat-")
        assert _named(per_zone, "aws:ec2/natGateway:NatGateway", f"net-nat-{index}").urn in route.depends_on
        assert _named(per_zone, "aws:ec2/routeTable:RouteTable", f"net-private-{index}").urn in route.depends_on


def test_single_nat_serves_every_private_route_table(single: Rendered) -> None:
    nat = single.one("aws:ec2/natGateway:NatGateway")
    routes = _private_default_routes(single)
    assert len(routes) == 2
    assert all(nat.urn in route.depends_on for route in routes)
    assert len({route.inputs["routeTableId"] for route in routes}) == 2


def test_without_nat_private_subnets_have_no_default_route(no_nat: Rendered) -> None:
    assert _private_default_routes(no_nat) == []
    tables = [t for t in no_nat.of_type("aws:ec2/routeTable:RouteTable") if t.name.startswith("net-private-")]
    assert len(tables) == 1


@pytest.mark.parametrize("fixture", ["per_zone", "single", "no_nat"])
def test_public_subnets_route_to_the_internet_gateway(fixture: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    route = _named(rendered, "aws:ec2/route:Route", "net-public-default")
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    assert rendered.one("aws:ec2/internetGateway:InternetGateway").urn in route.depends_on
    table = _named(rendered, "aws:ec2/routeTable:RouteTable", "net-public")
    associations = [
        a
        for a in rendered.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if a.name.startswith("net-public-")
    ]
    assert associations and all(table.urn in a.depends_on for a in associations)


def test_each_private_subnet_uses_its_own_route_table(per_zone: Rendered) -> None:
    for index in range(3):
        association = _named(
            per_zone, "aws:ec2/routeTableAssociation:RouteTableAssociation", f"net-private-{index}"
        )
        assert _named(per_zone, "aws:ec2/subnet:Subnet", f"net-private-{index}").urn in association.depends_on
        assert _named(per_zone, "aws:ec2/routeTable:RouteTable", f"net-private-{index}").urn in association.depends_on


def test_default_security_group_has_no_rules(per_zone: Rendered) -> None:
    group = per_zone.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.inputs["ingress"] == []
    assert group.inputs["egress"] == []
    assert per_zone.one("aws:ec2/vpc:Vpc").urn in group.depends_on


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(per_zone: Rendered) -> None:
    flow_log = per_zone.one("aws:ec2/flowLog:FlowLog")
    log_group = per_zone.one("aws:cloudwatch/logGroup:LogGroup")
    key = per_zone.one("aws:kms/key:Key")
    role = per_zone.one("aws:iam/role:Role")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    assert {log_group.urn, role.urn, per_zone.one("aws:ec2/vpc:Vpc").urn} <= set(flow_log.depends_on)
    assert flow_log.inputs["logDestination"].startswith("arn:aws:logs:us-east-1:123456789012:log-group:")

    assert key.inputs["enableKeyRotation"] is True
    assert log_group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert key.urn in log_group.depends_on
    assert log_group.inputs["retentionInDays"] == 365


def test_flow_log_key_lets_only_regional_logs_and_the_account_use_it(per_zone: Rendered) -> None:
    policy = json.loads(per_zone.one("aws:kms/key:Key").inputs["policy"])
    principals = [statement["Principal"] for statement in policy["Statement"]]
    assert principals == [
        {"AWS": "arn:aws:iam::123456789012:root"},
        {"Service": "logs.us-east-1.amazonaws.com"},
    ]
    logs = policy["Statement"][1]
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:*"
    )


def test_flow_log_role_writes_only_to_its_log_group(per_zone: Rendered) -> None:
    role = per_zone.one("aws:iam/role:Role")
    # The bootstrap's provisioner policy manages only roles under /terrane/.
    assert role.inputs["path"] == "/terrane/"
    role_arn = per_zone.one("aws:ec2/flowLog:FlowLog").inputs["iamRoleArn"]
    assert role_arn.startswith("arn:aws:iam::123456789012:role/terrane/net-flow-logs-")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "vpc-flow-logs.amazonaws.com"}]
    assert trust[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}

    policy = per_zone.one("aws:iam/rolePolicy:RolePolicy")
    assert role.urn in policy.depends_on
    statements = json.loads(policy.inputs["policy"])["Statement"]
    log_group_arn = per_zone.one("aws:ec2/flowLog:FlowLog").inputs["logDestination"]
    writes, listing = statements
    assert writes["Resource"] == [log_group_arn, f"{log_group_arn}:*"]
    assert writes["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    # The only action on "*": a read-only list call, which IAM authorizes on nothing narrower.
    assert (listing["Action"], listing["Resource"]) == ("logs:DescribeLogGroups", "*")


def test_no_flow_log_resources_when_disabled(single: Rendered) -> None:
    for type_ in (
        "aws:ec2/flowLog:FlowLog",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:kms/key:Key",
        "aws:iam/role:Role",
    ):
        assert single.of_type(type_) == []


def test_every_taggable_resource_carries_the_tags_and_a_name(per_zone: Rendered) -> None:
    taggable = [
        r
        for r in per_zone.resources
        if r.custom and r.type.startswith("aws:") and r.type not in UNTAGGABLE
    ]
    assert len(taggable) > 20
    for resource in taggable:
        assert resource.inputs["tags"]["team"] == "platform", resource.urn
        assert resource.inputs["tags"]["Name"].startswith("net-"), resource.urn


def test_subnet_cidrs_must_pair_up() -> None:
    with pytest.raises(ValueError, match="one public and one private"):
        NetworkArgs(
            cidr="10.20.0.0/16",
            private_subnet_cidrs=PRIVATE,
            public_subnet_cidrs=PUBLIC[:2],
            nat="single",
            flow_logs=False,
        )
