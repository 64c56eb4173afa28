"""One environment spec, three clouds: only the account changes."""

from __future__ import annotations

from terrane.engine.offline.render import plan
from terrane.engine.project import open_project
from tests.helpers.project import SampleProject

SPEC = {
    "name": "portable",
    "network": {"cidr": "10.40.0.0/16", "zones": 2, "nat": "single", "flow_logs": True},
    "cluster": {
        "endpoint": "public",
        "authorized_cidrs": ["203.0.113.0/24"],
        "node_pools": [{"name": "system", "size": "small", "min": 1, "max": 3}],
    },
    "secrets": {"names": ["db-password"]},
    "kubernetes": {"namespaces": ["apps"]},
    "tags": {"team": "platform"},
}


def test_the_same_spec_plans_on_every_cloud(sample: SampleProject) -> None:
    for cloud in ("aws", "azure", "gcp"):
        sample.write_env("portable", {**SPEC, "account": f"{cloud}-sandbox"})
        result = plan(open_project(sample.root), "portable")
        components = {r.type for r in result.resources if not r.custom} - {"pulumi:pulumi:Stack"}
        assert components == {
            f"terrane:{cloud}:Network",
            f"terrane:{cloud}:Cluster",
            f"terrane:{cloud}:SecretStore",
            "terrane:kubernetes:Bootstrap",
        }, cloud
        assert result.cloud == cloud
        assert result.outputs["kubeconfig"] == "[secret]"
        assert result.outputs["namespaces"] == ["apps"]
        providers = {r.type for r in result.resources if r.type.startswith("pulumi:providers:")}
        assert providers == {f"pulumi:providers:{'azure-native' if cloud == 'azure' else cloud}", "pulumi:providers:kubernetes"}
