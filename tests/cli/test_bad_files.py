"""Project files that are not regular files, or are too large, and a ``.terrane`` or ``accounts.yaml`` terrane
cannot write: each is one line naming the path, exit 3, and nothing is read forever or written.

The special files run the real ``terrane`` in a process of its own, under a timeout: before the fix, a
symbolic link to ``/dev/zero`` filled memory and a named pipe blocked forever.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.project import Result, SampleProject
from tests.standin import StandIn

# What terrane reads of a project file, at most; docs/environments.md says so.
LIMIT = 1 << 20
TIMEOUT_SECONDS = 30


def _terrane(*args: str | Path) -> Result:
    """``terrane ARGS...`` in a process of its own, which the test's timeout ends if it hangs."""
    done = subprocess.run([sys.executable, "-m", "terrane", *map(str, args)], capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _oversized(path: Path) -> None:
    path.write_text("# " + "x" * LIMIT + "\n")


SPECIAL: dict[str, tuple[Callable[[Path], None], str]] = {
    "symlink to /dev/zero": (_dev_zero, "it is a symbolic link to /dev/zero, which is a character device"),
    "fifo": (_fifo, "it is a named pipe (FIFO), not a regular file"),
    "directory": (_directory, "it is a directory, not a regular file"),
    "oversized": (_oversized, "it is larger than 1 MiB"),
}


def _one_line(result: Result, expected: str) -> None:
    assert (result.code, result.stdout) == (3, ""), result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize("relative", ["environments/aws-dev.yaml", "accounts.yaml", "Pulumi.yaml"])
@pytest.mark.parametrize("kind", SPECIAL, ids=list(SPECIAL))
def test_a_project_file_that_is_not_a_regular_file_is_refused_at_once(sample: SampleProject, relative: str,
                                                                       kind: str) -> None:
    make, words = SPECIAL[kind]
    path = sample.root / relative
    path.unlink()
    make(path)
    _one_line(_terrane("--project", sample.root, "plan", "aws-dev"), f"error: {relative}: cannot be read: {words}")


def test_an_environment_listed_beside_others_is_refused_and_the_others_still_validate(sample: SampleProject) -> None:
    _fifo(sample.root / "environments" / "fifo-dev.yaml")
    result = _terrane("--project", sample.root, "envs", "validate")
    assert result.code == 3
    assert "environments/fifo-dev.yaml: cannot be read: it is a named pipe (FIFO)" in result.stderr


def test_an_ids_file_that_is_a_device_is_refused(sample: SampleProject, tmp_path: Path) -> None:
    ids = tmp_path / "ids.yaml"
    _dev_zero(ids)
    _one_line(_terrane("--project", sample.root, "adopt", "aws-dev", "--ids", ids),
              f"error: {ids}: cannot be read: it is a symbolic link to /dev/zero")


def test_a_symlink_to_a_regular_file_is_read(sample: SampleProject, tmp_path: Path, cli) -> None:
    elsewhere = tmp_path / "specs" / "aws-dev.yaml"
    elsewhere.parent.mkdir()
    sample.env_path("aws-dev").rename(elsewhere)
    sample.env_path("aws-dev").symlink_to(elsewhere)
    assert cli("--project", sample.root, "envs", "validate", "aws-dev").code == 0


def test_a_file_of_exactly_the_limit_is_read(sample: SampleProject, cli) -> None:
    path = sample.env_path("aws-dev")
    text = path.read_text()
    path.write_text(text + "#" * (LIMIT - len(text.encode()) - 1) + "\n")
    assert path.stat().st_size == LIMIT
    assert cli("--project", sample.root, "envs", "validate", "aws-dev").code == 0
    path.write_text(text + "#" * (LIMIT - len(text.encode())) + "\n")
    _one_line(cli("--project", sample.root, "envs", "validate", "aws-dev"),
              "environments/aws-dev.yaml: cannot be read: it is larger than 1 MiB")


# --- paths terrane writes ------------------------------------------------------------------------------------------

LINK_AWS = ("accounts", "link", "aws", "aws-team", "--account-id", "210987654321", "--role-arn",
            "arn:aws:iam::210987654321:role/terrane-provisioner", "--region", "eu-west-1", "--no-verify")


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """``path`` made so that terrane cannot write it, or replace it, while the block lasts: immutable (``chattr +i``,
    as a user would have made it) for root, whom a mode does not stop; else read-only, a file's directory too."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
        if made.returncode != 0:
            pytest.skip(f"runs as root, which writes through a mode, and cannot make a file immutable: {made.stderr}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    paths = [path] if path.is_dir() else [path, path.parent]
    modes = {each: each.stat().st_mode for each in paths}
    for each in paths:
        each.chmod(0o555 if each.is_dir() else 0o444)
    try:
        yield
    finally:
        for each, mode in modes.items():
            each.chmod(mode)


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("blocker", [".terrane", ".terrane/locks"])
def test_a_file_where_terrane_keeps_a_directory_is_named(sample: SampleProject, cli, blocker: str) -> None:
    (sample.root / blocker).parent.mkdir(exist_ok=True)
    (sample.root / blocker).write_text("not a directory\n")
    before = _files(sample.root)
    _one_line(cli("--project", sample.root, *LINK_AWS),
              f"error: {sample.root / blocker} is a file where terrane needs a directory: move it away")
    assert _files(sample.root) == before


def test_a_terrane_file_stops_a_stack_command_before_it_runs(standin: StandIn, sample: SampleProject, cli) -> None:
    (sample.root / ".terrane").write_text("")
    _one_line(cli("up", "aws-dev", "--yes"), f"error: {sample.root / '.terrane'} is a file where terrane needs")
    assert standin.calls_of("up") == []


def test_an_unwritable_terrane_directory_is_named(sample: SampleProject, cli) -> None:
    state = sample.root / ".terrane"
    state.mkdir()
    with unwritable(state):
        result = cli("--project", sample.root, *LINK_AWS)
    _one_line(result, f"error: {state / 'locks'}: ")
    assert "aws-team" not in sample.load_accounts()["accounts"]


def test_an_immutable_accounts_file_is_named_and_left_as_it_was(sample: SampleProject, cli) -> None:
    accounts = sample.root / "accounts.yaml"
    (sample.root / ".terrane" / "locks").mkdir(parents=True)  # where the change is locked, still writable
    before = accounts.read_bytes()
    with unwritable(accounts):
        result = cli("--project", sample.root, *LINK_AWS)
    _one_line(result, f"error: {accounts}: ")
    assert "partial" not in result.stderr
    assert accounts.read_bytes() == before
    assert not [path.name for path in sample.root.iterdir() if path.name.startswith(".accounts.yaml")]


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "fifo"])
def test_a_terraform_state_to_adopt_from_that_is_not_a_regular_file_is_refused(sample: SampleProject, tmp_path: Path,
                                                                              kind: str) -> None:
    make, words = SPECIAL[kind]
    state = tmp_path / "terraform.tfstate"
    make(state)
    _one_line(_terrane("--project", sample.root, "adopt", "aws-dev", "--from-tfstate", state),
              f"error: {state}: cannot be read: {words}")


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "fifo"])
def test_a_secret_reference_to_a_file_that_is_not_a_regular_file_is_refused(sample: SampleProject, tmp_path: Path,
                                                                            pulumi_root: Path, kind: str) -> None:
    make, words = SPECIAL[kind]
    home = tmp_path / "home"
    (home / ".config" / "terrane").mkdir(parents=True)
    key = home / ".config" / "terrane" / "gcp-sa.json"  # the sample's gcp-sandbox key: {file: ~/.config/...}
    make(key)
    environ = {**os.environ, "HOME": str(home), "TERRANE_PULUMI_ROOT": str(pulumi_root),
               "PULUMI_CONFIG_PASSPHRASE": "passphrase"}
    done = subprocess.run([sys.executable, "-m", "terrane", "--project", str(sample.root), "preview", "gcp-dev"],
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, env=environ)
    _one_line(Result(done.returncode, done.stdout, done.stderr), f"cannot read {key}: {words}")
    assert not (sample.root / ".terrane").exists()  # nothing was run
