"""``status`` and ``envs list|validate``: every environment as the backend and its file say."""

from __future__ import annotations

from collections.abc import Sequence

from terrane.engine.drift.history import project_history
from terrane.engine.errors import TerraneError
from terrane.engine.operations.driver import Driver
from terrane.engine.project import Project
from terrane.engine.results import EnvironmentCheck, EnvironmentRow, EnvironmentStatus
from terrane.engine.verbs.select import select


def status(driver: Driver) -> list[EnvironmentStatus]:
    """Every environment: cloud, account, region, last update, resources and last drift check, in name order."""
    project = driver.project
    environments, invalid = select(project, (), all=True)
    stacks = driver.stacks([env.name for env in environments])
    drift = project_history(project.root).latest()
    statuses = {name: EnvironmentStatus(environment=name, cloud="-", account="-", region="-", last_update=None,
                                        error=reason, last_drift=drift.get(name))
                for name, reason in invalid.items()}
    for env in environments:
        account = project.account_for(env)
        stack = stacks.get(env.name)
        # A stack that holds nothing (destroyed, or made and never deployed) has nothing to drift from.
        destroyed = stack is not None and not stack.error and not stack.resources
        statuses[env.name] = EnvironmentStatus(
            environment=env.name, cloud=account.cloud, account=env.account, region=env.resolved_region(account) or "-",
            last_update={"time": stack.last_update, "resources": stack.resources} if stack and not stack.error
            else None, error=stack.error if stack else None, last_drift=None if destroyed else drift.get(env.name),
        )
    return [statuses[name] for name in sorted(statuses)]


def rows(project: Project) -> list[EnvironmentRow]:
    """Every environment file with its account, cloud and region; an invalid one with the first line of why."""
    return [_row(project, name) for name in project.environment_names()]


def validate(project: Project, names: Sequence[str]) -> list[EnvironmentCheck]:
    """accounts.yaml (which raises when invalid), then each of ``names`` (every environment when empty)."""
    project.accounts  # noqa: B018 - accounts.yaml is checked even with no environment
    return [_check(project, name) for name in names or project.environment_names()]


def _check(project: Project, name: str) -> EnvironmentCheck:
    try:
        project.environment(name)
    except TerraneError as exc:
        return EnvironmentCheck(name, valid=False, problems=tuple(str(exc).splitlines()))
    return EnvironmentCheck(name, valid=True, problems=())


def _row(project: Project, name: str) -> EnvironmentRow:
    try:
        env = project.environment(name)
    except TerraneError as exc:
        return EnvironmentRow(name, account=None, cloud=None, region=None, valid=False,
                              error=str(exc).splitlines()[0])
    account = project.account_for(env)
    return EnvironmentRow(name, account=env.account, cloud=account.cloud, region=env.resolved_region(account),
                          valid=True, error=None)


