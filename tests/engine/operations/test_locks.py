"""terrane's own locks: exclusive, say who holds them, wait on request, and die with their holder."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from terrane.engine.operations.locks import Lock, LockedError, environment_lock

HOLD = """
import sys, time
from pathlib import Path
from terrane.engine.operations.locks import environment_lock
held = environment_lock(Path(sys.argv[1]), "aws-dev").acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_taker_is_told_who_holds_it(tmp_path: Path) -> None:
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
