"""The pinned tools of tools/: one version of the Pulumi CLI, not older than the SDK terrane runs, a
Kubernetes API server that starts, serves and stops as a developer's would, and a venv of the floors that
says so when there are none to install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from tests.helpers.processes import descendants
from tests.helpers.project import REPO
from tests.helpers.real_kubernetes import ApiServer


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_cli_pin_is_one_version_not_older_than_the_sdk() -> None:
    go_mod = (REPO / "tools" / "pulumi" / "go.mod").read_text()
    pins = dict(re.findall(r"^\s*github\.com/pulumi/pulumi/(pkg|sdk)/v3 v(\S+)$", go_mod, re.MULTILINE))
    assert set(pins) == {"pkg", "sdk"} and pins["pkg"] == pins["sdk"]
    assert _version(pins["pkg"]) >= _version(metadata.version("pulumi"))
    # pkg/go.mod's replace of its own ../sdk would not resolve outside Pulumi's repository.
    assert "=> ../sdk" not in go_mod and "replace github.com/atotto/clipboard =>" in go_mod


def test_the_api_server_pins_its_staging_modules_to_the_matching_release() -> None:
    go_mod = (REPO / "tools" / "kubernetes" / "modules" / "kubernetes" / "go.mod").read_text()
    (kubernetes,) = re.findall(r"^(?:require)?\s*k8s\.io/kubernetes v1\.(\d+\.\d+)$", go_mod, re.MULTILINE)
    replaces = re.findall(r"^replace (k8s\.io/\S+) => (k8s\.io/\S+) v0\.(\d+\.\d+)$", go_mod, re.MULTILINE)
    # Every staging module k8s.io/kubernetes replaces with ./staging/src/k8s.io/NAME, at v0.<its minor.patch>.
    assert len(replaces) >= 30
    assert all(module == target and version == kubernetes for module, target, version in replaces)


def test_the_kubernetes_provider_is_built_with_a_released_sdk() -> None:
    go_mod = (REPO / "tools" / "kubernetes" / "modules" / "provider" / "go.mod").read_text()
    pins = dict(re.findall(r"^\s*github\.com/pulumi/pulumi-kubernetes/(provider|sdk)/v4 (v\S+)$", go_mod, re.MULTILINE))
    assert set(pins) == {"provider", "sdk"}
    assert re.fullmatch(r"v4\.\d+\.\d+", pins["sdk"])  # a release, not the monorepo path the provider replaces it with


@pytest.mark.kubernetes
def test_the_api_server_serves_finalizes_namespaces_and_stops_leaving_no_process(
    kubernetes_root: Path, tmp_path: Path
) -> None:
    server = ApiServer.start(kubernetes_root, tmp_path / "apiserver")
    try:
        servers = descendants(server.process.pid)
        assert len(servers) == 3  # etcd, kube-apiserver, kube-controller-manager
        server.request("POST", "/api/v1/namespaces", {"metadata": {"name": "short-lived"}})
        server.request("DELETE", "/api/v1/namespaces/short-lived")
        # Only the controller manager's namespace controller takes a deleted namespace away.
        deadline = time.monotonic() + 60
        while server.get("/api/v1/namespaces/short-lived") is not None:
            assert time.monotonic() < deadline, "the namespace was never finalized"
            time.sleep(0.5)
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not [pid for pid in servers if os.path.exists(f"/proc/{pid}")]


def _floors_venv(tmp_path: Path, dependencies: list[str]) -> subprocess.CompletedProcess[str]:
    """tools/floors/venv, run in a project of its own whose runtime dependencies are ``dependencies``."""
    tool = tmp_path / "project" / "tools" / "floors" / "venv"
    tool.parent.mkdir(parents=True)
    shutil.copy(REPO / "tools" / "floors" / "venv", tool)
    (tmp_path / "project" / "pyproject.toml").write_text(
        f'[project]\nname = "floors"\nversion = "0"\ndependencies = {json.dumps(dependencies)}\n')
    return subprocess.run([sys.executable, str(tool)], capture_output=True, text=True, check=False,
                          env={**os.environ, "TERRANE_TOOLS_CACHE": str(tmp_path / "cache")})


def test_the_floors_venv_refuses_a_dependency_without_a_floor(tmp_path: Path) -> None:
    made = _floors_venv(tmp_path, ["click>=8.1", "rich"])
    assert made.returncode == 1
    assert made.stdout == ""  # no path for .ci/run to take
    assert "'rich' has no floor" in made.stderr


def test_the_floors_venv_fails_loudly_when_the_floors_cannot_be_installed_together(tmp_path: Path) -> None:
    made = _floors_venv(tmp_path, ["Jinja2>=3.1", "MarkupSafe>=1.1"])  # Jinja2 3.1.0 needs MarkupSafe 2.0 or newer
    assert made.returncode == 1
    assert made.stdout == ""
    assert "ResolutionImpossible" in made.stderr
    assert "pip cannot install the floors together" in made.stderr.splitlines()[-1]
