"""Kubeconfigs of ``cloud: kubernetes`` accounts, and a minimal client of the cluster's API server.

- ``flatten`` reduces a kubeconfig to one context, its cluster and its user,
  with every file the entry names read in (``certificate-authority``,
  ``client-certificate``, ``client-key`` as ``*-data``; ``tokenFile`` as
  ``token``), like ``kubectl config view --flatten --minify``. The result stands
  alone, so it travels as one secret: the stack's ``kubernetes:kubeconfig``.
  ``exec`` and ``auth-provider`` entries are kept as they are (a relative
  ``exec`` command with a ``/`` becomes absolute, as kubectl reads it).
- ``Client`` sends JSON over HTTPS as the kubeconfig's user: a client
  certificate, a bearer token, or an ``exec`` credential plugin
  (``client.authentication.k8s.io/v1`` and ``v1beta1``). A plugin runs with
  terrane's base environment (``PATH``, ``HOME``, locale, proxies: no cloud
  credentials), its own ``env`` entries and ``KUBERNETES_EXEC_INFO``, without
  a terminal.

A kubeconfig is a secret. Every problem is one line that names where the
kubeconfig came from (``origin``) and what is wrong, never what it holds:
content that cannot be used is ``InvalidInputError``; a server that cannot be
reached or refuses the request, or a plugin that fails, is ``EngineError``. A
client key touches the disk only in a private temporary directory (0700, files
0600), removed as soon as it is loaded.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from terrane.engine.accounts.secrets import MASK, Secret, resolve
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.project import ACCOUNTS_FILE
from terrane.stacks.spec.accounts import KubernetesAccount
from terrane.stacks.spec.references import FileRef, Reference

__all__ = ["ApiError", "Client", "flatten", "kubeconfig_of", "origin", "server_of"]

REQUEST_TIMEOUT_SECONDS = 10
EXEC_TIMEOUT_SECONDS = 60
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"
# The extension of a cluster whose value a plugin with provideClusterInfo gets as spec.cluster.config.
EXEC_EXTENSION = "client.authentication.k8s.io/exec"

# The files an entry may name, and the key that holds their content once inlined: base64, but a token as text.
_CLUSTER_FILES = {"certificate-authority": "certificate-authority-data"}
_USER_FILES = {"client-certificate": "client-certificate-data", "client-key": "client-key-data", "tokenFile": "token"}

# What a plugin with provideClusterInfo learns of the cluster (ExecCredential's spec.cluster), as kubectl passes it.
_EXEC_CLUSTER_KEYS = ("server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority-data",
                      "proxy-url", "disable-compression")


# --- flattening -------------------------------------------------------------------------------------------------------


def origin(account: KubernetesAccount, name: str) -> str:
    """How messages name account ``name``'s kubeconfig: its field in accounts.yaml and its reference."""
    return f"{ACCOUNTS_FILE}: accounts.{name}.kubeconfig ({account.kubeconfig})"


def kubeconfig_of(account: KubernetesAccount, name: str,
                  resolver: Callable[[Reference], Secret] = resolve) -> Secret:
    """Account ``name``'s kubeconfig, resolved (by ``resolver``) and flattened to its context: what the stack's
    provider gets."""
    where = origin(account, name)
    reference = account.kubeconfig
    try:
        text = resolver(reference)
    except InvalidInputError as exc:
        # The reference's own words (they name it, never its value), said of the account's field.
        raise InvalidInputError(f"{where}: {exc.one_line()}", hint=exc.hint) from None
    base_dir = Path(reference.file).expanduser().absolute().parent if isinstance(reference, FileRef) else None
    return Secret(flatten(text.reveal(), context=account.context, base_dir=base_dir, origin=where))


