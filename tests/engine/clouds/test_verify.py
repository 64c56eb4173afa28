"""Verifying accounts: AWS against moto's server over HTTP; Azure and GCP without (and with faked) SDKs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication
from moto.sts.models import sts_backends

from terrane.engine.clouds import verification as verify_module
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import installed, verify
from terrane.engine.errors import EngineError, ExitCode, InvalidInputError
from terrane.stacks.spec.accounts import AwsAccount, AzureAccount, GcpAccount
from tests.helpers.fake_clouds import FakeAzure, FakeGoogle

MOTO_ACCOUNT = "123456789012"  # the account moto reports for credentials it does not know
ROLE_ACCOUNT = "210987654321"
ROLE_ARN = f"arn:aws:iam::{ROLE_ACCOUNT}:role/terrane-provisioner"
REGION = "eu-west-1"

# Distinctive values, so that finding one anywhere is certainly a leak.
EXTERNAL_ID = "xid-Qz7Hk2Wd9LeakCanary"
CLIENT_SECRET = "azsecret~Vb3Nq8LeakCanary"
OIDC_TOKEN = "eyJoidc.Rt5LeakCanary.sig"
GCP_CANARY = "gcp-LeakCanary-Mw4Ps"

SIX_KEYS = {"account", "cloud", "verified", "identity", "account_id", "note"}


def assert_not_leaked(secrets: list[str], *things: object) -> None:
    """No secret in the reprs and strings of results and errors, their dicts, or any chained exception."""
    texts: list[str] = []
    for thing in things:
        seen: set[int] = set()
        while thing is not None and id(thing) not in seen:
            seen.add(id(thing))
            texts += [repr(thing), str(thing)]
            if isinstance(thing, Verification):
                texts.append(json.dumps(thing.to_dict()))
            thing = (thing.__cause__ or thing.__context__) if isinstance(thing, BaseException) else None
    for secret in secrets:
        assert all(secret not in text for text in texts), f"{secret} leaked"


def aws_account(auth: dict[str, Any], account_id: str = ROLE_ACCOUNT) -> AwsAccount:
    return AwsAccount.model_validate({"cloud": "aws", "account_id": account_id, "region": REGION, "auth": auth})


def assume_role(external_id: Any = None, **extra: Any) -> dict[str, Any]:
    role: dict[str, Any] = {"role_arn": ROLE_ARN, "session_name": "terrane-verify", **extra}
    if external_id is not None:
        role["external_id"] = external_id
    return {"assume_role": role}


STATIC_KEYS = {
    "static": {
        "access_key_id": {"env": "TERRANE_TEST_KEY_ID"},
        "secret_access_key": {"env": "TERRANE_TEST_SECRET_KEY"},
    }
}


def external_id_seen_by_moto() -> str | None:
    return sts_backends[ROLE_ACCOUNT]["aws"].assumed_roles[-1].external_id


def iam_user(name: str) -> tuple[str, str, str]:
    """A user in moto's IAM: (ARN, access key id, secret access key)."""
    iam = boto3.client("iam", region_name="us-east-1")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, key["AccessKeyId"], key["SecretAccessKey"]


# --- AWS ------------------------------------------------------------------------------


def test_assume_role_with_an_external_id_from_env(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", EXTERNAL_ID)
    result = verify("aws-sandbox", aws_account(assume_role({"env": "TERRANE_TEST_EXTERNAL_ID"})))

    assert result.verified
    assert result.identity == f"arn:aws:sts::{ROLE_ACCOUNT}:assumed-role/terrane-provisioner/terrane-verify"
    assert result.account_id == ROLE_ACCOUNT
    assert result.note == f"assumed from arn:aws:sts::{MOTO_ACCOUNT}:user/moto"
    assert result.to_dict() == {
        "account": "aws-sandbox",
        "cloud": "aws",
        "verified": True,
        "identity": result.identity,
        "account_id": ROLE_ACCOUNT,
        "note": f"assumed from arn:aws:sts::{MOTO_ACCOUNT}:user/moto",
    }
    assert set(result.to_dict()) == SIX_KEYS
    assert external_id_seen_by_moto() == EXTERNAL_ID
    assert_not_leaked([EXTERNAL_ID], result)


def test_a_plain_external_id_and_no_external_id(aws: str) -> None:
    assert verify("aws-sandbox", aws_account(assume_role("plain-external-id"))).verified
    assert external_id_seen_by_moto() == "plain-external-id"
    assert verify("aws-sandbox", aws_account(assume_role())).verified
    assert external_id_seen_by_moto() is None


def test_an_external_id_from_aws_secrets_manager(aws: str) -> None:
    # The account's region is where a reference without its own region is looked up.
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="terrane/external-id", SecretString=json.dumps({"external_id": EXTERNAL_ID})
    )
    account = aws_account(assume_role({"aws_secret": "terrane/external-id", "key": "external_id"}))
    result = verify("aws-sandbox", account)
    assert result.verified and result.account_id == ROLE_ACCOUNT
    assert external_id_seen_by_moto() == EXTERNAL_ID
    assert_not_leaked([EXTERNAL_ID], result)


