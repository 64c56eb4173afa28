"""``terrane accounts bootstrap azure|gcp``: the template or script on stdout, what to run next on stderr."""

from __future__ import annotations

import json
import subprocess

import pytest

PRINCIPAL = "44444444-4444-4444-4444-444444444444"


@pytest.fixture(autouse=True)
def _no_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AZURE_LOCATION", "CLOUDSDK_COMPUTE_REGION"):
        monkeypatch.delenv(variable, raising=False)


def test_azure_prints_the_template_and_the_commands_naming_the_region(cli) -> None:
    result = cli("accounts", "bootstrap", "azure", "--region", "westeurope", "--principal-id", PRINCIPAL,
                 "--drift-principal-id", "55555555-5555-5555-5555-555555555555")
    assert result.code == 0, result.stderr
    template = json.loads(result.stdout)
    assert template["parameters"]["location"]["defaultValue"] == "westeurope"
    assert template["variables"]["principalId"] == PRINCIPAL
    assert set(template["outputs"]) >= {"backendUrl", "secretsProvider", "stateRegion"}
    err = result.stderr.splitlines()
    assert ("  az deployment sub create --location westeurope --name terrane-bootstrap "
            "--template-file terrane-bootstrap.json") in err
    assert ('  export TERRANE_BACKEND_URL="$(az deployment sub show --name terrane-bootstrap '
            '--query properties.outputs.backendUrl.value -o tsv)"') in err
    assert "  export TERRANE_STATE_REGION=westeurope" in err


def test_azure_region_defaults_to_azure_location(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_LOCATION", "swedencentral")
    result = cli("accounts", "bootstrap", "azure", "--principal-id", PRINCIPAL,
                 "--acr", "sharedregistry", "--acr-resource-group", "rg-shared",
                 "--registry-reader-principal-id", "66666666-6666-6666-6666-666666666666")
    assert result.code == 0, result.stderr
    template = json.loads(result.stdout)
    assert template["parameters"]["location"]["defaultValue"] == "swedencentral"
    assert template["variables"]["registryName"] == "sharedregistry"
    assert "--location swedencentral" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: --region is required (or set AZURE_LOCATION)"),
        (("--region", "West Europe"), "error: --region: 'West Europe' is not an Azure location"),
        (("--region", "westeurope", "--principal-id", "bob"), "error: --principal-id: 'bob' is not an object id"),
        (("--region", "westeurope", "--drift-principal-id", "bob"), "error: --drift-principal-id: "),
        (("--region", "westeurope", "--acr", "sharedregistry"), "error: --acr-resource-group, "),
    ],
)
def test_azure_bad_input_exits_3_naming_the_flag(cli, args: tuple[str, ...], message: str) -> None:
    extra = () if "--principal-id" in args else ("--principal-id", PRINCIPAL)
    result = cli("accounts", "bootstrap", "azure", *args, *extra)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_azure_needs_the_principal(cli) -> None:
    result = cli("accounts", "bootstrap", "azure", "--region", "westeurope")
    assert result.code == 3
    assert "--principal-id" in result.stderr


def test_gcp_prints_a_script_that_parses(cli, tmp_path) -> None:
    result = cli("accounts", "bootstrap", "gcp", "--project", "sandbox-project-123", "--region", "europe-west1",
                 "--repository", "europe-west1/images", "--member", "group:platform@example.com")
    assert result.code == 0, result.stderr
    path = tmp_path / "terrane-bootstrap.sh"
    path.write_text(result.stdout)
    assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0
    assert "--member=group:platform@example.com" in result.stdout
    assert "gcloud artifacts repositories add-iam-policy-binding images --location=europe-west1" in result.stdout
    assert result.stderr.strip() == "Run it as an owner of project sandbox-project-123: bash terrane-bootstrap.sh"


def test_gcp_region_defaults_to_the_gcloud_region(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDSDK_COMPUTE_REGION", "us-central1")
    result = cli("accounts", "bootstrap", "gcp", "--project", "sandbox-project-123")
    assert result.code == 0, result.stderr
    assert "--location=us-central1" in result.stdout
    assert "export TERRANE_SECRETS_PROVIDER=gcpkms://projects/sandbox-project-123/locations/us-central1/" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--project", "sandbox-project-123"), "error: --region is required (or set CLOUDSDK_COMPUTE_REGION)"),
        (("--project", "Bad_Project", "--region", "europe-west1"), "error: --project: 'Bad_Project' is not a project id"),
        (("--project", "sandbox-project-123", "--region", "mars"), "error: --region: 'mars' is not a GCP region"),
        (("--project", "sandbox-project-123", "--region", "europe-west1", "--repository", "images"),
         "error: --repository: 'images' is not LOCATION/NAME"),
        (("--project", "sandbox-project-123", "--region", "europe-west1", "--member", "bob"),
         "error: --member: 'bob' is not an IAM principal"),
        (("--region", "europe-west1"), "error: Missing option '--project'"),
    ],
)
def test_gcp_bad_input_exits_3_naming_the_flag(cli, args: tuple[str, ...], message: str) -> None:
    result = cli("accounts", "bootstrap", "gcp", *args)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr.startswith(message), result.stderr
