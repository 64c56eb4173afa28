"""The environments page: its DOM contract, escaping, secrets, filters, anchors, and the history timeline.

Pages are assembled from data (status rows, a drift history written as ``terrane drift`` writes it, a
run's report) and parsed back with the standard library's HTML parser; tests/cli/test_report.py runs
the commands, tests/browser the page in a real browser.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from terrane.engine import report
from terrane.engine.api import EnvironmentStatus
from terrane.engine.drift.history import DriftHistory
from terrane.engine.drift.report import DriftReport, EnvironmentDrift, PropertyDrift, ResourceDrift
from terrane.engine.operations.pulumi_cli import UpdateRecord
from terrane.engine.report import MAX_MARKS, STATES, Page, assemble_page, render_html, timelines
from terrane.engine.report._render import TEMPLATE
from terrane.engine.store.objects import LocalStore
from terrane.engine.wire import SECRET_SIG, SIG_KEY
from terrane.stacks.spec.environments import IgnoreRule
from tests.helpers.dom import Element, parse

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
VPC_URN = "urn:pulumi:aws-dev::terrane::terrane:aws:Network$aws:ec2/vpc:Vpc::aws-dev-vpc"
BUCKET_URN = "urn:pulumi:aws-dev::terrane::aws:s3/bucketV2:BucketV2::aws-dev-logs"
TOKEN_URN = "urn:pulumi:aws-dev::terrane::aws:secretsmanager/secretVersion:SecretVersion::aws-dev-token"
DRIFTED = EnvironmentDrift("aws-dev", "drifted", ignored=2, resources=(
    ResourceDrift(VPC_URN, "aws:ec2/vpc:Vpc", "update", (
        PropertyDrift("tags.owner", "add", None, "alice"),
        PropertyDrift("cidrBlock", "update", "10.20.0.0/16", "10.99.0.0/16"),
    )),
    ResourceDrift(BUCKET_URN, "aws:s3/bucketV2:BucketV2", "delete"),
    ResourceDrift(TOKEN_URN, "aws:secretsmanager/secretVersion:SecretVersion", "update", (
        PropertyDrift("secretString", "update", "[secret]", "[secret]"),
        # Reports mask secrets already; one still in Pulumi's wire form is masked by the page too.
        PropertyDrift("credentials", "update", {"password": {SIG_KEY: SECRET_SIG, "value": "hunter2-plaintext"}},
                      {SIG_KEY: SECRET_SIG, "ciphertext": "c2VjcmV0LWNpcGhlcnRleHQ="}),
    )),
))
RULES = {"aws-dev": [
    IgnoreRule(resource="aws:eks/nodeGroup:NodeGroup", property="scalingConfig.desiredSize",
               reason="managed by the cluster autoscaler", until=date(2027, 1, 1)),
    IgnoreRule(resource="*::aws-dev-vpc", property="tags", reason="the old tagger", until=date(2026, 1, 1)),
]}


def status(name: str, cloud: str = "aws", account: str = "aws-sandbox", *, deployed: bool = True,
           last_drift: dict[str, Any] | None = None, error: str | None = None) -> EnvironmentStatus:
    return EnvironmentStatus(environment=name, cloud=cloud, account=account, region="us-east-1",
                             last_update={"time": "2026-11-24T08:02:00+00:00", "resources": 71} if deployed else None,
                             error=error, last_drift=last_drift)


def record(history: DriftHistory, at: datetime, *envs: EnvironmentDrift) -> None:
    """A run recorded as ``terrane drift`` records it."""
    stamp = at.isoformat(timespec="seconds")
    history.record(DriftReport(stamp, stamp, envs))


def new_history(tmp_path: Path) -> DriftHistory:
    return DriftHistory(LocalStore(tmp_path / ".terrane"))


@pytest.fixture
def history(tmp_path: Path) -> DriftHistory:
    """Three runs: aws-dev in sync, then drifted twice; gcp-dev in sync, then failing."""
    history = new_history(tmp_path)
    record(history, NOW - timedelta(days=2), EnvironmentDrift("aws-dev", "in_sync"),
           EnvironmentDrift("gcp-dev", "in_sync"))
    record(history, NOW - timedelta(days=1), DRIFTED, EnvironmentDrift("gcp-dev", "error", error="AccessDenied"))
    record(history, NOW - timedelta(hours=1), DRIFTED)
    return history


def three(history: DriftHistory) -> list[EnvironmentStatus]:
    states = history.latest()
    return [status("aws-dev", last_drift=states["aws-dev"]),
            status("azure-dev", "azure", "azure-sandbox", deployed=False),
            status("gcp-dev", "gcp", "gcp-sandbox", last_drift=states["gcp-dev"]),
            status("gcp-prod", "gcp", "gcp-prod")]


def page_of(statuses: list[EnvironmentStatus], history: DriftHistory, **options: Any) -> Element:
    return parse(render_html(assemble_page(statuses, history=history, now=NOW, **options)))


def rows(document: Element) -> dict[str, Element]:
    return {row.attrs["id"] or "": row for row in document.by_id("environments").iter("tr", "environment")}


def sections(document: Element) -> dict[str, Element]:
    return {section.attrs["id"] or "": section for section in document.iter("section", "environment-detail")}


def cells(row: Element) -> dict[str, str]:
    return {cls: cell.text for cell in row.iter("td") for cls in cell.classes}


# --- the DOM contract -------------------------------------------------------------------------------------------


def test_the_page_follows_the_dom_contract(history: DriftHistory) -> None:
    document = page_of(three(history), history, rules=RULES)
    [html] = document.elements()
    assert html.tag == "html" and html.attrs["lang"] == "en"
    main = html.one("main")
    assert main.one("h1").text == "terrane: environments"
    assert main.by_id("generated").one("time").attrs["datetime"] == NOW.isoformat(timespec="seconds")

    table = main.by_id("environments")
    assert table.tag == "table" and table.one("caption").text
    assert [th.attrs.get("scope") for th in table.one("thead").iter("th")] == ["col"] * 8
    found = rows(main)
    assert list(found) == ["env-aws-dev", "env-azure-dev", "env-gcp-prod", "env-gcp-dev"]  # by cloud, account, name
    states = {key: (row.attrs["data-cloud"], row.attrs["data-account"], row.attrs["data-state"])
              for key, row in found.items()}
    assert states == {"env-aws-dev": ("aws", "aws-sandbox", "drifted"),
                      "env-azure-dev": ("azure", "azure-sandbox", "not_deployed"),
                      "env-gcp-dev": ("gcp", "gcp-sandbox", "error"),
                      "env-gcp-prod": ("gcp", "gcp-prod", "unchecked")}
    for key, row in found.items():
        first = row.elements()[0]
        assert (first.tag, first.attrs["scope"]) == ("th", "row")
        name = key.removeprefix("env-")
        assert (first.one("a").attrs["href"], first.one("a").text) == (f"#drift-{name}", name)

    details = sections(main)
    assert list(details) == ["drift-aws-dev", "drift-azure-dev", "drift-gcp-prod", "drift-gcp-dev"]
    for key, section in details.items():
        name = key.removeprefix("drift-")
        row = found[f"env-{name}"]
        assert section.one("h2").text == name
        assert {attr: section.attrs[attr] for attr in ("data-cloud", "data-account", "data-state")} == {
            attr: row.attrs[attr] for attr in ("data-cloud", "data-account", "data-state")}
        figure = section.by_id(f"history-{name}")
        assert figure.tag == "figure" and "history" in figure.classes
        assert figure.one("svg") and figure.one("figcaption").text
        # Hidden by a wrapper: a table ignores ``width: 1px`` and would widen a phone's page.
        summary = figure.one("div", "visually-hidden").one("table", "history-table")
        assert "visually-hidden" not in summary.classes
    assert main.by_id("drift-gcp-dev").one("p", "error-text").text == "AccessDenied"
    assert main.by_id("env-azure-dev").text.count("never deployed") == 1


def test_drift_rows_from_a_run_have_values_and_secrets_stay_masked(history: DriftHistory) -> None:
    run = DriftReport("2026-11-24T09:00:00+00:00", "2026-11-24T09:01:00+00:00", (DRIFTED,))
    page = render_html(assemble_page(three(history), history=history, names=["aws-dev"], run=run, now=NOW))
    assert "hunter2-plaintext" not in page and "c2VjcmV0LWNpcGhlcnRleHQ=" not in page
    section = parse(page).by_id("drift-aws-dev")
    table = section.one("table", "drift")
    assert table.one("caption").text == "Drifted properties of aws-dev"
    found = {(row.attrs["data-urn"], row.attrs["data-path"]): cells(row) for row in table.iter("tr", "property")}
    assert found[(VPC_URN, "cidrBlock")] == {"resource": "aws-dev-vpc aws:ec2/vpc:Vpc", "path": "cidrBlock",
                                             "kind": "update", "expected": '"10.20.0.0/16"',
                                             "actual": '"10.99.0.0/16"'}
    assert (found[(VPC_URN, "tags.owner")]["expected"], found[(VPC_URN, "tags.owner")]["actual"]) == (
        "(absent)", '"alice"')
    assert found[(BUCKET_URN, "")]["kind"] == "delete"  # a deleted resource: one row, no path
    assert (found[(TOKEN_URN, "secretString")]["expected"], found[(TOKEN_URN, "secretString")]["actual"]) == (
        "[secret]", "[secret]")
    assert found[(TOKEN_URN, "credentials")]["expected"] == '{"password":"[secret]"}'
    assert found[(TOKEN_URN, "credentials")]["actual"] == "[secret]"
    assert len(found) == 5


def test_without_a_run_drift_shows_the_values_of_the_latest_check(history: DriftHistory) -> None:
    html = render_html(assemble_page(three(history), history=history, now=NOW))
    assert "hunter2-plaintext" not in html and "c2VjcmV0LWNpcGhlcnRleHQ=" not in html
    section = parse(html).by_id("drift-aws-dev")
    found = {(row.attrs["data-urn"], row.attrs["data-path"]): cells(row)
             for row in section.one("table", "drift").iter("tr", "property")}
    assert found[(VPC_URN, "cidrBlock")] == {"resource": "aws-dev-vpc aws:ec2/vpc:Vpc", "path": "cidrBlock",
                                             "kind": "update", "expected": '"10.20.0.0/16"',
                                             "actual": '"10.99.0.0/16"'}
    assert (found[(VPC_URN, "tags.owner")]["expected"], found[(VPC_URN, "tags.owner")]["actual"]) == (
        "(absent)", '"alice"')
    assert found[(BUCKET_URN, "")]["kind"] == "delete"
    assert found[(TOKEN_URN, "credentials")]["expected"] == '{"password":"[secret]"}'
    assert {found[(TOKEN_URN, path)]["actual"] for path in ("credentials", "secretString")} == {"[secret]"}
    assert len(found) == 5 and not section.all("p", "note")
    assert "not their values" not in html


def test_without_details_of_the_latest_check_drift_shows_the_paths_the_history_kept(history: DriftHistory) -> None:
    """A history moved in from before its values were kept: the latest check's paths, no values."""
    *_, last = history.store.keys("drift/runs/")
    run = json.loads(history.store.get(last) or b"")
    del run["details"]
    history.store.delete(last)
    history.store.create(last, json.dumps(run).encode())
    document = page_of(three(history), history)
    section = document.by_id("drift-aws-dev")
    found = {(row.attrs["data-urn"], row.attrs["data-path"]): cells(row)
             for row in section.one("table", "drift").iter("tr", "property")}
    assert set(found) == {(VPC_URN, "cidrBlock"), (VPC_URN, "tags.owner"), (BUCKET_URN, ""),
                          (TOKEN_URN, "credentials"), (TOKEN_URN, "secretString")}
    assert found[(BUCKET_URN, "")]["kind"] == "delete"
    assert found[(VPC_URN, "cidrBlock")]["resource"] == "aws-dev-vpc aws:ec2/vpc:Vpc"  # the type, from the URN
    assert {found[key]["expected"] for key in found} == {"not recorded"}
    assert "not their values" in section.one("p", "note").text
    assert "alice" not in render_html(assemble_page(three(history), history=history, now=NOW))


