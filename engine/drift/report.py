"""What a drift run leaves behind: CI reports, a history of runs, and notifications on change.

``markdown`` and ``junit`` render a ``DriftReport`` for a CI step summary and a
test-results view. ``append_history`` records one JSON line per run under
``.terrane/drift/history.jsonl``; ``last_states`` reads back the latest entry
per environment. ``notifications`` compares a new report with what the team
was last told (``notified.json`` beside the history), so that a scheduled job
speaks only when an environment's drift *changes* (new, changed, resolved,
failing) rather than every hour about the same drift. ``notify`` posts those to
a webhook (Slack-compatible ``text`` plus structured data), retrying what may
pass; ``notify_changes`` does both and remembers what was delivered.

Nothing here prints or decides where files go: the CLI does. Property values
appear only in the CI reports (secrets are already ``[secret]`` in the report);
history and notifications carry names and paths only.
"""

from __future__ import annotations

import html
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from pathlib import Path
from typing import Any, Literal

from terrane.engine.drift import DriftReport, EnvironmentDrift, ResourceDrift
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.files import write_atomically
from terrane.engine.locks import Lock

__all__ = [
    "Notification",
    "append_history",
    "check_webhook_url",
    "junit",
    "last_states",
    "markdown",
    "notifications",
    "notify",
    "notify_changes",
]

# A report cell or a chat line has to stay readable; a policy document drifting is still one row.
_MAX_VALUE_CHARS = 200
_MAX_RESOURCES_IN_TEXT = 5
_MAX_PATHS_IN_TEXT = 5
_MAX_ERROR_CHARS = 300


# --- Markdown (CI step summary) ----------------------------------------------------------------


def markdown(report: DriftReport) -> str:
    """A GitHub-flavoured Markdown summary: verdict, one row per environment, one table per drift."""
    envs = report.environments
    lines = ["## terrane drift", "", f"**{_verdict(report)}**", "",
             f"Checked from {_text(report.started_at)} to {_text(report.finished_at)}.", ""]
    if envs:
        lines += ["| Environment | Status | Drifted resources | Ignored changes | Error |",
                  "|---|---|---:|---:|---|"]
        for env in envs:
            lines.append(_row(_text(env.environment), _STATUS_WORDS[env.status],
                              str(len(env.resources)) if env.status in ("in_sync", "drifted") else "",
                              str(env.ignored), _text(env.error or "")))
        lines.append("")
    for env in envs:
        if env.status != "drifted":
            continue
        lines += [f"### {_text(env.environment)}", "",
                  "| Resource | Property | Kind | Expected | Actual |", "|---|---|---|---|---|"]
        for resource in env.resources:
            name = f"{_code(resource.name)} {_code(resource.type)}"
            if resource.change == "delete" or not resource.properties:
                what = "resource deleted" if resource.change == "delete" else resource.change
                lines.append(_row(name, "(whole resource)", what, "", ""))
            for prop in resource.properties:
                expected = "" if prop.kind == "add" else _code(_json(prop.expected))
                actual = "" if prop.kind == "delete" else _code(_json(prop.actual))
                lines.append(_row(name, _code(prop.path), prop.kind, expected, actual))
        lines.append("")
    return "\n".join(lines)


_STATUS_WORDS = {"in_sync": "in sync", "drifted": "drifted", "error": "could not be checked",
                 "not_deployed": "not deployed"}


def _verdict(report: DriftReport) -> str:
    total = len(report.environments)
    if not total:
        return "No environments were checked."
    drifted = sum(env.status == "drifted" for env in report.environments)
    failed = sum(env.status == "error" for env in report.environments)
    absent = sum(env.status == "not_deployed" for env in report.environments)
    if not drifted and not failed and not absent:
        return f"All {_count(total, 'environment')} in sync."
    parts = []
    if absent:
        parts.append(f"{absent} of {_count(total, 'environment')} not deployed")
    if drifted:
        parts.append(f"{drifted} of {_count(total, 'environment')} drifted")
    if failed:
        parts.append(f"{failed} of {_count(total, 'environment')} could not be checked")
    return "; ".join(parts) + "."


