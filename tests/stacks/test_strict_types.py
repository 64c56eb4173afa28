"""Every boolean and integer field of the specs is strict, and a value YAML changed the type of reads as the file
wrote it in its message (``stacks.spec.problems``, ``engine.strict_yaml``)."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from terrane.engine.strict_yaml import parse_yaml, written_as
from terrane.stacks.spec.accounts import ACCOUNT_MODELS
from terrane.stacks.spec.environments import Environment
from terrane.stacks.spec.problems import known_keys, validation_problems
from terrane.stacks.spec.registries import REGISTRY_MODELS

LOOSE = {bool: ["true", "yes", 1, 0, 1.0], int: ["3", True, False, 3.0, 2.5]}
"""What pydantic's lax mode would turn into each type, and a strict field refuses."""


def _arms(annotation: Any) -> list[Any]:
    """``annotation`` without its Annotated and union wrappings."""
    if get_origin(annotation) is Annotated:
        return _arms(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [arm for inner in get_args(annotation) for arm in _arms(inner)]
    return [annotation]


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    if model in seen:
        return
    seen.add(model)
    yield model
    for field in model.model_fields.values():
        for inner in _nested(field.annotation):
            yield from _models(inner, seen)


def _nested(annotation: Any) -> Iterator[type[BaseModel]]:
    for arm in _arms(annotation):
        if isinstance(arm, type) and issubclass(arm, BaseModel):
            yield arm
        for argument in get_args(arm):
            yield from _nested(argument)


def _scalar_fields() -> list[tuple[str, type, Any]]:
    """Each boolean or integer field of every spec model: (model.field, its type, its full annotation)."""
    seen: set[type[BaseModel]] = set()
    roots = [Environment, *ACCOUNT_MODELS.values(), *REGISTRY_MODELS.values()]
    found = []
    for root in roots:
        for model in _models(root, seen):
            for name, field in model.model_fields.items():
                kinds = [arm for arm in _arms(field.annotation) if arm in (bool, int)]
                found += [(f"{model.__name__}.{name}", kind, field.rebuild_annotation()) for kind in kinds]
    return found


SCALAR_FIELDS = _scalar_fields()


def test_the_fields_are_found() -> None:
    names = {name for name, _, _ in SCALAR_FIELDS}
    assert {"NetworkSpec.zones", "Environment.protect", "NodePool.min", "SecretsSpec.recovery_days",
            "S3StateConfig.max_retries", "AzurermStateConfig.use_msi"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("name, kind, annotation", SCALAR_FIELDS, ids=[name for name, _, _ in SCALAR_FIELDS])
def test_every_boolean_and_integer_field_is_strict(name: str, kind: type, annotation: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    for value in LOOSE[kind]:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def _problems(text: str, *, written: bool = True) -> list[str]:
    try:
        Environment.model_validate(parse_yaml(text, "e.yaml"))
    except ValidationError as exc:
        return validation_problems(exc, model=Environment, written=written_as(text) if written else None)
    raise AssertionError("valid")


BASE = "name: e1\naccount: a\n"


@pytest.mark.parametrize("text, expected", [
    ("cluster:\n  kubernetes_version: 1.30\n",
     "cluster.kubernetes_version: must be text, but YAML read 1.30 as the number 1.3: write it in quotes: '1.30'"),
    ("tags:\n  on-call: no\n", "tags.on-call: must be text, but YAML read no as false: write it in quotes: 'no'"),
    ("tags:\n  id: 0x1F\n", "tags.id: must be text, but YAML read 0x1F as the number 31: write it in quotes: '0x1F'"),
    ("tags:\n  id: 1_000\n", ("tags.id: must be text, but YAML read 1_000 as the number 1000: write it in quotes: "
                             "'1_000'")),
    ("tags:\n  id: 12\n", "tags.id: must be text, but YAML read 12 as a number: write it in quotes: '12'"),
    ("tags:\n  id: " + "9" * 60 + "\n", "tags.id: must be text, but YAML read it as a number: write it in quotes"),
    ("cluster: yes\n", "cluster: must be a mapping of keys to values (YAML read yes as true)"),
    ("network:\n  cidr: 10.0.0.0/16\n  nat: off\n",
     "network.nat: must be 'none', 'single' or 'per_zone' (YAML read off as false)"),
])
def test_a_value_yaml_retyped_reads_as_the_file_wrote_it(text: str, expected: str) -> None:
    assert _problems(BASE + text) == [expected]


def test_without_the_text_the_message_says_what_the_value_became() -> None:
    assert _problems(BASE + "cluster:\n  kubernetes_version: 1.30\n", written=False) == [
        "cluster.kubernetes_version: must be text, but YAML read it as the number 1.3: write it in quotes"]


def test_a_quoted_or_aliased_value_is_not_mistaken_for_the_plain_one() -> None:
    """Only a plain scalar is what YAML retyped: an alias is followed to its node, never expanded."""
    text = BASE + "base: &v 1.50\ncluster:\n  kubernetes_version: *v\n"
    lines = _problems(text)
    assert "cluster.kubernetes_version: must be text, but YAML read 1.50 as the number 1.5: write it in quotes: " \
           "'1.50'" in lines


@pytest.mark.parametrize("path, expected", [
    ((), sorted(Environment.model_fields)),
    (("network",), ["cidr", "flow_logs", "nat", "terraform_state", "zones"]),
    (("cluster", "node_pools", 0), ["max", "min", "name", "size"]),
    (("kubernetes", "namespaces", 3), ["annotations", "labels", "name", "service_accounts"]),
    (("tags",), []),
    (("nowhere", "at", "all"), []),
])
def test_the_keys_known_at_a_path(path: tuple[str | int, ...], expected: list[str]) -> None:
    assert known_keys(Environment, path) == expected


def test_the_text_is_composed_once_however_many_values_yaml_retyped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of thousands of unquoted numbers gets its messages without reading the file again for each one."""
    import yaml

    composed = []
    compose = yaml.compose
    monkeypatch.setattr(yaml, "compose", lambda *args, **kwargs: composed.append(1) or compose(*args, **kwargs))
    text = BASE + "tags:\n" + "".join(f"  k{index}: {index}\n" for index in range(2000))
    lines = _problems(text)
    assert len(lines) == 2000 and lines[-1].endswith("write it in quotes: '1999'")
    assert len(composed) == 1