def flatten(text: str, *, context: str | None, base_dir: Path | None, origin: str) -> str:
    """``text`` reduced to ``context`` (else its current-context), its cluster and user, files inlined; YAML.

    Relative paths are relative to ``base_dir``, the kubeconfig file's directory;
    without one, a relative path is an error.
    """
    entry = _Entry.select(_load(text, origin), context, origin)
    cluster = _inlined(entry.cluster, _CLUSTER_FILES, f"cluster '{entry.cluster_name}'", base_dir, origin)
    context_body = {key: value for key, value in entry.context_body.items() if key != "user"}
    users = []
    if entry.user_name is not None:
        user = _inlined(entry.user, _USER_FILES, f"user '{entry.user_name}'", base_dir, origin)
        users.append({"name": entry.user_name, "user": _exec_resolved(user, base_dir)})
        context_body["user"] = entry.user_name
    flat = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": entry.cluster_name, "cluster": cluster}],
        "users": users,
        "contexts": [{"name": entry.context, "context": context_body}],
        "current-context": entry.context,
    }
    return yaml.safe_dump(flat, sort_keys=False, default_flow_style=False)


def server_of(flat: str) -> str:
    """The API server URL of a flattened kubeconfig (of its current context)."""
    return str(_Entry.select(_load(flat, "the flattened kubeconfig"), None, "the flattened kubeconfig").cluster["server"])


