"""``--all`` runs every environment it can: one that is invalid or whose secret does not resolve is an error row."""

from __future__ import annotations

import json

import pytest

from tests.helpers.project import SampleProject
from tests.helpers.testcloud import TestCloud


@pytest.fixture
def two_broken(project: SampleProject, monkeypatch: pytest.MonkeyPatch) -> SampleProject:
    monkeypatch.delenv("AZURE_CLIENT_SECRET")                                     # azure-dev: unresolvable
    project.edit_env("gcp-dev", lambda env: env["network"].update(cidr="10.0.0.0/33"))  # gcp-dev: invalid
    return project


def test_up_all_runs_the_good_ones_and_reports_the_rest(two_broken: SampleProject, cloud: TestCloud, cli) -> None:
    result = cli("up", "--all", "--yes", "--json")
    assert result.code == 1
    results = {row["environment"]: row for row in json.loads(result.stdout)["results"]}
    assert [name for name in results] == ["aws-dev", "azure-dev", "gcp-dev"]
    assert results["aws-dev"]["status"] == "succeeded" and cloud.path("aws-dev", "network").exists()
    assert results["azure-dev"]["status"] == "failed"
    assert "AZURE_CLIENT_SECRET" in results["azure-dev"]["error"]
    assert results["gcp-dev"]["status"] == "failed"
    assert "environments/gcp-dev.yaml" in results["gcp-dev"]["error"] and "network.cidr" in results["gcp-dev"]["error"]
    assert "\n" not in results["gcp-dev"]["error"]
    assert not (two_broken.root / "Pulumi.azure-dev.yaml").exists() and not (cloud.root / "gcp-dev").exists()


def test_drift_all_checks_the_rest_and_naming_one_stays_invalid_input(project: SampleProject, cloud: TestCloud, cli,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("up", "aws-dev", "azure-dev", "--yes").code == 0
    monkeypatch.delenv("AZURE_CLIENT_SECRET")                                        # azure-dev: unresolvable
    project.edit_env("gcp-dev", lambda env: env["network"].update(cidr="10.0.0.0/33"))  # gcp-dev: invalid
    result = cli("drift", "--all", "--json")
    assert result.code == 1, result.stderr
    report = {env["environment"]: env for env in json.loads(result.stdout)["environments"]}
    assert report["aws-dev"]["status"] == "in_sync"
    assert report["azure-dev"]["status"] == "error" and "AZURE_CLIENT_SECRET" in report["azure-dev"]["error"]
    assert report["gcp-dev"]["status"] == "error" and "network.cidr" in report["gcp-dev"]["error"]

    for name in ("azure-dev", "gcp-dev"):
        named = cli("drift", name)
        assert named.code == 3, named.stderr
        assert named.stdout == ""


def test_status_shows_an_invalid_environment_as_an_error_row(two_broken: SampleProject, cli) -> None:
    result = cli("status", "--json")
    assert result.code == 1
    rows = {row["environment"]: row for row in json.loads(result.stdout)["environments"]}
    assert rows["aws-dev"]["error"] is None and rows["aws-dev"]["last_update"] is None
    assert "network.cidr" in rows["gcp-dev"]["error"] and rows["gcp-dev"]["cloud"] == "-"
