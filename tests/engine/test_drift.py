"""The drift core: events to per-property drift, ignore rules and shards."""

from __future__ import annotations

from datetime import date

import pytest
from pulumi.automation import EngineEvent

from engine.drift import PropertyDrift, ResourceDrift, apply_ignore_rules, drifted_resources, in_shard, parse_shard
from engine.errors import InvalidInputError
from stacks.spec import IgnoreRule

URN = "urn:pulumi:dev::terrane::aws:ec2/securityGroup:SecurityGroup::web"


def _event(op: str, old: dict | None, new: dict | None, **extra) -> EngineEvent:
    state = lambda outputs: {"type": "aws:ec2/securityGroup:SecurityGroup", "urn": URN, "id": "sg-1", "parent": "",
                             "provider": "", "outputs": outputs}
    metadata = {"op": op, "urn": URN, "type": "aws:ec2/securityGroup:SecurityGroup", "provider": "", **extra}
    if old is not None:
        metadata["old"] = state(old)
    if new is not None:
        metadata["new"] = state(new)
    return EngineEvent.from_json({"sequence": 1, "timestamp": 0, "resOutputsEvent": {"metadata": metadata}})


def test_nested_paths_read_expected_and_actual() -> None:
    old = {"ingress": [{"cidrBlocks": ["10.0.0.0/8", "10.1.0.0/16"]}]}
    new = {"ingress": [{"cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]}]}
    detailed = {"ingress[0].cidrBlocks[1]": {"diffKind": "update-replace", "inputDiff": False}}
    (drift,) = drifted_resources([_event("update", old, new, detailedDiff=detailed)])
    assert drift.properties == (PropertyDrift("ingress[0].cidrBlocks[1]", "update", "10.1.0.0/16", "0.0.0.0/0"),)


def test_top_level_diffs_without_a_detailed_diff() -> None:
    (drift,) = drifted_resources([_event("update", {"description": "a", "name": "web"},
                                         {"description": "b", "name": "web"}, diffs=["description"])])
    assert drift.properties == (PropertyDrift("description", "update", "a", "b"),)


def test_same_and_read_are_not_drift_and_a_later_same_clears_an_earlier_step() -> None:
    assert drifted_resources([_event("same", {"a": 1}, {"a": 1})]) == []
    assert drifted_resources([_event("update", {"a": 1}, {"a": 2}), _event("same", {"a": 1}, {"a": 1})]) == []


def test_a_resource_gone_from_the_cloud() -> None:
    (drift,) = drifted_resources([_event("delete", {"a": 1}, None)])
    assert (drift.change, drift.properties) == ("delete", ())


RESOURCE = ResourceDrift(URN, "aws:ec2/securityGroup:SecurityGroup", "update", (
    PropertyDrift("tags.owner", "update", "a", "b"),
    PropertyDrift("tagsAll.owner", "update", "a", "b"),
    PropertyDrift("ingress[0].cidrBlocks[1]", "update", "x", "y"),
))


def _rule(resource: str = "aws:ec2/securityGroup:SecurityGroup", prop: str = "tags", until: date | None = None):
    return IgnoreRule(resource=resource, property=prop, reason="r", until=until)


def test_a_rule_covers_a_path_prefix_only_at_boundaries() -> None:
    kept, ignored = apply_ignore_rules([RESOURCE], [_rule()], date(2026, 1, 1))
    assert ignored == 1
    assert [prop.path for prop in kept[0].properties] == ["tagsAll.owner", "ingress[0].cidrBlocks[1]"]
    kept, ignored = apply_ignore_rules([RESOURCE], [_rule(prop="ingress")], date(2026, 1, 1))
    assert ignored == 1


def test_expired_rules_and_globs() -> None:
    assert apply_ignore_rules([RESOURCE], [_rule(until=date(2025, 12, 31))], date(2026, 1, 1)) == ([RESOURCE], 0)
    assert apply_ignore_rules([RESOURCE], [_rule(until=date(2026, 1, 1))], date(2026, 1, 1))[1] == 1
    kept, ignored = apply_ignore_rules([RESOURCE], [_rule(resource="urn:pulumi:dev::*::web", prop="*")], date(2026, 1, 1))
    assert (kept, ignored) == ([], 3)


def test_shards() -> None:
    assert parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "-1/2", "1", "a/b"):
        with pytest.raises(InvalidInputError):
            parse_shard(bad)
    names = [f"env-{index}" for index in range(40)]
    shards = [[name for name in names if in_shard(name, (index, 4))] for index in range(4)]
    assert sorted(sum(shards, [])) == sorted(names)
    assert all(shards)  # every worker gets some of 40 environments
