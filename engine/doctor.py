"""``terrane doctor``: is this machine ready to run the project's stacks?

Each check is one line: the Pulumi CLI and its version, the backend, the
secrets provider, every account's and registry's secret references, the state store's region
against the environments', the provider plugins. Checks never print a secret
value, never call a cloud and create nothing: what the first ``up`` would
create (the state directory, the passphrase) is reported as such.

The state store's region is read from ``TERRANE_STATE_REGION``, else from the
backend URL (``s3://B?region=R``), else from the secrets provider URL
(``awskms://K?region=R``, ``awskms:///arn:aws:kms:R:...``,
``gcpkms://projects/P/locations/L/...``); Azure's URLs name none, so there the
variable is the only way. Environments of the store's cloud in another region
are a warning: their state and secrets cross regions on every run. A local
(file) backend has no region, and no such line.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from terrane.engine import clouds
from terrane.engine import markdown as md
from terrane.engine.accounts.secrets import resolve
from terrane.engine.errors import TerraneError
from terrane.engine.operations import pulumi_cli, pulumi_logs, state_files, workspace
from terrane.engine.project import Project
from terrane.engine.store.paths import BACKEND_ENV, PASSPHRASE_FILE, SECRETS_PROVIDER_ENV, STATE_DIR
from terrane.stacks.spec import Spec
from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.references import AwsSecretRef, EnvRef, FileRef
from terrane.stacks.spec.registries import Registry

if TYPE_CHECKING:
    from terrane.engine.clouds.base import Cloud

Status = Literal["ok", "warn", "fail"]

STATE_REGION_ENV = "TERRANE_STATE_REGION"
"""The state store's region, for the region check when its URLs name none (on Azure, they never do)."""


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def run_checks(project: Project) -> list[Check]:
    checks = [_cli()]
    backend = workspace.backend(project, create=False)
    checks += [_backend(backend), *_state_disk(backend), _secrets_provider(backend, project), _pulumi_logs()]
    checks += [_references(f"account {name}", account) for name, account in project.accounts.items()]
    checks += [_references(f"registry {name}", registry) for name, registry in project.registries.items()]
    region = _state_region(project, backend)
    if region is not None:
        checks.append(region)
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
    path = Path(urllib.parse.unquote(urllib.parse.urlparse(backend.url).path))
    existing = next(directory for directory in (path, *path.parents) if directory.exists())
    if not os.access(existing, os.W_OK):
        return Check("backend", "fail", f"{backend.url} is not writable")
    if existing != path:
        return Check("backend", "ok", f"{backend.url} (made by the first up)")
    return Check("backend", "ok", backend.url)


def _state_disk(backend: workspace.Backend) -> list[Check]:
    """The free space where a file backend's state is written; none for other backends."""
    root = state_files.local_directory(backend.url)
    if root is None:
        return []
    where, free = state_files.free_space(root)
    needed = state_files.needed_for(state_files.largest_state(root))
    size = state_files.size_text
    detail = f"{size(free)} free on the filesystem of {where}"
    if free < needed:
        return [Check("state disk", "fail", f"{detail}; up, refresh and destroy need {size(needed)} "
                                            f"({state_files.FREE_FACTOR} times the largest state, at least "
                                            f"{size(state_files.MIN_FREE_BYTES)}) and are refused: free some space")]
    return [Check("state disk", "ok", detail)]


def _pulumi_logs() -> Check:
    where = pulumi_logs.directory()
    files, total = pulumi_logs.usage(where)
    size = state_files.size_text
    return Check("pulumi logs", "ok", f"{md.count(files, 'file')}, {size(total)} in {where} (terrane keeps the newest "
                                      f"{pulumi_logs.MAX_FILES}, {size(pulumi_logs.MAX_BYTES)} at most)")


