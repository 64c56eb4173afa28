"""Choosing the environments a verb runs on: named ones, or ``--all``, never both."""

from __future__ import annotations

from collections.abc import Sequence

from terrane.engine.errors import InvalidInputError
from terrane.engine.project import Project
from terrane.stacks.spec.environments import Environment


def refuse_both(names: Sequence[str], all: bool) -> None:
    """Named environments and ``all`` together are invalid input."""
    if names and all:
        raise InvalidInputError("name environments or use --all, not both")


def select(project: Project, names: Sequence[str], all: bool) -> tuple[list[Environment], dict[str, str]]:
    """The environments to run, and those of ``all`` that are invalid, each with its one-line reason.

    A named environment that is invalid stops everything (``InvalidInputError``);
    with ``all`` it is left out and reported, and the others still run.
    """
    refuse_both(names, all)
    if not names and not all:
        raise InvalidInputError("name at least one environment, or use --all")
    if not all:
        return [project.environment(name) for name in dict.fromkeys(names)], {}
    project.accounts  # noqa: B018 - an invalid accounts.yaml is everyone's problem: it stops the run
    valid, invalid = [], {}
    for name in project.environment_names():
        try:
            valid.append(project.environment(name))
        except InvalidInputError as exc:
            invalid[name] = exc.one_line()
    return valid, invalid


def all_valid(project: Project, names: Sequence[str], all: bool) -> list[Environment]:
    """The chosen environments in name order; any invalid one, even with ``all``, stops everything."""
    environments, invalid = select(project, names, all)
    if invalid:
        raise InvalidInputError("\n".join(invalid[name] for name in sorted(invalid)))
    return sorted(environments, key=lambda env: env.name)
