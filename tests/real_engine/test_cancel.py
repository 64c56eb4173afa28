"""``terrane cancel`` on the real Pulumi CLI: it cancels a live run of this host for real and says how it ended;
it refuses a holder of another host, naming it, until ``--force``; it clears what a dead holder left.

Nothing it says may be untrue: a run it reports cancelled has ended, cancelled, and left nothing locked.
"""

from __future__ import annotations

import json
import signal
import socket
import uuid
from pathlib import Path

import pytest

from terrane.engine.project import open_project
from terrane.engine.store import locks
from tests.helpers.project import SampleProject
from tests.helpers.runs import dead_pid, hold, up_in_flight, wait_for
from tests.helpers.testcloud import TestCloud

ELSEWHERE = "build-7"
"""A host that is not this one."""


def _terrane_lock(project: SampleProject) -> Path:
    return locks.environment_lock(project.root / ".terrane", "aws-dev").path


def _pulumi_lock(project: SampleProject, record: dict[str, object]) -> Path:
    """A lock file of Pulumi's on aws-dev's stack, as an update holding it writes it."""
    directory = (project.root / ".terrane" / "state" / ".pulumi" / "locks" / "organization"
                 / open_project(project.root).pulumi_project / "aws-dev")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4()}.json"
    path.write_text(json.dumps(record))
    return path


@pytest.fixture
def deployed(project: SampleProject, cli) -> SampleProject:
    up = cli("up", "aws-dev", "--yes")
    assert up.code == 0, up.stderr
    return project


def test_a_live_up_of_this_host_is_cancelled_and_its_end_reported(project: SampleProject, cloud: TestCloud, cli,
                                                                  terrane) -> None:
    run, in_flight = up_in_flight(project, cloud, terrane)

    cancel = cli("cancel", "aws-dev", "--json")
    assert cancel.code == 0, cancel.stdout + cancel.stderr
    result = json.loads(cancel.stdout)
    assert (result["outcome"], result["ok"], result["ended"]) == ("cancelled", True, "cancelled")
    [holder] = result["holders"]
    assert (holder["pid"], holder["host"], holder["command"]) == (run.pid, socket.gethostname(),
                                                                  "terrane up aws-dev --yes")
    # Pulumi records a cancelled update as failed: that is what its history says, and cancel reports it.
    assert (result["update"]["kind"], result["update"]["result"]) == ("update", "failed")

    # By the time cancel answered, the environment's run had ended, cancelled, its steps in flight finished and
    # recorded; the process that ran it (which could be running other environments) exits in its own time.
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 1 and "error: aws-dev: up cancelled" in stderr
    assert all(cloud.path("aws-dev", name).exists() for name in in_flight)
    nothing = cli("cancel", "aws-dev")
    assert (nothing.code, nothing.stdout.strip()) == (0, "aws-dev: nothing to cancel: no run holds aws-dev")
    up = cli("up", "aws-dev", "--yes")
    assert up.code == 0, up.stderr
    assert "killed" not in up.stderr and "locked" not in up.stderr


def test_a_run_already_cancelling_is_not_asked_twice(project: SampleProject, cloud: TestCloud, cli, terrane) -> None:
    """Ctrl-C first, then cancel: a second SIGINT would terminate the Pulumi CLI and leave creates pending."""
    run, _ = up_in_flight(project, cloud, terrane)
    run.send_signal(signal.SIGINT)  # Ctrl-C, to terrane: it asks its worker to cancel, and notes it did
    wait_for(lambda: _terrane_lock(project).with_suffix(locks.CANCEL_SUFFIX).exists())

    cancel = cli("cancel", "aws-dev")
    assert cancel.code == 0, cancel.stderr
    assert cancel.stdout.startswith(f"aws-dev: cancelled terrane up aws-dev --yes, pid {run.pid} on ")
    assert "the stack's history records its update as failed (Pulumi records a cancelled update as failed)" \
        in cancel.stdout
    # Cancelled gracefully, once: nothing is left pending, and the next up goes ahead.
    up = cli("up", "aws-dev", "--yes")
    assert up.code == 0, up.stderr
    assert "killed" not in up.stderr


