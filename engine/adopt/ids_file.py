"""An ids file as ``terrane adopt --ids FILE`` reads it: a YAML list of ``{type, name, id}``, each resource named once.

A file that is not such a list, an entry with a key missing, unknown or empty, and two entries that
name one resource, are invalid input, each said with the file and the entry's number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from terrane.engine.errors import InvalidInputError
from terrane.engine.project import read_text
from terrane.stacks.spec import spoken

IDS_KEYS = ("type", "name", "id")


@dataclass(frozen=True)
class Entry:
    number: int
    """From 1, in the file's order."""
    type: str
    name: str
    id: str


def read_entries(path: Path) -> list[Entry]:
    """The entries of the ids file ``path``, in its order."""
    text = read_text(path, str(path))
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InvalidInputError(f"{path}: {where}invalid YAML: {exc.problem}") from None
    except yaml.YAMLError:
        raise InvalidInputError(f"{path}: invalid YAML") from None
    if not isinstance(data, list):
        raise InvalidInputError(f"{path}: must be a YAML list of entries, each with {spoken(IDS_KEYS)}")
    entries = [_entry(path, number, raw) for number, raw in enumerate(data, start=1)]
    _named_once(path, entries)
    return entries


def _entry(path: Path, number: int, raw: object) -> Entry:
    where = f"{path}: entry {number}"
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: must be a mapping with {spoken(IDS_KEYS)}")
    for key in raw:
        if key not in IDS_KEYS:
            raise InvalidInputError(f"{where}: {key}: unknown key (an entry has {spoken(IDS_KEYS)})")
    values: dict[str, str] = {}
    for key in IDS_KEYS:
        if key not in raw:
            raise InvalidInputError(f"{where}: {key}: missing")
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"{where}: {key}: must be a non-empty string")
        values[key] = value
    return Entry(number, values["type"], values["name"], values["id"])


def _named_once(path: Path, entries: Iterable[Entry]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        first = seen.setdefault((entry.type, entry.name), entry.number)
        if first != entry.number:
            raise InvalidInputError(
                f"{path}: entries {first} and {entry.number} both name {entry.type} {entry.name}: keep one"
            )