def _secrets_provider(backend: workspace.Backend, project: Project) -> Check:
    if backend.secrets_provider != "passphrase":
        return Check("secrets provider", "ok", backend.secrets_provider)
    if not backend.is_local:
        # Every machine that runs terrane on this backend must hold the same passphrase, kept and rotated by hand.
        return Check("secrets provider", "warn", f"a passphrase, with the shared backend {backend.url}: every machine "
                     "needs the same one, and whoever holds it decrypts every stack's secrets; set "
                     "TERRANE_SECRETS_PROVIDER to a cloud KMS key (awskms://, azurekeyvault://, gcpkms://) that each "
                     "machine's identity may use (docs/scaling.md#sharing-secrets)")
    if "PULUMI_CONFIG_PASSPHRASE" in backend.env:
        return Check("secrets provider", "ok", "passphrase from PULUMI_CONFIG_PASSPHRASE")
    path = Path(backend.env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    if not path.is_file():
        return _missing_passphrase(backend, path, generated=path == project.root / STATE_DIR / PASSPHRASE_FILE)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        return Check("secrets provider", "fail", f"passphrase file {path} is readable by others: chmod 600 {path}")
    return Check("secrets provider", "ok", f"passphrase file {path}")


def _missing_passphrase(backend: workspace.Backend, path: Path, *, generated: bool) -> Check:
    if not generated:
        return Check("secrets provider", "fail", f"passphrase file {path} does not exist")
    if backend.holds_no_stack:
        return Check("secrets provider", "ok", f"passphrase file {path} (generated by the first up, mode 0600)")
    if backend.is_local:
        return Check("secrets provider", "fail", f"passphrase file {path} does not exist, but the stacks in "
                                                 f"{backend.url} were encrypted with it: restore it")
    return Check("secrets provider", "warn", f"passphrase file {path} does not exist: the first up generates one, "
                                             f"which cannot decrypt stacks already in {backend.url}")


def _references(check: str, linked: Account | Registry) -> Check:
    cloud = clouds.of(linked)
    method = cloud.sign_in_method(linked)
    references = _find_references(linked)
    region = cloud.secrets_region(linked)
    try:
        for reference in references:
            resolve(reference, region=region)
    except TerraneError as exc:
        return Check(check, "fail", str(exc))
    if not references:
        return Check(check, "ok", f"{linked.cloud}, {method}: no secret references to resolve")
    listed = ", ".join(str(reference) for reference in references)
    return Check(check, "ok", f"{linked.cloud}, {method}: {listed} {'resolves' if len(references) == 1 else 'resolve'}")


def _find_references(node: Spec) -> list[EnvRef | FileRef | AwsSecretRef]:
    found: list[EnvRef | FileRef | AwsSecretRef] = []
    for field in type(node).model_fields:
        value = getattr(node, field)
        if isinstance(value, (EnvRef, FileRef, AwsSecretRef)):
            found.append(value)
        elif isinstance(value, Spec):
            found += _find_references(value)
    return found


def _state_region(project: Project, backend: workspace.Backend,
                  environ: Mapping[str, str] = os.environ) -> Check | None:
    """The state store's region against the regions of the environments on its cloud; None for a local backend."""
    if backend.is_local:
        return None
    cloud = _cloud(backend.url) or _cloud(backend.secrets_provider)
    if cloud is None:
        return None  # Pulumi Cloud, with a passphrase: in none of the environments' clouds
    stated = [(source, region) for source, region in (
        (STATE_REGION_ENV, environ.get(STATE_REGION_ENV, "").strip().lower() or None),
        (BACKEND_ENV, _url_region(backend.url)),
        (SECRETS_PROVIDER_ENV, _url_region(backend.secrets_provider)
         if _cloud(backend.secrets_provider) is cloud else None),
    ) if region]
    if not stated:
        return Check("state region", "ok", f"cannot tell the region of the {cloud.name} state store from its URLs: "
                                           f"add ?region=R to {BACKEND_ENV}, or set {STATE_REGION_ENV}, "
                                           f"to check it against the environments' regions")
    source, region = stated[0]
    where = f"the state store is in {region} (from {source})"
    disagreeing = [f"{other} ({name})" for name, other in stated[1:] if other != region]
    if disagreeing:
        return Check("state region", "warn", f"{where}, but {', '.join(disagreeing)} says otherwise")
    regions = _environment_regions(project, cloud.name)
    elsewhere = [f"{name} ({env_region})" for name, env_region in regions.items()
                 if not cloud.state_store.covers(region, env_region)]
    if elsewhere:
        return Check("state region", "warn", f"{where}; {cloud.name} environments in other regions, whose state and "
                                             f"secrets cross regions on every run: {', '.join(elsewhere)}")
    if not regions:
        return Check("state region", "ok", f"{where}; no {cloud.name} environment")
    return Check("state region", "ok", f"{where}, like every {cloud.name} environment")


def _cloud(url: str) -> Cloud | None:
    """The cloud whose state store a backend or secrets provider URL names; None for a file or Pulumi Cloud."""
    scheme = url.partition("://")[0]
    return next((cloud for cloud in clouds.every() if scheme in cloud.state_store.schemes), None)


def _url_region(url: str) -> str | None:
    """The region a backend or secrets provider URL names, if any."""
    cloud = _cloud(url)
    return cloud.state_store.region_of(url) if cloud else None


def _environment_regions(project: Project, cloud: str) -> dict[str, str]:
    """The region of each environment on ``cloud``; environments that do not validate are left to envs validate."""
    regions = {}
    for name in project.environment_names():
        try:
            env = project.environment(name)
        except TerraneError:
            continue
        account = project.accounts[env.account]
        region = env.resolved_region(account)
        if account.cloud == cloud and region is not None:
            regions[name] = region
    return regions


def _plugins() -> list[Check]:
    cli = pulumi_cli.locate()
    try:
        listed = subprocess.run([str(cli.executable), "plugin", "ls", "--json"], capture_output=True, text=True,
                                check=True, timeout=60).stdout
        installed = {(plugin["name"], plugin.get("version")) for plugin in json.loads(listed or "[]")}
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
        return [Check("plugins", "warn", f"cannot list provider plugins: {exc}")]
    checks = []
    for plugin, distribution in (cloud.plugin for cloud in clouds.every()):
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
