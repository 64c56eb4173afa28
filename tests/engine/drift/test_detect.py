"""The drift core: events to per-property drift, ignore rules and shards."""

from __future__ import annotations

from datetime import date

import pytest

from terrane.engine.drift.detect import drifted_resources
from terrane.engine.drift.properties import property_path
from terrane.engine.drift.report import PropertyDrift, ResourceDrift
from terrane.engine.drift.rules import apply_ignore_rules, in_shard, parse_shard
from terrane.engine.errors import InvalidInputError
from terrane.stacks.spec.environments import IgnoreRule
from tests import recorded

URN = "urn:pulumi:dev::terrane::aws:ec2/securityGroup:SecurityGroup::web"
PREFIX = "urn:pulumi:aws-dev::terrane::"
NETWORK = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::network"
BUCKET = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::bucket"
TOKEN = f"{PREFIX}pulumi-python:dynamic:Resource::token"


def test_an_in_sync_refresh_finds_nothing() -> None:
    # Components, the provider and the stack come back from a refresh as "update" with no diff.
    assert drifted_resources(recorded.engine_events("drift-in-sync")) == []


def test_every_kind_of_drift_from_recorded_events() -> None:
    found = {drift.urn: drift for drift in drifted_resources(recorded.engine_events("drift-every-kind"))}
    assert set(found) == {NETWORK, BUCKET, TOKEN}
    # The program's "same" step after the refresh's "delete" does not erase the deletion.
    assert (found[BUCKET].change, found[BUCKET].properties) == ("delete", ())
    assert found[NETWORK].properties == (
        PropertyDrift("cidr", "update", "10.20.0.0/16", "10.99.0.0/16"),
        PropertyDrift("owner", "add", None, "someone"),
        PropertyDrift("spec.nodes.max", "update", 3, 9),
        PropertyDrift('tags["kubernetes.io/role"]', "update", "internal", "public"),
    )
    assert found[TOKEN].properties == (
        PropertyDrift("credentials.password", "update", "[secret]", "[secret]"),
        PropertyDrift("value", "update", "[secret]", "[secret]"),
    )


def test_only_the_refresh_steps_are_read() -> None:
    events = recorded.engine_events("drift-every-kind")
    # The same stream without the refresh steps' pre events: nothing in it speaks for the cloud.
    program_steps = [event for event in events
                     if not (event.resource_pre_event and event.resource_pre_event.metadata.op.value == "refresh")]
    assert drifted_resources(program_steps) == []


@pytest.mark.parametrize(("path", "keys"), [
    ("tags.owner", ["tags", "owner"]),
    ('tags["kubernetes.io/role"]', ["tags", "kubernetes.io/role"]),
    ("ingress[0].cidrBlocks[1]", ["ingress", 0, "cidrBlocks", 1]),
    ('["a.b"].c', ["a.b", "c"]),
    ('tags["say \\"hi\\""]', ["tags", 'say "hi"']),
    ("a[0]b", None),
])
def test_property_paths(path: str, keys: list | None) -> None:
    assert property_path(path) == keys


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
    for bad in ("4/4", "-1/2", "1", "a/b", "١/٤"):  # Arabic-Indic digits: 1/4 to int(), not to a shard flag
        with pytest.raises(InvalidInputError):
            parse_shard(bad)
    names = [f"env-{index}" for index in range(40)]
    shards = [[name for name in names if in_shard(name, (index, 4))] for index in range(4)]
    assert sorted(name for shard in shards for name in shard) == sorted(names)
    assert all(shards)  # every worker gets some of 40 environments
