"""A minimal client of a linked cluster's API server.

``Client`` sends JSON over HTTPS as the kubeconfig's user: a client
certificate, a bearer token, or an ``exec`` credential plugin
(``client.authentication.k8s.io/v1`` and ``v1beta1``). A plugin runs with
terrane's base environment (``PATH``, ``HOME``, locale, proxies: no cloud
credentials), its own ``env`` entries and ``KUBERNETES_EXEC_INFO``, without
a terminal.

Every problem is one line that names where the kubeconfig came from
(``origin``) and what is wrong, never what it holds: content that cannot be
used is ``InvalidInputError``; a server that cannot be reached or refuses the
request, or a plugin that fails, is ``EngineError``. A client key touches the
disk only in a private temporary directory (0700, files 0600), removed as soon
as it is loaded.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terrane.engine.accounts.secrets import MASK, Secret
from terrane.engine.clouds.kubernetes.kubeconfig import Entry, invalid, load
from terrane.engine.clouds.verification import first_line
from terrane.engine.errors import EngineError

__all__ = ["ApiError", "Client"]

REQUEST_TIMEOUT_SECONDS = 10
EXEC_TIMEOUT_SECONDS = 60
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"
# The extension of a cluster whose value a plugin with provideClusterInfo gets as spec.cluster.config.
EXEC_EXTENSION = "client.authentication.k8s.io/exec"

# What a plugin with provideClusterInfo learns of the cluster (ExecCredential's spec.cluster), as kubectl passes it.
_EXEC_CLUSTER_KEYS = ("server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority-data",
                      "proxy-url", "disable-compression")


class ApiError(EngineError):
    """The API server answered with an HTTP error; ``status`` is its code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Credentials:
    token: Secret | None = None
    certificate: bytes | None = None
    """PEM."""
    key: Secret | None = None
    """PEM."""