def test_a_role_in_another_account_than_configured(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", EXTERNAL_ID)
    account = aws_account(assume_role({"env": "TERRANE_TEST_EXTERNAL_ID"}), account_id="111122223333")
    with pytest.raises(EngineError) as caught:
        verify("aws-sandbox", account)
    message = str(caught.value)
    assert message.startswith("account aws-sandbox: ")
    assert f"reports account {ROLE_ACCOUNT}" in message
    assert "accounts.yaml says 111122223333" in message
    assert_not_leaked([EXTERNAL_ID], caught.value)

    refused = Verification.refused("aws-sandbox", account, caught.value)
    assert refused.to_dict() == {"account": "aws-sandbox", "cloud": "aws", "verified": False, "identity": None,
                                 "account_id": "111122223333", "note": message}


def test_static_keys_from_env(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    arn, key_id, secret_key = iam_user("terrane-ci")
    monkeypatch.setenv("TERRANE_TEST_KEY_ID", key_id)
    monkeypatch.setenv("TERRANE_TEST_SECRET_KEY", secret_key)
    result = verify("aws-ci", aws_account(STATIC_KEYS, account_id=MOTO_ACCOUNT))
    assert (result.verified, result.identity, result.account_id, result.note) == (True, arn, MOTO_ACCOUNT, None)
    assert_not_leaked([key_id, secret_key], result)


def test_rejected_static_keys(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_key = "wJalrXUtnFEMI/LeakCanary/bPxRfiCY"
    monkeypatch.setenv("TERRANE_TEST_KEY_ID", "AKIA_UNKNOWN_LEAK_CANARY")
    monkeypatch.setenv("TERRANE_TEST_SECRET_KEY", secret_key)
    auth = STATIC_KEYS
    with enable_iam_authentication(), pytest.raises(EngineError) as caught:
        verify("aws-ci", aws_account(auth, account_id=MOTO_ACCOUNT))
    assert "AWS rejected the static keys (env:TERRANE_TEST_KEY_ID, env:TERRANE_TEST_SECRET_KEY)" in str(caught.value)
    assert "(InvalidClientTokenId)" in str(caught.value)
    assert_not_leaked(["AKIA_UNKNOWN_LEAK_CANARY", secret_key], caught.value)


def test_a_trust_policy_that_refuses_the_base_identity(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # With IAM enforcement on, moto refuses sts:AssumeRole to a user without a policy allowing it.
    arn, key_id, secret_key = iam_user("operator")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", EXTERNAL_ID)
    with enable_iam_authentication(), pytest.raises(EngineError) as caught:
        verify("aws-sandbox", aws_account(assume_role({"env": "TERRANE_TEST_EXTERNAL_ID"})))
    message = str(caught.value)
    assert f"{arn} may not assume {ROLE_ARN}" in message
    assert "trust policy must allow it with this external id" in message
    assert "terrane accounts bootstrap aws" in message
    assert caught.value.exit_code == ExitCode.FAILURE
    assert caught.value.__context__ is None  # AWS's own messages may quote the request
    assert_not_leaked([EXTERNAL_ID, secret_key], caught.value)


def test_an_unresolvable_external_id(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERRANE_TEST_UNSET", raising=False)
    with pytest.raises(InvalidInputError, match="env:TERRANE_TEST_UNSET") as caught:
        verify("aws-sandbox", aws_account(assume_role({"env": "TERRANE_TEST_UNSET"})))
    assert str(caught.value) == "secret reference env:TERRANE_TEST_UNSET: the environment variable TERRANE_TEST_UNSET is not set"
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_an_external_id_aws_would_reject_is_not_echoed(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "has spaces LeakCanary!")
    invalid = "external id behind env:TERRANE_TEST_EXTERNAL_ID is not a valid"
    with pytest.raises(InvalidInputError, match=invalid) as caught:
        verify("aws-sandbox", aws_account(assume_role({"env": "TERRANE_TEST_EXTERNAL_ID"})))
    assert_not_leaked(["has spaces LeakCanary!"], caught.value)


def test_no_base_credentials_says_how_to_provide_them(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata wait
    missing = r"no credentials for the base identity \(your own AWS credentials.*aws sso login"
    with pytest.raises(EngineError, match=missing):
        verify("aws-sandbox", aws_account(assume_role("plain-external-id")))


def test_profiles(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[sandbox]\naws_access_key_id = AKIAPROFILETESTING\naws_secret_access_key = profile-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    result = verify("aws-profile", aws_account({"profile": "sandbox"}, account_id=MOTO_ACCOUNT))
    assert (result.verified, result.identity) == (True, f"arn:aws:sts::{MOTO_ACCOUNT}:user/moto")

    with pytest.raises(InvalidInputError, match="no AWS profile 'absent'.*aws configure --profile absent"):
        verify("aws-profile", aws_account({"profile": "absent"}, account_id=MOTO_ACCOUNT))


# --- Azure ----------------------------------------------------------------------------

TENANT = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"


def azure_account(auth: dict[str, Any]) -> AzureAccount:
    return AzureAccount.model_validate(
        {"cloud": "azure", "tenant_id": TENANT, "subscription_id": SUBSCRIPTION, "location": "westeurope", "auth": auth}
    )


SERVICE_PRINCIPAL = {
    "service_principal": {"client_id": CLIENT_ID, "client_secret": {"env": "TERRANE_TEST_AZURE_SECRET"}}
}
OIDC = {"oidc": {"client_id": CLIENT_ID, "token": {"env": "TERRANE_TEST_AZURE_TOKEN"}}}


@pytest.fixture
def no_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Azure's and Google's SDKs are not installed (whatever this machine has)."""
    monkeypatch.setattr(verify_module, "installed", lambda module: False)


@pytest.fixture
def azure_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_AZURE_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TERRANE_TEST_AZURE_TOKEN", OIDC_TOKEN)


def test_sdk_detection_survives_a_missing_parent_package() -> None:
    assert installed("terrane_no_such_package.identity") is False
    assert installed("json") is True


@pytest.mark.parametrize(
    ("auth", "identity"), [(SERVICE_PRINCIPAL, CLIENT_ID), (OIDC, CLIENT_ID), ({"cli": {}}, "azure cli")]
)
def test_azure_without_its_sdk_is_not_confirmed(no_sdks: None, azure_secrets: None, auth: dict, identity: str) -> None:
    result = verify("azure-sandbox", azure_account(auth))
    assert result.to_dict() == {
        "account": "azure-sandbox",
        "cloud": "azure",
        "verified": False,
        "identity": identity,
        "account_id": SUBSCRIPTION,
        "note": result.note,
    }
    assert result.note is not None and "not confirmed with Azure (install terrane[azure]" in result.note
    assert_not_leaked([CLIENT_SECRET, OIDC_TOKEN], result)


def test_an_unresolvable_azure_secret_is_invalid_input(no_sdks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERRANE_TEST_AZURE_SECRET", raising=False)
    unresolved = "secret reference env:TERRANE_TEST_AZURE_SECRET: the environment variable"
    with pytest.raises(InvalidInputError, match=unresolved):
        verify("azure-sandbox", azure_account(SERVICE_PRINCIPAL))


@pytest.fixture
def fake_azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAzure]:
    yield FakeAzure(monkeypatch)


def test_azure_with_its_sdk_asks_for_a_management_token(fake_azure: FakeAzure, azure_secrets: None) -> None:
    result = verify("azure-sandbox", azure_account(SERVICE_PRINCIPAL))
    assert (result.verified, result.identity, result.account_id) == (True, CLIENT_ID, SUBSCRIPTION)
    assert fake_azure.created == [("ClientSecretCredential", (TENANT, CLIENT_ID, CLIENT_SECRET), {})]
    assert fake_azure.scopes == ["https://management.azure.com/.default"]
    assert_not_leaked([CLIENT_SECRET], result)

    verify("azure-sandbox", azure_account(OIDC))
    name, (tenant, client_id, assertion), _ = fake_azure.created[-1]
    assert (name, tenant, client_id, assertion()) == ("ClientAssertionCredential", TENANT, CLIENT_ID, OIDC_TOKEN)

    assert verify("azure-sandbox", azure_account({"cli": {}})).identity == "azure cli"
    assert fake_azure.created[-1] == ("AzureCliCredential", (), {"tenant_id": TENANT})


def test_an_azure_refusal_is_an_engine_error_with_the_secret_masked(fake_azure: FakeAzure, azure_secrets: None) -> None:
    # Were Azure to quote the secret back, it still would not reach the user.
    fake_azure.failure = fake_azure.errors.ClientAuthenticationError(  # type: ignore[attr-defined]
        f"AADSTS7000215: Invalid client secret provided: {CLIENT_SECRET}\nTrace ID: 0"
    )
    with pytest.raises(EngineError) as caught:
        verify("azure-sandbox", azure_account(SERVICE_PRINCIPAL))
    assert str(caught.value) == (
        f"account azure-sandbox: Azure refused service principal {CLIENT_ID} in tenant {TENANT}: "
        "AADSTS7000215: Invalid client secret provided: [secret]"
    )
    assert_not_leaked([CLIENT_SECRET], str(caught.value))


# --- GCP ------------------------------------------------------------------------------

SERVICE_ACCOUNT = "terrane@sandbox-project-123.iam.gserviceaccount.com"


def gcp_account(auth: dict[str, Any]) -> GcpAccount:
    return GcpAccount.model_validate(
        {"cloud": "gcp", "project": "sandbox-project-123", "region": "europe-west1", "auth": auth}
    )


def throwaway_key(**changes: Any) -> dict[str, Any]:
    """The shape of a service-account key; the private key is a placeholder, assembled here
    so that no key header sits in the repository for secret scanners to flag."""
    dashes = "-" * 5
    private_key = f"{dashes}BEGIN {'PRIVATE'} KEY{dashes}\n{GCP_CANARY}\n{dashes}END {'PRIVATE'} KEY{dashes}\n"
    key = {
        "type": "service_account",
        "project_id": "sandbox-project-123",
        "private_key_id": "0123456789abcdef",
        "private_key": private_key,
        "client_email": SERVICE_ACCOUNT,
        "client_id": "100000000000000000001",
    }
    key.update(changes)
    return {name: value for name, value in key.items() if value is not None}


def key_file(tmp_path: Path, content: str) -> dict[str, Any]:
    path = tmp_path / "gcp-sa.json"
    path.write_text(content)
    return {"service_account_key": {"file": str(path)}}


def test_a_service_account_key_without_the_sdk(no_sdks: None, tmp_path: Path) -> None:
    result = verify("gcp-sandbox", gcp_account(key_file(tmp_path, json.dumps(throwaway_key()))))
    assert result.to_dict() == {
        "account": "gcp-sandbox",
        "cloud": "gcp",
        "verified": False,
        "identity": SERVICE_ACCOUNT,
        "account_id": "sandbox-project-123",
        "note": result.note,
    }
    assert result.note is not None and "not confirmed with Google Cloud (install terrane[gcp]" in result.note
    assert_not_leaked([GCP_CANARY], result)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (f"{GCP_CANARY} is not JSON", "is not JSON (line 1, column 1)"),
        (json.dumps([GCP_CANARY]), "is not a JSON object"),
        (json.dumps(throwaway_key(private_key=None, project_id="")), "lacks project_id, private_key"),
        (json.dumps(throwaway_key(type="authorized_user")), "holds 'authorized_user' credentials"),
        (json.dumps(throwaway_key(type=GCP_CANARY)), "has a type other than service_account"),
        (json.dumps(throwaway_key(client_email=GCP_CANARY)), "client_email that is not an email address"),
    ],
)
def test_a_malformed_service_account_key(no_sdks: None, tmp_path: Path, content: str, problem: str) -> None:
    auth = key_file(tmp_path, content)
    with pytest.raises(InvalidInputError) as caught:
        verify("gcp-sandbox", gcp_account(auth))
    message = str(caught.value)
    reference = f"file:{auth['service_account_key']['file']}"
    assert message.startswith(f"account gcp-sandbox: auth.service_account_key: {reference} ")
    assert problem in message
    assert caught.value.__context__ is None  # not even the JSON error, which holds the document
    assert_not_leaked([GCP_CANARY], caught.value)


def test_impersonation_and_application_default_without_the_sdk(no_sdks: None) -> None:
    impersonated = verify("gcp-sandbox", gcp_account({"impersonate": {"service_account": SERVICE_ACCOUNT}}))
    assert (impersonated.verified, impersonated.identity) == (False, SERVICE_ACCOUNT)
    ambient = verify("gcp-sandbox", gcp_account({"application_default": {}}))
    assert (ambient.verified, ambient.identity, ambient.account_id) == (False, None, "sandbox-project-123")


def test_gcp_with_its_sdk_refreshes_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    google = FakeGoogle(monkeypatch)
    account = gcp_account(key_file(tmp_path, json.dumps(throwaway_key())))
    result = verify("gcp-sandbox", account)
    assert (result.verified, result.identity, google.refreshed) == (True, SERVICE_ACCOUNT, 1)
    assert google.infos == [throwaway_key()]
    assert_not_leaked([GCP_CANARY], result)

    google.failure = google.errors.RefreshError("invalid_grant: Invalid JWT Signature.")  # type: ignore[attr-defined]
    refusal = f"Google refused service account {SERVICE_ACCOUNT}: invalid_grant"
    with pytest.raises(EngineError, match=refusal) as refused:
        verify("gcp-sandbox", account)
    google.unloadable = True
    with pytest.raises(InvalidInputError, match="the private_key could not be loaded") as unloadable:
        verify("gcp-sandbox", account)
    assert_not_leaked([GCP_CANARY], str(refused.value), unloadable.value)

    with pytest.raises(EngineError, match="gcloud auth application-default login"):
        verify("gcp-sandbox", gcp_account({"application_default": {}}))
