"""The program that plain ``pulumi up -s ENV`` runs in a terrane project.

A project's ``__main__.py`` calls ``run()``: it loads the environment named
like the stack and runs the same program ``terrane up`` runs. The account's
credentials come from the stack's config (``Pulumi.<env>.yaml``), which terrane
sets on every operation.
"""

from __future__ import annotations

from pathlib import Path


def run() -> None:
    import pulumi

    from terrane.engine.project import open_project
    from terrane.stacks.program import build_program

    # The directory of Pulumi.yaml; offline (mocks) it is unset, and the program runs from there anyway.
    root = pulumi.get_root_directory()
    project = open_project(Path(root) if root and Path(root).is_dir() else Path.cwd())
    env = project.environment(pulumi.get_stack())
    build_program(env, project.account_for(env))()
