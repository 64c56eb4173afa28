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


@pytest.mark.parametrize("script", ["pulumi/build", "kubernetes/build"])
def test_builds_into_one_root_take_turns(script: str, tmp_path: Path) -> None:
    """Two builds at once (CI and a checkout's tests) once raced on one partial binary: the second now waits."""
    stub = tmp_path / "stub"
    stub.mkdir()
    # A go that answers version queries, and builds by taking a while to write its -o output.
    (stub / "go").write_text("""#!/usr/bin/env bash
case "$1" in
  list) echo v0.0.0-stub ;;
  mod) if [[ "$2" == download ]]; then printf '\t"Dir": "%s",\n' "$STUB_MODULE"; fi ;;
  build) while [[ "$1" != -o ]]; do shift; done; out="$2"; echo started >> "$STUB_LOG"; sleep 1
         # -o DIR/ writes each main package's binary into DIR, by the package's last element.
         if [[ "$out" == */ ]]; then targets=(); for a in "$@"; do [[ "$a" == */cmd/* ]] && targets+=("$out${a##*/}"); done
         else targets=("$out"); fi
         for target in "${targets[@]}"; do printf '#!/bin/sh\\necho v0.0.0-stub\\n' > "$target"; chmod +x "$target"; done
         echo done >> "$STUB_LOG" ;;
  *) exit 0 ;;
esac
""")
    (stub / "go").chmod(0o755)
    (stub / "install").write_text("#!/bin/sh\nexit 0\n")
    (stub / "install").chmod(0o755)
    module = tmp_path / "module"  # the provider's module, as go mod download would give its directory
    (module / "cmd" / "pulumi-resource-kubernetes").mkdir(parents=True)
    (module / "go.sum").write_text("")
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}", "TERRANE_TOOLS_CACHE": str(tmp_path / "cache"),
           "STUB_LOG": str(tmp_path / "log"), "STUB_MODULE": str(module)}
    runs = [subprocess.Popen([REPO / "tools" / script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    roots = {stdout.splitlines()[-1] for stdout, _ in outputs}
    assert len(roots) == 1
    log = (tmp_path / "log").read_text().split()
    assert log == ["started", "done"] * (len(log) // 2), "two builds ran at once"
    assert any("waiting for another build" in stderr for _, stderr in outputs)


def _floors_venv(tmp_path: Path, dependencies: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """tools/floors/venv, run in a project of its own whose runtime dependencies are ``dependencies``."""
    tool = tmp_path / "project" / "tools" / "floors" / "venv"
    tool.parent.mkdir(parents=True)
    shutil.copy(REPO / "tools" / "floors" / "venv", tool)
    (tmp_path / "project" / "pyproject.toml").write_text(
        f'[project]\nname = "floors"\nversion = "0"\ndependencies = {json.dumps(dependencies)}\n')
    return subprocess.run([sys.executable, str(tool), *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "TERRANE_TOOLS_CACHE": str(tmp_path / "cache")})


def test_the_floors_venv_refuses_a_flag_in_one_line_and_makes_nothing(tmp_path: Path) -> None:
    made = _floors_venv(tmp_path, ["click>=8.1"], "--bogus")
    assert (made.returncode, made.stdout) == (3, "")
    assert made.stderr.splitlines() == ["tools/floors/venv: takes no arguments, got --bogus"]
    assert not (tmp_path / "cache").exists()


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
