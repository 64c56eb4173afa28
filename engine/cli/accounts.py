"""``terrane accounts link|verify|list|remove|bootstrap``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from terrane.engine.cli import context, output
from terrane.engine.errors import EngineError, ExitCode, InvalidInputError

if TYPE_CHECKING:
    from terrane.engine.accounts.verify import Verification
    from terrane.stacks.spec.accounts import Account
    from terrane.stacks.spec.references import Reference
    from terrane.stacks.spec.registries import Registry

REF_HELP = "a secret reference: env:NAME, file:PATH or aws-secret:NAME_OR_ARN[#key]"

F = TypeVar("F", bound=Callable[..., Any])


@click.group("accounts")
def group() -> None:
    """Link cloud accounts once; environments name them."""


@group.group("link")
def link() -> None:
    """Link an AWS, Azure or GCP account, an existing Kubernetes cluster, or a container registry (verified first,
    unless --no-verify)."""


_verify_option = click.option("--no-verify", is_flag=True, help="Write it without checking it with the cloud.")
_replace_option = click.option("--replace", is_flag=True, help="Replace what is already linked under NAME.")


def _options(*options: Callable[[Any], Any]) -> Callable[[F], F]:
    """Several click options as one decorator, listed in the order given."""

    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


# How an account or a registry signs in, per cloud: the same flags, parsed by the same function.
_aws_auth_options = _options(
    click.option("--role-arn", help="Role terrane assumes (see: terrane accounts bootstrap aws)."),
    click.option("--external-id", metavar="REF_OR_VALUE", help="External id the role requires; a value or " + REF_HELP),
    click.option("--session-name", help="Role session name (default: terrane)."),
    click.option("--profile", help="A named profile of the AWS CLI configuration, instead of a role."),
    click.option("--access-key", metavar="REF", help="Static access key id, as " + REF_HELP),
    click.option("--secret-key", metavar="REF", help="Static secret access key, as " + REF_HELP),
)
_AWS_AUTH_FLAGS = {"auth.assume_role.role_arn": "--role-arn", "auth.assume_role.session_name": "--session-name",
                   "auth.assume_role.external_id": "--external-id", "auth.profile": "--profile"}

_azure_auth_options = _options(
    click.option("--client-id", help="Service principal or federated application (client) id."),
    click.option("--client-secret", metavar="REF", help="The service principal's secret, as " + REF_HELP),
    click.option("--oidc-token", metavar="REF", help="A federated (OIDC) token, as " + REF_HELP),
    click.option("--cli", "use_cli", is_flag=True, help="Use the Azure CLI's login (az login)."),
)
_AZURE_AUTH_FLAGS = {"auth.service_principal.client_id": "--client-id", "auth.oidc.client_id": "--client-id"}

_gcp_auth_options = _options(
    click.option("--credentials", metavar="REF", help="A service-account key (JSON), as " + REF_HELP),
    click.option("--impersonate", metavar="SA_EMAIL", help="A service account to impersonate."),
    click.option("--application-default", is_flag=True, help="Use application default credentials."),
)
_GCP_AUTH_FLAGS = {"auth.impersonate.service_account": "--impersonate"}


def _aws_auth(role_arn: str | None, external_id: str | None, session_name: str | None, profile: str | None,
              access_key: str | None, secret_key: str | None) -> dict[str, Any]:
    _one_method({"--role-arn": role_arn, "--profile": profile, "--access-key/--secret-key": access_key or secret_key})
    if (external_id or session_name) and not role_arn:
        raise InvalidInputError("--external-id and --session-name go with --role-arn")
    if role_arn:
        role: dict[str, Any] = {"role_arn": role_arn}
        if external_id:
            role["external_id"] = _reference_or_value(external_id)
        if session_name:
            role["session_name"] = session_name
        return {"assume_role": role}
    if profile:
        return {"profile": profile}
    return {"static": {"access_key_id": _reference("--access-key", access_key),
                       "secret_access_key": _reference("--secret-key", secret_key)}}


def _azure_auth(client_id: str | None, client_secret: str | None, oidc_token: str | None,
                use_cli: bool) -> dict[str, Any]:
    _one_method({"--client-secret": client_secret, "--oidc-token": oidc_token, "--cli": use_cli})
    if (client_secret or oidc_token) and not client_id:
        raise InvalidInputError("--client-secret and --oidc-token need --client-id")
    if use_cli and client_id:
        raise InvalidInputError("--client-id does not go with --cli")
    if client_secret:
        return {"service_principal": {"client_id": client_id,
                                      "client_secret": _reference("--client-secret", client_secret)}}
    if oidc_token:
        return {"oidc": {"client_id": client_id, "token": _reference("--oidc-token", oidc_token)}}
    return {"cli": {}}


def _gcp_auth(credentials: str | None, impersonate: str | None, application_default: bool) -> dict[str, Any]:
    _one_method({"--credentials": credentials, "--impersonate": impersonate,
                 "--application-default": application_default})
    if credentials:
        return {"service_account_key": _reference("--credentials", credentials)}
    if impersonate:
        return {"impersonate": {"service_account": impersonate}}
    return {"application_default": {}}


@link.command("aws")
@click.argument("name")
@click.option("--account-id", required=True, help="The 12-digit AWS account id.")
@_aws_auth_options
@click.option("--region", help="Default region of the account's environments (default: $AWS_REGION).")
@click.option("--bootstrap-stack", metavar="STACK",
              help="Read --role-arn and --permissions-boundary from this bootstrap stack's outputs, in --region.")
@click.option("--permissions-boundary", metavar="ARN",
              help="Policy every IAM role of the account's environments carries as its boundary.")
@_verify_option
@_replace_option
@click.pass_context
def link_aws(ctx: click.Context, name: str, account_id: str, role_arn: str | None, external_id: str | None,
             session_name: str | None, profile: str | None, access_key: str | None, secret_key: str | None,
             region: str | None, bootstrap_stack: str | None, permissions_boundary: str | None,
             no_verify: bool, replace: bool) -> None:
    """Link AWS account NAME: assume a role (recommended), use a profile, or static keys."""
    region = _default("--region", region, "AWS_REGION", "AWS_DEFAULT_REGION")
    if bootstrap_stack:
        from terrane.engine.accounts.aws_stack import bootstrap_outputs

        outputs = bootstrap_outputs(bootstrap_stack, region)
        role_arn = role_arn or outputs["ProvisionerRoleArn"]
        permissions_boundary = permissions_boundary or outputs.get("PermissionsBoundaryArn")
    auth = _aws_auth(role_arn, external_id, session_name, profile, access_key, secret_key)
    raw = {"cloud": "aws", "account_id": account_id, "region": region, "auth": auth}
    if permissions_boundary:
        raw["permissions_boundary"] = permissions_boundary
    _link(ctx, name, raw, no_verify, replace, {
        "account_id": "--account-id", "region": "--region", "permissions_boundary": "--permissions-boundary",
        **_AWS_AUTH_FLAGS})


@link.command("azure")
@click.argument("name")
@click.option("--tenant-id", required=True, help="Entra ID tenant (a UUID).")
@click.option("--subscription-id", required=True, help="Subscription (a UUID).")
@_azure_auth_options
@click.option("--location", help="Default location of the account's environments, e.g. westeurope.")
@_verify_option
@_replace_option
@click.pass_context
def link_azure(ctx: click.Context, name: str, tenant_id: str, subscription_id: str, client_id: str | None,
               client_secret: str | None, oidc_token: str | None, use_cli: bool, location: str | None,
               no_verify: bool, replace: bool) -> None:
    """Link Azure subscription NAME: a service principal, workload identity federation (OIDC), or the Azure CLI."""
    auth = _azure_auth(client_id, client_secret, oidc_token, use_cli)
    raw = {"cloud": "azure", "tenant_id": tenant_id, "subscription_id": subscription_id,
           "location": _default("--location", location, "AZURE_LOCATION"), "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {
        "tenant_id": "--tenant-id", "subscription_id": "--subscription-id", "location": "--location",
        **_AZURE_AUTH_FLAGS})


@link.command("gcp")
@click.argument("name")
@click.option("--project", "project_id", required=True, help="The GCP project id.")
@_gcp_auth_options
@click.option("--region", help="Default region of the account's environments, e.g. europe-west1.")
@_verify_option
@_replace_option
@click.pass_context
def link_gcp(ctx: click.Context, name: str, project_id: str, credentials: str | None, impersonate: str | None,
             application_default: bool, region: str | None, no_verify: bool, replace: bool) -> None:
    """Link GCP project NAME: a service-account key, impersonation, or application default credentials."""
    auth = _gcp_auth(credentials, impersonate, application_default)
    raw = {"cloud": "gcp", "project": project_id,
           "region": _default("--region", region, "CLOUDSDK_COMPUTE_REGION"), "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {"project": "--project", "region": "--region", **_GCP_AUTH_FLAGS})


@link.command("kubernetes")
@click.argument("name")
@click.option("--kubeconfig", required=True, metavar="REF", help="The cluster's kubeconfig, as " + REF_HELP)
@click.option("--context", help="The kubeconfig's context to use (default: its current-context).")
@_verify_option
@_replace_option
@click.pass_context
def link_kubernetes(ctx: click.Context, name: str, kubeconfig: str, context: str | None, no_verify: bool,
                    replace: bool) -> None:
    """Link an existing Kubernetes cluster as account NAME: a kubeconfig, whose context's user terrane acts as."""
    raw: dict[str, Any] = {"cloud": "kubernetes", "kubeconfig": _reference("--kubeconfig", kubeconfig)}
    if context is not None:
        raw["context"] = context
    _link(ctx, name, raw, no_verify, replace, {"kubeconfig": "--kubeconfig", "context": "--context"})


