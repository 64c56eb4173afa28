"""``terrane status`` from one listing of the stacks, and secrets that never leave the encrypted config."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terrane.engine.store.backends import open_store
from tests.helpers.dom import parse
from tests.helpers.project import SENTINELS, SampleProject
from tests.helpers.testcloud import TestCloud


def _statuses(cli) -> dict[str, dict]:
    result = cli("status", "--json")
    assert result.code == 0, result.stderr
    return {row["environment"]: row for row in json.loads(result.stdout)["environments"]}


def test_status_lists_every_stack_in_one_call(project: SampleProject, cloud: TestCloud, cli, pulumi_root: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert {name: row["last_update"] for name, row in _statuses(cli).items()} == {
        "aws-dev": None, "azure-dev": None, "gcp-dev": None}
    assert not (project.root / ".terrane").exists()

    before = datetime.now(UTC)
    assert cli("up", "aws-dev", "--yes").code == 0
    deployed = _stack_resources(project, "aws-dev")
    cloud.delete("aws-dev", "bucket")
    assert cli("drift", "aws-dev").code == 2
    started = _processes_started(monkeypatch)
    rows = _statuses(cli)
    assert started == [[str(pulumi_root / "bin" / "pulumi"), "stack", "ls", "--json"]]
    update = rows["aws-dev"]["last_update"]
    assert update["resources"] == deployed > 0
    assert before <= datetime.fromisoformat(update["time"]) <= datetime.now(UTC)
    assert rows["aws-dev"]["last_drift"]["status"] == "drifted"
    assert rows["gcp-dev"]["last_update"] is None and rows["gcp-dev"]["last_drift"] is None
    assert (rows["aws-dev"]["cloud"], rows["aws-dev"]["account"], rows["aws-dev"]["region"]) == (
        "aws", "aws-sandbox", "us-east-1")
    table = cli("status").stdout
    assert datetime.fromisoformat(update["time"]).astimezone().strftime("%Y-%m-%d %H:%M") in table
    assert "drifted (" in table
    assert [line.split()[-1] for line in table.splitlines() if "never deployed" in line] == ["-", "-"]

    assert cli("destroy", "aws-dev", "--yes").code == 0
    destroyed = _statuses(cli)["aws-dev"]
    # A destroyed environment has no drift state: the last check was of resources that are gone.
    assert destroyed["last_update"]["resources"] == 0 and destroyed["last_drift"] is None
    [row] = [line for line in cli("status").stdout.splitlines() if line.startswith("aws-dev")]
    assert row.split()[-2:] == ["0", "-"], row


def _processes_started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argv of every process this one starts from now on."""
    started: list[list[str]] = []
    popen = subprocess.Popen

    def spy(args: list[str], *rest: object, **kwargs: object) -> subprocess.Popen[str]:
        started.append(list(args))
        return popen(args, *rest, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "Popen", spy)
    return started


def _stack_resources(project: SampleProject, name: str) -> int:
    """How many resources the stack's checkpoint holds, as the state file says."""
    [checkpoint] = (project.root / ".terrane" / "state" / ".pulumi" / "stacks").rglob(f"{name}.json")
    return len(json.loads(checkpoint.read_text())["checkpoint"]["latest"]["resources"])


def test_no_secret_in_any_output_report_or_file(project: SampleProject, cloud: TestCloud, cli, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    said = []
    for args in (("preview", "--all"), ("up", "--all", "--yes", "--parallel", "3"), ("outputs", "aws-dev"),
                 ("outputs", "aws-dev", "--json")):
        result = cli(*args)
        assert result.code == 0, result.stderr
        said.append(result.stdout + result.stderr)
    cloud.edit("aws-dev", "token", lambda token: token.update(value="changed-in-the-cloud"))
    for args in (("drift", "--all", "--json", "--markdown", str(reports / "d.md"), "--junit", str(reports / "d.xml")),
                 ("drift", "--all"), ("status",), ("status", "--json")):
        result = cli(*args)
        assert result.code in (0, 2), result.stderr
        said.append(result.stdout + result.stderr)
    assert "[secret]" in "".join(said)

    files = [path for root in (project.root, reports, tmp_path / "pulumi-home") for path in root.rglob("*")
             if path.is_file()]
    assert any(path.name == "Pulumi.azure-dev.yaml" for path in files)
    for secret in SENTINELS:
        assert not any(secret in text for text in said), secret
        leaked = [path for path in files if secret.encode() in path.read_bytes()]
        assert leaked == [], secret


def test_the_page_reads_last_updates_from_the_store_and_asks_pulumi_only_for_the_rest(
        project: SampleProject, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """terrane's record of each update it made is read with one listing; a stack whose newest update it did not
    record (made by something else) is asked of its Pulumi history, as before."""
    for name in ("aws-dev", "gcp-dev"):
        assert cli("up", name, "--yes").code == 0
    store = open_store(project.root, None)
    for key in list(store.keys("updates/gcp-dev/")):
        store.delete(key)
    started = _processes_started(monkeypatch)
    assert cli("report", "--html", tmp_path / "page.html").code == 0
    histories = [argv for argv in started if argv[1:3] == ["stack", "history"]]
    assert [argv[argv.index("--stack") + 1] for argv in histories] == ["gcp-dev"]
    document = parse((tmp_path / "page.html").read_text())
    # Both say what the last update was, the same way: one from the store, one from Pulumi's history.
    said = {name: document.by_id(f"env-{name}").all("td")[3].one("span", "muted").text for name in ("aws-dev", "gcp-dev")}
    assert said["aws-dev"].startswith("update succeeded") and said["aws-dev"] == said["gcp-dev"]
