"""Workers forked from the fork server: their own session, environment and pipes; nothing of the driver's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from terrane.engine.operations import programs
from terrane.engine.operations.forkserver import PRELOAD, ForkServer
from terrane.engine.operations.protocol import Failure, Job, message_from_json, to_json
from tests.helpers.processes import parents

AMBIENT_SECRET = "operator-ambient-secret-5c1d"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForkServer]:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AMBIENT_SECRET)
    started = ForkServer(tmp_path, {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}, PRELOAD, None)
    yield started
    started.close()


def _environ(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in entries if entry)


def test_a_worker_is_a_fork_in_its_own_session_without_the_drivers_environment(server: ForkServer,
                                                                               tmp_path: Path) -> None:
    with server.spawn({"PATH": os.environ["PATH"], "TERRANE_MARK": "1"}, tmp_path) as worker:
        # The worker waits for its job on stdin: look at it before sending one.
        assert os.getsid(worker.pid) == worker.pid
        assert parents()[worker.pid] == server._process.pid != os.getpid()
        assert AMBIENT_SECRET not in Path(f"/proc/{worker.pid}/environ").read_text(errors="replace")
        assert "AWS_SECRET_ACCESS_KEY" not in _environ(server._process.pid)

        worker.stdin.write(to_json(Job(str(tmp_path / "missing"), "dev", "outputs", programs.DEFAULT, {})) + "\n")
        worker.stdin.flush()
        lines = [message_from_json(line) for line in worker.stdout]
        assert worker.wait() == 0
    [outcome] = lines
    assert isinstance(outcome, Failure) and outcome.kind == "invalid"
    assert str(tmp_path / "missing") in outcome.message


def test_a_worker_that_dies_says_so_on_stderr_and_in_its_exit_status(server: ForkServer, tmp_path: Path) -> None:
    with server.spawn({"PATH": os.environ["PATH"]}, tmp_path) as worker:
        worker.stdin.write("not json\n")
        worker.stdin.flush()
        assert worker.stdout.read() == ""
        assert "ProtocolError: a job that does not read: the line: Invalid JSON" in worker.stderr.read()
        assert worker.wait() == 1


def test_workers_run_side_by_side_each_in_its_own_session(server: ForkServer, tmp_path: Path) -> None:
    first = server.spawn({"PATH": os.environ["PATH"]}, tmp_path)
    second = server.spawn({"PATH": os.environ["PATH"]}, tmp_path)
    with first, second:
        assert {os.getsid(first.pid), os.getsid(second.pid)} == {first.pid, second.pid}
        first.stdin.close()  # the driver gone before the job: that worker ends, the other waits on
        assert first.wait() == 1
        assert second.returncode is None and os.getsid(second.pid) == second.pid


def test_a_closed_server_starts_no_worker_and_exits(server: ForkServer, tmp_path: Path) -> None:
    server.close()
    assert server._process.poll() is not None
    with pytest.raises(OSError):
        server.spawn({"PATH": os.environ["PATH"]}, tmp_path)
