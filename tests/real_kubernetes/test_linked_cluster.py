"""A linked cluster end to end: the real CLI, the real pulumi-kubernetes provider, a real API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.real_kubernetes import ApiServer

NAMESPACES = ("web", "jobs")
WEB = "/api/v1/namespaces/web"
DEPLOYER = f"{WEB}/serviceaccounts/deployer"
JOBS_DENY = "/apis/networking.k8s.io/v1/namespaces/jobs/networkpolicies/default-deny"
ENFORCE = "pod-security.kubernetes.io/enforce"
URN = "urn:pulumi:local::terrane-local-cluster::terrane:kubernetes:Bootstrap$"


@pytest.fixture
def deployed(cluster: ApiServer, project: Path, cli) -> ApiServer:
    result = cli("up", "local", "--yes")
    assert result.code == 0, result.stderr
    return cluster


def _drift(cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("drift", "local", "--json", *args)
    assert result.code in (0, 2), result.stderr
    (env,) = json.loads(result.stdout)["environments"]
    return result.code, env


def _changes(env: dict[str, Any]) -> dict[str, tuple[str, dict[str, dict[str, Any]]]]:
    """Per drifted resource (by URN): its change, and its properties by path."""
    return {resource["urn"]: (resource["change"], {prop["path"]: prop for prop in resource["properties"]})
            for resource in env["resources"]}


def test_preview_shows_what_up_would_make_and_makes_nothing(cluster: ApiServer, project: Path, cli) -> None:
    result = cli("preview", "local", "--json")
    assert result.code == 0, result.stderr
    (env,) = json.loads(result.stdout)["results"]
    assert env["changes"]["create"] == 10  # the stack, the provider, the component and its 7 objects
    assert cluster.get(WEB) is None


def test_up_bootstraps_the_linked_cluster(deployed: ApiServer) -> None:
    for name in NAMESPACES:
        namespace = deployed.get(f"/api/v1/namespaces/{name}")
        assert namespace is not None, name
        labels = namespace["metadata"]["labels"]
        assert labels[ENFORCE] == "restricted"
        assert labels["terrane-environment"] == "local"
        assert labels["app.kubernetes.io/managed-by"] == "terrane"
        assert labels["cost-center"] == "platform"  # a tag, as a label
        policies = deployed.get(f"/apis/networking.k8s.io/v1/namespaces/{name}/networkpolicies")
        assert sorted(policy["metadata"]["name"] for policy in policies["items"]) == ["allow-dns", "default-deny"]
    web = deployed.get(WEB)["metadata"]
    assert web["labels"]["team"] == "web"
    assert web["annotations"]["owner"] == "web@example.com"
    deny = deployed.get(JOBS_DENY)["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    deployer = deployed.get(DEPLOYER)
    assert deployer["automountServiceAccountToken"] is False


def test_drift_names_each_change_and_remediation_puts_it_back(deployed: ApiServer, cli, project: Path) -> None:
    deployed.request("PATCH", WEB, {"metadata": {"labels": {ENFORCE: "privileged"}}})
    deployed.request("PATCH", JOBS_DENY, {"spec": {"policyTypes": ["Ingress"]}})
    deployed.request("DELETE", DEPLOYER)

    code, env = _drift(cli)
    assert (code, env["status"]) == (2, "drifted")
    changes = _changes(env)
    change, properties = changes[f"{URN}kubernetes:core/v1:Namespace::local-web"]
    assert change == "update"
    (path,) = [path for path in properties if ENFORCE in path]
    assert (properties[path]["expected"], properties[path]["actual"]) == ("restricted", "privileged")
    change, properties = changes[f"{URN}kubernetes:networking.k8s.io/v1:NetworkPolicy::local-jobs-default-deny"]
    assert change == "update"
    assert any(path.startswith("spec.policyTypes") for path in properties)
    assert changes[f"{URN}kubernetes:core/v1:ServiceAccount::local-web-deployer"][0] == "delete"
    assert len(changes) == 3

    remediated = cli("drift", "local", "--remediate", "up")
    assert remediated.code == 2, remediated.stderr  # the drift it found; the up that followed put it back
    assert deployed.get(WEB)["metadata"]["labels"][ENFORCE] == "restricted"
    assert deployed.get(JOBS_DENY)["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert deployed.get(DEPLOYER) is not None
    assert _drift(cli) == (0, {**_drift(cli)[1], "status": "in_sync", "resources": []})


def test_a_label_terrane_does_not_set_is_not_drift(deployed: ApiServer, cli) -> None:
    """The provider reads back only the fields terrane applied: another manager's label is theirs to keep."""
    deployed.request("PATCH", WEB, {"metadata": {"labels": {"owner": "someone"}}})
    code, env = _drift(cli)
    assert (code, env["status"], env["resources"]) == (0, "in_sync", [])


