"""``engine.accounts.registry`` as Python sees it: registries linked, refused, listed and removed."""

from __future__ import annotations

import json

import boto3
import pytest

from terrane.engine.accounts.registry import link, registry_summaries, remove
from terrane.engine.clouds.results import NotVerified
from terrane.engine.clouds.verification import for_link
from terrane.engine.errors import InvalidInputError
from terrane.engine.project import open_project
from terrane.stacks.spec.registries import EcrRegistry
from tests.helpers.project import SampleProject

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pusher"


def ecr(role: str = ROLE) -> EcrRegistry:
    return EcrRegistry.model_validate({"cloud": "aws", "account_id": ACCOUNT, "region": "us-east-1",
                                       "repositories": ["web"], "auth": {"assume_role": {"role_arn": role}}})


def test_link_and_remove_a_registry(sample: SampleProject) -> None:
    project = open_project(sample.root)
    assert link(project, "images", ecr(), verify=None) is None
    assert project.registries["images"] == ecr()  # read again after the write
    summary = next(row for row in registry_summaries(project) if row.name == "images")
    assert (summary.kind, summary.where, summary.auth, summary.environments) == (
        "ECR", (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web",), "assume_role", ())
    assert remove(project, "images") == "registries"
    assert "images" not in project.registries
    (sample.root / "environments" / "gcp-dev.yaml").unlink()
    assert remove(project, "gcp-sandbox") == "accounts"


def test_a_registry_that_can_push_raises_with_its_verification(sample: SampleProject, aws: str) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="pusher", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="pusher", PolicyName="all-of-ecr", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "ecr:*",
                                                 "Resource": "*"}]}))
    boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="web")
    project = open_project(sample.root)
    before = (sample.root / "accounts.yaml").read_bytes()
    with pytest.raises(NotVerified) as caught:
        link(project, "images", ecr(), verify=for_link)
    assert caught.value.verification.can_push is True
    assert str(caught.value).startswith("registry images was not linked: CAN push: statement 'Everything' of "
                                        "inline policy all-of-ecr allows ecr:PutImage on *")
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_a_name_taken_by_the_other_section_is_refused_even_with_replace(sample: SampleProject) -> None:
    project = open_project(sample.root)
    with pytest.raises(InvalidInputError, match="'aws-sandbox' is already linked as an account"):
        link(project, "aws-sandbox", ecr(), verify=None, replace=True)
    with pytest.raises(InvalidInputError, match="registry name 'Images'"):
        link(project, "Images", ecr(), verify=None)
