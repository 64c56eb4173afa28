"""What every cloud provides (``Cloud``), and the words it is said in.

A cloud's room (``engine/clouds/<name>/``) holds everything engine code knows
of that cloud; its ``CLOUD`` is the one object the rest of the engine asks.
Bootstraps are not part of the protocol: ``accounts bootstrap <cloud>`` takes
flags of the cloud's own, and imports the room's ``bootstrap`` module itself.

A fake cloud's answers (``Fake``) are for ``terrane plan``: each provider
package has a ``resource`` faker (computed state and id of a new resource) and
``invokes`` (data sources by token). Identifiers derive from a hash of the
resource's type and name, so the same program renders the same plan every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pydantic import BaseModel

from terrane.engine.accounts.secrets import Secret
from terrane.engine.errors import InvalidInputError
from terrane.engine.project import ACCOUNTS_FILE

if TYPE_CHECKING:
    from terrane.engine.clouds.results import Verification
    from terrane.stacks.spec.accounts import Account, CloudAccount
    from terrane.stacks.spec.references import Reference
    from terrane.stacks.spec.registries import Registry

ConfigValue = str | Secret
"""A provider config value: plain, or a ``Secret`` to be set as secret stack config."""
Resolver = Callable[["Reference"], Secret]


def naming_the_field(resolver: Resolver, name: str, account: BaseModel) -> Resolver:
    """``resolver``, but a reference it cannot resolve is said of its field in accounts.yaml
    (``accounts.NAME.auth.assume_role.external_id (env:X): ...``), as every other bad input names its field."""

    def resolve(reference: Reference) -> Secret:
        try:
            return resolver(reference)
        except InvalidInputError as exc:
            where = ".".join(_path_to(account, reference) or ("?",))
            raise InvalidInputError(f"{ACCOUNTS_FILE}: accounts.{name}.{where} ({reference}): {exc.one_line()}",
                                    hint=exc.hint) from None

    return resolve


def _path_to(model: BaseModel, target: object) -> tuple[str, ...] | None:
    """The field names that lead from ``model`` to ``target`` itself, or None."""
    for key in type(model).model_fields:
        value = getattr(model, key)
        if value is target:
            return (key,)
        if isinstance(value, BaseModel) and (inner := _path_to(value, target)):
            return (key, *inner)
    return None


@dataclass(frozen=True)
class Request:
    """A resource registration or a data source call, as the fake cloud receives it.

    ``account_id`` is the cloud's account scope: an AWS account id, an Azure
    subscription id or a GCP project id.
    """

    type: str
    name: str
    inputs: Mapping[str, Any]
    account_id: str
    region: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.type}::{self.name}".encode()).hexdigest()

    @property
    def module(self) -> str:
        """``ec2`` of ``aws:ec2/vpc:Vpc``, ``network`` of ``azure-native:network:VirtualNetwork``."""
        return self.type.split(":")[1].split("/")[0]

    @property
    def kind(self) -> str:
        """``vpc`` of ``aws:ec2/vpc:Vpc``; the last token part, lower-camel-cased."""
        last = self.type.split(":")[-1]
        return last[:1].lower() + last[1:]

    def hex(self, length: int) -> str:
        return self.digest[:length]

    def uuid(self) -> str:
        d = self.digest
        return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"

    def physical_name(self, *keys: str, separator: str = "-") -> str:
        """The name the program gave (under the first of ``keys`` present), else an auto-name.

        Pulumi auto-names a resource "<logical name>-<7 hex>" when no name is given.
        """
        for key in (*keys, "name"):
            given = self.inputs.get(key)
            if isinstance(given, str) and given:
                return given
        return f"{self.name}{separator}{self.hex(7)}"


ResourceFaker = Callable[[Request], dict[str, Any]]
"""Returns the computed state of a resource, including its ``id``."""

InvokeFaker = Callable[[Request], dict[str, Any]]
"""Returns the result of a data source call."""


class Plugin(NamedTuple):
    """The Pulumi provider plugin a cloud's programs use, and the Python SDK it is the engine half of."""

    name: str
    """The plugin's name (``aws``, ``azure-native``)."""
    sdk: str
    """The SDK's distribution (``pulumi-aws``), whose version is the plugin version its programs want."""


