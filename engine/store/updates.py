"""Each stack's newest update as terrane made it, kept in the shared store beside the state.

``terrane report --html`` shows each deployed environment's last update: what it was, how it ended and
who ran it. Pulumi's stack history says so at one CLI process per stack, seconds for a few dozen; terrane
records the update its own runs make (``updates/ENV/STAMP-TOKEN.json``, written once, the older ones of
that environment then removed), so the page reads them all with one listing. A stack last written by
anything else (a ``pulumi`` command, a failed update) has a newer state than its record, and its history
is asked as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from terrane.engine.store.objects import ObjectStore, create_new

PREFIX = "updates/"
FIELDS = ("kind", "result", "by", "started", "finished")
"""What a record holds: Pulumi's kind (``update``, ``refresh``, ``destroy``), its result, the git author of
the checkout that ran it (as Pulumi's history has it), and when it started and ended (ISO 8601)."""


def record(store: ObjectStore, environment: str, update: Mapping[str, Any]) -> None:
    """Keep ``update`` as the environment's newest; the ones before it go."""
    key = create_new(store, f"{PREFIX}{environment}/", json.dumps({name: update.get(name) for name in FIELDS}).encode(),
                     datetime.now(UTC))
    for older in store.keys(f"{PREFIX}{environment}/"):
        if older < key:
            store.delete(older)


def newest(store: ObjectStore, environments: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each of ``environments``' newest record, from one listing; one without a record, or whose record does
    not read, is left out."""
    wanted = set(environments)
    keys: dict[str, str] = {}
    for key in store.keys(PREFIX):
        name = key[len(PREFIX):].partition("/")[0]
        if name in wanted and key > keys.get(name, ""):
            keys[name] = key
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(keys, pool.map(store.get, keys.values()), strict=True))
    records: dict[str, dict[str, Any]] = {}
    for name, data in found.items():
        try:
            value = json.loads(data) if data is not None else None
        except ValueError:
            continue
        if isinstance(value, dict) and all(isinstance(value.get(field), str) for field in ("kind", "result")):
            records[name] = value
    return records


def matches(update: Mapping[str, Any], state_written: str, *, slack_seconds: float = 120) -> bool:
    """Whether ``update`` is the one that last wrote the state (its end within ``slack_seconds`` of the time the
    backend lists for the state)."""
    try:
        finished = datetime.fromisoformat(str(update.get("finished")))
        written = datetime.fromisoformat(state_written)
    except ValueError:
        return False
    finished = finished if finished.tzinfo else finished.replace(tzinfo=UTC)
    written = written if written.tzinfo else written.replace(tzinfo=UTC)
    return abs((written - finished).total_seconds()) <= slack_seconds
