"""What one environment's stack holds, resource by resource: ``terrane state ENV list``, and what ``--target`` names.

The state is read with one ``pulumi stack export``: its secrets stay encrypted, no account's credentials are
needed, and nothing is written, not even the state directory of a project that has none yet. A stack whose
state does not read, or is gone while its ``Pulumi.<env>.yaml`` remains, is an ``EngineError`` that says which
file to restore, as ``status`` says it (``inventory``). Changing the state by hand stays Pulumi's
(``pulumi state``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terrane.engine.errors import EngineError
from terrane.engine.operations import inventory, pulumi_cli, workspace
from terrane.engine.project import Project

URN_PREFIX = "urn:pulumi:"


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack's state, as Pulumi keeps it."""

    urn: str
    type: str
    id: str | None
    """The cloud's id of the object; None for a component resource and the stack itself, which have none."""
    protected: bool
    """Pulumi's ``protect``: the engine refuses to delete it until it is unprotected."""
    custom: bool
    """False for a component resource (a group of others) and the stack."""
    parent: str | None
    pending_delete: bool = False
    """Replaced, and kept to be deleted once the update that replaced it finishes (Pulumi's ``delete``)."""

    @property
    def name(self) -> str:
        """The logical name: the last segment of the URN."""
        return self.urn.rsplit("::", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "id": self.id, "protected": self.protected,
                "custom": self.custom, "parent": self.parent, "pending_delete": self.pending_delete}


@dataclass(frozen=True)
class StackState:
    """An environment's stack: its resources in the state's order (each after those it depends on)."""

    environment: str
    deployed: bool
    """False: the environment has no stack (never deployed), and so no resource."""
    resources: tuple[StackResource, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "environment": self.environment, "deployed": self.deployed,
                "resources": [resource.to_dict() for resource in self.resources]}


def read(project: Project, name: str) -> StackState:
    """``name``'s stack as the backend holds it; a stack it does not hold (never deployed) has no resources."""
    backend = workspace.backend(project, create=False)
    found = None if backend.holds_no_stack else _export(project, backend, name)
    if found is None:
        if inventory.config_file(project, name).exists():  # made once: its state is gone, not "never deployed"
            raise EngineError(f"{name}: {inventory.missing(project, backend.url, name)}")
        return StackState(name, deployed=False)
    try:
        resources = tuple(_resource(item) for item in found.get("resources") or ())
    except (KeyError, TypeError, AttributeError) as exc:
        raise EngineError(f"{name}: unexpected answer from pulumi stack export (a resource that does not read: {exc})") from exc
    return StackState(name, deployed=True, resources=resources)


def _export(project: Project, backend: workspace.Backend, name: str) -> dict[str, Any] | None:
    cli = pulumi_cli.locate()
    try:
        return pulumi_cli.export(cli, project.root, workspace.backend_environment(backend), name)
    except EngineError as exc:
        summary = inventory.stacks(cli, project, backend, [name]).get(name)  # which file to restore, and how
        raise EngineError(f"{name}: {summary.error if summary and summary.error else exc}") from exc


def _resource(item: dict[str, Any]) -> StackResource:
    return StackResource(urn=str(item["urn"]), type=str(item["type"]), id=str(item["id"]) if item.get("id") else None,
                         protected=bool(item.get("protect")), custom=bool(item.get("custom")),
                         parent=item.get("parent") or None, pending_delete=bool(item.get("delete")))
