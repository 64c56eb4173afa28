"""The repository's sample project, copied for a test to edit, and what a CLI run returns."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def tracked(root: Path, *patterns: str) -> list[Path]:
    """The files under ``root`` that git tracks (those matching ``patterns``, if given), relative to it.

    Never what a user's own runs leave in the checkout: the README's flows write
    ``.terrane/`` and ``Pulumi.<env>.yaml`` into the projects they run, and a
    user may add an environment of their own.
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--", *(patterns or ["."])], cwd=root, capture_output=True,
                            check=True).stdout.decode()
    return [Path(name) for name in listed.split("\0") if name]


def copy_tracked(source: Path, target: Path) -> Path:
    """A copy of ``source`` at ``target``, of the files git tracks and nothing else."""
    for relative in tracked(source):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target / relative)
    return target


SAMPLE_ENVIRONMENTS = tuple(
    (REPO / path.parent.parent, path.stem) for path in tracked(REPO, "environments/*.yaml", "examples/*/environments/*.yaml")
)
"""Every sample environment, as (its project's root, its name): the repository's and each example's."""


@dataclass(frozen=True)
class Result:
    """A ``terrane`` run: exit code, stdout and stderr."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class SampleProject:
    """A temporary copy of the repository's sample project, safe to edit."""

    root: Path

    @classmethod
    def copy_to(cls, root: Path) -> SampleProject:
        root.mkdir()
        for relative in tracked(REPO, "Pulumi.yaml", "accounts.yaml", "environments"):
            (root / relative).parent.mkdir(exist_ok=True)
            shutil.copy(REPO / relative, root / relative)
        return cls(root)

    def env_path(self, name: str) -> Path:
        return self.root / "environments" / f"{name}.yaml"

    def load_env(self, name: str = "aws-dev") -> dict[str, Any]:
        return yaml.safe_load(self.env_path(name).read_text())

    def write_env(self, name: str, data: dict[str, Any]) -> None:
        self.env_path(name).write_text(yaml.safe_dump(data, sort_keys=False))

    def edit_env(self, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
        data = self.load_env(name)
        edit(data)
        self.write_env(name, data)

    def load_accounts(self) -> dict[str, Any]:
        return yaml.safe_load((self.root / "accounts.yaml").read_text())

    def write_accounts(self, data: dict[str, Any]) -> None:
        (self.root / "accounts.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


# The secrets the sample accounts reference, as the stand-in tests provide them.
EXTERNAL_ID = "ext-id-value-7f3a"
AZURE_SECRET = "azure-client-secret-9c1d"
ACR_READER_SECRET = "acr-reader-secret-3b8e"
GCP_KEY = json.dumps({"type": "service_account", "project_id": "sandbox-project-123",
                      "client_email": "terrane@sandbox-project-123.iam.gserviceaccount.com", "private_key": "k-5e2b"})
STANDIN_SECRETS = (EXTERNAL_ID, AZURE_SECRET, ACR_READER_SECRET, "k-5e2b")

# The same secrets as the real-engine tests provide them: sentinels that must appear in no file, output or report.
SENTINEL = "sentinel-0f9e8d7c-external-id"
SENTINEL_AZURE_SECRET = "sentinel-azure-client-secret-41b2"
SENTINEL_GCP_KEY = '{"type": "service_account", "private_key": "sentinel-gcp-key-77aa"}'
SENTINELS = (SENTINEL, SENTINEL_AZURE_SECRET, "sentinel-gcp-key-77aa")