def test_ignored_changes_show_reason_and_expiry(history: DriftHistory) -> None:
    section = page_of(three(history), history, rules=RULES).by_id("drift-aws-dev")
    table = section.one("table", "ignored")
    found = [cells(row) for row in table.one("tbody").iter("tr")]
    assert [(row["path"], row["reason"], row["until"]) for row in found] == [
        ("scalingConfig.desiredSize", "managed by the cluster autoscaler", "2027-01-01"),
        ("tags", "the old tagger", "2026-01-01 (expired: no longer applies)"),
    ]
    assert "the last check ignored 2" in table.one("caption").text
    assert page_of(three(history), history).by_id("drift-aws-dev").all("table", "ignored") == []


# --- escaping, secrets, self-containment -----------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script>'


def test_every_value_shows_as_text(tmp_path: Path) -> None:
    name = f"x{HOSTILE}"  # a file name can hold anything; an invalid environment is still listed
    history = new_history(tmp_path)
    env = EnvironmentDrift(name, "drifted", resources=(ResourceDrift(
        f"urn:pulumi:x::terrane::aws:s3/bucketV2:BucketV2::{HOSTILE}", "aws:s3/bucketV2:BucketV2", "update",
        (PropertyDrift(f'tags["{HOSTILE}"]', "update", HOSTILE, f"<img src=x onerror=alert(1)>{HOSTILE}"),)),))
    run = DriftReport("2026-11-24T09:00:00+00:00", "2026-11-24T09:01:00+00:00", (env,))
    record(history, NOW - timedelta(hours=1), env)
    statuses = [status(name, cloud=f"aws{HOSTILE}", account=f'"><b>{HOSTILE}', error=f"invalid {HOSTILE}")]
    rules = {name: [IgnoreRule(resource=HOSTILE, property="tags", reason=HOSTILE, until=None)]}
    html = render_html(assemble_page(statuses, history=history, rules=rules, run=run, now=NOW))
    document = parse(html)
    assert len(document.all("script")) == 1 and document.all("b") == [] and document.all("img") == []
    assert "<script>alert" not in html
    [row] = rows(document).values()
    assert row.elements()[0].text == name
    assert (row.attrs["data-cloud"], row.attrs["data-account"]) == (f"aws{HOSTILE}", f'"><b>{HOSTILE}')
    [section] = sections(document).values()
    [prop] = section.one("table", "drift").iter("tr", "property")
    assert prop.attrs["data-path"] == f'tags["{HOSTILE}"]'
    assert cells(prop)["expected"] == json.dumps(HOSTILE)
    assert cells(prop)["actual"] == json.dumps(f"<img src=x onerror=alert(1)>{HOSTILE}")
    assert cells(section.one("table", "ignored").one("tbody").one("tr"))["reason"] == HOSTILE
    # The filters offer the values as they are, and the anchors still lead to the section.
    assert [option.attrs["value"] for option in document.by_id("filter-cloud").iter("option")] == ["", f"aws{HOSTILE}"]
    href = row.one("a").attrs["href"] or ""
    assert unquote(href.removeprefix("#")) == section.attrs["id"]


def test_the_page_is_self_contained_and_its_script_is_quiet(history: DriftHistory) -> None:
    html = render_html(assemble_page(three(history), history=history, now=NOW))
    document = parse(html)
    assert document.all("link") == [] and not any("src" in element.attrs for element in document.iter())
    assert not re.search(r"https?://|url\(|@import", html)
    [script] = document.all("script")
    assert "src" not in script.attrs
    code = script.text
    assert "console" not in code and "alert" not in code and "fetch" not in code


# --- filters and anchors ---------------------------------------------------------------------------------------


def test_filters_offer_each_value_present_with_a_label(history: DriftHistory) -> None:
    document = page_of(three(history), history)
    form = document.by_id("filters")
    assert form.tag == "form"
    labels = {label.attrs["for"]: label.text for label in form.iter("label")}
    assert labels == {"filter-cloud": "Cloud", "filter-account": "Account", "filter-state": "Drift state"}
    options = {select.attrs["id"]: [(option.attrs["value"], option.text) for option in select.iter("option")]
               for select in form.iter("select")}
    assert options["filter-cloud"] == [("", "All"), ("aws", "aws"), ("azure", "azure"), ("gcp", "gcp")]
    assert options["filter-account"] == [("", "All"), ("aws-sandbox", "aws-sandbox"), ("azure-sandbox", "azure-sandbox"),
                                         ("gcp-prod", "gcp-prod"), ("gcp-sandbox", "gcp-sandbox")]
    assert options["filter-state"] == [("", "All"), ("drifted", "drifted"), ("error", "could not be checked"),
                                       ("not_deployed", "not deployed"), ("unchecked", "never checked")]
    assert [value for value, _ in options["filter-state"][1:]] == [state for state in STATES if state != "in_sync"]