def test_status_report_then_destroy(deployed: ApiServer, cli, tmp_path: Path) -> None:
    status = cli("status", "--json")
    assert status.code == 0, status.stderr
    (row,) = json.loads(status.stdout)["environments"]
    assert (row["environment"], row["cloud"], row["account"]) == ("local", "kubernetes", "local")
    assert row["last_update"]["resources"] >= 9  # the stack, the provider, the component and its 7 objects
    page = tmp_path / "report.html"
    report = cli("report", "--html", page)
    assert report.code == 0, report.stderr
    # The stack's own history says what its newest update was and how it ended.
    assert '<span class="muted">update succeeded</span>' in page.read_text()

    destroyed = cli("destroy", "local", "--yes")
    assert destroyed.code == 0, destroyed.stderr
    for name in NAMESPACES:
        assert deployed.get(f"/api/v1/namespaces/{name}") is None, name


def test_after_the_api_server_restarts_on_new_ports_terrane_follows(
    deployed: ApiServer, kubernetes_root: Path, cli
) -> None:
    """The account identifies the cluster, not its address; destroy reaches it through the current kubeconfig."""
    deployed.stop()
    restarted = ApiServer.start(kubernetes_root, deployed.directory)  # its etcd data, on new ports
    try:
        assert restarted.server != deployed.server
        preview = cli("preview", "local", "--json")
        assert preview.code == 0, preview.stderr
        (env,) = json.loads(preview.stdout)["results"]
        assert env["changes"] == {"same": 9, "update": 1}  # the provider's new kubeconfig, nothing replaced
        destroyed = cli("destroy", "local", "--yes")
        assert destroyed.code == 0, destroyed.stderr
        assert restarted.get(WEB) is None
    finally:
        restarted.stop()


@pytest.mark.parametrize("command", ["up", "drift"])
def test_an_unreachable_api_server_is_one_line_and_exit_1(cluster: ApiServer, project: Path, cli,
                                                          command: str) -> None:
    if command == "drift":
        assert cli("up", "local", "--yes").code == 0
    cluster.stop()
    result = cli(command, "local", *(["--yes"] if command == "up" else []))
    assert result.code == 1, result.stdout + result.stderr
    # up says it as its error; drift in its report, the environment's row, as for any it could not check.
    (line,) = (result.stderr if command == "up" else result.stdout).strip().splitlines()[:1]
    assert result.stderr.strip().count("\n") == 0
    assert f"cannot reach the Kubernetes API server {cluster.server}" in line
    assert "accounts.local.kubeconfig" in line


def test_a_kubeconfig_that_does_not_resolve_is_exit_3_and_nothing_runs(project: Path, cli) -> None:
    accounts = yaml.safe_load((project / "accounts.yaml").read_text())
    accounts["accounts"]["local"]["kubeconfig"] = {"file": "~/no/such/kubeconfig"}
    (project / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    result = cli("up", "local", "--yes")
    assert result.code == 3
    (line,) = result.stderr.strip().splitlines()
    assert "file:~/no/such/kubeconfig" in line
    assert not (project / ".terrane" / "state").exists()
