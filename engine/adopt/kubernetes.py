"""What terrane adopts of a Terraform state for Kubernetes (hashicorp/kubernetes -> pulumi-kubernetes).

Objects are known by name, and namespace where they have one; both spellings of each Terraform type
(``kubernetes_namespace`` and ``kubernetes_namespace_v1``) map alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from terrane.engine.adopt.rules import ImportId, Rule, attribute, dig, strings
from terrane.engine.tfstate import StateResource


def _object_id(namespaced: bool) -> ImportId:
    """pulumi-kubernetes imports ``name``, or ``namespace/name`` for a namespaced object."""
    keys = ("namespace", "name") if namespaced else ("name",)

    def build(resource: StateResource) -> str | None:
        parts = [strings(dig(resource.attributes, ("metadata", 0, key))) for key in keys]
        names = [part for part in parts if isinstance(part, str)]
        return "/".join(names) if len(names) == len(keys) else None

    return build


_NAME = attribute("metadata.name", "metadata.0.name")
_NAMESPACE = attribute("metadata.namespace", "metadata.0.namespace")
_NAMESPACE_RULE = Rule("kubernetes:core/v1:Namespace", (_NAME,), _object_id(namespaced=False))
_SERVICE_ACCOUNT_RULE = Rule("kubernetes:core/v1:ServiceAccount", (_NAMESPACE, _NAME), _object_id(namespaced=True))
_NETWORK_POLICY_RULE = Rule(
    "kubernetes:networking.k8s.io/v1:NetworkPolicy", (_NAMESPACE, _NAME), _object_id(namespaced=True)
)

RULES: Mapping[str, Rule] = {
    "kubernetes_namespace": _NAMESPACE_RULE,
    "kubernetes_namespace_v1": _NAMESPACE_RULE,
    "kubernetes_service_account": _SERVICE_ACCOUNT_RULE,
    "kubernetes_service_account_v1": _SERVICE_ACCOUNT_RULE,
    "kubernetes_network_policy": _NETWORK_POLICY_RULE,
    "kubernetes_network_policy_v1": _NETWORK_POLICY_RULE,
}
"""Terraform resource type -> the Pulumi type it becomes, its identifying attributes, its import id."""
