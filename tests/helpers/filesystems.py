"""Small real filesystems for tests of a full or read-only disk: a tmpfs mounted for the test.

Mounting needs root (CAP_SYS_ADMIN); without it the tests that need one skip and say why. A read-only
directory cannot stand in for a read-only disk here: root writes through a chmod, not through a
read-only mount.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``32m``) mounted at ``path`` while the block lasts."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"needs a small filesystem of its own, and cannot mount one: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def read_only(path: Path) -> None:
    """Make the filesystem mounted at ``path`` read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(path: Path) -> Path:
    """Write to a file under ``path`` until its filesystem is full (again); the file."""
    filler = path / "filler"
    with open(filler, "ab", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 65536)
        except OSError:
            pass  # full: the last write failed with ENOSPC
    return filler
