"""What a drift run checks and reports: ignore rules from ``drift.ignore``, and shards of environments."""

from __future__ import annotations

import fnmatch
import re
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from terrane.engine.drift.report import ResourceDrift
from terrane.engine.errors import InvalidInputError
from terrane.stacks.spec.environments import IgnoreRule


def apply_ignore_rules(resources: Sequence[ResourceDrift], rules: Sequence[IgnoreRule],
                       today: date) -> tuple[list[ResourceDrift], int]:
    """Drop what live rules ignore; returns what remains and how many changes were ignored.

    A rule names a resource by type token or URN glob and a property path (a
    prefix: ``tags`` covers ``tags.owner``); after its ``until`` date it no
    longer applies. A rule without a property ignores the whole resource.
    """
    live = [rule for rule in rules if rule.until is None or today <= rule.until]
    kept: list[ResourceDrift] = []
    ignored = 0
    for resource in resources:
        matching = [rule for rule in live if _names(rule, resource)]
        if resource.change == "delete" or not resource.properties:
            if any(rule.property in ("*", "") for rule in matching):
                ignored += 1
            else:
                kept.append(resource)
            continue
        properties = [prop for prop in resource.properties if not any(_covers(rule, prop.path) for rule in matching)]
        ignored += len(resource.properties) - len(properties)
        if properties:
            kept.append(replace(resource, properties=tuple(properties)))
    return kept, ignored


def _names(rule: IgnoreRule, resource: ResourceDrift) -> bool:
    return rule.resource == resource.type or fnmatch.fnmatchcase(resource.urn, rule.resource)


def _covers(rule: IgnoreRule, path: str) -> bool:
    prefix = rule.property
    return prefix == "*" or path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N``: shard I (0-based) of N."""
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text)
    if not match or not 0 <= int(match[1]) < int(match[2]):
        raise InvalidInputError(f"--shard {text}: expected I/N with 0 <= I < N, e.g. 0/4")
    return int(match[1]), int(match[2])


def in_shard(name: str, shard: tuple[int, int]) -> bool:
    """Stable by name: an environment stays in its shard however many others come and go."""
    index, count = shard
    return zlib.crc32(name.encode()) % count == index
