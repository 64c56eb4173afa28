"""Fake AWS: EC2-style ids, ARNs, an EKS endpoint and OIDC issuer, and the data sources terrane reads."""

from __future__ import annotations

from typing import Any

from terrane.engine.clouds.base import InvokeFaker, Request

# EC2 ids are "<prefix>-<17 hex>"; the second name is the ARN's resource kind.
_EC2 = {
    "vpc": ("vpc", "vpc"),
    "subnet": ("subnet", "subnet"),
    "internetGateway": ("igw", "internet-gateway"),
    "natGateway": ("nat", "natgateway"),
    "eip": ("eipalloc", "elastic-ip"),
    "routeTable": ("rtb", "route-table"),
    "routeTableAssociation": ("rtbassoc", None),
    "route": ("r", None),
    "defaultSecurityGroup": ("sg", "security-group"),
    "securityGroup": ("sg", "security-group"),
    "securityGroupRule": ("sgr", None),
    "flowLog": ("fl", "vpc-flow-log"),
    "launchTemplate": ("lt", "launch-template"),
}
# A certificate-shaped placeholder: kubeconfigs need some CA data.
_CA_DATA = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
)


def resource(request: Request) -> dict[str, Any]:
    region, account, module, kind = request.region, request.account_id, request.module, request.kind
    name = request.physical_name()
    if module == "ec2" and kind in _EC2:
        prefix, arn_kind = _EC2[kind]
        ec2_id = f"{prefix}-{request.hex(17)}"
        state: dict[str, Any] = {"id": ec2_id}
        if arn_kind:
            state["arn"] = f"arn:aws:ec2:{region}:{account}:{arn_kind}/{ec2_id}"
        if kind == "eip":
            state["publicIp"] = f"203.0.113.{int(request.hex(2), 16) % 254 + 1}"
        if kind == "launchTemplate":
            state["latestVersion"] = 1
        return state
    if module == "kms" and kind == "key":
        key_id = request.uuid()
        return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}
    if module == "kms" and kind == "alias":
        return {"id": name, "arn": f"arn:aws:kms:{region}:{account}:{name}"}
    if module == "cloudwatch" and kind == "logGroup":
        return {"id": name, "name": name, "arn": f"arn:aws:logs:{region}:{account}:log-group:{name}"}
    if module == "iam" and kind in ("role", "policy"):
        # IAM puts the path between the kind and the name: role/terrane/<name>.
        path = request.inputs.get("path") or "/"
        return {"id": name, "name": name, "path": path, "arn": f"arn:aws:iam::{account}:{kind}{path}{name}"}
    if module == "iam" and kind == "openIdConnectProvider":
        arn = f"arn:aws:iam::{account}:oidc-provider/{str(request.inputs.get('url', '')).removeprefix('https://')}"
        return {"id": arn, "arn": arn}
    if module == "eks" and kind == "cluster":
        issuer_id = request.hex(32).upper()
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:eks:{region}:{account}:cluster/{name}",
            "endpoint": f"https://{issuer_id}.gr7.{region}.eks.amazonaws.com",
            "certificateAuthority": {"data": _CA_DATA},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"}]}],
            "status": "ACTIVE",
        }
    if module == "eks" and kind == "nodeGroup":
        cluster = request.inputs.get("clusterName", "cluster")
        group = request.physical_name("nodeGroupName")
        return {
            "id": f"{cluster}:{group}",
            "nodeGroupName": group,
            "arn": f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/{group}/{request.uuid()}",
        }
    if module == "secretsmanager" and kind == "secret":
        arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{request.hex(6)}"
        return {"id": arn, "arn": arn, "name": name}
    return {"id": name}


def _zones(request: Request) -> dict[str, Any]:
    letters = "abcdef"
    return {
        "names": [f"{request.region}{letter}" for letter in letters],
        "zoneIds": [f"use1-az{index + 1}" for index in range(len(letters))],
        "id": request.region,
    }


def _caller(request: Request) -> dict[str, Any]:
    account = request.account_id
    return {
        "accountId": account,
        "arn": f"arn:aws:sts::{account}:assumed-role/terrane-provisioner/terrane",
        "userId": "AROAEXAMPLEOFFLINE:terrane",
        "id": account,
    }


def _region(request: Request) -> dict[str, Any]:
    region = request.inputs.get("region") or request.region
    return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com", "description": region}


def _partition(request: Request) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


INVOKES: dict[str, InvokeFaker] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
}
