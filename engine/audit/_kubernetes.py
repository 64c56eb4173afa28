"""Kubernetes in the audit: service accounts mapped to cloud identities, namespaces and their pod security, and role
bindings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from terrane.engine.audit._gcp import _members, _workload_subject
from terrane.engine.audit._identity import _identity_name, _Purpose
from terrane.engine.audit._model import ElevatedItem
from terrane.engine.audit._plan import _get, _listed

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource

_RESOURCES: dict[str, _Purpose] = {
    "kubernetes:core/v1:ServiceAccount": _Purpose(
        "kubernetes", "Pods that run as it get the cloud identity it maps to, to read the environment's secrets."),
    "kubernetes:core/v1:Namespace": _Purpose(
        "kubernetes", "The environment's workloads run here (kubernetes.namespaces); its labels set the pod "
                      "security they must meet."),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _Purpose(
        "kubernetes", "The environment's program binds this role across the whole cluster."),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": _Purpose(
        "kubernetes", "The environment's program binds this role in one namespace."),
}

_WORKLOAD_ANNOTATIONS = {
    "eks.amazonaws.com/role-arn": "assumes IAM role {}",
    "azure.workload.identity/client-id": "signs in as managed identity (client id) {}",
    "iam.gke.io/gcp-service-account": "acts as service account {}",
}
_POD_SECURITY = "pod-security.kubernetes.io/"


def _service_account(account: RenderedResource, index: _Index) -> ElevatedItem | None:
    purpose = _RESOURCES[account.type]
    metadata = account.inputs.get("metadata") or {}
    namespace, name = metadata.get("namespace", "default"), metadata.get("name", account.name)
    annotations = metadata.get("annotations") or {}
    identities = [_identity_name(holder) for holder in index.holders(account)]
    grants = [words.format(annotations[key]) + (f" ({', '.join(identities)})" if identities else "")
              for key, words in _WORKLOAD_ANNOTATIONS.items() if key in annotations]
    grants += [f"is the workload identity principal {member}" for member in _members(index)
               if _workload_subject(member) == (namespace, name)]
    if not grants:
        return None
    limits = []
    if account.inputs.get("automountServiceAccountToken") is False:
        limits.append("its token is mounted only into pods that ask for it (automountServiceAccountToken: false)")
    enforce = _namespace_labels(index, namespace).get(f"{_POD_SECURITY}enforce")
    if enforce:
        limits.append(f"its namespace enforces {enforce} pod security")
    return ElevatedItem(purpose.kind, f"{namespace}/{name}", account.type, tuple(dict.fromkeys(grants)),
                        purpose.why, tuple(limits))


def _namespace_labels(index: _Index, namespace: str) -> dict[str, str]:
    for resource in index.of_type("kubernetes:core/v1:Namespace"):
        if _get(resource.inputs, ("metadata", "name")) == namespace:
            return dict(_get(resource.inputs, ("metadata", "labels")) or {})
    return {}


def _namespace(namespace: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[namespace.type]
    name = str(_get(namespace.inputs, ("metadata", "name")) or namespace.name)
    labels = _namespace_labels(index, name)
    grants = [f"pod security {key.removeprefix(_POD_SECURITY)}: {value}" for key, value in sorted(labels.items())
              if key.startswith(_POD_SECURITY)] or ["no pod security labels: the cluster's default applies"]
    policies = [f"{_get(policy.inputs, ('metadata', 'name'))} "
                f"({', '.join(_listed(_get(policy.inputs, ('spec', 'policyTypes'))))})"
                for policy in index.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if _get(policy.inputs, ("metadata", "namespace")) == name]
    limits = [f"network policies: {', '.join(policies)}"] if policies else ["no network policy"]
    return ElevatedItem(purpose.kind, f"namespace {name}", namespace.type, tuple(grants), purpose.why, tuple(limits))


_SUBJECT = ("namespace", "name")


def _role_binding(binding: RenderedResource, index: _Index) -> ElevatedItem:
    purpose = _RESOURCES[binding.type]
    role = binding.inputs.get("roleRef") or {}
    subjects = ", ".join(f"{subject.get('kind')} {'/'.join(filter(None, (subject.get(key) for key in _SUBJECT)))}"
                         for subject in binding.inputs.get("subjects") or [])
    namespace = _get(binding.inputs, ("metadata", "namespace"))
    limits = (f"namespace {namespace} only",) if namespace else ("every namespace of the cluster",)
    name = str(_get(binding.inputs, ("metadata", "name")) or binding.name)
    return ElevatedItem(purpose.kind, name, binding.type, (f"{role.get('kind')} {role.get('name')} to {subjects}",),
                        purpose.why, limits)


_DESCRIBE: dict[str, Callable[[RenderedResource, _Index], ElevatedItem | None]] = {
    "kubernetes:core/v1:ServiceAccount": _service_account,
    "kubernetes:core/v1:Namespace": _namespace,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _role_binding,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": _role_binding,
}
"""How each Kubernetes object that carries privileges becomes an item of the report (None: it carries none)."""
