"""Secret Manager secrets for an environment, kept in its region and encrypted
with their own rotating KMS key (CMEK), and optionally readable by named
Kubernetes service accounts through GKE workload identity federation.

The secrets hold no values here: values are written out of band, so they never
pass through a Pulumi program or its state."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from terrane.components.gcp._kms import service_key


@dataclass(frozen=True)
class SecretReaderArgs:
    """Kubernetes workloads allowed to read the secrets (GKE workload identity federation)."""

    workload_pool: pulumi.Input[str]
    """``<project>.svc.id.goog``, of a cluster in the store's project."""
    service_accounts: Sequence[tuple[str, str]]
    """(namespace, service account name) pairs."""


@dataclass(frozen=True)
class SecretStoreArgs:
    project: str
    region: str
    """Where the secrets are replicated and their key lives."""
    key_ring_name: str
    """Physical name of the KMS key ring for the CMEK. Key rings cannot be deleted."""
    secret_names: Sequence[str]
    secret_id_prefix: str = ""
    """Prepended to each secret's id: secret ids are unique per project, not per environment."""
    reader: SecretReaderArgs | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    deletion_protection: bool = True
    """While on, deleting a secret (and so destroying the store) fails; turn off with an update first."""

    def __post_init__(self) -> None:
        if not self.secret_names:
            raise ValueError("a secret store needs at least one secret name")


class SecretStore(pulumi.ComponentResource):
    key_id: pulumi.Output[str]
    secret_ids: pulumi.Output[dict[str, str]]
    """Secret name to its resource id, ``projects/<project>/secrets/<prefix><name>``."""

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:gcp:SecretStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)

        # Secret Manager encrypts as its service agent, which exists only once asked for.
        agent = gcp.projects.ServiceIdentity(
            f"{name}-agent",
            project=args.project,
            service="secretmanager.googleapis.com",
            opts=child,
        )
        cmek = service_key(
            self,
            f"{name}-secrets",
            project=args.project,
            location=args.region,
            key_ring_name=args.key_ring_name,
            key_name="secret-manager",
            service_member=agent.member,
            labels=labels,
        )
        secrets = {
            secret: gcp.secretmanager.Secret(
                f"{name}-{secret}",
                secret_id=f"{args.secret_id_prefix}{secret}",
                project=args.project,
                replication=_replication(args.region, cmek.key.id),
                deletion_protection=args.deletion_protection,
                labels=labels,
                # Creating a CMEK secret fails until the service agent may use the key.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cmek.grant]),
            )
            for secret in args.secret_names
        }

        if args.reader is not None:
            self._reader(name, args, args.reader, secrets)

        self.key_id = cmek.key.id
        self.secret_ids = pulumi.Output.all(**{secret: s.id for secret, s in secrets.items()})
        self.register_outputs({"key_id": self.key_id, "secret_ids": self.secret_ids})

    def _reader(
        self,
        name: str,
        args: SecretStoreArgs,
        reader: SecretReaderArgs,
        secrets: Mapping[str, gcp.secretmanager.Secret],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        project_number = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number
        for namespace, account in reader.service_accounts:
            member = pulumi.Output.all(project_number, reader.workload_pool).apply(
                functools.partial(_member, namespace=namespace, service_account=account)
            )
            for secret_name, secret in secrets.items():
                gcp.secretmanager.SecretIamMember(
                    f"{name}-{secret_name}-{namespace}-{account}",
                    project=args.project,
                    secret_id=secret.id,
                    role="roles/secretmanager.secretAccessor",
                    member=member,
                    opts=child,
                )


def _replication(region: str, key_id: pulumi.Input[str]) -> gcp.secretmanager.SecretReplicationArgs:
    # One replica, in the environment's region, so the data stays where the key is.
    sm = gcp.secretmanager
    return sm.SecretReplicationArgs(
        user_managed=sm.SecretReplicationUserManagedArgs(
            replicas=[
                sm.SecretReplicationUserManagedReplicaArgs(
                    location=region,
                    customer_managed_encryption=sm.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                        kms_key_name=key_id,
                    ),
                )
            ]
        )
    )


def _member(values: Sequence[str], namespace: str, service_account: str) -> str:
    project_number, workload_pool = values
    return workload_principal(project_number, workload_pool, namespace, service_account)


def workload_principal(project_number: str, workload_pool: str, namespace: str, service_account: str) -> str:
    """The IAM principal of a Kubernetes service account under workload identity federation.

    Granting roles to it directly means the Kubernetes service account needs no
    annotation and no Google service account stands in between.
    """
    return (
        f"principal://iam.googleapis.com/projects/{project_number}/locations/global"
        f"/workloadIdentityPools/{workload_pool}/subject/ns/{namespace}/sa/{service_account}"
    )
