"""Where terrane keeps what every machine must share: beside the state, on disk or in the object store.

With the file backend, terrane's shared files live under ``.terrane/`` in the
project; with ``s3://``, ``azblob://`` or ``gs://`` they live in the backend's
bucket (container) under its prefix, ``<prefix>/.terrane/``, next to Pulumi's
``.pulumi/``, so every machine and shard that reaches the state reaches them
too, with the same credentials. ``terrane.engine.store.backends.open_store``
picks the one the backend URL names.

What is written there is written once: a key is created whole or not at all,
and a second writer of the same key gets ``Conflict`` (a hard link on disk;
S3's and Azure's ``If-None-Match: *``, GCS's ``ifGenerationMatch=0``).
Nothing is read, changed and written back, so writers at the same moment lose
nothing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from terrane.engine.errors import EngineError
from terrane.engine.store.paths import STATE_DIR


class Conflict(Exception):
    """The key exists already: another writer made it first."""


class StoreError(EngineError):
    """The shared store could not be read or written; the message names it and why."""


class ObjectStore(Protocol):
    """Objects by key (``drift/runs/...``), each written once."""

    where: str
    """The store, as a person finds it: a directory, or ``s3://bucket/prefix/.terrane``."""

    def get(self, key: str) -> bytes | None:
        """The object; None when there is none."""
        ...

    def create(self, key: str, data: bytes) -> None:
        """Write a new object; ``Conflict`` when the key exists."""
        ...

    def keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        """The keys under ``prefix`` after ``start_after``, in order."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; nothing when it is gone already."""
        ...


class LocalStore:
    """A directory: each object a file, created by a hard link so that the first writer's stands."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def get(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def create(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.link(partial, path)
        except FileExistsError as exc:
            raise Conflict(key) from exc
        finally:
            partial.unlink(missing_ok=True)

    def keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        base = self.root / prefix.rpartition("/")[0]
        if not base.is_dir():
            return
        found = sorted(path.relative_to(self.root).as_posix() for path in base.rglob("*")
                       if path.is_file() and not path.name.startswith("."))
        yield from (key for key in found if key.startswith(prefix) and key > start_after)

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


def prefixed(path: str) -> str:
    """The key prefix of terrane's shared files under a backend URL's path (``/team`` -> ``team/.terrane/``)."""
    prefix = path.strip("/")
    return f"{prefix}/{STATE_DIR}/" if prefix else f"{STATE_DIR}/"


def create_new(store: ObjectStore, prefix: str, data: bytes, now: datetime) -> str:
    """A new object under ``prefix``, named by ``now`` and a random token, so keys sort in the order written;
    returns its key."""
    while True:
        key = f"{prefix}{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.json"
        try:
            store.create(key, data)
            return key
        except Conflict:
            continue  # the same microsecond and token: draw another
