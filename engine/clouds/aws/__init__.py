"""AWS: the CloudFormation bootstrap (``bootstrap``, its policies in ``bootstrap_policies``, and ``stack``, which
reads a deployed one's outputs), account and ECR verification (``verify``, ``registry_verify``, reading IAM
policies with ``policies``), provider config and allowed environment (``config``), the identity terrane deploys as
(``provisioner``), and the offline fake (``fake``)."""

from __future__ import annotations

from collections.abc import Mapping

from terrane.engine.accounts.secrets import resolve
from terrane.engine.clouds.aws import config
from terrane.engine.clouds.aws.fake import INVOKES, resource
from terrane.engine.clouds.base import Cloud, ConfigValue, Fake, Plugin, Provisioner, Resolver, naming_the_field
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check
from terrane.stacks.spec.accounts import Account, AwsAccount
from terrane.stacks.spec.registries import EcrRegistry, Registry


class Aws:
    name = "aws"
    plugin = Plugin("aws", "pulumi-aws")
    state_store = config.STATE_STORE
    fake = Fake("aws", resource, INVOKES)

    def provider_config(self, name: str, account: Account, region: str | None,
                        resolver: Resolver | None = None) -> dict[str, ConfigValue]:
        assert isinstance(account, AwsAccount) and region is not None, "an environment on AWS has a region"
        resolver = resolver or (lambda ref: resolve(ref, region=account.region))
        return config.provider_config(account, region, naming_the_field(resolver, name, account))

    def preflight(self, name: str, account: Account, resolved: Mapping[str, ConfigValue]) -> None:
        """Nothing to check before a run: the provider signs in itself, and says so when it cannot."""

    def sign_in_method(self, linked: Account | Registry) -> str:
        assert isinstance(linked, (AwsAccount, EcrRegistry))
        return linked.auth.method

    def allowed_environment(self, account: Account) -> frozenset[str]:
        assert isinstance(account, AwsAccount)
        return config.BY_AUTH[account.auth.method]

    def secrets_region(self, linked: Account | Registry) -> str | None:
        # An aws_secret reference of an AWS account or registry is read in its region, unless it names one.
        assert isinstance(linked, (AwsAccount, EcrRegistry))
        return linked.region

    def verify(self, name: str, linked: Account | Registry) -> Verification:
        check = Check(name, linked)
        if isinstance(linked, EcrRegistry):
            from terrane.engine.clouds.aws.registry_verify import verify_registry

            return verify_registry(check, linked)
        from terrane.engine.clouds.aws.verify import verify_account

        assert isinstance(linked, AwsAccount)
        return verify_account(check, linked)

    def provisioner(self, account: Account) -> Provisioner:
        from terrane.engine.clouds.aws.provisioner import provisioner

        assert isinstance(account, AwsAccount)
        return provisioner(account)


CLOUD: Cloud = Aws()
