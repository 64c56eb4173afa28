"""terrane's own locks: one per environment, one for ``accounts.yaml``, under ``.terrane/locks/``.

A lock is ``flock`` on a file, so the kernel releases it when its holder ends,
however it ends: a killed run never leaves one behind. While held, the file
says who holds it (pid, host, command, since when, and the worker running the
environment's operation), which is what a second run is told and what
``terrane cancel`` signals. A holder that ends says how in the file (``ended``:
succeeded, failed, cancelled); one that is killed leaves its record, and the
next taker learns that its holder went without a word. Pulumi's lock on each
stack remains the one that spans machines; this one answers at once, before
any Pulumi CLI starts, and covers what terrane itself writes around an
operation (``Pulumi.<env>.yaml``).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from terrane.engine.errors import EngineError

LOCKS_DIR = "locks"
CANCEL_SUFFIX = ".cancel"
"""Beside a lock: the holder that has been asked to cancel, so that no one asks it twice (twice terminates)."""


# How much later than its lock a process may seem to start, and still be taken for the lock's holder: the
# start that /proc gives is reckoned from the boot time, which a clock adjusted since boot puts off.
_CLOCK_SLACK_SECONDS = 60


class LockedError(EngineError):
    """Another terrane run holds the lock; the message says which."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its file says: a terrane run (terrane's lock) or a Pulumi update (one of Pulumi's)."""

    lock: Literal["terrane", "pulumi"]
    pid: int | None = None
    host: str | None = None
    since: str | None = None
    command: str | None = None
    """terrane's lock: the command of the run that holds it."""
    user: str | None = None
    """Pulumi's lock: the user who runs the update."""
    worker: int | None = None
    """terrane's lock: the process running the environment's operation, the leader of its own process group."""
    where: str | None = None
    """Pulumi's lock: its file in the backend."""

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Holder:
        """The holder a terrane lock file names (``{}``: one that is not known)."""
        return cls("terrane", _int(record.get("pid")), record.get("host"), record.get("since"), record.get("command"),
                   worker=_int(record.get("worker")))

    @property
    def known(self) -> bool:
        return self.pid is not None and self.host is not None

    @property
    def here(self) -> bool:
        """Its process runs (or ran) on this host."""
        return self.host == socket.gethostname()

    def alive(self) -> bool:
        """On this host, and its pid is a process's (the holder's, while the lock it names is held)."""
        return self.here and self.pid is not None and process_started(self.pid) is not None

    def running(self) -> bool:
        """On this host, and its pid is a process that started before it took the lock, not one that got the pid since
        (give or take the clocks' disagreement: wrong that way, a holder is taken for alive, which is safe)."""
        if not self.here or self.pid is None:
            return False
        started = process_started(self.pid)
        taken = _moment(self.since)
        return started is not None and (taken is None or started <= taken.timestamp() + _CLOCK_SLACK_SECONDS)

    def describe(self) -> str:
        if not self.known:
            return "a holder that does not say who it is"
        if self.lock == "pulumi":
            return f"a Pulumi update by {self.user}, pid {self.pid} on {self.host}, since {self.since}"
        return f"{self.command or 'a terrane run'}, pid {self.pid} on {self.host}, since {self.since}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Lock:
    """An exclusive lock on ``path``, for ``what`` (the words a second run is told)."""

    path: Path
    what: str

    def acquire(self, *, wait: float = 0, poll: float = 0.1) -> _Held:
        """Take the lock, waiting up to ``wait`` seconds; ``LockedError`` names the holder if it is still held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        while True:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _record(descriptor)
                os.close(descriptor)
                if time.monotonic() >= deadline:
                    named = Holder.of_record(holder).describe() if holder and "ended" not in holder else "holder unknown"
                    raise LockedError(f"{self.what} is in use by another terrane run ({named})") from None
                time.sleep(poll)
                continue
            if _same_file(descriptor, self.path):
                break
            os.close(descriptor)  # a lock broken (its file removed) while this run opened it: take the new one
        previous = _record(descriptor)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(["terrane", *sys.argv[1:]]),
                  "since": datetime.now(UTC).isoformat(timespec="seconds")}
        _write(descriptor, record)
        return _Held(descriptor, self.path, record, previous)

    def holder(self, *, settle: float = 1.0) -> Holder:
        """Who holds it, as its file says; a holder that has just taken it gets ``settle`` seconds to say so."""
        deadline = time.monotonic() + settle
        while True:
            record = self.record()
            if (record and "ended" not in record) or time.monotonic() >= deadline:
                return Holder.of_record(record if record and "ended" not in record else {})
            time.sleep(0.05)

    def record(self, *, settle: float = 0.0) -> dict[str, Any]:
        """What the file says now, held or not: a holder, how the last one ended, or ``{}``; while it says nothing
        (or nothing whole: a holder writing it), it is read again for up to ``settle`` seconds."""
        deadline = time.monotonic() + settle
        while True:
            try:
                descriptor = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return {}
            try:
                record = _record(descriptor)
            finally:
                os.close(descriptor)
            if record or time.monotonic() >= deadline:
                return record
            time.sleep(0.02)

    def ask_to_cancel(self, holder: Holder) -> bool:
        """Note that ``holder`` is asked to cancel; False if it was asked already (it must not be asked twice)."""
        marker = self.path.with_suffix(CANCEL_SUFFIX)
        try:
            asked = json.loads(marker.read_text())
        except (OSError, ValueError):
            asked = None
        if asked == [holder.pid, holder.since]:
            return False
        marker.write_text(json.dumps([holder.pid, holder.since]))
        return True

    def cancelling(self, pid: int) -> None:
        """The run ``pid`` is cancelling what it holds here (Ctrl-C): a ``terrane cancel`` must not ask again."""
        holder = Holder.of_record(self.record())
        if holder.pid == pid and holder.here:
            self.ask_to_cancel(holder)

    def break_(self) -> None:
        """Remove the lock's file: its holder keeps a lock on a file no one else opens, and the next run takes a new one."""
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(CANCEL_SUFFIX).unlink(missing_ok=True)


