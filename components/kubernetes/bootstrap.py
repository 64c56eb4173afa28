"""The first objects in a cluster, new on any cloud or linked as it is: namespaces
under the restricted Pod Security Standard, a default-deny network policy in each
(with DNS still allowed), the service accounts the spec names and, optionally, one
in each namespace that the cloud's workload identity lets read the environment's
secrets.

terrane owns the fields it sets. Every object carries Pulumi's ``patchForce``
annotation, so an apply takes those fields back from whoever changed them since
(``kubectl label``, another controller): ``up`` after drift restores them, where
a server-side apply would otherwise stop on a field conflict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

_RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
}
_OWNED = {"pulumi.com/patchForce": "true"}


@dataclass(frozen=True)
class ServiceAccountArgs:
    name: str
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Binds the account to a cloud identity, e.g. ``{"eks.amazonaws.com/role-arn": role_arn}``."""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NamespaceArgs:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """On the namespace alone, besides the Bootstrap's labels; the pod-security ones are always restricted."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    service_accounts: Sequence[str] = ()
    """Made in the namespace, with no API token mounted unless a pod asks for one."""


@dataclass(frozen=True)
class BootstrapArgs:
    namespaces: Sequence[NamespaceArgs]
    secrets_reader: ServiceAccountArgs | None = None
    """Created in every namespace when set."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """On every object."""


class Bootstrap(pulumi.ComponentResource):
    namespaces: pulumi.Output[list[str]]

    def __init__(self, name: str, args: BootstrapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:kubernetes:Bootstrap", name, None, opts)
        labels = dict(args.labels)

        names: list[pulumi.Output[str]] = []
        for spec in args.namespaces:
            namespace = spec.name
            in_namespace = self._namespace(name, spec, labels)
            names.append(in_namespace)
            self._network_policies(name, namespace, in_namespace, labels)
            accounts = [ServiceAccountArgs(account) for account in spec.service_accounts]
            if args.secrets_reader is not None:
                accounts.append(args.secrets_reader)
            for account in accounts:
                self._service_account(name, namespace, in_namespace, account, labels)

        self.namespaces = pulumi.Output.all(*names)
        self.register_outputs({"namespaces": self.namespaces})

    def _namespace(self, name: str, spec: NamespaceArgs, labels: Mapping[str, str]) -> pulumi.Output[str]:
        created = k8s.core.v1.Namespace(
            f"{name}-{spec.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.name,
                labels={**labels, **spec.labels, **_RESTRICTED},
                annotations={**spec.annotations, **_OWNED},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Taking the name from the namespace makes everything in it wait for it.
        return created.metadata.name

    def _network_policies(
        self, name: str, namespace: str, in_namespace: pulumi.Output[str], labels: Mapping[str, str]
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{namespace}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="default-deny", namespace=in_namespace, labels=labels, annotations=_OWNED
            ),
            # No rules, said outright: terrane then owns both lists, so rules someone adds are drift, and
            # an apply takes them away again (a list under server-side apply is owned whole).
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress", "Egress"],
                ingress=[],
                egress=[],
            ),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{namespace}-allow-dns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="allow-dns", namespace=in_namespace, labels=labels, annotations=_OWNED
            ),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                                )
                            )
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=53)
                            for protocol in ("UDP", "TCP")
                        ],
                    )
                ],
            ),
            opts=child,
        )

    def _service_account(
        self,
        name: str,
        namespace: str,
        in_namespace: pulumi.Output[str],
        account: ServiceAccountArgs,
        labels: Mapping[str, str],
    ) -> None:
        k8s.core.v1.ServiceAccount(
            f"{name}-{namespace}-{account.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=account.name,
                namespace=in_namespace,
                annotations={**account.annotations, **_OWNED},
                labels={**labels, **account.labels},
            ),
            # Reading secrets needs a cloud token, not a Kubernetes API token;
            # a pod that needs the API can still opt in.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
