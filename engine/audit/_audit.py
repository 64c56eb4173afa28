"""``audit()``: one environment's audit, from the index of its plan that every part of it looks things up in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from terrane.engine.audit._elevated import _GRANTS, _elevated, _merged
from terrane.engine.audit._findings import _findings
from terrane.engine.audit._index import _Index
from terrane.engine.audit._model import KINDS, EnvironmentAudit
from terrane.engine.audit._provisioner import _provisioner

if TYPE_CHECKING:
    from terrane.engine.offline.render import Plan
    from terrane.stacks.spec.accounts import Account
    from terrane.stacks.spec.environments import Environment


def audit(env: Environment, account: Account, plan: Plan) -> EnvironmentAudit:
    """The audit of ``env``, from its ``plan`` (rendered offline) and its ``account``."""
    index = _Index(plan, _GRANTS)
    provisioner = _provisioner(account, index)
    items = [provisioner, *_elevated(index, provisioner.name)]
    order = list(KINDS)
    return EnvironmentAudit(
        environment=plan.environment, cloud=plan.cloud, account=plan.account, region=plan.region,
        protect=env.protect, elevated=tuple(sorted(_merged(items), key=lambda item: order.index(item.kind))),
        findings=tuple(_findings(env, index)),
    )

