"""GCP: the gcloud script bootstrap (``bootstrap``, its ``gcloud`` lines in ``gcloud``), project and Artifact
Registry verification (``verify``, ``registry_verify``), provider config, allowed environment and the words of the
identity terrane deploys as (``config``), and the offline fake (``fake``)."""

from __future__ import annotations

from collections.abc import Mapping

from terrane.engine.accounts.secrets import resolve
from terrane.engine.clouds.base import (
    Cloud,
    ConfigValue,
    Fake,
    Plugin,
    Provisioner,
    Resolver,
    by_sign_in,
    naming_the_field,
)
from terrane.engine.clouds.gcp import config
from terrane.engine.clouds.gcp.fake import INVOKES, resource
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check
from terrane.stacks.spec.accounts import Account, GcpAccount
from terrane.stacks.spec.registries import ArtifactRegistry, Registry


class Gcp:
    name = "gcp"
    plugin = Plugin("gcp", "pulumi-gcp")
    state_store = config.STATE_STORE
    fake = Fake("gcp", resource, INVOKES)

    def provider_config(self, name: str, account: Account, region: str | None,
                        resolver: Resolver | None = None) -> dict[str, ConfigValue]:
        assert isinstance(account, GcpAccount) and region is not None, "an environment on GCP has a region"
        return config.provider_config(account, region, naming_the_field(resolver or resolve, name, account))

    def preflight(self, name: str, account: Account, resolved: Mapping[str, ConfigValue]) -> None:
        """Nothing to check before a run: the provider signs in itself, and says so when it cannot."""

    def sign_in_method(self, linked: Account | Registry) -> str:
        assert isinstance(linked, (GcpAccount, ArtifactRegistry))
        return linked.auth.method

    def allowed_environment(self, account: Account) -> frozenset[str]:
        assert isinstance(account, GcpAccount)
        return config.BY_AUTH[account.auth.method]

    def secrets_region(self, linked: Account | Registry) -> str | None:
        return None

    def verify(self, name: str, linked: Account | Registry) -> Verification:
        check = Check(name, linked)
        if isinstance(linked, ArtifactRegistry):
            from terrane.engine.clouds.gcp.registry_verify import verify_registry

            return verify_registry(check, linked)
        from terrane.engine.clouds.gcp.verify import verify_account

        assert isinstance(linked, GcpAccount)
        return verify_account(check, linked)

    def provisioner(self, account: Account) -> Provisioner:
        assert isinstance(account, GcpAccount)
        return by_sign_in(account, config.SIGN_IN, config.GRANTS)


CLOUD: Cloud = Gcp()
