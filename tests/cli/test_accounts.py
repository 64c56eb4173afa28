"""``terrane accounts``: linking, verifying, listing and removing, against moto's server over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
import yaml

from tests.helpers.project import SampleProject

ROLE = "arn:aws:iam::210987654321:role/terrane/terrane-provisioner"
A_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _link_role(cli, sample: SampleProject, *extra: str, account_id: str = "210987654321", role: str = ROLE):
    return cli(
        "--project", sample.root, "accounts", "link", "aws", "aws-prod",
        "--account-id", account_id, "--role-arn", role, "--external-id", "env:TERRANE_TEST_EXTERNAL_ID",
        "--region", "eu-west-1", *extra,
    )


def test_link_verifies_the_role_and_writes_references_only(sample: SampleProject, cli, aws, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "ext-" + A_SECRET)
    before = sample.load_accounts()["accounts"]
    result = _link_role(cli, sample)
    assert result.code == 0, result.stderr
    assert "aws-prod: verified as arn:aws:sts::210987654321:assumed-role/terrane-provisioner/terrane" in result.stdout
    accounts = sample.load_accounts()["accounts"]
    assert accounts["aws-prod"] == {
        "cloud": "aws",
        "account_id": "210987654321",
        "region": "eu-west-1",
        "auth": {"assume_role": {"role_arn": ROLE, "external_id": {"env": "TERRANE_TEST_EXTERNAL_ID"}, "session_name": "terrane"}},
    }
    assert {name: accounts[name] for name in before} == before
    assert A_SECRET not in (sample.root / "accounts.yaml").read_text() + result.stdout + result.stderr
    assert (sample.root / "accounts.yaml").read_text().startswith("# Linked cloud accounts")


def test_verify_json(sample: SampleProject, cli, aws, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "ext-123")
    assert _link_role(cli, sample, "--no-verify").code == 0
    result = cli("--project", sample.root, "accounts", "verify", "aws-prod", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "account": "aws-prod",
        "cloud": "aws",
        "verified": True,
        "identity": "arn:aws:sts::210987654321:assumed-role/terrane-provisioner/terrane",
        "account_id": "210987654321",
        "note": "assumed from arn:aws:sts::123456789012:user/moto",
    }


def test_a_failed_verify_prints_its_json_and_exits_1(sample: SampleProject, cli, aws, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "ext-" + A_SECRET)
    # The role lives in another account than the one linked.
    assert _link_role(cli, sample, "--no-verify", account_id="111111111111").code == 0
    result = cli("--project", sample.root, "accounts", "verify", "aws-prod", "--json")
    assert result.code == 1
    document = json.loads(result.stdout)
    assert {key: document[key] for key in ("account", "verified", "identity", "account_id")} == {
        "account": "aws-prod", "verified": False, "identity": None, "account_id": "111111111111"}
    assert "AWS reports account 210987654321" in document["note"]
    assert "AWS reports account 210987654321" in result.stderr
    assert A_SECRET not in result.stdout + result.stderr

    human = cli("--project", sample.root, "accounts", "verify", "aws-prod")
    assert human.code == 1
    assert "AWS reports account 210987654321" in human.stderr


def test_an_unconfirmed_verify_exits_1(sample: SampleProject, cli, monkeypatch) -> None:
    from terrane.engine.clouds import verification as verify

    monkeypatch.setattr(verify, "installed", lambda module: False)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", A_SECRET)
    result = cli("--project", sample.root, "accounts", "verify", "azure-sandbox", "--json")
    assert result.code == 1
    document = json.loads(result.stdout)
    assert document["verified"] is False
    assert "install terrane[azure] to confirm" in document["note"]
    assert A_SECRET not in result.stdout + result.stderr


def test_a_failed_verification_leaves_accounts_yaml_unchanged(sample: SampleProject, cli, aws, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "ext-123")
    before = (sample.root / "accounts.yaml").read_bytes()
    # The role lives in another account than the one being linked.
    result = _link_role(cli, sample, account_id="111111111111")
    assert result.code == 1
    assert "210987654321" in result.stderr and "111111111111" in result.stderr
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_an_unresolvable_reference_is_invalid_input(sample: SampleProject, cli, aws, monkeypatch) -> None:
    monkeypatch.delenv("TERRANE_TEST_EXTERNAL_ID", raising=False)
    before = (sample.root / "accounts.yaml").read_bytes()
    result = _link_role(cli, sample)
    assert result.code == 3
    assert "env:TERRANE_TEST_EXTERNAL_ID" in result.stderr
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_aws_secret_reference_and_a_deleted_secret(sample: SampleProject, cli, aws) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    client.create_secret(Name="terrane/external-id", SecretString=json.dumps({"external_id": "ext-9"}))
    link = ("--project", sample.root, "accounts", "link", "aws", "aws-prod", "--account-id", "210987654321",
            "--role-arn", ROLE, "--external-id", "aws-secret:terrane/external-id#external_id", "--region", "eu-west-1")
    assert cli(*link).code == 0
    assert sample.load_accounts()["accounts"]["aws-prod"]["auth"]["assume_role"]["external_id"] == {
        "aws_secret": "terrane/external-id",
        "key": "external_id",
    }
    client.delete_secret(SecretId="terrane/external-id", ForceDeleteWithoutRecovery=True)
    result = cli("--project", sample.root, "accounts", "verify", "aws-prod")
    assert result.code == 3
    assert result.stderr.strip() == (
        "error: secret reference aws-secret:terrane/external-id#external_id: "
        "no such secret in eu-west-1 (or it is scheduled for deletion)"
    )


def test_static_keys_verify(sample: SampleProject, cli, aws, monkeypatch) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="terrane-ci")
    key = iam.create_access_key(UserName="terrane-ci")["AccessKey"]
    monkeypatch.setenv("TERRANE_TEST_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("TERRANE_TEST_SECRET_KEY", key["SecretAccessKey"])
    result = cli("--project", sample.root, "accounts", "link", "aws", "aws-ci", "--account-id", "123456789012",
                 "--access-key", "env:TERRANE_TEST_KEY_ID", "--secret-key", "env:TERRANE_TEST_SECRET_KEY",
                 "--region", "us-east-1")
    assert result.code == 0, result.stderr
    assert key["SecretAccessKey"] not in (sample.root / "accounts.yaml").read_text() + result.stdout + result.stderr


@pytest.mark.parametrize(
    ("cloud_args", "flag"),
    [
        (["aws", "x", "--account-id", "123456789012", "--access-key", A_SECRET, "--secret-key", "env:S", "--region", "us-east-1"], "--access-key"),
        (["azure", "x", "--tenant-id", "11111111-1111-1111-1111-111111111111", "--subscription-id",
          "22222222-2222-2222-2222-222222222222", "--client-id", "33333333-3333-3333-3333-333333333333",
          "--client-secret", A_SECRET, "--location", "westeurope"], "--client-secret"),
        (["gcp", "x", "--project", "sandbox-project-123", "--credentials", A_SECRET, "--region", "europe-west1"], "--credentials"),
    ],
)
def test_a_plain_secret_is_refused_and_never_echoed_or_written(sample: SampleProject, cli, cloud_args, flag) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    result = cli("--project", sample.root, "accounts", "link", *cloud_args, "--no-verify")
    assert result.code == 3
    assert result.stderr.startswith(f"error: {flag}: not a secret reference")
    assert A_SECRET not in result.stdout + result.stderr
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_exactly_one_auth_method(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "accounts", "link", "aws", "x", "--account-id", "123456789012",
                 "--role-arn", ROLE, "--profile", "p", "--region", "us-east-1", "--no-verify")
    assert (result.code, result.stderr.strip()) == (3, "error: choose exactly one of --role-arn, --profile, --access-key/--secret-key")


def test_bad_identifiers_name_the_flag(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "accounts", "link", "azure", "x", "--tenant-id", "not-a-uuid",
                 "--subscription-id", "22222222-2222-2222-2222-222222222222", "--cli", "--location", "westeurope",
                 "--no-verify")
    assert result.code == 3
    assert result.stderr.startswith("error: --tenant-id: must be a UUID (like 11111111-2222-3333-4444-555555555555)")


def test_link_azure_and_gcp_without_verification(sample: SampleProject, cli) -> None:
    assert cli("--project", sample.root, "accounts", "link", "azure", "azure-prod", "--tenant-id",
               "11111111-1111-1111-1111-111111111111", "--subscription-id", "44444444-4444-4444-4444-444444444444",
               "--client-id", "33333333-3333-3333-3333-333333333333", "--oidc-token", "file:/var/run/token",
               "--location", "northeurope", "--no-verify").code == 0
    assert cli("--project", sample.root, "accounts", "link", "gcp", "gcp-prod", "--project", "prod-project-456",
               "--impersonate", "terrane@prod-project-456.iam.gserviceaccount.com", "--region", "europe-west4",
               "--no-verify").code == 0
    accounts = sample.load_accounts()["accounts"]
    assert accounts["azure-prod"]["auth"] == {
        "oidc": {"client_id": "33333333-3333-3333-3333-333333333333", "token": {"file": "/var/run/token"}}
    }
    assert accounts["gcp-prod"]["auth"] == {"impersonate": {"service_account": "terrane@prod-project-456.iam.gserviceaccount.com"}}


def test_an_existing_account_needs_replace(sample: SampleProject, cli) -> None:
    args = ("--project", sample.root, "accounts", "link", "aws", "aws-sandbox", "--account-id", "123456789012",
            "--profile", "sandbox", "--region", "us-east-1", "--no-verify")
    assert cli(*args).code == 3
    assert cli(*args, "--replace").code == 0
    assert sample.load_accounts()["accounts"]["aws-sandbox"]["auth"] == {"profile": "sandbox"}


def test_list_json(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "accounts", "list", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)["accounts"]}
    assert rows["aws-sandbox"] == {
        "name": "aws-sandbox", "cloud": "aws", "account_id": "123456789012", "region": "us-east-1",
        "auth": "assume_role", "environments": ["aws-dev"],
    }
    assert rows["gcp-sandbox"]["account_id"] == "sandbox-project-123"


def test_remove_refuses_an_account_in_use(sample: SampleProject, cli) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    result = cli("--project", sample.root, "accounts", "remove", "aws-sandbox")
    assert (result.code, result.stderr.strip()) == (
        3, "error: account 'aws-sandbox' is used by environments/aws-dev.yaml; point them at another account first"
    )
    assert (sample.root / "accounts.yaml").read_bytes() == before
    (sample.root / "environments" / "aws-dev.yaml").unlink()
    assert cli("--project", sample.root, "accounts", "remove", "aws-sandbox").code == 0
    assert set(yaml.safe_load((sample.root / "accounts.yaml").read_text())["accounts"]) == {"azure-sandbox", "gcp-sandbox"}


def test_remove_unknown_account(sample: SampleProject, cli) -> None:
    assert cli("--project", sample.root, "accounts", "remove", "nope").code == 3


def test_bootstrap_prints_the_template_and_a_generated_external_id(cli) -> None:
    result = cli("accounts", "bootstrap", "aws", "--trusted-principal", "arn:aws:iam::999999999999:role/ci",
                 "--region", "eu-west-1")
    assert result.code == 0, result.stderr
    template = yaml.safe_load(result.stdout)
    assert set(template["Outputs"]) == {"ProvisionerRoleArn", "PermissionsBoundaryArn", "DriftRoleArn", "StateBucket",
                                        "StateKeyArn", "BackendUrl", "SecretsProvider"}
    external_id = result.stderr.splitlines()[0].removeprefix("external id: ")
    trust = template["Resources"]["ProvisionerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": external_id}}
    # Then how to deploy it in the region, where to keep terrane's state, and how to link the account.
    lines = result.stderr.splitlines()
    assert ("aws cloudformation deploy --region eu-west-1 --template-file terrane-bootstrap.yaml "
            "--stack-name terrane-bootstrap --capabilities CAPABILITY_NAMED_IAM") in lines
    assert any(line.startswith('export TERRANE_BACKEND_URL="$(aws cloudformation describe-stacks --region eu-west-1 ')
               for line in lines)
    assert "export TERRANE_SECRETS_PROVIDER='awskms://alias/terrane-state?region=eu-west-1'" in lines
    assert ("terrane accounts link aws NAME --account-id ID --bootstrap-stack terrane-bootstrap --region eu-west-1 "
            "--external-id env:TERRANE_AWS_EXTERNAL_ID") in lines


def test_bootstrap_with_a_given_external_id_repositories_and_the_region_from_the_environment_in_json(
    cli, monkeypatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    result = cli("accounts", "bootstrap", "aws", "--trusted-principal", "999999999999", "--external-id", "abc-123",
                 "--repository", "team/app", "--repository", "base", "--format", "json")
    assert result.code == 0, result.stderr
    template = json.loads(result.stdout)
    assert "abc-123" in json.dumps(template["Resources"]["DriftRole"])
    assert "abc-123" not in result.stderr
    assert template["Outputs"]["RegistryRepositories"]["Value"] == "team/app,base"
    assert template["Rules"]["StateStoreRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1] == "ap-southeast-2"
    assert "--template-file terrane-bootstrap.json" in result.stderr
    assert not result.stderr.startswith("external id:")


def test_bootstrap_refuses_a_bad_principal(cli) -> None:
    result = cli("accounts", "bootstrap", "aws", "--trusted-principal", "bob", "--region", "eu-west-1")
    assert result.code == 3
    assert result.stderr.startswith("error: --trusted-principal:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: --region is required (or set AWS_REGION or AWS_DEFAULT_REGION)"),
        (("--region", "Europe"), "error: --region: 'Europe' is not an AWS region"),
        (("--region", "eu-west-1", "--repository", "Team/App"), "error: --repository: 'Team/App' is not an ECR"),
    ],
)
def test_bootstrap_refuses_a_missing_or_bad_region_and_a_bad_repository(cli, monkeypatch, args, message) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    result = cli("accounts", "bootstrap", "aws", "--trusted-principal", "999999999999", *args)
    assert (result.code, result.stdout) == (3, "")
    assert result.stderr.startswith(message), result.stderr


def test_concurrent_links_each_keep_their_account(sample: SampleProject) -> None:
    """Four ``accounts link`` at once: every one is saved (the file is changed under a lock), no temp file left."""
    names = [f"aws-team{index}" for index in range(4)]
    runs = [subprocess.Popen(
        [sys.executable, "-c", "import sys; from terrane.engine.cli import main; sys.exit(main())", "--project", str(sample.root),
         "accounts", "link", "aws", name, "--account-id", f"21098765432{index}",
         "--role-arn", f"arn:aws:iam::21098765432{index}:role/terrane-provisioner", "--region", "eu-west-1",
         "--no-verify"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for index, name in enumerate(names)]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    assert set(names) <= set(sample.load_accounts()["accounts"])
    assert not [path.name for path in sample.root.iterdir() if path.name.startswith(".accounts.yaml")]


def _link_profile(cli, sample: SampleProject, name: str, *extra: str):
    return cli("--project", sample.root, "accounts", "link", "aws", name, "--account-id", "123456789012",
               "--profile", "p", "--region", "us-east-1", "--no-verify", *extra)


def test_an_account_name_the_loader_refuses_is_never_written(sample: SampleProject, cli) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    result = _link_profile(cli, sample, "Prod")
    assert (result.code, result.stderr.strip()) == (3, (
        "error: account name 'Prod': must start with a lowercase letter and contain only lowercase letters, "
        "digits and '-', at most 63 characters"))
    assert (sample.root / "accounts.yaml").read_bytes() == before
    assert cli("--project", sample.root, "accounts", "list").code == 0


COMMENTED = """\
# Linked cloud accounts.
accounts:
  # the sandbox, shared by every team
  aws-sandbox:
    cloud: aws
    account_id: "123456789012"   # the sandbox account
    region: us-east-1
    auth:
      profile: sandbox
  # gcp-later:
  #   cloud: gcp
  zz-last:
    cloud: aws
    account_id: "210987654321"
    region: eu-west-1
    auth: {profile: last}
