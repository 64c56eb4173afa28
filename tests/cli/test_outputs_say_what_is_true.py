"""What the human outputs say is true, in plain words (issue 29): counts in the singular and the plural, a drift run
that found nothing deployed, one readable time in ``status``, doctor's secret references, tables without trailing
spaces, and the update on the environments page named for what it is (the checkout's git author)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from terrane.engine.store.backends import open_store
from tests import recorded
from tests.helpers.dom import parse
from tests.helpers.project import Result, SampleProject
from tests.standin import StandIn

BUCKET = "terrane:test:Group$pulumi-python:dynamic:Resource::bucket"
OTHERS = ("pulumi-python:dynamic:Resource::token", "terrane:test:Group$pulumi-python:dynamic:Resource::network")


def _one_resource_deleted() -> list[dict]:
    """The recorded refresh that found three resources drifted, with the events of two of them left out: only the
    bucket, deleted out of band, remains."""
    def urn(event: dict) -> str:
        body = next((value for key, value in event.items() if key.endswith("Event")), None)
        return str(((body or {}).get("metadata") or {}).get("urn", "")) if isinstance(body, dict) else ""

    events = [event for event in recorded.events("drift-every-kind") if not urn(event).endswith(OTHERS)]
    assert any(urn(event).endswith(BUCKET) for event in events)
    return events


def test_drift_counts_in_words_one_resource_and_one_environment(deployed: StandIn, cli) -> None:
    deployed.scenario("aws-dev", refresh_events=_one_resource_deleted())
    result = cli("drift", "aws-dev")
    assert result.code == 2, result.stderr
    assert "aws-dev: drifted (1 resource drifted)" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 deployed environment checked: 0 in sync, 1 drifted, 0 could not be checked."
    assert "(s)" not in result.stdout


def test_drift_with_nothing_deployed_says_so(standin: StandIn, cli) -> None:
    result = cli("drift", "--all")
    assert result.code == 0
    assert result.stdout.splitlines()[-1] == "no environment is deployed: 3 not deployed, nothing was checked."
    assert "checked:" not in result.stdout


def test_drift_counts_the_environments_not_deployed_apart(standin: StandIn, cli) -> None:
    standin.scenario("gcp-dev", refresh_events=recorded.events("drift-in-sync"))
    assert cli("up", "gcp-dev", "--yes").code == 0
    result = cli("drift", "--all")
    assert result.code == 0
    assert "gcp-dev: in sync (0 resources drifted)" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "1 deployed environment checked: 1 in sync, 0 drifted, 0 could not be checked; 2 not deployed.")


def test_status_shows_each_time_once_and_readable(deployed: StandIn, cli) -> None:
    assert cli("drift", "--all", "--parallel", "3").code == 0
    rows = {row["environment"]: row for row in json.loads(cli("status", "--json").stdout)["environments"]}
    checked_at = rows["aws-dev"]["last_drift"]["checked_at"]
    datetime.fromisoformat(checked_at)  # JSON keeps ISO 8601
    table = cli("status")
    (line,) = [line for line in table.stdout.splitlines() if line.startswith("aws-dev ")]
    local = datetime.fromisoformat(checked_at).astimezone()
    assert line.endswith(f"in_sync ({local.strftime('%Y-%m-%d %H:%M %Z')})")
    assert checked_at not in table.stdout and not re.search(r"\d{4}-\d\d-\d\dT\d\d:", table.stdout)
    _no_trailing_spaces(table)


def _no_trailing_spaces(result: Result) -> None:
    assert result.stdout.strip(), result.stderr
    ending = [line for line in result.stdout.splitlines() if line != line.rstrip()]
    assert ending == []


def test_tables_end_their_lines_at_their_last_character(sample: SampleProject, cli) -> None:
    sample.edit_env("gcp-dev", lambda data: data["network"].update(cidr="10.20.0.0/33"))
    listed = cli("--project", sample.root, "envs", "list")
    _no_trailing_spaces(listed)
    lines = listed.stdout.splitlines()
    (invalid,) = [line for line in lines if line.startswith("gcp-dev ")]
    assert "invalid: " in invalid
    # The last column is not padded to the longest message: a valid row ends with its own word.
    for line in lines[1:]:
        if line is not invalid:
            assert line.endswith(" valid") and len(line) < len(invalid)
    _no_trailing_spaces(cli("--project", sample.root, "accounts", "list"))
    _no_trailing_spaces(cli("--project", sample.root, "plan", "aws-dev"))


def test_doctor_says_when_there_is_no_secret_reference_to_resolve(sample: SampleProject, standin: StandIn, cli,
                                                                  monkeypatch) -> None:
    accounts = sample.load_accounts()
    accounts["accounts"]["aws-keys"] = {
        "cloud": "aws", "account_id": "123456789012", "region": "us-east-1",
        "auth": {"static": {"access_key_id": {"env": "KEYS_ID"}, "secret_access_key": {"env": "KEYS_SECRET"}}}}
    sample.write_accounts(accounts)
    monkeypatch.setenv("KEYS_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("KEYS_SECRET", "keys-secret-value")
    result = cli("doctor", "--json")
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["registry gcp-images"] == {"name": "registry gcp-images", "status": "ok",
                                             "detail": "gcp, impersonate: no secret references to resolve"}
    assert checks["account aws-sandbox"]["detail"] == "aws, assume_role: env:TERRANE_AWS_EXTERNAL_ID resolves"
    assert checks["account aws-keys"]["detail"] == "aws, static: env:KEYS_ID, env:KEYS_SECRET resolve"
    assert "keys-secret-value" not in result.stdout + result.stderr
    human = cli("doctor")
    assert "ok   registry gcp-images: gcp, impersonate: no secret references to resolve" in human.stdout


def test_the_page_names_the_checkout_s_git_author_as_such(deployed: StandIn, sample: SampleProject, cli,
                                                          tmp_path: Path) -> None:
    """Pulumi's history keeps the author of the checkout's HEAD commit, not who ran the update: the page says so.
    Here the stack's history is the stand-in's, given the environment Pulumi records in a git checkout."""
    stack = deployed.control / "stacks" / "aws-dev.json"
    state = json.loads(stack.read_text())
    state["history"][-1]["environment"].update({"git.author": "Ada Lovelace", "git.committer": "CI Bot",
                                                "git.head": "0" * 40})
    stack.write_text(json.dumps(state))
    store = open_store(sample.root, None)
    for key in list(store.keys("updates/aws-dev/")):  # terrane's own record of the up: the history is asked instead
        store.delete(key)
    page = tmp_path / "page.html"
    assert cli("report", "--html", page).code == 0
    document = parse(page.read_text())
    said = {name: " ".join(document.by_id(f"env-{name}").all("td")[3].one("span", "muted").text.split())
            for name in ("aws-dev", "gcp-dev")}
    assert said["aws-dev"] == "update succeeded; git author of the checkout: Ada Lovelace"
    assert said["gcp-dev"] == "update succeeded"  # its history names no one
    assert " by " not in said["aws-dev"]
