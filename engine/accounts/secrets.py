"""Secret references: parsing them from the command line, and resolving them when an operation needs them.

A resolved value is a ``Secret``, whose repr and str are ``[secret]``: it can
be logged, put in an exception or an f-string by mistake and still not leak.
Messages name the reference (``env:NAME``), never its value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.files import RefusedFileError, read_regular
from terrane.stacks.spec.references import AwsSecretRef, EnvRef, FileRef, Reference

MASK = "[secret]"
SECRET_FILE_LIMIT = 16 << 20
"""The largest file a secret reference (a key, a kubeconfig) or a kubeconfig's certificate may be: 16 MiB."""


class Secret:
    """A resolved secret value that masks itself everywhere but ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


REFERENCE_SYNTAX = "env:NAME, file:PATH or aws-secret:NAME_OR_ARN[#key]"


def parse_reference(text: str) -> Reference:
    """``env:NAME``, ``file:PATH`` or ``aws-secret:NAME_OR_ARN[#key]``, as typed on a command line."""
    kind, separator, rest = text.partition(":")
    if not separator or not rest:
        raise InvalidInputError(f"not a secret reference: expected {REFERENCE_SYNTAX}")
    try:
        if kind == "env":
            return EnvRef(env=rest)
        if kind == "file":
            return FileRef(file=rest)
        if kind == "aws-secret":
            name, _, key = rest.partition("#")
            return AwsSecretRef(aws_secret=name, key=key or None)
    except ValueError:
        raise InvalidInputError(f"'{kind}:' reference is malformed: expected {REFERENCE_SYNTAX}") from None
    raise InvalidInputError(f"unknown kind of secret reference '{kind}:': expected {REFERENCE_SYNTAX}")


def resolve(reference: Reference, *, region: str | None = None) -> Secret:
    """The value behind ``reference``; ``region`` is where an ``aws-secret`` lives unless it says.

    An unresolvable reference is invalid input: nothing has run yet.
    """
    if isinstance(reference, EnvRef):
        value = os.environ.get(reference.env)
        if not value:
            raise InvalidInputError(f"secret reference {reference}: the environment variable {reference.env} is not set")
        return Secret(value)
    if isinstance(reference, FileRef):
        path = Path(reference.file).expanduser()
        try:
            return Secret(read_regular(path, SECRET_FILE_LIMIT).decode("utf-8").strip())
        except OSError as exc:
            raise InvalidInputError(f"secret reference {reference}: cannot read {path}: {exc.strerror}") from None
        except RefusedFileError as exc:
            raise InvalidInputError(f"secret reference {reference}: cannot read {path}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"secret reference {reference}: {path} is not UTF-8 text "
                                    f"(byte {exc.start})") from None
    return _aws_secret(reference, region)


def _aws_secret(reference: AwsSecretRef, region: str | None) -> Secret:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    region = reference.region or region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise InvalidInputError(f"secret reference {reference}: no region; add region: to the reference or set AWS_REGION")
    try:
        answer = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=reference.aws_secret)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "InvalidRequestException"):
            # InvalidRequestException: the secret is scheduled for deletion.
            raise InvalidInputError(
                f"secret reference {reference}: no such secret in {region} (or it is scheduled for deletion)"
            ) from None
        raise EngineError(f"secret reference {reference}: AWS Secrets Manager refused: {code}") from None
    except BotoCoreError as exc:
        raise EngineError(f"secret reference {reference}: cannot reach AWS Secrets Manager: {exc}") from None
    value = answer.get("SecretString")
    if value is None:
        raise InvalidInputError(f"secret reference {reference}: the secret holds binary data, not a string")
    return Secret(_select(reference, value) if reference.key else value)


def _select(reference: AwsSecretRef, value: str) -> str:
    try:
        document: Any = json.loads(value)
    except json.JSONDecodeError:
        raise InvalidInputError(f"secret reference {reference}: the secret is not JSON, so it has no key") from None
    if not isinstance(document, dict) or reference.key not in document:
        raise InvalidInputError(f"secret reference {reference}: the secret has no key '{reference.key}'")
    return str(document[reference.key])
