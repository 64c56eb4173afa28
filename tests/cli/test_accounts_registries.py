"""``terrane accounts`` for container registries: link, list, verify and remove, against moto's server over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import boto3
import pytest
import yaml

from tests.helpers.project import SampleProject

ACCOUNT = "123456789012"
READER_ARN = f"arn:aws:iam::{ACCOUNT}:role/terrane-registry-reader"
A_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYREGISTRY"
TENANT = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"
CLIENT = "44444444-4444-4444-4444-444444444444"

READER_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "EcrSignIn", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
    {"Sid": "Pull", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"],
     "Resource": f"arn:aws:ecr:*:{ACCOUNT}:repository/*"},
    {"Sid": "ReadOwnRolePolicies", "Effect": "Allow", "Resource": READER_ARN,
     "Action": ["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"]}]}
PUSH_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                                   "ecr:PutImage"], "Resource": "*"}]}


def reader(*policies: tuple[str, dict[str, Any]]) -> None:
    """The registry reader role in moto, and the repositories web and team/worker."""
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="terrane-registry-reader", AssumeRolePolicyDocument=json.dumps(trust))
    for name, document in (("reader", READER_POLICY), *policies):
        iam.put_role_policy(RoleName="terrane-registry-reader", PolicyName=name, PolicyDocument=json.dumps(document))
    ecr = boto3.client("ecr", region_name="us-east-1")
    for repository in ("web", "team/worker"):
        ecr.create_repository(repositoryName=repository)


def link_ecr(cli, sample: SampleProject, *extra: str, name: str = "images"):
    return cli("--project", sample.root, "accounts", "link", "ecr", name, "--account-id", ACCOUNT,
               "--region", "us-east-1", "--repository", "web", "--repository", "team/worker",
               "--role-arn", READER_ARN, "--external-id", "env:TERRANE_TEST_EXTERNAL_ID", *extra)


@pytest.fixture(autouse=True)
def external_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_TEST_EXTERNAL_ID", "ext-" + A_SECRET)


ECR_BLOCK = f"""\
  images:
    cloud: aws
    account_id: '{ACCOUNT}'
    region: us-east-1
    repositories:
    - web
    - team/worker
    auth:
      assume_role:
        role_arn: {READER_ARN}
        external_id:
          env: TERRANE_TEST_EXTERNAL_ID
        session_name: terrane
