"""``cancel`` against holders of terrane's lock that play a run: what it says is what happened.

Each holder here is a process of its own that takes the lock as a run does and
names itself as its worker; asked to cancel (SIGINT), it ends as it is told to
(``tests.helpers.runs.play_run``).
The real runs, Pulumi's locks and the stack's history are proven on the real
CLI (tests/real_engine/test_cancel.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from terrane import Engine
from terrane.engine.errors import InvalidInputError
from terrane.engine.operations.cancel import CancelResult, cancel
from terrane.engine.project import Project, open_project
from terrane.engine.store.locks import environment_lock
from tests.helpers.project import SampleProject
from tests.helpers.runs import dead_pid, hold, play_run


@pytest.fixture
def project(sample: SampleProject) -> Project:
    return open_project(sample.root)


@pytest.fixture
def run(project: Project, tmp_path: Path):
    started: list[subprocess.Popen[str]] = []

    def start(ends: str) -> tuple[subprocess.Popen[str], Path]:
        asks = tmp_path / f"asks-{len(started)}"
        started.append(play_run(project.root / ".terrane", "aws-dev", ends, asks))
        return started[-1], asks

    yield start
    for player in started:
        player.kill()
        player.wait()


def test_a_run_that_ends_cancelled_is_reported_cancelled(project: Project, run) -> None:
    holder, asks = run("cancelled")
    result = cancel(project, "aws-dev")
    assert (result.outcome, result.ok, result.ended) == ("cancelled", True, "cancelled")
    [named] = result.holders
    assert (named.lock, named.pid, named.worker, named.host) == ("terrane", holder.pid, holder.pid,
                                                                 socket.gethostname())
    assert asks.read_text() == "1"
    assert cancel(project, "aws-dev").outcome == "nothing"


def test_a_run_that_succeeds_first_is_not_reported_cancelled(project: Project, run) -> None:
    run("succeeded")
    result = cancel(project, "aws-dev")
    assert (result.outcome, result.ok, result.ended) == ("finished", False, "succeeded")


def test_a_run_that_dies_without_a_word_is_not_reported_cancelled(project: Project, run) -> None:
    run("exit")
    result = cancel(project, "aws-dev")
    assert (result.outcome, result.ok, result.ended) == ("ended", False, None)


def test_a_run_that_goes_on_is_asked_once_and_reported_running(project: Project, run) -> None:
    holder, asks = run("")
    assert cancel(project, "aws-dev", timeout=0.3).outcome == "still_running"
    again = cancel(project, "aws-dev", timeout=0.3)
    assert (again.outcome, again.ok) == ("still_running", False)
    assert asks.read_text() == "1"  # a second SIGINT would terminate the Pulumi CLI: it is never sent
    assert holder.poll() is None


def test_a_run_cancelling_after_its_own_ctrl_c_is_not_asked_again(project: Project, run) -> None:
    holder, asks = run("")
    lock = environment_lock(project.root / ".terrane", "aws-dev")
    lock.cancelling(holder.pid)  # what the run notes when its Ctrl-C reaches it
    assert cancel(project, "aws-dev", timeout=0.3).outcome == "still_running"
    assert asks.read_text() == ""


def test_a_holder_of_another_host_is_refused_until_forced(project: Project) -> None:
    lock = environment_lock(project.root / ".terrane", "aws-dev")
    record = {"pid": 4242, "host": "build-7", "command": "terrane up aws-dev --yes", "since": "2026-01-02T03:04:05+00:00"}
    holder = hold(lock.path, record)
    try:
        refused = cancel(project, "aws-dev")
        assert (refused.outcome, refused.ok) == ("refused", False)
        assert refused.reason == "it runs on build-7, not on this host: stop it there"
        assert refused.holders[0].describe() == "terrane up aws-dev --yes, pid 4242 on build-7, since 2026-01-02T03:04:05+00:00"
        assert lock.path.exists() and holder.poll() is None

        broken = cancel(project, "aws-dev", force=True)
        assert (broken.outcome, broken.ok, broken.holders[0].host) == ("broken", True, "build-7")
        with lock.acquire():  # the next run takes a lock of its own
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_holder_that_does_not_say_who_it_is_is_refused(project: Project) -> None:
    holder = hold(environment_lock(project.root / ".terrane", "aws-dev").path, {})
    try:
        refused = cancel(project, "aws-dev")
        assert (refused.outcome, refused.reason) == ("refused", "the lock does not say who holds it")
        assert refused.holders[0].describe() == "a holder that does not say who it is"
    finally:
        holder.kill()
        holder.wait()


def test_the_record_of_a_killed_run_is_cleared(project: Project) -> None:
    lock = environment_lock(project.root / ".terrane", "aws-dev")
    lock.path.parent.mkdir(parents=True)
    gone = dead_pid()
    lock.path.write_text(json.dumps({"pid": gone, "host": socket.gethostname(), "command": "terrane up aws-dev",
                                     "since": "2026-01-02T03:04:05+00:00"}))
    cleared = cancel(project, "aws-dev")
    assert (cleared.outcome, cleared.ok, [holder.pid for holder in cleared.holders]) == ("cleared", True, [gone])
    assert cancel(project, "aws-dev").outcome == "nothing"


def test_the_json_document(project: Project) -> None:
    assert CancelResult("aws-dev", "nothing").to_dict() == {
        "schema_version": 1, "environment": "aws-dev", "outcome": "nothing", "ok": True, "holders": [],
        "ended": None, "update": None, "reason": None}


def test_an_unknown_environment_is_invalid_input(sample: SampleProject) -> None:
    with pytest.raises(InvalidInputError, match="unknown environment 'nope'"):
        Engine(sample.root).cancel("nope")
