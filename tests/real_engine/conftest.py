"""The real Pulumi CLI, a project whose stacks run the test cloud's program, and that cloud.

Every test here goes through terrane's production path (the CLI in-process, a
worker process per environment, the allow-listed environment, stack config with
secrets, gRPC-streamed events); only the program differs: ``tests.helpers.testcloud``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import runs
from tests.helpers.processes import descendants
from tests.helpers.project import REPO, SENTINEL, SENTINEL_AZURE_SECRET, SENTINEL_GCP_KEY, SampleProject
from tests.helpers.testcloud import TestCloud, cloud_of

PROGRAM = "tests.helpers.testcloud:program"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.pulumi_cli)


@pytest.fixture
def project(sample: SampleProject, pulumi_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SampleProject:
    """The sample project, run by the real CLI with the test cloud's program; secrets are sentinels."""
    operator = tmp_path / "operator"
    (operator / ".config" / "terrane").mkdir(parents=True)
    (operator / ".config" / "terrane" / "gcp-sa.json").write_text(SENTINEL_GCP_KEY)
    monkeypatch.setenv("HOME", str(operator))
    monkeypatch.setenv("TERRANE_PULUMI_ROOT", str(pulumi_root))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    monkeypatch.setenv("TERRANE_PROJECT", str(sample.root))
    monkeypatch.setenv("TERRANE_PROGRAM", PROGRAM)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("TERRANE_AWS_EXTERNAL_ID", SENTINEL)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SENTINEL_AZURE_SECRET)
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "TERRANE_BACKEND_URL",
                 "TERRANE_SECRETS_PROVIDER", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    return sample


@pytest.fixture
def cloud(project: SampleProject) -> TestCloud:
    return TestCloud(cloud_of(project.root))


@pytest.fixture
def terrane() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``terrane ARGS...`` as its own process (its own process group); kill what is left at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        started.append(runs.start(*args))
        return started[-1]

    yield start
    for process in started:
        for pid in descendants(process.pid) + [process.pid]:
            runs.kill(pid)
        process.communicate()
