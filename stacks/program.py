"""The inline Pulumi program of an environment: ``build_program(env, account) -> PulumiFn``.

The program is a closure over typed specs; nothing registers a resource until
the engine runs it. Cloud SDKs are imported only then, so building a program
(and the CLI that does it) stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from terrane.stacks.spec.accounts import Account
from terrane.stacks.spec.environments import Environment

PulumiFn = Callable[[], None]

PROGRAMS: dict[str, str] = {
    "aws": "terrane.stacks.aws",
    "azure": "terrane.stacks.azure",
    "gcp": "terrane.stacks.gcp",
    "kubernetes": "terrane.stacks.kubernetes",
}
"""The module whose ``compose(env, account)`` makes an environment, by its account's cloud."""


def build_program(env: Environment, account: Account) -> PulumiFn:
    def program() -> None:
        # Each cloud's module imports its provider SDK, which takes a while:
        # only the one the account needs is loaded.
        compose: Callable[[Environment, Account], None] = importlib.import_module(PROGRAMS[account.cloud]).compose
        compose(env, account)

    return program
