"""Regions are checked wherever they are given, against the cloud's own list: at link time, in accounts.yaml and in
an environment. A region that is not one is refused with exit 3, naming the option or the field and the regions
it was likely meant to be, and nothing is written or run."""

from __future__ import annotations

import re

import pytest

from tests.helpers.project import SampleProject

ROLE = "arn:aws:iam::210987654321:role/terrane/terrane-provisioner"


def _link_aws(cli, sample: SampleProject, *extra: str):
    return cli("--project", sample.root, "accounts", "link", "aws", "aws-prod", "--account-id", "210987654321",
               "--role-arn", ROLE, "--no-verify", *extra)


def _one_line(result) -> str:
    assert result.code == 3, result
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    return line


@pytest.mark.parametrize("region, expected", [
    ("us-east-1x", "error: --region: 'us-east-1x' is not an AWS region: did you mean us-east-1?"),
    ("eu-west-9", "error: --region: 'eu-west-9' is not an AWS region: did you mean eu-west-1, eu-west-2 or eu-west-3?"),
    ("westeurope", "error: --region: 'westeurope' is an Azure location, not an AWS region (like us-east-1)"),
    ("mars-1", "error: --region: 'mars-1' is not an AWS region (like us-east-1; terrane knows those of 2026-12-08)"),
])
def test_link_refuses_a_region_that_is_not_one_and_writes_nothing(sample: SampleProject, cli, region: str,
                                                                 expected: str) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    assert _one_line(_link_aws(cli, sample, "--region", region)) == expected
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_link_names_the_variable_a_bad_default_region_came_from(sample: SampleProject, cli, monkeypatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1x")
    assert _one_line(_link_aws(cli, sample)) == "error: $AWS_REGION: 'us-east-1x' is not an AWS region: did you mean us-east-1?"


def test_the_region_is_checked_before_a_bootstrap_stack_is_read(sample: SampleProject, cli, monkeypatch) -> None:
    """The stack's outputs are read in --region: a region that is none is refused before AWS is asked anything."""

    def asked(*args: object) -> None:
        raise AssertionError("CloudFormation was asked")

    monkeypatch.setattr("terrane.engine.clouds.aws.stack.bootstrap_outputs", asked)
    result = cli("--project", sample.root, "accounts", "link", "aws", "aws-prod", "--account-id", "210987654321",
                 "--bootstrap-stack", "terrane-bootstrap", "--region", "eu-west-9", "--no-verify")
    assert _one_line(result).startswith("error: --region: 'eu-west-9' is not an AWS region")


@pytest.mark.parametrize("args, expected", [
    (["azure", "azure-prod", "--tenant-id", "11111111-1111-1111-1111-111111111111", "--subscription-id",
      "44444444-4444-4444-4444-444444444444", "--cli", "--location", "West Europe"],
     "error: --location: 'West Europe' is not an Azure location: did you mean westeurope?"),
    (["gcp", "gcp-prod", "--project", "prod-project-456", "--application-default", "--region", "europe-west-1"],
     "error: --region: 'europe-west-1' is not a GCP region: did you mean europe-west1?"),
    (["ecr", "images", "--account-id", "210987654321", "--region", "us-easst-1", "--repository", "team/web",
      "--profile", "reader"], "error: --region: 'us-easst-1' is not an AWS region: did you mean us-east-1?"),
    (["artifact-registry", "images", "--project", "prod-project-456", "--location", "eu", "--repository", "web",
      "--application-default"],
     ("error: --location: 'eu' is not an Artifact Registry location (like europe-west1 or europe; terrane knows "
     "those of 2026-12-08)")),
], ids=["azure", "gcp", "ecr", "artifact-registry"])
def test_every_link_checks_its_region(sample: SampleProject, cli, args: list[str], expected: str) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    assert _one_line(cli("--project", sample.root, "accounts", "link", *args, "--no-verify")) == expected
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_a_region_of_the_list_is_linked(sample: SampleProject, cli) -> None:
    assert _link_aws(cli, sample, "--region", "ap-southeast-7").code == 0
    assert sample.load_accounts()["accounts"]["aws-prod"]["region"] == "ap-southeast-7"


@pytest.mark.parametrize("verb", [("envs", "validate"), ("plan",)], ids=" ".join)
def test_an_environment_region_that_is_none_stops_validate_and_plan(sample: SampleProject, cli,
                                                                    verb: tuple[str, ...]) -> None:
    sample.edit_env("aws-dev", lambda data: data.update(region="eu-west-9"))
    line = _one_line(cli("--project", sample.root, *verb, "aws-dev"))
    assert line == ("error: environments/aws-dev.yaml: region: 'eu-west-9' is not an AWS region: did you mean "
                    "eu-west-1, eu-west-2 or eu-west-3?")


@pytest.mark.parametrize("account, field, region, expected", [
    ("aws-sandbox", "region", "us-east-1x", "'us-east-1x' is not an AWS region: did you mean us-east-1?"),
    ("azure-sandbox", "location", "westeurop", "'westeurop' is not an Azure location: did you mean westeurope?"),
    ("gcp-sandbox", "region", "us-east-1", "'us-east-1' is an AWS region, not a GCP region (like europe-west1)"),
])
def test_accounts_yaml_regions_are_checked(sample: SampleProject, cli, account: str, field: str, region: str,
                                           expected: str) -> None:
    data = sample.load_accounts()
    data["accounts"][account][field] = region
    sample.write_accounts(data)
    line = _one_line(cli("--project", sample.root, "envs", "validate", "aws-dev"))
    assert line == f"error: accounts.yaml: accounts.{account}.{field}: {expected}"


def test_a_secret_reference_region_is_checked(sample: SampleProject, cli) -> None:
    data = sample.load_accounts()
    data["accounts"]["aws-sandbox"]["auth"]["assume_role"]["external_id"] = {"aws_secret": "x", "region": "eu-west-9"}
    sample.write_accounts(data)
    line = _one_line(cli("--project", sample.root, "plan", "aws-dev"))
    assert re.fullmatch(r"error: accounts\.yaml: accounts\.aws-sandbox\.auth\.assume_role\.external_id\.region: "
                        r"'eu-west-9' is not an AWS region: did you mean .*", line)


def test_a_value_that_is_no_region_is_not_repeated(sample: SampleProject, cli) -> None:
    sample.edit_env("aws-dev", lambda data: data.update(region="x" * 5000))
    line = _one_line(cli("--project", sample.root, "plan", "aws-dev"))
    assert line == "error: environments/aws-dev.yaml: region: must be an AWS region (like us-east-1)"
    data = sample.load_accounts()
    data["accounts"]["aws-sandbox"]["region"] = "y" * 5000
    sample.write_accounts(data)
    line = _one_line(cli("--project", sample.root, "plan", "aws-dev"))
    assert line == "error: accounts.yaml: accounts.aws-sandbox.region: must be an AWS region (like us-east-1)"


@pytest.mark.parametrize("args, expected", [
    (("aws", "--trusted-principal", "arn:aws:iam::999999999999:role/ci", "--region", "us-east-1x"),
     "error: --region: 'us-east-1x' is not an AWS region: did you mean us-east-1?"),
    (("azure", "--principal-id", "11111111-1111-1111-1111-111111111111", "--region", "westeurop"),
     "error: --region: 'westeurop' is not an Azure location: did you mean westeurope?"),
    (("gcp", "--project", "sandbox-project-123", "--region", "us-east-1"),
     "error: --region: 'us-east-1' is an AWS region, not a GCP region"),
    (("gcp", "--project", "sandbox-project-123", "--region", "europe-west1", "--repository", "eu/images"),
     "error: --repository: 'eu/images': 'eu' is not an Artifact Registry location"),
])
def test_bootstrap_checks_its_region_against_the_list(cli, args: tuple[str, ...], expected: str) -> None:
    result = cli("accounts", "bootstrap", *args)
    assert (result.code, result.stdout) == (3, ""), result.stderr
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
