"""``terrane cancel`` as a user reads it, for what a real run rarely shows: a run that ends otherwise first, one
that dies without a word, one that runs on past ``--timeout``. (What real runs show is proven on the real CLI:
tests/real_engine/test_cancel.py.)"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.project import SampleProject
from tests.helpers.runs import play_run


@pytest.fixture
def run(sample: SampleProject, tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(ends: str) -> subprocess.Popen[str]:
        started.append(play_run(sample.root / ".terrane", "aws-dev", ends, tmp_path / f"asks-{len(started)}"))
        return started[-1]

    yield start
    for player in started:
        player.kill()
        player.wait()


def _named(player: subprocess.Popen[str], sample: SampleProject) -> str:
    """How cancel names the player: the command its lock records, its pid, its host."""
    command = json.loads((sample.root / ".terrane" / "locks" / "aws-dev.lock").read_text())["command"]
    return f"{command}, pid {player.pid} on "


def test_a_run_that_succeeds_first_is_not_called_cancelled(sample: SampleProject, cli, run) -> None:
    player = run("succeeded")
    named = _named(player, sample)
    result = cli("--project", sample.root, "cancel", "aws-dev")
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: aws-dev: not cancelled: {named}")
    assert " ended first: it succeeded" in result.stderr


def test_a_run_that_dies_without_a_word(sample: SampleProject, cli, run) -> None:
    run("exit")
    result = cli("--project", sample.root, "cancel", "aws-dev")
    assert result.code == 1
    assert "stopped without saying how it ended; the stack's history records no update of it" in result.stderr


def test_a_run_that_goes_on_past_the_timeout(sample: SampleProject, cli, run) -> None:
    player = run("")
    result = cli("--project", sample.root, "cancel", "aws-dev", "--timeout", "0.3")
    assert result.code == 1
    assert result.stderr.startswith(f"error: aws-dev: {_named(player, sample)}")
    assert "was asked to cancel and still runs (the steps in flight finish first); 'terrane cancel aws-dev' again " \
           "waits for it" in result.stderr
    waited = cli("--project", sample.root, "cancel", "aws-dev", "--timeout", "0.3", "--json")
    assert waited.code == 1
    assert json.loads(waited.stdout)["outcome"] == "still_running"


def test_nothing_to_cancel(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "cancel", "aws-dev", "--json")
    assert result.code == 0
    assert json.loads(result.stdout) == {"schema_version": 1, "environment": "aws-dev", "outcome": "nothing",
                                         "ok": True, "holders": [], "ended": None, "update": None, "reason": None}
    assert cli("--project", sample.root, "cancel", "no-such-env").code == 3
