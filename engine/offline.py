"""Render a Pulumi program offline, under the SDK's mock runtime ("terrane plan").

Nothing is read from or sent to a cloud and no Pulumi CLI is needed. The
program runs exactly as the Automation API runs an inline program (same
runtime entry point, preview mode), but its resource monitor is a recording
mock: every registration is answered with realistic fake identifiers, and what
the program asked for is kept as the engine would see it (camelCase inputs,
secrets, unknowns, parents, providers and dependencies).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import configure, reset_options
from pulumi.runtime.stack import run_in_stack

from engine.errors import EngineError
from engine.project import Project
from stacks.program import build_program

SECRET = "[secret]"
UNKNOWN = "[unknown]"

_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_ASSET_SIGS = {rpc._special_asset_sig, rpc._special_archive_sig}
_OUTPUT_VALUE_SIG = rpc._special_output_value_sig


@dataclass(frozen=True)
class RenderedResource:
    """One resource registration, as the Pulumi engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    depends_on: tuple[str, ...]
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendered:
    """Everything a program registered, in a stable order, and its stack outputs."""

    resources: tuple[RenderedResource, ...]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[RenderedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> RenderedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise LookupError(f"expected one {type_}, found {len(found)}")
        return found[0]

    def children(self, parent: RenderedResource) -> list[RenderedResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def by_urn(self, urn: str) -> RenderedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(urn)


PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Plan:
    """What ``terrane up`` would ask the engine to create, rendered offline."""

    environment: str
    cloud: str
    account: str
    region: str
    resources: tuple[RenderedResource, ...]
    outputs: dict[str, Any]

    def count_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.resources:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        """The schema_version 1 JSON document of ``terrane plan --json``."""
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "environment": self.environment,
            "cloud": self.cloud,
            "account": self.account,
            "region": self.region,
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "provider": r.provider,
                    "custom": r.custom,
                    "inputs": r.inputs,
                    "depends_on": list(r.depends_on),
                }
                for r in self.resources
            ],
            "outputs": self.outputs,
        }


def plan(project: Project, name: str) -> Plan:
    """Validate environment ``name`` and render its program with no cloud and no CLI."""
    env = project.environment(name)
    account = project.account_for(env)
    region = env.resolved_region(account)
    rendered = render(
        build_program(env, account),
        project=project.pulumi_project,
        stack=env.name,
        account_id=getattr(account, "account_id", "123456789012"),
        region=region,
    )
    return Plan(
        environment=env.name,
        cloud=account.cloud,
        account=env.account,
        region=region,
        resources=rendered.resources,
        outputs=rendered.outputs,
    )


def render(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    config: Mapping[str, str] | None = None,
) -> Rendered:
    """Run ``program`` under the mock runtime and return what it registered.

    ``account_id`` and ``region`` only shape the fake identifiers (ARNs, zones).
    Each call runs in its own context and event loop, so renders never share
    runtime state.
    """
    monitor = _RecordingMonitor(FakeCloud(account_id=account_id, region=region))

    def run() -> None:
        # As the Automation API's language server does: a failed program leaves
        # unobserved futures behind, and their log lines would bury its error.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        reset_options(project=project, stack=stack, preview=True, organization="organization")
        configure(
            mocks.MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=mocks.MockEngine(logging.getLogger("terrane.offline")),
                project=project,
                stack=stack,
                dry_run=True,
                organization="organization",
                callbacks=None,
            )
        )
        set_all_config(dict(config or {}), [])
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(run_in_stack(program))
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    loop.run_until_complete(task)
            loop.close()

    # The runtime keeps its settings in context variables: a fresh context per
    # render keeps one render (or a test) from seeing another's resources.
    try:
        contextvars.copy_context().run(run)
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"the program failed while rendering offline: {exc}") from exc
    return monitor.result()


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, cloud: FakeCloud) -> None:
        super().__init__(cloud)
        self._lock = threading.Lock()
        self._registrations: list[RenderedResource] = []
        self._outputs: dict[str, Any] = {}
        self._stack_urn: str | None = None

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of its children's type chain.
        if parent == self._stack_urn:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        resource = RenderedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            provider=_provider_urn(request.provider),
            custom=bool(request.custom),
            inputs=_plain(json_format.MessageToDict(request.object)),
            depends_on=tuple(sorted(set(request.dependencies))),
            protect=bool(request.protect),
            ignore_changes=tuple(request.ignoreChanges),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
        )
        with self._lock:
            if request.type == "pulumi:pulumi:Stack":
                self._stack_urn = response.urn
            self._registrations.append(resource)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == self._stack_urn:
            self._outputs = _plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)

    def result(self) -> Rendered:
        resources = sorted(self._registrations, key=lambda r: (r.parent is not None, r.urn))
        return Rendered(resources=tuple(resources), outputs=dict(sorted(self._outputs.items())))


