"""preview, up, outputs, refresh and destroy of one environment on the real Pulumi CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from terrane.stacks.standard import INCARNATION_KEY
from tests.helpers.project import SENTINEL, SampleProject
from tests.helpers.testcloud import TestCloud

NETWORK = "urn:pulumi:aws-dev::terrane::terrane:test:Group$pulumi-python:dynamic:Resource::network"


def test_the_cli_is_the_pinned_real_one(pulumi_root: Path) -> None:
    version = subprocess.run([pulumi_root / "bin" / "pulumi", "version"], capture_output=True, text=True, check=True)
    go_mod = (Path(__file__).parents[2] / "tools" / "pulumi" / "go.mod").read_text()
    assert f"github.com/pulumi/pulumi/pkg/v3 {version.stdout.strip()}" in go_mod
    # Newer than 3.205.0: the Automation API streams engine events over gRPC, not through a file.
    assert tuple(int(part) for part in version.stdout.strip().lstrip("v").split(".")) > (3, 205, 0)


def test_preview_up_outputs_refresh_destroy(project: SampleProject, cloud: TestCloud, cli) -> None:
    preview = cli("preview", "aws-dev", "--json")
    assert preview.code == 0, preview.stderr
    (previewed,) = json.loads(preview.stdout)["results"]
    # The stack, a component and three objects (providers are not counted).
    assert previewed["changes"] == {"create": 5}
    assert not cloud.path("aws-dev", "network").exists()
    assert "would create pulumi-python:dynamic:Resource network" in preview.stderr

    up = cli("up", "aws-dev", "--yes", "--json")
    assert up.code == 0, up.stderr
    (applied,) = json.loads(up.stdout)["results"]
    assert applied["status"] == "succeeded" and applied["changes"] == {"create": 5}
    assert applied["outputs"] == {"greeting": "hello from aws-dev", "network_id": "network", "token": "[secret]"}
    # Progress comes from the engine's events, streamed over gRPC while the update runs.
    assert "created pulumi-python:dynamic:Resource network" in up.stderr
    assert cloud.get("aws-dev", "network")["cidr"] == "10.20.0.0/16"

    stack_file = (project.root / "Pulumi.aws-dev.yaml").read_text()
    assert "secure: v1:" in stack_file and SENTINEL not in stack_file
    assert list((project.root / ".terrane" / "state" / ".pulumi" / "stacks").rglob("aws-dev.json"))

    masked = cli("outputs", "aws-dev", "--json")
    assert masked.code == 0 and json.loads(masked.stdout)["token"] == "[secret]"
    assert SENTINEL not in masked.stdout + masked.stderr
    shown = cli("outputs", "aws-dev", "--json", "--show-secrets")
    assert json.loads(shown.stdout)["token"] == SENTINEL

    cloud.edit("aws-dev", "bucket", lambda bucket: bucket.update(retention=30))
    refresh = cli("refresh", "aws-dev", "--json")
    assert refresh.code == 0, refresh.stderr
    assert json.loads(refresh.stdout)["results"][0]["changes"].get("update") == 1
    # The refresh took the cloud's value into the state: the next up puts the code's value back.
    up_again = cli("up", "aws-dev", "--yes", "--json")
    assert json.loads(up_again.stdout)["results"][0]["changes"].get("update") == 1
    assert cloud.get("aws-dev", "bucket")["retention"] == 7

    destroy = cli("destroy", "aws-dev", "--yes", "--json")
    assert destroy.code == 0, destroy.stderr
    assert json.loads(destroy.stdout)["results"][0]["changes"] == {"delete": 5}
    assert not cloud.path("aws-dev", "network").exists()
    assert NETWORK not in (project.root / ".terrane" / "state" / ".pulumi" / "stacks" / "terrane" / "aws-dev.json").read_text()


def test_a_destroy_gives_the_next_up_a_new_incarnation(project: SampleProject, cloud: TestCloud, cli) -> None:
    def run(operation: str) -> str:
        done = cli(operation, "aws-dev", "--yes")
        assert done.code == 0, done.stderr
        return yaml.safe_load((project.root / "Pulumi.aws-dev.yaml").read_text())["config"][INCARNATION_KEY]

    first = run("up")
    assert run("up") == first
    assert cloud.path("aws-dev", "network").exists()
    renewed = run("destroy")
    assert renewed != first and not cloud.path("aws-dev", "network").exists()
    assert run("up") == renewed


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_a_projects_own_engine_and_components_folders_do_not_shadow_terrane(
    project: SampleProject, cli, start_method: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("engine", "stacks", "components"):
        (project.root / name).mkdir()
        (project.root / name / "__init__.py").write_text("raise ImportError('the project own folder was imported')\n")
    monkeypatch.setenv("TERRANE_START_METHOD", start_method)
    done = cli("preview", "aws-dev")
    assert done.code == 0, done.stderr


class _Terminal(io.StringIO):
    """Standard input as a person at a terminal would give it."""

    def isatty(self) -> bool:
        return True


def test_up_and_destroy_show_the_preview_then_ask(project: SampleProject, cloud: TestCloud, cli,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    project.edit_env("aws-dev", lambda env: env["tags"].update(team="payments"))

    previewed = cli("preview", "aws-dev", "--json")
    [planned] = json.loads(previewed.stdout)["results"][0]["planned"]
    assert planned["urn"] == NETWORK and planned["op"] == "update"
    assert any(path.startswith("tags") for path in planned["paths"]), planned

    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    declined = cli("up", "aws-dev")
    assert declined.code == 1 and "aborted: nothing was changed" in declined.stderr
    assert "aws-dev: 1 to update" in declined.stderr
    [line] = [line for line in declined.stderr.splitlines() if line.lstrip().startswith("~")]
    assert line.split()[:4] == ["~", "update", "pulumi-python:dynamic:Resource", "network"] and "(tags" in line, line
    assert "Do you want to perform this up on aws-dev?" in declined.stderr
    assert cloud.get("aws-dev", "network")["tags"]["team"] != "payments"  # asked, refused: nothing changed

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    accepted = cli("up", "aws-dev")
    assert accepted.code == 0, accepted.stderr
    assert cloud.get("aws-dev", "network")["tags"]["team"] == "payments"

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    destroyed = cli("destroy", "aws-dev")
    assert destroyed.code == 0, destroyed.stderr
    shown = destroyed.stderr[: destroyed.stderr.index("Do you want to perform this destroy")]
    for name in ("network", "bucket", "token"):
        assert f"-  delete   pulumi-python:dynamic:Resource {name}" in shown
    assert not cloud.path("aws-dev", "network").exists()

    empty = cli("outputs", "aws-dev")
    assert empty.code == 0 and "aws-dev has no outputs" in empty.stderr
