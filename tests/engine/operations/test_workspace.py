"""Backend, secrets provider and the environment allow-list of each stack's Pulumi CLI."""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from pulumi import automation as auto

from terrane.engine.errors import EngineError
from terrane.engine.operations import pulumi_cli, workspace
from terrane.engine.project import Project, open_project
from terrane.stacks.spec.accounts import ACCOUNT_MODELS
from terrane.stacks.standard import INCARNATION_KEY
from tests.helpers.project import SampleProject

AMBIENT = {
    "PATH": "/usr/bin", "HOME": "/home/op", "LC_ALL": "C.UTF-8", "PULUMI_HOME": "/home/op/.pulumi",
    "AWS_ACCESS_KEY_ID": "AKIAOPERATOR", "AWS_SECRET_ACCESS_KEY": "operator-aws", "AWS_PROFILE": "operator",
    "AWS_CONFIG_FILE": "/home/op/.aws/config",
    "ARM_CLIENT_SECRET": "operator-arm", "AZURE_CLIENT_SECRET": "operator-azure", "AZURE_CONFIG_DIR": "/home/op/.azure",
    "AZURE_FEDERATED_TOKEN_FILE": "/var/run/azure/token",
    "GOOGLE_APPLICATION_CREDENTIALS": "/home/op/gcp.json", "CLOUDSDK_CONFIG": "/home/op/.config/gcloud",
    "TERRANE_AWS_EXTERNAL_ID": "ext-operator", "GITHUB_TOKEN": "ghp-operator",
}
BASE = {"PATH", "HOME", "LC_ALL", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_PYTHON_CMD"}


def _account(cloud: str, auth: dict):
    ids = {
        "aws": {"account_id": "123456789012", "region": "us-east-1"},
        "azure": {"tenant_id": "11111111-1111-1111-1111-111111111111",
                  "subscription_id": "22222222-2222-2222-2222-222222222222", "location": "westeurope"},
        "gcp": {"project": "sandbox-project-123", "region": "europe-west1"},
    }[cloud]
    return ACCOUNT_MODELS[cloud].model_validate({"cloud": cloud, **ids, "auth": auth})


ROLE = {"assume_role": {"role_arn": "arn:aws:iam::123456789012:role/terrane-provisioner"}}
CASES = {
    "aws role: the base identity passes": (
        "aws", ROLE, {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_CONFIG_FILE"},
    ),
    "aws profile: only the config files": ("aws", {"profile": "sandbox"}, {"AWS_CONFIG_FILE"}),
    "aws static keys: nothing ambient": (
        "aws", {"static": {"access_key_id": {"env": "K"}, "secret_access_key": {"env": "S"}}}, set(),
    ),
    "azure service principal: nothing ambient": (
        "azure", {"service_principal": {"client_id": "33333333-3333-3333-3333-333333333333",
                                        "client_secret": {"env": "AZURE_CLIENT_SECRET"}}}, set(),
    ),
    "azure oidc: the token file": (
        "azure", {"oidc": {"client_id": "33333333-3333-3333-3333-333333333333", "token": {"env": "T"}}},
        {"AZURE_FEDERATED_TOKEN_FILE"},
    ),
    "azure cli: its login": ("azure", {"cli": {}}, {"AZURE_CONFIG_DIR"}),
    "gcp key: nothing ambient": ("gcp", {"service_account_key": {"file": "/k.json"}}, set()),
    "gcp application default": ("gcp", {"application_default": {}}, {"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG"}),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_allow_list(sample: SampleProject, case: str) -> None:
    cloud, auth, own = CASES[case]
    backend = workspace.backend(open_project(sample.root), environ={})
    env = workspace.allowed_environment(_account(cloud, auth), backend, environ=AMBIENT)
    assert set(env) == BASE | own
    assert env["PULUMI_BACKEND_URL"] == (sample.root / ".terrane" / "state").as_uri()


def test_an_object_store_backend_brings_what_it_needs(sample: SampleProject) -> None:
    backend = workspace.backend(open_project(sample.root), environ={"TERRANE_BACKEND_URL": "gs://terrane-state",
                                                                    "TERRANE_SECRETS_PROVIDER": "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"})
    env = workspace.allowed_environment(_account("azure", {"cli": {}}), backend, environ=AMBIENT)
    assert set(env) == {"PATH", "HOME", "LC_ALL", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_PYTHON_CMD",
                        "AZURE_CONFIG_DIR", "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG"}
    assert env["PULUMI_BACKEND_URL"] == "gs://terrane-state"
    assert backend.secrets_provider.startswith("gcpkms://")


def test_the_azure_state_store_signs_in_with_entra_id(sample: SampleProject) -> None:
    # The Azure bootstrap's storage account has shared keys off: the CLI reaches it, and the vault's key,
    # as the operator's Entra ID identity (a secret, a federated token or the Azure CLI's login).
    backend = workspace.backend(open_project(sample.root), environ={
        "TERRANE_BACKEND_URL": "azblob://terrane-state?storage_account=terraneabc",
        "TERRANE_SECRETS_PROVIDER": "azurekeyvault://terrane-abc.vault.azure.net/keys/terrane-state"})
    env = workspace.allowed_environment(_account("gcp", {"service_account_key": {"file": "/k.json"}}), backend,
                                        environ=AMBIENT)
    assert set(env) == {"PATH", "HOME", "LC_ALL", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_PYTHON_CMD",
                        "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CONFIG_DIR"}
    assert "ARM_CLIENT_SECRET" not in env


def test_the_generated_passphrase_is_private_and_stable(sample: SampleProject) -> None:
    project = open_project(sample.root)
    first = workspace.backend(project, environ={})
    path = Path(first.env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    assert path == sample.root / ".terrane" / "passphrase"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text()) >= 32
    content = path.read_text()
    assert workspace.backend(project, environ={}).env == first.env
    assert path.read_text() == content


def test_an_operator_passphrase_wins(sample: SampleProject) -> None:
    backend = workspace.backend(open_project(sample.root), environ={"PULUMI_CONFIG_PASSPHRASE": "theirs"})
    assert backend.env == {"PULUMI_BACKEND_URL": (sample.root / ".terrane" / "state").as_uri(),
                           "PULUMI_CONFIG_PASSPHRASE": "theirs"}
    assert not (sample.root / ".terrane" / "passphrase").exists()


def test_locate_the_cli(tmp_path: Path) -> None:
    binary = tmp_path / "root" / "bin" / "pulumi"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert pulumi_cli.locate({"TERRANE_PULUMI_ROOT": str(tmp_path / "root")}).executable == binary
    assert pulumi_cli.locate({"PATH": str(binary.parent), "HOME": str(tmp_path)}).root is None
    with pytest.raises(EngineError, match="not installed") as missing:
        pulumi_cli.locate({"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert "terrane install-cli" in (missing.value.hint or "")
    with pytest.raises(EngineError, match="is not at"):
        pulumi_cli.locate({"TERRANE_PULUMI_ROOT": str(tmp_path / "nowhere")})


def test_dynamic_providers_run_under_terranes_python(sample: SampleProject) -> None:
    backend = workspace.backend(open_project(sample.root), environ={})
    env = workspace.allowed_environment(_account("gcp", {"application_default": {}}), backend, environ=AMBIENT)
    assert env["PULUMI_PYTHON_CMD"] == sys.executable


def test_reading_makes_no_state_directory_or_passphrase(sample: SampleProject) -> None:
    backend = workspace.backend(open_project(sample.root), environ={}, create=False)
    assert backend.holds_no_stack
    assert not (sample.root / ".terrane").exists()
    assert workspace.backend(open_project(sample.root), environ={}).holds_no_stack is False


class _Stack:
    """A stack's config as the Automation API reads it: from the CLI (path values as JSON text), or the file."""

    name = "aws-dev"

    def __init__(self, config: dict[str, auto.ConfigValue], file: dict[str, object] | None = None) -> None:
        self.config = config
        self.written: list[dict[str, auto.ConfigValue]] = []
        self.reads = 0
        self.workspace = self
        self.file = file

    def stack_settings(self, name: str) -> auto.StackSettings:
        if self.file is None:
            raise FileNotFoundError(name)
        return auto.StackSettings(config=self.file)

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        self.reads += 1
        return self.config

    def set_all_config(self, config: dict[str, auto.ConfigValue], *, path: bool) -> None:
        assert path
        self.written.append(config)


WANTED = {
    "aws:region": auto.ConfigValue("us-east-1"),
    "aws:assumeRoles[0].roleArn": auto.ConfigValue("arn:aws:iam::123456789012:role/terrane-provisioner"),
    "aws:assumeRoles[0].externalId": auto.ConfigValue("ext-1", secret=True),
}
ROLES = [{"roleArn": "arn:aws:iam::123456789012:role/terrane-provisioner", "externalId": "ext-1"}]
SAME = {"aws:region": auto.ConfigValue("us-east-1"), "aws:assumeRoles": auto.ConfigValue(json.dumps(ROLES), secret=True)}


@pytest.mark.parametrize(("current", "writes"), [
    (SAME, False),
    ({**SAME, "aws:region": auto.ConfigValue("eu-west-1")}, True),
    ({**SAME, "aws:assumeRoles": auto.ConfigValue(json.dumps([{**ROLES[0], "externalId": "ext-2"}]), secret=True)},
     True),
    ({**SAME, "aws:assumeRoles": auto.ConfigValue(json.dumps(ROLES))}, True),
    ({}, True),
])
def test_config_is_written_only_when_it_differs(current: dict, writes: bool) -> None:
    stack = _Stack(current)
    assert workspace.apply_config(stack, WANTED, digest=None, read_only=False) is writes  # type: ignore[arg-type]
    assert stack.written == ([WANTED] if writes else [])


def test_a_matching_digest_spares_reading_the_config(sample: SampleProject) -> None:
    project = open_project(sample.root)
    backend = workspace.backend(project, environ={})
    entries = {key: (value.value, value.secret) for key, value in WANTED.items()}
    assert workspace.config_digest(project, backend, entries, create=False) is None
    digest = workspace.config_digest(project, backend, entries, create=True)
    assert digest and stat.S_IMODE((sample.root / ".terrane" / "config-key").stat().st_mode) == 0o600
    assert "ext-1" not in digest and workspace.config_digest(project, backend, entries, create=False) == digest
    other = {**entries, "aws:region": ("eu-west-1", False)}
    assert workspace.config_digest(project, backend, other, create=False) != digest

    # The digest in the file matches: nothing is read or written.
    stack = _Stack(SAME, file={workspace.DIGEST_KEY: digest})
    assert workspace.apply_config(stack, WANTED, digest=digest, read_only=False) is False  # type: ignore[arg-type]
    assert (stack.reads, stack.written) == (0, [])
    # No digest yet, the values hold: an update adds it, a read-only operation leaves the file alone.
    stack = _Stack(SAME, file={})
    assert workspace.apply_config(stack, WANTED, digest=digest, read_only=True) is False  # type: ignore[arg-type]
    assert workspace.apply_config(stack, WANTED, digest=digest, read_only=False) is True  # type: ignore[arg-type]
    (written,) = stack.written
    assert {key: (value.value, value.secret) for key, value in written.items()} == {
        **entries, workspace.DIGEST_KEY: (digest, False)}
    # Another machine's digest (a key of its own) over values that hold: the file stays as it is.
    stack = _Stack(SAME, file={workspace.DIGEST_KEY: "another machine's"})
    assert workspace.apply_config(stack, WANTED, digest=digest, read_only=False) is False  # type: ignore[arg-type]
    assert stack.written == []


def test_every_machine_on_a_shared_backend_has_one_config_key(aws: str, tmp_path: Path) -> None:
    """Two checkouts of a project on one S3 backend compute the same digest: neither rewrites the other's file."""
    boto3.client("s3", endpoint_url=aws).create_bucket(Bucket="state")
    url = f"s3://state/team?region=us-east-1&endpoint={aws.removeprefix('http://')}&disableSSL=true&s3ForcePathStyle=true"
    digests = []
    for checkout in ("a", "b"):
        root = tmp_path / checkout
        root.mkdir()
        (root / "Pulumi.yaml").write_text("name: terrane\nruntime: python\n")
        project = Project(root)
        backend = workspace.backend(project, environ={"TERRANE_BACKEND_URL": url, "PULUMI_CONFIG_PASSPHRASE": "x"})
        digests.append(workspace.config_digest(project, backend, {"aws:region": ("us-east-1", False)}, create=True))
        assert not (root / ".terrane" / "config-key").exists()  # in the bucket, not on the machine
    assert digests[0] is not None and digests[0] == digests[1]


def test_reading_the_backend_sees_no_accounts_credentials(sample: SampleProject) -> None:
    backend = workspace.backend(open_project(sample.root), environ={})
    env = workspace.backend_environment(backend, environ=AMBIENT)
    assert set(env) == BASE - {"PULUMI_PYTHON_CMD"}


@pytest.fixture
def on_real_cli(sample: SampleProject, pulumi_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The sample project, its stacks opened by the real CLI with the environment the driver would give it."""
    for name in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
    project = open_project(sample.root)
    for name, value in workspace.backend(project, environ={}).env.items():
        monkeypatch.setenv(name, value)
    return project


def _incarnation(project: Project) -> object:
    return yaml.safe_load((project.root / "Pulumi.aws-dev.yaml").read_text())["config"].get(INCARNATION_KEY)


@pytest.mark.pulumi_cli
def test_a_new_stack_gets_an_incarnation_and_keeps_it_until_renewed(on_real_cli: Project, pulumi_root: Path) -> None:
    def open_stack(*, create: bool) -> tuple[auto.Stack, bool]:
        return workspace.open_stack(on_real_cli, "aws-dev", lambda: None, secrets_provider="passphrase",
                                    pulumi_root=str(pulumi_root), create=create)

    with pytest.raises(auto.StackNotFoundError):
        open_stack(create=False)
    assert not (on_real_cli.root / "Pulumi.aws-dev.yaml").exists()

    assert open_stack(create=True)[1] is True  # made by this call
    first = _incarnation(on_real_cli)
    assert isinstance(first, str) and re.fullmatch(r"[0-9a-f]{8}", first)

    # Opening the stack again and setting the account's config leave it alone; the digest ignores it.
    stack, created = open_stack(create=True)
    assert created is False
    entries = {key: (value.value, value.secret) for key, value in WANTED.items()}
    digest = workspace.config_digest(on_real_cli, workspace.backend(on_real_cli, environ={}), entries, create=True)
    assert workspace.apply_config(stack, WANTED, digest=digest, read_only=False) is True
    assert _incarnation(on_real_cli) == first

    workspace.renew_incarnation(stack)
    renewed = _incarnation(on_real_cli)
    assert isinstance(renewed, str) and re.fullmatch(r"[0-9a-f]{8}", renewed) and renewed != first
    assert workspace.apply_config(stack, WANTED, digest=digest, read_only=False) is False
    assert stack.get_all_config()[INCARNATION_KEY].value == renewed
