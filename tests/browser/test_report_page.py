"""The HTML report as a user sees it: ``terrane report --html`` and ``terrane drift --html`` opened in headless Chromium.

The page is produced as a user would: the sample project (with a second AWS account, an
environment deployed but never checked and one not deployed), the stand-in Pulumi CLI
replaying refreshes recorded from the real one, drift runs that leave a history, then the
command. The checks follow the DOM contract of the page (rows, filters, anchors, drift
tables, history) and what the issue promises: no console output, nothing fetched, secrets
masked, readable on a phone. Screenshots go to ``$TERRANE_ARTIFACTS`` (default ``artifacts/``).
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from terrane.engine.cli import main
from tests import recorded
from tests.browser import chromium
from tests.helpers.project import SENTINELS, STANDIN_SECRETS, Result, SampleProject
from tests.standin import StandIn, standin_for

pytestmark = pytest.mark.browser

IN_SYNC = recorded.events("drift-in-sync")
# aws-dev's network: cidr, owner (add), spec.nodes.max, tags; token: two secrets; bucket: deleted.
DRIFTED = recorded.events("drift-every-kind")
CHECKED = ("aws-dev", "azure-dev", "gcp-dev")
NETWORK = "urn:pulumi:aws-dev::terrane::terrane:test:Group$pulumi-python:dynamic:Resource::network"
TOKEN = "urn:pulumi:aws-dev::terrane::pulumi-python:dynamic:Resource::token"
BUCKET = "urn:pulumi:aws-dev::terrane::terrane:test:Group$pulumi-python:dynamic:Resource::bucket"
# Pulumi's secret signature: a secret envelope dumped as it is would carry it.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
# aws-dev's drift in the recording: (urn, path) -> (kind, expected, actual), values as the page shows them (compact
# JSON, as the text report does; a secret as [secret]); None where the page shows an absent side its own way.
AWS_DEV_DRIFT: dict[tuple[str, str], tuple[str, str | None, str | None]] = {
    (NETWORK, "cidr"): ("update", json.dumps("10.20.0.0/16"), json.dumps("10.99.0.0/16")),
    (NETWORK, "owner"): ("add", None, json.dumps("someone")),
    (NETWORK, "spec.nodes.max"): ("update", "3", "9"),
    (NETWORK, 'tags["kubernetes.io/role"]'): ("update", json.dumps("internal"), json.dumps("public")),
    (TOKEN, "value"): ("update", "[secret]", "[secret]"),
    (TOKEN, "credentials.password"): ("update", "[secret]", "[secret]"),
    (BUCKET, ""): ("delete", None, None),
}
SEVERITY = {"in_sync": 0, "drifted": 1, "error": 2}
FILTERS = {"filter-cloud": "cloud", "filter-account": "account", "filter-state": "state"}


@dataclass(frozen=True)
class Expected:
    cloud: str
    account: str
    state: str


# What the page must say of each environment after the runs of ``_history`` below.
ENVIRONMENTS = {
    "aws-dev": Expected("aws", "aws-sandbox", "drifted"),
    "azure-dev": Expected("azure", "azure-sandbox", "error"),
    "gcp-dev": Expected("gcp", "gcp-sandbox", "in_sync"),
    "aws-staging": Expected("aws", "aws-prod", "unchecked"),
    "gcp-new": Expected("gcp", "gcp-sandbox", "not_deployed"),
}
# The states each checked environment went through, oldest first.
RUNS = {"aws-dev": ["in_sync", "drifted"], "azure-dev": ["in_sync", "error"], "gcp-dev": ["in_sync", "in_sync"]}


def _add_environment(sample: SampleProject, name: str, account: str) -> None:
    data = sample.load_env("aws-dev" if account.startswith("aws") else "gcp-dev")
    sample.write_env(name, {**data, "name": name, "account": account})


def _history(sample: SampleProject, standin: StandIn) -> None:
    """Five environments in every state, three of them checked twice (in sync, then drift and a failure)."""
    accounts = sample.load_accounts()
    # aws-sandbox again in another AWS account: its id is in the role's ARN and the policies' too.
    sandbox = json.dumps(accounts["accounts"]["aws-sandbox"])
    accounts["accounts"]["aws-prod"] = json.loads(sandbox.replace(accounts["accounts"]["aws-sandbox"]["account_id"],
                                                                  "210987654321"))
    sample.write_accounts(accounts)
    _add_environment(sample, "aws-staging", "aws-prod")
    for env in CHECKED:
        standin.scenario(env, refresh_events=IN_SYNC)
    assert _terrane("up", "--all", "--yes", "--parallel", "3").code == 0
    assert _terrane("drift", *CHECKED, "--parallel", "3").code == 0
    standin.scenario("aws-dev", refresh_events=DRIFTED)
    standin.scenario("azure-dev", fail="reading resource group: AuthorizationFailed", fail_on=["refresh"])
    assert _terrane("drift", *CHECKED, "--parallel", "3").code == 1
    _add_environment(sample, "gcp-new", "gcp-sandbox")  # never deployed


def _terrane(*args: str | Path) -> Result:
    """``terrane ARGS...`` in-process, its output kept (the module's page is made outside any one test's capsys)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``terrane report --html FILE --all`` over that history, made once: the tests only read the page."""
    tmp = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as monkeypatch:
        sample = SampleProject.copy_to(tmp / "project")
        _history(sample, standin_for(sample, tmp, monkeypatch))
        page = tmp / "out" / "report.html"
        page.parent.mkdir()
        result = _terrane("report", "--html", page, "--all")
    assert result.code == 0, result.stderr
    assert f"wrote {page} ({len(ENVIRONMENTS)} environments)" in result.stderr
    return page


# --- reading the page ------------------------------------------------------------------------

def _open(browser: Any, page: Path, anchor: str = "") -> None:
    browser.get(page.as_uri() + anchor)
    assert browser.execute_script("return document.readyState") == "complete"


def _assert_quiet(browser: Any) -> None:
    """Nothing on the console (no log line, no uncaught error) and nothing fetched: the page is self-contained."""
    assert browser.get_log("browser") == []
    assert browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []


def _rows(browser: Any) -> dict[str, Any]:
    return {row.get_attribute("id"): row for row in browser.find_elements("css selector", "#environments tr.environment")}


def _sections(browser: Any) -> dict[str, Any]:
    return {section.get_attribute("id"): section
            for section in browser.find_elements("css selector", "section.environment-detail")}


def _text(element: Any, selector: str) -> str:
    return str(element.find_element("css selector", selector).get_attribute("textContent")).strip()


def _assert_no_secrets(browser: Any, page: Path) -> None:
    for text in (page.read_text(encoding="utf-8"), browser.page_source):
        for secret in (*STANDIN_SECRETS, *SENTINELS, SECRET_SIGNATURE):
            assert secret not in text


def _assert_environments(browser: Any, expected: dict[str, Expected]) -> None:
    """One row and one detail section per environment, with the contract's attributes, cells and links."""
    assert _text(browser, "main h1") == "terrane: environments"
    assert _text(browser, "main p#generated")
    table = browser.find_element("css selector", "main table#environments")
    assert _text(table, "caption")
    assert table.find_elements("css selector", "thead th[scope='col']")
    rows, sections = _rows(browser), _sections(browser)
    assert set(rows) == {f"env-{name}" for name in expected}
    assert set(sections) == {f"drift-{name}" for name in expected}
    for name, want in expected.items():
        for element in (rows[f"env-{name}"], sections[f"drift-{name}"]):
            attributes = {key: element.get_attribute(f"data-{key}") for key in ("cloud", "account", "state")}
            assert attributes == {"cloud": want.cloud, "account": want.account, "state": want.state}, name
            assert element.is_displayed()
        link = rows[f"env-{name}"].find_element("css selector", "th[scope='row']:first-child > a")
        assert (link.get_attribute("hash"), link.text) == (f"#drift-{name}", name)
        assert _text(sections[f"drift-{name}"], "h2") == name


def _drift_rows(browser: Any, name: str) -> dict[tuple[str, str], dict[str, str]]:
    """The cells of each ``tr.property`` in NAME's drift table, by (data-urn, data-path)."""
    found = {}
    for row in browser.find_elements("css selector", f"section#drift-{name} table.drift tr.property"):
        assert row.is_displayed()
        found[(row.get_attribute("data-urn"), row.get_attribute("data-path"))] = {
            cell: _text(row, f"td.{cell}") for cell in ("resource", "path", "kind", "expected", "actual")}
    return found


def _assert_aws_dev_drift(browser: Any, *, values: bool = True) -> None:
    """aws-dev's drifted properties as recorded (``values``: with their expected and actual values, secrets masked)."""
    found = _drift_rows(browser, "aws-dev")
    assert set(found) == set(AWS_DEV_DRIFT)  # 4 on the network, 2 on the token, the deleted bucket
    for (urn, path), cells in found.items():
        assert urn.rsplit("::", 1)[1] in cells["resource"]
        assert cells["path"] == path or not path  # a whole resource says so in its own words
    if values:
        for key, (kind, expected, actual) in AWS_DEV_DRIFT.items():
            shown = found[key]
            assert shown["kind"] == kind, key
            for side, want in (("expected", expected), ("actual", actual)):
                assert want is None or shown[side] == want, (key, side)


# --- terrane report --html -------------------------------------------------------------------

def test_the_report_shows_every_environment_its_drift_and_its_history(browser, report_page: Path) -> None:
    _open(browser, report_page)
    _assert_environments(browser, ENVIRONMENTS)
    _assert_aws_dev_drift(browser, values=False)
    for name in ENVIRONMENTS.keys() - {"aws-dev"}:
        assert browser.find_elements("css selector", f"section#drift-{name} table.drift tr.property") == []
    assert "AuthorizationFailed" in _text(browser, "section#drift-azure-dev")
    for name, states in RUNS.items():
        _assert_history(browser, name, states)
    _assert_no_secrets(browser, report_page)
    _assert_quiet(browser)


def _assert_history(browser: Any, name: str, states: list[str]) -> None:
    """NAME's timeline: marks (one per day, its worst state) with a title "DAYS: STATE", and the runs per state."""
    figure = browser.find_element("css selector", f"section#drift-{name} figure.history#history-{name}")
    titles = [str(title.get_attribute("textContent")) for title in figure.find_elements("css selector", "svg title")]
    marked = {title.rsplit(": ", 1)[1] for title in titles}
    assert max(states, key=SEVERITY.__getitem__) in marked and marked <= set(states), (name, titles)
    assert _text(figure, "figcaption")
    runs = figure.find_elements("css selector", "table.history-table tbody tr")
    assert sorted(int(_text(row, "td")) for row in runs) == sorted(Counter(states).values()), name


def test_the_report_shows_the_latest_drift_values(browser, report_page: Path) -> None:
    """The issue: the page shows each drifted property's expected and actual value, not only its path."""
    _open(browser, report_page)
    _assert_aws_dev_drift(browser)
    _assert_no_secrets(browser, report_page)


def test_each_filter_hides_and_shows_the_right_rows(browser, report_page: Path) -> None:
    from selenium.webdriver.support.select import Select

    _open(browser, report_page)
    form = browser.find_element("css selector", "form#filters")
    selects = {}
    for select_id, key in FILTERS.items():
        element = form.find_element("id", select_id)
        assert _text(form, f"label[for='{select_id}']")
        options = [(str(option.get_attribute("value")), option.text) for option in Select(element).options]
        assert options[0] == ("", "All")
        assert sorted(value for value, _ in options[1:]) == sorted({getattr(env, key) for env in ENVIRONMENTS.values()})
        selects[key] = Select(element)

    def choose(**chosen: str) -> None:
        for key, select in selects.items():
            select.select_by_value(chosen.get(key, ""))
        rows, sections = _rows(browser), _sections(browser)
        for name, env in ENVIRONMENTS.items():
            shown = all(getattr(env, key) == value for key, value in chosen.items())
            for element in (rows[f"env-{name}"], sections[f"drift-{name}"]):
                assert (element.get_attribute("hidden") is None, element.is_displayed()) == (shown, shown), (chosen, name)

    for key in FILTERS.values():
        for value in sorted({getattr(env, key) for env in ENVIRONMENTS.values()}):
            choose(**{key: value})
    choose(cloud="aws", state="unchecked")  # filters combine: aws-staging alone
    choose(cloud="gcp", account="gcp-sandbox", state="drifted")  # none
    choose()  # All again: every row back, none removed
    assert len(_rows(browser)) == len(ENVIRONMENTS)
    _assert_quiet(browser)


def test_on_a_desktop_and_a_phone(browser, report_page: Path) -> None:
    """Laid out at each screen's width, never scrolling sideways; screenshots of both; anchors that scroll."""
    shutil.copy(report_page, chromium.artifacts() / "report.html")  # beside the screenshots, to look at
    for name, width, height, mobile in (("desktop", 1280, 900, False), ("phone", 390, 844, True)):
        chromium.viewport(browser, width, height, mobile=mobile)
        _open(browser, report_page)
        screenshot = chromium.artifacts() / f"report-{name}.png"
        assert browser.save_screenshot(str(screenshot))
        png = chromium.read_png(screenshot)
        assert (png.width, png.height) == (width, height)
        assert png.distinct_bytes > 64  # text and colours, not a blank page (that has a handful)
        # The page is laid out at the screen's width (on a phone: it has a viewport meta tag, and nothing in it is
        # wider than the screen, or the phone would zoom out to fit it), and it never scrolls sideways.
        overflow = "const page = document.documentElement; return [innerWidth, page.scrollWidth - page.clientWidth]"
        assert browser.execute_script(overflow) == [width, 0]
        _assert_environments(browser, ENVIRONMENTS)

    # On the phone the page is tall: a notification's link report.html#drift-NAME brings NAME to the top.
    _open(browser, report_page, "#drift-gcp-dev")
    assert browser.execute_script("return document.querySelector(':target').id") == "drift-gcp-dev"
    _assert_at_top(browser, "drift-gcp-dev")
    _open(browser, report_page)
    assert browser.execute_script("return window.scrollY") == 0
    link = browser.find_element("css selector", "#env-azure-dev th a")
    browser.execute_script("arguments[0].scrollIntoView()", link)
    link.click()
    assert browser.execute_script("return location.hash") == "#drift-azure-dev"
    _assert_at_top(browser, "drift-azure-dev")
    _assert_quiet(browser)


def _assert_at_top(browser: Any, section: str) -> None:
    """The section starts at the top of the viewport, or the page is scrolled as far as it goes."""
    top, scrolled, bottom = browser.execute_script(
        "const top = document.getElementById(arguments[0]).getBoundingClientRect().top;"
        "const page = document.documentElement;"
        "return [top, window.scrollY, page.scrollHeight - page.clientHeight];", section)
    assert scrolled > 0
    assert abs(top) <= 2 or (scrolled >= bottom - 1 and 0 <= top < browser.execute_script("return innerHeight"))


def test_without_javascript_everything_shows(browser_without_javascript, report_page: Path) -> None:
    browser = browser_without_javascript
    _open(browser, report_page)
    _assert_environments(browser, ENVIRONMENTS)
    assert all(row.is_displayed() for row in browser.find_elements("css selector", "table.drift tr.property"))
    assert browser.get_log("browser") == []


# --- terrane drift --html --------------------------------------------------------------------

def test_drift_writes_the_page_of_the_run_it_did(browser, sample: SampleProject, standin: StandIn, cli,
                                                 tmp_path: Path) -> None:
    for env in CHECKED:
        standin.scenario(env, refresh_events=IN_SYNC)
    assert cli("up", "--all", "--yes", "--parallel", "3").code == 0
    standin.scenario("aws-dev", refresh_events=DRIFTED)
    page = tmp_path / "drift.html"
    result = cli("drift", "--all", "--html", page, "--parallel", "3")
    assert result.code == 2, result.stderr
    _open(browser, page)
    expected = {name: ENVIRONMENTS[name] for name in CHECKED}
    expected["azure-dev"] = Expected("azure", "azure-sandbox", "in_sync")
    _assert_environments(browser, expected)
    _assert_aws_dev_drift(browser)
    _assert_no_secrets(browser, page)
    _assert_quiet(browser)
