"""The driver's workspace against a real Pulumi CLI, wherever one is installed.

A program of component resources only needs no provider plugin, so these
tests run offline too, with the file backend and a generated passphrase.
"""

from __future__ import annotations

import os
import shutil

import pulumi
import pytest

from engine import workspace
from engine.project import open_project
from tests.conftest import SampleProject

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH"),
]


def _program() -> None:
    class Thing(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("terrane:test:Thing", name, None, None)
            self.register_outputs({})

    Thing("thing")
    pulumi.export("greeting", "hello")
    pulumi.export("token", pulumi.Output.secret(pulumi.Config("aws").require_secret("accessKey")))


def test_up_outputs_history_and_destroy(sample: SampleProject, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi import automation as auto

    project = open_project(sample.root)
    backend = workspace.backend(project, environ={})
    for name, value in backend.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PULUMI_HOME", str(sample.root / ".pulumi-home"))
    stack = workspace.open_stack(project, "aws-dev", _program, secrets_provider=backend.secrets_provider)
    stack.set_all_config({"aws:accessKey": auto.ConfigValue("s3cr3t-key", secret=True),
                          "aws:region": auto.ConfigValue("us-east-1")}, path=True)
    events: list[auto.EngineEvent] = []
    result = stack.up(on_event=events.append)
    assert result.summary.result == "succeeded"
    assert result.outputs["greeting"].value == "hello"
    assert result.outputs["token"].secret
    assert any(event.summary_event for event in events)
    assert "s3cr3t-key" not in (sample.root / "Pulumi.aws-dev.yaml").read_text()
    assert (sample.root / ".terrane" / "state").is_dir()
    assert os.stat(sample.root / ".terrane" / "passphrase").st_mode & 0o077 == 0
    assert stack.history(page_size=1)[0].kind == "update"
    assert stack.destroy().summary.result == "succeeded"