def test_a_terrane_run_of_another_host_is_refused_until_forced(deployed: SampleProject, cli) -> None:
    record = {"pid": 4242, "host": ELSEWHERE, "command": "terrane up aws-dev --yes", "since": "2026-01-02T03:04:05+00:00"}
    holder = hold(_terrane_lock(deployed), record)
    try:
        named = f"terrane up aws-dev --yes, pid 4242 on {ELSEWHERE}, since 2026-01-02T03:04:05+00:00"
        refused = cli("cancel", "aws-dev")
        assert refused.code == 1
        assert refused.stderr.startswith(f"error: aws-dev is held by {named}: it runs on {ELSEWHERE}, not on this "
                                         f"host: stop it there. Nothing was cancelled")
        assert "terrane cancel aws-dev --force" in refused.stderr
        locked = cli("up", "aws-dev", "--yes")
        assert locked.code == 1 and named in locked.stderr

        broken = cli("cancel", "aws-dev", "--force")
        assert broken.code == 0, broken.stderr
        assert broken.stdout.startswith(f"aws-dev: broke the locks of {named}. Should that run still go on")
        assert holder.poll() is None  # its holder is left alone; the next run takes a lock of its own
        up = cli("up", "aws-dev", "--yes")
        assert up.code == 0, up.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_pulumi_lock_of_another_host_is_refused_until_forced(deployed: SampleProject, cli) -> None:
    lock = _pulumi_lock(deployed, {"pid": 4242, "username": "ci", "hostname": ELSEWHERE,
                                   "timestamp": "2026-01-02T04:04:05.123456789+01:00"})
    named = f"a Pulumi update by ci, pid 4242 on {ELSEWHERE}, since 2026-01-02T03:04:05+00:00"
    locked = cli("up", "aws-dev", "--yes")
    assert locked.code == 1
    assert f"error: aws-dev is locked by another update: {named}." in locked.stderr
    assert "'terrane cancel aws-dev' stops it if it runs on this host" in locked.stderr
    assert "if none is running" not in locked.stderr

    refused = cli("cancel", "aws-dev", "--json")
    assert refused.code == 1
    result = json.loads(refused.stdout)
    assert (result["outcome"], result["ok"]) == ("refused", False)
    assert result["reason"] == f"it runs on {ELSEWHERE}, not on this host: stop it there"
    [holder] = result["holders"]
    assert (holder["lock"], holder["pid"], holder["host"], holder["user"]) == ("pulumi", 4242, ELSEWHERE, "ci")
    assert lock.exists()

    broken = cli("cancel", "aws-dev", "--force")
    assert broken.code == 0, broken.stderr
    assert broken.stdout.startswith(f"aws-dev: broke the locks of {named}.")
    assert not lock.exists()
    assert cli("up", "aws-dev", "--yes").code == 0


def test_what_a_dead_holder_of_this_host_left_is_cleared(deployed: SampleProject, cli) -> None:
    gone = dead_pid()
    _pulumi_lock(deployed, {"pid": gone, "username": "ci", "hostname": socket.gethostname(),
                            "timestamp": "2026-01-02T03:04:05Z"})
    assert cli("up", "aws-dev", "--yes").code == 1
    # A terrane run killed with SIGKILL leaves its record (the kernel frees the lock itself).
    _terrane_lock(deployed).write_text(json.dumps({"pid": gone, "host": socket.gethostname(),
                                                   "command": "terrane up aws-dev --yes",
                                                   "since": "2026-01-02T03:04:04+00:00"}))

    cleared = cli("cancel", "aws-dev")
    assert cleared.code == 0, cleared.stderr
    here = socket.gethostname()
    assert cleared.stdout.startswith(
        f"aws-dev: cleared the locks of a run that is gone: terrane up aws-dev --yes, pid {gone} on {here}, since "
        f"2026-01-02T03:04:04+00:00; a Pulumi update by ci, pid {gone} on {here}, since 2026-01-02T03:04:05+00:00.")
    assert cli("up", "aws-dev", "--yes").code == 0
