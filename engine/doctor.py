"""``terrane doctor``: is this machine ready to run the project's stacks?

Each check is one line: the Pulumi CLI and its version, the backend, the
secrets provider, every account's secret references, the provider plugins.
Checks never print a secret value and never call a cloud.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

from terrane.engine.accounts.secrets import resolve
from terrane.engine.errors import TerraneError
from terrane.engine.operations import pulumi_cli, workspace
from terrane.engine.project import Project
from terrane.stacks.spec import Spec
from terrane.stacks.spec.accounts import Account, AwsAccount
from terrane.stacks.spec.references import AwsSecretRef, EnvRef, FileRef

Status = Literal["ok", "warn", "fail"]

# Provider plugins the components need: plugin name -> Python SDK distribution.
PLUGINS = {"aws": "pulumi-aws", "azure-native": "pulumi-azure-native", "gcp": "pulumi-gcp", "kubernetes": "pulumi-kubernetes"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def run_checks(project: Project) -> list[Check]:
    checks = [_cli()]
    backend = workspace.backend(project)
    checks += [_backend(backend), _secrets_provider(backend)]
    checks += [_references(name, account) for name, account in project.accounts.items()]
    if checks[0].status == "ok":
        checks += _plugins()
    return checks


def _cli() -> Check:
    try:
        cli = pulumi_cli.locate()
        version = subprocess.run([str(cli.executable), "version"], capture_output=True, text=True, check=True,
                                 timeout=30, env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}).stdout.strip()
    except TerraneError as exc:
        return Check("pulumi cli", "fail", f"{exc}; {exc.hint}" if exc.hint else str(exc))
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("pulumi cli", "fail", f"the Pulumi CLI does not run: {exc}")
    if _version(version) < _version(pulumi_cli.MINIMUM_VERSION):
        return Check("pulumi cli", "fail", f"{version} at {cli.executable}; terrane needs {pulumi_cli.MINIMUM_VERSION} "
                                           f"or newer: terrane install-cli")
    return Check("pulumi cli", "ok", f"{version} at {cli.executable}")


def _backend(backend: workspace.Backend) -> Check:
    if not backend.is_local:
        return Check("backend", "ok", f"{backend.url} (reached when a stack runs)")
    path = Path(backend.url.removeprefix("file://"))
    if not os.access(path, os.W_OK):
        return Check("backend", "fail", f"{backend.url} is not writable")
    return Check("backend", "ok", backend.url)


def _secrets_provider(backend: workspace.Backend) -> Check:
    if backend.secrets_provider != "passphrase":
        return Check("secrets provider", "ok", backend.secrets_provider)
    if "PULUMI_CONFIG_PASSPHRASE" in backend.env:
        return Check("secrets provider", "ok", "passphrase from PULUMI_CONFIG_PASSPHRASE")
    path = Path(backend.env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    if not path.is_file():
        return Check("secrets provider", "fail", f"passphrase file {path} does not exist")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        return Check("secrets provider", "fail", f"passphrase file {path} is readable by others: chmod 600 {path}")
    return Check("secrets provider", "ok", f"passphrase file {path}")


def _references(name: str, account: Account) -> Check:
    references = list(_find_references(account.auth))
    region = account.region if isinstance(account, AwsAccount) else None
    try:
        for reference in references:
            resolve(reference, region=region)
    except TerraneError as exc:
        return Check(f"account {name}", "fail", str(exc))
    listed = ", ".join(str(reference) for reference in references) or "no secret references"
    return Check(f"account {name}", "ok", f"{account.cloud}, {account.auth.method}: {listed} resolve")


def _find_references(node: Spec) -> list[EnvRef | FileRef | AwsSecretRef]:
    found: list[EnvRef | FileRef | AwsSecretRef] = []
    for field in type(node).model_fields:
        value = getattr(node, field)
        if isinstance(value, (EnvRef, FileRef, AwsSecretRef)):
            found.append(value)
        elif isinstance(value, Spec):
            found += _find_references(value)
    return found


def _plugins() -> list[Check]:
    cli = pulumi_cli.locate()
    try:
        listed = subprocess.run([str(cli.executable), "plugin", "ls", "--json"], capture_output=True, text=True,
                                check=True, timeout=60).stdout
        installed = {(plugin["name"], plugin.get("version")) for plugin in json.loads(listed or "[]")}
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
        return [Check("plugins", "warn", f"cannot list provider plugins: {exc}")]
    checks = []
    for plugin, distribution in PLUGINS.items():
        wanted = metadata.version(distribution)
        if (plugin, wanted) in installed:
            checks.append(Check(f"plugin {plugin}", "ok", wanted))
        else:
            checks.append(Check(f"plugin {plugin}", "warn", f"{wanted} is not installed; Pulumi downloads it on first "
                                                             f"use, or: pulumi plugin install resource {plugin} {wanted}"))
    return checks


def _version(text: str) -> tuple[int, ...]:
    digits = text.strip().lstrip("v").split("-")[0].split("+")[0]
    return tuple(int(part) for part in digits.split(".") if part.isdigit())
