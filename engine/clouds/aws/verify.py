"""Verifying an AWS account: STS reports who the credentials belong to (after assuming the role, when that is
the method) and which account that is. ``sign_in`` is shared with the ECR registry's verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from terrane.engine.clouds.aws.bootstrap import EXTERNAL_ID
from terrane.engine.clouds.results import Verification
from terrane.engine.clouds.verification import Check
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.stacks.spec.accounts import AwsAccount
from terrane.stacks.spec.references import Reference
from terrane.stacks.spec.registries import EcrRegistry

if TYPE_CHECKING:
    import boto3


def verify_account(check: Check, account: AwsAccount) -> Verification:
    _, caller, note = sign_in(check, account)
    if caller["Account"] != account.account_id:
        raise check.error(
            EngineError,
            f"AWS reports account {caller['Account']} for {caller['Arn']}, "
            f"but accounts.yaml says {account.account_id}",
        )
    return Verification(
        account=check.name,
        cloud="aws",
        verified=True,
        identity=caller["Arn"],
        account_id=caller["Account"],
        note=note,
    )


def sign_in(check: Check, account: AwsAccount | EcrRegistry) -> tuple[boto3.Session, dict[str, str], str | None]:
    """A session as the identity of ``account``, STS's caller identity of it, and "assumed from BASE" for a role."""
    import boto3
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    auth = account.auth
    # Resolve every reference before calling AWS: a missing one is invalid input, and nothing has run.
    external_id: str | None = None
    if auth.assume_role is not None:
        external_id = _external_id(check, auth.assume_role.external_id)
        session = boto3.Session(region_name=account.region)
        base = "the base identity (your own AWS credentials, which assume the role)"
        hint = (
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or use an instance role"
        )
    elif auth.profile is not None:
        try:
            session = boto3.Session(profile_name=auth.profile, region_name=account.region)
        except ProfileNotFound:
            raise check.error(
                InvalidInputError,
                f"auth.profile: no AWS profile '{auth.profile}' in the AWS config files; "
                f"create it with `aws configure --profile {auth.profile}`",
            ) from None
        base = f"AWS profile '{auth.profile}'"
        hint = f"run `aws configure --profile {auth.profile}` or `aws sso login --profile {auth.profile}`"
    else:
        assert auth.static is not None
        key_id = check.resolve(auth.static.access_key_id)
        secret_key = check.resolve(auth.static.secret_access_key)
        session = boto3.Session(
            aws_access_key_id=key_id.reveal(),
            aws_secret_access_key=secret_key.reveal(),
            region_name=account.region,
        )
        base = f"the static keys ({auth.static.access_key_id}, {auth.static.secret_access_key})"
        hint = "check the keys behind those references; they may be deactivated or deleted"

    try:
        caller = _caller_identity(check, session, base, hint)
        note = None
        if auth.assume_role is not None:
            session = _assume_role(check, session, account, external_id, caller["Arn"])
            note = f"assumed from {caller['Arn']}"
            caller = _caller_identity(check, session, f"the role {auth.assume_role.role_arn}", "try again")
    except BotoCoreError as exc:
        raise check.error(EngineError, f"cannot reach AWS STS in {account.region}: {exc}") from exc
    return session, caller, note


def _external_id(check: Check, value: str | Reference | None) -> str | None:
    field = "auth.assume_role.external_id"
    if value is None:
        return None
    if isinstance(value, str):
        plain = value
        source = "the external id"
    else:
        plain = check.resolve(value).reveal()
        source = f"the external id behind {value}"
    # Checked before the call: AWS's validation errors quote the rejected value.
    if not EXTERNAL_ID.fullmatch(plain):
        raise check.error(
            InvalidInputError,
            f"{field}: {source} is not a valid AWS external id "
            "(2 to 1224 letters, digits or any of _+=,.@:/-)",
        )
    return plain


def _caller_identity(check: Check, session: boto3.Session, who: str, hint: str) -> dict[str, str]:
    from botocore.exceptions import (
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    try:
        return _sts(session).get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise check.error(EngineError, f"no credentials for {who}: {hint}") from None
    except ClientError as exc:
        # Only the code: AWS's message adds nothing a user can act on here.
        raise check.error(EngineError, f"AWS rejected {who} ({error_code(exc)}): {hint}") from exc


def _assume_role(
    check: Check, session: boto3.Session, account: AwsAccount | EcrRegistry, external_id: str | None, base_arn: str
) -> boto3.Session:
    import boto3
    from botocore.exceptions import ClientError

    role = account.auth.assume_role
    assert role is not None
    request: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name}
    if external_id is not None:
        request["ExternalId"] = external_id
    code: str | None = None
    try:
        credentials = _sts(session).assume_role(**request)["Credentials"]
    except ClientError as exc:
        code = error_code(exc)
    # Raised outside the except block, so the ClientError is not even the context: AWS's
    # messages can quote request parameters, the external id among them. Its code is kept.
    if code == "AccessDenied":
        with_id = "with this external id" if external_id is not None else "without an external id"
        raise check.error(
            EngineError,
            f"{base_arn} may not assume {role.role_arn}: the role's trust policy must allow it "
            f"{with_id}; run `terrane accounts bootstrap aws` to create or fix the role",
        )
    if code is not None:
        raise check.error(EngineError, f"cannot assume {role.role_arn} as {base_arn} ({code})")
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=account.region,
    )


def _sts(session: boto3.Session) -> Any:
    return aws_client(session, "sts")


def aws_client(session: boto3.Session, service: str) -> Any:
    from botocore.config import Config

    # Fail within seconds, not minutes, when the service (or AWS_ENDPOINT_URL) cannot be reached.
    config = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
    return session.client(service, config=config)


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "unknown error")

