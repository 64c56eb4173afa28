"""preview/up/refresh/destroy/outputs through the real Automation API, against the stand-in Pulumi CLI.

The stand-in (tests/standin) records every call's arguments, working directory
and environment, and plays a scenario; it does not run programs. What the real
CLI proves (tests/real_engine: lifecycle, outputs, locks, Ctrl-C) is not repeated
here: these tests inject a fault or observe the calls.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.project import EXTERNAL_ID, STANDIN_SECRETS, SampleProject
from tests.standin import StandIn


def _no_secret_in(*texts: str) -> None:
    for text in texts:
        for secret in STANDIN_SECRETS:
            assert secret not in text


def test_up_attaches_the_account_as_stack_config(sample: SampleProject, standin: StandIn, cli) -> None:
    result = cli("up", "aws-dev", "--yes")
    assert result.code == 0, result.stderr
    # The new stack gets its incarnation, in plain, before the account's config.
    incarnation_call, config_call = standin.calls_of("config set-all")
    assert incarnation_call["argv"][-2] == "--plaintext"
    assert re.fullmatch(r"terrane:incarnation=[0-9a-f]{8}", incarnation_call["argv"][-1])
    argv = config_call["argv"]
    assert "--path" in argv
    pairs = {(argv[i], argv[i + 1].split("=")[0] if "configDigest" in argv[i + 1] else argv[i + 1])
             for i in range(len(argv) - 1) if argv[i] in ("--plaintext", "--secret")}
    assert pairs == {
        # A keyed digest of the rest: the next run sees the config unchanged without decrypting it.
        ("--plaintext", "terrane:configDigest"),
        ("--plaintext", "aws:region=us-east-1"),
        ("--plaintext", "aws:assumeRoles[0].roleArn=arn:aws:iam::123456789012:role/terrane-provisioner"),
        ("--plaintext", "aws:assumeRoles[0].sessionName=terrane"),
        ("--secret", f"aws:assumeRoles[0].externalId={EXTERNAL_ID}"),
    }
    stack_file = (sample.root / "Pulumi.aws-dev.yaml").read_text()
    assert "aws:region" in stack_file
    _no_secret_in(stack_file, result.stdout, result.stderr)


@pytest.mark.parametrize(
    ("env", "secret_keys", "plain_keys"),
    [
        ("azure-dev", {"azure-native:clientSecret"},
         {"azure-native:tenantId", "azure-native:subscriptionId", "azure-native:location", "azure-native:clientId",
          "terrane:configDigest"}),
        ("gcp-dev", {"gcp:credentials"}, {"gcp:project", "gcp:region", "terrane:configDigest"}),
    ],
)
def test_config_keys_and_secret_flags_per_cloud(standin: StandIn, cli, env: str, secret_keys, plain_keys) -> None:
    assert cli("preview", env).code == 0
    _incarnation, call = standin.calls_of("config set-all")
    argv = call["argv"]
    flagged = {argv[i + 1].split("=", 1)[0]: argv[i] for i in range(len(argv) - 1) if argv[i] in ("--plaintext", "--secret")}
    assert {key for key, flag in flagged.items() if flag == "--secret"} == secret_keys
    assert {key for key, flag in flagged.items() if flag == "--plaintext"} == plain_keys


def test_backend_passphrase_and_work_dir(sample: SampleProject, standin: StandIn, cli) -> None:
    assert cli("preview", "aws-dev").code == 0
    # The fork server asks the CLI its version once, for every worker, with no backend or credential.
    version, *calls = standin.calls()
    assert version["argv"] == ["version"] and "PULUMI_BACKEND_URL" not in version["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in version["env"]
    for call in calls:
        assert call["cwd"] == str(sample.root)
        assert call["env"]["PULUMI_BACKEND_URL"] == (sample.root / ".terrane" / "state").as_uri()
        assert call["env"]["PULUMI_CONFIG_PASSPHRASE_FILE"] == str(sample.root / ".terrane" / "passphrase")
        assert "PULUMI_CONFIG_PASSPHRASE" not in call["env"]


def test_backend_and_secrets_provider_can_be_replaced(standin: StandIn, cli, monkeypatch) -> None:
    monkeypatch.setenv("TERRANE_BACKEND_URL", "s3://terrane-state?region=us-east-1")
    monkeypatch.setenv("TERRANE_SECRETS_PROVIDER", "awskms://alias/terrane?region=us-east-1")
    assert cli("preview", "aws-dev").code == 0
    (init,) = standin.calls_of("stack init")
    argv = init["argv"]
    assert argv[argv.index("--secrets-provider") + 1] == "awskms://alias/terrane?region=us-east-1"
    assert init["env"]["PULUMI_BACKEND_URL"] == "s3://terrane-state?region=us-east-1"
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" not in init["env"]


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_another_clouds_credentials_never_reach_a_stack(standin: StandIn, cli, start_method: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRANE_START_METHOD", start_method)
    assert cli("preview", "azure-dev", "aws-dev").code == 0
    by_stack: dict[str, set[str]] = {}
    for call in standin.calls_of("preview"):
        stack = call["argv"][call["argv"].index("--stack") + 1]
        by_stack[stack] = set(call["env"])
    assert not {name for name in by_stack["azure-dev"] if name.startswith(("AWS_", "GOOGLE_", "ARM_", "TERRANE_"))}
    assert "AZURE_CLIENT_SECRET" not in by_stack["azure-dev"]
    # An assumed role starts from the operator's own AWS identity, and nothing else.
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= by_stack["aws-dev"]
    assert not {name for name in by_stack["aws-dev"] if name.startswith(("ARM_", "AZURE_", "GOOGLE_", "TERRANE_"))}
    for call in standin.calls():
        _no_secret_in(*call["env"].values())


def test_progress_summary_and_json(standin: StandIn, cli) -> None:
    standin.scenario("aws-dev", resources=[
        {"type": "aws:ec2/vpc:Vpc", "name": "aws-dev-vpc", "op": "create"},
        {"type": "aws:ec2/subnet:Subnet", "name": "aws-dev-private-0", "op": "create"},
        {"type": "aws:kms/key:Key", "name": "aws-dev-key", "op": "same"},
    ])
    result = cli("up", "aws-dev", "--yes")
    assert result.code == 0, result.stderr
    # Done out of announced: the stack resource is announced first and finishes last.
    assert "aws-dev: created aws:ec2/vpc:Vpc aws-dev-vpc (1/2 done" in result.stderr
    assert "aws-dev: created aws:ec2/subnet:Subnet aws-dev-private-0 (2/3 done" in result.stderr
    # Created: the two resources, and the stack itself on its first update.
    assert re.search(r"^aws-dev +succeeded +3 +0 +0 +1 ", result.stdout, re.MULTILINE)
    result = cli("up", "aws-dev", "--yes", "--json")
    (entry,) = json.loads(result.stdout)["results"]
    assert (entry["environment"], entry["operation"], entry["status"]) == ("aws-dev", "up", "succeeded")
    assert entry["error"] is None


def test_detailed_exitcode(standin: StandIn, cli) -> None:
    standin.scenario("aws-dev", resources=[{"type": "aws:ec2/vpc:Vpc", "name": "aws-dev-vpc"}])
    pending = cli("preview", "aws-dev", "--detailed-exitcode")
    assert pending.code == 2
    assert "aws-dev: would create aws:ec2/vpc:Vpc aws-dev-vpc (1/2 planned" in pending.stderr
    assert cli("preview", "aws-dev").code == 0
    assert cli("up", "aws-dev", "--yes").code == 0
    assert cli("preview", "aws-dev", "--detailed-exitcode").code == 0


def test_outputs_of_a_stack_never_deployed(standin: StandIn, cli) -> None:
    result = cli("outputs", "gcp-dev")
    assert result.code == 1
    assert "gcp-dev has no stack yet: run terrane up gcp-dev first" in result.stderr


def test_destroy_refuses_a_protected_environment(sample: SampleProject, standin: StandIn, cli) -> None:
    sample.edit_env("aws-dev", lambda data: data.update(protect=True))
    result = cli("destroy", "aws-dev", "--yes")
    assert result.code == 3
    assert "refusing to destroy protected environment(s): set protect: false in environments/aws-dev.yaml" in result.stderr
    assert standin.calls() == []


def test_up_needs_yes_without_a_terminal(standin: StandIn, cli) -> None:
    result = cli("up", "aws-dev")
    assert result.code == 3
    assert "pass --yes" in result.stderr
    assert standin.calls() == []


def test_one_failure_does_not_stop_the_others(standin: StandIn, cli) -> None:
    standin.scenario("azure-dev", fail="creating resource group: AuthorizationFailed")
    result = cli("up", "aws-dev", "azure-dev", "gcp-dev", "--yes", "--parallel", "3", "--json")
    assert result.code == 1
    statuses = {entry["environment"]: entry["status"] for entry in json.loads(result.stdout)["results"]}
    assert statuses == {"aws-dev": "succeeded", "azure-dev": "failed", "gcp-dev": "succeeded"}
    assert "error: azure-dev: creating resource group: AuthorizationFailed" in result.stderr


def _up_starts(standin: StandIn) -> list[float]:
    return sorted(call["started"] for call in standin.calls_of("up"))


def test_parallel_runs_at_most_n_at_once(standin: StandIn, cli) -> None:
    # Each up takes 1.5 s in the stand-in: two resources, 0.75 s each.
    slow = [{"type": "aws:ec2/vpc:Vpc", "name": "vpc", "op": "create"}, {"type": "aws:ec2/eip:Eip", "name": "eip", "op": "create"}]
    for env in ("aws-dev", "azure-dev", "gcp-dev"):
        standin.scenario(env, resources=slow, delay=0.75)
    assert cli("up", "--all", "--yes", "--parallel", "2").code == 0
    first, second, third = _up_starts(standin)
    assert second - first < 0.75 <= third - first
    assert cli("refresh", "--all", "--parallel", "1").code == 0
    first, second, third = sorted(call["started"] for call in standin.calls_of("refresh"))
    assert second - first >= 1.5 and third - second >= 1.5


def test_an_unresolvable_reference_runs_nothing(sample: SampleProject, standin: StandIn, cli, monkeypatch) -> None:
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    result = cli("up", "aws-dev", "azure-dev", "--yes")
    assert result.code == 3
    assert "env:AZURE_CLIENT_SECRET" in result.stderr
    assert standin.calls() == []
    assert not (sample.root / ".terrane").exists()  # and writes nothing: no state directory, no passphrase


def test_a_missing_cli_says_how_to_install_it(standin: StandIn, cli, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TERRANE_PULUMI_ROOT")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("preview", "aws-dev")
    assert result.code == 1
    assert result.stderr.splitlines()[0] == "error: the Pulumi CLI is not installed (not on PATH, TERRANE_PULUMI_ROOT unset)"
    assert "terrane install-cli" in result.stderr
