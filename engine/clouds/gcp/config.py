"""What a GCP project attaches to its environments' stacks: Pulumi's provider config, and the operator's
environment variables its sign-in method needs; how ``terrane audit`` words the identity it signs in as; and
how terrane's state store on GCP is reached."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from terrane.engine.clouds.base import ConfigValue, Resolver, StateStore
from terrane.stacks.spec.accounts import GcpAccount

AMBIENT = frozenset({"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG"})
# Ambient credentials, by the auth method that needs them.
BY_AUTH = {"service_account_key": frozenset(), "impersonate": AMBIENT, "application_default": AMBIENT}

# How terrane audit words the provisioner, by auth method: what names it (never a secret, which stays a
# reference), and what limits it, if anything.
SIGN_IN: dict[str, tuple[Callable[[Any], str], str | None]] = {
    "service_account_key": (lambda auth: "the service account of a key file",
                            "a long-lived key: rotate it, or impersonate the service account instead"),
    "impersonate": (lambda auth: auth.impersonate.service_account,
                    "short-lived tokens of an impersonated service account"),
    "application_default": (lambda auth: "the application default credentials' identity", None),
}
GRANTS = ("its IAM roles in project {scope}, which terrane cannot see offline: it creates the resources and IAM "
          "bindings listed here")

_LOCATION = re.compile(r"projects/[^/]+/locations/([^/]+)/")


def provider_config(account: GcpAccount, region: str, resolver: Resolver) -> dict[str, ConfigValue]:
    """``gcp:project`` and ``gcp:region``, and the key (secret) or the service account to impersonate."""
    config: dict[str, ConfigValue] = {"gcp:project": account.project, "gcp:region": region}
    auth = account.auth
    if auth.service_account_key:
        config["gcp:credentials"] = resolver(auth.service_account_key)
    elif auth.impersonate:
        config["gcp:impersonateServiceAccount"] = auth.impersonate.service_account
    return config


def _state_region(url: str) -> str | None:
    """The location of a ``gcpkms://projects/P/locations/L/...`` key; a bucket's URL names none."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "gcpkms":
        return None
    location = _LOCATION.search(f"{parsed.netloc}{parsed.path}/")
    # A global key ring says nothing of where the state is.
    return location[1].lower() if location and location[1] != "global" else None


def _covers(state: str, region: str) -> bool:
    """A multi-region (``europe``) covers its own regions."""
    return region == state or region.startswith(f"{state}-")


# A fake GCS server (tests): where it listens, and the token Pulumi's gs:// backend then signs in with.
STATE_STORE = StateStore(schemes={"gs": AMBIENT, "gcpkms": AMBIENT}, region_of=_state_region, covers=_covers,
                         emulator=frozenset({"STORAGE_EMULATOR_HOST", "GOOGLE_OAUTH_ACCESS_TOKEN"}),
                         emulator_host="STORAGE_EMULATOR_HOST")
