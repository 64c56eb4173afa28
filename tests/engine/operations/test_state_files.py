"""A file backend's state on disk: whether it reads, the copy to restore, and room to write it."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from terrane.engine.errors import EngineError
from terrane.engine.operations import state_files
from terrane.engine.operations.state_files import MIN_FREE_BYTES, StackFiles, local_directory

CHECKPOINT = json.dumps({"version": 3, "checkpoint": {"stack": "aws-dev", "latest": {"resources": []}}})


@pytest.fixture
def files(tmp_path: Path) -> StackFiles:
    found = StackFiles(tmp_path / "state", "terrane", "aws-dev")
    found.state.parent.mkdir(parents=True)
    found.state.write_text(CHECKPOINT)
    return found


def _backup(files: StackFiles, stamp: int, text: str, name: str | None = None) -> Path:
    files.backups.mkdir(parents=True, exist_ok=True)
    path = files.backups / (name or f"aws-dev.{stamp}.json")
    path.write_text(text)
    os.utime(path, (stamp, stamp))
    return path


def test_the_local_directory_of_a_file_backend() -> None:
    assert local_directory("file:///srv/infra/.terrane/state") == Path("/srv/infra/.terrane/state")
    assert local_directory("file:///srv/my%20state?no_tmp_dir=true") == Path("/srv/my state")
    assert local_directory("s3://bucket?region=eu-west-1") is None
    assert local_directory("https://api.pulumi.com") is None


@pytest.mark.parametrize(("content", "reason"), [
    (CHECKPOINT[:40], "not JSON"),
    ("", "empty"),
    ("[1, 2]", "not a Pulumi state"),
    ('{"checkpoint": {}}', "not a Pulumi state"),
])
def test_why_a_state_does_not_read(files: StackFiles, content: str, reason: str) -> None:
    assert files.unreadable() is None
    files.state.write_text(content)
    assert (files.unreadable() or "").startswith(reason)


def test_a_compressed_state(files: StackFiles) -> None:
    files.state.unlink()
    gzipped = files.state.with_name("aws-dev.json.gz")
    gzipped.write_bytes(gzip.compress(CHECKPOINT.encode()))
    assert files.state == gzipped and files.unreadable() is None
    gzipped.write_bytes(gzip.compress(CHECKPOINT.encode())[:30])
    assert "cannot read it" in (files.unreadable() or "")


def test_the_copy_to_restore_is_the_newest_that_reads(files: StackFiles) -> None:
    assert "none there reads" in files.restore_hint()
    older = _backup(files, 1_700_000_000, CHECKPOINT)
    _backup(files, 1_700_000_100, CHECKPOINT[:10])  # the newest backup was cut short too
    bak = files.state.with_name("aws-dev.json.bak")
    bak.write_text("")
    assert files.newest_good_copy() == older
    assert f"cp {older} {files.state}" in files.restore_hint()
    assert f"Pulumi keeps backups in {files.backups}/" in files.restore_hint()
    bak.write_text(CHECKPOINT)  # written last: the .bak beside the state wins
    assert files.newest_good_copy() == bak


def test_after_writing_says_how_to_restore(files: StackFiles) -> None:
    url = files.root.as_uri()
    assert state_files.after_writing("up", url, "terrane", "aws-dev") is None
    good = _backup(files, 1_700_000_000, CHECKPOINT)
    files.state.write_text(CHECKPOINT[:25])
    said = state_files.after_writing("up", url, "terrane", "aws-dev") or ""
    assert said.startswith(f"aws-dev's state {files.state} does not read after the up (not JSON")
    assert f"cp {good} {files.state}" in said and said.endswith("then run terrane refresh aws-dev")
    assert state_files.after_writing("preview", url, "terrane", "aws-dev") is None  # writes no state
    assert state_files.after_writing("up", "s3://bucket", "terrane", "aws-dev") is None  # not a file backend


def test_an_operation_that_writes_the_state_needs_room(files: StackFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    url = files.root.as_uri()
    free = {"bytes": MIN_FREE_BYTES}
    real = shutil.disk_usage

    def usage(path: str | os.PathLike[str]) -> object:
        return real(path)._replace(free=free["bytes"])

    monkeypatch.setattr(shutil, "disk_usage", usage)
    state_files.check_room("up", url, "terrane", "aws-dev")  # 64 MB free: enough for a small state
    files.state.write_text(" " * (20 * 1024 * 1024) + CHECKPOINT)  # a 20 MB state needs 80 MB
    with pytest.raises(EngineError) as refused:
        state_files.check_room("destroy", url, "terrane", "aws-dev")
    assert str(refused.value) == (
        f"no room to destroy safely: 64 MB free on the filesystem of the state ({files.root}), 80 MB needed "
        f"(4 times the 20 MB state, at least 64 MB), since a full disk can cut the state short. Free some space "
        f"there; nothing was changed")
    state_files.check_room("preview", url, "terrane", "aws-dev")  # writes no state
    free["bytes"] = MIN_FREE_BYTES - 1
    with pytest.raises(EngineError):
        state_files.check_room("up", url, "terrane", "not-made-yet")  # a first up needs the minimum too
    assert state_files.largest_state(files.root) == files.state.stat().st_size
