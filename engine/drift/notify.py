"""Notifications on change: a scheduled job speaks only when an environment's drift changes.

``notifications`` compares a new report with what the team was last told
(``DriftHistory.told``): new, changed, resolved, failing, rather than every
hour about the same drift. ``notify`` posts those to a webhook
(Slack-compatible ``text`` plus structured data), retrying what may pass;
``notify_changes`` does both, and ``heard`` says what the history is to
remember the webhook was told. The
webhook URL's path and query carry its token: they never appear in a message.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Literal

from terrane.engine.drift.report import DriftReport, EnvironmentDrift, ResourceDrift
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.markdown import count, plain_text

# A chat line has to stay readable.
_MAX_RESOURCES_IN_TEXT = 5
_MAX_PATHS_IN_TEXT = 5
_MAX_ERROR_CHARS = 300


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
        error = plain_text(env.error or "").strip().splitlines() or ["unknown error"]
        reason = error[0] if len(error[0]) <= _MAX_ERROR_CHARS else error[0][: _MAX_ERROR_CHARS - 1] + "…"
        return f"terrane drift: {name} could not be checked: {reason}"
    verb = "drifted" if kind == "new" else "drift changed"
    return f"terrane drift: {name} {verb}: {count(len(env.resources), 'resource')} ({_summary(env.resources)})"


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
        parts.append(f"and {count(len(resources) - _MAX_RESOURCES_IN_TEXT, 'more resource')}")
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


def notify_changes(url: str, report: DriftReport, told: Mapping[str, Mapping[str, Any]]) -> list[Notification]:
    """Tell the webhook what changed since it was last ``told`` (``DriftHistory.told``); returns what was sent.

    Raises ``EngineError`` when it could not be delivered; the check is recorded all the same, and ``heard``
    says what the webhook knows then.
    """
    notes = notifications(report, told)
    notify(url, notes)
    return notes


def heard(report: DriftReport, told: Mapping[str, Mapping[str, Any]], *, delivered: bool) -> dict[str, dict[str, Any]]:
    """What the webhook knows of the run's environments: their new states once delivered, else what it knew.

    What the team last heard is not always what was last checked: when delivery fails, the next run sends the
    news again.
    """
    checked = [env for env in report.environments if env.status != "not_deployed"]
    if delivered:
        return {env.environment: {"status": env.status, "fingerprint": env.fingerprint} for env in checked}
    # One it never heard of is recorded as such (no status), so that its news is not taken for heard.
    return {env.environment: dict(told.get(env.environment) or {"status": None}) for env in checked}


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
