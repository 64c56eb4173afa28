"""The stand-in Pulumi CLI does what the tests that still use it rely on.

The real CLI (tests/real_engine) is the judge of how Pulumi behaves; these tests only pin
the stand-in's own part, driven by the real Automation API: it runs anywhere and answers
as v3.205.0, records every call, fails where a scenario says so, replays recorded refresh
events as they are, and fails loudly where it has no answer.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation.events import EngineEvent
from semver import VersionInfo

from tests import recorded
from tests.standin import EXECUTABLE, ROOT, VERSION, StandIn

PROJECT = "demo"
EVENT_KINDS = ("prelude_event", "resource_pre_event", "res_outputs_event", "res_op_failed_event",
               "diagnostic_event", "summary_event", "cancel_event")
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
def stack(tmp_path: Path, standin: StandIn) -> auto.Stack:
    """A passphrase stack ``dev`` on a file backend, driven by the Automation API."""
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")
    work = tmp_path / "work"
    work.mkdir()
    options = auto.LocalWorkspaceOptions(
        work_dir=str(work), pulumi_home=str(standin.home), secrets_provider="passphrase",
        env_vars={"PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(), "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase)},
        pulumi_command=auto.PulumiCommand(root=str(ROOT)),
    )
    return auto.create_or_select_stack("dev", project_name=PROJECT, program=program, opts=options)


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
    # PulumiCommand runs `pulumi version` at construction, with no PULUMI_HOME; v3.205.0 makes
    # the Automation API read engine events from the --event-log file the stand-in writes.
    assert auto.PulumiCommand(root=str(ROOT)).version == VersionInfo.parse(VERSION)


def test_every_call_is_recorded_with_its_argv_directory_and_environment(
    stack: auto.Stack, standin: StandIn, tmp_path: Path,
) -> None:
    before = time.time()
    stack.up()
    with pytest.raises(auto.CommandError):
        run_cli(stack, "stack", "rename", "prod", "--stack", "dev")
    after = time.time()

    assert [c["argv"] for c in standin.calls_of("stack init")] == [
        ["--non-interactive", "stack", "init", "dev", "--secrets-provider", "passphrase"]]
    (call,) = standin.calls_of("up")
    argv = call["argv"]
    assert argv[:4] == ["--non-interactive", "up", "--yes", "--skip-preview"]
    assert argv[argv.index("--exec-kind") + 1] == "auto.inline"
    assert any(arg.startswith("--client=127.0.0.1:") for arg in argv)
    assert argv[-2:] == ["--stack", "dev"]
    assert call["cwd"] == str(tmp_path / "work")
    assert call["env"]["PULUMI_HOME"] == str(standin.home)
    assert call["env"]["PULUMI_BACKEND_URL"] == (tmp_path / "state").as_uri()
    assert call["env"]["PULUMI_AUTOMATION_API"] == "true"
    assert "PULUMI_CONFIG_PASSPHRASE" not in call["env"]
    assert before <= call["started"] <= after and isinstance(call["pid"], int)
    # A command the stand-in fails is recorded too.
    assert standin.calls()[-1]["argv"] == ["--non-interactive", "stack", "rename", "prod", "--stack", "dev"]


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


def test_a_failing_refresh_replays_nothing(stack: auto.Stack, standin: StandIn) -> None:
    stack.up()
    standin.scenario("dev", refresh_events=recorded.events("drift-every-kind"),
                     fail="reading resource group: AuthorizationFailed", fail_on=["refresh"])
    events: list[EngineEvent] = []

    with pytest.raises(auto.CommandError, match="error: reading resource group: AuthorizationFailed"):
        stack.preview_refresh(on_event=events.append)

    urns = {e.resource_pre_event.metadata.urn for e in events if e.resource_pre_event}
    assert urns and not any("aws-dev" in urn for urn in urns)  # the scenario's steps, not the recording's
    assert stack.preview().change_summary == {"same": 3}


@pytest.mark.parametrize("name", ["drift-in-sync", "drift-every-kind"])
def test_refresh_replays_recorded_events_as_they_are(stack: auto.Stack, standin: StandIn, tmp_path: Path,
                                                     name: str) -> None:
    recording = recorded.events(name)
    (summary,) = [event["summaryEvent"]["resourceChanges"] for event in recording if "summaryEvent" in event]
    standin.scenario("dev", refresh_events=recording)

    log = tmp_path / "events.jsonl"
    run_cli(stack, "refresh", "--preview-only", "--stack", "dev", "--event-log", str(log))
    assert [json.loads(line) for line in log.read_text().splitlines()] == recording

    events: list[EngineEvent] = []
    assert stack.preview_refresh(on_event=events.append).change_summary == summary
    assert [(e.sequence, e.timestamp) for e in events] == [(e["sequence"], e["timestamp"]) for e in recording]
    # A refresh that is not a preview keeps the recording's counts in the stack's history.
    assert stack.refresh().summary.resource_changes == summary


def test_unimplemented_commands_fail_loudly(stack: auto.Stack) -> None:
    with pytest.raises(auto.CommandError, match="stand-in does not implement config refresh --force"):
        stack.refresh_config()
    with pytest.raises(auto.CommandError, match="stand-in does not implement"):
        run_cli(stack, "stack", "rename", "prod", "--stack", "dev")
    # What only the real CLI is asked now (tests/real_engine) is not answered here either.
    for unanswered in (stack.destroy, stack.cancel):
        with pytest.raises(auto.CommandError, match="stand-in does not implement"):
            unanswered()
