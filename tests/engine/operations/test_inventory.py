"""What the backend holds of each environment's stack when one listing cannot say it all.

The real CLI proves the file backend (tests/real_engine/test_faults.py); here the CLI's answers are given,
for backends it cannot run against here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from terrane.engine.errors import EngineError
from terrane.engine.operations import inventory, pulumi_cli
from terrane.engine.operations.pulumi_cli import PulumiCli, StackSummary
from terrane.engine.operations.workspace import Backend
from terrane.engine.project import Project, open_project
from tests.helpers.project import SampleProject

CLI = PulumiCli(Path("/usr/bin/pulumi"), None)
S3 = Backend(url="s3://acme-state?region=eu-west-1", secrets_provider="passphrase", env={})


@pytest.fixture
def project(sample: SampleProject) -> Project:
    return open_project(sample.root)


@pytest.fixture
def listing_fails(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``pulumi stack ls`` fails; each stack read on its own answers as ``READS`` says. The names read."""
    read: list[str] = []

    def list_stacks(*_: object) -> dict[str, StackSummary]:
        raise EngineError("could not list the stacks: place 1: unexpected end of JSON input")

    def read_stack(cli: PulumiCli, root: Path, env: dict[str, str], name: str) -> StackSummary | None:
        read.append(name)
        return READS[name]

    monkeypatch.setattr(pulumi_cli, "list_stacks", list_stacks)
    monkeypatch.setattr(pulumi_cli, "read_stack", read_stack)
    return read


READS = {
    "aws-dev": StackSummary("aws-dev", None, None, error="failed to load checkpoint: unexpected end of JSON input"),
    "azure-dev": None,
    "gcp-dev": StackSummary("gcp-dev", "2026-03-01T06:01:30.000Z", 12),
}


def test_each_stack_is_read_on_its_own_when_the_listing_fails(project: Project, listing_fails: list[str]) -> None:
    found = inventory.stacks(CLI, project, S3, ["aws-dev", "azure-dev", "gcp-dev"])
    assert sorted(listing_fails) == ["aws-dev", "azure-dev", "gcp-dev"]
    assert found["gcp-dev"] == READS["gcp-dev"]
    assert "azure-dev" not in found  # no stack: not deployed
    assert found["aws-dev"].error == (
        "could not read the state in s3://acme-state?region=eu-west-1 (failed to load checkpoint: unexpected end of "
        "JSON input); if the state itself is damaged, Pulumi keeps backups there in .pulumi/backups/terrane/aws-dev/")
    with pytest.raises(EngineError, match="could not read the state"):
        inventory.check(found, "aws-dev")
    inventory.check(found, "gcp-dev")
    inventory.check(None, "aws-dev")  # nothing known: the worker looks for itself


def test_a_stack_gone_while_its_config_remains_is_missing(project: Project, listing_fails: list[str]) -> None:
    (project.root / "Pulumi.azure-dev.yaml").write_text("config: {}\n")
    found = inventory.stacks(CLI, project, S3, ["azure-dev", "gcp-dev"])
    assert found["azure-dev"].error == (
        "state missing: s3://acme-state?region=eu-west-1 has no stack azure-dev, but Pulumi.azure-dev.yaml remains "
        "(the stack was made). Restore the stack from a backup of the backend; or, if the stack was removed on "
        "purpose, delete Pulumi.azure-dev.yaml")
    assert found["gcp-dev"].error is None
