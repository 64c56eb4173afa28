"""The regions terrane takes: one table per cloud, in ``stacks.spec.regions``, with its source and date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from terrane.stacks.spec.regions import (
    ARTIFACT_REGISTRY_LOCATIONS,
    AWS_REGIONS,
    AZURE_LOCATIONS,
    GCP_REGIONS,
    TAKEN,
    region_problem,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "environments.md"


def test_every_region_the_aws_sdk_names_is_taken() -> None:
    """pulumi_aws.Region is the provider's own list: a region it knows and the table lacks would be refused."""
    from pulumi_aws import Region

    assert {region.value for region in Region} <= AWS_REGIONS


@pytest.mark.parametrize("table, shape", [
    (AWS_REGIONS, r"[a-z]{2,4}(-[a-z]+)+-\d"),
    (AZURE_LOCATIONS, r"[a-z]+\d?"),
    (GCP_REGIONS, r"[a-z]+-[a-z]+\d{1,2}"),
], ids=["aws", "azure", "gcp"])
def test_each_table_holds_names_shaped_as_its_cloud_spells_them(table: frozenset[str], shape: str) -> None:
    assert [name for name in table if not re.fullmatch(shape, name)] == []
    assert len(table) > 30


def test_no_name_is_the_region_of_two_clouds() -> None:
    assert not (AWS_REGIONS & AZURE_LOCATIONS or AWS_REGIONS & GCP_REGIONS or AZURE_LOCATIONS & GCP_REGIONS)


def test_artifact_registry_takes_the_regions_and_the_multi_regions() -> None:
    assert ARTIFACT_REGISTRY_LOCATIONS == GCP_REGIONS | {"us", "europe", "asia"}
    assert region_problem("artifact-registry", "europe") is None
    assert region_problem("gcp", "europe") is not None


def test_the_docs_give_the_date_the_tables_were_taken() -> None:
    assert TAKEN.isoformat() in DOCS.read_text()


@pytest.mark.parametrize("where, value, expected", [
    ("aws", "us-east-1", None),
    ("aws", "us-east-1x", "'us-east-1x' is not an AWS region: did you mean us-east-1?"),
    ("aws", "US-EAST-1", "'US-EAST-1' is not an AWS region: did you mean us-east-1?"),
    ("aws", "eu-west-9", "'eu-west-9' is not an AWS region: did you mean eu-west-1, eu-west-2 or eu-west-3?"),
    ("azure", "West Europe", "'West Europe' is not an Azure location: did you mean westeurope?"),
    ("azure", "europe-west1", "'europe-west1' is a GCP region, not an Azure location (like westeurope)"),
    ("gcp", "europe-west-1", "'europe-west-1' is not a GCP region: did you mean europe-west1?"),
    ("gcp", "moon-base1", "'moon-base1' is not a GCP region (like europe-west1; terrane knows those of 2026-12-08)"),
    ("gcp", "europe-west1\n", "must be a GCP region (like europe-west1)"),
    ("aws", "a" * 41, "must be an AWS region (like us-east-1)"),
])
def test_a_region_that_is_none_is_named_with_the_ones_it_may_mean(where, value: str, expected: str | None) -> None:
    assert region_problem(where, value) == expected
