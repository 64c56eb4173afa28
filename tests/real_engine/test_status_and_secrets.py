"""``terrane status`` from the real stack history, and secrets that never leave the stack's encrypted config."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SampleProject
from tests.helpers.testcloud import TestCloud
from tests.real_engine.conftest import SECRETS


def _statuses(cli) -> dict[str, dict]:
    result = cli("status", "--json")
    assert result.code == 0, result.stderr
    return {row["environment"]: row for row in json.loads(result.stdout)["environments"]}


def test_status_reads_the_stack_history(project: SampleProject, cloud: TestCloud, cli) -> None:
    assert {name: row["last_update"] for name, row in _statuses(cli).items()} == {
        "aws-dev": None, "azure-dev": None, "gcp-dev": None}
    assert not (project.root / ".terrane").exists()

    assert cli("up", "aws-dev", "--yes").code == 0
    cloud.delete("aws-dev", "bucket")
    assert cli("drift", "aws-dev").code == 2
    rows = _statuses(cli)
    update = rows["aws-dev"]["last_update"]
    assert (update["kind"], update["result"], update["resources"]) == ("update", "succeeded", 5)
    assert update["start_time"] <= update["end_time"]
    assert rows["aws-dev"]["last_drift"]["status"] == "drifted"
    assert rows["gcp-dev"]["last_update"] is None and rows["gcp-dev"]["last_drift"] is None
    assert (rows["aws-dev"]["cloud"], rows["aws-dev"]["account"], rows["aws-dev"]["region"]) == (
        "aws", "aws-sandbox", "us-east-1")
    table = cli("status").stdout
    assert "update succeeded" in table and "drifted (" in table
    assert "never deployed" in table and "never checked" in table

    assert cli("destroy", "aws-dev", "--yes").code == 0
    update = _statuses(cli)["aws-dev"]["last_update"]
    assert (update["kind"], update["resources"]) == ("destroy", 0)


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
    for secret in SECRETS:
        assert not any(secret in text for text in said), secret
        leaked = [path for path in files if secret.encode() in path.read_bytes()]
        assert leaked == [], secret