def _invalid(origin: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{origin}: {message}")


def _load(text: str, origin: str) -> dict[str, Any]:
    problem: str | None = None
    # Raised outside the except block: a YAML error quotes the document, so it is not even kept as the context.
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = "is not YAML" + (f" (line {mark.line + 1}, column {mark.column + 1})" if mark else "")
        document = None
    if problem is None and not isinstance(document, dict):
        problem = "is not a kubeconfig: not a YAML mapping"
    if problem is not None:
        raise _invalid(origin, f"the kubeconfig {problem}")
    return document


@dataclass(frozen=True)
class _Entry:
    """One context of a kubeconfig, with the cluster and the user it names."""

    context: str
    context_body: Mapping[str, Any]
    cluster_name: str
    cluster: Mapping[str, Any]
    user_name: str | None
    """None: the context names no user (anonymous requests)."""
    user: Mapping[str, Any]

    @classmethod
    def select(cls, document: Mapping[str, Any], context: str | None, origin: str) -> _Entry:
        name = context or document.get("current-context")
        if not name or not isinstance(name, str):
            raise _invalid(origin, "the kubeconfig has no current-context: name the context to use "
                                   "(context: in accounts.yaml, --context when linking)")
        contexts = _named(document, "contexts", "context", origin)
        if name not in contexts:
            known = ", ".join(contexts) or "none"
            raise _invalid(origin, f"no context '{name}' in the kubeconfig (it has: {known})")
        body = contexts[name]
        cluster_name, user_name = body.get("cluster"), body.get("user") or None
        if user_name is not None and not isinstance(user_name, str):
            raise _invalid(origin, f"context '{name}' names a user that is not a name")
        if not isinstance(cluster_name, str) or not cluster_name:
            raise _invalid(origin, f"context '{name}' names no cluster")
        clusters = _named(document, "clusters", "cluster", origin)
        if cluster_name not in clusters:
            raise _invalid(origin, f"context '{name}' names cluster '{cluster_name}', which the kubeconfig does not have")
        cluster = clusters[cluster_name]
        if not isinstance(cluster.get("server"), str) or not cluster["server"]:
            raise _invalid(origin, f"cluster '{cluster_name}' has no server")
        user: Mapping[str, Any] = {}
        if user_name is not None:
            users = _named(document, "users", "user", origin)
            if user_name not in users:
                raise _invalid(origin, f"context '{name}' names user '{user_name}', which the kubeconfig does not have")
            user = users[user_name]
        return cls(name, body, cluster_name, cluster, user_name, user)


def _named(document: Mapping[str, Any], key: str, inner: str, origin: str) -> dict[str, Mapping[str, Any]]:
    """``document[key]`` (a list of ``{name:, <inner>: {...}}``) by name; a missing body is empty."""
    entries = document.get(key) or []
    if not isinstance(entries, list):
        raise _invalid(origin, f"the kubeconfig's {key} is not a list")
    found: dict[str, Mapping[str, Any]] = {}
    for index, item in enumerate(entries):
        body = item.get(inner) if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(body or {}, dict):
            raise _invalid(origin, f"the kubeconfig's {key}[{index}] is not a name with a {inner} mapping")
        found.setdefault(item["name"], body or {})
    return found


def _inlined(body: Mapping[str, Any], files: Mapping[str, str], what: str, base_dir: Path | None,
             origin: str) -> dict[str, Any]:
    """``body`` with each file it names read into the matching ``*-data`` (or ``token``) key.

    Content already inline wins over a file, as kubectl has it: the file is not read.
    """
    inlined = dict(body)
    for path_key, data_key in files.items():
        path = inlined.pop(path_key, None)
        if path is None or path == "" or data_key in inlined:
            continue
        content = _read(path, f"{what}: {path_key}", base_dir, origin)
        if data_key == "token":
            inlined[data_key] = content.decode("utf-8", errors="replace").strip()
        else:
            inlined[data_key] = base64.b64encode(content).decode("ascii")
    return inlined


def _read(path: object, field: str, base_dir: Path | None, origin: str) -> bytes:
    if not isinstance(path, str):
        raise _invalid(origin, f"{field} is not a path")
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        if base_dir is None:
            raise _invalid(origin, f"{field}: {path} is a relative path, and the kubeconfig is not a file it "
                                   "could be relative to: make the path absolute")
        candidate = base_dir / candidate
    try:
        return candidate.read_bytes()
    except OSError as exc:
        raise _invalid(origin, f"{field}: cannot read {candidate}: {exc.strerror}") from None


def _exec_resolved(user: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """``user`` with a relative exec command that holds a ``/`` made absolute against ``base_dir``, as kubectl does."""
    spec = user.get("exec")
    if base_dir is None or not isinstance(spec, dict):
        return user
    command = spec.get("command")
    if not isinstance(command, str) or "/" not in command or Path(command).is_absolute():
        return user
    return {**user, "exec": {**spec, "command": str(base_dir / command)}}


# --- the client -------------------------------------------------------------------------------------------------------


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
        entry = _Entry.select(_load(flat, origin), None, origin)
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
    return _first_line(message) if isinstance(message, str) and message.strip() else None


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {REQUEST_TIMEOUT_SECONDS} s"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted ({reason.verify_message}): check the cluster's certificate-authority"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return _first_line(reason) or type(reason).__name__


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


def _credentials(entry: _Entry, origin: str) -> _Credentials:
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
        raise _invalid(origin, f"user '{entry.user_name}': terrane cannot sign in with an auth-provider "
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
        raise _invalid(origin, problem)
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
        raise _invalid(origin, problem)
    if cluster.get("insecure-skip-tls-verify") is True:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if credentials.certificate is not None or credentials.key is not None:
        if credentials.certificate is None or credentials.key is None:
            raise _invalid(origin, "the user has a client certificate without its key, or a key without its certificate")
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
        raise _invalid(origin, problem)


def _private_file(path: Path, content: bytes) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    return path


# --- exec credential plugins ------------------------------------------------------------------------------------------


def _exec_credentials(spec: Mapping[str, Any], entry: _Entry, origin: str) -> _Credentials:
    """Run the user's exec plugin, as kubectl would without a terminal; its token or client certificate."""
    what = f"user '{entry.user_name}': exec"
    api_version = spec.get("apiVersion")
    if api_version not in EXEC_API_VERSIONS:
        raise _invalid(origin, f"{what}: apiVersion {api_version or '(none)'} is not one terrane runs "
                               f"({', '.join(EXEC_API_VERSIONS)})")
    command, args, additions = _exec_command(spec, what, origin)
    if spec.get("interactiveMode") == "Always":
        raise _invalid(origin, f"{what}: the plugin needs a terminal (interactiveMode: Always), and terrane runs "
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
        raise _invalid(origin, f"{what}: no command")
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise _invalid(origin, f"{what}: args is not a list of strings")
    if not isinstance(env, list) or not all(isinstance(item, dict) and isinstance(item.get("name"), str)
                                            and isinstance(item.get("value"), str) for item in env):
        raise _invalid(origin, f"{what}: env is not a list of names with values")
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
