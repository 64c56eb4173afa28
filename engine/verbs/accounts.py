"""``accounts link|list|remove|verify|bootstrap``: the linked accounts and registries of accounts.yaml."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from terrane.engine.errors import EngineError, InvalidInputError
from terrane.engine.project import Project
from terrane.engine.results import AccountList, Bootstrapped, Linked, Removed, Verified
from terrane.engine.verbs.link import LinkRequest, default


def link(project: Project, name: str, request: LinkRequest, *, verify: bool, replace: bool) -> Linked:
    """Write ``request`` as ``name``, verified first unless ``verify`` is False (``NotVerified``: checks failed)."""
    from terrane.engine.accounts.registry import link as write_link
    from terrane.engine.accounts.registry import parse_account, parse_registry
    from terrane.engine.clouds.verification import for_link
    from terrane.stacks.spec.registries import REGISTRY_KINDS, Registry

    raw, flags = request.entry()
    entry = parse_registry(raw, flags) if request.registry else parse_account(raw, flags)
    verification = write_link(project, name, entry, verify=for_link if verify else None, replace=replace)
    if isinstance(entry, Registry):
        return Linked(name, f"{REGISTRY_KINDS[entry.cloud]} registry", ", ".join(entry.targets), verification)
    return Linked(name, f"{entry.cloud} account", entry.scope_id, verification)


def listed(project: Project) -> AccountList:
    from terrane.engine.accounts.registry import registry_summaries, summaries

    return AccountList(tuple(summaries(project)), tuple(registry_summaries(project)))


def remove(project: Project, name: str) -> Removed:
    from terrane.engine.accounts.registry import remove as unlink

    return Removed(name, "registry" if unlink(project, name) == "registries" else "account")


def verify(project: Project, name: str, *, keep_refusal: bool) -> Verified:
    """Verify account or registry ``name``; with ``keep_refusal``, a cloud's refusal is an unverified result."""
    from terrane.engine.clouds.results import Verification
    from terrane.engine.clouds.verification import verify as check

    account = project.accounts.get(name) or project.registries.get(name)
    if account is None:
        known = ", ".join([*project.accounts, *project.registries]) or "none"
        raise InvalidInputError(f"unknown account or registry '{name}' (accounts.yaml has: {known})")
    try:
        return Verified(check(name, account))
    except EngineError as exc:
        if not keep_refusal:
            raise
        return Verified(Verification.refused(name, account, exc), refusal=exc.one_line())


def bootstrap_aws(trusted_principal: str, external_id: str | None, region: str | None, repositories: Sequence[str],
                  fmt: Literal["yaml", "json"]) -> Bootstrapped:
    from terrane.engine.clouds.aws import bootstrap as aws_bootstrap

    region = default("--region", region, "AWS_REGION", "AWS_DEFAULT_REGION")
    generated = external_id is None
    external_id = external_id or aws_bootstrap.new_external_id()
    kept = (f"external id: {external_id}",
            "Keep it: pass it to 'terrane accounts link aws ... --external-id' (e.g. as env:NAME).") if generated else ()
    body = aws_bootstrap.template(trusted_principal, external_id, region=region, repositories=tuple(repositories))
    usage = aws_bootstrap.usage(region, f"{aws_bootstrap.STACK_NAME}.{fmt}", tuple(repositories))
    return Bootstrapped(aws_bootstrap.render(body, fmt), (*kept, *usage))


def bootstrap_azure(region: str | None, principal_id: str, drift_principal_id: str | None, acr: str | None,
                    acr_resource_group: str | None, registry_reader_principal_id: str | None) -> Bootstrapped:
    from terrane.engine.clouds.azure import bootstrap as azure_bootstrap

    bootstrap = azure_bootstrap.Bootstrap(
        location=default("--region", region, azure_bootstrap.LOCATION_ENV),
        principal_id=principal_id,
        drift_principal_id=drift_principal_id,
        registry=azure_bootstrap.registry(acr, acr_resource_group, registry_reader_principal_id),
    )
    return Bootstrapped(azure_bootstrap.render(azure_bootstrap.template(bootstrap)),
                        tuple(azure_bootstrap.next_steps(bootstrap)))


def bootstrap_gcp(project: str, region: str | None, repositories: Sequence[str], member: str | None) -> Bootstrapped:
    from terrane.engine.clouds.gcp import bootstrap as gcp_bootstrap

    bootstrap = gcp_bootstrap.Bootstrap(
        project=project,
        region=default("--region", region, gcp_bootstrap.REGION_ENV),
        repositories=tuple(gcp_bootstrap.Repository.parse(text, project) for text in repositories),
        member=member,
    )
    return Bootstrapped(gcp_bootstrap.script(bootstrap),
                        (f"Run it as an owner of project {bootstrap.project}: bash {gcp_bootstrap.SCRIPT_FILE}",))
