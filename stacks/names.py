"""Physical names for clouds whose rules are tighter than an environment's name.

Names are deterministic: the same environment in the same account always gets
the same names; those of resources a cloud never deletes also carry the
stack's incarnation (``stacks.standard.INCARNATION_KEY``). Where a name must be
globally unique (Key Vault, storage accounts), a short digest of the account
scope keeps two accounts' "dev" environments apart; where a name is too long,
it is cut and a digest of the full name keeps it distinct.
"""

from __future__ import annotations

import hashlib
import re


def digest(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def bounded(name: str, limit: int) -> str:
    """``name`` when it fits in ``limit`` characters, else a prefix and a digest of it."""
    if len(name) <= limit:
        return name
    suffix = digest(name)
    return f"{name[: limit - len(suffix) - 1].rstrip('-')}-{suffix}"


def globally_unique(name: str, limit: int, scope: str, *, hyphens: bool = True) -> str:
    """``name`` plus a digest of ``scope``, within ``limit``; without hyphens if the cloud forbids them."""
    suffix = digest(scope, name)
    if not hyphens:
        name = re.sub(r"[^a-z0-9]", "", name.lower())
        return f"{name[: limit - len(suffix)]}{suffix}"
    return f"{name[: limit - len(suffix) - 1].rstrip('-')}-{suffix}"


def key_vault(env: str, subscription_id: str) -> str:
    """3-24 letters, digits and single hyphens, starting with a letter; unique in Azure."""
    return globally_unique(re.sub(r"-+", "-", f"kv-{env}"), 24, subscription_id)


def storage_account(env: str, purpose: str, subscription_id: str) -> str:
    """3-24 lowercase letters and digits; unique in Azure."""
    return globally_unique(f"{purpose}{env}", 24, subscription_id, hyphens=False)


def gke_cluster(env: str) -> str:
    """RFC 1035, at most 40 characters."""
    return bounded(env, 40)


def gcp_service_account(env: str, purpose: str) -> str:
    """6-30 characters: a lowercase letter, then letters, digits and hyphens."""
    return bounded(f"{env}-{purpose}", 30)


def gcp_key_ring(env: str, purpose: str, incarnation: str | None) -> str:
    """1-63 letters, digits, hyphens and underscores, one per incarnation: GCP never deletes a key ring.

    Without an incarnation, the name of a stack made before terrane gave stacks
    one, so its key rings stay where they are.
    """
    return bounded(f"{env}-{purpose}" if incarnation is None else f"{env}-{purpose}-{incarnation}", 63)
