"""Atomic writes: a reader sees old or new, never half; a killed writer's partial file is cleared next time. Reads:
only of a regular file, and no more than the limit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from terrane.engine.files import RefusedFileError, create_private, read_regular, write_atomically


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


def test_a_failed_write_names_the_file_asked_for_not_its_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "accounts.yaml"
    target.write_text("accounts: {}\n")
    (tmp_path / f".accounts.yaml.{os.getpid()}.partial").mkdir()  # the partial file cannot be made
    with pytest.raises(IsADirectoryError) as raised:
        write_atomically(target, "accounts: {a: 1}\n")
    assert raised.value.filename == str(target)
    assert target.read_text() == "accounts: {}\n"


def test_a_regular_file_is_read_up_to_the_limit_and_no_further(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"x" * 1024)
    assert read_regular(path, 1024) == b"x" * 1024
    with pytest.raises(RefusedFileError, match="^it is larger than 1023 bytes"):
        read_regular(path, 1023)
    link = tmp_path / "link.yaml"
    link.symlink_to(path)
    assert read_regular(link, 1 << 20) == b"x" * 1024


def test_a_file_that_is_not_regular_is_refused_unopened(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # opened for reading, it would wait for a writer forever
    with pytest.raises(RefusedFileError, match=r"^it is a named pipe \(FIFO\), not a regular file$"):
        read_regular(fifo, 1 << 20)
    with pytest.raises(RefusedFileError, match="^it is a directory"):
        read_regular(tmp_path, 1 << 20)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing.yaml", 1 << 20)
