"""What every project file, however broken, must lead to: a plan, or exit 3 and a line that names the file.

``FuzzProject`` is a copy of the sample project whose files a test overwrites
example after example; ``plan`` runs ``terrane plan ENV --json`` in-process
through the console script's own entry point.
"""

from __future__ import annotations

import gc
import io
import json
import os
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from unittest import mock

from terrane.engine.cli import entry
from terrane.engine.errors import ExitCode
from terrane.engine.project import ACCOUNTS_FILE, ENVIRONMENTS_DIR
from tests.fuzz.documents import ENV_NAME, SMALL_ENVIRONMENTS, dump
from tests.helpers.project import REPO, Result, SampleProject

ENV_FILE = f"{ENVIRONMENTS_DIR}/{ENV_NAME}.yaml"
DEADLINE = timedelta(seconds=60)
"""Longer than one file may take, from reading it to its plan or its error, on any machine however loaded: a
file that takes this long hangs (an alias bomb, a pattern that backtracks). How fast a plan is, is
benchmarks/plan_bench.py's to say, never a timed assertion."""
MEMORY_HEADROOM = 512 * 2**20
"""What one run may add to the process's address space; a plan of the sample project needs a few tens of MiB."""


@dataclass(frozen=True)
class FuzzProject:
    """The sample project, its small environments, and ``environments/<ENV_NAME>.yaml`` for generated ones."""

    sample: SampleProject

    @classmethod
    def copy_to(cls, root: Path) -> FuzzProject:
        sample = SampleProject.copy_to(root)
        for name, env in SMALL_ENVIRONMENTS.items():
            sample.env_path(name).write_bytes(dump(env))
        return cls(sample)

    @property
    def root(self) -> Path:
        return self.sample.root

    def with_environment(self, document: bytes) -> FuzzProject:
        """The sample accounts, and ``document`` as the fuzzed environment's file."""
        self._restore_accounts()
        (self.root / ENV_FILE).write_bytes(document)
        return self

    def with_accounts(self, document: bytes) -> FuzzProject:
        """``document`` as ``accounts.yaml``, and the sample and small environments."""
        (self.root / ACCOUNTS_FILE).write_bytes(document)
        return self

    def plan(self, env: str) -> Result:
        return run("--project", str(self.root), "plan", env, "--json")

    def _restore_accounts(self) -> None:
        (self.root / ACCOUNTS_FILE).write_bytes((REPO / ACCOUNTS_FILE).read_bytes())


def run(*args: str) -> Result:
    """``terrane ARGS...`` as the console script runs it, with stdout and stderr captured.

    The run may take ``MEMORY_HEADROOM`` more memory than the tests hold already: a file that
    expands past it fails with a MemoryError (exit 1) instead of swapping the machine to a halt.
    """
    threshold = gc.get_threshold()  # the entry point tunes the collector for a short-lived process
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with (
            _memory_limited(),
            mock.patch.object(sys, "argv", ["terrane", *args]),
            redirect_stdout(stdout),
            redirect_stderr(stderr),
        ):
            code = entry()
    finally:
        gc.set_threshold(*threshold)
    return Result(code, stdout.getvalue(), stderr.getvalue())



@contextmanager
def _memory_limited() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    pages = int(Path("/proc/self/statm").read_text().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def assert_plan_or_named_file(result: Result, env: str, files: tuple[str, ...]) -> None:
    """Exit 0 with the plan of ``env``, or exit 3 whose first line names one of ``files``; never a traceback."""
    shown = result.stdout + result.stderr
    first_line = next(iter(result.stderr.splitlines()), "")
    assert "Traceback" not in shown, result.stderr
    assert result.code in (ExitCode.OK, ExitCode.INVALID_INPUT), f"exit {result.code}: {first_line}"
    if result.code == ExitCode.OK:
        document = json.loads(result.stdout)
        assert (document["schema_version"], document["environment"]) == (1, env)
        assert document["resources"], "a plan has at least the stack"
    else:
        assert any(name in first_line for name in files), f"the first line names no file: {first_line}"
