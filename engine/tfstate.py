"""Reading a Terraform state file (format version 4, written by Terraform 0.12 and later).

``read_state`` keeps what adopting needs: the managed resources, one per
instance and addressed as Terraform addresses them, with their attributes, and
the root module's outputs. Data sources and deposed objects (old objects
waiting to be destroyed) are left out: they are not resources to adopt.

A state holds secrets (``sensitive_attributes`` marks some, not all), so no
message ever repeats a value from the file: errors name the file, and where it
applies the resource and field, on one line (``InvalidInputError``, exit 3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from terrane.engine.errors import InvalidInputError
from terrane.engine.files import RefusedFileError, read_regular

STATE_VERSION = 4
STATE_LIMIT = 256 << 20
"""The largest Terraform state terrane reads: 256 MiB (a large state is tens of MB)."""
MANAGED = "managed"
DATA = "data"
_PULL_HINT = "Terraform 0.12 and later write version 4: save one with `terraform state pull > FILE`"


@dataclass(frozen=True)
class StateResource:
    """One instance of a managed resource in a Terraform state."""

    address: str
    """Terraform's address: ``aws_vpc.main``, ``module.net.aws_subnet.private[0]``, ``x.y["a"]``."""
    type: str
    """The Terraform resource type, e.g. ``aws_vpc``."""
    attributes: Mapping[str, Any]

    @property
    def id(self) -> str | None:
        """``attributes["id"]`` when it is a non-empty string."""
        value = self.attributes.get("id")
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class TerraformState:
    """The managed resources and root outputs of one Terraform state file."""

    path: Path
    terraform_version: str
    outputs: Mapping[str, Any]
    """Output name -> its value."""
    resources: tuple[StateResource, ...]
    """Managed resources only, one per instance, in the file's order."""


def read_state(path: Path) -> TerraformState:
    """The state in ``path``; ``InvalidInputError`` naming the file (and field) when it is not a v4 state."""
    document = _load(path)
    version = document.get("version")
    if isinstance(version, bool) or version != STATE_VERSION:
        found = _version_found(version, "version" in document)
        raise InvalidInputError(
            f"{path}: a Terraform state of format version {STATE_VERSION} is needed, this file has {found}; "
            f"{_PULL_HINT}"
        )
    terraform_version = document.get("terraform_version", "")
    if not isinstance(terraform_version, str):
        raise InvalidInputError(f"{path}: terraform_version: must be a string")
    return TerraformState(
        path=path,
        terraform_version=terraform_version,
        outputs=MappingProxyType(_outputs(path, document.get("outputs", {}))),
        resources=tuple(_resources(path, document.get("resources", []))),
    )


def _version_found(version: object, present: bool) -> str:
    if not present:
        return "no version"
    if isinstance(version, int) and not isinstance(version, bool):
        return f"version {version}"
    return "a version that is not a number"


def _load(path: Path) -> dict[str, Any]:
    try:
        data = read_regular(path, STATE_LIMIT)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file; {_PULL_HINT}") from None
    except RefusedFileError as exc:
        raise InvalidInputError(f"{path}: cannot be read: {exc}") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot be read: {exc.strerror or type(exc).__name__}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: byte {exc.start} is not UTF-8: not a Terraform state") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: the decoder's message is safe, but the text around it could be a secret.
        raise InvalidInputError(f"{path}: line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise InvalidInputError(f"{path}: not JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise InvalidInputError(f"{path}: must be a JSON object (a Terraform state); {_PULL_HINT}")
    return document


def _outputs(path: Path, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{path}: outputs: must be an object of output name -> {{value, type}}")
    outputs: dict[str, Any] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise InvalidInputError(f"{path}: outputs.{name}: must be an object with a value")
        outputs[name] = entry["value"]
    return outputs


def _resources(path: Path, raw: object) -> list[StateResource]:
    if not isinstance(raw, list):
        raise InvalidInputError(f"{path}: resources: must be a list")
    found: list[StateResource] = []
    for position, entry in enumerate(raw):
        where = f"{path}: resources[{position}]"
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{where}: must be an object")
        for key in ("mode", "type", "name"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise InvalidInputError(f"{where}: {key}: must be a non-empty string")
        if entry["mode"] not in (MANAGED, DATA):
            raise InvalidInputError(f"{where}: mode: must be {MANAGED} or {DATA}")
        module = entry.get("module", "")
        if not isinstance(module, str):
            raise InvalidInputError(f"{where}: module: must be a string")
        base = _base_address(module, entry["type"], entry["name"], entry["mode"])
        instances = entry.get("instances")
        if not isinstance(instances, list):
            raise InvalidInputError(f"{where} ({base}): instances: must be a list")
        for index, instance in enumerate(instances):
            resource = _instance(f"{where} ({base}): instances[{index}]", base, entry["type"], instance)
            if entry["mode"] == MANAGED and resource is not None:
                found.append(resource)
    return found


def _instance(where: str, base: str, type_: str, raw: object) -> StateResource | None:
    """The instance as a resource; None for a deposed object."""
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: must be an object")
    key = raw.get("index_key")
    if key is not None and (isinstance(key, bool) or not isinstance(key, (int, str))):
        raise InvalidInputError(f"{where}: index_key: must be a number or a string")
    attributes = raw.get("attributes")
    if not isinstance(attributes, dict):
        raise InvalidInputError(f"{where}: attributes: must be an object (the instance has none)")
    if raw.get("deposed"):
        return None
    return StateResource(address=base + _index(key), type=type_, attributes=MappingProxyType(attributes))


def _base_address(module: str, type_: str, name: str, mode: str) -> str:
    local = f"{type_}.{name}" if mode == MANAGED else f"{DATA}.{type_}.{name}"
    return f"{module}.{local}" if module else local


def _index(key: int | str | None) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return f"[{json.dumps(key, ensure_ascii=False)}]"
