"""Stand-ins for what `accounts verify` talks to beyond AWS (which moto serves): Azure's and Google's SDKs, and
their REST APIs.

``FakeAzure`` and ``FakeGoogle`` are just enough of ``azure.identity`` and ``google.auth`` to run the token paths
offline; the tokens they issue are distinctive, so that finding one in an output is certainly a leak.
``FakeApi`` is a real HTTP server on 127.0.0.1 that answers from a table and records each request, so that
terrane's own HTTP code runs unchanged but for the base URL.
"""

from __future__ import annotations

import json
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from terrane.engine.clouds import verification as verify_module

AZURE_TOKEN = "arm-token-LeakCanary-3f9"
GOOGLE_TOKEN = "ya29.google-token-LeakCanary"


class FakeAzure:
    """Just enough of azure.identity / azure.core.exceptions to run the token path offline."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.created: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.scopes: list[str] = []
        self.failure: Exception | None = None
        exceptions = types.ModuleType("azure.core.exceptions")

        class AzureError(Exception):
            def __init__(self, message: str) -> None:
                super().__init__(message)
                self.message = message

        class ClientAuthenticationError(AzureError):
            pass

        exceptions.AzureError = AzureError  # type: ignore[attr-defined]
        exceptions.ClientAuthenticationError = ClientAuthenticationError  # type: ignore[attr-defined]
        identity = types.ModuleType("azure.identity")

        class CredentialUnavailableError(ClientAuthenticationError):
            pass

        identity.CredentialUnavailableError = CredentialUnavailableError  # type: ignore[attr-defined]
        for name in ("ClientSecretCredential", "ClientAssertionCredential", "AzureCliCredential"):
            setattr(identity, name, self._credential(name))
        self.errors = exceptions
        for module in (types.ModuleType("azure"), types.ModuleType("azure.core"), exceptions, identity):
            monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setattr(verify_module, "installed", lambda module: True)

    def _credential(self, name: str) -> Any:
        fake = self

        class Credential:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                fake.created.append((name, args, kwargs))

            def get_token(self, *scopes: str) -> Any:
                fake.scopes.extend(scopes)
                if fake.failure is not None:
                    raise fake.failure
                return types.SimpleNamespace(token=AZURE_TOKEN, expires_on=0)

        return Credential


class FakeGoogle:
    """Just enough of google.auth / google.oauth2 to run the service-account key path offline."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.infos: list[dict[str, Any]] = []
        self.refreshed = 0
        self.failure: Exception | None = None
        self.unloadable = False
        fake = self
        auth = types.ModuleType("google.auth")
        exceptions = types.ModuleType("google.auth.exceptions")
        for name in ("DefaultCredentialsError", "RefreshError", "TransportError"):
            setattr(exceptions, name, type(name, (Exception,), {}))
        self.errors = exceptions

        class Credentials:
            def __init__(self, info: dict[str, Any]) -> None:
                self.service_account_email = info["client_email"]
                self.token: str | None = None

            @classmethod
            def from_service_account_info(cls, info: dict[str, Any], scopes: list[str]) -> Credentials:
                fake.infos.append(info)
                if fake.unloadable:
                    raise ValueError(f"Could not deserialize key data: {info['private_key']}")
                return cls(info)

            def refresh(self, request: Any) -> None:
                fake.refreshed += 1
                if fake.failure is not None:
                    raise fake.failure
                self.token = GOOGLE_TOKEN

        service_account = types.ModuleType("google.oauth2.service_account")
        service_account.Credentials = Credentials  # type: ignore[attr-defined]
        transport = types.ModuleType("google.auth.transport.requests")
        transport.Request = lambda: None  # type: ignore[attr-defined]
        impersonated = types.ModuleType("google.auth.impersonated_credentials")

        def default(scopes: list[str]) -> Any:
            raise exceptions.DefaultCredentialsError("no application default credentials")  # type: ignore[attr-defined]

        auth.exceptions = exceptions  # type: ignore[attr-defined]
        auth.impersonated_credentials = impersonated  # type: ignore[attr-defined]
        auth.default = default  # type: ignore[attr-defined]
        oauth2 = types.ModuleType("google.oauth2")
        oauth2.service_account = service_account  # type: ignore[attr-defined]
        parent = types.ModuleType("google.auth.transport")
        for module in (auth, exceptions, impersonated, parent, transport, oauth2, service_account):
            monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setattr(verify_module, "installed", lambda module: True)


@dataclass(frozen=True)
class Request:
    """A request the fake API received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeApi:
    """An HTTP server on 127.0.0.1: ``routes[(METHOD, PATH)] = (status, document)``; ``requests`` in order."""

    url: str = ""
    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def route(self, method: str, path: str, document: Any, status: int = 200) -> None:
        self.routes[(method, path)] = (status, document)

    def called(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]


@contextmanager
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            api.requests.append(Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body))
            status, document = api.routes.get((self.command, parts.path), (404, {"error": {"code": "NotFound"}}))
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
