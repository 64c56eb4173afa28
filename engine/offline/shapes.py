"""What a provider accepts as a resource's inputs, read from the installed provider SDK.

A provider SDK (``pulumi_aws``, ``pulumi_azure_native``...) is generated from its provider's
schema and encodes it: its ``_utilities.register`` JSON maps each type token to a class, each
resource class hands one args class to ``_utilities.get_resource_args_opts``, the args class's
getters carry each input's wire name and type, its ``__init__`` tells required inputs (no
default) from optional ones, and ``_enums.py`` lists the values of each enum. This module turns
that into ``Shape`` values, lazily: an SDK is imported only when one of its tokens is asked
for, a token's class and an args class are read once per process, and a property's type only
when a value for it is checked.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import importlib
import importlib.util
import inspect
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import pulumi
from pulumi import _types
from pulumi.runtime import rpc

from terrane.engine import wire


@dataclass(frozen=True)
class Scalar:
    """A string, a bool, an integer or a number."""

    type: type

    @property
    def label(self) -> str:
        return _SCALAR_LABELS[self.type]


_SCALAR_LABELS = {str: "string", bool: "bool", int: "int", float: "number"}


@dataclass(frozen=True)
class EnumOf:
    """One of ``values``; ``open`` (``Union[str, TheEnum]``): any string, the values being those known."""

    name: str
    values: frozenset[Any]
    open: bool = False

    @property
    def label(self) -> str:
        return f"string ({self.name})" if self.open else self.name


@dataclass(frozen=True)
class ListOf:
    item: Shape

    @property
    def label(self) -> str:
        return "list"


@dataclass(frozen=True)
class MapOf:
    """An object of any keys, each value of shape ``value``."""

    value: Shape

    @property
    def label(self) -> str:
        return "map"


@dataclass(frozen=True)
class Object:
    """A nested input type: an object of named properties (``InputSchema``)."""

    cls: type

    @property
    def label(self) -> str:
        return f"object ({self.cls.__name__})"


@dataclass(frozen=True)
class OneOf:
    options: tuple[Shape, ...]

    @property
    def label(self) -> str:
        return " or ".join(option.label for option in self.options)


@dataclass(frozen=True)
class Special:
    """Anything (``Any``), an asset or archive, or a reference to a resource."""

    label: str


ANY = Special("any value")
ASSET = Special("asset or archive")
RESOURCE = Special("resource reference")

Shape = Union[Scalar, EnumOf, ListOf, MapOf, Object, OneOf, Special]  # noqa: UP007 - a runtime alias

_SEQUENCES = (list, typing.List, collections.abc.Sequence, typing.Sequence)  # noqa: UP006
_MAPPINGS = (dict, typing.Dict, collections.abc.Mapping, typing.Mapping)  # noqa: UP006
_AWAITABLES = (collections.abc.Awaitable, typing.Awaitable)
# What the SDK passes to get_type_hints so that Input[T]'s and Output's forward references resolve.
_HINT_LOCALS = {"Output": pulumi.Output, "T": type(None)}


class InputSchema:
    """The inputs of one args class (or nested input type): wire names, required ones and shapes."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        wire_names = _types.input_type_py_to_pulumi_names(cls)
        self._python_names = {wire: python for python, wire in wire_names.items()}
        self.required = frozenset(wire_names.get(name, name) for name in _required_parameters(_init(cls)))
        self._scope = vars(sys.modules[cls.__module__])
        self._shapes: dict[str, Shape] = {}

    @property
    def names(self) -> collections.abc.KeysView[str]:
        """The wire (camelCase) names of every input."""
        return self._python_names.keys()

    def shape(self, name: str) -> Shape:
        """The shape of input ``name`` (a wire name among ``names``), read from its getter's annotation."""
        if name not in self._shapes:
            getter = getattr(self.cls, self._python_names[name]).fget
            self._shapes[name] = shape_of(getter.__annotations__.get("return", Any), self._scope)
        return self._shapes[name]


def _init(cls: type) -> Any:
    """The ``__init__`` a class defines (or inherits)."""
    return next(vars(base)["__init__"] for base in cls.__mro__ if "__init__" in vars(base))


def _required_parameters(init: Any) -> list[str]:
    """The parameters of an args class's ``__init__`` that have no default (read from its code, not its signature)."""
    code = init.__code__
    positional = code.co_varnames[1:code.co_argcount]  # after __self__
    keyword_only = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    defaults = init.__kwdefaults__ or {}
    return [*positional[:len(positional) - len(init.__defaults__ or ())],
            *(name for name in keyword_only if name not in defaults)]


@functools.cache
def input_schema(cls: type) -> InputSchema:
    """The inputs of args class (or input type) ``cls``, read once per process."""
    return InputSchema(cls)


class UnknownTypeError(LookupError):
    """A type token the installed SDK of its package does not define."""


@functools.cache
def resource_schema(token: str) -> InputSchema | None:
    """The inputs of resource (or provider) type ``token``, read once per process.

    None when they cannot be read: no SDK of its package is installed, or it is not generated as this module
    expects (``test_shapes`` reads every sample resource, so that an SDK that changes is seen). Raises
    ``UnknownTypeError`` when the package's SDK is installed and has no such type.
    """
    provider = token.startswith(wire.PROVIDER_TYPE_PREFIX)
    package = token.removeprefix(wire.PROVIDER_TYPE_PREFIX) if provider else token.partition(":")[0]
    if not _imported_sdk(package):
        return None
    found = _registered_provider(package, token) if provider else _registered_resource(package, token)
    if found is None:
        return None
    module, name = found
    args_class = _args_class(getattr(importlib.import_module(module), name))
    return None if args_class is None else input_schema(args_class)


