"""Kubeconfigs of ``cloud: kubernetes`` accounts.

``flatten`` reduces a kubeconfig to one context, its cluster and its user,
with every file the entry names read in (``certificate-authority``,
``client-certificate``, ``client-key`` as ``*-data``; ``tokenFile`` as
``token``), like ``kubectl config view --flatten --minify``. The result stands
alone, so it travels as one secret: the stack's ``kubernetes:kubeconfig``.
``exec`` and ``auth-provider`` entries are kept as they are (a relative
``exec`` command with a ``/`` becomes absolute, as kubectl reads it).

A kubeconfig is a secret. Every problem is one line that names where the
kubeconfig came from (``origin``) and what is wrong, never what it holds:
content that cannot be used is ``InvalidInputError``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from terrane.engine.accounts.secrets import SECRET_FILE_LIMIT, Secret, resolve
from terrane.engine.clouds.base import naming_the_field
from terrane.engine.errors import InvalidInputError
from terrane.engine.files import RefusedFileError, read_regular
from terrane.engine.project import ACCOUNTS_FILE
from terrane.stacks.spec.accounts import KubernetesAccount
from terrane.stacks.spec.references import FileRef, Reference

__all__ = ["Entry", "flatten", "invalid", "kubeconfig_of", "load", "origin", "server_of"]

# The files an entry may name, and the key that holds their content once inlined: base64, but a token as text.
_CLUSTER_FILES = {"certificate-authority": "certificate-authority-data"}
_USER_FILES = {"client-certificate": "client-certificate-data", "client-key": "client-key-data", "tokenFile": "token"}


def origin(account: KubernetesAccount, name: str) -> str:
    """How messages name account ``name``'s kubeconfig: its field in accounts.yaml and its reference."""
    return f"{ACCOUNTS_FILE}: accounts.{name}.kubeconfig ({account.kubeconfig})"


def kubeconfig_of(account: KubernetesAccount, name: str,
                  resolver: Callable[[Reference], Secret] = resolve) -> Secret:
    """Account ``name``'s kubeconfig, resolved (by ``resolver``) and flattened to its context: what the stack's
    provider gets."""
    where = origin(account, name)
    reference = account.kubeconfig
    text = naming_the_field(resolver, name, account)(reference)
    base_dir = Path(reference.file).expanduser().absolute().parent if isinstance(reference, FileRef) else None
    return Secret(flatten(text.reveal(), context=account.context, base_dir=base_dir, origin=where))


def flatten(text: str, *, context: str | None, base_dir: Path | None, origin: str) -> str:
    """``text`` reduced to ``context`` (else its current-context), its cluster and user, files inlined; YAML.

    Relative paths are relative to ``base_dir``, the kubeconfig file's directory;
    without one, a relative path is an error.
    """
    entry = Entry.select(load(text, origin), context, origin)
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
    return str(Entry.select(load(flat, "the flattened kubeconfig"), None, "the flattened kubeconfig").cluster["server"])


def invalid(origin: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{origin}: {message}")


def load(text: str, origin: str) -> dict[str, Any]:
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
        raise invalid(origin, f"the kubeconfig {problem}")
    return document


@dataclass(frozen=True)
class Entry:
    """One context of a kubeconfig, with the cluster and the user it names."""

    context: str
    context_body: Mapping[str, Any]
    cluster_name: str
    cluster: Mapping[str, Any]
    user_name: str | None
    """None: the context names no user (anonymous requests)."""
    user: Mapping[str, Any]

    @classmethod
    def select(cls, document: Mapping[str, Any], context: str | None, origin: str) -> Entry:
        name = context or document.get("current-context")
        if not name or not isinstance(name, str):
            raise invalid(origin, "the kubeconfig has no current-context: name the context to use "
                                   "(context: in accounts.yaml, --context when linking)")
        contexts = _named(document, "contexts", "context", origin)
        if name not in contexts:
            known = ", ".join(contexts) or "none"
            raise invalid(origin, f"no context '{name}' in the kubeconfig (it has: {known})")
        body = contexts[name]
        cluster_name, user_name = body.get("cluster"), body.get("user") or None
        if user_name is not None and not isinstance(user_name, str):
            raise invalid(origin, f"context '{name}' names a user that is not a name")
        if not isinstance(cluster_name, str) or not cluster_name:
            raise invalid(origin, f"context '{name}' names no cluster")
        clusters = _named(document, "clusters", "cluster", origin)
        if cluster_name not in clusters:
            raise invalid(origin, f"context '{name}' names cluster '{cluster_name}', which the kubeconfig does not have")
        cluster = clusters[cluster_name]
        if not isinstance(cluster.get("server"), str) or not cluster["server"]:
            raise invalid(origin, f"cluster '{cluster_name}' has no server")
        user: Mapping[str, Any] = {}
        if user_name is not None:
            users = _named(document, "users", "user", origin)
            if user_name not in users:
                raise invalid(origin, f"context '{name}' names user '{user_name}', which the kubeconfig does not have")
            user = users[user_name]
        return cls(name, body, cluster_name, cluster, user_name, user)


def _named(document: Mapping[str, Any], key: str, inner: str, origin: str) -> dict[str, Mapping[str, Any]]:
    """``document[key]`` (a list of ``{name:, <inner>: {...}}``) by name; a missing body is empty."""
    entries = document.get(key) or []
    if not isinstance(entries, list):
        raise invalid(origin, f"the kubeconfig's {key} is not a list")
    found: dict[str, Mapping[str, Any]] = {}
    for index, item in enumerate(entries):
        body = item.get(inner) if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(body or {}, dict):
            raise invalid(origin, f"the kubeconfig's {key}[{index}] is not a name with a {inner} mapping")
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
        raise invalid(origin, f"{field} is not a path")
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        if base_dir is None:
            raise invalid(origin, f"{field}: {path} is a relative path, and the kubeconfig is not a file it "
                                   "could be relative to: make the path absolute")
        candidate = base_dir / candidate
    try:
        return read_regular(candidate, SECRET_FILE_LIMIT)
    except OSError as exc:
        raise invalid(origin, f"{field}: cannot read {candidate}: {exc.strerror}") from None
    except RefusedFileError as exc:
        raise invalid(origin, f"{field}: cannot read {candidate}: {exc}") from None


def _exec_resolved(user: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """``user`` with a relative exec command that holds a ``/`` made absolute against ``base_dir``, as kubectl does."""
    spec = user.get("exec")
    if base_dir is None or not isinstance(spec, dict):
        return user
    command = spec.get("command")
    if not isinstance(command, str) or "/" not in command or Path(command).is_absolute():
        return user
    return {**user, "exec": {**spec, "command": str(base_dir / command)}}