@link.command("ecr")
@click.argument("name")
@click.option("--account-id", required=True, help="The 12-digit AWS account id of the registry.")
@click.option("--region", required=True, help="The registry's region, e.g. us-east-1.")
@click.option("--repository", "repositories", multiple=True, required=True, metavar="NAME",
              help="A repository clusters may pull from, e.g. team/web (repeatable).")
@_aws_auth_options
@_verify_option
@_replace_option
@click.pass_context
def link_ecr(ctx: click.Context, name: str, account_id: str, region: str, repositories: tuple[str, ...],
             role_arn: str | None, external_id: str | None, session_name: str | None, profile: str | None,
             access_key: str | None, secret_key: str | None, no_verify: bool, replace: bool) -> None:
    """Link ECR repositories as registry NAME, signed in as an identity that can only pull (a role, recommended:
    the bootstrap's registry reader)."""
    auth = _aws_auth(role_arn, external_id, session_name, profile, access_key, secret_key)
    raw = {"cloud": "aws", "account_id": account_id, "region": region, "repositories": list(repositories),
           "auth": auth}
    repository_flags = {f"repositories[{index}]": "--repository" for index in range(len(repositories))}
    _link(ctx, name, raw, no_verify, replace, {
        "account_id": "--account-id", "region": "--region", "repositories": "--repository", **repository_flags,
        **_AWS_AUTH_FLAGS}, registry=True)


