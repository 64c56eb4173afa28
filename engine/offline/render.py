"""Render a Pulumi program offline, under the SDK's mock runtime ("terrane plan").

Nothing is read from or sent to a cloud and no Pulumi CLI is needed. The
program runs exactly as the Automation API runs an inline program (same
runtime entry point, preview mode), but its resource monitor is a recording
mock: every registration is answered with realistic fake identifiers, and what
the program asked for is kept as the engine would see it (camelCase inputs,
secrets, unknowns, parents, providers and dependencies), but for the settings of
providers, which the SDK JSON-encodes: they are kept as the values they encode.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
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

from terrane.engine import clouds, wire
from terrane.engine.errors import EngineError, SchemaError
from terrane.engine.offline import schema
from terrane.engine.offline.fakes import FakeCloud
from terrane.engine.project import Project
from terrane.engine.store import imports
from terrane.stacks.program import build_program
from terrane.stacks.spec.environments import Environment
from terrane.stacks.standard import INCARNATION_KEY

SECRET = "[secret]"
UNKNOWN = "[unknown]"
STACK_TYPE = "pulumi:pulumi:Stack"
PLAN_INCARNATION = "<incarnation>"
"""Stands for the stack's incarnation in a plan: offline there is no stack, and the engine sets one as it creates it."""


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
    import_id: str | None = None
    """The id of the existing object the engine would adopt instead of creating one (``terrane adopt``)."""


@dataclass(frozen=True)
class Rendered:
    """Everything a program registered, in a stable order, and its stack outputs."""

    resources: tuple[RenderedResource, ...]
    outputs: dict[str, Any] = field(default_factory=dict)
    schema_checked: int = 0
    """How many registrations were checked against their provider's schema (``schema.check``)."""
    warnings: tuple[str, ...] = ()
    """What the schema check found doubtful but not wrong (a value an open enum does not know), each once."""

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
    region: str | None
    """None on a linked cluster."""
    resources: tuple[RenderedResource, ...]
    outputs: dict[str, Any]
    schema_checked: int = 0
    warnings: tuple[str, ...] = ()
    """``Rendered``'s schema check figures; neither is in the JSON document."""

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
                    "import_id": r.import_id,
                }
                for r in self.resources
            ],
            "outputs": self.outputs,
        }


def plan(project: Project, name: str) -> Plan:
    """Validate environment ``name`` and render its program with no cloud and no CLI."""
    return plan_environment(project, project.environment(name))


def plan_environment(project: Project, env: Environment) -> Plan:
    """Render the program of ``env``, already validated, with no cloud and no CLI.

    With an import plan (``terrane adopt``), the resources it names carry the id ``up`` would adopt.
    """
    account = project.account_for(env)
    region = env.resolved_region(account)
    adopting = imports.read(project.root, env.name)
    rendered = render(
        imports.importing(build_program(env, account), adopting.imports if adopting else ()),
        project=project.pulumi_project,
        stack=env.name,
        account_id=account.scope_id,
        region=region or "",
        config={INCARNATION_KEY: PLAN_INCARNATION, **clouds.of(account).fake.config},
    )
    return Plan(
        environment=env.name,
        cloud=account.cloud,
        account=env.account,
        region=region,
        resources=rendered.resources,
        outputs=rendered.outputs,
        schema_checked=rendered.schema_checked,
        warnings=rendered.warnings,
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
    runtime state. Every registration is checked against its provider's schema
    (``schema.check``): a program its providers would refuse raises ``SchemaError``.
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
    if monitor.schema_errors:
        raise SchemaError([str(error) for error in monitor.schema_errors])
    return monitor.result()


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, cloud: FakeCloud) -> None:
        super().__init__(cloud)
        self._lock = threading.Lock()
        self._registrations: list[RenderedResource] = []
        self._outputs: dict[str, Any] = {}
        self._stack_urn: str | None = None
        self._verdicts: list[schema.Verdict] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of its children's type chain.
        if parent == self._stack_urn:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        wire_inputs = json_format.MessageToDict(request.object)
        verdict = schema.check(request.type, request.name, wire_inputs, custom=bool(request.custom))
        inputs = _plain(wire_inputs)
        if request.type.startswith(wire.PROVIDER_TYPE_PREFIX):
            inputs = _provider_settings(inputs)
        resource = RenderedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            provider=_provider_urn(request.provider),
            custom=bool(request.custom),
            inputs=inputs,
            depends_on=tuple(sorted(set(request.dependencies))),
            protect=bool(request.protect),
            ignore_changes=tuple(request.ignoreChanges),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            import_id=request.importId or None,
        )
        with self._lock:
            if request.type == STACK_TYPE:
                self._stack_urn = response.urn
            self._registrations.append(resource)
            self._verdicts.append(verdict)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self._stack_urn:
            self._outputs = _plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)

    @property
    def schema_errors(self) -> list[schema.Finding]:
        return sorted(error for verdict in self._verdicts for error in verdict.errors)

    def result(self) -> Rendered:
        resources = sorted(self._registrations, key=lambda r: (r.parent is not None, r.urn))
        return Rendered(
            resources=tuple(resources),
            outputs=dict(sorted(self._outputs.items())),
            schema_checked=sum(verdict.checked for verdict in self._verdicts),
            warnings=schema.once(warning for verdict in self._verdicts for warning in verdict.warnings),
        )


def _provider_urn(reference: str) -> str | None:
    # A provider reference is "<urn>::<id>"; the URN alone is what names it.
    return reference.rsplit("::", 1)[0] if reference else None


def _provider_settings(inputs: dict[str, Any]) -> dict[str, Any]:
    """A provider's structured settings as values: the SDK hands them to the engine JSON-encoded.

    The SDK encodes a setting as a whole, so one that holds a secret anywhere is a secret
    as a whole: it is ``[secret]`` already, and stays so.
    """
    return {key: _json_value(value) for key, value in inputs.items()}


def _json_value(value: Any) -> Any:
    """A string that holds a JSON object or array, as that value; anything else as it is."""
    if not isinstance(value, str) or not value.startswith(("{", "[")):
        return value
    try:
        decoded = json.loads(value, object_pairs_hook=lambda pairs: dict(sorted(pairs)))
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list) else value


def _plain(value: Any) -> Any:
    """Turn a serialized property value into plain JSON, masking secrets."""
    if isinstance(value, dict):
        sig = value.get(wire.SIG_KEY)
        if sig == wire.SECRET_SIG:
            return SECRET
        if sig == wire.RESOURCE_SIG:
            return value.get("urn")
        if sig in (wire.ASSET_SIG, wire.ARCHIVE_SIG):
            return "[asset]"
        if sig == wire.OUTPUT_VALUE_SIG:
            if value.get("secret"):
                return SECRET
            return _plain(value["value"]) if "value" in value else UNKNOWN
        return {key: _plain(value[key]) for key in sorted(value)}  # in the order of names, not of resolution
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        # protobuf Structs carry every number as a double.
        return int(value)
    return value
