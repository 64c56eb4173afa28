"""What the provider SDKs say a resource's inputs are, as ``shapes`` reads it."""

# ruff: noqa: UP007, UP045 - annotations spelt as the SDKs spell them (Optional, Union)

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Optional, Union

import pulumi
import pytest
from pulumi import _types
from pulumi_azure_native.storage import Kind

from terrane.engine.offline import render, shapes
from terrane.engine.offline.shapes import ANY, EnumOf, ListOf, MapOf, Object, OneOf, Scalar
from terrane.engine.project import open_project
from tests.helpers.project import SAMPLE_ENVIRONMENTS

SCOPE = vars(sys.modules[__name__])
STORAGE_KINDS = frozenset(kind.value for kind in Kind)


@pulumi.input_type
class _RangeArgs:
    def __init__(__self__, *, name: pulumi.Input[str], size: pulumi.Input[int] | None = None) -> None:
        pulumi.set(__self__, "name", name)
        if size is not None:
            pulumi.set(__self__, "size", size)

    @property
    @pulumi.getter
    def name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "name")

    @property
    @pulumi.getter(name="sizeInBytes")
    def size(self) -> pulumi.Input[int] | None:
        return pulumi.get(self, "size")


@pytest.mark.parametrize(("hint", "shape"), [
    (Optional[pulumi.Input[str]], Scalar(str)),
    (pulumi.Input[Optional[bool]], Scalar(bool)),
    (pulumi.Input[Sequence[pulumi.Input["_RangeArgs"]]], ListOf(Object(_RangeArgs))),
    (pulumi.Input[Mapping[str, pulumi.Input[float]]], MapOf(Scalar(float))),
    (pulumi.Input["Kind"], EnumOf("Kind", STORAGE_KINDS)),
    (pulumi.Input[Union[str, "Kind"]], EnumOf("Kind", STORAGE_KINDS, open=True)),
    (Optional[pulumi.InputType["_RangeArgs"]], Object(_RangeArgs)),
    (pulumi.Input[Union[int, str]], OneOf((Scalar(int), Scalar(str)))),
    (pulumi.Input[Literal["v1"]], EnumOf("value", frozenset({"v1"}))),
    (pulumi.Input[Any], ANY),
    ("Optional[pulumi.Input[str]]", Scalar(str)),
], ids=["optional input", "input of optional", "list of input types", "map", "enum", "open enum",
        "an input type's dict form", "union", "literal", "any", "written as a string"])
def test_an_annotation_is_read_as_the_sdk_means_it(hint: Any, shape: shapes.Shape) -> None:
    assert shapes.shape_of(hint, SCOPE) == shape


def test_an_input_types_names_required_inputs_and_shapes() -> None:
    schema = shapes.input_schema(_RangeArgs)
    assert (set(schema.names), schema.required) == ({"name", "sizeInBytes"}, {"name"})
    assert (schema.shape("name"), schema.shape("sizeInBytes")) == (Scalar(str), Scalar(int))


def test_a_resource_has_the_args_class_its_constructor_takes() -> None:
    # azure-native names some args classes <Resource>InitArgs: the one the constructor takes is found, whatever its name.
    assert shapes.resource_schema("azure-native:network:VirtualNetwork").cls.__name__ in (  # type: ignore[union-attr]
        "VirtualNetworkArgs", "VirtualNetworkInitArgs")
    assert shapes.resource_schema("pulumi:providers:aws").cls.__name__ == "ProviderArgs"  # type: ignore[union-attr]
    assert shapes.resource_schema("nosuchsdk:index:Thing") is None
    with pytest.raises(shapes.UnknownTypeError):
        shapes.resource_schema("aws:ec2/vpc:NoSuchThing")


@pytest.fixture(scope="module")
def sample_plans() -> list[render.Plan]:
    return [render.plan(open_project(root), env) for root, env in SAMPLE_ENVIRONMENTS]


def _schemas(plans: list[render.Plan]) -> Iterator[shapes.InputSchema]:
    """Every args class and input type the custom resources of ``plans`` reach."""
    seen: set[type] = set()
    found = [shapes.resource_schema(r.type) for result in plans for r in result.resources if r.custom]
    while found:
        input_schema = found.pop()
        if input_schema is None or input_schema.cls in seen:
            continue
        seen.add(input_schema.cls)
        yield input_schema
        for name in input_schema.names:
            found.extend(shapes.input_schema(cls) for cls in _objects(input_schema.shape(name)))


def _objects(shape: shapes.Shape) -> Iterator[type]:
    if isinstance(shape, Object):
        yield shape.cls
    elif isinstance(shape, ListOf):
        yield from _objects(shape.item)
    elif isinstance(shape, MapOf):
        yield from _objects(shape.value)
    elif isinstance(shape, OneOf):
        for option in shape.options:
            yield from _objects(option)


def test_the_shapes_are_those_of_the_sdks_own_reading_of_its_types(sample_plans: list[render.Plan]) -> None:
    """Annotations are read lazily, one at a time; what they say is what ``input_type_types`` says of them."""
    compared = 0
    for input_schema in _schemas(sample_plans):
        scope = vars(sys.modules[input_schema.cls.__module__])
        for name, hint in _types.input_type_types(input_schema.cls).items():
            assert input_schema.shape(name) == shapes.shape_of(hint, scope), f"{input_schema.cls.__name__}.{name}"
            compared += 1
    assert compared > 1000