# the end
"""


def test_link_and_remove_change_only_the_lines_of_their_account(sample: SampleProject, cli) -> None:
    (sample.root / "environments").rename(sample.root / "unused")
    path = sample.root / "accounts.yaml"
    path.write_text(COMMENTED)
    assert _link_profile(cli, sample, "aws-prod").code == 0
    added = path.read_text()
    block = "  aws-prod:\n    cloud: aws\n    account_id: '123456789012'\n    region: us-east-1\n    auth:\n      profile: p\n"
    assert added == COMMENTED.replace("# the end\n", block + "# the end\n")

    assert _link_profile(cli, sample, "aws-sandbox", "--replace").code == 0
    replaced = path.read_text()
    assert "  # the sandbox, shared by every team\n  aws-sandbox:\n    cloud: aws\n" in replaced
    assert "# the sandbox account" not in replaced and "profile: sandbox" not in replaced
    assert replaced.count("profile: p\n") == 2 and "# gcp-later:" in replaced
    assert list(sample.load_accounts()["accounts"]) == ["aws-sandbox", "zz-last", "aws-prod"]

    for name in ("aws-prod", "aws-sandbox", "zz-last"):
        assert cli("--project", sample.root, "accounts", "remove", name).code == 0
    assert path.read_text() == (
        "# Linked cloud accounts.\naccounts:\n  # the sandbox, shared by every team\n  # gcp-later:\n  #   cloud: gcp\n# the end\n"
    )
    assert cli("--project", sample.root, "accounts", "list", "--json").stdout.count('"name"') == 0
    assert _link_profile(cli, sample, "aws-again").code == 0
    assert list(sample.load_accounts()["accounts"]) == ["aws-again"]
    assert path.read_text().startswith("# Linked cloud accounts.\naccounts:\n  aws-again:\n")


def test_accounts_shared_through_an_alias_are_written_whole(sample: SampleProject, cli) -> None:
    (sample.root / "environments").rename(sample.root / "unused")
    path = sample.root / "accounts.yaml"
    path.write_text("# header\naccounts:\n  a: &base {cloud: aws, account_id: '123456789012', region: us-east-1, "
                    "auth: {profile: a}}\n  b: *base\n")
    assert cli("--project", sample.root, "accounts", "remove", "a").code == 0
    assert path.read_text().startswith("# header\n")
    assert sample.load_accounts()["accounts"] == {
        "b": {"cloud": "aws", "account_id": "123456789012", "region": "us-east-1", "auth": {"profile": "a"}}}


def test_an_invalid_entry_can_be_removed(sample: SampleProject, cli) -> None:
    path = sample.root / "accounts.yaml"
    before = path.read_text()
    path.write_text(before + "  Prod:\n    cloud: aws\n    account_id: '1'\n")
    assert cli("--project", sample.root, "accounts", "list").code == 3
    result = cli("--project", sample.root, "accounts", "remove", "Prod")
    assert result.code == 0, result.stderr
    assert path.read_text() == before
