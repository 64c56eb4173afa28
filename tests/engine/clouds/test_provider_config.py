"""The provider config each kind of account attaches to its environments' stacks."""

from __future__ import annotations

from typing import Any

import pytest

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds import provider_config
from terrane.engine.errors import InvalidInputError
from terrane.stacks.spec.accounts import ACCOUNT_MODELS
from terrane.stacks.spec.references import Reference

SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "33333333-3333-3333-3333-333333333333"


def _account(raw: dict[str, Any]):
    return ACCOUNT_MODELS[raw["cloud"]].model_validate(raw)


def _resolver(ref: Reference) -> Secret:
    # Stands in for the environment, files and Secrets Manager: one value per reference.
    return Secret(f"value-of-{ref}")


def _shown(config: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Each key's value and whether it is a secret."""
    return {
        key: (value.reveal(), True) if isinstance(value, Secret) else (value, False) for key, value in config.items()
    }


AWS = {"cloud": "aws", "account_id": "123456789012", "region": "us-east-1"}
ROLE = "arn:aws:iam::123456789012:role/terrane/terrane-provisioner"

CASES = {
    "aws assume role, external id by reference": (
        {**AWS, "auth": {"assume_role": {"role_arn": ROLE, "external_id": {"env": "EXT"}}}},
        "eu-west-1",
        {
            "aws:region": ("eu-west-1", False),
            "aws:assumeRoles[0].roleArn": (ROLE, False),
            "aws:assumeRoles[0].sessionName": ("terrane", False),
            "aws:assumeRoles[0].externalId": ("value-of-env:EXT", True),
        },
    ),
    "aws assume role, external id in plain": (
        {**AWS, "auth": {"assume_role": {"role_arn": ROLE, "external_id": "abc", "session_name": "ci"}}},
        "us-east-1",
        {
            "aws:region": ("us-east-1", False),
            "aws:assumeRoles[0].roleArn": (ROLE, False),
            "aws:assumeRoles[0].sessionName": ("ci", False),
            "aws:assumeRoles[0].externalId": ("abc", True),
        },
    ),
    "aws assume role without external id": (
        {**AWS, "auth": {"assume_role": {"role_arn": ROLE}}},
        "us-east-1",
        {
            "aws:region": ("us-east-1", False),
            "aws:assumeRoles[0].roleArn": (ROLE, False),
            "aws:assumeRoles[0].sessionName": ("terrane", False),
        },
    ),
    "aws profile": (
        {**AWS, "auth": {"profile": "sandbox"}},
        "us-east-1",
        {"aws:region": ("us-east-1", False), "aws:profile": ("sandbox", False)},
    ),
    "aws static keys": (
        {**AWS, "auth": {"static": {"access_key_id": {"env": "KEY"}, "secret_access_key": {"aws_secret": "ops/aws", "key": "secret"}}}},
        "us-east-1",
        {
            "aws:region": ("us-east-1", False),
            "aws:accessKey": ("value-of-env:KEY", True),
            "aws:secretKey": ("value-of-aws-secret:ops/aws#secret", True),
        },
    ),
    "azure service principal": (
        {"cloud": "azure", "tenant_id": TENANT, "subscription_id": SUBSCRIPTION, "location": "westeurope",
         "auth": {"service_principal": {"client_id": CLIENT, "client_secret": {"file": "~/sp"}}}},
        "northeurope",
        {
            "azure-native:tenantId": (TENANT, False),
            "azure-native:subscriptionId": (SUBSCRIPTION, False),
            "azure-native:location": ("northeurope", False),
            "azure-native:clientId": (CLIENT, False),
            "azure-native:clientSecret": ("value-of-file:~/sp", True),
        },
    ),
    "azure oidc": (
        {"cloud": "azure", "tenant_id": TENANT, "subscription_id": SUBSCRIPTION, "location": "westeurope",
         "auth": {"oidc": {"client_id": CLIENT, "token": {"env": "ID_TOKEN"}}}},
        "westeurope",
        {
            "azure-native:tenantId": (TENANT, False),
            "azure-native:subscriptionId": (SUBSCRIPTION, False),
            "azure-native:location": ("westeurope", False),
            "azure-native:clientId": (CLIENT, False),
            "azure-native:useOidc": ("true", False),
            "azure-native:oidcToken": ("value-of-env:ID_TOKEN", True),
        },
    ),
    "azure cli": (
        {"cloud": "azure", "tenant_id": TENANT, "subscription_id": SUBSCRIPTION, "location": "westeurope", "auth": {"cli": {}}},
        "westeurope",
        {
            "azure-native:tenantId": (TENANT, False),
            "azure-native:subscriptionId": (SUBSCRIPTION, False),
            "azure-native:location": ("westeurope", False),
        },
    ),
    "gcp key": (
        {"cloud": "gcp", "project": "sandbox-project-123", "region": "europe-west1",
         "auth": {"service_account_key": {"file": "~/sa.json"}}},
        "europe-west4",
        {
            "gcp:project": ("sandbox-project-123", False),
            "gcp:region": ("europe-west4", False),
            "gcp:credentials": ("value-of-file:~/sa.json", True),
        },
    ),
    "gcp impersonation": (
        {"cloud": "gcp", "project": "sandbox-project-123", "region": "europe-west1",
         "auth": {"impersonate": {"service_account": "terrane@sandbox-project-123.iam.gserviceaccount.com"}}},
        "europe-west1",
        {
            "gcp:project": ("sandbox-project-123", False),
            "gcp:region": ("europe-west1", False),
            "gcp:impersonateServiceAccount": ("terrane@sandbox-project-123.iam.gserviceaccount.com", False),
        },
    ),
    "gcp application default": (
        {"cloud": "gcp", "project": "sandbox-project-123", "region": "europe-west1", "auth": {"application_default": {}}},
        "europe-west1",
        {"gcp:project": ("sandbox-project-123", False), "gcp:region": ("europe-west1", False)},
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_provider_config(case: str) -> None:
    raw, region, expected = CASES[case]
    assert _shown(provider_config("linked", _account(raw), region, _resolver)) == expected


def test_secrets_stay_masked_in_reprs() -> None:
    raw, region, _ = CASES["aws static keys"]
    config = provider_config("linked", _account(raw), region, _resolver)
    assert "value-of" not in repr(config)


def test_references_resolve_only_when_asked(monkeypatch) -> None:
    raw, region, _ = CASES["aws assume role, external id by reference"]
    account = _account(raw)
    monkeypatch.setenv("EXT", "from-the-environment")
    config = provider_config("linked", account, region)
    assert config["aws:assumeRoles[0].externalId"].reveal() == "from-the-environment"


@pytest.mark.parametrize("case, field", [
    ("aws assume role, external id by reference", "auth.assume_role.external_id (env:EXT)"),
    ("aws static keys", "auth.static.access_key_id (env:KEY)"),
    ("azure service principal", "auth.service_principal.client_secret (file:~/sp)"),
    ("azure oidc", "auth.oidc.token (env:ID_TOKEN)"),
    ("gcp key", "auth.service_account_key (file:~/sa.json)"),
])
def test_a_reference_that_does_not_resolve_is_named_by_its_field(case: str, field: str) -> None:
    raw, region, _ = CASES[case]

    def unresolvable(ref: Reference) -> Secret:
        raise InvalidInputError(f"secret reference {ref}: not there")

    with pytest.raises(InvalidInputError) as raised:
        provider_config("linked", _account(raw), region, unresolvable)
    assert str(raised.value).startswith(f"accounts.yaml: accounts.linked.{field}: secret reference ")
