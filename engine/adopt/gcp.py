"""What terrane adopts of a Terraform state for GCP (hashicorp/google -> pulumi-gcp).

The state's ids are the long forms pulumi-gcp imports, but for node pools.
"""

from __future__ import annotations

from collections.abc import Mapping

from terrane.engine.adopt.rules import Rule, attribute, last_segment, state_id, strings
from terrane.engine.tfstate import StateResource


def _node_pool_id(resource: StateResource) -> str | None:
    """``{project}/{location}/{cluster}/{name}``; the state's ``cluster`` may be a name or a full id."""
    parts = [strings(resource.attributes.get(key)) for key in ("project", "location", "cluster", "name")]
    if not all(isinstance(part, str) for part in parts):
        return None
    project, location, cluster, name = parts
    return f"{project}/{location}/{last_segment(cluster)}/{name}"


RULES: Mapping[str, Rule] = {
    "google_compute_network": Rule("gcp:compute/network:Network", (attribute("name", "name"),), state_id),
    "google_compute_subnetwork": Rule(
        "gcp:compute/subnetwork:Subnetwork",
        (attribute("ipCidrRange", "ip_cidr_range"), attribute("region", "region")),
        state_id,
    ),
    "google_container_cluster": Rule("gcp:container/cluster:Cluster", (attribute("name", "name"),), state_id),
    "google_container_node_pool": Rule(
        "gcp:container/nodePool:NodePool",
        (attribute("cluster", "cluster", last=True), attribute("name", "name")),
        _node_pool_id,
    ),
    "google_kms_key_ring": Rule("gcp:kms/keyRing:KeyRing", (attribute("name", "name"),), state_id),
    "google_kms_crypto_key": Rule(
        "gcp:kms/cryptoKey:CryptoKey",
        (attribute("keyRing", "key_ring", last=True), attribute("name", "name")),
        state_id,
    ),
    "google_secret_manager_secret": Rule(
        "gcp:secretmanager/secret:Secret", (attribute("secretId", "secret_id"),), state_id
    ),
}
"""Terraform resource type -> the Pulumi type it becomes, its identifying attributes, its import id."""
