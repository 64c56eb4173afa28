"""Plain data (what a YAML file loads to) shaped by the spec models, for hypothesis.

``from_model`` reads a pydantic model's fields, types and constraints, so a field
added to ``stacks/spec`` is fuzzed without a change here. It draws *within* the
schema: every field has the right shape, but rules that relate fields to each
other or to the cloud hold only by chance.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Mapping
from datetime import date
from ipaddress import IPv4Network
from types import MappingProxyType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, StringConstraints

Overrides = Mapping[tuple[type[BaseModel], str], st.SearchStrategy[Any]]

# Lists and maps stay short: a long one is the near-miss strategies' job.
_MAX_ITEMS = 3

_ANY_CIDR = st.builds(
    lambda address, prefix: str(IPv4Network((address, prefix), strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
"""Any IPv4 network in CIDR notation, host bits cleared."""


def from_model(model: type[BaseModel], overrides: Overrides = MappingProxyType({})) -> st.SearchStrategy[dict[str, Any]]:
    """Mappings with the model's required keys and any of its optional ones.

    A model whose fields are all optional (an auth block) is a choice: usually
    one of its fields, sometimes any subset, as a user may write it.
    """
    fields = {
        name: overrides[model, name] if (model, name) in overrides else _for(info.annotation, info.metadata, overrides)
        for name, info in model.model_fields.items()
    }
    required = {name: fields[name] for name, info in model.model_fields.items() if info.is_required()}
    optional = {name: fields[name] for name in fields if name not in required}
    any_subset = st.fixed_dictionaries(required, optional=optional)
    if required or not optional:
        return any_subset
    return st.one_of(*(st.fixed_dictionaries({name: value}) for name, value in optional.items()), any_subset)


def required_fields(model: type[BaseModel]) -> set[str]:
    """The names of the fields that ``model``, or any model inside it, requires."""
    found = {name for name, info in model.model_fields.items() if info.is_required()}
    for info in model.model_fields.values():
        for nested in _models_in(info.annotation):
            found |= required_fields(nested)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _for(annotation: Any, metadata: list[Any], overrides: Overrides) -> st.SearchStrategy[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _for(inner, [*metadata, *extra], overrides)
    if origin in (Union, types.UnionType):
        return st.one_of(*(_for(arm, metadata, overrides) for arm in get_args(annotation)))
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin is list:
        (item,) = get_args(annotation)
        least = _bound(metadata, annotated_types.MinLen, "min_length", 0)
        return st.lists(_for(item, [], overrides), min_size=least, max_size=max(least, _MAX_ITEMS))
    if origin is dict:
        key, value = get_args(annotation)
        return st.dictionaries(_for(key, [], overrides), _for(value, [], overrides), max_size=_MAX_ITEMS)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return from_model(annotation, overrides)
    return _scalar(annotation, metadata)


def _scalar(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(_bound(metadata, annotated_types.Ge, "ge", None), _bound(metadata, annotated_types.Le, "le", None))
    if annotation is date:
        return st.dates(date(2000, 1, 1), date(2100, 12, 31))
    if annotation is IPv4Network:
        return _ANY_CIDR
    if annotation is str:
        return _string(metadata)
    raise TypeError(f"no strategy for {annotation!r}: teach tests/fuzz/schema.py the new field type")


def _string(metadata: list[Any]) -> st.SearchStrategy[str]:
    choices = _string_choices(metadata)
    if choices is not None:
        return st.sampled_from(sorted(choices))
    pattern = _string_pattern(metadata)
    if pattern is not None:
        return st.from_regex(pattern, fullmatch=True)
    constraints = next((m for m in metadata if isinstance(m, StringConstraints)), StringConstraints())
    return st.text(min_size=constraints.min_length or 0, max_size=constraints.max_length or 40)


def _string_pattern(metadata: list[Any]) -> re.Pattern[str] | str | None:
    """The regular expression a string field must match: a pydantic constraint, or the one its validator checks
    (compiled, with its flags: ``\\d`` of an ASCII pattern draws ASCII digits only)."""
    for item in metadata:
        if isinstance(item, StringConstraints) and item.pattern is not None:
            return str(item.pattern)
        if isinstance(item, AfterValidator):
            checked = [v for v in inspect.getclosurevars(item.func).nonlocals.values() if isinstance(v, re.Pattern)]
            if checked:
                return checked[0]
    return None


def _string_choices(metadata: list[Any]) -> frozenset[str] | None:
    """The values a string field is one of, when its validator checks a set of them (a cloud's regions)."""
    for item in metadata:
        if isinstance(item, AfterValidator):
            sets = [v for v in inspect.getclosurevars(item.func).nonlocals.values() if isinstance(v, frozenset)]
            if sets:
                return sets[0]
    return None


def pattern_of(annotated: Any) -> re.Pattern[str] | str:
    """The regular expression of an ``Annotated[str, ...]`` type of the spec."""
    pattern = _string_pattern(list(getattr(annotated, "__metadata__", ())))
    if pattern is None:
        raise TypeError(f"{annotated!r} has no pattern")
    return pattern


def _bound(metadata: list[Any], kind: type, attribute: str, default: Any) -> Any:
    return next((getattr(m, attribute) for m in metadata if isinstance(m, kind)), default)