class _Held:
    """A held lock; leaving the ``with`` block (or ``release``) frees it."""

    def __init__(self, descriptor: int, path: Path, record: dict[str, Any], previous: dict[str, Any]) -> None:
        self._descriptor: int | None = descriptor
        self._path = path
        self._record = record
        self.previous = previous
        """What the file said when this run took the lock: how its last holder ended, or who it was."""

    @property
    def abandoned(self) -> Holder | None:
        """The last holder, if it ended without a word (killed): it left its record and no ``ended``."""
        if not self.previous or "ended" in self.previous:
            return None
        return Holder.of_record(self.previous)

    def note_worker(self, pid: int) -> None:
        """Record the worker that runs the operation: ``terrane cancel`` signals its process group."""
        self._record = {**self._record, "worker": pid}
        if self._descriptor is not None:
            _write(self._descriptor, self._record)

    def release(self, *, ended: str | None = None) -> None:
        """Free the lock; ``ended`` (succeeded, failed, cancelled...) says how the run ended, for ``terrane cancel``."""
        if self._descriptor is not None:
            self._path.with_suffix(CANCEL_SUFFIX).unlink(missing_ok=True)
            if ended:
                _write(self._descriptor, {**self._record, "ended": ended})
            else:
                os.ftruncate(self._descriptor, 0)
            os.close(self._descriptor)  # closing the last descriptor releases the flock
            self._descriptor = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


def _record(descriptor: int) -> dict[str, Any]:
    try:
        record = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _write(descriptor: int, record: dict[str, Any]) -> None:
    """Over the old record, then cut to length: a reader meanwhile finds the old record or the new, not nothing."""
    text = json.dumps(record).encode()
    os.pwrite(descriptor, text, 0)
    os.ftruncate(descriptor, len(text))


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        return os.fstat(descriptor).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _moment(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch); None if there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except FileNotFoundError:
        return None
    except (OSError, IndexError, StopIteration):  # no /proc: only whether it exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    if fields[0] == "Z":  # ended, not yet reaped
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def environment_lock(state_dir: Path, name: str) -> Lock:
    return Lock(state_dir / LOCKS_DIR / f"{name}.lock", f"environment {name}")


def accounts_lock(state_dir: Path) -> Lock:
    return Lock(state_dir / LOCKS_DIR / "accounts.lock", "accounts.yaml")
