from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pytest

from terrane.components.gcp import SecretReaderArgs, SecretStore, SecretStoreArgs
from terrane.components.gcp.secret_store import workload_principal
from terrane.engine.clouds.gcp.fake import project_number
from terrane.engine.offline.render import Rendered, render
from tests.helpers.rendered import assert_owned

PROJECT = "sandbox-project-123"
REGION = "europe-west1"
POOL = f"{PROJECT}.svc.id.goog"
NAMES = ["db-password", "api-token"]
ACCOUNTS = [("apps", "secrets-reader"), ("observability", "secrets-reader")]
KEY_ID = f"projects/{PROJECT}/locations/{REGION}/keyRings/gcp-dev-secrets/cryptoKeys/secret-manager"
LABELS = {"team": "platform"}


def _render(reader: SecretReaderArgs | None) -> Rendered:
    def program() -> None:
        provider = gcp.Provider("gcp", project=PROJECT, region=REGION)
        store = SecretStore(
            "secrets",
            SecretStoreArgs(
                project=PROJECT,
                region=REGION,
                key_ring_name="gcp-dev-secrets",
                secret_names=NAMES,
                reader=reader,
                labels=LABELS,
            ),
            pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("key_id", store.key_id)
        pulumi.export("secret_ids", store.secret_ids)

    return render(program, project="terrane", stack="test", account_id=PROJECT, region=REGION)


@pytest.fixture(scope="module")
def with_reader() -> Rendered:
    return _render(SecretReaderArgs(workload_pool=POOL, service_accounts=ACCOUNTS))


@pytest.fixture(scope="module")
def without_reader() -> Rendered:
    return _render(None)


@pytest.mark.parametrize("fixture", ["with_reader", "without_reader"])
def test_every_resource_belongs_to_the_component_and_uses_its_provider(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rendered: Rendered = request.getfixturevalue(fixture)
    assert_owned(rendered, rendered.one("terrane:gcp:SecretStore"), rendered.one("pulumi:providers:gcp"))


def test_key_rotates_and_lives_in_the_region(without_reader: Rendered) -> None:
    ring = without_reader.one("gcp:kms/keyRing:KeyRing")
    key = without_reader.one("gcp:kms/cryptoKey:CryptoKey")
    assert ring.inputs == {"name": "gcp-dev-secrets", "location": REGION, "project": PROJECT}
    assert key.inputs["keyRing"] == KEY_ID.rsplit("/cryptoKeys/", 1)[0]
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert key.inputs["labels"] == LABELS
    assert without_reader.outputs["key_id"] == KEY_ID


def test_secret_manager_agent_may_use_the_key(without_reader: Rendered) -> None:
    agent = without_reader.one("gcp:projects/serviceIdentity:ServiceIdentity")
    binding = without_reader.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert agent.inputs == {"service": "secretmanager.googleapis.com", "project": PROJECT}
    assert binding.inputs == {
        "cryptoKeyId": KEY_ID,
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": f"serviceAccount:service-{project_number(PROJECT)}@gcp-sa-secretmanager.iam.gserviceaccount.com",
    }
    assert agent.urn in binding.depends_on


def test_secrets_are_regional_cmek_protected_and_empty(without_reader: Rendered) -> None:
    binding = without_reader.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    secrets = without_reader.of_type("gcp:secretmanager/secret:Secret")
    assert sorted(s.inputs["secretId"] for s in secrets) == sorted(NAMES)
    for secret in secrets:
        assert secret.inputs["project"] == PROJECT
        assert secret.inputs["replication"] == {
            "userManaged": {
                "replicas": [{"location": REGION, "customerManagedEncryption": {"kmsKeyName": KEY_ID}}]
            }
        }
        assert secret.inputs["deletionProtection"] is True
        assert secret.inputs["labels"] == LABELS
        # The key grant must exist before Secret Manager is asked to encrypt with the key.
        assert binding.urn in secret.depends_on
    assert without_reader.of_type("gcp:secretmanager/secretVersion:SecretVersion") == []
    assert without_reader.outputs["secret_ids"] == {
        name: f"projects/{PROJECT}/secrets/{name}" for name in NAMES
    }


def test_no_accessors_without_a_reader(without_reader: Rendered) -> None:
    assert without_reader.of_type("gcp:secretmanager/secretIamMember:SecretIamMember") == []


def test_named_service_accounts_may_read_every_secret(with_reader: Rendered) -> None:
    members = with_reader.of_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    number = project_number(PROJECT)
    expected = {
        (
            f"projects/{PROJECT}/secrets/{name}",
            (
                f"principal://iam.googleapis.com/projects/{number}/locations/global"
                f"/workloadIdentityPools/{POOL}/subject/ns/{namespace}/sa/{account}"
            ),
        )
        for name in NAMES
        for namespace, account in ACCOUNTS
    }
    assert {(m.inputs["secretId"], m.inputs["member"]) for m in members} == expected
    assert len(members) == len(expected)
    secrets = {s.inputs["secretId"]: s for s in with_reader.of_type("gcp:secretmanager/secret:Secret")}
    for member in members:
        assert member.inputs["role"] == "roles/secretmanager.secretAccessor"
        assert member.inputs["project"] == PROJECT
        assert "condition" not in member.inputs
        secret = secrets[member.inputs["secretId"].rsplit("/", 1)[1]]
        assert secret.urn in member.depends_on


def test_workload_principal() -> None:
    assert workload_principal("123456789012", POOL, "apps", "reader") == (
        "principal://iam.googleapis.com/projects/123456789012/locations/global"
        f"/workloadIdentityPools/{POOL}/subject/ns/apps/sa/reader"
    )


def test_deletion_protection_can_be_lifted_before_a_destroy() -> None:
    args = SecretStoreArgs(project=PROJECT, region=REGION, key_ring_name="k", secret_names=["a"])
    assert args.deletion_protection is True
    rendered = render(
        lambda: SecretStore(
            "secrets",
            SecretStoreArgs(
                project=PROJECT,
                region=REGION,
                key_ring_name="k",
                secret_names=["a"],
                deletion_protection=False,
            ),
            pulumi.ResourceOptions(provider=gcp.Provider("gcp", project=PROJECT, region=REGION)),
        ),
        project="terrane",
        stack="test",
        account_id=PROJECT,
        region=REGION,
    )
    assert rendered.one("gcp:secretmanager/secret:Secret").inputs["deletionProtection"] is False


def test_a_store_needs_secrets() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        SecretStoreArgs(project=PROJECT, region=REGION, key_ring_name="k", secret_names=[])
