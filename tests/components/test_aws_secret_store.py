from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from terrane.components.aws import SecretReaderArgs, SecretStore, SecretStoreArgs
from terrane.engine.offline.render import Rendered, render
from tests.helpers.rendered import assert_owned

ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
READER = SecretReaderArgs(
    oidc_provider_arn=PROVIDER_ARN,
    oidc_issuer=ISSUER,
    service_accounts=[("apps", "secrets-reader"), ("observability", "secrets-reader")],
)


def _render(reader: SecretReaderArgs | None) -> Rendered:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-1")
        store = SecretStore(
            "secrets",
            SecretStoreArgs(
                secret_names=["db-password", "api-token"],
                name_prefix="aws-dev/",
                recovery_days=7,
                reader=reader,
                tags={"team": "platform"},
            ),
            pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("key_arn", store.key_arn)
        pulumi.export("secret_arns", store.secret_arns)
        pulumi.export("reader_role_arn", store.reader_role_arn)

    return render(program, project="terrane", stack="test")


@pytest.fixture(scope="module")
def with_reader() -> Rendered:
    return _render(READER)


@pytest.fixture(scope="module")
def without_reader() -> Rendered:
    return _render(None)


@pytest.mark.parametrize("fixture", ["with_reader", "without_reader"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:aws:SecretStore"), rendered.one("pulumi:providers:aws"))


def test_key_rotates_and_has_an_alias(without_reader: Rendered) -> None:
    key = without_reader.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    alias = without_reader.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/terrane/aws-dev"
    assert key.urn in alias.depends_on


def test_secrets_are_encrypted_with_the_store_key_and_recoverable(without_reader: Rendered) -> None:
    key_arn = without_reader.outputs["key_arn"]
    secrets = without_reader.of_type("aws:secretsmanager/secret:Secret")
    assert sorted(s.inputs["name"] for s in secrets) == ["aws-dev/api-token", "aws-dev/db-password"]
    for secret in secrets:
        assert secret.inputs["kmsKeyId"] == key_arn
        assert secret.inputs["recoveryWindowInDays"] == 7
        assert "secretString" not in secret.inputs
    assert without_reader.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
    assert set(without_reader.outputs["secret_arns"]) == {"db-password", "api-token"}


def test_no_reader_role_without_a_reader(without_reader: Rendered) -> None:
    assert without_reader.of_type("aws:iam/role:Role") == []
    assert without_reader.of_type("aws:iam/rolePolicy:RolePolicy") == []
    assert without_reader.outputs.get("reader_role_arn") is None


def test_reader_role_trusts_only_the_named_service_accounts(with_reader: Rendered) -> None:
    role = with_reader.one("aws:iam/role:Role")
    # The bootstrap's provisioner policy manages only roles under /terrane/.
    assert role.inputs["path"] == "/terrane/"
    assert with_reader.outputs["reader_role_arn"].startswith("arn:aws:iam::123456789012:role/terrane/secrets-reader-")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:aud": "sts.amazonaws.com",
            f"{ISSUER}:sub": [
                "system:serviceaccount:apps:secrets-reader",
                "system:serviceaccount:observability:secrets-reader",
            ],
        }
    }


def test_reader_may_only_read_these_secrets_and_decrypt_with_their_key(with_reader: Rendered) -> None:
    policy = with_reader.one("aws:iam/rolePolicy:RolePolicy")
    assert with_reader.one("aws:iam/role:Role").urn in policy.depends_on
    read, decrypt = json.loads(policy.inputs["policy"])["Statement"]
    assert sorted(read["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert sorted(read["Resource"]) == sorted(with_reader.outputs["secret_arns"].values())
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == with_reader.outputs["key_arn"]


@pytest.mark.parametrize("days", [6, 31])
def test_recovery_window_is_bounded(days: int) -> None:
    with pytest.raises(ValueError, match="7 to 30 days"):
        SecretStoreArgs(secret_names=["a"], name_prefix="p/", recovery_days=days)