def _row(*cells: str) -> str:
    # In a GFM table a pipe ends the cell even inside a code span; "\|" is the one escape that works in both.
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _text(value: str) -> str:
    """Plain text in a table cell or heading: no HTML, no line breaks that would end the row."""
    escaped = html.escape(_plain(value), quote=False)
    return re.sub(r"\r\n|\r|\n", "<br>", escaped)


def _code(value: str) -> str:
    """A code span that survives backticks in the value (a longer fence) and newlines (spaces)."""
    value = re.sub(r"[\r\n]+", " ", value)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 1] + "…"


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain(text: str) -> str:
    """Engine errors come with terminal colours; a report or a chat line wants the words."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- JUnit XML ----------------------------------------------------------------------------------


def junit(report: DriftReport) -> str:
    """JUnit XML: one test case per environment; drift is a failure, a check that failed an error."""
    envs = report.environments
    failures = sum(env.status == "drifted" for env in envs)
    errors = sum(env.status == "error" for env in envs)
    skipped = sum(env.status == "not_deployed" for env in envs)
    suite = ET.Element("testsuite", {
        "name": "terrane drift", "tests": str(len(envs)), "failures": str(failures), "errors": str(errors),
        "skipped": str(skipped), "timestamp": _xml(report.started_at),
        "time": _seconds(report.started_at, report.finished_at),
    })
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "ignored", "value": str(sum(env.ignored for env in envs))})
    for env in envs:
        # The report has no per-environment timing; the suite carries the run's duration.
        case = ET.SubElement(suite, "testcase", {"classname": "terrane.drift", "name": _xml(env.environment),
                                                 "time": "0"})
        case_properties = ET.SubElement(case, "properties")
        ET.SubElement(case_properties, "property", {"name": "ignored", "value": str(env.ignored)})
        if env.status == "not_deployed":
            ET.SubElement(case, "skipped", {"message": "not deployed: no stack to check"})
        elif env.status == "drifted":
            failure = ET.SubElement(case, "failure", {
                "message": f"{_count(len(env.resources), 'resource')} drifted", "type": "drift"})
            failure.text = _xml("\n".join(_failure_lines(env.resources)))
        elif env.status == "error":
            error_text = _plain(env.error or "") or "could not be checked"
            error = ET.SubElement(case, "error", {"message": _xml(error_text.splitlines()[0] if error_text.strip()
                                                                  else error_text), "type": "error"})
            error.text = _xml(error_text)
        if env.ignored:
            out = ET.SubElement(case, "system-out")
            out.text = f"{_count(env.ignored, 'change')} ignored by drift.ignore rules"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _failure_lines(resources: Sequence[ResourceDrift]) -> list[str]:
    lines = []
    for resource in resources:
        head = f"{resource.type} {resource.name}"
        if resource.change == "delete" or not resource.properties:
            lines.append(f"{head}: {'deleted' if resource.change == 'delete' else resource.change}")
        for prop in resource.properties:
            expected = "(absent)" if prop.kind == "add" else _json(prop.expected)
            actual = "(absent)" if prop.kind == "delete" else _json(prop.actual)
            lines.append(f"{head}: {prop.path} ({prop.kind}): expected {expected}, actual {actual}")
    return lines


# ElementTree escapes markup but not characters XML 1.0 forbids (ANSI colour codes in an engine error).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    return _XML_INVALID.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


def _seconds(started: str, finished: str) -> str:
    try:
        elapsed = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return "0"
    return f"{max(elapsed, 0):.3f}"


# --- History ------------------------------------------------------------------------------------


# Runs older than this leave the history when the next run is recorded; the latest state stays.
HISTORY_DAYS = 90


def append_history(path: Path, report: DriftReport, *, keep_days: int = HISTORY_DAYS) -> None:
    """Record this run: a JSON line in ``path`` (``.terrane/drift/history.jsonl``), and the latest state.

    Environments that are not deployed were not checked: they leave no trace,
    and a run that checked none writes nothing. ``latest.json`` beside the
    history holds each environment's latest entry, so that reading it costs
    the same whatever the history's age; runs older than ``keep_days`` are
    dropped from the history (at most once a day, when its first line is older).
    """
    checked = [env for env in report.environments if env.status != "not_deployed"]
    if not checked:
        return
    with history_lock(path).acquire(wait=_HISTORY_WAIT_SECONDS):
        entry = _append(path, report, checked)
        latest = _latest(path)
        for item in entry["environments"]:
            latest[item["environment"]] = {**item, "checked_at": entry["finished_at"]}
        write_atomically(path.with_name(LATEST), json.dumps(latest, sort_keys=True, separators=(",", ":")))
        _expire(path, keep_days)


LATEST = "latest.json"
_HISTORY_WAIT_SECONDS = 60.0


def history_lock(path: Path) -> Lock:
    return Lock(path.with_name(".history.lock"), "the drift history")


def _append(path: Path, report: DriftReport, checked: Sequence[EnvironmentDrift]) -> dict[str, Any]:
    entry = {
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "environments": [
            {"environment": env.environment, "status": env.status, "error": env.error,
             "drifted": len(env.resources), "ignored": env.ignored, "fingerprint": env.fingerprint}
            for env in checked
        ],
    }
    data = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND and one unbuffered write: runs that finish together do not interleave within a line.
    with open(path, "ab", buffering=0) as file:
        if file.tell() and not _ends_with_newline(path):
            # A run that died mid-write left half a line; start ours on a fresh one.
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[file.write(view):]
    return entry


def _latest(path: Path) -> dict[str, dict[str, Any]]:
    """The latest-state file; rebuilt from the history when it is missing or unreadable (once, then kept)."""
    try:
        latest = json.loads(path.with_name(LATEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return _scan(path)
    return {name: entry for name, entry in latest.items() if isinstance(entry, dict)} if isinstance(latest, dict) else {}


def _expire(path: Path, keep_days: int) -> None:
    """Drop the runs that finished more than ``keep_days`` ago, once the oldest is a day past that.

    So the history is rewritten at most once a day, however often runs are recorded.
    """
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with open(path, encoding="utf-8", errors="replace") as file:
        if not _older(file.readline(), cutoff - timedelta(days=1)):
            return
        kept = [line for line in file if line.strip() and not _older(line, cutoff)]
    write_atomically(path, "".join(line if line.endswith("\n") else line + "\n" for line in kept))


# A run's line starts with its times: enough to date it without parsing the whole line.
_FINISHED = re.compile(r'"finished_at":\s*"([^"]+)"')


def _older(line: str, cutoff: datetime) -> bool:
    match = _FINISHED.search(line, 0, 200)
    try:
        finished = datetime.fromisoformat(match[1]) if match else None
    except ValueError:
        finished = None
    if finished is None:
        return True  # a corrupt line is not worth keeping
    return (finished if finished.tzinfo else finished.replace(tzinfo=UTC)) < cutoff


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as file:
        file.seek(-1, 2)
        return file.read(1) == b"\n"


def last_states(path: Path) -> dict[str, dict[str, Any]]:
    """Environment -> its latest entry in the history, plus ``checked_at`` (that run's ``finished_at``).

    An environment left out of later runs (another shard, not named) keeps its
    previous entry. Read from ``latest.json``, whatever the history's size; a
    project whose history predates it is read line by line until its next run.
    """
    return _latest(path)


def _scan(path: Path) -> dict[str, dict[str, Any]]:
    """The latest entries, from the whole history. A missing file is an empty history; a corrupt line is skipped."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.readlines()
    except FileNotFoundError:
        return {}
    states: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            run = json.loads(line)
        except ValueError:
            continue
        if not isinstance(run, dict) or not isinstance(run.get("environments"), list):
            continue
        for entry in run["environments"]:
            if isinstance(entry, dict) and isinstance(entry.get("environment"), str):
                states[entry["environment"]] = {**entry, "checked_at": run.get("finished_at")}
    return states


# --- Notifications ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    environment: str
    kind: Literal["new", "changed", "resolved", "failing"]
    text: str
    """One short line for a chat channel: names and property paths, never values."""
    environment_drift: EnvironmentDrift


def notifications(report: DriftReport, previous: Mapping[str, Mapping[str, Any]]) -> list[Notification]:
    """What changed since each environment's last recorded state; nothing for what did not.

    - ``new``: drifted, and before it was in sync, never checked, or could not be checked;
    - ``changed``: still drifted, but other resources or properties (another fingerprint);
    - ``resolved``: in sync again after drift or a failed check;
    - ``failing``: could not be checked, and the previous check could.
    """
    notes = []
    for env in report.environments:
        before = previous.get(env.environment) or {}
        was = before.get("status")
        kind: Literal["new", "changed", "resolved", "failing"] | None = None
        if env.status == "not_deployed":
            kind = None
        elif env.status == "error":
            kind = None if was == "error" else "failing"
        elif env.status == "in_sync":
            kind = "resolved" if was in ("drifted", "error") else None
        elif was == "drifted":
            kind = None if _canonical(before.get("fingerprint")) == _canonical(env.fingerprint) else "changed"
        else:
            # After a failed check the last word the team heard was "failing", so drift found now is news.
            kind = "new"
        if kind:
            notes.append(Notification(env.environment, kind, _note_text(kind, env), env))
    return notes


def _canonical(fingerprint: Any) -> str:
    # A fingerprint read back from JSON must compare equal to one computed now.
    return json.dumps(fingerprint, sort_keys=True)


def _note_text(kind: str, env: EnvironmentDrift) -> str:
    name = env.environment
    if kind == "resolved":
        return f"terrane drift: {name} resolved: in sync again"
    if kind == "failing":
        error = _plain(env.error or "").strip().splitlines() or ["unknown error"]
        reason = error[0] if len(error[0]) <= _MAX_ERROR_CHARS else error[0][: _MAX_ERROR_CHARS - 1] + "…"
        return f"terrane drift: {name} could not be checked: {reason}"
    verb = "drifted" if kind == "new" else "drift changed"
    return f"terrane drift: {name} {verb}: {_count(len(env.resources), 'resource')} ({_summary(env.resources)})"


def _summary(resources: Sequence[ResourceDrift]) -> str:
    parts = []
    for resource in resources[:_MAX_RESOURCES_IN_TEXT]:
        what: str
        if resource.change == "delete" or not resource.properties:
            what = "deleted" if resource.change == "delete" else resource.change
        else:
            paths = [prop.path for prop in resource.properties]
            what = ", ".join(paths[:_MAX_PATHS_IN_TEXT])
            if len(paths) > _MAX_PATHS_IN_TEXT:
                what += f" and {len(paths) - _MAX_PATHS_IN_TEXT} more"
        parts.append(f"{resource.type} {resource.name}: {what}")
    if len(resources) > _MAX_RESOURCES_IN_TEXT:
        parts.append(f"and {_count(len(resources) - _MAX_RESOURCES_IN_TEXT, 'more resource')}")
    return "; ".join(parts)


def check_webhook_url(url: str) -> str:
    """Validate a webhook URL before anything runs; returns its ``scheme://host`` (safe to show).

    Never echoes the path or query: webhook URLs carry their token there.
    """
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port, host = None, None
    else:
        host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInputError("--notify: expected an http:// or https:// URL with a host",
                                hint="e.g. a Slack incoming webhook: https://hooks.slack.com/services/...")
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


def notify_changes(url: str, report: DriftReport, state: Path) -> list[Notification]:
    """Tell the webhook what changed since it was last told, and remember what it was told.

    ``state`` (``.terrane/drift/notified.json``) holds, per environment, the
    status and fingerprint of the last run whose notifications were delivered:
    what the team last heard, which is not always what was last checked. When
    delivery fails the state stays as it was, so the next run sends the news
    again; the check itself is recorded in the history all the same.
    Returns what was sent; raises ``EngineError`` when it could not be.
    """
    told = _read_state(state)
    notes = notifications(report, told)
    try:
        notify(url, notes)
    except EngineError:
        _write_state(state, told)  # exists from now on, unchanged: the news stays news
        raise
    _write_state(state, {**told, **{env.environment: {"status": env.status, "fingerprint": env.fingerprint}
                                    for env in report.environments if env.status != "not_deployed"}})
    return notes


def _read_state(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        # Before notified.json existed, the history was what the team had been told.
        return last_states(path.with_name("history.jsonl"))
    except ValueError:
        return {}
    return {name: entry for name, entry in data.items() if isinstance(entry, dict)} if isinstance(data, dict) else {}


def _write_state(path: Path, states: Mapping[str, Any]) -> None:
    write_atomically(path, json.dumps(states, sort_keys=True, separators=(",", ":")))


# Seconds between attempts to deliver: 1 + 2 + 4 + 8, all within about a minute with each try's timeout.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)


def notify(url: str, notes: Sequence[Notification], *, timeout: float = 10) -> None:
    """POST all of a run's notifications to a webhook at once; nothing when there are none.

    The body is Slack-compatible (``text``) and carries the environments for other receivers.
    A failure that may pass (no connection, a timeout, HTTP 429 or 5xx) is
    retried after each of ``RETRY_DELAYS``; another (HTTP 4xx) is final.
    """
    if not notes:
        return
    for delay in RETRY_DELAYS:
        try:
            _post(url, notes, timeout)
            return
        except _Transient:
            time.sleep(delay)
    try:
        _post(url, notes, timeout)
    except _Transient as exc:
        raise exc.error from None


class _Transient(Exception):
    """A delivery that failed in a way that may pass; ``error`` says how, for the user."""

    def __init__(self, error: EngineError) -> None:
        super().__init__(str(error))
        self.error = error


def _post(url: str, notes: Sequence[Notification], timeout: float) -> None:
    origin = check_webhook_url(url)
    body = {
        "text": "\n".join(_slack_escape(note.text) for note in notes),
        "environments": [
            {"environment": note.environment, "kind": note.kind, "status": note.environment_drift.status,
             "resources": [resource.urn for resource in note.environment_drift.resources]}
            for note in notes
        ],
    }
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "terrane"},
    )
    hint = "check the webhook URL given to --notify and that it is reachable"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        error = EngineError(f"could not notify {origin}: HTTP {exc.code} {_scrub(str(exc.reason), url)}", hint=hint)
        if exc.code == 429 or exc.code >= 500:
            raise _Transient(error) from None
        raise error from exc
    except urllib.error.URLError as exc:
        raise _Transient(EngineError(f"could not notify {origin}: {_scrub(_reason(exc.reason), url)}",
                                     hint=hint)) from None
    except OSError as exc:
        raise _Transient(EngineError(f"could not notify {origin}: {_scrub(_reason(exc), url)}", hint=hint)) from None
    except (HTTPException, ValueError) as exc:
        # These (http.client.InvalidURL, ...) quote the URL, token and all: keep them out of any traceback.
        raise EngineError(f"could not notify {origin}: {type(exc).__name__}", hint=hint) from None


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError):
        return reason.strerror or str(getattr(reason, "reason", "") or "") or type(reason).__name__
    return str(reason)


def _scrub(reason: str, url: str) -> str:
    """Belt and braces: whatever the reason says, not the part of the URL that holds the token."""
    parts = urllib.parse.urlsplit(url)
    for secret in (parts.path, parts.query, parts.fragment, parts.username, parts.password):
        if secret and len(secret) > 1:
            reason = reason.replace(secret, "…")
    return reason


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions: an error text with "<!channel>" must not page everyone.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
