"""Atomic writes: a reader sees old or new, never half; a killed writer's partial file is cleared next time."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from terrane.engine.files import create_private, write_atomically


def _dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                             check=True)
    return int(process.stdout)


def test_write_replaces_keeps_the_mode_and_leaves_nothing_beside(tmp_path: Path) -> None:
    target = tmp_path / "accounts.yaml"
    write_atomically(target, "a: 1\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o600)
    write_atomically(target, "a: 2\n")
    assert target.read_text() == "a: 2\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["accounts.yaml"]


def test_a_killed_writers_partial_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "notified.json"
    stray = tmp_path / f".notified.json.{_dead_pid()}.partial"
    stray.write_text("{half")
    live = tmp_path / f".notified.json.{os.getppid()}.partial"  # a writer still running: left alone
    live.write_text("{")
    write_atomically(target, "{}")
    assert sorted(path.name for path in tmp_path.iterdir()) == [live.name, "notified.json"]


def test_a_private_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = create_private(tmp_path / ".terrane" / "passphrase")
    token = path.read_text()
    assert len(token) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_private(path).read_text() == token
    assert [item.name for item in path.parent.iterdir()] == ["passphrase"]
