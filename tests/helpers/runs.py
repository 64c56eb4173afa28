"""terrane runs, and lock holders, in processes of their own: for the tests that interrupt, kill or cancel them.

``start`` runs ``terrane ARGS...`` as its own process (its own process group, as
a shell's foreground job is); ``hold`` takes a lock file with ``flock`` and
writes into it what a holder of another host would, and keeps it until killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers.processes import descendants, parents
from tests.helpers.project import SampleProject
from tests.helpers.testcloud import DELAY_TAG, TestCloud

# Holds an environment's lock as a run does, naming itself its worker; on each SIGINT it counts one more ask in a
# file, and ends as told: with that status, by exiting without a word ("exit"), or not at all ("").
_PLAY = """
import os, signal, sys, time
from pathlib import Path
from terrane.engine.store.locks import environment_lock
held = environment_lock(Path(sys.argv[1]), sys.argv[2]).acquire()
held.note_worker(os.getpid())
asks = Path(sys.argv[4])
def asked(*_):
    asks.write_text(str(int(asks.read_text() or 0) + 1))
    if sys.argv[3] == "exit":
        os._exit(1)
    if sys.argv[3]:
        held.release(ended=sys.argv[3])
signal.signal(signal.SIGINT, asked)
print("held", flush=True)
time.sleep(600)
"""

_HOLD = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(descriptor, fcntl.LOCK_EX)
os.ftruncate(descriptor, 0)
os.pwrite(descriptor, sys.argv[2].encode(), 0)
print("held", flush=True)
time.sleep(600)
"""


# Ctrl-C as a foreground job takes it: a test run started in the background (``pytest &`` in a script) has SIGINT
# ignored, and its children inherit that; the run here must not.
_TERRANE = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from terrane.engine.cli import main; sys.exit(main())")


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _TERRANE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def hold(path: Path, record: dict[str, Any]) -> subprocess.Popen[str]:
    """A process holding the lock ``path`` whose file says ``record``; it holds it until it is killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(path), json.dumps(record)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout and holder.stdout.readline() == "held\n"
    return holder


def play_run(state_dir: Path, name: str, ends: str, asks: Path) -> subprocess.Popen[str]:
    """A process holding ``name``'s terrane lock as a run does (its own process group, its own worker); asked to
    cancel, it counts the ask in ``asks`` and ends as ``ends`` says: a status, ``exit`` (no word), or "" (never)."""
    asks.write_text("")
    player = subprocess.Popen([sys.executable, "-c", _PLAY, str(state_dir), name, ends, str(asks)],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert player.stdout and player.stdout.readline() == "held\n"
    return player


def slow(project: SampleProject, seconds: int, *names: str) -> None:
    """Each create, update and delete of the environments (aws-dev by default) takes ``seconds``."""
    for name in names or ("aws-dev",):
        project.edit_env(name, lambda env: env["tags"].update({DELAY_TAG: str(seconds)}))


def up_in_flight(project: SampleProject, cloud: TestCloud, terrane: Callable[..., subprocess.Popen[str]],
                 seconds: int = 3) -> tuple[subprocess.Popen[str], list[str]]:
    """``terrane up aws-dev --yes`` started (``terrane``: the fixture) with each object taking ``seconds``, once
    its first creates are in flight; and the objects in flight then."""
    slow(project, seconds)
    run = terrane("up", "aws-dev", "--yes")
    wait_for(lambda: cloud.creating("aws-dev"))
    return run, cloud.creating("aws-dev")


def wait_for(condition: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def worker_of(process: subprocess.Popen[str]) -> int:
    """The worker: a fork of terrane's fork server (``terrane.engine.operations.forkserver``), which is terrane's child."""
    tree = parents()
    for pid in descendants(process.pid):
        if tree[pid] != process.pid and _is_forkserver(pid) and _is_forkserver(tree[pid]):
            return pid
    raise AssertionError("no worker process")


def _is_forkserver(pid: int) -> bool:
    try:
        return b"terrane.engine.operations.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def dead_pid() -> int:
    """The pid of a process that has ended."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid
