"""The plan, as the audit looks things up in it: resources by type and dependency, and grants by what they belong to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from terrane.engine.offline.render import Plan, RenderedResource

_HOLDERS = ("aws:iam/role:Role", "azure-native:managedidentity:UserAssignedIdentity",
            "gcp:serviceaccount/account:Account", "aws:kms/key:Key", "gcp:kms/cryptoKey:CryptoKey")
"""What a grant belongs to, first match: the identity it names, else the key it opens."""

_GrantTexts = Callable[["RenderedResource"], list[str]]
"""What one grant gives one identity, in the report's words."""


class _Index:
    """``plan``'s resources, and its grants: ``grants`` tells each type of grant and how it reads."""

    def __init__(self, plan: Plan, grants: Mapping[str, _GrantTexts]) -> None:
        self.plan = plan
        self._grants = grants
        self._by_urn = {resource.urn: resource for resource in plan.resources}
        self._owners = {grant.urn: owner for grant in plan.resources if grant.type in grants
                        for owner in [self._owner(grant)] if owner}

    def of_type(self, type_: str) -> list[RenderedResource]:
        return [resource for resource in self.plan.resources if resource.type == type_]

    def dependencies(self, resource: RenderedResource, type_: str) -> list[RenderedResource]:
        return [self._by_urn[urn] for urn in resource.depends_on if self._by_urn[urn].type == type_]

    def dependents(self, resource: RenderedResource, type_: str) -> list[RenderedResource]:
        return [other for other in self.of_type(type_) if resource.urn in other.depends_on]

    def is_grant(self, resource: RenderedResource) -> bool:
        return resource.type in self._grants

    def grant_texts(self, grant: RenderedResource) -> list[str]:
        """What ``grant`` gives, in words."""
        return self._grants[grant.type](grant)

    def grants_of(self, holder: RenderedResource) -> list[RenderedResource]:
        """The grants that name ``holder`` as their identity, or else as the resource they open."""
        return [grant for grant in self.plan.resources if self._owners.get(grant.urn) == holder.urn]

    def granted(self, holder: RenderedResource) -> list[str]:
        """What the grants of ``holder`` give, in words."""
        return [text for grant in self.grants_of(holder) for text in self.grant_texts(grant)]

    def unowned_grants(self) -> list[RenderedResource]:
        return [grant for grant in self.plan.resources if self.is_grant(grant) and grant.urn not in self._owners]

    def holders(self, resource: RenderedResource) -> list[RenderedResource]:
        """The identities and keys ``resource`` depends on, in the order of ``_HOLDERS``."""
        return [holder for holder_type in _HOLDERS for holder in self.dependencies(resource, holder_type)]

    def _owner(self, grant: RenderedResource) -> str | None:
        found = self.holders(grant)
        return found[0].urn if found else None