class Fake(NamedTuple):
    """One provider package's fake, for ``terrane plan``."""

    package: str
    """The provider package whose type tokens it answers: ``aws``, ``azure-native``, ``gcp``, ``kubernetes``."""
    resource: ResourceFaker
    invokes: Mapping[str, InvokeFaker]
    config: Mapping[str, str] = MappingProxyType({})
    """The stack config the engine sets from an account of the cloud and a program reads, as it stands offline
    (where no secret is read): a cluster's kubeconfig."""


def _no_region(url: str) -> str | None:
    return None


def _same_region(state: str, region: str) -> bool:
    return state == region


@dataclass(frozen=True)
class StateStore:
    """How terrane's state store on a cloud is reached and where it is, read from its URLs."""

    schemes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The backend and secrets provider URL schemes of the cloud (``s3``, ``awskms``), and the environment
    variables Pulumi needs to reach each."""
    region_of: Callable[[str], str | None] = _no_region
    """The region a backend or secrets provider URL of the cloud names, if any."""
    covers: Callable[[str, str], bool] = _same_region
    """Whether a state store in the first region is in an environment's region (the second)."""
    emulator: frozenset[str] = frozenset()
    """The variables that point Pulumi at a local emulator of the store, and its dummy sign-in; passed only
    while ``emulator_host`` names a loopback address, so none reaches a stack that runs against the cloud."""
    emulator_host: str = ""
    """The variable holding the emulator's ``host:port``."""


@dataclass(frozen=True)
class Provisioner:
    """The identity terrane deploys an account's environments as, as far as the account says offline.

    Named by what the account links (a role, a client id, a reference), never by a secret.
    """

    name: str
    grants: tuple[str, ...]
    """What it may do, in words; unless ``policy`` is known."""
    limits: tuple[str, ...] = ()
    """What limits it, in words: its sign-in method, and how it is assumed."""
    policy: Mapping[str, Any] | None = None
    """The IAM policy document it is known to have (the AWS bootstrap's): then what it may do is this policy."""


def by_sign_in(account: CloudAccount, sign_in: Mapping[str, tuple[Callable[[Any], str], str | None]],
               grants: str) -> Provisioner:
    """The provisioner of a cloud ``account``: named and limited as ``sign_in`` says of its auth method (a function of
    the auth block, and a limit or None), and granted ``grants`` (its ``{scope}`` the account's scope)."""
    name, limit = sign_in[account.auth.method]
    return Provisioner(name(account.auth), (grants.format(scope=account.scope_id),), (limit,) if limit else ())


class Cloud(Protocol):
    """Everything engine code asks of one cloud."""

    @property
    def name(self) -> str:
        """The ``cloud:`` of accounts.yaml (``aws``)."""

    @property
    def plugin(self) -> Plugin: ...

    @property
    def state_store(self) -> StateStore: ...

    @property
    def fake(self) -> Fake: ...

    def provider_config(self, name: str, account: Account, region: str | None,
                        resolver: Resolver | None = None) -> dict[str, ConfigValue]:
        """Pulumi config keys for account ``name`` (``aws:region``, ``azure-native:clientSecret``, ...).

        References are resolved through ``resolver`` (default: ``secrets.resolve``), only when this is called.
        """

    def preflight(self, name: str, account: Account, resolved: Mapping[str, ConfigValue]) -> None:
        """Check account ``name``'s resolved provider config before Pulumi starts: raise one line when the cloud
        would refuse it (a linked cluster that does not answer), rather than fail in the middle of a run."""

    def sign_in_method(self, linked: Account | Registry) -> str:
        """How ``linked`` signs in, named by its method (``assume_role``, ``kubeconfig``), never by a credential."""

    def allowed_environment(self, account: Account) -> frozenset[str]:
        """The operator's environment variables a stack of ``account`` may see: those its sign-in method needs."""

    def secrets_region(self, linked: Account | Registry) -> str | None:
        """The region an ``aws_secret`` reference of ``linked`` that names none is read in."""

    def verify(self, name: str, linked: Account | Registry) -> Verification:
        """Check account (or registry) ``name`` with the cloud: ``verification.verify``'s contract."""

    def provisioner(self, account: Account) -> Provisioner:
        """The identity terrane deploys ``account``'s environments as, for ``terrane audit``."""
