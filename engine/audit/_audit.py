"""``audit()``: one environment's audit, and the index of its plan that every part of it looks things up in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from terrane.engine.audit._elevated import _GRANTS, _HOLDERS, _elevated, _merged
from terrane.engine.audit._findings import _findings
from terrane.engine.audit._model import KINDS, EnvironmentAudit
from terrane.engine.audit._provisioner import _provisioner

if TYPE_CHECKING:
    from terrane.engine.offline.render import Plan, RenderedResource
    from terrane.stacks.spec.accounts import Account
    from terrane.stacks.spec.environments import Environment


def audit(env: Environment, account: Account, plan: Plan) -> EnvironmentAudit:
    """The audit of ``env``, from its ``plan`` (rendered offline) and its ``account``."""
    index = _Index(plan)
    provisioner = _provisioner(account, index)
    items = [provisioner, *_elevated(index, provisioner.name)]
    order = list(KINDS)
    return EnvironmentAudit(
        environment=plan.environment, cloud=plan.cloud, account=plan.account, region=plan.region,
        protect=env.protect, elevated=tuple(sorted(_merged(items), key=lambda item: order.index(item.kind))),
        findings=tuple(_findings(env, index)),
    )


# --- the plan, as the audit looks things up in it -----------------------------------------------------------------


class _Index:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._by_urn = {resource.urn: resource for resource in plan.resources}
        self._owners = {grant.urn: owner for grant in plan.resources if grant.type in _GRANTS
                        for owner in [self._owner(grant)] if owner}

    def of_type(self, type_: str) -> list[RenderedResource]:
        return [resource for resource in self.plan.resources if resource.type == type_]

    def dependencies(self, resource: RenderedResource, type_: str) -> list[RenderedResource]:
        return [self._by_urn[urn] for urn in resource.depends_on if self._by_urn[urn].type == type_]

    def dependents(self, resource: RenderedResource, type_: str) -> list[RenderedResource]:
        return [other for other in self.of_type(type_) if resource.urn in other.depends_on]

    def grants_of(self, holder: RenderedResource) -> list[RenderedResource]:
        """The grants that name ``holder`` as their identity, or else as the resource they open."""
        return [grant for grant in self.plan.resources if self._owners.get(grant.urn) == holder.urn]

    def unowned_grants(self) -> list[RenderedResource]:
        return [grant for grant in self.plan.resources if grant.type in _GRANTS and grant.urn not in self._owners]

    def _owner(self, grant: RenderedResource) -> str | None:
        for holder_type in _HOLDERS:
            found = self.dependencies(grant, holder_type)
            if found:
                return found[0].urn
        return None