@link.command("acr")
@click.argument("name")
@click.option("--tenant-id", required=True, help="Entra ID tenant (a UUID).")
@click.option("--subscription-id", required=True, help="Subscription of the registry (a UUID).")
@click.option("--resource-group", required=True, help="Resource group of the registry.")
@click.option("--name", "registry_name", required=True, help="The registry's name (NAME.azurecr.io).")
@_azure_auth_options
@_verify_option
@_replace_option
@click.pass_context
def link_acr(ctx: click.Context, name: str, tenant_id: str, subscription_id: str, resource_group: str,
             registry_name: str, client_id: str | None, client_secret: str | None, oidc_token: str | None,
             use_cli: bool, no_verify: bool, replace: bool) -> None:
    """Link an Azure Container Registry as registry NAME, signed in as an identity that can only pull (AcrPull)."""
    auth = _azure_auth(client_id, client_secret, oidc_token, use_cli)
    raw = {"cloud": "azure", "tenant_id": tenant_id, "subscription_id": subscription_id,
           "resource_group": resource_group, "name": registry_name, "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {
        "tenant_id": "--tenant-id", "subscription_id": "--subscription-id", "resource_group": "--resource-group",
        "name": "--name", **_AZURE_AUTH_FLAGS}, registry=True)


@link.command("artifact-registry")
@click.argument("name")
@click.option("--project", "project_id", required=True, help="The GCP project of the repository.")
@click.option("--location", required=True, help="The repository's location, e.g. europe-west1.")
@click.option("--repository", required=True, help="The Docker repository's id.")
@_gcp_auth_options
@_verify_option
@_replace_option
@click.pass_context
def link_artifact_registry(ctx: click.Context, name: str, project_id: str, location: str, repository: str,
                           credentials: str | None, impersonate: str | None, application_default: bool,
                           no_verify: bool, replace: bool) -> None:
    """Link an Artifact Registry Docker repository as registry NAME, signed in as an identity that can only pull
    (roles/artifactregistry.reader)."""
    auth = _gcp_auth(credentials, impersonate, application_default)
    raw = {"cloud": "gcp", "project": project_id, "location": location, "repository": repository, "auth": auth}
    _link(ctx, name, raw, no_verify, replace, {
        "project": "--project", "location": "--location", "repository": "--repository", **_GCP_AUTH_FLAGS},
        registry=True)


