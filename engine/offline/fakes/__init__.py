"""The fake cloud behind ``terrane plan``: deterministic, realistic answers to the mock runtime.

Each cloud's room has the fake of its provider package (``engine.clouds``:
``Cloud.fake``, a ``resource`` faker and its data sources by token);
``terraform`` here answers pulumi-terraform's data sources, which any cloud's
program may read. Identifiers derive from a hash of the resource's type and
name, so the same program renders the same plan every time.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import mocks

from terrane.engine import clouds
from terrane.engine.clouds.base import InvokeFaker, Request, ResourceFaker
from terrane.engine.errors import EngineError
from terrane.engine.offline.fakes import terraform

_FAKES = [cloud.fake for cloud in clouds.every()]
_RESOURCES: dict[str, ResourceFaker] = {fake.package: fake.resource for fake in _FAKES}
_INVOKES: dict[str, InvokeFaker] = {
    **{token: answer for fake in _FAKES for token, answer in fake.invokes.items()}, **terraform.INVOKES,
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
