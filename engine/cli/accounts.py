"""``terrane accounts link|verify|list|remove|bootstrap``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import EngineError, ExitCode, InvalidInputError

if TYPE_CHECKING:
    from terrane.engine.accounts.verify import Verification
    from terrane.stacks.spec.references import Reference

REF_HELP = "a secret reference: env:NAME, file:PATH or aws-secret:NAME_OR_ARN[#key]"


@click.group("accounts")
def group() -> None:
    """Link cloud accounts once; environments name them."""


@group.group("link")
def link() -> None:
    """Link an AWS, Azure or GCP account (verified first, unless --no-verify)."""


_verify_option = click.option("--no-verify", is_flag=True, help="Write the account without checking it with the cloud.")
_replace_option = click.option("--replace", is_flag=True, help="Replace an account already linked under NAME.")


@link.command("aws")
@click.argument("name")
@click.option("--account-id", required=True, help="The 12-digit AWS account id.")
@click.option("--role-arn", help="Role terrane assumes (see: terrane accounts bootstrap aws).")
@click.option("--external-id", metavar="REF_OR_VALUE", help="External id the role requires; a value or " + REF_HELP)
@click.option("--session-name", help="Role session name (default: terrane).")
@click.option("--profile", help="A named profile of the AWS CLI configuration, instead of a role.")
@click.option("--access-key", metavar="REF", help="Static access key id, as " + REF_HELP)
@click.option("--secret-key", metavar="REF", help="Static secret access key, as " + REF_HELP)
@click.option("--region", help="Default region of the account's environments (default: $AWS_REGION).")
@_verify_option
@_replace_option
@click.pass_context
def link_aws(ctx: click.Context, name: str, account_id: str, role_arn: str | None, external_id: str | None,
             session_name: str | None, profile: str | None, access_key: str | None, secret_key: str | None,
             region: str | None, no_verify: bool, replace: bool) -> None:
    """Link AWS account NAME: assume a role (recommended), use a profile, or static keys."""
    _one_method({"--role-arn": role_arn, "--profile": profile, "--access-key/--secret-key": access_key or secret_key})
    if (external_id or session_name) and not role_arn:
        raise InvalidInputError("--external-id and --session-name go with --role-arn")
    auth: dict[str, Any]
    if role_arn:
        role: dict[str, Any] = {"role_arn": role_arn}
        if external_id:
            role["external_id"] = _reference_or_value(external_id)
        if session_name:
            role["session_name"] = session_name
        auth = {"assume_role": role}
    elif profile:
        auth = {"profile": profile}
    else:
        auth = {"static": {"access_key_id": _reference("--access-key", access_key),
                           "secret_access_key": _reference("--secret-key", secret_key)}}
    raw = {"cloud": "aws", "account_id": account_id,
           "region": _default("--region", region, "AWS_REGION", "AWS_DEFAULT_REGION"), "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {
        "account_id": "--account-id", "region": "--region", "auth.assume_role.role_arn": "--role-arn",
        "auth.assume_role.session_name": "--session-name", "auth.assume_role.external_id": "--external-id",
        "auth.profile": "--profile"})


@link.command("azure")
@click.argument("name")
@click.option("--tenant-id", required=True, help="Entra ID tenant (a UUID).")
@click.option("--subscription-id", required=True, help="Subscription (a UUID).")
@click.option("--client-id", help="Service principal or federated application (client) id.")
@click.option("--client-secret", metavar="REF", help="The service principal's secret, as " + REF_HELP)
@click.option("--oidc-token", metavar="REF", help="A federated (OIDC) token, as " + REF_HELP)
@click.option("--cli", "use_cli", is_flag=True, help="Use the Azure CLI's login (az login).")
@click.option("--location", help="Default location of the account's environments, e.g. westeurope.")
@_verify_option
@_replace_option
@click.pass_context
def link_azure(ctx: click.Context, name: str, tenant_id: str, subscription_id: str, client_id: str | None,
               client_secret: str | None, oidc_token: str | None, use_cli: bool, location: str | None,
               no_verify: bool, replace: bool) -> None:
    """Link Azure subscription NAME: a service principal, workload identity federation (OIDC), or the Azure CLI."""
    _one_method({"--client-secret": client_secret, "--oidc-token": oidc_token, "--cli": use_cli})
    if (client_secret or oidc_token) and not client_id:
        raise InvalidInputError("--client-secret and --oidc-token need --client-id")
    if use_cli and client_id:
        raise InvalidInputError("--client-id does not go with --cli")
    auth: dict[str, Any]
    if client_secret:
        auth = {"service_principal": {"client_id": client_id, "client_secret": _reference("--client-secret", client_secret)}}
    elif oidc_token:
        auth = {"oidc": {"client_id": client_id, "token": _reference("--oidc-token", oidc_token)}}
    else:
        auth = {"cli": {}}
    raw = {"cloud": "azure", "tenant_id": tenant_id, "subscription_id": subscription_id,
           "location": _default("--location", location, "AZURE_LOCATION"), "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {
        "tenant_id": "--tenant-id", "subscription_id": "--subscription-id", "location": "--location",
        "auth.service_principal.client_id": "--client-id", "auth.oidc.client_id": "--client-id"})


@link.command("gcp")
@click.argument("name")
@click.option("--project", "project_id", required=True, help="The GCP project id.")
@click.option("--credentials", metavar="REF", help="A service-account key (JSON), as " + REF_HELP)
@click.option("--impersonate", metavar="SA_EMAIL", help="A service account to impersonate.")
@click.option("--application-default", is_flag=True, help="Use application default credentials.")
@click.option("--region", help="Default region of the account's environments, e.g. europe-west1.")
@_verify_option
@_replace_option
@click.pass_context
def link_gcp(ctx: click.Context, name: str, project_id: str, credentials: str | None, impersonate: str | None,
             application_default: bool, region: str | None, no_verify: bool, replace: bool) -> None:
    """Link GCP project NAME: a service-account key, impersonation, or application default credentials."""
    _one_method({"--credentials": credentials, "--impersonate": impersonate,
                 "--application-default": application_default})
    auth: dict[str, Any]
    if credentials:
        auth = {"service_account_key": _reference("--credentials", credentials)}
    elif impersonate:
        auth = {"impersonate": {"service_account": impersonate}}
    else:
        auth = {"application_default": {}}
    raw = {"cloud": "gcp", "project": project_id,
           "region": _default("--region", region, "CLOUDSDK_COMPUTE_REGION"), "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {
        "project": "--project", "region": "--region", "auth.impersonate.service_account": "--impersonate"})


@group.command("verify")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, whether the account verifies or not.")
@click.pass_context
def verify(ctx: click.Context, name: str, as_json: bool) -> int:
    """Check that account NAME's credentials work and belong to the account (exit 1 when they are not confirmed)."""
    from terrane.engine.accounts.verify import Verification
    from terrane.engine.accounts.verify import verify as check

    project = context.project(ctx)
    account = project.accounts.get(name)
    if account is None:
        raise InvalidInputError(f"unknown account '{name}' (accounts.yaml has: {', '.join(project.accounts) or 'none'})")
    try:
        result = check(name, account)
    except EngineError as exc:
        if not as_json:
            raise
        output.stderr().print(f"error: {exc.one_line()}", markup=False)
        result = Verification.refused(name, account, exc)
    if as_json:
        output.print_json(result.to_dict())
    else:
        _print_verification(result)
    return ExitCode.OK if result.verified else ExitCode.FAILURE


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List linked accounts and the environments using each."""
    from terrane.engine.accounts.registry import summaries

    rows = summaries(context.project(ctx))
    if as_json:
        output.print_json({"schema_version": 1, "accounts": [row.to_dict() for row in rows]})
        return
    from rich.table import Table

    table = Table("ACCOUNT", "CLOUD", "ID", "REGION", "AUTH", "ENVIRONMENTS", box=None, pad_edge=False)
    for row in rows:
        table.add_row(row.name, row.cloud, row.account_id, row.region, row.auth, ", ".join(row.environments) or "-")
    output.stdout().print(table if rows else "no accounts (link one with: terrane accounts link)")


@group.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Unlink account NAME (refused while an environment uses it)."""
    from terrane.engine.accounts.registry import remove as unlink

    unlink(context.project(ctx), name)
    output.stderr().print(f"removed account {name}")