@group.command("verify")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, whether it verifies or not.")
@click.pass_context
def verify(ctx: click.Context, name: str, as_json: bool) -> int:
    """Check that account NAME's credentials work and belong to the account (a cluster's: that its user may create
    what terrane's bootstrap creates), or that registry NAME's identity can pull and cannot push (exit 1 when that is
    not confirmed)."""
    from terrane.engine.accounts.verify import Verification
    from terrane.engine.accounts.verify import verify as check

    project = context.project(ctx)
    account = project.accounts.get(name) or project.registries.get(name)
    if account is None:
        known = ", ".join([*project.accounts, *project.registries]) or "none"
        raise InvalidInputError(f"unknown account or registry '{name}' (accounts.yaml has: {known})")
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
    """List linked accounts and registries, and the environments using each."""
    from terrane.engine.accounts.registry import registry_summaries, summaries

    project = context.project(ctx)
    rows = summaries(project)
    registries = registry_summaries(project)
    if as_json:
        output.print_json({"schema_version": 1, "accounts": [row.to_dict() for row in rows],
                           "registries": [row.to_dict() for row in registries]})
        return
    from rich.table import Table

    table = Table("ACCOUNT", "CLOUD", "ID", "REGION", "AUTH", "ENVIRONMENTS", box=None, pad_edge=False)
    for row in rows:
        table.add_row(row.name, row.cloud, row.account_id, row.region or "-", row.auth,
                      ", ".join(row.environments) or "-")
    console = output.stdout()
    console.print(table if rows else "no accounts (link one with: terrane accounts link)")
    if registries:
        table = Table("REGISTRY", "CLOUD", "KIND", "WHERE", "AUTH", "ENVIRONMENTS", box=None, pad_edge=False)
        for registry in registries:
            table.add_row(registry.name, registry.cloud, registry.kind, ", ".join(registry.where), registry.auth,
                          ", ".join(registry.environments) or "-")
        console.print()
        console.print(table)


@group.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Unlink account or registry NAME (refused while an environment uses it)."""
    from terrane.engine.accounts.registry import remove as unlink

    section = unlink(context.project(ctx), name)
    output.stderr().print(f"removed {'registry' if section == 'registries' else 'account'} {name}", markup=False)


@group.group("bootstrap")
def bootstrap() -> None:
    """Print what to create in a cloud account so terrane can be linked to it."""


@bootstrap.command("aws")
@click.option("--trusted-principal", required=True, metavar="ARN", help="Who may assume the roles (role, user or account).")
@click.option("--external-id", help="External id the roles require (default: a new random one).")
@click.option("--region", help="Region of the stack and of terrane's state store (default: $AWS_REGION).")
@click.option("--repository", "repositories", multiple=True, metavar="NAME",
              help="An ECR repository the registry reader may pull from (repeatable; without it, no registry reader).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def bootstrap_aws(trusted_principal: str, external_id: str | None, region: str | None, repositories: tuple[str, ...],
                  fmt: Literal["yaml", "json"]) -> None:
    """A CloudFormation template: terrane's roles, their permissions boundary and terrane's state store."""
    from terrane.engine.accounts import aws_bootstrap

    region = _default("--region", region, "AWS_REGION", "AWS_DEFAULT_REGION")
    generated = external_id is None
    external_id = external_id or aws_bootstrap.new_external_id()
    body = aws_bootstrap.template(trusted_principal, external_id, region=region, repositories=repositories)
    text = aws_bootstrap.render(body, fmt)
    click.echo(text, nl=not text.endswith("\n"))
    err = output.stderr()
    if generated:
        err.print(f"external id: {external_id}", markup=False)
        err.print("Keep it: pass it to 'terrane accounts link aws ... --external-id' (e.g. as env:NAME).")
    for line in aws_bootstrap.usage(region, f"{aws_bootstrap.STACK_NAME}.{fmt}", repositories):
        err.print(line, markup=False)


@bootstrap.command("azure")
@click.option("--region", help="Azure location of terrane's state store, e.g. westeurope (default: $AZURE_LOCATION).")
@click.option("--principal-id", required=True, metavar="OBJECT_ID",
              help="Object id of the service principal terrane signs in as (the provisioner).")
@click.option("--drift-principal-id", metavar="OBJECT_ID", help="Object id of a service principal for drift checks.")
@click.option("--acr", metavar="NAME", help="An existing container registry to link (with --acr-resource-group).")
@click.option("--acr-resource-group", metavar="RG", help="The resource group of --acr.")
@click.option("--registry-reader-principal-id", metavar="OBJECT_ID",
              help="Object id of the pull-only identity of --acr (AcrPull, nothing else).")
def bootstrap_azure(region: str | None, principal_id: str, drift_principal_id: str | None, acr: str | None,
                    acr_resource_group: str | None, registry_reader_principal_id: str | None) -> None:
    """An ARM template: terrane's state store, and its provisioner, drift and registry-reader roles."""
    from terrane.engine.accounts import azure_bootstrap

    bootstrap = azure_bootstrap.Bootstrap(
        location=_default("--region", region, azure_bootstrap.LOCATION_ENV),
        principal_id=principal_id,
        drift_principal_id=drift_principal_id,
        registry=azure_bootstrap.registry(acr, acr_resource_group, registry_reader_principal_id),
    )
    click.echo(azure_bootstrap.render(azure_bootstrap.template(bootstrap)), nl=False)
    err = output.stderr()
    for line in azure_bootstrap.next_steps(bootstrap):
        err.print(line, markup=False)


