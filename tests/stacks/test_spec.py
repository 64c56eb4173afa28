import pytest
from pydantic import ValidationError

from terrane.stacks.spec.accounts import AwsAccount
from terrane.stacks.spec.environments import Environment, NodePool
from terrane.stacks.spec.references import EnvRef, FileRef

ENV = {"name": "dev", "account": "aws-sandbox", "network": {"cidr": "10.0.0.0/16"}}


def test_defaults_are_secure_and_small() -> None:
    env = Environment.model_validate({**ENV, "cluster": {}})
    assert env.network.zones == 3
    assert env.network.flow_logs is True
    assert env.cluster is not None
    assert env.cluster.endpoint == "private"
    assert env.cluster.deletion_protection is True
    assert [pool.name for pool in env.cluster.node_pools] == ["system"]
    assert env.protect is False


def test_models_are_immutable() -> None:
    env = Environment.model_validate(ENV)
    with pytest.raises(ValidationError):
        env.name = "other"  # type: ignore[misc]


def test_neutral_and_cloud_sizes() -> None:
    assert NodePool(name="a", size="xlarge").neutral_size
    assert not NodePool(name="a", size="m6i.xlarge").neutral_size


def test_secret_references_parse_to_their_kind() -> None:
    account = AwsAccount.model_validate(
        {
            "cloud": "aws",
            "account_id": "123456789012",
            "region": "us-east-1",
            "auth": {"static": {"access_key_id": {"env": "KEY_ID"}, "secret_access_key": {"file": "~/k"}}},
        }
    )
    assert account.auth.method == "static"
    assert account.auth.static is not None
    assert account.auth.static.access_key_id == EnvRef(env="KEY_ID")
    assert account.auth.static.secret_access_key == FileRef(file="~/k")
    assert str(account.auth.static.secret_access_key) == "file:~/k"


def test_external_id_may_be_a_plain_value_or_a_reference() -> None:
    base = {"cloud": "aws", "account_id": "123456789012", "region": "us-east-1"}
    role = {"role_arn": "arn:aws:iam::123456789012:role/terrane"}
    plain = AwsAccount.model_validate({**base, "auth": {"assume_role": {**role, "external_id": "abc"}}})
    ref = AwsAccount.model_validate({**base, "auth": {"assume_role": {**role, "external_id": {"env": "X"}}}})
    assert plain.auth.assume_role is not None and plain.auth.assume_role.external_id == "abc"
    assert ref.auth.assume_role is not None and ref.auth.assume_role.external_id == EnvRef(env="X")
