"""Identifiers are ASCII where the clouds' are: Python's ``\\d`` and ``\\w`` also match other scripts' digits and
letters, so ``'١٢٣٤٥٦٧٨٩٠١٢'`` (Arabic-Indic digits) passed for an AWS account id. Names a cloud takes in any
script (an Azure resource group) still take them.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from terrane.engine.clouds.aws.config import STATE_STORE
from terrane.stacks.spec.accounts import AwsAccount, AzureAccount, GcpAccount
from terrane.stacks.spec.environments import ClusterSpec, Environment
from terrane.stacks.spec.registries import AcrRegistry, EcrRegistry

ARABIC_INDIC_ACCOUNT_ID = "١٢٣٤٥٦٧٨٩٠١٢"
AWS = {"cloud": "aws", "account_id": "123456789012", "region": "us-east-1", "auth": {"profile": "p"}}
ROLE = {"role_arn": "arn:aws:iam::123456789012:role/terrane"}
AZURE = {"cloud": "azure", "tenant_id": "11111111-1111-1111-1111-111111111111",
         "subscription_id": "22222222-2222-2222-2222-222222222222", "location": "westeurope", "auth": {"cli": {}}}
GCP = {"cloud": "gcp", "project": "sandbox-project-123", "region": "europe-west1", "auth": {"application_default": {}}}
ECR = {"cloud": "aws", "account_id": "123456789012", "region": "us-east-1", "repositories": ["web"],
       "auth": {"profile": "p"}}
ACR = {"cloud": "azure", "tenant_id": AZURE["tenant_id"], "subscription_id": AZURE["subscription_id"],
       "resource_group": "rg-images", "name": "teamimages", "auth": {"cli": {}}}

NOT_ASCII: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (AwsAccount, {**AWS, "account_id": ARABIC_INDIC_ACCOUNT_ID}, "account_id"),
    (AwsAccount, {**AWS, "region": "us-east-١"}, "region"),
    (AwsAccount, {**AWS, "auth": {"assume_role": {"role_arn": f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT_ID}:role/x"}}},
     "auth.assume_role.role_arn"),
    (AwsAccount, {**AWS, "auth": {"assume_role": {"role_arn": "arn:aws:iam::123456789012:role/تيرين"}}},
     "auth.assume_role.role_arn"),
    (AwsAccount, {**AWS, "auth": {"assume_role": {**ROLE, "session_name": "تيرين"}}}, "auth.assume_role.session_name"),
    (AwsAccount, {**AWS, "permissions_boundary": f"arn:aws:iam::{ARABIC_INDIC_ACCOUNT_ID}:policy/b"},
     "permissions_boundary"),
    (AzureAccount, {**AZURE, "subscription_id": "٢٢٢٢٢٢٢٢-2222-2222-2222-222222222222"}, "subscription_id"),
    (AzureAccount, {**AZURE, "tenant_id": "11111111-1111-1111-1111-١١١١١١١١١١١١"}, "tenant_id"),
    (GcpAccount, {**GCP, "project": "sandbox-project-١٢٣"}, "project"),
    (GcpAccount, {**GCP, "region": "europe-west١"}, "region"),
    (EcrRegistry, {**ECR, "account_id": ARABIC_INDIC_ACCOUNT_ID}, "account_id"),
    (ClusterSpec, {"kubernetes_version": "1.٣١"}, "kubernetes_version"),
]


@pytest.mark.parametrize(("model", "data", "field"), NOT_ASCII, ids=[case[2] + ":" + case[0].__name__ for case in NOT_ASCII])
def test_identifiers_take_ascii_digits_and_letters_only(model: type[BaseModel], data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    assert [".".join(str(part) for part in error["loc"]) for error in caught.value.errors()] == [field]


def test_the_ascii_spelling_of_each_identifier_is_taken() -> None:
    AwsAccount.model_validate({**AWS, "permissions_boundary": "arn:aws:iam::123456789012:policy/b",
                               "auth": {"assume_role": {**ROLE, "session_name": "terrane"}}})
    AzureAccount.model_validate(AZURE)
    GcpAccount.model_validate(GCP)
    EcrRegistry.model_validate(ECR)
    assert ClusterSpec.model_validate({"kubernetes_version": "1.31"}).kubernetes_version == "1.31"


def test_an_environment_region_in_other_digits_is_no_region() -> None:
    with pytest.raises(ValidationError):
        Environment.model_validate({"name": "dev", "account": "aws-sandbox", "region": "us-east-١",
                                    "network": {"cidr": "10.0.0.0/16"}})


def test_a_resource_group_takes_letters_of_any_script() -> None:
    """Azure takes a resource group's letters and digits in any script (Char.IsLetterOrDigit)."""
    assert AcrRegistry.model_validate({**ACR, "resource_group": "グループ-1"}).resource_group == "グループ-1"


def test_a_kms_key_arn_in_other_letters_names_no_region() -> None:
    assert STATE_STORE.region_of("awskms:///arn:aws:kms:eu-west-1:123456789012:key/k") == "eu-west-1"
    assert STATE_STORE.region_of("awskms:///arn:аws:kms:eu-west-1:123456789012:key/k") is None  # a Cyrillic 'а'
