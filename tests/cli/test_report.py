"""``terrane report --html`` and ``terrane drift --html`` against the stand-in Pulumi CLI, replaying refresh events
recorded from the real CLI (as tests/cli/test_drift.py does)."""

from __future__ import annotations

from pathlib import Path

from terrane.engine.wire import SECRET_SIG, SIG_KEY
from tests import recorded
from tests.helpers.dom import Element, parse
from tests.helpers.project import (
    ACR_READER_SECRET,
    AZURE_SECRET,
    EXTERNAL_ID,
    SENTINELS,
    STANDIN_SECRETS,
    SampleProject,
)
from tests.standin import StandIn

PREFIX = "urn:pulumi:aws-dev::terrane::"
NETWORK = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::network"
TOKEN = f"{PREFIX}pulumi-python:dynamic:Resource::token"
BUCKET = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::bucket"
# network: cidr, owner (add), spec.nodes.max, tags["kubernetes.io/role"]; token: two secrets; bucket: deleted.
DRIFTED = recorded.events("drift-every-kind")
SECRETS = (EXTERNAL_ID, AZURE_SECRET, ACR_READER_SECRET)


def properties(document: Element, env: str) -> dict[tuple[str, str], dict[str, str]]:
    table = document.by_id(f"drift-{env}").one("table", "drift")
    return {(row.attrs["data-urn"] or "", row.attrs["data-path"] or ""):
            {cls: cell.text for cell in row.iter("td") for cls in cell.classes}
            for row in table.iter("tr", "property")}


def states(document: Element) -> dict[str, str | None]:
    return {(row.attrs["id"] or "").removeprefix("env-"): row.attrs["data-state"]
            for row in document.by_id("environments").iter("tr", "environment")}


def test_drift_html_writes_the_page_of_the_run_with_its_values(deployed: StandIn, cli, tmp_path: Path) -> None:
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    deployed.scenario("azure-dev", fail="reading resource group: AuthorizationFailed", fail_on=["refresh"])
    page = tmp_path / "drift.html"
    result = cli("drift", "--all", "--html", page, "--parallel", "3")
    assert result.code == 1  # the page changes nothing about the verdict
    assert f"wrote {page} (3 environments)" in result.stderr
    html = page.read_text()
    assert not any(secret in html for secret in SECRETS)
    document = parse(html)
    assert states(document) == {"aws-dev": "drifted", "azure-dev": "error", "gcp-dev": "in_sync"}
    found = properties(document, "aws-dev")
    assert (found[(NETWORK, "spec.nodes.max")]["expected"], found[(NETWORK, "spec.nodes.max")]["actual"]) == ("3", "9")
    assert found[(BUCKET, "")]["kind"] == "delete"
    secrets = [row for (urn, _), row in found.items() if urn == TOKEN]
    assert len(secrets) == 2 and {(row["expected"], row["actual"]) for row in secrets} == {("[secret]", "[secret]")}
    assert "AuthorizationFailed" in document.by_id("drift-azure-dev").one("p", "error-text").text
    assert "for the drift check from" in document.by_id("generated").text
    # The run is in the history the page shows.
    [mark] = [rect for rect in document.by_id("history-aws-dev").iter("rect")]
    assert mark.one("title").text.endswith(": drifted")


def test_drift_html_with_a_shard_shows_only_its_environments(deployed: StandIn, cli, tmp_path: Path) -> None:
    page = tmp_path / "shard.html"
    assert cli("drift", "aws-dev", "--html", page).code == 0
    assert states(parse(page.read_text())) == {"aws-dev": "in_sync"}


def test_report_html_shows_every_environment_and_the_values_of_the_last_check(
        deployed: StandIn, cli, tmp_path: Path, sample: SampleProject) -> None:
    assert cli("drift", "--all", "--parallel", "3").code == 0
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    assert cli("drift", "aws-dev").code == 2
    page = tmp_path / "report.html"
    result = cli("report", "--html", page)
    assert result.code == 0, result.stderr
    assert f"wrote {page} (3 environments)" in result.stderr
    html = page.read_text()
    assert not any(secret in html for secret in SECRETS)
    document = parse(html)
    assert states(document) == {"aws-dev": "drifted", "azure-dev": "in_sync", "gcp-dev": "in_sync"}
    found = properties(document, "aws-dev")
    assert (found[(NETWORK, "spec.nodes.max")]["expected"], found[(NETWORK, "spec.nodes.max")]["actual"]) == ("3", "9")
    assert found[(BUCKET, "")]["kind"] == "delete"
    secrets = [row for (urn, _), row in found.items() if urn == TOKEN]
    assert len(secrets) == 2 and {(row["expected"], row["actual"]) for row in secrets} == {("[secret]", "[secret]")}
    # What the drift runs left in the history: their masked values, in private files.
    runs = list((sample.root / ".terrane" / "drift" / "runs").rglob("*.json"))
    assert runs and {run.stat().st_mode & 0o777 for run in runs} == {0o600}
    assert not any(secret in run.read_text() for run in runs
                   for secret in (*STANDIN_SECRETS, *SENTINELS, SIG_KEY, SECRET_SIG))
    row = document.by_id("env-aws-dev")
    assert row.all("td")[3].one("time").attrs["datetime"]  # the last update, from pulumi stack ls
    assert [rect.one("title").text.split(": ")[1] for rect in document.by_id("history-aws-dev").iter("rect")] == [
        "drifted"]  # today's worst state
    ignored = document.by_id("drift-aws-dev").one("table", "ignored")
    assert "managed by the cluster autoscaler" in ignored.text

    named = tmp_path / "one.html"
    assert cli("report", "aws-dev", "--html", named).code == 0
    assert states(parse(named.read_text())) == {"aws-dev": "drifted"}


def test_report_html_before_anything_is_deployed(standin: StandIn, cli, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert cli("report", "--all", "--html", page).code == 0
    assert set(states(parse(page.read_text())).values()) == {"not_deployed"}


def test_bad_input_is_refused_before_anything_runs(standin: StandIn, cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "report.html"
    result = cli("report", "--html", missing)
    assert result.code == 3 and "no-such-dir" in result.stderr
    assert cli("drift", "--all", "--html", missing).code == 3
    assert standin.calls_of("refresh") == [] and standin.calls_of("preview") == []
    page = tmp_path / "report.html"
    result = cli("report", "nope", "--html", page)
    assert result.code == 3 and "unknown environment 'nope'" in result.stderr
    assert cli("report", "aws-dev", "--all", "--html", page).code == 3
    assert cli("report").code == 3  # --html is required
    assert not page.exists() and not missing.parent.exists()
