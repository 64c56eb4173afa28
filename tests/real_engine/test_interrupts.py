"""Two updates on one stack, a worker killed mid-update, and Ctrl-C, on the real Pulumi CLI.

The test cloud's objects take a few seconds to create here (``testcloud-delay``),
and each create in flight shows as ``<name>.creating``, so the tests act while
an update is certainly running.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket

from tests.helpers.processes import descendants
from tests.helpers.project import SampleProject
from tests.helpers.runs import alive, kill, slow, up_in_flight, wait_for, worker_of
from tests.helpers.testcloud import TestCloud

OBJECTS = ["bucket", "network", "token"]


def test_a_second_up_is_refused_while_one_runs_or_waits_for_it(project: SampleProject, cloud: TestCloud, cli,
                                                                terrane) -> None:
    first, _ = up_in_flight(project, cloud, terrane, seconds=8)

    # terrane's own lock answers at once and names the run that holds it.
    refused = cli("up", "aws-dev", "--yes")
    assert refused.code == 1
    assert "error: environment aws-dev is in use by another terrane run (terrane " in refused.stderr
    assert f"pid {first.pid} on " in refused.stderr and "--wait SECONDS" in refused.stderr
    assert first.poll() is None, "the first update ended before the second one asked"

    waited = cli("up", "aws-dev", "--yes", "--wait", "120", "--json")
    assert waited.code == 0, waited.stderr
    assert "locked by another update; retrying" in waited.stderr
    assert first.wait(120) == 0
    # The first one created everything; the second, once it had the lock, found nothing to do.
    assert json.loads(waited.stdout)["results"][0]["changes"] == {"same": 5}


def test_a_killed_worker_leaves_a_lock_and_unfinished_creates(project: SampleProject, cloud: TestCloud, cli,
                                                               terrane) -> None:
    first, in_flight = up_in_flight(project, cloud, terrane)
    worker = worker_of(first)
    killed = descendants(worker)
    os.killpg(worker, signal.SIGKILL)  # the worker and its Pulumi CLI, as the OOM killer would
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 1
    assert "the worker stopped unexpectedly" in stderr
    # The CLI's provider plugins run in process groups of their own and outlive it, as they would the OOM
    # killer's kill; this test made them orphans, so it takes them down.
    for pid in killed:
        kill(pid)

    # Pulumi's lock names the killed CLI, of this host: cancel finds it gone, and clears it.
    locked = cli("up", "aws-dev", "--yes")
    assert locked.code == 1 and "terrane cancel aws-dev" in locked.stderr
    assert f"a Pulumi update by {getpass.getuser()}, pid " in locked.stderr
    assert f" on {socket.gethostname()}, since " in locked.stderr
    cancel = cli("cancel", "aws-dev")
    assert cancel.code == 0, cancel.stderr
    assert "aws-dev: cleared the locks of a run that is gone: a Pulumi update by " in cancel.stdout

    # The state still lists the creates that were in flight: up stops, names them, and says both ways on.
    stopped = cli("up", "aws-dev", "--yes")
    assert stopped.code == 1
    assert "error: aws-dev: an earlier run was killed while creating " in stopped.stderr
    assert all(name in stopped.stderr for name in in_flight)
    assert "'terrane refresh aws-dev --clear-pending-creates'" in stopped.stderr
    assert "'terrane up aws-dev --accept-pending'" in stopped.stderr
    assert not cloud.path("aws-dev", "bucket").exists()  # it waits for the network: nothing ran

    accepted = cli("up", "aws-dev", "--yes", "--accept-pending")
    assert accepted.code == 0, accepted.stderr
    assert "warning: an earlier run was killed while changing" in accepted.stderr
    assert all(cloud.path("aws-dev", name).exists() for name in OBJECTS)
    # Pulumi keeps pending creates until they are cleared: up stops again until then.
    assert cli("up", "aws-dev", "--yes").code == 1
    refresh = cli("refresh", "aws-dev", "--clear-pending-creates")
    assert refresh.code == 0, refresh.stderr
    again = cli("up", "aws-dev", "--yes")
    assert again.code == 0 and "killed" not in again.stderr


def test_ctrl_c_cancels_gracefully_and_keeps_the_state(project: SampleProject, cloud: TestCloud, cli,
                                                        terrane) -> None:
    first, in_flight = up_in_flight(project, cloud, terrane)
    os.killpg(first.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole foreground group
    _, stderr = first.communicate(timeout=60)

    assert first.returncode == 1
    assert "error: aws-dev: up cancelled" in stderr
    assert "Traceback" not in stderr and "context canceled" not in stderr
    # What was in flight finished and was recorded; nothing is left locked or pending.
    assert all(cloud.path("aws-dev", name).exists() for name in in_flight)
    up = cli("up", "aws-dev", "--yes", "--json")
    assert up.code == 0, up.stderr
    assert "killed" not in up.stderr
    assert all(cloud.path("aws-dev", name).exists() for name in OBJECTS)


def test_ctrl_c_starts_nothing_more(project: SampleProject, cloud: TestCloud, terrane) -> None:
    slow(project, 3, "aws-dev", "azure-dev", "gcp-dev")
    run = terrane("up", "--all", "--yes", "--parallel", "1", "--json")
    wait_for(lambda: cloud.creating("aws-dev"))
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)

    assert run.returncode == 1
    statuses = {result["environment"]: result["status"] for result in json.loads(stdout)["results"]}
    assert statuses == {"aws-dev": "cancelled", "azure-dev": "skipped", "gcp-dev": "skipped"}
    assert "azure-dev: not started: the run was interrupted" in stderr
    # The queued environments never ran: no stack, nothing in their cloud.
    assert not (cloud.root / "azure-dev").exists() and not (cloud.root / "gcp-dev").exists()
    assert not (project.root / "Pulumi.azure-dev.yaml").exists()


def test_sigterm_is_ctrl_c(project: SampleProject, cloud: TestCloud, cli, terrane) -> None:
    slow(project, 3, "aws-dev", "azure-dev", "gcp-dev")
    run = terrane("up", "--all", "--yes", "--parallel", "1", "--json")
    wait_for(lambda: cloud.creating("aws-dev"))
    tree = descendants(run.pid)
    run.terminate()  # SIGTERM to terrane alone, as the kubelet sends it to an evicted pod's process
    stdout, _ = run.communicate(timeout=60)

    assert run.returncode == 1
    statuses = {result["environment"]: result["status"] for result in json.loads(stdout)["results"]}
    assert statuses == {"aws-dev": "cancelled", "azure-dev": "skipped", "gcp-dev": "skipped"}
    wait_for(lambda: not any(alive(pid) for pid in tree), timeout=30)
    up = cli("up", "aws-dev", "--yes")
    assert up.code == 0 and "killed" not in up.stderr and "locked" not in up.stderr


def test_a_killed_terrane_takes_its_workers_with_it(project: SampleProject, cloud: TestCloud, cli, terrane) -> None:
    run, in_flight = up_in_flight(project, cloud, terrane)
    tree = descendants(run.pid)
    run.kill()  # SIGKILL to terrane alone: its worker, Pulumi CLI and provider are left without it
    run.communicate(timeout=60)

    # The worker saw its driver go, and had its Pulumi CLI cancel: steps in flight finish, the state is
    # saved, the lock released, and nothing of the run is left behind.
    wait_for(lambda: not any(alive(pid) for pid in tree), timeout=60)
    assert "bucket" not in in_flight and all(cloud.path("aws-dev", name).exists() for name in in_flight)
    assert not cloud.path("aws-dev", "bucket").exists()  # it waits for the network: the cancelled run never began it
    up = cli("up", "aws-dev", "--yes")
    assert up.code == 0, up.stderr
    assert "killed" not in up.stderr and "locked" not in up.stderr
