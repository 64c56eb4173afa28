"""The AWS network an environment runs in: a VPC with a private and a public
subnet per availability zone, NAT for the private subnets' egress, a locked
down default security group and, optionally, VPC flow logs to an encrypted
log group."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import pulumi
import pulumi_aws as aws

from terrane.components.aws_iam import IAM_PATH
from terrane.components.outputs import nth


@dataclass(frozen=True)
class NetworkArgs:
    cidr: str
    private_subnet_cidrs: Sequence[str]
    """One per availability zone; their number is the number of zones (1..3)."""
    public_subnet_cidrs: Sequence[str]
    nat: Literal["none", "single", "per_zone"]
    flow_logs: bool
    cluster_name: str | None = None
    """Adds the EKS subnet discovery tags for this cluster when set."""
    flow_log_retention_days: int = 365
    permissions_boundary: str | None = None
    """The IAM policy the flow-log role carries as its permissions boundary."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= len(self.private_subnet_cidrs) <= 3:
            raise ValueError("a network spans 1 to 3 availability zones")
        if len(self.public_subnet_cidrs) != len(self.private_subnet_cidrs):
            raise ValueError("give one public and one private subnet CIDR per availability zone")


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    availability_zones: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:aws:Network", name, None, opts)
        zones = self._zones(len(args.private_subnet_cidrs))
        vpc, igw = self._vpc(name, args)
        public_subnets, private_subnets = self._subnets(name, args, vpc, zones)
        self._public_routes(name, args, vpc, igw, public_subnets)
        nat_gateways = self._nat_gateways(name, args, igw, public_subnets)
        self._private_routes(name, args, vpc, nat_gateways, private_subnets)
        if args.flow_logs:
            self._flow_logs(name, vpc, args)

        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[subnet.id for subnet in private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[subnet.id for subnet in public_subnets])
        self.availability_zones = zones
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "availability_zones": self.availability_zones,
            }
        )

    def _zones(self, zone_count: int) -> pulumi.Output[list[str]]:
        return aws.get_availability_zones_output(
            state="available",
            # Local and Wavelength zones are opt-in and lack services EKS needs.
            filters=[
                aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"]),
            ],
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).names.apply(lambda names: _first_zones(names, zone_count))

    def _vpc(self, name: str, args: NetworkArgs) -> tuple[aws.ec2.Vpc, aws.ec2.InternetGateway]:
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=_tags(args.tags, f"{name}-vpc"),
            opts=child,
        )
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            # Without rules nothing can use the default group by accident.
            ingress=[],
            egress=[],
            tags=_tags(args.tags, f"{name}-default-sg"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=_tags(args.tags, f"{name}-igw"), opts=child)
        return vpc, igw

    def _subnets(
        self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc, zones: pulumi.Output[list[str]]
    ) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """The (public, private) subnets, one of each per zone."""
        child = pulumi.ResourceOptions(parent=self)
        tags = partial(_tags, args.tags)
        cluster_tags = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"} if args.cluster_name else {}
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for index, (public_cidr, private_cidr) in enumerate(
            zip(args.public_subnet_cidrs, args.private_subnet_cidrs, strict=True)
        ):
            zone = zones.apply(nth(index))
            public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=vpc.id,
                    cidr_block=public_cidr,
                    availability_zone=zone,
                    # Only load balancers and NAT gateways live here; nodes are private.
                    map_public_ip_on_launch=False,
                    tags=tags(f"{name}-public-{index}", {**cluster_tags, "kubernetes.io/role/elb": "1"}),
                    opts=child,
                )
            )
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidr,
                    availability_zone=zone,
                    tags=tags(
                        f"{name}-private-{index}", {**cluster_tags, "kubernetes.io/role/internal-elb": "1"}
                    ),
                    opts=child,
                )
            )
        return public_subnets, private_subnets

    def _public_routes(
        self,
        name: str,
        args: NetworkArgs,
        vpc: aws.ec2.Vpc,
        igw: aws.ec2.InternetGateway,
        subnets: Sequence[aws.ec2.Subnet],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        table = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags=_tags(args.tags, f"{name}-public"), opts=child)
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for index, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )

    def _nat_gateways(
        self,
        name: str,
        args: NetworkArgs,
        igw: aws.ec2.InternetGateway,
        public_subnets: Sequence[aws.ec2.Subnet],
    ) -> list[aws.ec2.NatGateway]:
        nat_count = {"none": 0, "single": 1, "per_zone": len(public_subnets)}[args.nat]
        nat_gateways: list[aws.ec2.NatGateway] = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-{index}",
                domain="vpc",
                tags=_tags(args.tags, f"{name}-nat-{index}"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=public_subnets[index].id,
                    tags=_tags(args.tags, f"{name}-nat-{index}"),
                    # A NAT gateway only forwards once the VPC has its internet gateway.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )
        return nat_gateways

    def _private_routes(
        self,
        name: str,
        args: NetworkArgs,
        vpc: aws.ec2.Vpc,
        nat_gateways: Sequence[aws.ec2.NatGateway],
        subnets: Sequence[aws.ec2.Subnet],
    ) -> None:
        """A route table per private subnet; with NAT, a default route through its zone's gateway (or the only one)."""
        child = pulumi.ResourceOptions(parent=self)
        for index, subnet in enumerate(subnets):
            table = aws.ec2.RouteTable(
                f"{name}-private-{index}", vpc_id=vpc.id, tags=_tags(args.tags, f"{name}-private-{index}"), opts=child
            )
            if nat_gateways:
                aws.ec2.Route(
                    f"{name}-private-{index}-default",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_gateways[min(index, len(nat_gateways) - 1)].id,
                    opts=child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, args: NetworkArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        tags = _tags(args.tags, f"{name}-flow-logs")
        invoke = pulumi.InvokeOutputOptions(parent=self)
        # (partition, region, account): what the key and trust policies are scoped to.
        scope = pulumi.Output.all(
            aws.get_partition_output(opts=invoke).partition,
            aws.get_region_output(opts=invoke).region,
            aws.get_caller_identity_output(opts=invoke).account_id,
        )

        key = aws.kms.Key(
            f"{name}-flow-logs",
            description=f"Encrypts the VPC flow logs of {name}",
            enable_key_rotation=True,
            policy=scope.apply(lambda values: _log_key_policy(*values)),
            tags=tags,
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            kms_key_id=key.arn,
            retention_in_days=args.flow_log_retention_days,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            path=IAM_PATH,
            permissions_boundary=args.permissions_boundary,
            assume_role_policy=scope.apply(lambda values: _flow_log_trust(*values)),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=_flow_log_policy(log_group.arn),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            tags=tags,
            opts=child,
        )


def _tags(
    base: Mapping[str, str], resource_name: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    return {**base, **(extra or {}), "Name": resource_name}


def _first_zones(names: Sequence[str], count: int) -> list[str]:
    if len(names) < count:
        raise ValueError(f"the region has {len(names)} available zones, the network needs {count}")
    return list(names[:count])


def _log_key_policy(partition: str, region: str, account: str) -> str:
    # CloudWatch Logs may use the key only for this account's log groups in this region.
    log_groups = f"arn:{partition}:logs:{region}:{account}:log-group:*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "LogsEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                },
            ],
        }
    )


def _flow_log_trust(partition: str, region: str, account: str) -> str:
    # Source conditions keep another account's flow logs from borrowing this role.
    flow_logs = f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": flow_logs},
                    },
                }
            ],
        }
    )


def _flow_log_policy(log_group_arn: pulumi.Output[str]) -> pulumi.Output[str]:
    """What the flow logs' role may do: write to the one log group."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    "Resource": [log_group_arn, pulumi.Output.concat(log_group_arn, ":*")],
                },
                # A list call: IAM authorizes it on "*" only, never on a log group's ARN.
                {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
            ],
        }
    )
