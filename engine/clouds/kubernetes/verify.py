"""Verifying a linked cluster: the API server is asked who the kubeconfig's user is (a SelfSubjectReview) and
whether it may create what terrane's bootstrap creates (a SelfSubjectAccessReview per resource, the evidence):
verified only when it may."""

from __future__ import annotations

from terrane.engine.clouds.kubernetes.client import ApiError, Client
from terrane.engine.clouds.kubernetes.kubeconfig import kubeconfig_of, origin
from terrane.engine.clouds.results import Evidence, Verification
from terrane.engine.clouds.verification import Check, first_line
from terrane.stacks.spec.accounts import KubernetesAccount

# What terrane's Bootstrap (components/kubernetes) creates, as (API group, resource): a cluster's kubeconfig user
# must be allowed to create each, in every namespace. "" is the core group.
BOOTSTRAP_RESOURCES = (("", "namespaces"), ("networking.k8s.io", "networkpolicies"), ("", "serviceaccounts"))
# SelfSubjectReview is GA (v1) since Kubernetes 1.28, beta (enabled) in 1.27.
SELF_SUBJECT_REVIEW_VERSIONS = ("v1", "v1beta1")


def verify_account(check: Check, account: KubernetesAccount) -> Verification:
    flat = kubeconfig_of(account, check.name)
    client = Client.from_kubeconfig(flat.reveal(), origin=origin(account, check.name))
    identity, groups = _identity(client)
    evidence = tuple(_may_create(client, group, resource)
                     for group, resource in BOOTSTRAP_RESOURCES)
    missing = [item.check.removeprefix("create ") for item in evidence if not item.passed]
    who = identity or "the kubeconfig's user"
    if missing:
        note = (f"{who} cannot create {', '.join(missing)} on {client.server}: terrane's bootstrap creates them; "
                "bind it to a ClusterRole that allows it (cluster-admin does)")
    else:
        note = f"groups: {', '.join(groups) or 'none'}; may create what terrane's bootstrap creates on {client.server}"
    return Verification(account=check.name, cloud=account.cloud, verified=not missing, identity=identity,
                        account_id=account.scope_id, note=note, evidence=evidence)


def _identity(client: Client) -> tuple[str | None, list[str]]:
    """Who the API server says the kubeconfig's user is, and its groups; no name from a cluster older than 1.27."""
    for version in SELF_SUBJECT_REVIEW_VERSIONS:
        try:
            review = client.post(f"/apis/authentication.k8s.io/{version}/selfsubjectreviews", {
                "apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"})
        except ApiError as exc:
            if exc.status == 404:
                continue
            raise
        user = (review.get("status") or {}).get("userInfo") or {}
        groups = user.get("groups")
        return user.get("username"), [str(group) for group in groups] if isinstance(groups, list) else []
    return None, []


def _may_create(client: Client, group: str, resource: str) -> Evidence:
    """Whether the kubeconfig's user may create ``resource`` in every namespace (a SelfSubjectAccessReview)."""
    attributes = {"verb": "create", "group": group, "resource": resource}
    review = client.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes}})
    status = review.get("status") or {}
    allowed = status.get("allowed") is True
    reason = first_line(status.get("reason") or status.get("evaluationError") or "")
    detail = ("allowed" if allowed else "not allowed") + (f": {reason}" if reason else "")
    return Evidence(check=f"create {resource}" + (f".{group}" if group else ""), passed=allowed, detail=detail)
