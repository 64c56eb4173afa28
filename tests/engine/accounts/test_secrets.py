"""Resolving secret references: environment, files, and AWS Secrets Manager over moto's server."""

from __future__ import annotations

import json

import boto3
import pytest

from terrane.engine.accounts.secrets import Secret, parse_reference, resolve
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.stacks.spec.references import AwsSecretRef, EnvRef, FileRef


def test_a_secret_masks_itself() -> None:
    secret = Secret("hunter2")
    assert (repr(secret), str(secret), f"{secret}") == ("[secret]", "[secret]", "[secret]")
    assert secret.reveal() == "hunter2"
    assert "hunter2" not in repr([secret, {"k": secret}])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env:TOKEN", EnvRef(env="TOKEN")),
        ("file:~/key.json", FileRef(file="~/key.json")),
        ("aws-secret:prod/db", AwsSecretRef(aws_secret="prod/db")),
        ("aws-secret:prod/db#password", AwsSecretRef(aws_secret="prod/db", key="password")),
        (
            "aws-secret:arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
            AwsSecretRef(aws_secret="arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"),
        ),
    ],
)
def test_parse_reference(text: str, expected) -> None:
    assert parse_reference(text) == expected
    assert str(parse_reference(text)) == text.replace("file:~", "file:~")


@pytest.mark.parametrize("text", ["s3cr3t-value", "env:", "vault:kv/x", "env:1BAD"])
def test_a_value_is_not_a_reference_and_is_not_echoed(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_reference(text)
    assert "s3cr3t" not in str(caught.value)


def test_env_and_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_TOKEN", "from-env")
    assert resolve(EnvRef(env="TERRANE_TEST_TOKEN")).reveal() == "from-env"
    key = tmp_path / "key.txt"
    key.write_text("from-file\n")
    assert resolve(FileRef(file=str(key))).reveal() == "from-file"


def test_unresolvable_references_name_the_reference(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TERRANE_TEST_MISSING", raising=False)
    with pytest.raises(InvalidInputError, match="env:TERRANE_TEST_MISSING: the environment variable"):
        resolve(EnvRef(env="TERRANE_TEST_MISSING"))
    with pytest.raises(InvalidInputError, match="cannot read"):
        resolve(FileRef(file=str(tmp_path / "absent")))
    binary = tmp_path / "binary"
    binary.write_bytes(b"ok\xff")
    with pytest.raises(InvalidInputError, match=r"file:.*binary: .*binary is not UTF-8 text \(byte 2\)$"):
        resolve(FileRef(file=str(binary)))


def test_aws_secret_resolves_over_http(aws: str) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="terrane/external-id", SecretString="ext-123")
    client.create_secret(Name="terrane/keys", SecretString=json.dumps({"id": "AKIAEXAMPLE", "secret": "s3"}))
    assert resolve(AwsSecretRef(aws_secret="terrane/external-id")).reveal() == "ext-123"
    assert resolve(AwsSecretRef(aws_secret="terrane/keys", key="secret"), region="us-east-1").reveal() == "s3"
    with pytest.raises(InvalidInputError, match="has no key 'missing'"):
        resolve(AwsSecretRef(aws_secret="terrane/keys", key="missing"))


def test_a_deleted_aws_secret_is_invalid_input(aws: str) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="terrane/gone", SecretString="x")
    client.delete_secret(SecretId="terrane/gone", ForceDeleteWithoutRecovery=True)
    with pytest.raises(InvalidInputError, match="aws-secret:terrane/gone: no such secret"):
        resolve(AwsSecretRef(aws_secret="terrane/gone"))


def test_unreachable_secrets_manager_is_a_failure(aws: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(EngineError, match="cannot reach AWS Secrets Manager"):
        resolve(AwsSecretRef(aws_secret="terrane/any"))
