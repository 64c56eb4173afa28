"""Which Pulumi program runs an environment's stack: a factory named by import path.

A reference is ``package.module:factory``. ``factory(env, account)`` returns the
program (a ``PulumiFn``) for that environment; the default is terrane's own
``terrane.stacks.program:build_program``. A team wraps terrane's program with its
own resources by naming a factory of its own. The worker imports it from
``PYTHONPATH`` or the project directory, which comes last on its path: a
project's own ``components/`` or ``engine/`` can never shadow terrane's. The
driver only checks that the name is well formed.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from terrane.engine.errors import EngineError, InvalidInputError

if TYPE_CHECKING:
    from terrane.stacks.spec.accounts import Account
    from terrane.stacks.spec.environments import Environment

DEFAULT = "terrane.stacks.program:build_program"
ENV_VAR = "TERRANE_PROGRAM"

ProgramFactory = Callable[["Environment", "Account"], Callable[[], None]]

_REFERENCE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")


def check(reference: str) -> str:
    """``reference`` if it has the form ``package.module:factory``."""
    if not _REFERENCE.fullmatch(reference):
        raise InvalidInputError(
            f"program {reference!r}: expected an import path and a factory name, e.g. mypackage.program:build"
        )
    return reference


def module_of(reference: str) -> str:
    """The module ``reference`` is in."""
    return check(reference).split(":")[0]


def search_project(root: str | os.PathLike[str]) -> None:
    """Let program modules be imported from the project directory ``root``, after everything else.

    Workers and the fork server start with ``python -P``, so the directory they run in is
    not on their path; this puts it at the end.
    """
    path = os.fspath(root)
    if path not in sys.path:
        sys.path.append(path)


def load(reference: str, project_root: str | os.PathLike[str]) -> ProgramFactory:
    """The factory ``reference`` names, imported in this process (``search_project(project_root)`` first)."""
    module_name, attribute = check(reference).split(":")
    search_project(project_root)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineError(
            f"cannot import the program {reference}: {exc}",
            hint="put the module in the project directory or on PYTHONPATH",
        ) from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise EngineError(f"the program {reference}: {module_name} has no callable {attribute}")
    return factory