@group.group("bootstrap")
def bootstrap() -> None:
    """Print what to create in a cloud account so terrane can be linked to it."""


@bootstrap.command("aws")
@click.option("--trusted-principal", required=True, metavar="ARN", help="Who may assume the roles (role, user or account).")
@click.option("--external-id", help="External id the roles require (default: a new random one).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def bootstrap_aws(trusted_principal: str, external_id: str | None, fmt: Literal["yaml", "json"]) -> None:
    """A CloudFormation template: provisioner, drift and registry-reader roles for terrane."""
    from terrane.engine.accounts import aws_bootstrap

    generated = external_id is None
    external_id = external_id or aws_bootstrap.new_external_id()
    text = aws_bootstrap.render(aws_bootstrap.template(trusted_principal, external_id), fmt)
    click.echo(text, nl=not text.endswith("\n"))
    if generated:
        err = output.stderr()
        err.print(f"external id: {external_id}", markup=False)
        err.print("Keep it: pass it to 'terrane accounts link aws ... --external-id' (e.g. as env:NAME).")


def _link(ctx: click.Context, name: str, raw: dict[str, Any], no_verify: bool, replace: bool,
          flags: dict[str, str]) -> None:
    from terrane.engine.accounts.registry import link as write_link
    from terrane.engine.accounts.registry import parse_account

    account = parse_account(raw, flags)
    project = context.project(ctx)
    result = write_link(project, name, account, verify=not no_verify, replace=replace)
    if result is not None:
        _print_verification(result)
    output.stderr().print(f"linked {account.cloud} account {name} ({account.scope_id}) in accounts.yaml")


def _print_verification(result: Verification) -> None:
    console = output.stdout()
    if result.verified:
        console.print(f"{result.account}: verified as {result.identity} in {result.account_id}", markup=False)
    else:
        console.print(f"{result.account}: not confirmed with the cloud: {result.note}", markup=False)


def _one_method(choices: dict[str, object]) -> None:
    chosen = [flag for flag, value in choices.items() if value]
    if len(chosen) != 1:
        raise InvalidInputError(f"choose exactly one of {', '.join(choices)}")


def _reference(flag: str, text: str | None) -> Reference:
    from terrane.engine.accounts.secrets import parse_reference

    if not text:
        raise InvalidInputError(f"{flag} is required")
    try:
        return parse_reference(text)
    except InvalidInputError as exc:
        # Never echo what was typed: it may be the secret itself.
        raise InvalidInputError(f"{flag}: {exc}; the value was not saved or shown") from None


def _reference_or_value(text: str) -> Reference | str:
    from terrane.engine.accounts.secrets import parse_reference

    kind = text.partition(":")[0]
    return parse_reference(text) if kind in ("env", "file", "aws-secret") else text


def _default(flag: str, value: str | None, *variables: str) -> str:
    for variable in variables:
        value = value or os.environ.get(variable)
    if not value:
        raise InvalidInputError(f"{flag} is required (or set {' or '.join(variables)})")
    return value
