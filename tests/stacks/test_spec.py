import json

import pytest
from pydantic import ValidationError

from terrane.engine.errors import SpecError
from terrane.engine.offline.render import plan
from terrane.engine.project import open_project
from terrane.stacks import rules
from terrane.stacks.spec.accounts import AwsAccount
from terrane.stacks.spec.environments import Environment, NodePool
from terrane.stacks.spec.references import EnvRef, FileRef
from tests.helpers.project import SampleProject

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


def test_patterns_match_the_whole_value() -> None:
    base = {"cloud": "aws", "region": "us-east-1", "auth": {"profile": "p"}}
    with pytest.raises(ValidationError) as caught:
        AwsAccount.model_validate({**base, "account_id": "123456789012\n"})
    assert [error["msg"] for error in caught.value.errors()] == ["must be the 12 digits of an AWS account id"]
    assert AwsAccount.model_validate({**base, "account_id": "123456789012"}).account_id == "123456789012"


def test_a_pool_reports_all_its_problems_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        NodePool.model_validate({"name": "System", "min": 5, "max": 4})
    assert [(error["loc"], error["type"]) for error in caught.value.errors()] == [
        (("name",), "pattern"), (("max",), "min_max")]


def test_duplicates_are_listed_together() -> None:
    with pytest.raises(ValidationError) as caught:
        Environment.model_validate({**ENV, "secrets": {"names": ["a", "b", "a", "c", "b"]}})
    assert [error["msg"] for error in caught.value.errors()] == ["duplicate secret 'a', 'b'"]


def test_rules_that_read_an_invalid_field_are_left_out() -> None:
    account = AwsAccount.model_validate(
        {"cloud": "aws", "account_id": "123456789012", "region": "us-east-1", "auth": {"profile": "p"}})
    env = Environment.model_validate({**ENV, "kubernetes": {"namespaces": ["apps"]}, "tags": {"aws:x": "y"}})
    assert [problem.path for problem in rules.check(env, account)] == ["kubernetes", "tags.aws:x"]
    # An invalid cluster was left out of env: the rule relating kubernetes to it must not run.
    assert [problem.path for problem in rules.check(env, account, invalid={"cluster"})] == ["tags.aws:x"]


# The most tags (labels on GCP) each sample environment may have, and what its cloud allows on one resource.
TAG_LIMITS = {"aws-dev": (45, 50), "azure-dev": (48, 50), "gcp-dev": (62, 64)}
# Where a provider keeps the tags it adds to each of its resources.
DEFAULT_TAGS = {"pulumi:providers:aws": ("defaultTags", "tags"), "pulumi:providers:gcp": ("defaultLabels",)}


def _with_tags(sample: SampleProject, name: str, count: int) -> None:
    sample.edit_env(name, lambda data: data.update(tags={f"tag-{index}": "x" for index in range(count)}))


@pytest.mark.parametrize("name", TAG_LIMITS)
def test_the_most_tags_allowed_fill_a_resource_exactly(sample: SampleProject, name: str) -> None:
    """The limits of ``stacks.rules`` count what terrane sends: the provider's default tags and each resource's own."""
    most, limit = TAG_LIMITS[name]
    _with_tags(sample, name, most + 1)
    with pytest.raises(SpecError, match=f"at most {most} here, not {most + 1}"):
        open_project(sample.root).environment(name)

    _with_tags(sample, name, most)
    rendered = plan(open_project(sample.root), name).resources
    defaults: set[str] = set()
    for resource in rendered:
        if resource.type in DEFAULT_TAGS:
            setting, *inner = DEFAULT_TAGS[resource.type]
            value = resource.inputs[setting]
            value = json.loads(value) if isinstance(value, str) else value
            defaults |= set(value[inner[0]] if inner else value)
    own = [resource.inputs.get("tags") or resource.inputs.get("labels") or {} for resource in rendered]
    assert max(len(defaults | set(tags)) for tags in own if isinstance(tags, dict)) == limit
