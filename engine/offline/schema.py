"""Check a resource registration against its provider's schema, as the installed provider SDK encodes it.

Pulumi's mock runtime accepts any input; a provider does not. ``check`` finds, in what a program
registers, what the provider would refuse before it reached the cloud: an input the resource
does not have, a value of the wrong type (at any depth: nested input types, lists, maps), a
required input left out, an enum value outside its set. A value known only at apply time (a
preview unknown) passes; a secret is checked by the value it wraps, and its value never appears
in a message. A value outside the known set of an open enum (``Union[str, TheEnum]``, which
accepts any string) is a warning, not an error. Component resources are not checked, nor
resources of a package whose SDK is not installed (or cannot be read: ``shapes.resource_schema``).

What the SDK does not encode is not checked either: the provider's own validators (a CIDR's
syntax, a name's length, two inputs that conflict) and the cloud's rules at apply time.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

from terrane.engine import wire
from terrane.engine.drift.properties import join
from terrane.engine.offline import shapes
from terrane.engine.offline.shapes import ANY, EnumOf, ListOf, MapOf, Object, OneOf, Scalar, Shape, Special

_ENUM_VALUES_SHOWN = 8


@dataclass(frozen=True, order=True)
class Finding:
    """One input of one resource its provider would refuse (or, as a warning, may)."""

    type: str
    name: str
    path: str
    """Where in the registration: ``inputs.tags.Name``, ``inputs.egress[0].ports[1].port``."""
    message: str

    def __str__(self) -> str:
        return f"{self.type} {self.name}: {self.path}: {self.message}"


@dataclass(frozen=True)
class Verdict:
    """What ``check`` found in one registration; ``checked`` is False for what it does not check."""

    checked: bool
    errors: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()


def check(type_: str, name: str, inputs: Mapping[str, Any], *, custom: bool = True) -> Verdict:
    """Check the inputs of one registration, as the engine receives them (camelCase, secrets and unknowns marked).

    A provider's settings are JSON-encoded by the SDK, but for strings: each is checked as the value it encodes.
    """
    if not custom:
        return Verdict(checked=False)
    walk = _Walk(type_, name)
    try:
        schema = shapes.resource_schema(type_)
    except shapes.UnknownTypeError:
        package = type_.removeprefix(wire.PROVIDER_TYPE_PREFIX).split(":")[0]
        walk.error("type", f"not a resource type of the installed SDK of {package!r}")
        return walk.verdict()
    if schema is None:
        return Verdict(checked=False)
    walk.properties(schema, inputs, "inputs", decode=type_.startswith(wire.PROVIDER_TYPE_PREFIX))
    return walk.verdict()


def once(findings: Iterable[Finding]) -> tuple[str, ...]:
    """Each finding once per type of resource: the first resource named, and how many more share it."""
    alike: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in sorted(findings):
        alike.setdefault((finding.type, finding.path, finding.message), []).append(finding)
    return tuple(f"{same[0]}" + (f" (and {len(same) - 1} more of its type)" if len(same) > 1 else "")
                 for same in alike.values())


@dataclass
class _Walk:
    type: str
    name: str
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def verdict(self) -> Verdict:
        return Verdict(checked=True, errors=tuple(self.errors), warnings=tuple(self.warnings))

    def error(self, path: str, message: str) -> None:
        self.errors.append(Finding(self.type, self.name, path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Finding(self.type, self.name, path, message))

    def properties(self, schema: shapes.InputSchema, value: Mapping[str, Any], path: str, decode: bool = False) -> None:
        """An object of ``schema``'s inputs: each known, each of its shape, none required missing."""
        for key in sorted(value):
            where = join(path, key)
            if key not in schema.names:
                close = difflib.get_close_matches(key, schema.names, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                self.error(where, f"unknown input: {schema.cls.__name__} has no {key!r}{hint}")
                continue
            shape = schema.shape(key)
            item = value[key]
            if decode:
                item = _decoded(item, shape)
            self.value(item, shape, where)
        for key in sorted(schema.required):
            if _reveal(value.get(key))[0] is None:
                self.error(join(path, key), f"missing: {schema.cls.__name__} requires it")

    def value(self, value: Any, shape: Shape, path: str, secret: bool = False) -> None:
        """``value`` against ``shape``; an unknown (or null) passes, a secret is checked by what it wraps."""
        value, wrapped = _reveal(value)
        secret = secret or wrapped
        if value is None or value == rpc.UNKNOWN or shape == ANY:
            return
        if isinstance(shape, OneOf):
            self.one_of(value, shape, path, secret)
        elif _kind(value) not in _kinds(shape):
            self.error(path, f"expected {shape.label}, got {_kind(value)}")
        elif isinstance(shape, EnumOf):
            self.enum(value, shape, path, secret)
        elif isinstance(shape, ListOf):
            for index, item in enumerate(value):
                self.value(item, shape.item, join(path, index), secret)
        elif isinstance(shape, MapOf):
            for key in sorted(value):
                self.value(value[key], shape.value, join(path, key), secret)
        elif isinstance(shape, Object):
            self.properties(shapes.input_schema(shape.cls), value, path)

    def enum(self, value: Any, shape: EnumOf, path: str, secret: bool) -> None:
        if value in shape.values:
            return
        shown = "[secret]" if secret else json.dumps(value)
        known = sorted(map(str, shape.values))
        listed = ", ".join(known[:_ENUM_VALUES_SHOWN]) + (", ..." if len(known) > _ENUM_VALUES_SHOWN else "")
        if shape.open:
            self.warn(path, f"{shown} is not a known {shape.name} ({listed}); "
                            "the SDK accepts any string, the cloud may not")
        else:
            self.error(path, f"{shown} is not a valid {shape.name}: expected one of {listed}")

    def one_of(self, value: Any, shape: OneOf, path: str, secret: bool) -> None:
        """Any option the value fits; when none does, the errors of the one option of its kind."""
        fitting = [option for option in shape.options if _kind(value) in _kinds(option)]
        attempts = []
        for option in fitting:
            attempt = _Walk(self.type, self.name)
            attempt.value(value, option, path, secret)
            if not attempt.errors:
                self.warnings.extend(attempt.warnings)
                return
            attempts.append(attempt)
        if len(attempts) == 1:
            self.errors.extend(attempts[0].errors)
        else:
            self.error(path, f"expected {shape.label}, got {_kind(value)}")


def _reveal(value: Any) -> tuple[Any, bool]:
    """The value a secret or an output value wraps (``rpc.UNKNOWN`` when it has none), and whether it is secret."""
    if isinstance(value, dict):
        sig = value.get(wire.SIG_KEY)
        if sig == wire.SECRET_SIG:
            return _reveal(value.get("value"))[0], True
        if sig == wire.OUTPUT_VALUE_SIG:
            return _reveal(value["value"])[0] if "value" in value else rpc.UNKNOWN, bool(value.get("secret"))
    return value, False


def _decoded(value: Any, shape: Shape) -> Any:
    """A provider setting as the value its JSON encodes, where the shape is not a string's."""
    revealed, secret = _reveal(value)
    if not isinstance(revealed, str) or revealed == rpc.UNKNOWN or "string" in _kinds(shape):
        return value
    try:
        decoded = json.loads(revealed)
    except ValueError:
        return value
    return {wire.SIG_KEY: wire.SECRET_SIG, "value": decoded} if secret else decoded


def _kind(value: Any) -> str:
    """The kind of a wire value, as a message names it (numbers arrive as doubles: an integral one is an int)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "int" if float(value).is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    sig = value.get(wire.SIG_KEY) if isinstance(value, dict) else None
    if sig in (wire.ASSET_SIG, wire.ARCHIVE_SIG):
        return "asset"
    if sig == wire.RESOURCE_SIG:
        return "resource reference"
    return "object"


@functools.cache
def _kinds(shape: Shape) -> frozenset[str]:
    """The kinds of wire value ``shape`` admits."""
    if isinstance(shape, Scalar):
        return _SCALAR_KINDS[shape.type]
    if isinstance(shape, EnumOf):
        return frozenset().union(*(_kind_names(value) for value in shape.values)) or frozenset({"string"})
    if isinstance(shape, ListOf):
        return frozenset({"list"})
    if isinstance(shape, MapOf | Object):
        return frozenset({"object"})
    if isinstance(shape, OneOf):
        return frozenset().union(*(_kinds(option) for option in shape.options))
    return _SPECIAL_KINDS[shape]


def _kind_names(value: Any) -> frozenset[str]:
    return _SCALAR_KINDS[float] if isinstance(value, int | float) else frozenset({_kind(value)})


_SCALAR_KINDS = {
    str: frozenset({"string"}),
    bool: frozenset({"bool"}),
    int: frozenset({"int"}),
    float: frozenset({"int", "number"}),
}
_SPECIAL_KINDS: dict[Special, frozenset[str]] = {
    ANY: frozenset({"string", "bool", "int", "number", "list", "object", "asset", "resource reference"}),
    shapes.ASSET: frozenset({"asset"}),
    # Without resource references, the SDK sends a resource's id (or URN) in its place.
    shapes.RESOURCE: frozenset({"resource reference", "string"}),
}


