"""The REST calls of registry verification (ACR, Artifact Registry): JSON in and out, tokens never in a message."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds.verification import Check, first_line
from terrane.engine.errors import EngineError

_HTTP_TIMEOUT_SECONDS = 30
# How much of a service's error message is kept: its first line, cut to this.
_MESSAGE_LENGTH = 200


class Refused(Exception):
    """The service answered with an HTTP error; its words are in the message, with tokens masked."""


def request(check: Check, method: str, url: str, *, token: Secret | None = None, form: dict[str, str] | None = None,
          body: Any = None) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token.reveal()}"
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    host = urllib.parse.urlsplit(url).netloc
    failure: str | None = None
    refused: str | None = None
    payload = b""
    # The errors are raised outside the except blocks: the request (with its token) stays out of their context.
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT_SECONDS) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        refused = f"HTTP {exc.code}{_error_words(exc.read())}"
    except (urllib.error.URLError, OSError) as exc:
        failure = str(getattr(exc, "reason", exc))
    if failure is not None:
        raise check.error(EngineError, f"cannot reach {host}: {failure}")
    if refused is not None:
        raise Refused(check.masked(refused))
    try:
        answer = json.loads(payload or b"{}")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Refused(f"{host} answered with something other than a JSON object")
    return answer


def _error_words(payload: bytes) -> str:
    """The code and first line of the message of an Azure, ACR or Google error body; nothing else of it."""
    try:
        document = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    # ACR: {"errors": [{"code", "message"}]}; ARM: {"error": {"code", "message"}}; Google: {"error": {"status", ...}}.
    errors = document.get("errors")
    error = errors[0] if isinstance(errors, list) and errors else document.get("error")
    if not isinstance(error, dict):
        return ""
    code = error.get("status") or error.get("code")
    message = first_line(error.get("message") or "")[:_MESSAGE_LENGTH]
    return (f" {code}" if code else "") + (f": {message}" if message else "")


def text(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    if not isinstance(value, str) or not value:
        raise Refused(f"the answer has no {key}")
    return value
