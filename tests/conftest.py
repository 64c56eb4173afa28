"""Shared fixtures: a copy of the sample project, and the CLI run in-process."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from terrane.engine.cli import main
from tests.helpers import real_cli
from tests.standin import ROOT, StandIn

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class SampleProject:
    """A temporary copy of the repository's sample project, safe to edit."""

    root: Path

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


@pytest.fixture
def sample(tmp_path: Path) -> SampleProject:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "accounts.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "environments", root / "environments")
    return SampleProject(root)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``terrane ARGS...`` in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


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

EXTERNAL_ID = "ext-id-value-7f3a"
AZURE_SECRET = "azure-client-secret-9c1d"
GCP_KEY = json.dumps({"type": "service_account", "project_id": "sandbox-project-123",
                      "client_email": "terrane@sandbox-project-123.iam.gserviceaccount.com", "private_key": "k-5e2b"})
STANDIN_SECRETS = (EXTERNAL_ID, AZURE_SECRET, "k-5e2b")


@pytest.fixture
def standin(sample: SampleProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    home = tmp_path / "pulumi-home"
    home.mkdir()
    operator_home = tmp_path / "operator"
    (operator_home / ".config" / "terrane").mkdir(parents=True)
    (operator_home / ".config" / "terrane" / "gcp-sa.json").write_text(GCP_KEY)
    monkeypatch.setenv("HOME", str(operator_home))
    monkeypatch.setenv("TERRANE_PULUMI_ROOT", str(ROOT))
    monkeypatch.setenv("PULUMI_HOME", str(home))
    monkeypatch.setenv("TERRANE_PROJECT", str(sample.root))
    monkeypatch.setenv("TERRANE_AWS_EXTERNAL_ID", EXTERNAL_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", AZURE_SECRET)
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "TERRANE_BACKEND_URL",
                 "TERRANE_SECRETS_PROVIDER", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    # The operator's own credentials, which must not reach another cloud's stack.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATOR")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator-aws-secret")
    monkeypatch.setenv("ARM_CLIENT_SECRET", "operator-arm-secret")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(operator_home / "adc.json"))
    return StandIn(home)


@pytest.fixture(scope="session")
def pulumi_root(pytestconfig: pytest.Config) -> Path:
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # a first build takes minutes: show it
        found = real_cli.find_or_build()
    return real_cli.require(found)