def _registered_provider(package: str, token: str) -> tuple[str, str] | None:
    """The module and class of ``package``'s provider, from the SDK's ``resource_packages`` registration."""
    info = _registration(rpc.get_resource_package(package, ""), "pkg_info", token)
    if info is not None and info.get("token") != token:
        raise UnknownTypeError(token)
    return None if info is None else (info["fqn"], info["class"])


def _registered_resource(package: str, token: str) -> tuple[str, str] | None:
    """The module and class of resource type ``token``, from the SDK's ``resource_modules`` registration."""
    parts = token.split(":")
    info = _registration(rpc.get_resource_module(package, parts[1] if len(parts) == 3 else "", ""), "mod_info", token)
    if info is not None and token not in info.get("classes", {}):
        raise UnknownTypeError(token)
    return None if info is None else (info["fqn"], info["classes"][token])


def _registration(registered: object | None, attribute: str, token: str) -> dict[str, Any] | None:
    """What the SDK's ``_utilities.register`` JSON says of one module (or its provider), as the runtime holds it.

    None when the runtime holds it in a form this does not read; ``UnknownTypeError`` when nothing is registered.
    """
    if registered is None:
        raise UnknownTypeError(token)
    info = getattr(registered, attribute, None)
    return info if isinstance(info, dict) else None


@functools.cache
def _imported_sdk(package: str) -> bool:
    """Import the SDK of ``package`` (which registers its types with the runtime); False when not installed."""
    module = "pulumi_" + package.replace("-", "_")
    if module not in sys.modules and importlib.util.find_spec(module) is None:
        return False
    importlib.import_module(module)
    return True


def _args_class(resource_class: type) -> type | None:
    """The args class the resource's ``__init__`` hands to ``_utilities.get_resource_args_opts``, if one."""
    init = inspect.unwrap(_init(resource_class))
    scope = vars(sys.modules[resource_class.__module__])
    found = [scope[name] for name in init.__code__.co_names
             if isinstance(scope.get(name), type) and _types.is_input_type(scope[name])]
    return found[0] if len(found) == 1 else None


def shape_of(hint: Any, scope: Mapping[str, Any]) -> Shape:
    """The shape of a type annotation (``Input[...]``, ``Optional``, ``Sequence``...).

    Forward references (``'VpcArgs'``) resolve in ``scope``, the globals of the module that wrote them.
    """
    if isinstance(hint, str | typing.ForwardRef):
        hint = _resolved(hint, scope)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return _union(args, scope)
    if origin is pulumi.Output or origin in _AWAITABLES:
        return shape_of(args[0], scope)
    if origin is typing.Literal:
        return EnumOf("value", frozenset(args))
    if origin in _SEQUENCES:
        return ListOf(shape_of(args[0], scope) if args else ANY)
    if origin in _MAPPINGS:
        return MapOf(shape_of(args[1], scope) if args else ANY)
    return _class_shape(hint) if isinstance(hint, type) else ANY


def _resolved(reference: str | typing.ForwardRef, scope: Mapping[str, Any]) -> Any:
    """A forward reference's value: its expression evaluated in the SDK module, as ``typing.get_type_hints`` does."""
    expression = reference.__forward_arg__ if isinstance(reference, typing.ForwardRef) else reference
    return _evaluated(scope["__name__"], expression)


@functools.cache
def _evaluated(module: str, expression: str) -> Any:
    # The SDK module's own annotation text, evaluated in its own globals (what get_type_hints does).
    return eval(expression, dict(vars(sys.modules[module])), dict(_HINT_LOCALS))


def _class_shape(cls: type) -> Shape:
    if cls in _SCALAR_LABELS:
        return Scalar(cls)
    if issubclass(cls, enum.Enum):
        return EnumOf(cls.__name__, frozenset(member.value for member in cls))
    if _types.is_input_type(cls):
        return Object(cls)
    if issubclass(cls, pulumi.Asset | pulumi.Archive):
        return ASSET
    if issubclass(cls, pulumi.Resource):
        return RESOURCE
    if cls in _SEQUENCES:
        return ListOf(ANY)
    # A TypedDict (the dict form of an input type), dict or Mapping: an object of any keys.
    if typing.is_typeddict(cls) or cls in _MAPPINGS:
        return MapOf(ANY)
    return ANY


def _union(members: tuple[Any, ...], scope: Mapping[str, Any]) -> Shape:
    """``Input[T]`` is ``Union[T, Awaitable[T], Output[T]]``: T, with ``Optional`` and the wrappers dropped."""
    wrapped = (pulumi.Output, *_AWAITABLES)
    shapes: list[Shape] = []
    for member in members:
        if isinstance(member, str | typing.ForwardRef):
            member = _resolved(member, scope)
        if member is type(None) or typing.get_origin(member) in wrapped:
            continue
        shape = shape_of(member, scope)
        if shape not in shapes:
            shapes.append(shape)
    enums = [shape for shape in shapes if isinstance(shape, EnumOf)]
    if enums and Scalar(str) in shapes:
        # Union[str, TheEnum]: an open enum, any string accepted.
        values = frozenset().union(*(e.values for e in enums))
        shapes = [s for s in shapes if s not in enums and s != Scalar(str)]
        shapes.insert(0, EnumOf(" or ".join(e.name for e in enums), values, open=True))
    if any(isinstance(shape, Object) for shape in shapes):
        # An input type's dict form (InputType[T], its TypedDict) says nothing more than the type.
        shapes = [shape for shape in shapes if shape != MapOf(ANY)]
    if not shapes:
        return ANY
    return shapes[0] if len(shapes) == 1 else OneOf(tuple(shapes))
