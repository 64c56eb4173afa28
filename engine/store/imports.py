"""The import plan of an environment: ``imports/<env>.json`` in the project, written by ``terrane adopt``.

It names, by type and resource name as ``terrane plan`` shows them, the resources
of the environment's program that already exist, and the cloud id of each. While
it is there, ``plan``, ``preview`` and ``up`` run the program with Pulumi's
``import`` option on those resources, so the engine adopts them instead of
creating them; a successful ``up`` removes it. It is plain JSON, meant to be
reviewed and committed like the environment's file.

The program is not changed: a stack transformation, registered before it runs,
sets ``import_`` on each named resource wherever a component creates it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from terrane.engine.errors import InvalidInputError
from terrane.engine.files import write_atomically
from terrane.engine.project import read_text

IMPORTS_DIR = "imports"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Import:
    """One existing object, and the program resource it becomes."""

    type: str
    name: str
    id: str
    source: str
    """Where the mapping came from: a Terraform address, or an entry of an ids file."""


@dataclass(frozen=True)
class ImportPlan:
    environment: str
    source: str
    """The file ``terrane adopt`` read."""
    imports: tuple[Import, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "environment": self.environment, "source": self.source,
                "imports": [asdict(item) for item in self.imports]}


def relative_path(environment: str) -> str:
    return f"{IMPORTS_DIR}/{environment}.json"


def read(root: Path, environment: str) -> ImportPlan | None:
    """The environment's import plan; None when it has none. A damaged file is invalid input, naming the field."""
    relative = relative_path(environment)
    path = root / relative
    if not path.exists():
        return None
    try:
        raw = json.loads(read_text(path, relative))
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{relative}: not JSON ({exc.msg}, line {exc.lineno})",
                                hint=f"run terrane adopt {environment} again") from None
    return _parse(raw, relative, environment)


def write(root: Path, plan: ImportPlan) -> str:
    """Write ``plan`` (replacing the environment's earlier one); the path written, relative to the project."""
    relative = relative_path(plan.environment)
    write_atomically(root / relative, json.dumps(plan.to_dict(), indent=2) + "\n")
    return relative


def clear(root: Path, environment: str) -> bool:
    """Remove the environment's import plan, once its resources are adopted; whether there was one."""
    path = root / relative_path(environment)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def _parse(raw: Any, relative: str, environment: str) -> ImportPlan:
    def problem(field: str, message: str) -> InvalidInputError:
        return InvalidInputError(f"{relative}: {field}: {message}", hint=f"run terrane adopt {environment} again")

    if not isinstance(raw, dict):
        raise problem("(top level)", "must be an object")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise problem("schema_version", f"must be {SCHEMA_VERSION}")
    if raw.get("environment") != environment:
        raise problem("environment", f"must be {environment}, the environment the file is named after")
    entries = raw.get("imports")
    if not isinstance(entries, list):
        raise problem("imports", "must be a list")
    imports = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"type", "name", "id", "source"}:
            raise problem(f"imports[{index}]", "must have exactly type, name, id and source")
        bad = [key for key in ("type", "name", "id", "source") if not isinstance(entry[key], str) or not entry[key]]
        if bad:
            raise problem(f"imports[{index}].{bad[0]}", "must be a non-empty string")
        imports.append(Import(**entry))
    return ImportPlan(environment, str(raw.get("source", "")), tuple(imports))


def importing(program: Callable[[], None], imports: Sequence[Import]) -> Callable[[], None]:
    """``program``, run with Pulumi's ``import`` option on each resource ``imports`` names."""
    ids = {(item.type, item.name): item.id for item in imports}
    if not ids:
        return program

    def run() -> None:
        import pulumi

        pulumi.runtime.register_stack_transformation(_adopting(ids))
        program()

    return run


def _adopting(ids: Mapping[tuple[str, str], str]) -> Any:
    import pulumi

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        found = ids.get((args.type_, args.name))
        if found is None or not isinstance(args.resource, pulumi.CustomResource):
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(import_=found)))

    return transformation


def refusals(imports: Sequence[Import], steps: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line for each import that would delete something, as a preview's ``steps`` say.

    An import deletes what the stack has already under that name (the engine imports over it), and what it
    adopts when the engine follows it with a replacement (a property that cannot change in place differs).
    """
    adopted = {(item.type, item.name): item for item in imports}
    lines = []
    for step in steps:
        item = adopted.get((step["type"], step["urn"].rsplit("::", 1)[-1]))
        if item is None or step["op"] != "import":
            continue
        if step["replaces_id"]:
            lines.append(f"refusing to adopt {item.id} ({item.source}) as {item.name}: the stack has {item.name} "
                         f"already, as {step['replaces_id']}, which the import would replace")
        elif step["replace_keys"]:
            keys = ", ".join(step["replace_keys"])
            lines.append(f"refusing to adopt {item.id} ({item.source}) as {item.name}: it differs from the spec in "
                         f"{keys}, which cannot change in place, so the engine would replace it")
    return lines
