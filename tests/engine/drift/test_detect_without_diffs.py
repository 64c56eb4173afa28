"""Drift from refresh steps that carry no detailed diff, as providers without one send them.

The events have the shape the real CLI v3.274.1 streams (``tests/recorded``): a
``refresh`` pre event, then an ``update`` outputs event with ``detailedDiff`` and
``diffs`` null and the old and new state. The generator is the one the real-CLI
property test uses (``tests/helpers/mutations.py``): the report must name every
mutated property and nothing else.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from terrane.engine.drift.detect import drifted_resources
from terrane.engine.drift.report import PropertyDrift, ResourceDrift
from tests import recorded
from tests.helpers.ci import examples
from tests.helpers.mutations import Mutated, mutated

URN = "urn:pulumi:aws-dev::terrane::pulumi-python:dynamic:Resource::thing"
TYPE = "pulumi-python:dynamic:Resource"
SIG = "4dabf18193072939515e22adb298388d"
SECRET = {SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}


def _state(inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    return {"custom": True, "id": "thing", "type": TYPE, "urn": URN, "parent": "", "provider": "",
            "inputs": {"__provider": SECRET, **inputs}, "outputs": {"__provider": SECRET, **outputs}}


def _events(old: dict[str, Any], new: dict[str, Any], **diff: Any) -> list[Any]:
    from pulumi.automation import EngineEvent

    metadata = {"op": "refresh", "urn": URN, "type": TYPE, "provider": "", "old": old, "new": old}
    done = {**metadata, "op": "update", "new": new, "detailedDiff": None, "diffs": None, **diff}
    return [EngineEvent.from_json({"sequence": 1, "timestamp": 0, "resourcePreEvent": {"metadata": metadata}}),
            EngineEvent.from_json({"sequence": 2, "timestamp": 0, "resOutputsEvent": {"metadata": done}})]


def _found(old: dict[str, Any], new: dict[str, Any], **diff: Any) -> ResourceDrift:
    (resource,) = drifted_resources(_events(old, new, **diff))
    return resource


@settings(max_examples=examples(ci=300, locally=100), deadline=None)
@given(mutated())
def test_outputs_only_reads_report_exactly_the_mutations(example: Mutated) -> None:
    # A provider whose read returns outputs only: the inputs stay as applied.
    resource = _found(_state(example.before, example.before), _state(example.before, example.after))
    assert {(prop.path, prop.kind) for prop in resource.properties} == example.expected
    assert resource.reason is None


@settings(max_examples=examples(ci=300, locally=100), deadline=None)
@given(mutated())
def test_reads_of_inputs_and_outputs_report_each_mutation_once(example: Mutated) -> None:
    resource = _found(_state(example.before, example.before), _state(example.after, example.after))
    paths = [prop.path for prop in resource.properties]
    assert len(paths) == len(set(paths))
    assert {(prop.path, prop.kind) for prop in resource.properties} == example.expected


def test_values_types_and_null_against_absent() -> None:
    old = {"size": 3, "flag": True, "gone": "x", "none": None, "nested": {"list": [1, 2, 3], "n": 1}}
    new = {"size": "3", "flag": 1, "none": None, "nested": {"list": [1, 5], "n": 1.0}, "born": {"a": [1]},
           "null_now": None}
    resource = _found(_state(old, old), _state(old, new))
    assert resource.properties == (
        PropertyDrift("born", "add", None, {"a": [1]}),
        PropertyDrift("flag", "update", True, 1),
        PropertyDrift("gone", "delete", "x", None),
        PropertyDrift("nested.list[1]", "update", 2, 5),
        PropertyDrift("nested.list[2]", "delete", 3, None),
        PropertyDrift("size", "update", 3, "3"),
    )


def test_secrets_are_masked_at_any_depth_and_a_change_among_them_is_still_reported() -> None:
    old = {"config": {"password": SECRET, "user": "a"}, "token": SECRET}
    became = {"config": {"password": "plain-now", "user": "a"}, "token": SECRET}
    resource = _found(_state(old, old), _state(old, became))
    assert resource.properties == (PropertyDrift("config.password", "update", "[secret]", "plain-now"),)
    # Engine events mask secret values: two secrets cannot be told apart, but the resource changed.
    hidden = _found(_state(old, old), _state(old, {**old, "config": {"password": SECRET, "user": "a"}}))
    assert (hidden.change, hidden.properties) == ("update", ())
    assert hidden.reason == "changed, but only in secret values, which are masked: one of config.password, token"
    assert "plain-now" not in repr(hidden)


def test_a_change_nothing_can_tell_apart_is_reported_with_its_reason() -> None:
    same = {"a": 1}
    resource = _found(_state(same, same), _state(same, same))
    assert (resource.change, resource.properties) == ("update", ())
    assert resource.reason == "changed, but the provider gave no diff and the old and new state look alike"
    named = _found(_state(same, same), _state(same, same), diffs=["a"])
    assert named.properties == (PropertyDrift("a", "update", 1, 1),)
    assert named.reason == "the provider named the changed properties (a) but gave no values"


def test_the_recorded_in_sync_refresh_still_finds_nothing() -> None:
    assert drifted_resources(recorded.engine_events("drift-in-sync")) == []