class Client:
    """JSON requests to one API server as a kubeconfig's user; ``get`` and ``post`` return the decoded answer."""

    def __init__(self, server: str, tls: ssl.SSLContext | None, token: Secret | None, origin: str) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._origin = origin
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if tls is not None:
            handlers.append(urllib.request.HTTPSHandler(context=tls))
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_kubeconfig(cls, flat: str, *, origin: str = "the kubeconfig") -> Client:
        """A client of the current context of ``flat`` (a flattened kubeconfig); runs its exec plugin, if any."""
        entry = Entry.select(load(flat, origin), None, origin)
        credentials = _credentials(entry, origin)
        server = str(entry.cluster["server"])
        tls = _tls(entry.cluster, credentials, origin) if server.startswith("https:") else None
        return cls(server, tls, credentials.token, origin)

    def get(self, path: str) -> dict[str, Any]:
        return self._request("GET", path, None)

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": "terrane"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        request = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        failure: EngineError | None = None
        # Errors are raised outside the except blocks: the request they hold carries the token.
        try:
            with self._opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            failure = self._refused(exc, method, path)
        except urllib.error.URLError as exc:
            failure = self._unreachable(exc.reason)
        except OSError as exc:  # a timeout or a reset while reading the answer
            failure = self._unreachable(exc)
        if failure is not None:
            raise failure
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise EngineError(f"{self._origin}: {self.server} answered {method} {path} with something other than "
                              "a JSON object: is it a Kubernetes API server?")
        return document

    def _unreachable(self, reason: object) -> EngineError:
        return EngineError(f"{self._origin}: cannot reach the Kubernetes API server {self.server}: {_reason(reason)}")

    def _refused(self, error: urllib.error.HTTPError, method: str, path: str) -> ApiError:
        message = self._masked(_status_message(error) or str(error.reason))
        if error.code == 401:
            words = ("refused the kubeconfig's credentials (401 Unauthorized): the token, client certificate or "
                     "exec plugin's credential is not valid for this cluster")
        elif error.code == 403:
            words = f"forbids {method} {path} to the kubeconfig's user (403 Forbidden): {message}"
        else:
            words = f"answered {method} {path} with {error.code}: {message}"
        return ApiError(f"{self._origin}: the Kubernetes API server {self.server} {words}", error.code)

    def _masked(self, text: str) -> str:
        if self._token is not None and len(self._token.reveal()) >= 4:
            text = text.replace(self._token.reveal(), MASK)
        return text


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """An API server does not redirect; following one would send the token elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _status_message(error: urllib.error.HTTPError) -> str | None:
    """The first line of a Kubernetes ``Status``'s message, if the error's body is one."""
    try:
        status = json.loads(error.read())
    except (OSError, ValueError):
        return None
    message = status.get("message") if isinstance(status, dict) else None
    return first_line(message) if isinstance(message, str) and message.strip() else None


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {REQUEST_TIMEOUT_SECONDS} s"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted ({reason.verify_message}): check the cluster's certificate-authority"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return first_line(reason) or type(reason).__name__


def _credentials(entry: Entry, origin: str) -> _Credentials:
    user = entry.user
    token = user.get("token")
    credentials = _Credentials(
        token=Secret(token) if isinstance(token, str) and token else None,
        certificate=_decoded(user, "client-certificate-data", f"user '{entry.user_name}'", origin),
        key=_secret_key(_decoded(user, "client-key-data", f"user '{entry.user_name}'", origin)),
    )
    if isinstance(user.get("exec"), dict):
        return _exec_credentials(user["exec"], entry, origin)
    if user.get("auth-provider") is not None and credentials == _Credentials():
        name = user["auth-provider"].get("name") if isinstance(user["auth-provider"], dict) else None
        raise invalid(origin, f"user '{entry.user_name}': terrane cannot sign in with an auth-provider "
                               f"({name or 'unnamed'}); use an exec plugin (kubelogin, or the cloud's own), "
                               "or link with --no-verify")
    return credentials


def _decoded(body: Mapping[str, Any], key: str, what: str, origin: str) -> bytes | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    problem = None
    try:
        # Line breaks are allowed, as Go's decoder (kubectl's) allows them.
        decoded = base64.b64decode("".join(str(value).split()), validate=True)
    except (binascii.Error, ValueError):
        problem = f"{what}: {key} is not base64"
    if problem is not None:
        raise invalid(origin, problem)
    return decoded


def _secret_key(pem: bytes | None) -> Secret | None:
    return None if pem is None else Secret(pem.decode("ascii", errors="replace"))


def _tls(cluster: Mapping[str, Any], credentials: _Credentials, origin: str) -> ssl.SSLContext:
    """Trust the cluster's CA (or the system's, or nothing with ``insecure-skip-tls-verify``); present the client cert."""
    authority = _decoded(cluster, "certificate-authority-data", "the cluster", origin)
    problem = None
    try:
        context = ssl.create_default_context(cadata=authority.decode("ascii") if authority else None)
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        problem = "the cluster's certificate-authority-data holds no PEM certificate"
    if problem is not None:
        raise invalid(origin, problem)
    if cluster.get("insecure-skip-tls-verify") is True:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if credentials.certificate is not None or credentials.key is not None:
        if credentials.certificate is None or credentials.key is None:
            raise invalid(origin, "the user has a client certificate without its key, or a key without its certificate")
        _load_client_certificate(context, credentials.certificate, credentials.key, origin)
    return context


def _load_client_certificate(context: ssl.SSLContext, certificate: bytes, key: Secret, origin: str) -> None:
    """``ssl`` reads a certificate and key only from files: they live in a private directory for that moment."""
    directory = Path(tempfile.mkdtemp(prefix="terrane-kubeconfig-"))  # mode 0700
    problem = None
    try:
        certificate_file = _private_file(directory / "client.crt", certificate)
        key_file = _private_file(directory / "client.key", key.reveal().encode("ascii", errors="replace"))
        context.load_cert_chain(certificate_file, key_file)
    except ssl.SSLError:
        problem = "the user's client certificate and key are not a PEM certificate and its private key"
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if problem is not None:
        raise invalid(origin, problem)


def _private_file(path: Path, content: bytes) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    return path


# --- exec credential plugins ------------------------------------------------------------------------------------------


def _exec_credentials(spec: Mapping[str, Any], entry: Entry, origin: str) -> _Credentials:
    """Run the user's exec plugin, as kubectl would without a terminal; its token or client certificate."""
    what = f"user '{entry.user_name}': exec"
    api_version = spec.get("apiVersion")
    if api_version not in EXEC_API_VERSIONS:
        raise invalid(origin, f"{what}: apiVersion {api_version or '(none)'} is not one terrane runs "
                               f"({', '.join(EXEC_API_VERSIONS)})")
    command, args, additions = _exec_command(spec, what, origin)
    if spec.get("interactiveMode") == "Always":
        raise invalid(origin, f"{what}: the plugin needs a terminal (interactiveMode: Always), and terrane runs "
                               "it without one")
    info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    if spec.get("provideClusterInfo") is True:
        info["spec"]["cluster"] = _exec_cluster(entry.cluster)
    from terrane.engine.store.environ import base_environment

    environment = {**base_environment(), **additions, EXEC_INFO_ENV: json.dumps(info)}
    masks = [value for value in additions.values() if len(value) >= 4]
    failure = None
    try:
        ran = subprocess.run([command, *args], env=environment, stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=EXEC_TIMEOUT_SECONDS, check=False)
    except OSError as exc:
        hint = spec.get("installHint")
        hint_line = " ".join(hint.split()) if isinstance(hint, str) else ""
        failure = f"cannot run {command}: {exc.strerror}" + (f"; {hint_line}" if hint_line else "")
    except subprocess.TimeoutExpired:
        failure = f"{command} did not finish within {EXEC_TIMEOUT_SECONDS} s"
    if failure is None and ran.returncode != 0:
        lines = ran.stderr.decode("utf-8", errors="replace").strip().splitlines()
        said = lines[-1].strip() if lines else ""
        failure = f"{command} failed with exit code {ran.returncode}" + (f": {_masked(said, masks)}" if said else "")
    if failure is not None:
        raise EngineError(f"{origin}: {what}: {failure}")
    return _exec_result(ran.stdout, str(api_version), f"{what}: {command}", origin)


