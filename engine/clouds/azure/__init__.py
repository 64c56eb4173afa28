"""Azure: the ARM template bootstrap (``bootstrap``, its resources in ``bootstrap_resources``), subscription and
ACR verification (``verify``, ``registry_verify``), provider config, allowed environment and the words of
the identity terrane deploys as (``config``), and the offline fake (``fake``)."""

from __future__ import annotations

from collections.abc import Mapping

from terrane.engine.accounts.secrets import resolve
from terrane.engine.clouds.azure import config
from terrane.engine.clouds.azure.fake import INVOKES, resource
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
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check
from terrane.stacks.spec.accounts import Account, AzureAccount
from terrane.stacks.spec.registries import AcrRegistry, Registry


class Azure:
    name = "azure"
    plugin = Plugin("azure-native", "pulumi-azure-native")
    state_store = config.STATE_STORE
    fake = Fake("azure-native", resource, INVOKES)

    def provider_config(self, name: str, account: Account, region: str | None,
                        resolver: Resolver | None = None) -> dict[str, ConfigValue]:
        assert isinstance(account, AzureAccount) and region is not None, "an environment on Azure has a location"
        return config.provider_config(account, region, naming_the_field(resolver or resolve, name, account))

    def preflight(self, name: str, account: Account, resolved: Mapping[str, ConfigValue]) -> None:
        """Nothing to check before a run: the provider signs in itself, and says so when it cannot."""

    def sign_in_method(self, linked: Account | Registry) -> str:
        assert isinstance(linked, (AzureAccount, AcrRegistry))
        return linked.auth.method

    def allowed_environment(self, account: Account) -> frozenset[str]:
        assert isinstance(account, AzureAccount)
        return config.BY_AUTH[account.auth.method]

    def secrets_region(self, linked: Account | Registry) -> str | None:
        return None

    def verify(self, name: str, linked: Account | Registry) -> Verification:
        check = Check(name, linked)
        if isinstance(linked, AcrRegistry):
            from terrane.engine.clouds.azure.registry_verify import verify_registry

            return verify_registry(check, linked)
        from terrane.engine.clouds.azure.verify import verify_account

        assert isinstance(linked, AzureAccount)
        return verify_account(check, linked)

    def provisioner(self, account: Account) -> Provisioner:
        assert isinstance(account, AzureAccount)
        return by_sign_in(account, config.SIGN_IN, config.GRANTS)


CLOUD: Cloud = Azure()
