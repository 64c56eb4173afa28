"""A local test cloud that the real Pulumi engine creates, reads, updates and deletes.

Each resource is a Python dynamic provider's object kept as a JSON file,
``<cloud>/<environment>/<name>.json``, holding its properties. The cloud of a
project at ``P`` is the directory ``P/../testcloud``: beside the project, not in
it, since a cloud holds secret values in plain. A test drifts the cloud behind
terrane's back by editing or deleting those files (``TestCloud``).

``program`` is a program factory (``Engine(..., program="tests.helpers.testcloud:program")``)
whose resources exercise every shape drift has to report: nested properties,
keys with dots, a secret, a secret object, components. ``scaled`` makes
``int(env.tags["testcloud-size"])`` plain resources, for benchmarks. An
environment tag ``testcloud-delay`` (seconds) slows every create, update and
delete, for tests that need an update in flight.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, ResourceProvider, UpdateResult

from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.environments import Environment

CLOUD_DIR = "testcloud"
SIZE_TAG = "testcloud-size"
DELAY_TAG = "testcloud-delay"


class _Provider(ResourceProvider):
    """CRUD on ``<directory>/<name>.json``; reads report the file's properties as the inputs, as real providers do."""

    def __init__(self, directory: str, delay: float) -> None:
        super().__init__()
        self.directory = directory
        self.delay = delay

    def create(self, props: dict[str, Any]) -> CreateResult:
        properties = _properties(props)
        # While a create is in flight, <name>.creating says so (tests interrupt it there).
        marker = Path(self.directory) / f"{properties['name']}.creating"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        time.sleep(self.delay)
        self._write(properties["name"], properties)
        marker.unlink()
        return CreateResult(properties["name"], properties)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(self.directory) / f"{id_}.json"
        if not path.exists():
            return ReadResult("", {})
        properties = json.loads(path.read_text())
        return ReadResult(id_, properties, inputs=dict(properties))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        time.sleep(self.delay)
        properties = _properties(news)
        self._write(id_, properties)
        return UpdateResult(properties)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        time.sleep(self.delay)
        (Path(self.directory) / f"{id_}.json").unlink(missing_ok=True)

    def _write(self, name: str, properties: dict[str, Any]) -> None:
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.json").write_text(json.dumps(properties, indent=2, sort_keys=True))


def _properties(props: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if not key.startswith("__")}


class Thing(Resource):
    """One object of the test cloud; ``name`` is its id and file name."""

    def __init__(self, name: str, cloud: Cloud, properties: dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_Provider(str(cloud.directory), cloud.delay), name, {"name": name, **properties}, opts)


@dataclass(frozen=True)
class Cloud:
    """Where an environment's objects live, and how long each create, update or delete takes."""

    directory: Path
    delay: float

    @classmethod
    def of(cls, env: Environment) -> Cloud:
        return cls(cloud_of(Path.cwd()) / env.name, float(env.tags.get(DELAY_TAG, "0")))


class Group(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:test:Group", name, None, opts)
        self.register_outputs({})


def cloud_of(project: Path) -> Path:
    return project.resolve().parent / CLOUD_DIR


def program(env: Environment, account: Account) -> Callable[[], None]:
    cloud = Cloud.of(env)

    def run() -> None:
        core = Group("core")
        child = pulumi.ResourceOptions(parent=core)
        network = Thing("network", cloud, {
            "cidr": str(env.new_network.cidr) if env.new_network else None,
            "tags": {**env.tags, "kubernetes.io/role": "internal"},
            "spec": {"size": 1, "nodes": {"min": 1, "max": 3}},
        }, child)
        # After the network, so that an update cut short while the network is created never starts the bucket.
        Thing("bucket", cloud, {"versioning": True, "retention": 7},
              pulumi.ResourceOptions(parent=core, depends_on=[network]))
        # The account's credential is stack config kept secret; it stays secret in the cloud's object.
        credential = _account_secret(account)
        token = Thing("token", cloud, {
            "value": credential,
            "credentials": pulumi.Output.secret({"user": "terrane", "password": credential}),
        }, pulumi.ResourceOptions(additional_secret_outputs=["value", "credentials"]))
        pulumi.export("network_id", network.id)
        pulumi.export("greeting", f"hello from {env.name}")
        pulumi.export("token", token.value)  # type: ignore[attr-defined]

    return run


def _account_secret(account: Account) -> pulumi.Output[str]:
    """The secret stack config each cloud's sample account has: external id, client secret, key."""
    if account.cloud == "aws":
        roles = pulumi.Config("aws").require_secret_object("assumeRoles")
        return roles.apply(lambda value: str(value[0]["externalId"]))
    if account.cloud == "azure":
        return pulumi.Config("azure-native").require_secret("clientSecret")
    return pulumi.Config("gcp").require_secret("credentials")


def scaled(env: Environment, account: Account) -> Callable[[], None]:
    cloud = Cloud.of(env)
    size = int(env.tags.get(SIZE_TAG, "10"))

    def run() -> None:
        group = Group("group")
        for index in range(size):
            Thing(f"thing{index}", cloud, {"index": index, "tags": dict(env.tags)},
                  pulumi.ResourceOptions(parent=group))

    return run


@dataclass(frozen=True)
class TestCloud:
    """The test cloud beside a project, for tests to read and change behind terrane's back."""

    __test__ = False  # not a pytest test class
    root: Path

    def path(self, env: str, name: str) -> Path:
        return self.root / env / f"{name}.json"

    def get(self, env: str, name: str) -> dict[str, Any]:
        return json.loads(self.path(env, name).read_text())  # type: ignore[no-any-return]

    def edit(self, env: str, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        properties = self.get(env, name)
        change(properties)
        self.path(env, name).write_text(json.dumps(properties, indent=2, sort_keys=True))

    def delete(self, env: str, name: str) -> None:
        self.path(env, name).unlink()

    def creating(self, env: str) -> list[str]:
        """The objects whose create is in flight."""
        return sorted(path.stem for path in (self.root / env).glob("*.creating"))
