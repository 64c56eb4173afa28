"""``doctor``'s state region check: the state store's region, from its URLs or TERRANE_STATE_REGION, against the
regions of the environments on its cloud. Nothing is asked of a cloud."""

from __future__ import annotations

from pathlib import Path

import pytest

from terrane.engine import doctor
from terrane.engine.operations import workspace
from terrane.engine.project import open_project
from tests.helpers.project import SampleProject

# The sample's environments: aws-dev in us-east-1, azure-dev in westeurope, gcp-dev in europe-west1.


@pytest.fixture
def project(tmp_path: Path) -> SampleProject:
    sample = SampleProject.copy_to(tmp_path / "project")
    # A second AWS environment, elsewhere.
    data = sample.load_env("aws-dev")
    sample.write_env("aws-prod", {**data, "name": "aws-prod", "region": "eu-west-1"})
    return sample


def _check(sample: SampleProject, **environ: str) -> doctor.Check | None:
    project = open_project(sample.root)
    backend = workspace.backend(project, environ, create=False)
    return doctor._state_region(project, backend, environ)


def test_a_local_backend_says_nothing(project: SampleProject) -> None:
    assert _check(project) is None
    # Even with a KMS secrets provider: the state itself is on this disk.
    assert _check(project, TERRANE_SECRETS_PROVIDER="awskms://alias/terrane-state?region=eu-west-1") is None


def test_pulumi_cloud_says_nothing(project: SampleProject) -> None:
    assert _check(project, TERRANE_BACKEND_URL="https://api.pulumi.com") is None


def test_environments_in_another_region_than_the_bucket_are_a_warning(project: SampleProject) -> None:
    check = _check(project, TERRANE_BACKEND_URL="s3://terrane-state-abc?region=eu-west-1&awssdk=v2")
    assert check == doctor.Check(
        "state region", "warn",
        "the state store is in eu-west-1 (from TERRANE_BACKEND_URL); aws environments in other regions, whose "
        "state and secrets cross regions on every run: aws-dev (us-east-1)",
    )


def test_all_in_the_region_is_ok(project: SampleProject) -> None:
    project.env_path("aws-prod").unlink()
    check = _check(project, TERRANE_BACKEND_URL="s3://terrane-state-abc?region=us-east-1",
                   TERRANE_SECRETS_PROVIDER="awskms://alias/terrane-state?region=us-east-1")
    assert check == doctor.Check("state region", "ok",
                                 "the state store is in us-east-1 (from TERRANE_BACKEND_URL), like every aws environment")


@pytest.mark.parametrize(
    "provider",
    [
        "awskms://alias/terrane-state?region=eu-west-1",
        "awskms:///arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-west-1&awssdk=v2",
    ],
)
def test_the_region_may_come_from_the_secrets_provider(project: SampleProject, provider: str) -> None:
    check = _check(project, TERRANE_BACKEND_URL="s3://terrane-state-abc", TERRANE_SECRETS_PROVIDER=provider)
    assert check is not None and check.status == "warn"
    assert check.detail.startswith("the state store is in eu-west-1 (from TERRANE_SECRETS_PROVIDER); ")
    assert check.detail.endswith(": aws-dev (us-east-1)")


def test_urls_that_disagree_are_a_warning(project: SampleProject) -> None:
    check = _check(project, TERRANE_BACKEND_URL="s3://b?region=us-east-1",
                   TERRANE_SECRETS_PROVIDER="awskms://alias/terrane-state?region=eu-west-1")
    assert check == doctor.Check("state region", "warn", "the state store is in us-east-1 (from TERRANE_BACKEND_URL), "
                                                         "but eu-west-1 (TERRANE_SECRETS_PROVIDER) says otherwise")


def test_an_unknown_region_says_how_to_make_it_checkable(project: SampleProject) -> None:
    check = _check(project, TERRANE_BACKEND_URL="s3://terrane-state-abc")
    assert check == doctor.Check(
        "state region", "ok",
        "cannot tell the region of the aws state store from its URLs: add ?region=R to TERRANE_BACKEND_URL, or "
        "set TERRANE_STATE_REGION, to check it against the environments' regions",
    )


