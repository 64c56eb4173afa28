"""What an AWS account attaches to its environments' stacks: Pulumi's provider config, and the operator's
environment variables its sign-in method needs; how ``terrane audit`` words the identity it signs in as; and
how terrane's state store on AWS is reached.

The provider config is a pure mapping from the account (and the environment's
region) to Pulumi's own config keys. Secret values are ``Secret`` objects.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from terrane.engine.accounts.secrets import Secret
from terrane.engine.clouds.base import ConfigValue, Resolver, StateStore
from terrane.stacks.spec.accounts import AwsAccount

# The ambient credential chain of the AWS SDKs (and of Pulumi's AWS provider).
CHAIN = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_STS_REGIONAL_ENDPOINTS",
})
ENDPOINTS = frozenset({"AWS_CA_BUNDLE", "AWS_ENDPOINT_URL"})
FILES = frozenset({"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"})
# Ambient credentials, by the auth method that needs them: the base identity of an assumed role, a profile.
BY_AUTH = {"assume_role": CHAIN | ENDPOINTS, "profile": FILES | ENDPOINTS, "static": ENDPOINTS}

# How terrane audit words the provisioner, by auth method: what names it (never a secret, which stays a
# reference), and what limits it, if anything.
SIGN_IN: dict[str, tuple[Callable[[Any], str], str | None]] = {
    "assume_role": (lambda auth: auth.assume_role.role_arn, "short-lived sessions of an assumed role"),
    "profile": (lambda auth: f"the identity of AWS profile {auth.profile}", None),
    "static": (lambda auth: "the IAM user of a static access key",
               "long-lived keys: rotate them, or link a role (assume_role) instead"),
}
GRANTS = ("its own IAM policies, which terrane cannot see offline; the bootstrap's provisioner policy "
          "(terrane accounts bootstrap aws) is what terrane needs")

_KMS_ARN_REGION = re.compile(r"arn:[\w-]+:kms:([a-z0-9-]+):", re.ASCII)


def provider_config(account: AwsAccount, region: str, resolver: Resolver) -> dict[str, ConfigValue]:
    """``aws:region``, and the sign-in: ``aws:assumeRoles``, ``aws:profile`` or the static keys (secret)."""
    config: dict[str, ConfigValue] = {"aws:region": region}
    auth = account.auth
    if auth.assume_role:
        role = auth.assume_role
        config["aws:assumeRoles[0].roleArn"] = role.role_arn
        config["aws:assumeRoles[0].sessionName"] = role.session_name
        if role.external_id is not None:
            external_id = role.external_id
            # Kept secret even when written in plain: it guards the role against confused deputies.
            config["aws:assumeRoles[0].externalId"] = (
                Secret(external_id) if isinstance(external_id, str) else resolver(external_id)
            )
    elif auth.profile:
        config["aws:profile"] = auth.profile
    elif auth.static:
        config["aws:accessKey"] = resolver(auth.static.access_key_id)
        config["aws:secretKey"] = resolver(auth.static.secret_access_key)
    return config


def _state_region(url: str) -> str | None:
    """The region of ``s3://B?region=R``, ``awskms://K?region=R`` or ``awskms:///arn:aws:kms:R:...``."""
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.parse_qs(parsed.query).get("region")
    arn = _KMS_ARN_REGION.search(parsed.path)
    return query[0].lower() if query else arn[1] if arn else None


STATE_STORE = StateStore(schemes={"s3": CHAIN | ENDPOINTS, "awskms": CHAIN | ENDPOINTS}, region_of=_state_region)
