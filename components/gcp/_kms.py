"""The customer-managed key both GCP components encrypt with, and the grant that lets a service use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

_ROTATION = "7776000s"  # 90 days


@dataclass(frozen=True)
class ServiceKey:
    key: gcp.kms.CryptoKey
    grant: gcp.kms.CryptoKeyIAMMember
    """What a resource encrypting with the key must depend on."""


def service_key(
    owner: pulumi.ComponentResource,
    name: str,
    *,
    project: str,
    location: str,
    key_ring_name: str,
    key_name: str,
    service_member: pulumi.Input[str],
    labels: Mapping[str, str],
) -> ServiceKey:
    """A rotating key in its own key ring, which ``service_member`` may encrypt and decrypt with.

    Services only use a key in their own location, hence one ring per location.
    """
    child = pulumi.ResourceOptions(parent=owner)
    key_ring = gcp.kms.KeyRing(f"{name}-keyring", name=key_ring_name, location=location, project=project, opts=child)
    key = gcp.kms.CryptoKey(
        f"{name}-key", name=key_name, key_ring=key_ring.id, rotation_period=_ROTATION, labels=dict(labels), opts=child
    )
    grant = gcp.kms.CryptoKeyIAMMember(
        f"{name}-key-agent",
        crypto_key_id=key.id,
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=service_member,
        opts=child,
    )
    return ServiceKey(key=key, grant=grant)
