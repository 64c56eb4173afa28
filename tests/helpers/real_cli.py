"""Finding the real Pulumi CLI for the tests that need one.

In order: ``TERRANE_PULUMI_ROOT``; the CLI ``tools/pulumi/build`` made on this
machine (built now when Go is there, so a fresh clone's test command needs nothing
else); ``pulumi`` on PATH. Without one of those the tests that need it skip and say
why, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "tools" / "pulumi" / "build"
ROOT_ENV = "TERRANE_PULUMI_ROOT"


def find_or_build() -> Path | str:
    """The CLI's root (holding ``bin/pulumi``), or why there is none."""
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV])
        return root if (root / "bin" / "pulumi").is_file() else f"{ROOT_ENV}={root} has no bin/pulumi"
    if shutil.which("go"):
        print(f"terrane tests: {BUILD.relative_to(REPO)} (cached after the first build)", file=sys.stderr, flush=True)
        built = run_tool(BUILD)
        if built.returncode == 0:
            return Path(built.stdout.strip().splitlines()[-1])
        return f"{BUILD.relative_to(REPO)} failed with exit code {built.returncode}"
    found = shutil.which("pulumi")
    if found:
        return Path(found).resolve().parent.parent
    return f"needs the real Pulumi CLI: install Go and run {BUILD.relative_to(REPO)}, or set {ROOT_ENV}"


# The environment this test process started with. A tool's cache is the machine's (under HOME): a test that gave
# itself a HOME of its own, and first needed a tool, would otherwise build it again inside its temporary directory.
_STARTED_WITH = dict(os.environ)


def run_tool(script: Path) -> subprocess.CompletedProcess[str]:
    """A ``tools/*/build`` or ``install``, with the environment the tests started with; other test processes
    (xdist's workers, other runs) wait, then find it done. Its last line on stdout is the root it made."""
    with one_build_at_a_time():
        return subprocess.run([str(script)], check=False, stdout=subprocess.PIPE, text=True, env=_STARTED_WITH)


@contextmanager
def one_build_at_a_time() -> Iterator[None]:
    """Held while a ``tools/*/build`` runs: other test processes (xdist's workers, other runs) wait, then find it built."""
    with open(Path(tempfile.gettempdir()) / "terrane-tests-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def require(found: Path | str) -> Path:
    """The root, or skip the test (fail it in CI) with the reason."""
    if isinstance(found, Path):
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {found}", pytrace=False)
    pytest.skip(found)
