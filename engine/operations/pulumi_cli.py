"""Finding the Pulumi CLI the engine drives, and installing the pinned version on request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from terrane.engine.errors import EngineError

ROOT_ENV = "TERRANE_PULUMI_ROOT"
# The oldest CLI terrane's driver is tested against; `terrane install-cli` installs the
# version matching the installed Pulumi SDK, which pyproject.toml pins.
MINIMUM_VERSION = "3.205.0"
INSTALL_HINT = (
    "install it with 'terrane install-cli', or from https://www.pulumi.com/docs/iac/download-install/, "
    f"or set {ROOT_ENV} to a directory holding bin/pulumi"
)


@dataclass(frozen=True)
class PulumiCli:
    """Where the CLI is: ``root`` (holding ``bin/pulumi``) for PulumiCommand, or on PATH."""

    executable: Path
    root: Path | None


def locate(environ: dict[str, str] | None = None) -> PulumiCli:
    environ = dict(os.environ if environ is None else environ)
    root = environ.get(ROOT_ENV)
    if root:
        executable = Path(root).expanduser() / "bin" / "pulumi"
        if not os.access(executable, os.X_OK):
            raise EngineError(f"the Pulumi CLI is not at {executable} ({ROOT_ENV})", hint=INSTALL_HINT)
        return PulumiCli(executable=executable, root=Path(root).expanduser())
    found = shutil.which("pulumi", path=environ.get("PATH"))
    if found is not None:
        return PulumiCli(executable=Path(found), root=None)
    installed = default_root()
    if os.access(installed / "bin" / "pulumi", os.X_OK):
        return PulumiCli(executable=installed / "bin" / "pulumi", root=installed)
    raise EngineError(f"the Pulumi CLI is not installed (not on PATH, {ROOT_ENV} unset)", hint=INSTALL_HINT)


def default_root() -> Path:
    """Where ``PulumiCommand.install`` puts the CLI matching the installed Pulumi SDK."""
    return Path.home() / ".pulumi" / "versions" / metadata.version("pulumi")


def install(root: Path | None = None) -> Path:
    """Install the CLI matching the Pulumi SDK with the Automation API; returns its root."""
    from pulumi.automation import PulumiCommand

    root = root or default_root()
    try:
        PulumiCommand.install(root=str(root))
    except Exception as exc:
        raise EngineError(f"could not install the Pulumi CLI into {root}: {exc}") from exc
    return root


@dataclass(frozen=True)
class StackSummary:
    """What the backend says of a stack without opening it: when its state was last written, how many resources."""

    name: str
    last_update: str | None
    resources: int | None
    error: str | None = None
    """Why the stack's state cannot be read (it is listed all the same); None when it reads."""


def list_stacks(cli: PulumiCli, project_root: Path, env: Mapping[str, str]) -> dict[str, StackSummary]:
    """The project's stacks in the backend ``env`` names, by name: one ``pulumi stack ls --json``."""
    try:
        listed = subprocess.run([str(cli.executable), "stack", "ls", "--json"], cwd=project_root, env=dict(env),
                                capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"could not list the stacks: {exc}") from exc
    if listed.returncode != 0:
        said = [line.removeprefix("error: ") for line in listed.stderr.splitlines() if line.strip()]
        raise EngineError(f"could not list the stacks: {said[-1] if said else f'exit {listed.returncode}'}")
    try:
        # A Pulumi Cloud backend may qualify names as org/project/stack.
        summaries = [StackSummary(name=str(item["name"]).rsplit("/", 1)[-1], last_update=item.get("lastUpdate"),
                                  resources=item.get("resourceCount")) for item in json.loads(listed.stdout)]
    except (ValueError, KeyError, TypeError) as exc:
        raise EngineError(f"could not list the stacks: unexpected answer from pulumi stack ls ({exc})") from exc
    return {summary.name: summary for summary in summaries}


def read_stack(cli: PulumiCli, project_root: Path, env: Mapping[str, str], stack: str) -> StackSummary | None:
    """One stack's summary, read on its own (``pulumi stack export``): when ``list_stacks`` fails because one
    state does not read, the others still do. None: there is no such stack; a summary with ``error``: its
    state does not read, as Pulumi says."""
    try:
        deployment = export(cli, project_root, env, stack)
    except EngineError as exc:
        return StackSummary(stack, None, None, error=str(exc))
    if deployment is None:
        return None
    try:
        stamp = (deployment.get("manifest") or {}).get("time")
        resources = deployment.get("resources")
        return StackSummary(stack, _utc(stamp), len(resources or ()) if deployment else None)
    except (ValueError, AttributeError, TypeError) as exc:
        return StackSummary(stack, None, None, error=f"unexpected answer from pulumi stack export ({exc})")


def export(cli: PulumiCli, project_root: Path, env: Mapping[str, str], stack: str) -> dict[str, Any] | None:
    """``stack``'s deployment as ``pulumi stack export`` prints it, its secrets still encrypted (nothing is
    decrypted, nothing written); None: there is no such stack. ``EngineError``: its state does not read, as Pulumi
    says."""
    try:
        exported = subprocess.run([str(cli.executable), "stack", "export", "--stack", stack], cwd=project_root,
                                  env=dict(env), capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"could not read its state: {exc}") from exc
    if exported.returncode != 0:
        said = [line.removeprefix("error: ") for line in exported.stderr.splitlines() if line.strip()]
        if any(line.startswith(f"no stack named '{stack}'") for line in said):
            return None
        raise EngineError(said[-1] if said else f"pulumi stack export: exit {exported.returncode}")
    try:
        deployment = json.loads(exported.stdout).get("deployment") or {}
    except (ValueError, AttributeError) as exc:
        raise EngineError(f"unexpected answer from pulumi stack export ({exc})") from exc
    if not isinstance(deployment, dict):
        raise EngineError("unexpected answer from pulumi stack export (its deployment is not an object)")
    return deployment


def _utc(stamp: str | None) -> str | None:
    """A state's time as ``pulumi stack ls --json`` gives it: UTC, to the millisecond; None for Go's zero time."""
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp).astimezone(UTC)
    if moment.year <= 1:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class UpdateRecord:
    """A stack's newest update, as its history records it."""

    kind: str
    """``update``, ``refresh``, ``destroy``..."""
    result: str
    """``succeeded``, ``failed`` or ``in-progress``."""
    by: str | None
    """Who ran it, where the history says: the git author of the project's checkout; None otherwise."""
    started: str | None = None
    """When it started, as the history says (``2026-01-01T10:00:00.000Z``)."""


def last_update(cli: PulumiCli, project_root: Path, env: Mapping[str, str], stack: str) -> UpdateRecord | None:
    """``stack``'s newest update: one ``pulumi stack history --json --page-size 1``; None when it cannot say."""
    try:
        listed = subprocess.run([str(cli.executable), "stack", "history", "--json", "--page-size", "1", "--stack", stack],
                                cwd=project_root, env=dict(env), capture_output=True, text=True, timeout=120,
                                check=False)
        newest = json.loads(listed.stdout)[0] if listed.returncode == 0 else None
        if not isinstance(newest, dict):
            return None
        environment = newest.get("environment") or {}
        return UpdateRecord(kind=str(newest["kind"]), result=str(newest["result"]),
                            by=environment.get("git.author") or environment.get("git.committer"),
                            started=newest.get("startTime"))
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError, KeyError, TypeError, AttributeError):
        return None