def _provider_urn(reference: str) -> str | None:
    # A provider reference is "<urn>::<id>"; the URN alone is what names it.
    return reference.rsplit("::", 1)[0] if reference else None


def _plain(value: Any) -> Any:
    """Turn a serialized property value into plain JSON, masking secrets."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig in _ASSET_SIGS:
            return "[asset]"
        if sig == _OUTPUT_VALUE_SIG:
            if value.get("secret"):
                return SECRET
            return _plain(value["value"]) if "value" in value else UNKNOWN
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        # protobuf Structs carry every number as a double.
        return int(value)
    return value


class FakeCloud(mocks.Mocks):
    """Answers the mock monitor with deterministic, realistic identifiers.

    Identifiers derive from a hash of the resource's type and name, so the
    same program renders the same plan every time.
    """

    def __init__(self, *, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        digest = hashlib.sha256(f"{args.typ}::{args.name}".encode()).hexdigest()
        package = args.typ.split(":", 1)[0]
        fake = _FAKERS.get(package)
        computed = fake(self, args, digest) if fake else {"id": f"{args.name}-{digest[:7]}"}
        state = {**args.inputs, **computed}
        return str(state.pop("id")), state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answer = _INVOKES.get(args.token)
        if answer is None:
            raise EngineError(f"offline plan cannot answer the data source {args.token}")
        return answer(self, args.args), []


def _physical_name(args: mocks.MockResourceArgs, digest: str) -> str:
    # Pulumi auto-names a resource "<logical name>-<7 hex>" unless a name is given.
    given = args.inputs.get("name")
    return given if isinstance(given, str) and given else f"{args.name}-{digest[:7]}"


def _uuid(digest: str) -> str:
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


# aws: EC2 ids are "<prefix>-<17 hex>"; the ARN's resource part per type.
_EC2_PREFIXES = {
    "vpc": "vpc",
    "subnet": "subnet",
    "internetGateway": "igw",
    "natGateway": "nat",
    "eip": "eipalloc",
    "routeTable": "rtb",
    "routeTableAssociation": "rtbassoc",
    "route": "r",
    "defaultSecurityGroup": "sg",
    "securityGroup": "sg",
    "securityGroupRule": "sgr",
    "flowLog": "fl",
    "launchTemplate": "lt",
}
_EC2_ARN_KINDS = {
    "vpc": "vpc",
    "subnet": "subnet",
    "internetGateway": "internet-gateway",
    "natGateway": "natgateway",
    "eip": "elastic-ip",
    "routeTable": "route-table",
    "defaultSecurityGroup": "security-group",
    "securityGroup": "security-group",
    "flowLog": "vpc-flow-log",
    "launchTemplate": "launch-template",
}


def _fake_aws(cloud: FakeCloud, args: mocks.MockResourceArgs, digest: str) -> dict[str, Any]:
    region, account = cloud.region, cloud.account_id
    module = args.typ.split(":")[1].split("/")[0]
    kind = args.typ.split(":")[1].split("/")[-1]
    name = _physical_name(args, digest)
    if args.typ.startswith("pulumi:providers:"):
        return {"id": _uuid(digest)}
    if module == "ec2" and kind in _EC2_PREFIXES:
        ec2_id = f"{_EC2_PREFIXES[kind]}-{digest[:17]}"
        state: dict[str, Any] = {"id": ec2_id}
        if kind in _EC2_ARN_KINDS:
            state["arn"] = f"arn:aws:ec2:{region}:{account}:{_EC2_ARN_KINDS[kind]}/{ec2_id}"
        if kind == "eip":
            state["publicIp"] = f"203.0.113.{int(digest[:2], 16) % 254 + 1}"
        if kind == "launchTemplate":
            state["latestVersion"] = 1
        return state
    if module == "kms" and kind == "key":
        key_id = _uuid(digest)
        return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}
    if module == "kms" and kind == "alias":
        return {"id": name, "arn": f"arn:aws:kms:{region}:{account}:{name}"}
    if module == "cloudwatch" and kind == "logGroup":
        return {"id": name, "name": name, "arn": f"arn:aws:logs:{region}:{account}:log-group:{name}"}
    if module == "iam" and kind in ("role", "policy"):
        return {"id": name, "name": name, "arn": f"arn:aws:iam::{account}:{kind}/{name}"}
    if module == "iam" and kind == "openIdConnectProvider":
        url = str(args.inputs.get("url", "")).removeprefix("https://")
        return {"id": f"arn:aws:iam::{account}:oidc-provider/{url}", "arn": f"arn:aws:iam::{account}:oidc-provider/{url}"}
    if module == "eks" and kind == "cluster":
        issuer_id = digest[:32].upper()
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:eks:{region}:{account}:cluster/{name}",
            "endpoint": f"https://{issuer_id}.gr7.{region}.eks.amazonaws.com",
            "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"}]}],
            "status": "ACTIVE",
        }
    if module == "eks" and kind == "nodeGroup":
        cluster = args.inputs.get("clusterName", "cluster")
        group = args.inputs.get("nodeGroupName") or name
        return {
            "id": f"{cluster}:{group}",
            "nodeGroupName": group,
            "arn": f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/{group}/{_uuid(digest)}",
        }
    if module == "secretsmanager" and kind == "secret":
        arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{digest[:6]}"
        return {"id": arn, "arn": arn, "name": name}
    return {"id": f"{name}" if module in ("iam", "eks") else f"{args.name}-{digest[:7]}"}


def _fake_kubernetes(cloud: FakeCloud, args: mocks.MockResourceArgs, digest: str) -> dict[str, Any]:
    if args.typ.startswith("pulumi:providers:"):
        return {"id": _uuid(digest)}
    metadata = args.inputs.get("metadata") or {}
    name = metadata.get("name") or f"{args.name}-{digest[:8]}"
    namespace = metadata.get("namespace")
    return {
        "id": f"{namespace}/{name}" if namespace else name,
        "metadata": {**metadata, "name": name, "uid": _uuid(digest)},
    }


def _fake_pulumi(cloud: FakeCloud, args: mocks.MockResourceArgs, digest: str) -> dict[str, Any]:
    return {"id": _uuid(digest)}


_FAKERS: dict[str, Callable[[FakeCloud, mocks.MockResourceArgs, str], dict[str, Any]]] = {
    "aws": _fake_aws,
    "kubernetes": _fake_kubernetes,
    "pulumi": _fake_pulumi,
}


def _aws_zones(cloud: FakeCloud, _: dict[str, Any]) -> dict[str, Any]:
    letters = "abcdef"
    return {
        "names": [f"{cloud.region}{letter}" for letter in letters],
        "zoneIds": [f"use1-az{index + 1}" for index in range(len(letters))],
        "id": cloud.region,
    }


def _aws_caller(cloud: FakeCloud, _: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": cloud.account_id,
        "arn": f"arn:aws:sts::{cloud.account_id}:assumed-role/terrane-provisioner/terrane",
        "userId": "AROAEXAMPLEOFFLINE:terrane",
        "id": cloud.account_id,
    }


def _aws_region(cloud: FakeCloud, args: dict[str, Any]) -> dict[str, Any]:
    region = args.get("region") or cloud.region
    return {
        "region": region,
        "name": region,
        "id": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
        "description": region,
    }


def _aws_partition(cloud: FakeCloud, _: dict[str, Any]) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


_INVOKES: dict[str, Callable[[FakeCloud, dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _aws_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _aws_caller,
    "aws:index/getPartition:getPartition": _aws_partition,
    "aws:index/getRegion:getRegion": _aws_region,
}
