"""``terrane accounts link|verify|list|remove|bootstrap``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from terrane.engine.cli import context, output

if TYPE_CHECKING:
    from terrane.engine.api import LinkRequest
    from terrane.engine.results import Bootstrapped, Verification

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
_azure_auth_options = _options(
    click.option("--client-id", help="Service principal or federated application (client) id."),
    click.option("--client-secret", metavar="REF", help="The service principal's secret, as " + REF_HELP),
    click.option("--oidc-token", metavar="REF", help="A federated (OIDC) token, as " + REF_HELP),
    click.option("--cli", "use_cli", is_flag=True, help="Use the Azure CLI's login (az login)."),
)
_gcp_auth_options = _options(
    click.option("--credentials", metavar="REF", help="A service-account key (JSON), as " + REF_HELP),
    click.option("--impersonate", metavar="SA_EMAIL", help="A service account to impersonate."),
    click.option("--application-default", is_flag=True, help="Use application default credentials."),
)

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
    from terrane.engine.api import AwsAuth, AwsLink

    auth = AwsAuth(role_arn, external_id, session_name, profile, access_key, secret_key)
    _link(ctx, name, AwsLink(account_id, auth, region, bootstrap_stack, permissions_boundary), no_verify, replace)


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
    from terrane.engine.api import AzureAuth, AzureLink

    auth = AzureAuth(client_id, client_secret, oidc_token, use_cli)
    _link(ctx, name, AzureLink(tenant_id, subscription_id, auth, location), no_verify, replace)


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
    from terrane.engine.api import GcpAuth, GcpLink

    auth = GcpAuth(credentials, impersonate, application_default)
    _link(ctx, name, GcpLink(project_id, auth, region), no_verify, replace)


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
    from terrane.engine.api import KubernetesLink

    _link(ctx, name, KubernetesLink(kubeconfig, context), no_verify, replace)


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
    from terrane.engine.api import AwsAuth, EcrLink

    auth = AwsAuth(role_arn, external_id, session_name, profile, access_key, secret_key)
    _link(ctx, name, EcrLink(account_id, region, repositories, auth), no_verify, replace)


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
    from terrane.engine.api import AcrLink, AzureAuth

    auth = AzureAuth(client_id, client_secret, oidc_token, use_cli)
    _link(ctx, name, AcrLink(tenant_id, subscription_id, resource_group, registry_name, auth), no_verify, replace)


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
    from terrane.engine.api import ArtifactRegistryLink, GcpAuth

    auth = GcpAuth(credentials, impersonate, application_default)
    _link(ctx, name, ArtifactRegistryLink(project_id, location, repository, auth), no_verify, replace)


@group.command("verify")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout, whether it verifies or not.")
@click.pass_context
def verify(ctx: click.Context, name: str, as_json: bool) -> int:
    """Check that account NAME's credentials work and belong to the account (a cluster's: that its user may create
    what terrane's bootstrap creates), or that registry NAME's identity can pull and cannot push (exit 1 when that is
    not confirmed)."""
    verified = context.engine(ctx).verify(name, keep_refusal=as_json)
    if verified.refusal:
        output.stderr().print(f"error: {verified.refusal}", markup=False)
    if as_json:
        output.print_json(verified.verification.to_dict())
    else:
        _print_verification(verified.verification)
    return verified.exit_code


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List linked accounts and registries, and the environments using each."""
    listed = context.engine(ctx).accounts()
    if as_json:
        output.print_json(listed.to_dict())
        return
    from terrane.engine.cli.tables import PlainTable

    table = PlainTable("ACCOUNT", "CLOUD", "ID", "REGION", "AUTH", "ENVIRONMENTS")
    for row in listed.accounts:
        table.add_row(row.name, row.cloud, row.account_id, row.region or "-", row.auth,
                      ", ".join(row.environments) or "-")
    console = output.stdout()
    console.print(table if listed.accounts else "no accounts (link one with: terrane accounts link)")
    if listed.registries:
        table = PlainTable("REGISTRY", "CLOUD", "KIND", "WHERE", "AUTH", "ENVIRONMENTS")
        for registry in listed.registries:
            table.add_row(registry.name, registry.cloud, registry.kind, ", ".join(registry.where), registry.auth,
                          ", ".join(registry.environments) or "-")
        console.print()
        console.print(table)


@group.command("remove")
@click.argument("name")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Unlink account or registry NAME (refused while an environment uses it)."""
    removed = context.engine(ctx).remove_account(name)
    output.stderr().print(f"removed {removed.kind} {removed.name}", markup=False)


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
    from terrane.engine.api import Engine

    _print_bootstrap(Engine.bootstrap_aws(trusted_principal, external_id=external_id, region=region,
                                          repositories=repositories, fmt=fmt))


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
    from terrane.engine.api import Engine

    _print_bootstrap(Engine.bootstrap_azure(
        principal_id, region=region, drift_principal_id=drift_principal_id, acr=acr,
        acr_resource_group=acr_resource_group, registry_reader_principal_id=registry_reader_principal_id))


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
    from terrane.engine.api import Engine

    _print_bootstrap(Engine.bootstrap_gcp(project_id, region=region, repositories=repositories, member=member))


def _link(ctx: click.Context, name: str, request: LinkRequest, no_verify: bool, replace: bool) -> None:
    from terrane.engine.results import NotVerified

    try:
        linked = context.engine(ctx).link(name, request, verify=not no_verify, replace=replace)
    except NotVerified as exc:
        _print_verification(exc.verification)
        raise
    if linked.verification is not None:
        _print_verification(linked.verification)
    output.stderr().print(f"linked {linked.what} {name} ({linked.scope}) in accounts.yaml", markup=False)


def _print_bootstrap(bootstrapped: Bootstrapped) -> None:
    """The document on stdout, to save; how to use it on stderr."""
    click.echo(bootstrapped.document, nl=not bootstrapped.document.endswith("\n"))
    err = output.stderr()
    for line in bootstrapped.notes:
        err.print(line, markup=False)


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
