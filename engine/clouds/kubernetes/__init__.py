"""Kubernetes, a cluster made elsewhere (``cloud: kubernetes``): its kubeconfig (``kubeconfig``), a client of its
API server (``client``), its verification (``verify``), and the offline fake of the Kubernetes provider
(``fake``), which answers for every cloud's program too (the bootstrap runs on every cluster). It has no
bootstrap, no registries and no state store of its own; its provisioner is the kubeconfig's user."""

from __future__ import annotations

from collections.abc import Mapping

from terrane.engine.accounts.secrets import Secret, resolve
from terrane.engine.clouds.base import Cloud, ConfigValue, Fake, Plugin, Provisioner, Resolver, StateStore
from terrane.engine.clouds.kubernetes.fake import INVOKES, resource
from terrane.engine.clouds.kubernetes.kubeconfig import kubeconfig_of
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check
from terrane.stacks.spec.accounts import Account, KubernetesAccount
from terrane.stacks.spec.registries import Registry
from terrane.stacks.standard import KUBECONFIG_KEY


class Kubernetes:
    name = "kubernetes"
    plugin = Plugin("kubernetes", "pulumi-kubernetes")
    state_store = StateStore()
    # Offline no kubeconfig is read: a program is given a stand-in.
    fake = Fake("kubernetes", resource, INVOKES, config={KUBECONFIG_KEY: "(not read offline)"})

    def provider_config(self, name: str, account: Account, region: str | None,
                        resolver: Resolver | None = None) -> dict[str, ConfigValue]:
        """The kubeconfig, flattened to its context (``kubeconfig.kubeconfig_of``), as secret config."""
        assert isinstance(account, KubernetesAccount)
        return {KUBECONFIG_KEY: kubeconfig_of(account, name, resolver or resolve)}

    def preflight(self, name: str, account: Account, resolved: Mapping[str, ConfigValue]) -> None:
        """The linked cluster's API server answers, and takes the kubeconfig's credentials."""
        from terrane.engine.clouds.kubernetes.client import ApiError, Client
        from terrane.engine.clouds.kubernetes.kubeconfig import origin

        assert isinstance(account, KubernetesAccount)
        flat = resolved[KUBECONFIG_KEY]
        client = Client.from_kubeconfig(flat.reveal() if isinstance(flat, Secret) else flat,
                                        origin=origin(account, name))
        try:
            client.get("/version")
        except ApiError as exc:
            if exc.status == 401:
                raise

    def sign_in_method(self, linked: Account | Registry) -> str:
        return "kubeconfig"

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
