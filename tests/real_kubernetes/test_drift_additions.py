"""Changes that add to a field terrane sets, on the real API server with the real provider.

pulumi-kubernetes prunes the live object to the shape it applied before it
diffs, so none of these shows in its diff; under server-side apply each of these
fields is owned whole (an atomic list or selector), and each now says something
else. Drift reports them, and ``--remediate up`` takes them back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.real_kubernetes import ApiServer

POLICIES = "/apis/networking.k8s.io/v1/namespaces/{}/networkpolicies/{}"
WEB = "/api/v1/namespaces/web"
URN = "urn:pulumi:local::terrane-local-cluster::terrane:kubernetes:Bootstrap$"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy::local-"
ANYWHERE = {"ipBlock": {"cidr": "0.0.0.0/0"}}


@pytest.fixture
def deployed(cluster: ApiServer, project: Path, cli) -> ApiServer:
    result = cli("up", "local", "--yes")
    assert result.code == 0, result.stderr
    return cluster


def _drift(cli) -> tuple[int, dict[str, set[tuple[str, str]]]]:
    result = cli("drift", "local", "--json")
    assert result.code in (0, 2), result.stderr
    (env,) = json.loads(result.stdout)["environments"]
    return result.code, {resource["urn"].removeprefix(URN): {(prop["path"], prop["kind"])
                                                             for prop in resource["properties"]}
                         for resource in env["resources"]}


def _edit(cluster: ApiServer, path: str, change: Any) -> dict[str, Any]:
    found = cluster.get(path)
    change(found)
    return cluster.request("PUT", path, found)  # type: ignore[no-any-return]


def test_what_is_added_to_a_field_terrane_sets_is_drift_and_up_takes_it_back(deployed: ApiServer, cli) -> None:
    jobs_dns, web_dns = POLICIES.format("jobs", "allow-dns"), POLICIES.format("web", "allow-dns")
    jobs_deny, web_deny = POLICIES.format("jobs", "default-deny"), POLICIES.format("web", "default-deny")
    before = {path: deployed.get(path)["spec"] for path in (jobs_dns, web_dns, jobs_deny, web_deny)}

    def widen_dns(policy: dict[str, Any]) -> None:
        rule = policy["spec"]["egress"][0]
        rule["ports"].append({"protocol": "TCP", "port": 443})                   # a port added to the DNS rule
        rule["to"][0]["namespaceSelector"]["matchLabels"]["team"] = "any"       # a key added to a selector
        policy["spec"]["egress"].append({"to": [ANYWHERE]})                      # allow-dns is allow-all now

    _edit(deployed, jobs_dns, widen_dns)
    _edit(deployed, web_dns, lambda policy: (policy["spec"]["policyTypes"].append("Ingress"),
                                             policy["spec"]["egress"][0]["ports"][0].update(endPort=60)))
    _edit(deployed, jobs_deny, lambda policy: policy["spec"].update(ingress=[{"from": [ANYWHERE]}]))
    _edit(deployed, web_deny, lambda policy: policy["spec"].update(podSelector={"matchLabels": {"app": "x"}}))
    deployed.request("PATCH", WEB, {"metadata": {"annotations": None}})         # every annotation removed

    code, found = _drift(cli)

    assert code == 2
    assert found == {
        f"{POLICY}jobs-allow-dns": {
            ("spec.egress[0].ports[2]", "add"),
            ('spec.egress[0].to[0].namespaceSelector.matchLabels.team', "add"),
            ("spec.egress[1]", "add"),
        },
        f"{POLICY}web-allow-dns": {("spec.policyTypes[1]", "add"), ("spec.egress[0].ports[0].endPort", "add")},
        f"{POLICY}jobs-default-deny": {("spec.ingress", "add")},
        f"{POLICY}web-default-deny": {("spec.podSelector.matchLabels", "add")},
        "kubernetes:core/v1:Namespace::local-web": {
            ("metadata.annotations.owner", "delete"),
            ('metadata.annotations["pulumi.com/patchForce"]', "delete"),
        },
    }

    remediated = cli("drift", "local", "--remediate", "up")
    assert remediated.code == 2, remediated.stderr
    assert "local: remediation by up done" in remediated.stderr
    assert {path: deployed.get(path)["spec"] for path in before} == before
    annotations = deployed.get(WEB)["metadata"]["annotations"]
    assert annotations == {"owner": "web@example.com", "pulumi.com/patchForce": "true"}  # and no mark left
    assert _drift(cli) == (0, {})
    preview = cli("preview", "local", "--json")
    assert preview.code == 0, preview.stderr
    (env,) = json.loads(preview.stdout)["results"]
    assert set(env["changes"]) == {"same"}  # nothing pending: the mark is gone from the state too
