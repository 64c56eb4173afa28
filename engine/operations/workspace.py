"""Where an environment's stack lives, and what the Pulumi CLI running it may see.

- Backend: ``TERRANE_BACKEND_URL`` (``s3://``, ``gs://``, ``azblob://``, Pulumi
  Cloud), else Pulumi's file backend at ``<project>/.terrane/state``.
- Secrets provider: ``TERRANE_SECRETS_PROVIDER`` (``awskms://``,
  ``azurekeyvault://``, ``gcpkms://``), else a passphrase: the operator's
  ``PULUMI_CONFIG_PASSPHRASE`` (or ``_FILE``), else a generated
  ``<project>/.terrane/passphrase`` (mode 0600) handed over as a file.
- Environment: built from an allow-list. Credentials of another cloud never
  reach a stack; the stack's own cloud's ambient credentials pass only when
  its auth method needs them (the base identity of an assumed role, a profile).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from terrane.engine import clouds
from terrane.engine.files import create_private
from terrane.engine.project import Project
from terrane.engine.store.backends import open_store
from terrane.engine.store.environ import BASE, chosen
from terrane.engine.store.objects import Conflict, StoreError
from terrane.engine.store.paths import BACKEND_ENV, PASSPHRASE_FILE, SECRETS_PROVIDER_ENV, STATE_DIR
from terrane.stacks.spec.accounts import Account
from terrane.stacks.standard import INCARNATION_KEY

if TYPE_CHECKING:
    from pulumi import automation as auto

DIGEST_KEY = "terrane:configDigest"

# What Pulumi Cloud, a backend of no cloud's, needs to be reached; each cloud says what its state store needs
# (``Cloud.state_store``).
_PULUMI_CLOUD = {"https": frozenset({"PULUMI_ACCESS_TOKEN"})}


@dataclass(frozen=True)
class Backend:
    """Where state lives and how secrets in it are encrypted, as the CLI's environment says it."""

    url: str
    secrets_provider: str
    env: dict[str, str]

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file://")

    @property
    def holds_no_stack(self) -> bool:
        """True when the backend is the project's own state directory and it does not exist yet."""
        return self.is_local and not Path(urllib.parse.unquote(urllib.parse.urlparse(self.url).path)).is_dir()


def backend(project: Project, environ: Mapping[str, str] = os.environ, *, create: bool = True) -> Backend:
    """The backend the project's stacks use; ``create=False`` (reading only) makes no directory or passphrase."""
    state = project.root / STATE_DIR
    url = environ.get(BACKEND_ENV) or _file_backend(state, create)
    provider = environ.get(SECRETS_PROVIDER_ENV) or "passphrase"
    env = {"PULUMI_BACKEND_URL": url}
    if provider == "passphrase":
        if "PULUMI_CONFIG_PASSPHRASE_FILE" in environ:
            env["PULUMI_CONFIG_PASSPHRASE_FILE"] = environ["PULUMI_CONFIG_PASSPHRASE_FILE"]
        elif "PULUMI_CONFIG_PASSPHRASE" in environ:
            env["PULUMI_CONFIG_PASSPHRASE"] = environ["PULUMI_CONFIG_PASSPHRASE"]
        else:
            env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase_file(state) if create else state / PASSPHRASE_FILE)
    return Backend(url=url, secrets_provider=provider, env=env)


def _file_backend(state: Path, create: bool) -> str:
    directory = state / "state"
    if create:
        directory.mkdir(parents=True, exist_ok=True)
    return directory.as_uri()


def passphrase_file(state: Path) -> Path:
    """The project's generated passphrase, created once with mode 0600."""
    return create_private(state / PASSPHRASE_FILE)


def config_digest(project: Project, backend: Backend, config: Mapping[str, tuple[str, bool]], *,
                  create: bool) -> str | None:
    """A keyed digest of the config terrane sets on a stack: ``{key: (value, secret)}``.

    Kept in plain in ``Pulumi.<env>.yaml`` (``DIGEST_KEY``), it says whether
    the account's config is already on the stack without decrypting its
    secrets, which takes the CLI about a third of a second per stack. The key
    is a random ``config-key`` in the shared store (``.terrane/config-key``
    beside a file backend's state, else in the backend's bucket), made once,
    so every machine computes the same digest and none rewrites the file, and
    the digest tells nothing about a secret to anyone without it. Without a
    key (none made yet and ``create`` False, or a store that cannot be
    reached) there is no digest, and the stack's config is compared value by
    value.
    """
    try:
        key = _config_key(project.root, backend.url, create)
    except StoreError:
        key = None  # the stack's config is compared value by value; Pulumi says what is wrong with the backend
    if key is None:
        return None
    canonical = json.dumps(sorted((name, *entry) for name, entry in config.items()))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


_CONFIG_KEY = "config-key"


_config_keys: dict[tuple[Path, str], bytes] = {}


def _config_key(root: Path, backend_url: str, create: bool) -> bytes | None:
    """The shared store's config key, read once per process; made if asked (write-once: the first maker's stands)."""
    if (root, backend_url) not in _config_keys:
        store = open_store(root, backend_url)
        key = store.get(_CONFIG_KEY)
        if key is None and create:
            try:
                store.create(_CONFIG_KEY, secrets.token_urlsafe(32).encode())
            except Conflict:
                pass  # another machine made it first: theirs stands
            key = store.get(_CONFIG_KEY)
        if key is None:
            return None
        _config_keys[root, backend_url] = key
    return _config_keys[root, backend_url]


