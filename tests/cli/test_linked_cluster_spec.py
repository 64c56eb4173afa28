"""Environments on a linked cluster (cloud: kubernetes): what they take, what they refuse, and their offline plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.project import REPO, SampleProject, copy_tracked

ENV = "environments/local.yaml"


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    copy_tracked(REPO / "examples" / "local-cluster", root)
    return root


def _edit(root: Path, edit: Any) -> None:
    path = root / ENV
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _web(data: dict[str, Any]) -> dict[str, Any]:
    web: dict[str, Any] = data["kubernetes"]["namespaces"][0]
    return web


CASES = {
    "a network": (lambda d: d.update(network={"cidr": "10.0.0.0/16"}), ("network: a linked cluster (cloud: kubernetes) "
                  "takes only kubernetes, tags, protect and drift; remove network:")),
    "a cluster": (lambda d: d.update(cluster={}), "cluster: a linked cluster"),
    "secrets": (lambda d: d.update(secrets={"names": ["db"]}), "secrets: a linked cluster"),
    "a region": (lambda d: d.update(region="us-east-1"), "region: a linked cluster"),
    "no namespaces": (lambda d: d.pop("kubernetes"), ("kubernetes: an environment on a linked cluster needs a "
                      "kubernetes section (its namespaces)")),
    "a tag that is no label": (lambda d: d["tags"].update({"cost center": "x"}),
                               "tags.cost center: tags are labels on a linked cluster: a Kubernetes key is a name"),
    "a tag value that is no label": (lambda d: d["tags"].update({"team": "web team"}),
                                     "tags.team: tags are labels on a linked cluster: a Kubernetes label value"),
    "terrane's own label": (lambda d: d["tags"].update({"terrane-environment": "x"}),
                            "tags.terrane-environment: tags are labels on a linked cluster: terrane sets this label"),
    "a pod-security tag": (lambda d: d["tags"].update({"pod-security.kubernetes.io/warn": "baseline"}),
                           ("tags.pod-security.kubernetes.io/warn: tags are labels on a linked cluster: terrane sets "
                           "this label itself")),
    "the default service account": (lambda d: _web(d).update(service_accounts=["default"]),
                                    ("kubernetes.namespaces[0].service_accounts: Kubernetes makes the 'default' "
                                    "service account in every namespace itself")),
    "a weaker pod security": (lambda d: _web(d)["labels"].update({"pod-security.kubernetes.io/enforce": "baseline"}),
                              ("kubernetes.namespaces[0].labels: pod-security.kubernetes.io/enforce: terrane sets the "
                              "pod-security labels itself (restricted)")),
    "an annotation key": (lambda d: _web(d)["annotations"].update({"-owner": "x"}),
                          "kubernetes.namespaces[0].annotations: -owner: a Kubernetes key is a name"),
    "a service account twice": (lambda d: _web(d).update(service_accounts=["deployer", "deployer"]),
                                "kubernetes.namespaces[0].service_accounts: duplicate service account 'deployer'"),
    "an unknown namespace field": (lambda d: _web(d).update(quota="1"),
                                   "kubernetes.namespaces[0].quota: unknown field"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_linked_cluster_environment_is_refused_before_anything_runs(linked: Path, cli, case: str) -> None:
    edit, expected = CASES[case]
    _edit(linked, edit)
    for command in (("envs", "validate", "local"), ("up", "local", "--yes")):
        result = cli("--project", linked, *command)
        assert result.code == 3, result.stdout + result.stderr
        assert f"{ENV}: {expected}" in result.stderr
    assert not (linked / ".terrane").exists()


def test_a_service_account_may_not_take_the_secrets_readers_name(sample: SampleProject, cli) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["kubernetes"]["namespaces"] = [{"name": "apps", "service_accounts": ["secrets-reader"]}]

    sample.edit_env("aws-dev", edit)
    result = cli("--project", sample.root, "envs", "validate", "aws-dev")
    assert result.code == 3
    assert ("kubernetes.namespaces[0].service_accounts: 'secrets-reader' is the service account terrane makes to read "
            "the environment's secrets") in result.stderr


@pytest.mark.pulumi_cli
def test_a_context_the_kubeconfig_lacks_is_exit_3_and_nothing_runs(linked: Path, tmp_path: Path, cli, pulumi_root: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "home" / ".cache" / "terrane" / "apiserver" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "one",
        "clusters": [{"name": "one", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "one", "user": {"token": "a-token-never-shown"}}],
        "contexts": [{"name": "one", "context": {"cluster": "one", "user": "one"}}],
    }))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TERRANE_PULUMI_ROOT", str(pulumi_root))
    accounts = yaml.safe_load((linked / "accounts.yaml").read_text())
    accounts["accounts"]["local"]["context"] = "two"
    (linked / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    result = cli("--project", linked, "up", "local", "--yes")
    assert result.code == 3
    (line,) = result.stderr.strip().splitlines()
    assert "accounts.yaml: accounts.local.kubeconfig (file:~/.cache/terrane/apiserver/kubeconfig)" in line
    assert "'two'" in line and "a-token-never-shown" not in line
    assert not (linked / ".terrane").exists()


def test_the_offline_plan_of_a_linked_cluster(linked: Path, cli) -> None:
    result = cli("--project", linked, "plan", "local", "--json")
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert (plan["cloud"], plan["account"], plan["region"]) == ("kubernetes", "local", None)
    types = sorted(resource["type"] for resource in plan["resources"] if resource["custom"])
    assert types == ["kubernetes:core/v1:Namespace"] * 2 + ["kubernetes:core/v1:ServiceAccount"] + [
        "kubernetes:networking.k8s.io/v1:NetworkPolicy"] * 4 + ["pulumi:providers:kubernetes"]
    (provider,) = [resource for resource in plan["resources"] if resource["type"] == "pulumi:providers:kubernetes"]
    assert "not read offline" not in json.dumps(provider)  # the stand-in kubeconfig is secret, never shown
    assert plan["outputs"]["namespaces"] == ["web", "jobs"]
