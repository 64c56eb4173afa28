"""Each identity or resource of a plan that carries privileges, and each grant, as an item of the report.

What each cloud's types carry is that cloud's module (``_aws``, ``_azure``, ``_gcp``, ``_kubernetes``); this one
joins their tables and walks the plan with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from terrane.engine.audit import _aws, _azure, _gcp, _kubernetes
from terrane.engine.audit._identity import _OTHER
from terrane.engine.audit._model import ElevatedItem

if TYPE_CHECKING:
    from terrane.engine.audit._index import _Index
    from terrane.engine.offline.render import RenderedResource

_DESCRIBE: dict[str, Callable[[RenderedResource, _Index], ElevatedItem | None]] = {
    **_aws._DESCRIBE, **_azure._DESCRIBE, **_gcp._DESCRIBE, **_kubernetes._DESCRIBE,
}
"""How each resource type that carries privileges becomes an item of the report (None: it carries none)."""

_GRANTS: dict[str, Callable[[RenderedResource], list[str]]] = {**_aws._GRANTS, **_azure._GRANTS, **_gcp._GRANTS}
"""Resources that give an identity a permission, and how each reads."""

_UNOWNED: dict[str, Callable[[RenderedResource, _Index, str], ElevatedItem]] = {
    **_aws._UNOWNED, **_azure._UNOWNED, **_gcp._UNOWNED,
}
"""How a grant to a principal the plan does not create becomes an item of the report."""


def _elevated(index: _Index, provisioner: str) -> list[ElevatedItem]:
    """An item per resource that carries privileges, then one per grant to an identity the plan does not create."""
    items = []
    for resource in index.plan.resources:
        describe = _DESCRIBE.get(resource.type)
        item = describe(resource, index) if describe else None
        if item:
            items.append(item)
    return items + [_unowned_grant(grant, index, provisioner) for grant in index.unowned_grants()]


def _merged(items: Iterable[ElevatedItem]) -> list[ElevatedItem]:
    """One item per kind and name: the grants of a principal bound once per secret, say, become one list."""
    merged: dict[tuple[str, str], ElevatedItem] = {}
    for item in items:
        key = (item.kind, item.name)
        if key in merged:
            first = merged[key]
            item = replace(first, grants=tuple(dict.fromkeys(first.grants + item.grants)),
                           limits=tuple(dict.fromkeys(first.limits + item.limits)))
        merged[key] = item
    return list(merged.values())


def _unowned_grant(grant: RenderedResource, index: _Index, provisioner: str) -> ElevatedItem:
    """A grant to an identity the plan does not create: the provisioner, or one that is only a name."""
    describe = _UNOWNED.get(grant.type)
    if describe:
        return describe(grant, index, provisioner)
    return ElevatedItem("other", grant.name, grant.type, tuple(index.grant_texts(grant)), _OTHER.why, ())
