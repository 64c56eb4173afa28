"""``terrane adopt`` then ``up`` on a real cluster: objects made before terrane are taken over, not made again.

The objects a Terraform state describes are made first, out of band, as Terraform
would have made them; then the real engine, with the real pulumi-kubernetes
provider, imports them. (The test cloud's Python dynamic resources cannot be
imported by Pulumi at all, pulumi/pulumi#16175, so adoption is proven here.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from terrane.engine.tfstate import read_state
from tests.helpers.project import REPO
from tests.helpers.real_kubernetes import ApiServer

STATE = REPO / "tests" / "fixtures" / "tfstate" / "kubernetes.tfstate"
# Where each kind the state holds lives in the API.
_COLLECTIONS = {
    "kubernetes_namespace_v1": "/api/v1/namespaces",
    "kubernetes_namespace": "/api/v1/namespaces",
    "kubernetes_service_account_v1": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "kubernetes_service_account": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "kubernetes_network_policy_v1": "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
    "kubernetes_network_policy": "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
}
_KINDS = {"namespace": ("v1", "Namespace"), "service_account": ("v1", "ServiceAccount"),
          "network_policy": ("networking.k8s.io/v1", "NetworkPolicy")}


def _made_by_terraform(cluster: ApiServer) -> dict[str, str]:
    """Make what the state describes, namespaces first; the uid of each object, by its API path."""
    resources = [r for r in read_state(STATE).resources if r.type in _COLLECTIONS]
    resources.sort(key=lambda r: not r.type.startswith("kubernetes_namespace"))
    uids = {}
    for resource in resources:
        metadata = resource.attributes["metadata"][0]
        kind = resource.type.removeprefix("kubernetes_").removesuffix("_v1")
        api_version, kind_name = _KINDS[kind]
        body: dict[str, Any] = {"apiVersion": api_version, "kind": kind_name,
                                "metadata": {"name": metadata["name"], "labels": metadata.get("labels") or {}}}
        if kind == "network_policy":
            body["spec"] = {"podSelector": {}, "policyTypes": ["Ingress"]}
        collection = _COLLECTIONS[resource.type].format(namespace=metadata.get("namespace"))
        made = cluster.request("POST", collection, body)
        uids[f"{collection}/{metadata['name']}"] = made["metadata"]["uid"]
    return uids


def test_adopt_then_up_takes_the_objects_over_without_making_them_again(cluster: ApiServer, project: Path,
                                                                         cli) -> None:
    uids = _made_by_terraform(cluster)
    assert "/api/v1/namespaces/web" in uids

    adopted = cli("adopt", "local", "--from-tfstate", str(STATE), "--json")
    assert adopted.code == 0, adopted.stderr
    report = json.loads(adopted.stdout)
    assert report["written"] == "imports/local.json"
    by_name = {item["name"]: item for item in report["imports"]}
    assert by_name["local-web"]["id"] == "web"
    assert by_name["local-web-deployer"]["id"] == "web/deployer"
    assert report["unmatched"], "the state's objects terrane does not manage are listed, not adopted"
    plan_file = project / "imports" / "local.json"
    assert json.loads(plan_file.read_text())["imports"] == report["imports"]

    planned = json.loads(cli("plan", "local", "--json").stdout)
    importing = {r["name"]: r["import_id"] for r in planned["resources"] if r["import_id"]}
    assert importing == {name: item["id"] for name, item in by_name.items()}

    previewed = cli("preview", "local")
    assert previewed.code == 0, previewed.stderr
    assert "=  import   kubernetes:core/v1:Namespace local-web" in previewed.stdout

    up = cli("up", "local", "--yes", "--json")
    assert up.code == 0, up.stderr
    (result,) = json.loads(up.stdout)["results"]
    assert result["changes"]["import"] == len(by_name)
    assert not plan_file.exists(), "a successful up clears the import plan"
    for path, uid in uids.items():
        found = cluster.get(path)
        assert found is not None and found["metadata"]["uid"] == uid, f"{path} was made again"
    web = cluster.get("/api/v1/namespaces/web")["metadata"]["labels"]
    assert web["app.kubernetes.io/managed-by"] == "terrane"
    assert web["pod-security.kubernetes.io/enforce"] == "restricted"

    again = json.loads(cli("preview", "local", "--json").stdout)["results"][0]
    assert [step for step in again["planned"] if step["op"] != "update"] == [], "adopted once, and kept"


def test_adopt_refuses_an_object_the_engine_would_replace(cluster: ApiServer, project: Path, cli,
                                                          tmp_path: Path) -> None:
    legacy = cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": "legacy-jobs"}})
    ids = tmp_path / "ids.yaml"
    ids.write_text(yaml.safe_dump([{"type": "kubernetes:core/v1:Namespace", "name": "local-jobs",
                                    "id": "legacy-jobs"}]))

    refused = cli("adopt", "local", "--ids", str(ids))
    assert refused.code == 1
    lines = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert lines == [(f"error: refusing to adopt legacy-jobs ({ids}: entry 1) as local-jobs: it differs from the "
                     "spec in metadata.name, which cannot change in place, so the engine would replace it")]
    assert not (project / "imports").exists()
    assert cluster.get("/api/v1/namespaces/legacy-jobs")["metadata"]["uid"] == legacy["metadata"]["uid"]
    assert cluster.get("/api/v1/namespaces/jobs") is None


def test_adopt_refuses_to_import_over_what_the_stack_has_already(cluster: ApiServer, project: Path, cli,
                                                                 tmp_path: Path) -> None:
    assert cli("up", "local", "--yes").code == 0
    made = cluster.get("/api/v1/namespaces/web")["metadata"]["uid"]
    cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": "web-legacy"}})
    ids = tmp_path / "ids.yaml"
    ids.write_text(yaml.safe_dump([{"type": "kubernetes:core/v1:Namespace", "name": "local-web", "id": "web-legacy"}]))

    refused = cli("adopt", "local", "--ids", str(ids))
    assert refused.code == 1
    lines = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert lines == [(f"error: refusing to adopt web-legacy ({ids}: entry 1) as local-web: the stack has local-web "
                     "already, as web, which the import would replace")]
    assert not (project / "imports").exists()
    assert cluster.get("/api/v1/namespaces/web")["metadata"]["uid"] == made
    assert cluster.get("/api/v1/namespaces/web-legacy") is not None
