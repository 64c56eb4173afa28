"""Workers forked from the fork server: their own session, environment and pipes; nothing of the driver's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from terrane.engine.operations import forkserver, programs
from terrane.engine.operations.forkserver import ForkServer
from terrane.engine.operations.protocol import Failure, Job, message_from_json, to_json
from tests.helpers.processes import parents

AMBIENT_SECRET = "operator-ambient-secret-5c1d"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForkServer]:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AMBIENT_SECRET)
    started = ForkServer({"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    started.preload(tmp_path, (), None)
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


def test_the_run_takes_the_server_started_early_for_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERRANE_START_METHOD", raising=False)
    environ = {"PATH": os.environ["PATH"]}
    forkserver.start_early(environ)
    early = forkserver._early
    assert early is not None
    taken = forkserver.take(environ)
    try:
        assert taken is early and forkserver._early is None
    finally:
        taken.close()


def test_a_server_started_early_for_another_environment_is_stopped_and_a_new_one_started(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERRANE_START_METHOD", raising=False)
    forkserver.start_early({"PATH": os.environ["PATH"], "TERRANE_MARK": "before"})
    early = forkserver._early
    assert early is not None
    taken = forkserver.take({"PATH": os.environ["PATH"]})
    try:
        assert taken is not early and early._process.poll() is not None
    finally:
        taken.close()


def test_no_server_is_started_early_when_workers_are_spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_START_METHOD", "spawn")
    forkserver.start_early({"PATH": os.environ["PATH"]})
    assert forkserver._early is None


@pytest.mark.parametrize("wait", [0, 3], ids=["while-importing", "imported"])
def test_a_server_started_early_and_never_taken_ends_with_its_process_and_says_nothing(wait: int) -> None:
    """A command that stops at bad input started one: it must not outlive it, nor print on its stderr."""
    script = (f"import os, sys, time; from terrane.engine.operations import forkserver; "
              f"forkserver.start_early(dict(os.environ)); print(forkserver._early._process.pid, flush=True); "
              f"time.sleep({wait})")
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    pid = int(ended.stdout)
    assert ended.stderr == ""
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]:
        assert time.monotonic() < deadline, "the fork server outlived the process that started it"
        time.sleep(0.05)
