"""Which Pulumi program runs an environment's stack: a factory named by import path.

A reference is ``package.module:factory``. ``factory(env, account)`` returns the
program (a ``PulumiFn``) for that environment; the default is terrane's own
``stacks.program:build_program``. A team wraps terrane's program with its own
resources by naming a factory of its own. The worker imports it from the project
directory or from ``PYTHONPATH``; the driver only checks that the name is well formed.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.errors import EngineError, InvalidInputError

if TYPE_CHECKING:
    from stacks.spec import Account, Environment

DEFAULT = "stacks.program:build_program"
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


def load(reference: str) -> ProgramFactory:
    """The factory ``reference`` names, imported in this process."""
    module_name, attribute = check(reference).split(":")
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
    return factory  # type: ignore[no-any-return]