def allowed_environment(account: Account, backend: Backend, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment the stack's Pulumi CLI (and its program) runs with: the account's cloud says which of the
    operator's credentials its sign-in method needs (``Cloud.allowed_environment``)."""
    names = BASE | clouds.of(account).allowed_environment(account) | _backend_names(backend, environ)
    # Python dynamic providers run under the Python that runs terrane, which has the Pulumi SDK.
    return {**chosen(environ, names), **backend.env, "PULUMI_PYTHON_CMD": sys.executable}


def backend_environment(backend: Backend, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment of a Pulumi CLI that only reads the backend (``stack ls``): no account's credentials."""
    return {**chosen(environ, BASE | _backend_names(backend, environ)), **backend.env}


def _backend_names(backend: Backend, environ: Mapping[str, str]) -> set[str]:
    """The variables Pulumi needs to reach the backend and secrets provider; an emulator's only on loopback."""
    used = {url.split("://", 1)[0] for url in (backend.url, backend.secrets_provider)}
    found: set[str] = set().union(*(_PULUMI_CLOUD.get(scheme, frozenset()) for scheme in used))
    for cloud in clouds.every():
        store = cloud.state_store
        for scheme in used & set(store.schemes):
            found |= store.schemes[scheme]
            if store.emulator and _loopback(environ.get(store.emulator_host, "")):
                found |= store.emulator
    return found


def _loopback(address: str) -> bool:
    """Whether ``host:port`` (or a URL) names this machine: 127.0.0.0/8, ::1 or localhost."""
    host = urllib.parse.urlsplit(address if "://" in address else f"//{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_stack(
    project: Project,
    name: str,
    program: Callable[[], None],
    *,
    secrets_provider: str,
    pulumi_root: str | None = None,
    create: bool = True,
) -> tuple[auto.Stack, bool]:
    """The environment's stack, with the project directory as its work dir, and whether this call made it.

    The backend and passphrase come from this process's environment, which the
    driver built with ``backend`` and ``allowed_environment``. A stack that
    ``create`` makes starts with an incarnation (``renew_incarnation``).
    """
    from pulumi import automation as auto

    options = auto.LocalWorkspaceOptions(
        work_dir=str(project.root),
        secrets_provider=secrets_provider,
        pulumi_command=pulumi_command(pulumi_root),
    )
    try:
        return auto.select_stack(stack_name=name, project_name=project.pulumi_project, program=program,
                                 opts=options), False
    except auto.StackNotFoundError:
        if not create:
            raise
    stack = auto.create_stack(stack_name=name, project_name=project.pulumi_project, program=program, opts=options)
    renew_incarnation(stack)
    return stack, True


def renew_incarnation(stack: auto.Stack) -> None:
    """Give the stack a new incarnation (``INCARNATION_KEY``), in plain: when it is created, and after a destroy.

    Resources a cloud never deletes (GCP key rings) carry it in their names, so
    an environment made again under the same name does not meet its old ones.
    """
    from pulumi import automation as auto

    stack.set_all_config({INCARNATION_KEY: auto.ConfigValue(secrets.token_hex(4))})


@functools.cache
def pulumi_command(root: str | None) -> auto.PulumiCommand:
    """The CLI under ``root`` (else on PATH), its version checked once per process (and once per fork server)."""
    from pulumi import automation as auto

    return auto.PulumiCommand(root=root) if root else auto.PulumiCommand()


def apply_config(stack: auto.Stack, config: Mapping[str, auto.ConfigValue], *, digest: str | None,
                 read_only: bool) -> bool:
    """Set the stack's config (path keys such as ``aws:assumeRoles[0].roleArn``) where it differs.

    Pulumi keeps config in ``Pulumi.<stack>.yaml``; setting it again would
    re-encrypt every secret and rewrite the file, so an unchanged account
    leaves the file as it is. A matching ``digest`` (``config_digest``) says
    so from the file alone; else the stack's config is read and compared, and
    written with the digest when it differs, or, unless ``read_only``, when
    only the digest is missing. Returns whether anything was written.
    """
    from pulumi import automation as auto

    if digest is not None and _settings(stack).get(DIGEST_KEY) == digest:
        return False
    current = stack.get_all_config()
    holds = all(_holds(current, key, value) for key, value in config.items())
    # Values that hold are never written again: only a stack without a digest gets one (once, not read-only).
    if holds and (read_only or digest is None or DIGEST_KEY in _settings(stack)):
        return False
    stack.set_all_config({**config, **({DIGEST_KEY: auto.ConfigValue(digest)} if digest else {})}, path=True)
    return True


def _settings(stack: auto.Stack) -> dict[str, object]:
    """The plain config of ``Pulumi.<stack>.yaml``, read from the file (no CLI, no decryption)."""
    try:
        config = stack.workspace.stack_settings(stack.name).config
    except FileNotFoundError:
        return {}
    return dict(config or {})


def _holds(current: Mapping[str, auto.ConfigValue], key: str, wanted: auto.ConfigValue) -> bool:
    """Whether ``current`` has ``wanted`` at the path ``key`` (secret if it must be)."""
    from terrane.engine.drift.properties import property_path, value_at

    namespace, _, path = key.partition(":")
    keys = property_path(path) or [path]
    top = current.get(f"{namespace}:{keys[0]}")
    if top is None or (wanted.secret and not top.secret):
        return False
    if len(keys) == 1:
        return top.value == wanted.value
    try:
        structured = json.loads(top.value)
    except ValueError:
        return False
    return bool(value_at(structured, keys[1:]) == wanted.value)
