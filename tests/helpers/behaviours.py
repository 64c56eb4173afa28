"""Test-cloud objects whose providers behave as different real providers do, for drift to be proven against each.

Providers differ in what a refresh hands the engine, and so in what drift has to read:

========================  =====================================================================
``diff``                  ``engine``: none of its own; the engine diffs the inputs itself, and a
                          refresh step carries a detailed diff when the read returns inputs.
                          ``flag``: says changed or not, nothing more (no detailed diff, as many
                          providers). ``replace``: the same, naming ``zone`` as replace-only.
``read``                  ``inputs``: returns the object as inputs and outputs (most bridged
                          providers). ``outputs``: outputs only; the inputs stay as applied.
========================  =====================================================================

Every object also has a computed ``etag`` output that no input sets. ``program``
makes one object per behaviour for each document of ``<project>/behaviours.json``
(``{"name": {...properties...}}``), the keys of ``"secret"`` in it made secret.
The objects live in the test cloud beside the project, as ``tests.helpers.testcloud``'s do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.environments import Environment
from tests.helpers.testcloud import Cloud

DOCUMENTS = "behaviours.json"
DIFFS = ("engine", "flag", "replace")
READS = ("inputs", "outputs")
BEHAVIOURS = tuple(f"{diff}-{read}" for diff, read in product(DIFFS, READS))
COMPUTED = "etag"


class _Provider(ResourceProvider):
    def __init__(self, directory: str, diff: str, read: str) -> None:
        super().__init__()
        self.directory = directory
        self.reads_inputs = read == "inputs"
        self.diffs = diff != "engine"
        self.replace_only = ("zone",) if diff == "replace" else ()

    def create(self, props: dict[str, Any]) -> CreateResult:
        properties = {key: value for key, value in props.items() if not key.startswith("__")}
        stored = self._write(properties["name"], {**properties, COMPUTED: "1"})
        return CreateResult(properties["name"], stored)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        path = Path(self.directory) / f"{id_}.json"
        if not path.exists():
            return ReadResult("", {})
        stored = json.loads(path.read_text())
        inputs = {key: value for key, value in stored.items() if key != COMPUTED}
        return ReadResult(id_, stored, inputs=inputs if self.reads_inputs else None)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        properties = {key: value for key, value in news.items() if not key.startswith("__")}
        etag = str(int(olds.get(COMPUTED, "0")) + 1)
        return UpdateResult(self._write(id_, {**properties, COMPUTED: etag}))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        (Path(self.directory) / f"{id_}.json").unlink(missing_ok=True)

    def _write(self, name: str, stored: dict[str, Any]) -> dict[str, Any]:
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.json").write_text(json.dumps(stored, indent=2, sort_keys=True))
        return stored


class _FlagProvider(_Provider):
    """Compares the inputs itself and says only whether they changed (and, maybe, that ``zone`` replaces)."""

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = sorted(key for key in {*olds, *news} - {COMPUTED, "__provider"} if olds.get(key) != news.get(key))
        return DiffResult(changes=bool(changed), replaces=[key for key in changed if key in self.replace_only])


def provider(directory: Path, behaviour: str) -> _Provider:
    diff, read = behaviour.split("-")
    kind = _Provider if diff == "engine" else _FlagProvider
    return kind(str(directory), diff, read)


class Thing(Resource):
    def __init__(self, name: str, cloud: Cloud, behaviour: str, properties: dict[str, Any]) -> None:
        secret = properties.get("secret")
        inputs = {**properties, "name": name, **({"secret": pulumi.Output.secret(secret)} if secret else {})}
        super().__init__(provider(cloud.directory, behaviour), name, inputs,
                         pulumi.ResourceOptions(additional_secret_outputs=["secret"] if secret else None))


def name(document: str, behaviour: str) -> str:
    return f"{document}-{behaviour}"


def program(env: Environment, account: Account) -> Callable[[], None]:
    cloud = Cloud.of(env)
    documents = json.loads((Path.cwd() / DOCUMENTS).read_text())

    def run() -> None:
        for document, properties in documents.items():
            for behaviour in BEHAVIOURS:
                Thing(name(document, behaviour), cloud, behaviour, properties)

    return run
