"""Kubernetes, a cluster made elsewhere (``cloud: kubernetes``): its kubeconfig (``kubeconfig``), a client of its
API server (``client``), its verification (``verify``), and the offline fake of the Kubernetes provider
(``fake``), which answers for every cloud's program too (the bootstrap runs on every cluster). It has no
bootstrap, no registries and no state store of its own; its provisioner is the kubeconfig's user."""

from __future__ import annotations

from terrane.engine.accounts.secrets import resolve
from terrane.engine.clouds.base import Cloud, ConfigValue, Fake, Provisioner, Resolver, StateStore
from terrane.engine.clouds.kubernetes.fake import INVOKES, resource
from terrane.engine.clouds.kubernetes.kubeconfig import kubeconfig_of
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check
from terrane.stacks.spec.accounts import Account, KubernetesAccount
from terrane.stacks.spec.registries import Registry
from terrane.stacks.standard import KUBECONFIG_KEY


class Kubernetes:
    name = "kubernetes"
    state_store = StateStore()
    # Offline no kubeconfig is read: a program is given a stand-in.
    fake = Fake("kubernetes", resource, INVOKES, config={KUBECONFIG_KEY: "(not read offline)"})

    def provider_config(self, name: str, account: Account, region: str | None,
                        resolver: Resolver | None = None) -> dict[str, ConfigValue]:
        """The kubeconfig, flattened to its context (``kubeconfig.kubeconfig_of``), as secret config."""
        assert isinstance(account, KubernetesAccount)
        return {KUBECONFIG_KEY: kubeconfig_of(account, name, resolver or resolve)}

    def allowed_environment(self, account: Account) -> frozenset[str]:
        # The kubeconfig is secret stack config; an exec plugin in it (aws eks get-token, kubelogin,
        # gke-gcloud-auth-plugin) finds its credentials through its own files under HOME.
        return frozenset()

    def secrets_region(self, linked: Account | Registry) -> str | None:
        return None

    def verify(self, name: str, linked: Account | Registry) -> Verification:
        from terrane.engine.clouds.kubernetes.verify import verify_account

        assert isinstance(linked, KubernetesAccount)
        return verify_account(Check(name, linked), linked)

    def provisioner(self, account: Account) -> Provisioner:
        # Named by the reference and the context, never by what the kubeconfig holds.
        assert isinstance(account, KubernetesAccount)
        return Provisioner(f"the user of kubeconfig {account.kubeconfig} (context {account.scope_id})",
                           ("cluster-admin, or what the kubeconfig grants: terrane cannot see a cluster's RBAC offline",))


CLOUD: Cloud = Kubernetes()