"""


def test_link_ecr_verifies_and_adds_only_its_lines(sample: SampleProject, cli, aws) -> None:
    reader()
    before = (sample.root / "accounts.yaml").read_text()
    result = link_ecr(cli, sample)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "images: verified (ECR): can pull, cannot push"
    assert "  ok    ecr:ListImages team/worker: lists its images (none yet)" in result.stdout
    assert "  ok    push: cannot push: no statement allows ecr:PutImage" in result.stdout
    assert result.stderr.strip() == (f"linked ECR registry images ({ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web, "
                                     f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/worker) in accounts.yaml")
    assert (sample.root / "accounts.yaml").read_text() == before + ECR_BLOCK
    assert A_SECRET not in result.stdout + result.stderr + (sample.root / "accounts.yaml").read_text()


def test_a_registry_that_can_push_is_not_linked(sample: SampleProject, cli, aws) -> None:
    reader(("push", PUSH_POLICY))
    before = (sample.root / "accounts.yaml").read_bytes()
    result = link_ecr(cli, sample)
    assert result.code == 1
    assert result.stdout.splitlines()[0].startswith(
        "images: NOT verified (ECR): CAN push: statement 1 of inline policy push allows ecr:PutImage on *")
    assert "  FAIL  push: CAN push: " in result.stdout
    assert result.stderr.startswith("error: registry images was not linked: CAN push: statement 1 of inline policy "
                                    "push allows ecr:PutImage on *")
    assert "pass --no-verify to link it anyway" in result.stderr
    assert (sample.root / "accounts.yaml").read_bytes() == before

    assert link_ecr(cli, sample, "--no-verify").code == 0
    verified = cli("--project", sample.root, "accounts", "verify", "images", "--json")
    assert verified.code == 1
    document = json.loads(verified.stdout)
    assert (document["kind"], document["verified"], document["can_pull"], document["can_push"]) == (
        "ECR", False, True, True)
    assert [item["check"] for item in document["evidence"]] == [
        "sts:GetCallerIdentity", "ecr:GetAuthorizationToken", "ecr:ListImages web", "ecr:ListImages team/worker",
        "iam:policies", "push"]


def test_verify_a_registry_as_json(sample: SampleProject, cli, aws) -> None:
    reader()
    assert link_ecr(cli, sample, "--no-verify").code == 0
    result = cli("--project", sample.root, "accounts", "verify", "images", "--json")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {key: document[key] for key in ("account", "cloud", "verified", "identity", "account_id", "note", "kind",
                                           "can_pull", "can_push")} == {
        "account": "images", "cloud": "aws", "verified": True,
        "identity": f"arn:aws:sts::{ACCOUNT}:assumed-role/terrane-registry-reader/terrane", "account_id": ACCOUNT,
        "note": "can pull, cannot push", "kind": "ECR", "can_pull": True, "can_push": False}
    assert all(item["passed"] for item in document["evidence"])

    human = cli("--project", sample.root, "accounts", "verify", "images")
    assert human.code == 0
    assert human.stdout.startswith("images: verified (ECR): can pull, cannot push\n  ok    sts:GetCallerIdentity: ")


def test_a_role_that_cannot_read_its_policies_prints_json_and_exits_1(sample: SampleProject, cli, aws) -> None:
    # No role at all behind the ARN: moto lets the role be assumed, and then IAM has no such role.
    assert link_ecr(cli, sample, "--no-verify").code == 0
    boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="web")
    result = cli("--project", sample.root, "accounts", "verify", "images", "--json")
    assert result.code == 1
    document = json.loads(result.stdout)
    assert (document["verified"], document["can_push"]) == (False, None)
    assert "cannot show it cannot push: iam:GetRole refused for role terrane-registry-reader (NoSuchEntity)" in (
        document["note"])
    assert f"no repository team/worker in {ACCOUNT}/us-east-1" in document["note"]


def test_an_unconfirmed_registry_exits_1(sample: SampleProject, cli, monkeypatch) -> None:
    from terrane.engine.clouds import verification as verify

    monkeypatch.setattr(verify, "installed", lambda module: False)
    monkeypatch.setenv("ACR_READER_SECRET", A_SECRET)
    result = cli("--project", sample.root, "accounts", "verify", "azure-images", "--json")
    assert result.code == 1
    document = json.loads(result.stdout)
    assert (document["kind"], document["verified"], document["can_pull"], document["evidence"]) == (
        "ACR", False, None, [])
    assert "install terrane[azure] to confirm" in document["note"]
    assert A_SECRET not in result.stdout + result.stderr


def test_verify_an_unknown_name(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "accounts", "verify", "nope")
    assert (result.code, result.stderr.strip()) == (3, (
        "error: unknown account or registry 'nope' (accounts.yaml has: aws-sandbox, azure-sandbox, gcp-sandbox, "
        "aws-images, azure-images, gcp-images)"))


@pytest.mark.parametrize("args", [
    ["ecr", "aws-sandbox", "--account-id", ACCOUNT, "--region", "us-east-1", "--repository", "web", "--profile", "p"],
    ["aws", "aws-images", "--account-id", ACCOUNT, "--region", "us-east-1", "--profile", "p"],
])
def test_names_are_unique_across_accounts_and_registries(sample: SampleProject, cli, args: list[str]) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    result = cli("--project", sample.root, "accounts", "link", *args, "--no-verify", "--replace")
    assert result.code == 3
    other, noun = ("an account", "registry") if args[0] == "ecr" else ("a registry", "account")
    assert result.stderr.strip() == f"error: '{args[1]}' is already linked as {other}; give the {noun} another name"
    assert (sample.root / "accounts.yaml").read_bytes() == before


def test_an_existing_registry_needs_replace(sample: SampleProject, cli) -> None:
    args = ("--project", sample.root, "accounts", "link", "artifact-registry", "gcp-images", "--project",
            "sandbox-project-123", "--location", "europe-west4", "--repository", "apps", "--application-default",
            "--no-verify")
    result = cli(*args)
    assert (result.code, result.stderr.strip()) == (
        3, "error: registry 'gcp-images' is already linked; pass --replace to link it again")
    assert cli(*args, "--replace").code == 0
    assert sample.load_accounts()["registries"]["gcp-images"] == {
        "cloud": "gcp", "project": "sandbox-project-123", "location": "europe-west4", "repository": "apps",
        "auth": {"application_default": {}}}
    assert list(sample.load_accounts()["registries"]) == ["aws-images", "azure-images", "gcp-images"]


ACR_ARGS = ["acr", "acr", "--tenant-id", TENANT, "--subscription-id", SUBSCRIPTION, "--resource-group", "images",
            "--name", "acmeimages"]
GAR_ARGS = ["artifact-registry", "gar", "--project", "acme-images", "--location", "europe-west1",
            "--repository", "images"]


def test_link_acr_and_artifact_registry_without_verification(sample: SampleProject, cli) -> None:
    assert cli("--project", sample.root, "accounts", "link", *ACR_ARGS, "--client-id", CLIENT,
               "--oidc-token", "file:/var/run/token", "--no-verify").code == 0
    gar = cli("--project", sample.root, "accounts", "link", *GAR_ARGS, "--impersonate",
              "terrane-registry-reader@acme-images.iam.gserviceaccount.com", "--no-verify")
    assert gar.code == 0
    assert gar.stderr.strip() == ("linked Artifact Registry registry gar (europe-west1-docker.pkg.dev/acme-images/images) "
                                  "in accounts.yaml")
    registries = sample.load_accounts()["registries"]
    assert registries["acr"] == {"cloud": "azure", "tenant_id": TENANT, "subscription_id": SUBSCRIPTION,
                                 "resource_group": "images", "name": "acmeimages",
                                 "auth": {"oidc": {"client_id": CLIENT, "token": {"file": "/var/run/token"}}}}
    assert registries["gar"]["auth"] == {
        "impersonate": {"service_account": "terrane-registry-reader@acme-images.iam.gserviceaccount.com"}}


@pytest.mark.parametrize(("args", "message"), [
    (["ecr", "x", "--account-id", ACCOUNT, "--region", "us-east-1", "--repository", "web", "--repository", "Team/Web",
      "--profile", "p"], "--repository: must be an ECR repository name"),
    (["ecr", "x", "--account-id", ACCOUNT, "--region", "us-east-1", "--repository", "web", "--repository", "web",
      "--profile", "p"], "--repository: duplicate repository 'web'"),
    (["ecr", "x", "--account-id", "1234", "--region", "us-east-1", "--repository", "web", "--profile", "p"],
     "--account-id: must be the 12 digits of an AWS account id"),
    ([*ACR_ARGS[:-1], "acr!", "--cli"], "--name: must be a registry name"),
    (["acr", "x", "--tenant-id", "not-a-uuid", *ACR_ARGS[4:], "--cli"], "--tenant-id: must be a UUID"),
    ([*GAR_ARGS[:5], "Europe West", *GAR_ARGS[6:], "--application-default"], "--location: 'Europe West' is not an Artifact Registry location"),
    ([*GAR_ARGS[:-1], "-images", "--application-default"], "--repository: must be a repository id"),
    (["ecr", "x", "--account-id", ACCOUNT, "--region", "us-east-1", "--repository", "web", "--profile", "p",
      "--role-arn", READER_ARN], "choose exactly one of --role-arn, --profile, --access-key/--secret-key"),
    ([*ACR_ARGS, "--client-secret", "env:S"], "--client-secret and --oidc-token need --client-id"),
    ([*GAR_ARGS], "choose exactly one of --credentials, --impersonate, --application-default"),
])
def test_bad_flags_are_named(sample: SampleProject, cli, args: list[str], message: str) -> None:
    before = (sample.root / "accounts.yaml").read_bytes()
    result = cli("--project", sample.root, "accounts", "link", *args, "--no-verify")
    assert result.code == 3
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert (sample.root / "accounts.yaml").read_bytes() == before


@pytest.mark.parametrize(("args", "flag"), [
    ([*ACR_ARGS, "--client-id", CLIENT, "--client-secret", A_SECRET], "--client-secret"),
    ([*GAR_ARGS, "--credentials", A_SECRET], "--credentials"),
    (["ecr", "x", "--account-id", ACCOUNT, "--region", "us-east-1", "--repository", "web",
      "--access-key", A_SECRET, "--secret-key", "env:S"], "--access-key"),
])
def test_a_plain_secret_is_refused_and_never_echoed(sample: SampleProject, cli, args: list[str], flag: str) -> None:
    result = cli("--project", sample.root, "accounts", "link", *args, "--no-verify")
    assert result.code == 3
    assert result.stderr.startswith(f"error: {flag}: not a secret reference")
    assert A_SECRET not in result.stdout + result.stderr + (sample.root / "accounts.yaml").read_text()


def test_list_shows_registries(sample: SampleProject, cli) -> None:
    result = cli("--project", sample.root, "accounts", "list", "--json")
    assert result.code == 0
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1 and len(document["accounts"]) == 3
    assert document["registries"][0] == {
        "name": "aws-images", "cloud": "aws", "kind": "ECR",
        "where": [f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/platform/web",
                  f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/platform/worker"],
        "auth": "assume_role", "environments": ["aws-dev"]}
    assert [(row["name"], row["kind"]) for row in document["registries"]] == [
        ("aws-images", "ECR"), ("azure-images", "ACR"), ("gcp-images", "Artifact Registry")]

    text = cli("--project", sample.root, "accounts", "list").stdout.splitlines()
    header = text.index(next(line for line in text if line.startswith("REGISTRY")))
    assert text[header - 1] == "" and text[header].split() == ["REGISTRY", "CLOUD", "KIND", "WHERE", "AUTH",
                                                               "ENVIRONMENTS"]
    assert text[header + 2].split() == ["azure-images", "azure", "ACR", "sandboximages.azurecr.io",
                                        "service_principal", "azure-dev"]


def test_list_without_registries_shows_accounts_only(sample: SampleProject, cli) -> None:
    data = sample.load_accounts()
    del data["registries"]
    sample.write_accounts(data)
    for env in ("aws-dev", "azure-dev", "gcp-dev"):
        sample.edit_env(env, lambda raw: raw["cluster"].pop("registries", None))
    result = cli("--project", sample.root, "accounts", "list")
    assert result.code == 0 and "REGISTRY" not in result.stdout
    assert json.loads(cli("--project", sample.root, "accounts", "list", "--json").stdout)["registries"] == []


def test_remove_refuses_a_registry_in_use_and_then_removes_only_its_lines(sample: SampleProject, cli) -> None:
    path = sample.root / "accounts.yaml"
    before = path.read_text()
    result = cli("--project", sample.root, "accounts", "remove", "gcp-images")
    assert (result.code, result.stderr.strip()) == (3, (
        "error: registry 'gcp-images' is used by environments/gcp-dev.yaml; take it out of their "
        "cluster.registries first"))
    assert path.read_text() == before
    sample.edit_env("gcp-dev", lambda raw: raw["cluster"].pop("registries"))
    removed = cli("--project", sample.root, "accounts", "remove", "gcp-images")
    assert (removed.code, removed.stderr.strip()) == (0, "removed registry gcp-images")
    block = before[before.index("  gcp-images:\n"):]
    assert path.read_text() == before.replace(block, "")
    assert cli("--project", sample.root, "envs", "validate", "aws-dev").code == 0


COMMENTED = """\
# Linked cloud accounts.
accounts:
  # the sandbox
  aws-sandbox:
    cloud: aws
    account_id: "123456789012"   # the sandbox account
    region: us-east-1
    auth: {profile: sandbox}
