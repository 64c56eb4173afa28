"""The inline Pulumi program of an environment: ``build_program(env, account) -> PulumiFn``.

The program is a closure over typed specs; nothing registers a resource until
the engine runs it. Cloud SDKs are imported only then, so building a program
(and the CLI that does it) stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

from terrane.stacks.spec.accounts import Account, AwsAccount, AzureAccount, GcpAccount
from terrane.stacks.spec.environments import Environment

PulumiFn = Callable[[], None]


def build_program(env: Environment, account: Account) -> PulumiFn:
    def program() -> None:
        # Each cloud's module imports its provider SDK, which takes a while:
        # only the one the account needs is loaded.
        if isinstance(account, AwsAccount):
            from terrane.stacks import aws

            aws.compose(env, account)
        elif isinstance(account, AzureAccount):
            from terrane.stacks import azure

            azure.compose(env, account)
        elif isinstance(account, GcpAccount):
            from terrane.stacks import gcp

            gcp.compose(env, account)
        else:
            from terrane.stacks import kubernetes

            kubernetes.compose(env)

    return program
