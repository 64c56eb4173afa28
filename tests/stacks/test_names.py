import re

import pytest

from terrane.stacks import names

LONGEST = "a" + "b-c" * 12 + "defghi"  # 43 characters: longer than any cloud's limit but AKS's
SHORT = "ab"
SUBSCRIPTION = "22222222-2222-2222-2222-222222222222"

KEY_VAULT = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
STORAGE = re.compile(r"^[a-z0-9]{3,24}$")
RFC1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
SERVICE_ACCOUNT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


@pytest.mark.parametrize("env", [SHORT, "aws-dev", "payments-prod-eu", LONGEST[:40]])
def test_derived_names_follow_each_cloud_rules(env: str) -> None:
    assert KEY_VAULT.match(names.key_vault(env, SUBSCRIPTION))
    assert STORAGE.match(names.storage_account(env, "flowlogs", SUBSCRIPTION))
    cluster = names.gke_cluster(env)
    assert RFC1035.match(cluster) and len(cluster) <= 40
    assert SERVICE_ACCOUNT.match(names.gcp_service_account(env, "nodes"))


def test_names_are_deterministic_and_scoped() -> None:
    assert names.key_vault("dev", SUBSCRIPTION) == names.key_vault("dev", SUBSCRIPTION)
    assert names.key_vault("dev", SUBSCRIPTION) != names.key_vault("dev", "33333333-3333-3333-3333-333333333333")


def test_cut_names_stay_distinct() -> None:
    first, second = "x" * 45 + "1", "x" * 45 + "2"
    assert names.bounded(first, 40) != names.bounded(second, 40)
    assert len(names.bounded(first, 40)) == 40
    assert names.bounded("short", 40) == "short"


KEY_RING = re.compile(r"^[a-zA-Z0-9_-]{1,63}$")


@pytest.mark.parametrize("env", [SHORT, "gcp-dev", LONGEST[:40]])
@pytest.mark.parametrize("purpose", ["gke", "secrets"])
def test_key_rings_are_named_per_incarnation(env: str, purpose: str) -> None:
    named = names.gcp_key_ring(env, purpose, "0a1b2c3d")
    assert named == f"{env}-{purpose}-0a1b2c3d" and KEY_RING.match(named)
    assert names.gcp_key_ring(env, purpose, "4e5f6a7b") != named
    # A stack made before incarnations keeps the name it has always had.
    assert names.gcp_key_ring(env, purpose, None) == names.bounded(f"{env}-{purpose}", 63) == f"{env}-{purpose}"


def test_a_long_incarnation_still_fits_a_key_ring() -> None:
    first, second = (names.gcp_key_ring(LONGEST[:40], "secrets", str(n) * 30) for n in (1, 2))
    assert KEY_RING.match(first) and len(first) == 63 and first != second
