"""``terrane drift`` and ``terrane status`` against the stand-in Pulumi CLI replaying refresh events."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine.drift import in_shard
from tests.conftest import SampleProject
from tests.standin import StandIn

VPC = "urn:pulumi:aws-dev::terrane::aws:ec2/vpc:Vpc::network"
BUCKET = "urn:pulumi:aws-dev::terrane::aws:s3/bucket:Bucket::bucket"


def _state(urn: str, type_: str, outputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "urn": urn, "id": urn.rsplit("::", 1)[-1] + "-1", "parent": "", "provider": "",
            "custom": True, "outputs": outputs}


def _updated(urn: str, type_: str, old: dict[str, Any], new: dict[str, Any], diff: dict[str, str]) -> list[dict]:
    """The engine events of a preview refresh that found ``urn`` changed in the cloud."""
    metadata = {"op": "update", "urn": urn, "type": type_, "provider": "", "old": _state(urn, type_, old),
                "new": _state(urn, type_, new), "diffs": sorted({path.split(".")[0] for path in diff}),
                "detailedDiff": {path: {"diffKind": kind, "inputDiff": False} for path, kind in diff.items()}}
    pre = {**metadata, "op": "refresh"}
    return [{"resourcePreEvent": {"metadata": pre, "planning": True}},
            {"resOutputsEvent": {"metadata": metadata, "planning": True}}]


def _deleted(urn: str, type_: str) -> list[dict]:
    metadata = {"op": "delete", "urn": urn, "type": type_, "provider": "", "old": _state(urn, type_, {"bucket": "b"})}
    return [{"resourcePreEvent": {"metadata": {**metadata, "op": "refresh"}, "planning": True}},
            {"resOutputsEvent": {"metadata": metadata, "planning": True}}]


TAGS_CHANGED = _updated(VPC, "aws:ec2/vpc:Vpc", {"tags": {"owner": "platform"}, "cidrBlock": "10.20.0.0/16"},
                        {"tags": {"owner": "someone", "extra": "x"}, "cidrBlock": "10.20.0.0/16"},
                        {"tags.owner": "update", "tags.extra": "add"})


@pytest.fixture
def deployed(standin: StandIn, cli) -> StandIn:
    for env in ("aws-dev", "azure-dev", "gcp-dev"):
        standin.scenario(env, outputs={})
    assert cli("up", "--all", "--yes", "--parallel", "3").code == 0
    return standin


def _report(result) -> dict[str, Any]:
    return {env["environment"]: env for env in json.loads(result.stdout)["environments"]}


def test_in_sync(deployed: StandIn, cli, sample: SampleProject) -> None:
    result = cli("drift", "--all", "--json", "--parallel", "3")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1 and document["started_at"] <= document["finished_at"]
    assert _report(result)["aws-dev"] == {"environment": "aws-dev", "status": "in_sync", "error": None,
                                          "resources": [], "ignored": 0}
    (refresh,) = [call for call in deployed.calls_of("refresh") if "aws-dev" in call["argv"]]
    assert "--preview-only" in refresh["argv"] and "--run-program=true" in refresh["argv"]
    history = (sample.root / ".terrane" / "drift" / "history.jsonl").read_text().splitlines()
    assert len(history) == 1


def test_a_drifted_property_and_a_deleted_resource(deployed: StandIn, cli) -> None:
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED + _deleted(BUCKET, "aws:s3/bucket:Bucket"))
    result = cli("drift", "aws-dev", "--json")
    assert result.code == 2, result.stderr
    assert _report(result)["aws-dev"] == {
        "environment": "aws-dev", "status": "drifted", "error": None, "ignored": 0,
        "resources": [
            {"urn": VPC, "type": "aws:ec2/vpc:Vpc", "change": "update", "properties": [
                {"path": "tags.extra", "kind": "add", "expected": None, "actual": "x"},
                {"path": "tags.owner", "kind": "update", "expected": "platform", "actual": "someone"},
            ]},
            {"urn": BUCKET, "type": "aws:s3/bucket:Bucket", "change": "delete", "properties": []},
        ],
    }
    human = cli("drift", "aws-dev")
    assert "aws-dev: drifted (2 resource(s) drifted)" in human.stdout
    assert "tags.owner (update): expected 'platform', actual 'someone'" in human.stdout


def test_secret_values_show_masked(deployed: StandIn, cli) -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    deployed.scenario("aws-dev", refresh_events=_updated(VPC, "aws:ec2/vpc:Vpc", {"password": secret},
                                                         {"password": {**secret, "value": "changed"}}, {"password": "update"}))
    result = cli("drift", "aws-dev", "--json")
    (resource,) = _report(result)["aws-dev"]["resources"]
    assert resource["properties"] == [{"path": "password", "kind": "update", "expected": "[secret]", "actual": "[secret]"}]
    assert "hunter2" not in result.stdout + result.stderr


def test_a_failing_environment_among_good_ones(deployed: StandIn, cli) -> None:
    deployed.scenario("azure-dev", fail="reading resource group: AuthorizationFailed", fail_on=["refresh"])
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    result = cli("drift", "--all", "--json", "--parallel", "3")
    assert result.code == 1
    report = _report(result)
    assert report["azure-dev"]["status"] == "error"
    assert "AuthorizationFailed" in report["azure-dev"]["error"]
    assert report["aws-dev"]["status"] == "drifted"
    assert report["gcp-dev"]["status"] == "in_sync"


@pytest.mark.parametrize(("until", "status", "ignored"), [(None, "in_sync", 2), ("2099-01-01", "in_sync", 2),
                                                         ("2020-01-01", "drifted", 0)])
def test_ignore_rules(sample: SampleProject, deployed: StandIn, cli, until, status, ignored) -> None:
    rule = {"resource": "aws:ec2/vpc:Vpc", "property": "tags", "reason": "tagged by the FinOps team"}
    sample.edit_env("aws-dev", lambda data: data["drift"].update(ignore=[{**rule, **({"until": until} if until else {})}]))
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    result = cli("drift", "aws-dev", "--json")
    assert (_report(result)["aws-dev"]["status"], _report(result)["aws-dev"]["ignored"]) == (status, ignored)
    assert result.code == (0 if status == "in_sync" else 2)


def test_an_urn_glob_ignores_a_property_of_matching_resources(sample: SampleProject, deployed: StandIn, cli) -> None:
    rule = {"resource": "urn:pulumi:aws-dev::*::network", "property": "tags.extra", "reason": "added by a tagger"}
    sample.edit_env("aws-dev", lambda data: data["drift"].update(ignore=[rule]))
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    report = _report(cli("drift", "aws-dev", "--json"))["aws-dev"]
    assert report["ignored"] == 1
    assert [prop["path"] for prop in report["resources"][0]["properties"]] == ["tags.owner"]


def test_shards_partition_the_environments(deployed: StandIn, cli) -> None:
    seen: list[str] = []
    for index in range(3):
        result = cli("drift", "--shard", f"{index}/3", "--json", "--parallel", "3")
        seen += list(_report(result))
        assert all(in_shard(name, (index, 3)) for name in _report(result))
    assert sorted(seen) == ["aws-dev", "azure-dev", "gcp-dev"]
    assert cli("drift", "--shard", "3/3").code == 3
    assert cli("drift", "--notify", "file:///etc/passwd").code == 3


class _Hooks:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []


@pytest.fixture
def webhook() -> Iterator[tuple[str, _Hooks]]:
    hooks = _Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            hooks.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN", hooks
    server.shutdown()


def test_notifications_only_when_the_drift_state_changes(deployed: StandIn, cli, webhook) -> None:
    url, hooks = webhook
    assert cli("drift", "aws-dev", "--notify", url).code == 0
    assert hooks.bodies == []  # in sync, as never seen before: nothing to say
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1 and "aws-dev" in hooks.bodies[0]["text"]
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1  # the same drift again: no second message
    deployed.scenario("aws-dev", refresh_events=[])
    assert cli("drift", "aws-dev", "--notify", url).code == 0
    assert len(hooks.bodies) == 2 and "resolved" in hooks.bodies[1]["text"]


def test_a_notification_that_failed_is_sent_next_time(sample: SampleProject, deployed: StandIn, cli, webhook) -> None:
    url, hooks = webhook
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    failed = cli("drift", "aws-dev", "--notify", "http://127.0.0.1:9/hooks/T0KEN")
    assert failed.code == 1
    assert "T0KEN" not in failed.stderr
    assert not (sample.root / ".terrane" / "drift" / "history.jsonl").exists()
    assert cli("drift", "aws-dev", "--notify", url).code == 2
    assert len(hooks.bodies) == 1


def test_remediation_skips_protected_environments(sample: SampleProject, deployed: StandIn, cli) -> None:
    sample.edit_env("aws-dev", lambda data: data.update(protect=True))
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    deployed.scenario("gcp-dev", refresh_events=_updated(
        "urn:pulumi:gcp-dev::terrane::aws:ec2/vpc:Vpc::network", "aws:ec2/vpc:Vpc", {"a": 1}, {"a": 2}, {"a": "update"}))
    ups_before = {env: sum(env in call["argv"] for call in deployed.calls_of("up")) for env in ("aws-dev", "gcp-dev")}
    result = cli("drift", "--all", "--remediate", "up", "--parallel", "3")
    assert result.code == 2
    assert "aws-dev: drifted but protected (protect: true); not remediated" in result.stderr
    assert "gcp-dev: remediation by up done" in result.stderr
    ups_after = {env: sum(env in call["argv"] for call in deployed.calls_of("up")) for env in ("aws-dev", "gcp-dev")}
    assert ups_after == {"aws-dev": ups_before["aws-dev"], "gcp-dev": ups_before["gcp-dev"] + 1}


def test_junit_and_markdown_reports(deployed: StandIn, cli, tmp_path) -> None:
    deployed.scenario("aws-dev", refresh_events=TAGS_CHANGED)
    deployed.scenario("azure-dev", fail="expired credentials", fail_on=["refresh"])
    junit, markdown = tmp_path / "drift.xml", tmp_path / "drift.md"
    assert cli("drift", "--all", "--junit", junit, "--markdown", markdown, "--parallel", "3").code == 1
    suite = ElementTree.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"aws-dev", "azure-dev", "gcp-dev"}
    assert cases["aws-dev"].find("failure") is not None
    assert cases["azure-dev"].find("error") is not None
    assert cases["gcp-dev"].find("failure") is None and cases["gcp-dev"].find("error") is None
    text = markdown.read_text()
    assert "aws-dev" in text and "tags.owner" in text and "expired credentials" in text


def test_status_shows_every_environment(sample: SampleProject, standin: StandIn, cli) -> None:
    assert cli("up", "aws-dev", "--yes").code == 0
    assert cli("drift", "aws-dev").code == 0
    result = cli("status", "--json")
    assert result.code == 0, result.stderr
    rows = {row["environment"]: row for row in json.loads(result.stdout)["environments"]}
    aws = rows["aws-dev"]
    assert (aws["cloud"], aws["account"], aws["region"]) == ("aws", "aws-sandbox", "us-east-1")
    assert (aws["last_update"]["kind"], aws["last_update"]["result"]) == ("update", "succeeded")
    assert aws["last_update"]["resources"] == 3
    assert aws["last_drift"]["status"] == "in_sync"
    assert rows["gcp-dev"]["last_update"] is None and rows["gcp-dev"]["last_drift"] is None
    table = cli("status")
    assert "never deployed" in table.stdout and "never checked" in table.stdout
