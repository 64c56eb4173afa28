"""Shared fixtures: a copy of the sample project, the CLI run in-process, moto, the stand-in, the real CLI,
a real Kubernetes API server and the floors' venv; and the order the tests run in (the slow directories first).

What they build on lives in ``tests.helpers``; tests import from there, never from here.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from terrane.engine.cli import main
from tests.helpers import emulators, floors, real_cli, real_kubernetes
from tests.helpers import webhook as webhooks
from tests.helpers.project import Result, SampleProject
from tests.standin import StandIn, standin_for

SLOW_FIRST = ("real_kubernetes", "real_engine", "browser", "fuzz", "floors")
"""The directories whose files take minutes, run first: the workers then end the suite on short files."""


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        top = Path(item.path).relative_to(tests).parts[0]
        return SLOW_FIRST.index(top) if top in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: within a rank, the files and their tests keep their order


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core, and one more. Most of the slow tests wait on a real CLI, API server or
    browser for much of their time, which the extra worker fills (two cores here: 8 min 40 s with three
    workers, against 9 min 44 s with two)."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture
def sample(tmp_path: Path) -> SampleProject:
    return SampleProject.copy_to(tmp_path / "project")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``terrane ARGS...`` in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def webhook() -> Iterator[tuple[str, webhooks.Hooks]]:
    """A chat webhook on 127.0.0.1: its URL, and what it received."""
    with webhooks.serving() as served:
        yield served


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 (a free port), for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 pointed at a freshly reset moto server, with dummy base credentials."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).close()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATORTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator-testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return moto_server


# --- the stand-in Pulumi CLI, with the sample accounts' secrets in place ---------------------

@pytest.fixture
def standin(sample: SampleProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    return standin_for(sample, tmp_path, monkeypatch)


@pytest.fixture(scope="session")
def pulumi_root(pytestconfig: pytest.Config) -> Path:
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # a first build takes minutes: show it
        found = real_cli.find_or_build()
    return real_cli.require(found)


@pytest.fixture(scope="session")
def floor_venv() -> Path:
    """The venv of tools/floors/venv: the lowest versions pyproject.toml admits, and this repository's terrane."""
    return real_cli.require(floors.find())


@pytest.fixture(scope="session")
def kubernetes_root(pytestconfig: pytest.Config) -> Path:
    """Where the built kube-apiserver, etcd and pulumi-resource-kubernetes are (``bin/``)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # a first build takes many minutes: show it
        found = real_kubernetes.find_or_build()
    return real_cli.require(found)


@pytest.fixture(scope="session")
def emulators_root(pytestconfig: pytest.Config) -> Path:
    """Where Azurite and fake-gcs-server are installed (``bin/``), by ``tools/emulators/install``."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # a first install takes a few minutes: show it
        found = emulators.find_or_install()
    return real_cli.require(found)


@pytest.fixture(scope="session")
def azurite(emulators_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulators.Emulator]:
    """Azurite's blob service on 127.0.0.1, one per test process; tests keep to containers of their own."""
    server = emulators.start_azurite(emulators_root, tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs(emulators_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulators.Emulator]:
    """fake-gcs-server on 127.0.0.1, one per test process; tests keep to buckets of their own."""
    server = emulators.start_fake_gcs(emulators_root, tmp_path_factory.mktemp("fake-gcs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def apiserver(kubernetes_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[real_kubernetes.ApiServer]:
    """One real API server per test process; tests keep to namespaces of their own."""
    server = real_kubernetes.ApiServer.start(kubernetes_root, tmp_path_factory.mktemp("apiserver"))
    yield server
    server.stop()
