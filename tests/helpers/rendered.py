"""Checks every component test makes of a rendered plan."""

from __future__ import annotations

from terrane.engine.offline.render import Rendered, RenderedResource


def assert_owned(rendered: Rendered, component: RenderedResource, provider: RenderedResource) -> None:
    """Every resource below ``component`` descends from it and uses ``provider``."""
    owned = [r for r in rendered.resources if component.urn in _ancestors(rendered, r)]
    assert owned, f"{component.name} has no children"
    for resource in owned:
        assert resource.name.startswith(component.name), resource.urn
        if resource.custom:
            assert resource.provider == provider.urn, resource.urn
    # Nothing the program registered (but the stack, providers and component) lies outside it.
    outside = [
        r
        for r in rendered.resources
        if r not in owned
        and r != component
        and r.type != "pulumi:pulumi:Stack"
        and not r.type.startswith("pulumi:providers:")
    ]
    assert outside == []


def _ancestors(rendered: Rendered, resource: RenderedResource) -> list[str]:
    chain: list[str] = []
    parent = resource.parent
    while parent is not None:
        chain.append(parent)
        parent = rendered.by_urn(parent).parent
    return chain
