"""Drift reports: Markdown and JUnit for CI, the run history, notifications on change, the webhook."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.drift import notify as notify_module
from terrane.engine.drift.history import DriftHistory
from terrane.engine.drift.notify import Notification, notifications, notify
from terrane.engine.drift.report import DriftReport, EnvironmentDrift, PropertyDrift, ResourceDrift, junit, markdown
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.store.objects import LocalStore
from terrane.engine.wire import SECRET_SIG, SIG_KEY

VPC_URN = "urn:pulumi:aws-dev::terrane::terrane:aws:Network$aws:ec2/vpc:Vpc::aws-dev-vpc"
BUCKET_URN = "urn:pulumi:aws-dev::terrane::aws:s3/bucketV2:BucketV2::aws-dev-logs"
SECRET_URN = "urn:pulumi:aws-dev::terrane::aws:secretsmanager/secretVersion:SecretVersion::aws-dev-db-password"

VPC = ResourceDrift(VPC_URN, "aws:ec2/vpc:Vpc", "update", (
    PropertyDrift("tags.owner", "update", "alice", "bob|eve\nx"),
    PropertyDrift("tags.cost", "add", None, {"center": "`42`"}),
    PropertyDrift("enableDnsHostnames", "delete", True, None),
))
BUCKET = ResourceDrift(BUCKET_URN, "aws:s3/bucketV2:BucketV2", "delete")
SECRET = ResourceDrift(SECRET_URN, "aws:secretsmanager/secretVersion:SecretVersion", "update",
                       (PropertyDrift("secretString", "update", "[secret]", "[secret]"),))

AWS_DRIFTED = EnvironmentDrift("aws-dev", "drifted", resources=(VPC, BUCKET, SECRET), ignored=2)
GCP_IN_SYNC = EnvironmentDrift("gcp-dev", "in_sync", ignored=1)
AZURE_ERROR = EnvironmentDrift("azure-dev", "error",
                               error="could not read <stack> | azure-dev\nsee Pulumi's log & retry \x1b[31mred\x1b[0m")

VALUES = ["alice", "bob", "eve", "42"]  # property values: fine in CI reports, never in history or chat


def report(*environments: EnvironmentDrift, started: str = "2026-03-01T06:00:00+00:00",
           finished: str = "2026-03-01T06:01:30+00:00") -> DriftReport:
    return DriftReport(started_at=started, finished_at=finished, environments=environments)


MIXED = report(AWS_DRIFTED, GCP_IN_SYNC, AZURE_ERROR)


# --- Markdown -----------------------------------------------------------------------------------


def _unescaped_pipes(line: str) -> int:
    return line.replace("\\|", "").count("|")


def test_markdown_has_a_verdict_an_environment_table_and_one_drift_table_per_drifted_environment() -> None:
    text = markdown(MIXED)
    lines = text.splitlines()

    assert lines[0] == "## terrane drift"
    assert "**1 of 3 environments drifted; 1 of 3 environments could not be checked.**" in lines
    assert "| aws-dev | drifted | 3 | 2 |  |" in lines
    assert "| gcp-dev | in sync | 0 | 1 |  |" in lines
    [azure_row] = [line for line in lines if line.startswith("| azure-dev |")]
    assert "could not be checked" in azure_row
    assert "### aws-dev" in lines
    assert "### gcp-dev" not in text and "### azure-dev" not in text

    rows = [line for line in lines if line.startswith("| `aws-dev-vpc`")]
    assert len(rows) == 3
    assert "| `aws-dev-vpc` `aws:ec2/vpc:Vpc` | `tags.owner` | update | `\"alice\"` | `\"bob\\|eve\\nx\"` |" in lines
    # An added property has no expected value, a deleted one no actual value.
    assert any("`tags.cost` | add |  | ``{\"center\":\"`42`\"}`` |" in row for row in rows)
    assert any("`enableDnsHostnames` | delete | `true` |  |" in row for row in rows)
    assert "| `aws-dev-logs` `aws:s3/bucketV2:BucketV2` | (whole resource) | resource deleted |  |  |" in lines
    assert '`"[secret]"`' in text


def test_markdown_escapes_pipes_newlines_and_html_in_cells() -> None:
    lines = markdown(MIXED).splitlines()
    table = [line for line in lines if line.startswith("|")]

    # Every row keeps its columns: 5 cells -> 6 unescaped pipes; no cell broke onto another line.
    assert table and all(_unescaped_pipes(line) == 6 for line in table)
    [azure_row] = [line for line in table if line.startswith("| azure-dev |")]
    assert "could not read &lt;stack&gt; \\| azure-dev<br>see Pulumi's log &amp; retry" in azure_row
    assert "<stack>" not in azure_row
    assert "retry red" in azure_row and "\x1b" not in azure_row


def test_markdown_when_everything_is_in_sync() -> None:
    text = markdown(report(GCP_IN_SYNC, EnvironmentDrift("aws-dev", "in_sync")))

    assert "**All 2 environments in sync.**" in text
    assert "###" not in text
    assert "**No environments were checked.**" in markdown(report())


# --- JUnit --------------------------------------------------------------------------------------


def test_junit_counts_environments_as_test_cases() -> None:
    suite = ET.fromstring(junit(MIXED))

    assert suite.tag == "testsuite"
    assert suite.attrib["name"] == "terrane drift"
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["errors"]) == ("3", "1", "1")
    assert suite.attrib["timestamp"] == "2026-03-01T06:00:00+00:00"
    assert suite.attrib["time"] == "90.000"
    assert suite.find("properties/property[@name='ignored']").attrib["value"] == "3"  # type: ignore[union-attr]

    cases = {case.attrib["name"]: case for case in suite.iter("testcase")}
    assert list(cases) == ["aws-dev", "gcp-dev", "azure-dev"]
    assert {case.attrib["classname"] for case in cases.values()} == {"terrane.drift"}

    failure = cases["aws-dev"].find("failure")
    assert failure is not None and failure.attrib == {"message": "3 resources drifted", "type": "drift"}
    assert 'aws:ec2/vpc:Vpc aws-dev-vpc: tags.owner (update): expected "alice", actual "bob|eve\\nx"' in failure.text
    assert 'tags.cost (add): expected (absent), actual {"center":"`42`"}' in failure.text
    assert "enableDnsHostnames (delete): expected true, actual (absent)" in failure.text
    assert "aws:s3/bucketV2:BucketV2 aws-dev-logs: deleted" in failure.text
    assert '"[secret]"' in failure.text
    assert cases["aws-dev"].find("error") is None
    assert "2 changes ignored" in cases["aws-dev"].findtext("system-out", "")

    assert list(cases["gcp-dev"].iter("failure")) == [] and list(cases["gcp-dev"].iter("error")) == []
    assert cases["gcp-dev"].find("properties/property[@name='ignored']").attrib["value"] == "1"  # type: ignore[union-attr]

    error = cases["azure-dev"].find("error")
    assert error is not None and error.attrib["type"] == "error"
    assert error.attrib["message"] == "could not read <stack> | azure-dev"
    assert "see Pulumi's log & retry" in error.text
    assert "retry red" in error.text  # terminal colours stripped: XML 1.0 cannot even carry ESC


def test_junit_stays_well_formed_with_characters_xml_cannot_carry() -> None:
    odd = ResourceDrift("urn:pulumi:x::y::t::we\x0cird", "t", "update", (PropertyDrift("a\x01b", "update", 1, 2),))
    suite = ET.fromstring(junit(report(EnvironmentDrift("aws-dev", "drifted", resources=(odd,)))))
    assert "we\\x0cird: a\\x01b (update)" in suite.findtext("testcase/failure", "")


def test_junit_of_an_empty_or_in_sync_run() -> None:
    suite = ET.fromstring(junit(report(GCP_IN_SYNC)))
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["errors"]) == ("1", "0", "0")
    assert ET.fromstring(junit(report())).attrib["tests"] == "0"


@pytest.fixture(autouse=True)
def _no_waiting_between_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify_module, "RETRY_DELAYS", (0.0, 0.0))


# --- History ------------------------------------------------------------------------------------

def _history(tmp_path: Path) -> DriftHistory:
    return DriftHistory(LocalStore(tmp_path / ".terrane"))


def test_each_run_keeps_its_line_and_the_latest_state_per_environment(tmp_path: Path) -> None:
    history = _history(tmp_path)
    first = report(AWS_DRIFTED, GCP_IN_SYNC, finished="2026-03-01T06:01:30+00:00")
    second = report(EnvironmentDrift("aws-dev", "in_sync"), AZURE_ERROR, finished="2026-03-01T07:01:30+00:00")

    assert history.latest() == {}
    history.record(first)
    history.record(second)

    runs = list(history.runs())
    assert len(runs) == 2
    assert runs[0] == {"started_at": first.started_at, "finished_at": first.finished_at, "environments": [
        {"environment": "aws-dev", "status": "drifted", "error": None, "drifted": 3, "ignored": 2,
         "fingerprint": [*AWS_DRIFTED.fingerprint]},
        {"environment": "gcp-dev", "status": "in_sync", "error": None, "drifted": 0, "ignored": 1,
         "fingerprint": [*GCP_IN_SYNC.fingerprint]}]}
    assert not any(value in json.dumps(runs) for value in VALUES)  # the lines carry paths, never values

    states = history.latest()
    assert set(states) == {"aws-dev", "gcp-dev", "azure-dev"}
    assert states["aws-dev"]["status"] == "in_sync"
    assert states["aws-dev"]["checked_at"] == "2026-03-01T07:01:30+00:00"
    # Not checked in the last run: keeps what the run before said.
    assert states["gcp-dev"]["status"] == "in_sync"
    assert states["gcp-dev"]["checked_at"] == "2026-03-01T06:01:30+00:00"
    assert states["azure-dev"]["status"] == "error" and states["azure-dev"]["error"] == AZURE_ERROR.error


SENTINEL = "sentinel-plaintext-3f9c"
# A report masks secrets; one that slipped through in Pulumi's wire form is masked before it is written.
WIRE_SECRET = ResourceDrift(SECRET_URN, SECRET.type, "update", (
    PropertyDrift("credentials", "update", {"password": {SIG_KEY: SECRET_SIG, "value": SENTINEL}},
                  {SIG_KEY: SECRET_SIG, "plaintext": f'"{SENTINEL}"'}),))


def test_details_keep_each_environments_latest_values_masked_in_private_files(tmp_path: Path) -> None:
    history = _history(tmp_path)
    leaky = EnvironmentDrift("aws-dev", "drifted", resources=(VPC, BUCKET, SECRET, WIRE_SECRET), ignored=2)
    history.record(report(leaky, GCP_IN_SYNC, AZURE_ERROR))
    [run] = (tmp_path / ".terrane" / "drift" / "runs").rglob("*.json")
    assert run.stat().st_mode & 0o777 == 0o600
    text = run.read_text()
    assert SENTINEL not in text and SECRET_SIG not in text

    found = history.details()
    # As ``terrane drift --json`` has each environment.
    assert found["aws-dev"][1].to_dict() == {**AWS_DRIFTED.to_dict(), "resources": [
        *AWS_DRIFTED.to_dict()["resources"],
        {"urn": SECRET_URN, "type": SECRET.type, "change": "update", "properties": [
            {"path": "credentials", "kind": "update", "expected": {"password": "[secret]"}, "actual": "[secret]"}]}]}
    assert found["gcp-dev"][1].resources == () and found["gcp-dev"][1].status == "in_sync"
    assert found["azure-dev"][1].status == "error"
    assert found["aws-dev"][0] == "2026-03-01T06:01:30+00:00"


def test_details_are_kept_per_environment(tmp_path: Path) -> None:
    history = _history(tmp_path)
    history.record(report(AWS_DRIFTED, GCP_IN_SYNC))
    later = "2026-03-01T07:01:30+00:00"
    history.record(report(EnvironmentDrift("aws-dev", "in_sync"), EnvironmentDrift("gcp-prod", "not_deployed"),
                          finished=later))
    found = history.details()
    assert set(found) == {"aws-dev", "gcp-dev"}  # not deployed: not checked, no entry
    assert found["aws-dev"] == (later, EnvironmentDrift("aws-dev", "in_sync"))  # found in sync: no resources
    assert found["gcp-dev"] == ("2026-03-01T06:01:30+00:00", GCP_IN_SYNC)  # not checked this run: kept
    assert history.latest()["aws-dev"]["checked_at"] == found["aws-dev"][0]  # the same check as the latest state


def test_runs_and_details_that_do_not_read_are_left_out(tmp_path: Path) -> None:
    history = _history(tmp_path)
    history.record(report(AWS_DRIFTED))
    store = history.store
    store.create("drift/runs/2026-03-01/20260301T070000000000Z-a.json", b"not json")
    store.create("drift/runs/2026-03-01/20260301T070000000000Z-b.json", b"[1, 2]")
    store.create("drift/runs/2026-03-01/20260301T070000000000Z-c.json", json.dumps({
        "finished_at": "2026-03-01T07:00:00+00:00", "environments": [{"status": "drifted"}, 3],
        "details": {"gcp-dev": {"status": "drifted", "resources": [{"urn": "x"}]}}}).encode())
    store.create("drift/runs/2026-03-01/20260301T070000000000Z-d.json", b'{"started_at": "2026-03-01T07:00')  # a crash
    history.record(report(GCP_IN_SYNC, finished="2026-03-01T08:01:30+00:00"))
    assert {name: entry["status"] for name, entry in history.latest().items()} == {
        "aws-dev": "drifted", "gcp-dev": "in_sync"}
    assert set(history.details()) == {"aws-dev", "gcp-dev"}


# --- Notifications ------------------------------------------------------------------------------

AWS_IN_SYNC = EnvironmentDrift("aws-dev", "in_sync")
AWS_ERROR = EnvironmentDrift("aws-dev", "error", error="AccessDenied: not authorized to perform sts:AssumeRole")
AWS_OTHER_DRIFT = EnvironmentDrift("aws-dev", "drifted", resources=(VPC, BUCKET), ignored=2)
AWS_OTHER_PROPERTY = EnvironmentDrift("aws-dev", "drifted", resources=(
    ResourceDrift(VPC_URN, VPC.type, "update", VPC.properties[:2]), BUCKET, SECRET))
AWS_SAME_DRIFT_OTHER_VALUES = EnvironmentDrift("aws-dev", "drifted", ignored=5, resources=(
    ResourceDrift(VPC_URN, VPC.type, "update", tuple(
        PropertyDrift(prop.path, prop.kind, "x", "y") for prop in VPC.properties)), BUCKET, SECRET))


def _previous(tmp_path: Path, *before: EnvironmentDrift) -> dict[str, dict[str, Any]]:
    """The previous state as the CLI reads it: through the history."""
    history = _history(tmp_path)
    if before:
        history.record(report(*before))
    return history.told()


@pytest.mark.parametrize(("before", "now", "kind"), [
    (None, AWS_DRIFTED, "new"),
    (AWS_IN_SYNC, AWS_DRIFTED, "new"),
    (AWS_ERROR, AWS_DRIFTED, "new"),
    (AWS_DRIFTED, AWS_OTHER_DRIFT, "changed"),
    (AWS_DRIFTED, AWS_OTHER_PROPERTY, "changed"),
    (AWS_DRIFTED, AWS_IN_SYNC, "resolved"),
    (AWS_ERROR, AWS_IN_SYNC, "resolved"),
    (None, AWS_ERROR, "failing"),
    (AWS_IN_SYNC, AWS_ERROR, "failing"),
    (AWS_DRIFTED, AWS_ERROR, "failing"),
    (None, AWS_IN_SYNC, None),
    (AWS_IN_SYNC, AWS_IN_SYNC, None),
    (AWS_DRIFTED, AWS_DRIFTED, None),
    (AWS_DRIFTED, AWS_SAME_DRIFT_OTHER_VALUES, None),  # same resources and paths: the same drift
    (AWS_ERROR, EnvironmentDrift("aws-dev", "error", error="another error"), None),
])
def test_notifications_only_on_a_change_of_drift_state(
    tmp_path: Path, before: EnvironmentDrift | None, now: EnvironmentDrift, kind: str | None
) -> None:
    previous = _previous(tmp_path, *([before] if before else []))
    notes = notifications(report(now), previous)

    assert [note.kind for note in notes] == ([kind] if kind else [])
    for note in notes:
        assert note.environment == "aws-dev" and note.environment_drift is now
        assert note.text.startswith("terrane drift: aws-dev ")
        assert "\n" not in note.text
        assert not any(value in note.text for value in VALUES)


def test_notification_texts_name_resources_and_paths_never_values(tmp_path: Path) -> None:
    [new] = notifications(report(AWS_DRIFTED), {})
    assert new.text == ("terrane drift: aws-dev drifted: 3 resources (aws:ec2/vpc:Vpc aws-dev-vpc: tags.owner, "
                        "tags.cost, enableDnsHostnames; aws:s3/bucketV2:BucketV2 aws-dev-logs: deleted; "
                        "aws:secretsmanager/secretVersion:SecretVersion aws-dev-db-password: secretString)")
    [changed] = notifications(report(AWS_OTHER_DRIFT), _previous(tmp_path, AWS_DRIFTED))
    assert changed.text.startswith("terrane drift: aws-dev drift changed: 2 resources (")
    [resolved] = notifications(report(AWS_IN_SYNC), {"aws-dev": {"status": "drifted"}})
    assert resolved.text == "terrane drift: aws-dev resolved: in sync again"
    [failing] = notifications(report(AZURE_ERROR), {})
    assert failing.text == "terrane drift: azure-dev could not be checked: could not read <stack> | azure-dev"

    many = EnvironmentDrift("aws-dev", "drifted", resources=tuple(
        ResourceDrift(f"{VPC_URN}{i}", VPC.type, "update", tuple(
            PropertyDrift(f"tags.t{j}", "update", "secret-ish", "other") for j in range(8))) for i in range(9)))
    [long] = notifications(report(many), {})
    assert "tags.t4 and 3 more" in long.text and "tags.t5" not in long.text
    assert long.text.endswith("; and 4 more resources)")
    assert "secret-ish" not in long.text


def test_the_same_report_twice_notifies_once(tmp_path: Path) -> None:
    history = _history(tmp_path)
    run = report(AWS_DRIFTED, GCP_IN_SYNC, AZURE_ERROR)
    seen: list[list[Notification]] = []
    for _ in range(2):
        previous = history.told()
        history.record(run)
        seen.append(notifications(run, previous))

    assert [(note.environment, note.kind) for note in seen[0]] == [("aws-dev", "new"), ("azure-dev", "failing")]
    assert seen[1] == []


# --- The webhook --------------------------------------------------------------------------------


class _Hook(ThreadingHTTPServer):
    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _HookHandler)


class _HookHandler(BaseHTTPRequestHandler):
    server: _Hook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(("POST", self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Hook]:
    # A proxy in the test machine's environment must not see (or swallow) requests to 127.0.0.1.
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    server = _Hook(getattr(request, "param", 200))
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _url(server: _Hook) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/hooks/SECRET-TOKEN?key=QUERY-TOKEN"


def _assert_no_token(exc: BaseException) -> None:
    texts = []
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), str(getattr(seen, "hint", ""))]
        seen = seen.__cause__ or seen.__context__
    assert not any("SECRET-TOKEN" in text or "QUERY-TOKEN" in text for text in texts), texts


def test_notify_posts_every_note_of_a_run_once(hook: _Hook) -> None:
    notes = notifications(MIXED, {"gcp-dev": {"status": "drifted"}})
    notify(_url(hook), notes, timeout=5)

    [(method, path, headers, body)] = hook.requests
    assert (method, path) == ("POST", "/hooks/SECRET-TOKEN?key=QUERY-TOKEN")
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert sent["text"].splitlines() == [
        notes[0].text,
        "terrane drift: gcp-dev resolved: in sync again",
        # Slack reads <...> as links and mentions: escaped in the chat text.
        "terrane drift: azure-dev could not be checked: could not read &lt;stack&gt; | azure-dev",
    ]
    assert sent["environments"] == [
        {"environment": "aws-dev", "kind": "new", "status": "drifted", "resources": [VPC_URN, BUCKET_URN, SECRET_URN]},
        {"environment": "gcp-dev", "kind": "resolved", "status": "in_sync", "resources": []},
        {"environment": "azure-dev", "kind": "failing", "status": "error", "resources": []},
    ]
    assert not any(value in body.decode() for value in VALUES)


def test_notify_does_not_post_when_nothing_changed(hook: _Hook) -> None:
    notify(_url(hook), notifications(report(GCP_IN_SYNC), {}), timeout=5)
    notify(_url(hook), [], timeout=5)
    assert hook.requests == []


@pytest.mark.parametrize("hook", [500], indirect=True)
def test_notify_reports_an_http_error_without_the_url_path(hook: _Hook) -> None:
    with pytest.raises(EngineError) as caught:
        notify(_url(hook), notifications(report(AWS_DRIFTED), {}), timeout=5)

    host, port = hook.server_address[:2]
    assert str(caught.value) == f"could not notify http://{host}:{port}: HTTP 500 Internal Server Error"
    _assert_no_token(caught.value)


def test_notify_reports_an_unreachable_url_without_its_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "*")
    with pytest.raises(EngineError) as caught:
        notify("http://127.0.0.1:9/hooks/SECRET-TOKEN", notifications(report(AWS_DRIFTED), {}), timeout=5)

    assert str(caught.value).startswith("could not notify http://127.0.0.1:9: ")
    _assert_no_token(caught.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/SECRET-TOKEN", "https:///SECRET-TOKEN",
                                 "hooks.slack.com/services/SECRET-TOKEN"])
def test_notify_accepts_only_http_urls(url: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        notify(url, notifications(report(AWS_DRIFTED), {}))
    _assert_no_token(caught.value)
