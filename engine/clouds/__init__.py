"""All that is cloud-specific, one room per cloud: ``aws/``, ``azure/``, ``gcp/``, ``kubernetes/``.

Each room holds its bootstrap, its account and registry verification, its
provider config and allowed environment, the identity terrane deploys as
(for ``terrane audit``), and its offline fake; its ``CLOUD``
provides the protocol of ``base`` (``Cloud``), which is all engine code asks of
a cloud. ``get`` and ``of`` find a room by the ``cloud:`` of accounts.yaml and
import it only then, so that ``terrane --help`` loads none. ``verification``
holds what verifying any account shares, and ``verify`` itself; ``results``
what a verification found.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from terrane.engine.clouds.base import Cloud, ConfigValue, Resolver
    from terrane.stacks.spec.accounts import Account
    from terrane.stacks.spec.registries import Registry

__all__ = ["CLOUDS", "every", "get", "of", "provider_config"]

# One line per cloud: its name in accounts.yaml, and its room.
CLOUDS = {
    "aws": "terrane.engine.clouds.aws",
    "azure": "terrane.engine.clouds.azure",
    "gcp": "terrane.engine.clouds.gcp",
    "kubernetes": "terrane.engine.clouds.kubernetes",
}


@cache
def get(name: str) -> Cloud:
    """The cloud called ``name`` (a key of ``CLOUDS``), its room imported on first use."""
    cloud: Cloud = importlib.import_module(CLOUDS[name]).CLOUD
    return cloud


def of(linked: Account | Registry) -> Cloud:
    """The cloud an account or a registry of accounts.yaml is on."""
    return get(linked.cloud)


def every() -> list[Cloud]:
    """Every cloud, in the order of ``CLOUDS``."""
    return [get(name) for name in CLOUDS]


def provider_config(name: str, account: Account, region: str | None,
                    resolver: Resolver | None = None) -> dict[str, ConfigValue]:
    """The provider config account ``name`` attaches to each of its environments' stacks (``Cloud.provider_config``).

    Secret values are ``Secret`` objects, so whoever sets them on a stack knows
    to set them as secrets, and nothing prints them by mistake. Keys with a path
    (``aws:assumeRoles[0].roleArn``) are meant to be set with Pulumi's path syntax.
    """
    return of(account).provider_config(name, account, region, resolver)
