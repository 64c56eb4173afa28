"""Secrets Manager secrets for an environment, encrypted with their own rotating
KMS key, and optionally an IRSA role that lets named Kubernetes service
accounts read them.

The secrets hold no values here: values are written out of band, so they never
pass through a Pulumi program or its state."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from terrane.components.aws_iam import IAM_PATH


@dataclass(frozen=True)
class SecretReaderArgs:
    """A Kubernetes workload identity (IRSA) allowed to read the secrets."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without ``https://``."""
    service_accounts: Sequence[tuple[str, str]]
    """(namespace, service account name) pairs."""


@dataclass(frozen=True)
class SecretStoreArgs:
    secret_names: Sequence[str]
    name_prefix: str
    """Prefixes each secret's name (``aws-dev/`` gives ``aws-dev/db-password``) and names the key alias."""
    recovery_days: int
    reader: SecretReaderArgs | None = None
    permissions_boundary: str | None = None
    """The IAM policy the reader role carries as its permissions boundary."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.secret_names:
            raise ValueError("a secret store needs at least one secret name")
        if not 7 <= self.recovery_days <= 30:
            raise ValueError("Secrets Manager keeps deleted secrets for 7 to 30 days")


class SecretStore(pulumi.ComponentResource):
    key_arn: pulumi.Output[str]
    secret_arns: pulumi.Output[dict[str, str]]
    """Secret name (without the prefix) to its ARN."""
    reader_role_arn: pulumi.Output[str | None]

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("terrane:aws:SecretStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the secrets under {args.name_prefix}",
            enable_key_rotation=True,
            # The longest window, so a deleted key outlives any secret still recoverable.
            deletion_window_in_days=30,
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-key",
            name=f"alias/terrane/{args.name_prefix.strip('/')}",
            target_key_id=key.key_id,
            opts=child,
        )
        secrets = {
            secret: aws.secretsmanager.Secret(
                f"{name}-{secret}",
                name=f"{args.name_prefix}{secret}",
                kms_key_id=key.arn,
                recovery_window_in_days=args.recovery_days,
                tags=tags,
                opts=child,
            )
            for secret in args.secret_names
        }

        self.key_arn = key.arn
        self.secret_arns = pulumi.Output.all(**{secret: s.arn for secret, s in secrets.items()})
        self.reader_role_arn = (
            self._reader(name, args, args.reader, key, list(secrets.values()), tags).arn
            if args.reader is not None
            else pulumi.Output.from_input(None)
        )
        self.register_outputs(
            {
                "key_arn": self.key_arn,
                "secret_arns": self.secret_arns,
                "reader_role_arn": self.reader_role_arn,
            }
        )

    def _reader(
        self,
        name: str,
        args: SecretStoreArgs,
        reader: SecretReaderArgs,
        key: aws.kms.Key,
        secrets: Sequence[aws.secretsmanager.Secret],
        tags: Mapping[str, str],
    ) -> aws.iam.Role:
        child = pulumi.ResourceOptions(parent=self)
        subjects = [f"system:serviceaccount:{namespace}:{sa}" for namespace, sa in reader.service_accounts]
        role = aws.iam.Role(
            f"{name}-reader",
            path=IAM_PATH,
            permissions_boundary=args.permissions_boundary,
            assume_role_policy=pulumi.Output.all(reader.oidc_provider_arn, reader.oidc_issuer).apply(
                lambda values: _web_identity_trust(values[0], values[1], subjects)
            ),
            tags=dict(tags),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-reader",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                            "Resource": [secret.arn for secret in secrets],
                        },
                        {
                            "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": key.arn,
                            # The key decrypts only on behalf of Secrets Manager, not for direct calls.
                            "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
                        },
                    ],
                }
            ),
            opts=child,
        )
        return role


def _web_identity_trust(provider_arn: str, issuer: str, subjects: Sequence[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:aud": "sts.amazonaws.com",
                            f"{issuer}:sub": list(subjects),
                        }
                    },
                }
            ],
        }
    )
