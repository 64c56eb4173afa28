"""terrane's own locks: one per environment, one for ``accounts.yaml``, under ``.terrane/locks/``.

A lock is ``flock`` on a file, so the kernel releases it when its holder ends,
however it ends: a killed run never leaves one behind. While held, the file
says who holds it (pid, host, command, since when), which is what a second run
is told. Pulumi's lock on each stack remains the one that spans machines; this
one answers at once, before any Pulumi CLI starts, and covers what terrane
itself writes around an operation (``Pulumi.<env>.yaml``).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from terrane.engine.errors import EngineError

LOCKS_DIR = "locks"


class LockedError(EngineError):
    """Another terrane run holds the lock; the message says which."""


@dataclass(frozen=True)
class Lock:
    """An exclusive lock on ``path``, for ``what`` (the words a second run is told)."""

    path: Path
    what: str

    def acquire(self, *, wait: float = 0, poll: float = 0.1) -> _Held:
        """Take the lock, waiting up to ``wait`` seconds; ``LockedError`` names the holder if it is still held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(descriptor)
                    os.close(descriptor)
                    raise LockedError(f"{self.what} is in use by another terrane run ({holder})") from None
                time.sleep(poll)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(["terrane", *sys.argv[1:]]),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }).encode(), 0)
        return _Held(descriptor)


class _Held:
    """A held lock; leaving the ``with`` block (or ``release``) frees it."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.ftruncate(self._descriptor, 0)
            os.close(self._descriptor)  # closing the last descriptor releases the flock
            self._descriptor = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


def _holder(descriptor: int) -> str:
    try:
        holder = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except ValueError:
        holder = {}
    if not holder:
        return "holder unknown"
    return f"{holder.get('command', 'terrane')}, pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')}"


def environment_lock(state_dir: Path, name: str) -> Lock:
    return Lock(state_dir / LOCKS_DIR / f"{name}.lock", f"environment {name}")


def accounts_lock(state_dir: Path) -> Lock:
    return Lock(state_dir / LOCKS_DIR / "accounts.lock", "accounts.yaml")
