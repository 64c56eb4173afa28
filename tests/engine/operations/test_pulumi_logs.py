"""The Pulumi CLI's own logs: terrane keeps the newest, a bounded number and size of them."""

from __future__ import annotations

import os
from pathlib import Path

from terrane.engine.operations import pulumi_logs

NOW = 1_800_000_000.0


def _log(where: Path, name: str, age: float, size: int = 100) -> Path:
    path = where / name
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age, NOW - age))
    return path


def test_where_the_logs_are(tmp_path: Path) -> None:
    assert pulumi_logs.directory({"PULUMI_HOME": str(tmp_path)}) == tmp_path / "logs"
    assert pulumi_logs.directory({}) == Path.home() / ".pulumi" / "logs"


def test_the_newest_are_kept_by_number_and_size(tmp_path: Path) -> None:
    hour = 3600.0
    logs = [_log(tmp_path, f"pulumi-20260301T0{index}0000-{index}-up.log", age=(10 - index) * hour)
            for index in range(10)]
    stack_log = _log(tmp_path, "aws-dev-20260301T100000-9f2c.log", age=0.5 * hour)
    others = [_log(tmp_path, "notes.log", age=100 * hour), _log(tmp_path, "pulumi-20260301T000000-1.txt", 100 * hour)]

    assert pulumi_logs.cap(tmp_path, max_files=4, now=NOW) == 7
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [stack_log.name, *(path.name for path in logs[7:]), *(path.name for path in others)])
    assert pulumi_logs.usage(tmp_path) == (4, 400)

    assert pulumi_logs.cap(tmp_path, max_bytes=250, now=NOW) == 2
    assert {path.name for path in tmp_path.iterdir()} >= {stack_log.name, logs[9].name}


def test_a_log_being_written_is_never_removed(tmp_path: Path) -> None:
    recent = [_log(tmp_path, f"pulumi-20260301T12000{index}-{index}-up.log", age=index) for index in range(5)]
    assert pulumi_logs.cap(tmp_path, max_files=1, now=NOW) == 0
    assert all(path.exists() for path in recent)


def test_no_logs_directory_yet(tmp_path: Path) -> None:
    assert pulumi_logs.cap(tmp_path / "absent") == 0
    assert pulumi_logs.usage(tmp_path / "absent") == (0, 0)
