"""The stand-in Pulumi CLI, driven by the real Automation API as terrane's driver drives it.

The stand-in never runs programs: the Automation API still serves the inline program over
gRPC and passes ``--client``, but the stand-in only records the address and plays the
scenario the test wrote. These tests pin what the driver's tests rely on: argv shapes,
JSON outputs, engine events, history, the errors ``errors.py`` classifies, and secrets.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto
from pulumi.automation.events import DiffKind, EngineEvent, OpType
from semver import VersionInfo

from tests.standin import EXECUTABLE, ROOT, VERSION, StandIn

PROJECT = "demo"
EVENT_KINDS = ("prelude_event", "resource_pre_event", "res_outputs_event", "res_op_failed_event",
               "diagnostic_event", "summary_event", "cancel_event")
OUTPUTS = {"endpoint": {"value": "https://k8s.example", "secret": False},
           "kubeconfig": {"value": "apiVersion: v1", "secret": True}}
HOST_VARIABLES = ("PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE",
                  "PULUMI_CONFIG_PASSPHRASE_FILE")


def program() -> None:
    raise AssertionError("the stand-in never runs programs")


def kinds(events: list[EngineEvent]) -> list[str]:
    return [next(kind for kind in EVENT_KINDS if getattr(event, kind) is not None) for event in events]


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    for name in HOST_VARIABLES:  # the host's Pulumi settings must not leak into the stand-in
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "pulumi-home"
    home.mkdir()
    return StandIn(home)


@pytest.fixture
def options(tmp_path: Path, standin: StandIn) -> Callable[..., auto.LocalWorkspaceOptions]:
    """Workspace options on a file backend; keyword arguments override (None removes) variables."""
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")
    work = tmp_path / "work"
    work.mkdir()

    def make(secrets_provider: str = "passphrase", **env: str | None) -> auto.LocalWorkspaceOptions:
        variables = {"PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
                     "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase), **env}
        return auto.LocalWorkspaceOptions(
            work_dir=str(work), pulumi_home=str(standin.home), secrets_provider=secrets_provider,
            env_vars={name: value for name, value in variables.items() if value is not None},
            pulumi_command=auto.PulumiCommand(root=str(ROOT)),
        )

    return make


@pytest.fixture
def stack(options: Callable[..., auto.LocalWorkspaceOptions]) -> auto.Stack:
    return auto.create_or_select_stack("dev", project_name=PROJECT, program=program, opts=options())


def run_cli(stack: auto.Stack, *args: str) -> auto.CommandResult:
    """One command with the workspace's environment, bypassing the Automation API's parsing."""
    workspace = stack.workspace
    return workspace.pulumi_command.run(list(args), workspace.work_dir,
                                        {"PULUMI_HOME": workspace.pulumi_home, **workspace.env_vars})


def test_the_executable_is_a_standard_library_script_reporting_v3_205_0() -> None:
    assert os.access(EXECUTABLE, os.X_OK)
    source = EXECUTABLE.read_text()
    assert source.startswith("#!/usr/bin/env python3\n")
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= sys.stdlib_module_names
    # PulumiCommand runs `pulumi version` at construction, with no PULUMI_HOME.
    assert auto.PulumiCommand(root=str(ROOT)).version == VersionInfo.parse(VERSION)


def test_preview_up_refresh_destroy_and_history(stack: auto.Stack, standin: StandIn) -> None:
    standin.scenario("dev", outputs=OUTPUTS)

    events: list[EngineEvent] = []
    assert stack.preview(on_event=events.append).change_summary == {"create": 3}
    assert kinds(events) == ["prelude_event", "resource_pre_event", *["resource_pre_event", "res_outputs_event"] * 2,
                             "res_outputs_event", "summary_event", "cancel_event"]
    assert all(e.resource_pre_event.planning for e in events if e.resource_pre_event)
    assert standin.state("dev")["resources"] == [] and standin.state("dev")["history"] == []

    events.clear()
    up = stack.up(on_event=events.append)
    assert (up.summary.kind, up.summary.result, up.summary.resource_changes) == ("update", "succeeded", {"create": 3})
    assert up.outputs["endpoint"].value == "https://k8s.example" and not up.outputs["endpoint"].secret
    assert up.outputs["kubeconfig"].value == "apiVersion: v1" and up.outputs["kubeconfig"].secret
    assert [e.sequence for e in events] == list(range(len(events)))
    steps = [e.resource_pre_event.metadata for e in events if e.resource_pre_event]
    assert [(s.op, s.type) for s in steps] == [
        (OpType.CREATE, "pulumi:pulumi:Stack"), (OpType.CREATE, "aws:ec2/vpc:Vpc"),
        (OpType.CREATE, "aws:s3/bucket:Bucket"),
    ]
    assert steps[1].urn == "urn:pulumi:dev::demo::aws:ec2/vpc:Vpc::network"
    assert steps[1].new.parent == steps[0].urn == "urn:pulumi:dev::demo::pulumi:pulumi:Stack::demo-dev"
    assert steps[1].provider.startswith("urn:pulumi:dev::demo::pulumi:providers:aws::default::")
    root_outputs = [e.res_outputs_event.metadata for e in events if e.res_outputs_event][-1]
    assert root_outputs.type == "pulumi:pulumi:Stack"
    assert root_outputs.new.outputs == {"endpoint": "https://k8s.example", "kubeconfig": "[secret]"}

    assert stack.preview().change_summary == {"same": 3}

    events.clear()
    refreshed = stack.refresh(on_event=events.append)
    assert (refreshed.summary.kind, refreshed.summary.resource_changes) == ("refresh", {"same": 3})
    assert {e.resource_pre_event.metadata.op for e in events if e.resource_pre_event} == {OpType.REFRESH}
    assert {e.res_outputs_event.metadata.op for e in events if e.res_outputs_event} == {OpType.SAME}

    events.clear()
    destroyed = stack.destroy(on_event=events.append)
    assert (destroyed.summary.kind, destroyed.summary.resource_changes) == ("destroy", {"delete": 3})
    deleted = [e.resource_pre_event.metadata.type for e in events if e.resource_pre_event]
    assert deleted[-1] == "pulumi:pulumi:Stack"  # children first, the root stack last
    assert stack.outputs() == {}

    assert [(h.version, h.kind) for h in stack.history()] == [(3, "destroy"), (2, "refresh"), (1, "update")]
    assert [h.kind for h in stack.history(page_size=1, page=2)] == ["refresh"]
    assert stack.info().kind == "destroy"


def test_create_or_select_selects_an_existing_stack_and_calls_are_recorded(
    stack: auto.Stack, standin: StandIn, options: Callable[..., auto.LocalWorkspaceOptions], tmp_path: Path,
) -> None:
    auto.create_or_select_stack("dev", project_name=PROJECT, program=program, opts=options())

    assert [c["argv"] for c in standin.calls_of("stack init")] == [
        ["--non-interactive", "stack", "init", "dev", "--secrets-provider", "passphrase"]]
    selects = standin.calls_of("stack select")
    assert [c["argv"] for c in selects] == [["--non-interactive", "stack", "select", "--stack", "dev"]] * 2
    call = selects[-1]
    assert call["cwd"] == str(tmp_path / "work")
    assert call["env"]["PULUMI_HOME"] == str(standin.home)
    assert call["env"]["PULUMI_BACKEND_URL"] == (tmp_path / "state").as_uri()
    assert call["env"]["PULUMI_AUTOMATION_API"] == "true"
    assert "PULUMI_CONFIG_PASSPHRASE" not in call["env"]
    assert (tmp_path / "state").is_dir()

    stack.up()
    up = standin.calls_of("up")[0]["argv"]
    assert up[:4] == ["--non-interactive", "up", "--yes", "--skip-preview"]
    assert "--exec-kind" in up and up[up.index("--exec-kind") + 1] == "auto.inline"
    assert any(arg.startswith("--client=127.0.0.1:") for arg in up)
    assert up[-2:] == ["--stack", "dev"]


def test_missing_and_duplicate_stacks_are_classified(
    stack: auto.Stack, options: Callable[..., auto.LocalWorkspaceOptions],
) -> None:
    with pytest.raises(auto.StackNotFoundError, match="no stack named 'prod' found"):
        auto.select_stack("prod", project_name=PROJECT, program=program, opts=options())
    with pytest.raises(auto.StackAlreadyExistsError, match="stack 'dev' already exists"):
        auto.create_stack("dev", project_name=PROJECT, program=program, opts=options())


def test_config_secrets_are_encrypted_in_the_stack_file(stack: auto.Stack, tmp_path: Path) -> None:
    stack.set_all_config({
        "demo:region": auto.ConfigValue("eu-west-1"),
        "demo:database.password": auto.ConfigValue("hunter2-secret", secret=True),
        "demo:accounts[0].id": auto.ConfigValue("012345678901"),
        "demo:accounts[0].primary": auto.ConfigValue("true"),
    }, path=True)

    text = (tmp_path / "work" / "Pulumi.dev.yaml").read_text()
    assert "hunter2-secret" not in text
    settings = yaml.safe_load(text)
    assert settings["encryptionsalt"].startswith("v1:")
    assert settings["config"]["demo:region"] == "eu-west-1"
    assert settings["config"]["demo:accounts"] == [{"id": "012345678901", "primary": True}]
    assert list(settings["config"]["demo:database"]["password"]) == ["secure"]

    config = stack.get_all_config()
    assert config["demo:database"].secret
    assert json.loads(config["demo:database"].value) == {"password": "hunter2-secret"}
    assert not config["demo:region"].secret

    up = stack.up()
    assert up.summary.config["demo:region"].value == "eu-west-1"
    assert json.loads(up.summary.config["demo:database"].value) == {"password": "hunter2-secret"}
    assert stack.history(show_secrets=False)[0].config["demo:database"].value == "[secret]"


def test_a_passphrase_stack_needs_its_passphrase(
    stack: auto.Stack, options: Callable[..., auto.LocalWorkspaceOptions], tmp_path: Path,
) -> None:
    with pytest.raises(auto.CommandError, match="passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
                                                "PULUMI_CONFIG_PASSPHRASE_FILE environment variables"):
        auto.create_stack("prod", project_name=PROJECT, program=program,
                          opts=options(PULUMI_CONFIG_PASSPHRASE_FILE=None))

    without = auto.select_stack("dev", project_name=PROJECT, program=program,
                                opts=options(PULUMI_CONFIG_PASSPHRASE_FILE=None))
    without.set_all_config({"demo:region": auto.ConfigValue("eu-west-1")})  # plaintext needs no passphrase
    with pytest.raises(auto.CommandError, match="passphrase must be set"):
        without.set_all_config({"demo:token": auto.ConfigValue("s3cret", secret=True)})
    with pytest.raises(auto.CommandError, match="passphrase must be set"):
        without.up()

    wrong = auto.select_stack("dev", project_name=PROJECT, program=program,
                              opts=options(PULUMI_CONFIG_PASSPHRASE_FILE=None, PULUMI_CONFIG_PASSPHRASE="wrong"))
    with pytest.raises(auto.CommandError, match="incorrect passphrase"):
        wrong.set_all_config({"demo:token": auto.ConfigValue("s3cret", secret=True)})


def test_a_kms_secrets_provider_needs_no_passphrase(
    options: Callable[..., auto.LocalWorkspaceOptions], tmp_path: Path,
) -> None:
    provider = "awskms://alias/terrane?region=eu-west-1"
    stack = auto.create_or_select_stack("dev", project_name=PROJECT, program=program,
                                        opts=options(secrets_provider=provider, PULUMI_CONFIG_PASSPHRASE_FILE=None))
    stack.set_all_config({"demo:token": auto.ConfigValue("kms-secret", secret=True)})

    text = (tmp_path / "work" / "Pulumi.dev.yaml").read_text()
    assert "kms-secret" not in text
    assert yaml.safe_load(text)["secretsprovider"] == provider
    assert stack.get_all_config()["demo:token"].value == "kms-secret"


def test_stack_outputs_are_masked_without_show_secrets(stack: auto.Stack, standin: StandIn) -> None:
    standin.scenario("dev", outputs=OUTPUTS)
    stack.up()

    masked = json.loads(run_cli(stack, "stack", "output", "--json", "--stack", "dev").stdout)
    assert masked == {"endpoint": "https://k8s.example", "kubeconfig": "[secret]"}
    shown = json.loads(run_cli(stack, "stack", "output", "--json", "--show-secrets", "--stack", "dev").stdout)
    assert shown["kubeconfig"] == "apiVersion: v1"
    outputs = stack.outputs()
    assert outputs["kubeconfig"].secret and outputs["kubeconfig"].value == "apiVersion: v1"
    assert repr(outputs["kubeconfig"]) == "[secret]"


def test_a_locked_stack_raises_concurrent_update_error(stack: auto.Stack, standin: StandIn) -> None:
    standin.scenario("dev", locked=True)

    with pytest.raises(auto.ConcurrentUpdateError, match="the stack is currently locked by 1 lock"):
        stack.up()
    with pytest.raises(auto.ConcurrentUpdateError):
        stack.destroy()
    # v3.205.0's DIY backend also locks refresh --preview-only (fixed in v3.229.0), but not preview.
    with pytest.raises(auto.ConcurrentUpdateError):
        run_cli(stack, "refresh", "--preview-only", "--stack", "dev")
    assert stack.preview().change_summary == {"create": 3}


def test_cancel_clears_a_lock_left_behind(stack: auto.Stack, standin: StandIn) -> None:
    standin.hold_lock("dev")
    with pytest.raises(auto.ConcurrentUpdateError, match="created by crashed@"):
        stack.up()

    stack.cancel()

    assert stack.up().summary.result == "succeeded"
    assert standin.calls_of("cancel")[0]["argv"] == ["--non-interactive", "cancel", "--yes", "--stack", "dev"]


def test_two_updates_of_one_stack_conflict(stack: auto.Stack, standin: StandIn) -> None:
    standin.scenario("dev", delay=0.3)
    locks = standin.control / "locks" / "dev"
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(stack.up)
        deadline = time.monotonic() + 10
        while not (locks.is_dir() and any(locks.glob("*.json"))) and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(auto.ConcurrentUpdateError):
            stack.up()
        assert first.result().summary.result == "succeeded"
    assert not any(locks.glob("*.json"))


def test_a_failing_update_reports_the_error(stack: auto.Stack, standin: StandIn) -> None:
    standin.scenario("dev", fail="creating EC2 VPC: UnauthorizedOperation")
    events: list[EngineEvent] = []

    with pytest.raises(auto.CommandError) as raised:
        stack.up(on_event=events.append)

    assert type(raised.value) is auto.CommandError
    assert "error: creating EC2 VPC: UnauthorizedOperation" in str(raised.value)
    diagnostics = [e.diagnostic_event for e in events if e.diagnostic_event]
    assert [(d.severity, d.urn.split("::")[-1]) for d in diagnostics] == [("error", "network")]
    assert [e.res_op_failed_event.metadata.urn.split("::")[-1] for e in events if e.res_op_failed_event] == ["network"]
    assert kinds(events)[-2:] == ["summary_event", "cancel_event"]
    assert stack.info().result == "failed"
    assert stack.preview().change_summary == {"create": 3}  # fail_on defaults to ["up"]


def test_sigint_cancels_the_update_like_pulumi(stack: auto.Stack, standin: StandIn, tmp_path: Path) -> None:
    standin.scenario("dev", delay=10)
    log = tmp_path / "eventlog.txt"
    log.touch()
    workspace = stack.workspace
    process = subprocess.Popen(
        [str(EXECUTABLE), "--non-interactive", "up", "--yes", "--skip-preview", "--stack", "dev",
         "--event-log", str(log)],
        cwd=workspace.work_dir, env={**os.environ, "PULUMI_HOME": str(standin.home), **workspace.env_vars},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 10
    while log.read_text().count("resourcePreEvent") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)

    assert process.returncode == 255
    assert "error: update canceled" in stderr
    events = [EngineEvent.from_json(json.loads(line)) for line in log.read_text().splitlines()]
    assert "update canceled\n" in [e.diagnostic_event.message for e in events if e.diagnostic_event]
    assert kinds(events)[-2:] == ["summary_event", "cancel_event"]
    assert standin.state("dev")["history"][-1]["result"] == "failed"
    assert not any((standin.control / "locks" / "dev").glob("*.json"))


def test_refresh_reports_drift_from_the_scenario(stack: auto.Stack, standin: StandIn) -> None:
    stack.up()
    standin.scenario("dev", refresh={
        "network": {"op": "update", "diff": {"tags.owner": "update", "enableDnsSupport": "update"}},
        "bucket": {"op": "delete"},
    })
    events: list[EngineEvent] = []

    assert stack.preview_refresh(on_event=events.append).change_summary == {"same": 1, "update": 1, "delete": 1}

    assert {e.resource_pre_event.metadata.op for e in events if e.resource_pre_event} == {OpType.REFRESH}
    outcomes = {e.res_outputs_event.metadata.urn.split("::")[-1]: e.res_outputs_event.metadata
                for e in events if e.res_outputs_event}
    assert outcomes["network"].op == OpType.UPDATE
    assert outcomes["network"].diffs == ["enableDnsSupport", "tags"]
    assert outcomes["network"].detailed_diff["tags.owner"].diff_kind == DiffKind.UPDATE
    assert outcomes["bucket"].op == OpType.DELETE and outcomes["bucket"].new is None
    assert len(standin.state("dev")["resources"]) == 3 and len(stack.history()) == 1  # a preview changes nothing

    assert stack.refresh().summary.resource_changes == {"same": 1, "update": 1, "delete": 1}
    assert [r["name"] for r in standin.state("dev")["resources"]] == ["demo-dev", "network"]


def test_refresh_replays_recorded_events(stack: auto.Stack, standin: StandIn) -> None:
    stack.up()
    urn = "urn:pulumi:dev::demo::aws:ec2/vpc:Vpc::network"
    metadata = {"urn": urn, "type": "aws:ec2/vpc:Vpc", "provider": ""}
    standin.scenario("dev", refresh_events=[
        {"resourcePreEvent": {"metadata": {**metadata, "op": "refresh"}}},
        {"resOutputsEvent": {"metadata": {**metadata, "op": "update",
                                          "detailedDiff": {"cidrBlock": {"diffKind": "update", "inputDiff": False}}}}},
    ])
    events: list[EngineEvent] = []

    assert stack.preview_refresh(on_event=events.append).change_summary == {"update": 1}
    assert kinds(events) == ["prelude_event", "resource_pre_event", "res_outputs_event", "summary_event",
                             "cancel_event"]
    assert list(events[2].res_outputs_event.metadata.detailed_diff) == ["cidrBlock"]


def test_workspace_queries_and_stack_removal(
    stack: auto.Stack, standin: StandIn, options: Callable[..., auto.LocalWorkspaceOptions], tmp_path: Path,
) -> None:
    workspace = stack.workspace
    assert {(p.name, p.kind) for p in workspace.list_plugins()} == {("aws", "resource"), ("kubernetes", "resource")}
    standin.plugins([{"name": "gcp", "version": "9.1.0"}])
    assert [(p.name, p.version) for p in workspace.list_plugins()] == [("gcp", "9.1.0")]
    assert workspace.who_am_i().url == (tmp_path / "state").as_uri()

    stack.set_tag("owner", "platform")
    assert stack.get_tag("owner") == "platform" and stack.list_tags() == {"owner": "platform"}

    stack.up()
    [summary] = workspace.list_stacks()
    assert (summary.name, summary.current, summary.resource_count) == ("dev", True, 3)
    with pytest.raises(auto.CommandError, match="still has resources"):
        workspace.remove_stack("dev")
    stack.destroy()
    workspace.remove_stack("dev")
    assert not (tmp_path / "work" / "Pulumi.dev.yaml").exists()
    with pytest.raises(auto.StackNotFoundError):
        auto.select_stack("dev", project_name=PROJECT, program=program, opts=options())


def test_unimplemented_commands_fail_loudly(stack: auto.Stack) -> None:
    with pytest.raises(auto.CommandError, match="stand-in does not implement config refresh --force"):
        stack.refresh_config()
    with pytest.raises(auto.CommandError, match="stand-in does not implement"):
        run_cli(stack, "stack", "rename", "prod", "--stack", "dev")