@bootstrap.command("gcp")
@click.option("--project", "project_id", required=True, help="The GCP project id.")
@click.option("--region", help="Region of terrane's state store, e.g. europe-west1 (default: $CLOUDSDK_COMPUTE_REGION).")
@click.option("--repository", "repositories", multiple=True, metavar="[PROJECT/]LOCATION/NAME",
              help="An Artifact Registry repository the registry reader may pull from (repeatable).")
@click.option("--member", metavar="PRINCIPAL",
              help="Who runs terrane, e.g. serviceAccount:ci@P.iam.gserviceaccount.com: state store access, "
                   "and impersonation of the provisioner and drift accounts.")
def bootstrap_gcp(project_id: str, region: str | None, repositories: tuple[str, ...], member: str | None) -> None:
    """A gcloud script: terrane's service accounts and their roles, and its state bucket and KMS key."""
    from terrane.engine.accounts import gcp_bootstrap

    bootstrap = gcp_bootstrap.Bootstrap(
        project=project_id,
        region=_default("--region", region, gcp_bootstrap.REGION_ENV),
        repositories=tuple(gcp_bootstrap.Repository.parse(text, project_id) for text in repositories),
        member=member,
    )
    click.echo(gcp_bootstrap.script(bootstrap), nl=False)
    output.stderr().print(f"Run it as an owner of project {bootstrap.project}: bash {gcp_bootstrap.SCRIPT_FILE}",
                          markup=False)


def _link(ctx: click.Context, name: str, raw: dict[str, Any], no_verify: bool, replace: bool,
          flags: dict[str, str], *, registry: bool = False) -> None:
    from terrane.engine.accounts.registry import link as write_link
    from terrane.engine.accounts.registry import parse_account, parse_registry
    from terrane.engine.accounts.verify import NotVerified

    entry: Account | Registry = parse_registry(raw, flags) if registry else parse_account(raw, flags)
    project = context.project(ctx)
    try:
        result = write_link(project, name, entry, verify=not no_verify, replace=replace)
    except NotVerified as exc:
        _print_verification(exc.verification)
        raise
    if result is not None:
        _print_verification(result)
    output.stderr().print(_linked_line(name, entry), markup=False)


def _linked_line(name: str, entry: Account | Registry) -> str:
    from terrane.stacks.spec.registries import REGISTRY_KINDS, AcrRegistry, ArtifactRegistry, EcrRegistry

    if isinstance(entry, (EcrRegistry, AcrRegistry, ArtifactRegistry)):
        return f"linked {REGISTRY_KINDS[entry.cloud]} registry {name} ({', '.join(entry.targets)}) in accounts.yaml"
    return f"linked {entry.cloud} account {name} ({entry.scope_id}) in accounts.yaml"


def _print_verification(result: Verification) -> None:
    console = output.stdout()
    if result.kind is not None:
        verdict = "verified" if result.verified else "NOT verified"
        console.print(f"{result.account}: {verdict} ({result.kind}): {result.note}", markup=False)
        for item in result.evidence:
            console.print(f"  {'ok' if item.passed else 'FAIL':<4}  {item.check}: {item.detail}", markup=False)
        return
    if result.verified:
        console.print(f"{result.account}: verified as {result.identity} in {result.account_id}", markup=False)
    elif result.failed:
        console.print(f"{result.account}: NOT verified: {result.note}", markup=False)
    else:
        console.print(f"{result.account}: not confirmed with the cloud: {result.note}", markup=False)
    for item in result.evidence:  # a Kubernetes cluster's permission checks
        console.print(f"  {'ok' if item.passed else 'FAIL':<4}  {item.check}: {item.detail}", markup=False)


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