def test_anchors_are_stable_and_every_link_has_its_target(history: DriftHistory) -> None:
    document = page_of(three(history), history)
    ids = [element.attrs["id"] for element in document.iter() if "id" in element.attrs]
    assert len(ids) == len(set(ids))
    for link in document.iter("a"):
        href = link.attrs["href"] or ""
        assert href.startswith("#") and unquote(href[1:]) in ids
    # What a notification links to: report.html#drift-NAME, the same whatever else the page holds.
    alone = page_of(three(history)[:1], history)
    assert sections(alone).keys() == {"drift-aws-dev"} and "drift-aws-dev" in ids


def test_the_environments_are_grouped_by_cloud_and_account(history: DriftHistory) -> None:
    table = page_of(three(history), history).by_id("environments")
    groups = [(body.one("tr", "group").text, [row.attrs["id"] for row in body.iter("tr", "environment")])
              for body in table.iter("tbody")]
    assert groups == [("aws · aws-sandbox", ["env-aws-dev"]), ("azure · azure-sandbox", ["env-azure-dev"]),
                      ("gcp · gcp-prod", ["env-gcp-prod"]), ("gcp · gcp-sandbox", ["env-gcp-dev"])]


# --- the history timeline --------------------------------------------------------------------------------------


def marks(figure: Element) -> list[tuple[str, str, str | None]]:
    """(state of its group, title, x) of each mark, left to right."""
    found = [(group.attrs["class"] or "", rect.one("title").text, rect.attrs["x"])
             for group in figure.one("svg").iter("g") for rect in group.iter("rect")]
    return sorted(found, key=lambda mark: int(mark[2] or 0))


