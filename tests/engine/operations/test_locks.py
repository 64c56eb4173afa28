"""terrane's own locks: exclusive, say who holds them, wait on request, and die with their holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from terrane.engine.store.locks import Lock, LockedError, environment_lock

HOLD = """
import sys, time
from pathlib import Path
from terrane.engine.store.locks import environment_lock
held = environment_lock(Path(sys.argv[1]), "aws-dev").acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_taker_is_told_who_holds_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The lock names the command it was taken by; the test process's own argv is pytest's (or an xdist worker's).
    monkeypatch.setattr(sys, "argv", ["terrane", "up", "aws-dev"])
    lock = environment_lock(tmp_path, "aws-dev")
    with lock.acquire(), pytest.raises(LockedError) as locked:
        lock.acquire()
    message = str(locked.value)
    assert message.startswith("environment aws-dev is in use by another terrane run (terrane ")
    assert "pid " in message and " on " in message and "since 20" in message
    with lock.acquire():  # released: free again
        pass


def test_waiting_takes_it_once_it_is_released(tmp_path: Path) -> None:
    lock = Lock(tmp_path / "locks" / "accounts.lock", "accounts.yaml")
    held = lock.acquire()
    threading.Timer(0.3, held.release).start()
    with lock.acquire(wait=30, poll=0.02):
        pass


def test_a_holder_killed_with_sigkill_leaves_no_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout and holder.stdout.readline() == "held\n"
    with pytest.raises(LockedError, match=f"pid {holder.pid} "):
        environment_lock(tmp_path, "aws-dev").acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with environment_lock(tmp_path, "aws-dev").acquire():
        pass


def test_a_holder_says_how_it_ended_and_who_its_worker_was(tmp_path: Path) -> None:
    lock = environment_lock(tmp_path, "aws-dev")
    held = lock.acquire()
    held.note_worker(4321)
    holder = lock.holder()
    assert (holder.pid, holder.worker, holder.here) == (os.getpid(), 4321, True)
    held.release(ended="cancelled")
    assert lock.record()["ended"] == "cancelled"
    with lock.acquire() as again:
        assert again.previous["ended"] == "cancelled" and again.abandoned is None


def test_the_next_taker_learns_of_a_holder_killed_with_sigkill(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout and holder.stdout.readline() == "held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with environment_lock(tmp_path, "aws-dev").acquire() as held:
        assert held.abandoned is not None and held.abandoned.pid == holder.pid
        assert not held.abandoned.running()


def test_a_broken_lock_is_taken_anew_while_its_holder_keeps_the_old(tmp_path: Path) -> None:
    lock = environment_lock(tmp_path, "aws-dev")
    with lock.acquire():
        lock.break_()
        with lock.acquire():
            assert lock.holder().pid == os.getpid()


def test_a_holder_is_asked_to_cancel_once(tmp_path: Path) -> None:
    lock = environment_lock(tmp_path, "aws-dev")
    with lock.acquire():
        holder = lock.holder()
        lock.cancelling(os.getpid())
        assert not lock.ask_to_cancel(holder)
    with lock.acquire():  # a new holder: asked afresh
        assert lock.ask_to_cancel(lock.holder())
        assert not lock.ask_to_cancel(lock.holder())