def _exec_command(spec: Mapping[str, Any], what: str, origin: str) -> tuple[str, list[str], dict[str, str]]:
    command, args, env = spec.get("command"), spec.get("args") or [], spec.get("env") or []
    if not isinstance(command, str) or not command:
        raise invalid(origin, f"{what}: no command")
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise invalid(origin, f"{what}: args is not a list of strings")
    if not isinstance(env, list) or not all(isinstance(item, dict) and isinstance(item.get("name"), str)
                                            and isinstance(item.get("value"), str) for item in env):
        raise invalid(origin, f"{what}: env is not a list of names with values")
    return command, args, {item["name"]: item["value"] for item in env}


def _exec_cluster(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """ExecCredential's ``spec.cluster``: the cluster's connection settings and its exec extension's config."""
    found = {key: cluster[key] for key in _EXEC_CLUSTER_KEYS if key in cluster}
    extensions = cluster.get("extensions")
    for extension in extensions if isinstance(extensions, list) else []:
        if isinstance(extension, dict) and extension.get("name") == EXEC_EXTENSION:
            found["config"] = extension.get("extension")
    return found


def _exec_result(stdout: bytes, api_version: str, what: str, origin: str) -> _Credentials:
    """The credential a plugin printed: ``status.token``, or ``status.clientCertificateData`` and ``clientKeyData``."""
    try:
        document: Any = json.loads(stdout)
    except ValueError:
        document = None
    problem = None
    if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
        problem = "printed no ExecCredential (JSON) on stdout"
    elif document.get("apiVersion") != api_version:
        problem = f"printed an ExecCredential of {document.get('apiVersion')}, not of {api_version} as asked"
    if problem is not None:
        raise EngineError(f"{origin}: {what} {problem}")
    status = document.get("status") if isinstance(document.get("status"), dict) else {}
    token, certificate, key = status.get("token"), status.get("clientCertificateData"), status.get("clientKeyData")
    if isinstance(token, str) and token:
        return _Credentials(token=Secret(token))
    if isinstance(certificate, str) and certificate and isinstance(key, str) and key:
        return _Credentials(certificate=certificate.encode("ascii", errors="replace"), key=Secret(key))
    raise EngineError(f"{origin}: {what} printed an ExecCredential with neither status.token nor "
                      "status.clientCertificateData and clientKeyData")


def _masked(text: str, masks: list[str]) -> str:
    for value in masks:
        text = text.replace(value, MASK)
    return text
