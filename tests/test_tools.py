"""The pinned tools of tools/: one version of the Pulumi CLI, not older than the SDK terrane runs."""

from __future__ import annotations

import re
from importlib import metadata

from tests.helpers.project import REPO


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
    go_mod = (REPO / "tools" / "kubernetes" / "modules" / "kube-apiserver" / "go.mod").read_text()
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
