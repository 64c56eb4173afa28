"""``terrane accounts link|verify|list kubernetes``: an existing cluster, verified against a real API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.kubeconfigs import kubeconfig_text, service_account_token
from tests.helpers.project import SampleProject
from tests.helpers.real_kubernetes import ApiServer

PERMISSIONS = ("create namespaces", "create networkpolicies.networking.k8s.io", "create serviceaccounts")


def _link(cli, sample: SampleProject, name: str, kubeconfig: Path | str, *extra: str):
    return cli("--project", sample.root, "accounts", "link", "kubernetes", name, "--kubeconfig", f"file:{kubeconfig}",
               *extra)


@pytest.fixture
def no_rights(apiserver: ApiServer, tmp_path: Path) -> tuple[Path, str]:
    """A kubeconfig file of a service account that may do nothing, and its token."""
    token = service_account_token(apiserver, "accounts-cli-tests", "nobody")
    path = tmp_path / "nobody.kubeconfig"
    path.write_text(kubeconfig_text(apiserver.server, {"token": token}, ca=apiserver.directory / "ca.crt",
                                    context="nobody"))
    return path, token


@pytest.mark.kubernetes
def test_link_verifies_the_kubeconfig_with_the_cluster(sample: SampleProject, cli, apiserver: ApiServer) -> None:
    before = sample.load_accounts()["accounts"]
    result = _link(cli, sample, "onprem", apiserver.kubeconfig)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "onprem: verified as terrane-admin in current-context",
        *(f"  ok    {check}: allowed" for check in PERMISSIONS),
    ]
    assert result.stderr.strip() == "linked kubernetes account onprem (current-context) in accounts.yaml"
    accounts = sample.load_accounts()["accounts"]
    assert accounts["onprem"] == {"cloud": "kubernetes", "kubeconfig": {"file": str(apiserver.kubeconfig)}}
    assert {name: accounts[name] for name in before} == before
    key = (apiserver.directory / "admin.key").read_text().splitlines()[1]
    assert key not in (sample.root / "accounts.yaml").read_text() + result.stdout + result.stderr


@pytest.mark.kubernetes
def test_verify_json(sample: SampleProject, cli, apiserver: ApiServer) -> None:
    assert _link(cli, sample, "onprem", apiserver.kubeconfig, "--context", "terrane-test", "--no-verify").code == 0
    result = cli("--project", sample.root, "accounts", "verify", "onprem", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "account": "onprem",
        "cloud": "kubernetes",
        "verified": True,
        "identity": "terrane-admin",
        "account_id": "terrane-test",
        "note": f"groups: system:masters, system:authenticated; may create what terrane's bootstrap creates on "
                f"{apiserver.server}",
        "evidence": [{"check": check, "passed": True, "detail": "allowed"} for check in PERMISSIONS],
    }


def test_a_context_the_kubeconfig_does_not_have_is_invalid_input(sample: SampleProject, cli, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "lab.kubeconfig"
    kubeconfig.write_text(kubeconfig_text("https://127.0.0.1:1", {"token": "t0ken-never-shown"}, context="lab"))
    before = (sample.root / "accounts.yaml").read_bytes()
    result = _link(cli, sample, "lab", kubeconfig, "--context", "staging")
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr.splitlines() == [
        (f"error: accounts.yaml: accounts.lab.kubeconfig (file:{kubeconfig}): no context 'staging' in the "
         "kubeconfig (it has: lab)")]
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_an_unreachable_cluster_is_not_linked(sample: SampleProject, cli, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "lab.kubeconfig"
    kubeconfig.write_text(kubeconfig_text("https://127.0.0.1:1", {"token": "t0ken-never-shown"}))
    before = (sample.root / "accounts.yaml").read_bytes()
    result = _link(cli, sample, "lab", kubeconfig)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        (f"error: accounts.yaml: accounts.lab.kubeconfig (file:{kubeconfig}): cannot reach the Kubernetes API "
         "server https://127.0.0.1:1: connection refused")]
    assert (sample.root / "accounts.yaml").read_bytes() == before


@pytest.mark.kubernetes
def test_a_user_that_cannot_create_namespaces_is_not_verified(sample: SampleProject, cli, apiserver: ApiServer,
                                                                no_rights: tuple[Path, str]) -> None:
    kubeconfig, token = no_rights
    who = "system:serviceaccount:accounts-cli-tests:nobody"
    missing = (f"{who} cannot create namespaces, networkpolicies.networking.k8s.io, serviceaccounts on "
               f"{apiserver.server}: terrane's bootstrap creates them; bind it to a ClusterRole that allows it "
               "(cluster-admin does)")
    before = (sample.root / "accounts.yaml").read_bytes()
    refused = _link(cli, sample, "nobody", kubeconfig)
    assert refused.code == 1
    assert refused.stdout.splitlines()[0] == f"nobody: NOT verified: {missing}"
    assert refused.stdout.splitlines()[1].startswith("  FAIL  create namespaces: not allowed")
    assert refused.stderr.strip() == (f"error: account nobody was not linked: {missing}; fix its identity's "
                                      "permissions, or pass --no-verify to link it anyway")
    assert (sample.root / "accounts.yaml").read_bytes() == before

    assert _link(cli, sample, "nobody", kubeconfig, "--no-verify").code == 0
    result = cli("--project", sample.root, "accounts", "verify", "nobody", "--json")
    assert result.code == 1
    document = json.loads(result.stdout)
    assert {key: document[key] for key in ("account", "cloud", "verified", "identity", "account_id", "note")} == {
        "account": "nobody", "cloud": "kubernetes", "verified": False, "identity": who,
        "account_id": "current-context", "note": missing}
    assert [(item["check"], item["passed"]) for item in document["evidence"]] == [(c, False) for c in PERMISSIONS]
    assert token not in refused.stdout + refused.stderr + result.stdout + result.stderr
    assert token not in (sample.root / "accounts.yaml").read_text()


def test_list_shows_a_cluster_without_region_and_its_kubeconfig_reference(sample: SampleProject, cli) -> None:
    assert _link(cli, sample, "onprem", "~/.kube/onprem.yaml", "--context", "onprem-admin", "--no-verify").code == 0
    result = cli("--project", sample.root, "accounts", "list", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)["accounts"]}
    assert rows["onprem"] == {
        "name": "onprem", "cloud": "kubernetes", "account_id": "onprem-admin", "region": None,
        "auth": "kubeconfig (file:~/.kube/onprem.yaml)", "environments": [],
    }
    table = cli("--project", sample.root, "accounts", "list")
    assert table.code == 0
    assert ["onprem", "kubernetes", "onprem-admin", "-", "kubeconfig", "(file:~/.kube/onprem.yaml)", "-"] in [
        line.split() for line in table.stdout.splitlines()]


def test_doctor_checks_that_the_kubeconfig_reference_resolves(sample: SampleProject, cli, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "onprem.yaml"
    assert _link(cli, sample, "onprem", kubeconfig, "--no-verify").code == 0

    def check() -> dict[str, str]:
        result = cli("--project", sample.root, "doctor", "--json")
        assert "t0ken-never-shown" not in result.stdout + result.stderr
        return next(item for item in json.loads(result.stdout)["checks"] if item["name"] == "account onprem")

    assert check() == {"name": "account onprem", "status": "fail",
                       "detail": f"secret reference file:{kubeconfig}: cannot read {kubeconfig}: No such file or directory"}
    kubeconfig.write_text(kubeconfig_text("https://127.0.0.1:1", {"token": "t0ken-never-shown"}))
    assert check() == {"name": "account onprem", "status": "ok",
                       "detail": f"kubernetes, kubeconfig: file:{kubeconfig} resolves"}