# the end
"""


def test_a_first_registry_starts_its_section_and_leaves_the_rest(sample: SampleProject, cli) -> None:
    (sample.root / "environments").rename(sample.root / "unused")
    path = sample.root / "accounts.yaml"
    path.write_text(COMMENTED)
    args = ("--project", sample.root, "accounts", "link", "ecr", "images", "--account-id", ACCOUNT, "--region",
            "us-east-1", "--repository", "web", "--profile", "reader", "--no-verify")
    assert cli(*args).code == 0
    block = (f"registries:\n  images:\n    cloud: aws\n    account_id: '{ACCOUNT}'\n    region: us-east-1\n"
             "    repositories:\n    - web\n    auth:\n      profile: reader\n")
    assert path.read_text() == COMMENTED + block
    assert _link_profile_account(cli, sample).code == 0
    assert path.read_text().startswith(COMMENTED.replace("# the end\n", "  aws-prod:\n"))
    assert path.read_text().endswith("# the end\n" + block)
    assert cli("--project", sample.root, "accounts", "remove", "images").code == 0
    assert yaml.safe_load(path.read_text())["registries"] is None
    assert cli("--project", sample.root, "accounts", "list", "--json").code == 0


def _link_profile_account(cli, sample: SampleProject):
    return cli("--project", sample.root, "accounts", "link", "aws", "aws-prod", "--account-id", ACCOUNT,
               "--profile", "p", "--region", "us-east-1", "--no-verify")


def test_concurrent_links_of_accounts_and_registries_each_keep_theirs(sample: SampleProject) -> None:
    """Accounts and registries linked at once: every one is saved (one lock for the file)."""
    commands = [["aws", f"aws-team{index}", "--account-id", ACCOUNT, "--profile", "p", "--region", "us-east-1"]
                for index in range(2)]
    commands += [["ecr", f"images{index}", "--account-id", ACCOUNT, "--region", "us-east-1", "--repository",
                  f"team{index}/web", "--profile", "p"] for index in range(2)]
    runs = [subprocess.Popen(
        [sys.executable, "-c", "import sys; from terrane.engine.cli import main; sys.exit(main())", "--project",
         str(sample.root), "accounts", "link", *command, "--no-verify"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for command in commands]
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    linked = sample.load_accounts()
    assert {"aws-team0", "aws-team1"} <= set(linked["accounts"])
    assert {"images0", "images1"} <= set(linked["registries"])
