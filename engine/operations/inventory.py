"""What the backend holds of each environment's stack, for ``status``, ``report`` and ``drift``.

One ``pulumi stack ls`` lists every stack of the project, however many. It fails whole when a single
stack's state does not read; then each environment's stack is read on its own (``pulumi stack export``),
so every other one is still listed, and the broken one is a summary with an ``error`` that names its state
file and Pulumi's backups. An environment whose ``Pulumi.<env>.yaml`` remains (terrane writes it when it
creates the stack) but whose stack is gone is "state missing": an error too, never "not deployed".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from terrane.engine.errors import EngineError
from terrane.engine.operations import pulumi_cli, pulumi_logs, workspace
from terrane.engine.operations.pulumi_cli import StackSummary
from terrane.engine.operations.state_files import StackFiles, local_directory
from terrane.engine.project import Project
from terrane.engine.store import updates
from terrane.engine.store.backends import open_store
from terrane.engine.store.objects import StoreError

_PARALLEL_READS = 4


def stacks(cli: pulumi_cli.PulumiCli, project: Project, backend: workspace.Backend,
           names: Sequence[str]) -> dict[str, StackSummary]:
    """The project's stacks by name, and an error summary for each of ``names`` whose state is missing."""
    found: dict[str, StackSummary] = {}
    pulumi_logs.cap()
    if not backend.holds_no_stack:
        env = workspace.backend_environment(backend)
        try:
            found = pulumi_cli.list_stacks(cli, project.root, env)
        except EngineError:
            found = _one_by_one(cli, project.root, env, names)
    found = {name: _located(project, backend, summary) for name, summary in found.items()}
    for name in names:
        if name not in found and config_file(project, name).exists():
            found[name] = StackSummary(name, None, None, error=missing(project, backend.url, name))
    return found


def check(found: Mapping[str, StackSummary] | None, name: str) -> None:
    """Raise ``EngineError`` when ``found`` (``stacks``) says ``name``'s state is unreadable or missing."""
    summary = (found or {}).get(name)
    if summary is not None and summary.error:
        raise EngineError(summary.error)


def config_file(project: Project, name: str) -> Path:
    """``Pulumi.<env>.yaml``: written when terrane creates the environment's stack, so there is one while it lives."""
    return project.root / f"Pulumi.{name}.yaml"


def missing(project: Project, backend_url: str, name: str) -> str:
    """The error of an environment whose stack is gone while its ``Pulumi.<env>.yaml`` remains."""
    files = _files(project, backend_url, name)
    where = str(files.state) if files else f"{backend_url} has no stack {name}"
    restore = files.restore_hint() if files else "Restore the stack from a backup of the backend"
    return (f"state missing: {where}, but {config_file(project, name).name} remains (the stack was made). "
            f"{restore}; or, if the stack was removed on purpose, delete {config_file(project, name).name}")


def _one_by_one(cli: pulumi_cli.PulumiCli, root: Path, env: dict[str, str],
                names: Sequence[str]) -> dict[str, StackSummary]:
    with ThreadPoolExecutor(max_workers=_PARALLEL_READS) as pool:
        read = pool.map(lambda name: pulumi_cli.read_stack(cli, root, env, name), names)
        return {name: summary for name, summary in zip(names, read, strict=True) if summary is not None}


def _located(project: Project, backend: workspace.Backend, summary: StackSummary) -> StackSummary:
    """A summary whose state does not read, its error naming the state file and the backups, on a file backend."""
    if not summary.error:
        return summary
    files = _files(project, backend.url, summary.name)
    if files is None:  # an object store keeps the same layout; Pulumi Cloud keeps its own history
        backups = "" if backend.url.startswith("https://") else (
            f"; if the state itself is damaged, Pulumi keeps backups there in "
            f".pulumi/backups/{project.pulumi_project}/{summary.name}/")
        return StackSummary(summary.name, None, None, error=f"could not read the state in {backend.url} "
                                                            f"({summary.error}){backups}")
    reason = files.unreadable() or summary.error
    return StackSummary(summary.name, None, None,
                        error=f"state unreadable: {files.state} ({reason}). {files.restore_hint()}")


def _files(project: Project, backend_url: str, name: str) -> StackFiles | None:
    root = local_directory(backend_url)
    return StackFiles(root, project.pulumi_project, name) if root else None


def last_updates(cli: pulumi_cli.PulumiCli, project: Project, backend: workspace.Backend, names: Sequence[str],
                 listed: Mapping[str, str], parallel: int) -> dict[str, pulumi_cli.UpdateRecord]:
    """The newest update of each of ``names``' stacks (what it was, how it ended, who ran it where the history
    says): terrane's record of it in the shared store, read with one listing, where that record is the update
    that last wrote the state (``listed``: when each was last written); else one ``pulumi stack history``
    each, ``parallel`` at a time. A stack whose history cannot say is left out."""
    try:
        recorded = updates.newest(open_store(project.root, backend.url), names)
    except StoreError:
        recorded = {}
    found = {name: pulumi_cli.UpdateRecord(kind=record["kind"], result=record["result"], by=record.get("by"),
                                           started=record.get("started"))
             for name, record in recorded.items() if name in listed and updates.matches(record, listed[name])}
    asked = [name for name in names if name not in found]
    env = workspace.backend_environment(backend)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for name, record in zip(asked, pool.map(lambda name: pulumi_cli.last_update(cli, project.root, env, name),
                                                asked), strict=True):
            if record is not None:
                found[name] = record
    return {name: found[name] for name in names if name in found}