def test_the_timeline_has_a_mark_per_day_in_its_worst_state(history: DriftHistory) -> None:
    document = page_of(three(history), history)

    def day(ago: int) -> str:
        return (NOW - timedelta(days=ago)).date().isoformat()

    assert marks(document.by_id("history-aws-dev")) == [
        ("in_sync", f"{day(2)}: in_sync", "0"), ("drifted", f"{day(1)}/{day(0)}: drifted", "1")]
    assert marks(document.by_id("history-gcp-dev")) == [
        ("in_sync", f"{day(2)}: in_sync", "0"), ("error", f"{day(1)}: error", "1")]
    assert marks(document.by_id("history-gcp-prod")) == []
    assert "No drift check" in document.by_id("history-gcp-prod").one("figcaption").text
    summary = document.by_id("history-aws-dev").one("table", "history-table")
    assert [(row.one("th").text, row.all("td")[0].text) for row in summary.one("tbody").iter("tr")] == [
        ("drifted", "2"), ("in sync", "1")]


def write_runs(history: DriftHistory, runs: list[tuple[datetime, dict[str, str]]]) -> None:
    """Runs as the history keeps its past days: one object a day."""
    days: dict[str, list[dict[str, Any]]] = {}
    for at, states in runs:
        stamp = at.isoformat(timespec="seconds")
        days.setdefault(stamp[:10], []).append({"started_at": stamp, "finished_at": stamp, "environments": [
            {"environment": name, "status": state} for name, state in states.items()]})
    for day, lines in days.items():
        history.store.create(f"drift/days/{day}.json", json.dumps({"keys": [], "runs": lines}).encode())


