"""The fake cloud behind ``terrane plan``: deterministic, realistic answers to the mock runtime.

Each provider package has a module here with a ``resource`` faker (computed
state and id of a new resource) and ``INVOKES`` (data sources by token).
Identifiers derive from a hash of the resource's type and name, so the same
program renders the same plan every time.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import mocks

from terrane.engine.errors import EngineError
from terrane.engine.offline.fakes import aws, azure, gcp, kubernetes, terraform
from terrane.engine.offline.fakes.base import InvokeFaker, Request, ResourceFaker

_RESOURCES: dict[str, ResourceFaker] = {
    "aws": aws.resource,
    "azure-native": azure.resource,
    "gcp": gcp.resource,
    "kubernetes": kubernetes.resource,
}
_INVOKES: dict[str, InvokeFaker] = {
    **aws.INVOKES, **azure.INVOKES, **gcp.INVOKES, **kubernetes.INVOKES, **terraform.INVOKES,
}


class FakeCloud(mocks.Mocks):
    """One account of one cloud; ``account_id`` scopes fake ARNs and resource ids."""

    def __init__(self, *, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        request = Request(args.typ, args.name, args.inputs, self.account_id, self.region)
        if args.typ.startswith("pulumi:"):
            # Providers and the stack: only an id.
            computed: dict[str, Any] = {"id": request.uuid()}
        else:
            fake = _RESOURCES.get(args.typ.split(":", 1)[0])
            computed = fake(request) if fake else {"id": request.physical_name()}
        state = {**args.inputs, **computed}
        return str(state.pop("id")), state

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answer = _INVOKES.get(args.token)
        if answer is None:
            raise EngineError(f"offline plan cannot answer the data source {args.token}")
        return answer(Request(args.token, "", args.args, self.account_id, self.region)), []
