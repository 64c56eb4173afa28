"""``terrane drift`` against the stand-in Pulumi CLI, replaying refresh events recorded from the real CLI.

The real CLI (tests/real_engine/test_drift.py) proves each kind of drift, the reports,
secrets and remediation; these tests add what it cannot give: a fault in one environment
among several, ignore rules that expire, shards, notifications and calls observed.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

import pytest

from terrane.engine.drift import notify
from terrane.engine.drift.history import project_history
from terrane.engine.drift.rules import in_shard
from terrane.engine.errors import ExitCode
from tests import recorded
from tests.helpers.project import SampleProject
from tests.standin import StandIn

PREFIX = "urn:pulumi:aws-dev::terrane::"
NETWORK = f"{PREFIX}terrane:test:Group$pulumi-python:dynamic:Resource::network"
DYNAMIC = "pulumi-python:dynamic:Resource"
# Preview refreshes recorded from the real CLI on aws-dev's stack; the stand-in replays them for any stack.
IN_SYNC = recorded.events("drift-in-sync")
# network: cidr, owner (add), spec.nodes.max, tags["kubernetes.io/role"]; token: two secrets; bucket: deleted.
DRIFTED = recorded.events("drift-every-kind")


def _report(result) -> dict[str, Any]:
    return {env["environment"]: env for env in json.loads(result.stdout)["environments"]}


def test_a_failing_environment_among_good_ones(deployed: StandIn, cli) -> None:
    deployed.scenario("azure-dev", fail="reading resource group: AuthorizationFailed", fail_on=["refresh"])
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    result = cli("drift", "--all", "--json", "--parallel", "3")
    assert result.code == 1
    report = _report(result)
    assert report["azure-dev"]["status"] == "error"
    assert "AuthorizationFailed" in report["azure-dev"]["error"]
    assert (report["aws-dev"]["status"], len(report["aws-dev"]["resources"])) == ("drifted", 3)
    assert report["gcp-dev"]["status"] == "in_sync"


@pytest.mark.parametrize(("until", "status", "ignored"), [(None, "in_sync", 7), ("2099-01-01", "in_sync", 7),
                                                         ("2020-01-01", "drifted", 0)])
def test_ignore_rules(sample: SampleProject, deployed: StandIn, cli, until, status, ignored) -> None:
    # Every property of every dynamic resource (4 + 2) and the deleted one: 7 changes, until the rule expires.
    rule = {"resource": DYNAMIC, "property": "*", "reason": "a test cloud's objects"}
    sample.edit_env("aws-dev", lambda data: data["drift"].update(ignore=[{**rule, **({"until": until} if until else {})}]))
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    result = cli("drift", "aws-dev", "--json")
    assert (_report(result)["aws-dev"]["status"], _report(result)["aws-dev"]["ignored"]) == (status, ignored)
    assert result.code == (0 if status == "in_sync" else 2)


def test_an_urn_glob_ignores_a_property_of_matching_resources(sample: SampleProject, deployed: StandIn, cli) -> None:
    rule = {"resource": "urn:pulumi:aws-dev::*::network", "property": "tags", "reason": "added by a tagger"}
    sample.edit_env("aws-dev", lambda data: data["drift"].update(ignore=[rule]))
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    report = _report(cli("drift", "aws-dev", "--json"))["aws-dev"]
    assert report["ignored"] == 1
    (network,) = [resource for resource in report["resources"] if resource["urn"] == NETWORK]
    assert [prop["path"] for prop in network["properties"]] == ["cidr", "owner", "spec.nodes.max"]
    assert len(report["resources"]) == 3


def test_shards_partition_the_environments(deployed: StandIn, cli) -> None:
    seen: list[str] = []
    for index in range(3):
        result = cli("drift", "--shard", f"{index}/3", "--json", "--parallel", "3")
        seen += list(_report(result))
        assert all(in_shard(name, (index, 3)) for name in _report(result))
    assert sorted(seen) == ["aws-dev", "azure-dev", "gcp-dev"]
    assert cli("drift", "--shard", "3/3").code == 3
    assert cli("drift", "--notify", "file:///etc/passwd").code == 3


def test_notifications_only_when_the_drift_state_changes(deployed: StandIn, cli, webhook) -> None:
    url, hooks = webhook
    assert cli("drift", "aws-dev", "--notify", url).code == 0
    assert hooks.bodies == []  # in sync, as never seen before: nothing to say
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1 and "aws-dev" in hooks.bodies[0]["text"]
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1  # the same drift again: no second message
    deployed.scenario("aws-dev", refresh_events=IN_SYNC)
    assert cli("drift", "aws-dev", "--notify", url).code == 0
    assert len(hooks.bodies) == 2 and "resolved" in hooks.bodies[1]["text"]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "RETRY_DELAYS", (0.01, 0.01))


def test_a_webhook_that_fails_for_a_while_is_retried(deployed: StandIn, cli, webhook, quick_retries) -> None:
    url, hooks = webhook
    hooks.failures = 2
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert (hooks.attempts, len(hooks.bodies)) == (3, 1)


def test_a_rejected_notification_is_not_retried(deployed: StandIn, cli, webhook, quick_retries) -> None:
    url, hooks = webhook
    hooks.failures, hooks.status = 1, 404
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    result = cli("drift", "aws-dev", "--notify", url)
    assert result.code == 1 and "HTTP 404" in result.stderr
    assert hooks.attempts == 1


def test_a_failed_notification_changes_nothing_else_and_is_sent_next_time(
    sample: SampleProject, deployed: StandIn, cli, webhook, quick_retries
) -> None:
    url, hooks = webhook
    hooks.failures = 100
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    failed = cli("drift", "aws-dev", "--notify", url, "--remediate", "refresh")
    assert failed.code == 1
    assert hooks.attempts == 3 and hooks.bodies == []
    assert "aws-dev: drifted" in failed.stdout  # reported,
    assert "aws-dev: remediation by refresh done" in failed.stderr  # remediated,
    runs = list(project_history(sample.root, {}).runs())
    assert [run["environments"][0]["status"] for run in runs] == ["drifted"]  # and recorded
    assert "error: drift found, but the notification failed: could not notify http://127.0.0.1:" in failed.stderr
    assert "HTTP 503" in failed.stderr and "sent again on the next run" in failed.stderr
    assert "T0KEN" not in failed.stdout + failed.stderr

    hooks.failures = 0
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1 and "aws-dev" in hooks.bodies[0]["text"]  # the news, sent once it could be
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1
    assert not [path for path in (sample.root / ".terrane" / "drift").rglob("*") if path.name.startswith(".")]  # no
    # temporary file left


def test_remediation_skips_protected_environments(sample: SampleProject, deployed: StandIn, cli) -> None:
    sample.edit_env("aws-dev", lambda data: data.update(protect=True))
    for env in ("aws-dev", "gcp-dev"):
        deployed.scenario(env, refresh_events=DRIFTED)
    ups_before = {env: sum(env in call["argv"] for call in deployed.calls_of("up")) for env in ("aws-dev", "gcp-dev")}
    result = cli("drift", "--all", "--remediate", "up", "--parallel", "3")
    assert result.code == 2
    assert "aws-dev: drifted but protected (protect: true); not remediated" in result.stderr
    assert "gcp-dev: remediation by up done" in result.stderr
    ups_after = {env: sum(env in call["argv"] for call in deployed.calls_of("up")) for env in ("aws-dev", "gcp-dev")}
    assert ups_after == {"aws-dev": ups_before["aws-dev"], "gcp-dev": ups_before["gcp-dev"] + 1}


def test_junit_and_markdown_reports(deployed: StandIn, cli, tmp_path) -> None:
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    deployed.scenario("azure-dev", fail="expired credentials", fail_on=["refresh"])
    junit, markdown = tmp_path / "drift.xml", tmp_path / "drift.md"
    result = cli("drift", "--all", "--junit", junit, "--markdown", markdown, "--parallel", "3")
    assert result.code == 1
    assert "aws-dev: drifted (3 resources drifted)" in result.stdout
    assert "spec.nodes.max (update): expected 3, actual 9" in result.stdout
    assert "azure-dev: could not be checked: expired credentials" in result.stdout
    suite = ElementTree.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"aws-dev", "azure-dev", "gcp-dev"}
    assert cases["aws-dev"].find("failure") is not None
    assert cases["azure-dev"].find("error") is not None
    assert cases["gcp-dev"].find("failure") is None and cases["gcp-dev"].find("error") is None
    text = markdown.read_text()
    assert "aws-dev" in text and "spec.nodes.max" in text and "expired credentials" in text



def test_the_python_api_notifies_and_records_as_the_cli_does(sample: SampleProject, deployed: StandIn,
                                                              webhook) -> None:
    from terrane.engine.api import Engine

    url, hooks = webhook
    engine = Engine(sample.root)
    deployed.scenario("aws-dev", refresh_events=DRIFTED)
    report = engine.drift("aws-dev", notify=url)
    assert (report.exit_code, report.notification_error) == (ExitCode.CHANGES, None)
    assert len(hooks.bodies) == 1 and "aws-dev" in hooks.bodies[0]["text"]
    [status] = [row for row in engine.status() if row.environment == "aws-dev"]
    assert status.last_drift is not None and status.last_drift["status"] == "drifted"

    hooks.status, hooks.failures = 400, 1  # rejected: the run is still recorded, and the news kept for next time
    deployed.scenario("aws-dev", refresh_events=IN_SYNC)
    report = engine.drift("aws-dev", notify=url)
    assert report.exit_code == ExitCode.OK and "400" in (report.notification_error or "")
    [status] = [row for row in engine.status() if row.environment == "aws-dev"]
    assert status.last_drift is not None and status.last_drift["status"] == "in_sync"