def test_a_day_takes_its_worst_state_and_a_day_without_runs_breaks_a_mark(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    write_runs(history, [(start + timedelta(hours=hour), {"a": state}) for hour, state in
                         [(0, "in_sync"), (1, "drifted"), (2, "in_sync"),             # day 0: drifted
                          (24, "drifted"), (30, "error"),                            # day 1: error
                          (48, "in_sync"), (72, "in_sync"),                          # days 2-3: in sync
                          (120, "in_sync")]])                                        # day 5, after a gap
    history.store.create("drift/days/2026-11-04.before.json", b"not json")
    history.store.create("drift/runs/2026-11-05/x.json", b'{"finished_at": "yesterday", "environments": []}')
    [timeline] = timelines(history.runs(), ["a"], date(2026, 11, 6)).values()
    assert [(mark.start, mark.days, mark.state, mark.label) for mark in timeline.marks] == [
        (0, 1, "drifted", "2026-11-01"), (1, 1, "error", "2026-11-02"),
        (2, 2, "in_sync", "2026-11-03/2026-11-04"), (5, 1, "in_sync", "2026-11-06")]
    assert (timeline.period, timeline.days, timeline.total_runs) == (1, 6, 8)
    assert {entry.state: entry.runs for entry in timeline.runs} == {"error": 1, "drifted": 2, "in_sync": 5}


def test_a_state_that_changes_every_day_is_grouped_into_longer_periods(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    start = datetime(2025, 11, 24, 12, tzinfo=UTC)
    cycle = ("in_sync", "drifted", "error")
    write_runs(history, [(start + timedelta(days=day), {"a": cycle[day % 3], "b": "in_sync"}) for day in range(365)])
    found = timelines(history.runs(), ["a", "b", "c"], date(2026, 11, 24))
    assert len(found["a"].marks) <= MAX_MARKS and found["a"].period > 1
    assert found["a"].total_runs == 365 and {entry.runs for entry in found["a"].runs} == {121, 122}
    assert [(mark.start, mark.days, mark.state) for mark in found["b"].marks] == [(0, 365, "in_sync")]
    assert found["b"].period == 1
    assert found["c"].marks == () and found["c"].days == found["a"].days == 366  # one shared axis


def test_a_page_stays_small_however_long_and_busy_the_history(tmp_path: Path) -> None:
    history = new_history(tmp_path)
    start = datetime(2025, 11, 24, 12, tzinfo=UTC)
    names = [f"env{index:02d}" for index in range(20)]
    cycle = ("in_sync", "drifted", "error")
    write_runs(history, [(start + timedelta(days=day), {name: cycle[(day + index) % 3] for index, name in
                                                        enumerate(names)}) for day in range(365)])
    one = len(render_html(assemble_page([status(names[0])], history=history, now=NOW)).encode())
    every = len(render_html(assemble_page([status(name) for name in names], history=history, now=NOW)).encode())
    per_environment = (every - one) / (len(names) - 1)
    assert per_environment < 8_000  # 100 environments: well under 1 MB (benchmarks/report_bench.py measures it)


def test_a_page_with_no_environment_renders(tmp_path: Path) -> None:
    document = parse(render_html(Page(NOW.isoformat(), ())))
    assert rows(document) == {} and document.by_id("shown").text == "0 environments"


# --- accessibility: contrast of the page's colours -------------------------------------------------------------


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    red, green, blue = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    high, low = sorted([luminance(first), luminance(second)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_and_marks_have_enough_contrast() -> None:
    css = Path(report.__file__).parent / "templates" / TEMPLATE
    colours = dict(re.findall(r"--([\w-]+):(#[0-9a-f]{6})", css.read_text()))
    for text in ("fg", "muted", "link"):
        assert contrast(colours[text], colours["bg"]) >= 4.5, text
        assert contrast(colours[text], colours["head"]) >= 4.5, text
    for state in STATES:
        assert contrast(colours[f"fg-{state}"], colours[f"bg-{state}"]) >= 4.5, state
    for state in ("in_sync", "drifted", "error", "not_deployed"):
        assert contrast(colours[f"mark-{state}"], colours["head"]) >= 3, state  # graphics: WCAG 1.4.11


def test_the_last_update_says_what_it_was_how_it_ended_and_whose_checkout_it_ran_in(history: DriftHistory) -> None:
    updates = {"aws-dev": UpdateRecord("update", "failed", "Ada <script>"), "gcp-dev": UpdateRecord("destroy",
                                                                                                  "succeeded", None)}
    found = rows(page_of(three(history), history, updates=updates))
    aws, gcp = (" ".join(row.text.split()) for row in (found["env-aws-dev"], found["env-gcp-dev"]))
    assert "update failed; git author of the checkout: Ada <script>" in aws  # as text: the page escapes it
    assert "destroy succeeded" in gcp and "git author" not in gcp
    assert not {"succeeded", "failed"} & set(found["env-gcp-prod"].text.split())  # its history said nothing