def test_azure_needs_the_variable(project: SampleProject) -> None:
    backend = "azblob://state?storage_account=terranestate"
    vault = "azurekeyvault://terrane-kv.vault.azure.net/keys/state"
    unknown = _check(project, TERRANE_BACKEND_URL=backend, TERRANE_SECRETS_PROVIDER=vault)
    assert unknown is not None and unknown.status == "ok" and "TERRANE_STATE_REGION" in unknown.detail
    assert _check(project, TERRANE_BACKEND_URL=backend, TERRANE_STATE_REGION="westeurope") == doctor.Check(
        "state region", "ok", "the state store is in westeurope (from TERRANE_STATE_REGION), like every azure environment")
    assert _check(project, TERRANE_BACKEND_URL=backend, TERRANE_STATE_REGION="NorthEurope") == doctor.Check(
        "state region", "warn",
        "the state store is in northeurope (from TERRANE_STATE_REGION); azure environments in other regions, whose "
        "state and secrets cross regions on every run: azure-dev (westeurope)")


def test_the_variable_comes_first(project: SampleProject) -> None:
    check = _check(project, TERRANE_BACKEND_URL="s3://b?region=eu-west-1", TERRANE_STATE_REGION="eu-west-1")
    assert check is not None
    assert check.detail.startswith("the state store is in eu-west-1 (from TERRANE_STATE_REGION); ")


@pytest.mark.parametrize(
    ("provider", "status"),
    [
        ("gcpkms://projects/p/locations/europe-west1/keyRings/terrane/cryptoKeys/state", "ok"),
        ("gcpkms://projects/p/locations/us-central1/keyRings/terrane/cryptoKeys/state", "warn"),
        # A multi-region covers its regions.
        ("gcpkms://projects/p/locations/europe/keyRings/terrane/cryptoKeys/state", "ok"),
    ],
)
def test_gcp_from_the_key_ring_location(project: SampleProject, provider: str, status: str) -> None:
    check = _check(project, TERRANE_BACKEND_URL="gs://terrane-state", TERRANE_SECRETS_PROVIDER=provider)
    assert check is not None and check.status == status, check
    assert "gcp" in check.detail


def test_a_global_key_ring_tells_no_region(project: SampleProject) -> None:
    check = _check(project, TERRANE_BACKEND_URL="gs://terrane-state",
                   TERRANE_SECRETS_PROVIDER="gcpkms://projects/p/locations/global/keyRings/k/cryptoKeys/state")
    assert check is not None and check.status == "ok" and check.detail.startswith("cannot tell the region")


def test_a_secrets_provider_on_another_cloud_is_not_read(project: SampleProject) -> None:
    check = _check(project, TERRANE_BACKEND_URL="s3://b?region=us-east-1",
                   TERRANE_SECRETS_PROVIDER="gcpkms://projects/p/locations/us-central1/keyRings/k/cryptoKeys/state")
    assert check is not None and check.status == "warn" and check.detail.endswith(": aws-prod (eu-west-1)")


def test_no_environment_on_the_cloud(project: SampleProject) -> None:
    for name in ("aws-dev", "aws-prod"):
        project.env_path(name).unlink()
    assert _check(project, TERRANE_BACKEND_URL="s3://b?region=us-east-1") == doctor.Check(
        "state region", "ok", "the state store is in us-east-1 (from TERRANE_BACKEND_URL); no aws environment")


def test_an_invalid_environment_is_left_to_envs_validate(project: SampleProject) -> None:
    project.edit_env("aws-prod", lambda data: data.update(network={"cidr": "not-a-cidr"}))
    check = _check(project, TERRANE_BACKEND_URL="s3://b?region=us-east-1")
    assert check is not None and check.status == "ok"
