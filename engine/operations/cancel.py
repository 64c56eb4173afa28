"""``cancel``: stop a live run of an environment on this host, or clear what a dead one left; refuse the rest.

Nothing is claimed that did not happen. A terrane run of this host holding the
environment is cancelled as Ctrl-C would cancel it (SIGINT to its worker's
process group: the Pulumi CLI lets the steps in flight finish, saves the state
and releases its lock), and asked once only, since a second SIGINT terminates;
then ``cancel`` waits for it to end and reports how it ended, in the run's own
words and as the stack's history records the update. A lock whose holder is
gone (this host, its process ended) is cleared. Any other holder (another host,
a process that is not a terrane run, a lock that does not say whose it is, or
Pulumi locks terrane cannot read) is refused and named, unless ``force``: then
its lock is broken, and the result names whose it was.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from terrane.engine.errors import EngineError
from terrane.engine.operations import pulumi_cli, stack_locks, workspace
from terrane.engine.operations.pulumi_cli import UpdateRecord
from terrane.engine.project import Project
from terrane.engine.store import locks
from terrane.engine.store.locks import Holder, Lock
from terrane.engine.store.paths import STATE_DIR

Outcome = Literal["nothing", "cancelled", "finished", "ended", "still_running", "refused", "cleared", "broken"]
"""nothing: no run holds the environment. cancelled: a live run was stopped, and says it was cancelled.
finished: it ended otherwise first (succeeded, failed). ended: it stopped without saying how.
still_running: asked to cancel, it runs on past the timeout. refused: a holder terrane may not stop.
cleared: the locks of a holder that is gone. broken: (``force``) the locks of a holder that may live."""

_DONE: tuple[Outcome, ...] = ("nothing", "cancelled", "cleared", "broken")

# How long a run that has just taken the lock has to record its worker, before the run itself is signalled.
_WORKER_SECONDS = 5.0
_POLL_SECONDS = 0.1
# A lock's file read while its holder writes it may say nothing whole: it is read again for so long.
_SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class CancelResult:
    """What ``cancel`` found holding an environment, and what it did."""

    environment: str
    outcome: Outcome
    holders: tuple[Holder, ...] = ()
    """Who held it: the run stopped, the holders that are gone (cleared), or those refused or broken."""
    ended: str | None = None
    """How the stopped run says it ended (its operation's status: cancelled, succeeded, failed)."""
    update: UpdateRecord | None = None
    """The stopped run's update as the stack's history records it (Pulumi records a cancelled one as failed)."""
    reason: str | None = None
    """Why it was refused."""

    @property
    def ok(self) -> bool:
        """What was asked is done: nothing held it, the run was cancelled, or its locks are gone."""
        return self.outcome in _DONE

    def to_dict(self) -> dict[str, Any]:
        update = self.update
        return {"schema_version": 1, "environment": self.environment, "outcome": self.outcome, "ok": self.ok,
                "holders": [holder.to_dict() for holder in self.holders], "ended": self.ended,
                "update": {"kind": update.kind, "result": update.result, "started": update.started} if update else None,
                "reason": self.reason}


def cancel(project: Project, name: str, *, force: bool = False, timeout: float | None = None) -> CancelResult:
    """Cancel the run holding ``name``, or clear the locks a dead one left; see the module's docstring.

    ``timeout``: how long to wait for a cancelled run to end (None: as long as it takes).
    """
    lock = locks.environment_lock(project.root / STATE_DIR, name)
    try:
        held = lock.acquire()
    except locks.LockedError:
        holder = lock.holder()
        if holder.known and holder.alive():  # it holds the lock: it is no pid's later owner
            return _stop(project, name, lock, holder, timeout)
        if not force:
            return CancelResult(name, "refused", (holder,), reason=_not_here(holder))
        lock.break_()
        return CancelResult(name, "broken", (holder, *_clear_pulumi(project, name, force=True)[0]))
    # Held here, no terrane run can start while Pulumi's locks are looked at.
    with held:
        # A run of this host that was killed left its record (the kernel freed its lock); one of another host (a
        # project on a shared disk) is Pulumi's locks' to tell of.
        gone = (held.abandoned,) if held.abandoned and held.abandoned.here else ()
        pulumi, refusal = _clear_pulumi(project, name, force=force)
        if refusal:
            return CancelResult(name, "refused", pulumi, reason=refusal)
        if any(holder.running() or not holder.here for holder in pulumi):
            return CancelResult(name, "broken", (*gone, *pulumi))
        return CancelResult(name, "cleared" if gone or pulumi else "nothing", (*gone, *pulumi))


def _stop(project: Project, name: str, lock: Lock, holder: Holder, timeout: float | None) -> CancelResult:
    """Cancel ``holder``'s run as Ctrl-C would, unless it was asked already; wait for it; say how it ended."""
    if lock.ask_to_cancel(holder):
        _interrupt(lock, holder)
    deadline = None if timeout is None else time.monotonic() + timeout
    record = lock.record(settle=_SETTLE_SECONDS)
    while _holds(record, holder) and "ended" not in record and holder.alive():
        if deadline is not None and time.monotonic() >= deadline:
            return CancelResult(name, "still_running", (holder,))
        time.sleep(_POLL_SECONDS)
        record = lock.record(settle=_SETTLE_SECONDS)
    # Its own word, unless the next run took the lock before it could be read.
    ended = record.get("ended") if _holds(record, holder) else None
    outcome: Outcome = "cancelled" if ended == "cancelled" else "finished" if ended else "ended"
    return CancelResult(name, outcome, (holder,), ended=ended, update=_update_of(project, name, holder))


def _interrupt(lock: Lock, holder: Holder) -> None:
    """SIGINT to the worker's process group, as the run's own Ctrl-C sends it; to the run if it names none."""
    worker = holder.worker
    deadline = time.monotonic() + _WORKER_SECONDS
    while worker is None and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        record = lock.record(settle=_SETTLE_SECONDS)
        if not _holds(record, holder) or "ended" in record:
            return  # it ended meanwhile
        worker = Holder.of_record(record).worker
    assert holder.pid is not None
    with suppress(ProcessLookupError):  # ended meanwhile: there is nothing left to stop
        if worker is None:
            os.kill(holder.pid, signal.SIGINT)  # the run forwards it to every worker it has
        elif os.getpgid(worker) == worker:
            os.killpg(worker, signal.SIGINT)


def _holds(record: dict[str, Any], holder: Holder) -> bool:
    """The lock's record is still ``holder``'s (running, or saying how it ended)."""
    return record.get("pid") == holder.pid and record.get("since") == holder.since


def _update_of(project: Project, name: str, holder: Holder) -> UpdateRecord | None:
    """The stack's newest update, if it is the stopped run's: one that started once the run took the lock."""
    backend = workspace.backend(project, create=False)
    if backend.holds_no_stack or holder.since is None:
        return None
    try:
        cli = pulumi_cli.locate()
    except EngineError:  # the run stopped all the same; only its history cannot be read
        return None
    update = pulumi_cli.last_update(cli, project.root, workspace.backend_environment(backend), name)
    if update is None or update.started is None:
        return None
    started, taken = datetime.fromisoformat(update.started), datetime.fromisoformat(holder.since)
    return update if started.timestamp() >= taken.timestamp() else None


def _clear_pulumi(project: Project, name: str, *, force: bool) -> tuple[tuple[Holder, ...], str | None]:
    """Pulumi's locks on the stack, and why they are refused; cleared unless refused.

    A lock is cleared when its holder is gone (a process of this host that has
    ended); any other only with ``force``: one of another host, of a process of
    this host that still runs outside any terrane run (a plain ``pulumi up``, or
    the worker of a killed terrane cancelling itself), or locks that cannot be read.
    """
    backend = workspace.backend(project, create=False)
    if backend.holds_no_stack:
        return (), None
    found = stack_locks.read(backend.url, project.pulumi_project, name)
    live = [holder for holder in found.holders if holder.running() or not holder.here]
    if not force and (live or found.unreadable):
        return tuple(live), _refusal(live, found.unreadable)
    if found.holders or found.unreadable:
        stack_locks.clear(pulumi_cli.locate(), project.root, workspace.backend_environment(backend), name)
    return found.holders, None


def _refusal(live: list[Holder], unreadable: str | None) -> str:
    if unreadable:
        return f"{unreadable}, so it cannot tell whether a run on another machine holds the stack"
    if all(holder.here for holder in live):
        return "its process still runs on this host, outside any terrane run: wait for it, or stop it where it runs"
    return _not_here(next(holder for holder in live if not holder.here))


def _not_here(holder: Holder) -> str:
    if not holder.known:
        return "the lock does not say who holds it"
    if not holder.here:
        return f"it runs on {holder.host}, not on this host: stop it there"
    return f"its pid {holder.pid} is no process of this host (another container sharing the project?)"
