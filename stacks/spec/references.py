"""Secret references: where a secret is kept (``{env: NAME}``, ``{file: PATH}``, ``{aws_secret: NAME}``), never its value."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from terrane.stacks.spec import Spec, matching
from terrane.stacks.spec.regions import AwsRegion


class EnvRef(Spec):
    env: Annotated[str, matching(r"[A-Za-z_][A-Za-z0-9_]*",
                                 "must be an environment variable's name: letters, digits and '_', "
                                 "not starting with a digit")]

    def __str__(self) -> str:
        return f"env:{self.env}"


class FileRef(Spec):
    file: Annotated[str, StringConstraints(min_length=1)]

    def __str__(self) -> str:
        return f"file:{self.file}"


class AwsSecretRef(Spec):
    aws_secret: Annotated[str, matching(r"[A-Za-z0-9/_+=.@:-]+",
                                        "must be a secret's name or ARN: letters, digits and any of /_+=.@:-")]
    key: Annotated[str, StringConstraints(min_length=1)] | None = None
    """Selects one key of a JSON secret."""
    region: AwsRegion | None = None

    def __str__(self) -> str:
        return f"aws-secret:{self.aws_secret}" + (f"#{self.key}" if self.key else "")


_REF_TYPES: dict[str, type[Spec]] = {"env": EnvRef, "file": FileRef, "aws_secret": AwsSecretRef}


def _secret_reference(value: Any) -> Any:
    if isinstance(value, Spec):
        return value
    if not isinstance(value, dict):
        # Never include the value: it is probably the secret itself.
        raise PydanticCustomError(
            "plain_secret",
            "a secret must be a reference ({env: NAME}, {file: PATH} or {aws_secret: NAME}), "
            "not a plain value; the value was not saved or shown",
        )
    kinds = [key for key in _REF_TYPES if key in value]
    if len(kinds) != 1:
        raise PydanticCustomError(
            "secret_reference", "a secret reference has exactly one of env, file, aws_secret"
        )
    return _REF_TYPES[kinds[0]].model_validate(value)


SecretRef = Annotated[EnvRef | FileRef | AwsSecretRef, BeforeValidator(_secret_reference)]
Reference = EnvRef | FileRef | AwsSecretRef


def _value_or_reference(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        # An unquoted value YAML read as a number or a boolean: not shown either, in case it is a secret.
        raise PydanticCustomError("quote", "YAML read it as a number or true/false: write the value in quotes, or "
                                           "give a reference; the value was not shown")
    return value if isinstance(value, str) else _secret_reference(value)


# A value that is not secret in itself but may be kept out of the file (AWS external id).
ValueOrSecretRef = Annotated[str | EnvRef | FileRef | AwsSecretRef, BeforeValidator(_value_or_reference)]
