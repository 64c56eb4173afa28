"""The example project of a linked cluster (``examples/local-cluster``), run for real.

Each test gets an API server with no namespace but the system's, found where the
README tells a newcomer to start one (``~/.cache/terrane/apiserver``, under a
temporary HOME), so the example's accounts.yaml is used as shipped. The server is
the test process's own, emptied between tests and started again after a test that
stopped it. The real Pulumi CLI runs terrane's own program with the real
pulumi-kubernetes provider, found on PATH.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.project import REPO, copy_tracked
from tests.helpers.real_kubernetes import ApiServer, Clusters

EXAMPLE = REPO / "examples" / "local-cluster"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.pulumi_cli)
            item.add_marker(pytest.mark.kubernetes)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture(scope="session")
def clusters(kubernetes_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clusters]:
    started = Clusters(kubernetes_root, lambda: tmp_path_factory.mktemp("cluster"))
    yield started
    started.stop()


@pytest.fixture
def cluster(clusters: Clusters, home: Path) -> ApiServer:
    """An empty API server, its directory at ``~/.cache/terrane/apiserver``."""
    server = clusters.fresh()
    link = home / ".cache" / "terrane" / "apiserver"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(server.directory, target_is_directory=True)
    return server


@pytest.fixture
def project(pulumi_root: Path, kubernetes_root: Path, home: Path, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project, the current one for ``terrane``, with the real CLI and provider."""
    root = tmp_path / "project"
    copy_tracked(EXAMPLE, root)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TERRANE_PULUMI_ROOT", str(pulumi_root))
    monkeypatch.setenv("PATH", f"{kubernetes_root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    monkeypatch.setenv("TERRANE_PROJECT", str(root))
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "TERRANE_BACKEND_URL",
                 "TERRANE_SECRETS_PROVIDER", "PULUMI_BACKEND_URL", "TERRANE_PROGRAM", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    return root
